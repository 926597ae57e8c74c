package delivery

import (
	"context"
	"errors"
	"net"
	"strconv"
	"time"

	"github.com/slack-go/slack"
)

// Failure is what the worker makes of an error from a Slack call.
type Failure struct {
	// Code is a short, secret-free description ("channel_not_found",
	// "http 503", "timeout", "ratelimited (retry after 2s)").
	Code string
	// Metric is a low-cardinality label for the error.
	Metric string
	// Permanent means no retry can fix it; the notice is set aside.
	Permanent bool
	// Ambiguous means the call may have taken effect although it failed
	// (a timeout, a dropped connection, a 5xx), so a post must be looked up
	// before it is made again.
	Ambiguous bool
	// RetryAfter is the wait Slack asked for with a 429, or zero.
	RetryAfter time.Duration
}

// permanentErrors are Slack error codes that no retry can fix.
var permanentErrors = map[string]bool{
	"channel_not_found": true, "not_in_channel": true, "is_archived": true,
	"invalid_auth": true, "not_authed": true, "account_inactive": true, "token_revoked": true,
	"missing_scope": true, "not_allowed_token_type": true, "user_not_found": true,
	"user_disabled": true, "cannot_dm_bot": true, "msg_too_long": true, "invalid_blocks": true,
	"no_text": true, "message_not_found": true, "cant_update_message": true,
	"restricted_action": true, "invalid_metadata_format": true, "invalid_arguments": true,
	"too_many_attachments": true, "edit_window_closed": true,
}

// Classify sorts an error from a Slack Web API call into what the worker
// needs to decide: retry, look before re-posting, or give up.
func Classify(err error) Failure {
	if err == nil {
		return Failure{}
	}
	if se, ok := errors.AsType[slack.SlackErrorResponse](err); ok {
		return Failure{Code: se.Err, Metric: se.Err, Permanent: permanentErrors[se.Err]}
	}
	if se, ok := errors.AsType[*slack.SlackErrorResponse](err); ok {
		return Failure{Code: se.Err, Metric: se.Err, Permanent: permanentErrors[se.Err]}
	}
	if rl, ok := errors.AsType[*slack.RateLimitedError](err); ok {
		return Failure{Code: "ratelimited (retry after " + rl.RetryAfter.String() + ")", Metric: "ratelimited", RetryAfter: rl.RetryAfter}
	}
	if sc, ok := errors.AsType[slack.StatusCodeError](err); ok {
		code := "http " + strconv.Itoa(sc.Code)
		return Failure{
			Code: code, Metric: code,
			Permanent: sc.Code >= 400 && sc.Code < 500 && sc.Code != 429 && sc.Code != 408,
			Ambiguous: sc.Code >= 500,
		}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return Failure{Code: "timeout", Metric: "timeout", Ambiguous: true}
	}
	if errors.Is(err, ErrPanic) {
		return Failure{Code: err.Error(), Metric: "panic"}
	}
	if _, ok := errors.AsType[net.Error](err); ok {
		return Failure{Code: err.Error(), Metric: "network", Ambiguous: true}
	}
	return Failure{Code: err.Error(), Metric: "network"}
}
