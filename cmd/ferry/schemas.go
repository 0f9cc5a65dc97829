package main

import (
	"github.com/spf13/cobra"

	"github.com/ferryid/ferry/internal/adminclient"
	"github.com/ferryid/ferry/internal/admininput"
	"github.com/ferryid/ferry/internal/adminview"
)

func newSchemasCommand() *cobra.Command {
	return directoryCommand("schemas", "Declare the tenant's SCIM extension schemas", schemasHelp, func(run clientRun) []*cobra.Command {
		var resourceType string
		add := &cobra.Command{
			Use:   "add FILE.json",
			Short: "Declare an extension schema, given in RFC 7643 §7 form",
			Args:  cobra.ExactArgs(1),
			RunE: run(func(cmd *cobra.Command, c *adminclient.Client, args []string) error {
				in, err := admininput.SchemaFile(args[0], resourceType)
				if err != nil {
					return err
				}
				v, _, err := c.AddSchema(cmd.Context(), in)
				if err != nil {
					return err
				}
				adminview.SchemaAdded(cmd.OutOrStdout(), v)
				return nil
			}),
		}
		add.Flags().StringVar(&resourceType, "resource-type", "User", "the resource type it extends: User or Group")

		var listJSON bool
		list := &cobra.Command{Use: "list", Short: "List the declared extension schemas", Args: cobra.NoArgs,
			RunE: run(func(cmd *cobra.Command, c *adminclient.Client, _ []string) error {
				list, raw, err := c.Schemas(cmd.Context())
				if err != nil {
					return err
				}
				if listJSON {
					return adminview.Raw(cmd.OutOrStdout(), raw)
				}
				return adminview.Schemas(cmd.OutOrStdout(), list)
			}),
		}
		list.Flags().BoolVar(&listJSON, "json", false, "print the API's JSON answer")

		var showJSON bool
		show := &cobra.Command{Use: "show URN", Short: "Show an extension schema and its attributes", Args: cobra.ExactArgs(1),
			RunE: run(func(cmd *cobra.Command, c *adminclient.Client, args []string) error {
				v, raw, err := c.Schema(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				if showJSON {
					return adminview.Raw(cmd.OutOrStdout(), raw)
				}
				return adminview.Schema(cmd.OutOrStdout(), v)
			}),
		}
		show.Flags().BoolVar(&showJSON, "json", false, "print the API's JSON answer")

		var force bool
		remove := &cobra.Command{Use: "remove URN", Short: "Remove an extension schema; refused while resources hold values of it, unless --force", Args: cobra.ExactArgs(1),
			RunE: run(func(cmd *cobra.Command, c *adminclient.Client, args []string) error {
				res, _, err := c.RemoveSchema(cmd.Context(), args[0], force)
				if err != nil {
					return err
				}
				adminview.SchemaRemoved(cmd.OutOrStdout(), res)
				return nil
			}),
		}
		remove.Flags().BoolVar(&force, "force", false, "remove the schema's values from every resource too (each one an update in the change feed)")
		return []*cobra.Command{add, list, show, remove}
	})
}

// schemasHelp says what declaring a schema does.
const schemasHelp = `

A declared schema is listed in the tenant's /Schemas and in its resource
type's schemaExtensions, and its attributes are validated, stored, returned,
filtered, sorted and patched like the enterprise extension's, under its URN
(urn:…:costCenter, or an object under the URN's key). Attributes of a URN
that is not declared are refused with a 400 rather than dropped.`
