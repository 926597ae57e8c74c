package fakeslack

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
)

// TestInteractEphemeral clicks a button in an ephemeral reply, by block and
// action ID, and checks the payload and that replace_original replaces the
// ephemeral in place.
func TestInteractEphemeral(t *testing.T) {
	var mu sync.Mutex
	var got []slack.InteractionCallback
	h := newHarness(t, Options{}, func(h *harness, evt socketmode.Event) {
		switch evt.Type {
		case socketmode.EventTypeSlashCommand:
			h.ack(evt, map[string]any{"blocks": []any{
				map[string]any{"type": "actions", "block_id": "b1", "elements": []any{map[string]any{"type": "button", "action_id": "go", "value": "one", "text": map[string]any{"type": "plain_text", "text": "Go"}}}},
				map[string]any{"type": "actions", "block_id": "b2", "elements": []any{map[string]any{"type": "button", "action_id": "go", "value": "two", "text": map[string]any{"type": "plain_text", "text": "Go"}}}},
			}})
		case socketmode.EventTypeInteractive:
			cb := evt.Data.(slack.InteractionCallback)
			h.ack(evt, nil)
			mu.Lock()
			got = append(got, cb)
			mu.Unlock()
			if _, _, err := h.api.PostMessage("", slack.MsgOptionResponseURL(cb.ResponseURL, slack.ResponseTypeEphemeral), slack.MsgOptionReplaceOriginal(cb.ResponseURL), slack.MsgOptionText("done "+cb.ActionCallback.BlockActions[0].Value, false)); err != nil {
				h.t.Errorf("reply: %v", err)
			}
		}
	})
	s := h.srv
	s.AddUser(User{ID: "U1", Name: "alice"})
	s.AddUser(User{ID: "U2", Name: "bob"})
	ctx := ctxT(t)
	v0, changed := s.Changes()
	if _, err := s.SlashCommand(ctx, "U1", "pending"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-changed:
	default:
		t.Error("Changes did not signal the slash command's reply")
	}
	if v1, _ := s.Changes(); v1 <= v0 {
		t.Errorf("Changes version %d after %d; want it to grow", v1, v0)
	}
	e := s.Ephemerals("U1")
	if len(e) != 1 || e[0].TS == "" {
		t.Fatalf("ephemerals = %+v; want one with a TS", e)
	}
	if _, err := s.Interact(ctx, Interaction{User: "U1", Channel: e[0].Channel, TS: e[0].TS, ActionID: "go"}); err == nil || !strings.Contains(err.Error(), "ambiguous") {
		t.Errorf("Interact without block_id = %v; want ambiguous", err)
	}
	if _, err := s.Interact(ctx, Interaction{User: "U2", Channel: e[0].Channel, TS: e[0].TS, BlockID: "b2", ActionID: "go"}); err == nil {
		t.Error("U2 clicked U1's ephemeral")
	}
	if _, err := s.Interact(ctx, Interaction{User: "U1", Channel: e[0].Channel, TS: e[0].TS, BlockID: "b2", ActionID: "go"}); err != nil {
		t.Fatal(err)
	}
	if err := s.WaitFor(ctx, func() bool { return s.Ephemerals("U1")[0].Text == "done two" }); err != nil {
		t.Fatalf("ephemeral not replaced: %+v", s.Ephemerals("U1"))
	}
	mu.Lock()
	cb := got[0]
	mu.Unlock()
	if !cb.Container.IsEphemeral || cb.Container.MessageTs != e[0].TS || cb.ActionCallback.BlockActions[0].BlockID != "b2" {
		t.Errorf("payload container %+v, action %+v", cb.Container, cb.ActionCallback.BlockActions[0])
	}
	if n := len(s.Ephemerals("U1")); n != 1 {
		t.Errorf("%d ephemerals; want the one replaced in place", n)
	}
	noViolations(t, s)
}

func TestStateValues(t *testing.T) {
	blocks := json.RawMessage(`[
	 {"type":"input","block_id":"who","label":{"type":"plain_text","text":"Who"},"element":{"type":"users_select","action_id":"u"}},
	 {"type":"input","block_id":"role","label":{"type":"plain_text","text":"Role"},"element":{"type":"static_select","action_id":"r","options":[{"text":{"type":"plain_text","text":"Editor"},"value":"editor"}]}},
	 {"type":"input","block_id":"why","label":{"type":"plain_text","text":"Why"},"element":{"type":"plain_text_input","action_id":"w","multiline":true}},
	 {"type":"input","block_id":"end","optional":true,"label":{"type":"plain_text","text":"End"},"element":{"type":"datepicker","action_id":"d"}}
	]`)
	got, err := StateValues(blocks, map[string]map[string]string{
		"who": {"u": "U1"}, "role": {"r": "editor"}, "why": {"w": "design work"}, "end": {"d": ""},
	})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(got)
	want := `{"end":{"d":{"selected_date":null,"type":"datepicker"}},"role":{"r":{"selected_option":{"text":{"text":"Editor","type":"plain_text"},"value":"editor"},"type":"static_select"}},"who":{"u":{"selected_user":"U1","type":"users_select"}},"why":{"w":{"type":"plain_text_input","value":"design work"}}}`
	if string(b) != want {
		t.Errorf("StateValues = %s\nwant %s", b, want)
	}
	if _, err := StateValues(blocks, map[string]map[string]string{"role": {"r": "owner"}}); err == nil {
		t.Error("StateValues accepted an option that is not there")
	}
	if _, err := StateValues(blocks, map[string]map[string]string{"nope": {"x": "1"}}); err == nil {
		t.Error("StateValues accepted an element that is not there")
	}
}

// TestViolationLogNamesTheUser checks that a refused DM is recorded with the
// user who would have seen it.
func TestViolationLogNamesTheUser(t *testing.T) {
	h := newHarness(t, Options{}, nil)
	s := h.srv
	s.AddUser(User{ID: "U1", Name: "alice"})
	bad := slack.NewSectionBlock(nil, nil, nil) // a section needs text or fields
	if _, _, err := h.api.PostMessageContext(context.Background(), "U1", slack.MsgOptionText("x", false), slack.MsgOptionBlocks(bad)); err == nil {
		t.Fatal("invalid blocks were accepted")
	}
	log := s.ViolationLog()
	if len(log) != 1 || log[0].User != "U1" || !strings.Contains(log[0].Text, "invalid_blocks") {
		t.Errorf("ViolationLog = %+v; want one invalid_blocks for U1", log)
	}
	s.ResetViolations()
	if len(s.ViolationLog()) != 0 {
		t.Error("ResetViolations kept the log")
	}
}
