package fakeslack

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
)

const fakeVerificationToken = "fakeslack-verification-token"

func (s *Server) envelope(typ string, payload any, acceptsResponse bool, extra map[string]any) (string, []byte) {
	id := newEnvelopeID()
	m := map[string]any{
		"envelope_id":              id,
		"type":                     typ,
		"payload":                  payload,
		"accepts_response_payload": acceptsResponse,
	}
	for k, v := range extra {
		m[k] = v
	}
	return id, mustJSON(m)
}

func (s *Server) teamRef() map[string]any {
	return map[string]any{"id": s.opts.TeamID, "domain": "fake-workspace"}
}

func (s *Server) userRef(u *User) map[string]any {
	return map[string]any{"id": u.ID, "username": u.Name, "name": u.Name, "team_id": s.opts.TeamID}
}

func channelName(ch string) string {
	if strings.HasPrefix(ch, "D") {
		return "directmessage"
	}
	return strings.ToLower(strings.TrimPrefix(strings.TrimPrefix(ch, "C_"), "C"))
}

// userLocked returns a known user or an error. s.mu must be held.
func (s *Server) userLocked(userID string) (*User, error) {
	u, ok := s.users[userID]
	if !ok {
		return nil, fmt.Errorf("fakeslack: unknown user %q (call AddUser first)", userID)
	}
	return u, nil
}

// SlashCommand sends the slash command (Options.Command) with text, issued by
// userID in Options.SlashChannel, and returns the client's ack. An ack payload
// with text or blocks is shown to the user as an ephemeral message (or posted
// in the channel with response_type in_channel), like Slack does.
func (s *Server) SlashCommand(ctx context.Context, userID, text string) (Ack, error) {
	return s.SlashCommandIn(ctx, userID, s.opts.SlashChannel, text)
}

// SlashCommandIn is SlashCommand issued from channelID (for example the
// user's D… channel with the bot).
func (s *Server) SlashCommandIn(ctx context.Context, userID, channelID, text string) (Ack, error) {
	s.mu.Lock()
	u, err := s.userLocked(userID)
	if err != nil {
		s.mu.Unlock()
		return Ack{}, err
	}
	payload := map[string]any{
		"token":                 fakeVerificationToken,
		"team_id":               s.opts.TeamID,
		"team_domain":           "fake-workspace",
		"channel_id":            channelID,
		"channel_name":          channelName(channelID),
		"user_id":               u.ID,
		"user_name":             u.Name,
		"command":               s.opts.Command,
		"text":                  text,
		"api_app_id":            s.opts.AppID,
		"is_enterprise_install": "false",
		"response_url":          s.newResponseURLLocked(u.ID, channelID, ""),
		"trigger_id":            s.newTriggerLocked(u.ID, ""),
	}
	s.mu.Unlock()
	id, frame := s.envelope("slash_commands", payload, true, nil)
	ack, err := s.send(ctx, id, "", frame)
	if err != nil {
		return ack, err
	}
	s.processSlashAck(userID, channelID, ack.Payload)
	s.changed()
	return ack, nil
}

func (s *Server) processSlashAck(userID, channelID string, payload json.RawMessage) {
	if len(payload) == 0 {
		return
	}
	var body struct {
		Text         string          `json:"text"`
		Blocks       json.RawMessage `json:"blocks"`
		ResponseType string          `json:"response_type"`
	}
	if err := json.Unmarshal(payload, &body); err != nil {
		s.violationFor(userID, "slash ack: payload is not a JSON object: %v", err)
		return
	}
	blocks := compactJSON(body.Blocks)
	if isEmptyBlocks(blocks) {
		blocks = nil
	}
	if body.Text == "" && blocks == nil {
		return
	}
	if body.ResponseType != "" && body.ResponseType != "ephemeral" && body.ResponseType != "in_channel" {
		s.violationFor(userID, "slash ack: invalid response_type %q", body.ResponseType)
	}
	if blocks != nil {
		if errs, _ := validateBlocks(blocks, surfaceMessage, "/blocks"); len(errs) > 0 {
			s.violationFor(userID, "slash ack: invalid_blocks: %s", strings.Join(errs, "; "))
			return
		}
	}
	if runeLen(body.Text) > MaxMessageText {
		s.violationFor(userID, "slash ack: text has %d characters (max %d)", runeLen(body.Text), MaxMessageText)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if body.ResponseType == "in_channel" {
		_, dmUser, _ := s.resolveChannelLocked(channelID, false)
		m := &Message{Channel: channelID, TS: s.nextTSLocked(), User: dmUser, Text: body.Text, Blocks: blocks}
		s.addMessageLocked(m)
		return
	}
	s.ephemerals[userID] = append(s.ephemerals[userID], Ephemeral{
		Channel: channelID, User: userID, Text: body.Text, Blocks: blocks, FromAck: true, TS: s.nextTSLocked(),
	})
}

// checkTopLocked returns an error when a modal is covered by a pushed view,
// since users can only interact with the top of the stack.
func (s *Server) checkTopLocked(rec *viewRec) error {
	if rec.v.Type != "modal" {
		return nil
	}
	stack := s.openStackLocked(rec.v.User, rec.v.RootViewID)
	if len(stack) > 0 && stack[len(stack)-1] != rec {
		return fmt.Errorf("fakeslack: view %s is covered by pushed view %s", rec.v.ID, stack[len(stack)-1].v.ID)
	}
	return nil
}

// pickElement finds the single element with actionID in blocks.
func pickElement(blocks json.RawMessage, actionID, where string) (foundElement, error) {
	return pickButton(blocks, actionID, "", where)
}

// pickButton is pickElement among buttons with value too, when value is
// set: several blocks may each hold a button with the same action_id.
func pickButton(blocks json.RawMessage, actionID, value, where string) (foundElement, error) {
	els := findElements(blocks, actionID)
	if value != "" {
		var same []foundElement
		for _, fe := range els {
			if v, _ := strField(fe.elem, "value"); v == value {
				same = append(same, fe)
			}
		}
		els = same
	}
	switch len(els) {
	case 0:
		return foundElement{}, fmt.Errorf("fakeslack: no element with action_id %q in %s", actionID, where)
	case 1:
		return els[0], nil
	}
	return foundElement{}, fmt.Errorf("fakeslack: %d elements with action_id %q in %s; the click is ambiguous", len(els), actionID, where)
}

// actionFor builds the "actions" entry Slack sends when the user interacts
// with elem. For selects, value picks the option (or user, channel, date).
func (s *Server) actionFor(fe foundElement, actionID, value string, valueGiven bool, actionTS string) (map[string]any, error) {
	e := fe.elem
	typ, _ := strField(e, "type")
	a := map[string]any{"type": typ, "action_id": actionID, "block_id": fe.blockID, "action_ts": actionTS}
	need := func() error {
		if !valueGiven {
			return fmt.Errorf("fakeslack: element %q is a %s; use a Select method with a value", actionID, typ)
		}
		return nil
	}
	switch typ {
	case "button":
		if t, ok := e["text"]; ok {
			a["text"] = t
		}
		if st, ok := e["style"]; ok {
			a["style"] = st
		}
		if valueGiven {
			a["value"] = value
		} else if v, ok := e["value"]; ok {
			a["value"] = v
		}
	case "static_select", "overflow", "radio_buttons":
		if err := need(); err != nil {
			return nil, err
		}
		opt, ok := findOption(e, value)
		if !ok {
			return nil, fmt.Errorf("fakeslack: %s %q has no option with value %q", typ, actionID, value)
		}
		a["selected_option"] = opt
	case "multi_static_select", "checkboxes":
		if err := need(); err != nil {
			return nil, err
		}
		var opts []any
		for _, v := range strings.Split(value, ",") {
			opt, ok := findOption(e, v)
			if !ok {
				return nil, fmt.Errorf("fakeslack: %s %q has no option with value %q", typ, actionID, v)
			}
			opts = append(opts, opt)
		}
		a["selected_options"] = opts
	case "users_select":
		if err := need(); err != nil {
			return nil, err
		}
		a["selected_user"] = value
	case "multi_users_select":
		if err := need(); err != nil {
			return nil, err
		}
		a["selected_users"] = strings.Split(value, ",")
	case "conversations_select":
		if err := need(); err != nil {
			return nil, err
		}
		a["selected_conversation"] = value
	case "channels_select":
		if err := need(); err != nil {
			return nil, err
		}
		a["selected_channel"] = value
	case "datepicker":
		if err := need(); err != nil {
			return nil, err
		}
		a["selected_date"] = value
	case "timepicker":
		if err := need(); err != nil {
			return nil, err
		}
		a["selected_time"] = value
	default:
		return nil, fmt.Errorf("fakeslack: interacting with %q elements is not supported", typ)
	}
	return a, nil
}

func findOption(e map[string]any, value string) (any, bool) {
	check := func(list any) (any, bool) {
		opts, _ := list.([]any)
		for _, o := range opts {
			if om, ok := o.(map[string]any); ok {
				if v, _ := strField(om, "value"); v == value {
					return o, true
				}
			}
		}
		return nil, false
	}
	if o, ok := check(e["options"]); ok {
		return o, true
	}
	groups, _ := e["option_groups"].([]any)
	for _, g := range groups {
		if gm, ok := g.(map[string]any); ok {
			if o, ok := check(gm["options"]); ok {
				return o, true
			}
		}
	}
	return nil, false
}

// Click sends a block_actions interaction for the button with actionID in
// message m (as returned by Messages or DMs). The message's current blocks are
// used, so a button removed by chat.update can no longer be clicked.
func (s *Server) Click(ctx context.Context, userID string, m Message, actionID string) (Ack, error) {
	return s.messageAction(ctx, userID, m, actionID, "", false)
}

// Select sends a block_actions interaction choosing value in the select,
// overflow, radio, checkbox (comma-separated values), user, conversation,
// date or time element with actionID in message m.
func (s *Server) Select(ctx context.Context, userID string, m Message, actionID, value string) (Ack, error) {
	return s.messageAction(ctx, userID, m, actionID, value, true)
}

// ClickStale sends the block_actions interaction that clicking actionID in m
// as it was when m was read would send, even if the message has since been
// updated or belongs to another user's DM. Real Slack delivers such clicks
// from clients showing a stale card, as duplicates, or from forged payloads;
// the bot must answer them without trusting them.
func (s *Server) ClickStale(ctx context.Context, userID string, m Message, actionID string) (Ack, error) {
	return s.messageActionFrom(ctx, userID, m, actionID, "", false, true)
}

func (s *Server) messageAction(ctx context.Context, userID string, m Message, actionID, value string, valueGiven bool) (Ack, error) {
	return s.messageActionFrom(ctx, userID, m, actionID, value, valueGiven, false)
}

// ClickButton clicks the button with actionID and value in message m, for
// messages where buttons in several blocks share one action_id (a
// checklist's Mark done per row), as Slack allows.
func (s *Server) ClickButton(ctx context.Context, userID string, m Message, actionID, value string) (Ack, error) {
	return s.messageActionPick(ctx, userID, m, actionID, value, "", false, false)
}

func (s *Server) messageActionFrom(ctx context.Context, userID string, m Message, actionID, value string, valueGiven, stale bool) (Ack, error) {
	return s.messageActionPick(ctx, userID, m, actionID, "", value, valueGiven, stale)
}

func (s *Server) messageActionPick(ctx context.Context, userID string, m Message, actionID, pick, value string, valueGiven, stale bool) (Ack, error) {
	s.mu.Lock()
	u, err := s.userLocked(userID)
	if err != nil {
		s.mu.Unlock()
		return Ack{}, err
	}
	rec := s.msgIndex[msgKey{m.Channel, m.TS}]
	if rec == nil || rec.Deleted {
		s.mu.Unlock()
		return Ack{}, fmt.Errorf("fakeslack: message %s/%s does not exist (deleted?)", m.Channel, m.TS)
	}
	if !stale && rec.User != "" && rec.User != userID {
		s.mu.Unlock()
		return Ack{}, fmt.Errorf("fakeslack: user %s cannot see message %s/%s in another user's DM", userID, m.Channel, m.TS)
	}
	blocks := rec.Blocks
	if stale {
		blocks = m.Blocks
	}
	msgJSON := s.messageJSON(rec, true)
	actionTS := s.nextTSLocked()
	s.mu.Unlock()

	fe, err := pickButton(blocks, actionID, pick, "message "+m.Channel+"/"+m.TS)
	if err != nil {
		return Ack{}, err
	}
	action, err := s.actionFor(fe, actionID, value, valueGiven, actionTS)
	if err != nil {
		return Ack{}, err
	}
	s.mu.Lock()
	payload := map[string]any{
		"type":                  "block_actions",
		"user":                  s.userRef(u),
		"api_app_id":            s.opts.AppID,
		"token":                 fakeVerificationToken,
		"container":             map[string]any{"type": "message", "message_ts": rec.TS, "channel_id": rec.Channel, "is_ephemeral": false},
		"trigger_id":            s.newTriggerLocked(userID, ""),
		"team":                  s.teamRef(),
		"enterprise":            nil,
		"is_enterprise_install": false,
		"channel":               map[string]any{"id": rec.Channel, "name": channelName(rec.Channel)},
		"message":               msgJSON,
		"state":                 map[string]any{"values": map[string]any{}},
		"response_url":          s.newResponseURLLocked(userID, rec.Channel, rec.TS),
		"actions":               []any{action},
	}
	s.mu.Unlock()
	id, frame := s.envelope("interactive", payload, false, nil)
	return s.send(ctx, id, "", frame)
}

// ClickHome sends a block_actions interaction for the element with actionID in
// userID's published Home tab. A non-empty value overrides the button's value
// (or selects that option for selects).
func (s *Server) ClickHome(ctx context.Context, userID, actionID, value string) (Ack, error) {
	s.mu.Lock()
	rec := s.homes[userID]
	s.mu.Unlock()
	if rec == nil {
		return Ack{}, fmt.Errorf("fakeslack: no Home tab published for %s", userID)
	}
	return s.viewAction(ctx, userID, rec, actionID, value, value != "")
}

// ClickView sends a block_actions interaction for the button with actionID
// inside the open modal v (as returned by Views).
func (s *Server) ClickView(ctx context.Context, userID string, v View, actionID string) (Ack, error) {
	return s.SelectView(ctx, userID, v, actionID, "")
}

// SelectView is ClickView for selects and pickers: value picks the option,
// user, conversation, date or time. An empty value behaves like ClickView.
func (s *Server) SelectView(ctx context.Context, userID string, v View, actionID, value string) (Ack, error) {
	s.mu.Lock()
	rec := s.views[v.ID]
	s.mu.Unlock()
	if rec == nil {
		return Ack{}, fmt.Errorf("fakeslack: unknown view %q", v.ID)
	}
	return s.viewAction(ctx, userID, rec, actionID, value, value != "")
}

func (s *Server) viewAction(ctx context.Context, userID string, rec *viewRec, actionID, value string, valueGiven bool) (Ack, error) {
	s.mu.Lock()
	u, err := s.userLocked(userID)
	if err != nil {
		s.mu.Unlock()
		return Ack{}, err
	}
	if rec.v.Closed || rec.v.User != userID {
		s.mu.Unlock()
		return Ack{}, fmt.Errorf("fakeslack: view %s is not open for %s", rec.v.ID, userID)
	}
	if err := s.checkTopLocked(rec); err != nil {
		s.mu.Unlock()
		return Ack{}, err
	}
	blocks := rec.v.Blocks
	viewJSON := s.renderLocked(rec, nil)
	actionTS := s.nextTSLocked()
	s.mu.Unlock()

	fe, err := pickElement(blocks, actionID, "view "+rec.v.ID)
	if err != nil {
		return Ack{}, err
	}
	action, err := s.actionFor(fe, actionID, value, valueGiven, actionTS)
	if err != nil {
		return Ack{}, err
	}
	s.mu.Lock()
	payload := map[string]any{
		"type":                  "block_actions",
		"user":                  s.userRef(u),
		"api_app_id":            s.opts.AppID,
		"token":                 fakeVerificationToken,
		"container":             map[string]any{"type": "view", "view_id": rec.v.ID},
		"trigger_id":            s.newTriggerLocked(userID, rec.v.ID),
		"team":                  s.teamRef(),
		"enterprise":            nil,
		"is_enterprise_install": false,
		"view":                  viewJSON,
		"state":                 map[string]any{"values": map[string]any{}},
		"actions":               []any{action},
	}
	s.mu.Unlock()
	id, frame := s.envelope("interactive", payload, false, nil)
	return s.send(ctx, id, "", frame)
}

// Submit sends a view_submission for the open modal v with the given state
// values (block_id -> action_id -> element state as Slack sends it) and then
// applies the ack like Slack: no response_action closes the view, "errors"
// keeps it open, "update" replaces it, "push" stacks a new view and "clear"
// closes the whole stack. Invalid responses are recorded as violations.
func (s *Server) Submit(ctx context.Context, userID string, v View, values map[string]map[string]any) (Ack, error) {
	s.mu.Lock()
	u, err := s.userLocked(userID)
	if err != nil {
		s.mu.Unlock()
		return Ack{}, err
	}
	rec := s.views[v.ID]
	if rec == nil || rec.v.Closed || rec.v.User != userID || rec.v.Type != "modal" {
		s.mu.Unlock()
		return Ack{}, fmt.Errorf("fakeslack: modal %q is not open for %s", v.ID, userID)
	}
	if err := s.checkTopLocked(rec); err != nil {
		s.mu.Unlock()
		return Ack{}, err
	}
	if values == nil {
		values = map[string]map[string]any{}
	}
	payload := map[string]any{
		"type":                  "view_submission",
		"team":                  s.teamRef(),
		"user":                  s.userRef(u),
		"api_app_id":            s.opts.AppID,
		"token":                 fakeVerificationToken,
		"trigger_id":            s.newTriggerLocked(userID, rec.v.ID),
		"view":                  s.renderLocked(rec, values),
		"response_urls":         []any{},
		"is_enterprise_install": false,
		"enterprise":            nil,
	}
	s.mu.Unlock()
	id, frame := s.envelope("interactive", payload, true, nil)
	ack, err := s.send(ctx, id, "", frame)
	if err != nil {
		return ack, err
	}
	s.processSubmissionAck(rec, ack.Payload)
	s.changed()
	return ack, nil
}

func (s *Server) processSubmissionAck(rec *viewRec, payload json.RawMessage) {
	var resp struct {
		ResponseAction string            `json:"response_action"`
		Errors         map[string]string `json:"errors"`
		View           json.RawMessage   `json:"view"`
	}
	if len(payload) > 0 {
		if err := json.Unmarshal(payload, &resp); err != nil {
			s.violationFor(rec.v.User, "view_submission ack: invalid payload: %v", err)
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch resp.ResponseAction {
	case "":
		s.closeFromLocked(rec)
	case "clear":
		if stack := s.openStackLocked(rec.v.User, rec.v.RootViewID); len(stack) > 0 {
			s.closeFromLocked(stack[0])
		}
	case "errors":
		if len(resp.Errors) == 0 {
			s.violationForLocked(rec.v.User, "view_submission ack: response_action errors without errors")
		}
		inputs := inputBlockIDs(rec.v.Blocks)
		for bid := range resp.Errors {
			if !inputs[bid] {
				s.violationForLocked(rec.v.User, "view_submission ack: errors refers to block_id %q which is not an input block of view %s", bid, rec.v.ID)
			}
		}
	case "update", "push":
		fields, errs := parseViewFields(resp.View)
		if len(errs) > 0 {
			s.violationForLocked(rec.v.User, "view_submission ack: response_action %s with invalid view: %s", resp.ResponseAction, strings.Join(errs, "; "))
			return
		}
		if rec.v.Closed {
			return
		}
		if resp.ResponseAction == "update" {
			rec.v.Updates++
			s.setFieldsLocked(rec, fields)
			return
		}
		if len(s.openStackLocked(rec.v.User, rec.v.RootViewID)) >= maxViewStack {
			s.violationForLocked(rec.v.User, "view_submission ack: push_limit_reached: already %d views in the stack", maxViewStack)
			return
		}
		s.addModalLocked(rec.v.User, rec, fields)
	default:
		s.violationForLocked(rec.v.User, "view_submission ack: unknown response_action %q", resp.ResponseAction)
	}
}

// parseViewFields validates a modal view carried in an ack.
func parseViewFields(raw json.RawMessage) (map[string]json.RawMessage, []string) {
	if len(raw) == 0 {
		return nil, []string{"missing view"}
	}
	if len(raw) > MaxViewBytes {
		return nil, []string{"view_too_large"}
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return nil, []string{"view must be a JSON object: " + err.Error()}
	}
	if errs := viewErrors(raw, fields, surfaceModal); len(errs) > 0 {
		return nil, errs
	}
	return fields, nil
}

func inputBlockIDs(blocks json.RawMessage) map[string]bool {
	var arr []struct {
		Type    string `json:"type"`
		BlockID string `json:"block_id"`
	}
	_ = json.Unmarshal(blocks, &arr)
	out := map[string]bool{}
	for _, b := range arr {
		if b.Type == "input" && b.BlockID != "" {
			out[b.BlockID] = true
		}
	}
	return out
}

// Event sends an events_api envelope wrapping event in an event_callback,
// with a fresh event_id. retryAttempt > 0 marks it as a retry (retry_reason "timeout").
func (s *Server) Event(ctx context.Context, event map[string]any, retryAttempt int) (Ack, error) {
	s.mu.Lock()
	eventID := fmt.Sprintf("Ev%010d", s.nextIDLocked())
	s.mu.Unlock()
	return s.EventWithID(ctx, eventID, event, retryAttempt)
}

// EventWithID is Event with a given event_id, to redeliver the same event the
// way Slack retries it.
func (s *Server) EventWithID(ctx context.Context, eventID string, event map[string]any, retryAttempt int) (Ack, error) {
	payload := map[string]any{
		"token":      fakeVerificationToken,
		"team_id":    s.opts.TeamID,
		"api_app_id": s.opts.AppID,
		"event":      event,
		"type":       "event_callback",
		"event_id":   eventID,
		"event_time": s.opts.Now().Unix(),
		"authorizations": []any{map[string]any{
			"enterprise_id": nil, "team_id": s.opts.TeamID, "user_id": BotUserID,
			"is_bot": true, "is_enterprise_install": false,
		}},
		"is_ext_shared_channel": false,
		"event_context":         "4-fakeslack-" + eventID,
	}
	reason := ""
	if retryAttempt > 0 {
		reason = "timeout"
	}
	id, frame := s.envelope("events_api", payload, false, map[string]any{
		"retry_attempt": retryAttempt,
		"retry_reason":  reason,
	})
	return s.send(ctx, id, eventID, frame)
}

// AppHomeOpened sends an app_home_opened event for userID (tab "home"),
// including the currently published Home view if there is one.
func (s *Server) AppHomeOpened(ctx context.Context, userID string) (Ack, error) {
	s.mu.Lock()
	if _, err := s.userLocked(userID); err != nil {
		s.mu.Unlock()
		return Ack{}, err
	}
	ev := map[string]any{
		"type":     "app_home_opened",
		"user":     userID,
		"channel":  s.openDMLocked(userID),
		"tab":      "home",
		"event_ts": s.nextTSLocked(),
	}
	if h := s.homes[userID]; h != nil {
		ev["view"] = h.v.Raw
	}
	s.mu.Unlock()
	return s.Event(ctx, ev, 0)
}

// UserChange stores u (like SetUser) and sends a user_change event for it.
func (s *Server) UserChange(ctx context.Context, u User) (Ack, error) {
	s.SetUser(u)
	s.mu.Lock()
	ev := map[string]any{
		"type":     "user_change",
		"user":     s.userJSON(&u),
		"cache_ts": s.opts.Now().Unix(),
		"event_ts": s.nextTSLocked(),
	}
	s.mu.Unlock()
	return s.Event(ctx, ev, 0)
}
