package delivery

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/slack-go/slack"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		name                 string
		err                  error
		permanent, ambiguous bool
	}{
		{"channel not found", slack.SlackErrorResponse{Err: "channel_not_found"}, true, false},
		{"wrapped invalid_auth", fmt.Errorf("post: %w", slack.SlackErrorResponse{Err: "invalid_auth"}), true, false},
		{"internal_error", slack.SlackErrorResponse{Err: "internal_error"}, false, false},
		{"rate limited", &slack.RateLimitedError{RetryAfter: time.Second}, false, false},
		{"HTTP 500", slack.StatusCodeError{Code: 500}, false, true},
		{"HTTP 404", slack.StatusCodeError{Code: 404}, true, false},
		{"timeout", fmt.Errorf("post: %w", context.DeadlineExceeded), false, true},
		{"other", errors.New("connection reset"), false, false},
	}
	for _, tt := range tests {
		if got := permanent(tt.err); got != tt.permanent {
			t.Errorf("permanent(%s) = %v; want %v", tt.name, got, tt.permanent)
		}
		if got := ambiguous(tt.err); got != tt.ambiguous {
			t.Errorf("ambiguous(%s) = %v; want %v", tt.name, got, tt.ambiguous)
		}
	}
}

func TestBackoff(t *testing.T) {
	w := New(nil, nil, nil, slog.New(slog.NewTextHandler(io.Discard, nil)), Options{BaseBackoff: time.Second, MaxBackoff: time.Minute})
	for attempt, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 4: 8 * time.Second, 10: time.Minute, 100: time.Minute} {
		for range 20 {
			got := w.backoff(attempt)
			if got < want*8/10 || got > want*12/10 {
				t.Fatalf("backoff(%d) = %v; want %v ± 20%%", attempt, got, want)
			}
		}
	}
}
