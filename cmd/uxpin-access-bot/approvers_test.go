package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/uxpin-access-bot/uxpin-access-bot/handlers"
	"github.com/uxpin-access-bot/uxpin-access-bot/internal/fakeslack"
)

// TestApproverGroupFailsClosed: when Slack cannot say who is in an approver
// group for over an hour, a group approver's Approve is refused politely and
// changes nothing; once Slack answers again it works (SPEC §9.5).
func TestApproverGroupFailsClosed(t *testing.T) {
	clk := &testClock{t: time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)}
	h := newHarness(t, nil, withClock(clk))
	id := h.mustSubmit(uAlice, "grant", uBob, "editor", "needs to edit")
	card := h.dmWith(uGina, "UXPin access request "+id+":", "Approve")

	h.fake.Fail("usergroups.users.list", fakeslack.Fault{Count: -1, Status: http.StatusInternalServerError})
	clk.Add(61 * time.Minute)
	got := h.clickReply(uGina, card, handlers.ActionApprove)
	if !strings.Contains(got, "can't check the approver groups") || strings.Contains(got, "Something went wrong") {
		t.Errorf("approve while the group is unknown = %q; want a polite refusal saying why", got)
	}
	if s := h.state(id); s != "pending" {
		t.Fatalf("state after a refused approve = %s; want pending", s)
	}

	h.fake.ClearFaults()
	if got := h.clickReply(uGina, card, handlers.ActionApprove); !strings.Contains(got, "You approved "+id) {
		t.Errorf("approve after Slack answers again = %q", got)
	}
	h.waitState(id, "approved")
}
