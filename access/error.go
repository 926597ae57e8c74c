package access

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Error codes let callers decide how to answer without matching text.
const (
	EINVALID      = "invalid"
	ENOTFOUND     = "not_found"
	ECONFLICT     = "conflict"
	EUNAUTHORIZED = "unauthorized"
	EINTERNAL     = "internal"
	// EOVERBUDGET refuses an approval that would use more seats of a role
	// than were purchased, until the approver confirms it.
	EOVERBUDGET = "over_budget"
	// EUNAVAILABLE refuses for now what Slack could not confirm (the
	// approver groups could not be read for too long): try again later.
	EUNAVAILABLE = "unavailable"
)

// Error is a domain error whose Message is safe to show to a Slack user.
type Error struct {
	Code    string
	Message string
}

// Error implements the error interface.
func (e *Error) Error() string { return e.Message }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error or *ValidationError in err's
// chain, EINTERNAL for any other error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Code
	}
	if e, ok := errors.AsType[*Refusal](err); ok {
		return e.Code()
	}
	if _, ok := errors.AsType[*BudgetError](err); ok {
		return EOVERBUDGET
	}
	if _, ok := errors.AsType[*ValidationError](err); ok {
		return EINVALID
	}
	return EINTERNAL
}

// ErrorMessage returns a message that is safe to show to a user: the domain
// message for domain errors and a generic sentence for everything else, so
// internals never leak into Slack.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Message
	}
	if e, ok := errors.AsType[*ValidationError](err); ok {
		return e.Error()
	}
	if e, ok := errors.AsType[*Refusal](err); ok {
		return e.Error()
	}
	if e, ok := errors.AsType[*BudgetError](err); ok {
		return e.Error()
	}
	return "Something went wrong on our side. The error was logged; please try again."
}

// Field names used by ValidationError; handlers map them to modal blocks.
const (
	FieldAction        = "action"
	FieldTarget        = "target"
	FieldRole          = "role"
	FieldJustification = "justification"
	FieldEndDate       = "end_date"
	FieldReason        = "reason"
)

// ValidationError reports which input fields are wrong and why, so a modal can
// show each message next to its field.
type ValidationError struct {
	Fields map[string]string
}

// Error implements the error interface with the fields in a stable order.
func (e *ValidationError) Error() string {
	return "invalid request: " + e.join(func(k, msg string) string { return k + ": " + msg }, "; ")
}

// Message joins the field messages in a stable order, for places that have
// no form to show them next to their fields.
func (e *ValidationError) Message() string {
	return e.join(func(_, msg string) string { return msg }, " ")
}

func (e *ValidationError) join(line func(field, msg string) string, sep string) string {
	keys := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, line(k, e.Fields[k]))
	}
	return strings.Join(parts, sep)
}

func (e *ValidationError) add(field, msg string) {
	if e.Fields == nil {
		e.Fields = map[string]string{}
	}
	if _, dup := e.Fields[field]; !dup {
		e.Fields[field] = msg
	}
}

func (e *ValidationError) orNil() error {
	if len(e.Fields) == 0 {
		return nil
	}
	return e
}

// BudgetError refuses an approval that would use more seats of a role than
// were purchased (SPEC §8), until the approver confirms it.
type BudgetError struct {
	RequestID string
	Budget    SeatBudget
}

// Error implements error.
func (e *BudgetError) Error() string {
	b := e.Budget
	return fmt.Sprintf("approving %s would use %s seat %d of the %d purchased (%d in use, %d being set up)",
		e.RequestID, b.Role.Label(), b.Used+b.Committed+1, b.Purchased, b.Used, b.Committed)
}
