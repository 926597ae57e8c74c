// Package fakeslack is an in-process fake of Slack's Socket Mode and Web API.
//
// It runs on an httptest server bound to 127.0.0.1 so that the real slack-go
// client (slack.New with OptionAPIURL pointing at APIURL, plus socketmode.New)
// connects to it unchanged. Tests and benchmarks drive the bot by sending
// envelopes (SlashCommand, Click, Submit, Event, ...) and then inspect what the
// bot did (Messages, DMs, Ephemerals, Views, Home, Calls). Slack's documented
// limits are enforced and every breach is recorded in Violations.
package fakeslack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"time"
)

// Identifiers the fake uses for the bot itself.
const (
	BotUserID = "UBOT"
	BotID     = "BBOT"
	BotName   = "uxpin-access"
)

// Errors returned by the envelope senders.
var (
	// ErrNotConnected is returned when no Socket Mode client is connected.
	ErrNotConnected = errors.New("fakeslack: no socket mode client connected")
	// ErrNoAck is returned when the client did not acknowledge an envelope within AckTimeout.
	ErrNoAck = errors.New("fakeslack: envelope not acknowledged in time")
	// ErrClosed is returned when the server is closed while waiting.
	ErrClosed = errors.New("fakeslack: server closed")
)

// User is a workspace member known to the fake.
type User struct {
	ID, Name, RealName, Email string
	IsBot, Deleted            bool
	// TZ is the user's IANA time zone, sent as "tz" (with "tz_offset") by
	// users.info and users.list; empty sends none, as for a user Slack has
	// no zone for.
	TZ string
	// NotVisible makes users.info answer user_not_visible and leaves the
	// user out of users.list and users.lookupByEmail, as Slack does for a
	// user the bot's token cannot see (another workspace of an org, say).
	NotVisible bool
}

// Options configure a Server. The zero value is usable.
type Options struct {
	// AppToken and BotToken are the only accepted tokens. Requests with any
	// other token get invalid_auth; a known token of the wrong kind gets
	// not_allowed_token_type. Defaults: "xapp-1-A1-test" and "xoxb-test".
	AppToken, BotToken string
	// TeamID defaults to "T0001".
	TeamID string
	// AppID defaults to "A0001".
	AppID string
	// Command is the slash command name, default "/uxpin-access".
	Command string
	// SlashChannel is the channel slash commands are issued from, default
	// "C_GENERAL". It is registered as a known channel.
	SlashChannel string
	// AckTimeout is how long Send* waits for an ack, default 3s.
	AckTimeout time.Duration
	// PingInterval is how often WebSocket pings are sent, default 5s.
	// A negative value disables pings (to test the client's ping deadman).
	PingInterval time.Duration
	// TriggerTTL is how long a trigger_id stays valid, default 3s.
	TriggerTTL time.Duration
	// Scopes, when non-nil, are the bot token's OAuth scopes; methods that
	// need a missing scope fail with missing_scope. Nil disables the check.
	Scopes []string
	// Now is the clock used for trigger expiry and message timestamps,
	// default time.Now. Tests can inject a fake clock.
	Now func() time.Time
	// Logf, if set, receives a line per notable event.
	Logf func(format string, args ...any)
	// RateLimits, if set, makes Web API calls beyond Slack's rate limits
	// fail with HTTP 429 and Retry-After (see RateLimits). Nil, the
	// default, limits nothing.
	RateLimits *RateLimits
}

// Server is a fake Slack workspace. All methods are safe for concurrent use.
type Server struct {
	files fileStore // files shared with and uploaded by the bot; see files.go

	opts   Options
	hs     *httptest.Server
	apiURL string
	wsURL  string

	closedCh  chan struct{}
	closeOnce sync.Once
	wg        sync.WaitGroup // WebSocket handlers

	mu         sync.Mutex
	seq        uint64
	lastTS     int64
	users      map[string]*User
	groups     map[string][]string
	channels   map[string]bool
	dmByUser   map[string]string
	userByDM   map[string]string
	messages   []*Message
	dmMsgs     map[string][]*Message // IM counterpart user -> messages
	msgIndex   map[msgKey]*Message
	ephemerals map[string][]Ephemeral
	views      map[string]*viewRec
	userViews  map[string][]*viewRec
	homes      map[string]*viewRec
	triggers   genMap[*trigger]
	responses  map[string]*responseURL
	tickets    map[string]bool
	calls      map[string]int
	rejections map[string]int
	violations []string
	// violationLog is violations with their time and the user concerned.
	violationLog []Violation
	watch        watchState
	faults       map[string]*Fault
	conns        map[*sockConn]bool // value: active (receives new envelopes)
	connOrder    []*sockConn
	nextConn     int // round-robin position over active connections
	resent       int
	connects     int
	pending      map[string]*pending
	finished     genMap[struct{}]
	rawWait      map[string]*pending
	lateAcks     int
	limiter      *limiter // nil without Options.RateLimits
}

type msgKey struct{ channel, ts string }

// New starts a fake Slack server on 127.0.0.1 and returns it. Call Close when done.
func New(opts Options) *Server {
	if opts.AppToken == "" {
		opts.AppToken = "xapp-1-A1-test"
	}
	if opts.BotToken == "" {
		opts.BotToken = "xoxb-test"
	}
	if opts.TeamID == "" {
		opts.TeamID = "T0001"
	}
	if opts.AppID == "" {
		opts.AppID = "A0001"
	}
	if opts.Command == "" {
		opts.Command = "/uxpin-access"
	}
	if opts.SlashChannel == "" {
		opts.SlashChannel = "C_GENERAL"
	}
	if opts.AckTimeout <= 0 {
		opts.AckTimeout = 3 * time.Second
	}
	if opts.PingInterval == 0 {
		opts.PingInterval = 5 * time.Second
	}
	if opts.TriggerTTL <= 0 {
		opts.TriggerTTL = 3 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{
		opts:       opts,
		closedCh:   make(chan struct{}),
		users:      map[string]*User{},
		groups:     map[string][]string{},
		channels:   map[string]bool{opts.SlashChannel: true},
		dmByUser:   map[string]string{},
		userByDM:   map[string]string{},
		msgIndex:   map[msgKey]*Message{},
		dmMsgs:     map[string][]*Message{},
		ephemerals: map[string][]Ephemeral{},
		views:      map[string]*viewRec{},
		userViews:  map[string][]*viewRec{},
		homes:      map[string]*viewRec{},
		responses:  map[string]*responseURL{},
		tickets:    map[string]bool{},
		calls:      map[string]int{},
		rejections: map[string]int{},
		faults:     map[string]*Fault{},
		conns:      map[*sockConn]bool{},
		pending:    map[string]*pending{},
		rawWait:    map[string]*pending{},
	}
	if opts.RateLimits != nil {
		s.limiter = newLimiter(*opts.RateLimits, opts.Now)
	}
	s.users[BotUserID] = &User{ID: BotUserID, Name: BotName, RealName: BotName, IsBot: true}

	mux := http.NewServeMux()
	mux.HandleFunc("/api/", s.handleAPI)
	mux.HandleFunc("/link/", s.handleLink)
	mux.HandleFunc("/response/", s.handleResponseURL)
	mux.HandleFunc("/upload/", s.handleUpload)
	mux.HandleFunc("/files-pri/", s.handleFileDownload)

	hs := httptest.NewUnstartedServer(s.notifying(mux))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(fmt.Sprintf("fakeslack: listen on 127.0.0.1: %v", err))
	}
	_ = hs.Listener.Close()
	hs.Listener = l
	hs.Start()
	s.hs = hs
	s.apiURL = hs.URL + "/api/"
	s.wsURL = "ws" + strings.TrimPrefix(hs.URL, "http") + "/link/"
	return s
}

// Close drops all WebSocket connections, wakes all waiters and stops the HTTP server.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.closedCh)
		s.mu.Lock()
		conns := make([]*sockConn, 0, len(s.conns))
		for c := range s.conns {
			conns = append(conns, c)
		}
		s.mu.Unlock()
		for _, c := range conns {
			c.close()
		}
		s.hs.Close()
		s.wg.Wait()
	})
}

// APIURL returns the Web API base URL ending with "/", for slack.OptionAPIURL.
func (s *Server) APIURL() string { return s.apiURL }

// URL returns the server's base URL without a trailing slash.
func (s *Server) URL() string { return s.hs.URL }

// AddUser adds a workspace member. An existing user with the same ID is kept.
func (s *Server) AddUser(u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.users[u.ID]; !ok {
		uc := u
		s.users[u.ID] = &uc
	}
}

// SetUser adds or replaces a workspace member, for example to mark it deleted.
func (s *Server) SetUser(u User) {
	defer s.changed()
	s.mu.Lock()
	defer s.mu.Unlock()
	uc := u
	s.users[u.ID] = &uc
}

// User returns the member with the given ID.
func (s *Server) User(id string) (User, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[id]
	if !ok {
		return User{}, false
	}
	return *u, true
}

// SetGroup defines (or redefines) a user group and its members for usergroups.users.list.
func (s *Server) SetGroup(groupID string, members ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.groups[groupID] = slices.Clone(members)
}

// AddChannel registers a public or private channel ID (C… or G…) the bot may post to.
func (s *Server) AddChannel(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.channels[id] = true
}

// DMChannel returns the ID of the bot's IM channel with userID, if one was opened.
func (s *Server) DMChannel(userID string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.dmByUser[userID]
	return id, ok
}

// Calls returns how many Web API calls were made to method (e.g. "chat.postMessage"),
// including calls that failed or were answered by an injected fault.
// The pseudo-method "response_url" counts posts to response URLs.
func (s *Server) Calls(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[method]
}

// Rejections returns how many calls to method were rejected because they broke
// a Slack limit or rule (invalid_blocks, invalid_arguments, expired_trigger_id, …).
// An empty method returns the total over all methods.
func (s *Server) Rejections(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if method != "" {
		return s.rejections[method]
	}
	n := 0
	for _, v := range s.rejections {
		n += v
	}
	return n
}

// Violations returns a copy of every recorded breach of Slack's rules by the bot:
// invalid blocks or views, oversized or malformed acks, acks for unknown
// envelopes, invalid view_submission responses and misused response URLs.
func (s *Server) Violations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.violations)
}

// ResetViolations forgets all recorded violations.
func (s *Server) ResetViolations() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.violations = nil
	s.violationLog = nil
}

// Violation is a recorded breach of Slack's rules with its time and, where
// one is concerned, the user who would have seen the refused message,
// view or reply.
type Violation struct {
	Time time.Time
	User string // "" when no user in particular is concerned
	Text string
}

// ViolationLog returns every recorded violation with its time and user, in
// the order they happened. Violations returns the same texts.
func (s *Server) ViolationLog() []Violation {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.violationLog)
}

// LateAcks returns how many acks arrived after their envelope had timed out,
// or acknowledged an envelope a second time. Slack ignores these.
func (s *Server) LateAcks() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lateAcks
}

// WaitFor polls cond every 5ms until it returns true or ctx is done.
func (s *Server) WaitFor(ctx context.Context, cond func() bool) error {
	return WaitFor(ctx, cond)
}

// WaitFor polls cond every 5ms until it returns true or ctx is done.
func WaitFor(ctx context.Context, cond func() bool) error {
	if cond() {
		return nil
	}
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			if cond() {
				return nil
			}
			return fmt.Errorf("fakeslack: condition not met before deadline: %w", ctx.Err())
		case <-t.C:
			if cond() {
				return nil
			}
		}
	}
}

func (s *Server) logf(format string, args ...any) {
	if s.opts.Logf != nil {
		s.opts.Logf("fakeslack: "+format, args...)
	}
}

// violationLocked records a rule breach. s.mu must be held.
func (s *Server) violationLocked(format string, args ...any) {
	s.violationForLocked("", format, args...)
}

// violationForLocked records a rule breach in something user would have
// seen ("" when no one in particular). s.mu must be held.
func (s *Server) violationForLocked(user, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	s.violations = append(s.violations, msg)
	s.violationLog = append(s.violationLog, Violation{Time: s.opts.Now(), User: user, Text: msg})
	s.logf("VIOLATION %s", msg)
}

func (s *Server) violationFor(user, format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.violationForLocked(user, format, args...)
}

func (s *Server) violation(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.violationLocked(format, args...)
}

// rejectLocked counts a rejected call. s.mu must be held.
func (s *Server) rejectLocked(method string) {
	s.rejections[method]++
}

// nextIDLocked returns a fresh sequence number. s.mu must be held.
func (s *Server) nextIDLocked() uint64 {
	s.seq++
	return s.seq
}

// nextTSLocked returns a unique, increasing message timestamp derived from the clock.
func (s *Server) nextTSLocked() string {
	now := s.opts.Now().UnixMicro()
	if now <= s.lastTS {
		now = s.lastTS + 1
	}
	s.lastTS = now
	return formatTS(now)
}

func formatTS(micros int64) string {
	return fmt.Sprintf("%d.%06d", micros/1e6, micros%1e6)
}

// parseTS converts a Slack timestamp ("1700000000.000100") to microseconds.
func parseTS(ts string) (int64, bool) {
	if ts == "" {
		return 0, false
	}
	sec, frac, _ := strings.Cut(ts, ".")
	var secs, micros int64
	for _, c := range sec {
		if c < '0' || c > '9' {
			return 0, false
		}
		secs = secs*10 + int64(c-'0')
	}
	frac = (frac + "000000")[:6]
	for _, c := range frac {
		if c < '0' || c > '9' {
			return 0, false
		}
		micros = micros*10 + int64(c-'0')
	}
	return secs*1e6 + micros, true
}

// addMessageLocked stores a newly posted message. s.mu must be held.
func (s *Server) addMessageLocked(m *Message) {
	s.messages = append(s.messages, m)
	s.msgIndex[msgKey{m.Channel, m.TS}] = m
	if m.User != "" {
		s.dmMsgs[m.User] = append(s.dmMsgs[m.User], m)
	}
}

// genMapSize bounds each generation of a genMap.
const genMapSize = 100_000

// genMap is a string-keyed map that forgets its oldest entries once it grows
// past two generations of genMapSize, keeping long benchmarks bounded.
type genMap[V any] struct {
	cur, old map[string]V
}

func (g *genMap[V]) get(k string) (V, bool) {
	if v, ok := g.cur[k]; ok {
		return v, true
	}
	v, ok := g.old[k]
	return v, ok
}

func (g *genMap[V]) put(k string, v V) {
	if g.cur == nil {
		g.cur = map[string]V{}
	}
	if len(g.cur) >= genMapSize {
		g.old, g.cur = g.cur, map[string]V{}
	}
	g.cur[k] = v
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("fakeslack: marshal: %v", err))
	}
	return b
}
