package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ferryid/ferry/internal/scim/schema"
	"github.com/ferryid/ferry/internal/storeopen"
)

const defaultDatabase = "ferry.db"

// databaseFlagHelp documents --database for every command that opens one.
const databaseFlagHelp = "database: a SQLite file path, sqlite:PATH, or a PostgreSQL URL " +
	"postgres://USER[:PASSWORD]@HOST:PORT/DB?sslmode=... (env FERRY_DATABASE)"

// redactURL is a --database value as messages and logs show it: without
// a PostgreSQL password.
func redactURL(database string) string { return storeopen.Redact(database) }

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
			st, err := storeopen.Open(cmd.Context(), database, "", schema.Builtin())
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
