package delivery

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/uxpin-access-bot/uxpin-access-bot/access"
)

// Delivery order. Slack's limits make messages queue, so what queues first
// matters: a message that lets someone act or tells them an outcome (an
// approval card, an admin task, the requester's and the person's notices)
// goes before one that only refreshes what is already on screen (a card or
// task update, a Home tab, a threaded reminder), across all requests.
//
// Within that order, the worker keeps what each conversation needs:
//   - the posts to one recipient go out in order, one lane per recipient;
//   - an update of a request's cards waits until no card of that request is
//     queued or in flight, so a card is never posted after (and over) its
//     update; a reminder waits likewise for the card it is threaded under;
//   - a request's queued updates of one kind collapse into one call that
//     renders the request's latest state, and a user's queued Home
//     refreshes into one publish.

// class is a notice's place in the delivery order.
type class int

const (
	classAct     class = iota // lets someone act, or tells an outcome
	classRefresh              // only refreshes what is already on screen
)

func classOf(k access.NoticeKind) class {
	if k.IsUpdate() || k == access.NoticeHome || k == access.NoticeReminder {
		return classRefresh
	}
	return classAct
}

// laneKey is the unit delivered in order by one lane: the posts to one
// recipient, the updates of one kind for one request, one user's Home tab.
func laneKey(n access.Notice) string {
	switch {
	case n.Kind == access.NoticeHome:
		return "home:" + n.To
	case n.Kind.IsUpdate():
		return "update:" + n.RequestID + ":" + string(n.Kind)
	}
	return "post:" + n.To
}

// postsOf keys the posts of one kind for one request (and, with to, one
// recipient), which updates and reminders wait for.
func postsOf(requestID string, kind access.NoticeKind, to string) string {
	return requestID + "\x00" + string(kind) + "\x00" + to
}

// lane is one group of notices handed to a goroutine.
type lane struct {
	key   string
	class class
	ns    []access.Notice
}

// pass is the state of one drain: what was read and not yet sent, what is
// in flight, and what is finished (sent, or failed and rescheduled).
type pass struct {
	known    map[uint64]access.Notice
	inflight map[uint64]access.Notice
	done     map[uint64]bool
	busy     map[string]class // lanes in flight, by key
}

func (p *pass) skip(id uint64) bool {
	_, k := p.known[id]
	_, f := p.inflight[id]
	return k || f || p.done[id]
}

// plan returns the lanes that may start now, in delivery order.
func (p *pass) plan() []lane {
	// What updates and reminders wait for: posts queued or in flight.
	owed := map[string]bool{}
	for _, m := range []map[uint64]access.Notice{p.known, p.inflight} {
		for _, n := range m {
			if !n.Kind.IsUpdate() && n.Kind != access.NoticeHome {
				owed[postsOf(n.RequestID, n.Kind, "")] = true
				owed[postsOf(n.RequestID, n.Kind, n.To)] = true
			}
		}
	}
	lanes := map[string]*lane{}
	for _, n := range p.known {
		switch {
		case n.Kind.IsUpdate() && owed[postsOf(n.RequestID, n.Kind.UpdatedKind(), "")]:
			continue
		case n.Kind == access.NoticeReminder && owed[postsOf(n.RequestID, access.NoticeApprovalCard, n.To)]:
			continue
		}
		key := laneKey(n)
		if _, ok := p.busy[key]; ok {
			continue // after the lane in flight, in order
		}
		l := lanes[key]
		if l == nil {
			l = &lane{key: key, class: classRefresh}
			lanes[key] = l
		}
		l.ns = append(l.ns, n)
		l.class = min(l.class, classOf(n.Kind))
	}
	out := make([]lane, 0, len(lanes))
	for _, l := range lanes {
		// Acting notices first, then in the order they were queued.
		slices.SortFunc(l.ns, func(a, b access.Notice) int {
			return cmp.Or(cmp.Compare(classOf(a.Kind), classOf(b.Kind)), cmp.Compare(a.ID, b.ID))
		})
		out = append(out, *l)
	}
	slices.SortFunc(out, func(a, b lane) int {
		return cmp.Or(cmp.Compare(a.class, b.class), cmp.Compare(a.ns[0].ID, b.ns[0].ID))
	})
	return out
}

// drain delivers the notices due at asOf (zero: now), each at most once per
// call, in lanes run in parallel; the pacer keeps each channel and method
// within Slack's limits. Lanes are kept busy: as one finishes, newly due
// notices are picked up without waiting for the others.
func (w *Worker) drain(ctx context.Context, asOf time.Time) {
	const page = 512
	p := &pass{known: map[uint64]access.Notice{}, inflight: map[uint64]access.Notice{}, done: map[uint64]bool{}, busy: map[string]class{}}
	finished := make(chan lane, w.opts.Lanes)
	running, refreshing := 0, 0
	// Refreshes are paced by Slack's workspace-wide tiers, so a few lanes
	// keep them going; the rest stay free for messages people act on.
	maxRefresh := max(1, w.opts.Lanes/4)
	release := func(l lane) {
		delete(p.busy, l.key)
		for _, n := range l.ns {
			delete(p.inflight, n.ID)
			p.done[n.ID] = true
		}
		running--
		if l.class == classRefresh {
			refreshing--
		}
	}
	defer func() {
		for running > 0 {
			release(<-finished)
		}
	}()
	for ctx.Err() == nil {
		now := asOf
		if now.IsZero() {
			now = w.opts.Now()
		}
		due, err := w.store.DueNoticesExcept(ctx, now, page, p.skip)
		if err != nil {
			w.log.Error("outbox: read failed", "err", err)
			return
		}
		for _, n := range due {
			p.known[n.ID] = n
		}
		for _, l := range p.plan() {
			if running == w.opts.Lanes || (l.class == classRefresh && refreshing == maxRefresh) {
				continue
			}
			for _, n := range l.ns {
				delete(p.known, n.ID)
				p.inflight[n.ID] = n
			}
			p.busy[l.key] = l.class
			running++
			if l.class == classRefresh {
				refreshing++
			}
			go func() {
				defer func() { finished <- l }()
				w.deliverLane(ctx, l.ns)
			}()
		}
		if running == 0 {
			return
		}
		// Wait for lanes to free up before reading the outbox again: at
		// least a quarter of them, or whatever finished within a short
		// while, so that reading does not cost more than delivering.
		wait := time.NewTimer(refetchDelay)
		for freed := 0; running > 0 && freed < max(1, w.opts.Lanes/4); {
			select {
			case l := <-finished:
				release(l)
				freed++
			case <-wait.C:
				if freed > 0 {
					freed = w.opts.Lanes // enough: read again
				}
				wait.Reset(refetchDelay)
			case <-ctx.Done():
				wait.Stop()
				return
			}
		}
		wait.Stop()
	}
}

// refetchDelay bounds how long finished lanes wait for company before the
// outbox is read again.
const refetchDelay = 5 * time.Millisecond

// deliverLane delivers one lane's notices: a recipient's posts in order, or
// one collapsed update or Home refresh.
func (w *Worker) deliverLane(ctx context.Context, ns []access.Notice) {
	switch {
	case ns[0].Kind == access.NoticeHome:
		w.guard(ctx, ns, func() { w.refreshHome(ctx, ns) })
	case ns[0].Kind.IsUpdate():
		w.guard(ctx, ns, func() { w.deliverUpdates(ctx, ns) })
	default:
		for _, n := range ns {
			if ctx.Err() != nil {
				return
			}
			w.guard(ctx, []access.Notice{n}, func() { w.deliver(ctx, n) })
		}
	}
}
