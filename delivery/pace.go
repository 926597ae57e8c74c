package delivery

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/slack-go/slack"
)

// Limits are the Web API rates the worker paces itself to, so that a burst
// of notifications drains as fast as Slack allows without a storm of 429s.
// Zero fields take Slack's published limits.
type Limits struct {
	// PostPerChannel is chat.postMessage per second per channel (Slack: 1).
	PostPerChannel float64
	// PostBurst is how many posts a quiet channel takes at once (Slack
	// tolerates short bursts).
	PostBurst int
	// Tier3PerMinute covers chat.update, conversations.open and
	// conversations.history (Slack: 50).
	Tier3PerMinute float64
	// Tier4PerMinute covers views.publish (Slack: 100).
	Tier4PerMinute float64
	// TierBurst is how many tiered calls a quiet tier takes at once; zero
	// means a fifth of its per-minute rate (tier 3: 10).
	TierBurst int
	// Off disables pacing, for benchmarks against a fake Slack without
	// limits; production never sets it.
	Off bool
}

func (l Limits) withDefaults() Limits {
	if l.PostPerChannel <= 0 {
		l.PostPerChannel = 1
	}
	if l.PostBurst <= 0 {
		l.PostBurst = 3
	}
	if l.Tier3PerMinute <= 0 {
		l.Tier3PerMinute = 50
	}
	if l.Tier4PerMinute <= 0 {
		l.Tier4PerMinute = 100
	}
	return l
}

// Pacing keys: one bucket per channel for posts, one per tier for the rest.
const (
	keyTier3 = "tier3"
	keyTier4 = "tier4"
)

func postKey(channel string) string { return "post:" + channel }

// headroom is the share of a published rate the pacer uses.
const headroom = 0.95

// bucket is a token bucket that also learns: a 429 blocks it for the
// Retry-After Slack gave and lowers its rate, and successes win the rate
// back a little at a time, up to the configured one.
type bucket struct {
	max, rate, burst float64 // configured rate, current rate (tokens/s), capacity
	tokens           float64
	last             time.Time
	blockedUntil     time.Time
	// lastDone is when the previous call on this key was answered. Slack
	// counts arrivals, and a call can arrive late; so once the bucket is
	// empty the next call also waits a full interval after that answer.
	lastDone time.Time
}

func (b *bucket) refill(now time.Time) {
	if now.After(b.last) {
		b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
		b.last = now
	}
}

// reserve takes a token and returns how long the caller must wait before
// using it (zero when one is free now).
func (b *bucket) reserve(now time.Time) time.Duration {
	b.refill(now)
	b.tokens--
	var wait time.Duration
	if b.tokens < 0 {
		wait = time.Duration(-b.tokens / b.rate * float64(time.Second))
	}
	if b.tokens < 0 && !b.lastDone.IsZero() {
		if d := b.lastDone.Add(time.Duration(float64(time.Second) / b.rate)).Sub(now); d > wait {
			wait = d
		}
	}
	if d := b.blockedUntil.Sub(now); d > wait {
		wait = d
	}
	return wait
}

// throttled applies a 429: nothing goes out before Retry-After, and the
// rate drops by a fifth (not below a tenth of the configured rate).
func (b *bucket) throttled(now time.Time, retryAfter time.Duration) {
	b.refill(now)
	b.tokens = min(b.tokens, 0)
	b.blockedUntil = maxTime(b.blockedUntil, now.Add(retryAfter))
	b.rate = max(b.rate*0.8, b.max/10)
}

// succeeded wins back some of a rate lowered by 429s.
func (b *bucket) succeeded() {
	if b.rate < b.max {
		b.rate = min(b.max, b.rate+b.max/20)
	}
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// pacer holds the buckets. Its clock is injectable so tests need not wait.
type pacer struct {
	mu      sync.Mutex
	now     func() time.Time
	limits  Limits
	buckets map[string]*bucket
	lanes   map[string]*sync.Mutex // one in-flight call per channel
}

// serialize holds key's lane until the returned func is called.
func (p *pacer) serialize(key string) func() {
	if p.limits.Off {
		return func() {}
	}
	p.mu.Lock()
	l, ok := p.lanes[key]
	if !ok {
		l = &sync.Mutex{}
		p.lanes[key] = l
	}
	p.mu.Unlock()
	l.Lock()
	return l.Unlock
}

func newPacer(l Limits, now func() time.Time) *pacer {
	return &pacer{now: now, limits: l.withDefaults(), buckets: map[string]*bucket{}, lanes: map[string]*sync.Mutex{}}
}

func (p *pacer) bucketLocked(key string) *bucket {
	b, ok := p.buckets[key]
	if ok {
		return b
	}
	var rate, burst float64
	switch key {
	case keyTier3:
		rate, burst = p.limits.Tier3PerMinute/60, p.tierBurst(p.limits.Tier3PerMinute)
	case keyTier4:
		rate, burst = p.limits.Tier4PerMinute/60, p.tierBurst(p.limits.Tier4PerMinute)
	default:
		rate, burst = p.limits.PostPerChannel, float64(p.limits.PostBurst)
	}
	// Aim a little under the published rate: Slack measures arrivals, and
	// network jitter can bring two well-spaced sends closer together.
	rate *= headroom
	b = &bucket{max: rate, rate: rate, burst: burst, tokens: burst, last: p.now()}
	p.buckets[key] = b
	return b
}

func (p *pacer) tierBurst(perMinute float64) float64 {
	if p.limits.TierBurst > 0 {
		return float64(p.limits.TierBurst)
	}
	return max(1, perMinute/5)
}

// reserve takes a token from key's bucket and returns the wait before use.
func (p *pacer) reserve(key string) time.Duration {
	if p.limits.Off {
		return 0
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.bucketLocked(key).reserve(p.now())
}

// wait blocks until key's bucket allows one call, or ctx ends.
func (p *pacer) wait(ctx context.Context, key string) error {
	d := p.reserve(key)
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// throttled records a 429 on key.
func (p *pacer) throttled(key string, retryAfter time.Duration) {
	if p.limits.Off {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.bucketLocked(key).throttled(p.now(), retryAfter)
}

// done records that a call on key was answered, however it went.
func (p *pacer) done(key string) {
	if p.limits.Off {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.bucketLocked(key).lastDone = p.now()
}

// succeeded records a call on key that went through.
func (p *pacer) succeeded(key string) {
	if p.limits.Off {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.bucketLocked(key).succeeded()
}

// answered tells the pacer how a call on key went: a 429 teaches its
// bucket, a success wins some rate back.
func (p *pacer) answered(key string, err error) {
	p.done(key)
	if rl, ok := errors.AsType[*slack.RateLimitedError](err); ok {
		p.throttled(key, rl.RetryAfter)
		return
	}
	if err == nil {
		p.succeeded(key)
	}
}
