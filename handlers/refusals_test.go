package handlers

import (
	"strings"
	"testing"

	"github.com/uxpin-access-bot/uxpin-access-bot/access"
)

// TestRefusalTexts checks that every reason the policy can give is worded
// for people, names the request where there is one, and never leaks the
// reason's code.
func TestRefusalTexts(t *testing.T) {
	r := &access.Request{ID: "R-7", Action: access.ActionGrant, Requester: "UREQ", Target: "UTGT", Assignee: "UASG", Role: access.RoleEditor, State: access.StateApproved, DecidedBy: "UAPP"}
	for _, reason := range access.Reasons {
		got := refusalText(&access.Refusal{Act: access.ActComplete, Reason: reason, Actor: "UANY", Request: r})
		if got == "" || got == "That isn't allowed." || strings.Contains(got, string(reason)) {
			t.Errorf("refusalText(%s) = %q; want a sentence of its own", reason, got)
		}
	}
}

func TestDescribe(t *testing.T) {
	tests := []struct {
		r    access.Request
		want string
	}{
		{access.Request{State: access.StatePending}, "waiting for approval"},
		{access.Request{State: access.StateApproved, DecidedBy: "U1", Assignee: "U2"}, "approved by <@U1> and assigned to <@U2>"},
		{access.Request{State: access.StateDenied, DecidedBy: "U1"}, "denied by <@U1>"},
		{access.Request{State: access.StateFulfilled, ClosedBy: "U3"}, "done, closed by <@U3>"},
		{access.Request{State: access.StateCancelled}, "cancelled by the requester"},
	}
	for _, tt := range tests {
		if got := describe(&tt.r); got != tt.want {
			t.Errorf("describe(%s) = %q; want %q", tt.r.State, got, tt.want)
		}
	}
}
