package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/uxpin-access-bot/uxpin-access-bot/bot"
	"github.com/uxpin-access-bot/uxpin-access-bot/delivery"
	"github.com/uxpin-access-bot/uxpin-access-bot/stack"
)

// Main is the whole program: the configuration read from the environment,
// and the stack the wiring package builds from it.
type Main struct {
	Config *Config
	Log    *slog.Logger
	// Delivery tunes the outbox worker; tests shorten its timeouts.
	Delivery delivery.Options
	// SchedulerTick is how often due reminders, escalations and expiries
	// are looked for; zero means a second.
	SchedulerTick time.Duration
	// LeaverWindow gathers leavers reported by events into one check;
	// zero means stack.DefaultLeaverWindow.
	LeaverWindow time.Duration
	// Now is the clock; nil means time.Now. Tests move it forward.
	Now func() time.Time

	// Stack is set by Open: the database, the Slack client, the service,
	// the handlers, the bot and the worker.
	*stack.Stack
}

// newLogger builds the slog logger the configuration asks for.
func newLogger(c *Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.SlogLevel()}
	if strings.EqualFold(c.LogFormat, "json") {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// StackConfig maps the environment's configuration onto the wiring's.
func (c *Config) StackConfig() stack.Config {
	return stack.Config{
		AppToken:            c.AppToken,
		BotToken:            c.BotToken,
		ApproverUsers:       c.ApproverUsers(),
		ApproverGroups:      c.ApproverGroups(),
		Admins:              c.Admins,
		AuditChannel:        c.AuditChannel,
		DBPath:              c.DBPath,
		HTTPAddr:            c.HTTPAddr,
		ReminderInterval:    c.ReminderInterval,
		EscalateAfter:       c.EscalateAfter,
		AllowedEmailDomains: c.AllowedEmailDomains,
		AdminToken:          c.AdminToken,
		SeatsEditor:         c.SeatsEditor,
		SeatsAdmin:          c.SeatsAdmin,
		MaxAccessDays:       c.MaxAccessDays,
		LeaverAutoMax:       c.LeaverAutoMax,
		ApprovalsRequired:   c.Required(),
		RoleApprovers:       c.RoleApprovers(),
		AutoApproveRoles:    c.AutoRoles(),
		ReviewEvery:         c.ReviewEvery,
		ReviewDays:          c.ReviewDays,
		SocketConnections:   c.SocketConnections,
	}
}

// Open opens the database and builds every part, without connecting to Slack.
func (m *Main) Open() error {
	s, err := stack.Open(m.Config.StackConfig(), m.Config.APIURL, stack.Options{
		Log:           m.Log,
		Now:           m.Now,
		Delivery:      m.Delivery,
		SchedulerTick: m.SchedulerTick,
		LeaverWindow:  m.LeaverWindow,
	})
	if err != nil {
		return err
	}
	m.Stack = s
	return nil
}

// Run runs the stack until ctx is cancelled or Slack refuses the tokens,
// and names the variable at fault in the error.
func (m *Main) Run(ctx context.Context) error {
	err := m.Stack.Run(ctx)
	var ae *stack.AuthTestError
	switch {
	case errors.As(err, &ae) && ae.Refused != "":
		return fmt.Errorf("SLACK_BOT_TOKEN: %w: %s", bot.ErrAuth, ae.Refused)
	case errors.As(err, &ae):
		return fmt.Errorf("reach Slack at SLACK_API_URL: %s", redactErr(ae.Err))
	case errors.Is(err, bot.ErrAuth):
		return fmt.Errorf("SLACK_APP_TOKEN: %w", err)
	}
	return err
}

// Close releases the database.
func (m *Main) Close() error {
	if m.Stack == nil {
		return nil
	}
	return m.Stack.Close()
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
