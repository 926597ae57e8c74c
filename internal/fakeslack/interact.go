package fakeslack

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
)

// This file lets a front end (the playground) act for a user on any surface
// the user sees: a message, an ephemeral message, the Home tab or an open
// modal, naming the element by block_id and action_id as Slack's clients do.
// The payloads are the same as Click, ClickHome and SelectView send.

// Interaction is one click or choice by a user. Exactly one surface is named:
// a message (Channel and TS, which may be an ephemeral's TS), the user's
// Home tab (Home), or an open modal (ViewID).
type Interaction struct {
	User string

	Channel, TS string
	Home        bool
	ViewID      string

	// BlockID narrows the element to one block; empty finds the action_id
	// anywhere (and fails if it is ambiguous).
	BlockID, ActionID string
	// Value picks the option, user or date of a select or picker; for a
	// button it is ignored, since a client sends the button's own value.
	Value string
	// State is the view's current input state (block_id → action_id →
	// element state, see StateValues), sent with interactions in a modal.
	State map[string]map[string]any
}

// Interact sends the block_actions interaction in describes and returns the
// client's ack. It refuses what the user cannot see or click: another user's
// DM or modal, a modal covered by a pushed one, an element that is not there.
func (s *Server) Interact(ctx context.Context, in Interaction) (Ack, error) {
	s.mu.Lock()
	u, err := s.userLocked(in.User)
	if err != nil {
		s.mu.Unlock()
		return Ack{}, err
	}
	var (
		blocks  json.RawMessage
		payload = map[string]any{
			"type":                  "block_actions",
			"user":                  s.userRef(u),
			"api_app_id":            s.opts.AppID,
			"token":                 fakeVerificationToken,
			"team":                  s.teamRef(),
			"enterprise":            nil,
			"is_enterprise_install": false,
			"state":                 map[string]any{"values": map[string]any{}},
		}
		where string
	)
	switch {
	case in.ViewID != "" || in.Home:
		var rec *viewRec
		if in.Home {
			rec = s.homes[in.User]
		} else {
			rec = s.views[in.ViewID]
		}
		if rec == nil || rec.v.Closed || rec.v.User != in.User {
			s.mu.Unlock()
			return Ack{}, fmt.Errorf("fakeslack: view %q is not open for %s", in.ViewID, in.User)
		}
		if err := s.checkTopLocked(rec); err != nil {
			s.mu.Unlock()
			return Ack{}, err
		}
		var values any
		if in.State != nil {
			values = in.State
			payload["state"] = map[string]any{"values": in.State}
		}
		blocks, where = rec.v.Blocks, "view "+rec.v.ID
		payload["container"] = map[string]any{"type": "view", "view_id": rec.v.ID}
		payload["trigger_id"] = s.newTriggerLocked(in.User, rec.v.ID)
		payload["view"] = s.renderLocked(rec, values)
	default:
		where = "message " + in.Channel + "/" + in.TS
		if m := s.msgIndex[msgKey{in.Channel, in.TS}]; m != nil && !m.Deleted {
			if m.User != "" && m.User != in.User {
				s.mu.Unlock()
				return Ack{}, fmt.Errorf("fakeslack: user %s cannot see message %s/%s in another user's DM", in.User, in.Channel, in.TS)
			}
			blocks = m.Blocks
			payload["container"] = map[string]any{"type": "message", "message_ts": m.TS, "channel_id": m.Channel, "is_ephemeral": false}
			payload["message"] = s.messageJSON(m, true)
		} else if e := s.ephemeralLocked(in.User, in.Channel, in.TS); e != nil {
			blocks = e.Blocks
			payload["container"] = map[string]any{"type": "message", "message_ts": e.TS, "channel_id": e.Channel, "is_ephemeral": true}
		} else {
			s.mu.Unlock()
			return Ack{}, fmt.Errorf("fakeslack: %s does not exist for %s", where, in.User)
		}
		payload["channel"] = map[string]any{"id": in.Channel, "name": channelName(in.Channel)}
		payload["trigger_id"] = s.newTriggerLocked(in.User, "")
		ru := s.newResponseURLLocked(in.User, in.Channel, in.TS)
		if payload["container"].(map[string]any)["is_ephemeral"] == true {
			s.responses[ru[strings.LastIndexByte(ru, '/')+1:]].ephemeralTS = in.TS
		}
		payload["response_url"] = ru
	}
	actionTS := s.nextTSLocked()
	s.mu.Unlock()

	fe, err := pickBlockElement(blocks, in.BlockID, in.ActionID, where)
	if err != nil {
		return Ack{}, err
	}
	typ, _ := strField(fe.elem, "type")
	action, err := s.actionFor(fe, in.ActionID, in.Value, typ != "button", actionTS)
	if err != nil {
		return Ack{}, err
	}
	payload["actions"] = []any{action}
	id, frame := s.envelope("interactive", payload, false, nil)
	ack, err := s.send(ctx, id, "", frame)
	s.changed()
	return ack, err
}

// ephemeralLocked finds the ephemeral message ts shown to user in channel.
func (s *Server) ephemeralLocked(user, channel, ts string) *Ephemeral {
	es := s.ephemerals[user]
	for i := range es {
		if es[i].TS == ts && es[i].Channel == channel {
			return &es[i]
		}
	}
	return nil
}

// pickBlockElement is pickElement restricted to the block blockID, if set.
func pickBlockElement(blocks json.RawMessage, blockID, actionID, where string) (foundElement, error) {
	if blockID == "" {
		return pickElement(blocks, actionID, where)
	}
	var els []foundElement
	for _, fe := range findElements(blocks, actionID) {
		if fe.blockID == blockID {
			els = append(els, fe)
		}
	}
	switch len(els) {
	case 0:
		return foundElement{}, fmt.Errorf("fakeslack: no element with action_id %q in block %q of %s", actionID, blockID, where)
	case 1:
		return els[0], nil
	}
	return foundElement{}, fmt.Errorf("fakeslack: %d elements with action_id %q in block %q of %s", len(els), actionID, blockID, where)
}

// StateValues turns a form's values, as a browser has them (block_id →
// action_id → one string; comma-separated for multi-selects and
// checkboxes), into the state values Slack sends for the input elements in
// blocks: plain_text_input "value", static_select and radio_buttons
// "selected_option" (the whole option), users_select "selected_user",
// datepicker "selected_date", and so on. An empty string is an element
// left empty. Values for elements that are not in blocks are an error.
func StateValues(blocks json.RawMessage, form map[string]map[string]string) (map[string]map[string]any, error) {
	out := map[string]map[string]any{}
	for blockID, actions := range form {
		for actionID, value := range actions {
			fe, err := pickBlockElement(blocks, blockID, actionID, "the view")
			if err != nil {
				return nil, err
			}
			typ, _ := strField(fe.elem, "type")
			st := map[string]any{"type": typ}
			switch typ {
			case "plain_text_input", "email_text_input", "url_text_input", "number_input":
				st["value"] = nilIfEmpty(value)
			case "static_select", "radio_buttons", "external_select":
				st["selected_option"] = nil
				if value != "" {
					opt, ok := findOption(fe.elem, value)
					if !ok {
						return nil, fmt.Errorf("fakeslack: %s %q has no option with value %q", typ, actionID, value)
					}
					st["selected_option"] = opt
				}
			case "multi_static_select", "checkboxes":
				opts := []any{}
				for _, v := range strings.Split(value, ",") {
					if v == "" {
						continue
					}
					opt, ok := findOption(fe.elem, v)
					if !ok {
						return nil, fmt.Errorf("fakeslack: %s %q has no option with value %q", typ, actionID, v)
					}
					opts = append(opts, opt)
				}
				st["selected_options"] = opts
			case "users_select":
				st["selected_user"] = nilIfEmpty(value)
			case "multi_users_select":
				st["selected_users"] = splitNonEmpty(value)
			case "conversations_select":
				st["selected_conversation"] = nilIfEmpty(value)
			case "channels_select":
				st["selected_channel"] = nilIfEmpty(value)
			case "datepicker":
				st["selected_date"] = nilIfEmpty(value)
			case "timepicker":
				st["selected_time"] = nilIfEmpty(value)
			default:
				return nil, fmt.Errorf("fakeslack: %q elements hold no form value", typ)
			}
			if out[blockID] == nil {
				out[blockID] = map[string]any{}
			}
			out[blockID][actionID] = st
		}
	}
	return out, nil
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func splitNonEmpty(s string) []string {
	out := []string{}
	for _, p := range strings.Split(s, ",") {
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}
