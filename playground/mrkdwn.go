package playground

import (
	"html"
	"regexp"
	"strings"
)

// This file renders Slack's mrkdwn as HTML: *bold*, _italics_, ~strike~,
// `code`, ```blocks```, > quotes, <url|links>, <@U…> mentions (as names),
// <#C…|channels>, <!here>, and :emoji: shortcodes (as emoji when known,
// else as the text).

// emoji maps the shortcodes the bot and common messages use to characters.
var emoji = map[string]string{
	"white_check_mark": "✅", "heavy_check_mark": "✔️", "x": "❌", "warning": "⚠️",
	"hourglass": "⌛", "hourglass_flowing_sand": "⏳", "bell": "🔔", "lock": "🔒",
	"unlock": "🔓", "key": "🔑", "wave": "👋", "tada": "🎉", "clipboard": "📋",
	"memo": "📝", "calendar": "📅", "date": "📅", "no_entry": "⛔", "no_entry_sign": "🚫",
	"information_source": "ℹ️", "mag": "🔍", "eyes": "👀", "rotating_light": "🚨",
	"arrow_right": "➡️", "arrow_up": "⬆️", "arrow_down": "⬇️", "bust_in_silhouette": "👤",
	"busts_in_silhouette": "👥", "inbox_tray": "📥", "outbox_tray": "📤", "hammer_and_wrench": "🛠️",
	"wrench": "🔧", "thumbsup": "👍", "+1": "👍", "thumbsdown": "👎", "-1": "👎", "pray": "🙏",
	"red_circle": "🔴", "large_green_circle": "🟢", "large_yellow_circle": "🟡", "large_blue_circle": "🔵",
	"page_facing_up": "📄", "bar_chart": "📊", "chart_with_upwards_trend": "📈", "link": "🔗",
	"alarm_clock": "⏰", "stopwatch": "⏱️", "door": "🚪", "raised_hand": "✋", "question": "❓",
	"exclamation": "❗", "heavy_plus_sign": "➕", "heavy_minus_sign": "➖", "seat": "💺",
	"arrow_right_hook": "↪️", "leftwards_arrow_with_hook": "↩️", "ghost": "👻", "grey_question": "❔",
	"heavy_multiplication_x": "✖️", "twisted_rightwards_arrows": "🔀", "email": "📧", "envelope": "✉️", "smile": "😄", "slightly_smiling_face": "🙂", "sparkles": "✨",
}

var (
	// angleRe finds Slack's <…> tokens: links, mentions and specials. A
	// literal < in text is sent as &lt;, so every < starts a token.
	angleRe = regexp.MustCompile(`<([^<>]+)>`)
	// emojiRe finds :shortcode:.
	emojiRe = regexp.MustCompile(`:([a-z0-9_+\-]+):`)
	boldRe  = regexp.MustCompile(`(^|[^\w*])\*([^*\n]+?)\*([^\w*]|$)`)
	italRe  = regexp.MustCompile(`(^|[^\w_])_([^_\n]+?)_([^\w_]|$)`)
	strikRe = regexp.MustCompile(`(^|[^\w~])~([^~\n]+?)~([^\w~]|$)`)
)

// Mrkdwn renders Slack mrkdwn text as HTML. name turns a user ID into a
// display name for mentions; it may be nil.
func Mrkdwn(text string, name func(id string) string) string {
	var tokens []string // rendered HTML of <…> tokens and code spans
	hold := func(h string) string {
		tokens = append(tokens, h)
		return "\x00" + string(rune('A'+len(tokens)-1)) + "\x00"
	}
	// 1. Code blocks and spans keep their text verbatim.
	var b strings.Builder
	rest := text
	for {
		i := strings.Index(rest, "```")
		if i < 0 {
			break
		}
		j := strings.Index(rest[i+3:], "```")
		if j < 0 {
			break
		}
		b.WriteString(rest[:i])
		b.WriteString(hold("<pre class=\"bk-pre\">" + html.EscapeString(slackUnescape(strings.Trim(rest[i+3:i+3+j], "\n"))) + "</pre>"))
		rest = rest[i+3+j+3:]
	}
	b.WriteString(rest)
	text = b.String()
	text = regexp.MustCompile("`([^`\n]+)`").ReplaceAllStringFunc(text, func(m string) string {
		return hold("<code>" + html.EscapeString(slackUnescape(m[1:len(m)-1])) + "</code>")
	})
	// 2. Links, mentions and specials.
	text = angleRe.ReplaceAllStringFunc(text, func(m string) string {
		return hold(angleToken(m[1:len(m)-1], name))
	})
	// 3. The rest is text: unescape Slack's entities, escape for HTML.
	text = html.EscapeString(slackUnescape(text))
	// 4. Emphasis, line by line so quotes work.
	lines := strings.Split(text, "\n")
	var out []string
	var quote []string
	flush := func() {
		if len(quote) > 0 {
			out = append(out, "<blockquote>"+strings.Join(quote, "<br>")+"</blockquote>")
			quote = nil
		}
	}
	for _, l := range lines {
		l = emphasis(l)
		if q, ok := strings.CutPrefix(l, "&gt; "); ok {
			quote = append(quote, q)
			continue
		}
		if q, ok := strings.CutPrefix(l, "&gt;"); ok && q == "" {
			quote = append(quote, "")
			continue
		}
		flush()
		out = append(out, l)
	}
	flush()
	text = strings.Join(out, "<br>")
	text = strings.ReplaceAll(text, "</blockquote><br>", "</blockquote>")
	text = emojiRe.ReplaceAllStringFunc(text, func(m string) string {
		if e, ok := emoji[m[1:len(m)-1]]; ok {
			return `<span class="bk-emoji" title="` + m + `">` + e + `</span>`
		}
		return m
	})
	// 5. Put the held tokens back.
	for i := len(tokens) - 1; i >= 0; i-- {
		text = strings.ReplaceAll(text, "\x00"+string(rune('A'+i))+"\x00", tokens[i])
	}
	return text
}

// emphasis applies *bold*, _italics_ and ~strike~ to one escaped line.
func emphasis(l string) string {
	for _, x := range []struct {
		re  *regexp.Regexp
		tag string
	}{{boldRe, "b"}, {italRe, "i"}, {strikRe, "s"}} {
		// Twice, since adjacent matches share their boundary character.
		for range 2 {
			l = x.re.ReplaceAllString(l, "${1}<"+x.tag+">${2}</"+x.tag+">${3}")
		}
	}
	return l
}

// angleToken renders the inside of one <…> token.
func angleToken(t string, name func(string) string) string {
	target, label, hasLabel := strings.Cut(t, "|")
	label = slackUnescape(label)
	switch {
	case strings.HasPrefix(target, "@"):
		id := target[1:]
		n := label
		if name != nil {
			if nn := name(id); nn != "" {
				n = nn
			}
		}
		if n == "" {
			n = id
		}
		return `<span class="bk-mention" data-user="` + html.EscapeString(id) + `">@` + html.EscapeString(n) + `</span>`
	case strings.HasPrefix(target, "#"):
		n := label
		if n == "" {
			n = target[1:]
		}
		return `<span class="bk-mention">#` + html.EscapeString(n) + `</span>`
	case strings.HasPrefix(target, "!"):
		if label != "" {
			return `<span class="bk-mention">` + html.EscapeString(label) + `</span>`
		}
		special, _, _ := strings.Cut(target[1:], "^")
		return `<span class="bk-mention">@` + html.EscapeString(special) + `</span>`
	}
	url := slackUnescape(target)
	if !hasLabel {
		label = strings.TrimPrefix(url, "mailto:")
	}
	if !safeURL(url) {
		return html.EscapeString(label)
	}
	return `<a href="` + html.EscapeString(url) + `" target="_blank" rel="noopener noreferrer">` + html.EscapeString(label) + `</a>`
}

// safeURL allows the schemes a Slack client opens.
func safeURL(u string) bool {
	l := strings.ToLower(u)
	return strings.HasPrefix(l, "https://") || strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "mailto:")
}

// slackUnescape undoes the three escapes Slack text uses.
func slackUnescape(s string) string {
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(s)
}
