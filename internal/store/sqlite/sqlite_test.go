package sqlite

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/ferryid/ferry/internal/scim/schema"
	"github.com/ferryid/ferry/internal/store"
	"github.com/ferryid/ferry/internal/store/storetest"
)

func openTest(t testing.TB) *Store {
	t.Helper()
	return openClocked(t, nil)
}

// openClocked opens a store on a new database file with the clock now
// (nil: time.Now).
func openClocked(t testing.TB, now func() time.Time) *Store {
	t.Helper()
	// As ferry serve opens it: the owner, with its caches.
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "ferry.db"), schema.Builtin(), Options{Now: now, Owner: true})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, now func() time.Time) store.Store { return openClocked(t, now) })
}
