package main

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uxpin-access-bot/uxpin-access-bot/access"
	"github.com/uxpin-access-bot/uxpin-access-bot/handlers"
	"github.com/uxpin-access-bot/uxpin-access-bot/internal/fakeslack"
)

// testClock is the bot's clock in tests that jump days ahead.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func withClock(c *testClock) func(*Main) {
	return func(m *Main) {
		m.Now = c.Now
		m.SchedulerTick = 20 * time.Millisecond
	}
}

func TestReminderEveryTwoSeconds(t *testing.T) {
	h := newHarness(t, map[string]string{"UXPIN_REMINDER_INTERVAL": "2s"}, func(m *Main) { m.SchedulerTick = 100 * time.Millisecond })
	id := h.mustSubmit(uAlice, "grant", uBob, "editor", "x")
	card := h.dmWith(uCarol, "UXPin access request "+id+":")
	var reminder fakeslack.Message
	h.waitFor("a threaded reminder under carol's card", func() bool {
		for _, m := range h.fake.Messages() {
			if m.ThreadTS == card.TS && strings.Contains(m.Text, "Reminder: "+id) {
				reminder = m
				return true
			}
		}
		return false
	})
	if reminder.Channel != card.Channel {
		t.Errorf("reminder posted in %s; want the card's channel %s", reminder.Channel, card.Channel)
	}
	if n := h.cards(uCarol, id); n != 1 {
		t.Errorf("carol has %d cards; a reminder must not post a new card", n)
	}
	if got := h.slashReply(uAlice, "status"); !strings.Contains(got, "Approvers were last reminded") {
		t.Errorf("status = %q; want when the last reminder went", got)
	}
	h.click(uCarol, card, handlers.ActionApprove)
	h.waitState(id, "approved")
}

func TestEscalation(t *testing.T) {
	start := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	t.Run("two admins", func(t *testing.T) {
		clk := &testClock{t: start}
		h := newHarness(t, nil, withClock(clk))
		id, _ := approveFlow(h, "grant", uBob, "editor")
		clk.Add(49 * time.Hour)
		task := h.dmWith(uFrank, "UXPin task "+id, "Escalated", "<@"+uErin+">")
		h.dmWith(uErin, id, "reassigned to <@"+uFrank+">")
		h.dmWith(uCarol, id, "reassigned to <@"+uFrank+">")
		h.click(uFrank, task, handlers.ActionDone)
		h.waitState(id, "fulfilled")
	})
	t.Run("one admin", func(t *testing.T) {
		clk := &testClock{t: start}
		h := newHarness(t, map[string]string{"UXPIN_ADMINS": uErin}, withClock(clk))
		id, _ := approveFlow(h, "grant", uBob, "editor")
		clk.Add(49 * time.Hour)
		h.dmWith(uCarol, id, "no other UXPin admin can take it")
		h.dmWith(uDave, id, "no other UXPin admin can take it")
		if got := h.state(id); got != "approved" {
			t.Errorf("state = %s; want still approved", got)
		}
	})
}

func TestTemporaryAccessExpires(t *testing.T) {
	clk := &testClock{t: time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)}
	h := newHarness(t, nil, withClock(clk))
	v := h.openModal(uAlice, "")
	ack, err := h.fake.Submit(h.ctx(), uAlice, v, requestValues("grant", uBob, "viewer", "workshop", "2026-12-10"))
	if err != nil || decodeAck(t, ack).ResponseAction != "update" {
		t.Fatalf("submit: %v %s", err, ack.Payload)
	}
	h.click(uCarol, h.dmWith(uCarol, "UXPin access request R-1:", "Approve"), handlers.ActionApprove)
	h.click(uErin, h.dmWith(uErin, "UXPin task R-1"), handlers.ActionDone)
	h.waitState("R-1", "fulfilled")

	// Access ends at the end of 2026-12-10 (alice has no time zone in
	// Slack, so UTC): the warning comes a day before.
	clk.Set(time.Date(2026, 12, 10, 0, 0, 1, 0, time.UTC))
	h.dmWith(uAlice, "ends at the end of 2026-12-10 (end of day, UTC)")
	h.dmWith(uBob, "ends at the end of 2026-12-10 (end of day, UTC)")

	h.restart() // timers survive a restart
	clk.Set(time.Date(2026, 12, 11, 0, 0, 1, 0, time.UTC))
	task := h.dmWith(uErin, "UXPin task R-2", "Remove from Team", "`bob@example.com`")
	if !strings.Contains(msgText(task), "<@"+uCarol+"> (the original decision on R-1)") {
		t.Errorf("expiry task does not say it was approved by the original decision: %s", msgText(task))
	}
	h.dmWith(uBob, "temporary UXPin access", "R-2")
	var noted bool
	_ = h.m.DB.Events(context.Background(), func(e access.Event) error {
		if e.RequestID == "R-2" && strings.Contains(e.Detail, "end date of R-1") {
			noted = true
		}
		return nil
	})
	if !noted {
		t.Errorf("no audit note for the automatic removal")
	}
	h.click(uErin, task, handlers.ActionDone)
	h.waitState("R-2", "fulfilled")
	if g, _ := h.m.DB.GrantFor(context.Background(), uBob); g != nil {
		t.Errorf("bob still in the ledger: %+v", g)
	}
}

func TestLeaverIsOffboardedOnce(t *testing.T) {
	h := newHarness(t, nil)
	grantDone(h, uBob, "editor")

	// A forged deactivation of an active user changes nothing.
	bob, _ := h.fake.User(uBob)
	forged := bob
	forged.Deleted = true
	if _, err := h.fake.Event(h.ctx(), map[string]any{"type": "user_change", "user": map[string]any{"id": uBob, "deleted": true}}, 0); err != nil {
		t.Fatal(err)
	}

	// Bob leaves: Slack sends user_change, retries it, and sends another.
	h.fake.SetUser(forged)
	ev := map[string]any{"type": "user_change", "user": map[string]any{"id": uBob, "name": "bob", "deleted": true}}
	if _, err := h.fake.EventWithID(h.ctx(), "EvLEAVE1", ev, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := h.fake.EventWithID(h.ctx(), "EvLEAVE1", ev, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := h.fake.UserChange(h.ctx(), forged); err != nil {
		t.Fatal(err)
	}
	removal := h.dmWith(uErin, "UXPin task R-2", "Remove from Team", "`bob@example.com`")
	h.dmWith(uCarol, "left", "R-2", "leaver policy")
	h.outboxEmpty()
	h.m.Handlers.SweepLeavers(context.Background()) // the second signal finds it already open
	h.outboxEmpty()
	if n := h.m.mustCount(t); n != 2 {
		t.Fatalf("%d requests; want the grant and exactly one removal", n)
	}
	h.click(uErin, removal, handlers.ActionDone)
	h.waitState("R-2", "fulfilled")
	if n := h.countDMs(uCarol, "left", "leaver policy"); n != 1 {
		t.Errorf("carol told %d times; want once", n)
	}
}

func TestLeaverSweepFindsMissedDeactivation(t *testing.T) {
	h := newHarness(t, nil)
	grantDone(h, uDave, "viewer")
	dave, _ := h.fake.User(uDave)
	dave.Deleted = true
	h.fake.SetUser(dave) // no event: it was missed
	h.m.Handlers.SweepLeavers(context.Background())
	h.dmWith(uErin, "UXPin task R-2", "Remove from Team", "`dave@example.com`")
}

func TestTargetConfirmsOrReopens(t *testing.T) {
	h := newHarness(t, nil)
	_, task := approveFlow(h, "grant", uBob, "editor")
	h.click(uErin, task, handlers.ActionDone)
	ask := h.dmWith(uBob, "Does it work", "It works")
	if got := h.forgedClickReply(uAlice, ask, handlers.ActionConfirm); !strings.Contains(got, "Only <@"+uBob+">") {
		t.Errorf("confirm by someone else = %q", got)
	}
	h.click(uBob, ask, handlers.ActionConfirm)
	h.dmWith(uErin, "<@"+uBob+"> confirmed")
	if g, _ := h.m.DB.GrantFor(context.Background(), uBob); g == nil || !g.Confirmed {
		t.Errorf("ledger = %+v; want a confirmed grant", g)
	}
	h.waitFor("the question to close", func() bool {
		_, open := fakeslack.FindAction(h.current(ask).Blocks, handlers.ActionConfirm)
		return !open && strings.Contains(msgText(h.current(ask)), "You confirmed")
	})

	// Dave can't get in: the task reopens for the admin with his message.
	_, task = approveFlow(h, "grant", uDave, "viewer")
	h.click(h.m.mustAssignee(t, "R-2"), task, handlers.ActionDone)
	ask = h.dmWith(uDave, "Does it work", "I can't get in")
	v := h.clickModal(uDave, ask, handlers.ActionCantGetIn)
	ack, err := h.fake.Submit(h.ctx(), uDave, v, map[string]map[string]any{"reason": {"reason": map[string]any{"type": "plain_text_input", "value": "No invitation email arrived"}}})
	if err != nil || len(decodeAck(t, ack).Errors) > 0 {
		t.Fatalf("reopen: %v %s", err, ack.Payload)
	}
	h.waitState("R-2", "approved")
	admin := h.m.mustAssignee(t, "R-2")
	reopened := h.dmWith(admin, "UXPin task R-2", "Reopened", "No invitation email arrived")
	h.dmWith(uAlice, "can't get into UXPin", "No invitation email arrived")
	h.click(admin, reopened, handlers.ActionDone)
	h.waitState("R-2", "fulfilled")
	if g, _ := h.m.DB.GrantFor(context.Background(), uDave); g == nil || g.Confirmed {
		t.Errorf("ledger = %+v; want dave's grant, not yet confirmed", g)
	}
}

func (m *Main) mustAssignee(t *testing.T, id string) string {
	t.Helper()
	r, err := m.Service.Request(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return r.Assignee
}

func TestAppHome(t *testing.T) {
	h := newHarness(t, nil)
	open := func(user string) string {
		t.Helper()
		prev, seen := h.fake.Home(user)
		if _, err := h.fake.AppHomeOpened(h.ctx(), user); err != nil {
			t.Fatal(err)
		}
		h.waitFor("Home for "+user, func() bool {
			cur, ok := h.fake.Home(user)
			return ok && (!seen || cur.Updates > prev.Updates)
		})
		v, _ := h.fake.Home(user)
		return fakeslack.BlocksText(v.Blocks)
	}
	if got := open(uAlice); !strings.Contains(got, "You have no requests yet") || strings.Contains(got, "Waiting for your approval") {
		t.Errorf("requester's empty Home = %q", got)
	}
	id := h.mustSubmit(uAlice, "grant", uBob, "editor", "x")
	// Alice's open Home refreshes by itself.
	h.waitFor("alice's Home to show "+id, func() bool {
		v, _ := h.fake.Home(uAlice)
		return strings.Contains(fakeslack.BlocksText(v.Blocks), id)
	})
	if got := open(uCarol); !containsAll(got, "Waiting for your approval", id, "Seats in use") {
		t.Errorf("approver's Home = %q", got)
	}
	if got := open(uErin); !containsAll(got, "Your open UXPin tasks", "No open tasks", "Seats in use") {
		t.Errorf("admin's Home = %q", got)
	}
	// Approve from the Home tab works like the card.
	if _, err := h.fake.ClickHome(h.ctx(), uCarol, handlers.ActionApprove, id); err != nil {
		t.Fatal(err)
	}
	h.waitState(id, "approved")
	h.dmWith(uErin, "UXPin task "+id)
	h.waitFor("erin's Home to list the task", func() bool {
		v, _ := h.fake.Home(uErin)
		return strings.Contains(fakeslack.BlocksText(v.Blocks), id)
	})
	if _, err := h.fake.ClickHome(h.ctx(), uErin, handlers.ActionDone, id); err != nil {
		t.Fatal(err)
	}
	h.waitState(id, "fulfilled")
	h.waitFor("carol's Home to count the seat", func() bool {
		v, _ := h.fake.Home(uCarol)
		return strings.Contains(fakeslack.BlocksText(v.Blocks), "1 in all")
	})
}
