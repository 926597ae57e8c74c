package delivery_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/uxpin-access-bot/uxpin-access-bot/access"
	"github.com/uxpin-access-bot/uxpin-access-bot/delivery"
	"github.com/uxpin-access-bot/uxpin-access-bot/internal/fakeslack"
	"github.com/uxpin-access-bot/uxpin-access-bot/storage"
)

type panicCounter struct {
	mu     sync.Mutex
	panics map[string]int
}

func (p *panicCounter) DeliveryFailed(string, bool) {}
func (p *panicCounter) Panicked(where string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.panics[where]++
}

func (p *panicCounter) count(where string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.panics[where]
}

// TestPanickingNoticeIsSetAside renders one request's approval card with a
// renderer that panics: the worker keeps going, every other message goes
// out, and that notice is set aside, with an audit event, after three tries.
func TestPanickingNoticeIsSetAside(t *testing.T) {
	f := fakeslack.New(fakeslack.Options{})
	t.Cleanup(f.Close)
	for _, u := range []string{"UAPPROVER", "UADMIN1", "UREQ1", "UREQ2", "UREQ3", "UTGT1", "UTGT2", "UTGT3"} {
		f.AddUser(fakeslack.User{ID: u, Name: strings.ToLower(u), RealName: u, Email: strings.ToLower(u) + "@example.com"})
	}
	db, err := storage.Open(filepath.Join(t.TempDir(), "uxpin.db"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	api := slack.New("xoxb-test", slack.OptionAPIURL(f.APIURL()), slack.OptionHTTPClient(http.DefaultClient))
	svc := access.NewService(db, approvers{"UAPPROVER"}, access.Config{Admins: []string{"UADMIN1"}}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var ids []string
	for i := 1; i <= 3; i++ {
		r, err := svc.Submit(ctx, access.Submission{
			Action: access.ActionGrant, Requester: fmt.Sprintf("UREQ%d", i), Role: access.RoleViewer, Justification: "test",
			Target: access.Person{ID: fmt.Sprintf("UTGT%d", i), Email: fmt.Sprintf("utgt%d@example.com", i)},
		})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.ID)
	}
	bad := ids[1]
	panicky := func(ctx context.Context, n access.Notice, r *access.Request) (string, []slack.Block, error) {
		if r.ID == bad && n.Kind == access.NoticeApprovalCard {
			panic("renderer bug")
		}
		return render(ctx, n, r)
	}
	obs := &panicCounter{panics: map[string]int{}}
	w := delivery.New(db, api, panicky, slog.New(slog.DiscardHandler), delivery.Options{
		BaseBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond, PollInterval: 10 * time.Millisecond,
		Observer: obs, Limits: delivery.Limits{Off: true},
	})
	wctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- w.Run(wctx) }()
	defer func() { stop(); <-done }()

	if err := fakeslack.WaitFor(ctx, func() bool {
		n, err := db.OutboxDepth(ctx)
		return err == nil && n == 0
	}); err != nil {
		t.Fatalf("the outbox did not empty: %v", err)
	}
	dead, err := db.DeadLetters(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(dead) != 1 || dead[0].RequestID != bad || dead[0].Kind != access.NoticeApprovalCard || !strings.Contains(dead[0].LastError, "panicked 3 times") {
		t.Fatalf("dead letters = %+v; want %s's approval card, panicked 3 times", dead, bad)
	}
	if got := obs.count("notice"); got != 3 {
		t.Errorf("panics counted = %d; want 3", got)
	}
	for i, id := range ids {
		if got := len(f.DMs(fmt.Sprintf("UREQ%d", i+1))); got != 1 {
			t.Errorf("requester of %s got %d DMs; want 1", id, got)
		}
	}
	if got := len(f.DMs("UAPPROVER")); got != 2 {
		t.Errorf("approver got %d cards; want 2 (all but the one that panics)", got)
	}
	var undeliverable int
	if err := db.Events(ctx, func(e access.Event) error {
		if e.RequestID == bad && strings.Contains(e.Detail, "undeliverable") {
			undeliverable++
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if undeliverable != 1 {
		t.Errorf("%d audit events say %s's card was undeliverable; want 1", undeliverable, bad)
	}
}
