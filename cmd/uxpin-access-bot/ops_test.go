package main

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/uxpin-access-bot/uxpin-access-bot/handlers"
	"github.com/uxpin-access-bot/uxpin-access-bot/internal/fakeslack"
)

const adminToken = "test-admin-token-0123456789"

func (h *harness) get(path string, token string) (int, string) {
	h.t.Helper()
	req, err := http.NewRequest("GET", "http://"+h.m.HTTPAddr()+path, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// metric reads one sample from /metrics, or -1 if it is absent.
func (h *harness) metric(name string) float64 {
	h.t.Helper()
	_, body := h.get("/metrics", "")
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + ` ([0-9.e+-]+)$`)
	m := re.FindStringSubmatch(body)
	if m == nil {
		return -1
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	return v
}

func opsEnv() map[string]string {
	return map[string]string{"UXPIN_HTTP_ADDR": "127.0.0.1:0", "UXPIN_ADMIN_TOKEN": adminToken}
}

func TestReadyzFollowsTheSocket(t *testing.T) {
	h := newHarness(t, opsEnv())
	if code, body := h.get("/readyz", ""); code != 200 {
		t.Fatalf("/readyz = %d %q; want 200 while connected", code, body)
	}
	// Slack goes away and refuses to hand out a new socket for a while.
	h.fake.Fail("apps.connections.open", fakeslack.Fault{Count: -1, Status: 503})
	// A connection whose URL was handed out before the fault may still
	// arrive after the first drop, so each poll drops what is there.
	h.waitFor("/readyz to turn 503", func() bool {
		h.fake.DropConnection()
		code, body := h.get("/readyz", "")
		return code == 503 && strings.Contains(body, "Socket Mode")
	})
	if code, _ := h.get("/healthz", ""); code != 200 {
		t.Errorf("/healthz = %d while disconnected; want 200 (the process is up)", code)
	}
	h.fake.ClearFaults()
	h.waitFor("/readyz to recover", func() bool { code, _ := h.get("/readyz", ""); return code == 200 })
	if n := h.metric("uxpin_access_socket_reconnects_total"); n < 1 {
		t.Errorf("reconnects = %v; want at least 1", n)
	}
}

func TestMetricsFollowALifecycle(t *testing.T) {
	h := newHarness(t, opsEnv())
	h.fake.Fail("chat.postMessage", fakeslack.Fault{Count: 1, Status: 429, RetryAfter: 1})
	id, task := approveFlow(h, "grant", uBob, "editor")
	if n := h.metric(`uxpin_access_open_tasks`); n != 1 {
		t.Errorf("open tasks = %v; want 1", n)
	}
	if n := h.metric(`uxpin_access_requests{state="approved"}`); n != 1 {
		t.Errorf("approved requests = %v; want 1", n)
	}
	h.click(uErin, task, handlers.ActionDone)
	h.waitState(id, "fulfilled")
	h.outboxEmpty()
	checks := []struct {
		name string
		ok   func(float64) bool
	}{
		{`uxpin_access_requests{state="fulfilled"}`, func(v float64) bool { return v == 1 }},
		{`uxpin_access_requests{state="pending"}`, func(v float64) bool { return v == 0 }},
		{`uxpin_access_open_tasks`, func(v float64) bool { return v == 0 }},
		{`uxpin_access_oldest_open_task_age_seconds`, func(v float64) bool { return v == 0 }},
		{`uxpin_access_outbox_depth`, func(v float64) bool { return v == 0 }},
		{`uxpin_access_slack_api_calls_total{method="chat.postMessage",outcome="ok"}`, func(v float64) bool { return v >= 8 }},
		{`uxpin_access_slack_api_calls_total{method="chat.postMessage",outcome="ratelimited"}`, func(v float64) bool { return v == 1 }},
		{`uxpin_access_delivery_failures_total{error="ratelimited",permanent="false"}`, func(v float64) bool { return v == 1 }},
		{`uxpin_access_envelope_ack_seconds_count{type="slash_commands"}`, func(v float64) bool { return v >= 1 }},
		{`uxpin_access_envelope_ack_seconds_count{type="interactive/view_submission"}`, func(v float64) bool { return v >= 1 }},
		{`uxpin_access_envelope_handling_seconds_count{type="interactive"}`, func(v float64) bool { return v >= 2 }},
		{`uxpin_access_database_up`, func(v float64) bool { return v == 1 }},
	}
	for _, c := range checks {
		if v := h.metric(c.name); !c.ok(v) {
			t.Errorf("%s = %v", c.name, v)
		}
	}
	if _, body := h.get("/metrics", ""); strings.Contains(body, testBotToken) || strings.Contains(body, "bob@example.com") {
		t.Errorf("/metrics leaks a token or an email")
	}
}

func TestBackupRestoresIntoAWorkingBot(t *testing.T) {
	h := newHarness(t, opsEnv())
	id := grantDone(h, uBob, "editor")
	h.outboxEmpty()
	code, backup := h.get("/backup", adminToken)
	if code != 200 {
		t.Fatalf("/backup = %d", code)
	}
	code, audit := h.get("/audit.csv", adminToken)
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(audit, "\ufeff"))).ReadAll()
	if code != 200 || err != nil || len(rows) < 4 {
		t.Fatalf("/audit.csv = %d, %d rows, %v", code, len(rows), err)
	}

	// Restore: the file becomes a new bot's database.
	restored := filepath.Join(t.TempDir(), "restored.db")
	if err := os.WriteFile(restored, []byte(backup), 0o600); err != nil {
		t.Fatal(err)
	}
	h2 := newHarness(t, map[string]string{"UXPIN_DB_PATH": restored})
	if got := h2.slashReply(uCarol, "roster"); !containsAll(got, "bob@example.com", "Editor", id) {
		t.Errorf("roster on the restored database = %q", got)
	}
}

// TestLogLinesCarryTheRequestID runs a lifecycle with JSON logs at debug
// level: every line that is about a request names it in the "request" field,
// and no line carries a message body or a token.
func TestLogLinesCarryTheRequestID(t *testing.T) {
	h := newHarness(t, map[string]string{"UXPIN_LOG_FORMAT": "json"})
	id := grantDone(h, uBob, "editor")
	h.outboxEmpty()
	about := 0
	for _, line := range strings.Split(strings.TrimSpace(h.logs.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		if !strings.Contains(line, id) {
			continue
		}
		about++
		if rec["request"] != id {
			t.Errorf("log line mentions %s without a request field: %s", id, line)
		}
		if strings.Contains(line, "Needs it for the design system") {
			t.Errorf("log line carries the justification: %s", line)
		}
	}
	if about == 0 {
		t.Errorf("no log line about %s", id)
	}
}
