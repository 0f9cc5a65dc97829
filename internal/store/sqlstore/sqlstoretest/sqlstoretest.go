// Package sqlstoretest holds the tests the two SQL stores (internal/store/
// sqlite and internal/store/postgres) share beyond the conformance suite
// (storetest): tests of their migrations, of the query plans their
// statements get and of the limits of their SQL, each run by a backend
// test with what differs between the databases.
package sqlstoretest

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/ferryid/ferry/internal/scim/filter"
	"github.com/ferryid/ferry/internal/store"
	"github.com/ferryid/ferry/internal/store/sqlstore"
)

// Migrations is a backend's side of LeaseGenerationMigration.
type Migrations struct {
	// Open opens the store on the test's database, migrating it to the
	// current schema.
	Open func(t *testing.T) store.Store
	// DB opens the database itself.
	DB func(t *testing.T) *sql.DB
	// Dialect is the database's goose dialect, and FS the backend's
	// embedded files, the migrations in a folder "migrations".
	Dialect goose.Dialect
	FS      fs.FS
	// Generations is the version of the migration that adds job_leases'
	// generation column; later migrations follow it.
	Generations int64
	// GenerationColumns is a query counting job_leases' generation
	// columns.
	GenerationColumns string
}

// LeaseGenerationMigration takes the lease generation migration down and
// up again over leases held and released.
func LeaseGenerationMigration(t *testing.T, m Migrations) {
	ctx := context.Background()
	s := m.Open(t)
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

	db := m.DB(t)
	defer db.Close()
	fsys, err := fs.Sub(m.FS, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	p, err := goose.NewProvider(m.Dialect, db, fsys)
	if err != nil {
		t.Fatal(err)
	}
	// Down to before the lease generations: the migrations that follow
	// it are undone first, newest first, and it last.
	before := m.Generations - 1
	if rs, err := p.DownTo(ctx, before); err != nil || len(rs) < 2 || rs[len(rs)-1].Source.Version != m.Generations {
		t.Fatalf("DownTo(%d) = %v, %v; want the migrations after %d undone, %d last", before, rs, err, m.Generations, m.Generations)
	}
	var columns int
	if err := db.QueryRowContext(ctx, m.GenerationColumns).Scan(&columns); err != nil || columns != 0 {
		t.Errorf("generation columns after Down: %d, %v", columns, err)
	}
	rows, err := db.QueryContext(ctx, `SELECT owner FROM job_leases`)
	if err != nil {
		t.Fatal(err)
	}
	owners, err := sqlstore.ScanAll(rows, func(row sqlstore.Row) (string, error) {
		var o string
		err := row.Scan(&o)
		return o, err
	})
	rows.Close()
	if err != nil || len(owners) != 1 || owners[0] != "w" {
		t.Errorf("leases after Down: %q, %v; want the held one alone (a released lease had no row)", owners, err)
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatal(err)
	}
	db.Close()

	s = m.Open(t)
	defer s.Close()
	if l, err := s.JobLease(ctx, held.ID); err != nil || l.Owner != "w" || l.Generation != 1 {
		t.Errorf("the held lease after Down and Up = %+v, %v; want w's, generation 1", l, err)
	}
	if l, ok, err := s.ClaimJob(ctx, released.ID, "v", time.Hour); err != nil || !ok || l.Generation != 1 {
		t.Errorf("claim of the released lease after Down and Up = %+v, %t, %v; want generation 1", l, ok, err)
	}
}

// LongFilter runs the longest filters the parser accepts, chains of
// several hundred or and and terms, on s: SQLite bounds expression depth
// at 1000, and the translation writes a chain as a balanced tree.
func LongFilter(t *testing.T, s store.Store) {
	ctx := context.Background()
	tn, err := s.EnsureTenant(ctx, "t")
	if err != nil {
		t.Fatal(err)
	}
	for _, join := range []string{" or ", " and "} {
		var terms []string
		for i := 0; ; i++ {
			next := append(terms, fmt.Sprintf(`userName ne "u%d"`, i))
			if len(strings.Join(next, join)) > filter.MaxLength {
				break
			}
			terms = next
		}
		e, err := filter.Parse(strings.Join(terms, join))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Query(ctx, tn.ID, store.UserType, store.Query{Filter: e, Count: 10}); err != nil {
			t.Fatalf("%d terms joined by %q: %v", len(terms), join, err)
		}
	}
}

// PlanCase is a filter whose query plans QueryPlans checks.
type PlanCase struct {
	Type, Filter string
	// After, when not nil, makes the query a keyset page (Query.After),
	// sorted by SortBy, Descending.
	After      *store.Position
	SortBy     string
	Descending bool
	// IDsOnly reads the page's identities alone (store.ReadOptions).
	IDsOnly bool
	// Uses are what the plan of the page's statement must contain.
	Uses []string
}

// Planner is a backend's side of QueryPlans.
type Planner struct {
	// Statements returns the statements of a Query on resources of type
	// typ of a tenant.
	Statements func(tenantID, typ string, q store.Query) (sqlstore.Statements, error)
	// Explain returns the plan of a statement, a line a step.
	Explain func(t *testing.T, query string, args []any) []string
	// Scans reports whether a step of a plan reads a whole table rather
	// than look rows up.
	Scans func(step string) bool
}

// QueryPlans checks that the statements of a query of 100 resources of
// the tenant "t" of s, for each case's filter, are answered by index
// lookups: no step of either plan scans a table, and the page's plan uses
// what the case names.
func QueryPlans(t *testing.T, s store.Store, p Planner, cases []PlanCase) {
	tn, err := s.EnsureTenant(context.Background(), "t")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		name := tc.Filter
		if tc.After != nil {
			name = fmt.Sprintf("keyset %s after %q sortBy %q descending %v", tc.Filter, tc.After.ID, tc.SortBy, tc.Descending)
		}
		t.Run(name, func(t *testing.T) {
			var e filter.Expr
			if tc.Filter != "" {
				var err error
				if e, err = filter.Parse(tc.Filter); err != nil {
					t.Fatal(err)
				}
			}
			st, err := p.Statements(tn.ID, tc.Type, store.Query{Filter: e, Count: 100, After: tc.After, SortBy: tc.SortBy, Descending: tc.Descending,
				ReadOptions: store.ReadOptions{IDsOnly: tc.IDsOnly}})
			if err != nil {
				t.Fatal(err)
			}
			for _, q := range []struct {
				sql  string
				args []any
				page bool
			}{{st.Count, st.CountArgs, false}, {st.Page, st.PageArgs, true}} {
				steps := p.Explain(t, q.sql, q.args)
				plan := strings.Join(steps, "\n")
				for _, step := range steps {
					if p.Scans(step) {
						t.Errorf("plan scans: %q\nquery: %s\nplan:\n%s", step, q.sql, plan)
					}
				}
				if !q.page {
					continue
				}
				t.Logf("plan:\n%s", plan)
				for _, u := range tc.Uses {
					if !strings.Contains(plan, u) {
						t.Errorf("plan does not use %q\nquery: %s\nplan:\n%s", u, q.sql, plan)
					}
				}
			}
		})
	}
}
