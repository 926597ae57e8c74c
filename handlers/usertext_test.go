package handlers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/uxpin-access-bot/uxpin-access-bot/access"
	"github.com/uxpin-access-bot/uxpin-access-bot/handlers"
	"github.com/uxpin-access-bot/uxpin-access-bot/internal/fakeslack"
	"github.com/uxpin-access-bot/uxpin-access-bot/storage"
)

// forged is free text that tries to pass for the bot's own words: bold, a
// disguised link, a bare link and italics.
const forged = "*APPROVED BY CISO* <https://evil.example|click> https://evil.example _x_"

// forgedPlain is forged as a plain_text object carries it: only Slack's
// three control characters escaped, the rest as typed.
const forgedPlain = "*APPROVED BY CISO* &lt;https://evil.example|click&gt; https://evil.example _x_"

// textObject is a Block Kit text object found in a message.
type textObject struct {
	Type     string
	Text     string
	Emoji    *bool
	Verbatim bool
	Path     string
}

// textObjects returns every text object in a JSON value, with its path.
func textObjects(t *testing.T, raw []byte) []textObject {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	var out []textObject
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch x := v.(type) {
		case map[string]any:
			typ, _ := x["type"].(string)
			if s, ok := x["text"].(string); ok && (typ == "mrkdwn" || typ == "plain_text") {
				o := textObject{Type: typ, Text: s, Path: path}
				if e, ok := x["emoji"].(bool); ok {
					o.Emoji = &e
				}
				o.Verbatim, _ = x["verbatim"].(bool)
				out = append(out, o)
			}
			for k, e := range x {
				walk(path+"/"+k, e)
			}
		case []any:
			for i, e := range x {
				walk(fmt.Sprintf("%s/%d", path, i), e)
			}
		}
	}
	walk("", v)
	return out
}

// checkLiteral fails if forged text formats or links anywhere in raw: no
// mrkdwn object may hold its markup, and a mrkdwn object that repeats its
// bare URL must be verbatim, so Slack does not link it. It returns the
// plain_text objects that show forged as typed.
func checkLiteral(t *testing.T, name string, raw []byte) (shown int) {
	t.Helper()
	for _, o := range textObjects(t, raw) {
		switch o.Type {
		case "mrkdwn":
			for _, bad := range []string{"*APPROVED BY CISO*", "_x_", "<https://evil.example", "|click>"} {
				if strings.Contains(o.Text, bad) {
					t.Errorf("%s: mrkdwn at %s keeps %q unneutralised: %q", name, o.Path, bad, o.Text)
				}
			}
			if strings.Contains(o.Text, "evil.example") && !o.Verbatim {
				t.Errorf("%s: mrkdwn at %s repeats the bare URL without verbatim, so Slack links it: %q", name, o.Path, o.Text)
			}
		case "plain_text":
			if !strings.Contains(o.Text, "APPROVED BY CISO") {
				continue
			}
			if o.Emoji == nil || *o.Emoji {
				t.Errorf("%s: plain_text at %s turns :shortcodes: in user text into emoji", name, o.Path)
			}
			if strings.Contains(o.Text, forgedPlain) {
				shown++
			}
		}
	}
	return shown
}

// TestUserTextIsLiteralOnCards renders every notice for requests whose
// justification, deny, fail and reopen reasons are forged, and checks that
// none of it reaches a mrkdwn text object unneutralised, and that the cards
// that show the text show it as typed.
func TestUserTextIsLiteralOnCards(t *testing.T) {
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	kinds := []access.NoticeKind{
		access.NoticeSubmitted, access.NoticeApprovalCard, access.NoticeCardsUpdate, access.NoticeDecided,
		access.NoticeTask, access.NoticeTaskUpdate, access.NoticeFulfilled, access.NoticeFailed,
		access.NoticeCancelled, access.NoticeAudit, access.NoticeReminder, access.NoticeEscalated,
		access.NoticeExpiryWarn, access.NoticeAutoRemoval, access.NoticeConfirm, access.NoticeConfirmUpdate,
		access.NoticeConfirmed, access.NoticeTakenOver,
	}
	// must lists the notices that have to show the forged text, by state.
	must := map[access.State][]access.NoticeKind{
		access.StatePending:   {access.NoticeApprovalCard},
		access.StateApproved:  {access.NoticeApprovalCard, access.NoticeTask, access.NoticeConfirmed},
		access.StateDenied:    {access.NoticeApprovalCard, access.NoticeDecided, access.NoticeAudit},
		access.StateFailed:    {access.NoticeApprovalCard, access.NoticeTask, access.NoticeFailed, access.NoticeAudit},
		access.StateFulfilled: {access.NoticeApprovalCard, access.NoticeTask},
	}
	for _, state := range access.States {
		r := &access.Request{
			ID: "R-42", Action: access.ActionGrant, Requester: "U1", Target: "U2",
			TargetEmail: "bob@example.com", Role: access.RoleEditor,
			Justification: forged, State: state, CreatedAt: now,
			DecidedBy: "U3", DenyReason: forged, Assignee: "U4", ClosedBy: "U4", FailReason: forged,
		}
		if state == access.StateApproved {
			r.DecidedBy, r.Reopened, r.ReopenReason, r.PreviousAssignees = "U3", 1, forged, []string{"U5"}
		}
		shown := map[access.NoticeKind]int{}
		for _, k := range kinds {
			name := fmt.Sprintf("%s/%s", state, k)
			text, blocks := handlers.Render(access.Notice{Kind: k, RequestID: r.ID, To: "U1"}, r)
			raw, err := json.Marshal(blocks)
			if err != nil {
				t.Fatal(err)
			}
			if errs := fakeslack.ValidateMessageBlocks(raw); len(blocks) > 0 && len(errs) > 0 {
				t.Errorf("%s: Slack would refuse the blocks: %v", name, errs)
			}
			shown[k] = checkLiteral(t, name, raw)
			if len(blocks) == 0 && strings.Contains(text, "APPROVED BY CISO") {
				t.Errorf("%s: the text-only message shows user text as mrkdwn: %q", name, text)
			}
		}
		for _, k := range must[state] {
			if shown[k] == 0 {
				t.Errorf("%s/%s: no plain_text object shows the user's text as typed", state, k)
			}
		}
	}

	// The reopened grant's confirmation says back what the person wrote.
	r := &access.Request{ID: "R-43", Action: access.ActionGrant, Requester: "U1", Target: "U2", TargetEmail: "bob@example.com",
		Role: access.RoleViewer, State: access.StateApproved, Reopened: 1, ReopenReason: forged, Assignee: "U4", DecidedBy: "U3"}
	_, blocks := handlers.Render(access.Notice{Kind: access.NoticeConfirmUpdate, RequestID: r.ID, To: "U2"}, r)
	raw, _ := json.Marshal(blocks)
	if checkLiteral(t, "confirm/reopened", raw) == 0 {
		t.Errorf("confirm/reopened: the person's message is not shown as typed: %s", raw)
	}

	// A group's checklist shows its justification too.
	g := &access.Request{ID: "R-44", Action: access.ActionRemove, Requester: "U1", Justification: forged, State: access.StateDenied,
		DecidedBy: "U3", DenyReason: forged, Approvers: []string{"U3"},
		Rows: []access.GroupRow{{Target: "U7", Email: "c@example.com", Assignee: "UA"}, {Target: "U8", Email: "d@example.com", Assignee: "UA"}}}
	for _, n := range []access.Notice{{Kind: access.NoticeApprovalCard, To: "U3"}, {Kind: access.NoticeTask, To: "UA"}} {
		_, blocks := handlers.Render(n, g)
		raw, _ := json.Marshal(blocks)
		if checkLiteral(t, "group/"+string(n.Kind), raw) == 0 {
			t.Errorf("group/%s: the justification is not shown as typed", n.Kind)
		}
	}
}

// responses keeps the messages posted to a response_url.
type responses struct {
	mu   sync.Mutex
	msgs []slack.WebhookMessage
}

func (rs *responses) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	var m slack.WebhookMessage
	if err := json.NewDecoder(req.Body).Decode(&m); err == nil {
		rs.mu.Lock()
		rs.msgs = append(rs.msgs, m)
		rs.mu.Unlock()
	}
	_, _ = io.WriteString(w, "ok")
}

func (rs *responses) sent() []slack.WebhookMessage {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return append([]slack.WebhookMessage(nil), rs.msgs...)
}

// TestUserTextIsLiteralInLists checks the places where user text has to sit
// inside a mrkdwn line (the Home tab's requests, the pending list): its
// formatting characters and links are neutralised there.
func TestUserTextIsLiteralInLists(t *testing.T) {
	db, err := storage.Open(filepath.Join(t.TempDir(), "lists.db"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx := context.Background()
	svc := access.NewService(db, approvers{"U0CAROL1"}, access.Config{}, nil)
	sub := access.Submission{Action: access.ActionGrant, Requester: "U0ALICE1", Role: access.RoleEditor, Justification: forged,
		Target: access.Person{ID: "U0BOB001", Email: "bob@example.com"}}
	denied, err := svc.Submit(ctx, sub)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Decide(ctx, denied.ID, "U0CAROL1", access.Decision{Reason: forged}); err != nil {
		t.Fatal(err)
	}
	sub.Target = access.Person{ID: "U0DAVE01", Email: "dave@example.com"}
	if _, err := svc.Submit(ctx, sub); err != nil {
		t.Fatal(err)
	}
	rs := &responses{}
	srv := httptest.NewServer(rs)
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	h := handlers.New(svc, quietSlack{}, people{}, slog.New(slog.NewTextHandler(io.Discard, nil)), handlers.Options{ResponseHosts: []string{u.Host}})

	home, err := h.HomeBlocks(ctx, "U0ALICE1")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(home)
	checkLiteral(t, "home", raw)
	if !strings.Contains(string(raw), "APPROVED BY CISO") {
		t.Errorf("home: the deny reason is not shown at all: %s", raw)
	}

	// The reply is posted before SlashCommand returns.
	h.SlashCommand(ctx, slack.SlashCommand{Command: "/uxpin-access", Text: "pending", UserID: "U0CAROL1", ChannelID: "C1", ResponseURL: srv.URL + "/r"})
	sent := rs.sent()
	if len(sent) != 1 || sent[0].Blocks == nil {
		t.Fatalf("pending: want one reply with blocks, got %+v", sent)
	}
	raw, _ = json.Marshal(sent[0].Blocks)
	checkLiteral(t, "pending", raw)
	if !strings.Contains(string(raw), "APPROVED BY CISO") {
		t.Errorf("pending: the justification is not shown at all: %s", raw)
	}
}
