package access

import (
	"context"
)

// SeatBudget is how a role's purchased seats stand (SPEC §8).
type SeatBudget struct {
	Role      Role
	Used      int // ledger entries with the role
	Committed int // approved grants or changes to the role not yet done
	Purchased int // 0: not tracked
}

// Tracked reports whether seats of the role are budgeted.
func (b SeatBudget) Tracked() bool { return b.Purchased > 0 }

// Full reports whether one more seat of the role would exceed the budget.
func (b SeatBudget) Full() bool { return b.Tracked() && b.Used+b.Committed+1 > b.Purchased }

func (c *core) purchased(r Role) int {
	switch r {
	case RoleEditor:
		return c.cfg.SeatsEditor
	case RoleAdmin:
		return c.cfg.SeatsAdmin
	}
	return 0
}

// NeedsSeat reports the role whose seat approving r would take, if any: a
// grant, or a change to a different role.
func NeedsSeat(r *Request) (Role, bool) {
	switch r.Action {
	case ActionGrant:
		return r.Role, true
	case ActionChange:
		return r.Role, r.Role != r.CurrentRole
	}
	return "", false
}

func (c *core) budget(seats, committed map[Role]int, role Role) SeatBudget {
	return SeatBudget{Role: role, Used: seats[role], Committed: committed[role], Purchased: c.purchased(role)}
}

// Budget returns how the purchased seats of role stand now; for a role
// without a budget it reads nothing.
func (l *Lifecycle) Budget(ctx context.Context, role Role) (SeatBudget, error) {
	if l.purchased(role) == 0 {
		return SeatBudget{Role: role}, nil
	}
	seats, err := l.store.SeatCounts(ctx)
	if err != nil {
		return SeatBudget{}, err
	}
	committed, err := l.store.CommittedSeats(ctx)
	if err != nil {
		return SeatBudget{}, err
	}
	return l.budget(seats, committed, role), nil
}

// checkBudget refuses approving r past its role's seat budget unless the
// approver confirmed it.
func (c *core) checkBudget(tx Tx, r *Request, confirmed bool) error {
	role, ok := NeedsSeat(r)
	if !ok || confirmed || c.purchased(role) == 0 {
		return nil
	}
	seats, err := tx.SeatCounts()
	if err != nil {
		return err
	}
	committed, err := tx.CommittedSeats()
	if err != nil {
		return err
	}
	if b := c.budget(seats, committed, role); b.Full() {
		return &BudgetError{RequestID: r.ID, Budget: b}
	}
	return nil
}
