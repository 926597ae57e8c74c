package ops

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/uxpin-access-bot/uxpin-access-bot/access"
)

// EventSource iterates the audit log in order inside one read transaction.
type EventSource interface {
	Events(ctx context.Context, fn func(access.Event) error) error
}

// Export formats.
const (
	FormatCSV   = "csv"
	FormatJSONL = "jsonl"
)

// ErrFormat reports an export format other than csv or jsonl.
var ErrFormat = errors.New("format must be csv or jsonl")

// Columns of the audit export, in order. The columns that say what a
// request asked and why (requester to end_zone) come last, so that readers
// of the older, shorter export keep their column positions.
var Columns = []string{"time", "request_id", "action", "actor", "target_email", "role", "from_state", "to_state", "detail",
	"requester", "target", "justification", "end_date", "end_zone"}

// exportRow is one audit event as exported; its JSON names are the columns.
type exportRow struct {
	Time          string `json:"time"`
	RequestID     string `json:"request_id"`
	Action        string `json:"action"`
	Actor         string `json:"actor"`
	TargetEmail   string `json:"target_email"`
	Role          string `json:"role"`
	FromState     string `json:"from_state"`
	ToState       string `json:"to_state"`
	Detail        string `json:"detail"`
	Requester     string `json:"requester"`
	Target        string `json:"target"`
	Justification string `json:"justification"`
	EndDate       string `json:"end_date"`
	EndZone       string `json:"end_zone"`
}

func row(e access.Event) exportRow {
	return exportRow{
		Time: e.Time.UTC().Format(time.RFC3339), RequestID: e.RequestID, Action: string(e.Action),
		Actor: e.Actor, TargetEmail: e.TargetEmail, Role: string(e.Role),
		FromState: string(e.From), ToState: string(e.To), Detail: e.Detail,
		Requester: e.Requester, Target: e.Target, Justification: e.Justification, EndDate: e.EndDate, EndZone: e.EndZone,
	}
}

func (r exportRow) cells() []string {
	return []string{r.Time, r.RequestID, r.Action, r.Actor, r.TargetEmail, r.Role, r.FromState, r.ToState, r.Detail,
		r.Requester, r.Target, r.Justification, r.EndDate, r.EndZone}
}

// Range limits an export to events at or after Since and before Until;
// zero times are open ends.
type Range struct{ Since, Until time.Time }

func (r Range) contains(t time.Time) bool {
	return (r.Since.IsZero() || !t.Before(r.Since)) && (r.Until.IsZero() || t.Before(r.Until))
}

// ParseTime reads an export bound: RFC 3339 or a date (YYYY-MM-DD, UTC
// midnight). Empty is the zero time.
func ParseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not a date (2026-01-31) or an RFC 3339 time", s)
	}
	return t, nil
}

// Export writes the audit log in format to w, streaming from one read
// transaction so it works while the bot runs.
func Export(ctx context.Context, src EventSource, w io.Writer, format string, rng Range) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	var write func(exportRow) error
	var cw *csv.Writer
	switch format {
	case FormatCSV:
		// A BOM makes spreadsheets read the file as UTF-8.
		if _, err := bw.WriteString("\ufeff"); err != nil {
			return err
		}
		cw = csv.NewWriter(bw)
		if err := cw.Write(Columns); err != nil {
			return err
		}
		write = func(r exportRow) error {
			cells := r.cells()
			for i, c := range cells {
				cells[i] = access.SafeCell(c)
			}
			return cw.Write(cells)
		}
	case FormatJSONL:
		enc := json.NewEncoder(bw)
		write = func(r exportRow) error { return enc.Encode(r) }
	default:
		return fmt.Errorf("export: %w, not %q", ErrFormat, format)
	}
	err := src.Events(ctx, func(e access.Event) error {
		if !rng.contains(e.Time) {
			return nil
		}
		return write(row(e))
	})
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if cw != nil {
		cw.Flush()
		if err := cw.Error(); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// ParseFormat validates a format name.
func ParseFormat(s string) (string, error) {
	switch f := strings.ToLower(s); f {
	case FormatCSV, FormatJSONL:
		return f, nil
	}
	return "", fmt.Errorf("%w, not %q", ErrFormat, s)
}
