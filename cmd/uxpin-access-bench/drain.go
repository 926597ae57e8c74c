package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/uxpin-access-bot/uxpin-access-bot/delivery"
	"github.com/uxpin-access-bot/uxpin-access-bot/internal/fakeslack"
)

// Slack's limits scaled 10× faster, so that the drain stays short; the bot's
// pacing is configured with the same numbers.
var (
	drainLimits = fakeslack.RateLimits{PostPerChannel: 10, PostBurst: 3, Tier2PerMinute: 200, Tier3PerMinute: 500, Tier4PerMinute: 1000}
	botLimits   = delivery.Limits{PostPerChannel: 10, PostBurst: 3, Tier3PerMinute: 500, Tier4PerMinute: 1000}
)

// webAPIMethods are the methods the fake counts calls of.
var webAPIMethods = []string{
	"chat.postMessage", "chat.update", "chat.delete", "chat.postEphemeral",
	"conversations.open", "conversations.history", "users.info", "users.lookupByEmail",
	"usergroups.users.list", "views.open", "views.push", "views.update", "views.publish",
	"auth.test", "apps.connections.open",
}

func callCounts(f *fakeslack.Server) map[string]int {
	out := map[string]int{}
	for _, m := range webAPIMethods {
		out[m] = f.Calls(m)
	}
	out["response_url"] = f.Calls("response_url")
	return out
}

// benchDrain is section 5: a burst of requests submitted at once against a
// fake Slack that enforces (scaled) rate limits; how long until every DM is
// delivered, against the least the limits allow.
func benchDrain(ctx context.Context, cfg benchConfig, rep *Report) error {
	const sec = "5. backlog drain"
	n := 200
	if cfg.small {
		n = 50
	}
	f := newFake(&drainLimits)
	defer f.Close()
	requesters := userIDs("UDRQ", 0, n)
	targets := userIDs("UDTG", 0, n)
	for _, ids := range [][]string{approvers, admins, requesters, targets} {
		addUsers(f, ids...)
	}
	st, err := openStack(f, stackConfig{
		DBPath: filepath.Join(cfg.dir, "drain.db"), Approvers: approvers, Admins: admins, Log: cfg.log,
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
	calls0, limited0 := callCounts(f), map[string]int{}
	for _, m := range webAPIMethods {
		limited0[m] = f.RateLimited(m)
	}

	start := time.Now()
	ids, err := submitDirect(ctx, st.Service, requesters, targets, n)
	if err != nil {
		rep.fail("drain: %v", err)
		return nil
	}
	delivered := func() bool {
		for _, a := range approvers {
			if len(f.DMs(a)) < n {
				return false
			}
		}
		for _, r := range requesters {
			if len(f.DMs(r)) < 1 {
				return false
			}
		}
		return true
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	err = fakeslack.WaitFor(wctx, delivered)
	if err == nil {
		err = st.waitOutboxEmpty(wctx)
	}
	cancel()
	elapsed := time.Since(start)
	if err != nil {
		rep.fail("drain: not every DM was delivered: %v", err)
	}

	// Every receipt and card exactly once.
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	check := func(user string, per int) {
		seen := map[string]int{}
		for _, m := range f.DMs(user) {
			id, _ := metadataRequest(m)
			seen[id]++
		}
		for id := range want {
			if seen[id] != per {
				rep.fail("drain: %s got %d messages about %s; want %d", user, seen[id], id, per)
				return
			}
		}
	}
	for _, a := range approvers {
		check(a, 1)
	}
	for i, r := range requesters {
		if got := len(f.DMs(r)); got != 1 {
			rep.fail("drain: requester %s got %d DMs about %s; want 1", r, got, ids[i])
			break
		}
	}
	checkViolations(f, rep, "drain")

	// The least time the limits allow: each channel takes its burst at once,
	// then PostPerChannel a second. Only posts are required: a post can name
	// the user, so conversations.open is optional.
	postRate := drainLimits.PostPerChannel
	minimum := time.Duration(float64(max(0, n-drainLimits.PostBurst)) / postRate * float64(time.Second))
	calls1 := callCounts(f)
	total, limited := 0, 0
	var byMethod []string
	tierMin, tierMethod := time.Duration(0), ""
	for _, m := range webAPIMethods {
		c := calls1[m] - calls0[m]
		l := f.RateLimited(m) - limited0[m]
		total += c
		limited += l
		if l > 0 {
			byMethod = append(byMethod, fmt.Sprintf("%s %d/%d", m, l, c))
		}
		perMinute := map[int]float64{2: drainLimits.Tier2PerMinute, 3: drainLimits.Tier3PerMinute, 4: drainLimits.Tier4PerMinute}[fakeslack.MethodTier(m)]
		if perMinute > 0 && c-l > 0 {
			d := time.Duration(float64(max(0, c-l-fakeslack.TierBurst(drainLimits, perMinute))) / (perMinute / 60) * float64(time.Second))
			if d > tierMin {
				tierMin, tierMethod = d, m
			}
		}
	}
	ratio := elapsed.Seconds() / minimum.Seconds()
	rep.num(sec, fmt.Sprintf("%d requests at once, 2 approvers: all %d DMs delivered", n, 3*n), elapsed.Seconds(), "s",
		fmt.Sprintf("%.2f s", elapsed.Seconds()), "", nil)
	rep.num(sec, fmt.Sprintf("theoretical minimum (%d cards per approver at %.0f/s, burst %d)", n, postRate, drainLimits.PostBurst),
		minimum.Seconds(), "s", fmt.Sprintf("%.2f s", minimum.Seconds()), "", nil)
	rep.num(sec, "drain ÷ minimum", ratio, "", fmt.Sprintf("%.2f×", ratio), "≤ 1.2×", ptr(ratio <= 1.2))
	if tierMethod != "" {
		rep.num(sec, "minimum for the tiered calls made ("+tierMethod+")", tierMin.Seconds(), "s",
			fmt.Sprintf("%.2f s (%d calls)", tierMin.Seconds(), calls1[tierMethod]-calls0[tierMethod]), "", nil)
	}
	pct := 0.0
	if total > 0 {
		pct = 100 * float64(limited) / float64(total)
	}
	rep.num(sec, "429s received / Web API calls", pct, "%", fmt.Sprintf("%d / %d (%.2f%%)", limited, total, pct), "< 1%", ptr(pct < 1))
	if len(byMethod) > 0 {
		rep.note("drain: 429s by method (429s/calls): %s", strings.Join(byMethod, ", "))
	}
	return nil
}
