package storage

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/uxpin-access-bot/uxpin-access-bot/access"
)

// timerKey orders timers by due time: u64(unix nanos) u64(seq) kind.
func timerKey(seq uint64, t access.Timer) []byte {
	k := make([]byte, 16, 16+len(t.Kind))
	binary.BigEndian.PutUint64(k, dueNanos(t.At))
	binary.BigEndian.PutUint64(k[8:], seq)
	return append(k, t.Kind...)
}

// lastNano is the latest time UnixNano can represent (in 2262).
var lastNano = time.Unix(0, math.MaxInt64)

// dueNanos is t as the schedule index orders it. Times past 2262 would
// overflow UnixNano and wrap to 1970, making a far-off timer due at once and
// forever; they sort last instead.
func dueNanos(t time.Time) uint64 {
	if t.After(lastNano) {
		return math.MaxInt64
	}
	return uint64(max(t.UnixNano(), 0))
}

// reschedule moves request seq's entries in the schedule index from old's
// timers (old may be nil) to r's.
func reschedule(tx *bolt.Tx, seq uint64, old, r *access.Request) error {
	b := tx.Bucket(bucketSchedule)
	is := map[string]bool{}
	for _, t := range r.Timers() {
		is[string(timerKey(seq, t))] = true
	}
	if old != nil {
		for _, t := range old.Timers() {
			if k := timerKey(seq, t); !is[string(k)] {
				if err := b.Delete(k); err != nil {
					return err
				}
			}
		}
	}
	for k := range is {
		if err := b.Put([]byte(k), nil); err != nil {
			return err
		}
	}
	return nil
}

// DueTimers returns up to limit armed timers due at or before now, earliest
// first, reading only the due part of the schedule index.
func (db *DB) DueTimers(ctx context.Context, now time.Time, limit int) ([]access.Timer, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []access.Timer
	end := make([]byte, 8)
	binary.BigEndian.PutUint64(end, dueNanos(now))
	err := db.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketSchedule).Cursor()
		for k, _ := c.First(); len(k) > 16 && bytes.Compare(k[:8], end) <= 0; k, _ = c.Next() {
			if limit > 0 && len(out) >= limit {
				break
			}
			out = append(out, access.Timer{
				RequestID: access.FormatID(binary.BigEndian.Uint64(k[8:16])),
				Kind:      access.TimerKind(k[16:]),
				At:        time.Unix(0, int64(binary.BigEndian.Uint64(k[:8]))),
			})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("due timers: %w", err)
	}
	return out, nil
}

// GrantFor returns the ledger entry of a Slack user, or nil.
func (db *DB) GrantFor(ctx context.Context, userID string) (*access.Grant, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var g *access.Grant
	err := db.view(func(tx *bolt.Tx) (err error) {
		g, err = grantFor(tx, userID)
		return err
	})
	return g, err
}

// MarkHomeSeen records that user opened the bot's Home tab, so that later
// changes refresh it. It reports whether this was the first time.
func (db *DB) MarkHomeSeen(ctx context.Context, user string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	first := false
	err := db.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketHomes)
		if b.Get([]byte(user)) != nil {
			return nil
		}
		first = true
		return b.Put([]byte(user), []byte(db.clock().UTC().Format(time.RFC3339)))
	})
	return first, err
}

func countNotices(fx access.Effects) int {
	n := len(fx.Notices)
	if fx.Spawn != nil {
		n += countNotices(fx.Spawn.Effects)
	}
	for _, a := range fx.Also {
		n += countNotices(a.Effects)
	}
	return n
}

// OpenTaskStats returns the number of open tasks and when the longest-open
// one was assigned, reading only the task index and those requests.
func (db *DB) OpenTaskStats(ctx context.Context) (int, time.Time, error) {
	if err := ctx.Err(); err != nil {
		return 0, time.Time{}, err
	}
	n, oldest := 0, time.Time{}
	err := db.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketTasks).Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			seq := suffixSeq(k, len(k)-8)
			r, err := getRequest(tx, seq)
			if err != nil || r == nil {
				continue
			}
			n++
			at := r.AssignedAt
			if at.IsZero() {
				at = r.DecidedAt // nobody could be assigned it yet
			}
			if oldest.IsZero() || at.Before(oldest) {
				oldest = at
			}
		}
		return nil
	})
	return n, oldest, err
}

// SeatCounts returns the ledger's entries per role, inside a write.
func (t boltTx) SeatCounts() (map[access.Role]int, error) { return seatCounts(t.tx), nil }

// CommittedSeats returns, per role, approved grants and role changes whose
// task is still open, inside a write.
func (t boltTx) CommittedSeats() (map[access.Role]int, error) { return committedSeats(t.tx) }

// CommittedSeats returns, per role, approved grants and role changes whose
// task is still open: seats about to be used.
func (db *DB) CommittedSeats(ctx context.Context) (map[access.Role]int, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out map[access.Role]int
	err := db.view(func(tx *bolt.Tx) (err error) {
		out, err = committedSeats(tx)
		return err
	})
	return out, err
}

func committedSeats(tx *bolt.Tx) (map[access.Role]int, error) {
	out := map[access.Role]int{}
	c := tx.Bucket(bucketTasks).Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		r, err := getRequest(tx, suffixSeq(k, len(k)-8))
		if err != nil {
			return nil, err
		}
		if r == nil {
			continue
		}
		if r.Action == access.ActionGrant || (r.Action == access.ActionChange && r.Role != r.CurrentRole) {
			out[r.Role]++
		}
	}
	return out, nil
}

func seatCounts(tx *bolt.Tx) map[access.Role]int {
	out := map[access.Role]int{}
	meta := tx.Bucket(bucketMeta)
	for _, r := range access.Roles {
		if v := meta.Get([]byte(keySeatPrefix + string(r))); len(v) == 8 {
			out[r] = int(binary.BigEndian.Uint64(v))
		}
	}
	return out
}

// HomeSeen reports whether user ever opened the bot's Home tab, inside a
// write.
func (t boltTx) HomeSeen(user string) bool {
	return t.tx.Bucket(bucketHomes).Get([]byte(user)) != nil
}
