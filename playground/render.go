package playground

import (
	"encoding/json"
	"fmt"
	"html"
	"strconv"
	"strings"
)

// This file renders Block Kit as HTML for the page. Interactive elements
// carry data-block-id, data-action-id and data-type so that the page's
// script can send the interaction back; the script knows nothing of Block
// Kit beyond that. Unknown block and element types are shown as such,
// never dropped, so a newer Block Kit feature in the bot is visible.

// Person is someone in the sample workspace, as the renderer shows them.
type Person struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Email   string `json:"email"`
	Title   string `json:"title"`
	Role    string `json:"role"`
	Deleted bool   `json:"deleted"`
	IsBot   bool   `json:"is_bot"`
}

// Renderer turns blocks into HTML.
type Renderer struct {
	// Name returns a user's display name for mentions and user selects.
	Name func(id string) string
	// People are offered by users_select elements.
	People []Person
}

// Blocks renders a blocks array. Input elements get their initial values;
// errors (block_id → message, from a view_submission answer) are shown
// under their input blocks.
func (r *Renderer) Blocks(raw json.RawMessage, errors map[string]string) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var blocks []map[string]any
	if err := json.Unmarshal(raw, &blocks); err != nil {
		return `<div class="bk-unknown">blocks are not an array: ` + esc(err.Error()) + `</div>`
	}
	var b strings.Builder
	for _, blk := range blocks {
		r.block(&b, blk, errors)
	}
	return b.String()
}

func (r *Renderer) block(b *strings.Builder, blk map[string]any, errors map[string]string) {
	typ := str(blk, "type")
	bid := str(blk, "block_id")
	fmt.Fprintf(b, `<div class="bk-block bk-%s" data-block-type="%s" data-block-id="%s">`, esc(typ), esc(typ), esc(bid))
	defer b.WriteString(`</div>`)
	switch typ {
	case "section":
		b.WriteString(`<div class="bk-section-main">`)
		if t, ok := blk["text"].(map[string]any); ok {
			b.WriteString(`<div class="bk-text">` + r.text(t) + `</div>`)
		}
		if fs, ok := blk["fields"].([]any); ok {
			b.WriteString(`<div class="bk-fields">`)
			for _, f := range fs {
				if fm, ok := f.(map[string]any); ok {
					b.WriteString(`<div class="bk-field">` + r.text(fm) + `</div>`)
				}
			}
			b.WriteString(`</div>`)
		}
		b.WriteString(`</div>`)
		if acc, ok := blk["accessory"].(map[string]any); ok {
			b.WriteString(`<div class="bk-accessory">`)
			r.element(b, acc, bid, false)
			b.WriteString(`</div>`)
		}
	case "header":
		t, _ := blk["text"].(map[string]any)
		b.WriteString(`<h3 class="bk-header-text">` + r.text(t) + `</h3>`)
	case "context":
		els, _ := blk["elements"].([]any)
		for _, e := range els {
			em, _ := e.(map[string]any)
			switch str(em, "type") {
			case "mrkdwn", "plain_text":
				b.WriteString(`<span class="bk-context-item">` + r.text(em) + `</span>`)
			case "image":
				b.WriteString(`<span class="bk-context-item bk-image" title="` + esc(str(em, "alt_text")) + `">🖼 ` + esc(str(em, "alt_text")) + `</span>`)
			default:
				unknown(b, "context element", str(em, "type"))
			}
		}
	case "divider":
		b.WriteString(`<hr class="bk-hr">`)
	case "actions":
		els, _ := blk["elements"].([]any)
		b.WriteString(`<div class="bk-actions-row">`)
		for _, e := range els {
			if em, ok := e.(map[string]any); ok {
				r.element(b, em, bid, false)
			}
		}
		b.WriteString(`</div>`)
	case "input":
		label, _ := blk["label"].(map[string]any)
		b.WriteString(`<label class="bk-label">` + r.text(label))
		if opt, _ := blk["optional"].(bool); opt {
			b.WriteString(` <span class="bk-optional">(optional)</span>`)
		}
		b.WriteString(`</label>`)
		if em, ok := blk["element"].(map[string]any); ok {
			dispatch, _ := blk["dispatch_action"].(bool)
			r.element(b, em, bid, !dispatch)
		}
		if h, ok := blk["hint"].(map[string]any); ok {
			b.WriteString(`<div class="bk-hint">` + r.text(h) + `</div>`)
		}
		b.WriteString(`<div class="bk-error" data-error-for="` + esc(bid) + `">`)
		if msg := errors[bid]; msg != "" {
			b.WriteString(esc(msg))
		}
		b.WriteString(`</div>`)
	case "image":
		b.WriteString(`<div class="bk-image">🖼 ` + esc(str(blk, "alt_text")) + `</div>`)
	default:
		unknown(b, "block", typ)
		if j, err := json.Marshal(blk); err == nil {
			b.WriteString(`<pre class="bk-raw">` + esc(string(j)) + `</pre>`)
		}
	}
}

// element renders one interactive element. inForm marks an element inside
// an input block: its value is read on submit, and changing it sends no
// block_actions (as in Slack, unless dispatch_action is set).
func (r *Renderer) element(b *strings.Builder, e map[string]any, blockID string, inForm bool) {
	typ := str(e, "type")
	aid := str(e, "action_id")
	attrs := fmt.Sprintf(`data-type="%s" data-block-id="%s" data-action-id="%s"`, esc(typ), esc(blockID), esc(aid))
	if inForm {
		attrs += ` data-form="1"`
	}
	if c, ok := e["confirm"].(map[string]any); ok {
		attrs += ` data-confirm="` + esc(r.confirmJSON(c)) + `"`
	}
	placeholder := ""
	if p, ok := e["placeholder"].(map[string]any); ok {
		placeholder = str(p, "text")
	}
	switch typ {
	case "button":
		cls := "bk-button"
		if st := str(e, "style"); st != "" {
			cls += " bk-button-" + esc(st)
		}
		t, _ := e["text"].(map[string]any)
		if u := str(e, "url"); u != "" && safeURL(u) {
			fmt.Fprintf(b, `<a class="%s" href="%s" target="_blank" rel="noopener noreferrer" %s>%s</a>`, cls, esc(u), attrs, r.text(t))
			return
		}
		fmt.Fprintf(b, `<button type="button" class="%s" %s data-value="%s">%s</button>`, cls, attrs, esc(str(e, "value")), r.text(t))
	case "static_select", "multi_static_select":
		multi := ""
		if typ == "multi_static_select" {
			multi = " multiple"
		}
		fmt.Fprintf(b, `<select class="bk-select" %s%s>`, attrs, multi)
		if multi == "" {
			fmt.Fprintf(b, `<option value="">%s</option>`, esc(orDefault(placeholder, "Select an item")))
		}
		initial := map[string]bool{}
		if o, ok := e["initial_option"].(map[string]any); ok {
			initial[str(o, "value")] = true
		}
		if os, ok := e["initial_options"].([]any); ok {
			for _, o := range os {
				if om, ok := o.(map[string]any); ok {
					initial[str(om, "value")] = true
				}
			}
		}
		r.options(b, e["options"], initial)
		if gs, ok := e["option_groups"].([]any); ok {
			for _, g := range gs {
				gm, _ := g.(map[string]any)
				l, _ := gm["label"].(map[string]any)
				b.WriteString(`<optgroup label="` + esc(str(l, "text")) + `">`)
				r.options(b, gm["options"], initial)
				b.WriteString(`</optgroup>`)
			}
		}
		b.WriteString(`</select>`)
	case "users_select":
		fmt.Fprintf(b, `<select class="bk-select" %s>`, attrs)
		fmt.Fprintf(b, `<option value="">%s</option>`, esc(orDefault(placeholder, "Select a person")))
		init := str(e, "initial_user")
		for _, p := range r.People {
			if p.IsBot || (p.Deleted && p.ID != init) {
				continue
			}
			sel := ""
			if p.ID == init {
				sel = " selected"
			}
			fmt.Fprintf(b, `<option value="%s"%s>%s</option>`, esc(p.ID), sel, esc(p.Name))
		}
		b.WriteString(`</select>`)
	case "datepicker":
		fmt.Fprintf(b, `<input type="date" class="bk-date" %s value="%s" placeholder="%s">`, attrs, esc(str(e, "initial_date")), esc(placeholder))
	case "timepicker":
		fmt.Fprintf(b, `<input type="time" class="bk-date" %s value="%s">`, attrs, esc(str(e, "initial_time")))
	case "radio_buttons", "checkboxes":
		kind := "radio"
		if typ == "checkboxes" {
			kind = "checkbox"
		}
		initial := map[string]bool{}
		if o, ok := e["initial_option"].(map[string]any); ok {
			initial[str(o, "value")] = true
		}
		if os, ok := e["initial_options"].([]any); ok {
			for _, o := range os {
				if om, ok := o.(map[string]any); ok {
					initial[str(om, "value")] = true
				}
			}
		}
		name := "r-" + blockID + "-" + aid
		fmt.Fprintf(b, `<div class="bk-choices" %s>`, attrs)
		opts, _ := e["options"].([]any)
		for _, o := range opts {
			om, _ := o.(map[string]any)
			t, _ := om["text"].(map[string]any)
			chk := ""
			if initial[str(om, "value")] {
				chk = " checked"
			}
			fmt.Fprintf(b, `<label class="bk-choice"><input type="%s" name="%s" value="%s"%s> %s`, kind, esc(name), esc(str(om, "value")), chk, r.text(t))
			if d, ok := om["description"].(map[string]any); ok {
				b.WriteString(` <span class="bk-choice-desc">` + r.text(d) + `</span>`)
			}
			b.WriteString(`</label>`)
		}
		b.WriteString(`</div>`)
	case "plain_text_input", "email_text_input", "url_text_input", "number_input":
		maxAttr := ""
		if n, ok := e["max_length"].(float64); ok {
			maxAttr = ` maxlength="` + strconv.Itoa(int(n)) + `"`
		}
		if multi, _ := e["multiline"].(bool); multi {
			fmt.Fprintf(b, `<textarea class="bk-textinput" rows="4" %s placeholder="%s"%s>%s</textarea>`, attrs, esc(placeholder), maxAttr, esc(str(e, "initial_value")))
			return
		}
		kind := map[string]string{"email_text_input": "email", "url_text_input": "url", "number_input": "number"}[typ]
		if kind == "" {
			kind = "text"
		}
		fmt.Fprintf(b, `<input type="%s" class="bk-textinput" %s placeholder="%s" value="%s"%s>`, kind, attrs, esc(placeholder), esc(str(e, "initial_value")), maxAttr)
	case "overflow":
		fmt.Fprintf(b, `<details class="bk-overflow" %s><summary title="More actions">⋯</summary><div class="bk-overflow-menu">`, attrs)
		opts, _ := e["options"].([]any)
		for _, o := range opts {
			om, _ := o.(map[string]any)
			t, _ := om["text"].(map[string]any)
			fmt.Fprintf(b, `<button type="button" class="bk-overflow-item" data-value="%s">%s</button>`, esc(str(om, "value")), r.text(t))
		}
		b.WriteString(`</div></details>`)
	case "image":
		b.WriteString(`<span class="bk-image">🖼 ` + esc(str(e, "alt_text")) + `</span>`)
	default:
		unknown(b, "element", typ)
	}
}

func (r *Renderer) options(b *strings.Builder, raw any, initial map[string]bool) {
	opts, _ := raw.([]any)
	for _, o := range opts {
		om, _ := o.(map[string]any)
		t, _ := om["text"].(map[string]any)
		sel := ""
		if initial[str(om, "value")] {
			sel = " selected"
		}
		fmt.Fprintf(b, `<option value="%s"%s>%s</option>`, esc(str(om, "value")), sel, esc(str(t, "text")))
	}
}

// confirmJSON is the confirm dialog as the page's script shows it.
func (r *Renderer) confirmJSON(c map[string]any) string {
	get := func(k string) string {
		t, _ := c[k].(map[string]any)
		return str(t, "text")
	}
	t, _ := c["text"].(map[string]any)
	j, _ := json.Marshal(map[string]string{
		"title":   get("title"),
		"text":    r.text(t),
		"confirm": orDefault(get("confirm"), "Yes"),
		"deny":    orDefault(get("deny"), "Cancel"),
		"style":   str(c, "style"),
	})
	return string(j)
}

// text renders a text object as Slack shows it. mrkdwn is formatted
// whether or not it is verbatim: verbatim only stops Slack linking bare
// URLs and channel names by itself, which this renderer never does.
// plain_text is shown as typed: Slack's three entities are decoded (it
// decodes them in every text object), nothing is formatted or linked, lines
// are kept, and :shortcodes: become emoji only unless emoji is false.
func (r *Renderer) text(t map[string]any) string {
	if t == nil {
		return ""
	}
	s := str(t, "text")
	if str(t, "type") == "mrkdwn" {
		return Mrkdwn(s, r.Name)
	}
	out := strings.ReplaceAll(esc(slackUnescape(s)), "\n", "<br>")
	if e, ok := t["emoji"].(bool); ok && !e {
		return out
	}
	return emojiRe.ReplaceAllStringFunc(out, func(m string) string {
		if e, ok := emoji[m[1:len(m)-1]]; ok {
			return e
		}
		return m
	})
}

func unknown(b *strings.Builder, what, typ string) {
	fmt.Fprintf(b, `<div class="bk-unknown" data-unknown="%s">Unsupported %s type <code>%s</code></div>`, esc(typ), esc(what), esc(typ))
}

func str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

func esc(s string) string { return html.EscapeString(s) }

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}
