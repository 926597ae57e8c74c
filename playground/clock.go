package playground

import (
	"sync"
	"time"
)

// Clock is the playground's time: the real time moved ahead by an offset
// that only grows. The bot, its storage and the simulated Slack all read it,
// so jumping it ahead makes reminders, escalations and expiries fall due.
type Clock struct {
	mu     sync.Mutex
	offset time.Duration
}

// Now returns the simulated time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

// Advance moves the clock ahead by d; a negative d is ignored, since the
// bot's stored times must never run backwards.
func (c *Clock) Advance(d time.Duration) {
	if d <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

// Offset returns how far the clock is ahead of the real time.
func (c *Clock) Offset() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.offset
}
