package delivery

import (
	"context"
	"time"

	"github.com/uxpin-access-bot/uxpin-access-bot/access"
)

// drain delivers the notices due at asOf (zero: now), each at most once per
// call. Notices are grouped by request: a request's notices go out in order
// (a card before its update), different requests' in parallel lanes, and the
// pacer keeps each channel and method within Slack's limits. Lanes are kept
// busy: as one finishes, newly due notices are picked up without waiting for
// the others.
func (w *Worker) drain(ctx context.Context, asOf time.Time) {
	const page = 256
	seen := map[uint64]bool{}
	busy := map[string]bool{} // groups in flight, by request (or "home:"+user)
	finished := make(chan string, w.opts.Lanes)
	running := 0
	defer func() {
		for ; running > 0; running-- {
			<-finished
		}
	}()
	for ctx.Err() == nil {
		now := asOf
		if now.IsZero() {
			now = w.opts.Now()
		}
		due, err := w.store.DueNoticesExcept(ctx, now, page, func(id uint64) bool { return seen[id] })
		if err != nil {
			w.log.Error("outbox: read failed", "err", err)
			return
		}
		var order []string
		groups := map[string][]access.Notice{}
		for _, n := range due {
			if seen[n.ID] {
				continue // in flight, or failed once in this pass: its retry waits for the timer
			}
			// A Home tab shows current state, so of several refreshes owed
			// to one user only the last need run; it settles the others.
			key := n.RequestID
			if n.Kind == access.NoticeHome {
				key = "home:" + n.To
			}
			if busy[key] {
				continue // after the group in flight, in order
			}
			if _, ok := groups[key]; !ok {
				order = append(order, key)
			}
			groups[key] = append(groups[key], n)
		}
		for _, key := range order {
			if running == w.opts.Lanes {
				break
			}
			ns := groups[key]
			for _, n := range ns {
				seen[n.ID] = true
			}
			busy[key] = true
			running++
			go func() {
				defer func() { finished <- key }()
				w.deliverGroup(ctx, ns)
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
			case key := <-finished:
				delete(busy, key)
				running--
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

// deliverGroup delivers one request's notices in order.
func (w *Worker) deliverGroup(ctx context.Context, ns []access.Notice) {
	if ns[0].Kind == access.NoticeHome {
		w.refreshHome(ctx, ns)
		return
	}
	for _, n := range ns {
		if ctx.Err() != nil {
			return
		}
		w.deliver(ctx, n)
	}
}
