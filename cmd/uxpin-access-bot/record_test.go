package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"github.com/uxpin-access-bot/uxpin-access-bot/handlers"
	"github.com/uxpin-access-bot/uxpin-access-bot/ops"
)

// TestAuditExportAnswersWhy: a request submitted in Slack with a
// justification and an end date is in the audit export, from its
// submission on, with who asked, for whom, which role, why and until when
// (SPEC §9.7).
func TestAuditExportAnswersWhy(t *testing.T) {
	clk := &testClock{t: time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)}
	h := newHarness(t, nil, withClock(clk))
	p := h.submitRequest(uAlice, "grant", uBob, "viewer", "Reviews the Q1 prototypes", "2026-12-10")
	if p.ResponseAction != "update" || len(p.Errors) > 0 {
		t.Fatalf("submission refused: %+v", p)
	}
	h.click(uCarol, h.dmWith(uCarol, "UXPin access request R-1:", "Approve"), handlers.ActionApprove)
	h.waitState("R-1", "approved")

	var buf bytes.Buffer
	if err := ops.Export(context.Background(), h.m.DB, &buf, ops.FormatCSV, ops.Range{}); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(buf.String(), "\ufeff"))).ReadAll()
	if err != nil || len(rows) < 3 {
		t.Fatalf("export = %d rows, %v; want the header, the submission and the approval", len(rows), err)
	}
	want := map[string]string{
		"request_id": "R-1", "requester": uAlice, "target": uBob, "target_email": "bob@example.com",
		"role": "viewer", "justification": "Reviews the Q1 prototypes", "end_date": "2026-12-10",
	}
	for _, state := range []string{"pending", "approved"} {
		var got map[string]string
		for _, r := range rows[1:] {
			m := map[string]string{}
			for i, col := range rows[0] {
				m[col] = r[i]
			}
			if m["request_id"] == "R-1" && m["to_state"] == state {
				got = m
			}
		}
		if got == nil {
			t.Errorf("no export row for R-1 becoming %s", state)
			continue
		}
		for col, w := range want {
			if got[col] != w {
				t.Errorf("export row for R-1 becoming %s: %s = %q; want %q", state, col, got[col], w)
			}
		}
	}
}
