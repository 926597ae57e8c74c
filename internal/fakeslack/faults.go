package fakeslack

import (
	"net/http"
	"strconv"
	"time"
)

// Fault describes how the next calls to a Web API method misbehave.
type Fault struct {
	// Count is how many of the next calls are affected; 0 means one call and
	// a negative value means every call until ClearFaults.
	Count int
	// Status, if non-zero, is the HTTP status to answer with (e.g. 500 or 429).
	Status int
	// RetryAfter sets the Retry-After header (seconds) when Status is 429,
	// which slack-go turns into *slack.RateLimitedError.
	RetryAfter int
	// Error, if set and Status is zero, answers HTTP 200 {"ok":false,"error":Error}.
	Error string
	// Delay is waited before answering. With neither Status nor Error set the
	// call then proceeds normally, which simulates a slow API.
	Delay time.Duration
	// AfterEffect makes the call take effect first (a message is posted, say)
	// and only then answers with the fault: the client sees a failure or a
	// hang although Slack did the work, as when a response is lost.
	AfterEffect bool
}

// Fail makes the next f.Count calls to method misbehave as described by f,
// replacing any fault already set for method. Method is a Web API method name
// such as "chat.postMessage", or "response_url" for posts to response URLs.
func (s *Server) Fail(method string, f Fault) {
	if f.Count == 0 {
		f.Count = 1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[method] = &f
}

// ClearFaults removes all injected faults.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.faults)
}

// takeFaultLocked returns the fault to apply to this call of method, if any,
// consuming one unit of its Count. s.mu must be held.
func (s *Server) takeFaultLocked(method string) *Fault {
	f, ok := s.faults[method]
	if !ok {
		return nil
	}
	out := *f
	if f.Count > 0 {
		f.Count--
		if f.Count == 0 {
			delete(s.faults, method)
		}
	}
	return &out
}

// applyFault waits f.Delay and writes the faulty answer. It reports whether
// the response has been written; false means the call should proceed normally.
func (s *Server) applyFault(w http.ResponseWriter, r *http.Request, method string, f *Fault) bool {
	if f.Delay > 0 {
		t := time.NewTimer(f.Delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return true
		case <-s.closedCh:
			t.Stop()
			http.Error(w, "server closed", http.StatusServiceUnavailable)
			return true
		}
	}
	switch {
	case f.Status != 0:
		s.logf("fault: %s answered HTTP %d", method, f.Status)
		if f.Status == http.StatusTooManyRequests && f.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(f.RetryAfter))
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(f.Status)
		_, _ = w.Write([]byte("<html><body>fakeslack injected fault</body></html>"))
		return true
	case f.Error != "":
		s.logf("fault: %s answered error %s", method, f.Error)
		writeJSON(w, http.StatusOK, map[string]any{"ok": false, "error": f.Error})
		return true
	}
	return false
}
