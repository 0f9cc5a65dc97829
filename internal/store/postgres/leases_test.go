package postgres

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ferryid/ferry/internal/scim/schema"
	"github.com/ferryid/ferry/internal/store"
)

// TestLeasesOnServerClock has two replicas whose clocks disagree by an
// hour share a job: leases are on the database server's clock, so the one
// whose clock runs ahead neither takes over a live lease nor sees one of
// its own end early, and the one behind cannot keep writing past its
// lease's end.
func TestLeasesOnServerClock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn, err := server.CreateDatabase(ctx, "clock")
	if err != nil {
		t.Fatal(err)
	}
	open := func(skew time.Duration) *Store {
		s, err := Open(ctx, dsn, schema.Builtin(), Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		// Options.Now would put leases on it too; this skews only the
		// replica's own clock, as a host's wrong time would.
		s.now = func() time.Time { return time.Now().Add(skew) }
		return s
	}
	ahead, behind := open(time.Hour), open(-time.Hour)
	tn, err := ahead.EnsureTenant(ctx, "t")
	if err != nil {
		t.Fatal(err)
	}
	app := &store.App{TenantID: tn.ID, Name: "App", Template: "scim"}
	if err := ahead.CreateApp(ctx, app); err != nil {
		t.Fatal(err)
	}

	before := time.Now()
	l, ok, err := behind.ClaimJob(ctx, app.ID, "behind", time.Minute)
	if err != nil || !ok {
		t.Fatalf("ClaimJob = %+v, %t, %v", l, ok, err)
	}
	// The test's server runs on this host: its clock is the test's.
	if l.Expires.Before(before.Add(time.Minute)) || l.Expires.After(time.Now().Add(time.Minute)) {
		t.Errorf("the lease ends at %s, want a minute after %s on the server's clock", l.Expires, before)
	}
	if got, ok, err := ahead.ClaimJob(ctx, app.ID, "ahead", time.Minute); err != nil || ok || got.Owner != "behind" {
		t.Errorf("a replica whose clock runs an hour ahead claims a live lease: %+v, %t, %v", got, ok, err)
	}
	if err := behind.PutJobState(ctx, &store.JobState{AppID: app.ID, Watermark: 1}, l); err != nil {
		t.Errorf("fenced PutJobState by the holder: %v", err)
	}

	// A lease that has ended on the server's clock: the replica behind,
	// which would still see it live on its own, cannot write.
	// A lease of a nanosecond on the server's clock is over by the time
	// the server reads its clock for the next statement.
	if _, ok, err := behind.ClaimJob(ctx, app.ID, "behind", time.Nanosecond); err != nil || !ok {
		t.Fatalf("the holder's renewal for a nanosecond = %t, %v", ok, err)
	}
	err = behind.PutJobState(ctx, &store.JobState{AppID: app.ID, Watermark: 2}, l)
	if !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("fenced PutJobState after the lease ended on the server's clock = %v, want ErrLeaseLost", err)
	}
	if js, err := ahead.JobState(ctx, app.ID); err != nil || js.Watermark != 1 {
		t.Errorf("JobState = %+v, %v; want watermark 1", js, err)
	}
}
