package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/uxpin-access-bot/uxpin-access-bot/access"
	"github.com/uxpin-access-bot/uxpin-access-bot/bot"
	"github.com/uxpin-access-bot/uxpin-access-bot/delivery"
	"github.com/uxpin-access-bot/uxpin-access-bot/handlers"
	"github.com/uxpin-access-bot/uxpin-access-bot/internal/fakeslack"
	"github.com/uxpin-access-bot/uxpin-access-bot/ops"
	"github.com/uxpin-access-bot/uxpin-access-bot/storage"
)

// Made-up tokens: the fake Slack accepts exactly these.
const (
	benchAppToken = "xapp-1-A0BENCH-0000-bench-app-token"
	benchBotToken = "xoxb-0000-bench-bot-token"
	auditChannel  = "C0BENCHAUDIT"
	emailDomain   = "bench.example.com"
)

// drainTimeout bounds how long a stopping bot waits for in-flight work.
const drainTimeout = 10 * time.Second

// newFake starts a fake Slack for the bench. Its ack and trigger deadlines
// are longer than Slack's 3 s so that an overloaded run reports slow acks in
// its numbers instead of failing half-way; the table flags acks over 3 s.
func newFake(limits *fakeslack.RateLimits) *fakeslack.Server {
	f := fakeslack.New(fakeslack.Options{
		AppToken: benchAppToken, BotToken: benchBotToken,
		AckTimeout: 15 * time.Second, TriggerTTL: 15 * time.Second,
		RateLimits: limits,
	})
	f.AddChannel(auditChannel)
	return f
}

// addUsers creates people in the fake: ID, a name and an email in emailDomain.
func addUsers(f *fakeslack.Server, ids ...string) {
	for _, id := range ids {
		name := strings.ToLower(id)
		f.AddUser(fakeslack.User{ID: id, Name: name, RealName: "Bench " + id, Email: name + "@" + emailDomain})
	}
}

// person is what the bot's directory would answer for a user made by addUsers.
func person(id string) access.Person {
	name := strings.ToLower(id)
	return access.Person{ID: id, Email: name + "@" + emailDomain, Name: "Bench " + id}
}

// stackConfig is the part of the bot's configuration a phase chooses.
type stackConfig struct {
	DBPath    string
	Approvers []string
	Admins    []string
	Delivery  delivery.Options
	Log       *slog.Logger
	// Connections is how many Socket Mode connections the bot holds;
	// zero means one.
	Connections int
	// APIURL is the fake Slack's Web API URL when the fake runs in another
	// process (openStack's f is nil then).
	APIURL string
}

// stack is the whole bot wired as cmd/uxpin-access-bot's Main.Open wires it
// (keep the two in step), minus the operations listener and the daily leaver
// sweep, which would only add noise.
type stack struct {
	fake    *fakeslack.Server
	watch   *watcher
	DB      *storage.DB
	API     *slack.Client
	Metrics *ops.Metrics
	Service *access.Service
	Handler *handlers.Handler
	Bot     *bot.Bot
	Worker  *delivery.Worker
	acks    *ackRecorder
	conns   []struct{} // one per Socket Mode connection asked for

	cancel  context.CancelFunc
	wg      sync.WaitGroup
	botDone chan error
}

// openStack opens the database and builds every part, like Main.Open.
func openStack(f *fakeslack.Server, c stackConfig) (*stack, error) {
	db, err := storage.Open(c.DBPath, storage.Options{LockTimeout: time.Second})
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", c.DBPath, err)
	}
	s := &stack{fake: f, DB: db, conns: make([]struct{}, max(1, c.Connections))}
	s.Metrics = ops.NewMetrics(db, nil)
	base := http.DefaultTransport.(*http.Transport).Clone()
	base.MaxIdleConnsPerHost = 64 // as the bot's wiring does
	s.watch = newWatcher(s.Metrics.Transport(bot.SlimAnswers(base)), f)
	var transport http.RoundTripper = s.watch
	if f == nil {
		// The fake and the simulated users are in another process: nobody
		// waits on the watcher, so keep its cost out of the bot's.
		transport = s.Metrics.Transport(bot.SlimAnswers(base))
	}
	hc := &http.Client{Transport: transport, Timeout: 30 * time.Second}
	apiURL := c.APIURL
	if f != nil {
		apiURL = f.APIURL()
	}
	s.API = slack.New(benchBotToken, slack.OptionAppLevelToken(benchAppToken), slack.OptionAPIURL(apiURL), slack.OptionHTTPClient(hc))
	dir := bot.NewDirectory(s.API, c.Approvers, nil, 5*time.Minute)
	s.Service = access.NewService(db, dir, access.Policy{
		Admins:           c.Admins,
		AuditChannel:     auditChannel,
		ReminderInterval: 24 * time.Hour,
		EscalateAfter:    48 * time.Hour,
	}, nil)
	s.Handler = handlers.New(s.Service, s.API, dir, c.Log, handlers.Options{
		ResponseHosts: handlers.ResponseHostsFor(apiURL),
		Homes:         db,
		AuditAPI:      s.API,
		Workspace:     dir,
		Drafts:        db,
	})
	s.Bot = bot.New(s.API, s.Handler, c.Log)
	s.Bot.SetConnections(c.Connections)
	s.acks = &ackRecorder{Metrics: s.Metrics}
	s.Bot.Observe(s.acks)
	opts := c.Delivery
	opts.Home = s.Handler
	opts.Observer = s.Metrics
	s.Worker = delivery.New(db, s.API, s.Handler.Render, c.Log, opts)
	return s, nil
}

// start checks the token, then runs the outbox worker, the scheduler and
// Socket Mode, like Main.Run. It returns at once; Connected tells when the
// bot is up.
func (s *stack) start() error {
	actx, cancelAuth := context.WithTimeout(context.Background(), 15*time.Second)
	_, err := s.API.AuthTestContext(actx)
	cancelAuth()
	if err != nil {
		return fmt.Errorf("auth.test: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.botDone = make(chan error, 1)
	wctx, stopWorker := context.WithCancel(context.Background())
	s.wg.Go(func() { _ = s.Worker.Run(wctx) })
	s.wg.Go(func() { s.Service.RunScheduler(wctx, time.Second, func(error) {}) })
	go func() {
		err := s.Bot.Run(ctx, drainTimeout)
		s.Handler.Wait()
		stopWorker()
		s.botDone <- err
	}()
	return nil
}

// waitReady waits until the bot's Socket Mode connection is up.
func (s *stack) waitReady(ctx context.Context) error {
	want := max(1, len(s.conns))
	if err := fakeslack.WaitFor(ctx, func() bool { return s.Bot.ConnectionsUp() == want && s.fake.ActiveConnections() == want }); err != nil {
		return fmt.Errorf("the bot did not connect: %w", err)
	}
	return nil
}

// stop shuts the bot down as SIGTERM would and closes the database.
func (s *stack) stop() error {
	var err error
	if s.cancel != nil {
		s.cancel()
		select {
		case err = <-s.botDone:
		case <-time.After(2 * drainTimeout):
			err = errors.New("the bot did not stop")
		}
		s.wg.Wait()
	}
	if cerr := s.DB.Close(); err == nil {
		err = cerr
	}
	return err
}

// waitOutboxEmpty waits until every queued message has been delivered.
func (s *stack) waitOutboxEmpty(ctx context.Context) error {
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		n, err := s.DB.OutboxDepth(ctx)
		if err == nil && n == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("outbox still holds %d messages: %w", n, ctx.Err())
		case <-tick.C:
		}
	}
}

// ackRecorder passes the bot's envelope timings on to its metrics and, while
// recording, keeps the receipt-to-ack times of envelopes acked at once.
type ackRecorder struct {
	*ops.Metrics
	mu        sync.Mutex
	recording bool
	acks      latencies
}

func (a *ackRecorder) ObserveAck(kind string, d time.Duration) {
	a.Metrics.ObserveAck(kind, d)
	if strings.HasSuffix(kind, "view_submission") {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.recording {
		a.acks.add(d)
	}
}

func (a *ackRecorder) record(on bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.recording = on
}

func (a *ackRecorder) recorded() latencies {
	a.mu.Lock()
	defer a.mu.Unlock()
	return latencies{d: slices.Clone(a.acks.d)}
}

// posted is a message the bot posted, as the watcher saw it.
type posted struct {
	Channel, TS string
	To          string // the channel argument: a user ID for a DM
}

// watcher wraps the bot's HTTP transport to see, without polling, what the
// bot posted for which request (from the request_id in each message's
// metadata) and which modals it opened for whom. The bench's simulated users
// wait on it for their next message, as a person waits for a notification.
type watcher struct {
	base http.RoundTripper
	fake *fakeslack.Server

	mu    sync.Mutex
	byKey map[string]*watchEntry
}

type watchEntry struct {
	posts []posted
	views []string
	ch    chan struct{} // closed and replaced on every addition
}

func newWatcher(base http.RoundTripper, f *fakeslack.Server) *watcher {
	return &watcher{base: base, fake: f, byKey: map[string]*watchEntry{}}
}

func (w *watcher) entryLocked(key string) *watchEntry {
	e := w.byKey[key]
	if e == nil {
		e = &watchEntry{ch: make(chan struct{})}
		w.byKey[key] = e
	}
	return e
}

func (w *watcher) add(key string, fn func(e *watchEntry)) {
	w.mu.Lock()
	defer w.mu.Unlock()
	e := w.entryLocked(key)
	fn(e)
	close(e.ch)
	e.ch = make(chan struct{})
}

// forget drops what was seen for key, to keep long runs small.
func (w *watcher) forget(key string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.byKey, key)
}

func (w *watcher) RoundTrip(req *http.Request) (*http.Response, error) {
	method := req.URL.Path[strings.LastIndexByte(req.URL.Path, '/')+1:]
	if method != "chat.postMessage" && method != "views.open" {
		return w.base.RoundTrip(req)
	}
	var reqID, to string
	if method == "chat.postMessage" && req.Body != nil {
		body, err := io.ReadAll(req.Body)
		_ = req.Body.Close()
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		if form, err := url.ParseQuery(string(body)); err == nil {
			to = form.Get("channel")
			var md struct {
				EventPayload struct {
					RequestID string `json:"request_id"`
				} `json:"event_payload"`
			}
			if json.Unmarshal([]byte(form.Get("metadata")), &md) == nil {
				reqID = md.EventPayload.RequestID
			}
		}
	}
	resp, err := w.base.RoundTrip(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	body, rerr := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if rerr != nil {
		return resp, nil
	}
	var ans struct {
		OK      bool   `json:"ok"`
		Channel string `json:"channel"`
		TS      string `json:"ts"`
		View    struct {
			ID string `json:"id"`
		} `json:"view"`
	}
	if json.Unmarshal(body, &ans) != nil || !ans.OK {
		return resp, nil
	}
	switch {
	case method == "chat.postMessage" && reqID != "":
		w.add("req:"+reqID, func(e *watchEntry) { e.posts = append(e.posts, posted{ans.Channel, ans.TS, to}) })
	case method == "views.open" && ans.View.ID != "":
		if w.fake == nil {
			break
		}
		if v, ok := w.fake.View(ans.View.ID); ok {
			w.add("views:"+v.User, func(e *watchEntry) { e.views = append(e.views, v.ID) })
		}
	}
	return resp, nil
}

// wait blocks until cond holds for key's entry or ctx ends.
func (w *watcher) wait(ctx context.Context, key string, cond func(e *watchEntry) bool) error {
	for {
		w.mu.Lock()
		e := w.entryLocked(key)
		ok := cond(e)
		ch := e.ch
		w.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ch:
		}
	}
}

// waitView waits until user has had n modals opened and returns the n-th.
func (w *watcher) waitView(ctx context.Context, user string, n int) (fakeslack.View, error) {
	var id string
	err := w.wait(ctx, "views:"+user, func(e *watchEntry) bool {
		if len(e.views) >= n {
			id = e.views[n-1]
			return true
		}
		return false
	})
	if err != nil {
		return fakeslack.View{}, fmt.Errorf("no modal #%d for %s: %w", n, user, err)
	}
	v, ok := w.fake.View(id)
	if !ok {
		return v, fmt.Errorf("modal %s vanished", id)
	}
	return v, nil
}

// waitDM waits for a message about request id in the DM of one of users and
// returns it with the user it went to.
func (w *watcher) waitDM(ctx context.Context, id string, users ...string) (fakeslack.Message, string, error) {
	var found posted
	var to string
	// Compared with the post's channel argument (the bot posts DMs to the
	// user ID), so the wait never takes the fake's lock under the watcher's.
	err := w.wait(ctx, "req:"+id, func(e *watchEntry) bool {
		for _, u := range users {
			for _, p := range e.posts {
				if p.To == u {
					found, to = p, u
					return true
				}
			}
		}
		return false
	})
	if err != nil {
		return fakeslack.Message{}, "", fmt.Errorf("no message about %s to %v: %w", id, users, err)
	}
	m, ok := w.fake.Message(found.Channel, found.TS)
	if !ok {
		return m, "", fmt.Errorf("message %s/%s vanished", found.Channel, found.TS)
	}
	return m, to, nil
}

// metadataRequest returns the request ID and notice ID in a message's metadata.
func metadataRequest(m fakeslack.Message) (requestID, noticeID string) {
	var md struct {
		EventType    string         `json:"event_type"`
		EventPayload map[string]any `json:"event_payload"`
	}
	if json.Unmarshal(m.Metadata, &md) != nil || md.EventType != delivery.MetadataEventType {
		return "", ""
	}
	r, _ := md.EventPayload["request_id"].(string)
	n := fmt.Sprint(md.EventPayload["notice_id"])
	return r, n
}
