package handlers_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/uxpin-access-bot/uxpin-access-bot/access"
	"github.com/uxpin-access-bot/uxpin-access-bot/handlers"
	"github.com/uxpin-access-bot/uxpin-access-bot/internal/fakeslack"
)

func TestParseCommand(t *testing.T) {
	tests := []struct {
		in   string
		want handlers.Command
	}{
		{"", handlers.Command{}},
		{"   ", handlers.Command{}},
		{"status", handlers.Command{Name: "status"}},
		{"  Status  ", handlers.Command{Name: "status"}},
		{"pending", handlers.Command{Name: "pending"}},
		{"roster", handlers.Command{Name: "roster"}},
		{"reconcile", handlers.Command{Name: "reconcile"}},
		{"help", handlers.Command{Name: "help"}},
		{"offboard", handlers.Command{Name: "offboard"}},
		{"offboard <@U123ABC|alex>", handlers.Command{Name: "offboard", User: "U123ABC", Users: []string{"U123ABC"}, Arg: "<@U123ABC|alex>"}},
		{"offboard <@W123ABC>", handlers.Command{Name: "offboard", User: "W123ABC", Users: []string{"W123ABC"}, Arg: "<@W123ABC>"}},
		{"offboard @alex", handlers.Command{Name: "offboard", Arg: "@alex"}},
		{"offboard <@U1|a> <@U2|b>", handlers.Command{Name: "offboard", User: "U1", Users: []string{"U1", "U2"}, Arg: "<@U1|a> <@U2|b>"}},
		{"offboard <@U1|a> <@U2|b> <@U1>", handlers.Command{Name: "offboard", User: "U1", Users: []string{"U1", "U2"}, Arg: "<@U1|a> <@U2|b> <@U1>"}},
		{"offboard <@U1|a> bob", handlers.Command{Name: "offboard", Arg: "<@U1|a> bob"}},
		{"offboard <!channel>", handlers.Command{Name: "offboard", Arg: "<!channel>"}},
		{"grant me admin", handlers.Command{Name: "unknown", Arg: "grant me admin"}},
		{"stat\x00us", handlers.Command{Name: "status"}},
	}
	for _, tt := range tests {
		if got := handlers.ParseCommand(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseCommand(%q) = %+v; want %+v", tt.in, got, tt.want)
		}
	}
}

// TestRenderStaysValid renders every notice for requests in every state,
// with worst-case text, and checks the result against Slack's limits.
func TestRenderStaysValid(t *testing.T) {
	long := strings.Repeat("<!channel> & *bold* ", 200)[:access.MaxJustification]
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	kinds := []access.NoticeKind{
		access.NoticeSubmitted, access.NoticeApprovalCard, access.NoticeCardsUpdate, access.NoticeDecided,
		access.NoticeTask, access.NoticeTaskUpdate, access.NoticeFulfilled, access.NoticeFailed,
		access.NoticeCancelled, access.NoticeAudit, access.NoticeReminder, access.NoticeEscalated,
		access.NoticeExpiryWarn, access.NoticeAutoRemoval, access.NoticeConfirm, access.NoticeConfirmUpdate,
		access.NoticeConfirmed, access.NoticeTakenOver,
	}
	for _, action := range access.Actions {
		for _, state := range access.States {
			r := &access.Request{
				ID: "R-123456", Action: action, Requester: "U1", Target: "U2",
				TargetEmail: strings.Repeat("a", 60) + "@example.com", Role: access.RoleEditor, CurrentRole: access.RoleViewer,
				Justification: long, EndDate: "2027-01-31", State: state, CreatedAt: now,
				DecidedBy: "U3", DenyReason: long[:access.MaxReason], Assignee: "U4",
				ClosedBy: "U4", FailReason: long[:access.MaxReason],
			}
			if action == access.ActionRemove {
				r.Role = ""
				r.Origin, r.AutoReason, r.Requester = access.OriginLeaver, long[:200], ""
			}
			if state == access.StateApproved {
				r.PreviousAssignees, r.Escalations, r.Reopened, r.ReopenReason = []string{"U5", "U6"}, 2, 1, long[:access.MaxReason]
			}
			for _, k := range kinds {
				name := fmt.Sprintf("%s/%s/%s", action, state, k)
				text, blocks := handlers.Render(access.Notice{Kind: k, RequestID: r.ID}, r)
				if text == "" {
					t.Errorf("%s: empty notification text", name)
				}
				raw, err := json.Marshal(blocks)
				if err != nil {
					t.Fatal(err)
				}
				if errs := fakeslack.ValidateMessageBlocks(raw); len(blocks) > 0 && len(errs) > 0 {
					t.Errorf("%s: Slack would refuse the blocks: %v", name, errs)
				}
				if strings.Contains(string(raw), "<!channel>") || strings.Contains(text, "<!channel>") {
					t.Errorf("%s: user text was not escaped", name)
				}
			}
		}
	}
}

// TestRenderGroupStaysValid renders a large request group in every state
// for its card and each admin's checklist and checks Slack's limits (50
// blocks, text lengths) hold.
func TestRenderGroupStaysValid(t *testing.T) {
	long := strings.Repeat("<!channel> & *bold* ", 200)[:access.MaxJustification]
	var rows []access.GroupRow
	for i := range 120 {
		row := access.GroupRow{Target: fmt.Sprintf("U%06d", i), Email: strings.Repeat("b", 50) + fmt.Sprintf("%d@example.com", i), Role: access.RoleEditor, Assignee: "UA"}
		if i%3 == 0 {
			row.Assignee = "UB"
		}
		if i%4 == 0 {
			row.DoneBy, row.DoneAt = row.Assignee, time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
		}
		rows = append(rows, row)
	}
	for _, state := range access.States {
		r := &access.Request{ID: "R-77", Action: access.ActionRemove, Requester: "U1", Rows: rows, Justification: long, State: state, DecidedBy: "U3", ClosedBy: "UA", Approvers: []string{"U3"}}
		for _, n := range []access.Notice{
			{Kind: access.NoticeApprovalCard, To: "U3"}, {Kind: access.NoticeCardsUpdate},
			{Kind: access.NoticeTask, To: "UA"}, {Kind: access.NoticeTaskUpdate, To: "UB"},
			{Kind: access.NoticeSubmitted, To: "U1"}, {Kind: access.NoticeDecided, To: "U1"},
			{Kind: access.NoticeFulfilled, To: "U1"}, {Kind: access.NoticeAudit, To: "C1"},
		} {
			name := fmt.Sprintf("%s/%s/%s", state, n.Kind, n.To)
			text, blocks := handlers.Render(n, r)
			if text == "" {
				t.Errorf("%s: empty notification text", name)
			}
			raw, err := json.Marshal(blocks)
			if err != nil {
				t.Fatal(err)
			}
			if errs := fakeslack.ValidateMessageBlocks(raw); len(blocks) > 0 && len(errs) > 0 {
				t.Errorf("%s: Slack would refuse the blocks: %v", name, errs)
			}
		}
	}
}
