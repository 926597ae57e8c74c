package fakeslack

import (
	"encoding/json"
	"sync"
	"testing"

	"github.com/gorilla/websocket"
)

// rawReader reads envelopes on a raw connection, records their IDs and
// acks them while acking is on.
type rawReader struct {
	mu   sync.Mutex
	ids  []string
	ack  bool
	conn *websocket.Conn
}

func (r *rawReader) run() {
	for {
		_, msg, err := r.conn.ReadMessage()
		if err != nil {
			return
		}
		var env struct {
			EnvelopeID string `json:"envelope_id"`
		}
		if json.Unmarshal(msg, &env) != nil || env.EnvelopeID == "" {
			continue
		}
		r.mu.Lock()
		r.ids = append(r.ids, env.EnvelopeID)
		ack := r.ack
		r.mu.Unlock()
		if ack {
			_ = r.conn.WriteMessage(websocket.TextMessage, []byte(`{"envelope_id":"`+env.EnvelopeID+`"}`))
		}
	}
}

func (r *rawReader) seen() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.ids...)
}

// TestEnvelopesSpreadAndSurviveADrop: envelopes go round robin over the
// connections, and one left unacked on a connection that drops is sent
// again on the other, as Slack does.
func TestEnvelopesSpreadAndSurviveADrop(t *testing.T) {
	s := New(Options{Logf: t.Logf})
	defer s.Close()
	r1 := &rawReader{conn: rawClient(t, s), ack: true}
	r2 := &rawReader{conn: rawClient(t, s), ack: true}
	go r1.run()
	go r2.run()
	if got := s.ActiveConnections(); got != 2 {
		t.Fatalf("ActiveConnections = %d; want 2", got)
	}
	ctx := ctxT(t)
	event := map[string]any{"type": "app_home_opened", "user": "U1", "tab": "home"}
	for range 10 {
		if _, err := s.Event(ctx, event, 0); err != nil {
			t.Fatal(err)
		}
	}
	if n1, n2 := len(r1.seen()), len(r2.seen()); n1 != 5 || n2 != 5 {
		t.Fatalf("envelopes per connection = %d, %d; want 5 and 5", n1, n2)
	}

	// The next one goes to the first connection, which stops acking and
	// drops: it is sent again on the second, and acked there.
	r1.mu.Lock()
	r1.ack = false
	r1.mu.Unlock()
	done := make(chan error, 1)
	go func() {
		_, err := s.Event(ctx, event, 0)
		done <- err
	}()
	if err := s.WaitFor(ctx, func() bool { return len(r1.seen()) == 6 }); err != nil {
		t.Fatal("the envelope did not reach the first connection")
	}
	if !s.DropOne() {
		t.Fatal("DropOne found no connection")
	}
	if err := <-done; err != nil {
		t.Fatalf("the envelope was not acked after the drop: %v", err)
	}
	id := r1.seen()[5]
	if got := r2.seen(); got[len(got)-1] != id {
		t.Errorf("second connection's last envelope = %s; want %s, sent again", got[len(got)-1], id)
	}
	if s.Resent() != 1 || s.ActiveConnections() != 1 {
		t.Errorf("Resent = %d, ActiveConnections = %d; want 1 and 1", s.Resent(), s.ActiveConnections())
	}
}
