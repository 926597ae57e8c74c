package access

// EventFor starts the audit event of a change to r with the request's
// facts, so that every line of the audit log says who asked what for whom,
// why, and until when (SPEC §9.7).
func EventFor(r *Request) Event {
	return Event{
		RequestID: r.ID, Action: r.Action, TargetEmail: r.TargetEmail, Role: r.Role,
		Requester: r.Requester, Target: r.Target, Justification: r.Justification,
		EndDate: r.EndDate, EndZone: r.EndZone,
	}
}
