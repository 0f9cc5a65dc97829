package storetest

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/ferryid/ferry/internal/clocktest"
	"github.com/ferryid/ferry/internal/store"
)

// changeSeqs returns the positions of a tenant's change-feed entries
// after after.
func changeSeqs(t *testing.T, s store.Store, tenantID string, after int64) []int64 {
	t.Helper()
	cs, err := s.Changes(context.Background(), tenantID, after, 1000)
	if err != nil {
		t.Fatalf("Changes(%s, %d): %v", tenantID, after, err)
	}
	var out []int64
	for _, c := range cs {
		out = append(out, c.Seq)
	}
	return out
}

// testPruneChanges: PruneChanges deletes each tenant's entries from
// before its time, only from the start of the feed, and Changes after a
// position below the tenant's horizon is ErrChangesPruned.
func testPruneChanges(t *testing.T, s store.Store, c *clocktest.Clock) {
	ctx := context.Background()
	t0 := c.Now()
	a, b, other := tenant(t, s, "a"), tenant(t, s, "b"), tenant(t, s, "c")
	create(t, s, a, store.UserType, user(t, "a1"))
	create(t, s, a, store.UserType, user(t, "a2"))
	create(t, s, b, store.UserType, user(t, "b1"))
	c.Advance(time.Hour)
	create(t, s, a, store.UserType, user(t, "a3"))
	create(t, s, b, store.UserType, user(t, "b2"))
	create(t, s, other, store.UserType, user(t, "c1"))
	create(t, s, other, store.UserType, user(t, "c2"))
	c.Advance(2 * time.Hour) // t0+3h
	create(t, s, a, store.UserType, user(t, "a4"))
	// A write whose time is earlier than one before it in the feed (a
	// clock stepped back, or another replica's): it is kept with the
	// entry before it.
	c.Advance(-2*time.Hour - 30*time.Minute) // t0+30m
	create(t, s, a, store.UserType, user(t, "a5"))
	as, bs, cs := changeSeqs(t, s, a, 0), changeSeqs(t, s, b, 0), changeSeqs(t, s, other, 0)
	if len(as) != 5 || len(bs) != 2 || len(cs) != 2 {
		t.Fatalf("feeds before the prune: a %v, b %v, c %v", as, bs, cs)
	}

	if n, err := s.PruneChanges(ctx, t0.Add(30*time.Minute)); err != nil || n != 3 {
		t.Fatalf("PruneChanges(t0+30m) = %d, %v; want 3 (a1, a2, b1)", n, err)
	}
	if got, want := changeSeqs(t, s, a, 0), as[2:]; !slices.Equal(got, want) {
		t.Errorf("tenant a's feed after the prune = %v, want %v", got, want)
	}
	if got, want := changeSeqs(t, s, b, 0), bs[1:]; !slices.Equal(got, want) {
		t.Errorf("tenant b's feed after the prune = %v, want %v", got, want)
	}
	if got := changeSeqs(t, s, other, 0); !slices.Equal(got, cs) {
		t.Errorf("tenant c's feed after the prune = %v, want %v untouched", got, cs)
	}

	// A reader after a pruned entry has lost the entries up to the
	// horizon; one at the horizon or after it has lost nothing.
	_, err := s.Changes(ctx, a, as[0], 10)
	if !errors.Is(err, store.ErrChangesPruned) {
		t.Fatalf("Changes after pruned entry %d = %v, want ErrChangesPruned", as[0], err)
	}
	if pe, ok := errors.AsType[*store.PrunedError](err); !ok || pe.TenantID != a || pe.After != as[0] || pe.Horizon != as[1] {
		t.Errorf("Changes after a pruned entry: %#v, want tenant %s, after %d, horizon %d", err, a, as[0], as[1])
	}
	if got, want := changeSeqs(t, s, a, as[1]), as[2:]; !slices.Equal(got, want) {
		t.Errorf("Changes after the horizon = %v, want %v", got, want)
	}
	if got, want := changeSeqs(t, s, b, bs[0]), bs[1:]; !slices.Equal(got, want) {
		t.Errorf("tenant b's Changes after its horizon = %v, want %v", got, want)
	}
	// Another tenant's horizon is no bound: on PostgreSQL, c's positions
	// are below a's.
	if got, want := changeSeqs(t, s, other, cs[0]), cs[1:]; !slices.Equal(got, want) {
		t.Errorf("tenant c's Changes after %d = %v, want %v", cs[0], got, want)
	}
	if _, err := s.Changes(ctx, a, as[0], 0); err != nil {
		t.Errorf("Changes with limit 0 = %v, want nothing read", err)
	}

	// Entries newer than the cutoff stay, and so does everything after
	// the first of them (a5, older, behind a4).
	if n, err := s.PruneChanges(ctx, t0.Add(2*time.Hour)); err != nil || n != 4 {
		t.Fatalf("PruneChanges(t0+2h) = %d, %v; want 4 (a3, b2, c1, c2)", n, err)
	}
	if got, want := changeSeqs(t, s, a, 0), as[3:]; !slices.Equal(got, want) {
		t.Errorf("tenant a's feed = %v, want %v (a4, and a5 behind it)", got, want)
	}
	if _, err := s.Changes(ctx, a, as[1], 10); !errors.Is(err, store.ErrChangesPruned) {
		t.Errorf("Changes after the old horizon = %v, want ErrChangesPruned", err)
	}
	if n, err := s.PruneChanges(ctx, t0.Add(2*time.Hour)); err != nil || n != 0 {
		t.Errorf("PruneChanges again = %d, %v; want 0", n, err)
	}

	// Pruning everything leaves the horizon at the last entry: a reader
	// there has lost nothing, and new entries follow it.
	if n, err := s.PruneChanges(ctx, t0.Add(24*time.Hour)); err != nil || n != 2 {
		t.Fatalf("PruneChanges(t0+24h) = %d, %v; want 2 (a4, a5)", n, err)
	}
	if got := changeSeqs(t, s, a, as[4]); len(got) != 0 {
		t.Errorf("Changes after the last entry, all pruned = %v, want none", got)
	}
	create(t, s, a, store.UserType, user(t, "a6"))
	if got := changeSeqs(t, s, a, as[4]); len(got) != 1 || got[0] <= as[4] {
		t.Errorf("Changes after the last pruned entry = %v, want the new one", got)
	}
}
