package storage_test

import (
	"context"
	"errors"
	"testing"

	"github.com/uxpin-access-bot/uxpin-access-bot/access"
)

// TestReviewStore checks the access review's storage: one latest review,
// the open one handed to the next start, updates that create requests in
// the same transaction, and notices and events written with it.
func TestReviewStore(t *testing.T) {
	db, _, _ := MustOpenDB(t)
	ctx := context.Background()
	if rv, err := db.LastReview(ctx); rv != nil || err != nil {
		t.Fatalf("LastReview on a new database = %v, %v; want nil", rv, err)
	}
	start := func() (*access.Review, error) {
		return db.StartReview(ctx, func(tx access.ReviewTx, open, rv *access.Review) (access.Effects, error) {
			if open != nil {
				return access.Effects{}, &access.ReviewOpenError{Open: open}
			}
			rv.Seats = []access.ReviewSeat{{Holder: "U1", Email: "u1@example.com", Role: access.RoleEditor, RequestID: "R-1"}}
			return access.Effects{Notices: []access.Notice{{Kind: access.NoticeReviewAsk, To: "U1", Part: 1}}}, nil
		})
	}
	rv, err := start()
	if err != nil || rv.ID != "V-1" || rv.Version != 1 {
		t.Fatalf("StartReview = %+v, %v; want V-1", rv, err)
	}
	if _, err := start(); !errors.As(err, new(*access.ReviewOpenError)) {
		t.Errorf("second StartReview error = %v; want a ReviewOpenError", err)
	}
	if queued, err := db.Queued(ctx, "V-1", access.NoticeReviewAsk, "U1"); !queued || err != nil {
		t.Errorf("Queued(review ask) = %v, %v; want true", queued, err)
	}

	var taskID string
	rv, err = db.UpdateReview(ctx, "V-1", func(tx access.ReviewTx, rv *access.Review) (access.Effects, error) {
		r := &access.Request{Action: access.ActionRemove, Target: "U1", TargetEmail: "u1@example.com", State: access.StateApproved, Assignee: "UADMIN"}
		id, err := tx.CreateRequest(r, access.Effects{Notices: []access.Notice{{Kind: access.NoticeTask, To: "UADMIN"}}})
		if err != nil {
			return access.Effects{}, err
		}
		taskID, rv.Seats[0].TaskID = id, id
		rv.Ended = true
		return access.Effects{Events: []access.Event{{Action: "review", Detail: "ended"}}}, nil
	})
	if err != nil || rv.Version != 2 || rv.Seats[0].TaskID == "" {
		t.Fatalf("UpdateReview = %+v, %v", rv, err)
	}
	tasks, err := db.OpenTasks(ctx, "UADMIN", 0)
	if err != nil || len(tasks) != 1 || tasks[0].ID != taskID {
		t.Errorf("OpenTasks after a review created %s = %v, %v", taskID, tasks, err)
	}
	got, err := db.Review(ctx, "V-1")
	if err != nil || !got.Ended || got.Seats[0].TaskID != taskID {
		t.Errorf("Review(V-1) = %+v, %v", got, err)
	}
	// The ended review no longer blocks the next one.
	if rv, err := start(); err != nil || rv.ID != "V-2" {
		t.Errorf("StartReview after the end = %v, %v; want V-2", rv, err)
	}
	for _, id := range []string{"V-9", "R-1", "V-0", "x"} {
		if _, err := db.Review(ctx, id); access.ErrorCode(err) != access.ENOTFOUND {
			t.Errorf("Review(%q) error = %v; want ENOTFOUND", id, err)
		}
		if _, err := db.UpdateReview(ctx, id, nil); access.ErrorCode(err) != access.ENOTFOUND {
			t.Errorf("UpdateReview(%q) error = %v; want ENOTFOUND", id, err)
		}
	}
	events := 0
	_ = db.Events(ctx, func(e access.Event) error {
		if e.Action == "review" && e.RequestID == "V-1" {
			events++
		}
		return nil
	})
	if events != 1 {
		t.Errorf("review events = %d; want 1", events)
	}
}
