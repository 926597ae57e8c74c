package handlers

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"strconv"
	"strings"

	"github.com/slack-go/slack"

	"github.com/uxpin-access-bot/uxpin-access-bot/access"
)

// Request groups (SPEC §10): several removals decided as one, done person by
// person from one checklist per admin.

// Action IDs of a group checklist. ActionRowDone buttons carry "R-5|3" (the
// row's index); ActionRowsAllDone carries the request ID.
const (
	ActionRowDone     = "uxpin_row_done"
	ActionRowsAllDone = "uxpin_rows_all_done"
)

// groupListed is how many people a group's card lists; the full list past
// it goes as a CSV file.
const groupListed = 20

// groupChecklist bounds the rows with their own button in one checklist, so
// the message stays under Slack's 50 blocks; Mark all done covers the rest.
const groupChecklist = 40

func rowLine(row access.GroupRow) string {
	who := esc(row.Email)
	if row.Target != "" && !strings.HasPrefix(row.Target, "email:") {
		who = fmt.Sprintf("%s (%s)", user(row.Target), esc(row.Email))
	}
	if row.Role != "" {
		who += ", " + row.Role.Label()
	}
	return who
}

// groupSummary is summary for a group: "remove UXPin access from 3 people".
func groupSummary(r *access.Request) string {
	names := make([]string, 0, 3)
	for i, row := range r.Rows {
		if i == 3 {
			names = append(names, "…")
			break
		}
		names = append(names, esc(row.Email))
	}
	return fmt.Sprintf("remove UXPin access from *%d people* (%s)", len(r.Rows), strings.Join(names, ", "))
}

// groupList lists the group's people for its card, up to groupListed.
func groupList(r *access.Request) []slack.Block {
	lines := make([]string, 0, len(r.Rows))
	for i, row := range r.Rows {
		if i == groupListed {
			lines = append(lines, fmt.Sprintf("…and %d more: the full list is in the CSV file sent with this card.", len(r.Rows)-groupListed))
			break
		}
		lines = append(lines, "• "+rowLine(row))
	}
	return chunkLines(lines, 5)
}

// groupProgress says how far the removals are.
func groupProgress(r *access.Request) string {
	done := len(r.Rows) - r.OpenRows()
	return fmt.Sprintf("%d of %d removals done", done, len(r.Rows))
}

// checklist is one admin's part of an approved group: a row per person with
// Mark done, and Mark all done.
func checklist(r *access.Request, admin string) (string, []slack.Block) {
	mine := 0
	for _, row := range r.Rows {
		if row.Assignee == admin {
			mine++
		}
	}
	text := fmt.Sprintf("UXPin task %s: remove %d people from UXPin", r.ID, mine)
	blocks := []slack.Block{
		slack.NewHeaderBlock(plain("UXPin task "+r.ID, 150)),
		section(fmt.Sprintf("Please remove these %d people from UXPin. Approved by %s.\n1. Sign in to %s and open *Account Settings > Team Members*.\n2. For each person: find their row, choose *Remove from Team* and confirm.\n3. Press *Mark done* here for each one as you go, or *Mark all done*.", mine, approver(r), uxpinLink)),
		justification(r),
	}
	blocks = compact(blocks...)
	shown, open := 0, 0
	var rest []string
	for i, row := range r.Rows {
		if row.Assignee != admin {
			continue
		}
		line := rowLine(row)
		switch {
		case row.Done():
			line = fmt.Sprintf("~%s~ :white_check_mark: done by %s", line, user(row.DoneBy))
		case !row.FailedAt.IsZero():
			line = fmt.Sprintf("~%s~ :warning: could not be done: %s", line, literal(row.FailReason))
		case row.Dropped != "":
			line = fmt.Sprintf("~%s~ :information_source: %s", line, literal(row.Dropped))
		default:
			open++
		}
		if shown == groupChecklist {
			rest = append(rest, line)
			continue
		}
		shown++
		sec := section(line)
		if !row.Closed() && r.State == access.StateApproved {
			sec.Accessory = slack.NewAccessory(button(ActionRowDone, "Mark done", r.ID+"|"+strconv.Itoa(i), ""))
		}
		blocks = append(blocks, sec)
	}
	if len(rest) > 0 {
		blocks = append(blocks, contextLine(truncate(fmt.Sprintf("…and %d more (use Mark all done): %s", len(rest), strings.Join(rest, "; ")), maxSectionText)))
	}
	if open > 0 && r.State == access.StateApproved {
		b := button(ActionRowsAllDone, fmt.Sprintf("Mark all %d done", open), r.ID, slack.StylePrimary)
		b.Confirm = slack.NewConfirmationBlockObject(plain("All removed?", 100),
			plain(fmt.Sprintf("Did you remove all %d people from UXPin?", open), 300), plain("All done", 30), plain("Back", 30))
		blocks = append(blocks, slack.NewActionBlock("rows_"+r.ID, b))
	}
	blocks = append(blocks, outcomeBlock(":clipboard: "+groupProgress(r)+" in all. ", r))
	return text, blocks
}

// groupCSV is the full list of a group, for its approvers.
func groupCSV(r *access.Request) []byte {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write([]string{"email", "name", "slack_user", "role"})
	for _, row := range r.Rows {
		target := row.Target
		if strings.HasPrefix(target, "email:") {
			target = ""
		}
		_ = w.Write([]string{access.SafeCell(row.Email), access.SafeCell(row.Name), target, string(row.Role)})
	}
	w.Flush()
	return buf.Bytes()
}

// sendGroupList sends the approvers of a large group its full list as CSV,
// beside their card. It is a convenience: the card lists the first people
// and the list is in the request, so a failure is logged, not retried.
func (h *Handler) sendGroupList(ctx context.Context, r *access.Request) {
	if len(r.Rows) <= groupListed || h.auditAPI == nil {
		return
	}
	data := groupCSV(r)
	for _, a := range r.Approvers {
		ch, err := h.dmBlocks(ctx, a, fmt.Sprintf("The %d people in %s", len(r.Rows), r.ID), []slack.Block{contextLine(fmt.Sprintf("The full list of the %d people in *%s* is attached.", len(r.Rows), r.ID))})
		if err != nil {
			continue
		}
		if _, err := h.auditAPI.UploadFileContext(ctx, slack.UploadFileParameters{
			Filename: "uxpin-removals-" + r.ID + ".csv", Title: "People in " + r.ID,
			Reader: bytes.NewReader(data), FileSize: len(data), Channel: ch,
		}); err != nil {
			h.log.Error("group: uploading the list failed", "request", r.ID, "approver", a, "err", err)
		}
	}
}

// rowAction handles Mark done on one row and Mark all done.
func (h *Handler) rowAction(ctx context.Context, cb slack.InteractionCallback, actor string, a *slack.BlockAction) {
	id, row := a.Value, access.AllRows
	if a.ActionID == ActionRowDone {
		var idx string
		var ok bool
		id, idx, ok = strings.Cut(a.Value, "|")
		n, err := strconv.Atoi(idx)
		if !ok || err != nil || n < 0 {
			h.log.Warn("malformed row action ignored", "user", actor)
			return
		}
		row = n
	}
	if _, err := requestIDOf(id); err != nil {
		h.replyErr(ctx, cb.ResponseURL, cb.Channel.ID, actor, err, "mark done")
		return
	}
	r, err := h.svc.CompleteRows(ctx, id, actor, row)
	if err != nil {
		h.replyErr(ctx, cb.ResponseURL, cb.Channel.ID, actor, err, "mark done")
		return
	}
	h.log.Info("group rows done", "request", r.ID, "by", actor, "open", r.OpenRows())
	h.reply(ctx, cb.ResponseURL, cb.Channel.ID, actor, fmt.Sprintf("Thanks! %s: %s.", r.ID, groupProgress(r)))
}
