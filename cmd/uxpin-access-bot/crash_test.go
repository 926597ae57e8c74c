package main

import (
	"context"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/uxpin-access-bot/uxpin-access-bot/access"
	"github.com/uxpin-access-bot/uxpin-access-bot/handlers"
	"github.com/uxpin-access-bot/uxpin-access-bot/internal/fakeslack"
	"github.com/uxpin-access-bot/uxpin-access-bot/storage"
)

// crashRig runs the real binary against one fake Slack and kills it with
// SIGKILL at chosen points of the lifecycle.
type crashRig struct {
	t    *testing.T
	fake *fakeslack.Server
	env  map[string]string
	p    *proc
	n    int // requests submitted so far
}

func newCrashRig(t *testing.T) *crashRig {
	f := newFake(t)
	return &crashRig{t: t, fake: f, env: processEnv(f, t.TempDir())}
}

func (c *crashRig) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	c.t.Cleanup(cancel)
	return ctx
}

func (c *crashRig) waitFor(what string, cond func() bool) {
	c.t.Helper()
	if err := c.fake.WaitFor(c.ctx(), cond); err != nil {
		out := ""
		if c.p != nil {
			out = c.p.stderr.String()
		}
		c.t.Fatalf("timed out waiting for %s\nbot output:\n%s", what, out)
	}
}

func (c *crashRig) start() {
	c.t.Helper()
	before := c.fake.Connections()
	c.p = startProc(c.t, c.env)
	c.waitFor("the bot to connect", func() bool { return c.fake.Connections() > before && c.fake.Connected() })
}

// kill sends SIGKILL: no shutdown code runs.
func (c *crashRig) kill() {
	c.t.Helper()
	if err := c.p.cmd.Process.Kill(); err != nil {
		c.t.Fatal(err)
	}
	c.p.wait(c.t)
	c.waitFor("the fake to see the socket close", func() bool { return !c.fake.Connected() })
}

func (c *crashRig) submit(target string) string {
	c.t.Helper()
	before := len(c.fake.Views(uAlice))
	if _, err := c.fake.SlashCommand(c.ctx(), uAlice, ""); err != nil {
		c.t.Fatal(err)
	}
	c.waitFor("the modal", func() bool { return len(c.fake.Views(uAlice)) > before })
	ack, err := c.fake.Submit(c.ctx(), uAlice, c.fake.Views(uAlice)[before], requestValues("grant", target, "editor", "crash test", ""))
	if err != nil {
		c.t.Fatal(err)
	}
	if p := decodeAck(c.t, ack); p.ResponseAction != "update" {
		c.t.Fatalf("submission refused: %s", ack.Payload)
	}
	c.n++
	return fmt.Sprintf("R-%d", c.n)
}

func (c *crashRig) dm(user string, want ...string) fakeslack.Message {
	c.t.Helper()
	var found fakeslack.Message
	c.waitFor(fmt.Sprintf("a DM to %s with %q", user, want), func() bool {
		for _, m := range c.fake.DMs(user) {
			if containsAll(msgText(m), want...) {
				found = m
				return true
			}
		}
		return false
	})
	return found
}

func (c *crashRig) click(user string, m fakeslack.Message, action string) {
	c.t.Helper()
	n := len(c.fake.Ephemerals(user))
	if _, err := c.fake.Click(c.ctx(), user, m, action); err != nil {
		c.t.Fatal(err)
	}
	c.waitFor("the click's answer", func() bool { return len(c.fake.Ephemerals(user)) > n })
}

// finish approves and completes request id.
func (c *crashRig) finish(id string) {
	c.t.Helper()
	c.click(uCarol, c.dm(uCarol, "UXPin access request "+id+":", "Approve"), handlers.ActionApprove)
	c.click(uErin, c.dm(uErin, "UXPin task "+id, "Mark done"), handlers.ActionDone)
}

// submitted waits for the receipt and every approver's card of id.
func (c *crashRig) submitted(id string, approvers ...string) {
	c.t.Helper()
	c.dm(uAlice, "Your request "+id, "submitted")
	for _, a := range approvers {
		c.dm(a, "UXPin access request "+id+":")
	}
}

func count(msgs []fakeslack.Message, want ...string) int {
	n := 0
	for _, m := range msgs {
		if containsAll(msgText(m), want...) {
			n++
		}
	}
	return n
}

func TestCrashLosesNothingAndPostsNothingTwice(t *testing.T) {
	c := newCrashRig(t)
	c.start()
	hang := fakeslack.Fault{Count: -1, Delay: time.Minute}

	// 1. Killed after a submit committed, before any DM went out.
	c.fake.Fail("chat.postMessage", hang)
	r1 := c.submit(uBob)
	c.kill()
	c.fake.ClearFaults()
	c.start()
	c.submitted(r1, uCarol, uDave, uGina)

	// 2. Killed while a post reached Slack but its answer did not reach us.
	c.fake.Fail("chat.postMessage", fakeslack.Fault{Count: -1, Delay: time.Minute, AfterEffect: true})
	r2 := c.submit(uDave)
	c.waitFor("the receipt to reach Slack", func() bool { return count(c.fake.DMs(uAlice), r2, "submitted") == 1 })
	c.kill()
	c.fake.ClearFaults()
	c.start()
	c.submitted(r2, uCarol, uGina)

	// 3. Killed between the decision and the task DM.
	card := c.dm(uCarol, "UXPin access request "+r1+":", "Approve")
	c.fake.Fail("chat.postMessage", hang)
	c.click(uCarol, card, handlers.ActionApprove)
	c.kill()
	c.fake.ClearFaults()
	c.start()
	c.dm(uErin, "UXPin task "+r1)
	c.dm(uAlice, "Your request "+r1+" was approved")

	// 4. Killed during a retry storm.
	c.fake.Fail("chat.postMessage", fakeslack.Fault{Count: -1, Status: 500})
	r3 := c.submit(uFrank)
	calls := c.fake.Calls("chat.postMessage")
	c.waitFor("retries", func() bool { return c.fake.Calls("chat.postMessage") > calls+3 })
	c.kill()
	c.fake.ClearFaults()
	c.start()
	c.submitted(r3, uCarol, uDave, uGina)

	// Everything completes, then a clean stop.
	c.click(uErin, c.dm(uErin, "UXPin task "+r1, "Mark done"), handlers.ActionDone)
	c.finish(r2)
	c.finish(r3)
	for _, id := range []string{r1, r2, r3} {
		c.waitFor("the audit line of "+id, func() bool {
			for _, m := range c.fake.Messages() {
				if m.Channel == auditCh && strings.HasPrefix(m.Text, id+" fulfilled") {
					return true
				}
			}
			return false
		})
	}
	// Outcomes go out before refreshes (SPEC §6), so the cards and tasks
	// may still be catching up under the rate limits; wait for them too.
	for _, id := range []string{r1, r2, r3} {
		c.waitFor("the cards and task of "+id+" to show the outcome", func() bool {
			for _, u := range []string{uCarol, uDave, uGina, uErin} {
				for _, m := range c.fake.DMs(u) {
					mine := strings.HasPrefix(m.Text, "UXPin access request "+id+":") || strings.HasPrefix(m.Text, "UXPin task "+id+":")
					if mine && !strings.Contains(msgText(m), "Done. Approved by") {
						return false
					}
				}
			}
			return true
		})
	}
	if err := c.p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := c.p.wait(t); code != 0 {
		t.Fatalf("exit code %d after SIGTERM\n%s", code, c.p.stderr.String())
	}

	db, err := storage.Open(c.env["UXPIN_DB_PATH"], storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	if n, err := db.OutboxDepth(ctx); err != nil || n != 0 {
		t.Errorf("outbox depth after the run = %d, %v; want 0", n, err)
	}
	for _, id := range []string{r1, r2, r3} {
		r, err := db.Request(ctx, id)
		if err != nil || r.State != access.StateFulfilled {
			t.Errorf("%s = %+v, %v; want fulfilled", id, r, err)
		}
		for _, w := range []struct {
			user string
			text []string
		}{
			{uAlice, []string{"Your request " + id, "submitted"}},
			{uAlice, []string{"Your request " + id + " was approved"}},
			{uCarol, []string{"UXPin access request " + id + ":"}},
			{uDave, []string{"UXPin access request " + id + ":"}},
			{uGina, []string{"UXPin access request " + id + ":"}},
			{uErin, []string{"UXPin task " + id}},
		} {
			msgs := c.fake.DMs(w.user)
			if w.user == uDave && id == r2 {
				continue // dave is r2's target and gets no card
			}
			if n := count(msgs, w.text...); n != 1 {
				t.Errorf("%s got %d messages with %q; want exactly 1", w.user, n, w.text)
			}
		}
	}
	if v := c.fake.Violations(); len(v) > 0 {
		t.Errorf("fake Slack saw violations: %v", v)
	}
}
