package access

// EventFor returns an audit event about r that carries what r asks and why:
// its ID, action, target (ID and email), role, requester, justification and
// end date. The caller adds the time, actor, states and detail. Every event
// starts from it, so each line of the log stands on its own (SPEC §9.7).
func EventFor(r *Request) Event {
	return Event{
		RequestID:     r.ID,
		Action:        r.Action,
		TargetEmail:   r.TargetEmail,
		Role:          r.Role,
		Requester:     r.Requester,
		Target:        r.Target,
		Justification: r.Justification,
		EndDate:       r.EndDate,
	}
}
