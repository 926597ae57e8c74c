package handlers

import (
	"context"
	"time"

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
		h.offboard(ctx, p, "their Slack account was deactivated")
	case *slackevents.MessageEvent:
		if e.SubType == "file_share" {
			h.fileShared(ctx, e)
		}
	default:
		h.log.Debug("event ignored", "type", ev.InnerEvent.Type)
	}
}

// offboard starts the removal of a leaver's seat, if the ledger shows one.
// Repeated signals for the same person create one request only.
func (h *Handler) offboard(ctx context.Context, p access.Person, reason string) {
	r, err := h.svc.Offboard(ctx, p, reason)
	switch code := access.ErrorCode(err); code {
	case "":
		h.log.Info("leaver: removal request created", "request", r.ID, "user", p.ID, "assignee", r.Assignee)
	case access.ENOTFOUND, access.ECONFLICT:
		h.log.Debug("leaver: nothing to do", "user", p.ID, "reason", access.ErrorMessage(err))
	default:
		h.log.Error("leaver: could not create the removal request", "user", p.ID, "err", err)
	}
}

// SweepLeavers checks everyone in the ledger against Slack and offboards
// those who are deactivated or gone: the second signal for leavers, for
// when a user_change event was missed.
func (h *Handler) SweepLeavers(ctx context.Context) {
	grants, err := h.svc.Roster(ctx)
	if err != nil {
		h.log.Error("leaver sweep: reading the ledger failed", "err", err)
		return
	}
	for _, g := range grants {
		p, err := h.dir.Person(ctx, g.UserID)
		if err != nil {
			h.log.Warn("leaver sweep: user lookup failed; will try next sweep", "user", g.UserID, "err", err)
			continue
		}
		if p.Deleted {
			h.offboard(ctx, access.Person{ID: g.UserID, Name: g.Name, Email: g.Email, Deleted: true}, "they are no longer in Slack")
		}
	}
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
