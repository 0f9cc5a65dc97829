package main

import (
	"github.com/spf13/cobra"

	"github.com/ferryid/ferry/internal/adminclient"
	"github.com/ferryid/ferry/internal/adminview"
)

func newAppsSchemaCommand(run appsRun) *cobra.Command {
	var asJSON, refresh bool
	cmd := &cobra.Command{
		Use:   "schema NAME [--refresh]",
		Short: "List the attributes of an application's target: what its mappings may set",
		Long: "List the attributes of an application's target, the ones its mappings may set: as the target declares them\n" +
			"at /Schemas and /ResourceTypes (read by Test Connection), or RFC 7643's User and Group when it serves none.\n" +
			"--refresh reads the target's schema again and saves it first.",
		Args: cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, c *adminclient.Client, args []string) error {
			get := c.TargetSchema
			if refresh {
				get = c.DiscoverSchema
			}
			v, raw, err := get(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			var viewErr error
			if err := show(cmd, asJSON, raw, func() { viewErr = adminview.TargetSchema(cmd.OutOrStdout(), v) }); err != nil {
				return err
			}
			return viewErr
		}),
	}
	cmd.Flags().BoolVar(&refresh, "refresh", false, "read the target's /Schemas and /ResourceTypes again, and save them")
	jsonFlag(cmd, &asJSON, "")
	return cmd
}
