package access

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Input limits, chosen well inside Slack's (section text ≤ 3000 characters) so
// every message that quotes them stays valid Block Kit.
const (
	MaxJustification = 1000
	MaxReason        = 500
)

// Store persists requests, the ledger, the audit log and the outbox. Every
// change goes through CreateRequest or UpdateRequest, whose fn runs inside one
// write transaction: the request, its events, its ledger change and its notices
// commit together or not at all, and concurrent updates are serialised, so the
// first valid decision wins.
type Store interface {
	// CreateRequest assigns r.ID and r.CreatedAt, calls fn, and stores r with
	// fn's effects. An error from fn aborts the transaction and is returned.
	CreateRequest(ctx context.Context, fn func(tx Tx, r *Request) (Effects, error)) (*Request, error)
	// UpdateRequest loads request id, calls fn on it and stores the result with
	// fn's effects. It returns an ENOTFOUND *Error for an unknown id.
	UpdateRequest(ctx context.Context, id string, fn func(tx Tx, r *Request) (Effects, error)) (*Request, error)
	Request(ctx context.Context, id string) (*Request, error)
	// RequestsByRequester returns up to limit of user's requests, newest first.
	RequestsByRequester(ctx context.Context, user string, limit int) ([]*Request, error)
	// PendingRequests returns up to limit pending requests, oldest first.
	PendingRequests(ctx context.Context, limit int) ([]*Request, error)
	// OpenTasks returns up to limit approved requests assigned to admin, oldest first.
	OpenTasks(ctx context.Context, admin string, limit int) ([]*Request, error)
	// Roster returns the ledger ordered by email.
	Roster(ctx context.Context) ([]Grant, error)
	// DueTimers returns up to limit armed timers due at or before now,
	// earliest first.
	DueTimers(ctx context.Context, now time.Time, limit int) ([]Timer, error)
	// GrantFor returns the ledger entry of a Slack user, or nil.
	GrantFor(ctx context.Context, userID string) (*Grant, error)
	// SeatCounts returns how many ledger entries hold each role, without
	// reading the ledger.
	SeatCounts(ctx context.Context) (map[Role]int, error)
	// CommittedSeats is Tx.CommittedSeats outside a write.
	CommittedSeats(ctx context.Context) (map[Role]int, error)
}

// Tx is the read view a lifecycle step gets inside its write transaction.
type Tx interface {
	// OpenTaskCounts returns the number of open tasks per assigned admin.
	OpenTaskCounts() (map[string]int, error)
	// OpenRequestFor returns the ID of an open (pending or approved) request
	// for target and action, or "".
	OpenRequestFor(target string, action Action) (string, error)
	// GrantFor returns the ledger entry of a Slack user, or nil.
	GrantFor(userID string) (*Grant, error)
	// SeatCounts returns the ledger's entries per role.
	SeatCounts() (map[Role]int, error)
	// CommittedSeats returns, per role, approved grants and role changes
	// whose task is still open: seats about to be used.
	CommittedSeats() (map[Role]int, error)
	// HomeSeen reports whether user ever opened the bot's Home tab.
	HomeSeen(user string) bool
}

// Effects is what a lifecycle step causes besides the request's new state.
type Effects struct {
	Events  []Event
	Notices []Notice
	Grant   *Grant // upserted into the ledger
	Revoke  string // Slack user ID whose ledger entry is removed
	// Spawn is a further request created in the same transaction (an
	// expiry's removal); storage assigns its ID, and its own effects'
	// events and notices default to that ID.
	Spawn *Spawn
}

// Spawn is a request created as a side effect of another's change.
type Spawn struct {
	Request *Request
	Effects Effects
}

// Directory resolves the configured approvers, which may include user groups.
type Directory interface {
	// Approvers returns the user IDs of every approver.
	Approvers(ctx context.Context) ([]string, error)
}

// Policy is the configuration the lifecycle enforces.
type Policy struct {
	Admins           []string      // UXPin admins' Slack user IDs, in assignment-tie order
	AllowedDomains   []string      // lower-case email domains; empty allows all
	AuditChannel     string        // channel for one line per closed request; empty disables
	ReminderInterval time.Duration // re-nudge approvers this often; 0 disables
	EscalateAfter    time.Duration // escalate tasks open this long; 0 disables
	// Purchased seats per role (SPEC §8); zero means not tracked.
	SeatsEditor, SeatsAdmin int
}

// Person is what the lifecycle needs to know about a Slack user.
type Person struct {
	ID      string
	Email   string
	Name    string
	IsBot   bool
	Deleted bool
	// TZ is the person's IANA time zone from their Slack profile
	// (users.info "tz"), e.g. "America/Los_Angeles"; "" when unknown.
	TZ string
}

// Submission is a request as entered in the modal.
type Submission struct {
	Action        Action
	Requester     string
	Target        Person
	Role          Role
	Justification string
	EndDate       string // YYYY-MM-DD or ""
}

// Service runs the request lifecycle of SPEC §5 over a Store.
type Service struct {
	store  Store
	dir    Directory
	policy Policy
	now    func() time.Time
}

// NewService returns a Service. now may be nil for time.Now.
func NewService(store Store, dir Directory, policy Policy, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	for i, d := range policy.AllowedDomains {
		policy.AllowedDomains[i] = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(d), "@"))
	}
	return &Service{store: store, dir: dir, policy: policy, now: now}
}

// Now returns the service clock's current time.
func (s *Service) Now() time.Time { return s.now() }

// IsAdmin reports whether user is a configured UXPin admin.
func (s *Service) IsAdmin(user string) bool { return slices.Contains(s.policy.Admins, user) }

// IsApprover reports whether user is a configured approver, directly or
// through a user group.
func (s *Service) IsApprover(ctx context.Context, user string) (bool, error) {
	approvers, err := s.dir.Approvers(ctx)
	if err != nil {
		return false, fmt.Errorf("resolve approvers: %w", err)
	}
	return slices.Contains(approvers, user), nil
}

// Validate checks a submission against the policy without touching storage.
func (s *Service) Validate(sub Submission) error {
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
	case !s.domainAllowed(t.Email):
		v.add(FieldTarget, fmt.Sprintf("%s is outside the allowed email domains (%s).", t.Email, strings.Join(s.policy.AllowedDomains, ", ")))
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
		end, err := time.Parse(time.DateOnly, sub.EndDate)
		today := s.now().UTC().Format(time.DateOnly)
		switch {
		case err != nil:
			v.add(FieldEndDate, "Use a date like 2026-12-31.")
		case sub.Action == ActionRemove:
			v.add(FieldEndDate, "An end date only applies to granted or changed access.")
		case end.Format(time.DateOnly) <= today:
			v.add(FieldEndDate, "The end date must be in the future.")
		}
	}
	return v.orNil()
}

func (s *Service) domainAllowed(email string) bool {
	if len(s.policy.AllowedDomains) == 0 {
		return true
	}
	_, domain, ok := strings.Cut(strings.ToLower(email), "@")
	return ok && slices.Contains(s.policy.AllowedDomains, domain)
}

// Submit validates and stores a new request, owing the requester a receipt and
// every eligible approver a card.
func (s *Service) Submit(ctx context.Context, sub Submission) (*Request, error) {
	sub.Justification = Clean(sub.Justification)
	if sub.Action == ActionRemove {
		sub.Role = ""
	}
	if err := s.Validate(sub); err != nil {
		return nil, err
	}
	approvers, err := s.dir.Approvers(ctx)
	if err != nil {
		return nil, fmt.Errorf("resolve approvers: %w", err)
	}
	now := s.now()
	return s.create(ctx, func(tx Tx, r *Request) (Effects, error) {
		if id, err := tx.OpenRequestFor(sub.Target.ID, sub.Action); err != nil {
			return Effects{}, err
		} else if id != "" {
			return Effects{}, &ValidationError{Fields: map[string]string{
				FieldTarget: fmt.Sprintf("%s already asks to %s for this person and is still open.", id, strings.ToLower(sub.Action.Label())),
			}}
		}
		g, err := tx.GrantFor(sub.Target.ID)
		if err != nil {
			return Effects{}, err
		}
		if err := checkAgainstLedger(sub, g); err != nil {
			return Effects{}, err
		}
		*r = Request{
			ID: r.ID, CreatedAt: now, UpdatedAt: now,
			Action: sub.Action, Requester: sub.Requester,
			Target: sub.Target.ID, TargetEmail: sub.Target.Email, TargetName: sub.Target.Name,
			Role: sub.Role, Justification: sub.Justification, EndDate: sub.EndDate,
			State: StatePending,
		}
		if g != nil {
			r.CurrentRole = g.Role
		}
		for _, a := range approvers {
			if a != r.Requester && a != r.Target {
				r.Approvers = append(r.Approvers, a)
			}
		}
		if s.policy.ReminderInterval > 0 {
			r.RemindAt = now.Add(s.policy.ReminderInterval)
		}
		fx := Effects{Events: []Event{s.event(r, r.Requester, "", StatePending, "submitted")}}
		fx.Notices = append(fx.Notices, Notice{Kind: NoticeSubmitted, RequestID: r.ID, To: r.Requester})
		for _, a := range r.Approvers {
			fx.Notices = append(fx.Notices, Notice{Kind: NoticeApprovalCard, RequestID: r.ID, To: a})
		}
		fx.Notices = append(fx.Notices, homes(tx, append([]string{r.Requester}, r.Approvers...)...)...)
		return fx, nil
	})
}

func checkAgainstLedger(sub Submission, g *Grant) error {
	switch {
	case sub.Action == ActionGrant && g != nil:
		return &ValidationError{Fields: map[string]string{
			FieldAction: fmt.Sprintf("This person already holds UXPin access as %s (%s). Choose Change role or Remove access.", g.Role.Label(), g.RequestID),
		}}
	case sub.Action == ActionChange && g != nil && g.Role == sub.Role:
		return &ValidationError{Fields: map[string]string{
			FieldRole: fmt.Sprintf("This person already has the %s role.", g.Role.Label()),
		}}
	}
	return nil
}

// Approval qualifies an approval: past the seat budget (the approver
// confirmed it), or for a lesser role than asked.
type Approval struct {
	OverBudget bool
	AsRole     Role
}

// Decide records an approver's decision. Only configured approvers may decide,
// never on their own request or one that targets them; the first valid
// decision wins and any later one gets an ECONFLICT error saying what happened.
// An approval that would exceed the seat budget is refused with an
// EOVERBUDGET error unless made with Approval.OverBudget (see DecideWith).
func (s *Service) Decide(ctx context.Context, id, actor string, approve bool, reason string) (*Request, error) {
	return s.DecideWith(ctx, id, actor, approve, reason, Approval{})
}

// DecideWith is Decide with the approver's qualification of an approval.
func (s *Service) DecideWith(ctx context.Context, id, actor string, approve bool, reason string, opt Approval) (*Request, error) {
	ok, err := s.IsApprover(ctx, actor)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, Errorf(EUNAUTHORIZED, "Only UXPin access approvers can decide on requests.")
	}
	reason = Clean(reason)
	if !approve && reason == "" {
		return nil, &ValidationError{Fields: map[string]string{FieldReason: "Say why the request is denied."}}
	}
	if utf8.RuneCountInString(reason) > MaxReason {
		return nil, &ValidationError{Fields: map[string]string{FieldReason: fmt.Sprintf("Keep it under %d characters.", MaxReason)}}
	}
	now := s.now()
	return s.update(ctx, id, func(tx Tx, r *Request) (Effects, error) {
		if err := decidable(r, actor); err != nil {
			return Effects{}, err
		}
		r.DecidedBy, r.DecidedAt, r.UpdatedAt = actor, now, now
		r.RemindAt = time.Time{}
		fx := Effects{Notices: []Notice{
			{Kind: NoticeCardsUpdate, RequestID: r.ID},
			{Kind: NoticeDecided, RequestID: r.ID, To: r.Requester},
		}}
		fx.Notices = append(fx.Notices, homes(tx, append([]string{r.Requester}, r.Approvers...)...)...)
		if !approve {
			r.State, r.DenyReason = StateDenied, reason
			fx.Events = append(fx.Events, s.event(r, actor, StatePending, StateDenied, reason))
			fx.Notices = append(fx.Notices, s.auditNotice(r)...)
			return fx, nil
		}
		// detail is local: storage may run this function more than once.
		detail := reason
		if opt.AsRole != "" && opt.AsRole != r.Role {
			if r.Action == ActionRemove || !opt.AsRole.Valid() {
				return Effects{}, Errorf(EINVALID, "%s can't be approved with another role.", r.ID)
			}
			detail = fmt.Sprintf("approved as %s instead of %s", opt.AsRole.Label(), r.Role.Label())
			r.Role = opt.AsRole
		}
		if err := s.checkBudget(tx, r, opt.OverBudget); err != nil {
			return Effects{}, err
		}
		if opt.OverBudget {
			detail = strings.TrimSpace(detail + " (past the seat budget, confirmed)")
		}
		r.State = StateApproved
		fx.Events = append(fx.Events, s.event(r, actor, StatePending, StateApproved, detail))
		if err := s.assign(tx, r, now, &fx); err != nil {
			return Effects{}, err
		}
		return fx, nil
	})
}

// assign gives an approved request's task to the least-loaded admin who is
// not its target, arms its escalation, and owes that admin the task DM.
func (s *Service) assign(tx Tx, r *Request, now time.Time, fx *Effects) error {
	counts, err := tx.OpenTaskCounts()
	if err != nil {
		return err
	}
	r.Assignee = PickAdmin(s.policy.Admins, counts, r.Target)
	if r.Assignee == "" {
		fx.Events = append(fx.Events, s.event(r, "", StateApproved, StateApproved, "no eligible UXPin admin to assign"))
		return nil
	}
	r.AssignedAt = now
	if s.policy.EscalateAfter > 0 {
		r.EscalateAt = now.Add(s.policy.EscalateAfter)
	}
	fx.Events = append(fx.Events, s.event(r, "", StateApproved, StateApproved, "assigned to "+r.Assignee))
	fx.Notices = append(fx.Notices, Notice{Kind: NoticeTask, RequestID: r.ID, To: r.Assignee}, Notice{Kind: NoticeHome, To: r.Assignee})
	return nil
}

// decidable reports why actor, a configured approver, may not decide on r now.
func decidable(r *Request, actor string) error {
	if r.State != StatePending {
		return Errorf(ECONFLICT, "%s is already %s.", r.ID, Describe(r))
	}
	if actor == r.Requester {
		return Errorf(EUNAUTHORIZED, "You can't decide on your own request %s; another approver will.", r.ID)
	}
	if actor == r.Target {
		return Errorf(EUNAUTHORIZED, "You can't decide on %s because it is about your own access; another approver will.", r.ID)
	}
	return nil
}

// closable reports why r's task cannot be closed now.
func closable(r *Request) error {
	switch r.State {
	case StateApproved:
		return nil
	case StatePending:
		return Errorf(ECONFLICT, "%s has no task yet: it is %s.", r.ID, Describe(r))
	}
	return Errorf(ECONFLICT, "%s is already %s.", r.ID, Describe(r))
}

// CheckDecide returns the request if actor may decide on it now, or the error
// Decide would return. Handlers use it before asking for a deny reason, so
// nobody types a reason only to be refused; Decide checks again.
func (s *Service) CheckDecide(ctx context.Context, id, actor string) (*Request, error) {
	ok, err := s.IsApprover(ctx, actor)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, Errorf(EUNAUTHORIZED, "Only UXPin access approvers can decide on requests.")
	}
	r, err := s.store.Request(ctx, id)
	if err != nil {
		return nil, err
	}
	return r, decidable(r, actor)
}

// CheckClose returns the request if actor may close its task now, or the
// error Complete and Fail would return.
func (s *Service) CheckClose(ctx context.Context, id, actor string) (*Request, error) {
	if !s.IsAdmin(actor) {
		return nil, Errorf(EUNAUTHORIZED, "Only UXPin admins can close tasks.")
	}
	r, err := s.store.Request(ctx, id)
	if err != nil {
		return nil, err
	}
	return r, closable(r)
}

// PickAdmin returns the admin with the fewest open tasks who is not the
// target, preferring the earlier-configured admin on a tie, or "" if none.
func PickAdmin(admins []string, openTasks map[string]int, target string) string {
	best := ""
	for _, a := range admins {
		if a == target {
			continue
		}
		if best == "" || openTasks[a] < openTasks[best] {
			best = a
		}
	}
	return best
}

// Complete closes an approved request's task as done and updates the ledger.
func (s *Service) Complete(ctx context.Context, id, actor string) (*Request, error) {
	if !s.IsAdmin(actor) {
		return nil, Errorf(EUNAUTHORIZED, "Only UXPin admins can close tasks.")
	}
	now := s.now()
	return s.update(ctx, id, func(tx Tx, r *Request) (Effects, error) {
		if err := closable(r); err != nil {
			return Effects{}, err
		}
		r.State, r.ClosedBy, r.ClosedAt, r.UpdatedAt = StateFulfilled, actor, now, now
		r.EscalateAt = time.Time{}
		fx := Effects{Events: []Event{s.event(r, actor, StateApproved, StateFulfilled, "")}}
		switch r.Action {
		case ActionGrant, ActionChange:
			fx.Grant = &Grant{UserID: r.Target, Email: r.TargetEmail, Name: r.TargetName, Role: r.Role, Since: now, RequestID: r.ID}
			if end, err := time.Parse(time.DateOnly, r.EndDate); err == nil {
				r.ExpireAt = end.UTC()
				if warn := r.ExpireAt.Add(-24 * time.Hour); warn.After(now) {
					r.ExpiryWarnAt = warn
				}
			}
		case ActionRemove:
			fx.Revoke = r.Target
		}
		fx.Notices = append(fx.Notices,
			Notice{Kind: NoticeTaskUpdate, RequestID: r.ID},
			Notice{Kind: NoticeCardsUpdate, RequestID: r.ID})
		// The target of a grant is asked to confirm it works; everyone else
		// is just told.
		confirm := r.Action == ActionGrant
		if !(confirm && r.Target == r.Requester) {
			fx.Notices = append(fx.Notices, Notice{Kind: NoticeFulfilled, RequestID: r.ID, To: r.Requester})
		}
		switch {
		case confirm:
			fx.Notices = append(fx.Notices, Notice{Kind: NoticeConfirm, RequestID: r.ID, To: r.Target})
		case r.Target != r.Requester:
			fx.Notices = append(fx.Notices, Notice{Kind: NoticeFulfilled, RequestID: r.ID, To: r.Target})
		}
		fx.Notices = append(fx.Notices, s.auditNotice(r)...)
		// Approvers' tabs show the seat count, which just changed.
		fx.Notices = append(fx.Notices, homes(tx, append([]string{r.Requester, r.Assignee, actor}, r.Approvers...)...)...)
		return fx, nil
	})
}

// Fail closes an approved request's task as impossible, with the admin's reason.
func (s *Service) Fail(ctx context.Context, id, actor, reason string) (*Request, error) {
	if !s.IsAdmin(actor) {
		return nil, Errorf(EUNAUTHORIZED, "Only UXPin admins can close tasks.")
	}
	reason = Clean(reason)
	if reason == "" {
		return nil, &ValidationError{Fields: map[string]string{FieldReason: "Say why the task can't be completed."}}
	}
	if utf8.RuneCountInString(reason) > MaxReason {
		return nil, &ValidationError{Fields: map[string]string{FieldReason: fmt.Sprintf("Keep it under %d characters.", MaxReason)}}
	}
	now := s.now()
	return s.update(ctx, id, func(tx Tx, r *Request) (Effects, error) {
		if err := closable(r); err != nil {
			return Effects{}, err
		}
		r.State, r.ClosedBy, r.ClosedAt, r.UpdatedAt, r.FailReason = StateFailed, actor, now, now, reason
		fx := Effects{Events: []Event{s.event(r, actor, StateApproved, StateFailed, reason)}}
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
		fx.Notices = append(fx.Notices, s.auditNotice(r)...)
		fx.Notices = append(fx.Notices, homes(tx, r.Requester, r.Assignee, actor)...)
		return fx, nil
	})
}

// Cancel withdraws a pending request; only its requester may.
func (s *Service) Cancel(ctx context.Context, id, actor string) (*Request, error) {
	now := s.now()
	return s.update(ctx, id, func(tx Tx, r *Request) (Effects, error) {
		if actor != r.Requester {
			return Effects{}, Errorf(EUNAUTHORIZED, "Only the person who made %s can cancel it.", r.ID)
		}
		if r.State != StatePending {
			return Effects{}, Errorf(ECONFLICT, "%s can't be cancelled: it is already %s.", r.ID, Describe(r))
		}
		r.State, r.ClosedBy, r.ClosedAt, r.UpdatedAt = StateCancelled, actor, now, now
		r.RemindAt = time.Time{}
		return Effects{
			Events: []Event{s.event(r, actor, StatePending, StateCancelled, "")},
			Notices: append([]Notice{
				{Kind: NoticeCardsUpdate, RequestID: r.ID},
				{Kind: NoticeCancelled, RequestID: r.ID, To: r.Requester},
			}, homes(tx, append([]string{r.Requester}, r.Approvers...)...)...),
		}, nil
	})
}

// Request returns one stored request.
func (s *Service) Request(ctx context.Context, id string) (*Request, error) {
	return s.store.Request(ctx, id)
}

// MyRequests returns the user's requests, newest first.
func (s *Service) MyRequests(ctx context.Context, user string, limit int) ([]*Request, error) {
	return s.store.RequestsByRequester(ctx, user, limit)
}

// PendingFor returns the pending requests that user may decide on.
func (s *Service) PendingFor(ctx context.Context, user string, limit int) ([]*Request, error) {
	// Over-fetch a little: requests the user made or that target them are skipped.
	all, err := s.store.PendingRequests(ctx, limit+50)
	if err != nil {
		return nil, err
	}
	out := make([]*Request, 0, min(len(all), limit))
	for _, r := range all {
		if r.Requester != user && r.Target != user && len(out) < limit {
			out = append(out, r)
		}
	}
	return out, nil
}

// OpenTasks returns the open tasks assigned to admin.
func (s *Service) OpenTasks(ctx context.Context, admin string, limit int) ([]*Request, error) {
	return s.store.OpenTasks(ctx, admin, limit)
}

// Roster returns the ledger.
func (s *Service) Roster(ctx context.Context) ([]Grant, error) { return s.store.Roster(ctx) }

// SeatCounts returns the seats in use per role, by the ledger.
func (s *Service) SeatCounts(ctx context.Context) (map[Role]int, error) {
	return s.store.SeatCounts(ctx)
}

func (s *Service) event(r *Request, actor string, from, to State, detail string) Event {
	e := EventFor(r)
	e.Time, e.Actor, e.From, e.To, e.Detail = s.now(), actor, from, to, detail
	return e
}

// homes owes a refresh of their App Home tab to each distinct user who has
// one open; the others would see the change whenever they open it.
func homes(tx Tx, users ...string) []Notice {
	out := make([]Notice, 0, len(users))
	seen := map[string]bool{}
	for _, u := range users {
		if u != "" && !seen[u] && tx.HomeSeen(u) {
			seen[u] = true
			out = append(out, Notice{Kind: NoticeHome, To: u})
		}
	}
	return out
}

func (s *Service) auditNotice(r *Request) []Notice {
	if s.policy.AuditChannel == "" {
		return nil
	}
	return []Notice{{Kind: NoticeAudit, RequestID: r.ID, To: s.policy.AuditChannel}}
}

// Describe says in a few words where a request stands and who put it there,
// for answers such as "R-3 is already approved by <@U1>".
func Describe(r *Request) string {
	switch r.State {
	case StatePending:
		return "waiting for approval"
	case StateApproved:
		if r.Assignee == "" {
			return fmt.Sprintf("approved by %s, waiting for a UXPin admin", Approver(r))
		}
		return fmt.Sprintf("approved by %s and assigned to <@%s>", Approver(r), r.Assignee)
	case StateDenied:
		return fmt.Sprintf("denied by <@%s>", r.DecidedBy)
	case StateFulfilled:
		return fmt.Sprintf("done, closed by <@%s>", r.ClosedBy)
	case StateFailed:
		return fmt.Sprintf("failed, closed by <@%s>", r.ClosedBy)
	case StateCancelled:
		return "cancelled by the requester"
	}
	return string(r.State)
}

// Clean trims s and drops control characters other than newlines and tabs, so
// user text cannot break messages or logs.
func Clean(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return r
		}
		if unicode.IsControl(r) || r == utf8.RuneError {
			return -1
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}
