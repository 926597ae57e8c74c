package storage

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/uxpin-access-bot/uxpin-access-bot/access"
)

var _ access.ReviewStore = (*DB)(nil)

// Access reviews are kept in their own bucket under "V-n" IDs; the meta
// bucket says which is the latest and when the schedule starts the next.

// reviewSeq parses a review ID ("V-3").
func reviewSeq(id string) (uint64, error) {
	rest, ok := strings.CutPrefix(id, "V-")
	seq, err := strconv.ParseUint(rest, 10, 64)
	if !ok || err != nil || seq == 0 {
		return 0, access.Errorf(access.ENOTFOUND, "That access review was not found.")
	}
	return seq, nil
}

// reviewTx is the view a review step gets inside its write transaction.
type reviewTx struct {
	boltTx
	db *DB
}

// CreateRequest stores r as a new request with fx in this transaction.
func (t reviewTx) CreateRequest(r *access.Request, fx access.Effects) (string, error) {
	seq, err := t.tx.Bucket(bucketRequests).NextSequence()
	if err != nil {
		return "", err
	}
	r.ID, r.Version = access.FormatID(seq), 1
	now := t.db.clock()
	if r.CreatedAt.IsZero() {
		r.CreatedAt = now
	}
	if r.UpdatedAt.IsZero() {
		r.UpdatedAt = now
	}
	if err := t.db.save(t.tx, seq, nil, r, fx); err != nil {
		return "", fmt.Errorf("create request %s: %w", r.ID, err)
	}
	return r.ID, nil
}

// SetNextReviewAt stores when the schedule starts the next review.
func (t reviewTx) SetNextReviewAt(at time.Time) error { return setNextReview(t.tx, at) }

func setNextReview(tx *bolt.Tx, at time.Time) error {
	return tx.Bucket(bucketMeta).Put(keyNextReview, u64(uint64(max(at.UnixNano(), 0))))
}

// StartReview assigns the next review ID and, unless fn fails, stores the
// review as the latest with fn's effects, in one transaction. fn is given
// the latest review if it is still open.
func (db *DB) StartReview(ctx context.Context, fn func(tx access.ReviewTx, open, rv *access.Review) (access.Effects, error)) (*access.Review, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out *access.Review
	var notices int
	err := db.batch(func(tx *bolt.Tx) error {
		open, err := lastReview(tx)
		if err != nil {
			return err
		}
		if open != nil && !open.Open() {
			open = nil
		}
		seq, err := tx.Bucket(bucketReviews).NextSequence()
		if err != nil {
			return err
		}
		rv := &access.Review{ID: "V-" + strconv.FormatUint(seq, 10)}
		id := rv.ID
		rtx := reviewTx{boltTx{tx}, db}
		fx, err := fn(rtx, open, rv)
		if err != nil {
			return err
		}
		if rv.ID != id {
			return fmt.Errorf("start review %s: callback changed the ID to %q", id, rv.ID)
		}
		rv.Version = 1
		if err := db.saveReview(tx, seq, rv, fx); err != nil {
			return fmt.Errorf("start review %s: %w", id, err)
		}
		if err := tx.Bucket(bucketMeta).Put(keyLastReview, u64(seq)); err != nil {
			return err
		}
		out, notices = rv, countNotices(fx)
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

// UpdateReview loads review id, calls fn on it and stores the result, with
// its version increased, and fn's effects in one transaction.
func (db *DB) UpdateReview(ctx context.Context, id string, fn func(tx access.ReviewTx, rv *access.Review) (access.Effects, error)) (*access.Review, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	seq, err := reviewSeq(id)
	if err != nil {
		return nil, err
	}
	var out *access.Review
	var notices int
	err = db.batch(func(tx *bolt.Tx) error {
		rv, err := getReview(tx, seq)
		if err != nil {
			return err
		} else if rv == nil {
			return access.Errorf(access.ENOTFOUND, "That access review was not found.")
		}
		version := rv.Version
		fx, err := fn(reviewTx{boltTx{tx}, db}, rv)
		if err != nil {
			return err
		}
		rv.Version = version + 1
		if err := db.saveReview(tx, seq, rv, fx); err != nil {
			return fmt.Errorf("update review %s: %w", id, err)
		}
		out, notices = rv, countNotices(fx)
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

// saveReview writes rv and appends fx's events and notices, which default
// to the review's ID. Requests a step creates are saved by CreateRequest.
func (db *DB) saveReview(tx *bolt.Tx, seq uint64, rv *access.Review, fx access.Effects) error {
	if err := putJSON(tx.Bucket(bucketReviews), u64(seq), rv); err != nil {
		return err
	}
	if err := db.appendEffects(tx, rv.ID, fx); err != nil {
		return err
	}
	if fx.Grant != nil || len(fx.Revokes) > 0 || fx.Spawn != nil {
		return fmt.Errorf("a review step changes the ledger only through requests")
	}
	return nil
}

// Review returns review id ("V-3"), or an ENOTFOUND error.
func (db *DB) Review(ctx context.Context, id string) (*access.Review, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	seq, err := reviewSeq(id)
	if err != nil {
		return nil, err
	}
	var rv *access.Review
	err = db.view(func(tx *bolt.Tx) (err error) {
		rv, err = getReview(tx, seq)
		return err
	})
	if err == nil && rv == nil {
		return nil, access.Errorf(access.ENOTFOUND, "That access review was not found.")
	}
	return rv, err
}

// LastReview returns the latest review, open or ended, or nil if none ran.
func (db *DB) LastReview(ctx context.Context) (*access.Review, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var rv *access.Review
	err := db.view(func(tx *bolt.Tx) (err error) {
		rv, err = lastReview(tx)
		return err
	})
	return rv, err
}

// NextReviewAt returns when the schedule starts the next review, or the
// zero time if that was never set.
func (db *DB) NextReviewAt(ctx context.Context) (time.Time, error) {
	if err := ctx.Err(); err != nil {
		return time.Time{}, err
	}
	var at time.Time
	err := db.view(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketMeta).Get(keyNextReview); len(v) == 8 {
			at = time.Unix(0, int64(binary.BigEndian.Uint64(v)))
		}
		return nil
	})
	return at, err
}

// SetNextReviewAt stores when the schedule starts the next review.
func (db *DB) SetNextReviewAt(ctx context.Context, at time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return db.update(func(tx *bolt.Tx) error { return setNextReview(tx, at) })
}

func lastReview(tx *bolt.Tx) (*access.Review, error) {
	v := tx.Bucket(bucketMeta).Get(keyLastReview)
	if len(v) != 8 {
		return nil, nil
	}
	return getReview(tx, binary.BigEndian.Uint64(v))
}

func getReview(tx *bolt.Tx, seq uint64) (*access.Review, error) {
	v := tx.Bucket(bucketReviews).Get(u64(seq))
	if v == nil {
		return nil, nil
	}
	var rv access.Review
	if err := json.Unmarshal(v, &rv); err != nil {
		return nil, fmt.Errorf("decode review %d: %w", seq, err)
	}
	return &rv, nil
}

// Queued reports whether a notice of kind for requestID (a request's or a
// review's ID) to user is still waiting in the outbox, so that what must
// follow it (the review report's CSV) waits too.
func (db *DB) Queued(ctx context.Context, requestID string, kind access.NoticeKind, to string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	found := false
	err := db.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketOutbox).Cursor()
		for k, v := c.First(); k != nil && !found; k, v = c.Next() {
			n, err := decodeNotice(k, v)
			if err != nil {
				continue
			}
			found = n.Kind == kind && n.RequestID == requestID && n.To == to
		}
		return nil
	})
	return found, err
}
