package storage

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	bolt "go.etcd.io/bbolt"

	"github.com/uxpin-access-bot/uxpin-access-bot/access"
)

var _ access.Store = (*DB)(nil)

// CreateRequest takes the next request sequence, sets r.ID and r.CreatedAt,
// calls fn, and stores the request with fn's effects in the same transaction.
// fn may set any field but the ID. An error from fn aborts the transaction,
// so nothing is stored, and is returned as is.
func (db *DB) CreateRequest(ctx context.Context, fn func(tx access.Tx, r *access.Request) (access.Effects, error)) (*access.Request, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out *access.Request
	var notices int
	err := db.batch(func(tx *bolt.Tx) error {
		seq, err := tx.Bucket(bucketRequests).NextSequence()
		if err != nil {
			return err
		}
		r := &access.Request{ID: access.FormatID(seq), CreatedAt: db.clock()}
		id := r.ID
		fx, err := fn(boltTx{tx}, r)
		if err != nil {
			return err
		}
		if r.ID != id {
			return fmt.Errorf("create request %s: callback changed the ID to %q", id, r.ID)
		}
		r.Version = 1
		if err := db.save(tx, seq, nil, r, fx); err != nil {
			return fmt.Errorf("create request %s: %w", id, err)
		}
		out, notices = r, countNotices(fx)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if notices > 0 {
		db.signal()
	}
	return out, nil
}

// UpdateRequest loads request id, calls fn on a copy and stores the result,
// with its version increased, and fn's effects in the same transaction.
// Concurrent updates are serialised, so fn always sees the latest version.
// An unknown or malformed id yields an ENOTFOUND *access.Error; an error from
// fn aborts the transaction and is returned as is.
func (db *DB) UpdateRequest(ctx context.Context, id string, fn func(tx access.Tx, r *access.Request) (access.Effects, error)) (*access.Request, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	seq, err := access.ParseID(id)
	if err != nil {
		return nil, notFound(id)
	}
	var out *access.Request
	var notices int
	err = db.batch(func(tx *bolt.Tx) error {
		old, err := getRequest(tx, seq)
		if err != nil {
			return err
		} else if old == nil {
			return notFound(id)
		}
		r := *old
		r.Approvers = slices.Clone(old.Approvers)
		r.PreviousAssignees = slices.Clone(old.PreviousAssignees)
		r.Approvals = slices.Clone(old.Approvals)
		r.Rows = slices.Clone(old.Rows)
		fx, err := fn(boltTx{tx}, &r)
		if err != nil {
			return err
		}
		if r.ID != old.ID {
			return fmt.Errorf("update request %s: callback changed the ID to %q", old.ID, r.ID)
		}
		r.Version = old.Version + 1
		if err := db.save(tx, seq, old, &r, fx); err != nil {
			return fmt.Errorf("update request %s: %w", old.ID, err)
		}
		out, notices = &r, countNotices(fx)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if notices > 0 {
		db.signal()
	}
	return out, nil
}

// save writes request r (whose previous version is old, or nil when new), its
// indexes and counters, and fx.
func (db *DB) save(tx *bolt.Tx, seq uint64, old, r *access.Request, fx access.Effects) error {
	buf, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if err := tx.Bucket(bucketRequests).Put(u64(seq), buf); err != nil {
		return err
	}
	if err := reindex(tx, seq, old, r); err != nil {
		return fmt.Errorf("index: %w", err)
	}
	if err := reschedule(tx, seq, old, r); err != nil {
		return fmt.Errorf("schedule: %w", err)
	}
	if err := db.appendEffects(tx, r.ID, fx); err != nil {
		return err
	}
	now := db.clock()
	if len(fx.Revokes) > 0 || fx.Grant != nil {
		tx.OnCommit(func() { db.ledgerGen.Add(1) })
	}
	for _, u := range fx.Revokes {
		if err := revoke(tx, u); err != nil {
			return fmt.Errorf("ledger: %w", err)
		}
	}
	if fx.Grant != nil {
		if err := grant(tx, *fx.Grant); err != nil {
			return fmt.Errorf("ledger: %w", err)
		}
	}
	for _, also := range fx.Also {
		aseq, err := access.ParseID(also.Request.ID)
		if err != nil {
			return err
		}
		prev, err := getRequest(tx, aseq)
		if err != nil {
			return err
		}
		if prev == nil || prev.Version != also.Request.Version {
			return access.Errorf(access.ECONFLICT, "%s changed meanwhile; try again.", also.Request.ID)
		}
		also.Request.Version = prev.Version + 1
		if err := db.save(tx, aseq, prev, also.Request, also.Effects); err != nil {
			return fmt.Errorf("request %s: %w", also.Request.ID, err)
		}
	}
	if sp := fx.Spawn; sp != nil {
		sseq, err := tx.Bucket(bucketRequests).NextSequence()
		if err != nil {
			return err
		}
		sp.Request.ID, sp.Request.CreatedAt, sp.Request.Version = access.FormatID(sseq), now, 1
		if sp.Request.UpdatedAt.IsZero() {
			sp.Request.UpdatedAt = now
		}
		if err := db.save(tx, sseq, nil, sp.Request, sp.Effects); err != nil {
			return fmt.Errorf("spawned request %s: %w", sp.Request.ID, err)
		}
	}
	return nil
}

// appendEffects writes fx's events to the audit log and its notices to the
// outbox; both default to subject, the request or review they are about.
func (db *DB) appendEffects(tx *bolt.Tx, subject string, fx access.Effects) error {
	now := db.clock()
	audit := tx.Bucket(bucketAudit)
	var err error
	for _, ev := range fx.Events {
		if ev.Seq, err = audit.NextSequence(); err != nil {
			return err
		}
		if ev.RequestID == "" {
			ev.RequestID = subject
		}
		if ev.Time.IsZero() {
			ev.Time = now
		}
		if err := putJSON(audit, u64(ev.Seq), ev); err != nil {
			return fmt.Errorf("audit: %w", err)
		}
	}
	outbox := tx.Bucket(bucketOutbox)
	for _, n := range fx.Notices {
		if n.ID, err = outbox.NextSequence(); err != nil {
			return err
		}
		if n.RequestID == "" {
			n.RequestID = subject
		}
		n.CreatedAt = now
		if err := tx.Bucket(bucketOutboxDue).Put(dueKey(n), nil); err != nil {
			return fmt.Errorf("outbox: %w", err)
		}
		if err := putJSON(outbox, u64(n.ID), n); err != nil {
			return fmt.Errorf("outbox: %w", err)
		}
	}
	return nil
}

// indexKeys lists the index entries of r, as bucket name NUL key. A request
// group is open for each person whose row is not done yet, and is a task of
// each admin with rows.
func indexKeys(seq uint64, r *access.Request) map[string]bool {
	keys := map[string]bool{}
	add := func(bucket []byte, k []byte) { keys[string(bucket)+"\x00"+string(k)] = true }
	add(bucketByRequester, key(seq, r.Requester))
	if r.State == access.StatePending {
		add(bucketPending, u64(seq))
	}
	if r.State.Open() {
		if r.IsGroup() {
			for _, row := range r.Rows {
				if !row.Closed() {
					add(bucketOpenTarget, key(seq, row.Target, string(r.Action)))
				}
			}
		} else {
			add(bucketOpenTarget, key(seq, r.Target, string(r.Action)))
		}
	}
	// A task nobody could be assigned is indexed under the empty admin, so
	// that it can be found, shown and reassigned, never lost.
	if r.State == access.StateApproved {
		if r.IsGroup() {
			for _, a := range r.RowAssignees() {
				add(bucketTasks, key(seq, a))
			}
			for _, row := range r.Rows {
				if row.Assignee == "" && !row.Closed() {
					add(bucketTasks, key(seq, ""))
				}
			}
		} else {
			add(bucketTasks, key(seq, r.Assignee))
		}
	}
	return keys
}

// reindex moves request seq's index entries and state counters from old
// (nil for a new request) to r.
func reindex(tx *bolt.Tx, seq uint64, old, r *access.Request) error {
	var was map[string]bool
	if old != nil {
		was = indexKeys(seq, old)
	}
	is := indexKeys(seq, r)
	for e := range was {
		if is[e] {
			continue
		}
		name, k, _ := strings.Cut(e, "\x00")
		if err := tx.Bucket([]byte(name)).Delete([]byte(k)); err != nil {
			return err
		}
	}
	for e := range is {
		if was[e] {
			continue
		}
		name, k, _ := strings.Cut(e, "\x00")
		if err := tx.Bucket([]byte(name)).Put([]byte(k), nil); err != nil {
			return err
		}
	}
	if old != nil && old.State == r.State {
		return nil
	}
	meta := tx.Bucket(bucketMeta)
	if old != nil {
		if err := addCount(meta, old.State, -1); err != nil {
			return err
		}
	}
	return addCount(meta, r.State, 1)
}

func addCount(meta *bolt.Bucket, s access.State, delta int64) error {
	k := []byte(keyCountPrefix + string(s))
	var n int64
	if v := meta.Get(k); len(v) == 8 {
		n = int64(binary.BigEndian.Uint64(v))
	}
	return meta.Put(k, u64(uint64(max(n+delta, 0))))
}

// CountByState returns the number of requests in each state, from counters
// kept with every write. Every state in access.States is present.
func (db *DB) CountByState(ctx context.Context) (map[access.State]int, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	counts := make(map[access.State]int, len(access.States))
	for _, s := range access.States {
		counts[s] = 0
	}
	err := db.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketMeta).Cursor()
		prefix := []byte(keyCountPrefix)
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			if len(v) == 8 {
				counts[access.State(k[len(prefix):])] = int(binary.BigEndian.Uint64(v))
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("count requests: %w", err)
	}
	return counts, nil
}

// Request returns request id, or an ENOTFOUND *access.Error if there is none
// (including for a malformed id).
func (db *DB) Request(ctx context.Context, id string) (*access.Request, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	seq, err := access.ParseID(id)
	if err != nil {
		return nil, notFound(id)
	}
	var r *access.Request
	if err := db.view(func(tx *bolt.Tx) (err error) {
		r, err = getRequest(tx, seq)
		return err
	}); err != nil {
		return nil, err
	}
	if r == nil {
		return nil, notFound(id)
	}
	return r, nil
}

// RequestsByRequester returns up to limit of user's requests, newest first.
// A limit of zero or less means no limit.
func (db *DB) RequestsByRequester(ctx context.Context, user string, limit int) ([]*access.Request, error) {
	return db.scanIndex(ctx, bucketByRequester, key(0, user), true, limit)
}

// PendingRequests returns up to limit pending requests, oldest first. A limit
// of zero or less means no limit.
func (db *DB) PendingRequests(ctx context.Context, limit int) ([]*access.Request, error) {
	return db.scanIndex(ctx, bucketPending, nil, false, limit)
}

// TaskAssignees returns how many open tasks each assignee holds, "" for
// tasks (or group rows) nobody could be assigned.
func (db *DB) TaskAssignees(ctx context.Context) (map[string]int, error) {
	var out map[string]int
	err := db.view(func(tx *bolt.Tx) error {
		var err error
		out, err = boltTx{tx}.OpenTaskCounts()
		return err
	})
	return out, err
}

// OpenTasks returns up to limit approved requests assigned to admin, oldest
// first. A limit of zero or less means no limit.
func (db *DB) OpenTasks(ctx context.Context, admin string, limit int) ([]*access.Request, error) {
	return db.scanIndex(ctx, bucketTasks, key(0, admin), false, limit)
}

// scanIndex loads the requests whose keys in index bucket name are prefix
// followed by an 8-byte sequence, in key order or reversed.
func (db *DB) scanIndex(ctx context.Context, name, prefix []byte, reverse bool, limit int) ([]*access.Request, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []*access.Request
	err := db.view(func(tx *bolt.Tx) error {
		for seq := range seqs(tx.Bucket(name), prefix, reverse) {
			if limit > 0 && len(out) >= limit {
				break
			}
			r, err := getRequest(tx, seq)
			if err != nil {
				return err
			} else if r == nil {
				return fmt.Errorf("index %s points at missing request %s", name, access.FormatID(seq))
			}
			out = append(out, r)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list requests: %w", err)
	}
	return out, nil
}

// seqs yields the sequence numbers of b's keys that are exactly prefix plus
// 8 bytes, ascending or descending.
func seqs(b *bolt.Bucket, prefix []byte, reverse bool) func(yield func(uint64) bool) {
	return func(yield func(uint64) bool) {
		c := b.Cursor()
		var k []byte
		switch {
		case !reverse:
			k, _ = c.Seek(prefix)
		case len(prefix) == 0:
			k, _ = c.Last()
		default:
			// Seek just past every key with the prefix, then step back.
			if k, _ = c.Seek(upperBound(prefix)); k == nil {
				k, _ = c.Last()
			} else {
				k, _ = c.Prev()
			}
		}
		for ; k != nil && bytes.HasPrefix(k, prefix); k = step(c, reverse) {
			if seq := suffixSeq(k, len(prefix)); seq != 0 && !yield(seq) {
				return
			}
		}
	}
}

func step(c *bolt.Cursor, reverse bool) []byte {
	var k []byte
	if reverse {
		k, _ = c.Prev()
	} else {
		k, _ = c.Next()
	}
	return k
}

// upperBound returns the smallest key greater than every key with prefix p,
// which must end in a byte below 0xff (our prefixes end in \x00).
func upperBound(p []byte) []byte {
	u := slices.Clone(p)
	u[len(u)-1]++
	return u
}

func getRequest(tx *bolt.Tx, seq uint64) (*access.Request, error) {
	v := tx.Bucket(bucketRequests).Get(u64(seq))
	if v == nil {
		return nil, nil
	}
	var r access.Request
	if err := json.Unmarshal(v, &r); err != nil {
		return nil, fmt.Errorf("decode request %s: %w", access.FormatID(seq), err)
	}
	return &r, nil
}

func putJSON(b *bolt.Bucket, k []byte, v any) error {
	buf, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(k, buf)
}

// boltTx is the read view a lifecycle step gets inside its write transaction.
type boltTx struct{ tx *bolt.Tx }

// OpenTaskCounts returns the number of open tasks per assigned admin.
func (t boltTx) OpenTaskCounts() (map[string]int, error) {
	counts := map[string]int{}
	err := t.tx.Bucket(bucketTasks).ForEach(func(k, _ []byte) error {
		if len(k) >= 9 {
			counts[string(k[:len(k)-9])]++
		}
		return nil
	})
	return counts, err
}

// OpenRequestFor returns the ID of the oldest open (pending or approved)
// request for target and action, or "".
func (t boltTx) OpenRequestFor(target string, action access.Action) (string, error) {
	for seq := range seqs(t.tx.Bucket(bucketOpenTarget), key(0, target, string(action)), false) {
		return access.FormatID(seq), nil
	}
	return "", nil
}

// Request returns request id as stored, or an ENOTFOUND *access.Error.
func (t boltTx) Request(id string) (*access.Request, error) {
	seq, err := access.ParseID(id)
	if err != nil {
		return nil, access.Errorf(access.ENOTFOUND, "No request %s.", id)
	}
	r, err := getRequest(t.tx, seq)
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, access.Errorf(access.ENOTFOUND, "No request %s.", id)
	}
	return r, nil
}

// GrantFor returns the ledger entry of a Slack user, or nil.
func (t boltTx) GrantFor(userID string) (*access.Grant, error) {
	return grantFor(t.tx, userID)
}

func grantFor(tx *bolt.Tx, userID string) (*access.Grant, error) {
	if userID == "" {
		return nil, nil
	}
	email := tx.Bucket(bucketLedgerUser).Get([]byte(userID))
	if email == nil {
		return nil, nil
	}
	v := tx.Bucket(bucketLedger).Get(email)
	if v == nil {
		return nil, nil
	}
	var g access.Grant
	if err := json.Unmarshal(v, &g); err != nil {
		return nil, fmt.Errorf("decode grant for %s: %w", userID, err)
	}
	return &g, nil
}

// grant upserts g into the ledger under its lower-cased email, dropping the
// user's entry under a previous email and any other user's claim on this one.
func grant(tx *bolt.Tx, g access.Grant) error {
	email := strings.ToLower(strings.TrimSpace(g.Email))
	if g.UserID == "" || email == "" {
		return errors.New("grant needs a user ID and an email")
	}
	ledger, byUser := tx.Bucket(bucketLedger), tx.Bucket(bucketLedgerUser)
	if prev := byUser.Get([]byte(g.UserID)); prev != nil && string(prev) != email {
		if err := uncountSeat(tx, ledger.Get(prev)); err != nil {
			return err
		}
		if err := ledger.Delete(prev); err != nil {
			return err
		}
	}
	if v := ledger.Get([]byte(email)); v != nil {
		if err := uncountSeat(tx, v); err != nil {
			return err
		}
		var other access.Grant
		if err := json.Unmarshal(v, &other); err == nil && other.UserID != g.UserID {
			// The email moved to another Slack user; the seat is one.
			if string(byUser.Get([]byte(other.UserID))) == email {
				if err := byUser.Delete([]byte(other.UserID)); err != nil {
					return err
				}
			}
		}
	}
	if err := putJSON(ledger, []byte(email), g); err != nil {
		return err
	}
	if err := addSeat(tx, g.Role, 1); err != nil {
		return err
	}
	return byUser.Put([]byte(g.UserID), []byte(email))
}

// revoke removes userID's ledger entry, if any.
func revoke(tx *bolt.Tx, userID string) error {
	byUser := tx.Bucket(bucketLedgerUser)
	email := byUser.Get([]byte(userID))
	if email == nil {
		return nil
	}
	if err := uncountSeat(tx, tx.Bucket(bucketLedger).Get(email)); err != nil {
		return err
	}
	if err := tx.Bucket(bucketLedger).Delete(email); err != nil {
		return err
	}
	return byUser.Delete([]byte(userID))
}

// addSeat moves the seat counter of role by delta.
func addSeat(tx *bolt.Tx, role access.Role, delta int64) error {
	meta := tx.Bucket(bucketMeta)
	k := []byte(keySeatPrefix + string(role))
	var n int64
	if v := meta.Get(k); len(v) == 8 {
		n = int64(binary.BigEndian.Uint64(v))
	}
	return meta.Put(k, u64(uint64(max(n+delta, 0))))
}

// uncountSeat decrements the counter of the role in a stored grant, if any.
func uncountSeat(tx *bolt.Tx, stored []byte) error {
	if stored == nil {
		return nil
	}
	var g access.Grant
	if err := json.Unmarshal(stored, &g); err != nil {
		return nil // an undecodable entry was never counted
	}
	return addSeat(tx, g.Role, -1)
}

// recountSeats rebuilds the seat counters from the ledger, once, for a
// database written before they existed.
func recountSeats(tx *bolt.Tx) error {
	counts := map[access.Role]int64{}
	err := tx.Bucket(bucketLedger).ForEach(func(_, v []byte) error {
		var g access.Grant
		if json.Unmarshal(v, &g) == nil {
			counts[g.Role]++
		}
		return nil
	})
	if err != nil {
		return err
	}
	meta := tx.Bucket(bucketMeta)
	for _, r := range access.Roles {
		if err := meta.Put([]byte(keySeatPrefix+string(r)), u64(uint64(counts[r]))); err != nil {
			return err
		}
	}
	return meta.Put(keySeatsCounted, []byte{1})
}

// SeatCounts returns how many ledger entries hold each role, from counters
// kept with every ledger change.
func (db *DB) SeatCounts(ctx context.Context) (map[access.Role]int, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out map[access.Role]int
	err := db.view(func(tx *bolt.Tx) error {
		out = seatCounts(tx)
		return nil
	})
	return out, err
}

// Roster returns the ledger ordered by lower-cased email. It is served from
// a cache that any ledger change invalidates; callers get their own copy.
func (db *DB) Roster(ctx context.Context) ([]access.Grant, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	gen := db.ledgerGen.Load()
	db.rosterMu.Lock()
	if db.rosterGen == gen {
		out := slices.Clone(db.roster)
		db.rosterMu.Unlock()
		return out, nil
	}
	db.rosterMu.Unlock()
	var out []access.Grant
	err := db.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketLedger).ForEach(func(k, v []byte) error {
			var g access.Grant
			if err := json.Unmarshal(v, &g); err != nil {
				return fmt.Errorf("decode grant %s: %w", k, err)
			}
			out = append(out, g)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("read roster: %w", err)
	}
	db.rosterMu.Lock()
	if gen >= db.rosterGen {
		db.roster, db.rosterGen = slices.Clone(out), gen
	}
	db.rosterMu.Unlock()
	return out, nil
}

// Events calls fn for every audit event in order, stopping at fn's first
// error, which it returns. The log is append-only, so it is read in short
// read transactions of a page each, up to the last event there was when
// Events began; fn runs outside them, so a slow consumer (an export to a
// stalled client) never holds a transaction open, which would stall the
// commits that grow the file.
func (db *DB) Events(ctx context.Context, fn func(access.Event) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	const page = 1000
	var last uint64
	if err := db.view(func(tx *bolt.Tx) error {
		if k, _ := tx.Bucket(bucketAudit).Cursor().Last(); len(k) == 8 {
			last = binary.BigEndian.Uint64(k)
		}
		return nil
	}); err != nil {
		return err
	}
	for next := uint64(0); next <= last; {
		evs := make([]access.Event, 0, page)
		err := db.view(func(tx *bolt.Tx) error {
			c := tx.Bucket(bucketAudit).Cursor()
			for k, v := c.Seek(u64(next)); k != nil && len(evs) < page; k, v = c.Next() {
				seq := binary.BigEndian.Uint64(k)
				if seq > last {
					break
				}
				var ev access.Event
				if err := json.Unmarshal(v, &ev); err != nil {
					return fmt.Errorf("decode audit event %x: %w", k, err)
				}
				evs = append(evs, ev)
				next = seq + 1
			}
			return nil
		})
		if err != nil {
			return err
		}
		if len(evs) == 0 {
			break
		}
		for _, ev := range evs {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := fn(ev); err != nil {
				return err
			}
		}
	}
	return nil
}
