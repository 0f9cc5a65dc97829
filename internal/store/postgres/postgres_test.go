package postgres

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/ferryid/ferry/internal/pgtest"
	"github.com/ferryid/ferry/internal/scim/schema"
	"github.com/ferryid/ferry/internal/store"
	"github.com/ferryid/ferry/internal/store/sqlite"
	"github.com/ferryid/ferry/internal/store/storetest"
)

// server is the package's throwaway PostgreSQL; each test gets its own
// database on it.
var server *pgtest.Server

func TestMain(m *testing.M) {
	var err error
	server, err = pgtest.Start(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	if err := server.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	os.Exit(code)
}

// openStore opens a store on a new database.
func openStore(t testing.TB) *Store {
	t.Helper()
	return openClocked(t, nil)
}

// openClocked opens a store on a new database with the clock now (nil:
// time.Now, and the server's clock for leases).
func openClocked(t testing.TB, now func() time.Time) *Store {
	t.Helper()
	ctx := context.Background()
	dsn, err := server.CreateDatabase(ctx, "store")
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(ctx, dsn, schema.Builtin(), Options{MaxConns: 8, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, now func() time.Time) store.Store { return openClocked(t, now) })
}

// TestSameAsSQLite holds the two backends to the same answers, row for
// row, sorted results included.
func TestSameAsSQLite(t *testing.T) {
	lite, err := sqlite.Open(context.Background(), t.TempDir()+"/ferry.db", schema.Builtin(), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer lite.Close()
	pg := openStore(t)
	defer pg.Close()
	storetest.Compare(t, lite, pg)
}
