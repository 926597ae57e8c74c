package handlers

import (
	"context"
	"sync"

	"github.com/slack-go/slack"
)

// maxAudits is how many seat audits run at once; each holds a whole team
// list and the ledger in memory.
const maxAudits = 2

// auditGate bounds seat audits: one per person, maxAudits at once.
type auditGate struct {
	mu      sync.Mutex
	running map[string]bool
	slots   chan struct{}
}

// enter waits for a slot for actor's audit. It returns false, at once, if
// actor already has one running or waiting, or when ctx ends first.
func (g *auditGate) enter(ctx context.Context, actor string) (leave func(), ok bool) {
	g.mu.Lock()
	if g.running == nil {
		g.running = map[string]bool{}
		g.slots = make(chan struct{}, maxAudits)
	}
	if g.running[actor] {
		g.mu.Unlock()
		return nil, false
	}
	g.running[actor] = true
	slots := g.slots
	g.mu.Unlock()
	done := func() {
		g.mu.Lock()
		delete(g.running, actor)
		g.mu.Unlock()
	}
	select {
	case slots <- struct{}{}:
		return func() { <-slots; done() }, true
	case <-ctx.Done():
		done()
		return nil, false
	}
}

// auditSlot takes a seat-audit slot for actor, or tells them why not.
func (h *Handler) auditSlot(ctx context.Context, actor string) (leave func(), ok bool) {
	leave, ok = h.audits.enter(ctx, actor)
	if !ok && ctx.Err() == nil {
		if _, _, err := h.api.PostMessageContext(ctx, actor, slack.MsgOptionText(
			"A seat audit of yours is already running; I'll send its report when it is done. Start another after that.", false)); err != nil {
			h.log.Warn("seat audit: could not say one is already running", "user", actor, "err", err)
		}
	}
	return leave, ok
}
