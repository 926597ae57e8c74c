package ops

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Database is what the listener needs of the store.
type Database interface {
	EventSource
	Ping(ctx context.Context) error
	Backup(ctx context.Context, w io.Writer) (int64, error)
	// WriteErr is the error of the last failed commit while no commit has
	// succeeded since, else nil.
	WriteErr() error
}

// Readiness reports whether Socket Mode is connected.
type Readiness interface {
	Connected() bool
}

// Server is the operations listener: /healthz, /readyz and /metrics are
// open; /audit.csv, /audit.jsonl and /backup expose personal data and need
// the admin bearer token.
type Server struct {
	db         Database
	ready      Readiness
	metrics    *Metrics
	adminToken string
	log        *slog.Logger
	now        func() time.Time
	mux        *http.ServeMux
	// backupSlot holds a value while a backup download runs. Each download
	// first copies the database to a temporary file, so one at a time keeps
	// slow or stalled clients from filling the disk with copies.
	backupSlot chan struct{}
}

// NewServer returns the operations listener's handler set. An empty
// adminToken keeps the export and backup endpoints closed.
func NewServer(db Database, ready Readiness, metrics *Metrics, adminToken string, log *slog.Logger) *Server {
	s := &Server{db: db, ready: ready, metrics: metrics, adminToken: adminToken, log: log, now: time.Now, mux: http.NewServeMux(),
		backupSlot: make(chan struct{}, 1)}
	s.mux.HandleFunc("GET /healthz", s.healthz)
	s.mux.HandleFunc("GET /readyz", s.readyz)
	s.mux.Handle("GET /metrics", metrics.Handler())
	s.mux.HandleFunc("GET /audit.csv", s.admin(s.audit(FormatCSV)))
	s.mux.HandleFunc("GET /audit.jsonl", s.admin(s.audit(FormatJSONL)))
	s.mux.HandleFunc("GET /backup", s.admin(s.backup))
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Serve listens on addr until ctx is cancelled. ready receives the bound
// address once listening (useful with port 0).
func (s *Server) Serve(ctx context.Context, addr string, ready func(net.Addr)) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("UXPIN_HTTP_ADDR: %w", err)
	}
	// A client that stops reading must not hold a connection (or, before
	// backups were copied first, a database transaction) for ever: every
	// response must be written within WriteTimeout, except downloads,
	// which extend their deadline as long as the client keeps reading.
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: writeTimeout, IdleTimeout: 2 * time.Minute}
	if ready != nil {
		ready(ln.Addr())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}
}

func text(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	fmt.Fprintln(w, msg)
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) { text(w, http.StatusOK, "ok") }

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if !s.ready.Connected() {
		text(w, http.StatusServiceUnavailable, "not ready: Slack Socket Mode is not connected")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.db.Ping(ctx); err != nil {
		text(w, http.StatusServiceUnavailable, "not ready: database does not answer")
		return
	}
	if err := s.db.WriteErr(); err != nil {
		text(w, http.StatusServiceUnavailable, "not ready: database writes failing: "+err.Error())
		return
	}
	text(w, http.StatusOK, "ready")
}

// admin guards handlers that expose personal data with the admin token,
// compared in constant time.
func (s *Server) admin(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.adminToken == "" {
			text(w, http.StatusForbidden, "forbidden: set UXPIN_ADMIN_TOKEN to enable this endpoint")
			return
		}
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(s.adminToken)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="uxpin-access-bot"`)
			s.log.Warn("ops: refused an unauthenticated request", "path", r.URL.Path, "remote", r.RemoteAddr)
			text(w, http.StatusUnauthorized, "unauthorized: send Authorization: Bearer <UXPIN_ADMIN_TOKEN>")
			return
		}
		next(w, r)
	}
}

func (s *Server) audit(format string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var rng Range
		var err error
		q := r.URL.Query()
		if rng.Since, err = ParseTime(q.Get("since")); err == nil {
			rng.Until, err = ParseTime(q.Get("until"))
		}
		if err != nil {
			text(w, http.StatusBadRequest, "bad request: since/until: "+err.Error())
			return
		}
		name := "uxpin-access-audit-" + s.now().UTC().Format("20060102T150405Z") + "." + format
		if format == FormatCSV {
			w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		} else {
			w.Header().Set("Content-Type", "application/x-ndjson; charset=utf-8")
		}
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
		w.Header().Set("Cache-Control", "no-store")
		if err := Export(r.Context(), s.db, &deadlineWriter{w: w, rc: http.NewResponseController(w)}, format, rng); err != nil {
			// Headers are gone; the client sees a truncated body.
			s.log.Error("ops: audit export failed", "err", err)
		}
	}
}

// backupRetryAfter is what a refused backup download is told to wait: a
// stalled download is cut off writeTimeout after its last write.
const backupRetryAfter = writeTimeout

// backup streams a copy of the database, one download at a time; another
// request meanwhile gets 429 Too Many Requests with Retry-After.
func (s *Server) backup(w http.ResponseWriter, r *http.Request) {
	select {
	case s.backupSlot <- struct{}{}:
		// Released however the download ends: done, failed, or its client
		// gone or cut off by the write deadline.
		defer func() { <-s.backupSlot }()
	default:
		s.log.Warn("ops: refused a backup while another is downloading", "remote", r.RemoteAddr)
		w.Header().Set("Retry-After", strconv.Itoa(int(backupRetryAfter/time.Second)))
		text(w, http.StatusTooManyRequests, "too many requests: another backup download is in progress; retry when it has finished")
		return
	}
	name := "uxpin-access-" + s.now().UTC().Format("20060102T150405Z") + ".db"
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Header().Set("Cache-Control", "no-store")
	n, err := s.db.Backup(r.Context(), &deadlineWriter{w: w, rc: http.NewResponseController(w)})
	if err != nil {
		s.log.Error("ops: backup failed", "err", err)
		return
	}
	s.log.Info("ops: backup streamed", "bytes", n)
}

// writeTimeout bounds writing one response, or one chunk of a download.
const writeTimeout = 30 * time.Second

// deadlineWriter gives each write of a download writeTimeout from now, so a
// large backup can take as long as it needs while a stalled client is cut
// off after writeTimeout.
type deadlineWriter struct {
	w  io.Writer
	rc *http.ResponseController
}

func (d *deadlineWriter) Write(p []byte) (int, error) {
	_ = d.rc.SetWriteDeadline(time.Now().Add(writeTimeout))
	return d.w.Write(p)
}
