package handlers_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"github.com/uxpin-access-bot/uxpin-access-bot/access"
	"github.com/uxpin-access-bot/uxpin-access-bot/handlers"
	"github.com/uxpin-access-bot/uxpin-access-bot/storage"
)

const fileToken = "xoxb-files-test-token"

// trustingFiles downloads whatever URL it is given with the bot token, as
// slack-go did before 0.30.1: the handler alone must keep the token from
// going anywhere but Slack. It records the URLs it was asked for and, for
// hosts a test cannot reach (Slack's own), answers with list instead.
type trustingFiles struct {
	mu    sync.Mutex
	asked []string
	list  string
}

func (f *trustingFiles) GetFileContext(ctx context.Context, downloadURL string, w io.Writer) error {
	f.mu.Lock()
	f.asked = append(f.asked, downloadURL)
	f.mu.Unlock()
	if !strings.HasPrefix(downloadURL, "http://127.0.0.1:") {
		_, err := io.WriteString(w, f.list)
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, downloadURL, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+fileToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, err = io.Copy(w, resp.Body)
	return err
}

func (f *trustingFiles) UploadFileContext(context.Context, slack.UploadFileParameters) (*slack.FileSummary, error) {
	return &slack.FileSummary{}, nil
}

func (f *trustingFiles) wasAsked(u string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Contains(f.asked, u)
}

// dmRecorder is quietSlack that keeps the text of every message posted.
type dmRecorder struct {
	quietSlack
	mu    sync.Mutex
	texts []string
}

func (d *dmRecorder) PostMessageContext(_ context.Context, channel string, options ...slack.MsgOption) (string, string, error) {
	_, v, err := slack.UnsafeApplyMsgOptions("", channel, "", options...)
	if err != nil {
		return "", "", err
	}
	d.mu.Lock()
	d.texts = append(d.texts, v.Get("text"))
	d.mu.Unlock()
	return "D1", "1.0", nil
}

func (d *dmRecorder) count(sub string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for _, t := range d.texts {
		if strings.Contains(t, sub) {
			n++
		}
	}
	return n
}

// tokenTrap is a server that is not Slack; it records what reached it.
type tokenTrap struct {
	*httptest.Server
	mu       sync.Mutex
	requests int
	tokens   int
}

func newTokenTrap(t *testing.T) *tokenTrap {
	trap := &tokenTrap{}
	trap.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		trap.mu.Lock()
		trap.requests++
		if r.Header.Get("Authorization") != "" {
			trap.tokens++
		}
		trap.mu.Unlock()
		_, _ = io.WriteString(w, "Email,Role\nstolen@example.com,Editor\n")
	}))
	t.Cleanup(trap.Close)
	return trap
}

func (trap *tokenTrap) seen() (requests, tokens int) {
	trap.mu.Lock()
	defer trap.mu.Unlock()
	return trap.requests, trap.tokens
}

func shareEvent(user, link string) slackevents.EventsAPIEvent {
	return slackevents.EventsAPIEvent{Type: slackevents.CallbackEvent, InnerEvent: slackevents.EventsAPIInnerEvent{
		Type: "message",
		Data: &slackevents.MessageEvent{
			Type: "message", SubType: "file_share", ChannelType: "im", Channel: "D1", User: user,
			Message: &slack.Msg{Files: []slack.File{{ID: "F1", Name: "team.csv", Size: 100, URLPrivate: link, URLPrivateDownload: link}}},
		},
	}}
}

// TestSharedFileOnlyFromSlack shares files whose download URL points at
// Slack's file hosts, at the Web API's host, and elsewhere: the handler asks
// for the first two only, and tells the user why it refused the others.
// Even with a client that would send the token anywhere, the server that is
// not Slack gets no request.
func TestSharedFileOnlyFromSlack(t *testing.T) {
	api := httptest.NewServer(http.NotFoundHandler()) // stands for the fake Slack's Web API host
	t.Cleanup(api.Close)
	trap := newTokenTrap(t)

	db, err := storage.Open(filepath.Join(t.TempDir(), "files.db"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	svc := access.NewService(db, approvers{"U0CAROL1"}, access.Config{Admins: []string{"U0ERIN01"}}, nil)
	files := &trustingFiles{list: "Email,Role\nbob@example.com,Editor\n"}
	slackAPI := &dmRecorder{}
	h := handlers.New(svc, slackAPI, people{}, slog.New(slog.NewTextHandler(io.Discard, nil)), handlers.Options{
		APIURL: api.URL + "/api/", AuditAPI: files,
	})
	t.Cleanup(h.Wait) // before the database closes: audits run in the background

	const refusal = "I only download files stored in Slack"
	tests := []struct {
		link string
		ok   bool
	}{
		{"https://files.slack.com/files-pri/T1-F1/download/team.csv", true},
		{"https://FILES.slack-gov.com/files-pri/T1-F1/download/team.csv", true},
		{api.URL + "/files-pri/F1/team.csv?download=1", true},
		{trap.URL + "/files-pri/F1/team.csv", false},
		{strings.Replace(api.URL, "http://", "https://", 1) + "/files-pri/F1/team.csv", false},
		{"http://files.slack.com/files-pri/T1-F1/download/team.csv", false},
		{"https://files.slack.com.evil.test/team.csv", false},
		{"https://files.slack.com:8443/team.csv", false},
		{"https://user:pw@files.slack.com/team.csv", false},
		{"https://slack.com.evil.test/files.slack.com/team.csv", false},
		{"https://example.com/team.csv", false},
		{"files.slack.com/team.csv", false},
	}
	for i, tt := range tests {
		before := slackAPI.count(refusal)
		// fileShared decides before it returns; only the audit runs later.
		h.Event(context.Background(), shareEvent("U0ERIN01", tt.link), 0)
		refused := slackAPI.count(refusal) > before
		if asked := files.wasAsked(tt.link); asked != tt.ok || refused == tt.ok {
			t.Errorf("%d: %s: downloaded %v, refused %v; want downloaded %v", i, tt.link, asked, refused, tt.ok)
		}
	}
	if requests, tokens := trap.seen(); requests != 0 || tokens != 0 {
		t.Errorf("the server that is not Slack got %d requests, %d with a token; want none", requests, tokens)
	}
}
