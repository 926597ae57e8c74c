package handlers

import (
	"context"
	"fmt"
	"strings"

	"github.com/slack-go/slack"

	"github.com/uxpin-access-bot/uxpin-access-bot/access"
)

// BlockAction handles button clicks on cards, tasks, lists and the Home tab.
// Who may do what is decided by the lifecycle from configuration and stored
// state; the payload only tells which button and which request.
func (h *Handler) BlockAction(ctx context.Context, cb slack.InteractionCallback) {
	actor := cb.User.ID
	if actor == "" {
		h.log.Warn("block action without a user ignored")
		return
	}
	for _, a := range cb.ActionCallback.BlockActions {
		if a == nil {
			continue
		}
		if a.ActionID == ActionRowDone || a.ActionID == ActionRowsAllDone {
			h.rowAction(ctx, cb, actor, a)
			continue
		}
		if strings.HasPrefix(a.ActionID, ActionAuditFinding) || strings.HasPrefix(a.ActionID, ActionAuditBulk) {
			h.auditAction(ctx, cb, a)
			continue
		}
		if strings.HasPrefix(a.ActionID, reviewPrefix) {
			h.reviewAction(ctx, cb, a)
			continue
		}
		h.action(ctx, cb, actor, a.ActionID, a.Value)
	}
}

func (h *Handler) action(ctx context.Context, cb slack.InteractionCallback, actor, actionID, id string) {
	rep := func(text string) { h.reply(ctx, cb.ResponseURL, cb.Channel.ID, actor, text) }
	fail := func(err error, what string) { h.replyErr(ctx, cb.ResponseURL, cb.Channel.ID, actor, err, what) }
	switch actionID {
	case ActionApprove, ActionApproveOverBudget, ActionApproveAsViewer:
		d := access.Decision{Approve: true}
		switch actionID {
		case ActionApproveOverBudget:
			d.OverBudget = true
		case ActionApproveAsViewer:
			d.AsRole = access.RoleViewer
		}
		r, err := h.svc.Decide(ctx, id, actor, d)
		if err != nil {
			fail(err, "approve")
			return
		}
		h.log.Info("request approved", "request", r.ID, "by", actor, "assignee", r.Assignee, "role", r.Role)
		rep(fmt.Sprintf("You approved %s. %s", r.ID, outcome(r)))
	case ActionDeny:
		r, err := h.svc.Check(ctx, access.ActDeny, id, actor)
		if err != nil {
			fail(err, "deny")
			return
		}
		h.openReason(ctx, cb, reasonModal(CallbackDeny, "Deny request", "Why is it denied? The requester will see this.", "Deny", r))
	case ActionDone:
		r, err := h.svc.Complete(ctx, id, actor)
		if err != nil {
			fail(err, "mark done")
			return
		}
		h.log.Info("task done", "request", r.ID, "by", actor)
		rep(fmt.Sprintf("Thanks! %s is done and the ledger is updated.", r.ID))
	case ActionFail:
		r, err := h.svc.Check(ctx, access.ActFail, id, actor)
		if err != nil {
			fail(err, "can't complete")
			return
		}
		h.openReason(ctx, cb, reasonModal(CallbackFail, "Can't complete", "What stops it? The requester and approvers will see this.", "Send", r))
	case ActionTakeOver:
		r, err := h.svc.TakeOver(ctx, id, actor)
		if err != nil {
			fail(err, "take over")
			return
		}
		h.log.Info("task taken over", "request", r.ID, "by", actor)
		rep(fmt.Sprintf("%s is yours now; the task is in your DMs.", r.ID))
	case ActionCancel:
		r, err := h.svc.Cancel(ctx, id, actor)
		if err != nil {
			fail(err, "cancel")
			return
		}
		h.log.Info("request cancelled", "request", r.ID, "by", actor)
		rep(fmt.Sprintf("%s is cancelled.", r.ID))
	case ActionConfirm:
		r, err := h.svc.Confirm(ctx, id, actor)
		if err != nil {
			fail(err, "confirm")
			return
		}
		h.log.Info("grant confirmed by its target", "request", r.ID, "by", actor)
		rep(fmt.Sprintf("Thanks! %s is confirmed.", r.ID))
	case ActionCantGetIn:
		r, err := h.svc.Check(ctx, access.ActReopen, id, actor)
		if err != nil {
			fail(err, "can't get in")
			return
		}
		h.openReason(ctx, cb, reasonModal(CallbackReopen, "Can't get in", "What happens when you try to sign in to UXPin?", "Send", r))
	default:
		h.log.Warn("unknown action ignored", "action_id", truncate(actionID, 80), "user", actor)
	}
	if cb.Container.Type == "view" && cb.View.Type == slack.VTHomeTab {
		// A click on the Home tab changes what it should show.
		h.PublishHome(ctx, actor)
	}
}

func (h *Handler) openReason(ctx context.Context, cb slack.InteractionCallback, m slack.ModalViewRequest) {
	if _, err := h.api.OpenViewContext(ctx, cb.TriggerID, m); err != nil {
		h.log.Error("views.open failed", "user", cb.User.ID, "err", err)
		h.reply(ctx, cb.ResponseURL, cb.Channel.ID, cb.User.ID, "Sorry, I couldn't open the form (Slack said: "+slackErr(err)+"). Please click again.")
	}
}

// requestIDOf pulls a request ID from a payload field, refusing anything that
// is not one, so forged values never reach storage as arbitrary keys.
func requestIDOf(s string) (string, error) {
	if _, err := access.ParseID(s); err != nil {
		return "", access.Errorf(access.ENOTFOUND, "That request no longer exists.")
	}
	return s, nil
}
