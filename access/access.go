// Package access holds the domain of uxpin-access-bot: access requests, their
// lifecycle and policy, the ledger of who holds which UXPin role, the audit
// trail, and the notices a state change causes. It knows nothing of Slack or
// bbolt: adapters implement the interfaces declared here.
package access

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Action is what a request asks UXPin admins to do.
type Action string

// The actions a request can ask for.
const (
	ActionGrant  Action = "grant"
	ActionChange Action = "change"
	ActionRemove Action = "remove"
)

// Actions lists the actions in the order they are offered to users.
var Actions = []Action{ActionGrant, ActionChange, ActionRemove}

// Valid reports whether a is a known action.
func (a Action) Valid() bool {
	return a == ActionGrant || a == ActionChange || a == ActionRemove
}

// Label is the user-facing name of the action.
func (a Action) Label() string {
	switch a {
	case ActionGrant:
		return "Grant access"
	case ActionChange:
		return "Change role"
	case ActionRemove:
		return "Remove access"
	}
	return string(a)
}

// Role is a UXPin team role.
type Role string

// UXPin's roles.
const (
	RoleViewer Role = "viewer"
	RoleEditor Role = "editor"
	RoleAdmin  Role = "admin"
)

// Roles lists the roles in the order they are offered to users.
var Roles = []Role{RoleViewer, RoleEditor, RoleAdmin}

// Rank orders roles by the access they give: Viewer < Editor < Admin; an
// unknown role ranks lowest.
func (r Role) Rank() int {
	switch r {
	case RoleViewer:
		return 1
	case RoleEditor:
		return 2
	case RoleAdmin:
		return 3
	}
	return 0
}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == RoleViewer || r == RoleEditor || r == RoleAdmin }

// Label is the role's name as UXPin shows it.
func (r Role) Label() string {
	switch r {
	case RoleViewer:
		return "Viewer"
	case RoleEditor:
		return "Editor"
	case RoleAdmin:
		return "Admin"
	}
	return string(r)
}

// State is where a request is in its lifecycle.
type State string

// The lifecycle states (SPEC §5).
const (
	StatePending   State = "pending"
	StateApproved  State = "approved"
	StateFulfilled State = "fulfilled"
	StateDenied    State = "denied"
	StateFailed    State = "failed"
	StateCancelled State = "cancelled"
)

// States lists every state, for metrics and reports.
var States = []State{StatePending, StateApproved, StateFulfilled, StateDenied, StateFailed, StateCancelled}

// Open reports whether a request in state s still needs someone to act.
func (s State) Open() bool { return s == StatePending || s == StateApproved }

// Request is one ask for a change of UXPin access and everything that happened
// to it. Once approved it carries the admin task too: the task is the approved
// request assigned to an admin.
type Request struct {
	ID            string `json:"id"`
	Action        Action `json:"action"`
	Requester     string `json:"requester"`
	Target        string `json:"target"`
	TargetEmail   string `json:"target_email"`
	TargetName    string `json:"target_name,omitempty"`
	Role          Role   `json:"role,omitempty"`
	CurrentRole   Role   `json:"current_role,omitempty"`
	Justification string `json:"justification,omitempty"`
	EndDate       string `json:"end_date,omitempty"` // YYYY-MM-DD, temporary access only
	// EndZone is the IANA time zone the end date is read in: the
	// requester's in Slack when they asked. Access ends at the end of the
	// end date there (SPEC §9.6). "" is UTC.
	EndZone   string    `json:"end_zone,omitempty"`
	State     State     `json:"state"`
	Approvers []string  `json:"approvers,omitempty"` // user IDs the cards went to
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`

	// Rows make the request a group of removals (SPEC §10); Target is then
	// empty and each row has its own assignee.
	Rows []GroupRow `json:"rows,omitempty"`

	// Approvals are the distinct approvals so far (SPEC §10); the request
	// is approved when there are ApprovalsRequired of them.
	Approvals         []Approval `json:"approvals,omitempty"`
	ApprovalsRequired int        `json:"approvals_required,omitempty"`
	// ByPolicy is set when the configuration approved the request without
	// an approver: an auto-approved role, or someone removing their own
	// access (SPEC §10).
	ByPolicy string `json:"by_policy,omitempty"`

	DecidedBy  string    `json:"decided_by,omitempty"`
	DecidedAt  time.Time `json:"decided_at,omitzero"`
	DenyReason string    `json:"deny_reason,omitempty"`

	Assignee   string    `json:"assignee,omitempty"`
	AssignedAt time.Time `json:"assigned_at,omitzero"`

	ClosedBy   string    `json:"closed_by,omitempty"`
	ClosedAt   time.Time `json:"closed_at,omitzero"`
	FailReason string    `json:"fail_reason,omitempty"`

	// Origin says why the bot created a request itself: OriginExpiry or
	// OriginLeaver, with the request or reason in AutoReason. Empty for
	// requests people made.
	Origin     string `json:"origin,omitempty"`
	AutoReason string `json:"auto_reason,omitempty"`

	// Timers (SPEC §5 steps 5–6). Each is stored with the request and
	// indexed by storage, so a restart loses none; a zero time is unset.
	RemindAt     time.Time `json:"remind_at,omitzero"`
	EscalateAt   time.Time `json:"escalate_at,omitzero"`
	ExpiryWarnAt time.Time `json:"expiry_warn_at,omitzero"`
	ExpireAt     time.Time `json:"expire_at,omitzero"`

	// ExpiryHeldBy is the open removal an end date found in hand and
	// waits for; the expiry stays armed until the seat is gone.
	ExpiryHeldBy string `json:"expiry_held_by,omitempty"`

	LastReminder      time.Time `json:"last_reminder,omitzero"`
	Reminders         int       `json:"reminders,omitempty"`
	Escalations       int       `json:"escalations,omitempty"`
	PreviousAssignees []string  `json:"previous_assignees,omitempty"`
	Confirmed         bool      `json:"confirmed,omitempty"`
	ConfirmedAt       time.Time `json:"confirmed_at,omitzero"`
	Reopened          int       `json:"reopened,omitempty"`
	ReopenReason      string    `json:"reopen_reason,omitempty"`
	// TakenOver counts the times another admin took the task over; the
	// admins it was taken from are in PreviousAssignees.
	TakenOver int `json:"taken_over,omitempty"`
	// SupersededBy is set on a fulfilled grant whose ledger entry a later
	// request changed (its ID) or removed (SupersededRemoved), once someone
	// pressed a button on it: its messages then say so.
	SupersededBy string `json:"superseded_by,omitempty"`

	// Version increases with every stored change; storage uses it to detect
	// lost updates and handlers to tell stale cards from fresh ones.
	Version int `json:"version"`

	// OrphanNotified is set once the admins and approvers were told that
	// no admin can take the task (or some of a group's rows): they are
	// told once, not on every sweep.
	OrphanNotified bool `json:"orphan_notified,omitempty"`

	// row is set on a row view (RowView): 1 + the row's index.
	row int
}

// RowView returns row i of group r as the policy sees it: a request about
// the row's person (and, for "about oneself", every other row's), assigned
// to the row's admin, current while the row is open.
func (r *Request) RowView(i int) *Request {
	c := *r
	row := r.Rows[i]
	c.Target, c.TargetEmail, c.TargetName, c.Assignee, c.CurrentRole = row.Target, row.Email, row.Name, row.Assignee, row.Role
	c.row = i + 1
	return &c
}

// GroupRow is one person in a request group (SPEC §10): several removals
// asked together, decided as one, and done person by person.
type GroupRow struct {
	Target   string `json:"target"` // Slack user ID, or "email:…" for a seat not in Slack
	Email    string `json:"email"`
	Name     string `json:"name,omitempty"`
	Role     Role   `json:"role,omitempty"` // the role held, as far as known
	Assignee string `json:"assignee,omitempty"`
	// AssignedAt is when the row's admin got it, for its escalation.
	AssignedAt time.Time `json:"assigned_at,omitzero"`
	DoneBy     string    `json:"done_by,omitempty"`
	DoneAt     time.Time `json:"done_at,omitzero"`
	// A row its admin could not complete: by whom, when and why.
	FailedBy   string    `json:"failed_by,omitempty"`
	FailedAt   time.Time `json:"failed_at,omitzero"`
	FailReason string    `json:"fail_reason,omitempty"`
	// Dropped says why the row was taken out of the group before it was
	// done (a removal of the bot's own, by the leaver policy or an end
	// date, took it over).
	Dropped   string    `json:"dropped,omitempty"`
	DroppedAt time.Time `json:"dropped_at,omitzero"`
}

// Done reports whether the row's removal was marked done.
func (g GroupRow) Done() bool { return !g.DoneAt.IsZero() }

// Closed reports whether nothing is left to do on the row: done, failed or
// taken out of the group.
func (g GroupRow) Closed() bool { return g.Done() || !g.FailedAt.IsZero() || !g.DroppedAt.IsZero() }

// IsGroup reports whether r is a request group.
func (r *Request) IsGroup() bool { return len(r.Rows) > 0 }

// Persons returns the people r is about: its target, or every row's target
// in a group.
func (r *Request) Persons() []string {
	if r == nil {
		return nil
	}
	if !r.IsGroup() {
		if r.Target == "" {
			return nil
		}
		return []string{r.Target}
	}
	out := make([]string, 0, len(r.Rows))
	for _, row := range r.Rows {
		if row.Target != "" {
			out = append(out, row.Target)
		}
	}
	return out
}

// IsAbout reports whether user is one of the people r is about (SPEC §9.1:
// the person of a group is every row's target).
func (r *Request) IsAbout(user string) bool {
	if r == nil || user == "" {
		return false
	}
	if r.Target == user {
		return true
	}
	for _, row := range r.Rows {
		if row.Target == user {
			return true
		}
	}
	return false
}

// RowAssignees returns the admins with open rows in a group, in order.
func (r *Request) RowAssignees() []string {
	var out []string
	for _, row := range r.Rows {
		if row.Assignee != "" && !row.Closed() && !slices.Contains(out, row.Assignee) {
			out = append(out, row.Assignee)
		}
	}
	return out
}

// OpenRows counts the rows of a group not closed yet.
func (r *Request) OpenRows() int {
	n := 0
	for _, row := range r.Rows {
		if !row.Closed() {
			n++
		}
	}
	return n
}

// HasRowsOf reports whether admin has rows in the group, done or not.
func (r *Request) HasRowsOf(admin string) bool {
	for _, row := range r.Rows {
		if admin != "" && row.Assignee == admin {
			return true
		}
	}
	return false
}

// Approval is one approver's approval of a request.
type Approval struct {
	By string    `json:"by"`
	At time.Time `json:"at"`
}

// ApprovedBy reports whether user already approved r.
func (r *Request) ApprovedBy(user string) bool {
	for _, a := range r.Approvals {
		if a.By == user {
			return true
		}
	}
	return false
}

// Required returns how many approvals r needs, at least one.
func (r *Request) Required() int { return max(1, r.ApprovalsRequired) }

// Why a request was approved by policy.
const (
	PolicyAutoRole   = "auto_role"   // a role granted without an approver
	PolicySelfRemove = "self_remove" // removing one's own access
	PolicySelfLower  = "self_lower"  // lowering one's own role
)

// Origins of requests the bot creates itself.
const (
	OriginExpiry = "expiry"
	OriginLeaver = "leaver"
	OriginAudit  = "seat_audit"
	OriginReview = "review" // AutoReason is the review's ID
)

// TimerKind names a due time of a request.
type TimerKind string

// The timers a request can carry.
const (
	TimerRemind     TimerKind = "remind"
	TimerEscalate   TimerKind = "escalate"
	TimerExpiryWarn TimerKind = "expiry_warn"
	TimerExpire     TimerKind = "expire"
)

// Timer is one due time of one request.
type Timer struct {
	RequestID string
	Kind      TimerKind
	At        time.Time
}

// Timers lists the request's armed timers. Storage indexes exactly these,
// so disarming a timer is clearing its field.
func (r *Request) Timers() []Timer {
	var out []Timer
	add := func(k TimerKind, at time.Time) {
		if !at.IsZero() {
			out = append(out, Timer{RequestID: r.ID, Kind: k, At: at})
		}
	}
	switch r.State {
	case StatePending:
		add(TimerRemind, r.RemindAt)
	case StateApproved:
		if r.Assignee != "" || r.IsGroup() {
			add(TimerEscalate, r.EscalateAt)
		}
	}
	// Temporary access ends on its date whatever happened to the request
	// since it was done: reopened, or reopened and then failed, the
	// person still holds the seat. Only Complete arms these.
	switch r.State {
	case StateFulfilled, StateApproved, StateFailed:
		add(TimerExpiryWarn, r.ExpiryWarnAt)
		add(TimerExpire, r.ExpireAt)
	}
	return out
}

// Seq returns the numeric part of the request ID ("R-42" → 42).
func (r *Request) Seq() uint64 {
	n, _ := ParseID(r.ID)
	return n
}

// FormatID renders a request sequence number as its user-facing ID.
func FormatID(seq uint64) string { return "R-" + strconv.FormatUint(seq, 10) }

// ParseID parses a user-facing request ID such as "R-42".
func ParseID(id string) (uint64, error) {
	rest, ok := strings.CutPrefix(id, "R-")
	if !ok {
		return 0, Errorf(EINVALID, "%q is not a request ID", id)
	}
	n, err := strconv.ParseUint(rest, 10, 64)
	if err != nil || n == 0 {
		return 0, Errorf(EINVALID, "%q is not a request ID", id)
	}
	return n, nil
}

// Grant is one ledger entry: a person who holds a UXPin seat, as far as the
// bot knows, and the request that put them there.
type Grant struct {
	UserID    string    `json:"user_id"`
	Email     string    `json:"email"`
	Name      string    `json:"name,omitempty"`
	Role      Role      `json:"role"`
	Since     time.Time `json:"since"`
	RequestID string    `json:"request_id"`
	Confirmed bool      `json:"confirmed,omitempty"`
}

// Event is one line of the append-only audit log.
type Event struct {
	Seq         uint64    `json:"seq"`
	Time        time.Time `json:"time"`
	RequestID   string    `json:"request_id"`
	Action      Action    `json:"action"`
	Actor       string    `json:"actor"`
	TargetEmail string    `json:"target_email,omitempty"`
	Role        Role      `json:"role,omitempty"`
	From        State     `json:"from,omitempty"`
	To          State     `json:"to"`
	Detail      string    `json:"detail,omitempty"`
	// The request's facts, so the log alone answers "why" (SPEC §9.7).
	Requester     string `json:"requester,omitempty"`     // Slack user ID of who asked
	Target        string `json:"target,omitempty"`        // Slack user ID (or "email:…") of whom it is for
	Justification string `json:"justification,omitempty"` // why, as the requester wrote it
	EndDate       string `json:"end_date,omitempty"`      // YYYY-MM-DD, temporary access only
	// EndZone is the IANA time zone EndDate is read in (access ends at the
	// end of that day there); "" is UTC.
	EndZone string `json:"end_zone,omitempty"`
}

// NoticeKind says which message a notice becomes when delivered.
type NoticeKind string

// The notices a state change can cause. Each is rendered at delivery time from
// the request as stored then, so a card delivered late still shows the truth.
const (
	NoticeSubmitted     NoticeKind = "submitted"      // DM to the requester with the ID and a Cancel button
	NoticeApprovalCard  NoticeKind = "approval_card"  // DM card to one approver
	NoticeCardsUpdate   NoticeKind = "cards_update"   // chat.update every approval card of the request
	NoticeDecided       NoticeKind = "decided"        // DM to the requester: approved or denied
	NoticeTask          NoticeKind = "task"           // DM to the assigned admin with the UI steps
	NoticeTaskUpdate    NoticeKind = "task_update"    // chat.update every task message of the request
	NoticeFulfilled     NoticeKind = "fulfilled"      // DM to requester or target: it is done
	NoticeFailed        NoticeKind = "failed"         // DM to requester or approver: admin could not complete
	NoticeCancelled     NoticeKind = "cancelled"      // DM to the requester: cancelled
	NoticeAudit         NoticeKind = "audit"          // one line to the audit channel
	NoticeReminder      NoticeKind = "reminder"       // threaded nudge under an approver's card
	NoticeEscalated     NoticeKind = "escalated"      // DM: a task was reassigned (to the old admin or an approver)
	NoticeExpiryWarn    NoticeKind = "expiry_warn"    // DM to requester or target: access ends tomorrow
	NoticeAutoRemoval   NoticeKind = "auto_removal"   // DM to approvers, requester or target: the bot created a removal
	NoticeConfirm       NoticeKind = "confirm"        // DM to the target: does it work? (replaces "fulfilled" for grants)
	NoticeConfirmed     NoticeKind = "confirmed"      // DM to the admin or requester: the target confirmed, or reported a problem
	NoticeConfirmUpdate NoticeKind = "confirm_update" // chat.update the target's confirmation message
	NoticeHome          NoticeKind = "home"           // refresh a user's App Home tab
	NoticeTakenOver     NoticeKind = "taken_over"     // DM to the previous assignee: another admin took the task
	NoticeUnassigned    NoticeKind = "unassigned"     // DM to admins and approvers: no admin can hold a task (or some of a group's rows)

	// Access review notices carry the review's ID ("V-3") as RequestID.
	NoticeReviewAsk      NoticeKind = "review_ask"      // DM to a holder: do you still need it? (Part: seat index + 1)
	NoticeReviewList     NoticeKind = "review_list"     // DM to a reviewer: a page of seats to decide (Part: page)
	NoticeReviewReminder NoticeKind = "review_reminder" // DM to a holder or reviewer: what is left for them
	NoticeReviewReport   NoticeKind = "review_report"   // DM to an approver: the review ended, totals and undecided seats
)

// Notice is a message that a state change owes someone. It is stored in the
// same transaction as the change (the outbox) and delivered afterwards.
type Notice struct {
	ID        uint64     `json:"id"`
	Kind      NoticeKind `json:"kind"`
	RequestID string     `json:"request_id"`
	To        string     `json:"to,omitempty"` // user or channel ID; empty for updates
	CreatedAt time.Time  `json:"created_at"`

	Attempts    int       `json:"attempts,omitempty"`
	NextAttempt time.Time `json:"next_attempt,omitzero"`
	LastError   string    `json:"last_error,omitempty"`

	// Part says which part of a review notice this is: a seat or a page.
	Part int `json:"part,omitempty"`
}

// String identifies the notice in logs.
func (n Notice) String() string {
	return fmt.Sprintf("notice %d (%s for %s to %s)", n.ID, n.Kind, n.RequestID, n.To)
}

// MessageRef locates a delivered message so that it can be updated later.
type MessageRef struct {
	NoticeID  uint64     `json:"notice_id"`
	Kind      NoticeKind `json:"kind"`
	RequestID string     `json:"request_id"`
	To        string     `json:"to"`
	Channel   string     `json:"channel"`
	TS        string     `json:"ts"`
}
