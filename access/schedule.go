package access

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"
)

// errNotDue aborts a timer's transaction when the timer was disarmed or moved
// since it was read: it then fires no more than once.
var errNotDue = errors.New("timer no longer due")

// FireDue runs every timer that is due now and reports how many fired.
// Each runs in its own transaction that also re-arms or disarms it, so a
// timer fires once even if FireDue runs twice or the process restarts.
func (s *Service) FireDue(ctx context.Context) (int, error) {
	now := s.now()
	timers, err := s.store.DueTimers(ctx, now, 200)
	if err != nil {
		return 0, err
	}
	var errs []error
	fired := 0
	for _, t := range timers {
		var err error
		switch t.Kind {
		case TimerRemind:
			err = s.remind(ctx, t, now)
		case TimerEscalate:
			err = s.escalate(ctx, t, now)
		case TimerExpiryWarn:
			err = s.warnExpiry(ctx, t, now)
		case TimerExpire:
			err = s.expire(ctx, t, now)
		default:
			err = fmt.Errorf("unknown timer kind %q", t.Kind)
		}
		switch {
		case err == nil:
			fired++
		case errors.Is(err, errNotDue):
		default:
			errs = append(errs, fmt.Errorf("%s timer of %s: %w", t.Kind, t.RequestID, err))
		}
	}
	return fired, errors.Join(errs...)
}

// RunScheduler fires due timers every tick until ctx is cancelled, passing
// errors to report.
func (s *Service) RunScheduler(ctx context.Context, tick time.Duration, report func(error)) {
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		if _, err := s.FireDue(ctx); err != nil && ctx.Err() == nil {
			report(err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func due(at, now time.Time) bool { return !at.IsZero() && !at.After(now) }

// remind nudges a pending request's approvers once, however many intervals
// passed while the bot was down, and arms the next reminder.
func (s *Service) remind(ctx context.Context, t Timer, now time.Time) error {
	_, err := s.update(ctx, t.RequestID, func(tx Tx, r *Request) (Effects, error) {
		if r.State != StatePending || !due(r.RemindAt, now) {
			return Effects{}, errNotDue
		}
		r.LastReminder, r.Reminders = now, r.Reminders+1
		r.RemindAt = time.Time{}
		if s.policy.ReminderInterval > 0 {
			r.RemindAt = now.Add(s.policy.ReminderInterval)
		}
		fx := Effects{Events: []Event{s.event(r, "", StatePending, StatePending, fmt.Sprintf("reminder %d sent to %d approvers", r.Reminders, len(r.Approvers)))}}
		for _, a := range r.Approvers {
			fx.Notices = append(fx.Notices, Notice{Kind: NoticeReminder, RequestID: r.ID, To: a})
		}
		return fx, nil
	})
	return err
}

// escalate hands a task that stayed open too long to another admin (the
// least loaded, never the target), telling the first admin and the
// approvers. With no other admin it goes to the approvers.
func (s *Service) escalate(ctx context.Context, t Timer, now time.Time) error {
	_, err := s.update(ctx, t.RequestID, func(tx Tx, r *Request) (Effects, error) {
		if r.State != StateApproved || !due(r.EscalateAt, now) {
			return Effects{}, errNotDue
		}
		counts, err := tx.OpenTaskCounts()
		if err != nil {
			return Effects{}, err
		}
		others := slices.DeleteFunc(slices.Clone(s.policy.Admins), func(a string) bool { return a == r.Assignee })
		next := PickAdmin(others, counts, r.Target)
		open := now.Sub(r.AssignedAt).Round(time.Minute)
		r.Escalations++
		r.EscalateAt = time.Time{}
		if s.policy.EscalateAfter > 0 {
			r.EscalateAt = now.Add(s.policy.EscalateAfter)
		}
		fx := Effects{}
		for _, a := range r.Approvers {
			fx.Notices = append(fx.Notices, Notice{Kind: NoticeEscalated, RequestID: r.ID, To: a})
		}
		if next == "" {
			fx.Events = append(fx.Events, s.event(r, "", StateApproved, StateApproved, fmt.Sprintf("escalated to the approvers after %s open; no other admin", open)))
			return fx, nil
		}
		prev := r.Assignee
		r.PreviousAssignees = append(r.PreviousAssignees, prev)
		r.Assignee, r.AssignedAt = next, now
		fx.Events = append(fx.Events, s.event(r, "", StateApproved, StateApproved, fmt.Sprintf("escalated from %s to %s after %s open", prev, next, open)))
		fx.Notices = append(fx.Notices,
			Notice{Kind: NoticeTask, RequestID: r.ID, To: next},
			Notice{Kind: NoticeEscalated, RequestID: r.ID, To: prev},
			Notice{Kind: NoticeTaskUpdate, RequestID: r.ID})
		fx.Notices = append(fx.Notices, homes(tx, prev, next)...)
		return fx, nil
	})
	return err
}

// warnExpiry tells the requester and the target that temporary access ends
// the next day.
func (s *Service) warnExpiry(ctx context.Context, t Timer, now time.Time) error {
	_, err := s.update(ctx, t.RequestID, func(tx Tx, r *Request) (Effects, error) {
		if r.State != StateFulfilled || !due(r.ExpiryWarnAt, now) {
			return Effects{}, errNotDue
		}
		r.ExpiryWarnAt = time.Time{}
		fx := Effects{Events: []Event{s.event(r, "", StateFulfilled, StateFulfilled, "end-date reminder sent for "+r.EndDate)}}
		for _, u := range unique(r.Requester, r.Target) {
			fx.Notices = append(fx.Notices, Notice{Kind: NoticeExpiryWarn, RequestID: r.ID, To: u})
		}
		return fx, nil
	})
	return err
}

// expire ends temporary access: a removal request, approved by the original
// decision, is created and assigned in the same transaction.
func (s *Service) expire(ctx context.Context, t Timer, now time.Time) error {
	_, err := s.update(ctx, t.RequestID, func(tx Tx, r *Request) (Effects, error) {
		if r.State != StateFulfilled || !due(r.ExpireAt, now) {
			return Effects{}, errNotDue
		}
		r.ExpireAt, r.ExpiryWarnAt = time.Time{}, time.Time{}
		g, err := tx.GrantFor(r.Target)
		if err != nil {
			return Effects{}, err
		}
		if g == nil || g.RequestID != r.ID {
			why := "the person no longer holds UXPin access"
			if g != nil {
				why = "their access was changed since by " + g.RequestID
			}
			return Effects{Events: []Event{s.event(r, "", StateFulfilled, StateFulfilled, "end date reached; nothing to remove: "+why)}}, nil
		}
		if id, err := tx.OpenRequestFor(r.Target, ActionRemove); err != nil {
			return Effects{}, err
		} else if id != "" {
			return Effects{Events: []Event{s.event(r, "", StateFulfilled, StateFulfilled, "end date reached; removal already open as "+id)}}, nil
		}
		rm := &Request{
			Action: ActionRemove, Requester: r.Requester, Target: r.Target,
			TargetEmail: g.Email, TargetName: r.TargetName, CurrentRole: g.Role,
			Justification: fmt.Sprintf("Temporary access granted by %s ended on %s.", r.ID, r.EndDate),
			State:         StateApproved, Approvers: r.Approvers,
			DecidedBy: r.DecidedBy, DecidedAt: now, UpdatedAt: now,
			Origin: OriginExpiry, AutoReason: r.ID,
		}
		spawn := Effects{Events: []Event{s.event(rm, r.DecidedBy, "", StateApproved, "created by the end date of "+r.ID+", approved by its original decision")}}
		if err := s.assign(tx, rm, now, &spawn); err != nil {
			return Effects{}, err
		}
		for _, u := range unique(r.Requester, r.Target) {
			spawn.Notices = append(spawn.Notices, Notice{Kind: NoticeAutoRemoval, To: u})
		}
		return Effects{
			Events: []Event{s.event(r, "", StateFulfilled, StateFulfilled, "end date reached; removal request created")},
			Spawn:  &Spawn{Request: rm, Effects: spawn},
		}, nil
	})
	return err
}

// Offboard removes the UXPin seat of someone who left: a removal request,
// approved by policy, is created and assigned, and the approvers are told.
// It returns an ENOTFOUND error when the ledger shows no access and an
// ECONFLICT error when a removal is already open, so repeated or retried
// signals create one request only.
func (s *Service) Offboard(ctx context.Context, p Person, reason string) (*Request, error) {
	approvers, err := s.dir.Approvers(ctx)
	if err != nil {
		return nil, fmt.Errorf("resolve approvers: %w", err)
	}
	now := s.now()
	return s.create(ctx, func(tx Tx, r *Request) (Effects, error) {
		g, err := tx.GrantFor(p.ID)
		if err != nil {
			return Effects{}, err
		}
		if g == nil {
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
		fx := Effects{Events: []Event{s.event(r, "", "", StateApproved, "created and approved by the leaver policy: "+reason)}}
		if err := s.assign(tx, r, now, &fx); err != nil {
			return Effects{}, err
		}
		for _, a := range approvers {
			fx.Notices = append(fx.Notices, Notice{Kind: NoticeAutoRemoval, RequestID: r.ID, To: a})
		}
		return fx, nil
	})
}

// Confirm records that the target of a fulfilled grant can use UXPin.
func (s *Service) Confirm(ctx context.Context, id, actor string) (*Request, error) {
	now := s.now()
	return s.update(ctx, id, func(tx Tx, r *Request) (Effects, error) {
		if err := confirmable(r, actor); err != nil {
			return Effects{}, err
		}
		r.Confirmed, r.ConfirmedAt, r.UpdatedAt = true, now, now
		fx := Effects{
			Events:  []Event{s.event(r, actor, StateFulfilled, StateFulfilled, "the person confirmed the access works")},
			Notices: []Notice{{Kind: NoticeConfirmUpdate, RequestID: r.ID}, {Kind: NoticeConfirmed, RequestID: r.ID, To: r.ClosedBy}},
		}
		g, err := tx.GrantFor(r.Target)
		if err != nil {
			return Effects{}, err
		}
		if g != nil && g.RequestID == r.ID {
			g.Confirmed = true
			fx.Grant = g
		}
		return fx, nil
	})
}

// Reopen sends a fulfilled grant back to its admin because the person cannot
// get in, with their message.
func (s *Service) Reopen(ctx context.Context, id, actor, message string) (*Request, error) {
	message = Clean(message)
	if message == "" {
		return nil, &ValidationError{Fields: map[string]string{FieldReason: "Say what happens when you try to sign in."}}
	}
	if utf8.RuneCountInString(message) > MaxReason {
		return nil, &ValidationError{Fields: map[string]string{FieldReason: fmt.Sprintf("Keep it under %d characters.", MaxReason)}}
	}
	now := s.now()
	return s.update(ctx, id, func(tx Tx, r *Request) (Effects, error) {
		if err := confirmable(r, actor); err != nil {
			return Effects{}, err
		}
		closer := r.ClosedBy
		r.State, r.UpdatedAt = StateApproved, now
		r.Reopened, r.ReopenReason = r.Reopened+1, message
		r.ClosedBy, r.ClosedAt = "", time.Time{}
		r.ExpireAt, r.ExpiryWarnAt = time.Time{}, time.Time{}
		fx := Effects{Events: []Event{s.event(r, actor, StateFulfilled, StateApproved, "reopened: "+message)}}
		if r.Assignee == "" || !s.IsAdmin(r.Assignee) {
			if err := s.assign(tx, r, now, &fx); err != nil {
				return Effects{}, err
			}
		} else {
			r.AssignedAt = now
			if s.policy.EscalateAfter > 0 {
				r.EscalateAt = now.Add(s.policy.EscalateAfter)
			}
			fx.Notices = append(fx.Notices, Notice{Kind: NoticeTask, RequestID: r.ID, To: r.Assignee})
		}
		fx.Notices = append(fx.Notices, Notice{Kind: NoticeConfirmUpdate, RequestID: r.ID})
		if closer != "" && closer != r.Assignee {
			fx.Notices = append(fx.Notices, Notice{Kind: NoticeConfirmed, RequestID: r.ID, To: closer})
		}
		if r.Requester != r.Target {
			fx.Notices = append(fx.Notices, Notice{Kind: NoticeConfirmed, RequestID: r.ID, To: r.Requester})
		}
		fx.Notices = append(fx.Notices, homes(tx, r.Assignee, r.Requester)...)
		return fx, nil
	})
}

func confirmable(r *Request, actor string) error {
	if actor != r.Target {
		return Errorf(EUNAUTHORIZED, "Only <@%s>, who %s is for, can answer this.", r.Target, r.ID)
	}
	if r.Action != ActionGrant || r.State != StateFulfilled {
		return Errorf(ECONFLICT, "%s is %s; there is nothing to confirm now.", r.ID, Describe(r))
	}
	if r.Confirmed {
		return Errorf(ECONFLICT, "You already confirmed %s works. Thanks!", r.ID)
	}
	return nil
}

func unique(users ...string) []string {
	var out []string
	for _, u := range users {
		if u != "" && !slices.Contains(out, u) {
			out = append(out, u)
		}
	}
	return out
}

// create and update wrap the store's calls so that no notice is ever owed to
// nobody (a leaver removal has no human requester, for instance).
func (s *Service) create(ctx context.Context, fn func(Tx, *Request) (Effects, error)) (*Request, error) {
	return s.store.CreateRequest(ctx, func(tx Tx, r *Request) (Effects, error) {
		fx, err := fn(tx, r)
		return fx.addressed(), err
	})
}

func (s *Service) update(ctx context.Context, id string, fn func(Tx, *Request) (Effects, error)) (*Request, error) {
	return s.store.UpdateRequest(ctx, id, func(tx Tx, r *Request) (Effects, error) {
		fx, err := fn(tx, r)
		return fx.addressed(), err
	})
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

// Approver describes who approved a request, for messages: a person, or the
// policy that approved it automatically.
func Approver(r *Request) string {
	switch {
	case r.Origin == OriginLeaver:
		return "the leaver policy"
	case r.Origin == OriginExpiry && r.DecidedBy != "":
		return fmt.Sprintf("<@%s> (the original decision on %s)", r.DecidedBy, r.AutoReason)
	case r.DecidedBy == "":
		return "nobody"
	}
	return "<@" + r.DecidedBy + ">"
}
