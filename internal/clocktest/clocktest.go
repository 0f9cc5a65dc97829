// Package clocktest is the clock tests inject instead of real time: it
// stands still until the test moves it on, so that a lease, a backoff or a
// retry happens exactly when the test says and no test waits for one.
package clocktest

import (
	"context"
	"slices"
	"sync"
	"time"
)

// Clock is a clock a test moves by hand. Its Sleep returns at once and
// moves the clock on by what was asked, so that a test sees exactly what a
// component waited without sitting through it.
type Clock struct {
	mu    sync.Mutex
	now   time.Time
	slept []time.Duration
}

// New returns a clock at the instant at.
func New(at time.Time) *Clock { return &Clock{now: at} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Sleep records d and moves the clock on by it at once, or returns
// ctx.Err() when ctx is done.
func (c *Clock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.slept = append(c.slept, d)
	c.now = c.now.Add(d)
	return nil
}

// Slept returns what Sleep was asked for, in order.
func (c *Clock) Slept() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.slept)
}
