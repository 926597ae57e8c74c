package fakeslack

import "encoding/json"

// Message is a snapshot of a message the bot posted (chat.postMessage, or a
// response_url post with response_type in_channel), in its current state.
type Message struct {
	Channel  string
	TS       string
	User     string // IM counterpart user for DMs, "" for channels
	Text     string
	Blocks   json.RawMessage
	Metadata json.RawMessage
	ThreadTS string
	Updates  int
	Deleted  bool

	editedTS string
}

// Ephemeral is a message only one user sees: a chat.postEphemeral call, a
// response_url post (response_type ephemeral or unset) or a slash command ack
// payload.
type Ephemeral struct {
	Channel, User, Text string
	Blocks              json.RawMessage
	ReplaceOriginal     bool
	// ViaResponseURL is true for response_url posts, false for
	// chat.postEphemeral and slash command ack payloads.
	ViaResponseURL bool
	// FromAck is true when the ephemeral came from a slash command ack payload.
	FromAck bool
	// TS identifies the ephemeral for interactions (Interact); Slack gives
	// ephemeral messages a timestamp too.
	TS string
	// Updates counts replacements through a response_url (replace_original
	// after a click on it); Deleted is set by delete_original.
	Updates int
	Deleted bool
}

// Messages returns all messages the bot posted, in posting order, in their
// current state (after chat.update / replace_original / deletion).
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Message, len(s.messages))
	for i, m := range s.messages {
		out[i] = *m
	}
	return out
}

// DMs returns the messages in the bot's IM with userID, in posting order.
func (s *Server) DMs(userID string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	ms := s.dmMsgs[userID]
	out := make([]Message, len(ms))
	for i, m := range ms {
		out[i] = *m
	}
	return out
}

// Message returns the current state of the message identified by channel and ts.
func (s *Server) Message(channel, ts string) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.msgIndex[msgKey{channel, ts}]
	if !ok {
		return Message{}, false
	}
	return *m, true
}

// Ephemerals returns the ephemeral messages shown to userID, in order.
func (s *Server) Ephemerals(userID string) []Ephemeral {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Ephemeral(nil), s.ephemerals[userID]...)
}
