// Package bot owns the Socket Mode connection: it acks every envelope at once,
// dispatches the work to a Handler, and reports whether Slack is connected.
package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"
)

// ErrAuth reports that Slack refused the bot's tokens; retrying cannot help.
var ErrAuth = errors.New("slack refused the token")

// ackTimeout bounds how long an ack may wait for the websocket writer; slack-go's
// Ack uses context.TODO and could block for ever during a reconnect.
const ackTimeout = 2 * time.Second

// ackFlushGrace is how long shutdown keeps the socket open after the last
// in-flight handler returned, for its ack to be written.
const ackFlushGrace = 300 * time.Millisecond

// Handler does the work behind envelopes. SlashCommand, BlockAction and Event
// run after the ack; ViewSubmission runs before it, because a modal's
// validation errors can only be returned in the ack.
type Handler interface {
	SlashCommand(ctx context.Context, cmd slack.SlashCommand)
	BlockAction(ctx context.Context, cb slack.InteractionCallback)
	ViewSubmission(ctx context.Context, cb slack.InteractionCallback) any
	ViewClosed(ctx context.Context, cb slack.InteractionCallback)
	Event(ctx context.Context, ev slackevents.EventsAPIEvent, retryAttempt int)
}

// Observer is told how envelope handling goes, for metrics.
type Observer interface {
	ObserveAck(kind string, d time.Duration)
	ObserveWork(kind string, d time.Duration)
	Reconnected()
	// Panicked counts a panic recovered while handling an envelope.
	Panicked(where string)
}

type nopObserver struct{}

func (nopObserver) ObserveAck(string, time.Duration)  {}
func (nopObserver) ObserveWork(string, time.Duration) {}
func (nopObserver) Reconnected()                      {}
func (nopObserver) Panicked(string)                   {}

// maxInWork bounds the envelopes being worked on at once. Past it the
// dispatcher waits for a slot before taking the next envelope (Slack holds
// and retries what is not acked), so a stalled dependency cannot pile up
// goroutines without end.
const maxInWork = 1000

// Bot runs Socket Mode connections and dispatches their envelopes. Slack
// spreads envelopes over all of an app's connections (up to 10), so with
// several a refresh or a drop of one leaves the others taking them; one
// dispatcher and one deduplication serve them all, so an envelope is
// handled once whichever connection brings it.
type Bot struct {
	api      *slack.Client
	sockOpts []socketmode.Option
	conns    []*conn
	handler  Handler
	log      *slog.Logger
	inflight sync.WaitGroup
	// workTimeout bounds one envelope's work, so a stuck Slack call cannot pin
	// a goroutine for ever.
	workTimeout time.Duration
	envelopes   *recentSet
	events      *recentSet
	obs         Observer
	// slots holds one token per envelope in work.
	slots chan struct{}
}

// conn is one Socket Mode connection.
type conn struct {
	n      int
	client *socketmode.Client
	up     atomic.Bool
	everUp bool // only the dispatcher touches it
}

// connEvent is an event and the connection it came on.
type connEvent struct {
	c   *conn
	evt socketmode.Event
}

// New returns a Bot that uses api (created with the app-level token) for
// one Socket Mode connection; SetConnections asks for more.
func New(api *slack.Client, h Handler, log *slog.Logger, opts ...socketmode.Option) *Bot {
	b := &Bot{
		api:         api,
		sockOpts:    opts,
		handler:     h,
		log:         log,
		workTimeout: 30 * time.Second,
		envelopes:   newRecentSet(10000),
		events:      newRecentSet(10000),
		obs:         nopObserver{},
		slots:       make(chan struct{}, maxInWork),
	}
	b.SetConnections(1)
	return b
}

// SetConnections makes the bot hold n Socket Mode connections (at least
// one). Call it before Run.
func (b *Bot) SetConnections(n int) {
	b.conns = nil
	for i := range max(1, n) {
		b.conns = append(b.conns, &conn{n: i + 1, client: socketmode.New(b.api, b.sockOpts...)})
	}
}

// Observe sends envelope timings and reconnections to o. Call it before Run.
func (b *Bot) Observe(o Observer) { b.obs = o }

// Connected reports whether at least one Socket Mode connection is up.
func (b *Bot) Connected() bool {
	for _, c := range b.conns {
		if c.up.Load() {
			return true
		}
	}
	return false
}

// ConnectionsUp returns how many Socket Mode connections are up.
func (b *Bot) ConnectionsUp() int {
	n := 0
	for _, c := range b.conns {
		if c.up.Load() {
			n++
		}
	}
	return n
}

// Run connects and dispatches envelopes until ctx is cancelled or Slack refuses
// the tokens (an error wrapping ErrAuth).
//
// On cancellation it stops taking envelopes (Slack redelivers events that
// are not acked), lets in-flight work finish and send its acks over the still
// open socket for up to drain, and only then disconnects.
func (b *Bot) Run(ctx context.Context, drain time.Duration) error {
	// The socket outlives ctx so that in-flight work can still ack.
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	// Work gets its own context so that shutdown lets in-flight handlers
	// finish instead of cutting their Slack calls and database writes short.
	workCtx, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()

	errc := make(chan error, len(b.conns))
	events := make(chan connEvent)
	for _, c := range b.conns {
		go func() { errc <- c.client.RunContext(runCtx) }()
		go func() {
			for {
				select {
				case <-runCtx.Done():
					return
				case evt := <-c.client.Events:
					select {
					case events <- connEvent{c, evt}:
					case <-runCtx.Done():
						return
					}
				}
			}
		}()
	}

	var runErr error
	stopping := ctx.Done()
	var drained chan struct{}
	var deadline <-chan time.Time
loop:
	for {
		select {
		case <-stopping:
			stopping = nil
			drained = make(chan struct{})
			go func() { b.inflight.Wait(); close(drained) }()
			deadline = time.After(drain)
			b.log.Info("shutdown: no longer taking envelopes; finishing in-flight work", "drain", drain)
		case <-drained:
			break loop
		case <-deadline:
			b.log.Warn("shutdown: in-flight work did not finish in time", "drain", drain)
			cancelWork()
			<-drained
			break loop
		case err := <-errc:
			runErr = err
			break loop
		case ce := <-events:
			evt := ce.evt
			if drained != nil {
				if evt.Request != nil && evt.Request.EnvelopeID != "" {
					b.log.Info("shutdown: envelope left unacked for Slack to redeliver", "envelope_id", evt.Request.EnvelopeID, "type", evt.Type)
				}
				continue
			}
			if err := b.dispatch(workCtx, ce.c, evt); err != nil {
				runErr = err
				break loop
			}
		}
	}
	if drained != nil {
		// slack-go queues acks for a writer goroutine and offers no flush;
		// give the last acks a moment to reach the socket before closing it.
		time.Sleep(ackFlushGrace)
	}
	for _, c := range b.conns {
		c.up.Store(false)
	}
	cancel()
	if drained == nil {
		// Ended by an error, not by ctx: still let started work finish.
		done := make(chan struct{})
		go func() { b.inflight.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(drain):
			cancelWork()
			<-done
		}
	}
	if runErr != nil && !errors.Is(runErr, context.Canceled) {
		if isAuthError(runErr) {
			return fmt.Errorf("%w: %v", ErrAuth, runErr)
		}
		return fmt.Errorf("socket mode: %w", runErr)
	}
	return nil
}

func isAuthError(err error) bool {
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		switch se.Err {
		case "invalid_auth", "not_authed", "account_inactive", "token_revoked", "not_allowed_token_type":
			return true
		}
	}
	var sc slack.StatusCodeError
	return errors.As(err, &sc) && sc.Code == 404
}

// dispatch acks evt's envelope and starts its work. It returns an error only
// for conditions that must end the program.
func (b *Bot) dispatch(ctx context.Context, c *conn, evt socketmode.Event) error {
	switch evt.Type {
	case socketmode.EventTypeConnecting:
		c.up.Store(false)
		b.log.Debug("socket mode: connecting", "connection", c.n)
	case socketmode.EventTypeConnected:
		c.up.Store(true)
		if c.everUp {
			b.obs.Reconnected()
		}
		c.everUp = true
		b.log.Info("socket mode: connected", "connection", c.n, "up", b.ConnectionsUp(), "of", len(b.conns))
	case socketmode.EventTypeConnectionError:
		c.up.Store(false)
		b.log.Warn("socket mode: connection error, slack-go will retry", "connection", c.n, "err", evt.Data)
	case socketmode.EventTypeInvalidAuth:
		return fmt.Errorf("%w: invalid_auth while connecting", ErrAuth)
	case socketmode.EventTypeHello, socketmode.EventTypeDisconnect:
	case socketmode.EventTypeIncomingError, socketmode.EventTypeErrorWriteFailed:
		b.log.Warn("socket mode: websocket error", "type", evt.Type, "err", evt.Data)
	case socketmode.EventTypeErrorBadMessage:
		b.ackBadMessage(c, evt)
	}
	if evt.Request == nil || evt.Request.EnvelopeID == "" {
		return nil
	}
	if b.envelopes.seen(evt.Request.EnvelopeID) {
		// Acked again so Slack stops resending; the work was done once.
		b.ack(c, evt.Request, nil)
		b.log.Info("duplicate envelope ignored", "envelope_id", evt.Request.EnvelopeID, "type", evt.Type)
		return nil
	}
	start := time.Now()
	kind := string(evt.Type)
	ack := func(payload any) {
		b.ack(c, evt.Request, payload)
		b.obs.ObserveAck(kind, time.Since(start))
	}
	switch evt.Type {
	case socketmode.EventTypeSlashCommand:
		cmd, ok := evt.Data.(slack.SlashCommand)
		ack(nil)
		if !ok {
			return nil
		}
		b.work(ctx, evt, func(ctx context.Context) { b.handler.SlashCommand(ctx, cmd) })
	case socketmode.EventTypeInteractive:
		cb, ok := evt.Data.(slack.InteractionCallback)
		if !ok {
			ack(nil)
			return nil
		}
		b.interactive(ctx, c, evt, cb, start)
	case socketmode.EventTypeEventsAPI:
		ev, ok := evt.Data.(slackevents.EventsAPIEvent)
		ack(nil)
		if !ok {
			return nil
		}
		if cb, ok := ev.Data.(*slackevents.EventsAPICallbackEvent); ok && b.events.seen(cb.EventID) {
			b.log.Info("retried event ignored", "event_id", cb.EventID, "retry_attempt", evt.Request.RetryAttempt, "retry_reason", evt.Request.RetryReason)
			return nil
		}
		b.work(ctx, evt, func(ctx context.Context) { b.handler.Event(ctx, ev, evt.Request.RetryAttempt) })
	default:
		ack(nil)
		b.log.Warn("socket mode: unknown event type ignored", "type", evt.Type)
	}
	return nil
}

func (b *Bot) interactive(ctx context.Context, c *conn, evt socketmode.Event, cb slack.InteractionCallback, start time.Time) {
	kind := string(evt.Type) + "/" + string(cb.Type)
	ack := func(payload any) {
		b.ack(c, evt.Request, payload)
		b.obs.ObserveAck(kind, time.Since(start))
	}
	switch cb.Type {
	case slack.InteractionTypeViewSubmission:
		// Validation must answer in the ack, within Slack's 3 s: run it now,
		// under a deadline that leaves room for the ack itself.
		b.slots <- struct{}{}
		b.inflight.Add(1)
		go func() {
			defer func() { <-b.slots }()
			defer b.inflight.Done()
			vctx, cancel := context.WithTimeout(ctx, 2500*time.Millisecond)
			defer cancel()
			resp := b.safeSubmission(vctx, cb)
			ack(resp)
			b.obs.ObserveWork(kind, time.Since(start))
			b.log.Debug("envelope handled", "type", "view_submission", "callback_id", cb.View.CallbackID, "took", time.Since(start))
		}()
	case slack.InteractionTypeBlockActions:
		ack(nil)
		b.work(ctx, evt, func(ctx context.Context) { b.handler.BlockAction(ctx, cb) })
	case slack.InteractionTypeViewClosed:
		ack(nil)
		b.work(ctx, evt, func(ctx context.Context) { b.handler.ViewClosed(ctx, cb) })
	default:
		ack(nil)
		b.log.Info("interaction type ignored", "type", cb.Type)
	}
}

func (b *Bot) safeSubmission(ctx context.Context, cb slack.InteractionCallback) (resp any) {
	defer func() {
		if p := recover(); p != nil {
			b.log.Error("panic in view submission handler", "panic", fmt.Sprint(p), "callback_id", cb.View.CallbackID)
			b.obs.Panicked("view_submission")
			resp = nil
		}
	}()
	return b.handler.ViewSubmission(ctx, cb)
}

// work runs f after the ack, in its own goroutine, guarded against panics so
// one hostile payload cannot take the process down.
func (b *Bot) work(ctx context.Context, evt socketmode.Event, f func(context.Context)) {
	start := time.Now()
	b.slots <- struct{}{}
	b.inflight.Add(1)
	go func() {
		defer func() { <-b.slots }()
		defer b.inflight.Done()
		defer func() { b.obs.ObserveWork(string(evt.Type), time.Since(start)) }()
		defer func() {
			if p := recover(); p != nil {
				b.log.Error("panic while handling envelope", "type", evt.Type, "envelope_id", evt.Request.EnvelopeID, "panic", fmt.Sprint(p))
				b.obs.Panicked("envelope")
			}
		}()
		wctx, cancel := context.WithTimeout(ctx, b.workTimeout)
		defer cancel()
		f(wctx)
	}()
}

// ack acks an envelope on the connection that brought it.
func (b *Bot) ack(c *conn, req *socketmode.Request, payload any) {
	if req == nil || req.EnvelopeID == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), ackTimeout)
	defer cancel()
	if err := c.client.AckCtx(ctx, req.EnvelopeID, payload); err != nil {
		b.log.Warn("socket mode: ack failed", "envelope_id", req.EnvelopeID, "err", err)
	}
}

// ackBadMessage acks an envelope slack-go could not parse: it carries no
// Request, and an unacked envelope would be redelivered by Slack.
func (b *Bot) ackBadMessage(c *conn, evt socketmode.Event) {
	bad, ok := evt.Data.(*socketmode.ErrorBadMessage)
	if !ok {
		return
	}
	var env struct {
		EnvelopeID string `json:"envelope_id"`
		Type       string `json:"type"`
	}
	_ = json.Unmarshal(bad.Message, &env)
	b.log.Warn("socket mode: malformed envelope ignored", "type", env.Type, "envelope_id", env.EnvelopeID, "err", bad.Cause)
	if env.EnvelopeID != "" {
		b.ack(c, &socketmode.Request{EnvelopeID: env.EnvelopeID}, nil)
	}
}
