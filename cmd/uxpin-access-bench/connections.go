package main

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
)

// benchConnections is section 7: 500 envelopes at once (slash commands,
// acked before any work), over 1, 2 and 4 Socket Mode connections; the
// fake Slack spreads them over the connections as Slack does.
func benchConnections(ctx context.Context, cfg benchConfig, rep *Report) error {
	const sec = "7. connections"
	const inFlight = 500
	rounds := 4
	if cfg.small {
		rounds = 1
	}
	for _, conns := range []int{1, 2, 4} {
		f := newFake(nil)
		users := userIDs(fmt.Sprintf("UCON%d", conns), 0, inFlight)
		addUsers(f, approvers...)
		addUsers(f, admins...)
		addUsers(f, users...)
		st, err := openStack(f, stackConfig{
			DBPath: filepath.Join(cfg.dir, fmt.Sprintf("conns-%d.db", conns)), Approvers: approvers, Admins: admins,
			Log: cfg.log, Delivery: unpaced, Connections: conns,
		})
		if err != nil {
			f.Close()
			return err
		}
		err = func() error {
			defer st.stop()
			if err := st.start(); err != nil {
				return err
			}
			if err := st.waitReady(ctx); err != nil {
				return err
			}
			var acks latencies
			var mu sync.Mutex
			var failed int
			for round := range rounds {
				start := make(chan struct{})
				var wg sync.WaitGroup
				for _, u := range users {
					wg.Go(func() {
						<-start
						a, err := f.SlashCommand(ctx, u, "help")
						mu.Lock()
						defer mu.Unlock()
						if err != nil {
							failed++
							return
						}
						acks.add(a.Latency)
					})
				}
				close(start)
				wg.Wait()
				if err := f.WaitFor(ctx, func() bool {
					for _, u := range users {
						if len(f.Ephemerals(u)) < round+1 {
							return false
						}
					}
					return true
				}); err != nil {
					return fmt.Errorf("help replies: %w", err)
				}
			}
			if failed > 0 {
				rep.fail("connections: %d of %d envelopes over %d connections were not acked", failed, rounds*inFlight, conns)
			}
			rep.ms(sec, fmt.Sprintf("%d in flight over %d connection(s): ack p50", inFlight, conns), acks.pct(50), 0)
			rep.ms(sec, fmt.Sprintf("%d in flight over %d connection(s): ack p99", inFlight, conns), acks.pct(99), 0)
			checkViolations(f, rep, "connections")
			return nil
		}()
		f.Close()
		if err != nil {
			return err
		}
	}
	return nil
}
