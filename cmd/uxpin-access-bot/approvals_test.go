package main

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/uxpin-access-bot/uxpin-access-bot/access"
	"github.com/uxpin-access-bot/uxpin-access-bot/handlers"
	"github.com/uxpin-access-bot/uxpin-access-bot/internal/fakeslack"
)

// uSecur approves Admin requests only (UXPIN_APPROVERS_ADMIN).
const uSecur = "U0SECUR1"

func addSecurity(h *harness) {
	h.fake.AddUser(fakeslack.User{ID: uSecur, Name: "sam", RealName: "Sam Secure", Email: "sam@example.com"})
}

// SPEC §10: an Admin grant with Admin:2 needs two different approvers of the
// Admin role; the first approval makes no task; nobody approves twice;
// approvers outside the role get no card and are refused; a deny after one
// approval denies.
func TestTwoApprovalsForAdmin(t *testing.T) {
	h := newHarness(t, map[string]string{
		"UXPIN_APPROVALS_REQUIRED": "Admin:2",
		"UXPIN_APPROVERS_ADMIN":    uCarol + "," + uSecur,
	})
	addSecurity(h)
	id := h.mustSubmit(uAlice, "grant", uBob, "admin", "runs the design system")
	carolCard := h.dmWith(uCarol, "UXPin access request "+id+":", "Approve")
	samCard := h.dmWith(uSecur, "UXPin access request "+id+":", "Approve")
	h.outboxEmpty()
	if n := h.cards(uDave, id); n != 0 {
		t.Errorf("dave, who does not approve Admin, got %d cards", n)
	}
	if got := h.forgedClickReply(uDave, carolCard, handlers.ActionApprove); !strings.Contains(got, "don't approve Admin requests") {
		t.Errorf("dave approving an Admin request = %q; want a refusal", got)
	}

	if got := h.clickReply(uCarol, carolCard, handlers.ActionApprove); !strings.Contains(got, "You approved") {
		t.Fatalf("carol's approval = %q", got)
	}
	h.waitFor("carol's approval on the cards", func() bool {
		return strings.Contains(msgText(h.current(samCard)), "1 of 2 approvals: <@"+uCarol+">")
	})
	if got := h.state(id); got != "pending" {
		t.Fatalf("after one approval of two: %s; want pending", got)
	}
	h.outboxEmpty()
	if n := h.countDMs(uErin, "UXPin task "+id) + h.countDMs(uFrank, "UXPin task "+id); n != 0 {
		t.Fatalf("%d tasks after the first approval; want none", n)
	}
	if got := h.forgedClickReply(uCarol, carolCard, handlers.ActionApprove); !strings.Contains(got, "already approved") {
		t.Errorf("carol approving twice = %q; want a refusal", got)
	}
	h.click(uSecur, samCard, handlers.ActionApprove)
	h.waitState(id, "approved")
	task := h.dmWith(uErin, "UXPin task "+id)
	if !strings.Contains(msgText(task), "<@"+uSecur+">") {
		t.Errorf("task does not say who approved: %s", msgText(task))
	}

	// A deny after one approval denies.
	id2 := h.mustSubmit(uAlice, "grant", uDave, "admin", "backup admin")
	h.click(uCarol, h.dmWith(uCarol, "UXPin access request "+id2+":", "Approve"), handlers.ActionApprove)
	h.waitFor("the first approval", func() bool {
		r, _ := h.m.Service.Request(context.Background(), id2)
		return r != nil && len(r.Approvals) == 1
	})
	v := h.clickModal(uSecur, h.dmWith(uSecur, "UXPin access request "+id2+":", "Deny"), handlers.ActionDeny)
	if a, err := h.fake.Submit(h.ctx(), uSecur, v, reasonValues("one admin is enough")); err != nil || len(decodeAck(t, a).Errors) > 0 {
		t.Fatalf("deny: %v %s", err, a.Payload)
	}
	h.waitState(id2, "denied")
	h.dmWith(uAlice, id2, "was denied")
}

// The last approval needed, clicked by two approvers at once, makes one task.
func TestConcurrentLastApproval(t *testing.T) {
	h := newHarness(t, map[string]string{"UXPIN_APPROVALS_REQUIRED": "Editor:2"})
	id := h.mustSubmit(uAlice, "grant", uBob, "editor", "x")
	h.click(uCarol, h.dmWith(uCarol, "UXPin access request "+id+":", "Approve"), handlers.ActionApprove)
	h.waitFor("the first approval", func() bool {
		r, _ := h.m.Service.Request(context.Background(), id)
		return r != nil && len(r.Approvals) == 1
	})
	dave := h.dmWith(uDave, "UXPin access request "+id+":", "Approve")
	gina := h.dmWith(uGina, "UXPin access request "+id+":", "Approve")
	var wg sync.WaitGroup
	wg.Go(func() { _, _ = h.fake.ClickStale(h.ctx(), uDave, dave, handlers.ActionApprove) })
	wg.Go(func() { _, _ = h.fake.ClickStale(h.ctx(), uGina, gina, handlers.ActionApprove) })
	wg.Wait()
	h.waitState(id, "approved")
	h.outboxEmpty()
	if n := h.countDMs(uErin, "UXPin task "+id) + h.countDMs(uFrank, "UXPin task "+id); n != 1 {
		t.Errorf("%d task DMs; want exactly one", n)
	}
	r, _ := h.m.Service.Request(context.Background(), id)
	if len(r.Approvals) != 2 {
		t.Errorf("%d approvals recorded; want 2", len(r.Approvals))
	}
}

// UXPIN_AUTO_APPROVE_ROLES: Viewer goes straight to an admin task, approved
// by policy; an auto-approved role past the seat budget goes to the
// approvers. Removing one's own access needs no approval.
func TestAutoApproveAndSelfRemoval(t *testing.T) {
	h := newHarness(t, map[string]string{
		"UXPIN_AUTO_APPROVE_ROLES": "Viewer,Editor",
		"UXPIN_SEATS_EDITOR":       "1",
	})
	id := h.mustSubmit(uAlice, "grant", uBob, "viewer", "reads specs")
	h.waitState(id, "approved")
	task := h.dmWith(uErin, "UXPin task "+id, "Approved by policy", "Viewer is granted without an approver")
	h.outboxEmpty()
	if n := h.cards(uCarol, id) + h.cards(uDave, id); n != 0 {
		t.Errorf("%d approval cards for an auto-approved Viewer grant", n)
	}
	h.click(uErin, task, handlers.ActionDone)
	h.waitState(id, "fulfilled")
	var byPolicy bool
	_ = h.m.DB.Events(context.Background(), func(e access.Event) error {
		if e.RequestID == id && strings.Contains(e.Detail, "approved by policy") {
			byPolicy = true
		}
		return nil
	})
	if !byPolicy {
		t.Errorf("the audit log does not say %s was approved by policy", id)
	}

	// The one Editor seat goes by policy; the next is past the budget and
	// goes to the approvers.
	e1 := h.mustSubmit(uAlice, "grant", uDave, "editor", "designs")
	h.waitState(e1, "approved")
	e2 := h.mustSubmit(uAlice, "grant", uFrank, "editor", "designs too")
	h.dmWith(uCarol, "UXPin access request "+e2+":", "No Editor seat is left")
	if got := h.state(e2); got != "pending" {
		t.Errorf("Editor grant past the budget is %s; want pending for the approvers", got)
	}

	// Bob removes his own access: straight to a task.
	rm := h.mustSubmit(uBob, "remove", uBob, "", "")
	h.waitState(rm, "approved")
	h.dmWith(h.m.mustAssignee(t, rm), "UXPin task "+rm, "Remove from Team", "removing your own access needs no approval")
	// Removing someone else's needs an approver.
	other := h.mustSubmit(uAlice, "remove", uDave, "", "")
	h.dmWith(uCarol, "UXPin access request "+other+":", "Approve")
	if got := h.state(other); got != "pending" {
		t.Errorf("removal of someone else is %s; want pending", got)
	}
}

// Help says which policy is in force.
func TestHelpShowsPolicy(t *testing.T) {
	h := newHarness(t, map[string]string{
		"UXPIN_APPROVALS_REQUIRED": "Admin:2",
		"UXPIN_APPROVERS_ADMIN":    uCarol + "," + uSecur,
		"UXPIN_AUTO_APPROVE_ROLES": "Viewer",
	})
	got := h.slashReply(uAlice, "help")
	for _, want := range []string{"Approval policy", "Viewer: granted without an approver", "Editor: 1 approval by the approvers", "Admin: 2 approvals by different people among <@" + uCarol + ">, <@" + uSecur + ">", "Removing your own access: no approval needed"} {
		if !strings.Contains(got, want) {
			t.Errorf("help lacks %q:\n%s", want, got)
		}
	}
}
