package access_test

import (
	"context"
	"slices"
	"testing"

	"github.com/uxpin-access-bot/uxpin-access-bot/access"
)

// TestGroupRowsStayWithTheirAdmins: one row is done only by its admin;
// another admin takes it over row by row (and the first admin then no
// longer can close it).
func TestGroupRowsStayWithTheirAdmins(t *testing.T) {
	r := newRig(t, access.Config{Admins: []string{"ADM1", "ADM2"}})
	ctx := context.Background()
	res, err := r.svc.SubmitGroup(ctx, access.GroupSubmission{Requester: "U1", Rows: []access.GroupRow{{Target: "T1", Email: "t1@example.com"}}})
	if err != nil {
		t.Fatal(err)
	}
	id := res.Request.ID
	if _, err := r.svc.Decide(ctx, id, "A1", access.Decision{Approve: true}); err != nil {
		t.Fatal(err)
	}
	g, _ := r.svc.Request(ctx, id)
	owner, other := g.Rows[0].Assignee, "ADM1"
	if owner == other {
		other = "ADM2"
	}
	if _, err := r.svc.CompleteRows(ctx, id, other, 0); access.ErrorCode(err) != access.EUNAUTHORIZED {
		t.Errorf("CompleteRows by %s, not the row's admin = %v; want EUNAUTHORIZED", other, err)
	}
	if _, err := r.svc.TakeOver(ctx, id, owner); access.ErrorCode(err) != access.EUNAUTHORIZED {
		t.Errorf("TakeOver of their own rows by %s = %v; want a refusal", owner, err)
	}
	got, err := r.svc.TakeOver(ctx, id, other)
	if err != nil {
		t.Fatalf("TakeOver of the group's row by %s = %v", other, err)
	}
	if got.Rows[0].Assignee != other || !slices.Contains(got.PreviousAssignees, owner) {
		t.Errorf("after Take over the row is with %q (previously %v); want %s, previously %s", got.Rows[0].Assignee, got.PreviousAssignees, other, owner)
	}
	if _, err := r.svc.CompleteRows(ctx, id, owner, 0); access.ErrorCode(err) != access.EUNAUTHORIZED {
		t.Errorf("CompleteRows by the previous admin = %v; want EUNAUTHORIZED", err)
	}
	if _, err := r.svc.CompleteRows(ctx, id, other, 0); err != nil {
		t.Fatalf("CompleteRows by the row's admin = %v", err)
	}
	if g, _ := r.svc.Request(ctx, id); g.State != access.StateFulfilled {
		t.Errorf("group after its only row = %s; want fulfilled", g.State)
	}
}
