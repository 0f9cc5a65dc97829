package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/pressly/goose/v3"

	"github.com/ferryid/ferry/internal/scim/schema"
	"github.com/ferryid/ferry/internal/store"
	"github.com/ferryid/ferry/internal/store/sqlstore/sqlstoretest"
)

// TestLeaseGenerationMigration runs
// sqlstoretest.LeaseGenerationMigration on a SQLite database file.
func TestLeaseGenerationMigration(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "ferry.db")
	sqlstoretest.LeaseGenerationMigration(t, sqlstoretest.Migrations{
		Open: func(t *testing.T) store.Store {
			s, err := Open(context.Background(), path, schema.Builtin(), Options{})
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		DB: func(t *testing.T) *sql.DB {
			db, err := sql.Open("sqlite", path)
			if err != nil {
				t.Fatal(err)
			}
			return db
		},
		Dialect:           goose.DialectSQLite3,
		FS:                migrationFS,
		Generations:       4,
		GenerationColumns: `SELECT count(*) FROM pragma_table_info('job_leases') WHERE name = 'generation'`,
	})
}
