package access

import (
	"context"
	"fmt"
	"maps"
	"slices"
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
}

// GroupResult is a created group and the people left out of it.
type GroupResult struct {
	Request *Request
	// Skipped are people with a removal already open, by target, with the
	// open request's ID.
	Skipped map[string]string
}

// SubmitGroup stores a request group: one approval card listing the
// people, one decision, and per admin one checklist. People whose removal
// is already open are left out; a group of nobody is refused.
func (l *Lifecycle) SubmitGroup(ctx context.Context, g GroupSubmission) (GroupResult, error) {
	out := GroupResult{Skipped: map[string]string{}}
	if len(g.Rows) == 0 {
		return out, Errorf(EINVALID, "Name at least one person to remove.")
	}
	approvers, err := l.approversFor(ctx, &Request{Action: ActionRemove})
	if err != nil {
		return out, err
	}
	just := Clean(g.Justification)
	now := l.now()
	r, err := l.create(ctx, func(tx Tx, r *Request) (Effects, error) {
		clear(out.Skipped)
		var rows []GroupRow
		seen := map[string]bool{}
		for _, row := range g.Rows {
			if row.Target == "" || seen[row.Target] {
				continue
			}
			seen[row.Target] = true
			if id, err := tx.OpenRequestFor(row.Target, ActionRemove); err != nil {
				return Effects{}, err
			} else if id != "" {
				out.Skipped[row.Target] = id
				continue
			}
			if gr, err := tx.GrantFor(row.Target); err != nil {
				return Effects{}, err
			} else if gr != nil {
				row.Role, row.Email = gr.Role, gr.Email
				if row.Name == "" {
					row.Name = gr.Name
				}
			}
			row.Assignee, row.DoneBy, row.DoneAt = "", "", time.Time{}
			rows = append(rows, row)
		}
		if len(rows) == 0 {
			return Effects{}, Errorf(ECONFLICT, "A removal is already open for everyone named.")
		}
		*r = Request{
			ID: r.ID, CreatedAt: now, UpdatedAt: now,
			Action: ActionRemove, Requester: g.Requester, Rows: rows,
			TargetEmail:   fmt.Sprintf("%d people", len(rows)),
			Justification: just, State: StatePending,
			Origin: g.Origin, AutoReason: g.AutoReason, ApprovalsRequired: 1,
		}
		for _, a := range approvers {
			if a != r.Requester && !seen[a] {
				r.Approvers = append(r.Approvers, a)
			}
		}
		if l.cfg.ReminderInterval > 0 {
			r.RemindAt = now.Add(l.cfg.ReminderInterval)
		}
		fx := Effects{Events: []Event{l.event(r, r.Requester, "", StatePending, fmt.Sprintf("submitted: a group of %d removals", len(rows)))}}
		fx.Notices = append(fx.Notices, Notice{Kind: NoticeSubmitted, RequestID: r.ID, To: r.Requester})
		for _, a := range r.Approvers {
			fx.Notices = append(fx.Notices, Notice{Kind: NoticeApprovalCard, RequestID: r.ID, To: a})
		}
		fx.Notices = append(fx.Notices, homes(tx, append([]string{r.Requester}, r.Approvers...)...)...)
		return fx, nil
	})
	out.Request = r
	return out, err
}

// assignRows shares an approved group's rows among the admins, least
// loaded first, never a row's own person, and not the approver while
// another admin can take it; each admin is owed one checklist.
func (c *core) assignRows(tx Tx, r *Request, now time.Time, fx *Effects) error {
	counts, err := tx.OpenTaskCounts()
	if err != nil {
		return err
	}
	counts = maps.Clone(counts)
	for i := range r.Rows {
		a := PickAdmin(c.cfg.Admins, counts, r.Rows[i].Target, r.DecidedBy)
		r.Rows[i].Assignee = a
		if a != "" {
			counts[a]++
		}
	}
	r.AssignedAt = now
	for _, a := range r.RowAssignees() {
		n := 0
		for _, row := range r.Rows {
			if row.Assignee == a {
				n++
			}
		}
		fx.Events = append(fx.Events, c.event(r, "", StateApproved, StateApproved, fmt.Sprintf("%d of the group's removals assigned to %s", n, a)))
		fx.Notices = append(fx.Notices, Notice{Kind: NoticeTask, RequestID: r.ID, To: a}, Notice{Kind: NoticeHome, To: a})
	}
	if slices.ContainsFunc(r.Rows, func(row GroupRow) bool { return row.Assignee == "" }) {
		fx.Events = append(fx.Events, c.event(r, "", StateApproved, StateApproved, "no eligible UXPin admin for some of the group's removals"))
	}
	return nil
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
		if (row == AllRows || row == i) && rw.Assignee == actor && !rw.Done() {
			picked = append(picked, i)
		}
	}
	if len(picked) == 0 {
		switch {
		case row >= 0 && row < len(r.Rows) && r.Rows[row].Done():
			return Effects{}, Errorf(ECONFLICT, "%s was already marked done in %s.", r.Rows[row].Email, r.ID)
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
	if r.OpenRows() == 0 {
		r.State, r.ClosedBy, r.ClosedAt = StateFulfilled, actor, now
		fx.Events = append(fx.Events, l.event(r, actor, StateApproved, StateFulfilled, fmt.Sprintf("all %d removals done", len(r.Rows))))
		fx.Notices = append(fx.Notices,
			Notice{Kind: NoticeCardsUpdate, RequestID: r.ID},
			Notice{Kind: NoticeFulfilled, RequestID: r.ID, To: r.Requester})
		fx.Notices = append(fx.Notices, l.auditNotice(r)...)
	}
	fx.Notices = append(fx.Notices, homes(tx, append([]string{actor, r.Requester}, r.Approvers...)...)...)
	return fx, nil
}
