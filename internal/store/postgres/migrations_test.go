package postgres

import (
	"context"
	"io/fs"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/ferryid/ferry/internal/scim/schema"
	"github.com/ferryid/ferry/internal/store"
)

// TestLeaseGenerationMigration takes the lease generation migration down
// and up again over leases held and released.
func TestLeaseGenerationMigration(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn, err := server.CreateDatabase(ctx, "migrate")
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(ctx, dsn, schema.Builtin(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	tn, err := s.EnsureTenant(ctx, "t")
	if err != nil {
		t.Fatal(err)
	}
	held := &store.App{TenantID: tn.ID, Name: "Held", Template: "scim"}
	released := &store.App{TenantID: tn.ID, Name: "Released", Template: "scim"}
	for _, a := range []*store.App{held, released} {
		if err := s.CreateApp(ctx, a); err != nil {
			t.Fatal(err)
		}
		for range 2 { // generation 2
			if _, _, err := s.ClaimJob(ctx, a.ID, "w", time.Hour); err != nil {
				t.Fatal(err)
			}
			if err := s.ReleaseJob(ctx, a.ID, "w"); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, _, err := s.ClaimJob(ctx, held.ID, "w", time.Hour); err != nil {
		t.Fatal(err)
	}
	s.Close()

	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	fsys, err := fs.Sub(migrationFS, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, fsys)
	if err != nil {
		t.Fatal(err)
	}
	// Down to before the lease generations: the audit log's migration,
	// which follows it, is undone first.
	if rs, err := p.DownTo(ctx, 4); err != nil || len(rs) != 2 || rs[1].Source.Version != 5 {
		t.Fatalf("DownTo(4) = %v, %v; want migrations 6 and 5 undone", rs, err)
	}
	var columns int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM information_schema.columns
		WHERE table_name = 'job_leases' AND column_name = 'generation'`).Scan(&columns); err != nil || columns != 0 {
		t.Errorf("generation columns after Down: %d, %v", columns, err)
	}
	var owners []string
	rows, err := pool.Query(ctx, `SELECT owner FROM job_leases`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var o string
		if err := rows.Scan(&o); err != nil {
			t.Fatal(err)
		}
		owners = append(owners, o)
	}
	if err := rows.Err(); err != nil || len(owners) != 1 || owners[0] != "w" {
		t.Errorf("leases after Down: %q, %v; want the held one alone (a released lease had no row)", owners, err)
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatal(err)
	}

	s, err = Open(ctx, dsn, schema.Builtin(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if l, err := s.JobLease(ctx, held.ID); err != nil || l.Owner != "w" || l.Generation != 1 {
		t.Errorf("the held lease after Down and Up = %+v, %v; want w's, generation 1", l, err)
	}
	if l, ok, err := s.ClaimJob(ctx, released.ID, "v", time.Hour); err != nil || !ok || l.Generation != 1 {
		t.Errorf("claim of the released lease after Down and Up = %+v, %t, %v; want generation 1", l, ok, err)
	}
}
