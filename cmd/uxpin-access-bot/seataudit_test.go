package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/uxpin-access-bot/uxpin-access-bot/access"
	"github.com/uxpin-access-bot/uxpin-access-bot/handlers"
	"github.com/uxpin-access-bot/uxpin-access-bot/internal/fakeslack"
)

func pasteValues(text, more string) map[string]map[string]any {
	return map[string]map[string]any{
		"paste": {"paste": map[string]any{"type": "plain_text_input", "value": text}},
		"more":  {"more": map[string]any{"type": "radio_buttons", "selected_option": opt(more)}},
	}
}

// findingRow finds the report row about email and returns its menu options.
func reportOption(t *testing.T, report fakeslack.Message, email, act string) string {
	t.Helper()
	var blocks []struct {
		Text      struct{ Text string } `json:"text"`
		Accessory struct {
			Options []struct {
				Value string `json:"value"`
			} `json:"options"`
		} `json:"accessory"`
	}
	if err := jsonUnmarshal(report.Blocks, &blocks); err != nil {
		t.Fatal(err)
	}
	for _, b := range blocks {
		if strings.Contains(b.Text.Text, email) {
			for _, o := range b.Accessory.Options {
				if strings.HasPrefix(o.Value, act+"|") {
					return o.Value
				}
			}
		}
	}
	t.Fatalf("no %q option for %s in the report", act, email)
	return ""
}

func TestSeatAudit(t *testing.T) {
	h := newHarness(t, nil)
	// The ledger: bob Editor, dave Viewer, frank Editor.
	grantDone(h, uBob, "editor")
	grantDone(h, uDave, "viewer")
	grantDone(h, uFrank, "editor")

	// UXPin shows: bob as Admin (drift), dave (ok), gina unknown, gone@ a
	// leaver, zed@ not in Slack; frank is missing. Pasted in two parts.
	part1 := "Name,Email,Role\n\"Builder, Bob\",bob@example.com,Admin\nDave Diaz,dave@example.com,Viewer\n"
	part2 := "Gina Gray,gina@example.com,Editor\nGone Person,gone@example.com,Editor\nZed,zed@elsewhere.test,Viewer\nbroken row without email,,Editor\n"
	v := h.openModal(uCarol, "reconcile")
	if v.CallbackID != handlers.CallbackReconcile {
		t.Fatalf("reconcile opened %q", v.CallbackID)
	}
	ack, err := h.fake.Submit(h.ctx(), uCarol, v, pasteValues(part1, "more"))
	if err != nil || decodeAck(t, ack).ResponseAction != "update" {
		t.Fatalf("first part: %v %s", err, ack.Payload)
	}
	v2, _ := h.fake.View(v.ID)
	if !strings.Contains(fakeslack.BlocksText(v2.Blocks), "Received 1 part") {
		t.Errorf("second step does not say what was received: %s", fakeslack.BlocksText(v2.Blocks))
	}
	ack, err = h.fake.Submit(h.ctx(), uCarol, v2, pasteValues(part2, "done"))
	if err != nil || decodeAck(t, ack).ResponseAction != "update" {
		t.Fatalf("last part: %v %s", err, ack.Payload)
	}
	report := h.dmWith(uCarol, "UXPin seat audit A-1", "5 members")
	txt := msgText(report)
	// gone@ is deactivated in Slack: a leaver. zed@ was never in Slack: not
	// in Slack, which says nothing about leaving (SPEC §9.7).
	for _, want := range []string{"1 leavers still seated", "1 not in Slack", "1 unknown seats", "1 role drift", "1 missing", "could not be used",
		"*gone@example.com* left the company, still seated", "*zed@elsewhere.test* not in Slack (guest, contractor or typo?)"} {
		if !strings.Contains(txt, want) {
			t.Errorf("report lacks %q:\n%s", want, txt)
		}
	}
	if strings.Contains(txt, "*zed@elsewhere.test* left") {
		t.Errorf("the report says zed@, who was never in Slack, left:\n%s", txt)
	}
	reportOption(t, report, "zed@elsewhere.test", access.ActRemove)
	dm, _ := h.fake.DMChannel(uCarol)
	h.waitFor("the CSV attachment", func() bool { return len(h.fake.Files(dm)) == 1 })
	rows, err := csv.NewReader(strings.NewReader(string(h.fake.Files(dm)[0].Content))).ReadAll()
	if err != nil || len(rows) != 6 {
		t.Fatalf("CSV = %d rows, %v; want header + 5 findings", len(rows), err)
	}
	kinds := map[string]string{}
	for _, r := range rows[1:] {
		kinds[r[1]] = r[0]
	}
	if kinds["zed@elsewhere.test"] != "not_in_slack" || kinds["gone@example.com"] != "leaver_seated" {
		t.Errorf("CSV kinds = %v; want zed@ not_in_slack and gone@ leaver_seated", kinds)
	}

	// Adopt gina's seat with a justification.
	before := len(h.fake.Views(uCarol))
	value := reportOption(t, report, "gina@example.com", access.ActAdopt)
	if _, err := h.fake.Select(h.ctx(), uCarol, report, handlers.ActionAuditFinding+"_"+value[strings.LastIndexByte(value, '|')+1:], value); err != nil {
		t.Fatal(err)
	}
	h.waitFor("the adopt modal", func() bool { return len(h.fake.Views(uCarol)) > before })
	av := h.fake.Views(uCarol)[before]
	ack, err = h.fake.Submit(h.ctx(), uCarol, av, map[string]map[string]any{"justification": {"justification": map[string]any{"type": "plain_text_input", "value": "Design lead, invited before the bot"}}})
	if err != nil || len(decodeAck(t, ack).Errors) > 0 {
		t.Fatalf("adopt: %v %s", err, ack.Payload)
	}
	// Recording a seat is a grant request like any other (SPEC §9.1):
	// nothing is in the ledger until another approver approves and an
	// admin confirms the seat in UXPin.
	if g, _ := h.m.DB.GrantFor(context.Background(), uGina); g != nil {
		t.Fatalf("gina in the ledger before anyone approved: %+v", g)
	}
	adoptCard := h.dmWith(uDave, "UXPin access request", "gina@example.com", "Approve")
	if h.cards(uCarol, adoptRequestID(t, adoptCard)) != 0 {
		t.Errorf("carol, who asked, got a card for her own request")
	}
	h.click(uDave, adoptCard, handlers.ActionApprove)
	adoptTask := h.dmWith(uErin, "UXPin task", "gina@example.com", "Nothing needs to change")
	h.click(uErin, adoptTask, handlers.ActionDone)
	h.waitFor("gina in the ledger", func() bool {
		g, _ := h.m.DB.GrantFor(context.Background(), uGina)
		return g != nil && g.Role == access.RoleEditor
	})

	// Bulk: remove the leaver, the seat not in Slack and the other unknown
	// seat; fix the drift.
	if _, ok := fakeslack.FindAction(report.Blocks, handlers.ActionAuditBulkID(access.FindingNotInSlack)); !ok {
		t.Errorf("the report has no bulk button for seats not in Slack")
	}
	for _, kind := range []access.FindingKind{access.FindingLeaver, access.FindingNotInSlack, access.FindingUnknown, access.FindingRoleDrift} {
		n := len(h.fake.Ephemerals(uCarol))
		if _, err := h.fake.ClickStale(h.ctx(), uCarol, report, handlers.ActionAuditBulkID(kind)); err != nil {
			t.Fatalf("bulk %s: %v", kind, err)
		}
		got := h.ephemeral(uCarol, n+1)
		if want := map[bool]string{true: "no such seats left", false: "Created"}[kind == access.FindingUnknown]; !strings.Contains(got, want) {
			t.Errorf("bulk %s reply = %q; want %q", kind, got, want)
		}
	}
	// gone@ (leaver) → pending removal through normal approval; gina was
	// recorded, so the unknown-seat bulk leaves her out (and, with nobody
	// left, says so); zed → removal; bob's drift lowers his UXPin role →
	// an approved change task back to Editor.
	h.dmWith(uDave, "UXPin access request", "gone@example.com", "Approve")
	h.dmWith(uDave, "UXPin access request", "zed@elsewhere.test", "Approve")
	h.dmWith(uErin, "UXPin task", "bob@example.com", "from Admin to *Editor*")
	h.dmWith(uDave, "UXPin access request", "zed@elsewhere.test", "not Slack users")

	// Roster says when the ledger was last reconciled; the audit log keeps it.
	if got := h.slashReply(uCarol, "roster"); !containsAll(got, "Last reconciled with UXPin", "A-1") {
		t.Errorf("roster = %q", got)
	}
	var logged bool
	_ = h.m.DB.Events(context.Background(), func(e access.Event) error {
		if e.RequestID == "A-1" && strings.Contains(e.Detail, "1 unknown seats") {
			logged = true
		}
		return nil
	})
	if !logged {
		t.Errorf("the audit log does not keep the reconciliation")
	}

	// Only approvers and admins may reconcile.
	if got := h.slashReply(uAlice, "reconcile"); !strings.Contains(got, "approvers and admins") {
		t.Errorf("reconcile by alice = %q", got)
	}
}

func TestSeatAuditFromUploadedFile(t *testing.T) {
	h := newHarness(t, nil)
	grantDone(h, uBob, "editor")
	var b strings.Builder
	b.WriteString("\ufeffEmail,Full name,Permission\r\n")
	b.WriteString("bob@example.com,Bob,Editor\r\n")
	for i := range 1500 {
		b.WriteString("person" + itoa(i) + "@example.com,Person,Viewer\r\n")
	}
	if _, err := h.fake.ShareFile(h.ctx(), uErin, "team.csv", "text/csv", []byte(b.String())); err != nil {
		t.Fatal(err)
	}
	h.dmWith(uErin, "UXPin seat audit A-1", "1501 members", "0 leavers still seated", "1500 not in Slack")
	// Someone without the role is refused.
	if _, err := h.fake.ShareFile(h.ctx(), uAlice, "team.csv", "text/csv", []byte("x")); err != nil {
		t.Fatal(err)
	}
	h.dmWith(uAlice, "approvers and admins")
}

// TestSeatAuditFileFromElsewhere shares a file whose download URL is
// another local server, not the fake Slack: the bot never asks it for the
// file, so the bot token never reaches it, and tells the user why. A file
// on the fake Slack's own host is still read.
func TestSeatAuditFileFromElsewhere(t *testing.T) {
	h := newHarness(t, nil)
	var requests, tokens atomic.Int32
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		if r.Header.Get("Authorization") != "" {
			tokens.Add(1)
		}
		_, _ = io.WriteString(w, "Email,Role\nbob@example.com,Admin\n")
	}))
	t.Cleanup(elsewhere.Close)
	if _, err := h.fake.ShareRemoteFile(h.ctx(), uErin, "team.csv", elsewhere.URL+"/files-pri/F1/team.csv?download=1"); err != nil {
		t.Fatal(err)
	}
	h.dmWith(uErin, "I only download files stored in Slack")
	if n, tok := requests.Load(), tokens.Load(); n != 0 || tok != 0 {
		t.Errorf("the other server got %d requests, %d with a token; want none", n, tok)
	}
	if !strings.Contains(h.logs.String(), "refused to download a shared file") {
		t.Errorf("the refusal was not logged")
	}
	if h.countDMs(uErin, "UXPin seat audit") != 0 {
		t.Errorf("a seat audit ran on the refused file")
	}
	// The fake Slack's own file host is the Web API's: still read.
	if _, err := h.fake.ShareFile(h.ctx(), uErin, "team.csv", "text/csv", []byte("Email,Role\nbob@example.com,Editor\n")); err != nil {
		t.Fatal(err)
	}
	h.dmWith(uErin, "UXPin seat audit A-1", "1 members")
}

// TestSeatAuditOfJunkUpload uploads a file at the 5 MB limit of which all
// but one line is junk: the report counts every junk line, quotes a few and
// says how many more there are, and the stored audit keeps only a few
// hundred of them.
func TestSeatAuditOfJunkUpload(t *testing.T) {
	h := newHarness(t, nil)
	var b strings.Builder
	b.WriteString("bob@example.com Editor\n")
	junk := 0
	for ; b.Len() < 5<<20-64; junk++ {
		fmt.Fprintf(&b, "row %06d of a paste without any address in it, just words....\n", junk)
	}
	if _, err := h.fake.ShareFile(h.ctx(), uErin, "team.txt", "text/plain", []byte(b.String())); err != nil {
		t.Fatal(err)
	}
	h.dmWith(uErin, "UXPin seat audit A-1", "1 members", fmt.Sprintf("%d rows could not be used", junk), fmt.Sprintf("…and %d more.", junk-5))
	rec, err := h.m.DB.Reconciliation(context.Background(), "A-1")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(rec.Audit.Warnings); n > access.MaxWarnings || rec.Audit.WarningCount() != junk {
		t.Errorf("stored %d warnings counting %d; want at most %d counting %d", n, rec.Audit.WarningCount(), access.MaxWarnings, junk)
	}
}

func TestSeatBudget(t *testing.T) {
	h := newHarness(t, map[string]string{"UXPIN_SEATS_EDITOR": "1"})
	grantDone(h, uBob, "editor") // the only Editor seat
	id := h.mustSubmit(uAlice, "grant", uDave, "editor", "needs to edit")
	card := h.dmWith(uCarol, "UXPin access request "+id+":", "Editor seats", "1 in use", "1 purchased", "No Editor seat is left")
	if _, ok := fakeslack.FindAction(card.Blocks, handlers.ActionApprove); ok {
		t.Errorf("a card past the budget still has the plain Approve button")
	}
	// A plain approve (from the pending list, say) is refused with the reason.
	if got := h.forgedClickReply(uCarol, card, handlers.ActionApproveAsViewer); !strings.Contains(got, "You approved") {
		t.Fatalf("approve as Viewer = %q", got)
	}
	r, _ := h.m.Service.Request(context.Background(), id)
	if r.Role != access.RoleViewer || r.State != access.StateApproved {
		t.Fatalf("after Approve as Viewer: %s %s", r.Role, r.State)
	}
	h.dmWith(uErin, "UXPin task "+id, "*Viewer*")

	id2 := h.mustSubmit(uAlice, "grant", uFrank, "editor", "needs to edit")
	card2 := h.dmWith(uDave, "UXPin access request "+id2+":", "No Editor seat is left")
	dm, _ := h.fake.DMChannel(uDave)
	n := len(h.fake.Ephemerals(uDave))
	h.forge(forgedClick(uDave, dm, handlers.ActionApprove, id2, ""))
	if got := h.ephemeral(uDave, n+1); !strings.Contains(got, "Approve anyway") {
		t.Errorf("plain approve past the budget = %q; want a refusal pointing to Approve anyway", got)
	}
	if got := h.state(id2); got != "pending" {
		t.Fatalf("state after a refused approve = %s", got)
	}
	h.click(uDave, card2, handlers.ActionApproveOverBudget)
	h.waitState(id2, "approved")
}

// adoptRequestID reads the request ID off an approval card's text.
func adoptRequestID(t *testing.T, card fakeslack.Message) string {
	t.Helper()
	_, rest, ok := strings.Cut(card.Text, "UXPin access request ")
	id, _, ok2 := strings.Cut(rest, ":")
	if !ok || !ok2 {
		t.Fatalf("no request ID in %q", card.Text)
	}
	return id
}

func itoa(i int) string { return strconv.Itoa(i) }

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
