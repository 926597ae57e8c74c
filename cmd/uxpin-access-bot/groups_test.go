package main

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/uxpin-access-bot/uxpin-access-bot/access"
	"github.com/uxpin-access-bot/uxpin-access-bot/handlers"
	"github.com/uxpin-access-bot/uxpin-access-bot/internal/fakeslack"
)

// SPEC §10: a bulk removal of 30 people from the seat audit is one request
// group: one card per approver with the list (and the full list as CSV),
// one decision, one checklist per admin, and 30 ledger changes as the rows
// are done.
func TestBulkRemovalIsOneGroup(t *testing.T) {
	h := newHarness(t, nil)
	var paste strings.Builder
	paste.WriteString("Name,Email,Role\n")
	var people []string
	for i := range 30 {
		u := fakeslack.User{ID: fmt.Sprintf("U0GRP%03d", i), Name: fmt.Sprintf("p%d", i), RealName: fmt.Sprintf("Person %d", i), Email: fmt.Sprintf("p%d@example.com", i)}
		h.fake.AddUser(u)
		grantDone(h, u.ID, "viewer")
		u.Deleted = true // left, but nobody swept yet
		h.fake.SetUser(u)
		people = append(people, u.ID)
		fmt.Fprintf(&paste, "Person %d,%s,Viewer\n", i, u.Email)
	}
	before := h.m.mustCount(t)
	report := runAudit(h, uCarol, paste.String())
	if !strings.Contains(msgText(report), "30 leavers still seated") {
		t.Fatalf("report: %s", msgText(report))
	}
	n := len(h.fake.Ephemerals(uCarol))
	if _, err := h.fake.ClickStale(h.ctx(), uCarol, report, handlers.ActionAuditBulkID(access.FindingLeaver)); err != nil {
		t.Fatal(err)
	}
	if got := h.ephemeral(uCarol, n+1); !strings.Contains(got, "30 people") {
		t.Fatalf("bulk reply = %q", got)
	}
	if got := h.m.mustCount(t); got != before+1 {
		t.Fatalf("%d requests made by the bulk removal; want one group", got-before)
	}
	id := fmt.Sprintf("R-%d", before+1)
	card := h.dmWith(uDave, "UXPin access request "+id+":", "30 people", "p0@example.com", "and 10 more")
	if n := h.cards(uDave, id); n != 1 {
		t.Errorf("dave has %d cards for the group; want 1", n)
	}
	if n := h.cards(uCarol, id); n != 0 {
		t.Errorf("carol, who asked, has %d cards", n)
	}
	daveDM, _ := h.fake.DMChannel(uDave)
	h.waitFor("the full list as CSV", func() bool {
		for _, f := range h.fake.Files(daveDM) {
			if strings.Count(string(f.Content), "@example.com") == 30 {
				return true
			}
		}
		return false
	})

	h.click(uDave, card, handlers.ActionApprove)
	h.waitState(id, "approved")
	erin := h.dmWith(uErin, "UXPin task "+id, "Mark all")
	frank := h.dmWith(uFrank, "UXPin task "+id, "Mark all")
	if n := h.countDMs(uErin, "UXPin task "+id) + h.countDMs(uFrank, "UXPin task "+id); n != 2 {
		t.Errorf("%d checklists; want one per admin", n)
	}

	// One row: only that person's ledger entry changes.
	r, _ := h.m.Service.Request(context.Background(), id)
	first := -1
	for i, row := range r.Rows {
		if row.Assignee == uErin {
			first = i
			break
		}
	}
	value := id + "|" + fmt.Sprint(first)
	replies := len(h.fake.Ephemerals(uErin))
	if _, err := h.fake.ClickButton(h.ctx(), uErin, erin, handlers.ActionRowDone, value); err != nil {
		t.Fatal(err)
	}
	// The reply to this click comes first: later replies are counted
	// from it, so a late "Thanks!" is never read as another answer.
	if got := h.ephemeral(uErin, replies+1); !strings.Contains(got, "1 of 30 removals done") {
		t.Errorf("reply to the first row = %q", got)
	}
	gone := r.Rows[first].Target
	h.waitFor("the first row's ledger change", func() bool {
		g, _ := h.m.DB.GrantFor(context.Background(), gone)
		return g == nil
	})
	if seats := h.seats(people); seats != 29 {
		t.Errorf("%d of the 30 still seated after one row; want 29", seats)
	}
	// Erin can't mark one of frank's rows done, even with a forged click;
	// she may take frank's rows over first, row by row (SPEC §9.4).
	franks := -1
	for i, row := range r.Rows {
		if row.Assignee == uFrank {
			franks = i
			break
		}
	}
	erinDM, _ := h.fake.DMChannel(uErin)
	n = len(h.fake.Ephemerals(uErin))
	h.forge(forgedClick(uErin, erinDM, handlers.ActionRowDone, id+"|"+fmt.Sprint(franks), ""))
	if got := h.ephemeral(uErin, n+1); !strings.Contains(got, "assigned to <@"+uFrank+">") {
		t.Errorf("erin marking frank's row = %q; want a refusal naming frank", got)
	}
	if cur, _ := h.m.Service.Request(context.Background(), id); cur.Rows[franks].Assignee != uFrank {
		t.Errorf("frank's row moved to %s", cur.Rows[franks].Assignee)
	}
	if g, _ := h.m.DB.GrantFor(context.Background(), r.Rows[franks].Target); g == nil {
		t.Errorf("frank's row's seat left the ledger on erin's click")
	}
	n = len(h.fake.Ephemerals(uErin))
	h.forge(forgedClick(uErin, erinDM, handlers.ActionTakeOver, id, ""))
	if got := h.ephemeral(uErin, n+1); !strings.Contains(got, "yours now") {
		t.Errorf("taking over frank's rows = %q; want them taken", got)
	}
	if cur, _ := h.m.Service.Request(context.Background(), id); cur.Rows[franks].Assignee != uErin {
		t.Errorf("frank's row is with %s after erin took it over", cur.Rows[franks].Assignee)
	}
	h.click(uErin, h.dmWith(uErin, "UXPin task "+id, "Mark all 29 done"), handlers.ActionRowsAllDone)
	h.waitState(id, "fulfilled")
	if seats := h.seats(people); seats != 0 {
		t.Errorf("%d of the 30 still seated after all rows; want 0", seats)
	}
	h.dmWith(uCarol, "all 30 removals of "+id+" are done")
	// The group is one item in the requester's status (its notification
	// text and its block each name it once).
	if got := h.slashReply(uCarol, "status"); strings.Count(got, id) != 2 || !strings.Contains(got, "30 people") {
		t.Errorf("status shows %s %d times; want it as one item:\n%s", id, strings.Count(got, id)/2, got)
	}
	// A row of another admin can't be marked by erin.
	if got := h.forgedClickReply(uErin, frank, handlers.ActionRowsAllDone); !strings.Contains(got, "already") && !strings.Contains(got, "Nothing of yours") {
		t.Errorf("erin on frank's finished checklist = %q", got)
	}
}

// `/uxpin-access offboard @a @b @c` is one group too.
func TestOffboardSeveralIsOneGroup(t *testing.T) {
	h := newHarness(t, nil)
	grantDone(h, uBob, "viewer")
	grantDone(h, uDave, "editor")
	got := h.slashReply(uAlice, "offboard <@"+uBob+"|bob> <@"+uDave+"|dave> <@"+uGina+">")
	if !strings.Contains(got, "3 people") {
		t.Fatalf("offboard reply = %q", got)
	}
	id := fmt.Sprintf("R-%d", h.m.mustCount(t))
	card := h.dmWith(uCarol, "UXPin access request "+id+":", "bob@example.com", "dave@example.com", "gina@example.com")
	if n := h.cards(uDave, id); n != 0 {
		t.Errorf("dave, one of the people removed, got a card")
	}
	h.click(uCarol, card, handlers.ActionApprove)
	h.waitState(id, "approved")
	r, _ := h.m.Service.Request(context.Background(), id)
	for _, a := range r.RowAssignees() {
		h.click(a, h.dmWith(a, "UXPin task "+id, "Mark all"), handlers.ActionRowsAllDone)
	}
	h.waitState(id, "fulfilled")
	if g, _ := h.m.DB.GrantFor(context.Background(), uBob); g != nil {
		t.Errorf("bob still seated")
	}
}

// seats counts the users still in the ledger.
func (h *harness) seats(users []string) int {
	n := 0
	for _, u := range users {
		if g, _ := h.m.DB.GrantFor(context.Background(), u); g != nil {
			n++
		}
	}
	return n
}
