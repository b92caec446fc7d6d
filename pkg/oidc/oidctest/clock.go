// Package oidctest holds what every implementation of the core's interfaces
// must prove: the storage contract suite (TestStorage), the signer contract
// suite (TestSigner), and a controllable clock.
package oidctest

import (
	"sync"
	"time"
)

// Clock is a manually advanced clock, safe for concurrent use. Pass its Now
// method wherever a func() time.Time is taken.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock starts at the current whole second, so stored TTLs look real.
func NewClock() *Clock { return &Clock{now: time.Now().Truncate(time.Second)} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
