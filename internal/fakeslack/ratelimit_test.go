package fakeslack

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"
)

// fakeClock is a settable clock for rate-limit tests.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestLimiterBurstThenRefill(t *testing.T) {
	clk := newFakeClock()
	l := newLimiter(RateLimits{PostPerChannel: 1, PostBurst: 3}, clk.Now)
	for i := range 3 {
		if w := l.take("chat.postMessage", "U1"); w != 0 {
			t.Fatalf("post %d of the burst refused (wait %v)", i+1, w)
		}
	}
	w := l.take("chat.postMessage", "U1")
	if w <= 0 || w > time.Second {
		t.Fatalf("4th post: wait %v; want a refusal of at most 1s", w)
	}
	if got := retryAfterSeconds(w); got != 1 {
		t.Errorf("Retry-After = %d; want 1", got)
	}
	// Half a token back is not enough.
	clk.Advance(500 * time.Millisecond)
	if w := l.take("chat.postMessage", "U1"); w <= 0 || w > 500*time.Millisecond+time.Millisecond {
		t.Fatalf("after 0.5s: wait %v; want a refusal of about 0.5s", w)
	}
	clk.Advance(500 * time.Millisecond)
	if w := l.take("chat.postMessage", "U1"); w != 0 {
		t.Fatalf("after 1s: refused (wait %v)", w)
	}
	// A long pause refills the burst, but no more than the burst.
	clk.Advance(time.Hour)
	for i := range 3 {
		if w := l.take("chat.postMessage", "U1"); w != 0 {
			t.Fatalf("post %d after a pause refused", i+1)
		}
	}
	if w := l.take("chat.postMessage", "U1"); w == 0 {
		t.Fatal("the bucket held more than its burst")
	}
	if n := l.count("chat.postMessage"); n != 3 {
		t.Errorf("limited = %d; want 3", n)
	}
}

func TestLimiterChannelsAndTiersAreIndependent(t *testing.T) {
	clk := newFakeClock()
	l := newLimiter(RateLimits{PostPerChannel: 1, PostBurst: 1, Tier3PerMinute: 60, Tier4PerMinute: 120, TierBurst: 2}, clk.Now)
	first := l.take("chat.postMessage", "U1")
	second := l.take("chat.postMessage", "U1")
	if first != 0 || second == 0 {
		t.Fatal("U1: want one post then a refusal")
	}
	if l.take("chat.postMessage", "U2") != 0 || l.take("chat.postMessage", "C1") != 0 {
		t.Fatal("another channel was limited by U1's bucket")
	}
	// Tier 3 at 1/s with a burst of 2; each method has its own bucket.
	for _, m := range []string{"chat.update", "conversations.open"} {
		for range 2 {
			if l.take(m, "") != 0 {
				t.Fatalf("%s: burst of 2 refused", m)
			}
		}
		if w := l.take(m, ""); w == 0 || retryAfterSeconds(w) != 1 {
			t.Fatalf("%s: third call wait %v; want a refusal with Retry-After 1", m, w)
		}
	}
	// Tier 4 at 2/s.
	for range 2 {
		if l.take("views.publish", "") != 0 {
			t.Fatal("views.publish burst refused")
		}
	}
	if l.take("views.publish", "") == 0 {
		t.Fatal("views.publish not limited")
	}
	clk.Advance(500 * time.Millisecond)
	if l.take("views.publish", "") != 0 {
		t.Fatal("views.publish not refilled after 0.5s at 2/s")
	}
	// Unlimited classes.
	for range 100 {
		if l.take("apps.connections.open", "") != 0 || l.take("auth.test", "") != 0 || l.take("usergroups.users.list", "") != 0 {
			t.Fatal("a method without a configured limit was limited")
		}
	}
	if got := l.count(""); got != 4 {
		t.Errorf("total limited = %d; want 4", got)
	}
}

func TestTierBurstDefault(t *testing.T) {
	if got := TierBurst(SlackRateLimits, SlackRateLimits.Tier3PerMinute); got != 10 {
		t.Errorf("tier 3 burst = %d; want 10", got)
	}
	if got := TierBurst(RateLimits{}, 5); got != 2 {
		t.Errorf("burst of a slow tier = %d; want at least 2", got)
	}
	if got := TierBurst(RateLimits{TierBurst: 7}, 50); got != 7 {
		t.Errorf("explicit burst = %d; want 7", got)
	}
}

func TestRetryAfterRoundsUp(t *testing.T) {
	for _, c := range []struct {
		wait time.Duration
		want int
	}{{time.Nanosecond, 1}, {999 * time.Millisecond, 1}, {1001 * time.Millisecond, 2}, {6 * time.Second, 6}} {
		if got := retryAfterSeconds(c.wait); got != c.want {
			t.Errorf("retryAfterSeconds(%v) = %d; want %d", c.wait, got, c.want)
		}
	}
}

// TestRateLimitsOverHTTP checks the wire behaviour with the real slack-go
// client: 429 with Retry-After becomes *slack.RateLimitedError, the refused
// call does nothing, and a user's ID and DM channel share one bucket.
func TestRateLimitsOverHTTP(t *testing.T) {
	clk := newFakeClock()
	s := New(Options{Logf: t.Logf, Now: clk.Now, RateLimits: &RateLimits{PostPerChannel: 1, PostBurst: 2, Tier3PerMinute: 30, TierBurst: 2}})
	defer s.Close()
	s.AddUser(User{ID: "U1", Name: "alice"})
	s.AddUser(User{ID: "U2", Name: "bob"})
	api := slack.New("xoxb-test", slack.OptionAPIURL(s.APIURL()))
	ctx := ctxT(t)

	post := func(ch string) error {
		_, _, err := api.PostMessageContext(ctx, ch, slack.MsgOptionText("hi", false))
		return err
	}
	if err := post("U1"); err != nil {
		t.Fatal(err)
	}
	dm, ok := s.DMChannel("U1")
	if !ok {
		t.Fatal("no DM channel for U1")
	}
	if err := post(dm); err != nil {
		t.Fatal(err)
	}
	err := post("U1")
	rl, ok := errors.AsType[*slack.RateLimitedError](err)
	if !ok || rl.RetryAfter != time.Second {
		t.Fatalf("third post: err = %#v; want *slack.RateLimitedError{1s}", err)
	}
	if n := len(s.DMs("U1")); n != 2 {
		t.Errorf("U1 has %d DMs; the refused post must not be stored", n)
	}
	if err := post("U2"); err != nil {
		t.Fatalf("U2 limited by U1's bucket: %v", err)
	}
	clk.Advance(time.Second)
	if err := post(dm); err != nil {
		t.Fatalf("after 1s: %v", err)
	}

	// Tier 3 at 0.5/s, burst 2: the third call waits 2 s.
	for range 2 {
		if _, _, _, err := api.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{"U2"}}); err != nil {
			t.Fatal(err)
		}
	}
	_, _, _, err = api.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{"U2"}})
	if rl, ok := errors.AsType[*slack.RateLimitedError](err); !ok || rl.RetryAfter != 2*time.Second {
		t.Fatalf("conversations.open: err = %#v; want *slack.RateLimitedError{2s}", err)
	}
	if got, want := s.RateLimited("chat.postMessage"), 1; got != want {
		t.Errorf("RateLimited(chat.postMessage) = %d; want %d", got, want)
	}
	if got, want := s.RateLimited(""), 2; got != want {
		t.Errorf("RateLimited() = %d; want %d", got, want)
	}
	if got, want := s.Calls("chat.postMessage"), 5; got != want {
		t.Errorf("Calls(chat.postMessage) = %d; want %d (refused calls count)", got, want)
	}
	// Without RateLimits nothing is limited.
	free := New(Options{Logf: t.Logf})
	defer free.Close()
	free.AddUser(User{ID: "U1", Name: "alice"})
	fapi := slack.New("xoxb-test", slack.OptionAPIURL(free.APIURL()))
	for range 20 {
		if _, _, err := fapi.PostMessageContext(ctx, "U1", slack.MsgOptionText("hi", false)); err != nil {
			t.Fatal(err)
		}
	}
	if free.RateLimited("") != 0 {
		t.Error("a server without RateLimits limited calls")
	}
}
