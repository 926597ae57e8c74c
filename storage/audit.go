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

var _ access.AuditStore = (*DB)(nil)

// SaveReconciliation stores a seat audit under the next "A-n" ID, marks it
// the latest, and appends its summary to the audit log, in one transaction.
func (db *DB) SaveReconciliation(ctx context.Context, rec *access.Reconciliation) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return db.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAudits)
		seq, err := b.NextSequence()
		if err != nil {
			return err
		}
		rec.ID = "A-" + strconv.FormatUint(seq, 10)
		if rec.Time.IsZero() {
			rec.Time = db.clock()
		}
		if err := putJSON(b, u64(seq), rec); err != nil {
			return err
		}
		if err := tx.Bucket(bucketMeta).Put(keyLastAudit, u64(seq)); err != nil {
			return err
		}
		audit := tx.Bucket(bucketAudit)
		ev := access.Event{Time: rec.Time, RequestID: rec.ID, Action: "reconcile", Actor: rec.Actor, Detail: rec.Summary()}
		if ev.Seq, err = audit.NextSequence(); err != nil {
			return err
		}
		return putJSON(audit, u64(ev.Seq), ev)
	})
}

// Reconciliation returns seat audit id ("A-3"), or an ENOTFOUND error.
func (db *DB) Reconciliation(ctx context.Context, id string) (*access.Reconciliation, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rest, ok := strings.CutPrefix(id, "A-")
	seq, err := strconv.ParseUint(rest, 10, 64)
	if !ok || err != nil || seq == 0 {
		return nil, access.Errorf(access.ENOTFOUND, "That seat audit was not found.")
	}
	var rec *access.Reconciliation
	err = db.view(func(tx *bolt.Tx) (err error) {
		rec, err = getReconciliation(tx, seq)
		return err
	})
	if err == nil && rec == nil {
		return nil, access.Errorf(access.ENOTFOUND, "That seat audit was not found.")
	}
	return rec, err
}

// LastReconciliation returns the latest seat audit, or nil if none ran.
func (db *DB) LastReconciliation(ctx context.Context) (*access.Reconciliation, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var rec *access.Reconciliation
	err := db.view(func(tx *bolt.Tx) (err error) {
		v := tx.Bucket(bucketMeta).Get(keyLastAudit)
		if len(v) != 8 {
			return nil
		}
		rec, err = getReconciliation(tx, binary.BigEndian.Uint64(v))
		return err
	})
	return rec, err
}

func getReconciliation(tx *bolt.Tx, seq uint64) (*access.Reconciliation, error) {
	v := tx.Bucket(bucketAudits).Get(u64(seq))
	if v == nil {
		return nil, nil
	}
	var rec access.Reconciliation
	if err := json.Unmarshal(v, &rec); err != nil {
		return nil, fmt.Errorf("decode seat audit %d: %w", seq, err)
	}
	return &rec, nil
}

// Draft is a seat audit being pasted in several parts.
type Draft struct {
	Actor   string    `json:"actor"`
	Parts   []string  `json:"parts"`
	Created time.Time `json:"created"`
}

// draftTTL bounds how long an unfinished paste is kept.
const draftTTL = 24 * time.Hour

// AppendDraft adds part to draft id (creating it for actor) and returns the
// parts so far. Another user's draft is refused; drafts older than a day
// are dropped while we are here.
func (db *DB) AppendDraft(ctx context.Context, id, actor, part string) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var parts []string
	err := db.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketDrafts)
		now := db.clock()
		var stale [][]byte
		_ = b.ForEach(func(k, v []byte) error {
			var d Draft
			if json.Unmarshal(v, &d) != nil || now.Sub(d.Created) > draftTTL {
				stale = append(stale, append([]byte(nil), k...))
			}
			return nil
		})
		for _, k := range stale {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		d := Draft{Actor: actor, Created: now}
		if v := b.Get([]byte(id)); v != nil {
			if err := json.Unmarshal(v, &d); err != nil {
				return err
			}
			if d.Actor != actor {
				return access.Errorf(access.EUNAUTHORIZED, "That paste belongs to someone else.")
			}
		}
		d.Parts = append(d.Parts, part)
		parts = d.Parts
		return putJSON(b, []byte(id), d)
	})
	return parts, err
}

// DeleteDraft drops draft id.
func (db *DB) DeleteDraft(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return db.update(func(tx *bolt.Tx) error { return tx.Bucket(bucketDrafts).Delete([]byte(id)) })
}
