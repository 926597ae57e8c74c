package handlers

import (
	"context"
	"errors"

	"github.com/slack-go/slack"

	"github.com/uxpin-access-bot/uxpin-access-bot/access"
)

// ViewSubmission validates and applies a submitted modal. Its return value is
// the ack payload: nil closes the modal, an errors response shows messages
// next to the fields.
func (h *Handler) ViewSubmission(ctx context.Context, cb slack.InteractionCallback) any {
	switch cb.View.CallbackID {
	case CallbackRequest:
		return h.submitRequest(ctx, cb)
	case CallbackDeny:
		return h.submitReason(ctx, cb, func(id, actor, reason string) (*access.Request, error) {
			return h.svc.Decide(ctx, id, actor, access.Decision{Reason: reason})
		})
	case CallbackFail:
		return h.submitReason(ctx, cb, func(id, actor, reason string) (*access.Request, error) {
			return h.svc.Fail(ctx, id, actor, reason)
		})
	case CallbackReconcile:
		return h.submitReconcile(ctx, cb)
	case CallbackAdopt:
		return h.submitAdopt(ctx, cb)
	case CallbackReopen:
		return h.submitReason(ctx, cb, func(id, actor, reason string) (*access.Request, error) {
			return h.svc.Reopen(ctx, id, actor, reason)
		})
	}
	h.log.Warn("submission of unknown view ignored", "callback_id", truncate(cb.View.CallbackID, 80), "user", cb.User.ID)
	return nil
}

// ViewClosed is a no-op: nothing is stored until a modal is submitted.
func (h *Handler) ViewClosed(context.Context, slack.InteractionCallback) {}

func stateValue(cb slack.InteractionCallback, block string) slack.BlockAction {
	if cb.View.State == nil {
		return slack.BlockAction{}
	}
	return cb.View.State.Values[block][block]
}

// SubmissionFromView reads the request modal's state. The requester is the
// user who submitted, never a value from the form.
func SubmissionFromView(cb slack.InteractionCallback) (access.Submission, string) {
	action := stateValue(cb, blockAction).SelectedOption.Value
	target := stateValue(cb, blockTarget).SelectedUser
	return access.Submission{
		Action:        access.Action(action),
		Requester:     cb.User.ID,
		Role:          access.Role(stateValue(cb, blockRole).SelectedOption.Value),
		Justification: stateValue(cb, blockJustification).Value,
		EndDate:       stateValue(cb, blockEndDate).SelectedDate,
	}, target
}

func (h *Handler) submitRequest(ctx context.Context, cb slack.InteractionCallback) any {
	sub, target := SubmissionFromView(cb)
	if target != "" {
		p, err := h.dir.Person(ctx, target)
		switch {
		case errors.Is(err, access.ErrUnknownPerson):
			// Not "deactivated": Slack only says it does not show us them.
			h.log.Info("request for a person Slack does not show", "target", target, "err", err)
			return fieldErrors(map[string]string{blockTarget: "I can't find that person in Slack: they may be in another workspace, or hidden from this app. Choose someone in this workspace, or ask a Slack admin."})
		case err != nil:
			h.log.Error("user lookup failed", "target", target, "err", err)
			return fieldErrors(map[string]string{blockTarget: "I couldn't look this person up in Slack just now. Please try again."})
		}
		sub.Target = p
	}
	if sub.EndDate != "" {
		// The end date is the requester's: it ends at the end of that day
		// in their time zone.
		me := sub.Target
		if me.ID != sub.Requester {
			var err error
			if me, err = h.dir.Person(ctx, sub.Requester); err != nil {
				h.log.Error("user lookup failed", "requester", sub.Requester, "err", err)
				return fieldErrors(map[string]string{blockEndDate: "I couldn't look up your time zone in Slack just now. Please try again."})
			}
		}
		sub.RequesterTZ = me.TZ
	}
	r, err := h.svc.Submit(ctx, sub)
	if err != nil {
		return h.submitError(err, "submit request", blockAction, cb.User.ID)
	}
	h.log.Info("request submitted", "request", r.ID, "action", r.Action, "requester", r.Requester)
	return slack.NewUpdateViewSubmissionResponse(&slack.ModalViewRequest{
		Type:  slack.VTModal,
		Title: plain("UXPin access request", 24),
		Close: plain("Close", 24),
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			section(":white_check_mark: Request *" + r.ID + "* is submitted: " + summary(r) + ".\nI'll message you as it moves along. `/uxpin-access status` shows where it stands."),
		}},
	})
}

func (h *Handler) submitReason(ctx context.Context, cb slack.InteractionCallback, apply func(id, actor, reason string) (*access.Request, error)) any {
	id, err := requestIDOf(cb.View.PrivateMetadata)
	if err == nil {
		var r *access.Request
		r, err = apply(id, cb.User.ID, stateValue(cb, blockReason).Value)
		if err == nil {
			h.log.Info("request closed with a reason", "request", r.ID, "state", r.State, "by", cb.User.ID)
			return nil
		}
	}
	return h.submitError(err, cb.View.CallbackID, blockReason, cb.User.ID)
}

// submitError turns a lifecycle error into modal errors: field errors next to
// their fields, anything else next to fallback so the user always sees it.
func (h *Handler) submitError(err error, what, fallback, user string) any {
	if v, ok := errors.AsType[*access.ValidationError](err); ok {
		return fieldErrors(v.Fields)
	}
	if access.ErrorCode(err) == access.EINTERNAL {
		h.log.Error(what+" failed", "user", user, "err", err)
	} else {
		h.log.Info(what+" refused", "user", user, "reason", message(err))
	}
	return fieldErrors(map[string]string{fallback: message(err)})
}

func fieldErrors(fields map[string]string) *slack.ViewSubmissionResponse {
	out := make(map[string]string, len(fields))
	for k, v := range fields {
		out[k] = v
	}
	return slack.NewErrorsViewSubmissionResponse(out)
}
