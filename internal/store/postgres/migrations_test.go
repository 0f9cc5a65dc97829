package postgres

import (
	"context"
	"database/sql"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/ferryid/ferry/internal/scim/schema"
	"github.com/ferryid/ferry/internal/store"
	"github.com/ferryid/ferry/internal/store/sqlstore/sqlstoretest"
)

// TestLeaseGenerationMigration runs
// sqlstoretest.LeaseGenerationMigration on a PostgreSQL database.
func TestLeaseGenerationMigration(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn, err := server.CreateDatabase(ctx, "migrate")
	if err != nil {
		t.Fatal(err)
	}
	sqlstoretest.LeaseGenerationMigration(t, sqlstoretest.Migrations{
		Open: func(t *testing.T) store.Store {
			s, err := Open(ctx, dsn, schema.Builtin(), Options{})
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		DB: func(t *testing.T) *sql.DB {
			pool, err := pgxpool.New(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(pool.Close)
			return stdlib.OpenDBFromPool(pool)
		},
		Dialect:     goose.DialectPostgres,
		FS:          migrationFS,
		Generations: 5,
		GenerationColumns: `SELECT count(*) FROM information_schema.columns
			WHERE table_name = 'job_leases' AND column_name = 'generation'`,
	})
}
