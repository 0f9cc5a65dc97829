package main

import (
	"crypto/rand"

	"github.com/spf13/cobra"

	"github.com/ferryid/ferry/internal/admininput"
	"github.com/ferryid/ferry/internal/adminview"
	"github.com/ferryid/ferry/internal/bearer"
	"github.com/ferryid/ferry/internal/store"
)

func newTokensCommand() *cobra.Command {
	var database, tenant string
	cmd := &cobra.Command{
		Use:   "tokens",
		Short: "Create, list and revoke bearer tokens (SCIM and admin API)",
	}
	cmd.PersistentFlags().StringVar(&database, "database", envOr("FERRY_DATABASE", defaultDatabase), databaseFlagHelp)
	cmd.PersistentFlags().StringVar(&tenant, "tenant", envOr("FERRY_TENANT", "default"), "tenant the token belongs to (env FERRY_TENANT)")

	var name, scope string
	create := &cobra.Command{
		Use:   "create",
		Short: "Create a token; it is printed once, on the last line of standard output",
		Long: `Create a bearer token for the tenant. A token calls one API: --scope scim
(the default) for /scim/v2, the directory; --scope admin for /api/v1, the
admin API that "ferry apps" uses. Each API refuses the other's tokens.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := admininput.TokenScope(scope); err != nil {
				return err
			}
			return withTenant(cmd, database, tenant, true, func(st store.Store, t store.Tenant) error {
				token, rec, err := bearer.Issue(cmd.Context(), st, rand.Reader, store.Token{TenantID: t.ID, Name: name, Scope: scope})
				if err != nil {
					return err
				}
				adminview.TokenCreated(cmd.ErrOrStderr(), cmd.OutOrStdout(), token, rec, tenant)
				return nil
			})
		},
	}
	create.Flags().StringVar(&name, "name", "", "a label saying who or what uses the token")
	create.Flags().StringVar(&scope, "scope", store.ScopeSCIM, "the API the token may call: scim (/scim/v2) or admin (/api/v1)")

	list := &cobra.Command{
		Use:   "list",
		Short: "List a tenant's tokens (their prefixes, never the tokens)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withTenant(cmd, database, tenant, false, func(st store.Store, t store.Tenant) error {
				tokens, err := st.Tokens(cmd.Context(), t.ID)
				if err != nil {
					return err
				}
				return adminview.Tokens(cmd.OutOrStdout(), tokens)
			})
		},
	}

	revoke := &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke a token; running servers refuse it within 5 seconds",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withTenant(cmd, database, tenant, false, func(st store.Store, t store.Tenant) error {
				if err := st.RevokeToken(cmd.Context(), t.ID, args[0]); err != nil {
					return err
				}
				adminview.TokenRevoked(cmd.ErrOrStderr(), args[0])
				return nil
			})
		},
	}
	cmd.AddCommand(create, list, revoke)
	return cmd
}
