package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/uxpin-access-bot/uxpin-access-bot/access"
	"github.com/uxpin-access-bot/uxpin-access-bot/storage"
)

// Seed shape: how many people make requests, how many hold a seat, and how
// many of the newest requests are still open.
const (
	seedPeople     = 5000
	seedSeats      = 1000
	seedOpenWindow = 1000 // every other one of the newest 1,000 is open
	// statusRequests is how many requests statusUser made, spread over the
	// history whatever its length, so that `status` lists a full page (15)
	// at every size and the sizes compare like with like.
	statusRequests = 40
)

// statusUser is the person whose `status` is timed.
var statusUser = seedPerson(seedPeople)

// seedPerson is the i-th person of the seeded workspace.
func seedPerson(i int) string { return fmt.Sprintf("UPPL%06d", i) }

// mix spreads i over [0, n) with a cheap integer hash, so seeded requests
// do not line up by person or state.
func mix(i, salt, n int) int {
	x := uint64(i)*0x9E3779B97F4A7C15 + uint64(salt)*0xBF58476D1CE4E5B9
	x ^= x >> 31
	x *= 0x94D049BB133111EB
	x ^= x >> 29
	return int(x % uint64(n))
}

// seedRequest fills request i of n (n at least statusRequests): most are closed (fulfilled, denied,
// cancelled, failed); of the newest seedOpenWindow, every other one is open,
// three in five of those pending and the rest approved and assigned. Every
// fulfilled request, and each of the first seedSeats, records its target in
// the ledger; targets of ledger entries come from seedSeats people, so the
// ledger stays that size however long the history.
func seedRequest(r *access.Request, i, n int, base time.Time, step time.Duration) access.Effects {
	at := base.Add(time.Duration(i) * step)
	r.Action = access.ActionGrant
	r.Requester = seedPerson(mix(i, 1, seedPeople))
	if i%(n/statusRequests) == 1 {
		r.Requester = statusUser
	}
	r.Role = []access.Role{access.RoleViewer, access.RoleEditor, access.RoleEditor, access.RoleAdmin}[mix(i, 2, 4)]
	r.Justification = "Seeded request: needs UXPin for the design system work of the quarter."
	r.Approvers = approvers
	r.CreatedAt, r.UpdatedAt = at, at
	state := access.StateFulfilled
	if i >= n-seedOpenWindow && i%2 == 0 {
		state = access.StatePending
		if (i/2)%5 >= 3 {
			state = access.StateApproved
		}
	} else {
		switch p := mix(i, 3, 100); {
		case p < 60:
		case p < 85:
			state = access.StateDenied
		case p < 95:
			state = access.StateCancelled
		default:
			state = access.StateFailed
		}
	}
	ledger := state == access.StateFulfilled || i < seedSeats
	target := seedPerson(mix(i, 4, seedPeople))
	if ledger {
		target = seedPerson(mix(i, 5, seedSeats))
		if i < seedSeats {
			target = seedPerson(i)
		}
	}
	tp := person(target)
	r.Target, r.TargetEmail, r.TargetName = tp.ID, tp.Email, tp.Name
	r.State = state
	decided := at.Add(3 * time.Hour)
	closed := at.Add(20 * time.Hour)
	events := []access.Event{{Time: at, RequestID: r.ID, Action: r.Action, Actor: r.Requester, TargetEmail: r.TargetEmail, Role: r.Role, To: access.StatePending, Detail: "submitted"}}
	ev := func(t time.Time, actor string, from, to access.State, detail string) {
		events = append(events, access.Event{Time: t, RequestID: r.ID, Action: r.Action, Actor: actor, TargetEmail: r.TargetEmail, Role: r.Role, From: from, To: to, Detail: detail})
	}
	admin := admins[i%len(admins)]
	switch state {
	case access.StatePending:
		r.RemindAt = time.Now().Add(24 * time.Hour)
	case access.StateApproved:
		r.DecidedBy, r.DecidedAt = approvers[i%2], decided
		r.Assignee, r.AssignedAt = admin, decided
		r.EscalateAt = time.Now().Add(48 * time.Hour)
		ev(decided, r.DecidedBy, access.StatePending, access.StateApproved, "assigned to "+admin)
	case access.StateDenied:
		r.DecidedBy, r.DecidedAt, r.DenyReason = approvers[i%2], decided, "Viewer is enough for reviews."
		ev(decided, r.DecidedBy, access.StatePending, access.StateDenied, r.DenyReason)
	case access.StateCancelled:
		r.ClosedBy, r.ClosedAt = r.Requester, decided
		ev(decided, r.Requester, access.StatePending, access.StateCancelled, "")
	case access.StateFulfilled, access.StateFailed:
		r.DecidedBy, r.DecidedAt = approvers[i%2], decided
		r.Assignee, r.AssignedAt = admin, decided
		r.ClosedBy, r.ClosedAt = admin, closed
		ev(decided, r.DecidedBy, access.StatePending, access.StateApproved, "assigned to "+admin)
		if state == access.StateFailed {
			r.FailReason = "No such person in the UXPin team."
		}
		ev(closed, admin, access.StateApproved, state, r.FailReason)
	}
	r.UpdatedAt = at.Add(20 * time.Hour)
	fx := access.Effects{Events: events}
	if ledger {
		fx.Grant = &access.Grant{UserID: r.Target, Email: r.TargetEmail, Name: r.TargetName, Role: r.Role, Since: closed, RequestID: r.ID}
	}
	return fx
}

// seed writes n requests with storage.CreateRequest from many goroutines,
// which storage batches into shared commits.
func seed(ctx context.Context, db *storage.DB, n int) error {
	base := time.Now().AddDate(-3, 0, 0)
	step := 3 * 365 * 24 * time.Hour / time.Duration(n)
	return parallel(64*runtime.GOMAXPROCS(0), n, func(i int) error {
		_, err := db.CreateRequest(ctx, func(_ access.Tx, r *access.Request) (access.Effects, error) {
			return seedRequest(r, i, n, base, step), nil
		})
		return err
	})
}

// queryTimes are the p50 and p99 of one query at one database size.
type queryTimes struct{ p50, p99 time.Duration }

// benchQueries is section 4 for one database size: seed, start the bot on
// it, then time the read paths people use.
func benchQueries(ctx context.Context, cfg benchConfig, rep *Report, n int, runs int) (map[string]queryTimes, error) {
	sec := fmt.Sprintf("4. %s stored", fmtCount(n))
	path := filepath.Join(cfg.dir, fmt.Sprintf("seed-%d.db", n))
	// Approver 1 is also a UXPin admin here, so one person's `pending` and
	// Home tab show both approvals and tasks.
	qAdmins := []string{approvers[0], admins[0]}
	db, err := storage.Open(path, storage.Options{LockTimeout: time.Second})
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	if err := seed(ctx, db, n); err != nil {
		db.Close()
		return nil, fmt.Errorf("seed %d: %w", n, err)
	}
	seedTime := time.Since(t0)
	counts, err := db.CountByState(ctx)
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	rep.num(sec, "seeding (concurrent CreateRequest)", seedTime.Seconds(), "s",
		fmt.Sprintf("%.1f s (%s/s); pending %d, approved %d", seedTime.Seconds(), fmtCount(int(float64(n)/seedTime.Seconds())), counts[access.StatePending], counts[access.StateApproved]), "", nil)

	// Seeding does not count towards the peak: collect, return memory to
	// the OS and reset the high-water mark.
	runtime.GC()
	debug.FreeOSMemory()
	rssReset := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil

	f := newFake(nil)
	defer f.Close()
	addUsers(f, approvers...)
	addUsers(f, admins...)
	start := time.Now()
	st, err := openStack(f, stackConfig{DBPath: path, Approvers: approvers, Admins: qAdmins, Log: cfg.log})
	if err != nil {
		return nil, err
	}
	defer st.stop()
	if err := st.start(); err != nil {
		return nil, err
	}
	if err := st.waitReady(ctx); err != nil {
		return nil, err
	}
	startup := time.Since(start)

	viewer := approvers[0]
	queries := []struct {
		name string
		fn   func() error
	}{
		{"status (MyRequests)", func() error {
			_, err := st.Service.MyRequests(ctx, statusUser, 16)
			return err
		}},
		{"pending (PendingFor + OpenTasks)", func() error {
			if _, err := st.Service.IsApprover(ctx, viewer); err != nil {
				return err
			}
			if _, err := st.Service.PendingFor(ctx, viewer, 10); err != nil {
				return err
			}
			_, err := st.Service.OpenTasks(ctx, viewer, 10)
			return err
		}},
		{"roster (Roster)", func() error {
			g, err := st.Service.Roster(ctx)
			if err == nil && len(g) == 0 {
				err = fmt.Errorf("empty roster")
			}
			return err
		}},
		{"App Home (HomeBlocks)", func() error {
			_, err := st.Handlers.HomeBlocks(ctx, viewer)
			return err
		}},
	}
	// Round robin, so that background work (the worker, the scheduler, GC)
	// falls on every query alike; the first rounds warm the cache.
	const warmup = 20
	lats := make([]latencies, len(queries))
	for i := range runs + warmup {
		for k, q := range queries {
			t := time.Now()
			if err := q.fn(); err != nil {
				return nil, fmt.Errorf("%s at %d: %w", q.name, n, err)
			}
			if i >= warmup {
				lats[k].add(time.Since(t))
			}
		}
	}
	out := map[string]queryTimes{}
	for k, q := range queries {
		out[q.name] = queryTimes{lats[k].pct(50), lats[k].pct(99)}
	}
	hwm := vmHWM()
	size := fileSize(path)

	for _, q := range queries {
		t := out[q.name]
		row := Row{Section: sec, Metric: q.name + ": p50 / p99", Value: round3(float64(t.p99) / 1e6), Unit: "ms",
			Shown: fmtMS(float64(t.p50)/1e6) + " / " + fmtMS(float64(t.p99)/1e6)}
		if small, ok := cfg.smallQueries[q.name]; ok {
			ratio := float64(t.p50) / float64(small.p50)
			row.Shown += fmt.Sprintf(" (p50 %.2f× @%s)", ratio, fmtCount(cfg.smallSize))
			row.Target = "p99 ≤ 2 ms, p50 ≤ 2×"
			row.Result = passIf(t.p99 <= 2*time.Millisecond && ratio <= 2)
		} else {
			row.Target = "p99 ≤ 2 ms"
			row.Result = passIf(t.p99 <= 2*time.Millisecond)
		}
		rep.add(row)
	}
	big := n > cfg.smallSize
	if big {
		rep.ms(sec, "startup to ready", startup, time.Second)
	} else {
		rep.ms(sec, "startup to ready", startup, 0)
	}
	switch {
	case hwm == 0:
		rep.note("peak RSS: /proc/self/status has no VmHWM here")
	case !rssReset:
		rep.note("peak RSS: /proc/self/clear_refs is not writable, so the peak includes seeding")
		fallthrough
	default:
		var target string
		var ok *bool
		if big {
			target, ok = "≤ 100 MiB", ptr(hwm <= 100<<20)
		}
		rep.num(sec, "peak RSS (whole bench process, after seeding)", float64(hwm)/(1<<20), "MiB", fmtBytes(float64(hwm)), target, ok)
	}
	rep.num(sec, "database file per request", float64(size)/float64(n), "B",
		fmt.Sprintf("%s (%s in all)", fmtBytes(float64(size)/float64(n)), fmtBytes(float64(size))), "", nil)
	return out, nil
}

// vmHWM returns the process's peak resident set size in bytes, or 0.
func vmHWM() int64 {
	fh, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}
