package sqlite

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/ferryid/ferry/internal/clocktest"
	"github.com/ferryid/ferry/internal/scim/resource"
	"github.com/ferryid/ferry/internal/store"
	"github.com/ferryid/ferry/internal/store/sqlstore"
)

// TestPruneChangesInBatches: a prune larger than a batch takes several
// writes, and each moves the horizon with what it deleted.
func TestPruneChangesInBatches(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := clocktest.New(time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC))
	s := openClocked(t, clock.Now)
	defer s.Close()
	tn, err := s.EnsureTenant(ctx, "t")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 7 {
		if err := s.Create(ctx, &store.Resource{TenantID: tn.ID, Type: store.UserType, Doc: resource.Document{"userName": fmt.Sprint("u", i)}}); err != nil {
			t.Fatal(err)
		}
	}
	clock.Advance(time.Hour)
	if err := s.Create(ctx, &store.Resource{TenantID: tn.ID, Type: store.UserType, Doc: resource.Document{"userName": "kept"}}); err != nil {
		t.Fatal(err)
	}
	all, err := s.Changes(ctx, tn.ID, 0, 100)
	if err != nil || len(all) != 8 {
		t.Fatalf("Changes = %v, %v", all, err)
	}
	writes := 0
	f := s.ChangeFeed
	write := f.Write
	f.Write = func(ctx context.Context, fn func(tx sqlstore.WebhookTx) error) error {
		writes++
		return write(ctx, fn)
	}
	f.Batch = 2
	if n, err := f.PruneChanges(ctx, clock.Now()); err != nil || n != 7 {
		t.Fatalf("PruneChanges = %d, %v; want 7", n, err)
	}
	if writes != 4 {
		t.Errorf("%d writes, want 4 (2+2+2+1)", writes)
	}
	_, err = s.Changes(ctx, tn.ID, all[5].Seq, 10)
	if pe, ok := errors.AsType[*store.PrunedError](err); !ok || pe.Horizon != all[6].Seq {
		t.Errorf("Changes after entry 6 of 7 pruned = %v; want the horizon at the 7th", err)
	}
	if got, err := s.Changes(ctx, tn.ID, 0, 10); err != nil || len(got) != 1 || got[0].Seq != all[7].Seq {
		t.Errorf("Changes kept = %v, %v; want the last only", got, err)
	}
}
