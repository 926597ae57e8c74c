package bot_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/uxpin-access-bot/uxpin-access-bot/access"
	"github.com/uxpin-access-bot/uxpin-access-bot/bot"
	"github.com/uxpin-access-bot/uxpin-access-bot/internal/fakeslack"
)

// newFake returns a fake Slack and a real slack-go client talking to it.
func newFake(t *testing.T) (*fakeslack.Server, *slack.Client) {
	t.Helper()
	f := fakeslack.New(fakeslack.Options{Logf: t.Logf})
	t.Cleanup(f.Close)
	return f, slack.New("xoxb-test", slack.OptionAPIURL(f.APIURL()))
}

func ctxT(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestPersonOnlySlacksDeletedFlagIsDeactivated(t *testing.T) {
	f, api := newFake(t)
	f.AddUser(fakeslack.User{ID: "U1", Name: "lea", RealName: "Lea Lane", Email: "lea@example.com", TZ: "America/Los_Angeles"})
	f.AddUser(fakeslack.User{ID: "U2", Name: "gone", Email: "gone@example.com", Deleted: true})
	f.AddUser(fakeslack.User{ID: "U3", Name: "hidden", Email: "hidden@example.com", NotVisible: true})
	d := bot.NewDirectory(api, nil, nil, bot.DirectoryOptions{})
	ctx := ctxT(t)

	p, err := d.Person(ctx, "U1")
	if err != nil || p.Deleted || p.TZ != "America/Los_Angeles" || p.Email != "lea@example.com" || p.Name != "Lea Lane" {
		t.Errorf("Person(U1) = %+v, %v; want active Lea in America/Los_Angeles", p, err)
	}
	if p, err := d.Person(ctx, "U2"); err != nil || !p.Deleted {
		t.Errorf("Person(U2) = %+v, %v; want deactivated (Slack's deleted: true)", p, err)
	}
	for _, id := range []string{"U3", "U404"} { // user_not_visible, user_not_found
		p, err := d.Person(ctx, id)
		if !errors.Is(err, access.ErrUnknownPerson) {
			t.Errorf("Person(%s) err = %v; want access.ErrUnknownPerson", id, err)
		}
		if p.Deleted {
			t.Errorf("Person(%s) = %+v; an unknown person is not evidence of a leaver", id, p)
		}
	}

	// Other failures stay what they are: not unknown, not deactivated.
	f.Fail("users.info", fakeslack.Fault{Error: "ratelimited"})
	if p, err := d.Person(ctx, "U1"); err == nil || errors.Is(err, access.ErrUnknownPerson) || p.Deleted {
		t.Errorf("Person(U1) during a Slack error = %+v, %v; want a plain error", p, err)
	}
}

func TestPeopleByEmailCarriesTimeZones(t *testing.T) {
	f, api := newFake(t)
	f.AddUser(fakeslack.User{ID: "U1", Name: "lea", Email: "Lea@Example.com", TZ: "America/Los_Angeles"})
	f.AddUser(fakeslack.User{ID: "U2", Name: "gone", Email: "gone@example.com", Deleted: true})
	people, err := bot.NewDirectory(api, nil, nil, bot.DirectoryOptions{}).PeopleByEmail(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	if p := people["lea@example.com"]; p.ID != "U1" || p.TZ != "America/Los_Angeles" || p.Deleted {
		t.Errorf("lea = %+v; want U1 in America/Los_Angeles", p)
	}
	if p := people["gone@example.com"]; p.ID != "U2" || !p.Deleted {
		t.Errorf("gone = %+v; want U2, deactivated", p)
	}
}

// clock is a test clock that only moves when told.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

func TestApproverGroupsAreCurrent(t *testing.T) {
	f, api := newFake(t)
	f.SetGroup("S1", "U1", "U2")
	clk := &clock{t: time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)}
	d := bot.NewDirectory(api, []string{"U0"}, []string{"S1"}, bot.DirectoryOptions{Now: clk.Now})
	ctx := ctxT(t)
	approvers := func() string {
		t.Helper()
		a, err := d.Approvers(ctx)
		if err != nil {
			t.Fatalf("Approvers: %v", err)
		}
		return strings.Join(a, ",")
	}
	if got := approvers(); got != "U0,U1,U2" {
		t.Fatalf("Approvers = %s; want U0,U1,U2", got)
	}

	// U2 leaves the group: within 10 minutes the cached list may serve,
	// by then the group is read again.
	f.SetGroup("S1", "U1")
	clk.Add(9 * time.Minute)
	if got := approvers(); got != "U0,U1,U2" {
		t.Errorf("Approvers 9 min later = %s; want the cached U0,U1,U2 (usergroups.users.list is tier 2)", got)
	}
	clk.Add(90 * time.Second) // 10.5 min after the read
	if got := approvers(); got != "U0,U1" {
		t.Errorf("Approvers 10.5 min after the read = %s; want U0,U1 re-read", got)
	}
	reads := f.Calls("usergroups.users.list")

	// Slack stops answering: the last list serves for an hour after the
	// last successful read, then Approvers fails closed.
	f.Fail("usergroups.users.list", fakeslack.Fault{Count: -1, Status: http.StatusInternalServerError})
	clk.Add(30 * time.Minute)
	if got := approvers(); got != "U0,U1" {
		t.Errorf("Approvers with Slack down 30 min after the read = %s; want the last list", got)
	}
	if f.Calls("usergroups.users.list") == reads {
		t.Errorf("Approvers past the TTL served the old list without asking Slack")
	}
	clk.Add(29 * time.Minute) // 59.5 min after the read
	if got := approvers(); got != "U0,U1" {
		t.Errorf("Approvers with Slack down 59.5 min after the read = %s; want the last list", got)
	}
	clk.Add(time.Minute) // 60.5 min
	if a, err := d.Approvers(ctx); !errors.Is(err, access.ErrApproversUnknown) || a != nil {
		t.Errorf("Approvers with Slack down 60.5 min after the read = %v, %v; want access.ErrApproversUnknown", a, err)
	}
	if msg := access.ErrorMessage(func() error { _, err := d.Approvers(ctx); return err }()); !strings.Contains(msg, "approver groups") {
		t.Errorf("the refusal users see = %q", msg)
	}

	// Slack answers again: approvals resume with the current members.
	f.ClearFaults()
	f.SetGroup("S1", "U1", "U3")
	if got := approvers(); got != "U0,U1,U3" {
		t.Errorf("Approvers after Slack recovered = %s; want U0,U1,U3", got)
	}
}

func TestApproversFailClosedWithoutAnyRead(t *testing.T) {
	f, api := newFake(t)
	f.SetGroup("S1", "U1")
	f.Fail("usergroups.users.list", fakeslack.Fault{Count: -1, Error: "internal_error"})
	d := bot.NewDirectory(api, []string{"U0"}, []string{"S1"}, bot.DirectoryOptions{})
	if _, err := d.Approvers(ctxT(t)); !errors.Is(err, access.ErrApproversUnknown) {
		t.Errorf("Approvers before any successful read = %v; want access.ErrApproversUnknown", err)
	}
}
