package storage_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/uxpin-access-bot/uxpin-access-bot/access"
)

// junkTeamList is a Team Members "list" of about size bytes: one real member
// and then lines without an address, each of which is a warning. It returns
// the text and the number of junk lines.
func junkTeamList(size int) (string, int) {
	var b strings.Builder
	b.WriteString("jane@example.com Editor\n")
	n := 0
	for b.Len() < size {
		// 64 bytes a line, so 5 MB stays under the parser's line cap and
		// every junk line is a warning that must be counted.
		fmt.Fprintf(&b, "row %06d of a paste without any address in it, just words....\n", n)
		n++
	}
	return b.String(), n
}

// TestSeatAuditOfJunkStaysSmall runs a seat audit on a 5 MB paste of junk
// lines, the most an upload may be: the stored reconciliation keeps a few
// hundred warnings and the count of all of them, not millions of rows.
func TestSeatAuditOfJunkStaysSmall(t *testing.T) {
	db, clk, path := MustOpenDB(t)
	svc := access.NewService(db, directory{"A1"}, access.Config{Admins: []string{"ADM1"}}, clk.Now)
	text, junk := junkTeamList(5 << 20)
	if junk >= access.MaxTeamListLines {
		t.Fatalf("%d junk lines reach the line cap; the test wants every one counted", junk)
	}
	ctx := context.Background()
	rec, err := svc.RunAudit(ctx, "ADM1", text, nil)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := db.Reconciliation(ctx, rec.ID)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(stored.Audit.Warnings); n > access.MaxWarnings {
		t.Errorf("stored %d warnings; want at most %d", n, access.MaxWarnings)
	}
	if got := stored.Audit.WarningCount(); got != junk {
		t.Errorf("stored warning count = %d; want %d, one per junk line", got, junk)
	}
	if want := fmt.Sprintf("; %d rows skipped", junk); !strings.HasSuffix(stored.Summary(), want) {
		t.Errorf("summary = %q; want it to end with %q", stored.Summary(), want)
	}
	raw, err := json.Marshal(stored)
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) > 1<<20 {
		t.Errorf("the stored reconciliation is %d bytes as JSON; want under 1 MB", len(raw))
	}
	if fi, err := os.Stat(path); err != nil {
		t.Fatal(err)
	} else if fi.Size() > 4<<20 {
		t.Errorf("the database file grew to %d bytes; want under 4 MB", fi.Size())
	}
}

// TestOldReconciliationCountsItsWarnings reads a seat audit stored before
// the warnings were counted: its count is the warnings it kept.
func TestOldReconciliationCountsItsWarnings(t *testing.T) {
	old := `{"id":"A-1","time":"2026-03-02T09:00:00Z","actor":"ADM1","audit":{"Findings":null,"Members":1,"SeatsByRole":{"editor":1},` +
		`"Warnings":[{"Line":2,"Text":"x","Problem":"this row has no email address; it was ignored"},{"Line":3,"Text":"y","Problem":"this row has no email address; it was ignored"}]}}`
	var rec access.Reconciliation
	if err := json.Unmarshal([]byte(old), &rec); err != nil {
		t.Fatal(err)
	}
	if got := rec.Audit.WarningCount(); got != 2 {
		t.Errorf("WarningCount of an old reconciliation = %d; want 2", got)
	}
	if !strings.HasSuffix(rec.Summary(), "; 2 rows skipped") {
		t.Errorf("summary = %q; want 2 rows skipped", rec.Summary())
	}
}
