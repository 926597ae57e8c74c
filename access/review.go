package access

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Access reviews (SPEC §11): every seat in the ledger is re-justified. The
// holder is asked first; reviewers (the approvers, sharing the seats) decide;
// removals and downgrades become tasks through the lifecycle, and the report
// is kept as evidence.

// ReviewAnswer is what a holder answers, or a reviewer decides, for a seat.
type ReviewAnswer string

// The answers and decisions a seat can get.
const (
	ReviewKeep      ReviewAnswer = "keep"
	ReviewDowngrade ReviewAnswer = "downgrade" // to Viewer; only for Editor and Admin seats
	ReviewRemove    ReviewAnswer = "remove"
)

// ReviewAnswers lists the answers in the order they are offered.
var ReviewAnswers = []ReviewAnswer{ReviewKeep, ReviewDowngrade, ReviewRemove}

// Valid reports whether a is a known answer.
func (a ReviewAnswer) Valid() bool { return slices.Contains(ReviewAnswers, a) }

// ValidFor reports whether a may be given for a seat with role: a Viewer
// seat cannot be downgraded.
func (a ReviewAnswer) ValidFor(role Role) bool {
	return a.Valid() && (a != ReviewDowngrade || role.Rank() > RoleViewer.Rank())
}

// Label is the answer as users see it.
func (a ReviewAnswer) Label() string {
	switch a {
	case ReviewKeep:
		return "Keep"
	case ReviewDowngrade:
		return "Downgrade to Viewer"
	case ReviewRemove:
		return "Remove"
	}
	return string(a)
}

// DefaultReviewDays is how long a review stays open when the configuration
// sets no length.
const DefaultReviewDays = 14

// ReviewPageSize is the most seats one reviewer message lists.
const ReviewPageSize = 15

// ReviewSeat is one seat under review: the ledger entry as it stood when the
// review started, the holder's answer and the reviewer's decision.
type ReviewSeat struct {
	Holder        string    `json:"holder"` // Slack user ID (or "email:…" for a seat outside Slack)
	Email         string    `json:"email"`
	Name          string    `json:"name,omitempty"`
	Role          Role      `json:"role"`
	Since         time.Time `json:"since"`
	RequestID     string    `json:"request_id"`              // the request that put the seat in the ledger
	Justification string    `json:"justification,omitempty"` // why it was granted, for the record
	Reviewer      string    `json:"reviewer,omitempty"`      // the approver asked to decide; "" if none could be

	Answer     ReviewAnswer `json:"answer,omitempty"`
	AnsweredAt time.Time    `json:"answered_at,omitzero"`

	Decision  ReviewAnswer `json:"decision,omitempty"`
	DecidedBy string       `json:"decided_by,omitempty"` // the reviewer, or the holder who lowered their own access
	DecidedAt time.Time    `json:"decided_at,omitzero"`

	// TaskID is the removal or downgrade request the seat's outcome became.
	TaskID string `json:"task_id,omitempty"`
	// Note says why an outcome did not become a task (the seat changed
	// since the review started, a request was already open).
	Note string `json:"note,omitempty"`
}

// InSlack reports whether the holder can be asked in Slack.
func (s *ReviewSeat) InSlack() bool { return s.Holder != "" && !strings.HasPrefix(s.Holder, "email:") }

// Final reports whether the seat's outcome can no longer change: the holder
// lowered their own access, which became a task at once.
func (s *ReviewSeat) Final() bool { return s.TaskID != "" }

// Review is one access review as kept. Its ID ("V-3") is what its buttons
// carry. The reminders are durable timers: each is a time that is cleared in
// the same transaction that queues its messages, so it fires once.
type Review struct {
	ID        string       `json:"id"`
	StartedBy string       `json:"started_by,omitempty"` // "" when the schedule started it
	StartedAt time.Time    `json:"started_at"`
	EndsAt    time.Time    `json:"ends_at"`
	Reviewers []string     `json:"reviewers"`
	Seats     []ReviewSeat `json:"seats"`

	// Reminder times; zero once sent (or when there is no room for one).
	HalfwayAt time.Time `json:"halfway_at,omitzero"`
	LastDayAt time.Time `json:"last_day_at,omitzero"`
	Reminders int       `json:"reminders,omitempty"`

	Ended   bool      `json:"ended,omitempty"`
	EndedAt time.Time `json:"ended_at,omitzero"`
	// ReportTo are the approvers told at the end; CSVPending those whose
	// copy of the CSV is still to be uploaded.
	ReportTo   []string `json:"report_to,omitempty"`
	CSVPending []string `json:"csv_pending,omitempty"`

	Version int `json:"version"`
}

// Open reports whether the review still takes answers and decisions.
func (rv *Review) Open() bool { return !rv.Ended }

// Seat returns seat i, or nil.
func (rv *Review) Seat(i int) *ReviewSeat {
	if i < 0 || i >= len(rv.Seats) {
		return nil
	}
	return &rv.Seats[i]
}

// SeatOf returns the index of holder's seat, or -1.
func (rv *Review) SeatOf(holder string) int {
	for i := range rv.Seats {
		if rv.Seats[i].Holder == holder {
			return i
		}
	}
	return -1
}

// SeatsFor returns the indexes of the seats assigned to reviewer, in order.
func (rv *Review) SeatsFor(reviewer string) []int {
	var out []int
	for i := range rv.Seats {
		if rv.Seats[i].Reviewer == reviewer {
			out = append(out, i)
		}
	}
	return out
}

// Pages returns how many list messages reviewer gets.
func (rv *Review) Pages(reviewer string) int {
	return (len(rv.SeatsFor(reviewer)) + ReviewPageSize - 1) / ReviewPageSize
}

// Page returns the seat indexes on reviewer's list message page (1-based).
func (rv *Review) Page(reviewer string, page int) []int {
	all := rv.SeatsFor(reviewer)
	lo := (page - 1) * ReviewPageSize
	if page < 1 || lo >= len(all) {
		return nil
	}
	return all[lo:min(lo+ReviewPageSize, len(all))]
}

// ReviewerProgress is how far one reviewer is.
type ReviewerProgress struct {
	Reviewer string
	Assigned int
	Decided  int
}

// ReviewProgress sums up a review for `review status`.
type ReviewProgress struct {
	Seats    int
	Answered int // holders who answered
	Decided  int // seats with a decision (the reviewer's, or the holder's own lowering)
	Left     int // seats without a decision
	// ByReviewer is in the order of Review.Reviewers, then "" for seats
	// nobody could be assigned.
	ByReviewer []ReviewerProgress
}

// Progress counts answers and decisions.
func (rv *Review) Progress() ReviewProgress {
	p := ReviewProgress{Seats: len(rv.Seats)}
	by := map[string]*ReviewerProgress{}
	order := slices.Clone(rv.Reviewers)
	for _, r := range rv.Reviewers {
		by[r] = &ReviewerProgress{Reviewer: r}
	}
	for _, s := range rv.Seats {
		if s.Answer != "" {
			p.Answered++
		}
		rp := by[s.Reviewer]
		if rp == nil {
			rp = &ReviewerProgress{Reviewer: s.Reviewer}
			by[s.Reviewer] = rp
			order = append(order, s.Reviewer)
		}
		rp.Assigned++
		if s.Decision != "" {
			p.Decided++
			rp.Decided++
		}
	}
	p.Left = p.Seats - p.Decided
	for _, r := range order {
		p.ByReviewer = append(p.ByReviewer, *by[r])
	}
	return p
}

// Undecided returns the indexes of seats without a decision.
func (rv *Review) Undecided() []int {
	var out []int
	for i := range rv.Seats {
		if rv.Seats[i].Decision == "" {
			out = append(out, i)
		}
	}
	return out
}

// ReviewTotal is the outcome for one role.
type ReviewTotal struct {
	Role                                   Role
	Seats, Kept, Downgraded, Removed, Open int
}

// Freed is the seats of the role the review frees: removed ones, and for
// Editor and Admin the downgraded ones (they become Viewer seats).
func (t ReviewTotal) Freed() int {
	if t.Role == RoleViewer {
		return t.Removed
	}
	return t.Removed + t.Downgraded
}

// Totals returns the outcome per role, Admin first.
func (rv *Review) Totals() []ReviewTotal {
	var out []ReviewTotal
	for _, role := range []Role{RoleAdmin, RoleEditor, RoleViewer} {
		t := ReviewTotal{Role: role}
		for _, s := range rv.Seats {
			if s.Role != role {
				continue
			}
			t.Seats++
			switch s.Decision {
			case ReviewKeep:
				t.Kept++
			case ReviewDowngrade:
				t.Downgraded++
			case ReviewRemove:
				t.Removed++
			default:
				t.Open++
			}
		}
		out = append(out, t)
	}
	return out
}

// CSV writes one row per seat: the evidence an auditor keeps.
func (rv *Review) CSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"review", "holder_slack_id", "holder", "email", "role", "since", "granted_by_request",
		"holder_answer", "holder_answered_at", "reviewer", "decision", "decided_by", "decided_at", "task", "note"})
	ts := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	for _, s := range rv.Seats {
		ans := string(s.Answer)
		if ans == "" {
			ans = "no answer"
		}
		dec := string(s.Decision)
		if dec == "" {
			dec = "undecided"
		}
		_ = cw.Write([]string{rv.ID, s.Holder, SafeCell(s.Name), SafeCell(s.Email), s.Role.Label(), ts(s.Since), s.RequestID,
			ans, ts(s.AnsweredAt), s.Reviewer, dec, s.DecidedBy, ts(s.DecidedAt), s.TaskID, SafeCell(s.Note)})
	}
	cw.Flush()
	return cw.Error()
}

// ReviewOpenError refuses a second review while one is open; Open is it.
type ReviewOpenError struct{ Open *Review }

// Error implements error.
func (e *ReviewOpenError) Error() string {
	return fmt.Sprintf("review %s is open until %s", e.Open.ID, e.Open.EndsAt.UTC().Format(time.RFC3339))
}

// Code is ECONFLICT: one review at a time.
func (e *ReviewOpenError) Code() string { return ECONFLICT }

// ReviewStore keeps reviews. Like the request store, its functions run
// inside one write transaction and may run more than once, so they must
// keep no effect outside their return values and the transaction.
type ReviewStore interface {
	// StartReview calls fn with the open review (nil if none) and a new
	// review whose ID storage has assigned; unless fn fails, the new review
	// is stored as the latest, with fn's effects.
	StartReview(ctx context.Context, fn func(tx ReviewTx, open, rv *Review) (Effects, error)) (*Review, error)
	// UpdateReview loads review id, calls fn on it and stores the result
	// with fn's effects. An unknown id is an ENOTFOUND *Error.
	UpdateReview(ctx context.Context, id string, fn func(tx ReviewTx, rv *Review) (Effects, error)) (*Review, error)
	Review(ctx context.Context, id string) (*Review, error)
	// LastReview returns the latest review, open or ended, or nil.
	LastReview(ctx context.Context) (*Review, error)
	// NextReviewAt returns when the schedule starts the next review (zero:
	// not set yet).
	NextReviewAt(ctx context.Context) (time.Time, error)
	// SetNextReviewAt stores when the schedule starts the next review.
	SetNextReviewAt(ctx context.Context, at time.Time) error
}

// ReviewTx is the view a review step gets inside its write transaction.
type ReviewTx interface {
	Tx
	// CreateRequest stores r as a new request with fx in this transaction
	// and returns its ID; fx's events and notices default to that ID.
	CreateRequest(r *Request, fx Effects) (string, error)
	// SetNextReviewAt stores when the schedule starts the next review.
	SetNextReviewAt(at time.Time) error
}

// Reviews runs access reviews (SPEC §11).
type Reviews struct{ *core }

// Review notices carry the review's ID as their RequestID.

// IsReviewID reports whether id names a review ("V-3") rather than a request.
func IsReviewID(id string) bool {
	n, err := strconv.ParseUint(strings.TrimPrefix(id, "V-"), 10, 64)
	return strings.HasPrefix(id, "V-") && err == nil && n > 0
}

// seatRequest is the seat as the policy sees it: a request about the holder,
// current while the review is open and the seat's outcome not final.
func seatRequest(rv *Review, s *ReviewSeat) *Request {
	r := &Request{ID: s.RequestID, Requester: s.Holder, Target: s.Holder, TargetEmail: s.Email,
		TargetName: s.Name, Role: s.Role, Assignee: s.Reviewer, State: StatePending}
	if !rv.Open() || s.Final() {
		r.State = StateCancelled
	}
	return r
}

// AssignReviewers shares seats among reviewers as evenly as possible, never
// giving anyone their own seat: each seat goes to the eligible reviewer with
// the fewest seats so far, the earlier-listed on a tie. A seat only its own
// holder could review goes to a UXPin admin who is not its holder (with a
// single approver, their own seat), the least loaded first, or to nobody
// ("") when there is none.
func AssignReviewers(seats []ReviewSeat, reviewers []string, fallback ...string) {
	load := map[string]int{}
	pick := func(holder string, from []string) string {
		best := ""
		for _, r := range from {
			if r == holder {
				continue
			}
			if best == "" || load[r] < load[best] {
				best = r
			}
		}
		return best
	}
	for i := range seats {
		best := pick(seats[i].Holder, reviewers)
		if best == "" {
			best = pick(seats[i].Holder, fallback)
		}
		seats[i].Reviewer = best
		if best != "" {
			load[best]++
		}
	}
}

func (c *core) reviewDays() int {
	if c.cfg.ReviewDays <= 0 {
		return DefaultReviewDays
	}
	return c.cfg.ReviewDays
}

func (c *core) reviewEvent(rv *Review, s *ReviewSeat, actor, detail string) Event {
	e := Event{Time: c.now(), RequestID: rv.ID, Action: "review", Actor: actor, Detail: detail}
	if s != nil {
		e.RequestID, e.TargetEmail, e.Role = s.RequestID, s.Email, s.Role
		e.Target, e.Requester, e.Justification = s.Holder, s.Holder, s.Justification
		e.Detail = rv.ID + ": " + detail
	}
	return e
}

// StartReview opens a review of every seat in the ledger, started by actor
// (an approver or admin), or by the schedule when actor is "". A second
// review while one is open is refused with a *ReviewOpenError.
func (rvs *Reviews) StartReview(ctx context.Context, actor string) (*Review, error) {
	if actor != "" {
		who, err := rvs.actor(ctx, actor, nil, true)
		if err != nil {
			return nil, err
		}
		if err := Check(ActReview, who, nil, nil); err != nil {
			return nil, err
		}
	}
	grants, err := rvs.store.Roster(ctx)
	if err != nil {
		return nil, err
	}
	if len(grants) == 0 {
		return nil, Errorf(EINVALID, "The ledger has no seats to review.")
	}
	approvers, err := rvs.dir.Approvers(ctx)
	if err != nil {
		return nil, fmt.Errorf("resolve approvers: %w", err)
	}
	seats := make([]ReviewSeat, 0, len(grants))
	for _, g := range grants {
		s := ReviewSeat{Holder: g.UserID, Email: g.Email, Name: g.Name, Role: g.Role, Since: g.Since, RequestID: g.RequestID}
		if r, err := rvs.store.Request(ctx, g.RequestID); err == nil {
			s.Justification = r.Justification
			if s.Name == "" {
				s.Name = r.TargetName
			}
		}
		seats = append(seats, s)
	}
	AssignReviewers(seats, approvers, rvs.cfg.Admins...)
	reviewers := slices.Clone(approvers)
	for _, s := range seats {
		if s.Reviewer != "" && !slices.Contains(reviewers, s.Reviewer) {
			reviewers = append(reviewers, s.Reviewer) // an admin reviewing an approver's own seat
		}
	}
	now := rvs.now()
	length := time.Duration(rvs.reviewDays()) * 24 * time.Hour
	every := rvs.cfg.ReviewEvery
	return rvs.store.StartReview(ctx, func(tx ReviewTx, open, rv *Review) (Effects, error) {
		if open != nil {
			return Effects{}, &ReviewOpenError{Open: open}
		}
		*rv = Review{ID: rv.ID, StartedBy: actor, StartedAt: now, EndsAt: now.Add(length),
			Reviewers: slices.Clone(reviewers), Seats: slices.Clone(seats)}
		rv.HalfwayAt = now.Add(length / 2)
		if last := rv.EndsAt.Add(-24 * time.Hour); last.After(rv.HalfwayAt) {
			rv.LastDayAt = last
		}
		if every > 0 {
			if err := tx.SetNextReviewAt(now.Add(every)); err != nil {
				return Effects{}, err
			}
		}
		by := "the schedule (UXPIN_REVIEW_EVERY)"
		if actor != "" {
			by = actor
		}
		fx := Effects{Events: []Event{rvs.reviewEvent(rv, nil, actor, fmt.Sprintf("access review %s started by %s: %d seats, %d reviewers, open until %s",
			rv.ID, by, len(rv.Seats), len(reviewers), rv.EndsAt.UTC().Format(time.RFC3339)))}}
		var people []string
		for i := range rv.Seats {
			if s := &rv.Seats[i]; s.InSlack() {
				fx.Notices = append(fx.Notices, Notice{Kind: NoticeReviewAsk, RequestID: rv.ID, To: s.Holder, Part: i + 1})
				people = append(people, s.Holder)
			}
		}
		for _, r := range reviewers {
			for p := 1; p <= rv.Pages(r); p++ {
				fx.Notices = append(fx.Notices, Notice{Kind: NoticeReviewList, RequestID: rv.ID, To: r, Part: p})
			}
			people = append(people, r)
		}
		fx.Notices = append(fx.Notices, homes(tx, people...)...)
		return fx, nil
	})
}

// Review returns review id.
func (rvs *Reviews) Review(ctx context.Context, id string) (*Review, error) {
	return rvs.store.Review(ctx, id)
}

// LastReview returns the latest review, open or ended, or nil.
func (rvs *Reviews) LastReview(ctx context.Context) (*Review, error) {
	return rvs.store.LastReview(ctx)
}

// OpenReview returns the open review, or nil.
func (rvs *Reviews) OpenReview(ctx context.Context) (*Review, error) {
	rv, err := rvs.store.LastReview(ctx)
	if err != nil || rv == nil || !rv.Open() {
		return nil, err
	}
	return rv, nil
}

// ReviewStatus returns the latest review for actor (approvers and admins).
func (rvs *Reviews) ReviewStatus(ctx context.Context, actor string) (*Review, error) {
	who, err := rvs.actor(ctx, actor, nil, true)
	if err != nil {
		return nil, err
	}
	if err := Check(ActReview, who, nil, nil); err != nil {
		return nil, err
	}
	return rvs.store.LastReview(ctx)
}

// checkAnswer refuses an answer the review does not offer for role.
func checkAnswer(a ReviewAnswer, role Role) error {
	if !a.Valid() {
		return Errorf(EINVALID, "That is not an answer the review offers.")
	}
	if !a.ValidFor(role) {
		return Errorf(EINVALID, "A %s seat can't be downgraded; choose Keep or Remove.", role.Label())
	}
	return nil
}

// errSeat is the answer to a button naming a seat the review does not have.
func errSeat(id string) error { return Errorf(ENOTFOUND, "That seat is not in review %s.", id) }

// AnswerSeat records the holder's answer to their question (SPEC §11). Keep
// is their answer, not a decision. Downgrade and Remove lower their own
// access, which needs no approver: the task is created and assigned at
// once, and the seat's outcome is final.
func (rvs *Reviews) AnswerSeat(ctx context.Context, id string, seat int, actor string, ans ReviewAnswer) (*Review, error) {
	who, err := rvs.actor(ctx, actor, nil, false)
	if err != nil {
		return nil, err
	}
	rb, err := rvs.reviewBirths(ctx)
	if err != nil {
		return nil, err
	}
	now := rvs.now()
	return rvs.store.UpdateReview(ctx, id, func(tx ReviewTx, rv *Review) (Effects, error) {
		s := rv.Seat(seat)
		if s == nil {
			return Effects{}, errSeat(id)
		}
		if err := Check(ActReviewAnswer, who, seatRequest(rv, s), nil); err != nil {
			return Effects{}, err
		}
		if err := checkAnswer(ans, s.Role); err != nil {
			return Effects{}, err
		}
		s.Answer, s.AnsweredAt = ans, now
		fx := Effects{Events: []Event{rvs.reviewEvent(rv, s, actor, "the holder answered "+string(ans))}}
		fx.Notices = homes(tx, s.Holder, s.Reviewer)
		if ans == ReviewKeep {
			return fx, nil
		}
		s.Decision, s.DecidedBy, s.DecidedAt = ans, actor, now
		if err := rvs.lower(tx, rb, rv, s, actor, "", now, &fx); err != nil {
			return Effects{}, err
		}
		return fx, nil
	})
}

// reviewBirths are the review's drafts prepared once, before its
// transaction: a removal and a downgrade to Viewer.
type reviewBirths struct{ remove, downgrade *birth }

func (c *core) reviewBirths(ctx context.Context) (reviewBirths, error) {
	rm, err := c.prepare(ctx, Draft{Action: ActionRemove})
	if err != nil {
		return reviewBirths{}, err
	}
	dg, err := c.prepare(ctx, Draft{Action: ActionChange, Role: RoleViewer})
	if err != nil {
		return reviewBirths{}, err
	}
	return reviewBirths{remove: rm, downgrade: dg}, nil
}

// lower turns a seat's downgrade or removal into an approved task, born
// through the one constructor: by the holder themselves (approvedBy "",
// lowering one's own access needs no approver) or by the reviewer's
// decision (approvedBy the reviewer). A seat the ledger no longer holds as
// reviewed, or with the same request already open, gets a note instead.
func (c *core) lower(tx ReviewTx, rb reviewBirths, rv *Review, s *ReviewSeat, requester, approvedBy string, now time.Time, fx *Effects) error {
	b, action := rb.remove, ActionRemove
	if s.Decision == ReviewDowngrade {
		b, action = rb.downgrade, ActionChange
	}
	g, ok, err := c.stillHeld(tx, rv, s, action, fx)
	if err != nil || !ok {
		return err
	}
	d := b.d
	d.Requester = requester
	d.Target = Person{ID: s.Holder, Email: g.Email, Name: s.Name}
	d.Justification = fmt.Sprintf("Access review %s: the holder no longer needs %s.", rv.ID, s.Role.Label())
	d.Detail = "created by access review " + rv.ID + ": the holder lowered their own access, which needs no approver"
	d.Origin, d.AutoReason, d.Basis = OriginReview, rv.ID, s.RequestID
	d.Evidence = OriginReview
	if approvedBy != "" {
		d.Evidence, d.ApprovedBy = "", approvedBy
		d.Justification = fmt.Sprintf("Access review %s: the reviewer decided %s.", rv.ID, strings.ToLower(s.Decision.Label()))
		d.Detail = "created by access review " + rv.ID + ", approved by the reviewer's decision"
	}
	rb2, err := b.with(d)
	if err != nil {
		return err
	}
	r := &Request{}
	_, rfx, err := rb2.build(tx, r, now)
	if err != nil {
		return c.reviewNote(rv, s, err, fx)
	}
	id, err := tx.CreateRequest(r, rfx.addressed())
	if err != nil {
		return err
	}
	s.TaskID = id
	return nil
}

// reviewNote records on seat s why its outcome could not be born (the
// ledger or an open request moved on), or returns any other error.
func (c *core) reviewNote(rv *Review, s *ReviewSeat, err error, fx *Effects) error {
	if o, ok := errors.AsType[*OpenError](err); ok {
		s.TaskID, s.Note = o.ID, "already open as "+o.ID
		fx.Events = append(fx.Events, c.reviewEvent(rv, s, "", "outcome already open as "+o.ID))
		return nil
	}
	if _, ok := errors.AsType[*StaleError](err); ok || ErrorCode(err) == EINVALID {
		s.Note = "the seat changed since the review started; nothing to do"
		fx.Events = append(fx.Events, c.reviewEvent(rv, s, "", s.Note))
		return nil
	}
	return err
}

// stillHeld reports whether the ledger still holds s as reviewed and no
// request of action is open for its holder; if not, the seat gets a note.
func (c *core) stillHeld(tx ReviewTx, rv *Review, s *ReviewSeat, action Action, fx *Effects) (*Grant, bool, error) {
	g, err := tx.GrantFor(s.Holder)
	if err != nil {
		return nil, false, err
	}
	if g == nil || g.RequestID != s.RequestID {
		s.Note = "the seat changed since the review started; nothing to do"
		fx.Events = append(fx.Events, c.reviewEvent(rv, s, "", s.Note))
		return nil, false, nil
	}
	for _, a := range openKinds(action) {
		if open, err := tx.OpenRequestFor(s.Holder, a); err != nil {
			return nil, false, err
		} else if open != "" {
			s.TaskID, s.Note = open, "already open as "+open
			fx.Events = append(fx.Events, c.reviewEvent(rv, s, "", "outcome already open as "+open))
			return nil, false, nil
		}
	}
	return g, true, nil
}

// removeGroup turns one reviewer's removals into one request group,
// approved by the reviewer's decision and born through the one
// constructor, whose rows go to the admins as checklists; a single removal
// is a task of its own.
func (c *core) removeGroup(tx ReviewTx, rb reviewBirths, rv *Review, seats []*ReviewSeat, reviewer string, now time.Time, fx *Effects) error {
	var held []*ReviewSeat
	var rows []GroupRow
	basis := map[string]string{}
	for _, s := range seats {
		g, ok, err := c.stillHeld(tx, rv, s, ActionRemove, fx)
		if err != nil {
			return err
		}
		if ok {
			held = append(held, s)
			rows = append(rows, GroupRow{Target: s.Holder, Email: g.Email, Name: s.Name, Role: g.Role})
			basis[s.Holder] = s.RequestID
		}
	}
	switch len(held) {
	case 0:
		return nil
	case 1:
		return c.lower(tx, rb, rv, held[0], reviewer, reviewer, now, fx)
	}
	d := rb.remove.d
	d.Requester, d.Rows, d.RowBasis, d.ApprovedBy = reviewer, rows, basis, reviewer
	d.Justification = fmt.Sprintf("Access review %s: the reviewer decided these %d seats should be removed.", rv.ID, len(rows))
	d.Detail = fmt.Sprintf("a group of %d removals created by access review %s, approved by the reviewer's decision", len(rows), rv.ID)
	d.Origin, d.AutoReason = OriginReview, rv.ID
	b, err := rb.remove.with(d)
	if err != nil {
		return err
	}
	r := &Request{}
	_, rfx, err := b.build(tx, r, now)
	if err != nil {
		for _, s := range held {
			if err := c.reviewNote(rv, s, err, fx); err != nil {
				return err
			}
		}
		return nil
	}
	id, err := tx.CreateRequest(r, rfx.addressed())
	if err != nil {
		return err
	}
	for _, s := range held {
		if r.IsAbout(s.Holder) {
			s.TaskID = id
		}
	}
	return nil
}

// DecideSeat records a reviewer's decision on a seat. Any approver but the
// holder may decide (the assigned reviewer is the one asked and reminded),
// and may change it until the review ends.
func (rvs *Reviews) DecideSeat(ctx context.Context, id string, seat int, actor string, d ReviewAnswer) (*Review, error) {
	who, err := rvs.actor(ctx, actor, nil, true)
	if err != nil {
		return nil, err
	}
	now := rvs.now()
	return rvs.store.UpdateReview(ctx, id, func(tx ReviewTx, rv *Review) (Effects, error) {
		s := rv.Seat(seat)
		if s == nil {
			return Effects{}, errSeat(id)
		}
		if err := Check(ActReviewDecide, who, seatRequest(rv, s), nil); err != nil {
			return Effects{}, err
		}
		if err := checkAnswer(d, s.Role); err != nil {
			return Effects{}, err
		}
		detail := "the reviewer decided " + string(d)
		if s.Decision != "" && s.Decision != d {
			detail += " (was " + string(s.Decision) + ")"
		}
		s.Decision, s.DecidedBy, s.DecidedAt = d, actor, now
		return Effects{
			Events:  []Event{rvs.reviewEvent(rv, s, actor, detail)},
			Notices: homes(tx, actor, s.Reviewer),
		}, nil
	})
}

// KeepAllKept decides Keep on every seat on actor's list whose holder
// answered Keep and that has no decision yet. It returns the review and how
// many seats it decided.
func (rvs *Reviews) KeepAllKept(ctx context.Context, id, actor string) (*Review, int, error) {
	who, err := rvs.actor(ctx, actor, nil, true)
	if err != nil {
		return nil, 0, err
	}
	now := rvs.now()
	n := 0
	rv, err := rvs.store.UpdateReview(ctx, id, func(tx ReviewTx, rv *Review) (Effects, error) {
		n = 0
		var fx Effects
		var refused error
		for _, i := range rv.SeatsFor(actor) {
			s := &rv.Seats[i]
			if s.Answer != ReviewKeep || s.Decision != "" {
				continue
			}
			if err := Check(ActReviewDecide, who, seatRequest(rv, s), nil); err != nil {
				refused = err
				continue
			}
			s.Decision, s.DecidedBy, s.DecidedAt = ReviewKeep, actor, now
			fx.Events = append(fx.Events, rvs.reviewEvent(rv, s, actor, "the reviewer decided keep (keep all the holders kept)"))
			n++
		}
		if n == 0 && !rv.Open() {
			return Effects{}, Check(ActReviewDecide, who, &Request{ID: rv.ID, State: StateCancelled}, nil)
		}
		if n == 0 && refused != nil {
			return Effects{}, refused
		}
		fx.Notices = homes(tx, actor)
		return fx, nil
	})
	return rv, n, err
}

// errReviewNotDue aborts a review step whose time moved since it was read.
var errReviewNotDue = errors.New("review step no longer due")

// TickReviews runs what is due for reviews: the reminders, the end, and
// the next scheduled review. The scheduler calls it with the timers; each
// step runs in its own transaction that clears its time, so each happens
// once, also across restarts.
func (rvs *Reviews) TickReviews(ctx context.Context) error {
	now := rvs.now()
	rv, err := rvs.store.LastReview(ctx)
	if err != nil {
		return err
	}
	if rv != nil && rv.Open() {
		if !due(rv.EndsAt, now) && (due(rv.HalfwayAt, now) || due(rv.LastDayAt, now)) {
			if err := rvs.remind(ctx, rv.ID, now); err != nil && !errors.Is(err, errReviewNotDue) {
				return err
			}
		}
		if due(rv.EndsAt, now) {
			if err := rvs.end(ctx, rv.ID, now); err != nil && !errors.Is(err, errReviewNotDue) {
				return err
			}
		}
		return nil
	}
	every := rvs.cfg.ReviewEvery
	if every <= 0 {
		return nil
	}
	next, err := rvs.store.NextReviewAt(ctx)
	if err != nil {
		return err
	}
	if next.IsZero() {
		return rvs.store.SetNextReviewAt(ctx, now.Add(every))
	}
	if !due(next, now) {
		return nil
	}
	_, err = rvs.StartReview(ctx, "")
	if ErrorCode(err) == EINVALID {
		// Nothing to review: try again a period later.
		return rvs.store.SetNextReviewAt(ctx, now.Add(every))
	}
	if _, ok := errors.AsType[*ReviewOpenError](err); ok {
		return nil
	}
	return err
}

// remind sends the due reminder: one message to each holder who has not
// answered and each reviewer with seats left, however many seats they have.
func (rvs *Reviews) remind(ctx context.Context, id string, now time.Time) error {
	_, err := rvs.store.UpdateReview(ctx, id, func(tx ReviewTx, rv *Review) (Effects, error) {
		which := ""
		switch {
		case !rv.Open():
			return Effects{}, errReviewNotDue
		case due(rv.LastDayAt, now):
			which = "a day before the end"
			rv.LastDayAt, rv.HalfwayAt = time.Time{}, time.Time{} // a late halfway one is not sent as well
		case due(rv.HalfwayAt, now):
			which = "halfway"
			rv.HalfwayAt = time.Time{}
		default:
			return Effects{}, errReviewNotDue
		}
		rv.Reminders++
		var to []string
		for i := range rv.Seats {
			s := &rv.Seats[i]
			if s.InSlack() && s.Answer == "" && !s.Final() {
				to = append(to, s.Holder)
			}
			if s.Decision == "" && s.Reviewer != "" {
				to = append(to, s.Reviewer)
			}
		}
		to = unique(to...)
		fx := Effects{Events: []Event{rvs.reviewEvent(rv, nil, "", fmt.Sprintf("review %s reminder (%s) sent to %d people", rv.ID, which, len(to)))}}
		for _, u := range to {
			fx.Notices = append(fx.Notices, Notice{Kind: NoticeReviewReminder, RequestID: rv.ID, To: u, Part: rv.Reminders})
		}
		return fx, nil
	})
	return err
}

// end closes the review: reviewers' downgrades and removals become tasks
// approved by their decision; seats without a decision stay as they are and
// are listed to the approvers with the report.
func (rvs *Reviews) end(ctx context.Context, id string, now time.Time) error {
	approvers, err := rvs.dir.Approvers(ctx)
	if err != nil {
		return fmt.Errorf("resolve approvers: %w", err)
	}
	rb, err := rvs.reviewBirths(ctx)
	if err != nil {
		return err
	}
	_, err = rvs.store.UpdateReview(ctx, id, func(tx ReviewTx, rv *Review) (Effects, error) {
		if !rv.Open() || !due(rv.EndsAt, now) {
			return Effects{}, errReviewNotDue
		}
		rv.Ended, rv.EndedAt = true, now
		rv.HalfwayAt, rv.LastDayAt = time.Time{}, time.Time{}
		var fx Effects
		// Each reviewer's removals are one request group (SPEC §10), its
		// rows shared among the admins as checklists; downgrades are
		// tasks of their own.
		removals := map[string][]*ReviewSeat{}
		var order []string
		for i := range rv.Seats {
			s := &rv.Seats[i]
			if s.Final() || (s.Decision != ReviewDowngrade && s.Decision != ReviewRemove) {
				continue
			}
			if s.Decision == ReviewRemove {
				if _, ok := removals[s.DecidedBy]; !ok {
					order = append(order, s.DecidedBy)
				}
				removals[s.DecidedBy] = append(removals[s.DecidedBy], s)
				continue
			}
			if err := rvs.lower(tx, rb, rv, s, s.DecidedBy, s.DecidedBy, now, &fx); err != nil {
				return Effects{}, err
			}
		}
		for _, reviewer := range order {
			if err := rvs.removeGroup(tx, rb, rv, removals[reviewer], reviewer, now, &fx); err != nil {
				return Effects{}, err
			}
		}
		p := rv.Progress()
		fx.Events = append(fx.Events, rvs.reviewEvent(rv, nil, "", fmt.Sprintf("access review %s ended: %d seats, %d answered by their holders, %d decided, %d without a decision",
			rv.ID, p.Seats, p.Answered, p.Decided, p.Left)))
		rv.ReportTo = slices.Clone(approvers)
		rv.CSVPending = slices.Clone(approvers)
		for _, a := range approvers {
			fx.Notices = append(fx.Notices, Notice{Kind: NoticeReviewReport, RequestID: rv.ID, To: a})
		}
		people := slices.Clone(approvers)
		for _, s := range rv.Seats {
			people = append(people, s.Holder)
		}
		fx.Notices = append(fx.Notices, homes(tx, people...)...)
		return fx, nil
	})
	return err
}

// ReportSent records that user's copy of the review's CSV was uploaded.
func (rvs *Reviews) ReportSent(ctx context.Context, id, user string) error {
	_, err := rvs.store.UpdateReview(ctx, id, func(_ ReviewTx, rv *Review) (Effects, error) {
		rv.CSVPending = slices.DeleteFunc(rv.CSVPending, func(u string) bool { return u == user })
		return Effects{}, nil
	})
	return err
}

// Purchased returns the purchased seats of role (0: not tracked).
func (rvs *Reviews) Purchased(role Role) int { return rvs.purchased(role) }
