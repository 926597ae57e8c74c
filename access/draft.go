package access

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Draft is a request about to be born. Every request, whatever its origin
// (the modal, a multi-person offboard, the seat audit, a review, the leaver
// policy, an end date, later the identity provider), is born through one
// constructor: core.prepare resolves who approves it outside any
// transaction, and birth.build makes it inside the transaction that stores
// it. The constructor is where the rules every origin shares live, so that
// no origin can forget one:
//
//   - the ledger is read again and a draft built on a snapshot that no
//     longer holds (Basis) is refused with a *StaleError;
//   - the ledger rules of the action hold (a grant for someone who holds
//     no seat, a change for someone who does), and no two requests for the
//     same person and kind are open at once (a Grant and a Change count as
//     one kind);
//   - ApprovalsRequired comes from the configuration and the cards go to
//     the role's approvers, never to the requester or a person the request
//     is about;
//   - a draft approved at birth (by evidence, or by a decision already
//     made) must lower access; raising always needs an approver, and
//     auto-approval by policy only grants;
//   - an approved request is assigned to an admin who is not one of its
//     people and, when no approver decided it, not its requester.
type Draft struct {
	Action    Action
	Requester string // "" for the bot's own (a leaver)
	// Target is the person of a single request.
	Target Person
	// Rows make the draft a group of removals (Target is then empty).
	Rows          []GroupRow
	Role          Role
	Justification string
	EndDate       string // YYYY-MM-DD, temporary access only
	EndZone       string // the zone EndDate is read in
	Origin        string
	AutoReason    string

	// Basis is the ledger entry the origin built the draft on: the ID of
	// the request that put the person's entry there, NoGrant for no entry,
	// or "" when the origin read no snapshot (a person in the modal).
	Basis string
	// RowBasis is Basis per group row, by target; rows whose basis no
	// longer holds are left out (Birth.Stale).
	RowBasis map[string]string

	// ApprovedBy is the person whose decision already approves the draft
	// (a reviewer's): it counts as their approval.
	ApprovedBy string
	// Evidence says why the draft needs no approver at all: the leaver
	// policy, an end date, a holder lowering their own seat, a seat audit
	// setting UXPin back down to the ledger.
	Evidence string
	// DecidedBy is recorded as who decided a draft approved by evidence
	// (an expiry keeps the original approver).
	DecidedBy string

	// HeldRole is the role the person holds as far as the origin knows,
	// for when the ledger does not say (a seat the audit found in UXPin).
	HeldRole Role

	// Detail is the creation event's detail; "" says "submitted".
	Detail string
	// Receipt owes the requester the "submitted" message.
	Receipt bool

	// driftFrom makes the draft a seat audit's drift fix: a change that
	// sets UXPin back from this role to the one the ledger holds, so the
	// ledger must still hold Role.
	driftFrom Role
	// supersedes is an open removal of the person that this draft takes
	// over in the same transaction (core.release): it does not count as
	// already open.
	supersedes string
}

// NoGrant is a Basis saying the origin saw no ledger entry for the person.
const NoGrant = "-"

// StaleError refuses a draft built on a ledger entry that has changed since
// (an old seat audit, a review whose seat moved on).
type StaleError struct {
	Email string
	Saw   string // the Basis the origin saw
	Now   *Grant // the ledger entry now, or nil
}

// Error words the refusal for the person who pressed the button.
func (e *StaleError) Error() string {
	now := "holds no UXPin seat in the ledger now"
	if e.Now != nil {
		now = fmt.Sprintf("holds %s by %s now", e.Now.Role.Label(), e.Now.RequestID)
	}
	return fmt.Sprintf("The ledger changed since this was read: %s %s. Nothing was asked; run it again to see the current state.", e.Email, now)
}

// Code is ECONFLICT: the state moved on.
func (e *StaleError) Code() string { return ECONFLICT }

// OpenError refuses a draft for someone who already has a request of the
// same kind open.
type OpenError struct {
	ID     string // the open request
	Action Action // what it asks
	Email  string
}

// Error words the refusal.
func (e *OpenError) Error() string {
	return fmt.Sprintf("%s already asks to %s for %s and is still open.", e.ID, strings.ToLower(e.Action.Label()), e.Email)
}

// Code is ECONFLICT.
func (e *OpenError) Code() string { return ECONFLICT }

// birth is a draft whose approvers are resolved, ready to be built inside a
// transaction.
type birth struct {
	c         *core
	d         Draft
	approvers []string
}

// Birth is what building a draft made besides the request: the group rows
// left out.
type Birth struct {
	// Skipped are group rows left out because a removal is already open
	// for the person: target → the open request's ID.
	Skipped map[string]string
	// Stale are group rows left out because their basis no longer holds.
	Stale []string
}

// prepare resolves who approves the draft (which may ask Slack, so it runs
// before the transaction).
func (c *core) prepare(ctx context.Context, d Draft) (*birth, error) {
	if !d.Action.Valid() {
		return nil, Errorf(EINVALID, "Choose what you want: grant, change or remove.")
	}
	if d.Action == ActionRemove {
		d.Role = ""
	}
	if len(d.Rows) > 0 && d.Action != ActionRemove {
		return nil, Errorf(EINVALID, "Only removals can be asked for several people at once.")
	}
	approvers, err := c.approversFor(ctx, &Request{Action: d.Action, Role: d.Role})
	if err != nil {
		return nil, err
	}
	return &birth{c: c, d: d, approvers: approvers}, nil
}

// with returns b for another draft of the same action and role (the
// approvers resolved once serve many drafts in one transaction).
func (b *birth) with(d Draft) (*birth, error) {
	if d.Action == ActionRemove {
		d.Role = ""
	}
	if d.Action != b.d.Action || d.Role != b.d.Role {
		return nil, fmt.Errorf("draft for %s %s prepared as %s %s", d.Action, d.Role, b.d.Action, b.d.Role)
	}
	c := *b
	c.d = d
	return &c, nil
}

// born prepares and stores a draft as a request of its own.
func (c *core) born(ctx context.Context, d Draft) (*Request, Birth, error) {
	b, err := c.prepare(ctx, d)
	if err != nil {
		return nil, Birth{}, err
	}
	var out Birth
	now := c.now()
	r, err := c.create(ctx, func(tx Tx, r *Request) (Effects, error) {
		var fx Effects
		var err error
		out, fx, err = b.build(tx, r, now)
		return fx, err
	})
	return r, out, err
}

// build makes the request in r (keeping r.ID, which may be "" for a request
// created as a side effect) inside tx, and returns its effects.
func (b *birth) build(tx Tx, r *Request, now time.Time) (Birth, Effects, error) {
	d := b.d
	d.Justification = Clean(d.Justification)
	out := Birth{Skipped: map[string]string{}}
	*r = Request{
		ID: r.ID, CreatedAt: now, UpdatedAt: now,
		Action: d.Action, Requester: d.Requester, Role: d.Role,
		Justification: d.Justification, State: StatePending,
		Origin: d.Origin, AutoReason: d.AutoReason,
	}
	var g *Grant
	if len(d.Rows) > 0 {
		rows, err := b.rows(tx, &out)
		if err != nil {
			return out, Effects{}, err
		}
		r.Rows = rows
		r.TargetEmail = fmt.Sprintf("%d people", len(rows))
	} else {
		var err error
		if g, err = b.single(tx, r); err != nil {
			return out, Effects{}, err
		}
	}
	for _, a := range b.approvers {
		if a != r.Requester && !r.IsAbout(a) && !slices.Contains(r.Approvers, a) {
			r.Approvers = append(r.Approvers, a)
		}
	}
	r.ApprovalsRequired = b.c.cfg.Required(r)

	actor := r.Requester
	if d.ApprovedBy != "" {
		actor = d.ApprovedBy
	} else if d.DecidedBy != "" {
		actor = d.DecidedBy
	}
	detail := d.Detail
	switch {
	case detail != "":
	case r.IsGroup():
		detail = fmt.Sprintf("submitted: a group of %d removals", len(r.Rows))
	default:
		detail = "submitted"
	}
	fx := Effects{}
	if d.Receipt {
		fx.Notices = append(fx.Notices, Notice{Kind: NoticeSubmitted, RequestID: r.ID, To: r.Requester})
	}
	if d.ApprovedBy != "" || d.Evidence != "" {
		if !r.Lowers() {
			return out, Effects{}, Errorf(EINVALID, "%s would give access, so an approver must decide it.", r.TargetEmail)
		}
		r.State, r.DecidedAt = StateApproved, now
		r.DecidedBy = d.DecidedBy
		if d.ApprovedBy != "" {
			r.DecidedBy = d.ApprovedBy
			r.Approvals = []Approval{{By: d.ApprovedBy, At: now}}
			r.Approvers = []string{d.ApprovedBy}
		}
		fx.Events = append(fx.Events, b.c.event(r, actor, "", StateApproved, detail))
		if err := b.c.assign(tx, r, now, &fx); err != nil {
			return out, Effects{}, err
		}
		fx.Notices = append(fx.Notices, homes(tx, r.Requester)...)
		return out, fx, nil
	}
	fx.Events = append(fx.Events, b.c.event(r, actor, "", StatePending, detail))
	if policy := b.c.byPolicy(r); policy != "" && Check(ActApproveByPolicy, System, r, g) == nil {
		if err := b.c.checkBudget(tx, r, false); err == nil {
			r.State, r.ByPolicy, r.DecidedAt = StateApproved, policy, now
			fx.Events = append(fx.Events, b.c.event(r, "", StatePending, StateApproved, "approved by policy: "+policyDetail(policy, r)))
			fx.Notices = append(fx.Notices, Notice{Kind: NoticeDecided, RequestID: r.ID, To: r.Requester})
			if err := b.c.assign(tx, r, now, &fx); err != nil {
				return out, Effects{}, err
			}
			fx.Notices = append(fx.Notices, homes(tx, r.Requester)...)
			return out, fx, nil
		} else if _, over := err.(*BudgetError); !over {
			return out, Effects{}, err
		}
		// Past the seat budget the approvers decide, as for any role.
		fx.Events = append(fx.Events, b.c.event(r, "", StatePending, StatePending, "not approved by policy: no "+r.Role.Label()+" seat is left in the budget"))
	}
	if b.c.cfg.ReminderInterval > 0 {
		r.RemindAt = now.Add(b.c.cfg.ReminderInterval)
	}
	for _, a := range r.Approvers {
		fx.Notices = append(fx.Notices, Notice{Kind: NoticeApprovalCard, RequestID: r.ID, To: a})
	}
	fx.Notices = append(fx.Notices, homes(tx, append([]string{r.Requester}, r.Approvers...)...)...)
	return out, fx, nil
}

// openKinds are the actions that count as one for "already open": a person
// has at most one grant-or-change and one removal open.
func openKinds(a Action) []Action {
	if a == ActionRemove {
		return []Action{ActionRemove}
	}
	return []Action{ActionGrant, ActionChange}
}

// basisOf is the Basis that ledger entry g is.
func basisOf(g *Grant) string {
	if g == nil {
		return NoGrant
	}
	return g.RequestID
}

// single fills a single request's person and checks it against the ledger.
func (b *birth) single(tx Tx, r *Request) (*Grant, error) {
	d := b.d
	t := d.Target
	if t.ID == "" {
		return nil, &ValidationError{Fields: map[string]string{FieldTarget: "Choose the person this request is for."}}
	}
	email := t.Email
	for _, a := range openKinds(d.Action) {
		if id, err := tx.OpenRequestFor(t.ID, a); err != nil {
			return nil, err
		} else if id != "" && id != d.supersedes {
			return nil, &OpenError{ID: id, Action: a, Email: email}
		}
	}
	g, err := tx.GrantFor(t.ID)
	if err != nil {
		return nil, err
	}
	if d.Basis != "" && d.Basis != basisOf(g) {
		return nil, &StaleError{Email: email, Saw: d.Basis, Now: g}
	}
	switch {
	case d.driftFrom != "":
		if g == nil || g.Role != d.Role {
			return nil, &StaleError{Email: email, Saw: d.Basis, Now: g}
		}
	default:
		if err := checkAgainstLedger(d.Action, d.Role, g); err != nil {
			return nil, err
		}
	}
	r.Target, r.TargetEmail, r.TargetName = t.ID, t.Email, t.Name
	if g != nil {
		r.CurrentRole = g.Role
		if d.driftFrom != "" {
			r.CurrentRole = d.driftFrom
		}
		if r.TargetEmail == "" {
			r.TargetEmail = g.Email
		}
		if r.TargetName == "" {
			r.TargetName = g.Name
		}
	}
	if r.CurrentRole == "" {
		r.CurrentRole = d.HeldRole
	}
	if d.EndDate != "" {
		r.EndDate, r.EndZone = d.EndDate, d.EndZone
	} else if d.Action == ActionChange && g != nil {
		// A change keeps the end of temporary access: changing the role
		// must not make it permanent.
		src, err := tx.Request(g.RequestID)
		if err != nil && ErrorCode(err) != ENOTFOUND {
			return nil, err
		}
		if src != nil && src.EndDate != "" && src.Action != ActionRemove {
			r.EndDate, r.EndZone = src.EndDate, src.EndZone
		}
	}
	return g, nil
}

// rows fills a group's rows from the ledger, leaving out people with a
// removal already open and rows whose basis no longer holds.
func (b *birth) rows(tx Tx, out *Birth) ([]GroupRow, error) {
	var rows []GroupRow
	seen := map[string]bool{}
	for _, row := range b.d.Rows {
		if row.Target == "" || seen[row.Target] {
			continue
		}
		seen[row.Target] = true
		if id, err := tx.OpenRequestFor(row.Target, ActionRemove); err != nil {
			return nil, err
		} else if id != "" {
			out.Skipped[row.Target] = id
			continue
		}
		gr, err := tx.GrantFor(row.Target)
		if err != nil {
			return nil, err
		}
		if want, ok := b.d.RowBasis[row.Target]; ok && want != basisOf(gr) {
			out.Stale = append(out.Stale, row.Target)
			continue
		}
		if gr != nil {
			row.Role, row.Email = gr.Role, gr.Email
			if row.Name == "" {
				row.Name = gr.Name
			}
		}
		rows = append(rows, GroupRow{Target: row.Target, Email: row.Email, Name: row.Name, Role: row.Role})
	}
	if len(rows) == 0 {
		if len(out.Stale) > 0 && len(out.Skipped) == 0 {
			return nil, Errorf(ECONFLICT, "The ledger changed for everyone named since it was read; nothing was asked.")
		}
		return nil, Errorf(ECONFLICT, "A removal is already open for everyone named.")
	}
	return rows, nil
}

// checkAgainstLedger applies the ledger rules of an action: a grant is for
// someone without a seat, a change for someone with one and another role.
func checkAgainstLedger(action Action, role Role, g *Grant) error {
	switch {
	case action == ActionGrant && g != nil:
		return &ValidationError{Fields: map[string]string{
			FieldAction: fmt.Sprintf("This person already holds UXPin access as %s (%s). Choose Change role or Remove access.", g.Role.Label(), g.RequestID),
		}}
	case action == ActionChange && g == nil:
		return &ValidationError{Fields: map[string]string{
			FieldAction: "This person holds no UXPin access in the ledger. Choose Grant access.",
		}}
	case action == ActionChange && g.Role == role:
		return &ValidationError{Fields: map[string]string{
			FieldRole: fmt.Sprintf("This person already has the %s role.", g.Role.Label()),
		}}
	}
	return nil
}

// Lowers reports whether r only lowers access: a removal, or a change to a
// lesser role than the one held.
func (r *Request) Lowers() bool {
	switch r.Action {
	case ActionRemove:
		return true
	case ActionChange:
		return r.CurrentRole.Valid() && r.Role.Rank() < r.CurrentRole.Rank()
	}
	return false
}

// Unreviewed reports whether no approver decided r: it was approved by
// policy or on evidence. Its requester then never closes it, so that a
// second person is always involved (SPEC §9.1).
func (r *Request) Unreviewed() bool { return r.DecidedBy == "" && len(r.Approvals) == 0 }
