// Package playground runs the real bot, wired by package stack exactly as
// in production, against the in-repo Slack simulator with a sample
// workspace, and serves a web page that shows each person's Slack: their
// DMs with the bot, ephemeral replies, the App Home tab, modals, and a box
// for /uxpin-access (SPEC §12). Every click and submission on the page goes
// to the bot as the payload Slack would send, through Socket Mode.
package playground

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/uxpin-access-bot/uxpin-access-bot/access"
	"github.com/uxpin-access-bot/uxpin-access-bot/internal/fakeslack"
	"github.com/uxpin-access-bot/uxpin-access-bot/stack"
)

// Made-up tokens: the simulated Slack accepts exactly these.
const (
	appToken     = "xapp-1-A0PLAYGRND-0000-playground-app-token"
	botToken     = "xoxb-0000-0000-playground-bot-token"
	auditChannel = "C0UXPINAUD"
)

// Options configure a Playground.
type Options struct {
	// Addr is where the page is served, default 127.0.0.1:8090; port 0
	// picks a free port.
	Addr string
	// DBPath is the bot's bbolt file, default data/playground.db.
	DBPath string
	// Reset deletes the database (and the playground's state beside it)
	// before starting.
	Reset bool
	// OpsAddr, if set, serves the bot's /healthz, /readyz and /metrics
	// there too, as UXPIN_HTTP_ADDR does for the bot (the container's
	// health check uses it). Empty serves none.
	OpsAddr string
	// Log receives the bot's and the simulator's logs; nil discards them.
	Log *slog.Logger
}

// Playground is a running playground. Build it with New, then call Run.
type Playground struct {
	opts  Options
	log   *slog.Logger
	Clock *Clock
	Team  *Team
	Fake  *fakeslack.Server
	Stack *stack.Stack

	people   []Person
	ln       net.Listener
	watch    watchState // clock and team changes, on top of the fake's
	bg       sync.WaitGroup
	stateMu  sync.Mutex // serialises saves of the state file
	stopping chan struct{}
}

// savedState is what the playground keeps beside the database, so that a
// restart continues where it was: the clock must not run backwards under
// the stored timers, and the simulated team must match the ledger.
type savedState struct {
	ClockOffsetSeconds int64    `json:"clock_offset_seconds"`
	Team               []Member `json:"team"`
}

// New starts the simulated Slack with the sample workspace, opens the bot's
// stack on it and binds the page's listener. Nothing runs until Run.
func New(o Options) (*Playground, error) {
	if o.Addr == "" {
		o.Addr = "127.0.0.1:8090"
	}
	if o.DBPath == "" {
		o.DBPath = filepath.Join("data", "playground.db")
	}
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if o.Reset {
		for _, f := range []string{o.DBPath, statePath(o.DBPath)} {
			if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
				return nil, fmt.Errorf("reset: %w", err)
			}
		}
	}
	p := &Playground{opts: o, log: log, Clock: &Clock{}, Team: &Team{}, people: Workspace(), stopping: make(chan struct{})}
	p.Team.set(seedTeam())
	if err := p.load(); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", o.Addr, err)
	}
	p.ln = ln
	p.Fake = fakeslack.New(fakeslack.Options{
		AppToken: appToken, BotToken: botToken,
		Scopes: Scopes,
		Now:    p.Clock.Now,
		Logf:   func(format string, args ...any) { log.Debug(fmt.Sprintf(format, args...)) },
	})
	for _, person := range p.people {
		p.Fake.AddUser(fakeUser(person))
	}
	p.Fake.AddChannel(auditChannel)
	s, err := openStack(p.Fake.APIURL(), o.DBPath, o.OpsAddr, p.Clock.Now, log)
	if err != nil {
		p.Fake.Close()
		ln.Close()
		return nil, err
	}
	p.Stack = s
	return p, nil
}

// openStack builds the bot as production does, configured for the sample
// workspace: two approvers, two UXPin admins, the workspace's domain, a
// seat budget so that the cards show it, and an audit channel.
func openStack(apiURL, dbPath, opsAddr string, now func() time.Time, log *slog.Logger) (*stack.Stack, error) {
	return stack.Open(stack.Config{
		AppToken:            appToken,
		BotToken:            botToken,
		ApproverUsers:       []string{Approver1, Approver2},
		Admins:              []string{Admin1, Admin2},
		AuditChannel:        auditChannel,
		DBPath:              dbPath,
		HTTPAddr:            opsAddr,
		ReminderInterval:    24 * time.Hour,
		EscalateAfter:       48 * time.Hour,
		AllowedEmailDomains: []string{Domain},
		SeatsEditor:         6,
		SeatsAdmin:          2,
		LeaverAutoMax:       5,
		// Admin needs both approvers, to show an approval policy (SPEC §10).
		ApprovalsRequired: map[access.Role]int{access.RoleAdmin: 2},
	}, apiURL, stack.Options{Log: log, Now: now})
}

// URL returns the page's address.
func (p *Playground) URL() string { return "http://" + p.ln.Addr().String() + "/" }

// Run serves the page and runs the bot until ctx is cancelled, then stops
// both cleanly: the bot drains its work and closes the database, and the
// simulated Slack shuts down. ready, if set, is called once the bot is
// connected and the page answers.
func (p *Playground) Run(ctx context.Context, ready func(url string)) error {
	defer p.Fake.Close()
	srv := &http.Server{Handler: p.Handler(), ReadHeaderTimeout: 10 * time.Second}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(p.ln) }()

	botCtx, stopBot := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBot()
	botDone := make(chan error, 1)
	go func() { botDone <- p.Stack.Run(botCtx) }()

	var err error
	wait, cancel := context.WithTimeout(ctx, 20*time.Second)
	werr := fakeslack.WaitFor(wait, func() bool { return p.Fake.Connected() && p.Stack.Bot.Connected() })
	cancel()
	switch {
	case ctx.Err() != nil:
	case werr != nil:
		err = fmt.Errorf("the bot did not connect to the simulated Slack: %w", werr)
	default:
		p.openHomes(ctx)
		if ready != nil {
			ready(p.URL())
		}
		select {
		case <-ctx.Done():
		case err = <-serveErr:
			err = fmt.Errorf("serve the page: %w", err)
		case err = <-botDone:
			botDone <- err
			err = fmt.Errorf("the bot stopped: %w", err)
		}
	}
	close(p.stopping)
	shut, cancelShut := context.WithTimeout(context.Background(), 5*time.Second)
	_ = srv.Shutdown(shut) // event streams end when p.stopping closes
	cancelShut()
	stopBot()
	if berr := <-botDone; berr != nil && err == nil {
		err = berr
	}
	p.bg.Wait()
	if serr := p.save(); serr != nil && err == nil {
		err = serr
	}
	if cerr := p.Stack.Close(); cerr != nil && err == nil {
		err = cerr
	}
	return err
}

// openHomes opens the App Home tab of the people with a column, as if they
// had looked at it, so the bot keeps their tabs up to date.
func (p *Playground) openHomes(ctx context.Context) {
	for _, id := range mainPeople {
		actx, cancel := context.WithTimeout(ctx, 5*time.Second)
		if _, err := p.Fake.AppHomeOpened(actx, id); err != nil {
			p.log.Warn("playground: app_home_opened", "user", id, "err", err)
		}
		cancel()
	}
}

// afterDone makes the simulated UXPin team follow a Mark done: once the
// request is fulfilled, or a group has fewer rows open than before (the
// bot decides, not the page), the admin is taken to have done the steps of
// the task in UXPin.
func (p *Playground) afterDone(requestID string, before *access.Request) {
	p.bg.Go(func() {
		deadline := time.NewTimer(15 * time.Second)
		defer deadline.Stop()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			r, err := p.request(requestID)
			if err == nil && (r.State == access.StateFulfilled || (r.IsGroup() && r.OpenRows() < before.OpenRows())) {
				p.Team.Apply(r)
				p.changed()
				if err := p.save(); err != nil {
					p.log.Error("playground: save state", "err", err)
				}
				return
			}
			select {
			case <-p.stopping:
				return
			case <-deadline.C:
				return
			case <-tick.C:
			}
		}
	})
}

// request reads a request from the bot's service.
func (p *Playground) request(id string) (*access.Request, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return p.Stack.Service.Request(ctx, id)
}

func statePath(dbPath string) string { return dbPath + ".playground.json" }

// load reads the saved clock offset and team, if any.
func (p *Playground) load() error {
	b, err := os.ReadFile(statePath(p.opts.DBPath))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read playground state: %w", err)
	}
	var st savedState
	if err := json.Unmarshal(b, &st); err != nil {
		return fmt.Errorf("read playground state %s: %w (start with --reset)", statePath(p.opts.DBPath), err)
	}
	p.Clock.Advance(time.Duration(st.ClockOffsetSeconds) * time.Second)
	if st.Team != nil {
		p.Team.set(st.Team)
	}
	return nil
}

// save writes the clock offset and the team beside the database.
func (p *Playground) save() error {
	p.stateMu.Lock()
	defer p.stateMu.Unlock()
	b, err := json.MarshalIndent(savedState{
		ClockOffsetSeconds: int64(p.Clock.Offset() / time.Second),
		Team:               p.Team.Members(),
	}, "", "  ")
	if err != nil {
		return err
	}
	path := statePath(p.opts.DBPath)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("save playground state: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("save playground state: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("save playground state: %w", err)
	}
	return nil
}

// watchState wakes the page's event streams when the clock or the team
// changes; the simulated Slack has its own (fakeslack.Server.Changes).
type watchState struct {
	mu sync.Mutex
	ch chan struct{}
}

func (p *Playground) changes() <-chan struct{} {
	p.watch.mu.Lock()
	defer p.watch.mu.Unlock()
	if p.watch.ch == nil {
		p.watch.ch = make(chan struct{})
	}
	return p.watch.ch
}

func (p *Playground) changed() {
	p.watch.mu.Lock()
	defer p.watch.mu.Unlock()
	if p.watch.ch != nil {
		close(p.watch.ch)
	}
	p.watch.ch = make(chan struct{})
}
