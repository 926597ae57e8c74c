// Package handlers answers every Slack surface of the bot: the slash command,
// buttons, modals, events and the App Home. It turns Slack payloads into calls
// on the access lifecycle and renders the lifecycle's state as Block Kit.
package handlers

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/uxpin-access-bot/uxpin-access-bot/access"
)

// SlackAPI is the part of the Slack Web API the handlers call directly.
// Messages that a state change causes do not go through here but through the
// outbox.
type SlackAPI interface {
	OpenViewContext(ctx context.Context, triggerID string, view slack.ModalViewRequest) (*slack.ViewResponse, error)
	PublishViewContext(ctx context.Context, req slack.PublishViewContextRequest) (*slack.ViewResponse, error)
	PostEphemeralContext(ctx context.Context, channelID, userID string, options ...slack.MsgOption) (string, error)
	PostMessageContext(ctx context.Context, channelID string, options ...slack.MsgOption) (string, string, error)
}

// Directory looks up Slack users.
type Directory interface {
	Person(ctx context.Context, id string) (access.Person, error)
}

// Options tune a Handler.
type Options struct {
	// ResponseHosts are the hosts a payload's response_url may point at; any
	// other URL is ignored, so a forged payload cannot make the bot post to
	// an arbitrary address.
	ResponseHosts []string
	// HTTPClient posts to response URLs; nil uses a client with a timeout.
	HTTPClient *http.Client
	// Homes remembers who opened the Home tab, so that only their tabs are
	// refreshed when something changes; nil refreshes nobody's.
	Homes HomeViewers
	// APIURL is the Slack Web API base URL the bot talks to. A file shared
	// for the seat audit is downloaded, with the bot token, only from
	// Slack's file hosts or from this URL's scheme and host, which get the
	// token with every call anyway (a test's fake Slack serves files there).
	APIURL string
	// The seat audit's parts; nil leaves it unavailable.
	AuditAPI  AuditAPI
	Workspace Workspace
	Drafts    AuditDrafts
	// IMs tells the DM channel the outbox delivered to a user in, so the
	// access review's CSV can follow its report; nil sends no CSV.
	IMs IMChannels
	// LeaverWindow is how long leavers reported by user_change events are
	// gathered into one check, so a mass deactivation meets the breaker;
	// zero checks at once.
	LeaverWindow time.Duration
}

// HomeViewers records who has opened the App Home tab.
type HomeViewers interface {
	MarkHomeSeen(ctx context.Context, user string) (bool, error)
}

// Handler implements bot.Handler.
type Handler struct {
	svc           *access.Service
	api           SlackAPI
	dir           Directory
	log           *slog.Logger
	http          *http.Client
	responseHosts []string
	homes         HomeViewers
	apiURL        *url.URL // nil when Options.APIURL is unset or unparsable
	auditAPI      AuditAPI
	workspace     Workspace
	drafts        AuditDrafts
	ims           IMChannels
	leaverWindow  time.Duration
	leavers       leaverBatch
	stop          chan struct{} // closed by Wait: batches check at once
	stopOnce      sync.Once
	bg            sync.WaitGroup
	audits        auditGate
	runMu         sync.Mutex
	running       bool                       // Run is taking background work
	jobs          chan func(context.Context) // background work for Run
}

// New returns a Handler.
func New(svc *access.Service, api SlackAPI, dir Directory, log *slog.Logger, opts Options) *Handler {
	hc := opts.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	apiURL, err := url.Parse(opts.APIURL)
	if err != nil || apiURL.Host == "" {
		apiURL = nil
	}
	return &Handler{svc: svc, api: api, dir: dir, log: log, http: hc, responseHosts: opts.ResponseHosts, homes: opts.Homes,
		apiURL: apiURL, auditAPI: opts.AuditAPI, workspace: opts.Workspace, drafts: opts.Drafts, ims: opts.IMs,
		leaverWindow: opts.LeaverWindow, stop: make(chan struct{}), jobs: make(chan func(context.Context), 64)}
}

// ResponseHostsFor returns the response_url hosts to trust for a Web API base
// URL: Slack's hooks host for slack.com (hooks.slack.com), and the API host
// itself for GovSlack-style or test deployments.
func ResponseHostsFor(apiURL string) []string {
	u, err := url.Parse(apiURL)
	if err != nil || u.Host == "" {
		return nil
	}
	return []string{u.Host, "hooks." + u.Hostname()}
}

// reply tells one user something only they see: through the payload's
// response_url when it is trustworthy, else as an ephemeral message in the
// channel, else as a DM.
func (h *Handler) reply(ctx context.Context, responseURL, channel, user, text string, blocks ...slack.Block) {
	if h.trusted(responseURL) {
		msg := &slack.WebhookMessage{Text: text, ResponseType: slack.ResponseTypeEphemeral}
		if len(blocks) > 0 {
			msg.Blocks = &slack.Blocks{BlockSet: blocks}
		}
		err := slack.PostWebhookCustomHTTPContext(ctx, responseURL, h.http, msg)
		if err == nil {
			return
		}
		h.log.Warn("reply through response_url failed; trying chat.postEphemeral", "user", user, "err", err)
	}
	opts := []slack.MsgOption{slack.MsgOptionText(text, false)}
	if len(blocks) > 0 {
		opts = append(opts, slack.MsgOptionBlocks(blocks...))
	}
	if channel != "" {
		if _, err := h.api.PostEphemeralContext(ctx, channel, user, opts...); err == nil {
			return
		} else {
			h.log.Warn("chat.postEphemeral failed; sending a DM", "user", user, "err", err)
		}
	}
	if _, _, err := h.api.PostMessageContext(ctx, user, opts...); err != nil {
		h.log.Error("could not reply to user", "user", user, "err", err)
	}
}

func (h *Handler) trusted(responseURL string) bool {
	if responseURL == "" {
		return false
	}
	u, err := url.Parse(responseURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") {
		return false
	}
	return slices.Contains(h.responseHosts, u.Host)
}

// replyErr answers a failed lifecycle call with its user-safe message and logs
// anything unexpected.
func (h *Handler) replyErr(ctx context.Context, responseURL, channel, user string, err error, what string) {
	code := access.ErrorCode(err)
	if code == access.EINTERNAL {
		h.log.Error(what+" failed", "user", user, "err", err)
	} else {
		h.log.Info(what+" refused", "user", user, "code", code, "reason", message(err))
	}
	h.reply(ctx, responseURL, channel, user, message(err))
}

func formatDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.DateOnly)
}
