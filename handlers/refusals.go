package handlers

import (
	"errors"
	"fmt"

	"github.com/uxpin-access-bot/uxpin-access-bot/access"
)

// message is what a user sees for an error from the lifecycle: the policy's
// refusals and the seat budget worded here, with mentions; other domain
// errors as the lifecycle says them; anything else a generic apology.
func message(err error) string {
	if ref, ok := errors.AsType[*access.Refusal](err); ok {
		return refusalText(ref)
	}
	if b, ok := errors.AsType[*access.BudgetError](err); ok {
		u := b.Budget
		return fmt.Sprintf("Approving %s would use %s seat %d of the %d purchased (%d in use, %d being set up). Use *Approve anyway* on the card to confirm, or *Approve as Viewer*.",
			b.RequestID, u.Role.Label(), u.Used+u.Committed+1, u.Purchased, u.Used, u.Committed)
	}
	return access.ErrorMessage(err)
}

// refusalText words each reason of the policy table (access/policy.go) as
// one polite sentence. TestRefusalTexts checks every reason has one.
func refusalText(ref *access.Refusal) string {
	r := ref.Request
	id := "This request"
	if r != nil {
		id = r.ID
	}
	switch ref.Reason {
	case access.ReasonMovedOn:
		return movedOn(ref)
	case access.ReasonOwnRequest:
		if r != nil && ref.Actor == r.Target && ref.Actor != r.Requester {
			return fmt.Sprintf("You can't decide on %s because it is about your own access; another approver will.", id)
		}
		return fmt.Sprintf("You can't decide on your own request %s; another approver will.", id)
	case access.ReasonAboutSelf:
		return fmt.Sprintf("%s is about your own UXPin access, so another UXPin admin must do it.", id)
	case access.ReasonNotApprover:
		return "Only UXPin access approvers can decide on requests."
	case access.ReasonNotRoleApprover:
		role := "this role"
		if r != nil && r.Role != "" {
			role = r.Role.Label()
		}
		return fmt.Sprintf("You don't approve %s requests; the approvers for %s will decide %s.", role, role, id)
	case access.ReasonNotAdmin:
		return "Only UXPin admins can work on tasks."
	case access.ReasonNotAssignee:
		if ref.Assignee != "" {
			return fmt.Sprintf("That row of %s is assigned to %s; only they can mark it done.", id, user(ref.Assignee))
		}
		if r != nil && r.Assignee != "" {
			return fmt.Sprintf("%s is assigned to %s. Only they can close it; use *Take over* in `/uxpin-access pending` to take it first.", id, user(r.Assignee))
		}
		return fmt.Sprintf("%s has no assignee yet; use *Take over* in `/uxpin-access pending` to take it first.", id)
	case access.ReasonAlreadyAssignee:
		return fmt.Sprintf("%s is already yours.", id)
	case access.ReasonNotRequester:
		if r != nil {
			return fmt.Sprintf("Only the person who made %s, %s, can cancel it.", id, user(r.Requester))
		}
		return "Only the person who made a request can cancel it."
	case access.ReasonNotTarget:
		if r != nil {
			return fmt.Sprintf("Only %s, who %s is for, can answer this.", user(r.Target), id)
		}
		return "Only the person this access is for can answer this."
	case access.ReasonNotPrivileged:
		return "That is for UXPin access approvers and admins."
	case access.ReasonSystemOnly:
		return "Only the bot itself does that."
	case access.ReasonAlreadyApproved:
		if r != nil {
			return fmt.Sprintf("You already approved %s. It needs %d approvals from different approvers; %d so far.", id, r.Required(), len(r.Approvals))
		}
		return "You already approved this request; another approver must too."
	case access.ReasonApproversUnknown:
		return "I can't check the approver groups with Slack right now, so approvals are paused. Please try again in a few minutes."
	case access.ReasonNotHolder:
		if r != nil {
			return fmt.Sprintf("Only %s can answer the review question about their own seat.", user(r.Target))
		}
		return "Only the person who holds the seat can answer its review question."
	case access.ReasonOwnUnreviewed:
		return fmt.Sprintf("You asked for %s and no approver decided it, so another UXPin admin must do it.", id)
	case access.ReasonOwnSeat:
		if r != nil && r.Assignee != "" && r.Assignee != ref.Actor {
			return fmt.Sprintf("You can't decide on your own seat; %s reviews it.", user(r.Assignee))
		}
		return "You can't decide on your own seat; another approver will."
	}
	return "That isn't allowed."
}

// movedOn says where a request stands now that a button on an old message
// no longer applies.
func movedOn(ref *access.Refusal) string {
	r := ref.Request
	if r == nil {
		return "That has already moved on."
	}
	switch ref.Act {
	case access.ActConfirm, access.ActReopen:
		switch {
		case r.State == access.StateFulfilled && r.Confirmed:
			return fmt.Sprintf("You already confirmed %s works. Thanks!", r.ID)
		case r.State == access.StateFulfilled && ref.Grant == nil:
			return fmt.Sprintf("Your UXPin access from %s was removed since, so there is nothing to confirm. Ask again with `/uxpin-access` if you need it.", r.ID)
		case r.State == access.StateFulfilled && ref.Grant.RequestID != r.ID:
			return fmt.Sprintf("Your UXPin access was changed since by %s (%s now), so %s no longer applies.", ref.Grant.RequestID, ref.Grant.Role.Label(), r.ID)
		}
		return fmt.Sprintf("%s is %s; there is nothing to confirm now.", r.ID, describe(r))
	case access.ActCancel:
		return fmt.Sprintf("%s can't be cancelled: it is already %s.", r.ID, describe(r))
	case access.ActReviewAnswer, access.ActReviewDecide:
		return "That access review has ended, or the seat's outcome is already settled; nothing was changed."
	case access.ActComplete, access.ActFail, access.ActTakeOver:
		if r.State == access.StateFailed && r.ClosedBy == "" && r.FailReason != "" {
			return fmt.Sprintf("Nothing was changed: %s. %s is closed; make a new request if something is still needed.", r.FailReason, r.ID)
		}
		if r.State == access.StatePending {
			return fmt.Sprintf("%s has no task yet: it is %s.", r.ID, describe(r))
		}
		if r.State == access.StateApproved {
			return fmt.Sprintf("%s was reopened for access that has changed since; nothing to do in UXPin.", r.ID)
		}
	}
	return fmt.Sprintf("%s is already %s.", r.ID, describe(r))
}

// describe says in a few words where a request stands and who put it there,
// for answers such as "R-3 is already approved by <@U1>".
func describe(r *access.Request) string {
	switch r.State {
	case access.StatePending:
		return "waiting for approval"
	case access.StateApproved:
		if r.Assignee == "" {
			return fmt.Sprintf("approved by %s, waiting for a UXPin admin", approver(r))
		}
		return fmt.Sprintf("approved by %s and assigned to <@%s>", approver(r), r.Assignee)
	case access.StateDenied:
		return fmt.Sprintf("denied by <@%s>", r.DecidedBy)
	case access.StateFulfilled:
		return fmt.Sprintf("done, closed by <@%s>", r.ClosedBy)
	case access.StateFailed:
		if r.ClosedBy == "" {
			return "closed without a change: " + r.FailReason
		}
		return fmt.Sprintf("failed, closed by <@%s>", r.ClosedBy)
	case access.StateCancelled:
		return "cancelled by the requester"
	}
	return string(r.State)
}

// approver describes who approved a request, for messages: a person, or the
// policy that approved it automatically.
func approver(r *access.Request) string {
	switch {
	case r.ByPolicy == access.PolicyAutoRole:
		return fmt.Sprintf("policy (%s is granted without an approver)", r.Role.Label())
	case r.ByPolicy == access.PolicySelfRemove:
		return "policy (removing your own access needs no approval)"
	case r.ByPolicy == access.PolicySelfLower:
		return "policy (lowering your own role needs no approval)"
	case r.Origin == access.OriginLeaver:
		return "the leaver policy"
	case r.Origin == access.OriginExpiry && r.DecidedBy != "":
		return fmt.Sprintf("<@%s> (the original decision on %s)", r.DecidedBy, r.AutoReason)
	case r.Origin == access.OriginReview && r.DecidedBy == "":
		return fmt.Sprintf("policy (the person lowered their own access in access review %s)", r.AutoReason)
	case r.Origin == access.OriginReview:
		return fmt.Sprintf("<@%s> (decision in access review %s)", r.DecidedBy, r.AutoReason)
	case r.Origin == access.OriginAudit && r.DecidedBy == "" && r.State != access.StatePending:
		return "policy (lowering a role needs no approval)"
	case r.DecidedBy == "":
		return "nobody"
	}
	return "<@" + r.DecidedBy + ">"
}
