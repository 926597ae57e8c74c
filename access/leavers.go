package access

import (
	"context"
	"fmt"
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
// and an ECONFLICT error when a removal is already open, so repeated or
// retried signals create one request only. Callers go through CheckLeavers,
// which applies the breaker.
func (lv *Leavers) Offboard(ctx context.Context, p Person, reason string) (*Request, error) {
	if !p.Deleted {
		return nil, Errorf(EINVALID, "%s is not deactivated in Slack.", p.ID)
	}
	approvers, err := lv.dir.Approvers(ctx)
	if err != nil {
		return nil, fmt.Errorf("resolve approvers: %w", err)
	}
	now := lv.now()
	return lv.create(ctx, func(tx Tx, r *Request) (Effects, error) {
		g, err := tx.GrantFor(p.ID)
		if err != nil {
			return Effects{}, err
		}
		if Check(ActOffboard, System, &Request{ID: r.ID, Target: p.ID}, g) != nil {
			return Effects{}, Errorf(ENOTFOUND, "%s holds no UXPin access in the ledger.", p.ID)
		}
		if id, err := tx.OpenRequestFor(p.ID, ActionRemove); err != nil {
			return Effects{}, err
		} else if id != "" {
			return Effects{}, Errorf(ECONFLICT, "A removal for %s is already open as %s.", p.ID, id)
		}
		name := p.Name
		if name == "" {
			name = g.Name
		}
		*r = Request{
			ID: r.ID, CreatedAt: now, UpdatedAt: now,
			Action: ActionRemove, Target: p.ID, TargetEmail: g.Email, TargetName: name, CurrentRole: g.Role,
			Justification: "Left the company: " + reason + ".",
			State:         StateApproved, Approvers: approvers, DecidedAt: now,
			Origin: OriginLeaver, AutoReason: reason,
		}
		fx := Effects{Events: []Event{lv.event(r, "", "", StateApproved, "created and approved by the leaver policy: "+reason)}}
		if err := lv.assign(tx, r, now, &fx); err != nil {
			return Effects{}, err
		}
		for _, a := range approvers {
			fx.Notices = append(fx.Notices, Notice{Kind: NoticeAutoRemoval, RequestID: r.ID, To: a})
		}
		return fx, nil
	})
}
