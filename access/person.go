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
