package handlers

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/uxpin-access-bot/uxpin-access-bot/access"
)

func TestLiteral(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain words, 10:30", "plain words, 10:30"},
		{"*bold* _it_ ~del~ `code`", "\u2217bold\u2217 \u02cdit\u02cd \u223cdel\u223c \u02cbcode\u02cb"},
		{"```block```", "\u02cb\u02cb\u02cbblock\u02cb\u02cb\u02cb"},
		{"<!channel> <https://evil.example|click> & co", "&lt;!channel&gt; &lt;https://evil.example|click&gt; &amp; co"},
		{"line one\n> quoted\r\n• item", "line one &gt; quoted • item"},
	}
	for _, tt := range tests {
		if got := literal(tt.in); got != tt.want {
			t.Errorf("literal(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

func TestEscTruncate(t *testing.T) {
	for _, tt := range []struct {
		in   string
		n    int
		want string
	}{
		{"a<b", 10, "a&lt;b"},
		{"&&&&", 12, "&amp;&amp;…"},
		{"abcdef", 4, "abc…"},
	} {
		if got := escTruncate(tt.in, tt.n); got != tt.want {
			t.Errorf("escTruncate(%q, %d) = %q; want %q", tt.in, tt.n, got, tt.want)
		}
	}
}

// TestReviewListShowsNamesLiterally checks that a holder's name, which
// comes from their Slack profile, cannot format the reviewer's list: it
// sits in a bold mrkdwn span, so its own formatting characters are
// neutralised.
func TestReviewListShowsNamesLiterally(t *testing.T) {
	rv := &access.Review{ID: "V-1", Seats: []access.ReviewSeat{{
		Holder: "U2", Email: "bob@example.com", Name: "Bob* approved by *CISO", Role: access.RoleEditor, RequestID: "R-1", Reviewer: "U3",
	}}}
	_, blocks := reviewListPage(rv, "U3", 1)
	raw, err := json.Marshal(blocks)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), "Bob* approved by *CISO") {
		t.Errorf("the name's asterisks reach mrkdwn as they are: %s", raw)
	}
	if !strings.Contains(string(raw), "*Bob\u2217 approved by \u2217CISO*") {
		t.Errorf("the name is not shown in bold, neutralised: %s", raw)
	}
}
