package fakeslack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"
)

// harness runs the real slack-go socketmode client against a fake server,
// dispatching every event to handle.
type harness struct {
	t      *testing.T
	srv    *Server
	api    *slack.Client
	sm     *socketmode.Client
	hellos atomic.Int32

	mu     sync.Mutex
	handle func(h *harness, evt socketmode.Event)
}

func newHarness(t *testing.T, opts Options, handle func(h *harness, evt socketmode.Event)) *harness {
	t.Helper()
	if opts.Logf == nil {
		opts.Logf = t.Logf
	}
	srv := New(opts)
	h := &harness{t: t, srv: srv, handle: handle}
	h.api = slack.New(srv.opts.BotToken, slack.OptionAppLevelToken(srv.opts.AppToken), slack.OptionAPIURL(srv.APIURL()))
	h.sm = socketmode.New(h.api, socketmode.OptionPingInterval(10*time.Second))
	ctx, cancel := context.WithCancel(context.Background())
	runDone := make(chan struct{})
	loopDone := make(chan struct{})
	go func() {
		defer close(runDone)
		_ = h.sm.RunContext(ctx)
	}()
	go func() {
		defer close(loopDone)
		for {
			select {
			case <-ctx.Done():
				return
			case evt := <-h.sm.Events:
				if evt.Type == socketmode.EventTypeHello {
					h.hellos.Add(1)
				}
				h.mu.Lock()
				fn := h.handle
				h.mu.Unlock()
				if fn != nil {
					fn(h, evt)
				}
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-runDone
		<-loopDone
		srv.Close()
	})
	wctx, wcancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer wcancel()
	if err := srv.WaitConnected(wctx); err != nil {
		t.Fatal(err)
	}
	return h
}

func (h *harness) setHandler(fn func(h *harness, evt socketmode.Event)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.handle = fn
}

func (h *harness) ack(evt socketmode.Event, payload any) {
	if evt.Request == nil {
		return
	}
	if err := h.sm.Ack(*evt.Request, payload); err != nil {
		h.t.Errorf("ack: %v", err)
	}
}

func ctxT(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func noViolations(t *testing.T, s *Server) {
	t.Helper()
	if v := s.Violations(); len(v) > 0 {
		t.Errorf("unexpected violations:\n%s", strings.Join(v, "\n"))
	}
}

func section(text string) slack.Block {
	return slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, text, false, false), nil, nil)
}

func TestConnectHelloAndSlashCommand(t *testing.T) {
	h := newHarness(t, Options{}, func(h *harness, evt socketmode.Event) {
		if evt.Type != socketmode.EventTypeSlashCommand {
			return
		}
		cmd := evt.Data.(slack.SlashCommand)
		if cmd.Command != "/uxpin-access" || cmd.ChannelID != "C_GENERAL" || cmd.TriggerID == "" || cmd.ResponseURL == "" {
			h.t.Errorf("unexpected slash command %+v", cmd)
		}
		h.ack(evt, map[string]any{"blocks": []slack.Block{section("Hello " + cmd.UserName + ": " + cmd.Text)}})
	})
	s := h.srv
	s.AddUser(User{ID: "U1", Name: "alice", RealName: "Alice", Email: "alice@example.com"})
	ctx := ctxT(t)

	if !s.Connected() || s.Connections() != 1 {
		t.Fatalf("Connected=%v Connections=%d", s.Connected(), s.Connections())
	}
	if err := s.WaitFor(ctx, func() bool { return h.hellos.Load() == 1 }); err != nil {
		t.Fatalf("hello not received: %v", err)
	}
	ack, err := s.SlashCommand(ctx, "U1", "request figma")
	if err != nil {
		t.Fatal(err)
	}
	if ack.EnvelopeID == "" || ack.Latency <= 0 {
		t.Errorf("bad ack %+v", ack)
	}
	if got := BlocksText(ack.Payload); !strings.Contains(got, "Hello alice: request figma") {
		t.Errorf("ack payload text = %q", got)
	}
	eph := s.Ephemerals("U1")
	if len(eph) != 1 || !eph[0].FromAck || !strings.Contains(BlocksText(eph[0].Blocks), "request figma") {
		t.Errorf("ephemerals = %+v", eph)
	}
	if s.Calls("apps.connections.open") != 1 {
		t.Errorf("apps.connections.open calls = %d", s.Calls("apps.connections.open"))
	}
	noViolations(t, s)
}

func TestAckTimeoutAndNotConnected(t *testing.T) {
	s := New(Options{AckTimeout: 50 * time.Millisecond, Logf: t.Logf})
	defer s.Close()
	s.AddUser(User{ID: "U1", Name: "alice"})
	if _, err := s.SlashCommand(ctxT(t), "U1", "x"); !errors.Is(err, ErrNotConnected) {
		t.Fatalf("err = %v, want ErrNotConnected", err)
	}

	h := newHarness(t, Options{AckTimeout: 100 * time.Millisecond}, nil) // never acks
	h.srv.AddUser(User{ID: "U1", Name: "alice"})
	if _, err := h.srv.SlashCommand(ctxT(t), "U1", "x"); !errors.Is(err, ErrNoAck) {
		t.Fatalf("err = %v, want ErrNoAck", err)
	}
}

func TestDMsViaSlackGo(t *testing.T) {
	h := newHarness(t, Options{}, nil)
	s := h.srv
	s.AddUser(User{ID: "U1", Name: "alice"})
	ctx := ctxT(t)

	ch, _, _, err := h.api.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{"U1"}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(ch.ID, "D") {
		t.Fatalf("conversations.open channel = %q", ch.ID)
	}
	ch2, noOp, already, err := h.api.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{"U1"}})
	if err != nil || ch2.ID != ch.ID || !noOp || !already {
		t.Fatalf("second open: %v %v %v %v", ch2.ID, noOp, already, err)
	}
	if _, _, _, err := h.api.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{"U404"}}); err == nil || err.Error() != "user_not_found" {
		t.Fatalf("open unknown user err = %v", err)
	}

	meta := slack.SlackMetadata{EventType: "access_request", EventPayload: map[string]any{"id": "R1"}}
	buttons := slack.NewActionBlock("req_R1",
		slack.NewButtonBlockElement("approve", "R1", slack.NewTextBlockObject(slack.PlainTextType, "Approve", false, false)),
		slack.NewButtonBlockElement("deny", "R1", slack.NewTextBlockObject(slack.PlainTextType, "Deny", false, false)))
	c1, ts1, err := h.api.PostMessageContext(ctx, ch.ID, slack.MsgOptionText("Request R1", false),
		slack.MsgOptionBlocks(section("Request *R1*"), buttons), slack.MsgOptionMetadata(meta))
	if err != nil {
		t.Fatal(err)
	}
	// Posting to a user ID goes to the same IM.
	c2, ts2, err := h.api.PostMessageContext(ctx, "U1", slack.MsgOptionText("second", false))
	if err != nil {
		t.Fatal(err)
	}
	if c1 != ch.ID || c2 != ch.ID || ts2 <= ts1 {
		t.Fatalf("channels %s %s ts %s %s", c1, c2, ts1, ts2)
	}
	dms := s.DMs("U1")
	if len(dms) != 2 || dms[0].Text != "Request R1" || dms[0].User != "U1" {
		t.Fatalf("DMs = %+v", dms)
	}
	if v, ok := FindAction(dms[0].Blocks, "approve"); !ok || v != "R1" {
		t.Errorf("FindAction = %q %v", v, ok)
	}
	if !strings.Contains(string(dms[0].Metadata), "access_request") {
		t.Errorf("metadata = %s", dms[0].Metadata)
	}

	// Unknown channels and empty messages are refused.
	if _, _, err := h.api.PostMessageContext(ctx, "C404", slack.MsgOptionText("x", false)); err == nil || err.Error() != "channel_not_found" {
		t.Errorf("post to unknown channel err = %v", err)
	}
	if _, _, err := h.api.PostMessageContext(ctx, ch.ID); err == nil || err.Error() != "no_text" {
		t.Errorf("empty post err = %v", err)
	}

	// Clicking delivers block_actions; the bot replaces the message via response_url.
	var clicked atomic.Value
	h.setHandler(func(h *harness, evt socketmode.Event) {
		if evt.Type != socketmode.EventTypeInteractive {
			return
		}
		cb := evt.Data.(slack.InteractionCallback)
		h.ack(evt, nil)
		clicked.Store(cb)
		_, _, err := h.api.PostMessageContext(context.Background(), "", slack.MsgOptionReplaceOriginal(cb.ResponseURL),
			slack.MsgOptionText("Approved", false), slack.MsgOptionBlocks(section("R1 approved")))
		if err != nil {
			h.t.Errorf("response_url: %v", err)
		}
	})
	if _, err := s.Click(ctx, "U1", dms[0], "approve"); err != nil {
		t.Fatal(err)
	}
	if err := s.WaitFor(ctx, func() bool { m, _ := s.Message(ch.ID, ts1); return m.Updates == 1 }); err != nil {
		t.Fatal(err)
	}
	cb := clicked.Load().(slack.InteractionCallback)
	if cb.Type != slack.InteractionTypeBlockActions || cb.Container.Type != "message" || cb.Container.ChannelID != ch.ID ||
		cb.Container.MessageTs != ts1 || cb.Channel.ID != ch.ID || cb.User.ID != "U1" || cb.TriggerID == "" ||
		len(cb.ActionCallback.BlockActions) != 1 || cb.ActionCallback.BlockActions[0].Value != "R1" ||
		cb.ActionCallback.BlockActions[0].BlockID != "req_R1" || cb.Message.Metadata.EventType != "access_request" {
		t.Errorf("callback = %+v", cb)
	}
	m, _ := s.Message(ch.ID, ts1)
	if m.Text != "Approved" || BlocksText(m.Blocks) != "R1 approved" {
		t.Errorf("replaced message = %+v", m)
	}
	if _, err := s.Click(ctx, "U1", m, "approve"); err == nil {
		t.Error("clicking a button removed by replace_original should fail")
	}

	// chat.update and conversations.history.
	if _, _, _, err := h.api.UpdateMessageContext(ctx, ch.ID, ts2, slack.MsgOptionText("second v2", false)); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := h.api.UpdateMessageContext(ctx, ch.ID, "1.000001", slack.MsgOptionText("x", false)); err == nil || err.Error() != "message_not_found" {
		t.Errorf("update unknown err = %v", err)
	}
	hist, err := h.api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{ChannelID: ch.ID, Limit: 1, IncludeAllMetadata: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(hist.Messages) != 1 || !hist.HasMore || hist.Messages[0].Text != "second v2" || hist.ResponseMetaData.NextCursor == "" {
		t.Fatalf("history page 1 = %+v", hist)
	}
	hist, err = h.api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{ChannelID: ch.ID, Limit: 1, IncludeAllMetadata: true, Cursor: hist.ResponseMetaData.NextCursor})
	if err != nil {
		t.Fatal(err)
	}
	if len(hist.Messages) != 1 || hist.HasMore || hist.Messages[0].Metadata.EventType != "access_request" {
		t.Fatalf("history page 2 = %+v", hist)
	}
	if s.Calls("chat.postMessage") != 4 || s.Calls("chat.update") != 2 {
		t.Errorf("calls postMessage=%d update=%d", s.Calls("chat.postMessage"), s.Calls("chat.update"))
	}
	noViolations(t, s)
}

func TestUsersAndGroups(t *testing.T) {
	s := New(Options{Logf: t.Logf})
	defer s.Close()
	api := slack.New("xoxb-test", slack.OptionAPIURL(s.APIURL()))
	ctx := ctxT(t)
	s.AddUser(User{ID: "U1", Name: "alice", RealName: "Alice A", Email: "alice@example.com"})
	s.AddUser(User{ID: "U2", Name: "bob"})
	s.SetGroup("S1", "U1", "U2")

	u, err := api.GetUserInfoContext(ctx, "U1")
	if err != nil || u.RealName != "Alice A" || u.Profile.Email != "alice@example.com" || u.Deleted {
		t.Fatalf("users.info = %+v, %v", u, err)
	}
	s.SetUser(User{ID: "U1", Name: "alice", Deleted: true})
	if u, _ := api.GetUserInfoContext(ctx, "U1"); !u.Deleted {
		t.Error("SetUser did not mark the user deleted")
	}
	if _, err := api.GetUserInfoContext(ctx, "U404"); err == nil || err.Error() != "user_not_found" {
		t.Errorf("users.info unknown err = %v", err)
	}
	members, err := api.GetUserGroupMembersContext(ctx, "S1")
	if err != nil || strings.Join(members, ",") != "U2" {
		t.Errorf("usergroups.users.list = %v, %v (deleted members are skipped)", members, err)
	}
	if _, err := api.GetUserGroupMembersContext(ctx, "S404"); err == nil || err.Error() != "no_such_subteam" {
		t.Errorf("unknown group err = %v", err)
	}
	at, err := api.AuthTestContext(ctx)
	if err != nil || at.UserID != BotUserID || at.BotID != BotID || at.TeamID != "T0001" {
		t.Errorf("auth.test = %+v, %v", at, err)
	}
}

func TestUserTimeZoneAndVisibility(t *testing.T) {
	s := New(Options{Logf: t.Logf})
	defer s.Close()
	api := slack.New("xoxb-test", slack.OptionAPIURL(s.APIURL()))
	ctx := ctxT(t)
	s.AddUser(User{ID: "U1", Name: "lea", Email: "lea@example.com", TZ: "America/Los_Angeles"})
	s.AddUser(User{ID: "U2", Name: "nozone", Email: "nozone@example.com"})
	s.AddUser(User{ID: "U3", Name: "hidden", Email: "hidden@example.com", NotVisible: true})

	if u, err := api.GetUserInfoContext(ctx, "U1"); err != nil || u.TZ != "America/Los_Angeles" {
		t.Errorf("users.info U1 tz = %+v, %v; want America/Los_Angeles", u, err)
	}
	if u, err := api.GetUserInfoContext(ctx, "U2"); err != nil || u.TZ != "" {
		t.Errorf("users.info U2 tz = %q, %v; want none for a user without one", u.TZ, err)
	}
	_, err := api.GetUserInfoContext(ctx, "U3")
	if se, ok := errors.AsType[slack.SlackErrorResponse](err); !ok || se.Err != "user_not_visible" {
		t.Errorf("users.info of a user the bot cannot see: err = %v; want user_not_visible", err)
	}
	users, err := api.GetUsersContext(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tz := map[string]string{}
	for _, u := range users {
		tz[u.ID] = u.TZ
	}
	if _, ok := tz["U3"]; ok || tz["U1"] != "America/Los_Angeles" || tz["U2"] != "" {
		t.Errorf("users.list time zones = %v; want U1's zone, none for U2 and no U3", tz)
	}
}

func TestLimitsRejected(t *testing.T) {
	s := New(Options{Logf: t.Logf})
	defer s.Close()
	api := slack.New("xoxb-test", slack.OptionAPIURL(s.APIURL()))
	s.AddUser(User{ID: "U1", Name: "alice"})
	ctx := ctxT(t)

	blocks := make([]slack.Block, 51)
	for i := range blocks {
		blocks[i] = section(fmt.Sprintf("row %d", i))
	}
	_, _, err := api.PostMessageContext(ctx, "U1", slack.MsgOptionText("x", false), slack.MsgOptionBlocks(blocks...))
	var se slack.SlackErrorResponse
	if !errors.As(err, &se) || se.Err != "invalid_blocks" || len(se.Errors) == 0 || se.Errors[0].Message == nil ||
		!strings.Contains(*se.Errors[0].Message, "[json-pointer:/blocks]") {
		t.Fatalf("51 blocks: err = %#v", err)
	}
	long := slack.NewButtonBlockElement("b", "v", slack.NewTextBlockObject(slack.PlainTextType, strings.Repeat("x", 76), false, false))
	if _, _, err := api.PostMessageContext(ctx, "U1", slack.MsgOptionText("x", false),
		slack.MsgOptionBlocks(slack.NewActionBlock("a", long))); err == nil || err.Error() != "invalid_blocks" {
		t.Errorf("long button text: err = %v", err)
	}
	if _, _, err := api.PostMessageContext(ctx, "U1", slack.MsgOptionText(strings.Repeat("x", 40001), false)); err == nil || err.Error() != "msg_too_long" {
		t.Errorf("long text: err = %v", err)
	}
	if got := s.Rejections("chat.postMessage"); got != 3 {
		t.Errorf("rejections = %d, want 3", got)
	}
	if v := s.Violations(); len(v) != 3 || !strings.Contains(v[0], "no more than 50 items allowed") {
		t.Errorf("violations = %q", v)
	}
	if len(s.Messages()) != 0 {
		t.Error("rejected messages were recorded")
	}
	s.ResetViolations()

	// Views: title over 24 characters and a Home tab over 100 blocks.
	home := make([]slack.Block, 101)
	for i := range home {
		home[i] = slack.NewDividerBlock()
	}
	_, err = api.PublishViewContext(ctx, slack.PublishViewContextRequest{UserID: "U1", View: slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: home}}})
	if !errors.As(err, &se) || se.Err != "invalid_arguments" || len(se.ResponseMetadata.Messages) == 0 {
		t.Errorf("101 home blocks: err = %#v", err)
	}
	if s.Rejections("") != 4 || len(s.Violations()) != 1 {
		t.Errorf("rejections = %d violations = %q", s.Rejections(""), s.Violations())
	}
}

func TestBlockValidationDetails(t *testing.T) {
	cases := []struct {
		name   string
		blocks string
		want   string // substring of the first error, "" = valid
	}{
		{"ok section", `[{"type":"section","text":{"type":"mrkdwn","text":"hi"}}]`, ""},
		{"empty text", `[{"type":"section","text":{"type":"mrkdwn","text":""}}]`, "more than 0 characters"},
		{"long section", `[{"type":"section","text":{"type":"mrkdwn","text":"` + strings.Repeat("a", 3001) + `"}}]`, "less than 3001"},
		{"11 fields", `[{"type":"section","fields":[` + strings.TrimSuffix(strings.Repeat(`{"type":"mrkdwn","text":"f"},`, 11), ",") + `]}]`, "no more than 10"},
		{"header mrkdwn", `[{"type":"header","text":{"type":"mrkdwn","text":"h"}}]`, "must be plain_text"},
		{"long header", `[{"type":"header","text":{"type":"plain_text","text":"` + strings.Repeat("h", 151) + `"}}]`, "less than 151"},
		{"dup block_id", `[{"type":"divider","block_id":"a"},{"type":"divider","block_id":"a"}]`, "duplicate block_id"},
		{"dup action_id", `[{"type":"actions","elements":[{"type":"button","action_id":"x","text":{"type":"plain_text","text":"a"}},{"type":"button","action_id":"x","text":{"type":"plain_text","text":"b"}}]}]`, "duplicate action_id"},
		{"long action_id", `[{"type":"actions","elements":[{"type":"button","action_id":"` + strings.Repeat("x", 256) + `","text":{"type":"plain_text","text":"a"}}]}]`, "less than 256"},
		{"long value", `[{"type":"actions","elements":[{"type":"button","value":"` + strings.Repeat("x", 2001) + `","text":{"type":"plain_text","text":"a"}}]}]`, "less than 2001"},
		{"101 options", `[{"type":"section","text":{"type":"mrkdwn","text":"s"},"accessory":{"type":"static_select","options":[` + strings.TrimSuffix(strings.Repeat(`{"text":{"type":"plain_text","text":"o"},"value":"v"},`, 101), ",") + `]}}]`, "no more than 100"},
		{"input max_length", `[{"type":"input","label":{"type":"plain_text","text":"l"},"element":{"type":"plain_text_input","max_length":3001}}]`, "between 1 and 3000"},
		{"input outside input block", `[{"type":"actions","elements":[{"type":"plain_text_input"}]}]`, "only allowed in input blocks"},
		{"unknown type", `[{"type":"bogus"}]`, "unsupported block type"},
	}
	for _, c := range cases {
		errs, _ := validateBlocks(json.RawMessage(c.blocks), surfaceMessage, "/blocks")
		switch {
		case c.want == "" && len(errs) > 0:
			t.Errorf("%s: unexpected errors %q", c.name, errs)
		case c.want != "" && (len(errs) == 0 || !strings.Contains(errs[0], c.want)):
			t.Errorf("%s: errors %q, want %q", c.name, errs, c.want)
		}
	}
}

// modalHandler opens a modal from every slash command and records the trigger.
func modalView(title string) slack.ModalViewRequest {
	return slack.ModalViewRequest{
		Type:       slack.VTModal,
		Title:      slack.NewTextBlockObject(slack.PlainTextType, title, false, false),
		Submit:     slack.NewTextBlockObject(slack.PlainTextType, "Request", false, false),
		CallbackID: "request_access",
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewInputBlock("tool", slack.NewTextBlockObject(slack.PlainTextType, "Tool", false, false), nil,
				slack.NewPlainTextInputBlockElement(nil, "tool_input")),
			slack.NewActionBlock("more", slack.NewButtonBlockElement("add_more", "1", slack.NewTextBlockObject(slack.PlainTextType, "More", false, false))),
		}},
		PrivateMetadata: "pm",
	}
}

func TestTriggerIDRules(t *testing.T) {
	var offset atomic.Int64
	now := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	triggers := make(chan string, 4)
	h := newHarness(t, Options{Now: now}, func(h *harness, evt socketmode.Event) {
		if evt.Type == socketmode.EventTypeSlashCommand {
			h.ack(evt, nil)
			triggers <- evt.Data.(slack.SlashCommand).TriggerID
		}
	})
	s := h.srv
	s.AddUser(User{ID: "U1", Name: "alice"})
	ctx := ctxT(t)

	if _, err := s.SlashCommand(ctx, "U1", ""); err != nil {
		t.Fatal(err)
	}
	trig := <-triggers
	resp, err := h.api.OpenViewContext(ctx, trig, modalView("Request access"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(resp.View.ID, "V") || resp.View.Hash == "" || resp.View.CallbackID != "request_access" || resp.View.PrivateMetadata != "pm" {
		t.Fatalf("views.open view = %+v", resp.View)
	}
	if _, err := h.api.OpenViewContext(ctx, trig, modalView("Again")); err == nil || err.Error() != "exchanged_trigger_id" {
		t.Errorf("reuse err = %v", err)
	}
	if _, err := s.SlashCommand(ctx, "U1", ""); err != nil {
		t.Fatal(err)
	}
	trig = <-triggers
	offset.Store(int64(3*time.Second + time.Millisecond))
	if _, err := h.api.OpenViewContext(ctx, trig, modalView("Late")); err == nil || err.Error() != "expired_trigger_id" {
		t.Errorf("expired err = %v", err)
	}
	if _, err := h.api.OpenViewContext(ctx, "1.2.bogus", modalView("Bogus")); err == nil || err.Error() != "invalid_arguments" {
		t.Errorf("bogus trigger err = %v", err)
	}
	if got := s.Rejections("views.open"); got != 3 {
		t.Errorf("views.open rejections = %d", got)
	}
	vs := s.Views("U1")
	if len(vs) != 1 || vs[0].Title != "Request access" || vs[0].Closed {
		t.Errorf("Views = %+v", vs)
	}
}

func TestModalSubmitAndViews(t *testing.T) {
	var mode atomic.Value
	mode.Store("errors")
	h := newHarness(t, Options{}, func(h *harness, evt socketmode.Event) {
		switch evt.Type {
		case socketmode.EventTypeSlashCommand:
			h.ack(evt, nil)
			if _, err := h.api.OpenView(evt.Data.(slack.SlashCommand).TriggerID, modalView("Request access")); err != nil {
				h.t.Errorf("open: %v", err)
			}
		case socketmode.EventTypeInteractive:
			cb := evt.Data.(slack.InteractionCallback)
			switch cb.Type {
			case slack.InteractionTypeBlockActions:
				h.ack(evt, nil)
				if _, err := h.api.PushView(cb.TriggerID, modalView("Details")); err != nil {
					h.t.Errorf("push: %v", err)
				}
			case slack.InteractionTypeViewSubmission:
				if got := cb.View.State.Values["tool"]["tool_input"].Value; got != "figma" {
					h.t.Errorf("submitted value = %q", got)
				}
				if cb.View.CallbackID != "request_access" || cb.View.PrivateMetadata != "pm" || cb.View.Hash == "" {
					h.t.Errorf("submitted view = %+v", cb.View)
				}
				switch mode.Load().(string) {
				case "errors":
					h.ack(evt, slack.NewErrorsViewSubmissionResponse(map[string]string{"tool": "Unknown tool"}))
				case "bad errors":
					h.ack(evt, slack.NewErrorsViewSubmissionResponse(map[string]string{"nope": "x"}))
				default:
					h.ack(evt, nil)
				}
			}
		}
	})
	s := h.srv
	s.AddUser(User{ID: "U1", Name: "alice"})
	ctx := ctxT(t)

	if _, err := s.SlashCommand(ctx, "U1", ""); err != nil {
		t.Fatal(err)
	}
	if err := s.WaitFor(ctx, func() bool { return len(s.Views("U1")) == 1 }); err != nil {
		t.Fatal(err)
	}
	v := s.Views("U1")[0]
	values := map[string]map[string]any{"tool": {"tool_input": map[string]any{"type": "plain_text_input", "value": "figma"}}}
	if _, err := s.Submit(ctx, "U1", v, values); err != nil {
		t.Fatal(err)
	}
	if vv, _ := s.View(v.ID); vv.Closed {
		t.Error("view closed after an errors response")
	}
	noViolations(t, s)

	mode.Store("bad errors")
	if _, err := s.Submit(ctx, "U1", v, values); err != nil {
		t.Fatal(err)
	}
	if vs := s.Violations(); len(vs) != 1 || !strings.Contains(vs[0], `block_id "nope"`) {
		t.Errorf("violations = %q", vs)
	}
	s.ResetViolations()

	// A button inside the modal pushes a second view onto the stack.
	if _, err := s.ClickView(ctx, "U1", v, "add_more"); err != nil {
		t.Fatal(err)
	}
	if err := s.WaitFor(ctx, func() bool { return len(s.OpenViews("U1")) == 2 }); err != nil {
		t.Fatal(err)
	}
	pushed := s.OpenViews("U1")[1]
	if pushed.RootViewID != v.ID || pushed.PreviousViewID != v.ID || pushed.Title != "Details" {
		t.Errorf("pushed view = %+v", pushed)
	}

	mode.Store("close")
	if _, err := s.Submit(ctx, "U1", pushed, values); err != nil {
		t.Fatal(err)
	}
	if open := s.OpenViews("U1"); len(open) != 1 || open[0].ID != v.ID {
		t.Errorf("open views after closing the pushed view = %+v", open)
	}

	// views.update with a stale hash conflicts; with the current hash it succeeds.
	cur, _ := s.View(v.ID)
	if _, err := h.api.UpdateViewContext(ctx, modalView("Updated"), "", "1.stale", v.ID); err == nil || err.Error() != "hash_conflict" {
		t.Errorf("stale hash err = %v", err)
	}
	if _, err := h.api.UpdateViewContext(ctx, modalView("Updated"), "", cur.Hash, v.ID); err != nil {
		t.Fatal(err)
	}
	if upd, _ := s.View(v.ID); upd.Title != "Updated" || upd.Hash == cur.Hash || upd.Updates != 1 {
		t.Errorf("updated view = %+v", upd)
	}
	if _, err := h.api.UpdateViewContext(ctx, modalView("Updated"), "", "", "V404"); err == nil || err.Error() != "not_found" {
		t.Errorf("update unknown view err = %v", err)
	}
	if _, err := s.Submit(ctx, "U1", v, values); err != nil {
		t.Fatal(err)
	}
	if vv, _ := s.View(v.ID); !vv.Closed {
		t.Error("view still open after an empty ack")
	}
	noViolations(t, s)
}

func TestHomeTabAndEvents(t *testing.T) {
	var clicked atomic.Value
	h := newHarness(t, Options{}, func(h *harness, evt socketmode.Event) {
		switch evt.Type {
		case socketmode.EventTypeEventsAPI:
			h.ack(evt, nil)
			ev := evt.Data.(slackevents.EventsAPIEvent)
			if e, ok := ev.InnerEvent.Data.(*slackevents.AppHomeOpenedEvent); ok {
				home := slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: []slack.Block{
					section("Your requests"),
					slack.NewActionBlock("acts", slack.NewButtonBlockElement("new_request", "new", slack.NewTextBlockObject(slack.PlainTextType, "New", false, false))),
				}}}
				if _, err := h.api.PublishView(e.User, home, ""); err != nil {
					h.t.Errorf("publish: %v", err)
				}
			}
		case socketmode.EventTypeInteractive:
			h.ack(evt, nil)
			clicked.Store(evt.Data.(slack.InteractionCallback))
		}
	})
	s := h.srv
	s.AddUser(User{ID: "U1", Name: "alice"})
	ctx := ctxT(t)

	ack, err := s.AppHomeOpened(ctx, "U1")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(ack.EventID, "Ev") {
		t.Errorf("event id = %q", ack.EventID)
	}
	if err := s.WaitFor(ctx, func() bool { _, ok := s.Home("U1"); return ok }); err != nil {
		t.Fatal(err)
	}
	home, _ := s.Home("U1")
	if home.Type != "home" || !strings.Contains(BlocksText(home.Blocks), "Your requests") {
		t.Errorf("home = %+v", home)
	}
	if _, err := s.ClickHome(ctx, "U1", "new_request", ""); err != nil {
		t.Fatal(err)
	}
	if err := s.WaitFor(ctx, func() bool { return clicked.Load() != nil }); err != nil {
		t.Fatal(err)
	}
	cb := clicked.Load().(slack.InteractionCallback)
	if cb.Container.Type != "view" || cb.View.ID != home.ID || cb.View.Type != slack.VTHomeTab ||
		cb.ActionCallback.BlockActions[0].Value != "new" {
		t.Errorf("home callback = %+v", cb)
	}
	// A raw user_change event and a retried event parse through slack-go.
	if _, err := s.UserChange(ctx, User{ID: "U1", Name: "alice", Deleted: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.EventWithID(ctx, ack.EventID, map[string]any{"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "messages", "event_ts": "1.2"}, 1); err != nil {
		t.Fatal(err)
	}
	noViolations(t, s)
}

func TestTokenKinds(t *testing.T) {
	s := New(Options{Logf: t.Logf})
	defer s.Close()
	ctx := ctxT(t)
	s.AddUser(User{ID: "U1", Name: "alice"})

	withApp := slack.New("xapp-1-A1-test", slack.OptionAPIURL(s.APIURL()))
	if _, _, err := withApp.PostMessageContext(ctx, "U1", slack.MsgOptionText("x", false)); err == nil || err.Error() != "not_allowed_token_type" {
		t.Errorf("app token on chat.postMessage: %v", err)
	}
	withBot := slack.New("xoxb-test", slack.OptionAppLevelToken("xoxb-test"), slack.OptionAPIURL(s.APIURL()))
	if _, _, err := withBot.StartSocketModeContext(ctx); err == nil || err.Error() != "not_allowed_token_type" {
		t.Errorf("bot token on apps.connections.open: %v", err)
	}
	wrong := slack.New("xoxb-wrong", slack.OptionAPIURL(s.APIURL()))
	if _, err := wrong.AuthTestContext(ctx); err == nil || err.Error() != "invalid_auth" {
		t.Errorf("wrong token: %v", err)
	}
	none := slack.New("", slack.OptionAPIURL(s.APIURL()))
	if _, err := none.GetUserInfoContext(ctx, "U1"); err == nil || err.Error() != "not_authed" {
		t.Errorf("no token: %v", err)
	}
	// Unknown methods are a 404.
	resp, err := http.Post(s.APIURL()+"nope.nope", "application/x-www-form-urlencoded", strings.NewReader("token=xoxb-test"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown method status = %d", resp.StatusCode)
	}
}

func TestFaults(t *testing.T) {
	s := New(Options{Logf: t.Logf})
	defer s.Close()
	api := slack.New("xoxb-test", slack.OptionAPIURL(s.APIURL()))
	ctx := ctxT(t)
	s.AddUser(User{ID: "U1", Name: "alice"})

	s.Fail("chat.postMessage", Fault{Count: 1, Status: http.StatusTooManyRequests, RetryAfter: 7})
	_, _, err := api.PostMessageContext(ctx, "U1", slack.MsgOptionText("x", false))
	var rl *slack.RateLimitedError
	if !errors.As(err, &rl) || rl.RetryAfter != 7*time.Second {
		t.Fatalf("err = %#v, want *slack.RateLimitedError{7s}", err)
	}
	if _, _, err := api.PostMessageContext(ctx, "U1", slack.MsgOptionText("x", false)); err != nil {
		t.Fatalf("after the fault: %v", err)
	}

	s.Fail("users.info", Fault{Count: -1, Status: http.StatusInternalServerError})
	for range 3 {
		var sce slack.StatusCodeError
		if _, err := api.GetUserInfoContext(ctx, "U1"); !errors.As(err, &sce) || sce.Code != 500 {
			t.Fatalf("users.info err = %v", err)
		}
	}
	s.ClearFaults()
	if _, err := api.GetUserInfoContext(ctx, "U1"); err != nil {
		t.Fatal(err)
	}

	s.Fail("conversations.open", Fault{Error: "ratelimited"})
	if _, _, _, err := api.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{"U1"}}); err == nil || err.Error() != "ratelimited" {
		t.Errorf("error fault: %v", err)
	}

	s.Fail("auth.test", Fault{Delay: 30 * time.Millisecond})
	start := time.Now()
	if _, err := api.AuthTestContext(ctx); err != nil || time.Since(start) < 30*time.Millisecond {
		t.Errorf("delay fault: %v after %v", err, time.Since(start))
	}
	if s.Calls("users.info") != 4 {
		t.Errorf("users.info calls = %d", s.Calls("users.info"))
	}
}

func TestReconnect(t *testing.T) {
	h := newHarness(t, Options{PingInterval: 20 * time.Millisecond}, nil)
	s := h.srv
	ctx := ctxT(t)
	s.Disconnect("refresh_requested")
	// The client must have read the second hello before that connection is
	// dropped, or the hello is lost with it.
	if err := s.WaitFor(ctx, func() bool { return s.Connections() == 2 && s.Connected() && h.hellos.Load() == 2 }); err != nil {
		t.Fatal(err)
	}
	s.DropConnection()
	if err := s.WaitFor(ctx, func() bool { return s.Connections() == 3 && s.Connected() }); err != nil {
		t.Fatal(err)
	}
	if err := s.WaitFor(ctx, func() bool { return h.hellos.Load() == 3 }); err != nil {
		t.Fatalf("%v: %d hellos, %d connections, %d connects", err, h.hellos.Load(), s.Connections(), s.Calls("apps.connections.open"))
	}
	if s.Calls("apps.connections.open") != 3 {
		t.Errorf("apps.connections.open calls = %d", s.Calls("apps.connections.open"))
	}
}

// rawClient dials the fake with a bare WebSocket to send hostile acks.
func rawClient(t *testing.T, s *Server) *websocket.Conn {
	t.Helper()
	api := slack.New("xoxb-test", slack.OptionAppLevelToken("xapp-1-A1-test"), slack.OptionAPIURL(s.APIURL()))
	_, url, err := api.StartSocketModeContext(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	c, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, hello, err := c.ReadMessage(); err != nil || !strings.Contains(string(hello), `"type":"hello"`) {
		t.Fatalf("hello = %s, %v", hello, err)
	}
	// The ticket is single use.
	if _, _, err := websocket.DefaultDialer.Dial(url, nil); err == nil {
		t.Error("second dial with the same ticket succeeded")
	}
	return c
}

func TestRawAcks(t *testing.T) {
	s := New(Options{AckTimeout: 2 * time.Second, Logf: t.Logf})
	defer s.Close()
	c := rawClient(t, s)
	ctx := ctxT(t)

	// A normal raw envelope acked by the client.
	if err := s.SendRaw(ctx, []byte(`{"type":"events_api","envelope_id":"env-1","payload":{}}`)); err != nil {
		t.Fatal(err)
	}
	if _, msg, err := c.ReadMessage(); err != nil || !strings.Contains(string(msg), "env-1") {
		t.Fatalf("read = %s, %v", msg, err)
	}
	if err := c.WriteMessage(websocket.TextMessage, []byte(`{"envelope_id":"env-1","payload":{"ok":1}}`)); err != nil {
		t.Fatal(err)
	}
	ack, err := s.WaitAck(ctx, "env-1")
	if err != nil || string(ack.Payload) != `{"ok":1}` {
		t.Fatalf("WaitAck = %+v, %v", ack, err)
	}

	// An oversized ack is dropped like Slack does and counts as no ack.
	s2 := New(Options{AckTimeout: 100 * time.Millisecond, Logf: t.Logf})
	defer s2.Close()
	c2 := rawClient(t, s2)
	if err := s2.SendRaw(ctx, []byte(`{"type":"slash_commands","envelope_id":"env-2","payload":{}}`)); err != nil {
		t.Fatal(err)
	}
	big := `{"envelope_id":"env-2","payload":{"text":"` + strings.Repeat("x", MaxAckBytes) + `"}}`
	if err := c2.WriteMessage(websocket.TextMessage, []byte(big)); err != nil {
		t.Fatal(err)
	}
	if _, err := s2.WaitAck(ctx, "env-2"); !errors.Is(err, ErrNoAck) {
		t.Errorf("oversized ack: err = %v", err)
	}
	// Acks for unknown envelopes and garbage frames are violations.
	_ = c2.WriteMessage(websocket.TextMessage, []byte(`{"envelope_id":"never-sent"}`))
	_ = c2.WriteMessage(websocket.TextMessage, []byte(`not json`))
	if err := s2.WaitFor(ctx, func() bool { return len(s2.Violations()) == 3 }); err != nil {
		t.Fatalf("violations = %q: %v", s2.Violations(), err)
	}
	v := strings.Join(s2.Violations(), "\n")
	for _, want := range []string{"Slack drops responses", "unknown envelope_id", "malformed frame"} {
		if !strings.Contains(v, want) {
			t.Errorf("violations lack %q:\n%s", want, v)
		}
	}
}

func TestResponseURLEphemeralAndInChannel(t *testing.T) {
	urls := make(chan string, 1)
	h := newHarness(t, Options{}, func(h *harness, evt socketmode.Event) {
		if evt.Type == socketmode.EventTypeSlashCommand {
			h.ack(evt, nil)
			urls <- evt.Data.(slack.SlashCommand).ResponseURL
		}
	})
	s := h.srv
	s.AddUser(User{ID: "U1", Name: "alice"})
	ctx := ctxT(t)
	if _, err := s.SlashCommand(ctx, "U1", "help"); err != nil {
		t.Fatal(err)
	}
	u := <-urls
	if _, _, err := h.api.PostMessageContext(ctx, "", slack.MsgOptionResponseURL(u, slack.ResponseTypeEphemeral), slack.MsgOptionText("usage: …", false)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := h.api.PostMessageContext(ctx, "", slack.MsgOptionResponseURL(u, slack.ResponseTypeInChannel), slack.MsgOptionText("public", false)); err != nil {
		t.Fatal(err)
	}
	if e := s.Ephemerals("U1"); len(e) != 1 || e[0].Text != "usage: …" || !e[0].ViaResponseURL {
		t.Errorf("ephemerals = %+v", e)
	}
	if m := s.Messages(); len(m) != 1 || m[0].Channel != "C_GENERAL" || m[0].Text != "public" {
		t.Errorf("messages = %+v", m)
	}
	resp, err := http.Post(s.URL()+"/response/unknown", "application/json", strings.NewReader(`{"text":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown response_url status = %d", resp.StatusCode)
	}
	if s.Calls("response_url") != 3 {
		t.Errorf("response_url calls = %d", s.Calls("response_url"))
	}
	noViolations(t, s)
}

func TestBlocksTextAndFindAction(t *testing.T) {
	blocks := json.RawMessage(`[{"type":"header","text":{"type":"plain_text","text":"Title"}},
		{"type":"section","text":{"type":"mrkdwn","text":"Body"},"fields":[{"type":"mrkdwn","text":"F1"}],
		 "accessory":{"type":"static_select","action_id":"pick","initial_option":{"text":{"type":"plain_text","text":"Opt"},"value":"o1"},"options":[{"text":{"type":"plain_text","text":"Opt"},"value":"o1"}]}},
		{"type":"actions","elements":[{"type":"button","action_id":"go","value":"v1","text":{"type":"plain_text","text":"Go"}}]}]`)
	got := BlocksText(blocks)
	for _, want := range []string{"Title", "Body", "F1", "Opt", "Go"} {
		if !strings.Contains(got, want) {
			t.Errorf("BlocksText = %q lacks %q", got, want)
		}
	}
	if v, ok := FindAction(blocks, "go"); !ok || v != "v1" {
		t.Errorf("FindAction(go) = %q %v", v, ok)
	}
	if v, ok := FindAction(blocks, "pick"); !ok || v != "o1" {
		t.Errorf("FindAction(pick) = %q %v", v, ok)
	}
	if _, ok := FindAction(blocks, "missing"); ok {
		t.Error("FindAction(missing) found something")
	}
}
