package playground

import (
	"bytes"
	"encoding/csv"
	"slices"
	"strings"
	"sync"

	"github.com/uxpin-access-bot/uxpin-access-bot/access"
)

// Member is one seat in the simulated UXPin team.
type Member struct {
	Name  string `json:"name"`
	Email string `json:"email"`
	Role  string `json:"role"` // Viewer, Editor or Admin, as UXPin shows it
}

// Team is the simulated UXPin team: what UXPin's Team Members page would
// list. UXPin has no API, so in real life only admins change it, by hand;
// here it changes when an admin presses Mark done on a task, as if they had
// done the steps. It starts with seats the bot does not know about, so the
// seat audit has something to find.
type Team struct {
	mu      sync.Mutex
	members []Member
}

// seedTeam is the team before the bot: the two admins, a colleague invited
// by hand, a contractor who is not in Slack, and a leaver still seated.
func seedTeam() []Member {
	return []Member{
		{Name: "Kenji Watanabe", Email: "kenji.watanabe@" + Domain, Role: "Admin"},
		{Name: "Amara Okafor", Email: "amara.okafor@" + Domain, Role: "Admin"},
		{Name: "Hanna Berg", Email: "hanna.berg@" + Domain, Role: "Editor"},
		{Name: "Tomás Novak", Email: "tomas.novak@" + Domain, Role: "Editor"},
		{Name: "Jordan Blake", Email: "jordan.blake@studio-freelance.example", Role: "Viewer"},
	}
}

// Members returns the team sorted by name.
func (t *Team) Members() []Member {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := slices.Clone(t.members)
	slices.SortFunc(out, func(a, b Member) int { return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)) })
	return out
}

func (t *Team) set(ms []Member) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.members = slices.Clone(ms)
}

// Apply does in the simulated UXPin what the task for r asks: invite the
// person with the role, change their role, or remove them from the team.
func (t *Team) Apply(r *access.Request) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if r.IsGroup() {
		// A group's rows are done one by one: each done row's person has
		// been removed in UXPin.
		for _, row := range r.Rows {
			if !row.Done() {
				continue
			}
			t.members = slices.DeleteFunc(t.members, func(m Member) bool { return strings.EqualFold(m.Email, row.Email) })
		}
		return
	}
	i := slices.IndexFunc(t.members, func(m Member) bool { return strings.EqualFold(m.Email, r.TargetEmail) })
	switch r.Action {
	case access.ActionGrant, access.ActionChange:
		if i < 0 {
			name := r.TargetName
			if name == "" {
				name = r.TargetEmail
			}
			t.members = append(t.members, Member{Name: name, Email: r.TargetEmail, Role: r.Role.Label()})
			return
		}
		t.members[i].Role = r.Role.Label()
	case access.ActionRemove:
		if i >= 0 {
			t.members = slices.Delete(t.members, i, i+1)
		}
	}
}

// CSV returns the team as UXPin's export has it (Name, Email, Role), which
// the seat audit reads (access.ParseTeamList).
func (t *Team) CSV() string {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	_ = w.Write([]string{"Name", "Email", "Role"})
	for _, m := range t.Members() {
		_ = w.Write([]string{m.Name, m.Email, m.Role})
	}
	w.Flush()
	return b.String()
}
