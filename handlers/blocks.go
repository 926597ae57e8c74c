package handlers

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/uxpin-access-bot/uxpin-access-bot/access"
)

// Action IDs of the buttons the bot posts. Each button's value is a request ID.
const (
	ActionApprove = "uxpin_approve"
	ActionDeny    = "uxpin_deny"
	ActionDone    = "uxpin_done"
	ActionFail    = "uxpin_fail"
	ActionCancel  = "uxpin_cancel"
	// ActionConfirm and ActionCantGetIn answer the target's "does it work?".
	ActionConfirm   = "uxpin_confirm"
	ActionCantGetIn = "uxpin_cant_get_in"
	// ActionApproveOverBudget and ActionApproveAsViewer replace Approve on a
	// card whose role has no purchased seat left.
	ActionApproveOverBudget = "uxpin_approve_over_budget"
	ActionApproveAsViewer   = "uxpin_approve_as_viewer"
	// ActionTakeOver moves another admin's open task to the one who clicks.
	ActionTakeOver = "uxpin_take_over"
)

// Callback IDs of the modals the bot opens.
const (
	CallbackRequest = "uxpin_request"
	CallbackDeny    = "uxpin_deny_reason"
	CallbackFail    = "uxpin_fail_reason"
	CallbackReopen  = "uxpin_reopen_reason"
)

// Block and action IDs inside the request modal are the lifecycle's field
// names, so a validation error maps straight onto the block it concerns.
const (
	blockAction        = access.FieldAction
	blockTarget        = access.FieldTarget
	blockRole          = access.FieldRole
	blockJustification = access.FieldJustification
	blockEndDate       = access.FieldEndDate
	blockReason        = access.FieldReason
)

// Slack's limits that our builders must respect (see slack-facts.md).
const (
	maxSectionText = 3000
	maxFieldText   = 2000
	maxMsgBlocks   = 50
)

// esc escapes Slack's three control characters, so text cannot inject
// mentions such as <!channel> or links. Slack decodes the entities in every
// text object, plain_text included ("all text in Slack uses the same system
// of escaping"), so esc applies to both kinds.
func esc(s string) string {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
	return r.Replace(s)
}

// User text: justifications, deny, fail and reopen reasons, and names from
// Slack profiles or a pasted team list. Any of it may try to pass for the
// bot's own words ("*APPROVED BY CISO*"), and escaping cannot stop it in
// mrkdwn: Slack has entities for &, < and > only, none for *, _, ~ or `,
// and it links bare URLs by itself. So cards show user text in a plain_text
// object of its own (said, saidSection), which Slack renders as typed: no
// formatting, no links, no mentions, and with emoji false no :shortcodes:
// either. Where user text has to sit inside a mrkdwn line, because the line
// also mentions people or carries a button and a block of its own would
// break Slack's block limits (Home tab and pending lists, one-line
// replies), literal neutralises it instead, and every mrkdwn object the bot
// builds is verbatim, so Slack links nothing it was not told to link.

// said is user text as a plain_text object of at most n characters.
func said(s string, n int) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, escTruncate(s, n), false, false)
}

// saidSection is a section showing user text after a label, such as
// "Why: …", or nil when there is no text.
func saidSection(label, s string) slack.Block {
	if s == "" {
		return nil
	}
	return slack.NewSectionBlock(said(label+s, maxSectionText), nil, nil)
}

// literalReplacer makes user text inert inside mrkdwn: Slack's control
// characters become entities, and the formatting characters, which have no
// escape, become look-alikes that Slack does not interpret (U+2217 asterisk
// operator, U+02CD modifier letter low macron, U+223C tilde operator, U+02CB
// modifier letter grave accent). Newlines become spaces, so the text cannot
// start a line of its own and turn into a quote or a list.
var literalReplacer = strings.NewReplacer(
	"&", "&amp;", "<", "&lt;", ">", "&gt;",
	"*", "\u2217", "_", "\u02cd", "~", "\u223c", "`", "\u02cb",
	"\r\n", " ", "\n", " ", "\r", " ",
)

// literal is user text for inside a mrkdwn line (see above): it reads the
// same but cannot format, link or mention. Callers put a label or other text
// before it, never at the start of a line, where "&gt;" still quotes. Text
// that is the point of a block belongs in said instead, which keeps it
// exactly as typed.
func literal(s string) string { return literalReplacer.Replace(s) }

// truncate cuts s to at most n runes, marking the cut.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	runes := []rune(s)
	return string(runes[:n-1]) + "…"
}

// escTruncate escapes s and cuts it to at most n runes, marking the cut. It
// cuts between characters of s, so no entity is left half.
func escTruncate(s string, n int) string {
	out := esc(s)
	if utf8.RuneCountInString(out) <= n {
		return out
	}
	var b strings.Builder
	w := 0
	for _, r := range s {
		e := esc(string(r))
		k := utf8.RuneCountInString(e)
		if w+k > n-1 {
			break
		}
		b.WriteString(e)
		w += k
	}
	return b.String() + "…"
}

// mrkdwn is a mrkdwn text object. It is verbatim: Slack still applies the
// formatting and the <…> links and mentions the bot writes, but does not
// link bare URLs, channel names or addresses by itself, so user text inside
// cannot become a link. The bot's own links are written out as <url|label>.
func mrkdwn(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, truncate(s, maxSectionText), false, true)
}

func plain(s string, n int) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, truncate(s, n), false, false)
}

func section(s string) *slack.SectionBlock { return slack.NewSectionBlock(mrkdwn(s), nil, nil) }

func contextLine(s string) *slack.ContextBlock {
	return slack.NewContextBlock("", mrkdwn(s))
}

func button(actionID, text, value string, style slack.Style) *slack.ButtonBlockElement {
	b := slack.NewButtonBlockElement(actionID, value, plain(text, 75))
	if style != "" {
		b.Style = style
	}
	return b
}

func user(id string) string {
	if id == "" {
		return "nobody"
	}
	if email, ok := strings.CutPrefix(id, "email:"); ok {
		return esc(email) + " (not in Slack)"
	}
	return "<@" + id + ">"
}

// summary is a one-line description such as "grant Editor access to <@U2> (alice@example.com)".
func summary(r *access.Request) string {
	if r.IsGroup() {
		return groupSummary(r)
	}
	who := fmt.Sprintf("%s (%s)", user(r.Target), esc(r.TargetEmail))
	switch r.Action {
	case access.ActionGrant:
		return fmt.Sprintf("grant *%s* access to %s", r.Role.Label(), who)
	case access.ActionChange:
		if r.CurrentRole != "" {
			return fmt.Sprintf("change %s from %s to *%s*", who, r.CurrentRole.Label(), r.Role.Label())
		}
		return fmt.Sprintf("change the role of %s to *%s*", who, r.Role.Label())
	case access.ActionRemove:
		return "remove UXPin access from " + who
	}
	return string(r.Action)
}

func requestFields(r *access.Request) []*slack.TextBlockObject {
	if r.IsGroup() {
		return []*slack.TextBlockObject{
			mrkdwnField("*Action*\n" + r.Action.Label()),
			mrkdwnField(fmt.Sprintf("*People*\n%d", len(r.Rows))),
			mrkdwnField("*Requested by*\n" + requester(r)),
		}
	}
	f := []*slack.TextBlockObject{
		mrkdwnField("*Action*\n" + r.Action.Label()),
		mrkdwnField("*Person*\n" + user(r.Target) + "\n" + esc(r.TargetEmail)),
	}
	if r.Role != "" {
		role := r.Role.Label()
		if r.CurrentRole != "" && r.CurrentRole != r.Role {
			role = r.CurrentRole.Label() + " → " + role
		}
		f = append(f, mrkdwnField("*Role*\n"+role))
	} else if r.CurrentRole != "" {
		f = append(f, mrkdwnField("*Current role*\n"+r.CurrentRole.Label()))
	}
	f = append(f, mrkdwnField("*Requested by*\n"+user(r.Requester)))
	if r.EndDate != "" {
		f = append(f, mrkdwnField("*Until*\n"+until(r)))
	}
	return f
}

// mrkdwnField is a section field; it is verbatim for the reason mrkdwn is.
func mrkdwnField(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, truncate(s, maxFieldText), false, true)
}

// justification shows why the request was made, as the requester typed it.
func justification(r *access.Request) slack.Block {
	return saidSection("Why: ", r.Justification)
}

// outcome describes a closed or decided request for lists and one-line
// replies, with any reason neutralised inside the line.
func outcome(r *access.Request) string {
	line, reason := outcomeParts(r)
	if reason == "" {
		return line
	}
	return line + " " + literal(reason)
}

// outcomeBlock is outcome for cards: a context line whose reason, if any,
// is an element of its own in plain text. prefix goes before it.
func outcomeBlock(prefix string, r *access.Request) slack.Block {
	line, reason := outcomeParts(r)
	if reason == "" {
		return contextLine(prefix + line)
	}
	return slack.NewContextBlock("", mrkdwn(prefix+line), said(reason, maxSectionText))
}

// outcomeParts is the outcome of r as a mrkdwn line and the user's reason
// that follows it ("" if none): a deny or fail reason.
func outcomeParts(r *access.Request) (line, reason string) {
	switch r.State {
	case access.StateDenied:
		return fmt.Sprintf(":no_entry: Denied by %s:", user(r.DecidedBy)), r.DenyReason
	case access.StateFailed:
		return fmt.Sprintf(":warning: %s could not complete it:", user(r.ClosedBy)), r.FailReason
	}
	return outcomeLine(r), ""
}

// outcomeLine is the outcome of a request whose state carries no reason.
func outcomeLine(r *access.Request) string {
	switch r.State {
	case access.StatePending:
		if r.Required() > 1 {
			return ":hourglass_flowing_sand: Waiting for approvers (" + approvalProgress(r)[len(":ballot_box_with_check: "):] + ")."
		}
		return ":hourglass_flowing_sand: Waiting for an approver."
	case access.StateApproved:
		if r.Assignee == "" {
			return fmt.Sprintf(":white_check_mark: Approved by %s. No UXPin admin could be assigned; an approver should follow up.", approver(r))
		}
		return fmt.Sprintf(":white_check_mark: Approved by %s; task assigned to %s.", approver(r), user(r.Assignee))
	case access.StateFulfilled:
		return fmt.Sprintf(":white_check_mark: Done. Approved by %s, completed in UXPin by %s.", approver(r), user(r.ClosedBy))
	case access.StateCancelled:
		return ":heavy_multiplication_x: Cancelled by the requester."
	}
	return string(r.State)
}

func compact(blocks ...slack.Block) []slack.Block {
	out := blocks[:0]
	for _, b := range blocks {
		if b != nil {
			out = append(out, b)
		}
	}
	return out
}

// approvalCard is the message an approver decides on; once decided it shows
// the outcome instead of the buttons. With a seat budget for the role it
// shows the seats, and when none is left it asks for confirmation and offers
// the Viewer role instead.
func approvalCard(r *access.Request, b *access.SeatBudget) (string, []slack.Block) {
	text := fmt.Sprintf("UXPin access request %s: %s", r.ID, plainSummary(r))
	fields := requestFields(r)
	var warning, actions slack.Block
	if b != nil && b.Tracked() {
		fields = append(fields, mrkdwnField(fmt.Sprintf("*%s seats*\n%d in use, %d being set up, %d purchased", b.Role.Label(), b.Used, b.Committed, b.Purchased)))
	}
	var progress slack.Block
	if r.State == access.StatePending && r.Required() > 1 {
		progress = contextLine(approvalProgress(r))
	}
	if r.State == access.StatePending {
		approve := button(ActionApprove, "Approve", r.ID, slack.StylePrimary)
		elems := []slack.BlockElement{approve}
		if b != nil && b.Full() {
			warning = contextLine(fmt.Sprintf(":warning: No %s seat is left: approving uses seat %d of the %d purchased.", b.Role.Label(), b.Used+b.Committed+1, b.Purchased))
			anyway := button(ActionApproveOverBudget, "Approve anyway", r.ID, slack.StylePrimary)
			anyway.Confirm = slack.NewConfirmationBlockObject(plain("Past the seat budget", 100),
				plain(fmt.Sprintf("This uses %s seat %d of the %d purchased. Approve anyway?", b.Role.Label(), b.Used+b.Committed+1, b.Purchased), 300),
				plain("Approve anyway", 30), plain("Back", 30))
			elems = []slack.BlockElement{anyway}
			if r.Role != access.RoleViewer {
				elems = append(elems, button(ActionApproveAsViewer, "Approve as Viewer", r.ID, ""))
			}
		}
		elems = append(elems, button(ActionDeny, "Deny", r.ID, slack.StyleDanger))
		actions = slack.NewActionBlock("decide_"+r.ID, elems...)
	}
	var people []slack.Block
	if r.IsGroup() {
		people = groupList(r)
		if r.State == access.StateApproved || r.State == access.StateFulfilled {
			people = append(people, contextLine(":clipboard: "+groupProgress(r)))
		}
	}
	blocks := []slack.Block{
		slack.NewHeaderBlock(plain("UXPin access request "+r.ID, 150)),
		slack.NewSectionBlock(nil, fields, nil),
	}
	blocks = append(blocks, people...)
	return text, compact(append(blocks,
		justification(r),
		warning,
		progress,
		actions,
		outcomeBlock("", r),
	)...)
}

// approvalProgress is "1 of 2 approvals: @ana" (SPEC §10).
func approvalProgress(r *access.Request) string {
	by := make([]string, 0, len(r.Approvals))
	for _, a := range r.Approvals {
		by = append(by, user(a.By))
	}
	s := fmt.Sprintf(":ballot_box_with_check: %d of %d approvals", len(r.Approvals), r.Required())
	if len(by) > 0 {
		s += ": " + strings.Join(by, ", ")
	}
	return s
}

// plainSummary is summary without mrkdwn, for notification text.
func plainSummary(r *access.Request) string {
	s := strings.NewReplacer("*", "").Replace(summary(r))
	return s
}

// taskSteps are the exact UXPin UI steps for an approved request.
func taskSteps(r *access.Request) string {
	email := "`" + esc(r.TargetEmail) + "`"
	open := "1. Sign in to " + uxpinLink + " and open *Account Settings > Team Members*.\n"
	switch {
	case r.Action == access.ActionGrant && r.Origin == access.OriginAudit:
		// The seat audit found this seat already in UXPin: the admin checks
		// it is there as recorded; nothing changes in UXPin.
		return open +
			"2. Check that " + email + " is in the list with the role *" + r.Role.Label() + "*. Nothing needs to change.\n" +
			"3. Come back here and press *Mark done* to record the seat in the ledger (or *Can't complete* if it isn't there)."
	}
	switch r.Action {
	case access.ActionGrant:
		return open +
			"2. Click *Invite Members*.\n" +
			"3. Enter " + email + ".\n" +
			"4. Choose the role *" + r.Role.Label() + "* and send the invitation.\n" +
			"5. Come back here and press *Mark done*."
	case access.ActionChange:
		from := ""
		if r.CurrentRole != "" {
			from = " from " + r.CurrentRole.Label()
		}
		return open +
			"2. Find the row of " + email + ".\n" +
			"3. Change the role" + from + " to *" + r.Role.Label() + "*.\n" +
			"4. Come back here and press *Mark done*."
	case access.ActionRemove:
		return open +
			"2. Find the row of " + email + ".\n" +
			"3. Choose *Remove from Team* and confirm.\n" +
			"4. Come back here and press *Mark done*."
	}
	return ""
}

// uxpinLink links UXPin's sign-in page; mrkdwn is verbatim, so a bare
// domain would not be linked.
const uxpinLink = "<https://app.uxpin.com|app.uxpin.com>"

// taskMessage is the task DM'd to the assigned UXPin admin.
func taskMessage(r *access.Request) (string, []slack.Block) {
	text := fmt.Sprintf("UXPin task %s: %s", r.ID, plainSummary(r))
	var actions slack.Block
	if r.State == access.StateApproved {
		actions = slack.NewActionBlock("task_"+r.ID,
			button(ActionDone, "Mark done", r.ID, slack.StylePrimary),
			button(ActionFail, "Can't complete", r.ID, slack.StyleDanger))
	}
	return text, compact(
		slack.NewHeaderBlock(plain("UXPin task "+r.ID, 150)),
		section(fmt.Sprintf("Please %s. Approved by %s. Assigned to %s.", summary(r), approver(r), user(r.Assignee))),
		section(taskSteps(r)),
		justification(r),
		taskHistory(r),
		actions,
		outcomeBlock("", r),
	)
}

// until shows an end date with the zone it ends in (SPEC §9.6): access
// ends at the end of that day there.
func until(r *access.Request) string {
	if r.EndDate == "" {
		return ""
	}
	z := r.EndZone
	if z == "" {
		z = "UTC"
	}
	return fmt.Sprintf("%s (end of day, %s)", r.EndDate, z)
}

// taskHistory says what happened to a task before it reached this admin.
// The target's message when they reopened it is an element of its own, in
// plain text.
func taskHistory(r *access.Request) slack.Block {
	var els []slack.MixedElement
	if r.Reopened > 0 && r.ReopenReason != "" {
		els = append(els, mrkdwn(fmt.Sprintf(":leftwards_arrow_with_hook: Reopened: %s can't get in:", user(r.Target))), said(r.ReopenReason, maxSectionText))
	}
	var lines []string
	if r.TakenOver > 0 && len(r.PreviousAssignees) > 0 {
		lines = append(lines, fmt.Sprintf(":handshake: Taken over by %s from %s.", user(r.Assignee), user(r.PreviousAssignees[len(r.PreviousAssignees)-1])))
	} else if n := len(r.PreviousAssignees); n > 0 {
		prev := make([]string, n)
		for i, p := range r.PreviousAssignees {
			prev[i] = user(p)
		}
		lines = append(lines, fmt.Sprintf(":arrow_right_hook: Escalated %d time(s); first assigned to %s.", r.Escalations, strings.Join(prev, ", then ")))
	}
	if len(lines) > 0 {
		els = append(els, mrkdwn(strings.Join(lines, "\n")))
	}
	if len(els) == 0 {
		return nil
	}
	return slack.NewContextBlock("", els...)
}

// Render builds the message a notice becomes, from the request as stored now,
// with approval cards showing the seat budget as it stands. It fails only
// when the budget cannot be read, so the card is tried again rather than
// shown without it.
func (h *Handler) Render(ctx context.Context, n access.Notice, r *access.Request) (string, []slack.Block, error) {
	if access.IsReviewID(n.RequestID) {
		text, blocks := h.renderReview(n)
		return text, blocks, nil
	}
	if n.Kind == access.NoticeApprovalCard || n.Kind == access.NoticeCardsUpdate {
		if role, ok := access.NeedsSeat(r); ok && r.State == access.StatePending {
			b, err := h.svc.Budget(ctx, role)
			if err != nil {
				return "", nil, fmt.Errorf("seat budget for %s: %w", r.ID, err)
			}
			if b.Tracked() {
				text, blocks := approvalCard(r, &b)
				return text, blocks, nil
			}
		}
	}
	text, blocks := Render(n, r)
	return text, blocks, nil
}

// Render builds the message a notice becomes, from the request as stored now.
func Render(n access.Notice, r *access.Request) (string, []slack.Block) {
	switch n.Kind {
	case access.NoticeApprovalCard, access.NoticeCardsUpdate:
		return approvalCard(r, nil)
	case access.NoticeTask, access.NoticeTaskUpdate:
		if r.IsGroup() {
			return checklist(r, n.To)
		}
		return taskMessage(r)
	case access.NoticeSubmitted:
		text := fmt.Sprintf("Your request %s to %s was submitted. Approvers have been asked.", r.ID, plainSummary(r))
		var actions slack.Block
		if r.State == access.StatePending {
			actions = slack.NewActionBlock("cancel_"+r.ID, button(ActionCancel, "Cancel request", r.ID, ""))
		}
		return text, compact(
			section(fmt.Sprintf("Your request *%s* to %s was submitted. Approvers have been asked; you will hear back here.", r.ID, summary(r))),
			actions)
	case access.NoticeDecided:
		if r.DecidedBy == "" {
			break
		}
		if r.DenyReason != "" || r.State == access.StateDenied {
			text := fmt.Sprintf("Your request %s was denied: %s", r.ID, literal(r.DenyReason))
			return text, compact(
				section(fmt.Sprintf(":no_entry: Your request *%s* to %s was denied by %s.", r.ID, summary(r), user(r.DecidedBy))),
				saidSection("Reason: ", r.DenyReason))
		}
		text := fmt.Sprintf("Your request %s was approved.", r.ID)
		return text, []slack.Block{section(fmt.Sprintf(":white_check_mark: Your request *%s* to %s was approved by %s. A UXPin admin will now make the change.", r.ID, summary(r), approver(r)))}
	case access.NoticeFulfilled:
		var s string
		switch {
		case r.IsGroup():
			s = fmt.Sprintf("all %d removals of %s are done: they no longer have UXPin access.", len(r.Rows), r.ID)
			return "Done: " + s, []slack.Block{section(":white_check_mark: Done: " + s)}
		}
		switch r.Action {
		case access.ActionGrant:
			s = fmt.Sprintf("%s now has *%s* access to UXPin (%s). Look for the invitation email from UXPin.", esc(r.TargetEmail), r.Role.Label(), r.ID)
		case access.ActionChange:
			s = fmt.Sprintf("%s now has the *%s* role in UXPin (%s).", esc(r.TargetEmail), r.Role.Label(), r.ID)
		default:
			s = fmt.Sprintf("UXPin access of %s was removed (%s).", esc(r.TargetEmail), r.ID)
		}
		return "Done: " + strings.ReplaceAll(s, "*", ""), []slack.Block{section(":white_check_mark: Done: " + s)}
	case access.NoticeFailed:
		s := fmt.Sprintf(":warning: Request *%s* (%s) could not be completed by %s.", r.ID, summary(r), user(r.ClosedBy))
		return fmt.Sprintf("Request %s could not be completed: %s", r.ID, literal(r.FailReason)), compact(section(s), saidSection("Reason: ", r.FailReason))
	case access.NoticeCancelled:
		return fmt.Sprintf("You cancelled request %s.", r.ID), []slack.Block{section(fmt.Sprintf("You cancelled request *%s* (%s).", r.ID, summary(r)))}
	case access.NoticeAudit:
		// The audit line used to be a text-only message, which Slack shows
		// as mrkdwn; with a reason it has blocks, so the reason is plain.
		line := fmt.Sprintf("%s %s: %s. Requested by %s.", r.ID, r.State, plainSummary(r), requester(r))
		var reason string
		switch r.State {
		case access.StateDenied:
			line += fmt.Sprintf(" Denied by %s.", user(r.DecidedBy))
			reason = r.DenyReason
		case access.StateFulfilled:
			line += fmt.Sprintf(" Approved by %s, done by %s.", approver(r), user(r.ClosedBy))
		case access.StateFailed:
			line += fmt.Sprintf(" Approved by %s, failed by %s.", approver(r), user(r.ClosedBy))
			reason = r.FailReason
		}
		if reason == "" {
			return truncate(line, maxSectionText), nil
		}
		text := truncate(line+" Reason: "+literal(reason), maxSectionText)
		return text, compact(section(line), saidSection("Reason: ", reason))
	case access.NoticeReminder:
		text := fmt.Sprintf("Reminder: %s is still waiting for your decision.", r.ID)
		return text, []slack.Block{section(fmt.Sprintf(":bell: Reminder: *%s* (%s) has been waiting for a decision since %s. Approve or deny it on the card above.", r.ID, summary(r), formatDate(r.CreatedAt)))}
	case access.NoticeEscalated:
		return renderEscalated(n, r)
	case access.NoticeUnassigned:
		s := fmt.Sprintf("Task %s (%s) has no UXPin admin who can do it: every admin is one of its people, asked for it without an approver, or is no longer in UXPIN_ADMINS. A UXPin admin can take it with Take over in /uxpin-access pending, or add an admin to UXPIN_ADMINS.", r.ID, plainSummary(r))
		return s, []slack.Block{section(":rotating_light: " + s)}
	case access.NoticeTakenOver:
		s := fmt.Sprintf("%s took over task %s (%s). You don't need to do it any more.", user(r.Assignee), r.ID, summary(r))
		return strings.ReplaceAll(s, "*", ""), []slack.Block{section(":handshake: " + s)}
	case access.NoticeExpiryWarn:
		s := fmt.Sprintf("Heads-up: the temporary UXPin access of %s (%s, %s) ends at the end of %s. If it is still needed, make a new request with `/uxpin-access`.", esc(r.TargetEmail), r.Role.Label(), r.ID, until(r))
		return strings.ReplaceAll(s, "`", ""), []slack.Block{section(":hourglass: " + s)}
	case access.NoticeAutoRemoval:
		var s string
		if r.Origin == access.OriginLeaver {
			s = fmt.Sprintf("%s (%s) left: %s. Removal *%s* was created and approved by the leaver policy; %s.", user(r.Target), esc(r.TargetEmail), esc(r.AutoReason), r.ID, assigned(r))
		} else {
			s = fmt.Sprintf("The temporary UXPin access of %s granted by %s has ended. Removal *%s* was created; %s.", esc(r.TargetEmail), esc(r.AutoReason), r.ID, assigned(r))
		}
		return strings.ReplaceAll(s, "*", ""), []slack.Block{section(":wave: " + s)}
	case access.NoticeConfirm, access.NoticeConfirmUpdate:
		return confirmMessage(r)
	case access.NoticeConfirmed:
		if r.Confirmed {
			s := fmt.Sprintf("%s confirmed that the UXPin access from %s works.", user(r.Target), r.ID)
			return s, []slack.Block{section(":tada: " + s)}
		}
		s := fmt.Sprintf("%s can't get into UXPin after %s. The task is open again with %s.", user(r.Target), r.ID, user(r.Assignee))
		return s + " They said: " + literal(r.ReopenReason), compact(section(":warning: "+s), saidSection("They said: ", r.ReopenReason))
	}
	return fmt.Sprintf("Update on request %s: %s", r.ID, r.State), nil
}

func requester(r *access.Request) string {
	if r.Requester == "" {
		return "the bot (" + r.Origin + ")"
	}
	return user(r.Requester)
}

func assigned(r *access.Request) string {
	if r.Assignee == "" {
		return "no UXPin admin could be assigned, so an approver must follow up"
	}
	return "the task is assigned to " + user(r.Assignee)
}

func renderEscalated(n access.Notice, r *access.Request) (string, []slack.Block) {
	var s string
	prev := ""
	if k := len(r.PreviousAssignees); k > 0 {
		prev = r.PreviousAssignees[k-1]
	}
	switch {
	case n.To == prev:
		s = fmt.Sprintf("Task *%s* (%s) was open too long, so it was reassigned to %s. You don't need to do it any more.", r.ID, summary(r), user(r.Assignee))
	case prev != "" && prev != r.Assignee:
		s = fmt.Sprintf("Task *%s* (%s) was open too long with %s; it was reassigned to %s.", r.ID, summary(r), user(prev), user(r.Assignee))
	default:
		s = fmt.Sprintf("Task *%s* (%s) has been open since %s and no other UXPin admin can take it. Please follow up with %s.", r.ID, summary(r), formatDate(r.AssignedAt), user(r.Assignee))
	}
	return strings.ReplaceAll(s, "*", ""), []slack.Block{section(":rotating_light: " + s)}
}

// confirmMessage asks the target of a fulfilled grant whether it works.
func confirmMessage(r *access.Request) (string, []slack.Block) {
	text := fmt.Sprintf("Done: you now have %s access to UXPin (%s). Does it work?", r.Role.Label(), r.ID)
	head := section(fmt.Sprintf(":white_check_mark: Done: %s now has *%s* access to UXPin (%s). Look for the invitation email from UXPin, sign in at %s, and tell us whether it works.", esc(r.TargetEmail), r.Role.Label(), r.ID, uxpinLink))
	switch {
	case r.SupersededBy == access.SupersededRemoved:
		return text, []slack.Block{head, contextLine(":information_source: This access was removed since, so there is nothing to confirm.")}
	case r.SupersededBy != "":
		return text, []slack.Block{head, contextLine(fmt.Sprintf(":information_source: This access was changed since by %s, so there is nothing to confirm here.", esc(r.SupersededBy)))}
	case r.Confirmed:
		return text, []slack.Block{head, contextLine(":tada: You confirmed it works. Thanks!")}
	case r.State == access.StateFulfilled:
		return text, []slack.Block{head, slack.NewActionBlock("confirm_"+r.ID,
			button(ActionConfirm, "It works", r.ID, slack.StylePrimary),
			button(ActionCantGetIn, "I can't get in", r.ID, slack.StyleDanger))}
	case r.Reopened > 0:
		return text, []slack.Block{head, slack.NewContextBlock("",
			mrkdwn(":leftwards_arrow_with_hook: You said:"), said(orNothing(r.ReopenReason), maxSectionText),
			mrkdwn(user(r.Assignee)+" is on it again."))}
	}
	return text, []slack.Block{head, outcomeBlock("", r)}
}

// orNothing stands in for user text that is missing, since a text object
// cannot be empty.
func orNothing(s string) string {
	if s == "" {
		return "(nothing)"
	}
	return s
}
