package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/uxpin-access-bot/uxpin-access-bot/access"
	"github.com/uxpin-access-bot/uxpin-access-bot/delivery"
	"github.com/uxpin-access-bot/uxpin-access-bot/internal/fakeslack"
)

// benchWorkFirst is section 6 (SPEC §6 Work first): N requests approved at
// once by one approver, with two admins, under the scaled rate limits of
// section 5; how long from the last approval to the last admin task, against
// the least the limits allow. Then all N are marked done at once: how long
// to the last requester's notice.
func benchWorkFirst(ctx context.Context, cfg benchConfig, rep *Report) error {
	const sec = "6. work first"
	n := 60
	if cfg.small {
		n = 20
	}
	f := newFake(&drainLimits)
	defer f.Close()
	approver := approvers[:1]
	requesters := userIDs("UWRQ", 0, n)
	targets := userIDs("UWTG", 0, n)
	for _, ids := range [][]string{approver, admins, requesters, targets} {
		addUsers(f, ids...)
	}
	st, err := openStack(f, stackConfig{
		DBPath: filepath.Join(cfg.dir, "workfirst.db"), Approvers: approver, Admins: admins, Log: cfg.log,
		Delivery: delivery.Options{Limits: botLimits},
	})
	if err != nil {
		return err
	}
	defer st.stop()
	if err := st.start(); err != nil {
		return err
	}
	if err := st.waitReady(ctx); err != nil {
		return err
	}
	ids, err := submitDirect(ctx, st.Service, requesters, targets, n)
	if err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	if err := st.waitOutboxEmpty(wctx); err != nil {
		return err
	}
	// All at once, as one approver clearing a backlog (or "Remove all").
	all := func(step func(id string) error) error {
		var wg sync.WaitGroup
		errs := make(chan error, len(ids))
		for _, id := range ids {
			wg.Go(func() {
				if err := step(id); err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		return <-errs
	}
	count := func(user, prefix string) int {
		c := 0
		for _, m := range f.DMs(user) {
			if strings.HasPrefix(m.Text, prefix) {
				c++
			}
		}
		return c
	}
	assignee := map[string]string{}
	var mu sync.Mutex
	if err := all(func(id string) error {
		r, err := st.Service.Decide(wctx, id, approver[0], access.Decision{Approve: true})
		if err == nil {
			mu.Lock()
			assignee[id] = r.Assignee
			mu.Unlock()
		}
		return err
	}); err != nil {
		return err
	}
	start := time.Now()
	if err := fakeslack.WaitFor(wctx, func() bool {
		return count(admins[0], "UXPin task ")+count(admins[1], "UXPin task ") >= n
	}); err != nil {
		rep.fail("work first: not every task arrived: %v", err)
		return nil
	}
	tasks := time.Since(start)
	perAdmin := (n + len(admins) - 1) / len(admins)
	minimum := time.Duration(float64(max(0, perAdmin-drainLimits.PostBurst)) / drainLimits.PostPerChannel * float64(time.Second))
	ratio := tasks.Seconds() / minimum.Seconds()
	rep.num(sec, fmt.Sprintf("%d approvals at once, 2 admins: last approval to last task", n), tasks.Seconds(), "s", fmt.Sprintf("%.2f s", tasks.Seconds()), "", nil)
	rep.num(sec, fmt.Sprintf("minimum (%d tasks per admin at %.0f/s, burst %d)", perAdmin, drainLimits.PostPerChannel, drainLimits.PostBurst),
		minimum.Seconds(), "s", fmt.Sprintf("%.2f s", minimum.Seconds()), "", nil)
	rep.num(sec, "last task ÷ minimum", ratio, "", fmt.Sprintf("%.2f×", ratio), "≤ 1.2×", ptr(ratio <= 1.2))

	if err := st.waitOutboxEmpty(wctx); err != nil {
		return err
	}
	if err := all(func(id string) error {
		_, err := st.Service.Complete(wctx, id, assignee[id])
		return err
	}); err != nil {
		return err
	}
	start = time.Now()
	if err := fakeslack.WaitFor(wctx, func() bool {
		for _, r := range requesters {
			if len(f.DMs(r)) < 3 { // submitted, approved, done
				return false
			}
		}
		return true
	}); err != nil {
		rep.fail("work first: not every requester heard it was done: %v", err)
		return nil
	}
	done := time.Since(start)
	// Each requester is told once, in their own DM: one round trip, the
	// burst allows it at once.
	rep.num(sec, fmt.Sprintf("%d Mark done at once: to the last requester notice", n), done.Seconds(), "s", fmt.Sprintf("%.2f s", done.Seconds()), "", nil)
	if err := st.waitOutboxEmpty(wctx); err != nil {
		rep.fail("work first: outbox did not empty: %v", err)
	}
	checkViolations(f, rep, "work first")
	return nil
}
