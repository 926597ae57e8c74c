package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uxpin-access-bot/uxpin-access-bot/access"
	"github.com/uxpin-access-bot/uxpin-access-bot/handlers"
	"github.com/uxpin-access-bot/uxpin-access-bot/internal/fakeslack"
)

// approveFlow submits a request as alice, approves it as carol and returns
// the request ID and the task message DM'd to the assigned admin.
func approveFlow(h *harness, action, target, role string) (string, fakeslack.Message) {
	h.t.Helper()
	id := h.mustSubmit(uAlice, action, target, role, "Needs it for the design system")
	card := h.dmWith(uCarol, id, "Approve")
	h.click(uCarol, card, handlers.ActionApprove)
	task := h.dmWith(uErin, "UXPin task "+id)
	return id, task
}

// grantDone runs a grant for target through to done.
func grantDone(h *harness, target, role string) string {
	h.t.Helper()
	id, task := approveFlow(h, "grant", target, role)
	h.click(h.m.mustAssignee(h.t, id), task, handlers.ActionDone)
	h.waitState(id, "fulfilled")
	return id
}

func TestGrantLifecycle(t *testing.T) {
	h := newHarness(t, nil)

	v := h.openModal(uAlice, "")
	if v.CallbackID != handlers.CallbackRequest || v.Title != "UXPin access request" {
		t.Fatalf("modal = %q titled %q; want %q titled %q", v.CallbackID, v.Title, handlers.CallbackRequest, "UXPin access request")
	}
	ack, err := h.fake.Submit(h.ctx(), uAlice, v, requestValues("grant", uBob, "editor", "Needs it for the design system", ""))
	if err != nil {
		t.Fatal(err)
	}
	if p := decodeAck(t, ack); p.ResponseAction != "update" {
		t.Fatalf("submit ack = %+v; want response_action update", p)
	}
	id := "R-1"
	h.dmWith(uAlice, id, "submitted")

	// Every approver gets a card; the group member too.
	cardCarol := h.dmWith(uCarol, id, "Approve", "Deny", "bob@example.com", "Editor", "design system")
	cardDave := h.dmWith(uDave, id, "Approve")
	h.dmWith(uGina, id, "Approve")
	for _, m := range h.fake.DMs(uAlice) {
		if _, ok := fakeslack.FindAction(m.Blocks, handlers.ActionApprove); ok {
			t.Errorf("the requester got an approval card")
		}
	}

	if got := h.clickReply(uCarol, cardCarol, handlers.ActionApprove); !strings.Contains(got, "You approved "+id) {
		t.Errorf("approver reply = %q; want it to confirm the approval", got)
	}
	h.waitState(id, "approved")

	// All cards now show who decided, without buttons.
	for _, c := range []fakeslack.Message{cardCarol, cardDave} {
		h.waitFor("card update", func() bool {
			cur := h.current(c)
			_, hasButton := fakeslack.FindAction(cur.Blocks, handlers.ActionApprove)
			return !hasButton && strings.Contains(msgText(cur), "Approved by <@"+uCarol+">")
		})
	}
	h.dmWith(uAlice, id, "approved")

	task := h.dmWith(uErin, "UXPin task "+id, "Invite Members", "`bob@example.com`", "*Editor*", "Account Settings > Team Members")
	if h.countDMs(uFrank, "UXPin task") != 0 {
		t.Errorf("the task went to two admins")
	}
	h.click(uErin, task, handlers.ActionDone)
	h.waitState(id, "fulfilled")
	h.dmWith(uAlice, "Done", "bob@example.com", "Editor")
	h.dmWith(uBob, "Done", "bob@example.com", "Editor")
	h.waitFor("the audit line", func() bool {
		for _, m := range h.fake.Messages() {
			if m.Channel == auditCh && strings.Contains(m.Text, id+" fulfilled") {
				return true
			}
		}
		return false
	})
	h.waitFor("the task message to close", func() bool {
		_, hasButton := fakeslack.FindAction(h.current(task).Blocks, handlers.ActionDone)
		return !hasButton
	})

	if got := h.slashReply(uCarol, "roster"); !containsAll(got, "bob@example.com", "Editor", id) {
		t.Errorf("roster = %q; want bob as Editor by %s", got, id)
	}

	// A second click on the closed task changes nothing and is answered.
	if got := h.forgedClickReply(uErin, task, handlers.ActionDone); !strings.Contains(got, "already done") {
		t.Errorf("second Mark done reply = %q; want it to say the task is already done", got)
	}
	h.outboxEmpty()
	if n := h.countDMs(uBob, "Done"); n != 1 {
		t.Errorf("target got %d done messages; want 1", n)
	}
}

func TestChangeRoleAndRemoval(t *testing.T) {
	h := newHarness(t, nil)
	grantDone(h, uBob, "viewer")

	// Change: the second task goes to the admin with fewer open tasks (both
	// have none now, so the first configured), with the row and both roles.
	id, task := approveFlow(h, "change", uBob, "admin")
	h.dmWith(uErin, "UXPin task "+id, "Find the row of `bob@example.com`", "from Viewer to *Admin*")
	h.click(uErin, task, handlers.ActionDone)
	h.waitState(id, "fulfilled")

	// Removal through offboard @bob: the modal is preset.
	v := h.openModal(uAlice, "offboard <@"+uBob+"|bob>")
	if !strings.Contains(string(v.Raw), `"initial_user":"`+uBob+`"`) || !strings.Contains(string(v.Raw), `"value":"remove"`) {
		t.Fatalf("offboard modal is not preset to remove bob: %s", v.Raw)
	}
	ack, err := h.fake.Submit(h.ctx(), uAlice, v, requestValues("remove", uBob, "", "", ""))
	if err != nil {
		t.Fatal(err)
	}
	if p := decodeAck(t, ack); p.ResponseAction != "update" {
		t.Fatalf("removal refused: %+v", p)
	}
	card := h.dmWith(uDave, "R-3", "Approve")
	h.click(uDave, card, handlers.ActionApprove)
	task = h.dmWith(uErin, "UXPin task R-3", "Remove from Team", "`bob@example.com`")
	h.click(uErin, task, handlers.ActionDone)
	h.waitState("R-3", "fulfilled")
	roster, err := h.m.Service.Roster(context.Background())
	if err != nil || len(roster) != 0 {
		t.Fatalf("roster after removal = %v, %v; want empty", roster, err)
	}
}

func TestAssignmentBalancesAdmins(t *testing.T) {
	h := newHarness(t, nil)
	approveFlow(h, "grant", uBob, "viewer")
	id2 := h.mustSubmit(uAlice, "grant", uDave, "editor", "second")
	card := h.dmWith(uCarol, id2, "Approve")
	h.click(uCarol, card, handlers.ActionApprove)
	h.dmWith(uFrank, "UXPin task "+id2)

	// The target is never their own admin: a request for erin goes to frank
	// even though frank is busier.
	id3 := h.mustSubmit(uAlice, "grant", uErin, "editor", "third")
	card = h.dmWith(uCarol, id3, "Approve")
	h.click(uCarol, card, handlers.ActionApprove)
	h.dmWith(uFrank, "UXPin task "+id3)
	if n := h.countDMs(uErin, "UXPin task "+id3); n != 0 {
		t.Errorf("the target admin got their own task")
	}
}

func TestDenyWithReason(t *testing.T) {
	h := newHarness(t, nil)
	id := h.mustSubmit(uAlice, "grant", uBob, "admin", "wants admin")
	card := h.dmWith(uCarol, id, "Deny")
	daveCard := h.dmWith(uDave, id, "Approve")
	v := h.clickModal(uCarol, card, handlers.ActionDeny)
	if v.CallbackID != handlers.CallbackDeny {
		t.Fatalf("modal = %q; want %q", v.CallbackID, handlers.CallbackDeny)
	}
	// An empty reason is refused in the modal.
	reason := func(s string) map[string]map[string]any {
		return map[string]map[string]any{"reason": {"reason": map[string]any{"type": "plain_text_input", "value": s}}}
	}
	ack, err := h.fake.Submit(h.ctx(), uCarol, v, reason("   "))
	if err != nil {
		t.Fatal(err)
	}
	if p := decodeAck(t, ack); p.Errors["reason"] == "" {
		t.Fatalf("empty reason ack = %+v; want an error on reason", p)
	}
	if got := h.state(id); got != "pending" {
		t.Fatalf("state after empty reason = %s; want pending", got)
	}
	ack, err = h.fake.Submit(h.ctx(), uCarol, v, reason("Viewer is enough for reviews"))
	if err != nil {
		t.Fatal(err)
	}
	if p := decodeAck(t, ack); len(p.Errors) > 0 {
		t.Fatalf("deny refused: %+v", p)
	}
	h.waitState(id, "denied")
	h.dmWith(uAlice, id, "denied", "Viewer is enough for reviews")
	h.waitFor("cards to show the denial", func() bool {
		return strings.Contains(msgText(h.current(card)), "Denied by <@"+uCarol+">")
	})
	h.waitFor("the audit line", func() bool {
		for _, m := range h.fake.Messages() {
			if m.Channel == auditCh && strings.Contains(m.Text, id+" denied") {
				return true
			}
		}
		return false
	})
	// Dave's late click is answered politely and changes nothing.
	if got := h.forgedClickReply(uDave, daveCard, handlers.ActionApprove); !strings.Contains(got, "already denied by <@"+uCarol+">") {
		t.Errorf("late approve reply = %q; want already denied", got)
	}
	if got := h.state(id); got != "denied" {
		t.Errorf("state = %s; want denied", got)
	}
}

func TestCantCompleteAndCancel(t *testing.T) {
	h := newHarness(t, nil)
	id, task := approveFlow(h, "grant", uBob, "editor")
	v := h.clickModal(uErin, task, handlers.ActionFail)
	ack, err := h.fake.Submit(h.ctx(), uErin, v, map[string]map[string]any{"reason": {"reason": map[string]any{"type": "plain_text_input", "value": "No seats left"}}})
	if err != nil || len(decodeAck(t, ack).Errors) > 0 {
		t.Fatalf("fail submission: %v %s", err, ack.Payload)
	}
	h.waitState(id, "failed")
	h.dmWith(uAlice, id, "could not be completed", "No seats left")
	h.dmWith(uCarol, id, "could not be completed")

	// Cancel: only by the requester, only while pending.
	id2 := h.mustSubmit(uAlice, "grant", uDave, "viewer", "reviews")
	receipt := h.dmWith(uAlice, id2, "submitted")
	card := h.dmWith(uCarol, id2, "Approve")
	h.click(uAlice, receipt, handlers.ActionCancel)
	h.waitState(id2, "cancelled")
	h.waitFor("the card to show the cancellation", func() bool {
		return strings.Contains(msgText(h.current(card)), "Cancelled")
	})
	if got := h.forgedClickReply(uCarol, card, handlers.ActionApprove); !strings.Contains(got, "cancelled") {
		t.Errorf("approve after cancel = %q; want it to say cancelled", got)
	}
}

func TestModalValidation(t *testing.T) {
	h := newHarness(t, nil)
	h.mustSubmit(uAlice, "grant", uBob, "editor", "first")
	tests := []struct {
		name                                    string
		action, target, role, why, end, wantErr string
	}{
		{"no role for a grant", "grant", uDave, "", "x", "", "role"},
		{"no justification", "grant", uDave, "viewer", "", "", "justification"},
		{"end date in the past", "grant", uDave, "viewer", "x", "2020-01-01", "end_date"},
		{"bot target", "grant", uRobot, "viewer", "x", "", "target"},
		{"deactivated target", "grant", uGone, "viewer", "x", "", "target"},
		{"unknown target", "grant", "U0NOBODY", "viewer", "x", "", "target"},
		{"target without email", "grant", uNoMail, "viewer", "x", "", "target"},
		{"email outside the allowed domains", "grant", uOutside, "viewer", "x", "", "target"},
		{"same request already open", "grant", uBob, "viewer", "x", "", "target"},
		{"too long a justification", "grant", uDave, "viewer", strings.Repeat("y", 1001), "", "justification"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := h.submitRequest(uAlice, tt.action, tt.target, tt.role, tt.why, tt.end)
			if p.ResponseAction != "errors" || p.Errors[tt.wantErr] == "" {
				t.Fatalf("ack = %+v; want response_action errors on %q", p, tt.wantErr)
			}
		})
	}
	if n := h.m.mustCount(t); n != 1 {
		t.Errorf("%d requests stored; want only the first", n)
	}
}

// TestUnknownTargetIsNotDeactivated: a person Slack does not show the bot
// (user_not_found, user_not_visible) is refused as unknown, never called
// deactivated (SPEC §9.2: only Slack's deleted: true is a leaver).
func TestUnknownTargetIsNotDeactivated(t *testing.T) {
	h := newHarness(t, nil)
	h.fake.AddUser(fakeslack.User{ID: "U0HIDDEN", Name: "hidden", Email: "hidden@example.com", NotVisible: true})
	for _, target := range []string{"U0NOBODY", "U0HIDDEN"} {
		p := h.submitRequest(uAlice, "grant", target, "viewer", "x", "")
		msg := p.Errors["target"]
		if p.ResponseAction != "errors" || !strings.Contains(msg, "can't find that person in Slack") || strings.Contains(msg, "deactivated") {
			t.Errorf("submit for %s: ack = %+v; want a target error saying Slack does not know them", target, p)
		}
	}
	p := h.submitRequest(uAlice, "grant", uGone, "viewer", "x", "")
	if !strings.Contains(p.Errors["target"], "deactivated") {
		t.Errorf("submit for a deactivated user: ack = %+v; want it called deactivated", p)
	}
	if n := h.m.mustCount(t); n != 0 {
		t.Errorf("%d requests stored; want none", n)
	}
}

func TestAuthorization(t *testing.T) {
	h := newHarness(t, nil)
	id := h.mustSubmit(uAlice, "grant", uBob, "editor", "x")
	card := h.dmWith(uCarol, id, "Approve")

	// A non-approver clicking a card (forged or forwarded) is refused.
	if got := h.forgedClickReply(uAlice, card, handlers.ActionApprove); !strings.Contains(got, "Only UXPin access approvers") {
		t.Errorf("non-approver reply = %q", got)
	}
	// An approver can't decide on their own request...
	own := h.mustSubmit(uCarol, "grant", uFrank, "viewer", "mine")
	if h.cards(uCarol, own) != 0 {
		t.Errorf("the requesting approver got a card for their own request")
	}
	if got := h.forgedClickReply(uCarol, h.dmWith(uDave, own, "Approve"), handlers.ActionApprove); !strings.Contains(got, "your own request") {
		t.Errorf("self-approval reply = %q", got)
	}
	// ...nor on one that targets them.
	self := h.mustSubmit(uAlice, "grant", uDave, "admin", "for dave")
	if got := h.forgedClickReply(uDave, h.dmWith(uCarol, self, "Approve"), handlers.ActionApprove); !strings.Contains(got, "your own access") {
		t.Errorf("self-target reply = %q", got)
	}
	// A non-admin can't close a task.
	h.click(uCarol, card, handlers.ActionApprove)
	task := h.dmWith(uErin, "UXPin task "+id)
	if got := h.forgedClickReply(uAlice, task, handlers.ActionDone); !strings.Contains(got, "Only UXPin admins") {
		t.Errorf("non-admin done reply = %q", got)
	}
	for id, want := range map[string]string{id: "approved", own: "pending", self: "pending"} {
		if got := h.state(id); got != want {
			t.Errorf("state of %s = %s; want %s", id, got, want)
		}
	}
}

func TestConcurrentDecisions(t *testing.T) {
	h := newHarness(t, nil)
	id := h.mustSubmit(uAlice, "grant", uBob, "editor", "x")
	carolCard := h.dmWith(uCarol, id, "Approve")
	daveCard := h.dmWith(uDave, id, "Deny")

	// Dave opens the deny modal first, then both decide at once.
	denyView := h.clickModal(uDave, daveCard, handlers.ActionDeny)

	var wg sync.WaitGroup
	var denyAck fakeslack.Ack
	for range 3 {
		wg.Go(func() { _, _ = h.fake.ClickStale(h.ctx(), uCarol, carolCard, handlers.ActionApprove) })
	}
	wg.Go(func() {
		denyAck, _ = h.fake.Submit(h.ctx(), uDave, denyView, map[string]map[string]any{"reason": {"reason": map[string]any{"type": "plain_text_input", "value": "no"}}})
	})
	wg.Wait()
	h.waitFor("a decision", func() bool { s := h.state(id); return s == "approved" || s == "denied" })
	h.outboxEmpty()
	r, _ := h.m.Service.Request(context.Background(), id)
	tasks := h.countDMs(uErin, "UXPin task "+id) + h.countDMs(uFrank, "UXPin task "+id)
	switch r.State {
	case "approved":
		if tasks != 1 {
			t.Errorf("approved with %d task DMs; want 1", tasks)
		}
		if p := decodeAck(t, denyAck); p.Errors["reason"] == "" {
			t.Errorf("losing deny ack = %+v; want an error saying it was already approved", p)
		}
	case "denied":
		if tasks != 0 {
			t.Errorf("denied but %d task DMs", tasks)
		}
	}
	if n := h.countDMs(uAlice, id, "was approved") + h.countDMs(uAlice, id, "was denied"); n != 1 {
		t.Errorf("requester told of %d decisions; want 1", n)
	}
}

func TestUserGroupApprover(t *testing.T) {
	h := newHarness(t, map[string]string{"UXPIN_APPROVERS": groupID})
	id := h.mustSubmit(uAlice, "grant", uBob, "viewer", "x")
	card := h.dmWith(uGina, id, "Approve")
	if h.countDMs(uCarol, id) != 0 {
		t.Errorf("carol, not an approver here, got a card")
	}
	h.click(uGina, card, handlers.ActionApprove)
	h.waitState(id, "approved")
	h.dmWith(uErin, "UXPin task "+id)
}

func TestSlashSubcommands(t *testing.T) {
	h := newHarness(t, nil)
	id := h.mustSubmit(uAlice, "grant", uBob, "editor", "x")
	tests := []struct {
		user, text string
		want       []string
	}{
		{uAlice, "status", []string{id, "pending"}},
		{uAlice, "STATUS", []string{id}},
		{uCarol, "status", []string{"no UXPin access requests"}},
		{uCarol, "pending", []string{"Waiting for your approval", id}},
		{uErin, "pending", []string{"Your open UXPin tasks"}},
		{uAlice, "pending", []string{"for UXPin access approvers and admins"}},
		{uAlice, "roster", []string{"for UXPin access approvers and admins"}},
		{uErin, "roster", []string{"Nobody holds UXPin access"}},
		{uAlice, "reconcile", []string{"for UXPin access approvers and admins"}},
		{uAlice, "help", []string{"/uxpin-access offboard", "/uxpin-access status"}},
		{uAlice, "frobnicate now", []string{"didn't understand `frobnicate now`", "/uxpin-access status"}},
		{uAlice, "offboard someone", []string{"couldn't tell who"}},
	}
	for _, tt := range tests {
		t.Run(tt.user+" "+tt.text, func(t *testing.T) {
			if got := h.slashReply(tt.user, tt.text); !containsAll(got, tt.want...) {
				t.Errorf("/uxpin-access %s by %s = %q; want it to contain %q", tt.text, tt.user, got, tt.want)
			}
		})
	}
}

func TestRestartKeepsState(t *testing.T) {
	h := newHarness(t, nil)
	id := h.mustSubmit(uAlice, "grant", uBob, "editor", "x")
	card := h.dmWith(uCarol, id, "Approve")
	h.outboxEmpty()
	h.restart()

	if got := h.slashReply(uAlice, "status"); !containsAll(got, id, "pending") {
		t.Errorf("status after restart = %q", got)
	}
	// The card posted before the restart still works.
	h.click(uCarol, card, handlers.ActionApprove)
	task := h.dmWith(uErin, "UXPin task "+id)
	h.click(uErin, task, handlers.ActionDone)
	h.waitState(id, "fulfilled")
	h.restart()
	roster, err := h.m.Service.Roster(context.Background())
	if err != nil || len(roster) != 1 || roster[0].Email != "bob@example.com" {
		t.Errorf("roster after restart = %v, %v", roster, err)
	}
	if n := h.cards(uCarol, id); n != 1 {
		t.Errorf("carol got %d cards for %s; want 1 (no repost after restart)", n, id)
	}
}

func TestUnparseableEnvelopesAreAcked(t *testing.T) {
	h := newHarness(t, nil)
	frames := map[string]string{
		"bad-payload":  `{"envelope_id":"bad-payload","type":"interactive","payload":"not an object","accepts_response_payload":false}`,
		"unknown-type": `{"envelope_id":"unknown-type","type":"mystery_envelope","payload":{}}`,
		"bad-event":    `{"envelope_id":"bad-event","type":"events_api","payload":{"type":"event_callback","event":"nope"}}`,
		"bad-command":  `{"envelope_id":"bad-command","type":"slash_commands","payload":["a list"]}`,
	}
	for id, frame := range frames {
		t.Run(id, func(t *testing.T) {
			if err := h.fake.SendRaw(h.ctx(), []byte(frame)); err != nil {
				t.Fatal(err)
			}
			if _, err := h.fake.WaitAck(h.ctx(), id); err != nil {
				t.Fatalf("envelope %s was not acked: %v", id, err)
			}
		})
	}
	// The bot is still there.
	if got := h.slashReply(uAlice, "help"); !strings.Contains(got, "/uxpin-access status") {
		t.Errorf("help after bad envelopes = %q", got)
	}
}

// TestLongListsStayValid fills the ledger and the queues beyond what one
// message can hold; the fake Slack refuses any reply over Slack's limits.
func TestLongListsStayValid(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	for i := range 500 {
		_, err := h.m.DB.CreateRequest(ctx, func(_ access.Tx, r *access.Request) (access.Effects, error) {
			r.Action, r.Requester, r.State = access.ActionGrant, uAlice, access.StatePending
			r.Target = fmt.Sprintf("U0SEED%04d", i)
			r.TargetEmail = fmt.Sprintf("person.with.a.long.name.%04d@example.com", i)
			r.Role, r.Justification = access.RoleEditor, strings.Repeat("why ", 200)
			fx := access.Effects{}
			if i%2 == 0 {
				r.State, r.DecidedBy, r.Assignee = access.StateApproved, uCarol, uErin
			}
			if i%3 == 0 {
				fx.Grant = &access.Grant{UserID: r.Target, Email: r.TargetEmail, Role: access.RoleEditor, RequestID: r.ID}
			}
			return fx, nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct{ user, text, want string }{
		{uAlice, "status", "Older requests are not shown"},
		{uCarol, "pending", "Waiting for your approval"},
		{uErin, "pending", "Your open UXPin tasks"},
		{uCarol, "roster", "167 people"},
	} {
		if got := h.slashReply(c.user, c.text); !strings.Contains(got, c.want) {
			t.Errorf("/uxpin-access %s = %.200q…; want %q", c.text, got, c.want)
		}
	}
	for _, u := range []string{uAlice, uCarol, uErin} {
		if _, err := h.fake.AppHomeOpened(h.ctx(), u); err != nil {
			t.Fatal(err)
		}
		h.waitFor("the Home tab", func() bool { _, ok := h.fake.Home(u); return ok })
		v, _ := h.fake.Home(u)
		if !strings.Contains(fakeslack.BlocksText(v.Blocks), "/uxpin-access") {
			t.Errorf("%s's Home does not point to the commands for the rest", u)
		}
	}
	if v := h.fake.Violations(); len(v) > 0 {
		t.Fatalf("Slack would refuse: %v", v)
	}
}

// TestShutdownFinishesInFlightWork stops the bot while a submission waits on
// a slow Slack: the submission completes and is acked, and the next start
// delivers its messages.
func TestShutdownFinishesInFlightWork(t *testing.T) {
	h := newHarness(t, nil)
	v := h.openModal(uAlice, "")
	h.fake.Fail("users.info", fakeslack.Fault{Count: 1, Delay: 800 * time.Millisecond})
	h.fake.Fail("chat.postMessage", fakeslack.Fault{Count: -1, Status: 500})
	calls := h.fake.Calls("users.info")
	acked := make(chan ackPayload, 1)
	go func() {
		ack, err := h.fake.Submit(h.ctx(), uAlice, v, requestValues("grant", uBob, "editor", "x", ""))
		if err != nil {
			t.Errorf("submit during shutdown: %v", err)
		}
		acked <- decodeAck(t, ack)
	}()
	h.waitFor("the submission to be in flight", func() bool { return h.fake.Calls("users.info") > calls })
	h.stop()
	if p := <-acked; p.ResponseAction != "update" {
		t.Fatalf("in-flight submission ack = %+v; want it completed", p)
	}
	h.fake.ClearFaults()
	h.start()
	h.dmWith(uAlice, "R-1", "submitted")
	h.dmWith(uCarol, "UXPin access request R-1:")
}
