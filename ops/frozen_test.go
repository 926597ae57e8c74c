package ops_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uxpin-access-bot/uxpin-access-bot/access"
	"github.com/uxpin-access-bot/uxpin-access-bot/ops"
	"github.com/uxpin-access-bot/uxpin-access-bot/storage"
)

type alwaysConnected struct{}

func (alwaysConnected) Connected() bool { return true }

func get(t *testing.T, srv *httptest.Server, path string) (int, string) {
	t.Helper()
	resp, err := http.Get(srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// TestReadyzShowsFailingWrites injects commit failures: /readyz answers 503
// naming them, the write error counter moves, and the next commit that
// succeeds makes the bot ready again.
func TestReadyzShowsFailingWrites(t *testing.T) {
	var failing atomic.Bool
	diskFull := errors.New("no space left on device")
	db, err := storage.Open(filepath.Join(t.TempDir(), "ops.db"), storage.Options{FailCommits: func() error {
		if failing.Load() {
			return diskFull
		}
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	metrics := ops.NewMetrics(db, nil)
	srv := httptest.NewServer(ops.NewServer(db, alwaysConnected{}, metrics, "", slog.New(slog.DiscardHandler)))
	t.Cleanup(srv.Close)

	if code, body := get(t, srv, "/readyz"); code != http.StatusOK {
		t.Fatalf("/readyz = %d %q; want 200", code, body)
	}
	failing.Store(true)
	seed := func() error {
		_, err := db.CreateRequest(context.Background(), func(_ access.Tx, r *access.Request) (access.Effects, error) {
			r.Action, r.Requester, r.Target, r.State = access.ActionGrant, "U1", "U2", access.StatePending
			return access.Effects{}, nil
		})
		return err
	}
	if err := seed(); !errors.Is(err, diskFull) {
		t.Fatalf("CreateRequest with failing commits = %v; want %v", err, diskFull)
	}
	code, body := get(t, srv, "/readyz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "database writes failing: ") || !strings.Contains(body, diskFull.Error()) {
		t.Errorf("/readyz while writes fail = %d %q; want 503 database writes failing: …", code, body)
	}
	if _, m := get(t, srv, "/metrics"); !strings.Contains(m, "uxpin_access_database_write_errors_total 1") {
		t.Errorf("metrics lack uxpin_access_database_write_errors_total 1")
	}
	failing.Store(false)
	if err := seed(); err != nil {
		t.Fatal(err)
	}
	if code, body := get(t, srv, "/readyz"); code != http.StatusOK {
		t.Errorf("/readyz after a good commit = %d %q; want 200", code, body)
	}
}

// stall is a writer that blocks on its first write until released.
type stall struct {
	started chan struct{}
	release chan struct{}
	once    atomic.Bool
}

func (s *stall) Write(p []byte) (int, error) {
	if s.once.CompareAndSwap(false, true) {
		close(s.started)
	}
	<-s.release
	return len(p), nil
}

// TestStalledDownloadsHoldNoTransaction stalls a backup's and an export's
// reader: neither holds a read transaction meanwhile, so commits that grow
// the file go on.
func TestStalledDownloadsHoldNoTransaction(t *testing.T) {
	db, _ := openDB(t)
	seed(t, db, 50)
	for name, download := range map[string]func(context.Context, io.Writer) error{
		"backup": func(ctx context.Context, w io.Writer) error { _, err := db.Backup(ctx, w); return err },
		"export": func(ctx context.Context, w io.Writer) error {
			return ops.Export(ctx, db, w, ops.FormatJSONL, ops.Range{})
		},
	} {
		s := &stall{started: make(chan struct{}), release: make(chan struct{})}
		done := make(chan error, 1)
		go func() { done <- download(context.Background(), s) }()
		<-s.started
		if n := db.OpenReads(); n != 0 {
			t.Errorf("%s: %d read transactions open while the reader stalls; want 0", name, n)
		}
		// Commits that need a bigger file still go through.
		seed(t, db, 200, strings.Repeat("x", 4000))
		close(s.release)
		if err := <-done; err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestOpenReadOnly leaves the file exactly as it was.
func TestOpenReadOnly(t *testing.T) {
	db, path := openDB(t)
	seed(t, db, 3)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ro, err := storage.Open(path, storage.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	if err := ops.Export(context.Background(), ro, &sb, ops.FormatCSV, ops.Range{}); err != nil {
		t.Fatal(err)
	}
	if _, err := ro.Backup(context.Background(), io.Discard); err != nil {
		t.Fatal(err)
	}
	_, werr := ro.CreateRequest(context.Background(), func(_ access.Tx, r *access.Request) (access.Effects, error) {
		r.Action, r.Requester, r.Target, r.State = access.ActionGrant, "U1", "U2", access.StatePending
		return access.Effects{}, nil
	})
	if werr == nil {
		t.Errorf("a write to a read-only database succeeded")
	}
	if err := ro.Close(); err != nil {
		t.Fatal(err)
	}
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(before) != string(after) {
		t.Errorf("opening read-only changed the file")
	}
	if _, err := storage.Open(filepath.Join(t.TempDir(), "missing.db"), storage.Options{ReadOnly: true}); err == nil {
		t.Errorf("a missing file opened read-only; want an error")
	}
}

// TestCallLabelsAreBounded: a downloaded file's name never becomes a label
// value; Slack methods keep theirs.
func TestCallLabelsAreBounded(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	t.Cleanup(srv.Close)
	db, _ := openDB(t)
	metrics := ops.NewMetrics(db, nil)
	client := &http.Client{Transport: metrics.Transport(nil)}
	for _, path := range []string{"/api/chat.postMessage", "/files-pri/T1-F1/download/team.members.csv", "/files-pri/T1-F2/download/Report.Final"} {
		resp, err := client.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	metricsSrv := httptest.NewServer(metrics.Handler())
	t.Cleanup(metricsSrv.Close)
	_, body := get(t, metricsSrv, "/metrics")
	for _, want := range []string{`method="chat.postMessage",outcome="ok"} 1`, `method="other",outcome="ok"} 2`} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(body, "csv") || strings.Contains(body, "Report") {
		t.Errorf("a file name became a label value")
	}
}

// stalledBackups is the database whose first backup download stalls on its
// first write, as behind a client that stopped reading, until released or
// until the request is gone.
type stalledBackups struct {
	*storage.DB
	started chan struct{} // closed when the first backup stalls
	release chan struct{} // close to let it go on
	once    atomic.Bool
}

func (s *stalledBackups) Backup(ctx context.Context, w io.Writer) (int64, error) {
	if !s.once.CompareAndSwap(false, true) {
		return s.DB.Backup(ctx, w)
	}
	return s.DB.Backup(ctx, &stalledWriter{ctx: ctx, w: w, s: s})
}

type stalledWriter struct {
	ctx     context.Context
	w       io.Writer
	s       *stalledBackups
	stalled bool
}

func (sw *stalledWriter) Write(p []byte) (int, error) {
	if !sw.stalled {
		sw.stalled = true
		close(sw.s.started)
		select {
		case <-sw.s.release:
		case <-sw.ctx.Done():
			return 0, sw.ctx.Err()
		}
	}
	return sw.w.Write(p)
}

const opsToken = "s3cret-admin-token-123"

func getBackup(ctx context.Context, srv *httptest.Server) (*http.Response, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/backup", nil)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+opsToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp, body, err
}

// waitForBackup polls /backup until a download succeeds, for at most 10 s,
// and checks that what it got is the database.
func waitForBackup(t *testing.T, srv *httptest.Server) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		resp, body, err := getBackup(context.Background(), srv)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode == http.StatusOK {
			path := filepath.Join(t.TempDir(), "copy.db")
			if err := os.WriteFile(path, body, 0o600); err != nil {
				t.Fatal(err)
			}
			copyDB, err := storage.Open(path, storage.Options{ReadOnly: true})
			if err != nil {
				t.Fatalf("the backup does not open: %v", err)
			}
			copyDB.Close()
			return
		}
		if resp.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("/backup = %d %.200q; want 200, or 429 while the slot is held", resp.StatusCode, body)
		}
		if time.Now().After(deadline) {
			t.Fatalf("/backup still answers 429 10 s after the first download ended")
		}
		<-tick.C
	}
}

// TestOneBackupAtATime stalls a backup download: a second one meanwhile is
// refused with 429 and Retry-After, since each download copies the
// database to a temporary file first. Once the first download ends,
// normally or because its client went away, the next one succeeds.
func TestOneBackupAtATime(t *testing.T) {
	for _, end := range []string{"finishes", "client goes away"} {
		t.Run(end, func(t *testing.T) {
			db, _ := openDB(t)
			seed(t, db, 20)
			stalled := &stalledBackups{DB: db, started: make(chan struct{}), release: make(chan struct{})}
			srv := httptest.NewServer(ops.NewServer(stalled, alwaysConnected{}, ops.NewMetrics(db, nil), opsToken, slog.New(slog.DiscardHandler)))
			t.Cleanup(srv.Close)

			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			type result struct {
				code int
				err  error
			}
			first := make(chan result, 1)
			go func() {
				resp, _, err := getBackup(ctx, srv)
				if err != nil {
					first <- result{err: err}
					return
				}
				first <- result{code: resp.StatusCode}
			}()
			select {
			case <-stalled.started:
			case <-time.After(10 * time.Second):
				t.Fatal("the first backup never started")
			}

			resp, body, err := getBackup(context.Background(), srv)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(string(body), "another backup download is in progress") {
				t.Errorf("second /backup = %d %.200q; want 429 saying another download is in progress", resp.StatusCode, body)
			}
			if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || s <= 0 {
				t.Errorf("Retry-After = %q; want a number of seconds", resp.Header.Get("Retry-After"))
			}

			if end == "finishes" {
				close(stalled.release)
				if r := <-first; r.err != nil || r.code != http.StatusOK {
					t.Fatalf("first /backup = %d, %v; want 200", r.code, r.err)
				}
			} else {
				cancel()
				if r := <-first; r.err == nil {
					t.Fatalf("first /backup = %d after its client went away; want an error", r.code)
				}
			}
			waitForBackup(t, srv)
		})
	}
}
