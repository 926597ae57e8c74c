package access

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// GroupSubmission is several removals asked together (SPEC §10): the seat
// audit's bulk buttons, `offboard @a @b @c`, a review's results.
type GroupSubmission struct {
	Requester     string
	Rows          []GroupRow // Target, Email, Name and Role of each person
	Justification string
	Origin        string // OriginAudit and the like; "" for people
	AutoReason    string
	// RowBasis is the ledger entry each person's row was built on (see
	// Draft.Basis), by target; rows whose entry changed since are left out.
	RowBasis map[string]string
}

// GroupResult is a created group and the people left out of it.
type GroupResult struct {
	Request *Request
	// Skipped are people with a removal already open, by target, with the
	// open request's ID.
	Skipped map[string]string
	// Stale are people left out because the ledger changed for them since
	// the list was read.
	Stale []string
}

// SubmitGroup stores a request group: one approval card listing the
// people, one decision, and per admin one checklist. People whose removal
// is already open are left out; a group of nobody is refused.
func (l *Lifecycle) SubmitGroup(ctx context.Context, g GroupSubmission) (GroupResult, error) {
	if len(g.Rows) == 0 {
		return GroupResult{Skipped: map[string]string{}}, Errorf(EINVALID, "Name at least one person to remove.")
	}
	r, b, err := l.born(ctx, Draft{
		Action: ActionRemove, Requester: g.Requester, Rows: g.Rows, Justification: g.Justification,
		Origin: g.Origin, AutoReason: g.AutoReason, RowBasis: g.RowBasis, Receipt: true,
	})
	if b.Skipped == nil {
		b.Skipped = map[string]string{}
	}
	return GroupResult{Request: r, Skipped: b.Skipped, Stale: b.Stale}, err
}

// AllRows asks CompleteRows for every open row of the actor.
const AllRows = -1

// CompleteRows marks rows of an approved group done by actor, their
// assignee: one row (its index) or AllRows of theirs. Each person's ledger
// entry changes only with their row; the group is done with its last row.
func (l *Lifecycle) CompleteRows(ctx context.Context, id, actor string, row int) (*Request, error) {
	now := l.now()
	return l.guard(ctx, id, ActComplete, actor, func(tx Tx, r *Request, _ *Grant) (Effects, error) {
		if !r.IsGroup() {
			return Effects{}, Errorf(EINVALID, "%s is not a group of removals.", r.ID)
		}
		return l.rowsDone(tx, r, actor, row, now)
	})
}

// rowsDone marks row (or AllRows) of the actor's rows in group r done.
func (l *Lifecycle) rowsDone(tx Tx, r *Request, actor string, row int, now time.Time) (Effects, error) {
	var picked []int
	for i, rw := range r.Rows {
		if (row == AllRows || row == i) && rw.Assignee == actor && !rw.Closed() {
			picked = append(picked, i)
		}
	}
	if len(picked) == 0 {
		switch {
		case row >= 0 && row < len(r.Rows) && r.Rows[row].Done():
			return Effects{}, Errorf(ECONFLICT, "%s was already marked done in %s.", r.Rows[row].Email, r.ID)
		case row >= 0 && row < len(r.Rows) && r.Rows[row].Closed():
			return Effects{}, Errorf(ECONFLICT, "%s is no longer open in %s.", r.Rows[row].Email, r.ID)
		case row >= 0 && row < len(r.Rows):
			return Effects{}, &Refusal{Act: ActComplete, Reason: ReasonNotAssignee, Actor: actor, Request: r, Assignee: r.Rows[row].Assignee}
		}
		return Effects{}, Errorf(ECONFLICT, "Nothing of yours is left to do in %s.", r.ID)
	}
	r.UpdatedAt = now
	fx := Effects{}
	for _, i := range picked {
		r.Rows[i].DoneBy, r.Rows[i].DoneAt = actor, now
		if t := r.Rows[i].Target; t != "" && !strings.HasPrefix(t, "email:") {
			fx.Revokes = append(fx.Revokes, t)
		}
		ev := l.event(r, actor, StateApproved, StateApproved, fmt.Sprintf("removed %s (%s) from UXPin", r.Rows[i].Email, r.Rows[i].Target))
		ev.TargetEmail, ev.Target = r.Rows[i].Email, r.Rows[i].Target
		fx.Events = append(fx.Events, ev)
	}
	fx.Notices = append(fx.Notices, Notice{Kind: NoticeTaskUpdate, RequestID: r.ID})
	l.closeGroup(tx, r, actor, now, &fx)
	fx.Notices = append(fx.Notices, homes(tx, append([]string{actor, r.Requester}, r.Approvers...)...)...)
	return fx, nil
}
