package access

import "errors"

// ErrUnknownPerson is returned, wrapped, by a Directory asked about a Slack
// user that Slack does not show it (users.info answers user_not_found or
// user_not_visible). That is no evidence that the person left: a narrowed
// token scope or a user of another workspace looks the same. Only Slack's
// own deleted flag (Person.Deleted) says someone was deactivated, so callers
// that remove access must test for this error with errors.Is and leave the
// person alone.
var ErrUnknownPerson = errors.New("person unknown to Slack")

// ErrApproversUnknown is returned, wrapped, by a Directory that cannot say
// who the approvers are: Slack has not answered for the membership of an
// approver user group for longer than a stale list may serve. Approvals are
// refused until it answers again (fail closed, SPEC §9.5), so someone
// removed from the group cannot go on approving. Its message is safe to show.
var ErrApproversUnknown = &Error{
	Code:    EINTERNAL,
	Message: "I can't check the approver groups with Slack right now, so approvals wait until Slack answers again. Nothing was changed; please try again in a few minutes.",
}
