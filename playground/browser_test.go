package playground_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/uxpin-access-bot/uxpin-access-bot/playground"
)

// findBrowser returns a Chromium or Chrome binary. With CI set, a missing
// browser fails the test: CI must prove the page works (.ci/run installs
// Debian's chromium). Elsewhere the test is skipped.
func findBrowser(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no Chromium found, and CI is set: install Debian's chromium (apt-get install -y chromium) or set CHROMIUM")
	}
	t.Skip("no Chromium found; install Debian's chromium (apt-get install -y chromium) to run the browser test")
	return ""
}

// outputDir is where the screenshots go: $TEST_OUTPUT/<test> when set, a
// temporary directory otherwise.
func outputDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if base := os.Getenv("TEST_OUTPUT"); base != "" {
		dir = filepath.Join(base, t.Name())
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// page drives the playground in a browser.
type page struct {
	t    *testing.T
	ctx  context.Context
	dir  string
	shot int
}

// startPlayground runs a playground on a free port and a browser on its
// page, both stopped when the test ends.
func startPlayground(t *testing.T, width, height int) (*page, *playground.Playground) {
	t.Helper()
	browser := findBrowser(t)
	p, err := playground.New(playground.Options{Addr: "127.0.0.1:0", DBPath: filepath.Join(t.TempDir(), "playground.db")})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx, func(url string) { ready <- url }) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v; want a clean stop", err)
		}
	})
	var url string
	select {
	case url = <-ready:
	case err := <-done:
		t.Fatalf("the playground stopped: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("the playground did not start")
	}

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browser),
		chromedp.WindowSize(width, height),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("lang", "en-US"),
	)
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox)
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelBrowser(); cancelAlloc() })
	pg := &page{t: t, ctx: bctx, dir: outputDir(t)}
	// The first run starts the browser, which lives as long as its
	// context: bctx, not a timeout derived from it.
	if err := chromedp.Do(bctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("open the page: %v", err)
	}
	pg.waitJS("the columns", `document.querySelectorAll("section.column").length === 6`)
	return pg, p
}

func (pg *page) run(what string, steps ...chromedp.Action[chromedp.Void]) {
	pg.t.Helper()
	ctx, cancel := context.WithTimeout(pg.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		pg.screenshot("failed-" + what)
		pg.t.Fatalf("%s: %v", what, err)
	}
}

// waitJS polls a JavaScript condition until it holds, for up to 20 s.
func (pg *page) waitJS(what, cond string) {
	pg.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ok, err := chromedp.Run(pg.ctx, chromedp.Evaluate[bool](`!!(function(){ try { return `+cond+` } catch (e) { return false } })()`))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			pg.screenshot("timeout-" + what)
			pg.t.Fatalf("timed out waiting for %s (%s); err %v", what, cond, err)
		}
		select {
		case <-pg.ctx.Done():
			pg.t.Fatal(pg.ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// screenshot saves the page as NN-name.png in the output folder.
func (pg *page) screenshot(name string) {
	pg.shot++
	ctx, cancel := context.WithTimeout(pg.ctx, 15*time.Second)
	defer cancel()
	buf, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		pg.t.Logf("screenshot %s: %v", name, err)
		return
	}
	file := filepath.Join(pg.dir, fmt.Sprintf("%02d-%s.png", pg.shot, strings.ReplaceAll(name, " ", "-")))
	if err := os.WriteFile(file, buf, 0o644); err != nil {
		pg.t.Errorf("save screenshot: %v", err)
	}
}

// col is the CSS selector of a person's column.
func col(user string) string { return `section.column[data-user="` + user + `"]` }

// text is a JS expression for the visible text of a part of a column.
func text(user, part string) string {
	return `document.querySelector('` + col(user) + ` ` + part + `').innerText`
}

// button is the XPath of a button with exactly label in a person's feed.
func button(user, label string) string {
	return `//section[@data-user="` + user + `"]//div[contains(@class,"feed")]//button[normalize-space()="` + label + `"]`
}

// TestBrowserLifecycle walks a grant through its whole life in the page,
// as a newcomer would: ask, approve, do, confirm, and expire.
func TestBrowserLifecycle(t *testing.T) {
	pg, p := startPlayground(t, 2100, 1100)
	const (
		priya  = playground.Requester
		marcus = playground.Approver1
		sofia  = playground.Approver2
		lucas  = playground.Colleague
	)
	admins := []string{playground.Admin1, playground.Admin2}
	pg.screenshot("start")

	// 1. Priya types /uxpin-access: the request form opens over her column.
	pg.run("type the command", chromedp.SendKeys(chromedp.CSS(col(priya)+` .slash-input`), "/uxpin-access\r"))
	modal := col(priya) + ` .modal-backdrop`
	pg.waitJS("the request modal", `!document.querySelector('`+modal+`').hidden && `+text(priya, ".modal-title")+` === "UXPin access request"`)
	pg.screenshot("requester opens the form")

	// 2. Submitted without a role or reason, the bot's errors show in the modal.
	pg.run("choose the person", chromedp.SetValue(chromedp.CSS(modal+` select[data-action-id="target"]`), lucas))
	pg.run("submit too early", chromedp.Click(chromedp.CSS(modal+` .modal-submit`)))
	pg.waitJS("the modal's errors", text(priya, `.bk-error[data-error-for="role"]`)+`.length > 0 && `+text(priya, `.bk-error[data-error-for="justification"]`)+`.length > 0`)
	pg.screenshot("the bot refuses an incomplete form")

	// 3. Filled in, it is accepted.
	endDate := p.Clock.Now().UTC().AddDate(0, 0, 2).Format("2006-01-02")
	pg.run("fill the form",
		chromedp.SetValue(chromedp.CSS(modal+` select[data-action-id="role"]`), "editor"),
		chromedp.SendKeys(chromedp.CSS(modal+` textarea[data-action-id="justification"]`), "Prototypes for the checkout redesign"),
		chromedp.SetValue(chromedp.CSS(modal+` input[data-action-id="end_date"]`), endDate),
	)
	pg.screenshot("the form filled in")
	pg.run("submit", chromedp.Click(chromedp.CSS(modal+` .modal-submit`)))
	pg.waitJS("the receipt", text(priya, ".feed")+`.includes("R-1") && `+text(priya, ".feed")+`.includes("submitted")`)
	for _, a := range []string{marcus, sofia} {
		pg.waitJS("the approval card for "+a, text(a, ".feed")+`.includes("UXPin access request R-1") && `+text(a, ".feed")+`.includes("Lucas Martin")`)
	}
	pg.screenshot("approvers get the card")
	if !strings.Contains(evalString(pg, `document.querySelector('`+modal+`').hidden ? "" : "open"`), "open") {
		t.Log("the modal closed after submit")
	} else {
		pg.run("close the confirmation", chromedp.Click(chromedp.CSS(modal+` .modal-close`)))
		pg.waitJS("the modal to close", `document.querySelector('`+modal+`').hidden`)
	}

	// 4. Marcus approves; a UXPin admin gets the task.
	pg.run("approve", chromedp.Click(chromedp.Search(button(marcus, "Approve"))))
	admin := ""
	pg.waitJS("a task for an admin", `["`+admins[0]+`","`+admins[1]+`"].some(u => document.querySelector('section.column[data-user="'+u+'"] .feed').innerText.includes("Mark done"))`)
	for _, a := range admins {
		if strings.Contains(evalString(pg, text(a, ".feed")), "Mark done") {
			admin = a
		}
	}
	pg.waitJS("the requester told", text(priya, ".feed")+`.includes("approved")`)
	pg.waitJS("the other approver's card updated", `!`+text(sofia, ".feed")+`.includes("Approve\nDeny")`)
	pg.screenshot("approved and assigned")

	// 5. The admin marks it done: the person is asked, the UXPin team has them.
	pg.run("mark done", chromedp.Click(chromedp.Search(button(admin, "Mark done"))))
	pg.waitJS("the question to Lucas", text(lucas, ".feed")+`.includes("It works")`)
	pg.waitJS("the simulated team", `Array.from(document.querySelectorAll("#team-rows tr")).some(tr => tr.cells[1].textContent === "lucas.martin@northwind.example" && tr.cells[2].textContent === "Editor")`)
	pg.run("open the team panel", chromedp.Click(chromedp.CSS(`#team-toggle`)))
	pg.screenshot("done, and the UXPin team has Lucas")
	pg.run("close the team panel", chromedp.Click(chromedp.CSS(`#team-close`)))

	// 6. Lucas confirms it works.
	pg.run("it works", chromedp.Click(chromedp.Search(button(lucas, "It works"))))
	pg.waitJS("the confirmation", `!`+text(lucas, ".feed")+`.includes("I can't get in")`)
	pg.screenshot("the person confirms")

	// 7. A week later the end date has passed: a removal task appears.
	pg.run("jump a week", chromedp.Click(chromedp.CSS(`button[data-advance="168h"]`)))
	pg.waitJS("the removal task", `["`+admins[0]+`","`+admins[1]+`"].some(u => { const f = document.querySelector('section.column[data-user="'+u+'"] .feed').innerText; return f.includes("R-2") && f.includes("Remove from Team") })`)
	pg.screenshot("a week later the access expires")

	// 8. The Home tab and an ephemeral reply.
	pg.run("open Sofía's Home tab", chromedp.Click(chromedp.CSS(col(sofia)+` .tab[data-tab="home"]`)))
	pg.waitJS("Sofía's Home tab", text(sofia, ".home")+`.includes("Seats in use")`)
	pg.run("ask for the status", chromedp.SendKeys(chromedp.CSS(col(priya)+` .slash-input`), "status\r"))
	pg.waitJS("the status reply", `Array.from(document.querySelectorAll('`+col(priya)+` .feed .msg.ephemeral')).some(m => m.innerText.includes("R-1"))`)
	pg.screenshot("the Home tab and an ephemeral status")
}

func evalString(pg *page, js string) string {
	pg.t.Helper()
	s, err := chromedp.Run(pg.ctx, chromedp.Evaluate[string](js))
	if err != nil {
		pg.t.Fatalf("evaluate %s: %v", js, err)
	}
	return s
}

// TestBrowserSeatAudit copies the simulated UXPin team as CSV, pastes it
// into the seat audit as an admin (a multi-line input and radio buttons),
// and acts on a finding from the report's overflow menu.
func TestBrowserSeatAudit(t *testing.T) {
	pg, _ := startPlayground(t, 2100, 1100)
	const kenji = playground.Admin1

	pg.run("open the team panel", chromedp.Click(chromedp.CSS(`#team-toggle`)), chromedp.Click(chromedp.CSS(`#team-copy`)))
	pg.waitJS("the copy", `document.getElementById("team-copied").textContent.includes("Copied 5 rows")`)
	csv := evalString(pg, `document.getElementById("team-csv").value`)
	if !strings.HasPrefix(csv, "Name,Email,Role\n") || !strings.Contains(csv, "tomas.novak@northwind.example,Editor") {
		t.Fatalf("team CSV = %q", csv)
	}
	pg.screenshot("the simulated UXPin team")
	pg.run("close the team panel", chromedp.Click(chromedp.CSS(`#team-close`)))

	modal := col(kenji) + ` .modal-backdrop`
	pg.run("reconcile", chromedp.SendKeys(chromedp.CSS(col(kenji)+` .slash-input`), "reconcile\r"))
	pg.waitJS("the seat audit modal", `!document.querySelector('`+modal+`').hidden && `+text(kenji, ".modal-title")+` === "UXPin seat audit"`)
	pg.run("paste the list",
		chromedp.SetValue(chromedp.CSS(modal+` textarea`), csv),
		chromedp.Click(chromedp.CSS(modal+` input[type="radio"][value="more"]`)),
		chromedp.Click(chromedp.CSS(modal+` input[type="radio"][value="done"]`)),
	)
	pg.screenshot("the list pasted")
	pg.run("run the audit", chromedp.Click(chromedp.CSS(modal+` .modal-submit`)))
	pg.waitJS("the report", text(kenji, ".feed")+`.includes("UXPin seat audit A-1") && `+text(kenji, ".feed")+`.includes("unknown seats")`)
	pg.run("close the modal", chromedp.Click(chromedp.CSS(modal+` .modal-close`)))
	pg.waitJS("the modal to close", `document.querySelector('`+modal+`').hidden`)
	pg.screenshot("the report")

	menu := `//section[@data-user="` + kenji + `"]//details[contains(@class,"bk-overflow")][.//button[normalize-space()="Record as existing"]]`
	pg.run("open a finding's menu", chromedp.Click(chromedp.Search(menu+`/summary`)))
	pg.run("record as existing", chromedp.Click(chromedp.Search(menu+`//button[normalize-space()="Record as existing"]`)))
	pg.waitJS("the record modal", `!document.querySelector('`+modal+`').hidden && `+text(kenji, ".modal-title")+` === "Record existing seat"`)
	pg.run("justify", chromedp.SendKeys(chromedp.CSS(modal+` textarea`), "Admin since the UXPin trial"))
	pg.run("record", chromedp.Click(chromedp.CSS(modal+` .modal-submit`)))
	pg.waitJS("the record modal to close", `document.querySelector('`+modal+`').hidden`)
	// Recording a seat makes a request by Kenji (SPEC §9: decided by
	// another approver); his status lists it.
	pg.run("status", chromedp.SendKeys(chromedp.CSS(col(kenji)+` .slash-input`), "status\r"))
	pg.waitJS("the recorded seat in the status", `Array.from(document.querySelectorAll('`+col(kenji)+` .feed .msg.ephemeral')).some(m => m.innerText.includes("amara.okafor@northwind.example"))`)
	pg.screenshot("the recorded seat")
}
