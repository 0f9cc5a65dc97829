package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ferryid/ferry/internal/scim/schema"
	"github.com/ferryid/ferry/internal/store"
	"github.com/ferryid/ferry/internal/storeopen"
)

const defaultDatabase = "ferry.db"

// databaseFlagHelp documents --database for every command that opens one.
const databaseFlagHelp = "database: a SQLite file path, sqlite:PATH, or a PostgreSQL URL " +
	"postgres://USER[:PASSWORD]@HOST:PORT/DB?sslmode=... (env FERRY_DATABASE)"

// redactURL is a --database value as messages and logs show it: without
// a PostgreSQL password.
func redactURL(database string) string { return storeopen.Redact(database) }

// withTenant opens database and finds the tenant called tenant (or, when
// create is set, creates it), for the duration of fn: the commands that
// write the database themselves rather than through a server's API
// (ferry tokens, ferry admins).
func withTenant(cmd *cobra.Command, database, tenant string, create bool, fn func(st store.Store, t store.Tenant) error) error {
	ctx := cmd.Context()
	st, err := storeopen.Open(ctx, database, "", schema.Builtin())
	if err != nil {
		return err
	}
	defer st.Close()
	var t store.Tenant
	if create {
		t, err = st.EnsureTenant(ctx, tenant)
	} else {
		t, err = st.TenantByName(ctx, tenant)
	}
	if err != nil {
		return fmt.Errorf("tenant %q: %w", tenant, err)
	}
	return fn(st, t)
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
