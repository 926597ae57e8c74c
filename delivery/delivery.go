// Package delivery turns the outbox into Slack messages. A single worker
// delivers each stored notice, retries what can succeed later, honours
// Slack's Retry-After, and tags every post with its notice ID in message
// metadata so that a post whose confirmation was lost in a crash is found in
// the channel's history instead of being posted twice.
package delivery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
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
	MarkSent(ctx context.Context, id uint64, ref *access.MessageRef) error
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

// Renderer builds the message a notice becomes from the request as stored now.
type Renderer func(n access.Notice, r *access.Request) (text string, blocks []slack.Block)

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
	// Lanes is how many requests' notices are delivered at once; each
	// request's notices go out in order. Zero means 32.
	Lanes int
}

// Observer is told about failed deliveries, for metrics.
type Observer interface {
	DeliveryFailed(code string, permanent bool)
}

// Worker delivers the outbox.
type Worker struct {
	store  Store
	api    SlackAPI
	render Renderer
	log    *slog.Logger
	opts   Options

	started time.Time
	pacer   *pacer
	mu      sync.Mutex
	ims     map[string]string // user ID → IM channel ID
	// uncertain holds notices whose post may have reached Slack without us
	// learning the ts (a timeout, say); they are looked up before a re-post.
	uncertain map[uint64]bool
	// history caches, per channel, the notice IDs found in its history
	// after this process started; enough for notices from before the
	// start, whose posts (if any) all came earlier.
	history map[string]map[string]string
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
	return &Worker{store: store, api: api, render: render, log: log, opts: opts,
		pacer: newPacer(opts.Limits, opts.Now),
		ims:   map[string]string{}, uncertain: map[uint64]bool{}, history: map[string]map[string]string{}}
}

// Run delivers notices until ctx is cancelled. Its first pass tries every
// queued notice at once, whatever backoff an earlier process had set: a
// restart is often what fixed the cause, and the messages are overdue.
func (w *Worker) Run(ctx context.Context) error {
	w.started = w.opts.Now()
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

// Drain delivers every notice that is due now, once each.
func (w *Worker) Drain(ctx context.Context) { w.drain(ctx, time.Time{}) }

// drain delivers the notices due at asOf (zero: now), each at most once per
// call. Notices are grouped by request: a request's notices go out in order
// (a card before its update), different requests' in parallel lanes, and the
// pacer keeps each channel and method within Slack's limits. Lanes are kept
// busy: as one finishes, newly due notices are picked up without waiting for
// the others.
func (w *Worker) drain(ctx context.Context, asOf time.Time) {
	const page = 256
	seen := map[uint64]bool{}
	busy := map[string]bool{} // groups in flight, by request (or "home:"+user)
	finished := make(chan string, w.opts.Lanes)
	running := 0
	defer func() {
		for ; running > 0; running-- {
			<-finished
		}
	}()
	for ctx.Err() == nil {
		now := asOf
		if now.IsZero() {
			now = w.opts.Now()
		}
		due, err := w.store.DueNoticesExcept(ctx, now, page, func(id uint64) bool { return seen[id] })
		if err != nil {
			w.log.Error("outbox: read failed", "err", err)
			return
		}
		var order []string
		groups := map[string][]access.Notice{}
		for _, n := range due {
			if seen[n.ID] {
				continue // in flight, or failed once in this pass: its retry waits for the timer
			}
			// A Home tab shows current state, so of several refreshes owed
			// to one user only the last need run; it settles the others.
			key := n.RequestID
			if n.Kind == access.NoticeHome {
				key = "home:" + n.To
			}
			if busy[key] {
				continue // after the group in flight, in order
			}
			if _, ok := groups[key]; !ok {
				order = append(order, key)
			}
			groups[key] = append(groups[key], n)
		}
		for _, key := range order {
			if running == w.opts.Lanes {
				break
			}
			ns := groups[key]
			for _, n := range ns {
				seen[n.ID] = true
			}
			busy[key] = true
			running++
			go func() {
				defer func() { finished <- key }()
				w.deliverGroup(ctx, ns)
			}()
		}
		if running == 0 {
			return
		}
		// Wait for lanes to free up before reading the outbox again: at
		// least a quarter of them, or whatever finished within a short
		// while, so that reading does not cost more than delivering.
		wait := time.NewTimer(refetchDelay)
		for freed := 0; running > 0 && freed < max(1, w.opts.Lanes/4); {
			select {
			case key := <-finished:
				delete(busy, key)
				running--
				freed++
			case <-wait.C:
				if freed > 0 {
					freed = w.opts.Lanes // enough: read again
				}
				wait.Reset(refetchDelay)
			case <-ctx.Done():
				wait.Stop()
				return
			}
		}
		wait.Stop()
	}
}

// refetchDelay bounds how long finished lanes wait for company before the
// outbox is read again.
const refetchDelay = 5 * time.Millisecond

// deliverGroup delivers one request's notices in order.
func (w *Worker) deliverGroup(ctx context.Context, ns []access.Notice) {
	if ns[0].Kind == access.NoticeHome {
		w.refreshHome(ctx, ns)
		return
	}
	for _, n := range ns {
		if ctx.Err() != nil {
			return
		}
		w.deliver(ctx, n)
	}
}

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
	switch {
	case n.Kind.IsUpdate():
		err = w.updateAll(ctx, n, r, n.Kind.UpdatedKind())
	case n.Kind == access.NoticeHome:
		w.refreshHome(ctx, []access.Notice{n})
		return
	default:
		err = w.post(ctx, n, r)
	}
	if err == nil {
		return
	}
	if permanent(err) {
		w.abandon(ctx, n, slackCode(err))
		return
	}
	w.retry(ctx, n, err)
}

func (w *Worker) post(ctx context.Context, n access.Notice, r *access.Request) error {
	channel, thread, err := w.destination(ctx, n)
	if err != nil {
		return err
	}
	if w.mayHavePosted(n) {
		find := w.findPosted
		if thread != "" {
			find = func(ctx context.Context, channel string, n access.Notice) (string, bool, error) {
				return w.findReply(ctx, channel, thread, n)
			}
		}
		if ts, found, err := find(ctx, channel, n); err != nil {
			return err
		} else if found {
			w.log.Info("outbox: notice was already posted; not posting again", "notice", n.ID, "request", n.RequestID)
			if n.Kind == access.NoticeApprovalCard || n.Kind == access.NoticeTask {
				// Updates made while this post was in doubt could not reach
				// it; bring it to the request's current state.
				if err := w.update(ctx, access.MessageRef{Channel: channel, TS: ts}, n, r); err != nil {
					return err
				}
			}
			return w.sent(ctx, n, channel, ts)
		}
	}
	text, blocks := w.render(n, r)
	opts := []slack.MsgOption{
		slack.MsgOptionText(text, false),
		slack.MsgOptionMetadata(slack.SlackMetadata{
			EventType:    MetadataEventType,
			EventPayload: map[string]any{"notice_id": strconv.FormatUint(n.ID, 10), "request_id": n.RequestID},
		}),
	}
	if len(blocks) > 0 {
		opts = append(opts, slack.MsgOptionBlocks(blocks...))
	}
	if thread != "" {
		opts = append(opts, slack.MsgOptionTS(thread))
	}
	key := postKey(n.To)
	// One post at a time per channel: a late timer on a busy machine must
	// not let two paced posts reach Slack together.
	unlock := w.pacer.serialize(key)
	defer unlock()
	if err := w.pacer.wait(ctx, key); err != nil {
		return err
	}
	cctx, cancel := context.WithTimeout(ctx, w.opts.CallTimeout)
	defer cancel()
	ch, ts, err := w.api.PostMessageContext(cctx, channel, opts...)
	w.paced(key, err)
	if err != nil {
		if ambiguous(err) {
			w.mu.Lock()
			w.uncertain[n.ID] = true
			w.mu.Unlock()
		}
		return err
	}
	if ch == "" {
		ch = channel
	}
	if ch != n.To && (strings.HasPrefix(n.To, "U") || strings.HasPrefix(n.To, "W")) {
		w.mu.Lock()
		w.ims[n.To] = ch
		w.mu.Unlock()
	}
	return w.sent(ctx, n, ch, ts)
}

// paced tells the pacer how a call on key went.
func (w *Worker) paced(key string, err error) {
	w.pacer.done(key)
	if rl, ok := errors.AsType[*slack.RateLimitedError](err); ok {
		w.pacer.throttled(key, rl.RetryAfter)
		return
	}
	if err == nil {
		w.pacer.succeeded(key)
	}
}

func (w *Worker) sent(ctx context.Context, n access.Notice, channel, ts string) error {
	ref := &access.MessageRef{NoticeID: n.ID, Kind: n.Kind, RequestID: n.RequestID, To: n.To, Channel: channel, TS: ts}
	if err := w.store.MarkSent(ctx, n.ID, ref); err != nil {
		// The message is out; remember that so a retry looks before posting.
		w.mu.Lock()
		w.uncertain[n.ID] = true
		w.mu.Unlock()
		return fmt.Errorf("mark notice %d sent: %w", n.ID, err)
	}
	w.mu.Lock()
	delete(w.uncertain, n.ID)
	w.mu.Unlock()
	w.log.Debug("outbox: delivered", "notice", n.ID, "kind", n.Kind, "request", n.RequestID)
	return nil
}

// mayHavePosted reports whether an earlier attempt, in this process or one
// that crashed, might have posted n.
func (w *Worker) mayHavePosted(n access.Notice) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.uncertain[n.ID] || n.CreatedAt.Before(w.started)
}

// findPosted looks through the channel's recent history for a message that
// carries notice n's ID in its metadata. Notices from before this process
// started share one history read per channel; a post that was in doubt in
// this process gets a fresh read.
func (w *Worker) findPosted(ctx context.Context, channel string, n access.Notice) (string, bool, error) {
	channel, err := w.imChannel(ctx, channel)
	if err != nil {
		return "", false, err
	}
	want := strconv.FormatUint(n.ID, 10)
	w.mu.Lock()
	fresh := w.uncertain[n.ID]
	ids, cached := w.history[channel]
	w.mu.Unlock()
	if cached && !fresh {
		ts, ok := ids[want]
		return ts, ok, nil
	}
	if err := w.pacer.wait(ctx, keyTier3); err != nil {
		return "", false, err
	}
	cctx, cancel := context.WithTimeout(ctx, w.opts.CallTimeout)
	defer cancel()
	h, err := w.api.GetConversationHistoryContext(cctx, &slack.GetConversationHistoryParameters{
		ChannelID: channel, Limit: 200, IncludeAllMetadata: true,
	})
	w.paced(keyTier3, err)
	if err != nil {
		return "", false, fmt.Errorf("search history of %s: %w", channel, err)
	}
	ids = map[string]string{}
	for _, m := range h.Messages {
		if m.Metadata.EventType == MetadataEventType {
			ids[fmt.Sprint(m.Metadata.EventPayload["notice_id"])] = m.Timestamp
		}
	}
	if !fresh {
		w.mu.Lock()
		w.history[channel] = ids
		w.mu.Unlock()
	}
	ts, ok := ids[want]
	return ts, ok, nil
}

// findReply looks for notice n among the replies in thread, which
// conversations.history does not list.
func (w *Worker) findReply(ctx context.Context, channel, thread string, n access.Notice) (string, bool, error) {
	if err := w.pacer.wait(ctx, keyTier3); err != nil {
		return "", false, err
	}
	cctx, cancel := context.WithTimeout(ctx, w.opts.CallTimeout)
	defer cancel()
	msgs, _, _, err := w.api.GetConversationRepliesContext(cctx, &slack.GetConversationRepliesParameters{
		ChannelID: channel, Timestamp: thread, Limit: 200, IncludeAllMetadata: true,
	})
	w.paced(keyTier3, err)
	if err != nil {
		return "", false, fmt.Errorf("search thread %s in %s: %w", thread, channel, err)
	}
	want := strconv.FormatUint(n.ID, 10)
	for _, m := range msgs {
		if m.Metadata.EventType == MetadataEventType && fmt.Sprint(m.Metadata.EventPayload["notice_id"]) == want {
			return m.Timestamp, true, nil
		}
	}
	return "", false, nil
}

func (w *Worker) updateAll(ctx context.Context, n access.Notice, r *access.Request, kind access.NoticeKind) error {
	refs, err := w.store.MessageRefs(ctx, r.ID, kind)
	if err != nil {
		return err
	}
	for _, ref := range refs {
		if err := w.update(ctx, ref, access.Notice{Kind: kind, RequestID: r.ID, To: ref.To}, r); err != nil {
			if permanent(err) {
				// One deleted card must not hold back the others.
				w.log.Warn("outbox: message could not be updated; skipping it", "request", r.ID, "channel", ref.Channel, "err", slackCode(err))
				continue
			}
			return err
		}
	}
	return w.markUpdated(ctx, n)
}

// update re-renders message ref as notice n for the request's current state.
func (w *Worker) update(ctx context.Context, ref access.MessageRef, n access.Notice, r *access.Request) error {
	text, blocks := w.render(n, r)
	if err := w.pacer.wait(ctx, keyTier3); err != nil {
		return err
	}
	cctx, cancel := context.WithTimeout(ctx, w.opts.CallTimeout)
	defer cancel()
	_, _, _, err := w.api.UpdateMessageContext(cctx, ref.Channel, ref.TS,
		slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...))
	w.paced(keyTier3, err)
	return err
}

// refreshHome republishes one user's Home tab once for all of ns.
func (w *Worker) refreshHome(ctx context.Context, ns []access.Notice) {
	last := ns[len(ns)-1]
	if w.opts.Home != nil {
		if err := w.pacer.wait(ctx, keyTier4); err != nil {
			return
		}
		err := w.opts.Home.RefreshHome(ctx, last.To)
		w.paced(keyTier4, err)
		if err != nil {
			if permanent(err) {
				w.abandon(ctx, last, slackCode(err))
			} else {
				w.retry(ctx, last, err)
			}
			ns = ns[:len(ns)-1]
		}
	}
	for _, n := range ns {
		if err := w.markUpdated(ctx, n); err != nil {
			w.log.Error("outbox: mark failed", "notice", n.ID, "err", err)
		}
	}
}

func (w *Worker) markUpdated(ctx context.Context, n access.Notice) error {
	if err := w.store.MarkSent(ctx, n.ID, nil); err != nil {
		return fmt.Errorf("mark notice %d sent: %w", n.ID, err)
	}
	return nil
}

// destination is where notice n is posted: a reminder goes in the thread of
// the approver's card, so a pending request does not grow a new card each
// time; everything else goes to its recipient's DM or channel.
func (w *Worker) destination(ctx context.Context, n access.Notice) (channel, thread string, err error) {
	if n.Kind == access.NoticeReminder {
		refs, err := w.store.MessageRefs(ctx, n.RequestID, access.NoticeApprovalCard)
		if err != nil {
			return "", "", err
		}
		for _, ref := range refs {
			if ref.To == n.To {
				return ref.Channel, ref.TS, nil
			}
		}
	}
	channel, err = w.channelFor(ctx, n.To)
	return channel, "", err
}

// channelFor is where a notice to "to" is posted. A user ID is posted to
// as it is: Slack delivers it to the app's DM with that user and answers with
// the DM's channel ID, which saves a conversations.open (tier 3) per person.
func (w *Worker) channelFor(_ context.Context, to string) (string, error) {
	if to == "" {
		return "", &slack.SlackErrorResponse{Err: "channel_not_found"}
	}
	return to, nil
}

// imChannel resolves a user ID to the ID of the app's DM with them, which
// conversations.history needs.
func (w *Worker) imChannel(ctx context.Context, to string) (string, error) {
	if to == "" || (to[0] != 'U' && to[0] != 'W') {
		return to, nil
	}
	w.mu.Lock()
	ch, ok := w.ims[to]
	w.mu.Unlock()
	if ok {
		return ch, nil
	}
	if ch, err := w.store.IMChannel(ctx, to); err == nil && ch != "" {
		w.mu.Lock()
		w.ims[to] = ch
		w.mu.Unlock()
		return ch, nil
	}
	if err := w.pacer.wait(ctx, keyTier3); err != nil {
		return "", err
	}
	cctx, cancel := context.WithTimeout(ctx, w.opts.CallTimeout)
	defer cancel()
	c, _, _, err := w.api.OpenConversationContext(cctx, &slack.OpenConversationParameters{Users: []string{to}})
	w.paced(keyTier3, err)
	if err != nil {
		return "", fmt.Errorf("open DM with %s: %w", to, err)
	}
	w.mu.Lock()
	w.ims[to] = c.ID
	w.mu.Unlock()
	return c.ID, nil
}

func (w *Worker) retry(ctx context.Context, n access.Notice, err error) {
	if w.opts.Observer != nil {
		w.opts.Observer.DeliveryFailed(metricCode(err), false)
	}
	attempts := n.Attempts + 1
	delay := w.backoff(attempts)
	if rl, ok := errors.AsType[*slack.RateLimitedError](err); ok && rl.RetryAfter > 0 {
		delay = rl.RetryAfter
	}
	next := w.opts.Now().Add(delay)
	w.log.Warn("outbox: delivery failed; will retry", "notice", n.ID, "kind", n.Kind, "request", n.RequestID, "attempt", attempts, "retry_in", delay, "err", slackCode(err))
	if rerr := w.store.Reschedule(ctx, n.ID, attempts, next, slackCode(err)); rerr != nil {
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

// permanentErrors are Slack error codes that no retry can fix.
var permanentErrors = map[string]bool{
	"channel_not_found": true, "not_in_channel": true, "is_archived": true,
	"invalid_auth": true, "not_authed": true, "account_inactive": true, "token_revoked": true,
	"missing_scope": true, "not_allowed_token_type": true, "user_not_found": true,
	"user_disabled": true, "cannot_dm_bot": true, "msg_too_long": true, "invalid_blocks": true,
	"no_text": true, "message_not_found": true, "cant_update_message": true,
	"restricted_action": true, "invalid_metadata_format": true, "invalid_arguments": true,
	"too_many_attachments": true, "edit_window_closed": true,
}

func permanent(err error) bool {
	if se, ok := errors.AsType[slack.SlackErrorResponse](err); ok {
		return permanentErrors[se.Err]
	}
	if se, ok := errors.AsType[*slack.SlackErrorResponse](err); ok {
		return permanentErrors[se.Err]
	}
	if sc, ok := errors.AsType[slack.StatusCodeError](err); ok {
		return sc.Code >= 400 && sc.Code < 500 && sc.Code != 429 && sc.Code != 408
	}
	return false
}

// ambiguous reports whether a failed post may nevertheless have been made.
func ambiguous(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	if _, ok := errors.AsType[net.Error](err); ok {
		return true
	}
	if sc, ok := errors.AsType[slack.StatusCodeError](err); ok {
		return sc.Code >= 500
	}
	return false
}

// metricCode is a low-cardinality label for a delivery error.
func metricCode(err error) string {
	if _, ok := errors.AsType[*slack.RateLimitedError](err); ok {
		return "ratelimited"
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "timeout"
	}
	if _, ok := errors.AsType[slack.StatusCodeError](err); ok {
		return slackCode(err)
	}
	if _, ok := errors.AsType[slack.SlackErrorResponse](err); ok {
		return slackCode(err)
	}
	if _, ok := errors.AsType[*slack.SlackErrorResponse](err); ok {
		return slackCode(err)
	}
	return "network"
}

// slackCode is a short, secret-free description of a delivery error.
func slackCode(err error) string {
	if se, ok := errors.AsType[slack.SlackErrorResponse](err); ok {
		return se.Err
	}
	if se, ok := errors.AsType[*slack.SlackErrorResponse](err); ok {
		return se.Err
	}
	if rl, ok := errors.AsType[*slack.RateLimitedError](err); ok {
		return "ratelimited (retry after " + rl.RetryAfter.String() + ")"
	}
	if sc, ok := errors.AsType[slack.StatusCodeError](err); ok {
		return "http " + strconv.Itoa(sc.Code)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "timeout"
	}
	return err.Error()
}
