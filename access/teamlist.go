package access

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// This file reads UXPin's Team Members list (SPEC §8) and compares it with the
// ledger. UXPin has no API, so the list reaches us as whatever an admin could
// get out of app.uxpin.com: a CSV export or rows copied from the web page.

// Member is one row of UXPin's Team Members list.
type Member struct {
	Name  string
	Email string // as written in the list; compare with strings.EqualFold
	Role  Role   // "" when the row's role was not recognised
	Line  int    // 1-based line of the row in the parsed text
}

// ParseWarning is a row that could not be used, or could only be used in
// part, said in words an admin understands.
type ParseWarning struct {
	Line    int    // 1-based line in the parsed text
	Text    string // the row, truncated to 120 runes
	Problem string
}

// String renders the warning as one line for a Slack message or a log.
func (w ParseWarning) String() string { return fmt.Sprintf("line %d: %s", w.Line, w.Problem) }

// maxWarningText is how many runes of a row a ParseWarning quotes.
const maxWarningText = 120

// headerSearchLines is how many non-blank lines ParseTeamList looks at for a
// CSV header before deciding the text was pasted from the web page.
const headerSearchLines = 20

// Bounds on what ReadTeamList reads and keeps. A real Team Members list is
// far below them; they are there so that a 5 MB upload of junk costs a few
// kilobytes to store, not millions of warnings and hundreds of megabytes.
const (
	// MaxTeamListLines is how many lines of a list are read; the rest is
	// ignored, with a warning.
	MaxTeamListLines = 100_000
	// MaxTeamMembers is how many members a list may have; rows past it are
	// ignored, with a warning.
	MaxTeamMembers = 20_000
	// MaxWarnings is how many warnings are kept; the others are only counted.
	MaxWarnings = 200
)

// emailRe finds an email address among other text. It wants a dotted domain
// with an alphabetic top-level label and does not let the address start with
// a dot or a quote, so "<jane@example.com>", "'jane@example.com'" and
// "mailto:jane@example.com." all yield jane@example.com.
var emailRe = regexp.MustCompile(`[A-Za-z0-9_%+\-][A-Za-z0-9._%+\-']*@(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}\b`)

// youRe matches the "(you)" UXPin puts after the signed-in admin's name.
var youRe = regexp.MustCompile(`(?i)\(\s*you\s*\)`)

// roleNames maps a role as UXPin or an export may spell it, lower-cased with
// single spaces, to a Role.
var roleNames = map[string]Role{
	"viewer":        RoleViewer,
	"view only":     RoleViewer,
	"reviewer":      RoleViewer,
	"editor":        RoleEditor,
	"member":        RoleEditor,
	"designer":      RoleEditor,
	"admin":         RoleAdmin,
	"administrator": RoleAdmin,
	"owner":         RoleAdmin,
	"account owner": RoleAdmin,
}

// TeamList is UXPin's Team Members list as ReadTeamList understood it.
type TeamList struct {
	Members []Member
	// Warnings are the rows that could not be fully used, at most
	// MaxWarnings of them in the order of the text, after any warning that
	// the list was too long to read in full.
	Warnings []ParseWarning
	// WarningsTotal counts every warning, kept in Warnings or not.
	WarningsTotal int
}

// ParseTeamList is ReadTeamList for callers that need no count of the
// warnings it did not keep.
func ParseTeamList(text string) ([]Member, []ParseWarning, error) {
	l, err := ReadTeamList(text)
	return l.Members, l.Warnings, err
}

// ReadTeamList parses UXPin's Team Members list, either a CSV export or rows
// copied from the web page, and returns its members and the rows it could not
// fully use.
//
// A CSV export is recognised by a header row with an email column, a role
// column and usually a name column, in any order and among other columns,
// separated by commas, semicolons or tabs. Anything else is read line by line
// as a paste: each line with an email address is a member, its role is the
// word Viewer, Editor or Admin (or Owner) found on the line, and its name is
// the text before the address.
//
// Members are deduplicated by case-insensitive email; the first row wins and
// later ones become warnings. A row whose role is not recognised is still a
// member, with Role "", and a warning: an unknown role must not make a seat
// disappear from the audit. Blank lines are ignored.
//
// Only the first MaxTeamListLines lines and MaxTeamMembers members are read,
// and only MaxWarnings warnings kept: what was cut is said in a warning that
// comes first, since an audit of part of the list reports the seats it did
// not read as missing.
//
// ReadTeamList never fails on bad rows. It returns an *Error with code
// EINVALID only when the text has no member and no CSV header at all, such as
// an empty paste or text that is not the team list. A CSV header without rows
// is not an error: the caller should treat zero members with care.
func ReadTeamList(text string) (TeamList, error) {
	text = normalizeText(text)
	if strings.TrimSpace(text) == "" {
		return TeamList{}, Errorf(EINVALID, "The team list is empty. In UXPin, open Account Settings > Team Members, then copy the list or export it as CSV, and paste or upload it here.")
	}
	// SplitN keeps a long text from becoming millions of strings; the CSV
	// reader gets the same lines and no more.
	lines := strings.SplitN(text, "\n", MaxTeamListLines+1)
	var cut *ParseWarning
	if len(lines) > MaxTeamListLines {
		rest := lines[MaxTeamListLines]
		lines = lines[:MaxTeamListLines]
		text = text[:len(text)-len(rest)-1]
		cut = unreadWarning(rest)
	}
	p := &teamParser{lines: lines, seen: map[string]int{}}
	h, cols, comma, ok := findHeader(p.lines)
	if ok {
		p.parseCSV(text, h, cols, comma)
	} else {
		for i, l := range p.lines {
			if strings.TrimSpace(l) != "" {
				p.loose(i+1, l)
			}
		}
	}
	if len(p.members) == 0 && !ok {
		return TeamList{}, Errorf(EINVALID, "No team members found: none of the %d lines has a valid email address. In UXPin, open Account Settings > Team Members, then copy the rows (with their email addresses) or export the list as CSV, and paste or upload it here.", p.nonBlank())
	}
	var first []ParseWarning
	if p.dropped > 0 {
		which := "this row was"
		if p.dropped > 1 {
			which = fmt.Sprintf("this row and %d more after it were", p.dropped-1)
		}
		first = append(first, ParseWarning{
			Line: p.firstDropped, Text: truncateRunes(strings.TrimSpace(p.lines[p.firstDropped-1]), maxWarningText),
			Problem: fmt.Sprintf("the seat audit reads at most %d members, so %s ignored: their seats may be reported as missing", MaxTeamMembers, which),
		})
	}
	if cut != nil {
		first = append(first, *cut)
	}
	warnings := p.warnings
	if len(first) > 0 {
		warnings = append(first, warnings[:min(len(warnings), MaxWarnings-len(first))]...)
	}
	return TeamList{Members: p.members, Warnings: warnings, WarningsTotal: p.warned + len(first)}, nil
}

// unreadWarning is the warning that rest, the text past MaxTeamListLines
// lines, was not read, or nil if rest is blank.
func unreadWarning(rest string) *ParseWarning {
	line := MaxTeamListLines + 1
	for {
		l, more, found := strings.Cut(rest, "\n")
		if strings.TrimSpace(l) != "" {
			return &ParseWarning{
				Line: line, Text: truncateRunes(strings.TrimSpace(l), maxWarningText),
				Problem: fmt.Sprintf("the seat audit reads at most %d lines, so the list was not read from here on: seats listed after this point may be reported as missing", MaxTeamListLines),
			}
		}
		if !found {
			return nil
		}
		rest, line = more, line+1
	}
}

// normalizeText decodes UTF-16 (Excel's "Unicode Text"), drops a byte order
// mark, replaces invalid UTF-8 and turns CRLF and lone CR line ends into LF.
func normalizeText(text string) string {
	switch {
	case strings.HasPrefix(text, "\xff\xfe"):
		text = decodeUTF16(text[2:], false)
	case strings.HasPrefix(text, "\xfe\xff"):
		text = decodeUTF16(text[2:], true)
	}
	if !utf8.ValidString(text) {
		text = strings.ToValidUTF8(text, "\uFFFD")
	}
	text = strings.TrimPrefix(text, "\uFEFF")
	if strings.IndexByte(text, '\r') >= 0 {
		text = strings.ReplaceAll(text, "\r\n", "\n")
		text = strings.ReplaceAll(text, "\r", "\n")
	}
	return text
}

func decodeUTF16(b string, bigEndian bool) string {
	u := make([]uint16, len(b)/2)
	for i := range u {
		if bigEndian {
			u[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
		} else {
			u[i] = uint16(b[2*i+1])<<8 | uint16(b[2*i])
		}
	}
	return string(utf16.Decode(u))
}

// teamColumns holds the indexes of the recognised columns of a CSV header;
// -1 means absent.
type teamColumns struct {
	name, first, last, email, role int
}

// width is how many fields a row needs to reach the email and role columns.
func (c teamColumns) width() int { return max(c.email, c.role) + 1 }

// findHeader looks for a CSV header among the first lines before the first
// email address. It returns the header's 0-based line index, its columns and
// its delimiter.
func findHeader(lines []string) (int, teamColumns, rune, bool) {
	seen := 0
	for i, l := range lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		if seen++; seen > headerSearchLines || emailRe.MatchString(l) {
			break
		}
		for _, comma := range []rune{',', ';', '\t'} {
			if !strings.ContainsRune(l, comma) {
				continue
			}
			if cols, ok := matchColumns(readLine(l, comma)); ok {
				return i, cols, comma, true
			}
		}
	}
	return 0, teamColumns{}, 0, false
}

// matchColumns recognises the columns of a header row. It needs an email and
// a role column; the name may be one column or a first and a last name.
func matchColumns(fields []string) (teamColumns, bool) {
	c := teamColumns{-1, -1, -1, -1, -1}
	set := func(p *int, i int) {
		if *p < 0 {
			*p = i
		}
	}
	for i, f := range fields {
		switch normalizeHeader(f) {
		case "name", "full name", "member", "member name", "display name":
			set(&c.name, i)
		case "first name", "given name":
			set(&c.first, i)
		case "last name", "surname", "family name":
			set(&c.last, i)
		case "email", "e-mail", "email address", "e-mail address", "mail":
			set(&c.email, i)
		case "role", "permission", "permissions", "access", "access level", "team role", "user role":
			set(&c.role, i)
		}
	}
	return c, c.email >= 0 && c.role >= 0
}

func normalizeHeader(s string) string {
	s = strings.ToLower(strings.ReplaceAll(s, "_", " "))
	return strings.Join(strings.Fields(strings.Trim(s, " \t\"'*:")), " ")
}

// newCSVReader returns a reader that is forgiving about quotes and ragged rows.
func newCSVReader(r io.Reader, comma rune) *csv.Reader {
	cr := csv.NewReader(r)
	cr.Comma = comma
	cr.LazyQuotes = true
	cr.FieldsPerRecord = -1
	return cr
}

// readLine splits one line into fields; it returns nil if it cannot.
func readLine(line string, comma rune) []string {
	rec, err := newCSVReader(strings.NewReader(line), comma).Read()
	if err != nil {
		return nil
	}
	return rec
}

// teamParser accumulates the result of ReadTeamList.
type teamParser struct {
	lines        []string
	members      []Member
	warnings     []ParseWarning // the first MaxWarnings
	warned       int            // every warning, kept or not
	seen         map[string]int // lower-case email → line of its first row
	dropped      int            // member rows past MaxTeamMembers
	firstDropped int            // the line of the first of them
}

func (p *teamParser) nonBlank() int {
	n := 0
	for _, l := range p.lines {
		if strings.TrimSpace(l) != "" {
			n++
		}
	}
	return n
}

// warn records a warning about line. Past MaxWarnings it only counts it:
// nobody reads thousands of them, and keeping them is what made a junk
// upload cost hundreds of megabytes.
func (p *teamParser) warn(line int, problem string) {
	if p.warned++; p.warned > MaxWarnings {
		return
	}
	p.warnings = append(p.warnings, ParseWarning{
		Line:    line,
		Text:    truncateRunes(strings.TrimSpace(p.lines[line-1]), maxWarningText),
		Problem: problem,
	})
}

// add records a member unless its email was seen before; roleProblem, if
// any, is reported only for members that are kept.
func (p *teamParser) add(m Member, roleProblem string) {
	key := strings.ToLower(m.Email)
	if first, dup := p.seen[key]; dup {
		p.warn(m.Line, fmt.Sprintf("%s is already listed on line %d; this row was ignored", m.Email, first))
		return
	}
	if len(p.members) >= MaxTeamMembers {
		if p.dropped++; p.dropped == 1 {
			p.firstDropped = m.Line
		}
		return
	}
	p.seen[key] = m.Line
	p.members = append(p.members, m)
	if roleProblem != "" {
		p.warn(m.Line, roleProblem)
	}
}

// parseCSV reads the CSV whose header is line index h (0-based) of text.
func (p *teamParser) parseCSV(text string, h int, cols teamColumns, comma rune) {
	off := 0
	for _, l := range p.lines[:h] {
		off += len(l) + 1
	}
	r := newCSVReader(strings.NewReader(text[off:]), comma)
	header := true
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return
		}
		if err != nil {
			if pe, ok := errors.AsType[*csv.ParseError](err); ok && pe.StartLine > 0 && h+pe.StartLine <= len(p.lines) {
				p.warn(h+pe.StartLine, "this row's quotes are broken, so it could not be read; it was ignored")
				continue
			}
			return
		}
		if header {
			header = false
			continue
		}
		if blankRecord(rec) {
			continue
		}
		start, _ := r.FieldPos(0)
		last, _ := r.FieldPos(len(rec) - 1)
		start, end := h+start, h+last+strings.Count(rec[len(rec)-1], "\n")
		if end > start && countEmails(rec) > 1 {
			// An unbalanced quote swallowed the rows after it. Read each of
			// those lines on its own rather than lose them.
			for l := start; l <= end && l <= len(p.lines); l++ {
				if strings.TrimSpace(p.lines[l-1]) == "" {
					continue
				}
				if rec := readLine(p.lines[l-1], comma); rec != nil && !blankRecord(rec) {
					p.csvRow(rec, l, cols)
				} else {
					p.loose(l, p.lines[l-1])
				}
			}
			continue
		}
		p.csvRow(rec, start, cols)
	}
}

func blankRecord(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

func countEmails(rec []string) int {
	n := 0
	for _, f := range rec {
		n += len(emailRe.FindAllStringIndex(f, 2))
		if n > 1 {
			break
		}
	}
	return n
}

// csvRow turns one CSV record that starts on line into a member or a warning.
func (p *teamParser) csvRow(rec []string, line int, cols teamColumns) {
	if len(rec) < cols.width() {
		// Too few fields to reach the email and role columns: a row whose
		// quoting or delimiters are off. Read it like a pasted line.
		p.loose(line, p.lines[line-1])
		return
	}
	cell := strings.TrimSpace(rec[cols.email])
	if h := normalizeHeader(cell); h == "email" || h == "e-mail" || h == "email address" || h == "e-mail address" {
		return // the header repeated, as when two exports are pasted together
	}
	loc := emailRe.FindStringIndex(cell)
	if loc == nil {
		if cell == "" {
			p.warn(line, "this row has no email address; it was ignored")
		} else {
			p.warn(line, fmt.Sprintf("%q is not a valid email address; this row was ignored", truncateRunes(cell, 60)))
		}
		return
	}
	name := cellName(field(rec, cols.name))
	if name == "" {
		name = strings.TrimSpace(cellName(field(rec, cols.first)) + " " + cellName(field(rec, cols.last)))
	}
	role, problem := cellRole(rec[cols.role])
	p.add(Member{Name: name, Email: cell[loc[0]:loc[1]], Role: role, Line: line}, problem)
}

func field(rec []string, i int) string {
	if i < 0 || i >= len(rec) {
		return ""
	}
	return rec[i]
}

// cellName cleans a name taken from a CSV cell.
func cellName(s string) string {
	if strings.IndexByte(s, '(') >= 0 {
		s = youRe.ReplaceAllString(s, " ")
	}
	return strings.Join(strings.Fields(s), " ")
}

// cellRole maps the role column of a CSV row. Besides the exact names it
// accepts a cell whose words name exactly one role, such as "Admin (Owner)".
func cellRole(cell string) (Role, string) {
	c := strings.Join(strings.Fields(strings.ToLower(cell)), " ")
	if c == "" {
		return "", "this row has no role; the seat is counted with an unknown role"
	}
	if r, ok := roleNames[strings.ReplaceAll(c, "-", " ")]; ok {
		return r, ""
	}
	if found := scanRoles(c, true); len(found) == 1 {
		return found[0], ""
	}
	return "", fmt.Sprintf("unknown role %q (expected Viewer, Editor or Admin); the seat is counted with an unknown role", truncateRunes(strings.TrimSpace(cell), 40))
}

// loose reads one line copied from the web page: the first email address on
// it, the name before it and a role word anywhere but inside the address.
func (p *teamParser) loose(line int, s string) {
	loc := emailRe.FindStringIndex(s)
	if loc == nil {
		switch {
		case headerish(s):
			// The column titles of the page, e.g. "Name Email Role Last active".
		case strings.Contains(s, "@"):
			p.warn(line, "this row has no valid email address; it was ignored")
		default:
			p.warn(line, "this row has no email address; it was ignored")
		}
		return
	}
	before, after := s[:loc[0]], s[loc[1]:]
	role, problem := lineRole(before, after)
	p.add(Member{Name: pastedName(before), Email: s[loc[0]:loc[1]], Role: role, Line: line}, problem)
}

// headerish reports whether a line without an email address looks like the
// column titles of the list.
func headerish(s string) bool {
	l := strings.ToLower(s)
	return (strings.Contains(l, "email") || strings.Contains(l, "e-mail")) &&
		(strings.Contains(l, "name") || strings.Contains(l, "role"))
}

// lineRole finds the role of a pasted line. The role normally follows the
// email address; a role word before it is used only if none follows.
func lineRole(before, after string) (Role, string) {
	if found := scanRoles(strings.ToLower(after), true); len(found) > 0 {
		if len(found) > 1 {
			labels := make([]string, len(found))
			for i, r := range found {
				labels[i] = r.Label()
			}
			return found[0], fmt.Sprintf("this row names several roles (%s); %s was used", strings.Join(labels, ", "), found[0].Label())
		}
		return found[0], ""
	}
	if found := scanRoles(strings.ToLower(before), false); len(found) > 0 {
		return found[0], ""
	}
	return "", "no role (Viewer, Editor or Admin) found in this row; the seat is counted with an unknown role"
}

// scanRoles returns the distinct roles named by the words of the lower-case
// text s, in order of appearance. The generic words "member" and "designer"
// count only if weak is set and no other role word is present.
func scanRoles(s string, weak bool) []Role {
	words := strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) })
	var strong, soft []Role
	addRole := func(list *[]Role, r Role) {
		if !slices.Contains(*list, r) {
			*list = append(*list, r)
		}
	}
	for i, w := range words {
		switch w {
		case "viewer", "reviewer":
			addRole(&strong, RoleViewer)
		case "view":
			if i+1 < len(words) && words[i+1] == "only" {
				addRole(&strong, RoleViewer)
			}
		case "editor":
			addRole(&strong, RoleEditor)
		case "admin", "administrator", "owner":
			addRole(&strong, RoleAdmin)
		case "member", "designer":
			if weak {
				addRole(&soft, RoleEditor)
			}
		}
	}
	if len(strong) > 0 {
		return strong
	}
	return soft
}

// pastedName is the text before the email address on a pasted line, without
// "(you)" and the punctuation around the address.
func pastedName(s string) string {
	if strings.IndexByte(s, '(') >= 0 {
		s = youRe.ReplaceAllString(s, " ")
	}
	s = strings.TrimRight(s, " \t<([{\"'")
	if len(s) >= 7 && strings.EqualFold(s[len(s)-7:], "mailto:") {
		s = s[:len(s)-7]
	}
	s = strings.Trim(s, " \t<>()[]{}\"',;:|-–—•·*")
	return strings.Join(strings.Fields(s), " ")
}

// truncateRunes cuts s to at most n runes, marking a cut with an ellipsis.
func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i := 0
	for j := range s {
		if i == n-1 {
			return s[:j] + "…"
		}
		i++
	}
	return s
}

// FindingKind is the kind of a seat audit finding.
type FindingKind string

// The kinds of finding a seat audit reports.
const (
	// FindingLeaver is a seat in UXPin held by someone who left: deactivated
	// in Slack, whether or not the ledger knows them.
	FindingLeaver FindingKind = "leaver_seated"
	// FindingUnknown is a seat in UXPin that the ledger does not know.
	FindingUnknown FindingKind = "unknown_seat"
	// FindingRoleDrift is a seat whose role in UXPin differs from the ledger's.
	FindingRoleDrift FindingKind = "role_drift"
	// FindingMissing is a ledger grant with no seat in UXPin.
	FindingMissing FindingKind = "missing"
	// FindingNotInSlack is a seat in UXPin whose email Slack does not
	// know: a guest, a contractor or a typo, but not someone who left.
	FindingNotInSlack FindingKind = "not_in_slack"
)

// FindingKinds lists the kinds in the order an audit reports them.
var FindingKinds = []FindingKind{FindingLeaver, FindingNotInSlack, FindingUnknown, FindingRoleDrift, FindingMissing}

// PersonStatus is what Slack says about the holder of a UXPin seat, found
// by email, for the seat audit.
type PersonStatus int

// The answers a seat audit's Slack lookup can give.
const (
	// PersonActive is an active Slack user, or one that was not looked up.
	PersonActive PersonStatus = iota
	// PersonDeactivated is a Slack user that Slack itself marks deleted:
	// someone who left.
	PersonDeactivated
	// PersonNotInSlack is an email that no Slack user has: a guest, a
	// contractor or a typo. It is no evidence that anyone left.
	PersonNotInSlack
)

// Finding is one discrepancy between UXPin's Team Members list and the ledger.
type Finding struct {
	Kind       FindingKind
	Email      string
	Name       string
	UXPinRole  Role   // "" for FindingMissing, or when UXPin's role was not recognised
	LedgerRole Role   // "" when the ledger does not know the person
	UserID     string // Slack user ID, if known from the ledger or the Slack lookup
	RequestID  string // the ledger grant's request, if any
}

// Audit is the result of comparing UXPin's Team Members list with the ledger.
type Audit struct {
	Findings []Finding
	// Members is the number of distinct members in the UXPin list.
	Members int
	// SeatsByRole counts the UXPin list's seats by role; seats whose role was
	// not recognised are counted under "".
	SeatsByRole map[Role]int
	// Warnings are the rows of the list that could not be fully used, at
	// most MaxWarnings of them. Reconcile leaves it empty; the caller copies
	// ReadTeamList's warnings.
	Warnings []ParseWarning
	// WarningsTotal counts those rows, kept in Warnings or not. Seat audits
	// stored before it was counted have 0: use WarningCount.
	WarningsTotal int `json:",omitempty"`
}

// WarningCount is the number of rows of the list that could not be fully
// used, including those not kept in Warnings.
func (a Audit) WarningCount() int { return max(a.WarningsTotal, len(a.Warnings)) }

// Reconcile compares UXPin's Team Members list with the ledger.
//
// lookup reports, for the email of a UXPin member, the person's Slack user
// ID if known and what Slack says about them. The caller looks it up; lookup
// may be nil (everyone counts as active), and is called once per member.
//
// A member deactivated in Slack is FindingLeaver and a member whose email
// Slack does not know is FindingNotInSlack, whether or not the ledger knows
// them; any other member the ledger does not know is FindingUnknown; a
// member whose UXPin role differs from the ledger's is FindingRoleDrift,
// except when the UXPin role was not recognised (""); a ledger grant with no
// member is FindingMissing.
// Emails match case-insensitively. Findings are sorted by kind, in the order
// of FindingKinds, then by email.
func Reconcile(members []Member, ledger []Grant, lookup func(email string) (userID string, status PersonStatus)) Audit {
	a := Audit{SeatsByRole: map[Role]int{}}
	grants := make(map[string]int, len(ledger)) // email key → first grant
	for i, g := range ledger {
		if k := emailKey(g.Email); k != "" {
			if _, dup := grants[k]; !dup {
				grants[k] = i
			}
		}
	}
	seated := make(map[string]bool, len(members))
	for _, m := range members {
		k := emailKey(m.Email)
		if k == "" || seated[k] {
			continue
		}
		seated[k] = true
		a.Members++
		a.SeatsByRole[m.Role]++

		f := Finding{Email: strings.TrimSpace(m.Email), Name: m.Name, UXPinRole: m.Role}
		i, known := grants[k]
		if known {
			g := ledger[i]
			f.LedgerRole, f.UserID, f.RequestID = g.Role, g.UserID, g.RequestID
			if f.Name == "" {
				f.Name = g.Name
			}
		}
		status := PersonActive
		if lookup != nil {
			var id string
			id, status = lookup(f.Email)
			if f.UserID == "" {
				f.UserID = id
			}
		}
		switch {
		case status == PersonDeactivated:
			f.Kind = FindingLeaver
		case status == PersonNotInSlack:
			f.Kind = FindingNotInSlack
		case !known:
			f.Kind = FindingUnknown
		case m.Role != "" && m.Role != f.LedgerRole:
			f.Kind = FindingRoleDrift
		default:
			continue
		}
		a.Findings = append(a.Findings, f)
	}
	reported := map[string]bool{}
	for _, g := range ledger {
		k := emailKey(g.Email)
		if seated[k] || (k != "" && reported[k]) {
			continue
		}
		reported[k] = true
		a.Findings = append(a.Findings, Finding{
			Kind: FindingMissing, Email: strings.TrimSpace(g.Email), Name: g.Name,
			LedgerRole: g.Role, UserID: g.UserID, RequestID: g.RequestID,
		})
	}
	slices.SortStableFunc(a.Findings, func(x, y Finding) int {
		if d := slices.Index(FindingKinds, x.Kind) - slices.Index(FindingKinds, y.Kind); d != 0 {
			return d
		}
		if c := strings.Compare(emailKey(x.Email), emailKey(y.Email)); c != 0 {
			return c
		}
		return strings.Compare(x.Email, y.Email)
	})
	return a
}

func emailKey(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// Counts returns the number of findings of each kind, with every kind present.
func (a Audit) Counts() map[FindingKind]int {
	c := make(map[FindingKind]int, len(FindingKinds))
	for _, k := range FindingKinds {
		c[k] = 0
	}
	for _, f := range a.Findings {
		c[f.Kind]++
	}
	return c
}

// CSV writes the findings as CSV with the header
// kind,email,name,uxpin_role,ledger_role,slack_user,request. A cell starting
// with =, +, -, @, a tab or a carriage return is prefixed with a single quote
// so that a spreadsheet shows it as text instead of running it as a formula.
func (a Audit) CSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"kind", "email", "name", "uxpin_role", "ledger_role", "slack_user", "request"}); err != nil {
		return fmt.Errorf("write audit csv: %w", err)
	}
	for _, f := range a.Findings {
		row := []string{string(f.Kind), f.Email, f.Name, string(f.UXPinRole), string(f.LedgerRole), f.UserID, f.RequestID}
		for i, c := range row {
			row[i] = SafeCell(c)
		}
		if err := cw.Write(row); err != nil {
			return fmt.Errorf("write audit csv: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write audit csv: %w", err)
	}
	return nil
}

// SafeCell guards a CSV cell against spreadsheet formula injection: a cell
// starting with =, +, -, @, a tab or a carriage return gets a leading single
// quote, so a spreadsheet shows it as text. Every CSV the bot writes uses it.
func SafeCell(s string) string {
	if s != "" && strings.IndexByte("=+-@\t\r", s[0]) >= 0 {
		return "'" + s
	}
	return s
}
