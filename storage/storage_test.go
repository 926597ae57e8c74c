package storage_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/uxpin-access-bot/uxpin-access-bot/access"
	"github.com/uxpin-access-bot/uxpin-access-bot/storage"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// clock is a test clock that moves only when told to.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// MustOpenDB opens a database in a fresh temporary directory and closes it
// when the test ends.
func MustOpenDB(tb testing.TB) (*storage.DB, *clock, string) {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "data", "bot.db")
	c := &clock{now: t0}
	return MustOpenPath(tb, path, c), c, path
}

// MustOpenPath opens the database at path and closes it when the test ends.
func MustOpenPath(tb testing.TB, path string, c *clock) *storage.DB {
	tb.Helper()
	db, err := storage.Open(path, storage.Options{Now: c.Now})
	if err != nil {
		tb.Fatalf("Open(%q) = %v", path, err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// MustCreate stores a copy of r (whose ID is ignored) with fx.
func MustCreate(tb testing.TB, db *storage.DB, r access.Request, fx access.Effects) *access.Request {
	tb.Helper()
	got, err := db.CreateRequest(context.Background(), func(_ access.Tx, nr *access.Request) (access.Effects, error) {
		r.ID = nr.ID
		if r.CreatedAt.IsZero() {
			r.CreatedAt = nr.CreatedAt
		}
		*nr = r
		return fx, nil
	})
	if err != nil {
		tb.Fatalf("CreateRequest(%+v) = %v", r, err)
	}
	return got
}

// MustUpdate applies change to request id and stores it with fx.
func MustUpdate(tb testing.TB, db *storage.DB, id string, change func(r *access.Request), fx access.Effects) *access.Request {
	tb.Helper()
	got, err := db.UpdateRequest(context.Background(), id, func(_ access.Tx, r *access.Request) (access.Effects, error) {
		change(r)
		return fx, nil
	})
	if err != nil {
		tb.Fatalf("UpdateRequest(%q) = %v", id, err)
	}
	return got
}

func pending(requester, target string, action access.Action) access.Request {
	return access.Request{
		Action: action, Requester: requester, Target: target,
		TargetEmail: target + "@example.com", Role: access.RoleEditor, State: access.StatePending,
	}
}

func ids(rs []*access.Request) []string {
	out := []string{}
	for _, r := range rs {
		out = append(out, r.ID)
	}
	return out
}

func TestOpen_CreatesPrivateFile(t *testing.T) {
	_, _, path := MustOpenDB(t)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o600 {
		t.Errorf("database file mode = %v; want 0600", got)
	}
	di, err := os.Stat(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if got := di.Mode().Perm(); got != 0o700 {
		t.Errorf("database directory mode = %v; want 0700", got)
	}
}

func TestOpen_InUse(t *testing.T) {
	db, _, path := MustOpenDB(t)
	start := time.Now()
	db2, err := storage.Open(path, storage.Options{LockTimeout: 50 * time.Millisecond})
	if err == nil {
		db2.Close()
		t.Fatalf("second Open(%q) succeeded; want ErrInUse", path)
	}
	if !errors.Is(err, storage.ErrInUse) {
		t.Errorf("second Open(%q) = %v; want an error wrapping ErrInUse", path, err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("second Open took %s; want it to fail fast", d)
	}
	if err := db.Ping(context.Background()); err != nil {
		t.Errorf("first DB Ping() = %v; want nil", err)
	}
}

func TestOpen_SchemaVersion(t *testing.T) {
	for _, tc := range []struct {
		name    string
		version uint64
		want    error // nil means Open succeeds
	}{
		{"current", storage.SchemaVersion, nil},
		{"newer", storage.SchemaVersion + 1, storage.ErrNewerSchema},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "bot.db")
			db, err := storage.Open(path, storage.Options{})
			if err != nil {
				t.Fatal(err)
			}
			db.Close()

			// Rewrite the version as a different build of the program would.
			b, err := bolt.Open(path, 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := b.Update(func(tx *bolt.Tx) error {
				v := make([]byte, 8)
				for i := range 8 {
					v[i] = byte(tc.version >> (56 - 8*i))
				}
				return tx.Bucket([]byte("meta")).Put([]byte("schema_version"), v)
			}); err != nil {
				t.Fatal(err)
			}
			b.Close()

			db, err = storage.Open(path, storage.Options{})
			if err == nil {
				db.Close()
			}
			if tc.want == nil && err != nil {
				t.Errorf("Open(schema %d) = %v; want nil", tc.version, err)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("Open(schema %d) = %v; want %v", tc.version, err, tc.want)
			}
		})
	}
}

func TestCreateRequest_Fills(t *testing.T) {
	db, clk, _ := MustOpenDB(t)
	ctx := context.Background()
	var sawID string
	var sawCreated time.Time
	r, err := db.CreateRequest(ctx, func(_ access.Tx, r *access.Request) (access.Effects, error) {
		sawID, sawCreated = r.ID, r.CreatedAt
		r.Requester, r.Target, r.Action, r.State = "U1", "U2", access.ActionGrant, access.StatePending
		return access.Effects{
			Events:  []access.Event{{Actor: "U1", To: access.StatePending, Detail: "submitted"}},
			Notices: []access.Notice{{Kind: access.NoticeSubmitted, To: "U1"}},
		}, nil
	})
	if err != nil {
		t.Fatalf("CreateRequest() = %v", err)
	}
	if sawID != "R-1" || !sawCreated.Equal(clk.Now()) {
		t.Errorf("fn saw ID %q, CreatedAt %v; want R-1, %v", sawID, sawCreated, clk.Now())
	}
	if r.ID != "R-1" || r.Version != 1 {
		t.Errorf("CreateRequest() = %s version %d; want R-1 version 1", r.ID, r.Version)
	}
	got, err := db.Request(ctx, "R-1")
	if err != nil {
		t.Fatalf("Request(R-1) = %v", err)
	}
	if !reflect.DeepEqual(got, r) {
		t.Errorf("Request(R-1) = %+v; want %+v", got, r)
	}
	var events []access.Event
	if err := db.Events(ctx, func(ev access.Event) error { events = append(events, ev); return nil }); err != nil {
		t.Fatal(err)
	}
	wantEv := []access.Event{{Seq: 1, Time: t0, RequestID: "R-1", Actor: "U1", To: access.StatePending, Detail: "submitted"}}
	if !reflect.DeepEqual(events, wantEv) {
		t.Errorf("Events() = %+v; want %+v", events, wantEv)
	}
	notices, err := db.DueNotices(ctx, clk.Now(), 0)
	if err != nil {
		t.Fatal(err)
	}
	wantN := []access.Notice{{ID: 1, Kind: access.NoticeSubmitted, RequestID: "R-1", To: "U1", CreatedAt: t0}}
	if !reflect.DeepEqual(notices, wantN) {
		t.Errorf("DueNotices() = %+v; want %+v", notices, wantN)
	}
}

func TestCreateRequest_FnMustKeepID(t *testing.T) {
	db, _, _ := MustOpenDB(t)
	_, err := db.CreateRequest(context.Background(), func(_ access.Tx, r *access.Request) (access.Effects, error) {
		r.ID = "R-77"
		return access.Effects{}, nil
	})
	if err == nil {
		t.Fatal("CreateRequest with fn changing the ID succeeded; want an error")
	}
	if _, err := db.Request(context.Background(), "R-77"); access.ErrorCode(err) != access.ENOTFOUND {
		t.Errorf("Request(R-77) = %v; want ENOTFOUND", err)
	}
}

func TestIndexes(t *testing.T) {
	db, clk, _ := MustOpenDB(t)
	ctx := context.Background()
	// R-1..R-5: U1 asks three times, U2 twice.
	for _, r := range []access.Request{
		pending("U1", "T1", access.ActionGrant),
		pending("U2", "T2", access.ActionGrant),
		pending("U1", "T3", access.ActionChange),
		pending("U2", "T4", access.ActionRemove),
		pending("U1", "T5", access.ActionGrant),
	} {
		MustCreate(t, db, r, access.Effects{})
		clk.Advance(time.Minute)
	}
	approve := func(assignee string) func(r *access.Request) {
		return func(r *access.Request) {
			r.State, r.DecidedBy, r.Assignee = access.StateApproved, "A1", assignee
		}
	}
	MustUpdate(t, db, "R-2", approve("ADM1"), access.Effects{})
	MustUpdate(t, db, "R-3", approve("ADM2"), access.Effects{})
	MustUpdate(t, db, "R-4", approve("ADM1"), access.Effects{})
	MustUpdate(t, db, "R-5", func(r *access.Request) { r.State = access.StateDenied }, access.Effects{})
	// R-4 is done; R-1 stays pending.
	MustUpdate(t, db, "R-4", func(r *access.Request) { r.State = access.StateFulfilled }, access.Effects{})

	for _, tc := range []struct {
		name string
		list func() ([]*access.Request, error)
		want []string
	}{
		{"RequestsByRequester(U1, 0)", func() ([]*access.Request, error) { return db.RequestsByRequester(ctx, "U1", 0) }, []string{"R-5", "R-3", "R-1"}},
		{"RequestsByRequester(U1, 2)", func() ([]*access.Request, error) { return db.RequestsByRequester(ctx, "U1", 2) }, []string{"R-5", "R-3"}},
		{"RequestsByRequester(U2, 10)", func() ([]*access.Request, error) { return db.RequestsByRequester(ctx, "U2", 10) }, []string{"R-4", "R-2"}},
		{"RequestsByRequester(U, 10)", func() ([]*access.Request, error) { return db.RequestsByRequester(ctx, "U", 10) }, []string{}},
		{"RequestsByRequester(\"\", 10)", func() ([]*access.Request, error) { return db.RequestsByRequester(ctx, "", 10) }, []string{}},
		{"PendingRequests(0)", func() ([]*access.Request, error) { return db.PendingRequests(ctx, 0) }, []string{"R-1"}},
		{"OpenTasks(ADM1, 10)", func() ([]*access.Request, error) { return db.OpenTasks(ctx, "ADM1", 10) }, []string{"R-2"}},
		{"OpenTasks(ADM2, 10)", func() ([]*access.Request, error) { return db.OpenTasks(ctx, "ADM2", 10) }, []string{"R-3"}},
		{"OpenTasks(ADM, 10)", func() ([]*access.Request, error) { return db.OpenTasks(ctx, "ADM", 10) }, []string{}},
	} {
		got, err := tc.list()
		if err != nil {
			t.Errorf("%s = %v", tc.name, err)
			continue
		}
		if !slices.Equal(ids(got), tc.want) {
			t.Errorf("%s = %v; want %v", tc.name, ids(got), tc.want)
		}
	}

	// The Tx view inside a write sees the open-request and task indexes.
	_, err := db.CreateRequest(ctx, func(tx access.Tx, r *access.Request) (access.Effects, error) {
		for _, tc := range []struct {
			target string
			action access.Action
			want   string
		}{
			{"T1", access.ActionGrant, "R-1"},  // pending
			{"T2", access.ActionGrant, "R-2"},  // approved
			{"T3", access.ActionChange, "R-3"}, // approved
			{"T3", access.ActionGrant, ""},     // other action
			{"T4", access.ActionRemove, ""},    // fulfilled
			{"T5", access.ActionGrant, ""},     // denied
			{"T", access.ActionGrant, ""},
		} {
			if got, err := tx.OpenRequestFor(tc.target, tc.action); err != nil || got != tc.want {
				t.Errorf("OpenRequestFor(%q, %q) = %q, %v; want %q", tc.target, tc.action, got, err, tc.want)
			}
		}
		counts, err := tx.OpenTaskCounts()
		if want := map[string]int{"ADM1": 1, "ADM2": 1}; err != nil || !reflect.DeepEqual(counts, want) {
			t.Errorf("OpenTaskCounts() = %v, %v; want %v", counts, err, want)
		}
		return access.Effects{}, errors.New("only looking")
	})
	if err == nil {
		t.Error("CreateRequest with a failing fn succeeded")
	}

	counts, err := db.CountByState(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[access.State]int{
		access.StatePending: 1, access.StateApproved: 2, access.StateDenied: 1,
		access.StateFulfilled: 1, access.StateFailed: 0, access.StateCancelled: 0,
	}
	if !reflect.DeepEqual(counts, want) {
		t.Errorf("CountByState() = %v; want %v", counts, want)
	}
}

func TestUpdateRequest_Reassign(t *testing.T) {
	db, _, _ := MustOpenDB(t)
	ctx := context.Background()
	r := MustCreate(t, db, pending("U1", "T1", access.ActionGrant), access.Effects{})
	MustUpdate(t, db, r.ID, func(r *access.Request) { r.State, r.Assignee = access.StateApproved, "ADM1" }, access.Effects{})
	got := MustUpdate(t, db, r.ID, func(r *access.Request) { r.Assignee = "ADM2" }, access.Effects{})
	if got.Version != 3 {
		t.Errorf("UpdateRequest(%s).Version = %d; want 3", r.ID, got.Version)
	}
	for admin, want := range map[string][]string{"ADM1": {}, "ADM2": {"R-1"}} {
		tasks, err := db.OpenTasks(ctx, admin, 0)
		if err != nil || !slices.Equal(ids(tasks), want) {
			t.Errorf("OpenTasks(%q) = %v, %v; want %v", admin, ids(tasks), err, want)
		}
	}
}

func TestFnError_RollsBack(t *testing.T) {
	db, clk, _ := MustOpenDB(t)
	ctx := context.Background()
	fx := access.Effects{
		Events:  []access.Event{{Actor: "U1", To: access.StatePending}},
		Notices: []access.Notice{{Kind: access.NoticeSubmitted, To: "U1"}, {Kind: access.NoticeApprovalCard, To: "A1"}},
		Grant:   &access.Grant{UserID: "T1", Email: "t1@example.com", Role: access.RoleViewer},
	}
	verr := &access.ValidationError{Fields: map[string]string{access.FieldTarget: "no"}}
	_, err := db.CreateRequest(ctx, func(_ access.Tx, r *access.Request) (access.Effects, error) {
		*r = pending("U1", "T1", access.ActionGrant)
		return fx, verr
	})
	if ve, ok := errors.AsType[*access.ValidationError](err); !ok || ve != verr {
		t.Errorf("CreateRequest(failing fn) = %v; want the fn's *ValidationError", err)
	}
	if _, err := db.Request(ctx, "R-1"); access.ErrorCode(err) != access.ENOTFOUND {
		t.Errorf("Request(R-1) after rollback = %v; want ENOTFOUND", err)
	}
	if n, err := db.OutboxDepth(ctx); err != nil || n != 0 {
		t.Errorf("OutboxDepth() after rollback = %d, %v; want 0", n, err)
	}
	if roster, err := db.Roster(ctx); err != nil || len(roster) != 0 {
		t.Errorf("Roster() after rollback = %v, %v; want empty", roster, err)
	}
	select {
	case <-db.Wake():
		t.Error("Wake() signalled after a rolled-back transaction")
	default:
	}

	// The sequences rolled back with the transaction.
	r := MustCreate(t, db, pending("U1", "T1", access.ActionGrant), access.Effects{Notices: fx.Notices[:1]})
	if r.ID != "R-1" {
		t.Errorf("CreateRequest after rollback = %s; want R-1", r.ID)
	}
	due, err := db.DueNotices(ctx, clk.Now(), 0)
	if err != nil || len(due) != 1 || due[0].ID != 1 {
		t.Errorf("DueNotices() = %v, %v; want notice 1 only", due, err)
	}

	// A failing update changes nothing either.
	conflict := access.Errorf(access.ECONFLICT, "R-1 is already approved.")
	_, err = db.UpdateRequest(ctx, "R-1", func(_ access.Tx, r *access.Request) (access.Effects, error) {
		r.State = access.StateApproved
		return fx, fmt.Errorf("decide: %w", conflict)
	})
	if access.ErrorCode(err) != access.ECONFLICT {
		t.Errorf("UpdateRequest(failing fn) = %v; want ECONFLICT", err)
	}
	got, err := db.Request(ctx, "R-1")
	if err != nil || got.State != access.StatePending || got.Version != 1 {
		t.Errorf("Request(R-1) after failed update = %+v, %v; want pending version 1", got, err)
	}
	if n, err := db.OutboxDepth(ctx); err != nil || n != 1 {
		t.Errorf("OutboxDepth() after failed update = %d, %v; want 1", n, err)
	}
	var events int
	db.Events(ctx, func(access.Event) error { events++; return nil })
	if events != 0 {
		t.Errorf("Events() after rollbacks = %d events; want 0", events)
	}
}

func TestUpdateRequest_FnGetsCopy(t *testing.T) {
	db, _, _ := MustOpenDB(t)
	ctx := context.Background()
	r := pending("U1", "T1", access.ActionGrant)
	r.Approvers = []string{"A1", "A2"}
	MustCreate(t, db, r, access.Effects{})
	db.UpdateRequest(ctx, "R-1", func(_ access.Tx, r *access.Request) (access.Effects, error) {
		r.Approvers[0] = "HACKED"
		r.State = access.StateApproved
		return access.Effects{}, errors.New("no")
	})
	got, err := db.Request(ctx, "R-1")
	if err != nil || got.Approvers[0] != "A1" || got.State != access.StatePending {
		t.Errorf("Request(R-1) = %+v, %v; want the stored request unchanged", got, err)
	}
}

func TestNotFound(t *testing.T) {
	db, _, _ := MustOpenDB(t)
	ctx := context.Background()
	MustCreate(t, db, pending("U1", "T1", access.ActionGrant), access.Effects{})
	for _, id := range []string{
		"R-2", "R-999", "", "R-", "R-0", "R-x", "r-1", "X-1", "R--1", "R-+1", " R-1", "R-1 ",
		"R-1\x00", "R-18446744073709551616", "R-18446744073709551615", string(make([]byte, 40000)),
	} {
		_, err := db.Request(ctx, id)
		if access.ErrorCode(err) != access.ENOTFOUND {
			t.Errorf("Request(%q) = %v; want ENOTFOUND", id, err)
		} else if msg := access.ErrorMessage(err); len(msg) > 100 {
			t.Errorf("Request(%.20q…) message is %d bytes; want the hostile ID shortened", id, len(msg))
		}
		called := false
		_, err = db.UpdateRequest(ctx, id, func(access.Tx, *access.Request) (access.Effects, error) {
			called = true
			return access.Effects{}, nil
		})
		if access.ErrorCode(err) != access.ENOTFOUND || called {
			t.Errorf("UpdateRequest(%q) = %v (fn called: %t); want ENOTFOUND without calling fn", id, err, called)
		}
		if refs, err := db.MessageRefs(ctx, id, access.NoticeApprovalCard); err != nil || len(refs) != 0 {
			t.Errorf("MessageRefs(%q) = %v, %v; want none", id, refs, err)
		}
	}
}

func grantFx(user, email string, role access.Role) access.Effects {
	return access.Effects{Grant: &access.Grant{UserID: user, Email: email, Role: role, Since: t0, RequestID: "R-1"}}
}

func TestLedger(t *testing.T) {
	db, _, _ := MustOpenDB(t)
	ctx := context.Background()
	MustCreate(t, db, pending("U1", "T1", access.ActionGrant), access.Effects{})
	noop := func(*access.Request) {}
	emails := func() []string {
		t.Helper()
		roster, err := db.Roster(ctx)
		if err != nil {
			t.Fatalf("Roster() = %v", err)
		}
		out := []string{}
		for _, g := range roster {
			out = append(out, g.UserID+"="+g.Email+":"+string(g.Role))
		}
		return out
	}
	grantFor := func(user string) *access.Grant {
		t.Helper()
		var g *access.Grant
		_, err := db.UpdateRequest(ctx, "R-1", func(tx access.Tx, _ *access.Request) (access.Effects, error) {
			var err error
			g, err = tx.GrantFor(user)
			return access.Effects{}, err
		})
		if err != nil {
			t.Fatalf("GrantFor(%q) = %v", user, err)
		}
		return g
	}

	for _, step := range []struct {
		name string
		fx   access.Effects
		want []string
	}{
		{"grant T1", grantFx("T1", "Zed@Example.com", access.RoleViewer), []string{"T1=Zed@Example.com:viewer"}},
		{"grant T2", grantFx("T2", "amy@example.com", access.RoleEditor), []string{"T2=amy@example.com:editor", "T1=Zed@Example.com:viewer"}},
		{"grant T3", grantFx("T3", "mo@example.com", access.RoleAdmin), []string{"T2=amy@example.com:editor", "T3=mo@example.com:admin", "T1=Zed@Example.com:viewer"}},
		{"change T1 role", grantFx("T1", "zed@example.com", access.RoleEditor), []string{"T2=amy@example.com:editor", "T3=mo@example.com:admin", "T1=zed@example.com:editor"}},
		{"change T1 email", grantFx("T1", "bea@example.com", access.RoleEditor), []string{"T2=amy@example.com:editor", "T1=bea@example.com:editor", "T3=mo@example.com:admin"}},
		{"revoke T3", access.Effects{Revokes: []string{"T3"}}, []string{"T2=amy@example.com:editor", "T1=bea@example.com:editor"}},
		{"revoke unknown", access.Effects{Revokes: []string{"T9"}}, []string{"T2=amy@example.com:editor", "T1=bea@example.com:editor"}},
		{"email moves to T4", grantFx("T4", "amy@example.com", access.RoleViewer), []string{"T4=amy@example.com:viewer", "T1=bea@example.com:editor"}},
	} {
		MustUpdate(t, db, "R-1", noop, step.fx)
		if got := emails(); !slices.Equal(got, step.want) {
			t.Errorf("after %s: Roster() = %v; want %v", step.name, got, step.want)
		}
	}
	for user, want := range map[string]string{"T1": "bea@example.com", "T2": "", "T3": "", "T4": "amy@example.com", "": ""} {
		g := grantFor(user)
		got := ""
		if g != nil {
			got = g.Email
		}
		if got != want {
			t.Errorf("GrantFor(%q) = %q; want %q", user, got, want)
		}
	}
	// A grant without an email is refused, and nothing is written.
	_, err := db.UpdateRequest(ctx, "R-1", func(access.Tx, *access.Request) (access.Effects, error) {
		return grantFx("T5", "", access.RoleViewer), nil
	})
	if err == nil {
		t.Error("UpdateRequest with an email-less grant succeeded; want an error")
	}
}

func TestOutbox(t *testing.T) {
	db, clk, _ := MustOpenDB(t)
	ctx := context.Background()

	if _, ok, err := db.NextDue(ctx); ok || err != nil {
		t.Errorf("NextDue() on an empty outbox = %t, %v; want false", ok, err)
	}
	MustCreate(t, db, pending("U1", "T1", access.ActionGrant), access.Effects{})
	select {
	case <-db.Wake():
		t.Error("Wake() signalled after a commit without notices")
	default:
	}
	MustUpdate(t, db, "R-1", func(*access.Request) {}, access.Effects{Notices: []access.Notice{
		{Kind: access.NoticeSubmitted, To: "U1"},
		{Kind: access.NoticeApprovalCard, To: "A1"},
		{Kind: access.NoticeApprovalCard, To: "A2"},
		{Kind: access.NoticeApprovalCard, To: "A3"},
	}})
	select {
	case <-db.Wake():
	default:
		t.Error("Wake() not signalled after a commit with notices")
	}

	dueIDs := func(now time.Time, limit int) []uint64 {
		t.Helper()
		due, err := db.DueNotices(ctx, now, limit)
		if err != nil {
			t.Fatalf("DueNotices() = %v", err)
		}
		out := []uint64{}
		for _, n := range due {
			out = append(out, n.ID)
		}
		return out
	}
	if got, want := dueIDs(clk.Now(), 0), []uint64{1, 2, 3, 4}; !slices.Equal(got, want) {
		t.Errorf("DueNotices(now, 0) = %v; want %v", got, want)
	}
	if got, want := dueIDs(clk.Now(), 2), []uint64{1, 2}; !slices.Equal(got, want) {
		t.Errorf("DueNotices(now, 2) = %v; want %v", got, want)
	}

	// Notice 1 failed once; it is due again in a minute, notice 3 in five.
	later := clk.Now().Add(time.Minute)
	if err := db.Reschedule(ctx, 1, 1, later, "rate limited"); err != nil {
		t.Fatal(err)
	}
	if err := db.Reschedule(ctx, 3, 2, later.Add(4*time.Minute), "timeout"); err != nil {
		t.Fatal(err)
	}
	if err := db.Reschedule(ctx, 99, 1, later, "gone"); err != nil {
		t.Errorf("Reschedule(unknown) = %v; want nil", err)
	}
	if got, want := dueIDs(clk.Now(), 0), []uint64{2, 4}; !slices.Equal(got, want) {
		t.Errorf("DueNotices(now) after Reschedule = %v; want %v", got, want)
	}
	// Notices due at once come first, in ID order, then retries by due time.
	if got, want := dueIDs(later, 0), []uint64{2, 4, 1}; !slices.Equal(got, want) {
		t.Errorf("DueNotices(now+1m) after Reschedule = %v; want %v", got, want)
	}
	if next, ok, err := db.NextDue(ctx); err != nil || !ok || !next.IsZero() {
		t.Errorf("NextDue() = %v, %t, %v; want zero time (due now)", next, ok, err)
	}

	// Deliver 2 and 4, which leaves 1 as the earliest.
	ref := &access.MessageRef{Channel: "D2", TS: "1.2"}
	if err := db.MarkSent(ctx, 2, ref); err != nil {
		t.Fatal(err)
	}
	if err := db.MarkSent(ctx, 4, &access.MessageRef{Channel: "D4", TS: "1.4"}); err != nil {
		t.Fatal(err)
	}
	if err := db.MarkSent(ctx, 2, ref); err != nil {
		t.Errorf("MarkSent(2) again = %v; want nil", err)
	}
	if err := db.MarkSent(ctx, 77, nil); err != nil {
		t.Errorf("MarkSent(unknown) = %v; want nil", err)
	}
	if next, ok, err := db.NextDue(ctx); err != nil || !ok || !next.Equal(later) {
		t.Errorf("NextDue() = %v, %t, %v; want %v", next, ok, err, later)
	}
	due, err := db.DueNotices(ctx, later, 0)
	if err != nil || len(due) != 1 || due[0].Attempts != 1 || due[0].LastError != "rate limited" {
		t.Errorf("DueNotices(now+1m) = %+v, %v; want notice 1 with 1 attempt and its error", due, err)
	}

	refs, err := db.MessageRefs(ctx, "R-1", access.NoticeApprovalCard)
	wantRefs := []access.MessageRef{
		{NoticeID: 2, Kind: access.NoticeApprovalCard, RequestID: "R-1", To: "A1", Channel: "D2", TS: "1.2"},
		{NoticeID: 4, Kind: access.NoticeApprovalCard, RequestID: "R-1", To: "A3", Channel: "D4", TS: "1.4"},
	}
	if err != nil || !reflect.DeepEqual(refs, wantRefs) {
		t.Errorf("MessageRefs(R-1, approval_card) = %+v, %v; want %+v", refs, err, wantRefs)
	}
	for _, tc := range []struct {
		id   string
		kind access.NoticeKind
	}{{"R-1", access.NoticeSubmitted}, {"R-1", "approval"}, {"R-2", access.NoticeApprovalCard}} {
		if refs, err := db.MessageRefs(ctx, tc.id, tc.kind); err != nil || len(refs) != 0 {
			t.Errorf("MessageRefs(%q, %q) = %v, %v; want none", tc.id, tc.kind, refs, err)
		}
	}

	// Give up on notice 3.
	clk.Advance(time.Hour)
	if err := db.Abandon(ctx, 3, "channel_not_found"); err != nil {
		t.Fatal(err)
	}
	if err := db.Abandon(ctx, 3, "again"); err != nil {
		t.Errorf("Abandon(3) again = %v; want nil", err)
	}
	if n, err := db.OutboxDepth(ctx); err != nil || n != 1 {
		t.Errorf("OutboxDepth() = %d, %v; want 1", n, err)
	}
	dead, err := db.DeadLetters(ctx)
	if err != nil || len(dead) != 1 || dead[0].ID != 3 || dead[0].LastError != "channel_not_found" {
		t.Errorf("DeadLetters() = %+v, %v; want notice 3 with its reason", dead, err)
	}
	var events []access.Event
	db.Events(ctx, func(ev access.Event) error { events = append(events, ev); return nil })
	wantEv := []access.Event{{
		Seq: 1, Time: clk.Now(), RequestID: "R-1", Action: access.ActionGrant, TargetEmail: "T1@example.com",
		Role: access.RoleEditor, To: access.StatePending, Detail: "message undeliverable: channel_not_found",
	}}
	if !reflect.DeepEqual(events, wantEv) {
		t.Errorf("Events() = %+v; want %+v", events, wantEv)
	}

	if err := db.MarkSent(ctx, 1, nil); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := db.NextDue(ctx); ok || err != nil {
		t.Errorf("NextDue() on a drained outbox = %t, %v; want false", ok, err)
	}
}

func TestReopen(t *testing.T) {
	db, clk, path := MustOpenDB(t)
	ctx := context.Background()
	MustCreate(t, db, pending("U1", "T1", access.ActionGrant), access.Effects{
		Events:  []access.Event{{Actor: "U1", To: access.StatePending}},
		Notices: []access.Notice{{Kind: access.NoticeSubmitted, To: "U1"}},
	})
	MustUpdate(t, db, "R-1", func(r *access.Request) { r.State, r.Assignee = access.StateApproved, "ADM1" },
		grantFx("T1", "t1@example.com", access.RoleEditor))
	if err := db.MarkSent(ctx, 1, &access.MessageRef{Channel: "D1", TS: "1"}); err != nil {
		t.Fatal(err)
	}
	MustUpdate(t, db, "R-1", func(*access.Request) {}, access.Effects{Notices: []access.Notice{{Kind: access.NoticeTask, To: "ADM1"}}})
	if err := db.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}

	db = MustOpenPath(t, path, clk)
	if r, err := db.Request(ctx, "R-1"); err != nil || r.State != access.StateApproved || r.Version != 3 {
		t.Errorf("Request(R-1) after reopen = %+v, %v; want approved version 3", r, err)
	}
	if tasks, err := db.OpenTasks(ctx, "ADM1", 0); err != nil || !slices.Equal(ids(tasks), []string{"R-1"}) {
		t.Errorf("OpenTasks(ADM1) after reopen = %v, %v; want [R-1]", ids(tasks), err)
	}
	if roster, err := db.Roster(ctx); err != nil || len(roster) != 1 || roster[0].UserID != "T1" {
		t.Errorf("Roster() after reopen = %v, %v; want T1", roster, err)
	}
	if refs, err := db.MessageRefs(ctx, "R-1", access.NoticeSubmitted); err != nil || len(refs) != 1 {
		t.Errorf("MessageRefs(R-1, submitted) after reopen = %v, %v; want 1", refs, err)
	}
	if counts, err := db.CountByState(ctx); err != nil || counts[access.StateApproved] != 1 || counts[access.StatePending] != 0 {
		t.Errorf("CountByState() after reopen = %v, %v; want 1 approved", counts, err)
	}
	// Sequences continue where they were.
	r := MustCreate(t, db, pending("U2", "T2", access.ActionGrant), access.Effects{
		Events:  []access.Event{{Actor: "U2", To: access.StatePending}},
		Notices: []access.Notice{{Kind: access.NoticeSubmitted, To: "U2"}},
	})
	if r.ID != "R-2" {
		t.Errorf("CreateRequest after reopen = %s; want R-2", r.ID)
	}
	due, err := db.DueNotices(ctx, clk.Now(), 0)
	if err != nil || len(due) != 2 || due[0].ID != 2 || due[1].ID != 3 {
		t.Errorf("DueNotices() after reopen = %v, %v; want notices 2 and 3", due, err)
	}
	var seqs []uint64
	db.Events(ctx, func(ev access.Event) error { seqs = append(seqs, ev.Seq); return nil })
	if !slices.Equal(seqs, []uint64{1, 2}) {
		t.Errorf("Events() seqs after reopen = %v; want [1 2]", seqs)
	}
}

func TestConcurrentDecisions(t *testing.T) {
	db, _, _ := MustOpenDB(t)
	ctx := context.Background()
	MustCreate(t, db, pending("U1", "T1", access.ActionGrant), access.Effects{})

	const n = 20
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			actor := fmt.Sprintf("A%d", i)
			_, errs[i] = db.UpdateRequest(ctx, "R-1", func(tx access.Tx, r *access.Request) (access.Effects, error) {
				if r.State != access.StatePending {
					return access.Effects{}, access.Errorf(access.ECONFLICT, "%s is already %s.", r.ID, r.State)
				}
				r.State, r.DecidedBy = access.StateApproved, actor
				return access.Effects{
					Events:  []access.Event{{Actor: actor, From: access.StatePending, To: access.StateApproved}},
					Notices: []access.Notice{{Kind: access.NoticeDecided, To: "U1"}},
				}, nil
			})
		})
	}
	wg.Wait()

	winners := 0
	for i, err := range errs {
		switch access.ErrorCode(err) {
		case "":
			winners++
		case access.ECONFLICT:
		default:
			t.Errorf("UpdateRequest by A%d = %v; want nil or ECONFLICT", i, err)
		}
	}
	if winners != 1 {
		t.Errorf("%d concurrent decisions won; want exactly 1", winners)
	}
	r, err := db.Request(ctx, "R-1")
	if err != nil || r.State != access.StateApproved || r.Version != 2 {
		t.Errorf("Request(R-1) = %+v, %v; want approved version 2", r, err)
	}
	if depth, err := db.OutboxDepth(ctx); err != nil || depth != 1 {
		t.Errorf("OutboxDepth() = %d, %v; want 1", depth, err)
	}
}

// directory is a fixed set of approvers.
type directory []string

func (d directory) Approvers(context.Context) ([]string, error) { return d, nil }

// TestService runs the domain lifecycle over a real database.
func TestService(t *testing.T) {
	db, clk, _ := MustOpenDB(t)
	ctx := context.Background()
	svc := access.NewService(db, directory{"A1", "A2"}, access.Config{Admins: []string{"ADM1", "ADM2"}, AuditChannel: "C1"}, clk.Now)
	sub := access.Submission{
		Action: access.ActionGrant, Requester: "U1", Role: access.RoleEditor, Justification: "design reviews",
		Target: access.Person{ID: "T1", Email: "T1@Example.com", Name: "Tee"},
	}
	r, err := svc.Submit(ctx, sub)
	if err != nil {
		t.Fatalf("Submit() = %v", err)
	}
	if _, err := svc.Submit(ctx, sub); access.ErrorCode(err) != access.EINVALID {
		t.Errorf("second Submit() = %v; want EINVALID (already open)", err)
	}
	if _, err := svc.Decide(ctx, r.ID, "A1", access.Decision{Approve: true}); err != nil {
		t.Fatalf("Decide() = %v", err)
	}
	if _, err := svc.Decide(ctx, r.ID, "A2", access.Decision{Reason: "no"}); access.ErrorCode(err) != access.ECONFLICT {
		t.Errorf("second Decide() = %v; want ECONFLICT", err)
	}
	tasks, err := svc.OpenTasks(ctx, "ADM1", 10)
	if err != nil || !slices.Equal(ids(tasks), []string{r.ID}) {
		t.Fatalf("OpenTasks(ADM1) = %v, %v; want [%s]", ids(tasks), err, r.ID)
	}
	if _, err := svc.Complete(ctx, r.ID, "ADM1"); err != nil {
		t.Fatalf("Complete() = %v", err)
	}
	roster, err := svc.Roster(ctx)
	if err != nil || len(roster) != 1 || roster[0].Email != "T1@Example.com" || roster[0].RequestID != r.ID {
		t.Errorf("Roster() = %+v, %v; want T1's grant from %s", roster, err, r.ID)
	}
	if _, err := svc.Submit(ctx, sub); access.ErrorCode(err) != access.EINVALID {
		t.Errorf("Submit() for a seat holder = %v; want EINVALID", err)
	}
	// submitted+2 cards, cards_update+decided+task, task_update+cards_update+
	// fulfilled+confirm+audit, and the late Deny's cards_update, which
	// brings the card it was pressed on up to date; nobody has opened the
	// Home tab, so no refreshes.
	if n, err := db.OutboxDepth(ctx); err != nil || n != 13 {
		t.Errorf("OutboxDepth() = %d, %v; want 13", n, err)
	}
	counts, err := db.CountByState(ctx)
	if err != nil || counts[access.StateFulfilled] != 1 || counts[access.StatePending]+counts[access.StateApproved] != 0 {
		t.Errorf("CountByState() = %v, %v; want one fulfilled", counts, err)
	}
}

func TestContextCancelled(t *testing.T) {
	db, _, _ := MustOpenDB(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := db.Ping(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Ping(cancelled) = %v; want context.Canceled", err)
	}
	_, err := db.CreateRequest(ctx, func(access.Tx, *access.Request) (access.Effects, error) {
		t.Error("CreateRequest(cancelled) called fn")
		return access.Effects{}, nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("CreateRequest(cancelled) = %v; want context.Canceled", err)
	}
}

func ExampleDB_UpdateRequest() {
	dir, _ := os.MkdirTemp("", "storage-example")
	defer os.RemoveAll(dir)
	db, err := storage.Open(filepath.Join(dir, "bot.db"), storage.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer db.Close()
	ctx := context.Background()

	r, _ := db.CreateRequest(ctx, func(_ access.Tx, r *access.Request) (access.Effects, error) {
		r.Action, r.Requester, r.Target, r.State = access.ActionGrant, "U1", "U2", access.StatePending
		return access.Effects{Notices: []access.Notice{{Kind: access.NoticeSubmitted, To: "U1"}}}, nil
	})
	<-db.Wake() // the delivery worker wakes up

	decide := func(tx access.Tx, r *access.Request) (access.Effects, error) {
		if r.State != access.StatePending {
			return access.Effects{}, access.Errorf(access.ECONFLICT, "%s is already %s.", r.ID, r.State)
		}
		r.State = access.StateApproved
		return access.Effects{}, nil
	}
	_, err = db.UpdateRequest(ctx, r.ID, decide)
	fmt.Println("first:", err)
	_, err = db.UpdateRequest(ctx, r.ID, decide)
	fmt.Println("second:", access.ErrorCode(err), err)

	due, _ := db.DueNotices(ctx, time.Now(), 10)
	fmt.Println(due[0])
	// Output:
	// first: <nil>
	// second: conflict R-1 is already approved.
	// notice 1 (submitted for R-1 to U1)
}

func TestBackup(t *testing.T) {
	db, clk, _ := MustOpenDB(t)
	ctx := context.Background()
	MustCreate(t, db, pending("U1", "T1", access.ActionGrant), access.Effects{})
	path := filepath.Join(t.TempDir(), "backup.db")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	n, err := db.Backup(ctx, f)
	if err != nil || n == 0 {
		t.Fatalf("Backup() = %d, %v; want bytes written", n, err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	backup := MustOpenPath(t, path, clk)
	if r, err := backup.Request(ctx, "R-1"); err != nil || r.Requester != "U1" {
		t.Errorf("backup Request(R-1) = %+v, %v; want U1's request", r, err)
	}
}

func TestEvents_StopsAtError(t *testing.T) {
	db, _, _ := MustOpenDB(t)
	ctx := context.Background()
	MustCreate(t, db, pending("U1", "T1", access.ActionGrant), access.Effects{Events: []access.Event{
		{Actor: "U1", To: access.StatePending}, {Actor: "A1", To: access.StateApproved}, {Actor: "X", To: access.StateDenied},
	}})
	stop := errors.New("stop")
	var seen []string
	err := db.Events(ctx, func(ev access.Event) error {
		seen = append(seen, ev.Actor)
		if ev.Actor == "A1" {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || !slices.Equal(seen, []string{"U1", "A1"}) {
		t.Errorf("Events() = %v after %v; want stop after [U1 A1]", err, seen)
	}
}

func TestSeatCountsAndCommits(t *testing.T) {
	db, _, path := MustOpenDB(t)
	ctx := context.Background()
	before := db.Commits()
	grants := []access.Grant{
		{UserID: "U1", Email: "a@x.com", Role: access.RoleEditor},
		{UserID: "U2", Email: "b@x.com", Role: access.RoleEditor},
		{UserID: "U3", Email: "c@x.com", Role: access.RoleAdmin},
		{UserID: "U1", Email: "a@x.com", Role: access.RoleViewer}, // role change
	}
	for _, g := range grants {
		MustCreate(t, db, access.Request{Action: access.ActionGrant, State: access.StateFulfilled}, access.Effects{Grant: &g})
	}
	MustCreate(t, db, access.Request{Action: access.ActionRemove, State: access.StateFulfilled}, access.Effects{Revokes: []string{"U2"}})
	if got := db.Commits() - before; got != 5 {
		t.Errorf("Commits() grew by %d for 5 sequential writes; want 5", got)
	}
	want := map[access.Role]int{access.RoleViewer: 1, access.RoleEditor: 0, access.RoleAdmin: 1}
	check := func(db *storage.DB) {
		t.Helper()
		got, err := db.SeatCounts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for r, n := range want {
			if got[r] != n {
				t.Errorf("SeatCounts()[%s] = %d; want %d", r, got[r], n)
			}
		}
	}
	check(db)
	db.Close()
	check(MustOpenPath(t, path, &clock{now: t0}))
}

// TestFarTimersSortLast keeps a timer set past 2262 from overflowing to
// 1970: it must not be due now, or it would sit at the head of the due
// index forever and stall every other timer.
func TestFarTimersSortLast(t *testing.T) {
	db, clk, _ := MustOpenDB(t)
	ctx := context.Background()
	r := pending("U1", "T1", access.ActionGrant)
	r.State = access.StateFulfilled
	r.ExpireAt = time.Date(2300, 1, 2, 0, 0, 0, 0, time.UTC)
	MustCreate(t, db, r, access.Effects{})
	due, err := db.DueTimers(ctx, clk.Now(), 10)
	if err != nil || len(due) != 0 {
		t.Fatalf("DueTimers(now) = %v, %v; want none due (the expiry is in 2300)", due, err)
	}
}
