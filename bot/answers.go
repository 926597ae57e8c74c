package bot

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// bulkyFields are, per Web API method, the fields of Slack's answer that
// the bot never reads and that are costly to decode: slack-go decodes a
// posted or updated message's blocks, and a published Home tab, field by
// field, which was the largest single CPU cost of delivering a notice.
var bulkyFields = map[string]string{
	"chat.postMessage": "message",
	"chat.update":      "message",
	"views.publish":    "view",
}

// SlimAnswers wraps base (nil: http.DefaultTransport) so that the answers
// of chat.postMessage, chat.update and views.publish reach slack-go without
// the echoed message or view, which the bot does not use.
func SlimAnswers(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return slimmer{base}
}

type slimmer struct{ base http.RoundTripper }

func (s slimmer) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := s.base.RoundTrip(req)
	field := bulkyFields[req.URL.Path[strings.LastIndexByte(req.URL.Path, '/')+1:]]
	if err != nil || field == "" || resp.StatusCode != http.StatusOK ||
		!strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		return resp, err
	}
	body, rerr := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if rerr != nil {
		return resp, nil
	}
	slim, ok := dropField(body, field)
	if !ok {
		return resp, nil
	}
	resp.Body = io.NopCloser(bytes.NewReader(slim))
	resp.ContentLength = int64(len(slim))
	resp.Header.Set("Content-Length", strconv.Itoa(len(slim)))
	return resp, nil
}

// dropField removes the member named field from the JSON object b, scanning
// without decoding. It reports false, leaving b to be decoded as it is,
// when b is not an object or has no such member.
func dropField(b []byte, field string) ([]byte, bool) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return nil, false
	}
	i++
	for {
		i = skipSpace(b, i)
		if i >= len(b) || b[i] != '"' {
			return nil, false // "}" (no more members) or malformed
		}
		start := i
		end, ok := skipString(b, i)
		if !ok {
			return nil, false
		}
		key := b[start+1 : end-1]
		i = skipSpace(b, end)
		if i >= len(b) || b[i] != ':' {
			return nil, false
		}
		if i, ok = skipValue(b, skipSpace(b, i+1)); !ok {
			return nil, false
		}
		next := skipSpace(b, i)
		if next >= len(b) {
			return nil, false
		}
		if string(key) == field {
			out := make([]byte, 0, len(b))
			if b[next] == ',' {
				return append(append(out, b[:start]...), b[next+1:]...), true
			}
			// The last member: drop the comma before it instead.
			p := start - 1
			for p > 0 && isSpace(b[p]) {
				p--
			}
			if b[p] == ',' {
				return append(append(out, b[:p]...), b[next:]...), true
			}
			return append(append(out, b[:start]...), b[next:]...), true
		}
		if b[next] != ',' {
			return nil, false
		}
		i = next + 1
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// skipString returns the index after the string starting at b[i] == '"'.
func skipString(b []byte, i int) (int, bool) {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1, true
		}
	}
	return 0, false
}

// skipValue returns the index after the JSON value starting at b[i].
func skipValue(b []byte, i int) (int, bool) {
	if i >= len(b) {
		return 0, false
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				end, ok := skipString(b, i)
				if !ok {
					return 0, false
				}
				i = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1, true
				}
			}
		}
		return 0, false
	}
	for ; i < len(b); i++ {
		switch b[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return i, true
		}
	}
	return i, true
}
