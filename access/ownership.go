package access

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"
)

// Who does the work of an approved request (SPEC §5 step 3, §9.4): one admin
// for a single task, one per row for a group. Ownership is per row: rows are
// assigned, escalated, taken over and reassigned one by one, and a task or
// row nobody can hold is shown to the admins and approvers, never left
// invisible.

// eligible returns the admins who may be given r's task or a row of it:
// configured admins who are none of its people and, when no approver
// decided it, not its requester (SPEC §9.1: a second person is involved).
func (c *core) eligible(r *Request) []string {
	out := make([]string, 0, len(c.cfg.Admins))
	for _, a := range c.cfg.Admins {
		if r.IsAbout(a) || (r.Unreviewed() && a == r.Requester) {
			continue
		}
		out = append(out, a)
	}
	return out
}

// holds reports whether admin can hold r's task (or a row of it) now.
func (c *core) holds(r *Request, admin string) bool {
	return admin != "" && slices.Contains(c.eligible(r), admin)
}

// assign gives an approved request's task to the least-loaded eligible
// admin, not its approver when another admin can take it (SPEC §9.4); arms
// its escalation, and owes that admin the task DM. A task nobody can hold
// is shown to the admins and approvers.
func (c *core) assign(tx Tx, r *Request, now time.Time, fx *Effects) error {
	if r.IsGroup() {
		return c.assignRows(tx, r, now, fx)
	}
	counts, err := tx.OpenTaskCounts()
	if err != nil {
		return err
	}
	r.Assignee = PickAdmin(c.eligible(r), counts, "", r.DecidedBy)
	if r.Assignee == "" {
		fx.Events = append(fx.Events, c.event(r, "", StateApproved, StateApproved, "no eligible UXPin admin to assign"))
		c.orphaned(tx, r, fx)
		return nil
	}
	r.AssignedAt, r.OrphanNotified = now, false
	c.armEscalation(r, now)
	fx.Events = append(fx.Events, c.event(r, "", StateApproved, StateApproved, "assigned to "+r.Assignee))
	fx.Notices = append(fx.Notices, Notice{Kind: NoticeTask, RequestID: r.ID, To: r.Assignee}, Notice{Kind: NoticeHome, To: r.Assignee})
	return nil
}

func (c *core) armEscalation(r *Request, now time.Time) {
	r.EscalateAt = time.Time{}
	if c.cfg.EscalateAfter > 0 {
		r.EscalateAt = now.Add(c.cfg.EscalateAfter)
	}
}

// orphaned tells the admins and approvers, once, that nobody can hold r's
// task or some of its rows: an admin may take it over, or the
// configuration must change.
func (c *core) orphaned(tx Tx, r *Request, fx *Effects) {
	if r.OrphanNotified {
		return
	}
	r.OrphanNotified = true
	to := unique(append(slices.Clone(c.cfg.Admins), r.Approvers...)...)
	for _, u := range to {
		if !r.IsAbout(u) {
			fx.Notices = append(fx.Notices, Notice{Kind: NoticeUnassigned, RequestID: r.ID, To: u})
		}
	}
	fx.Notices = append(fx.Notices, homes(tx, to...)...)
}

// assignRows shares an approved group's open, unassigned rows among the
// eligible admins, least loaded first, not the approver while another admin
// can take it; each admin is owed one checklist.
func (c *core) assignRows(tx Tx, r *Request, now time.Time, fx *Effects) error {
	counts, err := tx.OpenTaskCounts()
	if err != nil {
		return err
	}
	counts = maps.Clone(counts)
	eligible := c.eligible(r)
	got := map[string]int{}
	var order []string
	for i := range r.Rows {
		row := &r.Rows[i]
		if row.Closed() || row.Assignee != "" {
			continue
		}
		a := PickAdmin(eligible, counts, "", r.DecidedBy)
		row.Assignee = a
		if a == "" {
			continue
		}
		row.AssignedAt = now
		counts[a]++
		if got[a] == 0 {
			order = append(order, a)
		}
		got[a]++
	}
	r.AssignedAt = now
	c.armEscalation(r, now)
	for _, a := range order {
		fx.Events = append(fx.Events, c.event(r, "", StateApproved, StateApproved, fmt.Sprintf("%d of the group's removals assigned to %s", got[a], a)))
		fx.Notices = append(fx.Notices, Notice{Kind: NoticeTask, RequestID: r.ID, To: a}, Notice{Kind: NoticeHome, To: a})
	}
	if slices.ContainsFunc(r.Rows, func(row GroupRow) bool { return row.Assignee == "" && !row.Closed() }) {
		fx.Events = append(fx.Events, c.event(r, "", StateApproved, StateApproved, "no eligible UXPin admin for some of the group's removals"))
		c.orphaned(tx, r, fx)
	} else if len(order) > 0 {
		r.OrphanNotified = false
	}
	return nil
}

// closeGroup ends a group whose rows are all closed: fulfilled when any
// removal was done, failed when its admins could do none, cancelled when
// every row was taken out before anything was done.
func (c *core) closeGroup(tx Tx, r *Request, actor string, now time.Time, fx *Effects) {
	if r.OpenRows() > 0 {
		return
	}
	done, failed := 0, 0
	for _, row := range r.Rows {
		switch {
		case row.Done():
			done++
		case !row.FailedAt.IsZero():
			failed++
		}
	}
	from := r.State
	r.ClosedBy, r.ClosedAt, r.RemindAt, r.EscalateAt = actor, now, time.Time{}, time.Time{}
	switch {
	case done > 0:
		r.State = StateFulfilled
		fx.Notices = append(fx.Notices, Notice{Kind: NoticeFulfilled, RequestID: r.ID, To: r.Requester})
	case failed > 0:
		r.State = StateFailed
	case from == StatePending:
		r.State = StateCancelled
	default:
		r.State = StateFailed
		r.FailReason = "every person was taken out of the group"
	}
	fx.Events = append(fx.Events, c.event(r, actor, from, r.State, fmt.Sprintf("group closed: %d of %d removals done, %d could not be done", done, len(r.Rows), failed)))
	fx.Notices = append(fx.Notices, Notice{Kind: NoticeCardsUpdate, RequestID: r.ID})
	fx.Notices = append(fx.Notices, c.auditNotice(r)...)
	fx.Notices = append(fx.Notices, homes(tx, append([]string{r.Requester}, r.Approvers...)...)...)
}

// failRows closes the actor's own open rows of group r as impossible, with
// their reason; the other admins' rows stay theirs (SPEC §9.4).
func (c *core) failRows(tx Tx, r *Request, actor, reason string, now time.Time) (Effects, error) {
	var fx Effects
	n := 0
	for i := range r.Rows {
		row := &r.Rows[i]
		if row.Assignee != actor || row.Closed() {
			continue
		}
		row.FailedBy, row.FailedAt, row.FailReason = actor, now, reason
		ev := c.event(r, actor, StateApproved, StateApproved, fmt.Sprintf("could not remove %s (%s): %s", row.Email, row.Target, reason))
		ev.TargetEmail, ev.Target = row.Email, row.Target
		fx.Events = append(fx.Events, ev)
		n++
	}
	if n == 0 {
		return Effects{}, Errorf(ECONFLICT, "Nothing of yours is left to do in %s.", r.ID)
	}
	r.UpdatedAt, r.FailReason = now, reason
	fx.Notices = append(fx.Notices, Notice{Kind: NoticeTaskUpdate, RequestID: r.ID}, Notice{Kind: NoticeFailed, RequestID: r.ID, To: r.Requester})
	for _, a := range r.Approvers {
		if a != r.Requester {
			fx.Notices = append(fx.Notices, Notice{Kind: NoticeFailed, RequestID: r.ID, To: a})
		}
	}
	c.closeGroup(tx, r, actor, now, &fx)
	fx.Notices = append(fx.Notices, homes(tx, actor, r.Requester)...)
	return fx, nil
}

// takeOverRows moves to actor every open row of group id that the policy
// lets them take (another admin's, or nobody's), row by row.
func (l *Lifecycle) takeOverRows(ctx context.Context, id, actor string, now time.Time) (*Request, error) {
	who, err := l.actor(ctx, actor, nil, false)
	if err != nil {
		return nil, err
	}
	return l.update(ctx, id, func(tx Tx, r *Request) (Effects, error) {
		if !r.IsGroup() {
			return Effects{}, Errorf(ECONFLICT, "%s changed meanwhile; try again.", r.ID)
		}
		var fx Effects
		var refused error
		prev := map[string]int{}
		for i := range r.Rows {
			row := &r.Rows[i]
			if err := Check(ActTakeOver, who, r.RowView(i), nil); err != nil {
				if refused == nil || row.Assignee != actor {
					refused = err
				}
				continue
			}
			if !l.holds(r, actor) {
				continue
			}
			prev[row.Assignee]++
			ev := l.event(r, actor, StateApproved, StateApproved, fmt.Sprintf("removal of %s taken over by %s from %s", row.Email, actor, nobody(row.Assignee)))
			ev.TargetEmail, ev.Target = row.Email, row.Target
			fx.Events = append(fx.Events, ev)
			row.Assignee, row.AssignedAt = actor, now
		}
		if len(prev) == 0 {
			if refused == nil {
				refused = &Refusal{Act: ActTakeOver, Reason: ReasonMovedOn, Actor: actor, Request: r}
			}
			return Effects{}, refused
		}
		r.UpdatedAt = now
		r.TakenOver++
		if !slices.ContainsFunc(r.Rows, func(row GroupRow) bool { return row.Assignee == "" && !row.Closed() }) {
			r.OrphanNotified = false
		}
		fx.Notices = append(fx.Notices, Notice{Kind: NoticeTaskUpdate, RequestID: r.ID}, Notice{Kind: NoticeTask, RequestID: r.ID, To: actor})
		for p := range prev {
			if p != "" {
				r.PreviousAssignees = append(r.PreviousAssignees, p)
				fx.Notices = append(fx.Notices, Notice{Kind: NoticeTakenOver, RequestID: r.ID, To: p})
			}
		}
		fx.Notices = append(fx.Notices, homes(tx, append(slices.Collect(maps.Keys(prev)), actor)...)...)
		return fx, nil
	})
}

func nobody(admin string) string {
	if admin == "" {
		return "nobody"
	}
	return admin
}

// inHand reports whether open removal o of target is being done: approved,
// and held by an admin who may hold it.
func (c *core) inHand(o *Request, target string) bool {
	if o.State != StateApproved {
		return false
	}
	if !o.IsGroup() {
		return c.holds(o, o.Assignee)
	}
	for _, row := range o.Rows {
		if row.Target == target && !row.Closed() {
			return c.holds(o, row.Assignee)
		}
	}
	return false
}

// release takes target out of their open removal when it is not in hand
// (still pending, so its requester could withdraw it, or with nobody who
// can do it), so that a removal of the bot's own (the leaver policy, an end
// date) can be born in the same transaction. The change to the open
// request is returned to store with it; a removal in hand is left to
// finish, and release returns its *OpenError.
func (c *core) release(tx Tx, target, by string, now time.Time) (*Also, string, error) {
	id, err := tx.OpenRequestFor(target, ActionRemove)
	if err != nil || id == "" {
		return nil, "", err
	}
	o, err := tx.Request(id)
	if err != nil {
		return nil, "", err
	}
	if c.inHand(o, target) {
		return nil, "", &OpenError{ID: id, Action: ActionRemove, Email: target}
	}
	why := "taken over by " + by
	var fx Effects
	if !o.IsGroup() {
		from := o.State
		o.ClosedAt, o.UpdatedAt, o.RemindAt, o.EscalateAt = now, now, time.Time{}, time.Time{}
		if from == StatePending {
			o.State = StateCancelled
		} else {
			o.State, o.FailReason = StateFailed, why
		}
		fx.Events = append(fx.Events, c.event(o, "", from, o.State, why))
		fx.Notices = append(fx.Notices, Notice{Kind: NoticeCardsUpdate, RequestID: o.ID}, Notice{Kind: NoticeTaskUpdate, RequestID: o.ID})
		fx.Notices = append(fx.Notices, homes(tx, append([]string{o.Requester, o.Assignee}, o.Approvers...)...)...)
		return &Also{Request: o, Effects: fx}, id, nil
	}
	o.Rows = slices.Clone(o.Rows)
	for i := range o.Rows {
		row := &o.Rows[i]
		if row.Target == target && !row.Closed() {
			row.Dropped, row.DroppedAt = why, now
			ev := c.event(o, "", o.State, o.State, fmt.Sprintf("%s (%s) %s", row.Email, row.Target, why))
			ev.TargetEmail, ev.Target = row.Email, row.Target
			fx.Events = append(fx.Events, ev)
		}
	}
	o.UpdatedAt = now
	fx.Notices = append(fx.Notices, Notice{Kind: NoticeCardsUpdate, RequestID: o.ID}, Notice{Kind: NoticeTaskUpdate, RequestID: o.ID})
	c.closeGroup(tx, o, "", now, &fx)
	return &Also{Request: o, Effects: fx}, id, nil
}

// errNothingToMove aborts a reassignment that found nothing to change.
var errNothingToMove = errors.New("nothing to reassign")

// Reassign gives every open task or group row whose admin left
// UXPIN_ADMINS, or that nobody holds, to an eligible admin; what nobody
// can hold is shown to the admins and approvers once. The scheduler runs
// it with the timers, so a change of configuration takes effect at start.
func (t *Timers) Reassign(ctx context.Context) (int, error) {
	counts, err := t.store.TaskAssignees(ctx)
	if err != nil {
		return 0, err
	}
	moved := 0
	var errs []error
	for who := range counts {
		if who != "" && t.isAdmin(who) {
			continue
		}
		tasks, err := t.store.OpenTasks(ctx, who, 200)
		if err != nil {
			return moved, err
		}
		for _, r := range tasks {
			if r.OrphanNotified && len(t.eligible(r)) == 0 {
				continue // told already, and still nobody can hold it
			}
			switch err := t.reassign(ctx, r.ID); {
			case err == nil:
				moved++
			case errors.Is(err, errNothingToMove):
			default:
				errs = append(errs, fmt.Errorf("reassign %s: %w", r.ID, err))
			}
		}
	}
	return moved, errors.Join(errs...)
}

// reassign moves request id's task, or its rows, off admins who may no
// longer hold them.
func (t *Timers) reassign(ctx context.Context, id string) error {
	now := t.now()
	_, err := t.update(ctx, id, func(tx Tx, r *Request) (Effects, error) {
		g, err := tx.GrantFor(r.Target)
		if err != nil {
			return Effects{}, err
		}
		if Check(ActReassign, System, r, g) != nil {
			return Effects{}, errNothingToMove
		}
		var fx Effects
		if !r.IsGroup() {
			if t.holds(r, r.Assignee) {
				return Effects{}, errNothingToMove
			}
			prev := r.Assignee
			counts, err := tx.OpenTaskCounts()
			if err != nil {
				return Effects{}, err
			}
			next := PickAdmin(t.eligible(r), counts, "", r.DecidedBy)
			if next == "" {
				if r.OrphanNotified && prev == "" {
					return Effects{}, errNothingToMove
				}
				r.Assignee = ""
				fx.Events = append(fx.Events, t.event(r, "", StateApproved, StateApproved, fmt.Sprintf("%s can no longer hold the task and no other UXPin admin can", nobody(prev))))
				t.orphaned(tx, r, &fx)
				fx.Notices = append(fx.Notices, Notice{Kind: NoticeTaskUpdate, RequestID: r.ID})
				return fx, nil
			}
			if prev != "" {
				r.PreviousAssignees = append(r.PreviousAssignees, prev)
			}
			r.Assignee, r.AssignedAt, r.UpdatedAt, r.OrphanNotified = next, now, now, false
			t.armEscalation(r, now)
			fx.Events = append(fx.Events, t.event(r, "", StateApproved, StateApproved, fmt.Sprintf("reassigned from %s to %s: %s can no longer hold it", nobody(prev), next, nobody(prev))))
			fx.Notices = append(fx.Notices, Notice{Kind: NoticeTask, RequestID: r.ID, To: next}, Notice{Kind: NoticeTaskUpdate, RequestID: r.ID})
			fx.Notices = append(fx.Notices, homes(tx, next)...)
			return fx, nil
		}
		changed := false
		for i := range r.Rows {
			row := &r.Rows[i]
			if row.Closed() || t.holds(r, row.Assignee) {
				continue
			}
			if row.Assignee != "" {
				changed = true
				fx.Events = append(fx.Events, t.event(r, "", StateApproved, StateApproved, fmt.Sprintf("removal of %s taken from %s, who can no longer hold it", row.Email, row.Assignee)))
				row.Assignee = ""
			}
		}
		before := len(fx.Notices)
		wasOrphan := r.OrphanNotified
		if err := t.assignRows(tx, r, now, &fx); err != nil {
			return Effects{}, err
		}
		if !changed && len(fx.Notices) == before && wasOrphan == r.OrphanNotified {
			return Effects{}, errNothingToMove
		}
		r.UpdatedAt = now
		fx.Notices = append(fx.Notices, Notice{Kind: NoticeTaskUpdate, RequestID: r.ID})
		return fx, nil
	})
	return err
}

// escalateRows moves the open rows of group r that stayed with their admin
// past UXPIN_ESCALATE_AFTER to another eligible admin, telling the first
// admin and the approvers.
func (t *Timers) escalateRows(tx Tx, r *Request, now time.Time) (Effects, error) {
	counts, err := tx.OpenTaskCounts()
	if err != nil {
		return Effects{}, err
	}
	counts = maps.Clone(counts)
	var fx Effects
	eligible := t.eligible(r)
	movedTo, movedFrom := map[string]bool{}, map[string]bool{}
	stuck := 0
	for i := range r.Rows {
		row := &r.Rows[i]
		if row.Closed() || row.Assignee == "" || now.Sub(row.AssignedAt) < t.cfg.EscalateAfter {
			continue
		}
		others := slices.DeleteFunc(slices.Clone(eligible), func(a string) bool { return a == row.Assignee })
		next := PickAdmin(others, counts, "", r.DecidedBy)
		if next == "" {
			stuck++
			continue
		}
		fx.Events = append(fx.Events, t.event(r, "", StateApproved, StateApproved, fmt.Sprintf("removal of %s escalated from %s to %s after %s open", row.Email, row.Assignee, next, now.Sub(row.AssignedAt).Round(time.Minute))))
		movedFrom[row.Assignee] = true
		r.PreviousAssignees = append(r.PreviousAssignees, row.Assignee)
		row.Assignee, row.AssignedAt = next, now
		counts[next]++
		movedTo[next] = true
	}
	r.Escalations++
	t.armEscalation(r, now)
	for _, a := range r.Approvers {
		fx.Notices = append(fx.Notices, Notice{Kind: NoticeEscalated, RequestID: r.ID, To: a})
	}
	for a := range movedTo {
		fx.Notices = append(fx.Notices, Notice{Kind: NoticeTask, RequestID: r.ID, To: a})
	}
	for a := range movedFrom {
		fx.Notices = append(fx.Notices, Notice{Kind: NoticeEscalated, RequestID: r.ID, To: a})
	}
	if len(movedTo) > 0 {
		fx.Notices = append(fx.Notices, Notice{Kind: NoticeTaskUpdate, RequestID: r.ID})
	}
	if stuck > 0 || len(movedTo) == 0 {
		fx.Events = append(fx.Events, t.event(r, "", StateApproved, StateApproved, fmt.Sprintf("escalated to the approvers: %d of the group's removals open too long and no other admin can take them", max(stuck, 1))))
	}
	fx.Notices = append(fx.Notices, homes(tx, append(slices.Collect(maps.Keys(movedTo)), slices.Collect(maps.Keys(movedFrom))...)...)...)
	return fx, nil
}
