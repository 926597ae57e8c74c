package handlers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/uxpin-access-bot/uxpin-access-bot/access"
)

// Access reviews (SPEC §11): the holder's question, the reviewers' lists,
// reminders, the report, `/uxpin-access review` and the Home tab's part.

// Action IDs of the access review. Every button's value is "V-3|n": the
// review and, for seats, the seat's index, for Keep all the page.
const (
	// ActionReviewAnswer + "_" + answer: the holder's buttons.
	ActionReviewAnswer = "uxpin_review_answer"
	// ActionReviewDecide + "_" + answer + "_" + seat index: a reviewer's
	// buttons on one seat (unique within the list message).
	ActionReviewDecide = "uxpin_review_decide"
	// ActionReviewKeepAll decides Keep on every seat of the reviewer whose
	// holder said Keep.
	ActionReviewKeepAll = "uxpin_review_keep_all"

	reviewPrefix = "uxpin_review_"
)

// IMChannels says which DM channel the bot has with a user (learnt when
// the outbox delivered to them) and whether a message is still queued for
// them, so a file can follow a delivered message.
type IMChannels interface {
	IMChannel(ctx context.Context, user string) (string, error)
	Queued(ctx context.Context, requestID string, kind access.NoticeKind, to string) (bool, error)
}

// reviewValue is a button's value: the review and a number.
func reviewValue(id string, n int) string { return id + "|" + strconv.Itoa(n) }

// parseReviewValue reads a button's value, refusing anything else, so
// forged values never reach storage as arbitrary keys.
func parseReviewValue(v string) (string, int, error) {
	id, n, ok := strings.Cut(v, "|")
	i, err := strconv.Atoi(n)
	if !ok || err != nil || i < 0 || !access.IsReviewID(id) {
		return "", 0, access.Errorf(access.ENOTFOUND, "That access review no longer exists.")
	}
	return id, i, nil
}

func reviewWhen(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

// holderLine is the question a holder is asked.
func holderLine(s *access.ReviewSeat) string {
	return fmt.Sprintf("You have UXPin %s since %s (%s). Do you still need it?", s.Role.Label(), formatDate(s.Since), s.RequestID)
}

// answerText says what became of a holder's answer.
func answerText(s *access.ReviewSeat) string {
	switch {
	case s.Answer == "":
		return "no answer yet"
	case s.Answer == access.ReviewKeep:
		return "holder says Keep"
	case s.TaskID != "":
		return fmt.Sprintf("holder chose %s (task %s)", s.Answer.Label(), s.TaskID)
	}
	return "holder chose " + s.Answer.Label()
}

// decisionText says where a seat's decision stands.
func decisionText(s *access.ReviewSeat) string {
	switch {
	case s.Decision == "":
		return "no decision yet"
	case s.DecidedBy == s.Holder:
		return "settled by the holder"
	}
	return fmt.Sprintf("decision: *%s* by %s", s.Decision.Label(), user(s.DecidedBy))
}

// questionBlocks is the holder's question with its buttons, or their answer.
func questionBlocks(rv *access.Review, i int) []slack.Block {
	s := rv.Seat(i)
	blocks := []slack.Block{section(":mag: " + holderLine(s))}
	switch {
	case !rv.Open():
		blocks = append(blocks, contextLine(fmt.Sprintf("Access review %s ended %s. Your answer: %s.", rv.ID, reviewWhen(rv.EndedAt), answerText(s))))
	case s.Final():
		blocks = append(blocks, contextLine(fmt.Sprintf("You chose *%s*; task %s is with a UXPin admin. Thanks!", s.Answer.Label(), s.TaskID)))
	default:
		v := reviewValue(rv.ID, i)
		els := []slack.BlockElement{button(ActionReviewAnswer+"_"+string(access.ReviewKeep), "Keep", v, slack.StylePrimary)}
		if access.ReviewDowngrade.ValidFor(s.Role) {
			els = append(els, button(ActionReviewAnswer+"_"+string(access.ReviewDowngrade), "Downgrade to Viewer", v, ""))
		}
		els = append(els, button(ActionReviewAnswer+"_"+string(access.ReviewRemove), "Remove it", v, slack.StyleDanger))
		blocks = append(blocks, slack.NewActionBlock("review_answer_"+rv.ID, els...))
		note := fmt.Sprintf("Access review %s asks everyone with a UXPin seat; please answer by %s. An approver decides after you.", rv.ID, reviewWhen(rv.EndsAt))
		if s.Answer == access.ReviewKeep {
			note = fmt.Sprintf("You said *Keep* on %s. You can still change your answer until %s.", formatDate(s.AnsweredAt), reviewWhen(rv.EndsAt))
		}
		blocks = append(blocks, contextLine(note))
	}
	return blocks
}

// reviewListPage is one page of a reviewer's seats with their buttons.
func reviewListPage(rv *access.Review, reviewer string, page int) (string, []slack.Block) {
	idx := rv.Page(reviewer, page)
	pages := rv.Pages(reviewer)
	text := fmt.Sprintf("Access review %s: %d seats for you to decide (page %d of %d)", rv.ID, len(rv.SeatsFor(reviewer)), page, pages)
	blocks := []slack.Block{
		section(fmt.Sprintf("*Access review %s*: seats for you to decide, page %d of %d", rv.ID, page, pages)),
	}
	if rv.Open() {
		blocks = append(blocks, contextLine(fmt.Sprintf("Open until %s; you can change a decision until then. Holders' answers are as of this list's last change (your Home tab shows them live). Nothing is removed until a UXPin admin marks the task done.", reviewWhen(rv.EndsAt))))
	} else {
		blocks = append(blocks, contextLine(fmt.Sprintf("This review ended %s; decisions can no longer be changed.", reviewWhen(rv.EndedAt))))
	}
	for _, i := range idx {
		s := rv.Seat(i)
		line := fmt.Sprintf("*%s* %s — %s since %s (%s)\n%s · %s", literal(s.Name), user(s.Holder), s.Role.Label(), formatDate(s.Since), s.RequestID, answerText(s), decisionText(s))
		if s.Name == "" {
			line = fmt.Sprintf("%s (%s) — %s since %s (%s)\n%s · %s", user(s.Holder), esc(s.Email), s.Role.Label(), formatDate(s.Since), s.RequestID, answerText(s), decisionText(s))
		}
		blocks = append(blocks, section(line))
		if !rv.Open() || s.Final() {
			continue
		}
		v := reviewValue(rv.ID, i)
		els := []slack.BlockElement{button(decideID(access.ReviewKeep, i), "Keep", v, "")}
		if access.ReviewDowngrade.ValidFor(s.Role) {
			els = append(els, button(decideID(access.ReviewDowngrade, i), "Downgrade", v, ""))
		}
		els = append(els, button(decideID(access.ReviewRemove, i), "Remove", v, slack.StyleDanger))
		blocks = append(blocks, slack.NewActionBlock("review_seat_"+strconv.Itoa(i), els...))
	}
	// Holders answer while the list stands, so the button is always there
	// and acts on the answers as they are when it is clicked.
	if rv.Open() {
		blocks = append(blocks, slack.NewActionBlock("review_keep_all",
			button(ActionReviewKeepAll, "Keep all the holders kept", reviewValue(rv.ID, page), slack.StylePrimary)))
	}
	return text, blocks
}

func decideID(a access.ReviewAnswer, i int) string {
	return ActionReviewDecide + "_" + string(a) + "_" + strconv.Itoa(i)
}

// renderReview builds a review notice's message from the review as stored.
func (h *Handler) renderReview(n access.Notice) (string, []slack.Block) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rv, err := h.svc.Review(ctx, n.RequestID)
	if err != nil {
		h.log.Error("review notice: reading the review failed", "review", n.RequestID, "err", err)
		s := fmt.Sprintf("Access review %s: see `/uxpin-access review status` and your Home tab.", n.RequestID)
		return s, []slack.Block{section(s)}
	}
	switch n.Kind {
	case access.NoticeReviewAsk:
		if s := rv.Seat(n.Part - 1); s != nil {
			return holderLine(s), questionBlocks(rv, n.Part-1)
		}
	case access.NoticeReviewList:
		return reviewListPage(rv, n.To, n.Part)
	case access.NoticeReviewReminder:
		return reviewReminder(rv, n.To)
	case access.NoticeReviewReport:
		return h.reviewReport(rv)
	}
	s := fmt.Sprintf("Access review %s: see `/uxpin-access review status`.", rv.ID)
	return s, []slack.Block{section(s)}
}

// reviewReminder is one message per person: their open question, and the
// seats they have left to decide.
func reviewReminder(rv *access.Review, to string) (string, []slack.Block) {
	var texts []string
	var blocks []slack.Block
	head := fmt.Sprintf(":alarm_clock: Reminder: access review %s ends %s.", rv.ID, reviewWhen(rv.EndsAt))
	blocks = append(blocks, section(head))
	texts = append(texts, strings.TrimPrefix(head, ":alarm_clock: "))
	if i := rv.SeatOf(to); i >= 0 && rv.Open() {
		if s := rv.Seat(i); s.Answer == "" && !s.Final() {
			blocks = append(blocks, questionBlocks(rv, i)...)
			texts = append(texts, holderLine(s))
		}
	}
	left := 0
	for _, i := range rv.SeatsFor(to) {
		if rv.Seats[i].Decision == "" {
			left++
		}
	}
	if left > 0 {
		s := fmt.Sprintf("You have %d of %d seats left to decide. Your lists are in this DM, and your Home tab shows what is left.", left, len(rv.SeatsFor(to)))
		blocks = append(blocks, section(s))
		texts = append(texts, s)
	}
	return strings.Join(texts, " "), blocks
}

// reviewReport is the approvers' report at the end: totals per role, seats
// freed against the purchased seats, and the seats nobody decided.
func (h *Handler) reviewReport(rv *access.Review) (string, []slack.Block) {
	p := rv.Progress()
	text := fmt.Sprintf("Access review %s ended: %d seats, %d answered by their holders, %d decided, %d without a decision.", rv.ID, p.Seats, p.Answered, p.Decided, p.Left)
	blocks := []slack.Block{
		slack.NewHeaderBlock(plain("UXPin access review "+rv.ID+" ended", 150)),
		section(fmt.Sprintf("Started %s by %s, ended %s. *%d seats*: %d answered by their holders, %d decided, *%d without a decision*.",
			reviewWhen(rv.StartedAt), startedBy(rv), reviewWhen(rv.EndedAt), p.Seats, p.Answered, p.Decided, p.Left)),
	}
	var lines []string
	for _, t := range rv.Totals() {
		if t.Seats == 0 {
			continue
		}
		line := fmt.Sprintf("• *%s*: %d seats — %d kept, %d downgraded, %d removed, %d undecided", t.Role.Label(), t.Seats, t.Kept, t.Downgraded, t.Removed, t.Open)
		if buy := h.svc.Purchased(t.Role); buy > 0 {
			line += fmt.Sprintf("; freed: %d of %d purchased seats", t.Freed(), buy)
		} else if t.Freed() > 0 {
			line += fmt.Sprintf("; freed: %d", t.Freed())
		}
		lines = append(lines, line)
	}
	blocks = append(blocks, section(strings.Join(lines, "\n")))
	var tasks []string
	for _, s := range rv.Seats {
		if s.TaskID != "" && s.DecidedBy != s.Holder && !slices.Contains(tasks, s.TaskID) {
			tasks = append(tasks, s.TaskID)
		}
	}
	if len(tasks) > 0 {
		blocks = append(blocks, section(fmt.Sprintf("Removals and downgrades decided by reviewers are tasks for the UXPin admins now (each reviewer's removals as one group, with a checklist per admin): %s. The ledger changes as each is marked done.", strings.Join(tasks, ", "))))
	}
	if und := rv.Undecided(); len(und) > 0 {
		blocks = append(blocks, section(fmt.Sprintf(":warning: *%d seats have no decision.* Nothing is removed unless you act: `/uxpin-access offboard @person` for any that should go.", len(und))))
		var ul []string
		for _, i := range und {
			s := rv.Seat(i)
			ul = append(ul, fmt.Sprintf("• %s (%s): %s since %s, %s, reviewer %s", user(s.Holder), esc(s.Email), s.Role.Label(), formatDate(s.Since), answerText(s), user(s.Reviewer)))
		}
		blocks = append(blocks, chunkLines(ul, maxMsgBlocks-len(blocks)-2)...)
	}
	blocks = append(blocks, contextLine("The CSV attached below has one row per seat: the holder's answer, the reviewer's decision and their times. It is the evidence to keep."))
	return text, blocks
}

func startedBy(rv *access.Review) string {
	if rv.StartedBy == "" {
		return "the schedule"
	}
	return user(rv.StartedBy)
}

// reviewCommand answers `/uxpin-access review` and `review status`.
func (h *Handler) reviewCommand(ctx context.Context, cmd slack.SlashCommand, arg string, rep func(string, ...slack.Block)) {
	fail := func(err error) { h.replyErr(ctx, cmd.ResponseURL, cmd.ChannelID, cmd.UserID, err, "review") }
	switch strings.ToLower(arg) {
	case "":
		rv, err := h.svc.StartReview(ctx, cmd.UserID)
		if open, ok := errors.AsType[*access.ReviewOpenError](err); ok {
			rep(fmt.Sprintf("Access review %s is already open until %s; one review runs at a time. `/uxpin-access review status` shows its progress.", open.Open.ID, reviewWhen(open.Open.EndsAt)))
			return
		}
		if err != nil {
			fail(err)
			return
		}
		h.log.Info("access review started", "review", rv.ID, "by", cmd.UserID, "seats", len(rv.Seats))
		var who []string
		for _, p := range rv.Progress().ByReviewer {
			who = append(who, fmt.Sprintf("%s (%d)", user(p.Reviewer), p.Assigned))
		}
		rep(fmt.Sprintf("Access review %s started: %d seats. Every holder is asked whether they still need their seat; the reviewers %s decide. It ends %s.",
			rv.ID, len(rv.Seats), strings.Join(who, ", "), reviewWhen(rv.EndsAt)))
	case "status":
		rv, err := h.svc.ReviewStatus(ctx, cmd.UserID)
		if err != nil {
			fail(err)
			return
		}
		if rv == nil {
			rep("No access review has run yet. Start one with `/uxpin-access review`.")
			return
		}
		rep(reviewStatusText(rv))
	default:
		rep(fmt.Sprintf("I didn't understand `review %s`. Use `/uxpin-access review` to start one, or `/uxpin-access review status`.", esc(truncate(arg, 50))))
	}
}

func reviewStatusText(rv *access.Review) string {
	p := rv.Progress()
	state := fmt.Sprintf("open until %s", reviewWhen(rv.EndsAt))
	if !rv.Open() {
		state = fmt.Sprintf("ended %s", reviewWhen(rv.EndedAt))
	}
	lines := []string{
		fmt.Sprintf("*Access review %s*, started %s by %s, %s.", rv.ID, reviewWhen(rv.StartedAt), startedBy(rv), state),
		fmt.Sprintf("%d seats: %d answered by their holders, %d decided, %d left.", p.Seats, p.Answered, p.Decided, p.Left),
	}
	for _, r := range p.ByReviewer {
		who := user(r.Reviewer)
		if r.Reviewer == "" {
			who = "no reviewer (only the holder could have been asked)"
		}
		lines = append(lines, fmt.Sprintf("• %s: %d of %d decided, %d left", who, r.Decided, r.Assigned, r.Assigned-r.Decided))
	}
	return strings.Join(lines, "\n")
}

// reviewAction handles the review's buttons, wherever they are.
func (h *Handler) reviewAction(ctx context.Context, cb slack.InteractionCallback, a *slack.BlockAction) {
	actor := cb.User.ID
	id, n, err := parseReviewValue(a.Value)
	fail := func(err error, act access.Act) {
		h.replyErr(ctx, cb.ResponseURL, cb.Channel.ID, actor, h.reviewRefusal(ctx, err, act, id, n), "review")
	}
	if err != nil {
		fail(err, "")
		return
	}
	onHome := cb.Container.Type == "view" && cb.View.Type == slack.VTHomeTab
	switch {
	case strings.HasPrefix(a.ActionID, ActionReviewAnswer+"_"):
		ans := access.ReviewAnswer(strings.TrimPrefix(a.ActionID, ActionReviewAnswer+"_"))
		rv, err := h.svc.AnswerSeat(ctx, id, n, actor, ans)
		if err != nil {
			fail(err, access.ActReviewAnswer)
			return
		}
		h.log.Info("review answered by the holder", "review", id, "seat", n, "answer", ans)
		if !onHome {
			h.replaceOriginal(ctx, cb, holderLine(rv.Seat(n)), questionBlocks(rv, n))
		}
	case strings.HasPrefix(a.ActionID, ActionReviewDecide+"_"):
		rest := strings.TrimPrefix(a.ActionID, ActionReviewDecide+"_")
		ans, _, _ := strings.Cut(rest, "_")
		rv, err := h.svc.DecideSeat(ctx, id, n, actor, access.ReviewAnswer(ans))
		if err != nil {
			fail(err, access.ActReviewDecide)
			return
		}
		h.log.Info("review seat decided", "review", id, "seat", n, "decision", ans, "by", actor)
		if s := rv.Seat(n); s != nil && !onHome {
			page := 1
			for k, i := range rv.SeatsFor(s.Reviewer) {
				if i == n {
					page = k/access.ReviewPageSize + 1
				}
			}
			text, blocks := reviewListPage(rv, s.Reviewer, page)
			h.replaceOriginal(ctx, cb, text, blocks)
		}
	case a.ActionID == ActionReviewKeepAll:
		rv, kept, err := h.svc.KeepAllKept(ctx, id, actor)
		if err != nil {
			fail(err, access.ActReviewDecide)
			return
		}
		h.log.Info("review: kept all the holders kept", "review", id, "by", actor, "seats", kept)
		if !onHome && n >= 1 {
			text, blocks := reviewListPage(rv, actor, n)
			h.replaceOriginal(ctx, cb, text, blocks)
		}
		h.reply(ctx, cb.ResponseURL, cb.Channel.ID, actor, fmt.Sprintf("Kept %d seats whose holders said Keep. You can change any of them until %s.", kept, reviewWhen(rv.EndsAt)))
	default:
		h.log.Warn("unknown review action ignored", "action_id", truncate(a.ActionID, 80), "user", actor)
		return
	}
	if onHome {
		h.PublishHome(ctx, actor)
	}
}

// reviewRefusal words a review act's "moved on" with the review in hand:
// it ended, or the holder already lowered their own access.
func (h *Handler) reviewRefusal(ctx context.Context, err error, act access.Act, id string, n int) error {
	ref, ok := errors.AsType[*access.Refusal](err)
	if !ok || ref.Reason != access.ReasonMovedOn || id == "" {
		return err
	}
	rv, rerr := h.svc.Review(ctx, id)
	if rerr != nil {
		return err
	}
	if !rv.Open() {
		return access.Errorf(access.ECONFLICT, "Access review %s ended %s, so answers and decisions can no longer be changed. Nothing was changed.", rv.ID, reviewWhen(rv.EndedAt))
	}
	if s := rv.Seat(n); s != nil && s.Final() {
		return access.Errorf(access.ECONFLICT, "%s already chose %s for this seat; task %s is with a UXPin admin. Nothing was changed.", user(s.Holder), s.Answer.Label(), s.TaskID)
	}
	return err
}

// replaceOriginal rewrites the message a button was on, through the
// payload's response_url when it is trustworthy.
func (h *Handler) replaceOriginal(ctx context.Context, cb slack.InteractionCallback, text string, blocks []slack.Block) {
	if !h.trusted(cb.ResponseURL) {
		return
	}
	msg := &slack.WebhookMessage{Text: text, ReplaceOriginal: true, Blocks: &slack.Blocks{BlockSet: blocks}}
	if err := slack.PostWebhookCustomHTTPContext(ctx, cb.ResponseURL, h.http, msg); err != nil {
		h.log.Warn("review: updating the message failed", "user", cb.User.ID, "err", err)
	}
}

// homeReview is the Home tab's part of an open review: the viewer's own
// question, and for a reviewer what is left. At most four blocks.
func (h *Handler) homeReview(ctx context.Context, viewer string) ([]slack.Block, error) {
	rv, err := h.svc.OpenReview(ctx)
	if err != nil || rv == nil {
		return nil, err
	}
	var blocks []slack.Block
	if i := rv.SeatOf(viewer); i >= 0 {
		if s := rv.Seat(i); s.Answer == "" && !s.Final() {
			blocks = append(blocks, slack.NewDividerBlock())
			blocks = append(blocks, questionBlocks(rv, i)[:2]...)
		}
	}
	mine := rv.SeatsFor(viewer)
	if len(mine) > 0 {
		var left []string
		for _, i := range mine {
			if s := rv.Seat(i); s.Decision == "" {
				left = append(left, fmt.Sprintf("• %s (%s), %s: %s", user(s.Holder), esc(s.Email), s.Role.Label(), answerText(s)))
			}
		}
		head := fmt.Sprintf("*Access review %s* (until %s): %d of your %d seats left to decide.", rv.ID, reviewWhen(rv.EndsAt), len(left), len(mine))
		if len(left) > 8 {
			left = append(left[:8], fmt.Sprintf("…and %d more in your DMs.", len(left)-8))
		}
		if len(left) > 0 {
			head += "\n" + strings.Join(left, "\n")
		}
		blocks = append(blocks, section(truncate(head, maxSectionText)))
	}
	return blocks, nil
}

// lastReviewed says when the last access review ended, for the roster.
func (h *Handler) lastReviewed(ctx context.Context) string {
	rv, err := h.svc.LastReview(ctx)
	if err != nil || rv == nil {
		return "No access review has run yet: `/uxpin-access review` starts one."
	}
	if rv.Open() {
		p := rv.Progress()
		return fmt.Sprintf("Access review %s is open until %s (%d of %d seats decided).", rv.ID, reviewWhen(rv.EndsAt), p.Decided, p.Seats)
	}
	p := rv.Progress()
	return fmt.Sprintf("Last access review %s ended %s: %d seats, %d decided, %d without a decision.", rv.ID, reviewWhen(rv.EndedAt), p.Seats, p.Decided, p.Left)
}

// RunReviews starts scheduled reviews, sends their reminders and ends them
// (all through the outbox), and uploads the report's CSV to each approver
// once their report is delivered, every tick until ctx is cancelled.
func (h *Handler) RunReviews(ctx context.Context, tick time.Duration) {
	tk := time.NewTicker(tick)
	defer tk.Stop()
	for {
		if err := h.svc.TickReviews(ctx); err != nil && ctx.Err() == nil {
			h.log.Error("access review: scheduled step failed; will retry", "err", err)
		}
		h.uploadReviewCSVs(ctx)
		select {
		case <-ctx.Done():
			return
		case <-tk.C:
		}
	}
}

// uploadReviewCSVs attaches the ended review's CSV to each approver's
// report DM that has been delivered and not yet got it.
func (h *Handler) uploadReviewCSVs(ctx context.Context) {
	if h.auditAPI == nil || h.ims == nil {
		return
	}
	rv, err := h.svc.LastReview(ctx)
	if err != nil || rv == nil || rv.Open() || len(rv.CSVPending) == 0 {
		return
	}
	for _, u := range rv.CSVPending {
		if queued, err := h.ims.Queued(ctx, rv.ID, access.NoticeReviewReport, u); err != nil || queued {
			continue // the report goes first
		}
		ch, err := h.ims.IMChannel(ctx, u)
		if err != nil || ch == "" {
			continue // the report is not delivered yet
		}
		var buf bytes.Buffer
		if err := rv.CSV(&buf); err != nil {
			h.log.Error("access review: building the CSV failed", "review", rv.ID, "err", err)
			return
		}
		if _, err := h.auditAPI.UploadFileContext(ctx, slack.UploadFileParameters{
			Filename: "uxpin-access-review-" + rv.ID + ".csv", Title: "Access review " + rv.ID + ": every seat",
			Reader: &buf, FileSize: buf.Len(), Channel: ch,
		}); err != nil {
			h.log.Error("access review: uploading the CSV failed; will retry", "review", rv.ID, "user", u, "err", err)
			continue
		}
		if err := h.svc.ReportSent(ctx, rv.ID, u); err != nil {
			h.log.Error("access review: recording the CSV upload failed", "review", rv.ID, "user", u, "err", err)
		}
	}
}
