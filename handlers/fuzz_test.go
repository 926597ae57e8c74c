package handlers_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"

	"github.com/uxpin-access-bot/uxpin-access-bot/access"
	"github.com/uxpin-access-bot/uxpin-access-bot/handlers"
	"github.com/uxpin-access-bot/uxpin-access-bot/storage"
)

// quietSlack answers every Web API call the handlers make with success; the
// fuzz targets exercise our parsing and authorisation, not Slack.
type quietSlack struct{}

func (quietSlack) OpenViewContext(context.Context, string, slack.ModalViewRequest) (*slack.ViewResponse, error) {
	return &slack.ViewResponse{}, nil
}
func (quietSlack) PublishViewContext(context.Context, slack.PublishViewContextRequest) (*slack.ViewResponse, error) {
	return &slack.ViewResponse{}, nil
}
func (quietSlack) PostEphemeralContext(context.Context, string, string, ...slack.MsgOption) (string, error) {
	return "1.0", nil
}
func (quietSlack) PostMessageContext(context.Context, string, ...slack.MsgOption) (string, string, error) {
	return "D1", "1.0", nil
}

type people struct{}

func (people) Person(_ context.Context, id string) (access.Person, error) {
	switch id {
	case "U0BOB001":
		return access.Person{ID: id, Email: "bob@example.com", Name: "Bob"}, nil
	case "U0ROBOT1":
		return access.Person{ID: id, Email: "r@example.com", IsBot: true}, nil
	}
	return access.Person{ID: id, Deleted: true}, nil
}

type approvers []string

func (a approvers) Approvers(context.Context) ([]string, error) { return a, nil }

func newFuzzHandler(tb testing.TB) (*handlers.Handler, *access.Service) {
	db, err := storage.Open(filepath.Join(tb.TempDir(), "fuzz.db"), storage.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	svc := access.NewService(db, approvers{"U0CAROL1"}, access.Config{Admins: []string{"U0ERIN01"}}, nil)
	// A pending request to aim forged clicks at.
	if _, err := svc.Submit(context.Background(), access.Submission{
		Action: access.ActionGrant, Requester: "U0ALICE1", Role: access.RoleEditor, Justification: "seed",
		Target: access.Person{ID: "U0BOB001", Email: "bob@example.com"},
	}); err != nil {
		tb.Fatal(err)
	}
	return handlers.New(svc, quietSlack{}, people{}, slog.New(slog.NewTextHandler(io.Discard, nil)), handlers.Options{}), svc
}

var envelopeSeeds = []string{
	`{"envelope_id":"e1","type":"slash_commands","payload":{"command":"/uxpin-access","text":"status","user_id":"U0ALICE1","trigger_id":"t"}}`,
	`{"envelope_id":"e2","type":"slash_commands","payload":{"command":"/uxpin-access","text":"offboard <@U0BOB001|bob>","user_id":"U0ALICE1"}}`,
	`{"envelope_id":"e3","type":"interactive","payload":{"type":"block_actions","user":{"id":"U0CAROL1"},"actions":[{"action_id":"uxpin_approve","value":"R-1"}]}}`,
	`{"envelope_id":"e4","type":"interactive","payload":{"type":"block_actions","user":{"id":"U0ERIN01"},"actions":[{"action_id":"uxpin_done","value":"R-999999999999999999999"}]}}`,
	`{"envelope_id":"e5","type":"interactive","payload":{"type":"view_submission","user":{"id":"U0ALICE1"},"view":{"callback_id":"uxpin_request","state":{"values":{"action":{"action":{"selected_option":{"value":"grant"}}},"target":{"target":{"selected_user":"U0BOB001"}},"role":{"role":{"selected_option":{"value":"admin"}}},"justification":{"justification":{"value":"x"}},"end_date":{"end_date":{"selected_date":"2099-01-01"}}}}}}}`,
	`{"envelope_id":"e6","type":"interactive","payload":{"type":"view_submission","user":{"id":"U0CAROL1"},"view":{"callback_id":"uxpin_deny_reason","private_metadata":"R-1","state":{"values":{"reason":{"reason":{"value":"no"}}}}}}}`,
	`{"envelope_id":"e7","type":"events_api","payload":{"type":"event_callback","event_id":"Ev1","event":{"type":"app_home_opened","user":"U0CAROL1","tab":"home"}}}`,
	`{"envelope_id":"e8","type":"events_api","payload":{"type":"event_callback","event_id":"Ev2","event":{"type":"user_change","user":{"id":"U0BOB001","deleted":true}}}}`,
	`{"envelope_id":"e9","type":"interactive","payload":"not an object"}`,
	`{"type":"hello"}`,
}

// FuzzEnvelope feeds arbitrary Socket Mode frames through the same decoding
// slack-go does and on to the handlers. Nothing may panic, and no input may
// move a request out of pending except a valid approver's decision.
func FuzzEnvelope(f *testing.F) {
	for _, s := range envelopeSeeds {
		f.Add([]byte(s))
	}
	h, svc := newFuzzHandler(f)
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, raw []byte) {
		defer func() {
			r, err := svc.Request(ctx, "R-1")
			if err != nil {
				t.Fatal(err)
			}
			if r.State != access.StatePending && r.DecidedBy != "U0CAROL1" && r.ClosedBy != "U0ALICE1" {
				t.Fatalf("R-1 became %s by %q/%q, who may not decide it", r.State, r.DecidedBy, r.ClosedBy)
			}
		}()
		var req socketmode.Request
		if json.Unmarshal(raw, &req) != nil {
			return
		}
		switch req.Type {
		case socketmode.RequestTypeSlashCommands:
			var cmd slack.SlashCommand
			if json.Unmarshal(req.Payload, &cmd) == nil {
				h.SlashCommand(ctx, cmd)
			}
		case socketmode.RequestTypeInteractive:
			var cb slack.InteractionCallback
			if json.Unmarshal(req.Payload, &cb) != nil {
				return
			}
			switch cb.Type {
			case slack.InteractionTypeViewSubmission:
				resp := h.ViewSubmission(ctx, cb)
				if b, err := json.Marshal(resp); err != nil || len(b) >= 20*1024 {
					t.Fatalf("ack payload unusable (%d bytes, %v)", len(b), err)
				}
			default:
				h.BlockAction(ctx, cb)
			}
		case socketmode.RequestTypeEventsAPI:
			ev, err := slackevents.ParseEvent(req.Payload, slackevents.OptionNoVerifyToken())
			if err == nil {
				h.Event(ctx, ev, req.RetryAttempt)
			}
		}
	})
}

var userIDRE = regexp.MustCompile(`^[UW][A-Z0-9]+$`)

// FuzzParseCommand checks that any command text parses to a known command.
func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{"", "status", "offboard <@U1|a>", "offboard @x", "ROSTER", "pending now", "\x00help", "offboard <@U1|a\x00>"} {
		f.Add(s)
	}
	known := map[string]bool{"": true, "offboard": true, "status": true, "pending": true, "roster": true, "reconcile": true, "help": true, "unknown": true}
	f.Fuzz(func(t *testing.T, text string) {
		c := handlers.ParseCommand(text)
		if !known[c.Name] {
			t.Fatalf("ParseCommand(%q).Name = %q", text, c.Name)
		}
		if c.User != "" && (c.Name != "offboard" || !userIDRE.MatchString(c.User)) {
			t.Fatalf("ParseCommand(%q).User = %q", text, c.User)
		}
	})
}

// FuzzSubmissionFromView checks that any modal state reads into a
// submission that validation then accepts or refuses without panicking, and
// that the requester always is the submitting user.
func FuzzSubmissionFromView(f *testing.F) {
	f.Add([]byte(`{"type":"view_submission","user":{"id":"U1"},"view":{"callback_id":"uxpin_request","state":{"values":{"action":{"action":{"selected_option":{"value":"grant"}}},"role":{"role":{"selected_option":{"value":"viewer"}}}}}}}`))
	f.Add([]byte(`{"user":{"id":"U1"},"view":{"state":{"values":{"end_date":{"end_date":{"selected_date":"9999-99-99"}},"justification":{"justification":{"value":"\u0000"}}}}}}`))
	f.Add([]byte(`{"user":{"id":"U1"},"view":{"state":null}}`))
	svc := access.NewService(nil, nil, access.Config{AllowedDomains: []string{"example.com"}}, nil)
	f.Fuzz(func(t *testing.T, raw []byte) {
		var cb slack.InteractionCallback
		if json.Unmarshal(raw, &cb) != nil {
			return
		}
		sub, _ := handlers.SubmissionFromView(cb)
		if sub.Requester != cb.User.ID {
			t.Fatalf("requester = %q; want the submitting user %q", sub.Requester, cb.User.ID)
		}
		_ = svc.Validate(sub)
	})
}
