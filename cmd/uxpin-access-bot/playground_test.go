package main

import (
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestProcessPlayground runs `uxpin-access-bot playground` as the README's
// first command does, with no variables at all, loads its page, and stops
// it with SIGTERM.
func TestProcessPlayground(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "data", "playground.db")
	// As in the container: UXPIN_HTTP_ADDR serves /healthz for the health check.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	opsAddr := l.Addr().String()
	l.Close()
	p := startProc(t, map[string]string{"UXPIN_HTTP_ADDR": opsAddr}, "playground", "--addr", "127.0.0.1:0", "--db", db, "--reset")
	urlRe := regexp.MustCompile(`open (http://127\.0\.0\.1:\d+/)`)
	var url string
	deadline := time.Now().Add(30 * time.Second)
	for url == "" {
		if m := urlRe.FindStringSubmatch(p.stderr.String()); m != nil {
			url = m[1]
			break
		}
		select {
		case <-p.done:
			t.Fatalf("the playground exited early:\n%s", p.stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no URL printed:\n%s", p.stderr.String())
		}
	}
	for path, want := range map[string]string{"": "UXPin access bot", "app.js": "EventSource", "api/state": `"U0PRIYA01"`, "api/team.csv": "Name,Email,Role"} {
		resp, err := http.Get(url + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
			t.Errorf("GET /%s = %d, %.200q; want 200 with %q", path, resp.StatusCode, body, want)
		}
	}
	if code := runHealthcheck([]string{opsAddr}, lookupMap(nil), io.Discard, io.Discard); code != 0 {
		t.Errorf("healthcheck %s = %d; want 0", opsAddr, code)
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := p.wait(t); code != 0 || !strings.Contains(p.stderr.String(), "playground stopped") {
		t.Errorf("exit code %d; output:\n%s", code, p.stderr.String())
	}
	if fi, err := os.Stat(db); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("database: %v, %v; want a 0600 file", fi, err)
	}
}
