package stack

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/uxpin-access-bot/uxpin-access-bot/ops"
)

// TestRecoveringRestartsAfterPanic: a background loop that panics is
// restarted, and a loop that returns is not.
func TestRecoveringRestartsAfterPanic(t *testing.T) {
	s := &Stack{opts: Options{Log: slog.New(slog.DiscardHandler)}, Metrics: ops.NewMetrics(nil, nil)}
	calls := 0
	s.recovering(context.Background(), "test", time.Millisecond, func(context.Context) {
		calls++
		if calls < 3 {
			panic("timer bug")
		}
	})
	if calls != 3 {
		t.Errorf("loop ran %d times; want 3 (two panics, then a normal return)", calls)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s.recovering(ctx, "test", time.Hour, func(context.Context) { t.Error("loop ran after its context ended") })
}
