package delivery

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/uxpin-access-bot/uxpin-access-bot/access"
)

// markInterval is how often delivered notices are written off the outbox.
const markInterval = 100 * time.Millisecond

// marks holds the notices delivered but not yet written off the outbox.
//
// Writing a notice off needs no commit (and fsync) of its own: if the
// process dies before the mark reaches the disk, the notice is read again at
// the next start, and every notice from before a start is looked up in
// Slack's history before it is posted, so it is found, not posted twice.
// So marks are kept here and written together every markInterval, and the
// worker consults them as it would the database: a marked notice is not
// delivered again, and a message posted is found for its updates.
type marks struct {
	mu      sync.Mutex
	pending map[uint64]*access.MessageRef // notice ID → its message, nil for updates
	order   []uint64
}

func (m *marks) add(id uint64, ref *access.MessageRef) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.pending[id]; !ok {
		m.order = append(m.order, id)
	}
	m.pending[id] = ref
}

func (m *marks) has(id uint64) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.pending[id]
	return ok
}

// refs adds the pending messages of request id and kind to stored.
func (m *marks) refs(stored []access.MessageRef, requestID string, kind access.NoticeKind) []access.MessageRef {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, id := range m.order {
		ref := m.pending[id]
		if ref == nil || ref.RequestID != requestID || ref.Kind != kind {
			continue
		}
		if !slices.ContainsFunc(stored, func(r access.MessageRef) bool { return r.NoticeID == id }) {
			stored = append(stored, *ref)
		}
	}
	return stored
}

// take returns the pending marks, in order.
func (m *marks) take() ([]uint64, []*access.MessageRef) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ids := slices.Clone(m.order)
	refs := make([]*access.MessageRef, len(ids))
	for i, id := range ids {
		refs[i] = m.pending[id]
	}
	return ids, refs
}

// drop forgets marks that were written.
func (m *marks) drop(ids []uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, id := range ids {
		delete(m.pending, id)
	}
	m.order = slices.DeleteFunc(m.order, func(id uint64) bool { _, ok := m.pending[id]; return !ok })
}

// flushMarks writes the pending marks in one transaction. On failure they
// stay pending for the next flush.
func (w *Worker) flushMarks(ctx context.Context) {
	ids, refs := w.marks.take()
	if len(ids) == 0 {
		return
	}
	if err := w.store.MarkSentMany(ctx, ids, refs); err != nil {
		w.log.Error("outbox: could not write delivered notices off; will try again", "notices", len(ids), "err", err)
		return
	}
	w.marks.drop(ids)
}

// flushEvery flushes the marks every markInterval until ctx ends, then once
// more.
func (w *Worker) flushEvery(ctx context.Context) {
	t := time.NewTicker(markInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			w.flushMarks(fctx)
			cancel()
			return
		case <-t.C:
			w.flushMarks(ctx)
		}
	}
}

// messageRefs returns the messages of kind for request id, stored or
// delivered but not yet written down.
func (w *Worker) messageRefs(ctx context.Context, requestID string, kind access.NoticeKind) ([]access.MessageRef, error) {
	stored, err := w.store.MessageRefs(ctx, requestID, kind)
	if err != nil {
		return nil, err
	}
	return w.marks.refs(stored, requestID, kind), nil
}
