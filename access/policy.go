package access

import (
	"fmt"
	"slices"
)

// This file is the one place that decides who may do what (SPEC §9). Every
// button, modal, timer and event asks Policy.Check before it changes a request
// or the ledger; handlers never decide. A new feature adds an Act and its rows
// to the table below, and the table test in policy_test.go fails until every
// relation is covered.

// Act is something a person, or the bot itself, does to a request.
type Act string

// The acts the policy decides on.
const (
	// People, through buttons and modals.
	ActApprove  Act = "approve"   // Approve (and its budget variants) on a card, Home or `pending`
	ActDeny     Act = "deny"      // Deny, then the reason modal
	ActCancel   Act = "cancel"    // Cancel on the receipt, Home or `status`
	ActComplete Act = "complete"  // Mark done on a task, Home or `pending`
	ActFail     Act = "fail"      // Can't complete, then the reason modal
	ActTakeOver Act = "take_over" // Take over another admin's task
	ActConfirm  Act = "confirm"   // It works, on the target's confirmation
	ActReopen   Act = "reopen"    // I can't get in, then the reason modal
	ActAudit    Act = "audit"     // run the seat audit, act on its findings, see the roster

	// Access reviews (SPEC §11). For the answer and the decision, the
	// request is the seat as the policy sees it: about the holder (its
	// requester and target), current while the review is open and the
	// holder has not lowered their own access.
	ActReview       Act = "review"        // start an access review, see its status
	ActReviewAnswer Act = "review_answer" // the holder's Keep / Downgrade / Remove on their question
	ActReviewDecide Act = "review_decide" // a reviewer's Keep / Downgrade / Remove on a seat

	// The bot itself, through timers and events.
	ActRemind     Act = "remind"      // nudge the approvers of a pending request
	ActEscalate   Act = "escalate"    // move a task that stayed open too long
	ActExpiryWarn Act = "expiry_warn" // tell that temporary access ends tomorrow
	ActExpire     Act = "expire"      // remove temporary access at its end
	ActOffboard   Act = "offboard"    // remove the seat of someone who left
	ActReassign   Act = "reassign"    // give a task (or group row) whose admin left UXPIN_ADMINS, or that nobody holds, to an admin
	// ActApproveByPolicy approves a request without an approver: a role
	// the configuration grants on the spot, or a removal of one's own
	// access (SPEC §10).
	ActApproveByPolicy Act = "approve_by_policy"
)

// Acts lists every act, in the order the README's table shows them.
var Acts = []Act{
	ActApprove, ActDeny, ActCancel, ActComplete, ActFail, ActTakeOver, ActConfirm, ActReopen, ActAudit,
	ActReview, ActReviewAnswer, ActReviewDecide,
	ActRemind, ActEscalate, ActExpiryWarn, ActExpire, ActOffboard, ActReassign, ActApproveByPolicy,
}

// Relation is how an actor stands to a request. An actor may stand in
// several relations at once (an approver who is also the requester); the
// table's rows are tried in order and the first that fits decides.
type Relation string

// The relations the table's rows name.
const (
	RelRequester       Relation = "requester"
	RelTarget          Relation = "target"
	RelApproverSelf    Relation = "approver who is the requester or the target"
	RelApprovedAlready Relation = "approver who already approved"
	RelApprover        Relation = "approver"
	RelApproverOther   Relation = "approver outside the role's approvers"
	RelAdminTarget     Relation = "admin who is the target"
	// RelOwnUnreviewed is an admin who asked for what no approver decided
	// (approved by policy or on evidence): a second person closes it.
	RelOwnUnreviewed Relation = "admin who asked for what no approver decided"
	RelAssignee      Relation = "assignee"
	RelOtherAdmin    Relation = "another admin"
	RelAdmin         Relation = "admin"
	RelSystem        Relation = "the bot"
	RelAnyone        Relation = "anyone else"
)

// Relations lists every relation, for the table test and the README.
var Relations = []Relation{
	RelRequester, RelTarget, RelApproverSelf, RelApprovedAlready, RelApprover, RelApproverOther,
	RelAdminTarget, RelOwnUnreviewed, RelAssignee, RelOtherAdmin, RelAdmin, RelSystem, RelAnyone,
}

// Stage says whether a request is still where an act expects it to be, or
// has moved on (decided, closed, superseded by a later request).
type Stage int

// The stages a row may apply to.
const (
	Current Stage = 1 << iota
	MovedOn
	AnyStage = Current | MovedOn
)

// Actor is who acts, as configuration says: never what a payload claims.
type Actor struct {
	ID string
	// Approver is true for a configured approver of any role, directly or
	// through a user group; RoleApprover for one who may approve the
	// request's role.
	Approver, RoleApprover bool
	// Admin is true for a configured UXPin admin.
	Admin bool
	// System is the bot itself: timers and events.
	System bool
}

// System is the actor of timers and events.
var System = Actor{System: true}

// is reports whether the actor stands in rel to r. "The person" of a
// request group is every row's target, so one of them is about themselves
// wherever they stand in the group; for a row view (Request.RowView) the
// assignee is the row's admin alone.
func (a Actor) is(rel Relation, r *Request) bool {
	var requester, assignee string
	if r != nil {
		requester, assignee = r.Requester, r.Assignee
	}
	about := r.IsAbout(a.ID)
	self := a.ID != "" && (a.ID == requester || about)
	mine := a.ID != "" && (a.ID == assignee || (r != nil && r.row == 0 && r.HasRowsOf(a.ID)))
	switch rel {
	case RelRequester:
		return a.ID != "" && a.ID == requester
	case RelTarget:
		return about
	case RelApproverSelf:
		return a.Approver && self
	case RelApprovedAlready:
		return a.Approver && r != nil && a.ID != "" && r.ApprovedBy(a.ID)
	case RelApprover:
		return a.RoleApprover
	case RelApproverOther:
		return a.Approver && !a.RoleApprover
	case RelAdminTarget:
		return a.Admin && about
	case RelOwnUnreviewed:
		return a.Admin && a.ID != "" && a.ID == requester && r.Unreviewed()
	case RelAssignee:
		return a.Admin && mine
	case RelOtherAdmin:
		return a.Admin && !mine
	case RelAdmin:
		return a.Admin
	case RelSystem:
		return a.System
	case RelAnyone:
		return true
	}
	return false
}

// Reason says why the policy refused. Handlers turn it into a sentence.
type Reason string

// The reasons for a refusal.
const (
	ReasonMovedOn          Reason = "moved_on"          // the request is no longer where the button expects
	ReasonOwnRequest       Reason = "own_request"       // an approver deciding what they asked for
	ReasonAboutSelf        Reason = "about_self"        // acting on a request about one's own access
	ReasonNotApprover      Reason = "not_approver"      // only approvers decide
	ReasonNotRoleApprover  Reason = "not_role_approver" // approver, but not of this role
	ReasonNotAdmin         Reason = "not_admin"         // only UXPin admins work on tasks
	ReasonNotAssignee      Reason = "not_assignee"      // only the assignee closes; others take over first
	ReasonAlreadyAssignee  Reason = "already_assignee"  // taking over one's own task
	ReasonNotRequester     Reason = "not_requester"     // only the requester cancels
	ReasonNotTarget        Reason = "not_target"        // only the person answers "does it work?"
	ReasonNotPrivileged    Reason = "not_privileged"    // seat audit and roster: approvers and admins
	ReasonSystemOnly       Reason = "system_only"       // only the bot's own timers and events do this
	ReasonApproversUnknown Reason = "approvers_unknown" // the approver groups could not be read: fail closed
	ReasonAlreadyApproved  Reason = "already_approved"  // the same approver approving twice
	ReasonNotHolder        Reason = "not_holder"        // only the seat's holder answers its review question
	ReasonOwnSeat          Reason = "own_seat"          // a reviewer deciding their own seat
	ReasonOwnUnreviewed    Reason = "own_unreviewed"    // closing or taking what one asked for and no approver decided
)

// Reasons lists every reason, so handlers can be tested to word each one.
var Reasons = []Reason{
	ReasonMovedOn, ReasonOwnRequest, ReasonAboutSelf, ReasonNotApprover, ReasonNotRoleApprover,
	ReasonNotAdmin, ReasonNotAssignee, ReasonAlreadyAssignee, ReasonNotRequester, ReasonNotTarget,
	ReasonNotPrivileged, ReasonSystemOnly, ReasonApproversUnknown, ReasonAlreadyApproved,
	ReasonNotHolder, ReasonOwnSeat, ReasonOwnUnreviewed,
}

// Rule is one row of the policy table.
type Rule struct {
	When   Stage
	Who    Relation
	Allow  bool
	Reason Reason // why it is refused; empty when Allow
}

func allow(when Stage, who Relation) Rule { return Rule{When: when, Who: who, Allow: true} }
func refuse(when Stage, who Relation, why Reason) Rule {
	return Rule{When: when, Who: who, Reason: why}
}

// Table is the policy (SPEC §9): for each act, rows tried in order.
var Table = map[Act][]Rule{
	ActApprove: {
		refuse(MovedOn, RelAnyone, ReasonMovedOn),
		refuse(Current, RelApproverSelf, ReasonOwnRequest),
		refuse(Current, RelApprovedAlready, ReasonAlreadyApproved),
		allow(Current, RelApprover),
		refuse(Current, RelApproverOther, ReasonNotRoleApprover),
		refuse(Current, RelAnyone, ReasonNotApprover),
	},
	ActDeny: {
		refuse(MovedOn, RelAnyone, ReasonMovedOn),
		refuse(Current, RelApproverSelf, ReasonOwnRequest),
		allow(Current, RelApprover),
		refuse(Current, RelApproverOther, ReasonNotRoleApprover),
		refuse(Current, RelAnyone, ReasonNotApprover),
	},
	ActCancel: {
		refuse(AnyStage, RelSystem, ReasonNotRequester),
		refuse(MovedOn, RelRequester, ReasonMovedOn),
		allow(Current, RelRequester),
		refuse(AnyStage, RelAnyone, ReasonNotRequester),
	},
	ActComplete: closeTask(),
	ActFail:     closeTask(),
	ActTakeOver: {
		refuse(MovedOn, RelAnyone, ReasonMovedOn),
		refuse(Current, RelAdminTarget, ReasonAboutSelf),
		refuse(Current, RelOwnUnreviewed, ReasonOwnUnreviewed),
		refuse(Current, RelAssignee, ReasonAlreadyAssignee),
		allow(Current, RelOtherAdmin),
		refuse(Current, RelAnyone, ReasonNotAdmin),
	},
	ActConfirm: {
		refuse(AnyStage, RelSystem, ReasonNotTarget),
		refuse(MovedOn, RelTarget, ReasonMovedOn),
		allow(Current, RelTarget),
		refuse(AnyStage, RelAnyone, ReasonNotTarget),
	},
	ActReopen: {
		refuse(AnyStage, RelSystem, ReasonNotTarget),
		refuse(MovedOn, RelTarget, ReasonMovedOn),
		allow(Current, RelTarget),
		refuse(AnyStage, RelAnyone, ReasonNotTarget),
	},
	ActAudit: {
		allow(AnyStage, RelApprover),
		allow(AnyStage, RelApproverOther),
		allow(AnyStage, RelAdmin),
		refuse(AnyStage, RelAnyone, ReasonNotPrivileged),
	},
	ActReview: {
		allow(AnyStage, RelApprover),
		allow(AnyStage, RelApproverOther),
		allow(AnyStage, RelAdmin),
		refuse(AnyStage, RelAnyone, ReasonNotPrivileged),
	},
	// Only the holder answers their question; after the review ended (or
	// once they lowered their own access) it has moved on.
	ActReviewAnswer: {
		refuse(MovedOn, RelTarget, ReasonMovedOn),
		allow(Current, RelTarget),
		refuse(AnyStage, RelAnyone, ReasonNotHolder),
	},
	// Any approver but the holder decides a seat (the assigned reviewer is
	// the one asked and reminded), until the review ends; so does the admin
	// a seat went to because only its holder could have reviewed it.
	ActReviewDecide: {
		refuse(MovedOn, RelAnyone, ReasonMovedOn),
		refuse(Current, RelApproverSelf, ReasonOwnSeat),
		allow(Current, RelAssignee),
		allow(Current, RelApprover),
		allow(Current, RelApproverOther),
		refuse(Current, RelAnyone, ReasonNotApprover),
	},
	ActRemind:     systemOnly(),
	ActEscalate:   systemOnly(),
	ActExpiryWarn: systemOnly(),
	ActExpire:     systemOnly(),
	ActOffboard:   systemOnly(),
	ActReassign:   systemOnly(),
	// The bot approves by policy only what lowers nobody else's access
	// and raises no role outside the configured auto-approved roles; the
	// lifecycle asks only for those (Lifecycle.byPolicy).
	ActApproveByPolicy: systemOnly(),
}

// closeTask are the rows of Mark done and Can't complete: only the
// assignee closes a task, never the person it is about (SPEC §9.4), nor
// the one who asked for it when no approver decided it (SPEC §9.1).
func closeTask() []Rule {
	return []Rule{
		refuse(MovedOn, RelAnyone, ReasonMovedOn),
		refuse(Current, RelAdminTarget, ReasonAboutSelf),
		refuse(Current, RelOwnUnreviewed, ReasonOwnUnreviewed),
		allow(Current, RelAssignee),
		refuse(Current, RelOtherAdmin, ReasonNotAssignee),
		refuse(Current, RelAnyone, ReasonNotAdmin),
	}
}

// systemOnly are the rows of acts only the bot's own timers and events do,
// and only while the request is still where the timer expects.
func systemOnly() []Rule {
	return []Rule{
		refuse(MovedOn, RelSystem, ReasonMovedOn),
		allow(Current, RelSystem),
		refuse(AnyStage, RelAnyone, ReasonSystemOnly),
	}
}

// IsCurrent reports whether request r (with g, the target's ledger entry, or
// nil) is still where act expects it. r may be nil for ActAudit.
func IsCurrent(act Act, r *Request, g *Grant) bool {
	if act == ActAudit || act == ActReview {
		return true
	}
	if r == nil {
		return false
	}
	holds := g != nil && g.RequestID == r.ID // the ledger entry is still this request's
	if r.row > 0 {
		// One row of a group: current while the group is approved and
		// the row is open.
		row := r.Rows[r.row-1]
		switch act {
		case ActComplete, ActFail, ActTakeOver, ActEscalate, ActReassign:
			return r.State == StateApproved && !row.Closed()
		}
	}
	switch act {
	case ActApprove, ActDeny, ActCancel, ActRemind, ActApproveByPolicy:
		return r.State == StatePending
	case ActComplete, ActFail, ActEscalate, ActReassign:
		// A reopened grant's task is current only while the ledger entry
		// is still the grant's: a later change or removal supersedes it.
		return r.State == StateApproved && (r.Reopened == 0 || holds)
	case ActTakeOver:
		return r.State == StateApproved && (r.Reopened == 0 || holds)
	case ActConfirm, ActReopen:
		return r.Action == ActionGrant && r.State == StateFulfilled && !r.Confirmed && holds
	case ActExpiryWarn:
		return r.State == StateFulfilled && holds
	case ActExpire:
		return holds
	case ActOffboard:
		return g != nil
	case ActReviewAnswer, ActReviewDecide:
		return r.State == StatePending
	}
	return false
}

// Refusal is the policy's answer when an act is not allowed: who tried what
// on which request, and why. It carries facts; handlers word them.
type Refusal struct {
	Act     Act
	Reason  Reason
	Actor   string
	Request *Request // a copy as it stood; nil for acts on no request
	// Grant is the target's ledger entry when the refusal was decided, so a
	// "moved on" answer can say by which request.
	Grant *Grant
	// Assignee is who holds what was pressed when it is not the request's
	// assignee: the admin of one row of a group.
	Assignee string

	cause error // what kept the policy from deciding, if anything
}

// Unwrap returns what kept the policy from deciding (a Slack error reading
// the approver groups), if anything.
func (r *Refusal) Unwrap() error { return r.cause }

// Error implements error with a plain sentence for logs.
func (r *Refusal) Error() string {
	id := ""
	if r.Request != nil {
		id = " " + r.Request.ID
	}
	return fmt.Sprintf("%s%s refused for %s: %s", r.Act, id, r.Actor, r.Reason)
}

// Code is the error code of the refusal: ECONFLICT for a request that moved
// on, EUNAUTHORIZED otherwise.
func (r *Refusal) Code() string {
	switch r.Reason {
	case ReasonMovedOn:
		return ECONFLICT
	case ReasonApproversUnknown:
		return EUNAVAILABLE
	}
	return EUNAUTHORIZED
}

// Verdict is the outcome of asking the policy.
type Verdict struct {
	Allowed bool
	Rule    Rule
	Stage   Stage
}

// Judge looks act up in the table for actor on r (nil for acts on no
// request) with g, the target's ledger entry. An act with no fitting row is
// refused: the table must say yes.
func Judge(act Act, actor Actor, r *Request, g *Grant) Verdict {
	stage := MovedOn
	if IsCurrent(act, r, g) {
		stage = Current
	}
	for _, rule := range Table[act] {
		if rule.When&stage != 0 && actor.is(rule.Who, r) {
			return Verdict{Allowed: rule.Allow, Rule: rule, Stage: stage}
		}
	}
	return Verdict{Stage: stage, Rule: Rule{Reason: ReasonNotPrivileged}}
}

// Check is Decide as an error: nil when allowed, else a *Refusal.
func Check(act Act, actor Actor, r *Request, g *Grant) error {
	d := Judge(act, actor, r, g)
	if d.Allowed {
		return nil
	}
	ref := &Refusal{Act: act, Reason: d.Rule.Reason, Actor: actor.ID}
	if r != nil {
		c := *r
		c.Approvers = slices.Clone(r.Approvers)
		ref.Request = &c
	}
	if g != nil {
		c := *g
		ref.Grant = &c
	}
	return ref
}
