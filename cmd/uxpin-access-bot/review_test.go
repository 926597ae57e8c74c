package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/uxpin-access-bot/uxpin-access-bot/access"
	"github.com/uxpin-access-bot/uxpin-access-bot/handlers"
	"github.com/uxpin-access-bot/uxpin-access-bot/internal/fakeslack"
)

// seatHolder is the n-th extra seat holder of the review tests.
func seatHolder(n int) string { return fmt.Sprintf("U0SEAT%02d", n) }

// seedSeat records a fulfilled grant of role for user straight in the
// database, as if it had gone through the lifecycle long ago.
func (h *harness) seedSeat(userID, email string, role access.Role, since time.Time) string {
	h.t.Helper()
	r, err := h.m.DB.CreateRequest(context.Background(), func(_ access.Tx, r *access.Request) (access.Effects, error) {
		r.Action, r.Requester, r.Target, r.TargetEmail, r.Role = access.ActionGrant, userID, userID, email, role
		r.Justification = "Seeded for the access review test"
		r.State, r.DecidedBy, r.ClosedBy, r.ClosedAt, r.UpdatedAt = access.StateFulfilled, uCarol, uErin, since, since
		return access.Effects{Grant: &access.Grant{UserID: userID, Email: email, Role: role, Since: since, RequestID: r.ID}}, nil
	})
	if err != nil {
		h.t.Fatalf("seed seat for %s: %v", userID, err)
	}
	return r.ID
}

// review returns the latest access review as stored.
func (h *harness) review() *access.Review {
	h.t.Helper()
	rv, err := h.m.Service.LastReview(context.Background())
	if err != nil || rv == nil {
		h.t.Fatalf("LastReview = %v, %v", rv, err)
	}
	return rv
}

// reviewHarness runs the bot with carol and dave as the only approvers and
// 20 seats in the ledger: carol (Admin), dave (Editor) and 18 others.
func reviewHarness(t *testing.T, clk *testClock) *harness {
	t.Helper()
	h := newHarness(t, map[string]string{
		"UXPIN_APPROVERS":    uCarol + "," + uDave,
		"UXPIN_SEATS_EDITOR": "20",
	}, withClock(clk))
	since := clk.Now().AddDate(0, -6, 0)
	h.seedSeat(uCarol, "carol@example.com", access.RoleAdmin, since)
	h.seedSeat(uDave, "dave@example.com", access.RoleEditor, since)
	for n := 1; n <= 18; n++ {
		u := seatHolder(n)
		h.fake.AddUser(fakeslack.User{ID: u, Name: strings.ToLower(u), RealName: "Seat " + u, Email: strings.ToLower(u) + "@example.com"})
		role := access.RoleEditor
		switch {
		case n > 15:
			role = access.RoleViewer
		case n == 1:
			role = access.RoleAdmin
		}
		h.seedSeat(u, strings.ToLower(u)+"@example.com", role, since)
	}
	return h
}

// question waits for the holder's review question.
func (h *harness) question(holder string) fakeslack.Message {
	h.t.Helper()
	return h.dmWith(holder, "Do you still need it?")
}

// reviewerList waits for the list message of reviewer that holds seat i's buttons.
func (h *harness) reviewerList(reviewer string, i int) fakeslack.Message {
	h.t.Helper()
	var found fakeslack.Message
	id := fmt.Sprintf("%s_%s_%d", handlers.ActionReviewDecide, access.ReviewKeep, i)
	h.waitFor(fmt.Sprintf("%s's list with seat %d", reviewer, i), func() bool {
		for _, m := range h.fake.DMs(reviewer) {
			cur, ok := h.fake.Message(m.Channel, m.TS)
			if !ok {
				continue
			}
			if _, ok := fakeslack.FindAction(cur.Blocks, id); ok {
				found = cur
				return true
			}
		}
		return false
	})
	return found
}

// decide clicks a reviewer's button on seat i and waits until it is stored.
func (h *harness) decide(reviewer string, i int, d access.ReviewAnswer) {
	h.t.Helper()
	m := h.reviewerList(reviewer, i)
	h.click(reviewer, m, fmt.Sprintf("%s_%s_%d", handlers.ActionReviewDecide, d, i))
	h.waitFor(fmt.Sprintf("seat %d decided %s", i, d), func() bool {
		s := h.review().Seat(i)
		return s.Decision == d && s.DecidedBy == reviewer
	})
}

// answer clicks the holder's button on their question and waits until stored.
func (h *harness) answer(holder string, a access.ReviewAnswer) {
	h.t.Helper()
	h.click(holder, h.question(holder), handlers.ActionReviewAnswer+"_"+string(a))
	h.waitFor(holder+" answered "+string(a), func() bool {
		rv := h.review()
		return rv.Seat(rv.SeatOf(holder)).Answer == a
	})
}

const reminderText = "Reminder: access review V-1"

func TestAccessReview(t *testing.T) {
	start := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	clk := &testClock{t: start}
	h := reviewHarness(t, clk)

	// Only approvers and admins start a review.
	if got := h.slashReply(uBob, "review"); !strings.Contains(got, "approvers and admins") {
		t.Errorf("review by bob = %q; want a refusal for approvers and admins", got)
	}
	got := h.slashReply(uCarol, "review")
	if !containsAll(got, "Access review V-1 started", "20 seats", "2026-12-14 09:00 UTC") {
		t.Fatalf("review by carol = %q; want V-1 started with 20 seats until 2026-12-14", got)
	}
	if got := h.slashReply(uDave, "review"); !containsAll(got, "V-1 is already open until 2026-12-14 09:00 UTC") {
		t.Errorf("second review = %q; want it to say when the open one ends", got)
	}

	// Holders are asked first, every one of them.
	rv := h.review()
	if len(rv.Seats) != 20 {
		t.Fatalf("review has %d seats; want 20", len(rv.Seats))
	}
	q := h.question(seatHolder(2))
	if !containsAll(msgText(q), "You have UXPin Editor since 2026-05-30 (R-", "Keep", "Downgrade to Viewer", "Remove it") {
		t.Errorf("question = %q", msgText(q))
	}
	viewerQ := h.question(seatHolder(17))
	if strings.Contains(msgText(viewerQ), "Downgrade") {
		t.Errorf("a Viewer's question offers a downgrade: %q", msgText(viewerQ))
	}
	for _, s := range rv.Seats {
		h.question(s.Holder)
	}

	// The approvers share the seats evenly, never their own.
	load := map[string]int{}
	for _, s := range rv.Seats {
		load[s.Reviewer]++
		if s.Reviewer == s.Holder {
			t.Errorf("%s reviews their own seat", s.Holder)
		}
	}
	if load[uCarol] != 10 || load[uDave] != 10 {
		t.Errorf("seats per reviewer = %v; want 10 each", load)
	}
	carolSeat, daveSeat := rv.SeatOf(uCarol), rv.SeatOf(uDave)
	if rv.Seats[carolSeat].Reviewer != uDave || rv.Seats[daveSeat].Reviewer != uCarol {
		t.Errorf("carol's seat goes to %s, dave's to %s; want each to the other", rv.Seats[carolSeat].Reviewer, rv.Seats[daveSeat].Reviewer)
	}
	// Each gets one list (10 seats fit one message of 15).
	for _, r := range []string{uCarol, uDave} {
		h.waitFor(r+"'s list", func() bool { return h.countDMs(r, "seats for you to decide") == 1 })
	}

	// Some holders keep, one downgrades, one removes.
	for n := 2; n <= 8; n++ {
		h.answer(seatHolder(n), access.ReviewKeep)
	}
	h.answer(seatHolder(9), access.ReviewDowngrade)
	h.answer(seatHolder(10), access.ReviewRemove)
	rv = h.review()
	down, gone := rv.Seat(rv.SeatOf(seatHolder(9))), rv.Seat(rv.SeatOf(seatHolder(10)))
	if down.TaskID == "" || gone.TaskID == "" {
		t.Fatalf("holder's downgrade and removal made no tasks: %+v %+v", down, gone)
	}
	for _, id := range []string{down.TaskID, gone.TaskID} {
		r, err := h.m.Service.Request(context.Background(), id)
		if err != nil || r.State != access.StateApproved || r.DecidedBy != "" || r.Origin != access.OriginReview || r.Assignee == "" {
			t.Errorf("holder's task %s = %+v, %v; want approved without an approver, assigned", id, r, err)
		}
	}
	h.dmWith(h.m.mustAssignee(t, down.TaskID), "UXPin task "+down.TaskID)
	if r, _ := h.m.Service.Request(context.Background(), down.TaskID); r.Action != access.ActionChange || r.Role != access.RoleViewer {
		t.Errorf("downgrade task = %s to %s; want a change to Viewer", r.Action, r.Role)
	}

	// Refusals: someone else's question, one's own seat.
	if got := h.forgedClickReply(seatHolder(11), h.question(seatHolder(2)), handlers.ActionReviewAnswer+"_remove"); !strings.Contains(got, "Only <@"+seatHolder(2)+"> can answer") {
		t.Errorf("answering someone else's question = %q", got)
	}
	daveList := h.reviewerList(uDave, carolSeat)
	if got := h.forgedClickReply(uCarol, daveList, fmt.Sprintf("%s_remove_%d", handlers.ActionReviewDecide, carolSeat)); !strings.Contains(got, "You can't decide on your own seat; <@"+uDave+"> reviews it") {
		t.Errorf("deciding one's own seat = %q", got)
	}
	if s := h.review().Seat(carolSeat); s.Decision != "" {
		t.Errorf("carol's own seat got decision %q", s.Decision)
	}

	// A restart in the middle loses nothing.
	before := h.review()
	h.restart()
	after := h.review()
	if fmt.Sprint(after.Progress()) != fmt.Sprint(before.Progress()) || after.Version != before.Version {
		t.Errorf("progress after restart = %+v; want %+v", after.Progress(), before.Progress())
	}
	if got := h.slashReply(uDave, "review status"); !containsAll(got, "Access review V-1", "20 seats: 9 answered by their holders, 2 decided, 18 left", "<@"+uCarol+">: 1 of 10 decided") &&
		!containsAll(got, "20 seats: 9 answered by their holders, 2 decided, 18 left", "<@"+uDave+">: 1 of 10 decided") {
		t.Errorf("review status = %q", got)
	}

	// Halfway: one reminder per person with something left.
	clk.Add(7*24*time.Hour + time.Minute)
	h.dmWith(seatHolder(11), reminderText, "Do you still need it?")
	h.dmWith(uCarol, reminderText, "seats left to decide")
	h.outboxEmpty()
	if n := h.countDMs(seatHolder(2), reminderText); n != 0 {
		t.Errorf("a holder who answered got %d reminders", n)
	}
	// Carol is both a holder who has not answered and a reviewer: one message.
	if n := h.countDMs(uCarol, reminderText, "Do you still need it?", "seats left to decide"); n != 1 || h.countDMs(uCarol, reminderText) != 1 {
		t.Errorf("carol got %d combined reminders (%d in all); want exactly one", n, h.countDMs(uCarol, reminderText))
	}

	// The Home tab shows a holder their open question, and it can be answered there.
	if _, err := h.fake.AppHomeOpened(h.ctx(), seatHolder(12)); err != nil {
		t.Fatal(err)
	}
	h.waitFor("seat 12's Home with the question", func() bool {
		v, ok := h.fake.Home(seatHolder(12))
		return ok && strings.Contains(fakeslack.BlocksText(v.Blocks), "Do you still need it?")
	})
	if _, err := h.fake.ClickHome(h.ctx(), seatHolder(12), handlers.ActionReviewAnswer+"_keep", ""); err != nil {
		t.Fatal(err)
	}
	h.waitFor("seat 12's answer from Home", func() bool {
		rv := h.review()
		return rv.Seat(rv.SeatOf(seatHolder(12))).Answer == access.ReviewKeep
	})
	h.waitFor("seat 12's Home without the question", func() bool {
		v, ok := h.fake.Home(seatHolder(12))
		return ok && !strings.Contains(fakeslack.BlocksText(v.Blocks), "Do you still need it?")
	})

	// Reviewers decide the rest, one seat left undecided.
	undecided := -1
	removedByReviewer, removedToo, downByReviewer := -1, -1, -1
	for _, reviewer := range []string{uCarol, uDave} {
		list := h.reviewerList(reviewer, rv.SeatsFor(reviewer)[0])
		n := len(h.fake.Ephemerals(reviewer))
		h.click(reviewer, list, handlers.ActionReviewKeepAll)
		if got := h.ephemeral(reviewer, n+1); !strings.Contains(got, "Kept") {
			t.Errorf("keep all = %q", got)
		}
		for _, i := range rv.SeatsFor(reviewer) {
			s := h.review().Seat(i)
			switch {
			case s.Decision != "":
			case undecided < 0:
				undecided = i
			case removedByReviewer < 0 && s.Holder != uDave && s.Holder != uCarol:
				h.decide(reviewer, i, access.ReviewKeep) // changed below
				h.decide(reviewer, i, access.ReviewRemove)
				removedByReviewer = i
			case removedToo < 0 && reviewer == h.review().Seat(removedByReviewer).DecidedBy && s.Holder != uDave && s.Holder != uCarol:
				h.decide(reviewer, i, access.ReviewRemove)
				removedToo = i
			case downByReviewer < 0 && s.Role != access.RoleViewer && s.Holder != uDave && s.Holder != uCarol:
				h.decide(reviewer, i, access.ReviewDowngrade)
				downByReviewer = i
			default:
				h.decide(reviewer, i, access.ReviewKeep)
			}
		}
	}
	if undecided < 0 || removedByReviewer < 0 || removedToo < 0 || downByReviewer < 0 {
		t.Fatalf("test setup: undecided %d, removed %d and %d, downgraded %d", undecided, removedByReviewer, removedToo, downByReviewer)
	}
	if left := h.review().Undecided(); len(left) != 1 || left[0] != undecided {
		t.Fatalf("undecided seats = %v; want [%d]", left, undecided)
	}

	// A day before the end: one more reminder, to whoever still has something left.
	clk.Add(6 * 24 * time.Hour)
	undecidedReviewer := h.review().Seat(undecided).Reviewer
	h.waitFor("the last-day reminder", func() bool { return h.countDMs(undecidedReviewer, reminderText) == 2 })

	// The end: the approvers get the report with the CSV; reviewers' decisions become tasks.
	clk.Add(24*time.Hour + time.Minute)
	for _, a := range []string{uCarol, uDave} {
		report := h.dmWith(a, "Access review V-1 ended")
		if !containsAll(msgText(report), "1 without a decision", "seats have no decision", "freed: ", "of 20 purchased seats") {
			t.Errorf("report = %q", msgText(report))
		}
		h.waitFor("the CSV for "+a, func() bool { return len(h.fake.Files(report.Channel)) == 1 })
		if f := h.fake.Files(report.Channel)[0]; !strings.Contains(f.Name, "V-1") {
			t.Errorf("attached file %q; want the review's CSV", f.Name)
		}
		rows, err := csv.NewReader(strings.NewReader(string(h.fake.Files(report.Channel)[0].Content))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 21 {
			t.Fatalf("CSV has %d rows; want a header and 20 seats", len(rows))
		}
		byHolder := map[string][]string{}
		for _, row := range rows[1:] {
			byHolder[row[1]] = row
		}
		checks := map[string][2]string{ // holder → answer, decision
			seatHolder(9):                      {"downgrade", "downgrade"},
			seatHolder(10):                     {"remove", "remove"},
			seatHolder(2):                      {"keep", ""},
			rv.Seats[undecided].Holder:         {"", "undecided"},
			rv.Seats[removedByReviewer].Holder: {"", "remove"},
		}
		for holder, w := range checks {
			row := byHolder[holder]
			if row == nil {
				t.Errorf("CSV has no row for %s", holder)
				continue
			}
			if w[0] != "" && row[7] != w[0] {
				t.Errorf("CSV answer of %s = %q; want %q", holder, row[7], w[0])
			}
			if w[1] != "" && row[10] != w[1] {
				t.Errorf("CSV decision of %s = %q; want %q", holder, row[10], w[1])
			}
		}
		if row := byHolder[rv.Seats[removedByReviewer].Holder]; row[11] != rv.Seats[removedByReviewer].Reviewer || row[12] == "" || row[13] == "" {
			t.Errorf("CSV row of the reviewer's removal = %v; want the reviewer, the time and the task", row)
		}
	}
	// Reminders went out once each: two rounds, never more per person.
	for _, s := range h.review().Seats {
		if n := h.countDMs(s.Holder, reminderText); n > 2 {
			t.Errorf("%s got %d reminders; want at most one per round", s.Holder, n)
		}
	}
	if n := h.countDMs(seatHolder(13), reminderText); n != 2 {
		t.Errorf("a holder who never answered got %d reminders; want 2", n)
	}

	// The reviewer's removals are one request group approved by the
	// reviewer, one checklist per admin; the ledger changes row by row.
	rv = h.review()
	rm, rm2 := rv.Seat(removedByReviewer), rv.Seat(removedToo)
	if rm.TaskID == "" || rm.TaskID != rm2.TaskID {
		t.Fatalf("a reviewer's two removals are tasks %q and %q; want one group", rm.TaskID, rm2.TaskID)
	}
	task, err := h.m.Service.Request(context.Background(), rm.TaskID)
	if err != nil || !task.IsGroup() || len(task.Rows) != 2 || task.DecidedBy != rm.Reviewer || task.State != access.StateApproved {
		t.Fatalf("reviewer's removal group = %+v, %v", task, err)
	}
	if g, _ := h.m.Service.Grant(context.Background(), rm.Holder); g == nil {
		t.Fatalf("the ledger changed before the task was done")
	}
	for _, admin := range task.RowAssignees() {
		h.click(admin, h.dmWith(admin, "UXPin task "+task.ID, "Mark all"), handlers.ActionRowsAllDone)
	}
	h.waitState(task.ID, "fulfilled")
	for _, s := range []*access.ReviewSeat{rm, rm2} {
		if g, _ := h.m.Service.Grant(context.Background(), s.Holder); g != nil {
			t.Errorf("after the removal was done the ledger still shows %+v", g)
		}
	}
	var admin string
	dn := rv.Seat(downByReviewer)
	admin = h.m.mustAssignee(t, dn.TaskID)
	h.click(admin, h.dmWith(admin, "UXPin task "+dn.TaskID), handlers.ActionDone)
	h.waitState(dn.TaskID, "fulfilled")
	if g, _ := h.m.Service.Grant(context.Background(), dn.Holder); g == nil || g.Role != access.RoleViewer {
		t.Errorf("after the downgrade was done the ledger shows %+v; want Viewer", g)
	}
	// The undecided seat is untouched.
	if g, _ := h.m.Service.Grant(context.Background(), rv.Seat(undecided).Holder); g == nil || g.RequestID != rv.Seat(undecided).RequestID {
		t.Errorf("the undecided seat changed: %+v", g)
	}

	// Stale buttons after the end change nothing.
	if got := h.forgedClickReply(seatHolder(11), h.question(seatHolder(11)), handlers.ActionReviewAnswer+"_remove"); !strings.Contains(got, "ended") {
		t.Errorf("holder's click after the end = %q", got)
	}
	if got := h.forgedClickReply(undecidedReviewer, h.reviewerList(undecidedReviewer, undecided), fmt.Sprintf("%s_remove_%d", handlers.ActionReviewDecide, undecided)); !strings.Contains(got, "ended") {
		t.Errorf("reviewer's click after the end = %q", got)
	}
	if s := h.review().Seat(undecided); s.Decision != "" {
		t.Errorf("a click after the end decided %q", s.Decision)
	}

	// The roster says when the last review ended; the audit log keeps every answer.
	if got := h.slashReply(uCarol, "roster"); !strings.Contains(got, "Last access review V-1 ended 2026-12-14") {
		t.Errorf("roster = %q; want when the last review ended", got)
	}
	answers := 0
	err = h.m.DB.Events(context.Background(), func(e access.Event) error {
		if e.Action == "review" && strings.Contains(e.Detail, "the holder answered") && e.TargetEmail != "" && e.Justification != "" {
			answers++
		}
		return nil
	})
	if err != nil || answers != 10 {
		t.Errorf("audit log has %d holder answers with the seat's facts (%v); want 10", answers, err)
	}
}

// TestAccessReviewPagination checks Slack's limits for a reviewer with 200
// seats (14 list messages of at most 15 seats) and for their Home tab; the
// fake Slack rejects any message or view past Block Kit's limits.
func TestAccessReviewPagination(t *testing.T) {
	clk := &testClock{t: time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)}
	h := newHarness(t, map[string]string{"UXPIN_APPROVERS": uCarol}, withClock(clk))
	since := clk.Now().AddDate(-1, 0, 0)
	for n := 1; n <= 200; n++ {
		u := fmt.Sprintf("U0MANY%03d", n)
		h.fake.AddUser(fakeslack.User{ID: u, Name: strings.ToLower(u), RealName: "Many " + u, Email: strings.ToLower(u) + "@example.com"})
		h.seedSeat(u, strings.ToLower(u)+"@example.com", access.RoleEditor, since)
	}
	if got := h.slashReply(uCarol, "review"); !strings.Contains(got, "200 seats") {
		t.Fatalf("review = %q", got)
	}
	h.waitFor("14 list messages", func() bool { return h.countDMs(uCarol, "seats for you to decide") == 14 })
	for _, m := range h.fake.DMs(uCarol) {
		if !strings.Contains(m.Text, "seats for you to decide") {
			continue
		}
		if n := strings.Count(msgText(m), "Editor since"); n > access.ReviewPageSize {
			t.Errorf("a list message shows %d seats; want at most %d", n, access.ReviewPageSize)
		}
	}
	// The last seat is on the last page and can be decided there.
	rv := h.review()
	last := rv.SeatsFor(uCarol)[199]
	h.decide(uCarol, last, access.ReviewRemove)
	// The Home tab stays within its limits and shows what is left.
	if _, err := h.fake.AppHomeOpened(h.ctx(), uCarol); err != nil {
		t.Fatal(err)
	}
	h.waitFor("carol's Home tab", func() bool {
		v, ok := h.fake.Home(uCarol)
		return ok && strings.Contains(fakeslack.BlocksText(v.Blocks), "199 of your 200 seats left to decide")
	})
	h.outboxEmpty()
}

// TestScheduledReview checks UXPIN_REVIEW_EVERY: the next start is stored,
// so a restart loses none, and the review starts on its own.
func TestScheduledReview(t *testing.T) {
	clk := &testClock{t: time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)}
	h := newHarness(t, map[string]string{"UXPIN_REVIEW_EVERY": "720h", "UXPIN_REVIEW_DAYS": "7"}, withClock(clk))
	h.seedSeat(uBob, "bob@example.com", access.RoleEditor, clk.Now())
	h.waitFor("the next review to be scheduled", func() bool {
		at, err := h.m.DB.NextReviewAt(context.Background())
		return err == nil && at.Equal(clk.Now().Add(720*time.Hour))
	})
	h.restart()
	clk.Add(719 * time.Hour)
	if rv, _ := h.m.Service.LastReview(context.Background()); rv != nil {
		t.Fatalf("review %s started before it was due", rv.ID)
	}
	clk.Add(time.Hour)
	h.question(uBob)
	rv := h.review()
	if rv.StartedBy != "" || !rv.EndsAt.Equal(rv.StartedAt.Add(7*24*time.Hour)) {
		t.Errorf("scheduled review = started by %q, %s to %s; want the schedule, 7 days", rv.StartedBy, rv.StartedAt, rv.EndsAt)
	}
	if got := h.slashReply(uCarol, "review status"); !strings.Contains(got, "by the schedule") {
		t.Errorf("review status = %q", got)
	}
	if at, _ := h.m.DB.NextReviewAt(context.Background()); !at.Equal(rv.StartedAt.Add(720 * time.Hour)) {
		t.Errorf("next review at %s; want %s", at, rv.StartedAt.Add(720*time.Hour))
	}
}

// TestAccessReviewHostileClicks sends forged review buttons: unknown
// reviews, seats out of range, malformed values, a non-approver deciding.
// Each is refused politely and changes nothing.
func TestAccessReviewHostileClicks(t *testing.T) {
	clk := &testClock{t: time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)}
	h := newHarness(t, nil, withClock(clk))
	h.seedSeat(uBob, "bob@example.com", access.RoleEditor, clk.Now())
	h.slashReply(uCarol, "review")
	h.question(uBob)
	dm, _ := h.fake.DMChannel(uBob)
	decideRemove := handlers.ActionReviewDecide + "_remove_0"
	clicks := []struct {
		name, user, action, value, want string
	}{
		{"unknown review", uBob, handlers.ActionReviewAnswer + "_remove", "V-99|0", "was not found"},
		{"seat out of range", uBob, handlers.ActionReviewAnswer + "_remove", "V-1|7", "not in review V-1"},
		{"negative seat", uCarol, decideRemove, "V-1|-1", "no longer exists"},
		{"request ID instead of a review", uBob, handlers.ActionReviewAnswer + "_keep", "R-1|0", "no longer exists"},
		{"garbage", uBob, handlers.ActionReviewKeepAll, strings.Repeat("V-", 500), "no longer exists"},
		{"unknown answer", uBob, handlers.ActionReviewAnswer + "_grant", "V-1|0", "not an answer the review offers"},
		{"a non-approver decides", uAlice, decideRemove, "V-1|0", "Only UXPin access approvers"},
		{"holder decides own seat", uBob, decideRemove, "V-1|0", "Only UXPin access approvers"},
	}
	for _, c := range clicks {
		t.Run(c.name, func(t *testing.T) {
			n := len(h.fake.Ephemerals(c.user))
			h.forge(forgedClick(c.user, dm, c.action, c.value, "http://127.0.0.1:1/steal"))
			if got := h.ephemeral(c.user, n+1); !strings.Contains(got, c.want) {
				t.Errorf("reply = %q; want %q", got, c.want)
			}
		})
	}
	if s := h.review().Seat(0); s.Answer != "" || s.Decision != "" {
		t.Errorf("forged clicks changed the seat: %+v", s)
	}
}
