package delivery

import (
	"testing"
	"time"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time      { return c.t }
func (c *fakeClock) add(d time.Duration) { c.t = c.t.Add(d) }
func ms(d time.Duration) int64           { return d.Milliseconds() }
func near(got, want time.Duration) bool {
	return got >= want-time.Millisecond && got <= want+time.Millisecond
}

func TestPacerBurstThenRate(t *testing.T) {
	c := &fakeClock{t: time.Unix(1e9, 0)}
	p := newPacer(Limits{PostPerChannel: 2, PostBurst: 3}, c.now)
	for i := range 3 {
		if d := p.reserve(postKey("D1")); d != 0 {
			t.Fatalf("burst call %d waits %v; want 0", i, d)
		}
	}
	// The 4th and 5th calls queue behind the rate (2/s less the headroom).
	second := float64(time.Second)
	step := time.Duration(second / (2 * headroom))
	if d := p.reserve(postKey("D1")); !near(d, step) {
		t.Errorf("4th call waits %dms; want %d", ms(d), ms(step))
	}
	if d := p.reserve(postKey("D1")); !near(d, 2*step) {
		t.Errorf("5th call waits %dms; want %d", ms(d), ms(2*step))
	}
	// Another channel is independent.
	if d := p.reserve(postKey("D2")); d != 0 {
		t.Errorf("other channel waits %v; want 0", d)
	}
	// Time refills the bucket.
	c.add(3 * time.Second)
	if d := p.reserve(postKey("D1")); d != 0 {
		t.Errorf("after 3 s the call waits %v; want 0", d)
	}
}

func TestPacerTiers(t *testing.T) {
	c := &fakeClock{t: time.Unix(1e9, 0)}
	p := newPacer(Limits{}, c.now) // Slack's defaults: tier 3 = 50/min
	free := 0
	for range 10 {
		if p.reserve(keyTier3) == 0 {
			free++
		}
	}
	if free != 10 {
		t.Errorf("tier 3 lets %d calls through at once; want a burst of 10 (50/min ÷ 5)", free)
	}
	// 10 tokens of burst, 11 taken: 1 owed at 50/min less the headroom.
	base := float64(1200 * time.Millisecond)
	want := time.Duration(base / headroom)
	if d := p.reserve(keyTier3); !near(d, want) {
		t.Errorf("11th tier-3 call waits %dms; want %d", ms(d), ms(want))
	}
}

func TestPacerLearnsFrom429(t *testing.T) {
	c := &fakeClock{t: time.Unix(1e9, 0)}
	p := newPacer(Limits{PostPerChannel: 10, PostBurst: 1}, c.now)
	key := postKey("D1")
	p.reserve(key)
	p.throttled(key, 2*time.Second)
	if d := p.reserve(key); d < 2*time.Second {
		t.Errorf("after a 429 with Retry-After 2s the next call waits %v; want ≥ 2s", d)
	}
	p.mu.Lock()
	rate := p.buckets[key].rate
	p.mu.Unlock()
	full := 10 * headroom
	if !approx(rate, full*0.8) {
		t.Errorf("rate after one 429 = %v; want %v (a fifth less)", rate, full*0.8)
	}
	for range 100 {
		p.throttled(key, 0)
	}
	p.mu.Lock()
	rate = p.buckets[key].rate
	p.mu.Unlock()
	if !approx(rate, full/10) {
		t.Errorf("rate after many 429s = %v; want the floor, %v (a tenth)", rate, full/10)
	}
	for range 100 {
		p.succeeded(key)
	}
	p.mu.Lock()
	rate = p.buckets[key].rate
	p.mu.Unlock()
	if !approx(rate, full) {
		t.Errorf("rate after many successes = %v; want back to %v", rate, full)
	}
}

func TestPacerOff(t *testing.T) {
	c := &fakeClock{t: time.Unix(1e9, 0)}
	p := newPacer(Limits{Off: true}, c.now)
	for range 1000 {
		if d := p.reserve(postKey("D1")); d != 0 {
			t.Fatalf("Off pacer waits %v", d)
		}
	}
}

func approx(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }

func TestPacerSpacesFromTheLastAnswer(t *testing.T) {
	c := &fakeClock{t: time.Unix(1e9, 0)}
	p := newPacer(Limits{PostPerChannel: 10, PostBurst: 1}, c.now)
	key := postKey("D1")
	if d := p.reserve(key); d != 0 {
		t.Fatalf("first call waits %v", d)
	}
	// The first call is answered after 90 ms; Slack may have counted it
	// that late. At 100 ms the bucket alone would let the next go in 5 ms,
	// but it must wait a full interval after the answer.
	c.add(90 * time.Millisecond)
	p.done(key)
	c.add(10 * time.Millisecond)
	second := float64(time.Second)
	interval := time.Duration(second / (10 * headroom))
	want := 90*time.Millisecond + interval - 100*time.Millisecond
	if d := p.reserve(key); !near(d, want) {
		t.Errorf("next call waits %dms; want %dms (an interval after the answer)", ms(d), ms(want))
	}
}
