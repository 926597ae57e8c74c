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
type laneKey struct {
	kind access.NoticeKind // "" for posts
	to   string            // recipient of posts and Home tabs
	req  string            // request of updates
}

func laneOf(n access.Notice) laneKey {
	switch {
	case n.Kind == access.NoticeHome:
		return laneKey{kind: n.Kind, to: n.To}
	case n.Kind.IsUpdate():
		return laneKey{kind: n.Kind, req: n.RequestID}
	}
	return laneKey{to: n.To}
}

// postsKey names the posts of one kind for one request (and, with to, one
// recipient), which updates and reminders wait for.
type postsKey struct {
	req  string
	kind access.NoticeKind
	to   string
}

// lane is one group of notices handed to a goroutine.
type lane struct {
	key   laneKey
	class class
	first uint64   // the lowest notice ID, for queue order
	ids   []uint64 // planned
	ns    []access.Notice
}

// pass is the state of one drain: what was read and not yet sent, what is
// in flight, and what is finished (sent, or failed and rescheduled).
type pass struct {
	known    map[uint64]access.Notice
	inflight map[uint64]access.Notice
	done     map[uint64]bool
	busy     map[laneKey]class // lanes in flight

	// Reused by plan, which runs after every few messages.
	owed  map[postsKey]bool
	lanes map[laneKey]*lane
}

func (p *pass) skip(id uint64) bool {
	_, k := p.known[id]
	_, f := p.inflight[id]
	return k || f || p.done[id]
}

// plan returns the lanes that may start now, in delivery order.
func (p *pass) plan() []lane {
	// What updates and reminders wait for: posts queued or in flight.
	if p.owed == nil {
		p.owed, p.lanes = map[postsKey]bool{}, map[laneKey]*lane{}
	}
	owed, lanes := p.owed, p.lanes
	clear(owed)
	clear(lanes)
	waiting := false // for posts: any update or reminder known?
	for _, n := range p.known {
		if n.Kind.IsUpdate() || n.Kind == access.NoticeReminder {
			waiting = true
			break
		}
	}
	if waiting {
		for _, m := range []map[uint64]access.Notice{p.known, p.inflight} {
			for _, n := range m {
				if !n.Kind.IsUpdate() && n.Kind != access.NoticeHome {
					owed[postsKey{n.RequestID, n.Kind, ""}] = true
					owed[postsKey{n.RequestID, n.Kind, n.To}] = true
				}
			}
		}
	}
	for _, n := range p.known {
		switch {
		case n.Kind.IsUpdate() && owed[postsKey{n.RequestID, n.Kind.UpdatedKind(), ""}]:
			continue
		case n.Kind == access.NoticeReminder && owed[postsKey{n.RequestID, access.NoticeApprovalCard, n.To}]:
			continue
		}
		key := laneOf(n)
		if _, ok := p.busy[key]; ok {
			continue // after the lane in flight, in order
		}
		l := lanes[key]
		if l == nil {
			l = &lane{key: key, class: classRefresh, first: n.ID}
			lanes[key] = l
		}
		l.ids = append(l.ids, n.ID)
		l.class = min(l.class, classOf(n.Kind))
		l.first = min(l.first, n.ID)
	}
	out := make([]lane, 0, len(lanes))
	for _, l := range lanes {
		out = append(out, *l)
	}
	slices.SortFunc(out, func(a, b lane) int {
		return cmp.Or(cmp.Compare(a.class, b.class), cmp.Compare(a.first, b.first))
	})
	return out
}

// take moves lane l's notices from known to in flight, acting notices first,
// then in the order they were queued.
func (p *pass) take(l *lane) {
	l.ns = make([]access.Notice, 0, len(l.ids))
	for _, id := range l.ids {
		n := p.known[id]
		delete(p.known, id)
		p.inflight[id] = n
		l.ns = append(l.ns, n)
	}
	slices.SortFunc(l.ns, func(a, b access.Notice) int {
		return cmp.Or(cmp.Compare(classOf(a.Kind), classOf(b.Kind)), cmp.Compare(a.ID, b.ID))
	})
}

// drain delivers the notices due at asOf (zero: now), each at most once per
// call, in lanes run in parallel; the pacer keeps each channel and method
// within Slack's limits. Lanes are kept busy: as one finishes, newly due
// notices are picked up without waiting for the others.
func (w *Worker) drain(ctx context.Context, asOf time.Time) {
	const page = 512
	p := &pass{known: map[uint64]access.Notice{}, inflight: map[uint64]access.Notice{}, done: map[uint64]bool{}, busy: map[laneKey]class{}}
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
	// The outbox is read when new notices were queued, when the last read
	// was a full page, and at least every rereadEvery (for retries that
	// fell due); a finished lane alone only frees what is already known.
	read, lastRead := true, time.Time{}
	for ctx.Err() == nil {
		fresh := false
		if read || time.Since(lastRead) >= rereadEvery {
			now := asOf
			if now.IsZero() {
				now = w.opts.Now()
			}
			due, err := w.store.DueNoticesExcept(ctx, now, page, func(id uint64) bool { return p.skip(id) || w.marks.has(id) })
			if err != nil {
				w.log.Error("outbox: read failed", "err", err)
				return
			}
			for _, n := range due {
				p.known[n.ID] = n
			}
			read, lastRead, fresh = len(due) == page, time.Now(), true
		}
		var planned []lane
		if running < w.opts.Lanes {
			planned = p.plan()
		}
		for _, l := range planned {
			if running == w.opts.Lanes || (l.class == classRefresh && refreshing == maxRefresh) {
				continue
			}
			p.take(&l)
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
			if !fresh {
				read = true // make sure nothing new is due before ending
				continue
			}
			return
		}
		// Wait for lanes to free up before reading the outbox again: at
		// least a quarter of them, or whatever finished within a short
		// while, so that reading does not cost more than delivering; or
		// for new notices, which may need to go before what is running.
		// Nothing wakes the loop while lanes only wait on Slack's pace.
		var timer *time.Timer
		var soon <-chan time.Time
		for freed := 0; running > 0 && freed < max(1, w.opts.Lanes/4); {
			select {
			case l := <-finished:
				release(l)
				freed++
				if timer == nil {
					timer = time.NewTimer(w.refetch())
					soon = timer.C
				}
			case <-soon:
				freed = w.opts.Lanes // enough: read again
			case <-w.store.Wake():
				// New notices: read them soon, together with any that
				// follow within the refetch delay.
				read = true
				if timer == nil {
					timer = time.NewTimer(w.refetch())
					soon = timer.C
				}
			case <-ctx.Done():
				if timer != nil {
					timer.Stop()
				}
				return
			}
		}
		if timer != nil {
			timer.Stop()
		}
	}
}

// rereadEvery bounds how long a drain goes without reading the outbox while
// lanes are busy, so that retries falling due are not left for its end.
const rereadEvery = time.Second

// refetch bounds how long finished lanes wait for company before the outbox
// is read again. Paced to Slack's limits, messages leave tens of
// milliseconds apart at best, so waiting longer costs no delivery time and
// saves reading and planning the queue after every single message.
func (w *Worker) refetch() time.Duration {
	if w.opts.Limits.Off {
		return 5 * time.Millisecond
	}
	return 25 * time.Millisecond
}

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
