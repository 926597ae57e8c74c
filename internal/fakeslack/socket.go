package fakeslack

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Ack is a client's acknowledgement of an envelope.
type Ack struct {
	EnvelopeID string
	// Payload is the ack's payload, nil when the client sent none.
	Payload json.RawMessage
	// Latency is the time from writing the envelope to reading the ack.
	Latency time.Duration
	// EventID is the event_id of an events_api envelope, "" otherwise.
	EventID string
}

// sockConn is one Socket Mode WebSocket connection.
type sockConn struct {
	ws        *websocket.Conn
	wmu       sync.Mutex
	closeOnce sync.Once
	id        int
}

func (c *sockConn) write(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := c.ws.SetWriteDeadline(time.Now().Add(10 * time.Second)); err != nil {
		return err
	}
	return c.ws.WriteMessage(websocket.TextMessage, b)
}

// close closes the network connection without a close frame.
func (c *sockConn) close() {
	c.closeOnce.Do(func() { _ = c.ws.Close() })
}

type ackMsg struct {
	payload json.RawMessage
	at      time.Time
}

// pending is an envelope waiting for its ack.
type pending struct {
	id      string
	eventID string
	ch      chan ackMsg // buffered(1); receives exactly one ack
	sent    time.Time
	// conn and frame are where the envelope went and what it was, so that
	// it can be sent again on another connection if that one drops before
	// the ack, as Slack does.
	conn  *sockConn
	frame []byte
}

var upgrader = websocket.Upgrader{
	ReadBufferSize:  32 << 10,
	WriteBufferSize: 32 << 10,
	CheckOrigin:     func(*http.Request) bool { return true },
}

func randHex(nbytes int) string {
	b := make([]byte, nbytes)
	for i := range b {
		b[i] = byte(rand.Uint32())
	}
	return hex.EncodeToString(b)
}

func newEnvelopeID() string {
	h := randHex(16)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func (s *Server) handleLink(w http.ResponseWriter, r *http.Request) {
	s.wg.Add(1)
	defer s.wg.Done()
	ticket := r.URL.Query().Get("ticket")
	s.mu.Lock()
	used, known := s.tickets[ticket]
	if known && !used {
		s.tickets[ticket] = true
	}
	s.mu.Unlock()
	if !known || used {
		s.logf("websocket: rejected ticket %q (known=%v used=%v)", ticket, known, used)
		http.Error(w, "invalid or already used ticket", http.StatusUnauthorized)
		return
	}
	ws, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		s.logf("websocket: upgrade: %v", err)
		return
	}
	ws.SetReadLimit(1 << 20)
	c := &sockConn{ws: ws}
	defer c.close()

	s.mu.Lock()
	select {
	case <-s.closedCh:
		s.mu.Unlock()
		return
	default:
	}
	s.connects++
	c.id = s.connects
	s.mu.Unlock()

	s.mu.Lock()
	active := 1
	for _, on := range s.conns {
		if on {
			active++
		}
	}
	s.mu.Unlock()
	hello := mustJSON(map[string]any{
		"type":            "hello",
		"num_connections": active,
		"debug_info":      map[string]any{"host": "fake", "approximate_connection_time": 18060},
		"connection_info": map[string]any{"app_id": s.opts.AppID},
	})
	// Register the connection while holding its write lock so that it counts
	// as connected before the client can read hello, yet no envelope can be
	// written ahead of hello.
	c.wmu.Lock()
	s.mu.Lock()
	select {
	case <-s.closedCh:
		s.mu.Unlock()
		c.wmu.Unlock()
		return
	default:
	}
	s.conns[c] = true
	s.connOrder = append(s.connOrder, c)
	s.mu.Unlock()
	err = c.ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if err == nil {
		err = c.ws.WriteMessage(websocket.TextMessage, hello)
	}
	c.wmu.Unlock()
	if err != nil {
		s.mu.Lock()
		s.removeConnLocked(c)
		s.mu.Unlock()
		return
	}
	s.logf("websocket: connection #%d established", c.id)

	stop := make(chan struct{})
	go s.pinger(c, stop)
	s.readLoop(c)
	close(stop)

	s.mu.Lock()
	s.removeConnLocked(c)
	s.mu.Unlock()
	s.logf("websocket: connection #%d closed", c.id)
}

// removeConnLocked forgets connection c and sends the envelopes still
// waiting for an ack on it again on another active connection, as Slack
// does when a connection drops.
func (s *Server) removeConnLocked(c *sockConn) {
	delete(s.conns, c)
	s.connOrder = slices.DeleteFunc(s.connOrder, func(x *sockConn) bool { return x == c })
	for _, p := range s.pending {
		if p.conn != c || p.frame == nil {
			continue
		}
		next := s.pickConnLocked()
		if next == nil {
			return
		}
		p.conn = next
		s.resent++
		go func(frame []byte) {
			if err := next.write(frame); err != nil {
				s.logf("websocket: resend on #%d: %v", next.id, err)
			}
		}(p.frame)
	}
}

func (s *Server) pinger(c *sockConn, stop chan struct{}) {
	if s.opts.PingInterval < 0 {
		return
	}
	ping := func() bool {
		return c.ws.WriteControl(websocket.PingMessage, []byte("fakeslack"), time.Now().Add(5*time.Second)) == nil
	}
	if !ping() {
		return
	}
	t := time.NewTicker(s.opts.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			if !ping() {
				return
			}
		}
	}
}

func (s *Server) readLoop(c *sockConn) {
	for {
		mt, data, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		if mt != websocket.TextMessage {
			s.violation("socket: client sent a non-text frame (type %d)", mt)
			continue
		}
		s.handleAck(data)
	}
}

func (s *Server) handleAck(data []byte) {
	now := time.Now()
	var a struct {
		EnvelopeID string          `json:"envelope_id"`
		Payload    json.RawMessage `json:"payload"`
	}
	jerr := json.Unmarshal(data, &a)
	size := len(bytes.TrimSpace(data))
	s.mu.Lock()
	defer s.mu.Unlock()
	if size >= MaxAckBytes {
		s.violationLocked("socket: ack for envelope %q is %d bytes; Slack drops responses of %d bytes or more",
			a.EnvelopeID, size, MaxAckBytes)
		return
	}
	if jerr != nil {
		s.violationLocked("socket: malformed frame from client: %v", jerr)
		return
	}
	if a.EnvelopeID == "" {
		s.violationLocked("socket: frame from client without envelope_id: %.200s", data)
		return
	}
	p := s.pending[a.EnvelopeID]
	if p == nil {
		if _, ok := s.finished.get(a.EnvelopeID); ok {
			s.lateAcks++
			s.logf("socket: late or duplicate ack for envelope %s ignored", a.EnvelopeID)
			return
		}
		s.violationLocked("socket: ack for unknown envelope_id %q", a.EnvelopeID)
		return
	}
	payload := a.Payload
	if t := bytes.TrimSpace(payload); len(t) == 0 || string(t) == "null" {
		payload = nil
	}
	delete(s.pending, a.EnvelopeID)
	s.finished.put(a.EnvelopeID, struct{}{})
	p.ch <- ackMsg{payload: payload, at: now}
}

// pickConnLocked returns the next active connection, round robin: Slack
// spreads envelopes over all of an app's connections.
func (s *Server) pickConnLocked() *sockConn {
	n := len(s.connOrder)
	for i := range n {
		c := s.connOrder[(s.nextConn+i)%n]
		if s.conns[c] {
			s.nextConn = (s.nextConn + i + 1) % n
			return c
		}
	}
	return nil
}

// send writes an envelope and waits for its ack.
func (s *Server) send(ctx context.Context, envID, eventID string, frame []byte) (Ack, error) {
	p := &pending{id: envID, eventID: eventID, ch: make(chan ackMsg, 1)}
	s.mu.Lock()
	c := s.pickConnLocked()
	if c == nil {
		s.mu.Unlock()
		return Ack{EnvelopeID: envID, EventID: eventID}, ErrNotConnected
	}
	p.sent = time.Now()
	p.conn, p.frame = c, frame
	s.pending[envID] = p
	s.mu.Unlock()
	if err := c.write(frame); err != nil {
		s.mu.Lock()
		delete(s.pending, envID)
		s.mu.Unlock()
		return Ack{EnvelopeID: envID, EventID: eventID}, fmt.Errorf("%w: write: %v", ErrNotConnected, err)
	}
	return s.await(ctx, p)
}

// await waits for p's ack until AckTimeout after it was sent.
func (s *Server) await(ctx context.Context, p *pending) (Ack, error) {
	toAck := func(m ackMsg) Ack {
		return Ack{EnvelopeID: p.id, EventID: p.eventID, Payload: m.payload, Latency: m.at.Sub(p.sent)}
	}
	t := time.NewTimer(time.Until(p.sent.Add(s.opts.AckTimeout)))
	defer t.Stop()
	var cause error
	select {
	case m := <-p.ch:
		return toAck(m), nil
	case <-t.C:
		cause = ErrNoAck
	case <-ctx.Done():
		cause = ctx.Err()
	case <-s.closedCh:
		cause = ErrClosed
	}
	s.mu.Lock()
	if _, still := s.pending[p.id]; still {
		delete(s.pending, p.id)
		s.finished.put(p.id, struct{}{})
		s.mu.Unlock()
		return Ack{EnvelopeID: p.id, EventID: p.eventID}, cause
	}
	s.mu.Unlock()
	// The ack was delivered while we were giving up; it is buffered in p.ch.
	return toAck(<-p.ch), nil
}

// SendRaw writes raw as a WebSocket text frame to the connected client, for
// hostile or malformed-input tests. If raw is a JSON object with an
// envelope_id, its ack can be collected with WaitAck.
func (s *Server) SendRaw(ctx context.Context, raw []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var env struct {
		EnvelopeID string `json:"envelope_id"`
	}
	_ = json.Unmarshal(raw, &env)
	s.mu.Lock()
	c := s.pickConnLocked()
	if c == nil {
		s.mu.Unlock()
		return ErrNotConnected
	}
	if env.EnvelopeID != "" {
		p := &pending{id: env.EnvelopeID, ch: make(chan ackMsg, 1), sent: time.Now()}
		s.pending[p.id] = p
		s.rawWait[p.id] = p
	}
	s.mu.Unlock()
	if err := c.write(raw); err != nil {
		return fmt.Errorf("%w: write: %v", ErrNotConnected, err)
	}
	return nil
}

// WaitAck waits for the ack of an envelope written with SendRaw, until
// AckTimeout after it was sent (ErrNoAck) or ctx is done.
func (s *Server) WaitAck(ctx context.Context, envelopeID string) (Ack, error) {
	s.mu.Lock()
	p := s.rawWait[envelopeID]
	delete(s.rawWait, envelopeID)
	s.mu.Unlock()
	if p == nil {
		return Ack{}, fmt.Errorf("fakeslack: no raw envelope %q is awaiting an ack", envelopeID)
	}
	return s.await(ctx, p)
}

// Connected reports whether a Socket Mode client is connected and has been sent hello.
func (s *Server) Connected() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pickConnLocked() != nil
}

// WaitConnected waits until a Socket Mode client is connected.
func (s *Server) WaitConnected(ctx context.Context) error {
	if err := s.WaitFor(ctx, s.Connected); err != nil {
		return fmt.Errorf("fakeslack: socket mode client did not connect: %w", err)
	}
	return nil
}

// Connections returns how many WebSocket connections have been accepted so far.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.connects
}

// Disconnect sends a Socket Mode disconnect message with the given reason
// ("refresh_requested", "warning", "link_disabled", …) to every active
// connection. Those connections get no new envelopes but acks sent on them
// are still read until the client closes them.
func (s *Server) Disconnect(reason string) {
	frame := mustJSON(map[string]any{"type": "disconnect", "reason": reason, "debug_info": map[string]any{"host": "fake"}})
	s.mu.Lock()
	var cs []*sockConn
	for c, active := range s.conns {
		if active {
			cs = append(cs, c)
			s.conns[c] = false
		}
	}
	s.mu.Unlock()
	for _, c := range cs {
		if err := c.write(frame); err != nil {
			s.logf("websocket: disconnect #%d: %v", c.id, err)
		}
	}
}

// DropOne abruptly closes the oldest active WebSocket connection (no close
// frame) and reports whether there was one. Envelopes it carried that are
// not acked yet are sent again on another connection.
func (s *Server) DropOne() bool {
	s.mu.Lock()
	var victim *sockConn
	for _, c := range s.connOrder {
		if s.conns[c] {
			victim = c
			break
		}
	}
	if victim != nil {
		s.removeConnLocked(victim)
	}
	s.mu.Unlock()
	if victim == nil {
		return false
	}
	victim.close()
	return true
}

// ActiveConnections returns how many connections receive envelopes now.
func (s *Server) ActiveConnections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, on := range s.conns {
		if on {
			n++
		}
	}
	return n
}

// Resent returns how many envelopes were sent again after their connection
// dropped.
func (s *Server) Resent() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.resent
}

// DropConnection abruptly closes every WebSocket connection (no close frame).
func (s *Server) DropConnection() {
	s.mu.Lock()
	cs := make([]*sockConn, 0, len(s.conns))
	for c := range s.conns {
		cs = append(cs, c)
		s.removeConnLocked(c)
	}
	s.mu.Unlock()
	for _, c := range cs {
		c.close()
	}
}
