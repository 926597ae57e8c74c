package main

import (
	"testing"
	"time"

	"github.com/uxpin-access-bot/uxpin-access-bot/access"
)

func TestPercentiles(t *testing.T) {
	var l latencies
	for i := 100; i >= 1; i-- {
		l.add(time.Duration(i) * time.Millisecond)
	}
	for _, c := range []struct {
		p    float64
		want time.Duration
	}{{50, 50 * time.Millisecond}, {99, 99 * time.Millisecond}, {100, 100 * time.Millisecond}, {0, time.Millisecond}} {
		if got := l.pct(c.p); got != c.want {
			t.Errorf("p%v = %v; want %v", c.p, got, c.want)
		}
	}
	if got := l.count(90 * time.Millisecond); got != 10 {
		t.Errorf("count over 90ms = %d; want 10", got)
	}
	var empty latencies
	if empty.pct(99) != 0 {
		t.Error("empty p99 is not 0")
	}
}

// TestSeedShape checks the seeded history has the promised mix at both CI
// sizes: a few hundred open requests, a ledger of seedSeats people, and a
// status user with a full page of requests.
func TestSeedShape(t *testing.T) {
	for _, n := range []int{1_000, 10_000} {
		states := map[access.State]int{}
		ledger := map[string]bool{}
		requesters := map[string]bool{}
		status := 0
		base := time.Now().AddDate(-3, 0, 0)
		for i := range n {
			r := &access.Request{ID: access.FormatID(uint64(i + 1))}
			fx := seedRequest(r, i, n, base, time.Hour)
			states[r.State]++
			requesters[r.Requester] = true
			if fx.Grant != nil {
				ledger[fx.Grant.UserID] = true
			}
			if r.Requester == statusUser {
				status++
			}
			if len(fx.Events) == 0 || fx.Events[0].RequestID != r.ID {
				t.Fatalf("n=%d: request %d has no audit trail", n, i)
			}
		}
		if states[access.StatePending] != 300 || states[access.StateApproved] != 200 {
			t.Errorf("n=%d: %d pending, %d approved; want 300 and 200", n, states[access.StatePending], states[access.StateApproved])
		}
		if len(ledger) != seedSeats {
			t.Errorf("n=%d: ledger of %d people; want %d", n, len(ledger), seedSeats)
		}
		if status != statusRequests {
			t.Errorf("n=%d: status user made %d requests; want %d", n, status, statusRequests)
		}
		if n == 10_000 && len(requesters) < seedPeople/2 {
			t.Errorf("n=%d: only %d requesters", n, len(requesters))
		}
	}
}
