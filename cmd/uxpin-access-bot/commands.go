package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/uxpin-access-bot/uxpin-access-bot/ops"
	"github.com/uxpin-access-bot/uxpin-access-bot/storage"
)

// subcommands are the maintenance commands; they need no Slack tokens.
var subcommands = map[string]func(args []string, lookup func(string) (string, bool), stdout, stderr io.Writer) int{
	"export":      runExport,
	"backup":      runBackup,
	"healthcheck": runHealthcheck,
	"playground":  runPlayground,
}

func dbPathFrom(lookup func(string) (string, bool)) string {
	if v, ok := lookup("UXPIN_DB_PATH"); ok && v != "" {
		return v
	}
	return "data/uxpin-access.db"
}

// openStopped opens the database of a stopped bot, read-only: exporting or
// backing up must not change the file. A running bot holds the lock, and
// the HTTP endpoints are the way to export from it.
func openStopped(path string) (*storage.DB, error) {
	db, err := storage.Open(path, storage.Options{LockTimeout: time.Second, ReadOnly: true})
	if errors.Is(err, storage.ErrInUse) {
		return nil, fmt.Errorf("%s is in use by a running bot: stop it, or use GET /audit.csv, /audit.jsonl or /backup on its HTTP listener", path)
	}
	return db, err
}

func runExport(args []string, lookup func(string) (string, bool), stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	format := fs.String("format", "csv", "csv or jsonl")
	since := fs.String("since", "", "only events at or after this date (2026-01-31) or RFC 3339 time")
	until := fs.String("until", "", "only events before this date or time")
	out := fs.String("out", "-", "file to write, - for standard output")
	dbPath := fs.String("db", dbPathFrom(lookup), "database file (default from UXPIN_DB_PATH)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	f, err := ops.ParseFormat(*format)
	if err != nil {
		fmt.Fprintln(stderr, "export: --format:", err)
		return 2
	}
	var rng ops.Range
	if rng.Since, err = ops.ParseTime(*since); err == nil {
		rng.Until, err = ops.ParseTime(*until)
	}
	if err != nil {
		fmt.Fprintln(stderr, "export:", err)
		return 2
	}
	db, err := openStopped(*dbPath)
	if err != nil {
		fmt.Fprintln(stderr, "export:", err)
		return 1
	}
	defer db.Close()
	w, done, err := output(*out, stdout)
	if err != nil {
		fmt.Fprintln(stderr, "export:", err)
		return 1
	}
	if err := ops.Export(context.Background(), db, w, f, rng); err != nil {
		fmt.Fprintln(stderr, "export:", err)
		return 1
	}
	if err := done(); err != nil {
		fmt.Fprintln(stderr, "export:", err)
		return 1
	}
	return 0
}

func runBackup(args []string, lookup func(string) (string, bool), stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "file to write the copy to (required)")
	dbPath := fs.String("db", dbPathFrom(lookup), "database file (default from UXPIN_DB_PATH)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *out == "" {
		fmt.Fprintln(stderr, "backup: --out FILE is required")
		return 2
	}
	db, err := openStopped(*dbPath)
	if err != nil {
		fmt.Fprintln(stderr, "backup:", err)
		return 1
	}
	defer db.Close()
	w, done, err := output(*out, stdout)
	if err != nil {
		fmt.Fprintln(stderr, "backup:", err)
		return 1
	}
	n, err := db.Backup(context.Background(), w)
	if err == nil {
		err = done()
	}
	if err != nil {
		fmt.Fprintln(stderr, "backup:", err)
		return 1
	}
	fmt.Fprintf(stderr, "backup: wrote %d bytes to %s\n", n, *out)
	return 0
}

// output opens path for writing (0600, via a temporary file renamed on
// success so a failed run leaves no half file), or stdout for "-".
func output(path string, stdout io.Writer) (io.Writer, func() error, error) {
	if path == "-" {
		return stdout, func() error { return nil }, nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".uxpin-access-*")
	if err != nil {
		return nil, nil, err
	}
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return nil, nil, err
	}
	return tmp, func() error {
		if err := tmp.Sync(); err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
			return err
		}
		if err := tmp.Close(); err != nil {
			os.Remove(tmp.Name())
			return err
		}
		return os.Rename(tmp.Name(), path)
	}, nil
}

// runHealthcheck exits 0 when the bot's /healthz answers, for Docker's
// HEALTHCHECK (the distroless image has no curl).
func runHealthcheck(args []string, lookup func(string) (string, bool), stdout, stderr io.Writer) int {
	addr, ok := lookup("UXPIN_HTTP_ADDR")
	if !ok {
		addr = "127.0.0.1:8080"
	}
	if len(args) > 0 {
		addr = args[0]
	}
	if addr == "" {
		fmt.Fprintln(stderr, "healthcheck: UXPIN_HTTP_ADDR is empty, so there is no listener to check")
		return 1
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		fmt.Fprintln(stderr, "healthcheck:", err)
		return 1
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	c := &http.Client{Timeout: 3 * time.Second}
	resp, err := c.Get("http://" + net.JoinHostPort(host, port) + "/healthz")
	if err != nil {
		fmt.Fprintln(stderr, "healthcheck:", err)
		return 1
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintln(stderr, "healthcheck: /healthz answered", resp.Status)
		return 1
	}
	fmt.Fprintln(stdout, "ok")
	return 0
}
