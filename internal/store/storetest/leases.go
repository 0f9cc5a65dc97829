package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ferryid/ferry/internal/clocktest"
	"github.com/ferryid/ferry/internal/store"
)

// The tests of job leases and fencing. They run on a clock that stands
// still until the test moves it on (Open's now), so that a lease expires
// exactly when a test says, at its Expires, and no test waits for one.

// NewClock returns a clock (see clocktest) at an arbitrary instant with
// nanoseconds, so that a lease's times are seen to be kept as they were
// given.
func NewClock() *clocktest.Clock {
	return clocktest.New(time.Date(2031, 5, 6, 7, 8, 9, 123456789, time.UTC))
}

// sameLease reports whether two leases are equal, Expires compared as
// instants.
func sameLease(a, b store.Lease) bool {
	return a.AppID == b.AppID && a.Owner == b.Owner && a.Expires.Equal(b.Expires) && a.Generation == b.Generation
}

// testLeaseGenerations follows one lease through everything that can
// happen to it, checking after each step the lease ClaimJob answers and
// the one JobLease reads.
func testLeaseGenerations(t *testing.T, s store.Store, c *clocktest.Clock) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	app := createApp(t, s, a, "App")
	t0 := c.Now()
	lease := func(owner string, expires time.Duration, generation int64) store.Lease {
		l := store.Lease{AppID: app.ID, Owner: owner, Generation: generation}
		if expires != 0 {
			l.Expires = t0.Add(expires)
		}
		return l
	}
	read := func(step string, want store.Lease) {
		t.Helper()
		got, err := s.JobLease(ctx, app.ID)
		if err != nil {
			t.Fatalf("%s: JobLease: %v", step, err)
		}
		if !sameLease(got, want) {
			t.Errorf("%s: JobLease = %+v, want %+v", step, got, want)
		}
	}
	read("never claimed", store.Lease{AppID: app.ID})

	steps := []struct {
		name    string
		advance time.Duration // the clock moves on by this first
		owner   string        // claims, with ttl; or releases, with ttl 0
		ttl     time.Duration
		held    bool
		want    store.Lease // the lease after the step
	}{
		{"first claim", 0, "a", time.Minute, true, lease("a", time.Minute, 1)},
		{"renewal by the holder", 30 * time.Second, "a", time.Minute, true, lease("a", 90*time.Second, 1)},
		{"claim of a live lease by another owner", 59*time.Second + 999*time.Millisecond, "b", time.Minute, false,
			lease("a", 90*time.Second, 1)},
		// A lease is held until Expires, exclusive.
		{"takeover at the lease's end", time.Millisecond, "b", time.Minute, true, lease("b", 150*time.Second, 2)},
		{"the former holder claims again", 0, "a", time.Minute, false, lease("b", 150*time.Second, 2)},
		{"the holder claims again after its own lease expired", time.Minute, "b", time.Minute, true, lease("b", 210*time.Second, 3)},
		{"release by another owner", 0, "a", 0, false, lease("b", 210*time.Second, 3)},
		{"release by the holder", 10 * time.Second, "b", 0, false, lease("", 160*time.Second, 3)},
		{"release of a released lease", time.Second, "b", 0, false, lease("", 160*time.Second, 3)},
		{"the same owner claims after its release", 0, "b", time.Minute, true, lease("b", 221*time.Second, 4)},
		{"release by the holder again", 0, "b", 0, false, lease("", 161*time.Second, 4)},
		{"another owner claims after a release", 0, "a", 2 * time.Minute, true, lease("a", 281*time.Second, 5)},
		{"a shorter renewal", 0, "a", time.Second, true, lease("a", 162*time.Second, 5)},
		// An expired lease keeps its end when released.
		{"release of an expired lease", time.Hour, "a", 0, false, lease("", 162*time.Second, 5)},
		{"claim after it", 0, "a", time.Minute, true, lease("a", time.Hour+221*time.Second, 6)},
	}
	for _, st := range steps {
		c.Advance(st.advance)
		if st.ttl == 0 {
			if err := s.ReleaseJob(ctx, app.ID, st.owner); err != nil {
				t.Fatalf("%s: ReleaseJob: %v", st.name, err)
			}
		} else {
			got, held, err := s.ClaimJob(ctx, app.ID, st.owner, st.ttl)
			if err != nil {
				t.Fatalf("%s: ClaimJob: %v", st.name, err)
			}
			if held != st.held || !sameLease(got, st.want) {
				t.Errorf("%s: ClaimJob = %+v, %t; want %+v, %t", st.name, got, held, st.want, st.held)
			}
		}
		read(st.name, st.want)
	}

	// An expired lease reads with its owner and end; Held tells.
	c.Advance(time.Minute)
	got, err := s.JobLease(ctx, app.ID)
	if err != nil {
		t.Fatal(err)
	}
	if want := lease("a", time.Hour+221*time.Second, 6); !sameLease(got, want) || got.Held(c.Now()) || !got.Held(c.Now().Add(-time.Nanosecond)) {
		t.Errorf("JobLease of a lease that expired just now = %+v (held now: %t); want %+v, not held now, held a nanosecond before",
			got, got.Held(c.Now()), want)
	}
	if got := (store.Lease{AppID: app.ID, Expires: c.Now().Add(time.Hour), Generation: 3}); got.Held(c.Now()) {
		t.Error("a lease without an owner is held")
	}
}

// testConcurrentClaims races claimers for a free lease, for a live one and
// for an expired one, and the holder's fenced writes against other
// claimers.
func testConcurrentClaims(t *testing.T, s store.Store, c *clocktest.Clock) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	app := createApp(t, s, a, "App")

	winners, lease := claimAll(t, s, app.ID, "first", 20, time.Minute)
	want := store.Lease{AppID: app.ID, Owner: "first-00", Expires: c.Now().Add(time.Minute), Generation: 1}
	if len(winners) == 1 {
		want.Owner = winners[0]
	}
	if len(winners) != 1 || !sameLease(lease, want) {
		t.Fatalf("claimers of a free lease: %v won, answered %+v; want exactly one, and %+v", winners, lease, want)
	}
	holder := winners[0]

	// The holder writes and renews while others try to claim: every write
	// lands, and the lease stays the holder's, at generation 1.
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for w := range 4 {
		wg.Go(func() {
			for i := range 10 {
				if err := s.PutJobState(ctx, &store.JobState{AppID: app.ID, Watermark: int64(w*100 + i)}, lease); err != nil {
					errs <- fmt.Errorf("fenced PutJobState by the holder: %w", err)
				}
			}
		})
		wg.Go(func() {
			for i := range 10 {
				l, ok, err := s.ClaimJob(ctx, app.ID, fmt.Sprintf("other-%d-%d", w, i), time.Minute)
				if err == nil && (ok || !sameLease(l, lease)) {
					err = fmt.Errorf("ClaimJob of a live lease = %+v, %t", l, ok)
				}
				if err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Go(func() {
		for range 10 {
			l, ok, err := s.ClaimJob(ctx, app.ID, holder, time.Minute)
			if err == nil && (!ok || !sameLease(l, lease)) {
				err = fmt.Errorf("the holder's renewal = %+v, %t; want %+v", l, ok, lease)
			}
			if err != nil {
				errs <- err
			}
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	// Once it has expired, one of the claimers takes it over, the former
	// holder among them; every claimer is answered with the new lease.
	c.Advance(time.Minute)
	if err := s.PutJobState(ctx, &store.JobState{AppID: app.ID}, lease); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("fenced PutJobState once the lease expired: %v, want ErrLeaseLost", err)
	}
	winners, next := claimAll(t, s, app.ID, "next", 20, time.Minute)
	want = store.Lease{AppID: app.ID, Expires: c.Now().Add(time.Minute), Generation: 2}
	if len(winners) == 1 {
		want.Owner = winners[0]
	}
	if len(winners) != 1 || !sameLease(next, want) {
		t.Fatalf("claimers of an expired lease: %v won, answered %+v; want exactly one, and %+v", winners, next, want)
	}
}

// testFencedJobState checks that a fenced PutJobState writes while its
// fence holds the lease, and writes nothing once it does not.
func testFencedJobState(t *testing.T, s store.Store, c *clocktest.Clock) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	app, other := createApp(t, s, a, "App"), createApp(t, s, a, "Other")
	claim := func(appID, owner string) store.Lease {
		t.Helper()
		l, ok, err := s.ClaimJob(ctx, appID, owner, time.Minute)
		if err != nil || !ok {
			t.Fatalf("ClaimJob(%s) = %+v, %t, %v", owner, l, ok, err)
		}
		return l
	}
	var stored int64 // the watermark of the last write that landed
	put := func(watermark int64, fence ...store.Lease) error {
		t.Helper()
		err := s.PutJobState(ctx, &store.JobState{AppID: app.ID, Watermark: watermark, State: []byte(`{"n":1}`)}, fence...)
		if err == nil {
			stored = watermark
		}
		js, rerr := s.JobState(ctx, app.ID)
		if rerr != nil {
			t.Fatal(rerr)
		}
		if js.Watermark != stored {
			t.Errorf("JobState after PutJobState(%d) = %v: watermark %d, want %d", watermark, err, js.Watermark, stored)
		}
		return err
	}
	// lost checks that a fenced write did not land, for the reason given.
	lost := func(name string, watermark int64, fence store.Lease, says string) {
		t.Helper()
		err := put(watermark, fence)
		if !errors.Is(err, store.ErrLeaseLost) {
			t.Errorf("%s: PutJobState = %v, want ErrLeaseLost", name, err)
		} else if !strings.Contains(err.Error(), app.ID) || !strings.Contains(err.Error(), says) {
			t.Errorf("%s: PutJobState = %q, want the application and %q", name, err, says)
		}
	}

	lost("a job never claimed", 1, store.Lease{AppID: app.ID, Owner: "a", Generation: 1}, "has no lease")
	l1 := claim(app.ID, "a")
	if err := put(2, l1); err != nil {
		t.Fatalf("PutJobState by the holder: %v", err)
	}
	// Only Owner and Generation count: the lease's Expires is the database's.
	stale := l1
	stale.Expires = c.Now().Add(-time.Hour)
	if err := put(3, stale); err != nil {
		t.Errorf("PutJobState by the holder, with an old Expires: %v", err)
	}
	for _, tc := range []struct {
		name  string
		fence store.Lease
		says  string
	}{
		{"a later generation", store.Lease{AppID: app.ID, Owner: "a", Generation: 2}, "at generation 1, held by a until"},
		{"an earlier generation", store.Lease{AppID: app.ID, Owner: "a", Generation: 0}, "at generation 1, held by a until"},
		{"another owner", store.Lease{AppID: app.ID, Owner: "b", Generation: 1}, "at generation 1, held by a until"},
		{"no owner", store.Lease{AppID: app.ID, Generation: 1}, "no owner"},
	} {
		lost(tc.name, 4, tc.fence, tc.says)
	}

	// Expired, though nobody took it over; the same owner's new claim is a
	// new generation, which the old fence does not hold.
	c.Advance(time.Minute)
	lost("an expired lease", 5, l1, "expired at")
	l2 := claim(app.ID, "a")
	if l2.Generation != 2 {
		t.Fatalf("the claim after expiry = %+v, want generation 2", l2)
	}
	lost("the holder's previous generation", 6, l1, "at generation 2, held by a until")
	if err := put(7, l2); err != nil {
		t.Errorf("PutJobState by the holder of generation 2: %v", err)
	}

	// Taken over: the former holder's writes do not land, the new one's do.
	c.Advance(time.Minute)
	l3 := claim(app.ID, "b")
	lost("a lease taken over", 8, l2, "at generation 3, held by b until")
	if err := put(9, l3); err != nil {
		t.Errorf("PutJobState by the new holder: %v", err)
	}

	// Released: nobody's writes land but unfenced ones.
	if err := s.ReleaseJob(ctx, app.ID, "b"); err != nil {
		t.Fatal(err)
	}
	lost("a released lease", 10, l3, "at generation 3, released")
	if err := put(11); err != nil {
		t.Errorf("PutJobState without a fence: %v", err)
	}

	// The caller's mistakes are errors, but not a lost lease.
	l4 := claim(app.ID, "a")
	ol := claim(other.ID, "a")
	for _, tc := range []struct {
		name   string
		fences []store.Lease
	}{
		{"the lease of another application", []store.Lease{ol}},
		{"a fence without an application", []store.Lease{{Owner: "a", Generation: l4.Generation}}},
		{"two fences", []store.Lease{l4, l4}},
	} {
		if err := put(12, tc.fences...); err == nil || errors.Is(err, store.ErrLeaseLost) {
			t.Errorf("PutJobState with %s = %v, want an error other than ErrLeaseLost", tc.name, err)
		}
	}
	if err := put(13, l4); err != nil {
		t.Errorf("PutJobState by the holder after the refused writes: %v", err)
	}

	// The application's lease goes with it.
	if err := s.DeleteApp(ctx, a, other.ID); err != nil {
		t.Fatal(err)
	}
	err := s.PutJobState(ctx, &store.JobState{AppID: other.ID}, ol)
	if !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("fenced PutJobState of a deleted application = %v, want ErrLeaseLost", err)
	}
}

// testFencedLinkWrites checks that link, log and escrow writes made with a
// context that carries a fence (store.WithFence) land while the fence's
// lease holds and not after another owner took it over, and that nothing
// of a refused write is stored.
func testFencedLinkWrites(t *testing.T, s store.Store, c *clocktest.Clock) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	app := createApp(t, s, a, "App")
	u := &store.Resource{TenantID: a, Type: store.UserType, Doc: map[string]any{"userName": "ann"}}
	if err := s.Create(ctx, u); err != nil {
		t.Fatal(err)
	}
	held, ok, err := s.ClaimJob(ctx, app.ID, "a", time.Minute)
	if err != nil || !ok {
		t.Fatalf("ClaimJob = %+v, %t, %v", held, ok, err)
	}
	fenced := store.WithFence(ctx, held)
	logOf := func(id string) *store.ProvisioningLog {
		return &store.ProvisioningLog{ID: id, TenantID: a, AppID: app.ID, CycleID: "c", At: c.Now(), Action: "create", Status: "success",
			SourceType: store.UserType, SourceID: u.ID, SourceName: "ann", TargetID: "t1", Record: []byte(`{}`)}
	}
	link := &store.Link{AppID: app.ID, SourceType: store.UserType, SourceID: u.ID, TargetID: "t1"}
	if err := s.PutLink(fenced, link, logOf("log-1")); err != nil {
		t.Fatalf("PutLink while the lease holds: %v", err)
	}
	// The lease expires and another owner takes the job over.
	c.Advance(2 * time.Minute)
	if _, ok, err := s.ClaimJob(ctx, app.ID, "b", time.Minute); err != nil || !ok {
		t.Fatalf("takeover: %t, %v", ok, err)
	}
	late := &store.Link{AppID: app.ID, SourceType: store.UserType, SourceID: u.ID, TargetID: "t2"}
	for name, err := range map[string]error{
		"PutLink":      s.PutLink(fenced, late, logOf("log-2")),
		"DeleteLink":   s.DeleteLink(fenced, app.ID, store.UserType, u.ID, logOf("log-3")),
		"AppendLogs":   s.AppendLogs(fenced, []*store.ProvisioningLog{logOf("log-4")}),
		"PutEscrow":    s.PutEscrow(fenced, &store.Escrow{AppID: app.ID, SourceType: store.UserType, SourceID: u.ID, Record: []byte(`{}`)}),
		"DeleteEscrow": s.DeleteEscrow(fenced, app.ID, store.UserType, u.ID),
	} {
		if !errors.Is(err, store.ErrLeaseLost) {
			t.Errorf("%s after the takeover = %v, want ErrLeaseLost", name, err)
		}
	}
	l, err := s.Link(ctx, app.ID, store.UserType, u.ID)
	if err != nil || l.TargetID != "t1" {
		t.Errorf("the link after refused writes: %+v, %v; want the first, to t1", l, err)
	}
	logs, err := s.Logs(ctx, store.LogQuery{TenantID: a, AppID: app.ID})
	if err != nil || len(logs) != 1 || logs[0].ID != "log-1" {
		t.Errorf("logs after refused writes: %d, %v; want log-1 alone", len(logs), err)
	}
	if total, _, err := s.CountEscrows(ctx, app.ID); err != nil || total != 0 {
		t.Errorf("escrows after a refused write: %d, %v", total, err)
	}
}
