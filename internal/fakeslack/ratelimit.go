package fakeslack

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// RateLimits make the fake enforce Slack's Web API rate limits: beyond them a
// call is answered HTTP 429 with a Retry-After header (whole seconds, rounded
// up, at least 1), does nothing, and is counted in RateLimited.
//
// Every limit is a token bucket. chat.postMessage has one bucket per channel
// (a user ID counts as that user's DM channel, so posting to U1 and to U1's
// D… channel share one); the tiered methods have one bucket per method for the
// whole workspace, like Slack. A zero rate leaves that class unlimited.
// apps.connections.open (tier 1 on Slack) and auth.test are never limited, so
// that reconnecting tests are not slowed down.
type RateLimits struct {
	// PostPerChannel is chat.postMessage calls per second per channel
	// (Slack: about 1).
	PostPerChannel float64
	// PostBurst is how many posts a quiet channel accepts at once before
	// PostPerChannel applies (Slack tolerates short bursts; e.g. 3).
	// Zero means 1.
	PostBurst int
	// Tier2PerMinute, Tier3PerMinute and Tier4PerMinute are the per-method
	// rates of Slack's tiers (Slack: 20, 50 and 100 per minute).
	// Tier 2: usergroups.users.list. Tier 3: chat.update, chat.delete,
	// conversations.open, conversations.history, users.lookupByEmail.
	// Tier 4: users.info, chat.postEphemeral, views.open, views.push,
	// views.update, views.publish.
	Tier2PerMinute, Tier3PerMinute, Tier4PerMinute float64
	// TierBurst is how many calls a quiet tiered method accepts at once.
	// Slack does not publish it ("sporadic bursts are welcome"); zero means
	// a fifth of the tier's per-minute rate, at least 2 (tier 3: 10).
	TierBurst int
}

// SlackRateLimits are Slack's published limits.
var SlackRateLimits = RateLimits{PostPerChannel: 1, PostBurst: 3, Tier2PerMinute: 20, Tier3PerMinute: 50, Tier4PerMinute: 100}

// methodTiers maps the rate-limited Web API methods to their Slack tier.
var methodTiers = map[string]int{
	"usergroups.users.list": 2,
	"chat.update":           3,
	"chat.delete":           3,
	"conversations.open":    3,
	"conversations.history": 3,
	"users.lookupByEmail":   3,
	"users.info":            4,
	"chat.postEphemeral":    4,
	"views.open":            4,
	"views.push":            4,
	"views.update":          4,
	"views.publish":         4,
}

// MethodTier returns the Slack rate-limit tier (2, 3 or 4) that the fake
// applies to method, or 0 when the method is not tiered (chat.postMessage has
// its own per-channel limit; auth.test and apps.connections.open are not
// limited).
func MethodTier(method string) int { return methodTiers[method] }

// bucket is a token bucket: it holds up to burst tokens and gains rate
// tokens per second; a call takes one.
type bucket struct {
	tokens float64
	last   time.Time
}

// limiter holds the buckets of one Server. It is safe for concurrent use.
type limiter struct {
	cfg RateLimits
	now func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
	limited map[string]int // method → 429s answered
}

func newLimiter(cfg RateLimits, now func() time.Time) *limiter {
	if now == nil {
		now = time.Now
	}
	return &limiter{cfg: cfg, now: now, buckets: map[string]*bucket{}, limited: map[string]int{}}
}

// rateFor returns the bucket key, refill rate (per second) and capacity for a
// call to method on channelKey (chat.postMessage only), or ok=false when the
// call is not limited.
func (l *limiter) rateFor(method, channelKey string) (key string, rate, burst float64, ok bool) {
	if method == "chat.postMessage" {
		if l.cfg.PostPerChannel <= 0 || channelKey == "" {
			return "", 0, 0, false
		}
		return "post:" + channelKey, l.cfg.PostPerChannel, float64(max(1, l.cfg.PostBurst)), true
	}
	var perMinute float64
	switch methodTiers[method] {
	case 2:
		perMinute = l.cfg.Tier2PerMinute
	case 3:
		perMinute = l.cfg.Tier3PerMinute
	case 4:
		perMinute = l.cfg.Tier4PerMinute
	}
	if perMinute <= 0 {
		return "", 0, 0, false
	}
	return method, perMinute / 60, float64(TierBurst(l.cfg, perMinute)), true
}

// TierBurst is the capacity of a tiered method's bucket whose rate is
// perMinute, under cfg.
func TierBurst(cfg RateLimits, perMinute float64) int {
	if cfg.TierBurst > 0 {
		return cfg.TierBurst
	}
	return max(2, int(perMinute/5))
}

// take tries to take a token for a call to method (on channelKey for
// chat.postMessage). It returns 0 when the call may proceed, or how long
// until a token is available when it must be refused.
func (l *limiter) take(method, channelKey string) time.Duration {
	key, rate, burst, ok := l.rateFor(method, channelKey)
	if !ok {
		return 0
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil {
		b = &bucket{tokens: burst, last: now}
		l.buckets[key] = b
	}
	if el := now.Sub(b.last).Seconds(); el > 0 {
		b.tokens = math.Min(burst, b.tokens+el*rate)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return 0
	}
	l.limited[method]++
	wait := time.Duration((1 - b.tokens) / rate * float64(time.Second))
	return max(wait, time.Nanosecond)
}

func (l *limiter) count(method string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if method != "" {
		return l.limited[method]
	}
	n := 0
	for _, v := range l.limited {
		n += v
	}
	return n
}

// retryAfterSeconds renders a wait as Slack's Retry-After: whole seconds,
// rounded up, at least 1.
func retryAfterSeconds(wait time.Duration) int {
	return max(1, int(math.Ceil(wait.Seconds())))
}

// rateLimitKey returns the channel key chat.postMessage is limited on: the
// user for a DM (given as U…/W… or as the D… channel), else the channel.
func (s *Server) rateLimitKey(method string, p *params) string {
	if method != "chat.postMessage" || p == nil {
		return ""
	}
	ch := p.str("channel")
	if ch == "" {
		return ""
	}
	if ch[0] == 'D' {
		s.mu.Lock()
		u, ok := s.userByDM[ch]
		s.mu.Unlock()
		if ok {
			return u
		}
	}
	return ch
}

// rateLimited answers a call beyond the limits with 429 and reports whether
// it did. p may be nil when the call's arguments could not be parsed.
func (s *Server) rateLimited(w http.ResponseWriter, method string, p *params) bool {
	if s.limiter == nil {
		return false
	}
	wait := s.limiter.take(method, s.rateLimitKey(method, p))
	if wait == 0 {
		return false
	}
	secs := retryAfterSeconds(wait)
	s.logf("%s: rate limited, Retry-After %d", method, secs)
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusTooManyRequests)
	_, _ = w.Write([]byte(`{"ok":false,"error":"ratelimited"}` + "\n"))
	return true
}

// RateLimited returns how many calls to method were answered 429 because of
// Options.RateLimits; an empty method returns the total over all methods.
func (s *Server) RateLimited(method string) int {
	if s.limiter == nil {
		return 0
	}
	return s.limiter.count(method)
}
