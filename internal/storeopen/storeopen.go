// Package storeopen opens the store a database setting names (ferry's
// --database): a PostgreSQL URL, or a SQLite file path.
package storeopen

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/ferryid/ferry/internal/scim/schema"
	"github.com/ferryid/ferry/internal/store"
	"github.com/ferryid/ferry/internal/store/postgres"
	"github.com/ferryid/ferry/internal/store/sqlite"
)

// IsPostgres reports whether database names a PostgreSQL database.
func IsPostgres(database string) bool {
	lower := strings.ToLower(database)
	return strings.HasPrefix(lower, "postgres://") || strings.HasPrefix(lower, "postgresql://")
}

// Open opens the store database names, migrating it to the current
// schema: a postgres:// URL for PostgreSQL, else a file path or
// sqlite:PATH for SQLite. synchronous applies to SQLite only.
func Open(ctx context.Context, database, synchronous string, catalog *schema.Catalog) (store.Store, error) {
	return open(ctx, database, synchronous, catalog, false)
}

// Serve opens the store as Open does, for ferry serve: a SQLite file is
// then this process's own (sqlite.Options.Owner), and a second ferry
// serve on it is refused, since the server keeps in memory what it would
// otherwise read back from the database. Any number of processes serve
// one PostgreSQL database.
func Serve(ctx context.Context, database, synchronous string, catalog *schema.Catalog) (store.Store, error) {
	return open(ctx, database, synchronous, catalog, true)
}

func open(ctx context.Context, database, synchronous string, catalog *schema.Catalog, serve bool) (store.Store, error) {
	if IsPostgres(database) {
		st, err := postgres.Open(ctx, database, catalog, postgres.Options{})
		if err != nil {
			return nil, fmt.Errorf("open database %s: %w", Redact(database), err)
		}
		return st, nil
	}
	if strings.HasPrefix(strings.ToLower(database), "sqlite:") {
		database = strings.TrimPrefix(database[len("sqlite:"):], "//")
	}
	if database == "" {
		return nil, errors.New("database: empty SQLite path")
	}
	st, err := sqlite.Open(ctx, database, catalog, sqlite.Options{Synchronous: synchronous, Owner: serve})
	if errors.Is(err, sqlite.ErrNotOwner) {
		return nil, fmt.Errorf("database %s: another ferry serve is serving it; a SQLite database has one server (use PostgreSQL for several replicas): %w", database, err)
	}
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", database, err)
	}
	return st, nil
}

// Redact hides the password of a PostgreSQL URL, in its user information
// or its query, before it reaches a message or a log.
func Redact(database string) string {
	if !IsPostgres(database) {
		return database
	}
	u, err := url.Parse(database)
	if err != nil {
		return "a PostgreSQL URL that does not parse"
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.String()
}
