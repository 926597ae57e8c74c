// Package stack builds the whole bot (storage, the Slack client, the
// directory, the access service, the handlers, the Socket Mode bot, the
// operations listener, the outbox worker, the scheduler, the leaver sweep
// and the access reviews' steps) from a Config and a Slack endpoint, and runs it.
//
// It is the one wiring of the program: cmd/uxpin-access-bot (production),
// cmd/uxpin-access-bench and the playground all call Open, so they cannot
// drift apart. Callers keep only what is theirs: where the configuration
// comes from, the clock, and test or benchmark hooks.
package stack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/slack-go/slack"

	"github.com/uxpin-access-bot/uxpin-access-bot/access"
	"github.com/uxpin-access-bot/uxpin-access-bot/bot"
	"github.com/uxpin-access-bot/uxpin-access-bot/delivery"
	"github.com/uxpin-access-bot/uxpin-access-bot/handlers"
	"github.com/uxpin-access-bot/uxpin-access-bot/ops"
	"github.com/uxpin-access-bot/uxpin-access-bot/storage"
)

// DrainTimeout bounds how long a stopping bot waits for in-flight work.
const DrainTimeout = 10 * time.Second

// DefaultLeaverWindow gathers the user_change events of a mass deactivation
// into one leaver check, so the breaker sees them together.
const DefaultLeaverWindow = 30 * time.Second

// Config is what the bot is configured with (SPEC §3), already validated.
// The Slack endpoint is not part of it: Open takes it separately, since it
// is the one thing the playground and the bench always replace.
type Config struct {
	AppToken, BotToken string // xapp-… and xoxb-…

	ApproverUsers  []string // user IDs (U…/W…) who approve
	ApproverGroups []string // user-group IDs (S…) whose members approve
	Admins         []string // UXPin admins' user IDs
	AuditChannel   string   // "" posts no audit lines

	DBPath   string // the bbolt file
	HTTPAddr string // operations listener; "" disables it

	ReminderInterval time.Duration
	EscalateAfter    time.Duration

	AllowedEmailDomains []string
	AdminToken          string // unlocks /audit.* and /backup; "" keeps them locked

	SeatsEditor, SeatsAdmin int

	// SocketConnections is how many Socket Mode connections the bot holds
	// (SPEC §6); zero means one.
	SocketConnections int

	// MaxAccessDays bounds end dates; zero means access's default.
	MaxAccessDays int
	// LeaverAutoMax is the most leavers one check removes without asking.
	LeaverAutoMax int
	// ApprovalsRequired, RoleApprovers (each role's user IDs and user-group
	// IDs) and AutoApproveRoles are the approval policy (SPEC §10).
	ApprovalsRequired map[access.Role]int
	RoleApprovers     map[access.Role][2][]string
	AutoApproveRoles  []access.Role
	// ReviewEvery starts an access review this often (zero: on demand
	// only); ReviewDays is how long one stays open (zero: access's default).
	ReviewEvery time.Duration
	ReviewDays  int
}

// Options are the parts of the wiring that are not configuration: the
// logger, the clock and hooks for tests and benchmarks. The zero value is
// production's choice for each.
type Options struct {
	// Log receives the bot's logs; nil discards them.
	Log *slog.Logger
	// Now is the clock; nil means time.Now. Tests and the playground move it.
	Now func() time.Time
	// Delivery tunes the outbox worker; Home, Observer and (when nil) Now
	// are filled in by Open.
	Delivery delivery.Options
	// SchedulerTick is how often due reminders, escalations and expiries
	// are looked for; zero means a second.
	SchedulerTick time.Duration
	// LeaverSweepFirst and LeaverSweepEvery time the check of everyone in
	// the ledger against Slack; zero means a minute after the start, then
	// daily. NoLeaverSweep turns it off (the bench does, as noise).
	LeaverSweepFirst, LeaverSweepEvery time.Duration
	NoLeaverSweep                      bool
	// LeaverWindow gathers leavers reported by user_change events into one
	// check, so a mass deactivation meets the breaker; zero means
	// DefaultLeaverWindow.
	LeaverWindow time.Duration
	// WrapTransport, if set, wraps the HTTP transport of the Slack client
	// (already counted by the metrics), e.g. to watch what the bot posts.
	WrapTransport func(http.RoundTripper) http.RoundTripper
}

// Stack is the whole bot, wired. Build it with Open, run it with Run and
// release it with Close.
type Stack struct {
	Config Config
	// APIURL is the Slack Web API base URL the stack talks to.
	APIURL string

	DB        *storage.DB
	API       *slack.Client
	Directory *bot.Directory
	Metrics   *ops.Metrics
	Ops       *ops.Server
	Service   *access.Service
	Handlers  *handlers.Handler
	Bot       *bot.Bot
	Worker    *delivery.Worker

	opts     Options
	httpAddr atomic.Value // string: where the ops listener is bound
}

// Open opens the database and builds every part against the Slack Web API
// at apiURL (https://slack.com/api/ in production), without connecting.
func Open(c Config, apiURL string, o Options) (*Stack, error) {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	db, err := storage.Open(c.DBPath, storage.Options{LockTimeout: time.Second, Now: o.Now})
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", c.DBPath, err)
	}
	s := &Stack{Config: c, APIURL: apiURL, DB: db, opts: o}
	s.Metrics = ops.NewMetrics(db, o.Now)
	// Many lanes talk to Slack at once; keep their connections alive.
	base := http.DefaultTransport.(*http.Transport).Clone()
	base.MaxIdleConnsPerHost = 64
	// Decode only the parts of Slack's answers the bot reads; the metrics
	// read the slimmed answer too.
	rt := s.Metrics.Transport(bot.SlimAnswers(base))
	if o.WrapTransport != nil {
		rt = o.WrapTransport(rt)
	}
	hc := &http.Client{Transport: rt, Timeout: 30 * time.Second}
	s.API = slack.New(c.BotToken, slack.OptionAppLevelToken(c.AppToken), slack.OptionAPIURL(apiURL), slack.OptionHTTPClient(hc))
	s.Directory = bot.NewDirectory(s.API, c.ApproverUsers, c.ApproverGroups, bot.DirectoryOptions{Now: o.Now})
	roleDirs := map[access.Role]access.Directory{}
	for role, ids := range c.RoleApprovers {
		roleDirs[role] = bot.NewDirectory(s.API, ids[0], ids[1], bot.DirectoryOptions{Now: o.Now})
	}
	s.Service = newService(db, s.Directory, roleDirs, c, o.Now)
	window := o.LeaverWindow
	if window <= 0 {
		window = DefaultLeaverWindow
	}
	s.Handlers = handlers.New(s.Service, s.API, s.Directory, o.Log, handlers.Options{
		ResponseHosts: handlers.ResponseHostsFor(apiURL),
		APIURL:        apiURL,
		Homes:         db,
		AuditAPI:      s.API,
		Workspace:     s.Directory,
		Drafts:        db,
		IMs:           db,
		LeaverWindow:  window,
	})
	s.Bot = bot.New(s.API, s.Handlers, o.Log)
	s.Bot.SetConnections(c.SocketConnections)
	s.Bot.Observe(s.Metrics)
	s.Ops = ops.NewServer(db, s.Bot, s.Metrics, c.AdminToken, o.Log)
	d := o.Delivery
	d.Home = s.Handlers
	d.Observer = s.Metrics
	if d.Now == nil {
		d.Now = o.Now
	}
	s.Worker = delivery.New(outboxStore{db}, s.API, s.Handlers.Render, o.Log, d)
	return s, nil
}

// newService builds the access service from the configuration. It is the
// one place that maps Config onto the domain's policy.
func newService(db *storage.DB, dir *bot.Directory, roleDirs map[access.Role]access.Directory, c Config, now func() time.Time) *access.Service {
	return access.NewService(db, dir, access.Config{
		Admins:            c.Admins,
		AllowedDomains:    c.AllowedEmailDomains,
		AuditChannel:      c.AuditChannel,
		ReminderInterval:  c.ReminderInterval,
		EscalateAfter:     c.EscalateAfter,
		SeatsEditor:       c.SeatsEditor,
		SeatsAdmin:        c.SeatsAdmin,
		MaxAccessDays:     c.MaxAccessDays,
		LeaverAutoMax:     c.LeaverAutoMax,
		ApprovalsRequired: c.ApprovalsRequired,
		ApproversByRole:   roleDirs,
		AutoApproveRoles:  c.AutoApproveRoles,
		ReviewEvery:       c.ReviewEvery,
		ReviewDays:        c.ReviewDays,
	}, now)
}

// outboxStore is the database as the delivery worker sees it. Access-review
// notices carry a review's ID ("V-3") where other notices carry a request's:
// they have no request, so the worker gets a stand-in that names the review,
// and the renderer reads the review itself.
type outboxStore struct{ *storage.DB }

// Request returns request id, or a stand-in for a review's notices.
func (s outboxStore) Request(ctx context.Context, id string) (*access.Request, error) {
	if access.IsReviewID(id) {
		return &access.Request{ID: id}, nil
	}
	return s.DB.Request(ctx, id)
}

// AuthTestError is returned by Run when the bot token could not be checked
// with auth.test: Slack refused it (Refused holds Slack's error code, such
// as "invalid_auth") or could not be reached (Refused is empty).
type AuthTestError struct {
	Refused string
	Err     error
}

// Error returns a one-line description; it never contains a token.
func (e *AuthTestError) Error() string {
	if e.Refused != "" {
		return "auth.test refused the bot token: " + e.Refused
	}
	return "auth.test: " + e.Err.Error()
}

// Unwrap returns the underlying error.
func (e *AuthTestError) Unwrap() error { return e.Err }

// Run starts the operations listener (when Config.HTTPAddr is set), checks
// the bot token, then runs Socket Mode, the outbox worker, the scheduler and
// the leaver sweep until ctx is cancelled or Slack refuses the tokens. A
// refused bot token is an *AuthTestError; a refused app token wraps
// bot.ErrAuth. On cancellation it drains in-flight work and gives the
// worker one last pass before it returns.
func (s *Stack) Run(ctx context.Context) error {
	log := s.opts.Log
	var opsWG sync.WaitGroup
	if addr := s.Config.HTTPAddr; addr != "" {
		opsCtx, stopOps := context.WithCancel(context.WithoutCancel(ctx))
		bound := make(chan error, 1)
		opsWG.Go(func() {
			started := false
			err := s.Ops.Serve(opsCtx, addr, func(a net.Addr) {
				started = true
				s.httpAddr.Store(a.String())
				log.Info("ops listener up", "addr", a.String())
				bound <- nil
			})
			switch {
			case !started:
				bound <- err
			case err != nil:
				log.Error("ops listener stopped", "err", err)
			}
		})
		defer func() { stopOps(); opsWG.Wait() }()
		if err := <-bound; err != nil {
			return err
		}
	}
	actx, cancel := context.WithTimeout(ctx, 15*time.Second)
	who, err := s.API.AuthTestContext(actx)
	cancel()
	if err != nil {
		var se slack.SlackErrorResponse
		if errors.As(err, &se) {
			return &AuthTestError{Refused: se.Err, Err: err}
		}
		return &AuthTestError{Err: err}
	}
	log.Info("starting", "team", who.Team, "bot_user", who.UserID, "db", s.Config.DBPath)

	wctx, stopWorker := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Go(func() { _ = s.Worker.Run(wctx) })
	// Seat audits and other work the handlers start after an ack live in
	// the run context; Handlers.Wait lets them finish before it ends.
	wg.Go(func() { s.Handlers.Run(wctx) })
	tick := s.opts.SchedulerTick
	if tick <= 0 {
		tick = time.Second
	}
	wg.Go(func() {
		s.recovering(wctx, "scheduler", tick, func(ctx context.Context) {
			s.Service.RunScheduler(ctx, tick, func(err error) { log.Error("scheduler: timer failed; will retry", "err", err) })
		})
	})
	if !s.opts.NoLeaverSweep {
		first, every := s.opts.LeaverSweepFirst, s.opts.LeaverSweepEvery
		if first <= 0 {
			first = time.Minute
		}
		if every <= 0 {
			every = 24 * time.Hour
		}
		wg.Go(func() {
			s.recovering(wctx, "leaver_sweep", time.Minute, func(ctx context.Context) {
				s.Handlers.RunLeaverSweep(ctx, first, every)
			})
		})
	}
	wg.Go(func() {
		s.recovering(wctx, "reviews", tick, func(ctx context.Context) { s.Handlers.RunReviews(ctx, tick) })
	})

	err = s.Bot.Run(ctx, DrainTimeout)
	s.Handlers.Wait() // a seat audit in progress finishes and sends its report

	// Stop the worker, then give it one last pass over what the final
	// handlers queued; whatever is left is delivered on the next start.
	stopWorker()
	wg.Wait()
	flush, cancelFlush := context.WithTimeout(context.Background(), 3*time.Second)
	s.Worker.Drain(flush)
	cancelFlush()
	return err
}

// HTTPAddr returns the address the operations listener is bound to, or "".
func (s *Stack) HTTPAddr() string {
	a, _ := s.httpAddr.Load().(string)
	return a
}

// Close releases the database. Call it after Run has returned.
func (s *Stack) Close() error {
	if s == nil || s.DB == nil {
		return nil
	}
	return s.DB.Close()
}

// recovering runs loop until ctx ends, restarting it after pause if it
// panics: one bad timer must not take the process down (and, retried first
// at every start, crash it again each time). Each panic is logged and
// counted in uxpin_access_panics_total{where}.
func (s *Stack) recovering(ctx context.Context, where string, pause time.Duration, loop func(context.Context)) {
	for ctx.Err() == nil {
		panicked := func() (panicked bool) {
			defer func() {
				if p := recover(); p != nil {
					panicked = true
					s.opts.Log.Error("panic; restarting", "where", where, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
					s.Metrics.Panicked(where)
				}
			}()
			loop(ctx)
			return false
		}()
		if !panicked {
			return
		}
		select {
		case <-ctx.Done():
		case <-time.After(pause):
		}
	}
}
