package server

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestRequestContext checks the request context's deadline, which starts
// its timer on first wait, its release, and the tenant it carries.
func TestRequestContext(t *testing.T) {
	t.Parallel()
	type probe struct{}
	parent := context.WithValue(context.Background(), probe{}, "parent's")

	c := newRequestContext(parent, time.Hour)
	if d, ok := c.Deadline(); !ok || time.Until(d) < 59*time.Minute {
		t.Errorf("Deadline() = %v, %v; want about an hour from now", d, ok)
	}
	if c.timed != nil {
		t.Error("the deadline's timer started before anything waited on it")
	}
	if c.Value(probe{}) != "parent's" || tenantFrom(c) != "" {
		t.Errorf("values before authentication: %v, tenant %q", c.Value(probe{}), tenantFrom(c))
	}
	c.tenant = "t1"
	child, cancelChild := context.WithCancel(c)
	defer cancelChild()
	if tenantFrom(child) != "t1" {
		t.Errorf("tenant through a child context: %q", tenantFrom(child))
	}
	if c.Err() != nil {
		t.Errorf("Err() before the deadline: %v", c.Err())
	}
	c.release()
	<-c.Done()
	<-child.Done()
	if !errors.Is(c.Err(), context.Canceled) {
		t.Errorf("Err() after release: %v", c.Err())
	}

	// Released before anything waited: Done is closed all the same.
	idle := newRequestContext(context.Background(), time.Hour)
	idle.release()
	<-idle.Done()
	if idle.timed != nil || !errors.Is(idle.Err(), context.Canceled) {
		t.Errorf("a context released unwaited started a timer (%v) or its Err is %v", idle.timed != nil, idle.Err())
	}

	// The deadline ends it, and a canceled parent does.
	short := newRequestContext(context.Background(), time.Nanosecond)
	<-short.Done()
	if !errors.Is(short.Err(), context.DeadlineExceeded) {
		t.Errorf("Err() after the deadline: %v", short.Err())
	}
	canceled, cancel := context.WithCancel(context.Background())
	fromCanceled := newRequestContext(canceled, time.Hour)
	cancel()
	<-fromCanceled.Done()
	if !errors.Is(fromCanceled.Err(), context.Canceled) {
		t.Errorf("Err() after the parent's cancellation: %v", fromCanceled.Err())
	}
}
