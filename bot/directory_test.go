package bot_test

import (
	"context"
	"errors"
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
	d := bot.NewDirectory(api, nil, nil, time.Minute)
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
	people, err := bot.NewDirectory(api, nil, nil, time.Minute).PeopleByEmail(ctxT(t))
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
