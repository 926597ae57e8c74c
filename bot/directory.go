package bot

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/uxpin-access-bot/uxpin-access-bot/access"
)

// DirectoryAPI is the part of the Slack Web API the Directory uses.
type DirectoryAPI interface {
	GetUserInfoContext(ctx context.Context, user string, options ...slack.GetUserInfoOption) (*slack.User, error)
	GetUserGroupMembersContext(ctx context.Context, group string, options ...slack.GetUserGroupMembersOption) ([]string, error)
	GetUsersContext(ctx context.Context, options ...slack.GetUsersOption) ([]slack.User, error)
}

// How long approver user-group memberships are trusted (SPEC §9.5).
const (
	// GroupTTL is how long a read of the approver groups serves before
	// they are read again. Approver checks happen on every click and
	// usergroups.users.list is a tier 2 method, so every click can't ask.
	GroupTTL = 10 * time.Minute
	// GroupMaxStale is how long after the last successful read the list
	// still serves while Slack cannot answer. After that Approvers fails
	// with access.ErrApproversUnknown, so someone removed from a group
	// during an outage does not go on approving.
	GroupMaxStale = time.Hour
)

// Directory resolves Slack users and the configured approvers.
type Directory struct {
	api    DirectoryAPI
	users  []string
	groups []string
	now    func() time.Time

	mu       sync.Mutex
	resolved []string  // the approvers as of readAt; nil before the first read
	readAt   time.Time // when the groups were last read successfully
}

// DirectoryOptions tune a Directory; the zero value is what production uses.
type DirectoryOptions struct {
	// Now is the clock; nil means time.Now. Tests move it forward.
	Now func() time.Time
}

// NewDirectory returns a Directory for the configured approver users and groups.
func NewDirectory(api DirectoryAPI, users, groups []string, opts DirectoryOptions) *Directory {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	return &Directory{api: api, users: users, groups: groups, now: now}
}

// Approvers returns the approvers' user IDs: the configured users, then the
// members of the configured user groups. Groups are read again once the last
// read is GroupTTL old. If Slack cannot answer, the last list serves until
// it is GroupMaxStale old; after that, or before any read succeeded, the
// error wraps access.ErrApproversUnknown and approvals are refused until
// Slack answers again.
func (d *Directory) Approvers(ctx context.Context) ([]string, error) {
	if len(d.groups) == 0 {
		return d.users, nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.now()
	age := now.Sub(d.readAt)
	if d.resolved != nil && age < GroupTTL {
		return d.resolved, nil
	}
	out, err := d.readGroups(ctx)
	if err == nil {
		d.resolved, d.readAt = out, now
		return out, nil
	}
	if d.resolved != nil && age < GroupMaxStale {
		return d.resolved, nil
	}
	return nil, fmt.Errorf("%w: %w", access.ErrApproversUnknown, err)
}

// readGroups asks Slack for the members of every approver group.
func (d *Directory) readGroups(ctx context.Context) ([]string, error) {
	out := slices.Clone(d.users)
	for _, g := range d.groups {
		members, err := d.api.GetUserGroupMembersContext(ctx, g)
		if err != nil {
			return nil, fmt.Errorf("list members of user group %s: %w", g, err)
		}
		for _, m := range members {
			if !slices.Contains(out, m) {
				out = append(out, m)
			}
		}
	}
	return out, nil
}

// Person looks up a Slack user. Only Slack's own deleted flag makes the
// Person deactivated. A user Slack does not show the bot (user_not_found,
// user_not_visible) is an error wrapping access.ErrUnknownPerson, because a
// narrowed scope or a user of another workspace looks the same as a leaver
// and must never cost anyone their seat; other failures are returned as
// they are.
func (d *Directory) Person(ctx context.Context, id string) (access.Person, error) {
	u, err := d.api.GetUserInfoContext(ctx, id)
	if err != nil {
		if se, ok := errors.AsType[slack.SlackErrorResponse](err); ok && (se.Err == "user_not_found" || se.Err == "user_not_visible") {
			return access.Person{}, fmt.Errorf("look up user %s: %s: %w", id, se.Err, access.ErrUnknownPerson)
		}
		return access.Person{}, fmt.Errorf("look up user %s: %w", id, err)
	}
	name := u.RealName
	if name == "" {
		name = u.Profile.RealName
	}
	if name == "" {
		name = u.Name
	}
	return access.Person{
		ID:      u.ID,
		Email:   u.Profile.Email,
		Name:    name,
		IsBot:   u.IsBot || u.ID == "USLACKBOT",
		Deleted: u.Deleted,
		TZ:      u.TZ,
	}, nil
}

// PeopleByEmail lists the whole workspace once (users.list pages through
// it, honouring Retry-After) and indexes it by lower-cased email, for the
// seat audit, which would otherwise make one lookup per UXPin member.
func (d *Directory) PeopleByEmail(ctx context.Context) (map[string]access.Person, error) {
	users, err := d.api.GetUsersContext(ctx, slack.GetUsersOptionLimit(200))
	if err != nil {
		return nil, fmt.Errorf("list Slack users: %w", err)
	}
	out := make(map[string]access.Person, len(users))
	for _, u := range users {
		if u.Profile.Email == "" {
			continue
		}
		name := u.RealName
		if name == "" {
			name = u.Name
		}
		out[strings.ToLower(u.Profile.Email)] = access.Person{ID: u.ID, Email: u.Profile.Email, Name: name, IsBot: u.IsBot, Deleted: u.Deleted, TZ: u.TZ}
	}
	return out, nil
}
