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

// Directory resolves Slack users and the configured approvers. User-group
// memberships are cached for a short time because approver checks happen on
// every click and usergroups.users.list is a tier 2 method.
type Directory struct {
	api    DirectoryAPI
	users  []string
	groups []string
	ttl    time.Duration
	now    func() time.Time

	mu       sync.Mutex
	resolved []string
	expires  time.Time
}

// NewDirectory returns a Directory for the configured approver users and groups.
func NewDirectory(api DirectoryAPI, users, groups []string, ttl time.Duration) *Directory {
	return &Directory{api: api, users: users, groups: groups, ttl: ttl, now: time.Now}
}

// Approvers returns the approvers' user IDs, expanding user groups. If Slack
// cannot be reached, the last good answer is used rather than locking every
// approver out.
func (d *Directory) Approvers(ctx context.Context) ([]string, error) {
	if len(d.groups) == 0 {
		return d.users, nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.resolved != nil && d.now().Before(d.expires) {
		return d.resolved, nil
	}
	out := slices.Clone(d.users)
	for _, g := range d.groups {
		members, err := d.api.GetUserGroupMembersContext(ctx, g)
		if err != nil {
			if d.resolved != nil {
				return d.resolved, nil
			}
			return nil, fmt.Errorf("list members of user group %s: %w", g, err)
		}
		for _, m := range members {
			if !slices.Contains(out, m) {
				out = append(out, m)
			}
		}
	}
	d.resolved, d.expires = out, d.now().Add(d.ttl)
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
