package handlers

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"github.com/uxpin-access-bot/uxpin-access-bot/access"
)

// Seat audit (SPEC §8): the reconcile modal, its report and its buttons.

// Action and callback IDs of the seat audit.
const (
	CallbackReconcile = "uxpin_reconcile"
	CallbackAdopt     = "uxpin_adopt"
	// ActionAuditFinding, followed by "_" and the finding's index, is the
	// overflow menu on one finding; its option values are "act|A-3|17".
	ActionAuditFinding = "uxpin_audit_finding"
	// ActionAuditBulk buttons carry "act|A-3|kind".
	ActionAuditBulk = "uxpin_audit_bulk"

	blockPaste = "paste"
	blockMore  = "more"
)

// maxPaste is Slack's limit for one plain-text input.
const maxPaste = 3000

// maxUploadBytes bounds a Team Members file shared in a DM.
const maxUploadBytes = 5 << 20

// AuditAPI is the part of the Web API the seat audit uses beyond SlackAPI.
type AuditAPI interface {
	GetFileContext(ctx context.Context, downloadURL string, writer io.Writer) error
	UploadFileContext(ctx context.Context, params slack.UploadFileParameters) (*slack.FileSummary, error)
}

// Workspace lists Slack's users by email, for spotting leavers in bulk.
type Workspace interface {
	PeopleByEmail(ctx context.Context) (map[string]access.Person, error)
}

// AuditDrafts keeps the parts of a Team Members list pasted in several steps.
type AuditDrafts interface {
	AppendDraft(ctx context.Context, id, actor, part string) ([]string, error)
	DeleteDraft(ctx context.Context, id string) error
}

func newDraftID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func reconcileModal(draftID string, parts, lines int) slack.ModalViewRequest {
	intro := "In UXPin open *Account Settings > Team Members*. Either export the list as CSV and paste it here, or select the rows on the page, copy and paste them. " +
		"A paste holds up to 3,000 characters: for a longer list choose *I have more to paste* and go on in the next step. " +
		"You can also send me the exported CSV file in a DM instead."
	if parts > 0 {
		intro = fmt.Sprintf(":inbox_tray: Received %d part(s), %d lines so far. Paste the next part.", parts, lines)
	}
	paste := slack.NewPlainTextInputBlockElement(plain("Paste the Team Members list", 150), blockPaste)
	paste.Multiline = true
	paste.MaxLength = maxPaste
	done := slack.NewOptionBlockObject("done", plain("That's everything: run the audit", 75), nil)
	more := slack.NewOptionBlockObject("more", plain("I have more to paste", 75), nil)
	radio := slack.NewRadioButtonsBlockElement(blockMore, done, more)
	radio.InitialOption = done
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		CallbackID:      CallbackReconcile,
		PrivateMetadata: draftID,
		Title:           plain("UXPin seat audit", 24),
		Submit:          plain("Next", 24),
		Close:           plain("Cancel", 24),
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			section(intro),
			slack.NewInputBlock(blockPaste, plain("Team Members", 2000), nil, paste),
			slack.NewInputBlock(blockMore, plain("Is that all?", 2000), nil, radio),
		}},
	}
}

// openReconcile answers /uxpin-access reconcile.
func (h *Handler) openReconcile(ctx context.Context, cmd slack.SlashCommand) {
	if _, err := h.api.OpenViewContext(ctx, cmd.TriggerID, reconcileModal(newDraftID(), 0, 0)); err != nil {
		h.log.Error("views.open failed", "user", cmd.UserID, "err", err)
		h.reply(ctx, cmd.ResponseURL, cmd.ChannelID, cmd.UserID, "Sorry, I couldn't open the seat audit (Slack said: "+slackErr(err)+"). Please run the command again.")
	}
}

// submitReconcile takes one pasted part: it asks for the next, or starts
// the audit and closes on a note that the report will come by DM.
func (h *Handler) submitReconcile(ctx context.Context, cb slack.InteractionCallback) any {
	actor := cb.User.ID
	if ok, err := h.svc.Privileged(ctx, actor); err != nil || !ok {
		return fieldErrors(map[string]string{blockPaste: "The seat audit is for UXPin access approvers and admins."})
	}
	if h.drafts == nil {
		return fieldErrors(map[string]string{blockPaste: "The seat audit is not available in this setup."})
	}
	draft := cb.View.PrivateMetadata
	if len(draft) != 16 {
		draft = newDraftID()
	}
	text := stateValue(cb, blockPaste).Value
	if strings.TrimSpace(text) == "" {
		return fieldErrors(map[string]string{blockPaste: "Paste the Team Members list (or part of it)."})
	}
	parts, err := h.drafts.AppendDraft(ctx, draft, actor, text)
	if err != nil {
		return h.submitError(err, "seat audit paste", blockPaste, actor)
	}
	if stateValue(cb, blockMore).SelectedOption.Value == "more" {
		lines := 0
		for _, p := range parts {
			lines += strings.Count(strings.TrimSpace(p), "\n") + 1
		}
		m := reconcileModal(draft, len(parts), lines)
		return slack.NewUpdateViewSubmissionResponse(&m)
	}
	full := strings.Join(parts, "\n")
	h.background(func(ctx context.Context) {
		h.runAudit(ctx, actor, full)
		if err := h.drafts.DeleteDraft(ctx, draft); err != nil {
			h.log.Warn("seat audit: could not drop the draft", "err", err)
		}
	})
	return slack.NewUpdateViewSubmissionResponse(&slack.ModalViewRequest{
		Type:  slack.VTModal,
		Title: plain("UXPin seat audit", 24),
		Close: plain("Close", 24),
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			section(fmt.Sprintf(":mag: Comparing %d part(s) with the ledger. I'll send you the report in a DM in a moment.", len(parts))),
		}},
	})
}

// background runs f after the ack, tracked so shutdown waits for it. While
// Run runs, f runs in the program's run context; before, in one of its own.
func (h *Handler) background(f func(context.Context)) {
	h.bg.Add(1)
	h.runMu.Lock()
	if h.running {
		select {
		case h.jobs <- f:
			h.runMu.Unlock()
			return
		default: // a full queue: run it at once rather than drop it
		}
	}
	h.runMu.Unlock()
	go h.do(context.Background(), f)
}

func (h *Handler) do(ctx context.Context, f func(context.Context)) {
	defer h.bg.Done()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	defer func() {
		if p := recover(); p != nil {
			h.log.Error("panic in background work", "panic", fmt.Sprint(p))
		}
	}()
	f(ctx)
}

// Run starts the work the handlers queue after an ack (seat audits, group
// lists, a gathered leaver check) in ctx, the program's run context, until
// ctx ends: the program, not the handlers, decides how long that work may
// live. Wait lets work already started finish.
func (h *Handler) Run(ctx context.Context) {
	h.runMu.Lock()
	h.running = true
	h.runMu.Unlock()
	for {
		select {
		case f := <-h.jobs:
			go h.do(ctx, f)
		case <-ctx.Done():
			h.runMu.Lock()
			h.running = false
			h.runMu.Unlock()
			for {
				select {
				case f := <-h.jobs:
					go h.do(context.WithoutCancel(ctx), f)
				default:
					return
				}
			}
		}
	}
}

// Wait waits for background work (seat audits, a gathered leaver check) to
// finish; a leaver batch still gathering is checked at once.
func (h *Handler) Wait() {
	h.stopOnce.Do(func() { close(h.stop) })
	h.bg.Wait()
}

// runAudit reconciles text against the ledger and DMs actor the report.
func (h *Handler) runAudit(ctx context.Context, actor, text string) {
	leave, ok := h.auditSlot(ctx, actor)
	if !ok {
		return
	}
	defer leave()
	var people map[string]access.Person
	if h.workspace != nil {
		var err error
		if people, err = h.workspace.PeopleByEmail(ctx); err != nil {
			h.log.Error("seat audit: listing Slack users failed", "err", err)
			h.dm(ctx, actor, "I couldn't list the Slack workspace's users to spot leavers, so the seat audit did not run. Please try again in a few minutes.")
			return
		}
	}
	lookup := func(email string) (string, access.PersonStatus) {
		if people == nil {
			return "", access.PersonActive
		}
		p, ok := people[strings.ToLower(strings.TrimSpace(email))]
		switch {
		case !ok:
			return "", access.PersonNotInSlack
		case p.Deleted:
			return p.ID, access.PersonDeactivated
		}
		return p.ID, access.PersonActive
	}
	rec, err := h.svc.RunAudit(ctx, actor, text, lookup)
	if err != nil {
		h.log.Info("seat audit refused", "user", actor, "reason", message(err))
		h.dm(ctx, actor, "The seat audit did not run: "+message(err))
		return
	}
	h.log.Info("seat audit done", "audit", rec.ID, "by", actor, "summary", rec.Summary())
	text2, blocks := auditReport(rec)
	channel, err := h.dmBlocks(ctx, actor, text2, blocks)
	if err != nil {
		return
	}
	var buf bytes.Buffer
	if err := rec.Audit.CSV(&buf); err != nil || h.auditAPI == nil {
		return
	}
	if _, err := h.auditAPI.UploadFileContext(ctx, slack.UploadFileParameters{
		Filename: "uxpin-seat-audit-" + rec.ID + ".csv", Title: "Seat audit " + rec.ID + " details",
		Reader: &buf, FileSize: buf.Len(), Channel: channel,
	}); err != nil {
		h.log.Error("seat audit: uploading the CSV failed", "audit", rec.ID, "err", err)
	}
}

func (h *Handler) dm(ctx context.Context, user, text string) {
	_, _ = h.dmBlocks(ctx, user, text, []slack.Block{section(esc(text))})
}

func (h *Handler) dmBlocks(ctx context.Context, user, text string, blocks []slack.Block) (string, error) {
	ch, _, err := h.api.PostMessageContext(ctx, user, slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...))
	if err != nil {
		h.log.Error("DM failed", "user", user, "err", err)
	}
	return ch, err
}

var findingLabel = map[access.FindingKind]string{
	access.FindingLeaver:     "left the company, still seated",
	access.FindingNotInSlack: "not in Slack (guest, contractor or typo?)",
	access.FindingUnknown:    "in UXPin, not in the ledger",
	access.FindingRoleDrift:  "role differs",
	access.FindingMissing:    "in the ledger, not in UXPin",
}

// maxReportFindings bounds the findings listed in the report message; the
// CSV attached to it has them all.
const maxReportFindings = 30

// maxReportWarnings bounds the warnings quoted in the report message.
const maxReportWarnings = 5

// auditReport is the report DM: a summary, one row per finding with its
// actions, and bulk buttons.
func auditReport(rec *access.Reconciliation) (string, []slack.Block) {
	a := rec.Audit
	c := a.Counts()
	text := fmt.Sprintf("Seat audit %s: %s", rec.ID, rec.Summary())
	blocks := []slack.Block{
		slack.NewHeaderBlock(plain("UXPin seat audit "+rec.ID, 150)),
		section(fmt.Sprintf("*%d members* in UXPin: %d Admin, %d Editor, %d Viewer.\n:busts_in_silhouette: *%d leavers still seated* · :bust_in_silhouette: *%d not in Slack* (guests, contractors or typos?) · :grey_question: *%d unknown seats* · :twisted_rightwards_arrows: *%d role drift* · :ghost: *%d missing* (granted in the ledger, not in UXPin)",
			a.Members, a.SeatsByRole[access.RoleAdmin], a.SeatsByRole[access.RoleEditor], a.SeatsByRole[access.RoleViewer],
			c[access.FindingLeaver], c[access.FindingNotInSlack], c[access.FindingUnknown], c[access.FindingRoleDrift], c[access.FindingMissing])),
	}
	if n := a.WarningCount(); n > 0 {
		// The first warnings say whether the list was cut; the count covers
		// those the audit did not keep.
		var lines []string
		for _, w := range a.Warnings[:min(len(a.Warnings), maxReportWarnings)] {
			// A warning quotes the pasted row, which came from UXPin.
			lines = append(lines, literal(w.String()))
		}
		if more := n - len(lines); more > 0 {
			lines = append(lines, fmt.Sprintf("…and %d more.", more))
		}
		blocks = append(blocks, contextLine(fmt.Sprintf(":warning: %d rows could not be used or were unclear:\n%s", n, strings.Join(lines, "\n"))))
	}
	if len(a.Findings) == 0 {
		blocks = append(blocks, section(":white_check_mark: UXPin matches the ledger."))
		return text, blocks
	}
	blocks = append(blocks, slack.NewDividerBlock())
	for i, f := range a.Findings {
		if i == maxReportFindings {
			blocks = append(blocks, contextLine(fmt.Sprintf("…and %d more findings: see the attached CSV and the bulk buttons.", len(a.Findings)-i)))
			break
		}
		line := fmt.Sprintf("*%s* %s", esc(f.Email), findingLabel[f.Kind])
		switch f.Kind {
		case access.FindingRoleDrift:
			line += fmt.Sprintf(": UXPin %s, ledger %s (%s)", roleLabel(f.UXPinRole), roleLabel(f.LedgerRole), f.RequestID)
		case access.FindingMissing:
			line += fmt.Sprintf(": ledger %s (%s)", roleLabel(f.LedgerRole), f.RequestID)
		default:
			line += ": " + roleLabel(f.UXPinRole)
		}
		sec := section(line)
		if opts := findingOptions(rec.ID, i, f); len(opts) > 0 {
			sec.Accessory = slack.NewAccessory(slack.NewOverflowBlockElement(ActionAuditFinding+"_"+strconv.Itoa(i), opts...))
		}
		blocks = append(blocks, sec)
	}
	var bulk []slack.BlockElement
	for _, k := range []access.FindingKind{access.FindingLeaver, access.FindingNotInSlack, access.FindingUnknown, access.FindingRoleDrift} {
		if c[k] == 0 {
			continue
		}
		label := map[access.FindingKind]string{
			access.FindingLeaver:     "Remove all %d leavers",
			access.FindingNotInSlack: "Remove all %d not in Slack",
			access.FindingUnknown:    "Remove all %d unknown seats",
			access.FindingRoleDrift:  "Fix all %d role drifts",
		}[k]
		b := button(ActionAuditBulkID(k), fmt.Sprintf(label, c[k]), bulkValue(rec.ID, k), "")
		b.Confirm = slack.NewConfirmationBlockObject(plain("Create the requests?", 100),
			plain(fmt.Sprintf(label, c[k])+": removals go to the approvers as one request; drift fixes that lower a role become tasks, those that raise one go to the approvers.", 300),
			plain("Create them", 30), plain("Back", 30))
		bulk = append(bulk, b)
	}
	if len(bulk) > 0 {
		blocks = append(blocks, slack.NewActionBlock("audit_bulk", bulk...))
	}
	blocks = append(blocks, contextLine("Missing seats need no action in UXPin; if the person should have access, ask for it with `/uxpin-access`."))
	return text, blocks
}

func roleLabel(r access.Role) string {
	if r == "" {
		return "unknown role"
	}
	return r.Label()
}

func findingOptions(id string, i int, f access.Finding) []*slack.OptionBlockObject {
	opt := func(act, label string) *slack.OptionBlockObject {
		return slack.NewOptionBlockObject(act+"|"+id+"|"+strconv.Itoa(i), plain(label, 75), nil)
	}
	switch f.Kind {
	case access.FindingUnknown:
		return []*slack.OptionBlockObject{opt(access.ActRemove, "Request removal"), opt(access.ActAdopt, "Record as existing")}
	case access.FindingLeaver, access.FindingNotInSlack:
		return []*slack.OptionBlockObject{opt(access.ActRemove, "Request removal")}
	case access.FindingRoleDrift:
		return []*slack.OptionBlockObject{opt(access.ActFixDrift, "Task: set the ledger's role")}
	}
	return nil
}

func bulkValue(id string, k access.FindingKind) string { return string(k) + "|" + id }

// ActionAuditBulkID is the action ID of the bulk button for findings of
// kind: ActionAuditBulk and the kind, as action IDs must differ in a block.
func ActionAuditBulkID(k access.FindingKind) string { return ActionAuditBulk + "_" + string(k) }

// parseFindingValue reads "act|A-3|17".
func parseFindingValue(v string) (act, id string, i int, ok bool) {
	parts := strings.Split(v, "|")
	if len(parts) != 3 {
		return "", "", 0, false
	}
	i, err := strconv.Atoi(parts[2])
	return parts[0], parts[1], i, err == nil && i >= 0
}

// auditAction handles a finding's menu and the bulk buttons.
func (h *Handler) auditAction(ctx context.Context, cb slack.InteractionCallback, a *slack.BlockAction) {
	actor := cb.User.ID
	rep := func(text string) { h.reply(ctx, cb.ResponseURL, cb.Channel.ID, actor, text) }
	if strings.HasPrefix(a.ActionID, ActionAuditBulk) {
		kind, id, _ := strings.Cut(a.Value, "|")
		rep(h.bulk(ctx, actor, id, access.FindingKind(kind)))
		return
	}
	act, id, i, ok := parseFindingValue(a.SelectedOption.Value)
	if !ok {
		h.log.Warn("malformed seat audit action ignored", "user", actor)
		return
	}
	if act == access.ActAdopt {
		rec, f, err := h.svc.Finding(ctx, id, i)
		if err == nil {
			_, err = h.privilegedErr(ctx, actor)
		}
		if err != nil {
			h.replyErr(ctx, cb.ResponseURL, cb.Channel.ID, actor, err, "adopt seat")
			return
		}
		h.openReason(ctx, cb, adoptModal(rec.ID, i, f))
		return
	}
	r, err := h.actOnFinding(ctx, actor, id, i, act, "")
	if err != nil {
		h.replyErr(ctx, cb.ResponseURL, cb.Channel.ID, actor, err, "seat audit action")
		return
	}
	rep(fmt.Sprintf("Created %s: %s. %s", r.ID, plainSummary(r), outcome(r)))
}

func (h *Handler) privilegedErr(ctx context.Context, user string) (bool, error) {
	ok, err := h.svc.Privileged(ctx, user)
	if err == nil && !ok {
		err = access.Errorf(access.EUNAUTHORIZED, "Seat audit actions are for UXPin access approvers and admins.")
	}
	return ok, err
}

func (h *Handler) actOnFinding(ctx context.Context, actor, id string, i int, act, justification string) (*access.Request, error) {
	var holder access.Person
	if act == access.ActAdopt {
		_, f, err := h.svc.Finding(ctx, id, i)
		if err != nil {
			return nil, err
		}
		if f.UserID != "" {
			// A holder Slack does not show stays unknown, which the
			// lifecycle answers with "not an active Slack user".
			if holder, err = h.dir.Person(ctx, f.UserID); err != nil && !errors.Is(err, access.ErrUnknownPerson) {
				return nil, err
			}
		}
	}
	return h.svc.ActOnFinding(ctx, actor, id, i, act, justification, holder)
}

// bulk acts on every finding of kind in audit id and says what it did.
func (h *Handler) bulk(ctx context.Context, actor, id string, kind access.FindingKind) string {
	if kind != access.FindingRoleDrift {
		// Removals go as one request group: one card, one decision.
		res, err := h.svc.RemoveAll(ctx, actor, id, kind)
		if err != nil {
			return message(err)
		}
		r := res.Request
		h.background(func(ctx context.Context) { h.sendGroupList(ctx, r) })
		out := fmt.Sprintf("Created %s: %s. %s", r.ID, plainSummary(r), outcome(r))
		if n := len(res.Skipped); n > 0 {
			open := make([]string, 0, n)
			for _, rid := range res.Skipped {
				open = append(open, rid)
			}
			out += fmt.Sprintf(" %d already had a removal open (%s).", n, strings.Join(open, ", "))
		}
		return truncate(out, 2900)
	}
	act := access.ActFixDrift
	rec, _, err := h.svc.Finding(ctx, id, 0)
	if err != nil {
		return message(err)
	}
	var made, skipped []string
	for i, f := range rec.Audit.Findings {
		if f.Kind != kind {
			continue
		}
		r, err := h.actOnFinding(ctx, actor, id, i, act, "")
		switch {
		case err == nil:
			made = append(made, r.ID)
		case access.ErrorCode(err) == access.EUNAUTHORIZED:
			return message(err)
		default:
			skipped = append(skipped, f.Email+" ("+message(err)+")")
		}
	}
	out := fmt.Sprintf("Created %d request(s): %s.", len(made), strings.Join(made, ", "))
	if len(skipped) > 0 {
		out += fmt.Sprintf(" Skipped %d: %s", len(skipped), strings.Join(skipped, "; "))
	}
	return truncate(out, 2900)
}

func adoptModal(id string, i int, f access.Finding) slack.ModalViewRequest {
	in := slack.NewPlainTextInputBlockElement(plain("Why is this seat legitimate?", 150), blockJustification)
	in.Multiline = true
	in.MaxLength = access.MaxJustification
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		CallbackID:      CallbackAdopt,
		PrivateMetadata: access.ActAdopt + "|" + id + "|" + strconv.Itoa(i),
		Title:           plain("Record existing seat", 24),
		Submit:          plain("Record", 24),
		Close:           plain("Back", 24),
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			section(fmt.Sprintf("*%s* holds a %s seat in UXPin that the ledger does not know about. Recording it adds it to the ledger as it is.", esc(f.Email), roleLabel(f.UXPinRole))),
			slack.NewInputBlock(blockJustification, plain("Justification", 2000), nil, in),
		}},
	}
}

func (h *Handler) submitAdopt(ctx context.Context, cb slack.InteractionCallback) any {
	_, id, i, ok := parseFindingValue(cb.View.PrivateMetadata)
	if !ok {
		return fieldErrors(map[string]string{blockJustification: "That seat audit finding no longer exists."})
	}
	r, err := h.actOnFinding(ctx, cb.User.ID, id, i, access.ActAdopt, stateValue(cb, blockJustification).Value)
	if err != nil {
		return h.submitError(err, "adopt seat", blockJustification, cb.User.ID)
	}
	h.log.Info("existing seat recorded", "request", r.ID, "by", cb.User.ID)
	return nil
}

// fileShared runs a seat audit on a Team Members file a privileged user
// sent the bot in a DM.
func (h *Handler) fileShared(ctx context.Context, ev *slackevents.MessageEvent) {
	if ev.ChannelType != "im" || ev.BotID != "" || ev.Message == nil || len(ev.Message.Files) == 0 {
		return
	}
	actor := ev.User
	if ok, err := h.privilegedErr(ctx, actor); !ok {
		h.dm(ctx, actor, message(err)+" I can only read files for the seat audit.")
		return
	}
	f := ev.Message.Files[0]
	if f.Size > maxUploadBytes {
		h.dm(ctx, actor, fmt.Sprintf("That file is %d MB; the seat audit reads files up to 5 MB.", f.Size>>20))
		return
	}
	link := f.URLPrivateDownload
	if link == "" {
		link = f.URLPrivate
	}
	if h.auditAPI == nil || link == "" {
		return
	}
	if host, ok := h.tokenMayGoTo(link); !ok {
		// An external or remote file's URL is whatever its creator chose:
		// fetching it would hand them the bot token.
		h.log.Warn("seat audit: refused to download a shared file that is not on Slack's file hosts", "user", actor, "file", f.ID, "host", host)
		h.dm(ctx, actor, "I only download files stored in Slack, and that file points somewhere else, so I did not open it. Please upload the CSV file itself into this DM.")
		return
	}
	var buf bytes.Buffer
	if err := h.auditAPI.GetFileContext(ctx, link, &limitWriter{w: &buf, n: maxUploadBytes}); err != nil {
		h.log.Error("seat audit: downloading the file failed", "user", actor, "err", err)
		h.dm(ctx, actor, "I couldn't download that file from Slack. Please send it again.")
		return
	}
	h.background(func(ctx context.Context) { h.runAudit(ctx, actor, buf.String()) })
}

// slackFileHosts are the hosts Slack serves url_private_download from, in
// Slack and in GovSlack.
var slackFileHosts = []string{"files.slack.com", "files.slack-gov.com"}

// tokenMayGoTo reports whether a shared file may be downloaded from rawURL
// with the bot token: over https from one of Slack's file hosts, or from the
// scheme and host of the Web API URL. It also returns the URL's host, for the
// log.
func (h *Handler) tokenMayGoTo(rawURL string) (string, bool) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", false
	}
	if u.User != nil {
		// Credentials in the URL have no business in a Slack file link.
		return u.Host, false
	}
	if u.Scheme == "https" && slices.Contains(slackFileHosts, strings.ToLower(u.Host)) {
		return u.Host, true
	}
	api := h.apiURL
	return u.Host, api != nil && u.Scheme == api.Scheme && strings.EqualFold(u.Host, api.Host)
}

// limitWriter stops a download at n bytes.
type limitWriter struct {
	w *bytes.Buffer
	n int
}

func (l *limitWriter) Write(p []byte) (int, error) {
	if l.w.Len()+len(p) > l.n {
		return 0, fmt.Errorf("file larger than %d bytes", l.n)
	}
	return l.w.Write(p)
}
