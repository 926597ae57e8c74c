// Package ops is what an SRE runs the bot with: the HTTP listener for health,
// readiness and Prometheus metrics, the audit export (CSV and JSON Lines)
// and the online backup.
package ops

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/uxpin-access-bot/uxpin-access-bot/access"
)

// StateSource is the database as the metrics read it at scrape time.
type StateSource interface {
	CountByState(ctx context.Context) (map[access.State]int, error)
	OpenTaskStats(ctx context.Context) (int, time.Time, error)
	PendingRequests(ctx context.Context, limit int) ([]*access.Request, error)
	OutboxDepth(ctx context.Context) (int, error)
}

// Metrics holds the bot's Prometheus metrics. Its methods are the observers
// the bot and the delivery worker call.
type Metrics struct {
	reg              *prometheus.Registry
	ackLatency       *prometheus.HistogramVec
	workLatency      *prometheus.HistogramVec
	reconnects       prometheus.Counter
	deliveryFailures *prometheus.CounterVec
	slackCalls       *prometheus.CounterVec
	panics           *prometheus.CounterVec
}

// WriteErrorCounter counts failed database commits.
type WriteErrorCounter interface {
	WriteErrors() uint64
}

// NewMetrics registers the bot's metrics, state gauges read from src at
// each scrape, and the Go and process collectors. now may be nil.
func NewMetrics(src StateSource, now func() time.Time) *Metrics {
	if now == nil {
		now = time.Now
	}
	reg := prometheus.NewRegistry()
	buckets := []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}
	m := &Metrics{
		reg: reg,
		ackLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "uxpin_access_envelope_ack_seconds", Help: "Time from receiving a Socket Mode envelope to acking it, by envelope type.", Buckets: buckets,
		}, []string{"type"}),
		workLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "uxpin_access_envelope_handling_seconds", Help: "Time from receiving a Socket Mode envelope to finishing its work, by envelope type.", Buckets: buckets,
		}, []string{"type"}),
		reconnects: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "uxpin_access_socket_reconnects_total", Help: "Socket Mode reconnections after the first connection.",
		}),
		deliveryFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "uxpin_access_delivery_failures_total", Help: "Failed outbox deliveries by Slack error; permanent ones are also abandoned.",
		}, []string{"error", "permanent"}),
		slackCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "uxpin_access_slack_api_calls_total", Help: "Slack Web API calls by method and outcome (ok, error, ratelimited, http_error, network_error).",
		}, []string{"method", "outcome"}),
		panics: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "uxpin_access_panics_total", Help: "Panics recovered, by where they happened (envelope, view_submission, notice).",
		}, []string{"where"}),
	}
	if wc, ok := src.(WriteErrorCounter); ok {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "uxpin_access_database_write_errors_total", Help: "Database commits that failed (a full disk, say); nothing they carried was acknowledged.",
		}, func() float64 { return float64(wc.WriteErrors()) }))
	}
	reg.MustRegister(m.ackLatency, m.workLatency, m.reconnects, m.deliveryFailures, m.slackCalls, m.panics,
		&stateCollector{src: src, now: now},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// ObserveAck records how long an envelope took to ack.
func (m *Metrics) ObserveAck(kind string, d time.Duration) {
	m.ackLatency.WithLabelValues(kind).Observe(d.Seconds())
}

// ObserveWork records how long an envelope's work took.
func (m *Metrics) ObserveWork(kind string, d time.Duration) {
	m.workLatency.WithLabelValues(kind).Observe(d.Seconds())
}

// Panicked counts a recovered panic.
func (m *Metrics) Panicked(where string) { m.panics.WithLabelValues(where).Inc() }

// Reconnected counts a Socket Mode reconnection.
func (m *Metrics) Reconnected() { m.reconnects.Inc() }

// DeliveryFailed counts a failed outbox delivery.
func (m *Metrics) DeliveryFailed(code string, permanent bool) {
	p := "false"
	if permanent {
		p = "true"
	}
	m.deliveryFailures.WithLabelValues(code, p).Inc()
}

// slackMethods are the Web API methods counted by name; any other path (a
// file download's name, say) is counted as "other", so that label values
// stay few.
var slackMethods = map[string]bool{}

func init() {
	for _, m := range []string{
		"auth.test", "apps.connections.open", "chat.postMessage", "chat.postEphemeral", "chat.update", "chat.delete",
		"conversations.open", "conversations.history", "conversations.replies", "conversations.info",
		"users.info", "users.lookupByEmail", "usergroups.users.list",
		"views.open", "views.push", "views.update", "views.publish",
		"files.info", "files.upload", "files.getUploadURLExternal", "files.completeUploadExternal",
	} {
		slackMethods[m] = true
	}
}

// Transport wraps base (nil: http.DefaultTransport) so that every Slack Web
// API call is counted by method and outcome. It reads Slack's "ok" field
// from JSON answers, which HTTP status codes alone do not show.
func (m *Metrics) Transport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return roundTripper(func(req *http.Request) (*http.Response, error) {
		method := req.URL.Path[strings.LastIndexByte(req.URL.Path, '/')+1:]
		if !slackMethods[method] {
			method = "other"
		}
		resp, err := base.RoundTrip(req)
		switch {
		case err != nil:
			m.slackCalls.WithLabelValues(method, "network_error").Inc()
		case resp.StatusCode == http.StatusTooManyRequests:
			m.slackCalls.WithLabelValues(method, "ratelimited").Inc()
		case resp.StatusCode >= 300:
			m.slackCalls.WithLabelValues(method, "http_error").Inc()
		default:
			m.slackCalls.WithLabelValues(method, okOutcome(resp)).Inc()
		}
		return resp, err
	})
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// okOutcome peeks at a JSON answer's "ok" field and puts the body back.
func okOutcome(resp *http.Response) string {
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") || resp.Body == nil {
		return "ok"
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return "network_error"
	}
	// Slack answers {"ok":true,…} or {"ok":false,…}: look at the start
	// before paying for decoding the whole answer (a posted message's
	// blocks, say).
	if t := bytes.TrimLeft(body, " \t\r\n"); bytes.HasPrefix(t, []byte(`{"ok":true`)) {
		return "ok"
	} else if bytes.HasPrefix(t, []byte(`{"ok":false`)) {
		return "error"
	} else if !bytes.Contains(body, []byte(`"ok":false`)) && !bytes.Contains(body, []byte(`"ok": false`)) {
		return "ok" // no "ok":false anywhere, so not at the top either
	}
	var v struct {
		OK *bool `json:"ok"`
	}
	if json.Unmarshal(body, &v) == nil && v.OK != nil && !*v.OK {
		return "error"
	}
	return "ok"
}

// stateCollector reads request states, task ages and the outbox depth from
// the database at each scrape, so the numbers are never stale.
type stateCollector struct {
	src StateSource
	now func() time.Time
}

var (
	descRequests = prometheus.NewDesc("uxpin_access_requests", "Requests by lifecycle state.", []string{"state"}, nil)
	descTasks    = prometheus.NewDesc("uxpin_access_open_tasks", "Approved requests waiting for a UXPin admin.", nil, nil)
	descTaskAge  = prometheus.NewDesc("uxpin_access_oldest_open_task_age_seconds", "Age of the longest-open admin task (0 when none).", nil, nil)
	descPendAge  = prometheus.NewDesc("uxpin_access_oldest_pending_approval_age_seconds", "Age of the oldest request waiting for approval (0 when none).", nil, nil)
	descOutbox   = prometheus.NewDesc("uxpin_access_outbox_depth", "Slack messages queued for delivery.", nil, nil)
	descUp       = prometheus.NewDesc("uxpin_access_database_up", "1 when the state metrics could be read from the database.", nil, nil)
)

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descRequests, descTasks, descTaskAge, descPendAge, descOutbox, descUp} {
		ch <- d
	}
}

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	up := 1.0
	now := c.now()
	if counts, err := c.src.CountByState(ctx); err == nil {
		for _, s := range access.States {
			ch <- prometheus.MustNewConstMetric(descRequests, prometheus.GaugeValue, float64(counts[s]), string(s))
		}
	} else {
		up = 0
	}
	if n, oldest, err := c.src.OpenTaskStats(ctx); err == nil {
		ch <- prometheus.MustNewConstMetric(descTasks, prometheus.GaugeValue, float64(n))
		ch <- prometheus.MustNewConstMetric(descTaskAge, prometheus.GaugeValue, age(now, oldest))
	} else {
		up = 0
	}
	if pending, err := c.src.PendingRequests(ctx, 1); err == nil {
		var oldest time.Time
		if len(pending) > 0 {
			oldest = pending[0].CreatedAt
		}
		ch <- prometheus.MustNewConstMetric(descPendAge, prometheus.GaugeValue, age(now, oldest))
	} else {
		up = 0
	}
	if n, err := c.src.OutboxDepth(ctx); err == nil {
		ch <- prometheus.MustNewConstMetric(descOutbox, prometheus.GaugeValue, float64(n))
	} else {
		up = 0
	}
	ch <- prometheus.MustNewConstMetric(descUp, prometheus.GaugeValue, up)
}

func age(now, t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return max(now.Sub(t).Seconds(), 0)
}
