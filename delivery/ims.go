package delivery

import (
	"context"
	"fmt"
	"sync"

	"github.com/slack-go/slack"
)

// imCache knows the ID of the app's DM channel with each user. Posts name
// the user and learn the channel from Slack's answer; the database keeps
// what was learnt (MarkSent stores it with the message), so a restarted
// worker finds it there; only a user never posted to costs a
// conversations.open.
type imCache struct {
	store Store
	api   SlackAPI
	pacer *pacer
	call  func(ctx context.Context) (context.Context, context.CancelFunc)

	mu  sync.Mutex
	ims map[string]string // user ID → IM channel ID
}

func isUserID(id string) bool { return id != "" && (id[0] == 'U' || id[0] == 'W') }

// learn records that Slack answered a post to "to" from channel ch.
func (c *imCache) learn(to, ch string) {
	if ch == "" || ch == to || !isUserID(to) {
		return
	}
	c.mu.Lock()
	c.ims[to] = ch
	c.mu.Unlock()
}

// resolve returns the channel ID for "to": to itself unless it is a user,
// whose DM channel conversations.history needs.
func (c *imCache) resolve(ctx context.Context, to string) (string, error) {
	if !isUserID(to) {
		return to, nil
	}
	c.mu.Lock()
	ch, ok := c.ims[to]
	c.mu.Unlock()
	if ok {
		return ch, nil
	}
	if ch, err := c.store.IMChannel(ctx, to); err == nil && ch != "" {
		c.learn(to, ch)
		return ch, nil
	}
	if err := c.pacer.wait(ctx, keyTier3); err != nil {
		return "", err
	}
	cctx, cancel := c.call(ctx)
	defer cancel()
	conv, _, _, err := c.api.OpenConversationContext(cctx, &slack.OpenConversationParameters{Users: []string{to}})
	c.pacer.answered(keyTier3, err)
	if err != nil {
		return "", fmt.Errorf("open DM with %s: %w", to, err)
	}
	c.learn(to, conv.ID)
	return conv.ID, nil
}
