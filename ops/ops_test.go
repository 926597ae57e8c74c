package ops_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uxpin-access-bot/uxpin-access-bot/access"
	"github.com/uxpin-access-bot/uxpin-access-bot/ops"
	"github.com/uxpin-access-bot/uxpin-access-bot/storage"
)

var t0 = time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)

func openDB(t *testing.T) (*storage.DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ops.db")
	db, err := storage.Open(path, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, path
}

// seed stores n requests, each with one audit event a day apart starting at
// t0; event i's detail is details[i%len(details)].
func seed(t *testing.T, db *storage.DB, n int, details ...string) {
	t.Helper()
	if len(details) == 0 {
		details = []string{"submitted"}
	}
	for i := range n {
		_, err := db.CreateRequest(context.Background(), func(_ access.Tx, r *access.Request) (access.Effects, error) {
			r.Action, r.Requester, r.Target, r.State = access.ActionGrant, "U1", fmt.Sprintf("U%03d", i), access.StatePending
			r.TargetEmail, r.Role = fmt.Sprintf("p%d@example.com", i), access.RoleEditor
			return access.Effects{Events: []access.Event{{
				Time: t0.Add(time.Duration(i) * 24 * time.Hour), Action: r.Action, Actor: "U1",
				TargetEmail: r.TargetEmail, Role: r.Role, To: access.StatePending, Detail: details[i%len(details)],
			}}}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestExportCSV(t *testing.T) {
	db, _ := openDB(t)
	seed(t, db, 5, "=HYPERLINK(\"http://evil\")", "plain, with \"quotes\"", "+1", "@SUM(A1)", "ünïcödé ✓")
	var buf bytes.Buffer
	if err := ops.Export(context.Background(), db, &buf, ops.FormatCSV, ops.Range{}); err != nil {
		t.Fatal(err)
	}
	body, ok := strings.CutPrefix(buf.String(), "\ufeff")
	if !ok {
		t.Errorf("CSV does not start with a UTF-8 BOM")
	}
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatalf("CSV does not parse: %v", err)
	}
	if len(rows) != 6 || strings.Join(rows[0], ",") != strings.Join(ops.Columns, ",") {
		t.Fatalf("rows = %d, header %v; want 6 with %v", len(rows), rows[0], ops.Columns)
	}
	wantDetails := []string{`'=HYPERLINK("http://evil")`, `plain, with "quotes"`, "'+1", "'@SUM(A1)", "ünïcödé ✓"}
	for i, want := range wantDetails {
		if got := rows[i+1][8]; got != want {
			t.Errorf("row %d detail = %q; want %q", i+1, got, want)
		}
		if got := rows[i+1][1]; got != fmt.Sprintf("R-%d", i+1) {
			t.Errorf("row %d request = %q", i+1, got)
		}
	}
}

func TestExportJSONLAndRange(t *testing.T) {
	db, _ := openDB(t)
	seed(t, db, 10)
	tests := []struct {
		since, until string
		want         int
	}{
		{"", "", 10},
		{"2026-11-05", "", 6},
		{"", "2026-11-03", 2},
		{"2026-11-02T10:00:00Z", "2026-11-04", 2},
	}
	for _, tt := range tests {
		since, _ := ops.ParseTime(tt.since)
		until, _ := ops.ParseTime(tt.until)
		var buf bytes.Buffer
		if err := ops.Export(context.Background(), db, &buf, ops.FormatJSONL, ops.Range{Since: since, Until: until}); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
		if buf.Len() == 0 {
			lines = nil
		}
		if len(lines) != tt.want {
			t.Errorf("Export(since %q, until %q) = %d lines; want %d", tt.since, tt.until, len(lines), tt.want)
		}
		for _, l := range lines {
			var m map[string]string
			if err := json.Unmarshal([]byte(l), &m); err != nil || m["request_id"] == "" || m["time"] == "" {
				t.Errorf("line %q does not parse into the export columns: %v", l, err)
			}
		}
	}
	if err := ops.Export(context.Background(), db, io.Discard, "xlsx", ops.Range{}); err == nil {
		t.Errorf("Export(xlsx) succeeded")
	}
}

type readiness struct{ up atomic.Bool }

func (r *readiness) Connected() bool { return r.up.Load() }

func TestEndpoints(t *testing.T) {
	db, _ := openDB(t)
	seed(t, db, 3)
	ready := &readiness{}
	m := ops.NewMetrics(db, nil)
	srv := httptest.NewServer(ops.NewServer(db, ready, m, "s3cret-admin-token-123", slog.New(slog.NewTextHandler(io.Discard, nil))))
	defer srv.Close()
	closed := httptest.NewServer(ops.NewServer(db, ready, m, "", slog.New(slog.NewTextHandler(io.Discard, nil))))
	defer closed.Close()

	get := func(base, path, token string) (int, string, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", base+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
	}
	tests := []struct {
		base, path, token string
		code              int
		ctype, body       string
	}{
		{srv.URL, "/healthz", "", 200, "text/plain", "ok"},
		{srv.URL, "/readyz", "", 503, "text/plain", "Socket Mode is not connected"},
		{srv.URL, "/metrics", "", 200, "text/plain", `uxpin_access_requests{state="pending"} 3`},
		{srv.URL, "/audit.csv", "", 401, "text/plain", "unauthorized"},
		{srv.URL, "/audit.csv", "wrong-token-wrong-token", 401, "text/plain", "unauthorized"},
		{srv.URL, "/audit.csv", "s3cret-admin-token-123", 200, "text/csv", "R-3"},
		{srv.URL, "/audit.jsonl?since=2026-11-02", "s3cret-admin-token-123", 200, "application/x-ndjson", `"request_id":"R-2"`},
		{srv.URL, "/audit.jsonl?since=yesterday", "s3cret-admin-token-123", 400, "text/plain", "since/until"},
		{srv.URL, "/backup", "", 401, "text/plain", "unauthorized"},
		{srv.URL, "/backup", "s3cret-admin-token-123", 200, "application/octet-stream", ""},
		{closed.URL, "/audit.csv", "s3cret-admin-token-123", 403, "text/plain", "UXPIN_ADMIN_TOKEN"},
		{closed.URL, "/backup", "anything", 403, "text/plain", "UXPIN_ADMIN_TOKEN"},
		{closed.URL, "/healthz", "", 200, "text/plain", "ok"},
	}
	for _, tt := range tests {
		code, ctype, body := get(tt.base, tt.path, tt.token)
		if code != tt.code || !strings.HasPrefix(ctype, tt.ctype) || !strings.Contains(body, tt.body) {
			t.Errorf("GET %s (token %q) = %d %q %.80q; want %d %q containing %q", tt.path, tt.token, code, ctype, body, tt.code, tt.ctype, tt.body)
		}
	}
	ready.up.Store(true)
	if code, _, body := get(srv.URL, "/readyz", ""); code != 200 {
		t.Errorf("GET /readyz when connected = %d %q; want 200", code, body)
	}
	db.Close()
	if code, _, body := get(srv.URL, "/readyz", ""); code != 503 || !strings.Contains(body, "database") {
		t.Errorf("GET /readyz with the database closed = %d %q; want 503 naming the database", code, body)
	}
}

// TestBackupWhileWriting takes a backup over HTTP while writers keep
// committing, and checks the copy opens and holds everything committed
// before the backup began.
func TestBackupWhileWriting(t *testing.T) {
	db, _ := openDB(t)
	seed(t, db, 50)
	srv := httptest.NewServer(ops.NewServer(db, &readiness{}, ops.NewMetrics(db, nil), "s3cret-admin-token-123", slog.New(slog.NewTextHandler(io.Discard, nil))))
	defer srv.Close()

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var writeErr atomic.Value
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			_, err := db.CreateRequest(context.Background(), func(_ access.Tx, r *access.Request) (access.Effects, error) {
				r.Action, r.Requester, r.Target, r.State = access.ActionRemove, "U1", "U2", access.StatePending
				return access.Effects{}, nil
			})
			if err != nil {
				writeErr.Store(err)
				return
			}
		}
	})
	before, err := db.CountByState(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", srv.URL+"/backup", nil)
	req.Header.Set("Authorization", "Bearer s3cret-admin-token-123")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	copyPath := filepath.Join(t.TempDir(), "copy.db")
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	close(stop)
	wg.Wait()
	if e := writeErr.Load(); e != nil {
		t.Fatalf("concurrent writer: %v", e)
	}
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("backup: %d %v", resp.StatusCode, err)
	}
	if err := os.WriteFile(copyPath, data, 0o600); err != nil {
		t.Fatal(err)
	}
	cp, err := storage.Open(copyPath, storage.Options{})
	if err != nil {
		t.Fatalf("the backup does not open: %v", err)
	}
	defer cp.Close()
	after, err := cp.CountByState(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if after[access.StatePending] < before[access.StatePending] {
		t.Errorf("backup holds %d pending requests; %d were committed before it began", after[access.StatePending], before[access.StatePending])
	}
	for i := 1; i <= before[access.StatePending]; i++ {
		if _, err := cp.Request(context.Background(), access.FormatID(uint64(i))); err != nil {
			t.Fatalf("backup lacks %s: %v", access.FormatID(uint64(i)), err)
		}
	}
}
