// Package storage keeps uxpin-access-bot's state in one bbolt file: requests
// and their indexes, the ledger, the append-only audit log and the outbox of
// Slack messages owed. It implements access.Store.
//
// Every write is one bbolt read-write transaction, so a request, its audit
// events, its ledger change and the notices it causes commit together or not
// at all, and concurrent writers are serialised.
package storage

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/uxpin-access-bot/uxpin-access-bot/access"
)

// SchemaVersion is the layout version this package writes. Open refuses a
// database whose stored version is newer.
const SchemaVersion = 1

// DefaultLockTimeout is how long Open waits for the file lock when
// Options.LockTimeout is zero.
const DefaultLockTimeout = time.Second

// ErrInUse means another process holds the database file open.
var ErrInUse = errors.New("database is in use by another process")

// ErrNewerSchema means the database was written by a newer version of the
// program, whose layout this one does not understand.
var ErrNewerSchema = errors.New("database was written by a newer version of uxpin-access-bot")

// Bucket names. Index buckets hold empty values unless noted.
var (
	bucketMeta        = []byte("meta")            // schemaVersion, state counters
	bucketRequests    = []byte("requests")        // u64(seq) → JSON access.Request
	bucketAudit       = []byte("audit")           // u64(seq) → JSON access.Event, append-only
	bucketOutbox      = []byte("outbox")          // u64(id) → JSON access.Notice
	bucketDeadLetters = []byte("dead_letters")    // u64(id) → JSON access.Notice
	bucketMessages    = []byte("messages")        // u64(seq) kind \x00 u64(id) → JSON access.MessageRef
	bucketLedger      = []byte("ledger")          // lower-case email → JSON access.Grant
	bucketByRequester = []byte("idx_requester")   // requester \x00 u64(seq)
	bucketPending     = []byte("idx_pending")     // u64(seq)
	bucketOpenTarget  = []byte("idx_open_target") // target \x00 action \x00 u64(seq), pending or approved
	bucketTasks       = []byte("idx_tasks")       // assignee \x00 u64(seq), approved with an assignee
	bucketLedgerUser  = []byte("idx_ledger_user") // Slack user ID → lower-case email
	bucketSchedule    = []byte("idx_schedule")    // u64(unix nanos) u64(seq) kind → nil, every armed timer
	bucketHomes       = []byte("home_viewers")    // Slack user ID → time the Home tab was first opened
	bucketIMs         = []byte("im_channels")     // Slack user ID → ID of the app's DM channel with them
	bucketAudits      = []byte("reconciliations") // u64(seq) → JSON access.Reconciliation
	bucketDrafts      = []byte("drafts")          // draft ID → JSON Draft, pasted parts of a seat audit
	bucketOutboxDue   = []byte("idx_outbox_due")  // u64(next attempt, unix nanos; 0 = now) u64(id) → nil
	bucketReviews     = []byte("reviews")         // u64(seq) → JSON access.Review

	allBuckets = [][]byte{
		bucketMeta, bucketRequests, bucketAudit, bucketOutbox, bucketDeadLetters,
		bucketMessages, bucketLedger, bucketByRequester, bucketPending,
		bucketOpenTarget, bucketTasks, bucketLedgerUser, bucketSchedule, bucketHomes, bucketIMs,
		bucketAudits, bucketDrafts, bucketOutboxDue, bucketReviews,
	}

	keySchemaVersion = []byte("schema_version")
	keySeatsCounted  = []byte("seats_counted")       // set once the seat counters below exist
	keySeatPrefix    = "seats:"                      // + role → u64 ledger entries with that role
	keyLastAudit     = []byte("last_reconciliation") // u64 seq of the latest reconciliation
	keyCountPrefix   = "count:"                      // + state → u64 number of requests in that state
	keyLastReview    = []byte("last_review")         // u64 seq of the latest access review
	keyNextReview    = []byte("next_review_at")      // u64 unix nanos: when the schedule starts the next review
)

// Options configure Open.
type Options struct {
	// LockTimeout bounds the wait for the file lock; zero means
	// DefaultLockTimeout.
	LockTimeout time.Duration
	// Now is the clock used for timestamps the store fills in; nil means
	// time.Now.
	Now func() time.Time
	// ReadOnly opens the file for reading only (a shared lock, no write
	// ever), for exports and backups of a stopped bot.
	ReadOnly bool
	// FailCommits, if set, is asked before each commit; an error it returns
	// fails the write as a full disk would. For fault-injection tests.
	FailCommits func() error
}

// DB is an open database. Its methods are safe for concurrent use.
type DB struct {
	bolt     *bolt.DB
	now      func() time.Time
	wake     chan struct{}
	commits  atomic.Uint64
	lastTx   *bolt.Tx // the last write transaction seen by count
	failing  func() error
	readOnly bool

	// writeErr is the error of the last failed commit, cleared by the
	// next one that succeeds; writeErrs counts failed commits.
	writeErr  atomic.Pointer[error]
	writeErrs atomic.Uint64

	// The roster is read far more often than the ledger changes: it is
	// cached, keyed by a generation that every ledger commit moves on.
	ledgerGen atomic.Uint64
	rosterMu  sync.Mutex
	roster    []access.Grant
	rosterGen uint64
}

// Open opens the database at path, creating the file (mode 0600) and its
// parent directory (mode 0700) if needed, and prepares its buckets. If another
// process holds the file, Open fails after opts.LockTimeout with an error
// wrapping ErrInUse; if the file was written by a newer schema, with one
// wrapping ErrNewerSchema.
func Open(path string, opts Options) (*DB, error) {
	if path == "" {
		return nil, errors.New("open database: empty path")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	timeout := opts.LockTimeout
	if timeout <= 0 {
		timeout = DefaultLockTimeout
	}
	b, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: timeout, ReadOnly: opts.ReadOnly})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("open database %s: no lock after %s: %w", path, timeout, ErrInUse)
	} else if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	// Concurrent writers share one commit (and fsync) through Batch; keep
	// the wait for company short, since a view submission's ack waits on it.
	b.MaxBatchDelay = 2 * time.Millisecond
	db := &DB{bolt: b, now: opts.Now, wake: make(chan struct{}, 1), failing: opts.FailCommits, readOnly: opts.ReadOnly}
	db.ledgerGen.Store(1) // the cache starts empty, at generation 0
	if db.now == nil {
		db.now = time.Now
	}
	initialize := db.init
	if opts.ReadOnly {
		initialize = db.check
	}
	if err := initialize(); err != nil {
		b.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	return db, nil
}

// init creates the buckets and checks or writes the schema version.
func (db *DB) init() error {
	tx, err := db.bolt.Begin(true)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, name := range allBuckets {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	meta := tx.Bucket(bucketMeta)
	switch v := meta.Get(keySchemaVersion); {
	case v == nil:
		if err := meta.Put(keySchemaVersion, u64(SchemaVersion)); err != nil {
			return err
		}
	case len(v) != 8:
		return fmt.Errorf("malformed schema version %x", v)
	case binary.BigEndian.Uint64(v) > SchemaVersion:
		return fmt.Errorf("schema version %d, this program understands up to %d: %w",
			binary.BigEndian.Uint64(v), SchemaVersion, ErrNewerSchema)
	case binary.BigEndian.Uint64(v) < SchemaVersion:
		// No older schema has ever been released; migrations go here.
		return fmt.Errorf("unsupported schema version %d", binary.BigEndian.Uint64(v))
	}
	if err := indexOutbox(tx); err != nil {
		return fmt.Errorf("index outbox: %w", err)
	}
	if meta.Get(keySeatsCounted) == nil {
		if err := recountSeats(tx); err != nil {
			return fmt.Errorf("count seats: %w", err)
		}
	}
	return tx.Commit()
}

// check verifies, without writing, that a database opened read-only has a
// schema this program reads.
func (db *DB) check() error {
	return db.view(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if meta == nil {
			return errors.New("not a uxpin-access-bot database (no meta bucket)")
		}
		switch v := meta.Get(keySchemaVersion); {
		case len(v) != 8:
			return fmt.Errorf("malformed schema version %x", v)
		case binary.BigEndian.Uint64(v) != SchemaVersion:
			return fmt.Errorf("schema version %d, this program understands %d: %w",
				binary.BigEndian.Uint64(v), SchemaVersion, ErrNewerSchema)
		}
		return nil
	})
}

// WriteErr returns the error of the last failed commit if no commit has
// succeeded since, else nil: writes are failing (a full disk, say).
func (db *DB) WriteErr() error {
	if p := db.writeErr.Load(); p != nil {
		return *p
	}
	return nil
}

// WriteErrors returns how many commits failed since Open.
func (db *DB) WriteErrors() uint64 { return db.writeErrs.Load() }

// OpenReads returns how many read transactions are open now.
func (db *DB) OpenReads() int { return db.bolt.Stats().OpenTxN }

// committed records how a commit went.
func (db *DB) committed(err error) {
	if err == nil {
		if db.writeErr.Load() != nil {
			db.writeErr.Store(nil)
		}
		return
	}
	db.writeErrs.Add(1)
	db.writeErr.Store(&err)
}

// Close closes the database, waiting for open transactions to finish.
func (db *DB) Close() error {
	if err := db.bolt.Close(); err != nil {
		return fmt.Errorf("close database: %w", err)
	}
	return nil
}

// Ping runs a cheap read transaction, for readiness checks.
func (db *DB) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return db.view(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketMeta).Get(keySchemaVersion) == nil {
			return errors.New("ping database: schema version missing")
		}
		return nil
	})
}

// Backup writes a consistent copy of the database to w while the bot keeps
// running, and returns the number of bytes written. The copy is first made
// to a temporary file next to the database, so the read transaction lasts
// only as long as a local copy: a slow or stalled reader of w never holds
// it open (which would stall every commit that grows the file).
func (db *DB) Backup(ctx context.Context, w io.Writer) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if db.readOnly {
		// Nothing writes to a file opened read-only: stream it directly.
		var n int64
		err := db.view(func(tx *bolt.Tx) (err error) {
			n, err = tx.WriteTo(w)
			return err
		})
		if err != nil {
			return n, fmt.Errorf("backup database: %w", err)
		}
		return n, nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(db.bolt.Path()), ".backup-*.db")
	if err != nil {
		return 0, fmt.Errorf("backup database: %w", err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	if err := db.view(func(tx *bolt.Tx) error {
		_, err := tx.WriteTo(tmp)
		return err
	}); err != nil {
		return 0, fmt.Errorf("backup database: %w", err)
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return 0, fmt.Errorf("backup database: %w", err)
	}
	n, err := io.Copy(w, contextReader{ctx, tmp})
	if err != nil {
		return n, fmt.Errorf("backup database: %w", err)
	}
	return n, nil
}

// contextReader stops reading once ctx is done.
type contextReader struct {
	ctx context.Context
	r   io.Reader
}

func (c contextReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// Wake returns a channel that receives a value (without blocking the writer,
// so signals coalesce) after every commit that queued notices, so the
// delivery worker can wake at once.
func (db *DB) Wake() <-chan struct{} { return db.wake }

func (db *DB) signal() {
	select {
	case db.wake <- struct{}{}:
	default:
	}
}

// view runs fn in a read-only transaction.
func (db *DB) view(fn func(tx *bolt.Tx) error) error {
	tx, err := db.bolt.Begin(false)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	return fn(tx)
}

// update runs fn in one read-write transaction of its own and commits if fn
// succeeds.
func (db *DB) update(fn func(tx *bolt.Tx) error) error {
	tx, err := db.bolt.Begin(true)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	db.count(tx)
	if err := fn(tx); err != nil {
		return err
	}
	if db.failing != nil {
		if err := db.failing(); err != nil {
			db.committed(err)
			return fmt.Errorf("commit: %w", err)
		}
	}
	err = tx.Commit()
	db.committed(err)
	return err
}

// batch runs fn in a read-write transaction that concurrent callers share,
// so they pay one commit and fsync between them. bbolt may run fn more than
// once (when another function in the batch fails, the batch is retried
// without it), so fn must only read and write through tx and set results
// that a rerun overwrites. The lifecycle steps are written that way: they
// compute everything from the transaction's view.
func (db *DB) batch(fn func(tx *bolt.Tx) error) error {
	var fnErr error
	err := db.bolt.Batch(func(tx *bolt.Tx) error {
		db.count(tx)
		if fnErr = fn(tx); fnErr != nil {
			return fnErr
		}
		if db.failing != nil {
			if err := db.failing(); err != nil {
				fnErr = nil
				return &commitError{err}
			}
		}
		return nil
	})
	switch {
	case err == nil:
		db.committed(nil)
	case errors.Is(err, berrors.ErrDatabaseNotOpen):
	case fnErr == nil || err != fnErr:
		// Not fn's own refusal: the shared commit failed.
		if ce, ok := errors.AsType[*commitError](err); ok {
			err = fmt.Errorf("commit: %w", ce.err)
		}
		db.committed(err)
	}
	return err
}

// commitError is an injected commit failure inside a batch.
type commitError struct{ err error }

func (e *commitError) Error() string { return e.err.Error() }
func (e *commitError) Unwrap() error { return e.err }

// count arranges for tx's commit to be counted once, however many batched
// functions share it. Write transactions never overlap, so lastTx needs
// no lock.
func (db *DB) count(tx *bolt.Tx) {
	if db.lastTx == tx {
		return
	}
	db.lastTx = tx
	tx.OnCommit(func() { db.commits.Add(1) })
}

// Commits returns how many write transactions were committed since Open, for
// benchmarks: the fsyncs the bot paid for.
func (db *DB) Commits() uint64 { return db.commits.Load() }

// u64 encodes n as an 8-byte big-endian key, so keys sort numerically.
func u64(n uint64) []byte {
	return binary.BigEndian.AppendUint64(make([]byte, 0, 8), n)
}

// key joins parts with \x00 separators and appends seq if non-zero.
func key(seq uint64, parts ...string) []byte {
	var k []byte
	for _, p := range parts {
		k = append(k, p...)
		k = append(k, 0)
	}
	if seq != 0 {
		k = binary.BigEndian.AppendUint64(k, seq)
	}
	return k
}

// suffixSeq returns the sequence number in the last 8 bytes of an index key
// whose prefix has length n, or 0 if the key does not have exactly that shape.
func suffixSeq(k []byte, n int) uint64 {
	if len(k) != n+8 {
		return 0
	}
	return binary.BigEndian.Uint64(k[n:])
}

// notFound is the error for an unknown request ID. The ID may come from a
// hostile payload, so it is cleaned and shortened before it is quoted.
func notFound(id string) error {
	if id = access.Clean(id); utf8.RuneCountInString(id) > maxQuotedID {
		id = string([]rune(id)[:maxQuotedID]) + "…"
	}
	return access.Errorf(access.ENOTFOUND, "Request %s was not found.", id)
}

// maxQuotedID bounds how much of an unknown ID an error message repeats.
const maxQuotedID = 24

// clock returns the current time without its monotonic reading, so that
// returned values equal what is stored.
func (db *DB) clock() time.Time { return db.now().Round(0) }
