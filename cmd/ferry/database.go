package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/ferryid/ferry/internal/scim/schema"
	"github.com/ferryid/ferry/internal/store"
	"github.com/ferryid/ferry/internal/store/sqlite"
)

const defaultDatabase = "ferry.db"

// databaseFlagHelp documents --database for every command that opens one.
const databaseFlagHelp = "database: a SQLite file path or sqlite:PATH (env FERRY_DATABASE)"

// openStore opens the directory named by a --database value: a file path or
// sqlite:PATH for SQLite.
func openStore(ctx context.Context, database, synchronous string, catalog *schema.Catalog) (store.Store, error) {
	lower := strings.ToLower(database)
	switch {
	case strings.HasPrefix(lower, "postgres://"), strings.HasPrefix(lower, "postgresql://"):
		return nil, fmt.Errorf("database %q: PostgreSQL is not supported yet; use a SQLite path or sqlite:PATH", redactURL(database))
	case strings.HasPrefix(lower, "sqlite:"):
		database = strings.TrimPrefix(database[len("sqlite:"):], "//")
	}
	if database == "" {
		return nil, fmt.Errorf("database: empty SQLite path")
	}
	st, err := sqlite.Open(ctx, database, catalog, sqlite.Options{Synchronous: synchronous})
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", database, err)
	}
	return st, nil
}

// redactURL hides a password in a database URL before it reaches a message.
func redactURL(u string) string {
	at := strings.LastIndex(u, "@")
	scheme := strings.Index(u, "://")
	if at < 0 || scheme < 0 {
		return u
	}
	creds := u[scheme+3 : at]
	if user, _, ok := strings.Cut(creds, ":"); ok {
		return u[:scheme+3] + user + ":xxxxx" + u[at:]
	}
	return u
}
