package main

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ferryid/ferry/internal/scim/schema"
	"github.com/ferryid/ferry/internal/store"
	"github.com/ferryid/ferry/internal/store/postgres"
	"github.com/ferryid/ferry/internal/store/sqlite"
)

const defaultDatabase = "ferry.db"

// databaseFlagHelp documents --database for every command that opens one.
const databaseFlagHelp = "database: a SQLite file path, sqlite:PATH, or a PostgreSQL URL " +
	"postgres://USER[:PASSWORD]@HOST:PORT/DB?sslmode=... (env FERRY_DATABASE)"

// isPostgres reports whether a --database value names a PostgreSQL database.
func isPostgres(database string) bool {
	lower := strings.ToLower(database)
	return strings.HasPrefix(lower, "postgres://") || strings.HasPrefix(lower, "postgresql://")
}

// openStore opens the directory named by a --database value, migrating it
// to the current schema: a postgres:// URL for PostgreSQL, else a file
// path or sqlite:PATH for SQLite. synchronous applies to SQLite only.
func openStore(ctx context.Context, database, synchronous string, catalog *schema.Catalog) (store.Store, error) {
	if isPostgres(database) {
		st, err := postgres.Open(ctx, database, catalog, postgres.Options{})
		if err != nil {
			return nil, fmt.Errorf("open database %s: %w", redactURL(database), err)
		}
		return st, nil
	}
	if strings.HasPrefix(strings.ToLower(database), "sqlite:") {
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

// redactURL hides the password of a PostgreSQL URL, in its user
// information or its query, before it reaches a message or a log.
func redactURL(database string) string {
	if !isPostgres(database) {
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

func newMigrateCommand() *cobra.Command {
	var database string
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Bring the database's schema up to date",
		Long: `Migrate applies the schema migrations the database lacks, then exits.
ferry serve migrates on start as well; run this to migrate ahead of a
deployment. Several processes migrating one PostgreSQL database at once
apply each migration once: they take turns on an advisory lock.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := openStore(cmd.Context(), database, "", schema.Builtin())
			if err != nil {
				return err
			}
			if err := st.Close(); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "database %s is up to date\n", redactURL(database))
			return nil
		},
	}
	cmd.Flags().StringVar(&database, "database", envOr("FERRY_DATABASE", defaultDatabase), databaseFlagHelp)
	return cmd
}
