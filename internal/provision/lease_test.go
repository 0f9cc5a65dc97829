package provision

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ferryid/ferry/internal/store"
)

// TestFence runs a job's fence on an injected clock: it lets the job act
// until its lease's TTL less the margin has passed since the last claim,
// moves on with renewals of the same generation, and stops the job for
// good, with errLeaseLost as the cause, when the time is up, a renewal
// finds another generation or another holder, or the database refuses a
// write.
func TestFence(t *testing.T) {
	const ttl = 30 * time.Second
	t0 := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	lease := store.Lease{AppID: "app", Owner: "me", Generation: 7}
	for _, tc := range []struct {
		name string
		// steps run in order on the fence; each returns the time to look
		// at the fence at.
		steps []func(f *fence) time.Time
		lost  bool
	}{
		{"within the TTL less the margin", []func(*fence) time.Time{
			func(*fence) time.Time { return t0.Add(23 * time.Second) },
		}, false},
		{"past the TTL less the margin", []func(*fence) time.Time{
			func(*fence) time.Time { return t0.Add(24 * time.Second) },
		}, true},
		{"a renewal moves it on", []func(*fence) time.Time{
			func(f *fence) time.Time {
				f.renewed(lease, true, t0.Add(20*time.Second))
				return t0.Add(43 * time.Second)
			},
		}, false},
		{"a renewal of another generation loses it", []func(*fence) time.Time{
			func(f *fence) time.Time {
				l := lease
				l.Generation++
				f.renewed(l, true, t0.Add(5*time.Second))
				return t0.Add(6 * time.Second)
			},
		}, true},
		{"a renewal another process won loses it", []func(*fence) time.Time{
			func(f *fence) time.Time {
				f.renewed(lease, false, t0.Add(5*time.Second))
				return t0.Add(6 * time.Second)
			},
		}, true},
		{"a write the database refused loses it", []func(*fence) time.Time{
			func(f *fence) time.Time { f.lose(); return t0.Add(time.Second) },
		}, true},
		{"once lost, a renewal does not bring it back", []func(*fence) time.Time{
			func(f *fence) time.Time { return t0.Add(25 * time.Second) },
			func(f *fence) time.Time {
				f.renewed(lease, true, t0.Add(25*time.Second))
				return t0.Add(26 * time.Second)
			},
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			now := t0
			ctx, cancel := context.WithCancelCause(context.Background())
			defer cancel(nil)
			f := newFence(func() time.Time { return now }, ttl, lease, t0, cancel)
			var err error
			for _, step := range tc.steps {
				now = step(f)
				err = f.check()
			}
			if lost := err != nil; lost != tc.lost {
				t.Fatalf("check: %v; want lost %v", err, tc.lost)
			}
			if tc.lost && (!errors.Is(err, errLeaseLost) || !errors.Is(context.Cause(ctx), errLeaseLost)) {
				t.Errorf("lost with %v, the job's cycle ended with %v; want errLeaseLost for both", err, context.Cause(ctx))
			}
			if !tc.lost && ctx.Err() != nil {
				t.Errorf("the cycle was stopped: %v", context.Cause(ctx))
			}
		})
	}
}
