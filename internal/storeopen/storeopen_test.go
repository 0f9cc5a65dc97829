package storeopen

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/ferryid/ferry/internal/scim/schema"
)

// TestRedact: a PostgreSQL password never reaches a message, in the user
// information or in the query; a SQLite path is shown as it is.
func TestRedact(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"postgres://ferry:s3cret@db:5432/ferry?sslmode=require": "postgres://ferry:xxxxx@db:5432/ferry?sslmode=require",
		"postgresql://db/ferry?password=s3cret&user=ferry":      "postgresql://db/ferry?password=xxxxx&user=ferry",
		"POSTGRES://ferry@db/ferry":                             "postgres://ferry@db/ferry",
		"/var/lib/ferry/ferry.db":                               "/var/lib/ferry/ferry.db",
		"postgres://ferry:s3cret@db:5432/%zz":                   "a PostgreSQL URL that does not parse",
	} {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestIsPostgres(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]bool{"postgres://db/x": true, "PostgreSQL://db/x": true, "sqlite:ferry.db": false, "postgres.db": false} {
		if got := IsPostgres(in); got != want {
			t.Errorf("IsPostgres(%q) = %v", in, got)
		}
	}
}

// TestOpenSQLite: a path, with or without sqlite: or sqlite://, opens a
// SQLite store; an empty one is refused.
func TestOpenSQLite(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, database := range []string{filepath.Join(dir, "a.db"), "sqlite:" + filepath.Join(dir, "b.db"), "SQLITE://" + filepath.Join(dir, "c.db")} {
		st, err := Open(context.Background(), database, "", schema.Builtin())
		if err != nil {
			t.Errorf("Open(%q): %v", database, err)
			continue
		}
		st.Close()
	}
	if _, err := Open(context.Background(), "sqlite:", "", schema.Builtin()); err == nil || err.Error() != "database: empty SQLite path" {
		t.Errorf("an empty path: %v", err)
	}
}
