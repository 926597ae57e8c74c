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
		name string
		err  error
		want Failure
	}{
		{"channel not found", slack.SlackErrorResponse{Err: "channel_not_found"}, Failure{Code: "channel_not_found", Metric: "channel_not_found", Permanent: true}},
		{"wrapped invalid_auth", fmt.Errorf("post: %w", slack.SlackErrorResponse{Err: "invalid_auth"}), Failure{Code: "invalid_auth", Metric: "invalid_auth", Permanent: true}},
		{"pointer error", &slack.SlackErrorResponse{Err: "msg_too_long"}, Failure{Code: "msg_too_long", Metric: "msg_too_long", Permanent: true}},
		{"internal_error", slack.SlackErrorResponse{Err: "internal_error"}, Failure{Code: "internal_error", Metric: "internal_error"}},
		{"rate limited", &slack.RateLimitedError{RetryAfter: 2 * time.Second}, Failure{Code: "ratelimited (retry after 2s)", Metric: "ratelimited", RetryAfter: 2 * time.Second}},
		{"HTTP 500", slack.StatusCodeError{Code: 500}, Failure{Code: "http 500", Metric: "http 500", Ambiguous: true}},
		{"HTTP 404", slack.StatusCodeError{Code: 404}, Failure{Code: "http 404", Metric: "http 404", Permanent: true}},
		{"HTTP 408", slack.StatusCodeError{Code: 408}, Failure{Code: "http 408", Metric: "http 408"}},
		{"timeout", fmt.Errorf("post: %w", context.DeadlineExceeded), Failure{Code: "timeout", Metric: "timeout", Ambiguous: true}},
		{"other", errors.New("connection reset"), Failure{Code: "connection reset", Metric: "network"}},
		{"nil", nil, Failure{}},
	}
	for _, tt := range tests {
		if got := Classify(tt.err); got != tt.want {
			t.Errorf("Classify(%s) = %+v; want %+v", tt.name, got, tt.want)
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
