package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/uxpin-access-bot/uxpin-access-bot/access"
	"github.com/uxpin-access-bot/uxpin-access-bot/handlers"
	"github.com/uxpin-access-bot/uxpin-access-bot/internal/fakeslack"
)

// fullLifecycle runs grant → approve → done and checks that every message
// the lifecycle owes arrived exactly once.
func fullLifecycle(h *harness) {
	h.t.Helper()
	id := grantDone(h, uBob, "editor")
	h.outboxEmpty()
	assertExactlyOnce(h, id)
}

func assertExactlyOnce(h *harness, id string) {
	h.t.Helper()
	want := []struct {
		user string
		text []string
	}{
		{uAlice, []string{"Your request " + id, "submitted"}},
		{uAlice, []string{"Your request " + id + " was approved"}},
		{uAlice, []string{"Done:", "bob@example.com"}},
		{uBob, []string{"Done:", "bob@example.com"}},
		{uErin, []string{"UXPin task " + id}},
	}
	for _, w := range want {
		if n := h.countDMs(w.user, w.text...); n != 1 {
			h.t.Errorf("%s got %d messages with %q; want exactly 1", w.user, n, w.text)
		}
	}
	for _, approver := range []string{uCarol, uDave, uGina} {
		if n := h.cards(approver, id); n != 1 {
			h.t.Errorf("%s got %d cards for %s; want exactly 1", approver, n, id)
		}
		for _, m := range h.fake.DMs(approver) {
			if _, ok := fakeslack.FindAction(m.Blocks, handlers.ActionApprove); ok {
				h.t.Errorf("%s's card still has an Approve button", approver)
			}
		}
	}
	audit := 0
	for _, m := range h.fake.Messages() {
		if m.Channel == auditCh && strings.HasPrefix(m.Text, id+" ") {
			audit++
		}
	}
	if audit != 1 {
		h.t.Errorf("%d audit lines for %s; want 1", audit, id)
	}
}

func TestDeliverySurvivesSlackFaults(t *testing.T) {
	lost := fakeslack.Fault{Count: 3, Status: 502, AfterEffect: true}
	tests := []struct {
		name   string
		faults map[string]fakeslack.Fault
	}{
		{"429 with Retry-After on posts", map[string]fakeslack.Fault{"chat.postMessage": {Count: 2, Status: 429, RetryAfter: 1}}},
		{"HTTP 500 on posts", map[string]fakeslack.Fault{"chat.postMessage": {Count: 4, Status: 500}}},
		{"ok:false internal_error", map[string]fakeslack.Fault{"chat.postMessage": {Count: 3, Error: "internal_error"}}},
		{"response lost after the post", map[string]fakeslack.Fault{"chat.postMessage": lost}},
		{"slow answer after the post", map[string]fakeslack.Fault{"chat.postMessage": {Count: 1, Delay: 3 * time.Second, AfterEffect: true}}},
		{"lost response, then opening the DM fails", map[string]fakeslack.Fault{"chat.postMessage": lost, "conversations.open": {Count: 2, Status: 500}}},
		{"429 on card updates", map[string]fakeslack.Fault{"chat.update": {Count: 2, Status: 429, RetryAfter: 1}}},
		{"lost response, then history fails", map[string]fakeslack.Fault{"chat.postMessage": lost, "conversations.history": {Count: 2, Error: "fatal_error"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, nil, func(m *Main) { m.Delivery.CallTimeout = 500 * time.Millisecond })
			for method, f := range tt.faults {
				h.fake.Fail(method, f)
			}
			fullLifecycle(h)
			for method := range tt.faults {
				if n := h.fake.Calls(method); n < 2 {
					t.Errorf("%s called %d times; the fault was never hit", method, n)
				}
			}
		})
	}
}

func TestHistoryLookupAfterLostResponse(t *testing.T) {
	h := newHarness(t, nil, func(m *Main) { m.Delivery.CallTimeout = 500 * time.Millisecond })
	h.fake.Fail("chat.postMessage", fakeslack.Fault{Count: 1, Status: 500, AfterEffect: true})
	fullLifecycle(h)
	if h.fake.Calls("conversations.history") == 0 {
		t.Errorf("the worker re-posted without looking for the first post")
	}
	if dead, err := h.m.DB.DeadLetters(context.Background()); err != nil || len(dead) > 0 {
		t.Errorf("abandoned notices = %v, %v; want none", dead, err)
	}
}

func TestUndeliverableMessageIsRecorded(t *testing.T) {
	h := newHarness(t, map[string]string{"UXPIN_AUDIT_CHANNEL": "C0NOSUCH1"})
	id, task := approveFlow(h, "grant", uBob, "editor")
	h.click(uErin, task, handlers.ActionDone)
	h.waitState(id, "fulfilled")
	h.outboxEmpty()
	// Everyone else still got their messages.
	h.dmWith(uBob, "Done:")
	var found bool
	err := h.m.DB.Events(context.Background(), func(e access.Event) error {
		if e.RequestID == id && strings.Contains(e.Detail, "undeliverable") && strings.Contains(e.Detail, "channel_not_found") {
			found = true
		}
		return nil
	})
	if err != nil || !found {
		t.Errorf("no audit event for the undeliverable audit line (err %v)", err)
	}
	if !strings.Contains(h.logs.String(), "channel_not_found") {
		t.Errorf("no log line names the Slack error")
	}
}

func TestReconnects(t *testing.T) {
	h := newHarness(t, nil)
	for i, fault := range []func(){
		func() { h.fake.Disconnect("refresh_requested") },
		func() { h.fake.DropConnection() },
		func() { h.fake.Disconnect("warning") },
	} {
		before := h.fake.Connections()
		fault()
		h.waitFor("a reconnect", func() bool { return h.fake.Connections() > before && h.fake.Connected() })
		if got := h.slashReply(uAlice, "help"); !strings.Contains(got, "/uxpin-access status") {
			t.Fatalf("after fault %d the bot did not answer: %q", i, got)
		}
	}
	// Work started across reconnects is not lost.
	fullLifecycle(h)
}

// TestThreadedReminderNotPostedTwice loses the answer to a reminder's post
// (a threaded reply, which conversations.history does not list): the retry
// finds it with conversations.replies instead of posting it again.
func TestThreadedReminderNotPostedTwice(t *testing.T) {
	h := newHarness(t, map[string]string{"UXPIN_REMINDER_INTERVAL": "1h"}, func(m *Main) {
		m.Delivery.CallTimeout = 500 * time.Millisecond
	})
	id := h.mustSubmit(uAlice, "grant", uBob, "editor", "x")
	card := h.dmWith(uCarol, "UXPin access request "+id+":")
	h.outboxEmpty()
	h.fake.Fail("chat.postMessage", fakeslack.Fault{Count: 3, Status: 502, AfterEffect: true})
	// Make the reminder due now.
	if _, err := h.m.DB.UpdateRequest(context.Background(), id, func(_ access.Tx, r *access.Request) (access.Effects, error) {
		r.RemindAt = time.Now().Add(-time.Second)
		return access.Effects{}, nil
	}); err != nil {
		t.Fatal(err)
	}
	h.waitFor("the reminders to be sent", func() bool {
		n := 0
		for _, m := range h.fake.Messages() {
			if m.ThreadTS == card.TS && strings.Contains(m.Text, "Reminder: "+id) {
				n++
			}
		}
		return n >= 1
	})
	h.outboxEmpty()
	n := 0
	for _, m := range h.fake.Messages() {
		if m.ThreadTS == card.TS && strings.Contains(m.Text, "Reminder: "+id) {
			n++
		}
	}
	if n != 1 {
		t.Errorf("carol got %d reminders in the card's thread; want 1", n)
	}
	if h.fake.Calls("conversations.replies") == 0 {
		t.Errorf("the worker did not look in the thread before posting again")
	}
}
