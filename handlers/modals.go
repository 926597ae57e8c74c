package handlers

import (
	"fmt"

	"github.com/slack-go/slack"

	"github.com/uxpin-access-bot/uxpin-access-bot/access"
)

// requestModal is the "UXPin access request" modal, preset with an action and
// a target (the caller by default).
func requestModal(action access.Action, target string) slack.ModalViewRequest {
	actionOpts := make([]*slack.OptionBlockObject, 0, len(access.Actions))
	var initialAction *slack.OptionBlockObject
	for _, a := range access.Actions {
		o := slack.NewOptionBlockObject(string(a), plain(a.Label(), 75), nil)
		actionOpts = append(actionOpts, o)
		if a == action {
			initialAction = o
		}
	}
	actionSel := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plain("Choose", 150), blockAction, actionOpts...)
	actionSel.InitialOption = initialAction

	targetSel := slack.NewOptionsSelectBlockElement(slack.OptTypeUser, plain("Choose a person", 150), blockTarget)
	targetSel.InitialUser = target

	roleOpts := make([]*slack.OptionBlockObject, 0, len(access.Roles))
	for _, r := range access.Roles {
		roleOpts = append(roleOpts, slack.NewOptionBlockObject(string(r), plain(r.Label(), 75), nil))
	}
	roleSel := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plain("Choose a role", 150), blockRole, roleOpts...)

	just := slack.NewPlainTextInputBlockElement(plain("Which project or work needs it?", 150), blockJustification)
	just.Multiline = true
	just.MaxLength = access.MaxJustification

	end := slack.NewDatePickerBlockElement(blockEndDate)

	roleBlock := slack.NewInputBlock(blockRole, plain("Role", 2000), plain("Not needed to remove access.", 2000), roleSel)
	roleBlock.Optional = true
	justBlock := slack.NewInputBlock(blockJustification, plain("Justification", 2000), plain("Required to grant or change access.", 2000), just)
	justBlock.Optional = true
	endBlock := slack.NewInputBlock(blockEndDate, plain("End date (optional)", 2000), plain("For temporary access: it is removed on this date.", 2000), end)
	endBlock.Optional = true

	return slack.ModalViewRequest{
		Type:       slack.VTModal,
		CallbackID: CallbackRequest,
		Title:      plain("UXPin access request", 24),
		Submit:     plain("Submit", 24),
		Close:      plain("Cancel", 24),
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewInputBlock(blockAction, plain("What do you need?", 2000), nil, actionSel),
			slack.NewInputBlock(blockTarget, plain("For whom?", 2000), nil, targetSel),
			roleBlock,
			justBlock,
			endBlock,
		}},
	}
}

// reasonModal asks why a request is denied or a task can't be completed; the
// request ID travels in private_metadata and is re-authorised on submit.
func reasonModal(callbackID, title, label, submit string, r *access.Request) slack.ModalViewRequest {
	in := slack.NewPlainTextInputBlockElement(plain("Reason", 150), blockReason)
	in.Multiline = true
	in.MaxLength = access.MaxReason
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		CallbackID:      callbackID,
		PrivateMetadata: r.ID,
		Title:           plain(title, 24),
		Submit:          plain(submit, 24),
		Close:           plain("Back", 24),
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			section(fmt.Sprintf("*%s*: %s", r.ID, summary(r))),
			slack.NewInputBlock(blockReason, plain(label, 2000), nil, in),
		}},
	}
}
