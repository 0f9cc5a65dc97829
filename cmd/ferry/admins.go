package main

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/ferryid/ferry/internal/admininput"
	"github.com/ferryid/ferry/internal/adminview"
	"github.com/ferryid/ferry/internal/password"
	"github.com/ferryid/ferry/internal/store"
)

// passwordFileHelp documents --password-file for the commands that set a
// console password.
const passwordFileHelp = "read the password from this file's first line; without it, the password is asked " +
	"for on the terminal, or read from the first line of standard input when that is not a terminal"

func newAdminsCommand() *cobra.Command {
	var database, tenant string
	cmd := &cobra.Command{
		Use:   "admins",
		Short: "Create, list and remove the admin console's admins",
		Long: `Manage the people who sign in to a tenant's admin console with an email
and a password. An admin (--role admin) changes things; a viewer (--role
viewer) reads everything and changes nothing. Ferry keeps only an Argon2id
hash of each password, which must have at least 12 characters.`,
	}
	cmd.PersistentFlags().StringVar(&database, "database", envOr("FERRY_DATABASE", defaultDatabase), databaseFlagHelp)
	cmd.PersistentFlags().StringVar(&tenant, "tenant", envOr("FERRY_TENANT", "default"), "tenant the admin signs in to (env FERRY_TENANT)")

	// newHash reads, checks and hashes a new password.
	newHash := func(cmd *cobra.Command, file string) (string, error) {
		pw, err := admininput.AdminPassword(file, cmd.InOrStdin(), cmd.ErrOrStderr())
		if err != nil {
			return "", err
		}
		return password.Hash(pw)
	}

	var email, role, passwordFile string
	create := &cobra.Command{
		Use:   "create",
		Short: "Create a console admin with an email, a role and a password",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := admininput.Email(email); err != nil {
				return err
			}
			if err := admininput.ConsoleRole(role); err != nil {
				return err
			}
			return withTenant(cmd, database, tenant, true, func(st store.Store, t store.Tenant) error {
				// Looked up before the password is asked for, which would
				// otherwise be typed twice for nothing; CreateAdmin still
				// decides, should another process create the admin
				// meanwhile.
				if _, err := st.AdminByEmail(cmd.Context(), t.ID, email); err == nil {
					return store.Errorf(store.ErrNameTaken, "the console admin %q exists already in tenant %q; ferry admins set-password changes its password", email, tenant)
				} else if !errors.Is(err, store.ErrNotFound) {
					return err
				}
				hash, err := newHash(cmd, passwordFile)
				if err != nil {
					return err
				}
				a := &store.Admin{TenantID: t.ID, Email: email, Role: role, PasswordHash: hash}
				if err := st.CreateAdmin(cmd.Context(), a); err != nil {
					return err
				}
				adminview.AdminCreated(cmd.OutOrStdout(), a, tenant)
				return nil
			})
		},
	}
	create.Flags().StringVar(&email, "email", "", "the admin's email, which the admin signs in with (unique in the tenant, ignoring case)")
	create.Flags().StringVar(&role, "role", "", "admin (changes things) or viewer (reads everything, changes nothing)")
	create.Flags().StringVar(&passwordFile, "password-file", "", passwordFileHelp)
	create.MarkFlagRequired("email")
	create.MarkFlagRequired("role")

	list := &cobra.Command{
		Use:   "list",
		Short: "List a tenant's console admins (never their passwords or hashes)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withTenant(cmd, database, tenant, false, func(st store.Store, t store.Tenant) error {
				admins, err := st.Admins(cmd.Context(), t.ID)
				if err != nil {
					return err
				}
				return adminview.Admins(cmd.OutOrStdout(), admins)
			})
		},
	}

	var removeEmail string
	remove := &cobra.Command{
		Use:   "remove",
		Short: "Remove a console admin and end its console sessions",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withTenant(cmd, database, tenant, false, func(st store.Store, t store.Tenant) error {
				if err := st.RemoveAdmin(cmd.Context(), t.ID, removeEmail); err != nil {
					return err
				}
				adminview.AdminRemoved(cmd.OutOrStdout(), removeEmail)
				return nil
			})
		},
	}
	remove.Flags().StringVar(&removeEmail, "email", "", "the admin's email (ignoring case)")
	remove.MarkFlagRequired("email")

	var setEmail, setFile string
	setPassword := &cobra.Command{
		Use:   "set-password",
		Short: "Replace a console admin's password and end its console sessions",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withTenant(cmd, database, tenant, false, func(st store.Store, t store.Tenant) error {
				// Looked up before the password is asked for, which would
				// otherwise be typed twice for nothing.
				if _, err := st.AdminByEmail(cmd.Context(), t.ID, setEmail); err != nil {
					return err
				}
				hash, err := newHash(cmd, setFile)
				if err != nil {
					return err
				}
				if err := st.SetAdminPassword(cmd.Context(), t.ID, setEmail, hash); err != nil {
					return err
				}
				adminview.AdminPasswordSet(cmd.OutOrStdout(), setEmail)
				return nil
			})
		},
	}
	setPassword.Flags().StringVar(&setEmail, "email", "", "the admin's email (ignoring case)")
	setPassword.Flags().StringVar(&setFile, "password-file", "", passwordFileHelp)
	setPassword.MarkFlagRequired("email")

	cmd.AddCommand(create, list, remove, setPassword)
	return cmd
}
