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

// Store persists requests, the ledger, the audit log, the outbox and the
// seat audits. Every change goes through CreateRequest or UpdateRequest, whose
// fn runs inside one write transaction: the request, its events, its ledger
// change and its notices commit together or not at all, and concurrent
// updates are serialised, so the first valid decision wins.
//
// fn may run more than once for one call (storage batches commits, and a
// batch that fails is retried one function at a time), so it must derive
// everything from its arguments and keep no effect outside its return value.
type Store interface {
	AuditStore
	ReviewStore
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
	// TaskAssignees returns how many open tasks each assignee holds, ""
	// counting those nobody could be assigned.
	TaskAssignees(ctx context.Context) (map[string]int, error)
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
	// Request returns a stored request as it is in this transaction, or an
	// ENOTFOUND *Error.
	Request(id string) (*Request, error)
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
	// Revokes are the Slack user IDs whose ledger entries are removed: a
	// removal's target, or the rows of a request group done together.
	Revokes []string
	// Spawn is a further request created in the same transaction (an
	// expiry's removal); storage assigns its ID, and its own effects'
	// events and notices default to that ID.
	Spawn *Spawn
	// Also are other requests changed in the same transaction (an open
	// removal a removal of the bot's own takes over). Each is stored only
	// if its Version is still the stored one, with its version increased.
	Also []Also
}

// Also is another request's new state and effects, stored with a change.
type Also struct {
	Request *Request
	Effects Effects
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

// Config is the configuration the lifecycle enforces.
type Config struct {
	Admins           []string      // UXPin admins' Slack user IDs, in assignment-tie order
	AllowedDomains   []string      // lower-case email domains; empty allows all
	AuditChannel     string        // channel for one line per closed request; empty disables
	ReminderInterval time.Duration // re-nudge approvers this often; 0 disables
	EscalateAfter    time.Duration // escalate tasks open this long; 0 disables
	// Purchased seats per role (SPEC §8); zero means not tracked.
	SeatsEditor, SeatsAdmin int
	// MaxAccessDays bounds an end date, in days from today (SPEC §9.6);
	// zero means DefaultMaxAccessDays.
	MaxAccessDays int
	// LeaverAutoMax is the most leavers one check removes without asking
	// the approvers (SPEC §9.2); zero always asks.
	LeaverAutoMax int
	// ApprovalsRequired is how many distinct approvals a grant or change to
	// a role needs (SPEC §10); a role not in it needs one.
	ApprovalsRequired map[Role]int
	// ApproversByRole narrows who approves grants and changes to a role
	// (SPEC §10); a role not in it is approved by the default approvers.
	// Removals are always approved by the default approvers.
	ApproversByRole map[Role]Directory
	// AutoApproveRoles are granted without an approver ("approved by
	// policy"), inside the allowed domains and the seat budget.
	AutoApproveRoles []Role
	// ReviewEvery starts an access review this often (SPEC §11); zero
	// starts them only on demand.
	ReviewEvery time.Duration
	// ReviewDays is how long a review stays open; zero means
	// DefaultReviewDays.
	ReviewDays int
}

// Required returns how many distinct approvals r needs.
func (c Config) Required(r *Request) int {
	if r.Action == ActionRemove {
		return 1
	}
	return max(1, c.ApprovalsRequired[r.Role])
}

// DefaultMaxAccessDays is the latest end date a request may ask for when
// the configuration sets none.
const DefaultMaxAccessDays = 365

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
	// RequesterTZ is the requester's Slack time zone: the end date ends at
	// the end of that day there.
	RequesterTZ string
}

// core is what every part of the lifecycle shares: the store, the approver
// directory, the configuration and the clock.
type core struct {
	store Store
	dir   Directory
	cfg   Config
	now   func() time.Time
}

// Service is the whole request lifecycle of SPEC §5, in parts that each own
// one concern: the Lifecycle (requests, decisions, tasks), the Timers
// (reminders, escalation, expiry), the Leavers, the SeatAudit and the
// Reviews (access reviews, SPEC §11). Who may do what is decided by the
// policy table (policy.go), which every part asks.
type Service struct {
	*Lifecycle
	*Timers
	*Leavers
	*SeatAudit
	*Reviews
	c *core
}

// NewService returns a Service over store. now may be nil for time.Now.
func NewService(store Store, dir Directory, cfg Config, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	cfg.AllowedDomains = slices.Clone(cfg.AllowedDomains)
	for i, d := range cfg.AllowedDomains {
		cfg.AllowedDomains[i] = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(d), "@"))
	}
	if cfg.MaxAccessDays <= 0 {
		cfg.MaxAccessDays = DefaultMaxAccessDays
	}
	c := &core{store: store, dir: dir, cfg: cfg, now: now}
	return &Service{
		Lifecycle: &Lifecycle{c},
		Timers:    &Timers{c},
		Leavers:   &Leavers{c},
		SeatAudit: &SeatAudit{c},
		Reviews:   &Reviews{c},
		c:         c,
	}
}

// Now returns the service clock's current time.
func (s *Service) Now() time.Time { return s.c.now() }

// IsAdmin reports whether user is a configured UXPin admin.
func (s *Service) IsAdmin(user string) bool { return s.c.isAdmin(user) }

// IsApprover reports whether user is a configured approver, directly or
// through a user group.
func (s *Service) IsApprover(ctx context.Context, user string) (bool, error) {
	return s.c.isApprover(ctx, user)
}

// Privileged reports whether user may run and act on seat audits and see the
// roster: approvers and admins.
func (s *Service) Privileged(ctx context.Context, user string) (bool, error) {
	a, err := s.c.actor(ctx, user, nil, true)
	if err != nil {
		return false, err
	}
	return Check(ActAudit, a, nil, nil) == nil, nil
}

// RolePolicy is how requests for one role are approved (SPEC §10), for
// help texts.
type RolePolicy struct {
	Role         Role
	Required     int      // distinct approvals needed
	AutoApproved bool     // granted without an approver, within the seat budget
	OwnApprovers bool     // approved by the role's own approvers
	Approvers    []string // who approves it now
}

// Policies says how each role is approved, as configured.
func (s *Service) Policies(ctx context.Context) ([]RolePolicy, error) {
	out := make([]RolePolicy, 0, len(Roles))
	for _, role := range Roles {
		r := &Request{Action: ActionGrant, Role: role}
		approvers, err := s.c.approversFor(ctx, r)
		if err != nil {
			return nil, err
		}
		out = append(out, RolePolicy{
			Role: role, Required: s.c.cfg.Required(r), AutoApproved: s.c.byPolicy(r) == PolicyAutoRole,
			OwnApprovers: s.c.cfg.ApproversByRole[role] != nil, Approvers: approvers,
		})
	}
	return out, nil
}

// Approvers returns the user IDs of every approver, for messages that ask
// them all.
func (s *Service) Approvers(ctx context.Context) ([]string, error) { return s.c.dir.Approvers(ctx) }

func (c *core) isAdmin(user string) bool { return user != "" && slices.Contains(c.cfg.Admins, user) }

func (c *core) isApprover(ctx context.Context, user string) (bool, error) {
	approvers, err := c.allApprovers(ctx)
	if err != nil {
		return false, err
	}
	return slices.Contains(approvers, user), nil
}

// roleDir is the directory of the approvers of what r asks: the role's own
// when configured, else the default approvers.
func (c *core) roleDir(r *Request) Directory {
	if r != nil && r.Action != ActionRemove {
		if d := c.cfg.ApproversByRole[r.Role]; d != nil {
			return d
		}
	}
	return c.dir
}

// approversFor returns who may approve r (SPEC §10).
func (c *core) approversFor(ctx context.Context, r *Request) ([]string, error) {
	out, err := c.roleDir(r).Approvers(ctx)
	if err != nil {
		return nil, fmt.Errorf("resolve approvers: %w", err)
	}
	return out, nil
}

// allApprovers returns everyone who approves anything: the default
// approvers and those of each role.
func (c *core) allApprovers(ctx context.Context) ([]string, error) {
	out, err := c.dir.Approvers(ctx)
	if err != nil {
		return nil, fmt.Errorf("resolve approvers: %w", err)
	}
	out = slices.Clone(out)
	for _, role := range Roles {
		d := c.cfg.ApproversByRole[role]
		if d == nil {
			continue
		}
		more, err := d.Approvers(ctx)
		if err != nil {
			return nil, fmt.Errorf("resolve %s approvers: %w", role.Label(), err)
		}
		for _, u := range more {
			if !slices.Contains(out, u) {
				out = append(out, u)
			}
		}
	}
	return out, nil
}

// actor builds what configuration says about user for an act on r. The
// approver list is read only when withApprovers, as it may need Slack; if
// Slack cannot say, the act is refused (fail closed, SPEC §9.5).
func (c *core) actor(ctx context.Context, user string, r *Request, withApprovers bool) (Actor, error) {
	a := Actor{ID: user, Admin: c.isAdmin(user)}
	if withApprovers && user != "" {
		ok, err := c.isApprover(ctx, user)
		if err != nil {
			return Actor{}, &Refusal{Reason: ReasonApproversUnknown, Actor: user, Request: r, cause: err}
		}
		a.Approver, a.RoleApprover = ok, ok
		if ok && r != nil {
			role, err := c.approversFor(ctx, r)
			if err != nil {
				return Actor{}, &Refusal{Reason: ReasonApproversUnknown, Actor: user, Request: r, cause: err}
			}
			a.RoleApprover = slices.Contains(role, user)
		}
	}
	return a, nil
}

// needsApprovers reports whether deciding act depends on who the approvers are.
func needsApprovers(act Act) bool {
	return act == ActApprove || act == ActDeny || act == ActAudit || act == ActReview || act == ActReviewDecide
}

// guard runs fn on request id inside its write transaction once the policy
// allows act by actor there. A button pressed on a request that moved on
// changes nothing but gets the message it was on brought up to date.
func (c *core) guard(ctx context.Context, id string, act Act, actorID string, fn func(tx Tx, r *Request, g *Grant) (Effects, error)) (*Request, error) {
	var who Actor
	if actorID == "" {
		who = System
	} else {
		// Who approves depends on the role asked, so read the request
		// first; the policy is asked again inside the transaction.
		var cur *Request
		if needsApprovers(act) {
			var err error
			if cur, err = c.store.Request(ctx, id); err != nil {
				return nil, err
			}
		}
		var err error
		if who, err = c.actor(ctx, actorID, cur, needsApprovers(act)); err != nil {
			return nil, err
		}
	}
	var refused error
	r, err := c.update(ctx, id, func(tx Tx, r *Request) (Effects, error) {
		refused = nil
		g, err := tx.GrantFor(r.Target)
		if err != nil {
			return Effects{}, err
		}
		if err := Check(act, who, r, g); err != nil {
			kind := refreshKind(act)
			if ref, ok := err.(*Refusal); ok && ref.Reason == ReasonMovedOn && kind != "" && !who.System {
				refused = err
				if act == ActConfirm || act == ActReopen {
					r.SupersededBy = supersededBy(r, g)
				}
				return Effects{Notices: []Notice{{Kind: kind, RequestID: r.ID}}}, nil
			}
			return Effects{}, err
		}
		return fn(tx, r, g)
	})
	if refused != nil {
		return nil, refused
	}
	return r, err
}

// refreshKind is the update that brings the message an act's button sits on
// up to date.
func refreshKind(act Act) NoticeKind {
	switch act {
	case ActApprove, ActDeny:
		return NoticeCardsUpdate
	case ActComplete, ActFail, ActTakeOver:
		return NoticeTaskUpdate
	case ActConfirm, ActReopen:
		return NoticeConfirmUpdate
	}
	return ""
}

// supersededBy says what replaced a grant in the ledger: the later request's
// ID, or SupersededRemoved.
func supersededBy(r *Request, g *Grant) string {
	switch {
	case r.State != StateFulfilled:
		return ""
	case g == nil:
		return SupersededRemoved
	case g.RequestID != r.ID:
		return g.RequestID
	}
	return ""
}

// SupersededRemoved marks a grant whose access was removed since.
const SupersededRemoved = "removed"

// Lifecycle runs requests from submission to their end (SPEC §5 steps 1–4
// and 9): submit, decide, assign, close, confirm.
type Lifecycle struct{ *core }

func (c *core) event(r *Request, actor string, from, to State, detail string) Event {
	e := EventFor(r)
	e.Time, e.Actor, e.From, e.To, e.Detail = c.now(), actor, from, to, detail
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

func (c *core) auditNotice(r *Request) []Notice {
	if c.cfg.AuditChannel == "" {
		return nil
	}
	return []Notice{{Kind: NoticeAudit, RequestID: r.ID, To: c.cfg.AuditChannel}}
}

// create and update wrap the store's calls so that no notice is ever owed to
// nobody (a leaver removal has no human requester, for instance).
func (c *core) create(ctx context.Context, fn func(Tx, *Request) (Effects, error)) (*Request, error) {
	return c.store.CreateRequest(ctx, func(tx Tx, r *Request) (Effects, error) {
		fx, err := fn(tx, r)
		return fx.addressed(), err
	})
}

func (c *core) update(ctx context.Context, id string, fn func(Tx, *Request) (Effects, error)) (*Request, error) {
	return c.store.UpdateRequest(ctx, id, func(tx Tx, r *Request) (Effects, error) {
		fx, err := fn(tx, r)
		return fx.addressed(), err
	})
}

// Clean trims s and drops what would let user text break or disguise the
// messages and logs it appears in: control characters other than newlines
// and tabs, invalid UTF-8, and the invisible characters in invisible.
//
// Dropping U+200D (zero-width joiner) splits emoji ZWJ sequences into their
// parts, so 👩‍💻 becomes 👩💻. That is accepted: a joiner can also glue
// hidden text to visible text, and a justification reads the same with two
// emoji side by side.
func Clean(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return r
		}
		if unicode.IsControl(r) || r == utf8.RuneError || invisible(r) {
			return -1
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}

// invisible reports whether r is a bidirectional control, which can reorder
// the text around it so that what a reviewer sees is not what was typed
// ("Trojan Source"), or a zero-width character, which can hide text or make
// two different strings look equal.
func invisible(r rune) bool {
	switch r {
	case '\u061c', // Arabic letter mark
		'\u200e', '\u200f', // left-to-right and right-to-left marks
		'\u2066', '\u2067', '\u2068', '\u2069', // isolates
		'\u200b', '\u200c', '\u200d', // zero-width space, non-joiner, joiner
		'\u2060', // word joiner
		'\ufeff', // zero-width no-break space (byte order mark)
		'\u180e': // Mongolian vowel separator
		return true
	}
	// Embeddings and overrides: LRE, RLE, PDF, LRO, RLO.
	return r >= '\u202a' && r <= '\u202e'
}
