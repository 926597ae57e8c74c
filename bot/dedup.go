package bot

import "sync"

// recentSet remembers the last max IDs it was given, so that an envelope or
// event Slack delivers twice (a reconnect, a retry after a slow ack) is
// handled once. Memory is bounded; older IDs are forgotten first.
type recentSet struct {
	mu    sync.Mutex
	max   int
	ids   map[string]struct{}
	order []string
	next  int
}

func newRecentSet(max int) *recentSet {
	return &recentSet{max: max, ids: make(map[string]struct{}, max), order: make([]string, max)}
}

// seen records id and reports whether it was already there.
func (s *recentSet) seen(id string) bool {
	if id == "" {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.ids[id]; ok {
		return true
	}
	if old := s.order[s.next]; old != "" {
		delete(s.ids, old)
	}
	s.order[s.next] = id
	s.next = (s.next + 1) % s.max
	s.ids[id] = struct{}{}
	return false
}
