// Package delivery turns the outbox into Slack messages. A worker delivers
// each stored notice, retries what can succeed later, honours Slack's
// Retry-After, and tags every post with its notice ID in message metadata so
// that a post whose confirmation was lost in a crash is found in the
// channel's history instead of being posted twice.
//
// The package is split by job: lanes.go decides what goes out when (lanes
// and priorities), post.go posts without duplicates, update.go rewrites
// messages already posted and Home tabs, ims.go knows the DM channels,
// errors.go classifies Slack's errors and pace.go keeps to Slack's rates.
package delivery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime/debug"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/uxpin-access-bot/uxpin-access-bot/access"
)

// MetadataEventType marks the bot's messages in Slack message metadata.
const MetadataEventType = "uxpin_access_notice"

// Store is the outbox as the worker needs it.
type Store interface {
	// DueNoticesExcept returns up to limit notices due at now, passing
	// over (without reading) those skip reports.
	DueNoticesExcept(ctx context.Context, now time.Time, limit int, skip func(id uint64) bool) ([]access.Notice, error)
	NextDue(ctx context.Context) (time.Time, bool, error)
	// MarkSentMany writes delivered notices off the outbox: ids[i] with
	// the message it became, refs[i] (nil for updates).
	MarkSentMany(ctx context.Context, ids []uint64, refs []*access.MessageRef) error
	Reschedule(ctx context.Context, id uint64, attempts int, next time.Time, lastErr string) error
	Abandon(ctx context.Context, id uint64, reason string) error
	MessageRefs(ctx context.Context, requestID string, kind access.NoticeKind) ([]access.MessageRef, error)
	Request(ctx context.Context, id string) (*access.Request, error)
	// IMChannel returns the app's DM channel with a user, learnt from
	// earlier deliveries, or "".
	IMChannel(ctx context.Context, user string) (string, error)
	Wake() <-chan struct{}
}

// SlackAPI is the part of the Web API the worker calls.
type SlackAPI interface {
	OpenConversationContext(ctx context.Context, params *slack.OpenConversationParameters) (*slack.Channel, bool, bool, error)
	PostMessageContext(ctx context.Context, channelID string, options ...slack.MsgOption) (string, string, error)
	UpdateMessageContext(ctx context.Context, channelID, timestamp string, options ...slack.MsgOption) (string, string, string, error)
	GetConversationHistoryContext(ctx context.Context, params *slack.GetConversationHistoryParameters) (*slack.GetConversationHistoryResponse, error)
	GetConversationRepliesContext(ctx context.Context, params *slack.GetConversationRepliesParameters) ([]slack.Message, bool, string, error)
}

// Renderer builds the message a notice becomes from the request as stored
// now. An error (the seat budget could not be read, say) makes the worker
// try the notice again later.
type Renderer func(ctx context.Context, n access.Notice, r *access.Request) (text string, blocks []slack.Block, err error)

// HomeRefresher republishes a user's App Home tab.
type HomeRefresher interface {
	RefreshHome(ctx context.Context, user string) error
}

// Options tune a Worker.
type Options struct {
	Now          func() time.Time
	BaseBackoff  time.Duration // first retry delay; default 1 s
	MaxBackoff   time.Duration // cap; default 5 min
	PollInterval time.Duration // safety poll when nothing wakes the worker; default 5 s
	CallTimeout  time.Duration // one Slack call; default 15 s
	// Home refreshes App Home tabs for NoticeHome; nil drops those notices.
	Home HomeRefresher
	// Observer counts failed deliveries; nil counts nothing.
	Observer Observer
	// Limits are the Slack rates to pace to; zero fields take Slack's.
	Limits Limits
	// Lanes is how many conversations are delivered to at once; each
	// conversation's notices go out in order. Zero means 128.
	Lanes int
}

// Observer is told about failed deliveries, for metrics.
type Observer interface {
	DeliveryFailed(code string, permanent bool)
	// Panicked counts a panic recovered while delivering a notice.
	Panicked(where string)
}

// maxPanics is how many times a notice may panic before it is set aside:
// a notice that always panics must not be retried for ever (it would be
// retried first at every start).
const maxPanics = 3

// ErrPanic marks a delivery attempt that panicked.
var ErrPanic = errors.New("panic while delivering")

// Worker delivers the outbox.
type Worker struct {
	store  Store
	api    SlackAPI
	render Renderer
	log    *slog.Logger
	opts   Options

	started time.Time
	pacer   *pacer
	ims     *imCache

	mu sync.Mutex
	// uncertain holds notices whose post may have reached Slack without us
	// learning the ts (a timeout, say); they are looked up before a re-post.
	uncertain map[uint64]bool
	// history caches, per channel, the notice IDs found in its history
	// after this process started; enough for notices from before the
	// start, whose posts (if any) all came earlier.
	history map[string]map[string]string
	// panics counts, per notice, the attempts that panicked.
	panics map[uint64]int
	marks  marks
}

// New returns a Worker.
func New(store Store, api SlackAPI, render Renderer, log *slog.Logger, opts Options) *Worker {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.BaseBackoff <= 0 {
		opts.BaseBackoff = time.Second
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 5 * time.Minute
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = 5 * time.Second
	}
	if opts.CallTimeout <= 0 {
		opts.CallTimeout = 15 * time.Second
	}
	if opts.Lanes <= 0 {
		opts.Lanes = 128
	}
	w := &Worker{store: store, api: api, render: render, log: log, opts: opts,
		pacer:     newPacer(opts.Limits, opts.Now),
		uncertain: map[uint64]bool{}, history: map[string]map[string]string{}, panics: map[uint64]int{}, marks: marks{pending: map[uint64]*access.MessageRef{}}}
	w.ims = &imCache{store: store, api: api, pacer: w.pacer, call: w.call, ims: map[string]string{}}
	return w
}

// call bounds one Slack call.
func (w *Worker) call(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, w.opts.CallTimeout)
}

// Run delivers notices until ctx is cancelled. Its first pass tries every
// queued notice at once, whatever backoff an earlier process had set: a
// restart is often what fixed the cause, and the messages are overdue.
func (w *Worker) Run(ctx context.Context) error {
	w.started = w.opts.Now()
	var flusher sync.WaitGroup
	flusher.Go(func() { w.flushEvery(ctx) })
	defer flusher.Wait()
	w.drain(ctx, time.Unix(1<<40, 0))
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-w.store.Wake():
		case <-timer.C:
		}
		w.Drain(ctx)
		wait := w.opts.PollInterval
		if next, ok, err := w.store.NextDue(ctx); err == nil && ok {
			if d := next.Sub(w.opts.Now()); d < wait {
				wait = max(d, 10*time.Millisecond)
			}
		}
		timer.Reset(wait)
	}
}

// Drain delivers every notice that is due now, once each, and writes them
// off the outbox before it returns.
func (w *Worker) Drain(ctx context.Context) {
	w.drain(ctx, time.Time{})
	w.flushMarks(context.WithoutCancel(ctx))
}

// deliver sends one notice that posts or updates messages.
func (w *Worker) deliver(ctx context.Context, n access.Notice) {
	r, err := w.store.Request(ctx, n.RequestID)
	if err != nil {
		if access.ErrorCode(err) == access.ENOTFOUND {
			w.abandon(ctx, n, "request not found")
			return
		}
		w.retry(ctx, n, err)
		return
	}
	if n.Kind.IsUpdate() {
		err = w.updateAll(ctx, n, r, n.Kind.UpdatedKind())
	} else {
		err = w.post(ctx, n, r)
	}
	w.settle(ctx, n, err)
}

// settle files the outcome of a failed attempt: set aside if permanent,
// else retried later.
func (w *Worker) settle(ctx context.Context, n access.Notice, err error) {
	if err == nil {
		return
	}
	if f := Classify(err); f.Permanent {
		w.abandon(ctx, n, f.Code)
		return
	}
	w.retry(ctx, n, err)
}

func (w *Worker) retry(ctx context.Context, n access.Notice, err error) {
	f := Classify(err)
	if w.opts.Observer != nil {
		w.opts.Observer.DeliveryFailed(f.Metric, false)
	}
	attempts := n.Attempts + 1
	delay := w.backoff(attempts)
	if f.RetryAfter > 0 {
		delay = f.RetryAfter
	}
	next := w.opts.Now().Add(delay)
	w.log.Warn("outbox: delivery failed; will retry", "notice", n.ID, "kind", n.Kind, "request", n.RequestID, "attempt", attempts, "retry_in", delay, "err", f.Code)
	if rerr := w.store.Reschedule(ctx, n.ID, attempts, next, f.Code); rerr != nil {
		w.log.Error("outbox: reschedule failed", "notice", n.ID, "err", rerr)
	}
}

func (w *Worker) abandon(ctx context.Context, n access.Notice, reason string) {
	if w.opts.Observer != nil {
		w.opts.Observer.DeliveryFailed(reason, true)
	}
	w.log.Error("outbox: message can't be delivered; giving up", "notice", n.ID, "kind", n.Kind, "request", n.RequestID, "to", n.To, "reason", reason)
	if err := w.store.Abandon(ctx, n.ID, reason); err != nil {
		w.log.Error("outbox: abandon failed", "notice", n.ID, "err", err)
	}
}

// guard runs f, which delivers ns, and recovers a panic in it: the notices
// are retried later, and set aside (with an audit event) once one has
// panicked maxPanics times.
func (w *Worker) guard(ctx context.Context, ns []access.Notice, f func()) {
	defer func() {
		p := recover()
		if p == nil {
			return
		}
		stack := string(debug.Stack())
		for _, n := range ns {
			if w.opts.Observer != nil {
				w.opts.Observer.Panicked("notice")
			}
			w.mu.Lock()
			w.panics[n.ID]++
			count := w.panics[n.ID]
			if count >= maxPanics {
				delete(w.panics, n.ID)
			}
			w.mu.Unlock()
			w.log.Error("outbox: panic while delivering", "notice", n.ID, "kind", n.Kind, "request", n.RequestID, "attempt", count, "panic", fmt.Sprint(p), "stack", stack)
			if count >= maxPanics {
				w.abandon(ctx, n, fmt.Sprintf("panicked %d times while delivering", count))
				continue
			}
			w.retry(ctx, n, fmt.Errorf("%w: %v", ErrPanic, p))
		}
	}()
	f()
}

// backoff is exponential with ±20 % jitter, capped.
func (w *Worker) backoff(attempt int) time.Duration {
	d := w.opts.BaseBackoff
	for i := 1; i < attempt && d < w.opts.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, w.opts.MaxBackoff)
	jitter := 0.8 + 0.4*rand.Float64()
	return time.Duration(float64(d) * jitter)
}
