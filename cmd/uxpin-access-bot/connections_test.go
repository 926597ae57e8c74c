package main

import (
	"fmt"
	"sync"
	"testing"
)

// TestDroppedConnectionLosesNothing holds two Socket Mode connections and
// drops one in the middle of a burst of slash commands: every envelope is
// acked, every command answered exactly once, the bot stays ready on the
// other connection and the dropped one comes back.
func TestDroppedConnectionLosesNothing(t *testing.T) {
	h := newHarness(t, map[string]string{"UXPIN_SOCKET_CONNECTIONS": "2"})
	h.waitFor("two connections", func() bool { return h.fake.ActiveConnections() == 2 && h.m.Bot.ConnectionsUp() == 2 })
	const n = 60
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		if i == n/3 {
			if !h.fake.DropOne() {
				t.Fatal("no connection to drop")
			}
		}
		wg.Go(func() {
			if _, err := h.fake.SlashCommand(h.ctx(), uAlice, "help"); err != nil {
				errs <- fmt.Errorf("slash command %d: %w", i, err)
			}
		})
	}
	if !h.m.Bot.Connected() {
		t.Errorf("the bot is not ready while one connection is still up")
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	h.waitFor(fmt.Sprintf("%d replies", n), func() bool { return len(h.fake.Ephemerals(uAlice)) >= n })
	if got := len(h.fake.Ephemerals(uAlice)); got != n {
		t.Errorf("%d replies to %d commands; want one each", got, n)
	}
	h.waitFor("the dropped connection to come back", func() bool { return h.fake.ActiveConnections() == 2 && h.m.Bot.ConnectionsUp() == 2 })
}
