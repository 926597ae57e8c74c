package ops_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"

	"github.com/uxpin-access-bot/uxpin-access-bot/access"
	"github.com/uxpin-access-bot/uxpin-access-bot/ops"
)

// TestExportCarriesWhy: the submission event of a request, as the lifecycle
// builds it with access.EventFor, is exported with who asked, for whom,
// which role, why and until when, in both formats (SPEC §9.7).
func TestExportCarriesWhy(t *testing.T) {
	db, _ := openDB(t)
	_, err := db.CreateRequest(context.Background(), func(_ access.Tx, r *access.Request) (access.Effects, error) {
		r.Action, r.Requester, r.Target, r.TargetEmail = access.ActionGrant, "U0ALICE1", "U0BOB001", "bob@example.com"
		r.Role, r.Justification, r.EndDate, r.State = access.RoleAdmin, "=runs the design system audit", "2026-12-10", access.StatePending
		e := access.EventFor(r)
		e.Time, e.Actor, e.To, e.Detail = t0, r.Requester, access.StatePending, "submitted"
		return access.Effects{Events: []access.Event{e}}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"request_id": "R-1", "action": "grant", "actor": "U0ALICE1", "requester": "U0ALICE1", "target": "U0BOB001",
		"target_email": "bob@example.com", "role": "admin", "end_date": "2026-12-10", "to_state": "pending",
	}

	var buf bytes.Buffer
	if err := ops.Export(context.Background(), db, &buf, ops.FormatCSV, ops.Range{}); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(buf.String(), "\ufeff"))).ReadAll()
	if err != nil || len(rows) != 2 {
		t.Fatalf("CSV = %d rows, %v; want header and one event", len(rows), err)
	}
	got := map[string]string{}
	for i, col := range rows[0] {
		got[col] = rows[1][i]
	}
	for col, w := range want {
		if got[col] != w {
			t.Errorf("CSV %s = %q; want %q", col, got[col], w)
		}
	}
	// The justification is user text: a spreadsheet must show, not run, it.
	if got["justification"] != "'=runs the design system audit" {
		t.Errorf("CSV justification = %q; want it quoted against formulas", got["justification"])
	}

	buf.Reset()
	if err := ops.Export(context.Background(), db, &buf, ops.FormatJSONL, ops.Range{}); err != nil {
		t.Fatal(err)
	}
	var line map[string]string
	if err := json.Unmarshal(bytes.TrimSpace(buf.Bytes()), &line); err != nil {
		t.Fatal(err)
	}
	want["justification"] = "=runs the design system audit"
	for col, w := range want {
		if line[col] != w {
			t.Errorf("JSONL %s = %q; want %q", col, line[col], w)
		}
	}
}
