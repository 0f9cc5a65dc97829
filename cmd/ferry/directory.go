package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ferryid/ferry/internal/adminclient"
	"github.com/ferryid/ferry/internal/admininput"
	"github.com/ferryid/ferry/internal/adminview"
	"github.com/ferryid/ferry/internal/directory"
)

// directoryCommand is the parent of ferry users, ferry groups and ferry
// events: the admin connection flags, and a way for each subcommand to get
// its client.
func directoryCommand(use, short, names string, sub func(run clientRun) []*cobra.Command) *cobra.Command {
	var conn adminConnection
	cmd := &cobra.Command{Use: use, Short: short, Long: short + `, through a running server's admin API (/api/v1),
with an admin token of the tenant (ferry tokens create --scope admin) in
--token or FERRY_TOKEN.` + names}
	conn.register(cmd)
	cmd.AddCommand(sub(conn.run)...)
	return cmd
}

// directoryNames says how the directory commands name users and groups.
const directoryNames = ` Users are named by userName, groups by displayName
(ignoring case), or either by its id.`

// listFlags are a listing's --filter, --offset, --limit and --json.
type listFlags struct {
	filter        string
	offset, limit int
	asJSON        bool
}

func (l *listFlags) register(cmd *cobra.Command, example string) {
	cmd.Flags().StringVar(&l.filter, "filter", "", "a SCIM filter, such as "+example)
	cmd.Flags().IntVar(&l.offset, "offset", 0, "skip this many")
	cmd.Flags().IntVar(&l.limit, "limit", 0, fmt.Sprintf("show at most this many (%d when 0, at most %d)", directory.DefaultLimit, directory.MaxLimit))
	cmd.Flags().BoolVar(&l.asJSON, "json", false, "print the API's JSON answer")
}

func (l *listFlags) check() error {
	if l.offset < 0 {
		return fmt.Errorf("--offset must not be negative")
	}
	return admininput.Limit(l.limit, "users or groups")
}

// printOr prints the API's bytes with --json, else the rendering.
func printOr(cmd *cobra.Command, asJSON bool, raw []byte, render func()) error {
	if asJSON {
		return adminview.Raw(cmd.OutOrStdout(), raw)
	}
	render()
	return nil
}

func newUsersCommand() *cobra.Command {
	return directoryCommand("users", "List, create, disable, enable and delete the directory's users", directoryNames, func(run clientRun) []*cobra.Command {
		var list listFlags
		ls := &cobra.Command{Use: "list", Short: "List users, sorted by userName", Args: cobra.NoArgs,
			RunE: run(func(cmd *cobra.Command, c *adminclient.Client, _ []string) error {
				if err := list.check(); err != nil {
					return err
				}
				page, raw, err := c.Users(cmd.Context(), list.filter, list.offset, list.limit)
				if err != nil {
					return err
				}
				return printOr(cmd, list.asJSON, raw, func() { adminview.Users(cmd.OutOrStdout(), page, list.offset) })
			})}
		list.register(ls, `'title eq "Engineer"'`)

		var showJSON bool
		show := &cobra.Command{Use: "show NAME", Short: "Show a user", Args: cobra.ExactArgs(1),
			RunE: run(func(cmd *cobra.Command, c *adminclient.Client, args []string) error {
				u, raw, err := c.User(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				return printOr(cmd, showJSON, raw, func() { adminview.User(cmd.OutOrStdout(), u) })
			})}
		show.Flags().BoolVar(&showJSON, "json", false, "print the API's JSON answer")

		var in directory.NewUser
		var createJSON bool
		create := &cobra.Command{Use: "create", Short: "Create an active user", Args: cobra.NoArgs,
			RunE: run(func(cmd *cobra.Command, c *adminclient.Client, _ []string) error {
				if in.UserName == "" {
					return fmt.Errorf("--user-name is required")
				}
				u, raw, err := c.CreateUser(cmd.Context(), in)
				if err != nil {
					return err
				}
				return printOr(cmd, createJSON, raw, func() { adminview.User(cmd.OutOrStdout(), u) })
			})}
		f := create.Flags()
		f.StringVar(&in.UserName, "user-name", "", "the userName (required), often the email address")
		f.StringVar(&in.GivenName, "given-name", "", "the given (first) name")
		f.StringVar(&in.FamilyName, "family-name", "", "the family (last) name")
		f.StringVar(&in.Email, "email", "", "the work email address")
		f.StringVar(&in.Title, "title", "", "the job title")
		f.StringVar(&in.Department, "department", "", "the department (enterprise extension)")
		f.BoolVar(&createJSON, "json", false, "print the API's JSON answer")

		setActive := func(use, short, done string, call func(*adminclient.Client, context.Context, string) (*directory.User, []byte, error)) *cobra.Command {
			return &cobra.Command{Use: use + " NAME", Short: short, Args: cobra.ExactArgs(1),
				RunE: run(func(cmd *cobra.Command, c *adminclient.Client, args []string) error {
					u, _, err := call(c, cmd.Context(), args[0])
					if err != nil {
						return err
					}
					fmt.Fprintf(cmd.OutOrStdout(), "%s is %s.\n", u.UserName, done)
					return nil
				})}
		}
		disable := setActive("disable", "Disable a user (active false): provisioned applications disable it too", "disabled", (*adminclient.Client).DisableUser)
		enable := setActive("enable", "Enable a user (active true)", "enabled", (*adminclient.Client).EnableUser)
		del := &cobra.Command{Use: "delete NAME", Short: "Delete a user and its memberships", Args: cobra.ExactArgs(1),
			RunE: run(func(cmd *cobra.Command, c *adminclient.Client, args []string) error {
				if err := c.DeleteUser(cmd.Context(), args[0]); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "Deleted user %s.\n", args[0])
				return nil
			})}
		return []*cobra.Command{ls, show, create, disable, enable, del}
	})
}

func newGroupsCommand() *cobra.Command {
	return directoryCommand("groups", "List, create and delete the directory's groups and change their members", directoryNames, func(run clientRun) []*cobra.Command {
		var list listFlags
		ls := &cobra.Command{Use: "list", Short: "List groups, sorted by name", Args: cobra.NoArgs,
			RunE: run(func(cmd *cobra.Command, c *adminclient.Client, _ []string) error {
				if err := list.check(); err != nil {
					return err
				}
				page, raw, err := c.Groups(cmd.Context(), list.filter, list.offset, list.limit)
				if err != nil {
					return err
				}
				return printOr(cmd, list.asJSON, raw, func() { adminview.Groups(cmd.OutOrStdout(), page, list.offset) })
			})}
		list.register(ls, `'displayName sw "Sales"'`)

		var asJSON bool
		group := func(use, short string, args cobra.PositionalArgs, call func(cmd *cobra.Command, c *adminclient.Client, args []string) (*directory.Group, []byte, error)) *cobra.Command {
			cmd := &cobra.Command{Use: use, Short: short, Args: args,
				RunE: run(func(cmd *cobra.Command, c *adminclient.Client, args []string) error {
					g, raw, err := call(cmd, c, args)
					if err != nil {
						return err
					}
					return printOr(cmd, asJSON, raw, func() { adminview.Group(cmd.OutOrStdout(), g) })
				})}
			cmd.Flags().BoolVar(&asJSON, "json", false, "print the API's JSON answer")
			return cmd
		}
		show := group("show NAME", "Show a group and its members", cobra.ExactArgs(1),
			func(cmd *cobra.Command, c *adminclient.Client, args []string) (*directory.Group, []byte, error) {
				return c.Group(cmd.Context(), args[0])
			})
		create := group("create NAME", "Create an empty group", cobra.ExactArgs(1),
			func(cmd *cobra.Command, c *adminclient.Client, args []string) (*directory.Group, []byte, error) {
				return c.CreateGroup(cmd.Context(), args[0])
			})
		add := group("add-member GROUP USER", "Add a user to a group", cobra.ExactArgs(2),
			func(cmd *cobra.Command, c *adminclient.Client, args []string) (*directory.Group, []byte, error) {
				return c.AddMember(cmd.Context(), args[0], args[1])
			})
		remove := group("remove-member GROUP USER", "Take a user out of a group", cobra.ExactArgs(2),
			func(cmd *cobra.Command, c *adminclient.Client, args []string) (*directory.Group, []byte, error) {
				return c.RemoveMember(cmd.Context(), args[0], args[1])
			})
		del := &cobra.Command{Use: "delete NAME", Short: "Delete a group; its members stay", Args: cobra.ExactArgs(1),
			RunE: run(func(cmd *cobra.Command, c *adminclient.Client, args []string) error {
				if err := c.DeleteGroup(cmd.Context(), args[0]); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "Deleted group %s.\n", args[0])
				return nil
			})}
		return []*cobra.Command{ls, show, create, del, add, remove}
	})
}
