package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/uxpin-access-bot/uxpin-access-bot/access"
	"github.com/uxpin-access-bot/uxpin-access-bot/delivery"
	"github.com/uxpin-access-bot/uxpin-access-bot/handlers"
	"github.com/uxpin-access-bot/uxpin-access-bot/internal/fakeslack"
)

// unpaced turns the worker's rate pacing off for sections 1 and 2, whose
// fake Slack enforces no limits: they measure the bot, not Slack's limits.
var unpaced = delivery.Options{Limits: delivery.Limits{Off: true}}

// The fixed cast: two approvers and two UXPin admins.
var (
	approvers = []string{"UAPPR0001", "UAPPR0002"}
	admins    = []string{"UADMN0001", "UADMN0002"}
)

func userIDs(prefix string, from, n int) []string {
	out := make([]string, n)
	for i := range n {
		out[i] = fmt.Sprintf("%s%06d", prefix, from+i)
	}
	return out
}

// requestValues are the request modal's state values as Slack sends them.
func requestValues(action access.Action, target string, role access.Role, justification string) map[string]map[string]any {
	opt := func(v string) map[string]any {
		return map[string]any{"value": v, "text": map[string]any{"type": "plain_text", "text": v}}
	}
	return map[string]map[string]any{
		access.FieldAction:        {access.FieldAction: map[string]any{"type": "static_select", "selected_option": opt(string(action))}},
		access.FieldTarget:        {access.FieldTarget: map[string]any{"type": "users_select", "selected_user": target}},
		access.FieldRole:          {access.FieldRole: map[string]any{"type": "static_select", "selected_option": opt(string(role))}},
		access.FieldJustification: {access.FieldJustification: map[string]any{"type": "plain_text_input", "value": justification}},
		access.FieldEndDate:       {access.FieldEndDate: map[string]any{"type": "datepicker", "selected_date": nil}},
	}
}

var submittedID = regexp.MustCompile(`Request \*(R-\d+)\*`)

// submissionID returns the request ID a successful submission ack shows.
func submissionID(a fakeslack.Ack) (string, error) {
	var p struct {
		ResponseAction string            `json:"response_action"`
		Errors         map[string]string `json:"errors"`
		View           json.RawMessage   `json:"view"`
	}
	if err := json.Unmarshal(a.Payload, &p); err != nil {
		return "", fmt.Errorf("submission ack %q: %w", a.Payload, err)
	}
	if p.ResponseAction != "update" {
		return "", fmt.Errorf("submission refused: %s %v", p.ResponseAction, p.Errors)
	}
	m := submittedID.FindSubmatch(p.View)
	if m == nil {
		return "", fmt.Errorf("no request ID in the submission ack %s", p.View)
	}
	return string(m[1]), nil
}

// submitDirect stores requests through the service as the modal would, from
// workers goroutines; request i is made by requesters[i] for targets[i].
func submitDirect(ctx context.Context, svc *access.Service, requesters, targets []string, workers int) ([]string, error) {
	ids := make([]string, len(requesters))
	var next atomic.Int64
	var firstErr error
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(requesters) {
					return
				}
				r, err := svc.Submit(ctx, access.Submission{
					Action: access.ActionGrant, Requester: requesters[i], Target: person(targets[i]),
					Role: access.RoleEditor, Justification: "bench: needs the design system",
				})
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("submit for %s: %w", targets[i], err)
					}
					mu.Unlock()
					continue
				}
				ids[i] = r.ID
			}
		})
	}
	wg.Wait()
	return ids, firstErr
}

// benchAcks is section 1: envelopes that are acked at once (slash commands,
// button clicks, events), 500 in flight at a time, and view submissions,
// whose ack waits for validation and a commit.
func benchAcks(ctx context.Context, cfg benchConfig, rep *Report) error {
	const sec = "1. ack latency"
	const (
		slashes = 200
		clicks  = 200
		events  = 100
	)
	rounds := 4
	submissions := 500
	if cfg.small {
		rounds = 1
	}
	f := newFake(nil)
	defer f.Close()
	addUsers(f, approvers...)
	addUsers(f, admins...)
	st, err := openStack(f, stackConfig{DBPath: filepath.Join(cfg.dir, "acks.db"), Approvers: approvers, Admins: admins, Log: cfg.log, Delivery: unpaced})
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

	// Pending requests whose approval cards the clicks press.
	requesters := userIDs("UACKREQ", 0, rounds*clicks)
	addUsers(f, requesters...)
	ids, err := submitDirect(ctx, st.Service, requesters, requesters, 16)
	if err != nil {
		return err
	}
	if err := st.waitOutboxEmpty(ctx); err != nil {
		return err
	}
	cards := make([]fakeslack.Message, len(ids))
	clickers := make([]string, len(ids))
	for i, id := range ids {
		clickers[i] = approvers[i%len(approvers)]
		refs, err := st.DB.MessageRefs(ctx, id, access.NoticeApprovalCard)
		if err != nil {
			return err
		}
		for _, ref := range refs {
			if ref.To == clickers[i] {
				cards[i], _ = f.Message(ref.Channel, ref.TS)
			}
		}
		if cards[i].TS == "" {
			rep.fail("acks: no approval card for %s in %s's DM", id, clickers[i])
			return nil
		}
	}
	slashUsers := userIDs("UACKCMD", 0, slashes)
	eventUsers := userIDs("UACKHOM", 0, events)
	addUsers(f, slashUsers...)
	addUsers(f, eventUsers...)

	var acks latencies
	var mu sync.Mutex
	var errs []string
	record := func(a fakeslack.Ack, err error, what string) {
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			errs = append(errs, what+": "+err.Error())
			return
		}
		acks.add(a.Latency)
	}
	st.acks.record(true)
	for round := range rounds {
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range slashes {
			wg.Go(func() {
				<-start
				a, err := f.SlashCommand(ctx, slashUsers[i], "help")
				record(a, err, "slash help")
			})
		}
		for i := range clicks {
			k := round*clicks + i
			wg.Go(func() {
				<-start
				a, err := f.Click(ctx, clickers[k], cards[k], handlers.ActionApprove)
				record(a, err, "approve click")
			})
		}
		for i := range events {
			wg.Go(func() {
				<-start
				a, err := f.AppHomeOpened(ctx, eventUsers[i])
				record(a, err, "app_home_opened")
			})
		}
		close(start)
		wg.Wait()
		if err := st.waitOutboxEmpty(ctx); err != nil {
			return err
		}
		// Let the replies to the help commands finish before the next round.
		if err := f.WaitFor(ctx, func() bool {
			for _, u := range slashUsers {
				if len(f.Ephemerals(u)) < round+1 {
					return false
				}
			}
			return true
		}); err != nil {
			return fmt.Errorf("help replies: %w", err)
		}
	}

	st.acks.record(false)
	inBot := st.acks.recorded()

	// View submissions: open every modal first, then submit them all at once.
	subUsers := userIDs("UACKSUB", 0, submissions)
	addUsers(f, subUsers...)
	views := make([]fakeslack.View, submissions)
	if err := parallel(32, submissions, func(i int) error {
		if _, err := f.SlashCommand(ctx, subUsers[i], ""); err != nil {
			return err
		}
		v, err := st.watch.waitView(ctx, subUsers[i], 1)
		views[i] = v
		return err
	}); err != nil {
		return fmt.Errorf("open modals: %w", err)
	}
	var subs latencies
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range submissions {
		wg.Go(func() {
			<-start
			a, err := f.Submit(ctx, subUsers[i], views[i], requestValues(access.ActionGrant, subUsers[i], access.RoleViewer, "bench: reviews"))
			if err == nil {
				_, err = submissionID(a)
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, "view submission: "+err.Error())
				return
			}
			subs.add(a.Latency)
		})
	}
	close(start)
	wg.Wait()
	if err := st.waitOutboxEmpty(ctx); err != nil {
		return err
	}
	for i, e := range errs {
		if i == 5 {
			rep.fail("acks: %d more envelope failures", len(errs)-5)
			break
		}
		rep.fail("acks: %s", e)
	}

	n := fmt.Sprintf("%d×%d in flight", rounds, slashes+clicks+events)
	rep.ms(sec, "acked at once ("+n+"): p50", acks.pct(50), 0)
	rep.ms(sec, "acked at once: p99", acks.pct(99), 10*time.Millisecond)
	rep.ms(sec, "acked at once: max", acks.max(), 0)
	rep.ms(sec, "  of which inside the bot (dispatch to ack): p99", inBot.pct(99), 0)
	rep.ms(sec, fmt.Sprintf("view_submission (%d in flight): p50", submissions), subs.pct(50), 0)
	rep.ms(sec, "view_submission: p99", subs.pct(99), 0)
	rep.ms(sec, "view_submission: max", subs.max(), 0)
	late := acks.count(3*time.Second) + subs.count(3*time.Second)
	rep.num(sec, "acks later than Slack's 3 s", float64(late), "", fmt.Sprint(late), "0", ptr(late == 0))
	checkViolations(f, rep, "acks")
	return nil
}

// parallel runs fn(0..n-1) on workers goroutines and returns the first error.
func parallel(workers, n int, fn func(i int) error) error {
	var next atomic.Int64
	var once sync.Once
	var first error
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					once.Do(func() { first = err })
				}
			}
		})
	}
	wg.Wait()
	return first
}

func checkViolations(f *fakeslack.Server, rep *Report, phase string) {
	v := f.Violations()
	for i, s := range v {
		if i == 5 {
			rep.fail("%s: %d more Slack protocol or Block Kit violations", phase, len(v)-5)
			break
		}
		rep.fail("%s: fake Slack violation: %s", phase, s)
	}
}

// lifecycleResult is what section 2 hands to section 3.
type lifecycleResult struct {
	perSecond          float64
	commitsPerLifecyle float64
}

// benchLifecycles is section 2: full lifecycles driven through the fake
// Slack by concurrent requesters, as people would click them.
func benchLifecycles(ctx context.Context, cfg benchConfig, rep *Report) (lifecycleResult, error) {
	const sec = "2. lifecycles"
	const workers = 200
	perWorker := 5
	if cfg.small {
		perWorker = 1
	}
	total := workers * perWorker
	f := newFake(nil)
	defer f.Close()
	requesters := userIDs("UREQ", 0, workers)
	targets := userIDs("UTGT", 0, total)
	for _, ids := range [][]string{approvers, admins, requesters, targets} {
		addUsers(f, ids...)
	}
	st, err := openStack(f, stackConfig{DBPath: filepath.Join(cfg.dir, "lifecycles.db"), Approvers: approvers, Admins: admins, Log: cfg.log, Delivery: unpaced})
	if err != nil {
		return lifecycleResult{}, err
	}
	defer st.stop()
	if err := st.start(); err != nil {
		return lifecycleResult{}, err
	}
	if err := st.waitReady(ctx); err != nil {
		return lifecycleResult{}, err
	}
	// Approvers and admins keep their App Home tab, so every change they
	// are concerned by republishes it, as in real use.
	for _, u := range append(append([]string{}, approvers...), admins...) {
		if _, err := f.AppHomeOpened(ctx, u); err != nil {
			return lifecycleResult{}, err
		}
		if err := f.WaitFor(ctx, func() bool { _, ok := f.Home(u); return ok }); err != nil {
			return lifecycleResult{}, fmt.Errorf("home of %s: %w", u, err)
		}
	}
	if err := st.waitOutboxEmpty(ctx); err != nil {
		return lifecycleResult{}, err
	}

	var (
		mu                        sync.Mutex
		lat, toModal, submit, ids = latencies{}, latencies{}, latencies{}, make([]string, total)
		errs                      []string
	)
	one := func(ctx context.Context, w, j int) error {
		requester, target, approver := requesters[w], targets[w*perWorker+j], approvers[w%len(approvers)]
		t0 := time.Now()
		if _, err := f.SlashCommand(ctx, requester, ""); err != nil {
			return fmt.Errorf("slash by %s: %w", requester, err)
		}
		v, err := st.watch.waitView(ctx, requester, j+1)
		if err != nil {
			return err
		}
		t1 := time.Now()
		a, err := f.Submit(ctx, requester, v, requestValues(access.ActionGrant, target, access.RoleEditor, "bench: needs the design system"))
		if err != nil {
			return fmt.Errorf("submit by %s: %w", requester, err)
		}
		id, err := submissionID(a)
		if err != nil {
			return fmt.Errorf("submit by %s: %w", requester, err)
		}
		ids[w*perWorker+j] = id
		card, _, err := st.watch.waitDM(ctx, id, approver)
		if err != nil {
			return err
		}
		if _, err := f.Click(ctx, approver, card, handlers.ActionApprove); err != nil {
			return fmt.Errorf("approve %s: %w", id, err)
		}
		task, admin, err := st.watch.waitDM(ctx, id, admins...)
		if err != nil {
			return err
		}
		if _, err := f.Click(ctx, admin, task, handlers.ActionDone); err != nil {
			return fmt.Errorf("mark %s done: %w", id, err)
		}
		// The target's "does it work?" comes last.
		if _, _, err := st.watch.waitDM(ctx, id, target); err != nil {
			return err
		}
		st.watch.forget("req:" + id)
		mu.Lock()
		lat.add(time.Since(t0))
		toModal.add(t1.Sub(t0))
		submit.add(a.Latency)
		mu.Unlock()
		return nil
	}

	calls0 := callCounts(f)
	commits0 := st.DB.Commits()
	start := time.Now()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for j := range perWorker {
				lctx, cancel := context.WithTimeout(ctx, 60*time.Second)
				err := one(lctx, w, j)
				cancel()
				if err != nil {
					mu.Lock()
					errs = append(errs, err.Error())
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	octx, cancel := context.WithTimeout(ctx, 60*time.Second)
	err = st.waitOutboxEmpty(octx)
	cancel()
	elapsed := time.Since(start)
	commits := st.DB.Commits() - commits0
	if err != nil {
		rep.fail("lifecycles: %v", err)
	}
	for i, e := range errs {
		if i == 5 {
			rep.fail("lifecycles: %d more lifecycles did not complete", len(errs)-5)
			break
		}
		rep.fail("lifecycles: %s", e)
	}

	verifyLifecycles(ctx, st, f, rep, ids, requesters, targets, perWorker)
	checkViolations(f, rep, "lifecycles")

	res := lifecycleResult{
		perSecond:          float64(total) / elapsed.Seconds(),
		commitsPerLifecyle: float64(commits) / float64(total),
	}
	rep.num(sec, fmt.Sprintf("lifecycles/s (%d by %d concurrent requesters)", total, workers), res.perSecond, "1/s",
		fmt.Sprintf("%.0f /s", res.perSecond), "≥ 300 /s", ptr(res.perSecond >= 300))
	rep.num(sec, "bbolt commits per lifecycle", res.commitsPerLifecyle, "", fmt.Sprintf("%.1f", res.commitsPerLifecyle), "", nil)
	calls1 := callCounts(f)
	var perMethod []string
	all := 0
	for _, m := range webAPIMethods {
		if c := calls1[m] - calls0[m]; c > 0 {
			all += c
			perMethod = append(perMethod, fmt.Sprintf("%s %.1f", m, float64(c)/float64(total)))
		}
	}
	all += f.Calls("response_url") - calls0["response_url"]
	rep.num(sec, "Web API calls per lifecycle", float64(all)/float64(total), "", fmt.Sprintf("%.1f", float64(all)/float64(total)), "", nil)
	rep.note("lifecycles: Web API calls per lifecycle by method: %s", strings.Join(perMethod, ", "))
	rep.ms(sec, "one lifecycle, slash to target's DM: p50", lat.pct(50), 0)
	rep.ms(sec, "one lifecycle: p99", lat.pct(99), 0)
	rep.ms(sec, "slash command to modal open: p99", toModal.pct(99), 3*time.Second)
	rep.ms(sec, "view_submission ack under load: p99", submit.pct(99), 0)
	return res, nil
}

// verifyLifecycles checks what every lifecycle left behind: the request is
// fulfilled, each expected message arrived exactly once, there is one task,
// and every card and task message shows the final state.
func verifyLifecycles(ctx context.Context, st *stack, f *fakeslack.Server, rep *Report, ids, requesters, targets []string, perWorker int) {
	owner := map[string]string{} // DM channel → user
	for _, u := range append(append(append(append([]string{}, approvers...), admins...), requesters...), targets...) {
		if d, ok := f.DMChannel(u); ok {
			owner[d] = u
		}
	}
	type key struct{ id, to string }
	got := map[key][]fakeslack.Message{}
	notices := map[string]int{}
	for _, m := range f.Messages() {
		id, notice := metadataRequest(m)
		if id == "" {
			continue
		}
		to := owner[m.Channel]
		if m.Channel == auditChannel {
			to = auditChannel
		}
		got[key{id, to}] = append(got[key{id, to}], m)
		notices[notice]++
	}
	problems := 0
	bad := func(format string, args ...any) {
		problems++
		if problems <= 10 {
			rep.fail("lifecycles: "+format, args...)
		}
	}
	for notice, n := range notices {
		if n > 1 {
			bad("notice %s was posted %d times", notice, n)
		}
	}
	for i, id := range ids {
		if id == "" {
			continue // already reported as not completed
		}
		requester, target := requesters[i/perWorker], targets[i]
		r, err := st.Service.Request(ctx, id)
		if err != nil || r.State != access.StateFulfilled {
			bad("%s is %v (err %v); want fulfilled", id, stateOf(r), err)
			continue
		}
		want := map[string]int{requester: 3, target: 1, auditChannel: 1}
		for _, a := range approvers {
			want[a] = 1
		}
		tasks := 0
		for _, a := range admins {
			tasks += len(got[key{id, a}])
			for _, m := range got[key{id, a}] {
				if cur, _ := f.Message(m.Channel, m.TS); hasAction(cur, handlers.ActionDone) {
					bad("%s: the task message still offers Mark done", id)
				}
			}
		}
		if tasks != 1 {
			bad("%s: %d task messages; want exactly 1", id, tasks)
		}
		for to, n := range want {
			if g := len(got[key{id, to}]); g != n {
				bad("%s: %d messages to %s; want %d", id, g, to, n)
			}
		}
		for _, a := range approvers {
			for _, m := range got[key{id, a}] {
				if cur, _ := f.Message(m.Channel, m.TS); hasAction(cur, handlers.ActionApprove) {
					bad("%s: %s's card was not updated after the decision", id, a)
				}
			}
		}
	}
	if problems > 10 {
		rep.fail("lifecycles: %d more message problems", problems-10)
	}
}

func stateOf(r *access.Request) string {
	if r == nil {
		return "missing"
	}
	return string(r.State)
}

func hasAction(m fakeslack.Message, actionID string) bool {
	_, ok := fakeslack.FindAction(m.Blocks, actionID)
	return ok
}

// benchBareCommits is section 3: sequential bbolt write transactions of a
// 512-byte value on the same disk, the ceiling the bot's commits share.
func benchBareCommits(cfg benchConfig, rep *Report, lc lifecycleResult) error {
	const sec = "3. disk"
	db, err := bolt.Open(filepath.Join(cfg.dir, "bare.db"), 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		return err
	}
	defer db.Close()
	val := []byte(strings.Repeat("x", 512))
	n := 0
	start := time.Now()
	for time.Since(start) < 2*time.Second {
		err := db.Update(func(tx *bolt.Tx) error {
			b, err := tx.CreateBucketIfNotExists([]byte("bench"))
			if err != nil {
				return err
			}
			return b.Put(binary.BigEndian.AppendUint64(nil, uint64(n)), val)
		})
		if err != nil {
			return err
		}
		n++
	}
	rate := float64(n) / time.Since(start).Seconds()
	rep.num(sec, "bare bbolt commits/s (sequential Update, 512 B)", rate, "1/s", fmt.Sprintf("%.0f /s", rate), "", nil)
	if rate > 0 {
		ratio := lc.perSecond * lc.commitsPerLifecyle / rate
		rep.num(sec, "lifecycles/s × commits per lifecycle ÷ bare rate", ratio, "", fmt.Sprintf("%.2f", ratio), "", nil)
	}
	return nil
}
