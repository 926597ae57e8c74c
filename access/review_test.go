package access_test

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"testing"

	"github.com/uxpin-access-bot/uxpin-access-bot/access"
)

func seats(holders ...string) []access.ReviewSeat {
	out := make([]access.ReviewSeat, len(holders))
	for i, h := range holders {
		out[i] = access.ReviewSeat{Holder: h, Role: access.RoleEditor}
	}
	return out
}

func TestAssignReviewers(t *testing.T) {
	tests := []struct {
		name      string
		holders   []string
		reviewers []string
		want      []string
	}{
		{"even split", []string{"U1", "U2", "U3", "U4"}, []string{"A", "B"}, []string{"A", "B", "A", "B"}},
		{"own seat goes to the other", []string{"A", "B", "U1", "U2"}, []string{"A", "B"}, []string{"B", "A", "A", "B"}},
		{"own seats first still even", []string{"A", "U1", "U2", "U3"}, []string{"A", "B"}, []string{"B", "A", "A", "B"}},
		{"three reviewers", []string{"U1", "U2", "U3", "U4", "U5"}, []string{"A", "B", "C"}, []string{"A", "B", "C", "A", "B"}},
		{"only reviewer holds the seat", []string{"A", "U1"}, []string{"A"}, []string{"", "A"}},
		{"no reviewers", []string{"U1"}, nil, []string{""}},
	}
	for _, tt := range tests {
		s := seats(tt.holders...)
		access.AssignReviewers(s, tt.reviewers)
		var got []string
		for _, x := range s {
			got = append(got, x.Reviewer)
		}
		if fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("%s: AssignReviewers(%v, %v) = %q; want %q", tt.name, tt.holders, tt.reviewers, got, tt.want)
		}
	}
}

// TestAssignReviewersBalance checks a large review: nobody reviews their
// own seat and the loads differ by at most one.
func TestAssignReviewersBalance(t *testing.T) {
	reviewers := []string{"A", "B", "C"}
	var holders []string
	for i := range 301 {
		holders = append(holders, fmt.Sprintf("U%03d", i))
	}
	holders = append(holders, reviewers...)
	s := seats(holders...)
	access.AssignReviewers(s, reviewers)
	load := map[string]int{}
	for _, x := range s {
		if x.Reviewer == x.Holder || x.Reviewer == "" {
			t.Fatalf("seat of %s assigned to %q", x.Holder, x.Reviewer)
		}
		load[x.Reviewer]++
	}
	lo, hi := len(s), 0
	for _, r := range reviewers {
		lo, hi = min(lo, load[r]), max(hi, load[r])
	}
	if hi-lo > 1 {
		t.Errorf("loads %v differ by %d; want at most 1", load, hi-lo)
	}
}

func TestReviewProgressTotalsAndPages(t *testing.T) {
	rv := &access.Review{ID: "V-1", Reviewers: []string{"A", "B"}}
	for i := range 40 {
		s := access.ReviewSeat{Holder: fmt.Sprintf("U%02d", i), Role: access.RoleEditor, Reviewer: "A"}
		switch {
		case i < 10:
			s.Answer, s.Decision = access.ReviewKeep, access.ReviewKeep
		case i < 12:
			s.Decision = access.ReviewRemove
		case i < 13:
			s.Answer, s.Decision, s.TaskID = access.ReviewDowngrade, access.ReviewDowngrade, "R-9"
		}
		if i >= 35 {
			s.Reviewer, s.Role = "B", access.RoleViewer
		}
		rv.Seats = append(rv.Seats, s)
	}
	p := rv.Progress()
	if p.Seats != 40 || p.Answered != 11 || p.Decided != 13 || p.Left != 27 {
		t.Errorf("Progress() = %+v", p)
	}
	if len(p.ByReviewer) != 2 || p.ByReviewer[0].Assigned != 35 || p.ByReviewer[1].Assigned != 5 {
		t.Errorf("Progress().ByReviewer = %+v", p.ByReviewer)
	}
	if got := rv.Pages("A"); got != 3 {
		t.Errorf("Pages(A) = %d; want 3", got)
	}
	if got := len(rv.Page("A", 3)); got != 5 {
		t.Errorf("len(Page(A, 3)) = %d; want 5", got)
	}
	ed := rv.Totals()[1]
	if ed.Role != access.RoleEditor || ed.Kept != 10 || ed.Removed != 2 || ed.Downgraded != 1 || ed.Open != 22 || ed.Freed() != 3 {
		t.Errorf("Totals()[Editor] = %+v (freed %d)", ed, ed.Freed())
	}
	var buf bytes.Buffer
	if err := rv.CSV(&buf); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil || len(rows) != 41 {
		t.Fatalf("CSV: %d rows, %v; want 41", len(rows), err)
	}
	if rows[13][7] != "downgrade" || rows[13][13] != "R-9" || rows[40][10] != "undecided" {
		t.Errorf("CSV rows = %v / %v", rows[13], rows[40])
	}
}

func TestReviewAnswerValidFor(t *testing.T) {
	if access.ReviewDowngrade.ValidFor(access.RoleViewer) {
		t.Error("a Viewer seat can be downgraded")
	}
	if !access.ReviewDowngrade.ValidFor(access.RoleAdmin) || !access.ReviewRemove.ValidFor(access.RoleViewer) {
		t.Error("valid answers refused")
	}
	if access.ReviewAnswer("grant").Valid() {
		t.Error("unknown answer is valid")
	}
}
