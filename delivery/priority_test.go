package delivery_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/uxpin-access-bot/uxpin-access-bot/access"
	"github.com/uxpin-access-bot/uxpin-access-bot/delivery"
	"github.com/uxpin-access-bot/uxpin-access-bot/handlers"
	"github.com/uxpin-access-bot/uxpin-access-bot/internal/fakeslack"
	"github.com/uxpin-access-bot/uxpin-access-bot/storage"
)

// call is one Web API call as the recorder saw it.
type call struct{ method, channel string }

// recorder is an HTTP transport that notes the order of Web API calls.
type recorder struct {
	mu    sync.Mutex
	calls []call
}

func (rec *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	method := req.URL.Path[strings.LastIndexByte(req.URL.Path, '/')+1:]
	var channel string
	if req.Body != nil {
		body, err := io.ReadAll(req.Body)
		_ = req.Body.Close()
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		if form, err := url.ParseQuery(string(body)); err == nil {
			channel = form.Get("channel")
		}
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	rec.mu.Lock()
	rec.calls = append(rec.calls, call{method, channel})
	rec.mu.Unlock()
	return resp, err
}

func (rec *recorder) reset() []call {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	c := rec.calls
	rec.calls = nil
	return c
}

type approvers []string

func (a approvers) Approvers(context.Context) ([]string, error) { return a, nil }

func render(_ context.Context, n access.Notice, r *access.Request) (string, []slack.Block, error) {
	text, blocks := handlers.Render(n, r)
	return text, blocks, nil
}

// TestActingNoticesGoFirst queues 60 approvals at once and delivers them
// under Slack-shaped limits, scaled up: every admin task goes out before
// the last card update. Then ten more requests are approved and marked done
// before delivery: each one's two queued card updates collapse into one
// call. Every card ends showing its request's latest state.
func TestActingNoticesGoFirst(t *testing.T) {
	const n, done = 60, 10
	const approver = "UAPPROVER"
	admins := []string{"UADMIN1", "UADMIN2"}
	f := fakeslack.New(fakeslack.Options{})
	t.Cleanup(f.Close)
	users := append([]string{approver}, admins...)
	for i := range n + done {
		users = append(users, fmt.Sprintf("UREQ%03d", i), fmt.Sprintf("UTGT%03d", i))
	}
	for _, u := range users {
		f.AddUser(fakeslack.User{ID: u, Name: strings.ToLower(u), RealName: u, Email: strings.ToLower(u) + "@example.com"})
	}
	db, err := storage.Open(filepath.Join(t.TempDir(), "uxpin.db"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	rec := &recorder{}
	api := slack.New("xoxb-test", slack.OptionAPIURL(f.APIURL()), slack.OptionHTTPClient(&http.Client{Transport: rec}))
	svc := access.NewService(db, approvers{approver}, access.Config{Admins: admins}, nil)
	log := slog.New(slog.DiscardHandler)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	var ids []string
	for i := range n + done {
		r, err := svc.Submit(ctx, access.Submission{
			Action: access.ActionGrant, Requester: fmt.Sprintf("UREQ%03d", i), Role: access.RoleEditor, Justification: "test",
			Target: access.Person{ID: fmt.Sprintf("UTGT%03d", i), Email: fmt.Sprintf("utgt%03d@example.com", i)},
		})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.ID)
	}
	// The cards and receipts go out first, unpaced.
	delivery.New(db, api, render, log, delivery.Options{Limits: delivery.Limits{Off: true}}).Drain(ctx)
	if depth, err := db.OutboxDepth(ctx); err != nil || depth != 0 {
		t.Fatalf("outbox depth after the cards = %d, %v; want 0", depth, err)
	}
	rec.reset()

	for _, id := range ids[:n] {
		if _, err := svc.Decide(ctx, id, approver, access.Decision{Approve: true}); err != nil {
			t.Fatalf("approve %s: %v", id, err)
		}
	}
	// Posts 20/s per channel; chat.update 10/s after a burst of 2.
	w := delivery.New(db, api, render, log, delivery.Options{
		Limits: delivery.Limits{PostPerChannel: 20, PostBurst: 3, Tier3PerMinute: 600, TierBurst: 2, Tier4PerMinute: 6000},
	})
	w.Drain(ctx)
	if depth, err := db.OutboxDepth(ctx); err != nil || depth != 0 {
		t.Fatalf("outbox depth after the approvals = %d, %v; want 0", depth, err)
	}

	calls := rec.reset()
	cardChannel := f.DMs(approver)[0].Channel
	lastTask, lastUpdate, tasks, cardUpdates := -1, -1, 0, 0
	for i, c := range calls {
		switch {
		case c.method == "chat.postMessage" && (c.channel == admins[0] || c.channel == admins[1]):
			lastTask = i
			tasks++
		case c.method == "chat.update":
			lastUpdate = i
			if c.channel == cardChannel {
				cardUpdates++
			}
		}
	}
	if tasks != n {
		t.Fatalf("%d task DMs posted; want %d", tasks, n)
	}
	if lastTask > lastUpdate {
		t.Errorf("the last task DM was call %d, after the last card update (call %d); want every task first", lastTask, lastUpdate)
	}
	if cardUpdates != n {
		t.Errorf("%d approval card updates; want %d", cardUpdates, n)
	}

	// Approved and done before anything is delivered: each card owes two
	// updates, and one call shows the outcome.
	for _, id := range ids[n:] {
		r, err := svc.Decide(ctx, id, approver, access.Decision{Approve: true})
		if err != nil {
			t.Fatalf("approve %s: %v", id, err)
		}
		if _, err := svc.Complete(ctx, id, r.Assignee); err != nil {
			t.Fatalf("complete %s: %v", id, err)
		}
	}
	delivery.New(db, api, render, log, delivery.Options{Limits: delivery.Limits{Off: true}}).Drain(ctx)
	cardUpdates = 0
	for _, c := range rec.reset() {
		if c.method == "chat.update" && c.channel == cardChannel {
			cardUpdates++
		}
	}
	if cardUpdates != done {
		t.Errorf("%d approval card updates for %d requests approved and done; want %d (queued updates collapse)", cardUpdates, done, done)
	}
	for _, id := range ids {
		r, err := svc.Request(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		refs, err := db.MessageRefs(ctx, id, access.NoticeApprovalCard)
		if err != nil || len(refs) != 1 {
			t.Fatalf("card refs of %s = %v, %v; want one", id, refs, err)
		}
		m, ok := f.Message(refs[0].Channel, refs[0].TS)
		if !ok {
			t.Fatalf("card of %s is gone", id)
		}
		want, _ := handlers.Render(access.Notice{Kind: access.NoticeApprovalCard}, r)
		if m.Text != want {
			t.Errorf("card of %s (%s) shows %q; want %q", id, r.State, m.Text, want)
		}
	}
}
