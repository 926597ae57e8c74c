package fakeslack

import (
	"net/http"
	"strings"
	"sync"
)

// watchState tells watchers that something a user could see may have
// changed: every Web API call, response_url post and envelope ack bumps it.
type watchState struct {
	mu      sync.Mutex
	version uint64
	ch      chan struct{} // closed and replaced on every change
}

// Changes returns the current change count and a channel that is closed at
// the next change, so a front end can wait for news instead of polling:
//
//	for {
//		v, ch := f.Changes()
//		show(v)
//		<-ch
//	}
func (s *Server) Changes() (uint64, <-chan struct{}) {
	s.watch.mu.Lock()
	defer s.watch.mu.Unlock()
	if s.watch.ch == nil {
		s.watch.ch = make(chan struct{})
	}
	return s.watch.version, s.watch.ch
}

// changed wakes the watchers. It takes only the watch lock, never s.mu.
func (s *Server) changed() {
	s.watch.mu.Lock()
	defer s.watch.mu.Unlock()
	s.watch.version++
	if s.watch.ch != nil {
		close(s.watch.ch)
	}
	s.watch.ch = make(chan struct{})
}

// notifying wraps the fake's HTTP handler so that every call, once
// answered, wakes the watchers.
func (s *Server) notifying(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r)
		if !strings.HasPrefix(r.URL.Path, "/link/") {
			s.changed()
		}
	})
}

// channelSubject returns the user whose DM channel (a D… ID or the user's
// own ID, as the bot may post to) ch is, or "".
func (s *Server) channelSubject(ch string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u, ok := s.userByDM[ch]; ok {
		return u
	}
	if _, ok := s.users[ch]; ok {
		return ch
	}
	return ""
}

// triggerSubject returns the user a trigger_id was issued to, or "".
func (s *Server) triggerSubject(id string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.triggers.get(id); ok && t != nil {
		return t.user
	}
	return ""
}
