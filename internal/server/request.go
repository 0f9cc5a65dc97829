package server

import (
	"context"
	"net/http"
	"sync"
	"time"
)

// requestContext is a request's context as the server's middleware makes
// it, in one allocation where a context per middleware took five: the
// request's deadline (Config.RequestTimeout) and the tenant of its token
// once authenticate has checked it.
//
// The deadline's timer starts only when something waits on the context
// (Done or Err: every store call does), so that a read answered from
// memory (the read cache) never starts one. Deadline reports it from the
// start, for code that plans with it.
type requestContext struct {
	parent   context.Context
	deadline time.Time
	// tenant is set by authenticate before the handler runs, and read by
	// the handler and what it starts: no lock is needed.
	tenant string
	// segs are the segments of the request's SCIM path (scimSegments),
	// split once by the handler that asks first, in segsBuf when they fit.
	segs      []string
	segsErr   error
	segsSplit bool
	segsBuf   [4]string

	mu       sync.Mutex
	timed    context.Context // parent with the deadline, made on first wait
	cancel   context.CancelFunc
	released bool
}

// newRequestContext returns parent bounded by timeout.
func newRequestContext(parent context.Context, timeout time.Duration) *requestContext {
	return &requestContext{parent: parent, deadline: time.Now().Add(timeout)}
}

// releasedDone is the Done channel of a released request context.
var releasedDone = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

func (c *requestContext) Deadline() (time.Time, bool) { return c.deadline, true }

func (c *requestContext) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.released {
		return releasedDone
	}
	return c.timedLocked().Done()
}

func (c *requestContext) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.released {
		if err := c.parent.Err(); err != nil {
			return err
		}
		return context.Canceled
	}
	return c.timedLocked().Err()
}

func (c *requestContext) Value(key any) any {
	if _, ok := key.(tenantKey); ok && c.tenant != "" {
		return c.tenant
	}
	return c.parent.Value(key)
}

// timedLocked returns the context with the deadline, making it on first
// use; c.mu is held.
func (c *requestContext) timedLocked() context.Context {
	if c.timed == nil {
		c.timed, c.cancel = context.WithDeadline(c.parent, c.deadline)
	}
	return c.timed
}

// release ends the context when the request is answered, as a cancel
// function does: its timer, if started, is stopped, and whatever the
// request left running sees it done.
func (c *requestContext) release() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.released = true
	if c.cancel != nil {
		c.cancel()
	}
}

// requestContextOf returns the server's context of r, nil when r did not
// come through the server's middleware (a handler under test).
func requestContextOf(r *http.Request) *requestContext {
	c, _ := r.Context().(*requestContext)
	return c
}
