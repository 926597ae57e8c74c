package storage

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/uxpin-access-bot/uxpin-access-bot/access"
)

// The outbox holds the notices that state changes owe, keyed by their IDs,
// which CreateRequest and UpdateRequest take from the outbox bucket's sequence
// in the same transaction as the change. A notice leaves the outbox when it
// is sent (MarkSent) or given up on (Abandon).

// dueKey indexes notice n by when it is due (0 for at once), then ID.
func dueKey(n access.Notice) []byte {
	var at uint64
	if !n.NextAttempt.IsZero() {
		at = uint64(max(n.NextAttempt.UnixNano(), 1))
	}
	return binary.BigEndian.AppendUint64(u64(at), n.ID)
}

// indexOutbox builds the due index for an outbox written before it existed.
func indexOutbox(tx *bolt.Tx) error {
	due := tx.Bucket(bucketOutboxDue)
	if k, _ := due.Cursor().First(); k != nil {
		return nil
	}
	return tx.Bucket(bucketOutbox).ForEach(func(k, v []byte) error {
		n, err := decodeNotice(k, v)
		if err != nil {
			return err
		}
		return due.Put(dueKey(n), nil)
	})
}

// DueNotices returns up to limit queued notices whose NextAttempt is at or
// before now (a zero NextAttempt is due at once), new ones in ID order first.
// A limit of zero or less means no limit.
func (db *DB) DueNotices(ctx context.Context, now time.Time, limit int) ([]access.Notice, error) {
	return db.DueNoticesExcept(ctx, now, limit, nil)
}

// DueNoticesExcept is DueNotices passing over the notices skip reports
// (those already in flight), without reading them: it walks the due index
// and decodes only what it returns.
func (db *DB) DueNoticesExcept(ctx context.Context, now time.Time, limit int, skip func(id uint64) bool) ([]access.Notice, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	end := uint64(max(now.UnixNano(), 1))
	var out []access.Notice
	err := db.view(func(tx *bolt.Tx) error {
		outbox := tx.Bucket(bucketOutbox)
		c := tx.Bucket(bucketOutboxDue).Cursor()
		for k, _ := c.First(); len(k) == 16 && (limit <= 0 || len(out) < limit); k, _ = c.Next() {
			if binary.BigEndian.Uint64(k[:8]) > end {
				break
			}
			id := binary.BigEndian.Uint64(k[8:])
			if skip != nil && skip(id) {
				continue
			}
			v := outbox.Get(k[8:])
			if v == nil {
				continue
			}
			n, err := decodeNotice(k[8:], v)
			if err != nil {
				return err
			}
			out = append(out, n)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("due notices: %w", err)
	}
	return out, nil
}

// NextDue returns the earliest NextAttempt among queued notices (the zero
// time if one is due at once), and false if the outbox is empty.
func (db *DB) NextDue(ctx context.Context) (time.Time, bool, error) {
	if err := ctx.Err(); err != nil {
		return time.Time{}, false, err
	}
	var next time.Time
	var found bool
	err := db.view(func(tx *bolt.Tx) error {
		k, _ := tx.Bucket(bucketOutboxDue).Cursor().First()
		if len(k) != 16 {
			return nil
		}
		found = true
		if at := binary.BigEndian.Uint64(k[:8]); at > 1 {
			next = time.Unix(0, int64(at))
		}
		return nil
	})
	if err != nil {
		return time.Time{}, false, fmt.Errorf("next due notice: %w", err)
	}
	return next, found, nil
}

// MarkSent removes notice id from the outbox and, if ref is not nil, stores
// ref so that later updates of the request find the message. ref's NoticeID,
// Kind, RequestID and To default to the notice's. An unknown id is not an
// error, so a repeated call is harmless.
func (db *DB) MarkSent(ctx context.Context, id uint64, ref *access.MessageRef) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := db.batch(func(tx *bolt.Tx) error { return markSent(tx, id, ref) }); err != nil {
		return fmt.Errorf("mark notice %d sent: %w", id, err)
	}
	return nil
}

// MarkSentMany is MarkSent for several notices in one transaction: ids[i]
// with refs[i] (nil for none).
func (db *DB) MarkSentMany(ctx context.Context, ids []uint64, refs []*access.MessageRef) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(ids) != len(refs) {
		return fmt.Errorf("mark %d notices sent with %d refs", len(ids), len(refs))
	}
	err := db.batch(func(tx *bolt.Tx) error {
		for i, id := range ids {
			if err := markSent(tx, id, refs[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("mark %d notices sent: %w", len(ids), err)
	}
	return nil
}

func markSent(tx *bolt.Tx, id uint64, ref *access.MessageRef) error {
	outbox := tx.Bucket(bucketOutbox)
	k := u64(id)
	var r access.MessageRef
	if ref != nil {
		r = *ref
	}
	if v := outbox.Get(k); v != nil {
		n, err := decodeNotice(k, v)
		if err != nil {
			return err
		}
		if err := outbox.Delete(k); err != nil {
			return err
		}
		if err := tx.Bucket(bucketOutboxDue).Delete(dueKey(n)); err != nil {
			return err
		}
		r.NoticeID, r.Kind, r.RequestID = n.ID, n.Kind, n.RequestID
		if r.To == "" {
			r.To = n.To
		}
	} else {
		r.NoticeID = id
	}
	if ref == nil {
		return nil
	}
	if isUser(r.To) && strings.HasPrefix(r.Channel, "D") {
		if err := tx.Bucket(bucketIMs).Put([]byte(r.To), []byte(r.Channel)); err != nil {
			return err
		}
	}
	seq, err := access.ParseID(r.RequestID)
	if err != nil || r.Kind == "" {
		// Already sent, and the ref says too little to file it again.
		return nil
	}
	return putJSON(tx.Bucket(bucketMessages), messageKey(seq, r.Kind, id), r)
}

// queuedNotice reads notice id from the outbox; ok is false if it is no
// longer there (sent or abandoned).
func queuedNotice(tx *bolt.Tx, id uint64) (access.Notice, bool, error) {
	k := u64(id)
	v := tx.Bucket(bucketOutbox).Get(k)
	if v == nil {
		return access.Notice{}, false, nil
	}
	n, err := decodeNotice(k, v)
	return n, err == nil, err
}

// Reschedule records a failed delivery attempt of notice id: the number of
// attempts so far, when to try next and the last error. An unknown id (one
// already sent or abandoned) is not an error.
func (db *DB) Reschedule(ctx context.Context, id uint64, attempts int, next time.Time, lastErr string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := db.batch(func(tx *bolt.Tx) error {
		n, ok, err := queuedNotice(tx, id)
		if !ok || err != nil {
			return err
		}
		outbox, k := tx.Bucket(bucketOutbox), u64(id)
		due := tx.Bucket(bucketOutboxDue)
		if err := due.Delete(dueKey(n)); err != nil {
			return err
		}
		n.Attempts, n.NextAttempt, n.LastError = attempts, next, lastErr
		if err := due.Put(dueKey(n), nil); err != nil {
			return err
		}
		return putJSON(outbox, k, n)
	})
	if err != nil {
		return fmt.Errorf("reschedule notice %d: %w", id, err)
	}
	return nil
}

// Abandon gives up on notice id: it moves the notice, with reason as its last
// error, to the dead letters and appends an audit event saying the message was
// undeliverable. An unknown id (one already sent or abandoned) is not an error.
func (db *DB) Abandon(ctx context.Context, id uint64, reason string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := db.update(func(tx *bolt.Tx) error {
		n, ok, err := queuedNotice(tx, id)
		if !ok || err != nil {
			return err
		}
		outbox, k := tx.Bucket(bucketOutbox), u64(id)
		n.LastError = reason
		if err := outbox.Delete(k); err != nil {
			return err
		}
		if err := tx.Bucket(bucketOutboxDue).Delete(dueKey(n)); err != nil {
			return err
		}
		if err := putJSON(tx.Bucket(bucketDeadLetters), k, n); err != nil {
			return err
		}
		ev := access.Event{Time: db.clock(), RequestID: n.RequestID, Detail: "message undeliverable: " + reason}
		if seq, err := access.ParseID(n.RequestID); err == nil {
			r, err := getRequest(tx, seq)
			if err != nil {
				return err
			}
			if r != nil {
				ev.Action, ev.TargetEmail, ev.Role, ev.To = r.Action, r.TargetEmail, r.Role, r.State
			}
		}
		audit := tx.Bucket(bucketAudit)
		if ev.Seq, err = audit.NextSequence(); err != nil {
			return err
		}
		return putJSON(audit, u64(ev.Seq), ev)
	})
	if err != nil {
		return fmt.Errorf("abandon notice %d: %w", id, err)
	}
	return nil
}

// DeadLetters returns the abandoned notices in ID order, each with the reason
// it was abandoned as its LastError.
func (db *DB) DeadLetters(ctx context.Context) ([]access.Notice, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []access.Notice
	err := db.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketDeadLetters).ForEach(func(k, v []byte) error {
			n, err := decodeNotice(k, v)
			if err == nil {
				out = append(out, n)
			}
			return err
		})
	})
	if err != nil {
		return nil, fmt.Errorf("dead letters: %w", err)
	}
	return out, nil
}

// MessageRefs returns the refs MarkSent stored for request requestID and
// notice kind, in notice order. An unknown or malformed request ID has none.
func (db *DB) MessageRefs(ctx context.Context, requestID string, kind access.NoticeKind) ([]access.MessageRef, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	seq, err := access.ParseID(requestID)
	if err != nil {
		return nil, nil
	}
	var out []access.MessageRef
	err = db.view(func(tx *bolt.Tx) error {
		prefix := messageKey(seq, kind, 0)
		for id := range seqs(tx.Bucket(bucketMessages), prefix, false) {
			v := tx.Bucket(bucketMessages).Get(messageKey(seq, kind, id))
			var r access.MessageRef
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("decode message ref %d: %w", id, err)
			}
			out = append(out, r)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("message refs of %s: %w", requestID, err)
	}
	return out, nil
}

// OutboxDepth returns the number of queued notices.
func (db *DB) OutboxDepth(ctx context.Context) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	var n int
	err := db.view(func(tx *bolt.Tx) error {
		n = tx.Bucket(bucketOutbox).Stats().KeyN
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("outbox depth: %w", err)
	}
	return n, nil
}

// messageKey is u64(request seq) kind \x00 u64(notice id); id 0 gives the
// prefix shared by all of a request's refs of that kind.
func messageKey(seq uint64, kind access.NoticeKind, id uint64) []byte {
	return append(u64(seq), key(id, string(kind))...)
}

func decodeNotice(k, v []byte) (access.Notice, error) {
	var n access.Notice
	if err := json.Unmarshal(v, &n); err != nil {
		return n, fmt.Errorf("decode notice %x: %w", k, err)
	}
	return n, nil
}

func isUser(id string) bool { return strings.HasPrefix(id, "U") || strings.HasPrefix(id, "W") }

// IMChannel returns the ID of the app's DM channel with user, as learnt from
// earlier deliveries, or "".
func (db *DB) IMChannel(ctx context.Context, user string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	var ch string
	err := db.view(func(tx *bolt.Tx) error {
		ch = string(tx.Bucket(bucketIMs).Get([]byte(user)))
		return nil
	})
	return ch, err
}
