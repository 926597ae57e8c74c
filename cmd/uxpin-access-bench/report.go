package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Row is one line of the results table.
type Row struct {
	Section string  `json:"section"`
	Metric  string  `json:"metric"`
	Value   float64 `json:"value"`
	Unit    string  `json:"unit"`
	// Shown is Value as printed in the table.
	Shown string `json:"shown"`
	// Target is the goal from the issue, "" for context numbers.
	Target string `json:"target,omitempty"`
	// Result is PASS or MISS against Target, "" without one.
	Result string `json:"result,omitempty"`
}

// Report is everything the bench prints and writes as JSON.
type Report struct {
	Mode      string    `json:"mode"` // "full" or "small"
	Started   time.Time `json:"started"`
	Seconds   float64   `json:"seconds"`
	GoVersion string    `json:"go_version"`
	CPUs      int       `json:"cpus"`
	Rows      []Row     `json:"rows"`
	// Failures are correctness failures: lost or duplicated messages,
	// lifecycles that did not complete, protocol violations. Any makes the
	// command exit non-zero; timings never do.
	Failures []string `json:"failures"`
	// Notes explain how a number was obtained.
	Notes []string `json:"notes,omitempty"`
}

func (r *Report) add(row Row) { r.Rows = append(r.Rows, row) }

// fail records a correctness failure.
func (r *Report) fail(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	r.Failures = append(r.Failures, msg)
	fmt.Fprintln(os.Stderr, "FAIL:", msg)
}

func (r *Report) note(format string, args ...any) {
	r.Notes = append(r.Notes, fmt.Sprintf(format, args...))
}

// ms adds a duration row in milliseconds; max is the target's upper bound
// (0: no target).
func (r *Report) ms(section, metric string, d time.Duration, max time.Duration) {
	v := float64(d) / float64(time.Millisecond)
	row := Row{Section: section, Metric: metric, Value: round3(v), Unit: "ms", Shown: fmtMS(v)}
	if max > 0 {
		row.Target = "≤ " + fmtMS(float64(max)/float64(time.Millisecond))
		row.Result = passIf(d <= max)
	}
	r.add(row)
}

// num adds a plain number row with an optional target check.
func (r *Report) num(section, metric string, v float64, unit, shown, target string, ok *bool) {
	row := Row{Section: section, Metric: metric, Value: round3(v), Unit: unit, Shown: shown, Target: target}
	if ok != nil {
		row.Result = passIf(*ok)
	}
	r.add(row)
}

func passIf(ok bool) string {
	if ok {
		return "PASS"
	}
	return "MISS"
}

func ptr(b bool) *bool { return &b }

func round3(v float64) float64 { return math.Round(v*1000) / 1000 }

func fmtMS(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f ms", v)
	case v >= 10:
		return fmt.Sprintf("%.1f ms", v)
	case v >= 1:
		return fmt.Sprintf("%.2f ms", v)
	}
	if v >= 0.1 {
		return fmt.Sprintf("%.3f ms", v)
	}
	return fmt.Sprintf("%.0f µs", v*1000)
}

// print writes the table.
func (r *Report) print(w io.Writer) {
	fmt.Fprintf(w, "uxpin-access-bench (%s mode, %s, %d CPUs), %.0f s\n\n", r.Mode, r.GoVersion, r.CPUs, r.Seconds)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "section\tmetric\tvalue\ttarget\tresult")
	last := ""
	for _, row := range r.Rows {
		sec := row.Section
		if sec == last {
			sec = ""
		}
		last = row.Section
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", sec, row.Metric, row.Shown, row.Target, row.Result)
	}
	_ = tw.Flush()
	if len(r.Notes) > 0 {
		fmt.Fprintln(w)
		for _, n := range r.Notes {
			fmt.Fprintln(w, "note:", n)
		}
	}
	fmt.Fprintln(w)
	if len(r.Failures) == 0 {
		fmt.Fprintln(w, "correctness: OK (every lifecycle completed, one task each, no message lost or doubled, no violation)")
		return
	}
	fmt.Fprintf(w, "correctness: %d FAILURE(S)\n", len(r.Failures))
	for _, f := range r.Failures {
		fmt.Fprintln(w, "  -", f)
	}
}

func (r *Report) writeJSON(path string) error {
	if r.Failures == nil {
		r.Failures = []string{}
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// latencies collects durations and answers percentiles (nearest rank).
type latencies struct{ d []time.Duration }

func (l *latencies) add(d time.Duration) { l.d = append(l.d, d) }

func (l *latencies) pct(p float64) time.Duration {
	if len(l.d) == 0 {
		return 0
	}
	s := slices.Clone(l.d)
	slices.Sort(s)
	i := int(math.Ceil(p/100*float64(len(s)))) - 1
	return s[max(0, min(i, len(s)-1))]
}

func (l *latencies) max() time.Duration { return l.pct(100) }

func (l *latencies) count(over time.Duration) int {
	n := 0
	for _, d := range l.d {
		if d > over {
			n++
		}
	}
	return n
}

func fmtBytes(n float64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", n/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", n/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", n/(1<<10))
	}
	return fmt.Sprintf("%.0f B", n)
}

func fmtCount(n int) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
