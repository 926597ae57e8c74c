package handlers

import (
	"context"

	"github.com/slack-go/slack/slackevents"
)

// Event handles Events API events after the envelope was acked.
func (h *Handler) Event(ctx context.Context, ev slackevents.EventsAPIEvent, retryAttempt int) {
	switch e := ev.InnerEvent.Data.(type) {
	case *slackevents.AppHomeOpenedEvent:
		if e.Tab != "" && e.Tab != "home" {
			return
		}
		h.PublishHome(ctx, e.User)
	case *slackevents.UserChangeEvent:
		h.log.Debug("user_change received", "user", e.User.ID, "deleted", e.User.Deleted, "retry", retryAttempt)
	default:
		h.log.Debug("event ignored", "type", ev.InnerEvent.Type)
	}
}
