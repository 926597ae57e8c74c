package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/uxpin-access-bot/uxpin-access-bot/access"
	"github.com/uxpin-access-bot/uxpin-access-bot/handlers"
	"github.com/uxpin-access-bot/uxpin-access-bot/internal/fakeslack"
)

// These tests walk the findings of issue 10 (SPEC §9) end to end through the
// fake Slack: each path that once let someone raise access alone, or acted
// on a stale button, now refuses politely and changes nothing.

// reasonValues are a reason modal's state as Slack sends it.
func reasonValues(text string) map[string]map[string]any {
	return map[string]map[string]any{"reason": {"reason": map[string]any{"type": "plain_text_input", "value": text}}}
}

// runAudit pastes text into the seat audit as user and returns the report.
func runAudit(h *harness, user, text string) fakeslack.Message {
	h.t.Helper()
	before := h.countDMs(user, "UXPin seat audit")
	v := h.openModal(user, "reconcile")
	ack, err := h.fake.Submit(h.ctx(), user, v, pasteValues(text, "done"))
	if err != nil || decodeAck(h.t, ack).ResponseAction != "update" {
		h.t.Fatalf("seat audit: %v %s", err, ack.Payload)
	}
	var report fakeslack.Message
	h.waitFor("the seat audit report", func() bool {
		var n int
		for _, m := range h.fake.DMs(user) {
			if strings.Contains(msgText(m), "UXPin seat audit") {
				n++
				report = m
			}
		}
		return n > before
	})
	return report
}

// pickFinding chooses act on the report's row about email.
func pickFinding(h *harness, user string, report fakeslack.Message, email, act string) {
	h.t.Helper()
	value := reportOption(h.t, report, email, act)
	if _, err := h.fake.Select(h.ctx(), user, report, handlers.ActionAuditFinding+"_"+value[strings.LastIndexByte(value, '|')+1:], value); err != nil {
		h.t.Fatal(err)
	}
}

// Finding 1: an approver records their own unknown seat as Admin. It
// becomes a grant request that another approver decides and an admin
// closes; an email outside the allowed domains is refused; a drift fix that
// raises a role needs approval.
func TestSelfGrantThroughSeatAuditNeedsAnotherApprover(t *testing.T) {
	h := newHarness(t, nil)
	report := runAudit(h, uCarol, "Name,Email,Role\nCarol Chen,carol@example.com,Admin\nOut Sider,out@elsewhere.test,Editor\n")

	before := len(h.fake.Views(uCarol))
	pickFinding(h, uCarol, report, "carol@example.com", access.ActAdopt)
	h.waitFor("the adopt modal", func() bool { return len(h.fake.Views(uCarol)) > before })
	ack, err := h.fake.Submit(h.ctx(), uCarol, h.fake.Views(uCarol)[before], map[string]map[string]any{"justification": {"justification": map[string]any{"type": "plain_text_input", "value": "I was always admin"}}})
	if err != nil || len(decodeAck(t, ack).Errors) > 0 {
		t.Fatalf("adopt: %v %s", err, ack.Payload)
	}
	if g, _ := h.m.DB.GrantFor(context.Background(), uCarol); g != nil {
		t.Fatalf("carol recorded herself as %s with nobody else deciding", g.Role)
	}
	card := h.dmWith(uDave, "UXPin access request", "carol@example.com", "Approve")
	id := adoptRequestID(t, card)
	if n := h.cards(uCarol, id); n != 0 {
		t.Errorf("carol got %d cards for her own seat", n)
	}
	// Her own click, forged from dave's card, is refused and changes nothing.
	if got := h.forgedClickReply(uCarol, card, handlers.ActionApprove); !strings.Contains(got, "another approver will") {
		t.Errorf("carol approving her own seat = %q; want a refusal", got)
	}
	if got := h.state(id); got != "pending" {
		t.Fatalf("state after carol's own approve = %s; want pending", got)
	}
	h.click(uDave, card, handlers.ActionApprove)
	task := h.dmWith(uErin, "UXPin task "+id, "Nothing needs to change")
	h.click(uErin, task, handlers.ActionDone)
	h.waitState(id, "fulfilled")
	if g, _ := h.m.DB.GrantFor(context.Background(), uCarol); g == nil || g.Role != access.RoleAdmin || g.RequestID != id {
		t.Errorf("ledger = %+v; want carol Admin by %s", g, id)
	}

	// The seat of an address outside the allowed domains can't be recorded.
	n := len(h.fake.Ephemerals(uCarol))
	before = len(h.fake.Views(uCarol))
	pickFinding(h, uCarol, report, "out@elsewhere.test", access.ActAdopt)
	h.waitFor("the adopt modal", func() bool { return len(h.fake.Views(uCarol)) > before })
	ack, err = h.fake.Submit(h.ctx(), uCarol, h.fake.Views(uCarol)[before], map[string]map[string]any{"justification": {"justification": map[string]any{"type": "plain_text_input", "value": "contractor"}}})
	if err != nil {
		t.Fatal(err)
	}
	if errs := decodeAck(t, ack).Errors; !strings.Contains(fmt.Sprint(errs), "outside the allowed email domains") {
		t.Errorf("adopting out@elsewhere.test: errors %v; want the domain refusal", errs)
	}
	if g, _ := h.m.DB.GrantFor(context.Background(), uOutside); g != nil {
		t.Errorf("out@elsewhere.test in the ledger: %+v", g)
	}
	_ = n

	// Drift that raises a role in UXPin back to the ledger's needs approval.
	grantDone(h, uBob, "admin")
	drift := runAudit(h, uCarol, "Name,Email,Role\nCarol Chen,carol@example.com,Admin\nBob Builder,bob@example.com,Viewer\n")
	pickFinding(h, uCarol, drift, "bob@example.com", access.ActFixDrift)
	fix := h.dmWith(uDave, "UXPin access request", "bob@example.com", "UXPin shows Viewer")
	fixID := adoptRequestID(t, fix)
	if got := h.state(fixID); got != "pending" {
		t.Errorf("raising drift fix %s is %s; want pending (it needs an approver)", fixID, got)
	}
}

// Finding 2: a button on an old message acts only on current state. After
// a grant is removed, "I can't get in" on it is refused, changes nothing,
// and the message says why; a reopened grant that fails keeps its end date.
func TestStaleButtonCannotRegrant(t *testing.T) {
	clk := &testClock{t: time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)}
	h := newHarness(t, nil, withClock(clk))
	grant := grantDone(h, uBob, "editor")
	ask := h.dmWith(uBob, "Does it work", "I can't get in")

	removal, task := approveFlow(h, "remove", uBob, "")
	h.click(uErin, task, handlers.ActionDone)
	h.waitState(removal, "fulfilled")

	if got := h.forgedClickReply(uBob, ask, handlers.ActionCantGetIn); !strings.Contains(got, "was removed since") {
		t.Errorf("I can't get in after removal = %q; want it to say the access was removed", got)
	}
	if got := h.state(grant); got != "fulfilled" {
		t.Errorf("grant %s is %s after a stale click; want fulfilled", grant, got)
	}
	if g, _ := h.m.DB.GrantFor(context.Background(), uBob); g != nil {
		t.Errorf("ledger shows bob again: %+v", g)
	}
	h.waitFor("the old question to be brought up to date", func() bool {
		cur := h.current(ask)
		_, open := fakeslack.FindAction(cur.Blocks, handlers.ActionCantGetIn)
		return !open && strings.Contains(msgText(cur), "removed since")
	})

	// Reopen then Can't complete keeps the end date: the access still ends.
	ack := h.submitRequest(uAlice, "grant", uDave, "viewer", "workshop", "2026-12-10")
	if ack.ResponseAction != "update" {
		t.Fatalf("submit: %+v", ack)
	}
	id := fmt.Sprintf("R-%d", h.m.mustCount(t))
	h.click(uCarol, h.dmWith(uCarol, "UXPin access request "+id+":", "Approve"), handlers.ActionApprove)
	h.waitState(id, "approved")
	admin := h.m.mustAssignee(t, id)
	h.click(admin, h.dmWith(admin, "UXPin task "+id), handlers.ActionDone)
	h.waitState(id, "fulfilled")
	v := h.clickModal(uDave, h.dmWith(uDave, "Does it work", id), handlers.ActionCantGetIn)
	if a, err := h.fake.Submit(h.ctx(), uDave, v, reasonValues("no email")); err != nil || len(decodeAck(t, a).Errors) > 0 {
		t.Fatalf("reopen: %v %s", err, a.Payload)
	}
	h.waitState(id, "approved")
	admin = h.m.mustAssignee(t, id)
	v = h.clickModal(admin, h.dmWith(admin, "UXPin task "+id, "Reopened"), handlers.ActionFail)
	if a, err := h.fake.Submit(h.ctx(), admin, v, reasonValues("UXPin is down for maintenance")); err != nil || len(decodeAck(t, a).Errors) > 0 {
		t.Fatalf("can't complete: %v %s", err, a.Payload)
	}
	h.waitState(id, "failed")
	clk.Set(time.Date(2026, 12, 11, 0, 0, 1, 0, time.UTC))
	h.dmWith(h.m.Config.Admins[0], "Remove from Team", "`dave@example.com`")
}

// Finding 3: only the assignee closes a task. Another admin is refused and
// may take it over first; the admin a task is about can't close it; the
// approver is not assigned the task when another admin can take it.
func TestOnlyTheAssigneeClosesTasks(t *testing.T) {
	h := newHarness(t, nil)
	id, task := approveFlow(h, "grant", uBob, "editor")
	if got := h.forgedClickReply(uFrank, task, handlers.ActionDone); !containsAll(got, "assigned to <@"+uErin+">", "Take over") {
		t.Errorf("mark done by frank = %q; want a refusal that points to Take over", got)
	}
	if got := h.state(id); got != "approved" {
		t.Fatalf("state after frank's click = %s", got)
	}
	n := len(h.fake.Ephemerals(uFrank))
	h.slash(uFrank, "pending")
	h.waitFor("frank's pending list", func() bool { return len(h.fake.Ephemerals(uFrank)) > n })
	list := h.fake.Ephemerals(uFrank)[n]
	if _, ok := fakeslack.FindAction(list.Blocks, handlers.ActionTakeOver); !ok {
		t.Fatalf("frank's pending list has no Take over: %s", fakeslack.BlocksText(list.Blocks))
	}
	// Ephemeral lists are clicked where they were shown: the payload is
	// the same as a forged one with the button's value.
	n = len(h.fake.Ephemerals(uFrank))
	h.forge(forgedClick(uFrank, list.Channel, handlers.ActionTakeOver, id, ""))
	if got := h.ephemeral(uFrank, n+1); !strings.Contains(got, "yours now") {
		t.Fatalf("take over = %q", got)
	}
	mine := h.dmWith(uFrank, "UXPin task "+id, "Taken over by <@"+uFrank+">")
	h.dmWith(uErin, "took over task "+id)
	if got := h.forgedClickReply(uErin, task, handlers.ActionDone); !strings.Contains(got, "assigned to <@"+uFrank+">") {
		t.Errorf("erin closing after the take-over = %q; want a refusal", got)
	}
	h.click(uFrank, mine, handlers.ActionDone)
	h.waitState(id, "fulfilled")
	var recorded bool
	_ = h.m.DB.Events(context.Background(), func(e access.Event) error {
		if e.RequestID == id && strings.Contains(e.Detail, "taken over by "+uFrank) {
			recorded = true
		}
		return nil
	})
	if !recorded {
		t.Errorf("the take-over is not in the audit log")
	}

	// The admin a task is about can't close it, even with a forged click.
	id2 := h.mustSubmit(uAlice, "grant", uErin, "viewer", "reviews")
	h.click(uCarol, h.dmWith(uCarol, "UXPin access request "+id2+":", "Approve"), handlers.ActionApprove)
	h.waitState(id2, "approved")
	if a := h.m.mustAssignee(t, id2); a != uFrank {
		t.Fatalf("erin's own grant assigned to %s; want frank", a)
	}
	dm, _ := h.fake.DMChannel(uErin)
	n = len(h.fake.Ephemerals(uErin))
	h.forge(forgedClick(uErin, dm, handlers.ActionDone, id2, ""))
	if got := h.ephemeral(uErin, n+1); !strings.Contains(got, "your own UXPin access") {
		t.Errorf("erin closing her own grant = %q", got)
	}
	if got := h.state(id2); got != "approved" {
		t.Errorf("state = %s; want approved", got)
	}
}

// Finding 3, last part: an admin who approved is not given the task when
// another admin can take it.
func TestApproverIsNotAssignedTheirOwnApproval(t *testing.T) {
	h := newHarness(t, map[string]string{"UXPIN_ADMINS": uCarol + "," + uErin})
	id := h.mustSubmit(uAlice, "grant", uBob, "editor", "design")
	h.click(uCarol, h.dmWith(uCarol, id, "Approve"), handlers.ActionApprove)
	h.waitState(id, "approved")
	if a := h.m.mustAssignee(t, id); a != uErin {
		t.Errorf("assignee = %s; want %s, not the approver", a, uErin)
	}
}

// Finding 4: end dates are bounded by UXPIN_MAX_ACCESS_DAYS.
func TestEndDateIsBounded(t *testing.T) {
	clk := &testClock{t: time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)}
	h := newHarness(t, map[string]string{"UXPIN_MAX_ACCESS_DAYS": "30"}, withClock(clk))
	for _, tt := range []struct {
		date string
		ok   bool
	}{
		{"2300-01-01", false},
		{"2027-01-01", false}, // 32 days ahead
		{"2026-12-30", true},  // 30 days ahead
	} {
		ack := h.submitRequest(uAlice, "grant", uBob, "viewer", "workshop", tt.date)
		msg := ack.Errors["end_date"]
		switch {
		case tt.ok && (ack.ResponseAction != "update" || len(ack.Errors) > 0):
			t.Errorf("end date %s refused: %+v", tt.date, ack)
		case !tt.ok && !strings.Contains(msg, "at most 30 days"):
			t.Errorf("end date %s: errors %v; want the 30-day limit", tt.date, ack.Errors)
		}
	}
	if n := h.m.mustCount(t); n != 1 {
		t.Errorf("%d requests stored; want only the one within the limit", n)
	}
}

// Finding 5: when more leavers than UXPIN_LEAVER_AUTO_MAX are found at
// once, the approvers are asked once and nothing is removed.
func TestLeaverBreakerAsksApproversOnce(t *testing.T) {
	h := newHarness(t, nil)
	var leavers []fakeslack.User
	for i := range 6 {
		u := fakeslack.User{ID: fmt.Sprintf("U0LEAVE%d", i), Name: fmt.Sprintf("leaver%d", i), RealName: fmt.Sprintf("Leaver %d", i), Email: fmt.Sprintf("leaver%d@example.com", i)}
		h.fake.AddUser(u)
		grantDone(h, u.ID, "viewer")
		leavers = append(leavers, u)
	}
	requests := h.m.mustCount(t)
	for _, u := range leavers {
		u.Deleted = true
		h.fake.SetUser(u)
		if _, err := h.fake.UserChange(h.ctx(), u); err != nil {
			t.Fatal(err)
		}
	}
	h.dmWith(uCarol, "6 people with UXPin seats", "nothing was removed")
	h.dmWith(uDave, "6 people with UXPin seats", "nothing was removed")
	h.outboxEmpty()
	if n := h.m.mustCount(t); n != requests {
		t.Errorf("%d requests after the deactivations; want %d: nothing removed", n, requests)
	}
	if n := h.countDMs(uCarol, "nothing was removed"); n != 1 {
		t.Errorf("carol asked %d times; want once", n)
	}
	for _, u := range leavers {
		if g, _ := h.m.DB.GrantFor(context.Background(), u.ID); g == nil {
			t.Errorf("%s's seat left the ledger", u.ID)
		}
	}

	// A lookup error is no evidence: the sweep removes nobody on it.
	h.fake.Fail("users.info", fakeslack.Fault{Count: -1, Status: 500})
	h.m.Handlers.SweepLeavers(context.Background())
	h.fake.ClearFaults()
	if n := h.m.mustCount(t); n != requests {
		t.Errorf("%d requests after a failing sweep; want %d", n, requests)
	}
}

// Under the limit, leavers are removed as before.
func TestLeaversUnderTheLimitAreRemoved(t *testing.T) {
	h := newHarness(t, map[string]string{"UXPIN_LEAVER_AUTO_MAX": "2"})
	grantDone(h, uBob, "viewer")
	grantDone(h, uDave, "viewer")
	for _, id := range []string{uBob, uDave} {
		u, _ := h.fake.User(id)
		u.Deleted = true
		h.fake.SetUser(u)
	}
	h.m.Handlers.SweepLeavers(context.Background())
	h.dmWith(uCarol, "left", "bob@example.com", "leaver policy")
	h.dmWith(uCarol, "left", "dave@example.com", "leaver policy")
	if n := h.m.mustCount(t); n != 4 {
		t.Errorf("%d requests; want the two grants and two removals", n)
	}
}

// Finding 9: an end date ends at the end of that day in the requester's
// Slack time zone, and the messages say which zone.
func TestEndDateInRequesterTimeZone(t *testing.T) {
	clk := &testClock{t: time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)}
	h := newHarness(t, nil, withClock(clk))
	alice, _ := h.fake.User(uAlice)
	alice.TZ = "America/Los_Angeles"
	h.fake.SetUser(alice)

	if ack := h.submitRequest(uAlice, "grant", uBob, "viewer", "workshop", "2026-12-10"); ack.ResponseAction != "update" {
		t.Fatalf("submit: %+v", ack)
	}
	card := h.dmWith(uCarol, "UXPin access request R-1:", "Approve")
	if want := "2026-12-10 (end of day, America/Los_Angeles)"; !strings.Contains(msgText(card), want) {
		t.Errorf("card does not show %q:\n%s", want, msgText(card))
	}
	h.click(uCarol, card, handlers.ActionApprove)
	h.click(uErin, h.dmWith(uErin, "UXPin task R-1"), handlers.ActionDone)
	h.waitState("R-1", "fulfilled")

	// 23:59 on the 10th in Los Angeles is 07:59 on the 11th in UTC: the
	// access has not ended yet.
	clk.Set(time.Date(2026, 12, 11, 7, 59, 0, 0, time.UTC))
	if _, err := h.m.Service.FireDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := h.m.mustCount(t); n != 1 {
		t.Fatalf("%d requests before the end of the day in Los Angeles; want no removal yet", n)
	}
	clk.Set(time.Date(2026, 12, 11, 8, 0, 1, 0, time.UTC))
	h.dmWith(uErin, "UXPin task R-2", "Remove from Team", "`bob@example.com`")
	h.dmWith(uAlice, "2026-12-10 (end of day, America/Los_Angeles)")
}

// Finding 5, lookup half: user_not_visible is no evidence of leaving.
func TestNotVisibleIsNotALeaver(t *testing.T) {
	h := newHarness(t, nil)
	grantDone(h, uBob, "viewer")
	bob, _ := h.fake.User(uBob)
	bob.NotVisible = true
	h.fake.SetUser(bob)
	h.m.Handlers.SweepLeavers(context.Background())
	h.outboxEmpty()
	if n := h.m.mustCount(t); n != 1 {
		t.Errorf("%d requests after sweeping a user Slack does not show; want no removal", n)
	}
}
