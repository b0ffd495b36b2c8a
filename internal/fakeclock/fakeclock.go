// Package fakeclock is the injectable clock the key and token tests share: it
// stands still until told to Advance. Only tests import it.
package fakeclock

import (
	"sync"
	"time"
)

// Start is where New clocks begin: unix 1795777608, the iat of the captured
// Backstage token in tokens/testdata.
var Start = time.Date(2026, 11, 27, 11, 6, 48, 0, time.UTC)

// Clock is safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// New returns a clock at Start.
func New() *Clock { return &Clock{t: Start} }

// Now is the clock's time; pass it where a func() time.Time is wanted.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}
