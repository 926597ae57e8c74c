package access

import (
	"context"
	"errors"
)

// Leavers removes the seats of people who left (SPEC §5 step 7, §9.2): on
// Slack's own word only, and never more at once than the configuration
// allows without asking the approvers.
type Leavers struct{ *core }

// LeaverCheck is the outcome of one check for leavers.
type LeaverCheck struct {
	// Removals are the removal requests created, approved by the leaver
	// policy.
	Removals []*Request
	// Held are the leavers with seats that were not removed because there
	// were more than Config.LeaverAutoMax of them: the approvers decide.
	Held []Grant
	// Skipped are leavers with nothing to do: no seat in the ledger, or a
	// removal already open.
	Skipped int
}

// CheckLeavers offboards people Slack reports deactivated (deleted: true
// from users.info; the caller asks Slack, never guesses). When more than
// Config.LeaverAutoMax of them hold seats, nothing is removed and Held lists
// them, for the approvers to decide (the circuit breaker of SPEC §9.2).
func (lv *Leavers) CheckLeavers(ctx context.Context, people []Person, reason string) (LeaverCheck, error) {
	var out LeaverCheck
	var seated []Person
	for _, p := range people {
		if !p.Deleted || p.ID == "" {
			continue
		}
		g, err := lv.store.GrantFor(ctx, p.ID)
		if err != nil {
			return out, err
		}
		if g == nil {
			out.Skipped++
			continue
		}
		out.Held = append(out.Held, *g)
		seated = append(seated, p)
	}
	if len(seated) > lv.cfg.LeaverAutoMax {
		return out, nil
	}
	out.Held = nil
	for _, p := range seated {
		r, err := lv.Offboard(ctx, p, reason)
		switch ErrorCode(err) {
		case "":
			out.Removals = append(out.Removals, r)
		case ENOTFOUND, ECONFLICT:
			out.Skipped++
		default:
			return out, err
		}
	}
	return out, nil
}

// Offboard removes the UXPin seat of someone who left: a removal request,
// approved by the leaver policy, is created and assigned, and the approvers
// are told. It returns an ENOTFOUND error when the ledger shows no access
// and an ECONFLICT error when a removal is already in hand, so repeated or
// retried signals create one request only. A removal open for the person
// that is not in hand (pending, or with nobody to do it) is taken over, so
// that nothing the leaver or anyone else left open can keep the seat.
// Callers go through CheckLeavers, which applies the breaker.
func (lv *Leavers) Offboard(ctx context.Context, p Person, reason string) (*Request, error) {
	if !p.Deleted {
		return nil, Errorf(EINVALID, "%s is not deactivated in Slack.", p.ID)
	}
	b, err := lv.prepare(ctx, Draft{Action: ActionRemove})
	if err != nil {
		return nil, err
	}
	now := lv.now()
	r, err := lv.create(ctx, func(tx Tx, r *Request) (Effects, error) {
		g, err := tx.GrantFor(p.ID)
		if err != nil {
			return Effects{}, err
		}
		if Check(ActOffboard, System, &Request{ID: r.ID, Target: p.ID}, g) != nil {
			return Effects{}, Errorf(ENOTFOUND, "%s holds no UXPin access in the ledger.", p.ID)
		}
		also, released, err := lv.release(tx, p.ID, "the leaver policy", now)
		if err != nil {
			return Effects{}, err
		}
		name := p.Name
		if name == "" {
			name = g.Name
		}
		d := b.d
		d.Target = Person{ID: p.ID, Email: g.Email, Name: name}
		d.Justification = "Left the company: " + reason + "."
		d.Origin, d.AutoReason, d.Basis, d.Evidence = OriginLeaver, reason, g.RequestID, OriginLeaver
		d.Detail = "created and approved by the leaver policy: " + reason
		d.supersedes = released
		lb, err := b.with(d)
		if err != nil {
			return Effects{}, err
		}
		_, fx, err := lb.build(tx, r, now)
		if err != nil {
			return Effects{}, err
		}
		for _, a := range r.Approvers {
			fx.Notices = append(fx.Notices, Notice{Kind: NoticeAutoRemoval, RequestID: r.ID, To: a})
		}
		if also != nil {
			fx.Also = []Also{*also}
		}
		return fx, nil
	})
	if o, ok := errors.AsType[*OpenError](err); ok {
		return nil, Errorf(ECONFLICT, "A removal for %s is already open as %s.", p.ID, o.ID)
	}
	return r, err
}
