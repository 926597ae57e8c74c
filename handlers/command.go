package handlers

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/slack-go/slack"

	"github.com/uxpin-access-bot/uxpin-access-bot/access"
)

// Command is a parsed /uxpin-access invocation.
type Command struct {
	Name string // "", offboard, status, pending, roster, reconcile, help, or "unknown"
	// User is the Slack user ID named after offboard, if any.
	User string
	// Users are all the Slack user IDs named after offboard, in order;
	// several make one request group.
	Users []string
	// Arg is the text after the subcommand, as typed (trimmed).
	Arg string
}

var mentionRE = regexp.MustCompile(`^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$`)

// ParseCommand parses the text of a /uxpin-access command. It never fails:
// text it does not understand becomes Name "unknown".
func ParseCommand(text string) Command {
	text = access.Clean(text)
	name, arg, _ := strings.Cut(text, " ")
	name = strings.ToLower(name)
	arg = strings.TrimSpace(arg)
	switch name {
	case "":
		return Command{}
	case "offboard":
		c := Command{Name: name, Arg: arg}
		for _, f := range strings.Fields(arg) {
			m := mentionRE.FindStringSubmatch(f)
			if m == nil {
				return Command{Name: name, Arg: arg}
			}
			if !slices.Contains(c.Users, m[1]) {
				c.Users = append(c.Users, m[1])
			}
		}
		if len(c.Users) > 0 {
			c.User = c.Users[0]
		}
		return c
	case "status", "pending", "roster", "reconcile", "review", "help":
		return Command{Name: name, Arg: arg}
	}
	return Command{Name: "unknown", Arg: text}
}

const usage = "*UXPin access* — ask for UXPin access and keep track of who has it.\n" +
	"• `/uxpin-access` — request access, a role change or a removal\n" +
	"• `/uxpin-access offboard @person` — request that someone's access be removed\n" +
	"• `/uxpin-access status` — your requests and where they stand\n" +
	"• `/uxpin-access pending` — approvals and tasks waiting for you (approvers and admins)\n" +
	"• `/uxpin-access roster` — who holds UXPin access now (approvers and admins)\n" +
	"• `/uxpin-access reconcile` — compare the roster with UXPin's Team Members list (approvers and admins)\n" +
	"• `/uxpin-access review` — start an access review of every seat; `review status` shows its progress (approvers and admins)\n" +
	"• `/uxpin-access help` — this message"

// SlashCommand handles /uxpin-access after the envelope was acked.
func (h *Handler) SlashCommand(ctx context.Context, cmd slack.SlashCommand) {
	c := ParseCommand(cmd.Text)
	rep := func(text string, blocks ...slack.Block) {
		h.reply(ctx, cmd.ResponseURL, cmd.ChannelID, cmd.UserID, text, blocks...)
	}
	switch c.Name {
	case "":
		h.openRequestModal(ctx, cmd, access.ActionGrant, cmd.UserID)
	case "offboard":
		if c.Arg != "" && c.User == "" {
			rep(fmt.Sprintf("I couldn't tell who %q is. Mention the person, like `/uxpin-access offboard @alex`, or pick them in the form.", c.Arg))
		}
		if len(c.Users) > 1 {
			h.offboardMany(ctx, cmd, c.Users, rep)
			return
		}
		h.openRequestModal(ctx, cmd, access.ActionRemove, c.User)
	case "status":
		h.status(ctx, cmd, rep)
	case "pending", "roster", "reconcile":
		if !h.privileged(ctx, cmd.UserID) {
			rep(fmt.Sprintf("`/uxpin-access %s` is for UXPin access approvers and admins. Try `/uxpin-access status` for your own requests.", c.Name))
			return
		}
		switch c.Name {
		case "pending":
			h.pending(ctx, cmd, rep)
		case "roster":
			h.roster(ctx, rep)
		case "reconcile":
			h.openReconcile(ctx, cmd)
		}
	case "review":
		h.reviewCommand(ctx, cmd, c.Arg, rep)
	case "help":
		text := usage + "\n\n" + h.policyText(ctx)
		rep(text, section(text))
	default:
		text := fmt.Sprintf("I didn't understand `%s`.\n\n%s", esc(truncate(c.Arg, 100)), usage)
		rep(text, section(text))
	}
}

// offboardMany asks for the removal of several people as one request group
// (SPEC §10). Each is looked up in Slack; people it can't find are named in
// the reply and left out.
func (h *Handler) offboardMany(ctx context.Context, cmd slack.SlashCommand, users []string, rep func(string, ...slack.Block)) {
	var rows []access.GroupRow
	var unknown []string
	for _, u := range users {
		p, err := h.dir.Person(ctx, u)
		if err != nil || p.Email == "" {
			unknown = append(unknown, user(u))
			continue
		}
		rows = append(rows, access.GroupRow{Target: p.ID, Email: p.Email, Name: p.Name})
	}
	if len(rows) == 0 {
		rep("I couldn't look up anyone you named in Slack, so nothing was asked. Please try again.")
		return
	}
	res, err := h.svc.SubmitGroup(ctx, access.GroupSubmission{Requester: cmd.UserID, Rows: rows, Justification: "Offboarding"})
	if err != nil {
		h.replyErr(ctx, cmd.ResponseURL, cmd.ChannelID, cmd.UserID, err, "offboard")
		return
	}
	r := res.Request
	h.log.Info("group submitted", "request", r.ID, "people", len(r.Rows), "requester", cmd.UserID)
	h.background(func(ctx context.Context) { h.sendGroupList(ctx, r) })
	out := fmt.Sprintf("Request *%s* is submitted: %s. The approvers decide it as one; I'll message you as it moves along.", r.ID, summary(r))
	if len(res.Skipped) > 0 {
		out += fmt.Sprintf("\n%d already had a removal open.", len(res.Skipped))
	}
	if len(unknown) > 0 {
		out += "\nLeft out (not found in Slack): " + strings.Join(unknown, ", ") + "."
	}
	rep(out, section(out))
}

// policyText says which approval policy is in force (SPEC §10), read from
// the configuration.
func (h *Handler) policyText(ctx context.Context) string {
	pols, err := h.svc.Policies(ctx)
	if err != nil {
		h.log.Warn("help: could not read the approvers", "err", err)
		return "*Approval policy*: the approver list can't be read from Slack just now."
	}
	lines := []string{"*Approval policy*"}
	for _, p := range pols {
		who := "the approvers"
		if p.OwnApprovers {
			names := make([]string, 0, len(p.Approvers))
			for i, a := range p.Approvers {
				if i == 5 {
					names = append(names, fmt.Sprintf("%d more", len(p.Approvers)-5))
					break
				}
				names = append(names, user(a))
			}
			who = strings.Join(names, ", ")
			if who == "" {
				who = "nobody yet"
			}
		}
		line := fmt.Sprintf("• %s: ", p.Role.Label())
		switch {
		case p.AutoApproved:
			line += fmt.Sprintf("granted without an approver while seats are left in the budget; past it, %d approval(s) by %s", p.Required, who)
		case p.Required == 1:
			line += "1 approval by " + who
		default:
			line += fmt.Sprintf("%d approvals by different people among %s", p.Required, who)
		}
		lines = append(lines, line)
	}
	lines = append(lines,
		"• Removing your own access: no approval needed",
		"• Removing someone else's access: 1 approval by the approvers",
		"Nobody approves a request they made or one about themselves.")
	return strings.Join(lines, "\n")
}

func (h *Handler) privileged(ctx context.Context, user string) bool {
	ok, err := h.svc.Privileged(ctx, user)
	if err != nil {
		h.log.Error("approver check failed", "user", user, "err", err)
	}
	return ok
}

func (h *Handler) openRequestModal(ctx context.Context, cmd slack.SlashCommand, action access.Action, target string) {
	if _, err := h.api.OpenViewContext(ctx, cmd.TriggerID, requestModal(action, target)); err != nil {
		h.log.Error("views.open failed", "user", cmd.UserID, "err", err)
		h.reply(ctx, cmd.ResponseURL, cmd.ChannelID, cmd.UserID, "Sorry, I couldn't open the request form (Slack said: "+slackErr(err)+"). Please run the command again.")
	}
}

// slackErr keeps only Slack's error code, never request details.
func slackErr(err error) string {
	if se, ok := errors.AsType[slack.SlackErrorResponse](err); ok {
		return se.Err
	}
	return "no answer"
}

const listLimit = 15

func (h *Handler) status(ctx context.Context, cmd slack.SlashCommand, rep func(string, ...slack.Block)) {
	reqs, err := h.svc.MyRequests(ctx, cmd.UserID, listLimit+1)
	if err != nil {
		h.replyErr(ctx, cmd.ResponseURL, cmd.ChannelID, cmd.UserID, err, "status")
		return
	}
	if len(reqs) == 0 {
		rep("You have no UXPin access requests. Run `/uxpin-access` to make one.")
		return
	}
	blocks := []slack.Block{section("*Your UXPin access requests*")}
	lines := []string{}
	for i, r := range reqs {
		if i == listLimit {
			blocks = append(blocks, contextLine("Older requests are not shown."))
			break
		}
		line := fmt.Sprintf("*%s* %s — *%s*: %s (submitted %s)", r.ID, summary(r), r.State, outcome(r), formatDate(r.CreatedAt))
		if r.State == access.StatePending && !r.LastReminder.IsZero() {
			line += fmt.Sprintf("\nApprovers were last reminded %s UTC (%d reminder(s)).", r.LastReminder.UTC().Format("2006-01-02 15:04"), r.Reminders)
		}
		lines = append(lines, fmt.Sprintf("%s %s: %s", r.ID, r.State, plainSummary(r)))
		sec := section(line)
		if r.State == access.StatePending {
			sec.Accessory = slack.NewAccessory(button(ActionCancel, "Cancel", r.ID, ""))
		}
		blocks = append(blocks, sec)
	}
	rep("Your UXPin access requests:\n"+strings.Join(lines, "\n"), blocks...)
}

func (h *Handler) pending(ctx context.Context, cmd slack.SlashCommand, rep func(string, ...slack.Block)) {
	var blocks []slack.Block
	var lines []string
	isApprover, err := h.svc.IsApprover(ctx, cmd.UserID)
	if err != nil {
		h.replyErr(ctx, cmd.ResponseURL, cmd.ChannelID, cmd.UserID, err, "pending")
		return
	}
	if isApprover {
		reqs, err := h.svc.PendingFor(ctx, cmd.UserID, 10)
		if err != nil {
			h.replyErr(ctx, cmd.ResponseURL, cmd.ChannelID, cmd.UserID, err, "pending")
			return
		}
		blocks = append(blocks, section(fmt.Sprintf("*Waiting for your approval* (%d shown)", len(reqs))))
		for _, r := range reqs {
			lines = append(lines, fmt.Sprintf("approve? %s: %s", r.ID, plainSummary(r)))
			blocks = append(blocks,
				section(fmt.Sprintf("*%s*: %s, asked by %s on %s.\n%s", r.ID, summary(r), user(r.Requester), formatDate(r.CreatedAt), "Why: "+literal(truncate(r.Justification, 300)))),
				slack.NewActionBlock("pending_"+r.ID,
					button(ActionApprove, "Approve", r.ID, slack.StylePrimary),
					button(ActionDeny, "Deny", r.ID, slack.StyleDanger)))
		}
	}
	if h.svc.IsAdmin(cmd.UserID) {
		tasks, err := h.svc.OpenTasks(ctx, cmd.UserID, 10)
		if err != nil {
			h.replyErr(ctx, cmd.ResponseURL, cmd.ChannelID, cmd.UserID, err, "pending")
			return
		}
		blocks = append(blocks, section(fmt.Sprintf("*Your open UXPin tasks* (%d shown)", len(tasks))))
		for _, r := range tasks {
			lines = append(lines, fmt.Sprintf("task %s: %s", r.ID, plainSummary(r)))
			blocks = append(blocks,
				section(fmt.Sprintf("*%s*: %s (assigned %s)", r.ID, summary(r), formatDate(r.AssignedAt))),
				slack.NewActionBlock("tasks_"+r.ID,
					button(ActionDone, "Mark done", r.ID, slack.StylePrimary),
					button(ActionFail, "Can't complete", r.ID, slack.StyleDanger)))
		}
		others, err := h.svc.TakeableTasks(ctx, cmd.UserID, 5)
		if err != nil {
			h.replyErr(ctx, cmd.ResponseURL, cmd.ChannelID, cmd.UserID, err, "pending")
			return
		}
		if len(others) > 0 {
			blocks = append(blocks, section("*Other admins' open tasks* (you can take one over)"))
		}
		for _, r := range others {
			lines = append(lines, fmt.Sprintf("take over? %s: %s", r.ID, plainSummary(r)))
			with := user(r.Assignee)
			switch {
			case r.IsGroup():
				with = "rows with other admins or nobody"
			case r.Assignee == "":
				with = "nobody (no admin could be assigned)"
			case !h.svc.IsAdmin(r.Assignee):
				with = user(r.Assignee) + ", no longer a UXPin admin,"
			}
			sec := section(fmt.Sprintf("*%s*: %s, with %s since %s", r.ID, summary(r), with, formatDate(r.AssignedAt)))
			sec.Accessory = slack.NewAccessory(button(ActionTakeOver, "Take over", r.ID, ""))
			blocks = append(blocks, sec)
		}
	}
	if len(lines) == 0 {
		rep("Nothing is waiting for you.", blocks...)
		return
	}
	rep(strings.Join(lines, "\n"), blocks...)
}

func (h *Handler) roster(ctx context.Context, rep func(string, ...slack.Block)) {
	grants, err := h.svc.Roster(ctx)
	if err != nil {
		h.log.Error("roster failed", "err", err)
		rep(message(err))
		return
	}
	if len(grants) == 0 {
		rep("Nobody holds UXPin access according to the ledger yet.\n" + h.lastReconciled(ctx) + "\n" + h.lastReviewed(ctx))
		return
	}
	counts := map[access.Role]int{}
	var lines []string
	for _, g := range grants {
		counts[g.Role]++
		lines = append(lines, fmt.Sprintf("• %s (%s): *%s* since %s, %s", esc(g.Email), user(g.UserID), g.Role.Label(), formatDate(g.Since), g.RequestID))
	}
	head := fmt.Sprintf("*UXPin roster*: %d people (%d Admin, %d Editor, %d Viewer)", len(grants), counts[access.RoleAdmin], counts[access.RoleEditor], counts[access.RoleViewer])
	head += "\n" + h.lastReconciled(ctx) + "\n" + h.lastReviewed(ctx)
	blocks := []slack.Block{section(head)}
	blocks = append(blocks, chunkLines(lines, maxMsgBlocks-2)...)
	text := strings.ReplaceAll(head, "*", "") + "\n" + strings.ReplaceAll(strings.Join(lines, "\n"), "*", "")
	rep(truncate(text, 3000), blocks...)
}

// chunkLines packs lines into sections of at most maxSectionText characters,
// at most maxBlocks sections, and says how many lines did not fit.
func chunkLines(lines []string, maxBlocks int) []slack.Block {
	var blocks []slack.Block
	var cur strings.Builder
	for i, l := range lines {
		if cur.Len()+len(l)+1 > maxSectionText-50 {
			if len(blocks) == maxBlocks-1 {
				blocks = append(blocks, contextLine(fmt.Sprintf("…and %d more not shown here.", len(lines)-i)))
				cur.Reset()
				break
			}
			blocks = append(blocks, section(cur.String()))
			cur.Reset()
		}
		if cur.Len() > 0 {
			cur.WriteByte('\n')
		}
		cur.WriteString(l)
	}
	if cur.Len() > 0 {
		blocks = append(blocks, section(cur.String()))
	}
	return blocks
}

// lastReconciled says when the ledger was last checked against UXPin.
func (h *Handler) lastReconciled(ctx context.Context) string {
	rec, err := h.svc.LastReconciliation(ctx)
	if err != nil || rec == nil {
		return "The ledger has never been reconciled with UXPin's Team Members list: run `/uxpin-access reconcile`."
	}
	c := rec.Audit.Counts()
	return fmt.Sprintf("Last reconciled with UXPin on %s by %s (%s): %d leavers still seated, %d not in Slack, %d unknown seats, %d role drift, %d missing.",
		rec.Time.UTC().Format("2006-01-02 15:04 UTC"), user(rec.Actor), rec.ID,
		c[access.FindingLeaver], c[access.FindingNotInSlack], c[access.FindingUnknown], c[access.FindingRoleDrift], c[access.FindingMissing])
}
