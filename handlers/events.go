package handlers

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/uxpin-access-bot/uxpin-access-bot/access"

	"github.com/slack-go/slack/slackevents"
)

// Event handles Events API events after the envelope was acked.
func (h *Handler) Event(ctx context.Context, ev slackevents.EventsAPIEvent, retryAttempt int) {
	switch e := ev.InnerEvent.Data.(type) {
	case *slackevents.AppHomeOpenedEvent:
		if e.Tab != "" && e.Tab != "home" {
			return
		}
		h.openedHome(ctx, e.User)
	case *slackevents.UserChangeEvent:
		if !e.User.Deleted {
			return
		}
		// The event is a hint, not proof: ask Slack before removing anyone.
		p, err := h.dir.Person(ctx, e.User.ID)
		if err != nil {
			h.log.Error("leaver: user lookup failed; the daily sweep will retry", "user", e.User.ID, "err", err)
			return
		}
		if !p.Deleted {
			h.log.Warn("leaver: user_change says deactivated but Slack says active; ignored", "user", e.User.ID)
			return
		}
		h.queueLeaver(p)
	case *slackevents.MessageEvent:
		if e.SubType == "file_share" {
			h.fileShared(ctx, e)
		}
	default:
		h.log.Debug("event ignored", "type", ev.InnerEvent.Type)
	}
}

// leaverBatch gathers the leavers that user_change events report, so that
// a mass deactivation is one check and meets the breaker (SPEC §9.2)
// instead of slipping through one event at a time.
type leaverBatch struct {
	mu      sync.Mutex
	people  []access.Person
	pending bool
}

// queueLeaver adds a verified leaver to the batch and, for the first one,
// schedules the check after the batch window.
func (h *Handler) queueLeaver(p access.Person) {
	h.leavers.mu.Lock()
	h.leavers.people = append(h.leavers.people, p)
	first := !h.leavers.pending
	h.leavers.pending = true
	h.leavers.mu.Unlock()
	if !first {
		return
	}
	h.background(func(ctx context.Context) {
		if h.leaverWindow > 0 {
			t := time.NewTimer(h.leaverWindow)
			select {
			case <-t.C:
			case <-h.stop:
				t.Stop()
			}
		}
		h.leavers.mu.Lock()
		batch := h.leavers.people
		h.leavers.people, h.leavers.pending = nil, false
		h.leavers.mu.Unlock()
		h.checkLeavers(ctx, batch, "their Slack account was deactivated")
	})
}

// checkLeavers offboards leavers through the lifecycle's breaker and, when
// it holds them, asks the approvers once with the list.
func (h *Handler) checkLeavers(ctx context.Context, people []access.Person, reason string) {
	if len(people) == 0 {
		return
	}
	res, err := h.svc.CheckLeavers(ctx, people, reason)
	for _, r := range res.Removals {
		h.log.Info("leaver: removal request created", "request", r.ID, "user", r.Target, "assignee", r.Assignee)
	}
	if err != nil {
		h.log.Error("leaver: check failed; the daily sweep will retry", "err", err)
		return
	}
	if len(res.Held) == 0 {
		return
	}
	h.log.Warn("leaver: more leavers than UXPIN_LEAVER_AUTO_MAX at once; nothing removed, approvers asked", "leavers", len(res.Held))
	approvers, err := h.svc.Approvers(ctx)
	if err != nil {
		h.log.Error("leaver: could not list the approvers to ask", "err", err)
		return
	}
	text, blocks := leaversHeld(res.Held)
	for _, a := range approvers {
		if _, err := h.dmBlocks(ctx, a, text, blocks); err != nil {
			h.log.Error("leaver: could not ask an approver; the next sweep asks again", "approver", a, "err", err)
		}
	}
}

// leaversHeld is the one message the approvers get when the breaker holds
// leavers' removals: who, with which seat, and what to do.
func leaversHeld(held []access.Grant) (string, []slack.Block) {
	lines := make([]string, 0, len(held))
	for _, g := range held {
		lines = append(lines, fmt.Sprintf("• %s (%s): %s since %s, %s", user(g.UserID), esc(g.Email), g.Role.Label(), formatDate(g.Since), g.RequestID))
	}
	head := fmt.Sprintf(":octagonal_sign: Slack reports %d people with UXPin seats as deactivated at once. That is more than the leaver policy removes on its own, so *nothing was removed*. If they did leave, remove their seats with `/uxpin-access offboard @person` (or the seat audit); if this is a mistake in Slack, nothing needs doing.", len(held))
	text := fmt.Sprintf("%d leavers with UXPin seats found at once; nothing was removed. Please check.", len(held))
	blocks := append([]slack.Block{section(head)}, chunkLines(lines, maxMsgBlocks-1)...)
	return text, blocks
}

// SweepLeavers checks everyone in the ledger against Slack and offboards
// those Slack reports deactivated: the second signal for leavers, for when
// a user_change event was missed. A lookup error, user_not_found or
// user_not_visible is no evidence: nobody is removed on it.
func (h *Handler) SweepLeavers(ctx context.Context) {
	grants, err := h.svc.Roster(ctx)
	if err != nil {
		h.log.Error("leaver sweep: reading the ledger failed", "err", err)
		return
	}
	var gone []access.Person
	for _, g := range grants {
		if strings.HasPrefix(g.UserID, "email:") {
			continue
		}
		p, err := h.dir.Person(ctx, g.UserID)
		if err != nil {
			h.log.Warn("leaver sweep: user lookup failed; not evidence of leaving, will try next sweep", "user", g.UserID, "err", err)
			continue
		}
		if p.Deleted {
			gone = append(gone, access.Person{ID: g.UserID, Name: g.Name, Email: g.Email, Deleted: true})
		}
	}
	h.checkLeavers(ctx, gone, "they are no longer in Slack")
}

// RunLeaverSweep runs SweepLeavers every interval until ctx is cancelled.
func (h *Handler) RunLeaverSweep(ctx context.Context, first, every time.Duration) {
	t := time.NewTimer(first)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		h.SweepLeavers(ctx)
		t.Reset(every)
	}
}
