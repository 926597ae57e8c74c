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

func (s *Service) purchased(r Role) int {
	switch r {
	case RoleEditor:
		return s.policy.SeatsEditor
	case RoleAdmin:
		return s.policy.SeatsAdmin
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

func (s *Service) budget(seats, committed map[Role]int, role Role) SeatBudget {
	return SeatBudget{Role: role, Used: seats[role], Committed: committed[role], Purchased: s.purchased(role)}
}

// Budget returns how the purchased seats of role stand now; for a role
// without a budget it reads nothing.
func (s *Service) Budget(ctx context.Context, role Role) (SeatBudget, error) {
	if s.purchased(role) == 0 {
		return SeatBudget{Role: role}, nil
	}
	seats, err := s.store.SeatCounts(ctx)
	if err != nil {
		return SeatBudget{}, err
	}
	committed, err := s.store.CommittedSeats(ctx)
	if err != nil {
		return SeatBudget{}, err
	}
	return s.budget(seats, committed, role), nil
}

// checkBudget refuses approving r past its role's seat budget unless the
// approver confirmed it.
func (s *Service) checkBudget(tx Tx, r *Request, confirmed bool) error {
	role, ok := NeedsSeat(r)
	if !ok || confirmed || s.purchased(role) == 0 {
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
	if b := s.budget(seats, committed, role); b.Full() {
		return Errorf(EOVERBUDGET, "Approving %s would use %s seat %d of the %d purchased (%d in use, %d being set up). Use Approve anyway on the card to confirm, or Approve as Viewer.",
			r.ID, role.Label(), b.Used+b.Committed+1, b.Purchased, b.Used, b.Committed)
	}
	return nil
}
