package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strings"
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

// drainTimeout bounds how long shutdown waits for in-flight work.
const drainTimeout = 10 * time.Second

// Main is the whole program, wired in one place.
type Main struct {
	Config *Config
	Log    *slog.Logger
	// Delivery tunes the outbox worker; tests shorten its timeouts.
	Delivery delivery.Options
	// SchedulerTick is how often due reminders, escalations and expiries
	// are looked for; zero means a second.
	SchedulerTick time.Duration
	// Now is the clock; nil means time.Now. Tests move it forward.
	Now func() time.Time

	httpAddr atomic.Value // string: where the ops listener is bound

	DB       *storage.DB
	API      *slack.Client
	Metrics  *ops.Metrics
	Ops      *ops.Server
	Service  *access.Service
	Bot      *bot.Bot
	Worker   *delivery.Worker
	Handlers *handlers.Handler
}

// newLogger builds the slog logger the configuration asks for.
func newLogger(c *Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.SlogLevel()}
	if strings.EqualFold(c.LogFormat, "json") {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// Open opens the database and builds every part, without connecting to Slack.
func (m *Main) Open() error {
	c := m.Config
	db, err := storage.Open(c.DBPath, storage.Options{LockTimeout: time.Second, Now: m.Now})
	if err != nil {
		return fmt.Errorf("open database %s: %w", c.DBPath, err)
	}
	m.DB = db
	m.Metrics = ops.NewMetrics(db, m.Now)
	// Many lanes talk to Slack at once; keep their connections alive.
	base := http.DefaultTransport.(*http.Transport).Clone()
	base.MaxIdleConnsPerHost = 64
	hc := &http.Client{Transport: m.Metrics.Transport(bot.SlimAnswers(base)), Timeout: 30 * time.Second}
	m.API = slack.New(c.BotToken, slack.OptionAppLevelToken(c.AppToken), slack.OptionAPIURL(c.APIURL), slack.OptionHTTPClient(hc))
	dir := bot.NewDirectory(m.API, c.ApproverUsers(), c.ApproverGroups(), 5*time.Minute)
	m.Service = access.NewService(db, dir, access.Policy{
		Admins:           c.Admins,
		AllowedDomains:   c.AllowedEmailDomains,
		AuditChannel:     c.AuditChannel,
		ReminderInterval: c.ReminderInterval,
		EscalateAfter:    c.EscalateAfter,
		SeatsEditor:      c.SeatsEditor,
		SeatsAdmin:       c.SeatsAdmin,
	}, m.Now)
	m.Handlers = handlers.New(m.Service, m.API, dir, m.Log, handlers.Options{
		ResponseHosts: handlers.ResponseHostsFor(c.APIURL),
		Homes:         db,
		AuditAPI:      m.API,
		Workspace:     dir,
		Drafts:        db,
	})
	m.Bot = bot.New(m.API, m.Handlers, m.Log)
	m.Bot.SetConnections(c.SocketConnections)
	m.Bot.Observe(m.Metrics)
	m.Ops = ops.NewServer(db, m.Bot, m.Metrics, c.AdminToken, m.Log)
	m.Delivery.Home = m.Handlers
	m.Delivery.Observer = m.Metrics
	if m.Delivery.Now == nil {
		m.Delivery.Now = m.Now
	}
	m.Worker = delivery.New(db, m.API, m.Handlers.Render, m.Log, m.Delivery)
	return nil
}

// Run starts the operations listener, checks the bot token, then runs Socket
// Mode, the outbox worker and the scheduler until ctx is cancelled or Slack
// refuses the tokens.
func (m *Main) Run(ctx context.Context) error {
	var opsWG sync.WaitGroup
	if addr := m.Config.HTTPAddr; addr != "" {
		opsCtx, stopOps := context.WithCancel(context.WithoutCancel(ctx))
		bound := make(chan error, 1)
		opsWG.Go(func() {
			started := false
			err := m.Ops.Serve(opsCtx, addr, func(a net.Addr) {
				started = true
				m.httpAddr.Store(a.String())
				m.Log.Info("ops listener up", "addr", a.String())
				bound <- nil
			})
			switch {
			case !started:
				bound <- err
			case err != nil:
				m.Log.Error("ops listener stopped", "err", err)
			}
		})
		defer func() { stopOps(); opsWG.Wait() }()
		if err := <-bound; err != nil {
			return err
		}
	}
	actx, cancel := context.WithTimeout(ctx, 15*time.Second)
	who, err := m.API.AuthTestContext(actx)
	cancel()
	if err != nil {
		var se slack.SlackErrorResponse
		if errors.As(err, &se) {
			return fmt.Errorf("SLACK_BOT_TOKEN: %w: %s", bot.ErrAuth, se.Err)
		}
		return fmt.Errorf("reach Slack at SLACK_API_URL: %s", redactErr(err))
	}
	m.Log.Info("starting", "team", who.Team, "bot_user", who.UserID, "db", m.Config.DBPath)

	wctx, stopWorker := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Go(func() { _ = m.Worker.Run(wctx) })
	tick := m.SchedulerTick
	if tick <= 0 {
		tick = time.Second
	}
	wg.Go(func() {
		m.recovering(wctx, "scheduler", tick, func(ctx context.Context) {
			m.Service.RunScheduler(ctx, tick, func(err error) { m.Log.Error("scheduler: timer failed; will retry", "err", err) })
		})
	})
	wg.Go(func() {
		m.recovering(wctx, "leaver_sweep", time.Minute, func(ctx context.Context) {
			m.Handlers.RunLeaverSweep(ctx, time.Minute, 24*time.Hour)
		})
	})

	err = m.Bot.Run(ctx, drainTimeout)
	m.Handlers.Wait() // a seat audit in progress finishes and sends its report
	if errors.Is(err, bot.ErrAuth) {
		err = fmt.Errorf("SLACK_APP_TOKEN: %w", err)
	}

	// Stop the worker, then give it one last pass over what the final
	// handlers queued; whatever is left is delivered on the next start.
	stopWorker()
	wg.Wait()
	flush, cancelFlush := context.WithTimeout(context.Background(), 3*time.Second)
	m.Worker.Drain(flush)
	cancelFlush()
	return err
}

// recovering runs loop until ctx ends, restarting it after pause if it
// panics: one bad timer must not take the process down (and, retried first
// at every start, crash it again each time). Each panic is logged and
// counted in uxpin_access_panics_total{where}.
func (m *Main) recovering(ctx context.Context, where string, pause time.Duration, loop func(context.Context)) {
	for ctx.Err() == nil {
		panicked := func() (panicked bool) {
			defer func() {
				if p := recover(); p != nil {
					panicked = true
					m.Log.Error("panic; restarting", "where", where, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
					m.Metrics.Panicked(where)
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

// HTTPAddr returns the address the operations listener is bound to, or "".
func (m *Main) HTTPAddr() string {
	s, _ := m.httpAddr.Load().(string)
	return s
}

// Close releases the database.
func (m *Main) Close() error {
	if m.DB != nil {
		return m.DB.Close()
	}
	return nil
}

// redactErr keeps errors one line and free of tokens.
func redactErr(err error) string {
	s := err.Error()
	for _, p := range []string{"xoxb-", "xapp-", "xoxp-"} {
		for {
			i := strings.Index(s, p)
			if i < 0 {
				break
			}
			j := i
			for j < len(s) && s[j] != ' ' && s[j] != '"' && s[j] != '&' {
				j++
			}
			s = s[:i] + "[redacted]" + s[j:]
		}
	}
	return s
}
