package handlers_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/uxpin-access-bot/uxpin-access-bot/access"
	"github.com/uxpin-access-bot/uxpin-access-bot/handlers"
)

// A group row that failed or was taken out of the group loses its Mark done
// (SPEC §9.3); only open rows keep one, and Mark all counts only them.
func TestChecklistOffersOnlyOpenRows(t *testing.T) {
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	r := &access.Request{ID: "R-5", Action: access.ActionRemove, State: access.StateApproved, Rows: []access.GroupRow{
		{Target: "U1", Email: "a@example.com", Assignee: "ADM"},
		{Target: "U2", Email: "b@example.com", Assignee: "ADM", FailedBy: "ADM", FailedAt: now, FailReason: "not in UXPin"},
		{Target: "U3", Email: "c@example.com", Assignee: "ADM", Dropped: "taken over by the leaver policy", DroppedAt: now},
		{Target: "U4", Email: "d@example.com", Assignee: "ADM", DoneBy: "ADM", DoneAt: now},
	}}
	_, blocks := handlers.Render(access.Notice{Kind: access.NoticeTaskUpdate, RequestID: r.ID, To: "ADM"}, r)
	raw, err := json.Marshal(blocks)
	if err != nil {
		t.Fatal(err)
	}
	js := string(raw)
	if !strings.Contains(js, `"R-5|0"`) {
		t.Errorf("the open row has no Mark done: %s", js)
	}
	for _, v := range []string{`"R-5|1"`, `"R-5|2"`, `"R-5|3"`} {
		if strings.Contains(js, v) {
			t.Errorf("a closed row still offers Mark done (%s)", v)
		}
	}
	if !strings.Contains(js, "Mark all 1 done") || !strings.Contains(js, "could not be done") || !strings.Contains(js, "taken over by the leaver policy") {
		t.Errorf("checklist does not say where each row stands: %s", js)
	}
}
