package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/uxpin-access-bot/uxpin-access-bot/internal/fakeslack"
)

// Made-up tokens: never real ones.
const (
	testAppToken = "xapp-1-A0001-1111-test-app-token"
	testBotToken = "xoxb-2222-3333-test-bot-token"
)

// The cast of the end-to-end tests.
const (
	uAlice   = "U0ALICE1" // requester
	uBob     = "U0BOB001" // target
	uCarol   = "U0CAROL1" // approver
	uDave    = "U0DAVE01" // approver
	uErin    = "U0ERIN01" // UXPin admin
	uFrank   = "U0FRANK1" // UXPin admin
	uGina    = "U0GINA01" // approver through a user group
	uRobot   = "U0ROBOT1" // a bot user
	uGone    = "U0GONE01" // deactivated
	uNoMail  = "U0NOMAIL" // no email in Slack
	uOutside = "U0OUTSD1" // email outside the allowed domains
	groupID  = "S0APPRVR"
	auditCh  = "C0AUDIT1"
)

// manifestScopes returns the bot scopes slack-app-manifest.yaml grants, so
// the fake Slack refuses any call the published app could not make.
func manifestScopes(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(manifestPath)
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		OAuth struct {
			Scopes struct {
				Bot []string `yaml:"bot"`
			} `yaml:"scopes"`
		} `yaml:"oauth_config"`
	}
	if err := yaml.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m.OAuth.Scopes.Bot
}

func testUsers() []fakeslack.User {
	return []fakeslack.User{
		{ID: uAlice, Name: "alice", RealName: "Alice Archer", Email: "alice@example.com"},
		{ID: uBob, Name: "bob", RealName: "Bob Builder", Email: "bob@example.com"},
		{ID: uCarol, Name: "carol", RealName: "Carol Chen", Email: "carol@example.com"},
		{ID: uDave, Name: "dave", RealName: "Dave Diaz", Email: "dave@example.com"},
		{ID: uErin, Name: "erin", RealName: "Erin Evans", Email: "erin@example.com"},
		{ID: uFrank, Name: "frank", RealName: "Frank Fox", Email: "frank@example.com"},
		{ID: uGina, Name: "gina", RealName: "Gina Gray", Email: "gina@example.com"},
		{ID: uRobot, Name: "robot", RealName: "Robot", Email: "robot@example.com", IsBot: true},
		{ID: uGone, Name: "gone", RealName: "Gone Person", Email: "gone@example.com", Deleted: true},
		{ID: uNoMail, Name: "nomail", RealName: "No Mail"},
		{ID: uOutside, Name: "out", RealName: "Out Sider", Email: "out@elsewhere.test"},
	}
}

// env is a test environment, before overrides.
func baseEnv(f *fakeslack.Server, dbPath string) map[string]string {
	return map[string]string{
		"SLACK_APP_TOKEN":             testAppToken,
		"SLACK_BOT_TOKEN":             testBotToken,
		"SLACK_API_URL":               f.APIURL(),
		"UXPIN_APPROVERS":             uCarol + "," + uDave + "," + groupID,
		"UXPIN_ADMINS":                uErin + "," + uFrank,
		"UXPIN_AUDIT_CHANNEL":         auditCh,
		"UXPIN_DB_PATH":               dbPath,
		"UXPIN_HTTP_ADDR":             "",
		"UXPIN_ALLOWED_EMAIL_DOMAINS": "example.com",
		"UXPIN_LOG_LEVEL":             "debug",
	}
}

func lookupMap(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

// syncBuffer collects log output from concurrent goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// harness runs the whole bot in-process against a fake Slack and a real
// bbolt file.
type harness struct {
	t      *testing.T
	fake   *fakeslack.Server
	env    map[string]string
	logs   *syncBuffer
	m      *Main
	cancel context.CancelFunc
	done   chan error
	// configure adjusts Main before it opens, e.g. shorter delivery timeouts.
	configure []func(*Main)
}

func newHarness(t *testing.T, overrides map[string]string, configure ...func(*Main)) *harness {
	t.Helper()
	f := fakeslack.New(fakeslack.Options{AppToken: testAppToken, BotToken: testBotToken, Logf: t.Logf, Scopes: manifestScopes(t)})
	t.Cleanup(f.Close)
	for _, u := range testUsers() {
		f.AddUser(u)
	}
	f.SetGroup(groupID, uGina)
	f.AddChannel(auditCh)
	env := baseEnv(f, filepath.Join(t.TempDir(), "data", "uxpin.db"))
	for k, v := range overrides {
		env[k] = v
	}
	h := &harness{t: t, fake: f, env: env, logs: &syncBuffer{}, configure: configure}
	h.start()
	t.Cleanup(func() {
		h.stop()
		if v := f.Violations(); len(v) > 0 {
			t.Errorf("fake Slack saw %d protocol or Block Kit violations:\n%s", len(v), strings.Join(v, "\n"))
		}
		for _, tok := range []string{testAppToken, testBotToken} {
			if strings.Contains(h.logs.String(), tok) {
				t.Errorf("a token appears in the logs")
			}
		}
	})
	return h
}

func (h *harness) start() {
	h.t.Helper()
	cfg, err := LoadConfig(lookupMap(h.env))
	if err != nil {
		h.t.Fatalf("LoadConfig: %v", err)
	}
	m := &Main{Config: cfg, Log: newLogger(cfg, io.MultiWriter(h.logs, testLogWriter{h.t}))}
	m.Delivery.BaseBackoff = 100 * time.Millisecond
	// A mass deactivation is gathered for this long before one check.
	m.LeaverWindow = 200 * time.Millisecond
	// The fake enforces no rate limits unless a test asks; pacing is
	// tested on its own and in TestBacklogIsPaced.
	m.Delivery.Limits.Off = true
	for _, c := range h.configure {
		c(m)
	}
	if err := m.Open(); err != nil {
		h.t.Fatalf("Open: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h.m, h.cancel, h.done = m, cancel, make(chan error, 1)
	go func() { h.done <- m.Run(ctx) }()
	h.waitFor("the bot to connect", func() bool { return h.fake.Connected() && m.Bot.Connected() })
}

// stop shuts the bot down as SIGTERM would and closes the database.
func (h *harness) stop() {
	if h.m == nil {
		return
	}
	h.cancel()
	select {
	case err := <-h.done:
		if err != nil {
			h.t.Errorf("Run returned %v", err)
		}
	case <-time.After(20 * time.Second):
		h.t.Errorf("Run did not return after cancel")
	}
	if err := h.m.Close(); err != nil {
		h.t.Errorf("Close: %v", err)
	}
	h.m = nil
}

func (h *harness) restart() {
	h.t.Helper()
	h.stop()
	h.start()
}

type testLogWriter struct{ t *testing.T }

func (w testLogWriter) Write(p []byte) (int, error) {
	if testing.Verbose() {
		w.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

func (h *harness) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	h.t.Cleanup(cancel)
	return ctx
}

// waitFor polls cond until it holds or 10 s pass.
func (h *harness) waitFor(what string, cond func() bool) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.fake.WaitFor(ctx, cond); err != nil {
		h.t.Fatalf("timed out waiting for %s", what)
	}
}

// slash runs /uxpin-access text as user.
func (h *harness) slash(user, text string) fakeslack.Ack {
	h.t.Helper()
	ack, err := h.fake.SlashCommand(h.ctx(), user, text)
	if err != nil {
		h.t.Fatalf("/uxpin-access %s by %s: %v", text, user, err)
	}
	return ack
}

// ephemeral waits for the n-th (1-based) ephemeral reply to user and returns its text.
func (h *harness) ephemeral(user string, n int) string {
	h.t.Helper()
	h.waitFor(fmt.Sprintf("ephemeral #%d to %s", n, user), func() bool { return len(h.fake.Ephemerals(user)) >= n })
	e := h.fake.Ephemerals(user)[n-1]
	return e.Text + "\n" + fakeslack.BlocksText(e.Blocks)
}

// slashReply runs /uxpin-access text as user and returns the reply only
// user sees.
func (h *harness) slashReply(user, text string) string {
	h.t.Helper()
	n := len(h.fake.Ephemerals(user))
	h.slash(user, text)
	return h.ephemeral(user, n+1)
}

// clickReply clicks actionID on m as user and returns the reply only user sees.
func (h *harness) clickReply(user string, m fakeslack.Message, actionID string) string {
	h.t.Helper()
	n := len(h.fake.Ephemerals(user))
	h.click(user, m, actionID)
	return h.ephemeral(user, n+1)
}

// forgedClickReply sends a click on a button as it was in m when m was read,
// as a stale card or a forged payload would, and returns the reply.
func (h *harness) forgedClickReply(user string, m fakeslack.Message, actionID string) string {
	h.t.Helper()
	n := len(h.fake.Ephemerals(user))
	if _, err := h.fake.ClickStale(h.ctx(), user, m, actionID); err != nil {
		h.t.Fatalf("stale click %s by %s: %v", actionID, user, err)
	}
	return h.ephemeral(user, n+1)
}

// clickModal clicks actionID on m as user and returns the modal the click
// opened.
func (h *harness) clickModal(user string, m fakeslack.Message, actionID string) fakeslack.View {
	h.t.Helper()
	before := len(h.fake.Views(user))
	h.click(user, m, actionID)
	h.waitFor("a modal for "+user, func() bool { return len(h.fake.Views(user)) > before })
	return h.fake.Views(user)[before]
}

// openModal runs /uxpin-access text and returns the modal it opened.
func (h *harness) openModal(user, text string) fakeslack.View {
	h.t.Helper()
	before := len(h.fake.Views(user))
	h.slash(user, text)
	h.waitFor("a modal for "+user, func() bool { return len(h.fake.Views(user)) > before })
	return h.fake.Views(user)[before]
}

// requestValues are the modal's state values as Slack sends them.
func requestValues(action, target, role, justification, endDate string) map[string]map[string]any {
	v := map[string]map[string]any{
		"action":        {"action": map[string]any{"type": "static_select", "selected_option": opt(action)}},
		"target":        {"target": map[string]any{"type": "users_select", "selected_user": target}},
		"role":          {"role": map[string]any{"type": "static_select", "selected_option": opt(role)}},
		"justification": {"justification": map[string]any{"type": "plain_text_input", "value": justification}},
		"end_date":      {"end_date": map[string]any{"type": "datepicker", "selected_date": endDate}},
	}
	if role == "" {
		v["role"] = map[string]any{"role": map[string]any{"type": "static_select", "selected_option": nil}}
	}
	if endDate == "" {
		v["end_date"] = map[string]any{"end_date": map[string]any{"type": "datepicker", "selected_date": nil}}
	}
	return v
}

func opt(v string) map[string]any {
	return map[string]any{"value": v, "text": map[string]any{"type": "plain_text", "text": v}}
}

// ackPayload decodes a view_submission ack.
type ackPayload struct {
	ResponseAction string            `json:"response_action"`
	Errors         map[string]string `json:"errors"`
}

func decodeAck(t *testing.T, a fakeslack.Ack) ackPayload {
	t.Helper()
	var p ackPayload
	if len(a.Payload) > 0 && string(a.Payload) != "null" {
		if err := json.Unmarshal(a.Payload, &p); err != nil {
			t.Fatalf("ack payload %s: %v", a.Payload, err)
		}
	}
	return p
}

// submitRequest opens the modal as user and submits it.
func (h *harness) submitRequest(user, action, target, role, justification, endDate string) ackPayload {
	h.t.Helper()
	v := h.openModal(user, "")
	ack, err := h.fake.Submit(h.ctx(), user, v, requestValues(action, target, role, justification, endDate))
	if err != nil {
		h.t.Fatalf("submit: %v", err)
	}
	return decodeAck(h.t, ack)
}

// mustSubmit submits a request that must be accepted and returns its ID.
func (h *harness) mustSubmit(user, action, target, role, justification string) string {
	h.t.Helper()
	before := h.m.mustCount(h.t)
	p := h.submitRequest(user, action, target, role, justification, "")
	if p.ResponseAction != "update" || len(p.Errors) > 0 {
		h.t.Fatalf("submission refused: %+v", p)
	}
	return fmt.Sprintf("R-%d", before+1)
}

func (m *Main) mustCount(t *testing.T) int {
	t.Helper()
	counts, err := m.DB.CountByState(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range counts {
		n += c
	}
	return n
}

// dmWith waits for a DM to user whose text contains all of want.
func (h *harness) dmWith(user string, want ...string) fakeslack.Message {
	h.t.Helper()
	var found fakeslack.Message
	h.waitFor(fmt.Sprintf("a DM to %s containing %q", user, want), func() bool {
		for _, m := range h.fake.DMs(user) {
			if containsAll(msgText(m), want...) {
				found = m
				return true
			}
		}
		return false
	})
	return found
}

// countDMs counts DMs to user whose text contains all of want.
func (h *harness) countDMs(user string, want ...string) int {
	n := 0
	for _, m := range h.fake.DMs(user) {
		if containsAll(msgText(m), want...) {
			n++
		}
	}
	return n
}

// cards counts the approval cards for request id in user's DMs.
func (h *harness) cards(user, id string) int {
	n := 0
	for _, m := range h.fake.DMs(user) {
		if strings.Contains(m.Text, "UXPin access request "+id+":") {
			n++
		}
	}
	return n
}

func msgText(m fakeslack.Message) string { return m.Text + "\n" + fakeslack.BlocksText(m.Blocks) }

func containsAll(s string, want ...string) bool {
	for _, w := range want {
		if !strings.Contains(s, w) {
			return false
		}
	}
	return true
}

// click clicks actionID on m as user and waits for the ack.
func (h *harness) click(user string, m fakeslack.Message, actionID string) {
	h.t.Helper()
	if _, err := h.fake.Click(h.ctx(), user, m, actionID); err != nil {
		h.t.Fatalf("click %s by %s: %v", actionID, user, err)
	}
}

// current returns the current state of a posted message.
func (h *harness) current(m fakeslack.Message) fakeslack.Message {
	h.t.Helper()
	cur, ok := h.fake.Message(m.Channel, m.TS)
	if !ok {
		h.t.Fatalf("message %s/%s vanished", m.Channel, m.TS)
	}
	return cur
}

// state reads a request's state from the database.
func (h *harness) state(id string) string {
	h.t.Helper()
	r, err := h.m.Service.Request(context.Background(), id)
	if err != nil {
		h.t.Fatalf("Request(%s): %v", id, err)
	}
	return string(r.State)
}

func (h *harness) waitState(id, want string) {
	h.t.Helper()
	h.waitFor(id+" to be "+want, func() bool {
		r, err := h.m.Service.Request(context.Background(), id)
		return err == nil && string(r.State) == want
	})
}

// outboxEmpty waits until every queued message was delivered.
func (h *harness) outboxEmpty() {
	h.t.Helper()
	h.waitFor("the outbox to drain", func() bool {
		n, err := h.m.DB.OutboxDepth(context.Background())
		return err == nil && n == 0
	})
}
