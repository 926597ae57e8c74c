package playground

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slack-go/slack"
)

// newIdle builds a playground without running it: the simulated Slack and
// the page's handler, with no bot connected.
func newIdle(t *testing.T) *Playground {
	t.Helper()
	p, err := New(Options{Addr: "127.0.0.1:0", DBPath: filepath.Join(t.TempDir(), "p.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.Fake.Close()
		p.ln.Close()
		if err := p.Stack.Close(); err != nil {
			t.Error(err)
		}
	})
	return p
}

// ownRequest is a request to the playground's own address, as its page
// sends them.
func ownRequest(p *Playground, method, path, body string) *http.Request {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Host = p.ln.Addr().String()
	return req
}

func getState(t *testing.T, p *Playground) pageState {
	t.Helper()
	rec := httptest.NewRecorder()
	p.Handler().ServeHTTP(rec, ownRequest(p, "GET", "/api/state", ""))
	var st pageState
	if err := json.Unmarshal(rec.Body.Bytes(), &st); err != nil {
		t.Fatalf("state: %v: %s", err, rec.Body.String())
	}
	return st
}

// TestViolationShownInTheColumn posts a message Slack refuses to a person
// and checks that the refusal is in their column, in red, and that a DM
// Slack accepts is rendered with its mentions as names.
func TestViolationShownInTheColumn(t *testing.T) {
	p := newIdle(t)
	api := slack.New(botToken, slack.OptionAPIURL(p.Fake.APIURL()))
	bad := slack.NewSectionBlock(nil, nil, nil)
	if _, _, err := api.PostMessage(Approver1, slack.MsgOptionText("card", false), slack.MsgOptionBlocks(bad)); err == nil {
		t.Fatal("the simulated Slack accepted a section without text")
	}
	if _, _, err := api.PostMessage(Approver1, slack.MsgOptionText("hello <@"+Requester+">", false)); err != nil {
		t.Fatal(err)
	}
	st := getState(t, p)
	var col *column
	for i := range st.Columns {
		if st.Columns[i].User == Approver1 {
			col = &st.Columns[i]
		}
	}
	if col == nil || len(col.Feed) != 2 {
		t.Fatalf("Marcus's column = %+v; want a refusal and a DM", col)
	}
	if v := col.Feed[0]; v.Kind != "violation" || !strings.Contains(v.HTML, "invalid_blocks") {
		t.Errorf("feed[0] = %+v; want the invalid_blocks refusal", v)
	}
	if m := col.Feed[1]; m.Kind != "dm" || !strings.Contains(m.HTML, "@Priya Natarajan") {
		t.Errorf("feed[1] = %+v; want the DM with Priya's name", m)
	}
	if len(st.Violations) != 0 {
		t.Errorf("global violations = %+v; want the refusal only in Marcus's column", st.Violations)
	}
}

// TestAPIRefusesWhatSlackWould checks the page's API: JSON only, known
// people only, and clock steps that only go forward.
func TestAPIRefusesWhatSlackWould(t *testing.T) {
	p := newIdle(t)
	h := p.Handler()
	for _, c := range []struct {
		path, ctype, body string
		want              int
	}{
		{"/api/slash", "text/plain", `{"user":"U0PRIYA01","text":"help"}`, http.StatusUnsupportedMediaType},
		{"/api/slash", "application/json", `{"user":"U0NOBODY","text":"help"}`, http.StatusBadRequest},
		{"/api/clock", "application/json", `{"advance":"-24h"}`, http.StatusBadRequest},
		{"/api/deactivate", "application/json", `{"user":"U0PRIYA01"}`, http.StatusBadRequest},
		{"/api/clock", "application/json", `{"advance":"24h"}`, http.StatusOK},
	} {
		rec := httptest.NewRecorder()
		req := ownRequest(p, "POST", c.path, c.body)
		req.Header.Set("Content-Type", c.ctype)
		h.ServeHTTP(rec, req)
		if rec.Code != c.want {
			t.Errorf("POST %s %s (%s) = %d %s; want %d", c.path, c.body, c.ctype, rec.Code, rec.Body.String(), c.want)
		}
	}
	if st := getState(t, p); st.Ahead != "1 d ahead of real time" {
		t.Errorf("after +1 day: ahead = %q", st.Ahead)
	}
}
