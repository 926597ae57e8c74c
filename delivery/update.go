package delivery

import (
	"context"
	"fmt"

	"github.com/slack-go/slack"

	"github.com/uxpin-access-bot/uxpin-access-bot/access"
)

// updateAll rewrites every message of kind for the request to show its
// current state.
func (w *Worker) updateAll(ctx context.Context, n access.Notice, r *access.Request, kind access.NoticeKind) error {
	refs, err := w.messageRefs(ctx, r.ID, kind)
	if err != nil {
		return err
	}
	for _, ref := range refs {
		if err := w.update(ctx, ref, access.Notice{Kind: kind, RequestID: r.ID, To: ref.To}, r); err != nil {
			if f := Classify(err); f.Permanent {
				// One deleted card must not hold back the others.
				w.log.Warn("outbox: message could not be updated; skipping it", "request", r.ID, "channel", ref.Channel, "err", f.Code)
				continue
			}
			return err
		}
	}
	w.markUpdated(n)
	return nil
}

// update re-renders message ref as notice n for the request's current state.
func (w *Worker) update(ctx context.Context, ref access.MessageRef, n access.Notice, r *access.Request) error {
	text, blocks, err := w.render(ctx, n, r)
	if err != nil {
		return fmt.Errorf("render %s: %w", n, err)
	}
	if err := w.pacer.wait(ctx, keyTier3); err != nil {
		return err
	}
	cctx, cancel := w.call(ctx)
	defer cancel()
	_, _, _, err = w.api.UpdateMessageContext(cctx, ref.Channel, ref.TS,
		slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...))
	w.pacer.answered(keyTier3, err)
	return err
}

// refreshHome republishes one user's Home tab once for all of ns.
func (w *Worker) refreshHome(ctx context.Context, ns []access.Notice) {
	last := ns[len(ns)-1]
	if w.opts.Home != nil {
		if err := w.pacer.wait(ctx, keyTier4); err != nil {
			return
		}
		err := w.opts.Home.RefreshHome(ctx, last.To)
		w.pacer.answered(keyTier4, err)
		if err != nil {
			w.settle(ctx, last, err)
			ns = ns[:len(ns)-1]
		}
	}
	for _, n := range ns {
		w.markUpdated(n)
	}
}

// markUpdated records that update or Home notice n was delivered.
func (w *Worker) markUpdated(n access.Notice) {
	w.marks.add(n.ID, nil)
	w.log.Debug("outbox: delivered", "notice", n.ID, "kind", n.Kind, "request", n.RequestID)
}

// deliverUpdates rewrites a request's messages of one kind once for all the
// queued updates ns: the request is read after they were queued, so one
// rendering of its current state settles them all.
func (w *Worker) deliverUpdates(ctx context.Context, ns []access.Notice) {
	last := ns[len(ns)-1]
	r, err := w.store.Request(ctx, last.RequestID)
	if err == nil {
		err = w.updateAll(ctx, last, r, last.Kind.UpdatedKind())
	} else if access.ErrorCode(err) == access.ENOTFOUND {
		for _, n := range ns {
			w.abandon(ctx, n, "request not found")
		}
		return
	}
	for _, n := range ns[:len(ns)-1] {
		if err == nil {
			w.markUpdated(n)
			continue
		}
		w.settle(ctx, n, err)
	}
	w.settle(ctx, last, err)
}
