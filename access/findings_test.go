package access_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/uxpin-access-bot/uxpin-access-bot/access"
)

// The security review's findings (issue 18), each against the real store.
// Approvers are A1 and A2 (the rig's directory); admins as each test says.

// seated grants target role through the whole lifecycle: asked by U1,
// approved by A1, done by its assignee.
func (r *rig) seated(target string, role access.Role, end string) *access.Request {
	r.t.Helper()
	ctx := context.Background()
	req, err := r.svc.Submit(ctx, access.Submission{
		Action: access.ActionGrant, Requester: "U1", Role: role, Justification: "needed", EndDate: end,
		Target: access.Person{ID: target, Email: target + "@example.com"},
	})
	if err != nil {
		r.t.Fatal(err)
	}
	approver := "A1"
	if target == approver {
		approver = "A2"
	}
	if req, err = r.svc.Decide(ctx, req.ID, approver, access.Decision{Approve: true}); err != nil {
		r.t.Fatal(err)
	}
	if req, err = r.svc.Complete(ctx, req.ID, req.Assignee); err != nil {
		r.t.Fatal(err)
	}
	return req
}

func reason(err error) access.Reason {
	if ref, ok := errors.AsType[*access.Refusal](err); ok {
		return ref.Reason
	}
	return ""
}

// H1: a holder of temporary access who opens a group removal of themselves
// and someone else, then cancels it, still loses the seat on its end date.
func TestFindingH1ExpiryCannotBeDisarmedByOwnGroup(t *testing.T) {
	r := newRig(t, access.Config{Admins: []string{"ADM1", "ADM2"}})
	ctx := context.Background()
	end := r.clk.Now().AddDate(0, 0, 2).Format(time.DateOnly)
	grant := r.seated("T1", access.RoleEditor, end)
	r.seated("T2", access.RoleViewer, "")
	res, err := r.svc.SubmitGroup(ctx, access.GroupSubmission{Requester: "T1", Rows: []access.GroupRow{
		{Target: "T1", Email: "T1@example.com"}, {Target: "T2", Email: "T2@example.com"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	r.clk.Add(4 * 24 * time.Hour)
	r.fire()
	if _, err := r.svc.Cancel(ctx, res.Request.ID, "T1"); err != nil && access.ErrorCode(err) != access.ECONFLICT {
		t.Fatalf("cancel the group: %v", err)
	}
	r.clk.Add(2 * time.Hour)
	r.fire()
	// The expiry's own approved removal of T1 is open, whatever became of
	// the group.
	tasks, err := r.db.OpenTasks(ctx, "ADM1", 50)
	if err != nil {
		t.Fatal(err)
	}
	more, _ := r.db.OpenTasks(ctx, "ADM2", 50)
	found := false
	for _, x := range append(tasks, more...) {
		if x.Origin == access.OriginExpiry && x.Target == "T1" && x.AutoReason == grant.ID && x.State == access.StateApproved {
			found = true
		}
	}
	if !found {
		t.Fatalf("no approved expiry removal of T1 after the holder's group and its cancel; grant %s timers %+v", grant.ID, r.get(grant.ID).Timers())
	}
	if g := r.get(res.Request.ID); g.Rows[0].Dropped == "" {
		t.Errorf("T1's row of the group was not taken over by the expiry: %+v", g.Rows[0])
	}
}

// H2: an admin who is one of the people of a removal group can't fail it
// (neither the whole group nor other admins' rows).
func TestFindingH2AdminInGroupCannotFailIt(t *testing.T) {
	r := newRig(t, access.Config{Admins: []string{"ADM1", "ADM2", "ADM3"}})
	ctx := context.Background()
	r.seated("ADM1", access.RoleAdmin, "")
	r.seated("T2", access.RoleViewer, "")
	r.seated("T3", access.RoleViewer, "")
	res, err := r.svc.SubmitGroup(ctx, access.GroupSubmission{Requester: "U1", Rows: []access.GroupRow{
		{Target: "ADM1"}, {Target: "T2"}, {Target: "T3"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	g, err := r.svc.Decide(ctx, res.Request.ID, "A1", access.Decision{Approve: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range g.Rows {
		if row.Assignee == "ADM1" {
			t.Errorf("ADM1, one of the group's people, was given the row of %s", row.Target)
		}
	}
	if _, err := r.svc.Fail(ctx, g.ID, "ADM1", "can't"); reason(err) != access.ReasonAboutSelf {
		t.Errorf("Can't complete by ADM1, a person of the group = %v; want about_self", err)
	}
	// Another admin's Can't complete fails their own rows only.
	owner := g.Rows[1].Assignee
	got, err := r.svc.Fail(ctx, g.ID, owner, "not in UXPin")
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range got.Rows {
		if row.Assignee != owner && !row.FailedAt.IsZero() {
			t.Errorf("%s's Can't complete failed %s's row", owner, row.Assignee)
		}
	}
}

// H3: an approver who is one of the people of a removal group can't
// decide it, and it is not in their pending list.
func TestFindingH3ApproverInGroupCannotDecideIt(t *testing.T) {
	r := newRig(t, access.Config{Admins: []string{"ADM1", "ADM2"}})
	ctx := context.Background()
	r.seated("A2", access.RoleEditor, "")
	r.seated("T2", access.RoleViewer, "")
	res, err := r.svc.SubmitGroup(ctx, access.GroupSubmission{Requester: "U1", Rows: []access.GroupRow{{Target: "A2"}, {Target: "T2"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.svc.Decide(ctx, res.Request.ID, "A2", access.Decision{Reason: "no"}); reason(err) != access.ReasonOwnRequest {
		t.Errorf("Deny by A2, a person of the group = %v; want own_request", err)
	}
	pending, err := r.svc.PendingFor(ctx, "A2", 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pending {
		if p.ID == res.Request.ID {
			t.Errorf("the group removing A2 is in A2's pending")
		}
	}
}

// M2: an auto-approved role grants; lowering someone else to it needs an
// approver.
func TestFindingM2AutoApprovalOnlyGrants(t *testing.T) {
	r := newRig(t, access.Config{Admins: []string{"ADM1"}, AutoApproveRoles: []access.Role{access.RoleViewer}})
	ctx := context.Background()
	r.seated("T1", access.RoleEditor, "")
	req, err := r.svc.Submit(ctx, access.Submission{Action: access.ActionChange, Requester: "U9", Role: access.RoleViewer, Justification: "x",
		Target: access.Person{ID: "T1", Email: "T1@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	if req.State != access.StatePending || req.ByPolicy != "" {
		t.Errorf("U9 lowering T1 to Viewer = %s (by policy %q); want pending for an approver", req.State, req.ByPolicy)
	}
	grant, err := r.svc.Submit(ctx, access.Submission{Action: access.ActionGrant, Requester: "U9", Role: access.RoleViewer, Justification: "x",
		Target: access.Person{ID: "T5", Email: "T5@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	if grant.ByPolicy != access.PolicyAutoRole {
		t.Errorf("a Viewer grant = by policy %q; want auto_role", grant.ByPolicy)
	}
	// The requester of what no approver decided never closes it.
	if grant.Assignee == "U9" {
		t.Errorf("the auto-approved grant went to its requester")
	}
}

// M4: a role change keeps the end date of temporary access.
func TestFindingM4ChangeKeepsEndDate(t *testing.T) {
	r := newRig(t, access.Config{Admins: []string{"ADM1"}})
	ctx := context.Background()
	end := r.clk.Now().AddDate(0, 0, 10).Format(time.DateOnly)
	r.seated("T1", access.RoleEditor, end)
	req, err := r.svc.Submit(ctx, access.Submission{Action: access.ActionChange, Requester: "U1", Role: access.RoleViewer, Justification: "less",
		Target: access.Person{ID: "T1", Email: "T1@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	if req.EndDate != end {
		t.Errorf("the change's end date = %q; want the grant's %q", req.EndDate, end)
	}
}

// M5 and the Grant/Change rule: a stale change task changes nothing once
// the seat was removed, and a Grant and a Change are never open together.
func TestFindingM5StaleChangeTaskChangesNothing(t *testing.T) {
	r := newRig(t, access.Config{Admins: []string{"ADM1"}})
	ctx := context.Background()
	r.seated("T1", access.RoleViewer, "")
	change, err := r.svc.Submit(ctx, access.Submission{Action: access.ActionChange, Requester: "U1", Role: access.RoleAdmin, Justification: "more",
		Target: access.Person{ID: "T1", Email: "T1@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	if change, err = r.svc.Decide(ctx, change.ID, "A1", access.Decision{Approve: true}); err != nil {
		t.Fatal(err)
	}
	rm, err := r.svc.Submit(ctx, access.Submission{Action: access.ActionRemove, Requester: "T1",
		Target: access.Person{ID: "T1", Email: "T1@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.svc.Complete(ctx, rm.ID, r.get(rm.ID).Assignee); err != nil {
		t.Fatal(err)
	}
	if _, err := r.svc.Complete(ctx, change.ID, change.Assignee); reason(err) != access.ReasonMovedOn {
		t.Errorf("Mark done on the change after the removal = %v; want moved_on", err)
	}
	if g, _ := r.svc.Grant(ctx, "T1"); g != nil {
		t.Errorf("the stale change re-granted T1: %+v", g)
	}
	if got := r.get(change.ID); got.State != access.StateFailed || got.FailReason == "" {
		t.Errorf("stale change = %s (%q); want failed with the reason", got.State, got.FailReason)
	}

	_, err = r.svc.Submit(ctx, access.Submission{Action: access.ActionGrant, Requester: "U1", Role: access.RoleViewer, Justification: "x",
		Target: access.Person{ID: "T7", Email: "T7@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.svc.Submit(ctx, access.Submission{Action: access.ActionChange, Requester: "U1", Role: access.RoleEditor, Justification: "x",
		Target: access.Person{ID: "T7", Email: "T7@example.com"}})
	if access.ErrorCode(err) != access.EINVALID {
		t.Errorf("a Change while a Grant is open = %v; want refused", err)
	}
}

// M1: a row whose admin left UXPIN_ADMINS is reassigned; a row nobody can
// hold is shown to admins and approvers, and the leaver policy still
// removes that person.
func TestFindingM1RowsAreNeverStuck(t *testing.T) {
	r := newRig(t, access.Config{Admins: []string{"ADM1", "ADM2"}, LeaverAutoMax: 5})
	ctx := context.Background()
	r.seated("T1", access.RoleViewer, "")
	r.seated("T2", access.RoleViewer, "")
	r.seated("ADM1", access.RoleAdmin, "")
	res, err := r.svc.SubmitGroup(ctx, access.GroupSubmission{Requester: "U1", Rows: []access.GroupRow{{Target: "T1"}, {Target: "T2"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.svc.Decide(ctx, res.Request.ID, "A1", access.Decision{Approve: true}); err != nil {
		t.Fatal(err)
	}
	// ADM2 leaves the configuration.
	r.pol.Admins = []string{"ADM1"}
	r.pol.LeaverAutoMax = 5
	r.restart()
	r.fire()
	for _, row := range r.get(res.Request.ID).Rows {
		if row.Assignee != "ADM1" {
			t.Errorf("row of %s is with %q after ADM2 left UXPIN_ADMINS; want ADM1", row.Target, row.Assignee)
		}
	}
	// The only admin is the person: nobody can hold it, and they are told.
	solo, err := r.svc.SubmitGroup(ctx, access.GroupSubmission{Requester: "U1", Rows: []access.GroupRow{{Target: "ADM1"}, {Target: "T9"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.svc.Decide(ctx, solo.Request.ID, "A1", access.Decision{Approve: true}); err != nil {
		t.Fatal(err)
	}
	if n := r.queued(access.NoticeUnassigned); n == 0 {
		t.Errorf("nobody was told that the row of ADM1 has no admin")
	}
	out, err := r.svc.CheckLeavers(ctx, []access.Person{{ID: "ADM1", Deleted: true}}, "deactivated in Slack")
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Removals) != 1 {
		t.Errorf("the leaver policy created %d removals of ADM1; want 1 (the stuck row must not block it)", len(out.Removals))
	}
}

// dirVar is an approver directory whose members a test changes.
type dirVar struct {
	mu  sync.Mutex
	ids []string
}

func (d *dirVar) Approvers(context.Context) ([]string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.ids), nil
}

func (d *dirVar) set(ids ...string) { d.mu.Lock(); d.ids = ids; d.mu.Unlock() }

// Lows: an approval by someone since removed from the role's approvers
// stops counting, and `pending` lists only what one may decide for that
// role.
func TestFindingLowApprovalsFollowTheApprovers(t *testing.T) {
	editors := &dirVar{ids: []string{"E1", "E2", "E3"}}
	r := newRig(t, access.Config{Admins: []string{"ADM1"},
		ApprovalsRequired: map[access.Role]int{access.RoleEditor: 2},
		ApproversByRole:   map[access.Role]access.Directory{access.RoleEditor: editors}})
	ctx := context.Background()
	req := r.submit("T1", "")
	if _, err := r.svc.Decide(ctx, req.ID, "E1", access.Decision{Approve: true}); err != nil {
		t.Fatal(err)
	}
	editors.set("E2", "E3")
	got, err := r.svc.Decide(ctx, req.ID, "E2", access.Decision{Approve: true})
	if err != nil {
		t.Fatal(err)
	}
	if got.State != access.StatePending || len(got.Approvals) != 1 {
		t.Errorf("after E1 left the Editor approvers, E2's approval made it %s with %d approvals; want pending with 1", got.State, len(got.Approvals))
	}
	// A1 approves the default roles but not Editor: the request is not in
	// A1's pending.
	pending, err := r.svc.PendingFor(ctx, "A1", 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pending {
		if p.ID == req.ID {
			t.Errorf("an Editor request is in the pending of A1, who does not approve Editor")
		}
	}
	if pending, _ := r.svc.PendingFor(ctx, "E3", 10); len(pending) != 1 {
		t.Errorf("E3's pending lists %d requests; want the Editor request", len(pending))
	}
}

// M3: a drift fix is a change like any other (the role's approvers, its
// number of approvals), and one from a seat audit older than the person's
// removal is refused instead of re-granting.
func TestFindingM3DriftFixFollowsTheLedger(t *testing.T) {
	admins := &dirVar{ids: []string{"S1", "S2"}}
	r := newRig(t, access.Config{Admins: []string{"ADM1", "ADM2"},
		ApprovalsRequired: map[access.Role]int{access.RoleAdmin: 2},
		ApproversByRole:   map[access.Role]access.Directory{access.RoleAdmin: admins}})
	ctx := context.Background()
	seat, err := r.svc.Submit(ctx, access.Submission{Action: access.ActionGrant, Requester: "U1", Role: access.RoleAdmin, Justification: "x",
		Target: access.Person{ID: "T1", Email: "T1@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{"S1", "S2"} {
		if seat, err = r.svc.Decide(ctx, seat.ID, a, access.Decision{Approve: true}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := r.svc.Complete(ctx, seat.ID, seat.Assignee); err != nil {
		t.Fatal(err)
	}
	lookup := func(email string) (string, access.PersonStatus) {
		if email == "T1@example.com" {
			return "T1", access.PersonActive
		}
		return "", access.PersonNotInSlack
	}
	list := "Name,Email,Role\nTee One,T1@example.com,Editor\n"
	rec, err := r.svc.RunAudit(ctx, "ADM1", list, lookup)
	if err != nil {
		t.Fatal(err)
	}
	drift := -1
	for i, f := range rec.Audit.Findings {
		if f.Kind == access.FindingRoleDrift {
			drift = i
		}
	}
	if drift < 0 {
		t.Fatalf("no role drift found in %+v", rec.Audit.Findings)
	}
	fix, err := r.svc.ActOnFinding(ctx, "ADM1", rec.ID, drift, access.ActFixDrift, "", access.Person{})
	if err != nil {
		t.Fatal(err)
	}
	if fix.ApprovalsRequired != 2 || !slices.Equal(fix.Approvers, []string{"S1", "S2"}) {
		t.Errorf("raising drift fix needs %d approvals from %v; want 2 from the Admin approvers", fix.ApprovalsRequired, fix.Approvers)
	}
	if _, err := r.svc.Decide(ctx, fix.ID, "S1", access.Decision{Reason: "later"}); err != nil {
		t.Fatal(err)
	}
	// T1 removes their own seat; the old audit's fix must not re-grant it.
	rm, err := r.svc.Submit(ctx, access.Submission{Action: access.ActionRemove, Requester: "T1", Target: access.Person{ID: "T1", Email: "T1@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.svc.Complete(ctx, rm.ID, r.get(rm.ID).Assignee); err != nil {
		t.Fatal(err)
	}
	_, err = r.svc.ActOnFinding(ctx, "ADM1", rec.ID, drift, access.ActFixDrift, "", access.Person{})
	if _, ok := errors.AsType[*access.StaleError](err); !ok {
		t.Errorf("drift fix from an audit older than the removal = %v; want a *StaleError", err)
	}
}

// Low: with a single approver, the review sends that approver's own seat
// to a UXPin admin, who may decide it; the approver still can't.
func TestFindingLowSingleApproverSeatGoesToAnAdmin(t *testing.T) {
	r := newRig(t, access.Config{Admins: []string{"ADM1"}})
	r.seated("A1", access.RoleEditor, "")
	svc := access.NewService(r.db, approvers{"A1"}, access.Config{Admins: []string{"ADM1"}}, r.clk.Now)
	ctx := context.Background()
	rv, err := svc.StartReview(ctx, "A1")
	if err != nil {
		t.Fatal(err)
	}
	seat := rv.SeatOf("A1")
	if seat < 0 || rv.Seats[seat].Reviewer != "ADM1" {
		t.Fatalf("the approver's own seat went to %q; want the admin ADM1", rv.Seats[seat].Reviewer)
	}
	if !slices.Contains(rv.Reviewers, "ADM1") {
		t.Errorf("reviewers %v lack the admin who got a seat", rv.Reviewers)
	}
	if _, err := svc.DecideSeat(ctx, rv.ID, seat, "A1", access.ReviewRemove); reason(err) != access.ReasonOwnSeat {
		t.Errorf("the approver deciding their own seat = %v; want own_seat", err)
	}
	if _, err := svc.DecideSeat(ctx, rv.ID, seat, "ADM1", access.ReviewKeep); err != nil {
		t.Errorf("the admin deciding the seat sent to them = %v", err)
	}
}

// TestEveryOriginIsBornAlike builds a request from each origin and checks
// what the one constructor guarantees: approvals and approvers from the
// configuration of the role, nobody deciding or doing what is about them,
// and approval at birth only for what lowers access.
func TestEveryOriginIsBornAlike(t *testing.T) {
	cfg := access.Config{Admins: []string{"ADM1", "ADM2"}, LeaverAutoMax: 5,
		ApprovalsRequired: map[access.Role]int{access.RoleAdmin: 2}}
	r := newRig(t, cfg)
	ctx := context.Background()
	end := r.clk.Now().AddDate(0, 0, 1).Format(time.DateOnly)
	r.seated("T1", access.RoleEditor, end)
	r.seated("T2", access.RoleViewer, "")
	r.seated("A2", access.RoleViewer, "")
	r.seated("T4", access.RoleViewer, "")
	var born []*access.Request
	add := func(origin string, req *access.Request, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", origin, err)
		}
		born = append(born, req)
	}
	modal, err := r.svc.Submit(ctx, access.Submission{Action: access.ActionGrant, Requester: "A1", Role: access.RoleAdmin, Justification: "x",
		Target: access.Person{ID: "T3", Email: "T3@example.com"}})
	add("modal", modal, err)
	grp, err := r.svc.SubmitGroup(ctx, access.GroupSubmission{Requester: "U1", Rows: []access.GroupRow{{Target: "A2"}, {Target: "T2"}}})
	add("group", grp.Request, err)
	out, err := r.svc.CheckLeavers(ctx, []access.Person{{ID: "T4", Deleted: true}}, "deactivated")
	if err != nil || len(out.Removals) != 1 {
		t.Fatalf("leaver: %v, %+v", err, out)
	}
	add("leaver", out.Removals[0], nil)
	r.clk.Add(3 * 24 * time.Hour)
	r.fire()
	tasks, _ := r.db.OpenTasks(ctx, "ADM1", 50)
	more, _ := r.db.OpenTasks(ctx, "ADM2", 50)
	for _, x := range append(tasks, more...) {
		if x.Origin == access.OriginExpiry {
			add("expiry", x, nil)
		}
	}
	if len(born) != 4 {
		t.Fatalf("%d requests born; want modal, group, leaver and expiry", len(born))
	}
	for _, req := range born {
		want := 1
		if req.Action != access.ActionRemove {
			want = max(1, cfg.ApprovalsRequired[req.Role])
		}
		if req.ApprovalsRequired != want {
			t.Errorf("%s (%s): needs %d approvals; want %d from the configuration", req.ID, req.Origin, req.ApprovalsRequired, want)
		}
		for _, a := range req.Approvers {
			if a == req.Requester || req.IsAbout(a) {
				t.Errorf("%s (%s): card to %s, who asked or is a person of it", req.ID, req.Origin, a)
			}
		}
		if req.State == access.StateApproved {
			if len(req.Approvals) == 0 && req.ByPolicy == "" && !req.Lowers() {
				t.Errorf("%s (%s): approved at birth but gives access", req.ID, req.Origin)
			}
			for _, who := range append([]string{req.Assignee}, req.RowAssignees()...) {
				if who != "" && (req.IsAbout(who) || (req.Unreviewed() && who == req.Requester)) {
					t.Errorf("%s (%s): task with %s", req.ID, req.Origin, who)
				}
			}
		}
	}
}
