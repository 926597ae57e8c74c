package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/uxpin-access-bot/uxpin-access-bot/handlers"
)

var forgedEnvelopes atomic.Int64

// forge sends an interactive envelope with an arbitrary payload, as a
// hostile or buggy client could, and waits for its ack.
func (h *harness) forge(payload map[string]any) json.RawMessage {
	h.t.Helper()
	id := fmt.Sprintf("forged-%d", forgedEnvelopes.Add(1))
	frame, err := json.Marshal(map[string]any{"envelope_id": id, "type": "interactive", "payload": payload, "accepts_response_payload": false})
	if err != nil {
		h.t.Fatal(err)
	}
	if err := h.fake.SendRaw(h.ctx(), frame); err != nil {
		h.t.Fatal(err)
	}
	ack, err := h.fake.WaitAck(h.ctx(), id)
	if err != nil {
		h.t.Fatalf("forged envelope not acked: %v", err)
	}
	return ack.Payload
}

func forgedClick(user, channel, actionID, value, responseURL string) map[string]any {
	return map[string]any{
		"type":         "block_actions",
		"user":         map[string]any{"id": user, "username": "x", "team_id": "T0001"},
		"team":         map[string]any{"id": "T0001"},
		"channel":      map[string]any{"id": channel},
		"container":    map[string]any{"type": "message", "channel_id": channel, "message_ts": "1.000001"},
		"trigger_id":   "forged.trigger",
		"response_url": responseURL,
		"actions":      []any{map[string]any{"type": "button", "action_id": actionID, "block_id": "b", "value": value, "action_ts": "1.1"}},
	}
}

func TestHostileInput(t *testing.T) {
	h := newHarness(t, nil)
	id := h.mustSubmit(uAlice, "grant", uBob, "editor", "ok\x00\x1b[31m then \u0007bell")
	h.outboxEmpty()
	r, err := h.m.Service.Request(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if r.Justification != "ok[31m then bell" {
		t.Errorf("stored justification = %q; want control characters removed", r.Justification)
	}
	dm, _ := h.fake.DMChannel(uCarol)

	clicks := []struct {
		name, user, action, value, want string
	}{
		{"unknown request", uCarol, handlers.ActionApprove, "R-999", "was not found"},
		{"malformed request ID", uCarol, handlers.ActionApprove, "../../etc/passwd", "was not found"},
		{"huge request ID", uCarol, handlers.ActionDeny, strings.Repeat("R-1", 1000), "was not found"},
		{"task button on a pending request", uErin, handlers.ActionDone, id, "has no task yet"},
		{"can't-complete on a pending request", uErin, handlers.ActionFail, id, "has no task yet"},
		{"cancel by someone else", uCarol, handlers.ActionCancel, id, "Only the person who made"},
		{"approve by a non-approver", uBob, handlers.ActionApprove, id, "Only UXPin access approvers"},
	}
	for _, c := range clicks {
		t.Run(c.name, func(t *testing.T) {
			n := len(h.fake.Ephemerals(c.user))
			// The response_url points elsewhere: the bot must not post there.
			h.forge(forgedClick(c.user, dm, c.action, c.value, "http://127.0.0.1:1/steal"))
			got := h.ephemeral(c.user, n+1)
			if !strings.Contains(got, c.want) {
				t.Errorf("reply = %q; want %q", got, c.want)
			}
			if e := h.fake.Ephemerals(c.user)[n]; e.ViaResponseURL {
				t.Errorf("reply went through the forged response_url")
			}
		})
	}

	t.Run("unknown action and callback IDs", func(t *testing.T) {
		h.forge(forgedClick(uCarol, dm, "uxpin_grant_everyone_admin", id, ""))
		ack := h.forge(map[string]any{
			"type": "view_submission",
			"user": map[string]any{"id": uCarol},
			"view": map[string]any{"id": "V1", "callback_id": "not_ours", "private_metadata": id, "state": map[string]any{"values": map[string]any{}}},
		})
		if s := string(ack); s != "" && s != "null" {
			t.Errorf("ack for an unknown view = %s; want empty", s)
		}
	})

	t.Run("forged deny modal from a non-approver", func(t *testing.T) {
		ack := h.forge(map[string]any{
			"type": "view_submission",
			"user": map[string]any{"id": uBob},
			"view": map[string]any{"id": "V2", "callback_id": handlers.CallbackDeny, "private_metadata": id,
				"state": map[string]any{"values": map[string]any{"reason": map[string]any{"reason": map[string]any{"type": "plain_text_input", "value": "mine now"}}}}},
		})
		if !strings.Contains(string(ack), "Only UXPin access approvers") {
			t.Errorf("ack = %s; want a refusal on the reason field", ack)
		}
	})

	t.Run("forged fail modal with a bogus request", func(t *testing.T) {
		ack := h.forge(map[string]any{
			"type": "view_submission",
			"user": map[string]any{"id": uErin},
			"view": map[string]any{"id": "V3", "callback_id": handlers.CallbackFail, "private_metadata": "R-0; DROP TABLE",
				"state": map[string]any{"values": map[string]any{"reason": map[string]any{"reason": map[string]any{"type": "plain_text_input", "value": "x"}}}}},
		})
		if !strings.Contains(string(ack), "no longer exists") {
			t.Errorf("ack = %s; want it to say the request does not exist", ack)
		}
	})

	t.Run("request modal with the requester forged in the state", func(t *testing.T) {
		// Only the submitting user is the requester; nothing in the form can change that.
		ack := h.forge(map[string]any{
			"type": "view_submission",
			"user": map[string]any{"id": uBob},
			"view": map[string]any{"id": "V4", "callback_id": handlers.CallbackRequest, "private_metadata": `{"requester":"` + uCarol + `"}`,
				"state": map[string]any{"values": requestValues("grant", uDave, "viewer", "x", "")}},
		})
		if !strings.Contains(string(ack), `"update"`) {
			t.Fatalf("ack = %s", ack)
		}
		reqs, err := h.m.Service.MyRequests(context.Background(), uBob, 10)
		if err != nil || len(reqs) != 1 || reqs[0].Requester != uBob {
			t.Errorf("bob's requests = %v, %v; want one made by bob", reqs, err)
		}
	})

	if got := h.state(id); got != "pending" {
		t.Errorf("state of %s after hostile clicks = %s; want pending", id, got)
	}
	if got := h.slashReply(uAlice, "status"); !strings.Contains(got, id) {
		t.Errorf("bot is not answering after hostile input: %q", got)
	}
}

func TestDuplicateDeliveriesHandledOnce(t *testing.T) {
	h := newHarness(t, nil)
	id := h.mustSubmit(uAlice, "grant", uBob, "editor", "x")
	h.outboxEmpty()
	dm, _ := h.fake.DMChannel(uCarol)

	// The same envelope delivered twice (a reconnect while unacked).
	frame, err := json.Marshal(map[string]any{"envelope_id": "dup-envelope-1", "type": "interactive",
		"payload": forgedClick(uCarol, dm, handlers.ActionApprove, id, "")})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := h.fake.SendRaw(h.ctx(), frame); err != nil {
			t.Fatal(err)
		}
	}
	h.waitState(id, "approved")
	h.outboxEmpty()
	h.waitFor("the answer to the click", func() bool { return len(h.fake.Ephemerals(uCarol)) > 0 })
	// Envelopes are dispatched in order: once a later command is answered, a
	// second handling of the duplicate would have answered too.
	h.slashReply(uCarol, "help")
	n := 0
	for _, e := range h.fake.Ephemerals(uCarol) {
		if strings.Contains(e.Text, "already") || strings.Contains(e.Text, "You approved") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("carol got %d answers to one click delivered twice; want 1", n)
	}

	// A retried event (same event_id, retry_attempt 1) is handled once.
	publishes := h.fake.Calls("views.publish")
	ev := map[string]any{"type": "app_home_opened", "user": uCarol, "channel": dm, "tab": "home", "event_ts": "1.1"}
	if _, err := h.fake.EventWithID(h.ctx(), "EvDUP1", ev, 0); err != nil {
		t.Fatal(err)
	}
	h.waitFor("the Home tab", func() bool { return h.fake.Calls("views.publish") == publishes+1 })
	if _, err := h.fake.EventWithID(h.ctx(), "EvDUP1", ev, 1); err != nil {
		t.Fatal(err)
	}
	// A fresh event after it proves the retry was processed (and skipped) first.
	if _, err := h.fake.Event(h.ctx(), ev, 0); err != nil {
		t.Fatal(err)
	}
	h.waitFor("the second Home publish", func() bool { return h.fake.Calls("views.publish") >= publishes+2 })
	if got := h.fake.Calls("views.publish"); got != publishes+2 {
		t.Errorf("views.publish called %d times for two distinct events; want 2", got-publishes)
	}
}
