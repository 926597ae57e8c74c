package access

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	_ "time/tzdata" // end dates are read in the requester's zone, also in a distroless image
	"unicode/utf8"
)

// Input limits, chosen well inside Slack's (section text ≤ 3000 characters) so
// every message that quotes them stays valid Block Kit.
const (
	MaxJustification = 1000
	MaxReason        = 500
)

// zone returns the location of an IANA zone name, or UTC for "" or a name
// this build does not know.
func zone(name string) *time.Location {
	if name == "" {
		return time.UTC
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return time.UTC
	}
	return loc
}

// EndOfDay is the instant temporary access with end date date (YYYY-MM-DD)
// ends: the start of the next day in zone (SPEC §9.6).
func EndOfDay(date, zoneName string) (time.Time, error) {
	d, err := time.ParseInLocation(time.DateOnly, date, zone(zoneName))
	if err != nil {
		return time.Time{}, fmt.Errorf("end date %q: %w", date, err)
	}
	return d.AddDate(0, 0, 1), nil
}

// Validate checks a submission against the configuration without touching
// storage.
func (l *Lifecycle) Validate(sub Submission) error {
	var v ValidationError
	if !sub.Action.Valid() {
		v.add(FieldAction, "Choose what you want: grant, change or remove.")
	}
	t := sub.Target
	switch {
	case t.ID == "":
		v.add(FieldTarget, "Choose the person this request is for.")
	case t.IsBot:
		v.add(FieldTarget, "That is a bot or app; UXPin seats are for people.")
	case t.Deleted:
		v.add(FieldTarget, "That person's Slack account is deactivated.")
	case t.Email == "":
		v.add(FieldTarget, "That person has no email address in Slack, which UXPin needs.")
	case !l.domainAllowed(t.Email):
		v.add(FieldTarget, fmt.Sprintf("%s is outside the allowed email domains (%s).", t.Email, strings.Join(l.cfg.AllowedDomains, ", ")))
	}
	needsRole := sub.Action == ActionGrant || sub.Action == ActionChange
	if needsRole && !sub.Role.Valid() {
		v.add(FieldRole, "Choose a role: Viewer, Editor or Admin.")
	}
	just := strings.TrimSpace(sub.Justification)
	switch {
	case needsRole && just == "":
		v.add(FieldJustification, "Say why this access is needed.")
	case utf8.RuneCountInString(just) > MaxJustification:
		v.add(FieldJustification, fmt.Sprintf("Keep it under %d characters.", MaxJustification))
	}
	if sub.EndDate != "" {
		// "Today" is the requester's today: the date picker shows their
		// calendar.
		now := l.now().In(zone(sub.RequesterTZ))
		today := now.Format(time.DateOnly)
		latest := now.AddDate(0, 0, l.cfg.MaxAccessDays).Format(time.DateOnly)
		end, err := time.Parse(time.DateOnly, sub.EndDate)
		switch {
		case err != nil:
			v.add(FieldEndDate, "Use a date like 2026-12-31.")
		case sub.Action == ActionRemove:
			v.add(FieldEndDate, "An end date only applies to granted or changed access.")
		case end.Format(time.DateOnly) <= today:
			v.add(FieldEndDate, "The end date must be in the future.")
		case end.Format(time.DateOnly) > latest:
			v.add(FieldEndDate, fmt.Sprintf("Temporary access can last at most %d days: pick %s or earlier.", l.cfg.MaxAccessDays, latest))
		}
	}
	return v.orNil()
}

func (c *core) domainAllowed(email string) bool {
	if len(c.cfg.AllowedDomains) == 0 {
		return true
	}
	_, domain, ok := strings.Cut(strings.ToLower(email), "@")
	return ok && slices.Contains(c.cfg.AllowedDomains, domain)
}

// Submit validates and stores a new request, owing the requester a receipt and
// every eligible approver a card.
func (l *Lifecycle) Submit(ctx context.Context, sub Submission) (*Request, error) {
	return l.submit(ctx, sub, Draft{Receipt: true})
}

// submit is Submit for a draft of an origin (the seat audit's, for
// instance): sub's fields fill d, then the request is born through the one
// constructor.
func (l *Lifecycle) submit(ctx context.Context, sub Submission, d Draft) (*Request, error) {
	sub.Justification = Clean(sub.Justification)
	if sub.Action == ActionRemove {
		sub.Role = ""
	}
	if err := l.Validate(sub); err != nil {
		return nil, err
	}
	d.Action, d.Requester, d.Target, d.Role = sub.Action, sub.Requester, sub.Target, sub.Role
	d.Justification, d.EndDate = sub.Justification, sub.EndDate
	if sub.EndDate != "" {
		d.EndZone = sub.RequesterTZ
	}
	r, _, err := l.born(ctx, d)
	if o, ok := errors.AsType[*OpenError](err); ok {
		return nil, &ValidationError{Fields: map[string]string{
			FieldTarget: fmt.Sprintf("%s already asks to %s for this person and is still open.", o.ID, strings.ToLower(o.Action.Label())),
		}}
	}
	return r, err
}

// byPolicy says why the configuration approves r without an approver, or
// "" when an approver must (SPEC §10): removing or lowering one's own
// access, or a grant (or a raise) to a role the configuration grants on
// the spot. Auto-approval only ever gives: lowering someone else's role
// needs an approver.
func (c *core) byPolicy(r *Request) string {
	self := r.Requester != "" && r.Requester == r.Target
	switch {
	case r.Action == ActionRemove && self:
		return PolicySelfRemove
	case r.Action == ActionChange && self && r.Lowers():
		return PolicySelfLower
	case r.Action == ActionGrant && slices.Contains(c.cfg.AutoApproveRoles, r.Role):
		return PolicyAutoRole
	case r.Action == ActionChange && !r.Lowers() && r.CurrentRole.Valid() && slices.Contains(c.cfg.AutoApproveRoles, r.Role):
		return PolicyAutoRole
	}
	return ""
}

func policyDetail(policy string, r *Request) string {
	switch policy {
	case PolicySelfRemove:
		return "removing one's own access needs no approval"
	case PolicySelfLower:
		return "lowering one's own role needs no approval"
	}
	return r.Role.Label() + " is granted without an approver (UXPIN_AUTO_APPROVE_ROLES)"
}

// Decision is an approver's answer to a request: approve (past the seat
// budget when confirmed, or for a lesser role), or deny with a reason.
type Decision struct {
	Approve bool
	Reason  string // required to deny
	// OverBudget confirms an approval past the role's seat budget.
	OverBudget bool
	// AsRole approves a grant or change for this role instead of the one
	// asked ("Approve as Viewer").
	AsRole Role
}

// Decide records an approver's decision (SPEC §5 step 2). The policy decides
// who may; the first valid decision wins and any later one is refused as
// moved on. An approval past the seat budget is refused with a *BudgetError
// unless d.OverBudget.
func (l *Lifecycle) Decide(ctx context.Context, id, actor string, d Decision) (*Request, error) {
	act := ActDeny
	if d.Approve {
		act = ActApprove
	}
	reason := Clean(d.Reason)
	if !d.Approve && reason == "" {
		return nil, &ValidationError{Fields: map[string]string{FieldReason: "Say why the request is denied."}}
	}
	if utf8.RuneCountInString(reason) > MaxReason {
		return nil, &ValidationError{Fields: map[string]string{FieldReason: fmt.Sprintf("Keep it under %d characters.", MaxReason)}}
	}
	now := l.now()
	var current []string
	if d.Approve {
		cur, err := l.store.Request(ctx, id)
		if err != nil {
			return nil, err
		}
		if current, err = l.approversFor(ctx, cur); err != nil {
			return nil, &Refusal{Act: act, Reason: ReasonApproversUnknown, Actor: actor, Request: cur, cause: err}
		}
	}
	return l.guard(ctx, id, act, actor, func(tx Tx, r *Request, _ *Grant) (Effects, error) {
		r.UpdatedAt = now
		fx := Effects{Notices: []Notice{{Kind: NoticeCardsUpdate, RequestID: r.ID}}}
		if !d.Approve {
			r.DecidedBy, r.DecidedAt, r.RemindAt = actor, now, time.Time{}
			r.State, r.DenyReason = StateDenied, reason
			fx.Events = append(fx.Events, l.event(r, actor, StatePending, StateDenied, reason))
			fx.Notices = append(fx.Notices, Notice{Kind: NoticeDecided, RequestID: r.ID, To: r.Requester})
			fx.Notices = append(fx.Notices, l.auditNotice(r)...)
			fx.Notices = append(fx.Notices, homes(tx, append([]string{r.Requester}, r.Approvers...)...)...)
			return fx, nil
		}
		// detail is local: storage may run this function more than once.
		detail := reason
		if d.AsRole != "" && d.AsRole != r.Role {
			if r.Action == ActionRemove || !d.AsRole.Valid() {
				return Effects{}, Errorf(EINVALID, "%s can't be approved with another role.", r.ID)
			}
			detail = fmt.Sprintf("approved as %s instead of %s", d.AsRole.Label(), r.Role.Label())
			r.Role = d.AsRole
			r.ApprovalsRequired = l.cfg.Required(r)
		}
		if err := l.checkBudget(tx, r, d.OverBudget); err != nil {
			return Effects{}, err
		}
		if d.OverBudget {
			detail = strings.TrimSpace(detail + " (past the seat budget, confirmed)")
		}
		// Approvals by someone since removed from the role's approvers
		// stop counting (SPEC §10).
		kept := slices.DeleteFunc(slices.Clone(r.Approvals), func(a Approval) bool { return !slices.Contains(current, a.By) })
		for _, a := range r.Approvals {
			if !slices.Contains(current, a.By) {
				fx.Events = append(fx.Events, l.event(r, "", StatePending, StatePending, "the approval by "+a.By+" no longer counts: they are no longer an approver of this role"))
			}
		}
		r.Approvals = append(kept, Approval{By: actor, At: now})
		if n := len(r.Approvals); n < r.Required() {
			// Not yet: the cards show the progress and wait for the next
			// approver (SPEC §10).
			fx.Events = append(fx.Events, l.event(r, actor, StatePending, StatePending,
				strings.TrimSpace(fmt.Sprintf("approval %d of %d %s", n, r.Required(), detail))))
			fx.Notices = append(fx.Notices, homes(tx, r.Approvers...)...)
			return fx, nil
		}
		r.DecidedBy, r.DecidedAt, r.RemindAt = actor, now, time.Time{}
		r.State = StateApproved
		if r.Required() > 1 {
			detail = strings.TrimSpace(fmt.Sprintf("approval %d of %d %s", len(r.Approvals), r.Required(), detail))
		}
		fx.Events = append(fx.Events, l.event(r, actor, StatePending, StateApproved, detail))
		fx.Notices = append(fx.Notices, Notice{Kind: NoticeDecided, RequestID: r.ID, To: r.Requester})
		fx.Notices = append(fx.Notices, homes(tx, append([]string{r.Requester}, r.Approvers...)...)...)
		if err := l.assign(tx, r, now, &fx); err != nil {
			return Effects{}, err
		}
		return fx, nil
	})
}

// PickAdmin returns the admin with the fewest open tasks who is not the
// target, preferring the earlier-configured admin on a tie, or "" if none.
// Admins in avoid (the request's approver) are picked only when no other
// admin can take the task.
func PickAdmin(admins []string, openTasks map[string]int, target string, avoid ...string) string {
	pick := func(skip func(string) bool) string {
		best := ""
		for _, a := range admins {
			if a == target || skip(a) {
				continue
			}
			if best == "" || openTasks[a] < openTasks[best] {
				best = a
			}
		}
		return best
	}
	if a := pick(func(a string) bool { return slices.Contains(avoid, a) }); a != "" {
		return a
	}
	return pick(func(string) bool { return false })
}

// Check returns the request if actor may do act on it now, or the refusal
// the act itself would meet. Handlers use it before opening a modal (a
// deny reason, a failure reason), so nobody types a reason only to be
// refused; the act checks again when submitted.
func (l *Lifecycle) Check(ctx context.Context, act Act, id, actor string) (*Request, error) {
	who, err := l.actor(ctx, actor, nil, needsApprovers(act))
	if err != nil {
		return nil, err
	}
	r, err := l.store.Request(ctx, id)
	if err != nil {
		return nil, err
	}
	g, err := l.store.GrantFor(ctx, r.Target)
	if err != nil {
		return nil, err
	}
	if err := Check(act, who, r, g); err != nil {
		if ref, ok := err.(*Refusal); ok && ref.Reason == ReasonMovedOn && refreshKind(act) != "" {
			// The button's message is out of date: the guarded act
			// refuses the same way and brings it up to date.
			return l.guard(ctx, id, act, actor, func(Tx, *Request, *Grant) (Effects, error) { return Effects{}, err })
		}
		return r, err
	}
	return r, nil
}

// Complete closes an approved request's task as done and updates the ledger.
// Only the assignee may (SPEC §9.4).
//
// A task the ledger has overtaken changes nothing and says so (SPEC §9.3):
// a change whose person holds no seat any more, or a grant whose person
// holds one by another request. It is closed as failed, with the reason,
// and the refusal is returned.
func (l *Lifecycle) Complete(ctx context.Context, id, actor string) (*Request, error) {
	now := l.now()
	var overtaken error
	r, err := l.guard(ctx, id, ActComplete, actor, func(tx Tx, r *Request, g *Grant) (Effects, error) {
		overtaken = nil
		if r.IsGroup() {
			// Mark done on a group's item in a list: the actor's rows.
			return l.rowsDone(tx, r, actor, AllRows, now)
		}
		if why := overtakenBy(r, g); why != "" {
			overtaken = &Refusal{Act: ActComplete, Reason: ReasonMovedOn, Actor: actor, Request: r, Grant: g}
			r.State, r.ClosedAt, r.UpdatedAt, r.FailReason = StateFailed, now, now, why
			r.EscalateAt = time.Time{}
			fx := Effects{Events: []Event{l.event(r, actor, StateApproved, StateFailed, "not applied: "+why)}}
			fx.Notices = append(fx.Notices,
				Notice{Kind: NoticeTaskUpdate, RequestID: r.ID},
				Notice{Kind: NoticeCardsUpdate, RequestID: r.ID},
				Notice{Kind: NoticeFailed, RequestID: r.ID, To: r.Requester})
			fx.Notices = append(fx.Notices, l.auditNotice(r)...)
			fx.Notices = append(fx.Notices, homes(tx, r.Requester, r.Assignee, actor)...)
			return fx, nil
		}
		r.State, r.ClosedBy, r.ClosedAt, r.UpdatedAt = StateFulfilled, actor, now, now
		r.EscalateAt = time.Time{}
		fx := Effects{Events: []Event{l.event(r, actor, StateApproved, StateFulfilled, "")}}
		switch r.Action {
		case ActionGrant, ActionChange:
			fx.Grant = &Grant{UserID: r.Target, Email: r.TargetEmail, Name: r.TargetName, Role: r.Role, Since: now, RequestID: r.ID}
			if r.EndDate != "" {
				if end, err := EndOfDay(r.EndDate, r.EndZone); err == nil {
					r.ExpireAt = end
					r.ExpiryWarnAt = time.Time{}
					if warn := end.Add(-24 * time.Hour); warn.After(now) {
						r.ExpiryWarnAt = warn
					}
				}
			}
		case ActionRemove:
			fx.Revokes = []string{r.Target}
		}
		fx.Notices = append(fx.Notices,
			Notice{Kind: NoticeTaskUpdate, RequestID: r.ID},
			Notice{Kind: NoticeCardsUpdate, RequestID: r.ID})
		// The target of a grant is asked to confirm it works; everyone else
		// is just told. A seat recorded from the seat audit already works.
		confirm := r.Action == ActionGrant && r.Origin != OriginAudit
		if !(confirm && r.Target == r.Requester) {
			fx.Notices = append(fx.Notices, Notice{Kind: NoticeFulfilled, RequestID: r.ID, To: r.Requester})
		}
		switch {
		case confirm:
			fx.Notices = append(fx.Notices, Notice{Kind: NoticeConfirm, RequestID: r.ID, To: r.Target})
		case r.Target != r.Requester && !strings.HasPrefix(r.Target, "email:"):
			fx.Notices = append(fx.Notices, Notice{Kind: NoticeFulfilled, RequestID: r.ID, To: r.Target})
		}
		fx.Notices = append(fx.Notices, l.auditNotice(r)...)
		// Approvers' tabs show the seat count, which just changed.
		fx.Notices = append(fx.Notices, homes(tx, append([]string{r.Requester, r.Assignee, actor}, r.Approvers...)...)...)
		return fx, nil
	})
	if overtaken != nil {
		return nil, overtaken
	}
	return r, err
}

// overtakenBy says why closing task r as done would change the ledger
// against its current state, or "".
func overtakenBy(r *Request, g *Grant) string {
	switch {
	case r.Action == ActionChange && g == nil:
		return fmt.Sprintf("%s holds no UXPin seat in the ledger any more, so there is no role to change", r.TargetEmail)
	case r.Action == ActionGrant && g != nil && g.RequestID != r.ID:
		return fmt.Sprintf("%s already holds UXPin access as %s by %s", r.TargetEmail, g.Role.Label(), g.RequestID)
	}
	return ""
}

// Fail closes an approved request's task as impossible, with the assignee's
// reason. A reopened grant keeps its end date: the person still holds the
// seat, so it still expires.
func (l *Lifecycle) Fail(ctx context.Context, id, actor, reason string) (*Request, error) {
	reason = Clean(reason)
	if reason == "" {
		return nil, &ValidationError{Fields: map[string]string{FieldReason: "Say why the task can't be completed."}}
	}
	if utf8.RuneCountInString(reason) > MaxReason {
		return nil, &ValidationError{Fields: map[string]string{FieldReason: fmt.Sprintf("Keep it under %d characters.", MaxReason)}}
	}
	now := l.now()
	return l.guard(ctx, id, ActFail, actor, func(tx Tx, r *Request, _ *Grant) (Effects, error) {
		if r.IsGroup() {
			// Can't complete on a group: the actor's own rows only.
			return l.failRows(tx, r, actor, reason, now)
		}
		r.State, r.ClosedBy, r.ClosedAt, r.UpdatedAt, r.FailReason = StateFailed, actor, now, now, reason
		fx := Effects{Events: []Event{l.event(r, actor, StateApproved, StateFailed, reason)}}
		fx.Notices = append(fx.Notices,
			Notice{Kind: NoticeTaskUpdate, RequestID: r.ID},
			Notice{Kind: NoticeCardsUpdate, RequestID: r.ID},
			Notice{Kind: NoticeFailed, RequestID: r.ID, To: r.Requester})
		for _, a := range r.Approvers {
			if a != r.Requester {
				fx.Notices = append(fx.Notices, Notice{Kind: NoticeFailed, RequestID: r.ID, To: a})
			}
		}
		r.EscalateAt = time.Time{}
		fx.Notices = append(fx.Notices, l.auditNotice(r)...)
		fx.Notices = append(fx.Notices, homes(tx, r.Requester, r.Assignee, actor)...)
		return fx, nil
	})
}

// TakeOver moves an open task to actor, another UXPin admin (SPEC §9.4). It
// is recorded in the audit log and shown on the task; the previous assignee
// is told.
func (l *Lifecycle) TakeOver(ctx context.Context, id, actor string) (*Request, error) {
	now := l.now()
	if cur, err := l.store.Request(ctx, id); err == nil && cur.IsGroup() {
		return l.takeOverRows(ctx, id, actor, now)
	}
	return l.guard(ctx, id, ActTakeOver, actor, func(tx Tx, r *Request, _ *Grant) (Effects, error) {
		if r.IsGroup() {
			return Effects{}, Errorf(ECONFLICT, "%s changed meanwhile; try again.", r.ID)
		}
		prev := r.Assignee
		if prev != "" {
			r.PreviousAssignees = append(r.PreviousAssignees, prev)
		}
		r.Assignee, r.AssignedAt, r.UpdatedAt = actor, now, now
		r.OrphanNotified = false
		r.TakenOver++
		r.EscalateAt = time.Time{}
		if l.cfg.EscalateAfter > 0 {
			r.EscalateAt = now.Add(l.cfg.EscalateAfter)
		}
		detail := "taken over by " + actor
		if prev != "" {
			detail += " from " + prev
		}
		fx := Effects{Events: []Event{l.event(r, actor, StateApproved, StateApproved, detail)}}
		fx.Notices = append(fx.Notices,
			Notice{Kind: NoticeTaskUpdate, RequestID: r.ID},
			Notice{Kind: NoticeTask, RequestID: r.ID, To: actor})
		if prev != "" {
			fx.Notices = append(fx.Notices, Notice{Kind: NoticeTakenOver, RequestID: r.ID, To: prev})
		}
		fx.Notices = append(fx.Notices, homes(tx, prev, actor)...)
		return fx, nil
	})
}

// Cancel withdraws a pending request; only its requester may.
func (l *Lifecycle) Cancel(ctx context.Context, id, actor string) (*Request, error) {
	now := l.now()
	return l.guard(ctx, id, ActCancel, actor, func(tx Tx, r *Request, _ *Grant) (Effects, error) {
		r.State, r.ClosedBy, r.ClosedAt, r.UpdatedAt = StateCancelled, actor, now, now
		r.RemindAt = time.Time{}
		return Effects{
			Events: []Event{l.event(r, actor, StatePending, StateCancelled, "")},
			Notices: append([]Notice{
				{Kind: NoticeCardsUpdate, RequestID: r.ID},
				{Kind: NoticeCancelled, RequestID: r.ID, To: r.Requester},
			}, homes(tx, append([]string{r.Requester}, r.Approvers...)...)...),
		}, nil
	})
}

// Confirm records that the target of a fulfilled grant can use UXPin.
func (l *Lifecycle) Confirm(ctx context.Context, id, actor string) (*Request, error) {
	now := l.now()
	return l.guard(ctx, id, ActConfirm, actor, func(tx Tx, r *Request, g *Grant) (Effects, error) {
		r.Confirmed, r.ConfirmedAt, r.UpdatedAt = true, now, now
		fx := Effects{
			Events:  []Event{l.event(r, actor, StateFulfilled, StateFulfilled, "the person confirmed the access works")},
			Notices: []Notice{{Kind: NoticeConfirmUpdate, RequestID: r.ID}, {Kind: NoticeConfirmed, RequestID: r.ID, To: r.ClosedBy}},
		}
		c := *g
		c.Confirmed = true
		fx.Grant = &c
		return fx, nil
	})
}

// Reopen sends a fulfilled grant back to its admin because the person cannot
// get in, with their message. Only while the ledger entry is still the
// grant's (SPEC §9.3); the end date is kept.
func (l *Lifecycle) Reopen(ctx context.Context, id, actor, message string) (*Request, error) {
	message = Clean(message)
	if message == "" {
		return nil, &ValidationError{Fields: map[string]string{FieldReason: "Say what happens when you try to sign in."}}
	}
	if utf8.RuneCountInString(message) > MaxReason {
		return nil, &ValidationError{Fields: map[string]string{FieldReason: fmt.Sprintf("Keep it under %d characters.", MaxReason)}}
	}
	now := l.now()
	return l.guard(ctx, id, ActReopen, actor, func(tx Tx, r *Request, _ *Grant) (Effects, error) {
		closer := r.ClosedBy
		r.State, r.UpdatedAt = StateApproved, now
		r.Reopened, r.ReopenReason = r.Reopened+1, message
		r.ClosedBy, r.ClosedAt = "", time.Time{}
		fx := Effects{Events: []Event{l.event(r, actor, StateFulfilled, StateApproved, "reopened: "+message)}}
		if r.Assignee == "" || !l.isAdmin(r.Assignee) || r.Assignee == r.Target {
			if err := l.assign(tx, r, now, &fx); err != nil {
				return Effects{}, err
			}
		} else {
			r.AssignedAt = now
			if l.cfg.EscalateAfter > 0 {
				r.EscalateAt = now.Add(l.cfg.EscalateAfter)
			}
			fx.Notices = append(fx.Notices, Notice{Kind: NoticeTask, RequestID: r.ID, To: r.Assignee})
		}
		fx.Notices = append(fx.Notices, Notice{Kind: NoticeConfirmUpdate, RequestID: r.ID})
		if closer != "" && closer != r.Assignee {
			fx.Notices = append(fx.Notices, Notice{Kind: NoticeConfirmed, RequestID: r.ID, To: closer})
		}
		if r.Requester != r.Target {
			fx.Notices = append(fx.Notices, Notice{Kind: NoticeConfirmed, RequestID: r.ID, To: r.Requester})
		}
		fx.Notices = append(fx.Notices, homes(tx, r.Assignee, r.Requester)...)
		return fx, nil
	})
}

// Request returns one stored request.
func (l *Lifecycle) Request(ctx context.Context, id string) (*Request, error) {
	return l.store.Request(ctx, id)
}

// Grant returns the ledger entry of a Slack user, or nil.
func (l *Lifecycle) Grant(ctx context.Context, user string) (*Grant, error) {
	return l.store.GrantFor(ctx, user)
}

// MyRequests returns the user's requests, newest first.
func (l *Lifecycle) MyRequests(ctx context.Context, user string, limit int) ([]*Request, error) {
	return l.store.RequestsByRequester(ctx, user, limit)
}

// PendingFor returns the pending requests that user may decide on, as the
// policy says.
func (l *Lifecycle) PendingFor(ctx context.Context, user string, limit int) ([]*Request, error) {
	who, err := l.actor(ctx, user, nil, true)
	if err != nil {
		return nil, err
	}
	// Over-fetch a little: requests the user may not decide are skipped.
	all, err := l.store.PendingRequests(ctx, limit+50)
	if err != nil {
		return nil, err
	}
	// Each request is judged with who approves its own role (SPEC §10):
	// an approver of Editor does not see Admin requests they can't decide.
	byRole := map[Role]bool{}
	for _, role := range append([]Role{""}, Roles...) {
		approvers, err := l.approversFor(ctx, &Request{Action: ActionGrant, Role: role})
		if role == "" {
			approvers, err = l.approversFor(ctx, &Request{Action: ActionRemove})
		}
		if err != nil {
			return nil, &Refusal{Reason: ReasonApproversUnknown, Actor: user, cause: err}
		}
		byRole[role] = slices.Contains(approvers, user)
	}
	out := make([]*Request, 0, min(len(all), limit))
	for _, r := range all {
		w := who
		if w.Approver {
			key := r.Role
			if r.Action == ActionRemove {
				key = ""
			}
			w.RoleApprover = byRole[key]
		}
		if len(out) < limit && Check(ActApprove, w, r, nil) == nil {
			out = append(out, r)
		}
	}
	return out, nil
}

// OpenTasks returns the open tasks assigned to admin.
func (l *Lifecycle) OpenTasks(ctx context.Context, admin string, limit int) ([]*Request, error) {
	return l.store.OpenTasks(ctx, admin, limit)
}

// TakeableTasks returns open tasks that admin may take over, oldest first
// per holder: other admins' tasks and group rows, those of admins who left
// UXPIN_ADMINS, and those nobody holds (so that no task is invisible).
func (l *Lifecycle) TakeableTasks(ctx context.Context, admin string, limit int) ([]*Request, error) {
	who := Actor{ID: admin, Admin: l.isAdmin(admin)}
	if !who.Admin {
		return nil, nil
	}
	holders := slices.Clone(l.cfg.Admins)
	counts, err := l.store.TaskAssignees(ctx)
	if err != nil {
		return nil, err
	}
	for h := range counts {
		if !slices.Contains(holders, h) {
			holders = append(holders, h)
		}
	}
	var out []*Request
	for _, other := range holders {
		if other == admin || len(out) >= limit {
			continue
		}
		tasks, err := l.store.OpenTasks(ctx, other, limit-len(out))
		if err != nil {
			return nil, err
		}
		for _, r := range tasks {
			if slices.ContainsFunc(out, func(o *Request) bool { return o.ID == r.ID }) {
				continue
			}
			if takeable(who, r) {
				out = append(out, r)
			}
		}
	}
	return out, nil
}

// takeable reports whether who may take over r, or a row of it.
func takeable(who Actor, r *Request) bool {
	if !r.IsGroup() {
		return Check(ActTakeOver, who, r, nil) == nil
	}
	for i := range r.Rows {
		if Check(ActTakeOver, who, r.RowView(i), nil) == nil {
			return true
		}
	}
	return false
}

// Roster returns the ledger.
func (l *Lifecycle) Roster(ctx context.Context) ([]Grant, error) { return l.store.Roster(ctx) }

// SeatCounts returns the seats in use per role, by the ledger.
func (l *Lifecycle) SeatCounts(ctx context.Context) (map[Role]int, error) {
	return l.store.SeatCounts(ctx)
}
