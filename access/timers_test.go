package access_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/uxpin-access-bot/uxpin-access-bot/access"
	"github.com/uxpin-access-bot/uxpin-access-bot/storage"
)

// clock is a settable clock for the scheduler.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type approvers []string

func (a approvers) Approvers(context.Context) ([]string, error) { return a, nil }

type rig struct {
	t    *testing.T
	path string
	clk  *clock
	db   *storage.DB
	svc  *access.Service
	pol  access.Config
}

func newRig(t *testing.T, pol access.Config) *rig {
	r := &rig{t: t, path: filepath.Join(t.TempDir(), "s.db"), clk: &clock{t: time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)}, pol: pol}
	r.open()
	t.Cleanup(func() { r.db.Close() })
	return r
}

func (r *rig) open() {
	db, err := storage.Open(r.path, storage.Options{Now: r.clk.Now})
	if err != nil {
		r.t.Fatal(err)
	}
	r.db = db
	r.svc = access.NewService(db, approvers{"A1", "A2"}, r.pol, r.clk.Now)
}

// restart closes and reopens the database with a fresh Service, as a new
// process would.
func (r *rig) restart() {
	if err := r.db.Close(); err != nil {
		r.t.Fatal(err)
	}
	r.open()
}

func (r *rig) fire() int {
	r.t.Helper()
	n, err := r.svc.FireDue(context.Background())
	if err != nil {
		r.t.Fatalf("FireDue: %v", err)
	}
	return n
}

// queued counts outbox notices of kind.
func (r *rig) queued(kind access.NoticeKind) int {
	r.t.Helper()
	ns, err := r.db.DueNotices(context.Background(), time.Unix(1<<40, 0), 0)
	if err != nil {
		r.t.Fatal(err)
	}
	n := 0
	for _, x := range ns {
		if x.Kind == kind {
			n++
		}
	}
	return n
}

func (r *rig) submit(target string, end string) *access.Request {
	r.t.Helper()
	req, err := r.svc.Submit(context.Background(), access.Submission{
		Action: access.ActionGrant, Requester: "U1", Role: access.RoleEditor, Justification: "x", EndDate: end,
		Target: access.Person{ID: target, Email: target + "@example.com"},
	})
	if err != nil {
		r.t.Fatal(err)
	}
	return req
}

func (r *rig) get(id string) *access.Request {
	r.t.Helper()
	req, err := r.svc.Request(context.Background(), id)
	if err != nil {
		r.t.Fatal(err)
	}
	return req
}

func TestReminderFiresOnceAndCatchesUp(t *testing.T) {
	r := newRig(t, access.Config{Admins: []string{"ADM"}, ReminderInterval: time.Hour})
	req := r.submit("T1", "")
	if n := r.fire(); n != 0 {
		t.Fatalf("FireDue before the interval fired %d timers", n)
	}
	r.clk.Add(time.Hour)
	if n := r.fire(); n != 1 {
		t.Fatalf("FireDue at the interval fired %d timers; want 1", n)
	}
	if n := r.fire(); n != 0 {
		t.Fatalf("FireDue again fired %d timers; want 0 (fires once)", n)
	}
	if got := r.queued(access.NoticeReminder); got != 2 {
		t.Fatalf("%d reminders queued; want one per approver (2)", got)
	}

	// A long downtime: ten intervals pass, then one restart.
	r.clk.Add(10 * time.Hour)
	r.restart()
	if n := r.fire(); n != 1 {
		t.Fatalf("catch-up fired %d timers; want 1", n)
	}
	if got := r.queued(access.NoticeReminder); got != 4 {
		t.Errorf("%d reminders queued after catch-up; want 4 (one more each)", got)
	}
	got := r.get(req.ID)
	if got.Reminders != 2 || !got.LastReminder.Equal(r.clk.Now()) || !got.RemindAt.Equal(r.clk.Now().Add(time.Hour)) {
		t.Errorf("after catch-up: reminders=%d last=%v next=%v; want 2, now, now+1h", got.Reminders, got.LastReminder, got.RemindAt)
	}

	// A decision disarms it.
	if _, err := r.svc.Decide(context.Background(), req.ID, "A1", access.Decision{Approve: true}); err != nil {
		t.Fatal(err)
	}
	r.clk.Add(5 * time.Hour)
	r.fire()
	if got := r.queued(access.NoticeReminder); got != 4 {
		t.Errorf("reminders after the decision = %d; want still 4", got)
	}
}

func TestTimerSurvivesRestartBetweenDueAndFiring(t *testing.T) {
	r := newRig(t, access.Config{Admins: []string{"ADM1", "ADM2"}, EscalateAfter: 48 * time.Hour})
	req := r.submit("T1", "")
	if _, err := r.svc.Decide(context.Background(), req.ID, "A1", access.Decision{Approve: true}); err != nil {
		t.Fatal(err)
	}
	r.clk.Add(49 * time.Hour)
	r.restart() // due, not fired yet
	if n := r.fire(); n != 1 {
		t.Fatalf("fired %d after restart; want 1", n)
	}
	got := r.get(req.ID)
	if got.Assignee != "ADM2" || len(got.PreviousAssignees) != 1 || got.PreviousAssignees[0] != "ADM1" {
		t.Errorf("after escalation assignee=%s previous=%v; want ADM2 after ADM1", got.Assignee, got.PreviousAssignees)
	}
	if n := r.queued(access.NoticeEscalated); n != 3 {
		t.Errorf("%d escalation notices; want the first admin and two approvers (3)", n)
	}
}

func TestEscalationWithOneAdminGoesToApprovers(t *testing.T) {
	r := newRig(t, access.Config{Admins: []string{"ADM1"}, EscalateAfter: time.Hour})
	req := r.submit("T1", "")
	if _, err := r.svc.Decide(context.Background(), req.ID, "A1", access.Decision{Approve: true}); err != nil {
		t.Fatal(err)
	}
	r.clk.Add(time.Hour)
	r.fire()
	got := r.get(req.ID)
	if got.Assignee != "ADM1" || got.Escalations != 1 {
		t.Errorf("assignee=%s escalations=%d; want ADM1 kept, 1 escalation", got.Assignee, got.Escalations)
	}
	if n := r.queued(access.NoticeEscalated); n != 2 {
		t.Errorf("%d escalation notices; want the two approvers", n)
	}
}

func TestExpiryCreatesApprovedRemoval(t *testing.T) {
	r := newRig(t, access.Config{Admins: []string{"ADM1"}})
	ctx := context.Background()
	req := r.submit("T1", "2026-12-05")
	if _, err := r.svc.Decide(ctx, req.ID, "A1", access.Decision{Approve: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.svc.Complete(ctx, req.ID, "ADM1"); err != nil {
		t.Fatal(err)
	}
	// Access ends at the end of 2026-12-05 (UTC here): the warning is a
	// day before that, at the start of the end date.
	r.clk.t = time.Date(2026, 12, 4, 23, 59, 0, 0, time.UTC)
	if n := r.fire(); n != 0 {
		t.Fatalf("two days before the end fired %d; want 0", n)
	}
	r.clk.t = time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)
	if n := r.fire(); n != 1 || r.queued(access.NoticeExpiryWarn) != 2 {
		t.Fatalf("a day before: fired %d, warnings %d; want 1 and 2 (requester, target)", n, r.queued(access.NoticeExpiryWarn))
	}
	r.clk.t = time.Date(2026, 12, 9, 0, 0, 0, 0, time.UTC) // down over the end date
	r.restart()
	if n := r.fire(); n != 1 {
		t.Fatalf("at the end date fired %d; want 1", n)
	}
	if n := r.fire(); n != 0 {
		t.Fatalf("fired again: %d", n)
	}
	rm := r.get("R-2")
	if rm.Action != access.ActionRemove || rm.State != access.StateApproved || rm.Origin != access.OriginExpiry ||
		rm.DecidedBy != "A1" || rm.Assignee != "ADM1" || rm.AutoReason != req.ID {
		t.Fatalf("removal = %+v; want an approved removal by A1's original decision, assigned to ADM1", rm)
	}
	if _, err := r.svc.Complete(ctx, rm.ID, "ADM1"); err != nil {
		t.Fatal(err)
	}
	if g, _ := r.db.GrantFor(ctx, "T1"); g != nil {
		t.Errorf("ledger still shows %+v after the expiry removal", g)
	}
}

func TestOffboardOncePerLeaver(t *testing.T) {
	r := newRig(t, access.Config{Admins: []string{"ADM1"}})
	ctx := context.Background()
	req := r.submit("T1", "")
	r.svc.Decide(ctx, req.ID, "A1", access.Decision{Approve: true})
	r.svc.Complete(ctx, req.ID, "ADM1")
	p := access.Person{ID: "T1", Deleted: true}
	if _, err := r.svc.Offboard(ctx, access.Person{ID: "NOBODY", Deleted: true}, "left"); access.ErrorCode(err) != access.ENOTFOUND {
		t.Errorf("Offboard(no access) = %v; want ENOTFOUND", err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 5)
	for range 5 {
		wg.Go(func() {
			_, err := r.svc.Offboard(ctx, p, "deactivated")
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	created := 0
	for err := range errs {
		switch access.ErrorCode(err) {
		case "":
			created++
		case access.ECONFLICT:
		default:
			t.Errorf("Offboard = %v", err)
		}
	}
	if created != 1 {
		t.Fatalf("%d removals created for one leaver; want 1", created)
	}
	rm := r.get("R-2")
	if rm.Origin != access.OriginLeaver || rm.State != access.StateApproved || rm.Assignee != "ADM1" || rm.Requester != "" {
		t.Errorf("leaver removal = %+v", rm)
	}
}

func TestConfirmAndReopen(t *testing.T) {
	r := newRig(t, access.Config{Admins: []string{"ADM1"}})
	ctx := context.Background()
	a := r.submit("T1", "")
	r.svc.Decide(ctx, a.ID, "A1", access.Decision{Approve: true})
	r.svc.Complete(ctx, a.ID, "ADM1")
	if _, err := r.svc.Confirm(ctx, a.ID, "U1"); access.ErrorCode(err) != access.EUNAUTHORIZED {
		t.Errorf("Confirm by the requester = %v; want EUNAUTHORIZED (only the target)", err)
	}
	if _, err := r.svc.Confirm(ctx, a.ID, "T1"); err != nil {
		t.Fatal(err)
	}
	if g, _ := r.db.GrantFor(ctx, "T1"); g == nil || !g.Confirmed {
		t.Errorf("ledger = %+v; want a confirmed grant", g)
	}
	if _, err := r.svc.Confirm(ctx, a.ID, "T1"); access.ErrorCode(err) != access.ECONFLICT {
		t.Errorf("second Confirm = %v; want ECONFLICT", err)
	}

	b := r.submit("T2", "")
	r.svc.Decide(ctx, b.ID, "A1", access.Decision{Approve: true})
	r.svc.Complete(ctx, b.ID, "ADM1")
	if _, err := r.svc.Reopen(ctx, b.ID, "T2", ""); access.ErrorCode(err) != access.EINVALID {
		t.Errorf("Reopen without a message = %v; want EINVALID", err)
	}
	got, err := r.svc.Reopen(ctx, b.ID, "T2", "no invitation email")
	if err != nil {
		t.Fatal(err)
	}
	if got.State != access.StateApproved || got.Assignee != "ADM1" || got.ReopenReason != "no invitation email" {
		t.Errorf("after reopen = %+v", got)
	}
	if _, err := r.svc.Complete(ctx, b.ID, "ADM1"); err != nil {
		t.Errorf("Complete after reopen = %v", err)
	}
}
