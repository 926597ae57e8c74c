package access

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Timers fires the stored due times of requests (SPEC §5 steps 5–6):
// reminders, escalation, the end-date warning and expiry. Each timer asks
// the policy as the bot: one whose request moved on is disarmed, not fired.
type Timers struct{ *core }

// errNotDue aborts a timer's transaction when the timer was moved since it
// was read: it then fires no more than once.
var errNotDue = errors.New("timer no longer due")

// FireDue runs every timer that is due now and reports how many fired.
// Each runs in its own transaction that also re-arms or disarms it, so a
// timer fires once even if FireDue runs twice or the process restarts.
func (t *Timers) FireDue(ctx context.Context) (int, error) {
	now := t.now()
	timers, err := t.store.DueTimers(ctx, now, 200)
	if err != nil {
		return 0, err
	}
	var errs []error
	// Tasks whose admin left UXPIN_ADMINS, or that nobody holds, go to an
	// admin first, so that no task is invisible.
	fired, err := t.Reassign(ctx)
	if err != nil {
		errs = append(errs, err)
	}
	for _, tm := range timers {
		var err error
		switch tm.Kind {
		case TimerRemind:
			err = t.remind(ctx, tm, now)
		case TimerEscalate:
			err = t.escalate(ctx, tm, now)
		case TimerExpiryWarn:
			err = t.warnExpiry(ctx, tm, now)
		case TimerExpire:
			err = t.expire(ctx, tm, now)
		default:
			err = fmt.Errorf("unknown timer kind %q", tm.Kind)
		}
		switch {
		case err == nil:
			fired++
		case errors.Is(err, errNotDue):
		default:
			errs = append(errs, fmt.Errorf("%s timer of %s: %w", tm.Kind, tm.RequestID, err))
		}
	}
	return fired, errors.Join(errs...)
}

// RunScheduler fires due timers every tick until ctx is cancelled, passing
// errors to report.
func (t *Timers) RunScheduler(ctx context.Context, tick time.Duration, report func(error)) {
	tk := time.NewTicker(tick)
	defer tk.Stop()
	for {
		if _, err := t.FireDue(ctx); err != nil && ctx.Err() == nil {
			report(err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tk.C:
		}
	}
}

func due(at, now time.Time) bool { return !at.IsZero() && !at.After(now) }

// fire runs one timer of kind act on request tm.RequestID: at reads the
// timer's field, disarm clears it, fn fires it. A timer whose request moved
// on (as the policy says) is disarmed with a line in the audit log, so it
// never lingers in the due index.
func (t *Timers) fire(ctx context.Context, tm Timer, now time.Time, act Act, at func(*Request) time.Time, disarm func(*Request), fn func(tx Tx, r *Request, g *Grant) (Effects, error)) error {
	_, err := t.update(ctx, tm.RequestID, func(tx Tx, r *Request) (Effects, error) {
		if !due(at(r), now) {
			return Effects{}, errNotDue
		}
		g, err := tx.GrantFor(r.Target)
		if err != nil {
			return Effects{}, err
		}
		if err := Check(act, System, r, g); err != nil {
			disarm(r)
			return Effects{Events: []Event{t.event(r, "", r.State, r.State, fmt.Sprintf("%s timer disarmed: the request moved on", tm.Kind))}}, nil
		}
		return fn(tx, r, g)
	})
	return err
}

// remind nudges a pending request's approvers once, however many intervals
// passed while the bot was down, and arms the next reminder.
func (t *Timers) remind(ctx context.Context, tm Timer, now time.Time) error {
	return t.fire(ctx, tm, now, ActRemind,
		func(r *Request) time.Time { return r.RemindAt },
		func(r *Request) { r.RemindAt = time.Time{} },
		func(tx Tx, r *Request, _ *Grant) (Effects, error) {
			r.LastReminder, r.Reminders = now, r.Reminders+1
			r.RemindAt = time.Time{}
			if t.cfg.ReminderInterval > 0 {
				r.RemindAt = now.Add(t.cfg.ReminderInterval)
			}
			fx := Effects{Events: []Event{t.event(r, "", StatePending, StatePending, fmt.Sprintf("reminder %d sent to %d approvers", r.Reminders, len(r.Approvers)))}}
			for _, a := range r.Approvers {
				fx.Notices = append(fx.Notices, Notice{Kind: NoticeReminder, RequestID: r.ID, To: a})
			}
			return fx, nil
		})
}

// escalate hands a task that stayed open too long to another admin (the
// least loaded, never the target), telling the first admin and the
// approvers. With no other admin it goes to the approvers.
func (t *Timers) escalate(ctx context.Context, tm Timer, now time.Time) error {
	return t.fire(ctx, tm, now, ActEscalate,
		func(r *Request) time.Time { return r.EscalateAt },
		func(r *Request) { r.EscalateAt = time.Time{} },
		func(tx Tx, r *Request, _ *Grant) (Effects, error) {
			if r.IsGroup() {
				return t.escalateRows(tx, r, now)
			}
			counts, err := tx.OpenTaskCounts()
			if err != nil {
				return Effects{}, err
			}
			others := slices.DeleteFunc(t.eligible(r), func(a string) bool { return a == r.Assignee })
			next := PickAdmin(others, counts, "", r.DecidedBy)
			open := now.Sub(r.AssignedAt).Round(time.Minute)
			r.Escalations++
			r.EscalateAt = time.Time{}
			if t.cfg.EscalateAfter > 0 {
				r.EscalateAt = now.Add(t.cfg.EscalateAfter)
			}
			fx := Effects{}
			for _, a := range r.Approvers {
				fx.Notices = append(fx.Notices, Notice{Kind: NoticeEscalated, RequestID: r.ID, To: a})
			}
			if next == "" {
				fx.Events = append(fx.Events, t.event(r, "", StateApproved, StateApproved, fmt.Sprintf("escalated to the approvers after %s open; no other admin", open)))
				return fx, nil
			}
			prev := r.Assignee
			r.PreviousAssignees = append(r.PreviousAssignees, prev)
			r.Assignee, r.AssignedAt = next, now
			fx.Events = append(fx.Events, t.event(r, "", StateApproved, StateApproved, fmt.Sprintf("escalated from %s to %s after %s open", prev, next, open)))
			fx.Notices = append(fx.Notices,
				Notice{Kind: NoticeTask, RequestID: r.ID, To: next},
				Notice{Kind: NoticeEscalated, RequestID: r.ID, To: prev},
				Notice{Kind: NoticeTaskUpdate, RequestID: r.ID})
			fx.Notices = append(fx.Notices, homes(tx, prev, next)...)
			return fx, nil
		})
}

// warnExpiry tells the requester and the target that temporary access ends
// the next day.
func (t *Timers) warnExpiry(ctx context.Context, tm Timer, now time.Time) error {
	return t.fire(ctx, tm, now, ActExpiryWarn,
		func(r *Request) time.Time { return r.ExpiryWarnAt },
		func(r *Request) { r.ExpiryWarnAt = time.Time{} },
		func(tx Tx, r *Request, _ *Grant) (Effects, error) {
			r.ExpiryWarnAt = time.Time{}
			fx := Effects{Events: []Event{t.event(r, "", r.State, r.State, "end-date reminder sent for "+r.EndDate)}}
			for _, u := range unique(r.Requester, r.Target) {
				fx.Notices = append(fx.Notices, Notice{Kind: NoticeExpiryWarn, RequestID: r.ID, To: u})
			}
			return fx, nil
		})
}

// expire ends temporary access: a removal request, approved by the
// original decision, is born in the same transaction. Access the ledger no
// longer holds from this request (changed or removed since) is left alone.
// A removal already open for the person that is not in hand (still
// pending, so the holder could withdraw it, or with nobody to do it) is
// taken over; one in hand is waited for, the timer checking again hourly,
// so the grant always ends.
func (t *Timers) expire(ctx context.Context, tm Timer, now time.Time) error {
	b, err := t.prepare(ctx, Draft{Action: ActionRemove})
	if err != nil {
		return err
	}
	return t.fire(ctx, tm, now, ActExpire,
		func(r *Request) time.Time { return r.ExpireAt },
		func(r *Request) { r.ExpireAt, r.ExpiryWarnAt = time.Time{}, time.Time{} },
		func(tx Tx, r *Request, g *Grant) (Effects, error) {
			r.ExpiryWarnAt = time.Time{}
			also, released, err := t.release(tx, r.Target, "the end date of "+r.ID, now)
			if o, ok := errors.AsType[*OpenError](err); ok {
				r.ExpireAt = now.Add(ExpiryRecheck)
				if r.ExpiryHeldBy == o.ID {
					return Effects{}, nil
				}
				r.ExpiryHeldBy = o.ID
				return Effects{Events: []Event{t.event(r, "", r.State, r.State, "end date reached; removal already in hand as "+o.ID+", checked again until the seat is gone")}}, nil
			} else if err != nil {
				return Effects{}, err
			}
			r.ExpireAt, r.ExpiryHeldBy = time.Time{}, ""
			d := b.d
			d.Requester, d.Target = r.Requester, Person{ID: r.Target, Email: g.Email, Name: r.TargetName}
			d.Justification = fmt.Sprintf("Temporary access granted by %s ended on %s.", r.ID, r.EndDate)
			d.Origin, d.AutoReason, d.Basis = OriginExpiry, r.ID, r.ID
			d.Evidence, d.DecidedBy = OriginExpiry, r.DecidedBy
			d.Detail = "created by the end date of " + r.ID + ", approved by its original decision"
			d.supersedes = released
			eb, err := b.with(d)
			if err != nil {
				return Effects{}, err
			}
			rm := &Request{}
			_, spawn, err := eb.build(tx, rm, now)
			if err != nil {
				return Effects{}, err
			}
			for _, u := range unique(r.Requester, r.Target) {
				spawn.Notices = append(spawn.Notices, Notice{Kind: NoticeAutoRemoval, To: u})
			}
			fx := Effects{
				Events: []Event{t.event(r, "", r.State, r.State, "end date reached; removal request created")},
				Spawn:  &Spawn{Request: rm, Effects: spawn},
			}
			if also != nil {
				fx.Also = []Also{*also}
			}
			return fx, nil
		})
}

// ExpiryRecheck is how often an end date that found a removal already in
// hand checks again, until the ledger no longer holds the grant.
const ExpiryRecheck = time.Hour

func unique(users ...string) []string {
	var out []string
	for _, u := range users {
		if u != "" && !slices.Contains(out, u) {
			out = append(out, u)
		}
	}
	return out
}

// addressed drops notices that need a recipient and have none.
func (fx Effects) addressed() Effects {
	fx.Notices = slices.DeleteFunc(fx.Notices, func(n Notice) bool {
		return n.To == "" && !n.Kind.IsUpdate()
	})
	if fx.Spawn != nil {
		sp := *fx.Spawn
		sp.Effects = sp.Effects.addressed()
		fx.Spawn = &sp
	}
	if len(fx.Also) > 0 {
		also := slices.Clone(fx.Also)
		for i := range also {
			also[i].Effects = also[i].Effects.addressed()
		}
		fx.Also = also
	}
	return fx
}

// IsUpdate reports whether notices of kind k update messages already posted
// rather than post to someone.
func (k NoticeKind) IsUpdate() bool {
	return k == NoticeCardsUpdate || k == NoticeTaskUpdate || k == NoticeConfirmUpdate
}

// UpdatedKind returns the kind of the messages an update notice rewrites.
func (k NoticeKind) UpdatedKind() NoticeKind {
	switch k {
	case NoticeCardsUpdate:
		return NoticeApprovalCard
	case NoticeTaskUpdate:
		return NoticeTask
	case NoticeConfirmUpdate:
		return NoticeConfirm
	}
	return ""
}
