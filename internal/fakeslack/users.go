package fakeslack

import (
	"sort"
	"strconv"
)

func init() {
	apiMethods["users.list"] = apiMethod{tokenBot, (*Server).usersList}
	methodScopes["users.list"] = "users:read"
}

// usersList pages through the workspace's users (deleted ones included, as
// Slack does, and those the bot cannot see left out) ordered by ID, with a
// numeric offset as the cursor.
func (s *Server) usersList(p *params) result {
	limit := 200
	if n, err := strconv.Atoi(p.str("limit")); err == nil && n > 0 && n <= 1000 {
		limit = n
	}
	start := 0
	if c := p.str("cursor"); c != "" {
		n, err := strconv.Atoi(c)
		if err != nil || n < 0 {
			return apiError("invalid_cursor")
		}
		start = n
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]string, 0, len(s.users))
	for id, u := range s.users {
		if !u.NotVisible {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	members := []any{}
	end := min(start+limit, len(ids))
	for _, id := range ids[min(start, len(ids)):end] {
		members = append(members, s.userJSON(s.users[id]))
	}
	next := ""
	if end < len(ids) {
		next = strconv.Itoa(end)
	}
	return result{"ok": true, "members": members, "cache_ts": 1700000000, "response_metadata": map[string]any{"next_cursor": next}}
}
