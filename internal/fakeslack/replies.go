package fakeslack

func init() {
	apiMethods["conversations.replies"] = apiMethod{tokenBot, (*Server).conversationsReplies}
}

// conversationsReplies returns a thread: its parent, then the replies, oldest
// first, as Slack does. conversations.history never lists thread replies, so
// this is how a client finds a reply it may already have posted.
func (s *Server) conversationsReplies(p *params) result {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, _, code := s.resolveChannelLocked(p.str("channel"), false)
	if code != "" {
		return apiError(code)
	}
	if r := s.scopeCheck(historyScope(ch)); r != nil {
		return r
	}
	ts := p.str("ts")
	if ts == "" {
		return apiError("invalid_arguments")
	}
	withMeta := p.bool("include_all_metadata")
	var msgs []map[string]any
	found := false
	for _, m := range s.messages {
		if m.Channel != ch || m.Deleted {
			continue
		}
		if m.TS == ts {
			found = true
			msgs = append([]map[string]any{s.messageJSON(m, withMeta)}, msgs...)
		} else if m.ThreadTS == ts {
			msgs = append(msgs, s.messageJSON(m, withMeta))
		}
	}
	if !found {
		return apiError("thread_not_found")
	}
	return result{"ok": true, "messages": msgs, "has_more": false, "response_metadata": map[string]any{"next_cursor": ""}}
}
