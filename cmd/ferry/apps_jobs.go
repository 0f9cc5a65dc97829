package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ferryid/ferry/internal/adminclient"
	"github.com/ferryid/ferry/internal/admininput"
	"github.com/ferryid/ferry/internal/adminview"
	"github.com/ferryid/ferry/internal/provision"
)

// The commands that steer an application's provisioning job: start, stop,
// restart, retry, and failures, which lists what retry retries.

func newAppsStartCommand(run appsRun) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "start NAME [--force]",
		Short: "Turn provisioning On, once Test Connection passes",
		Long: `Start turns an application's provisioning On. The server first runs Test
Connection (as ferry apps test-connection does) and refuses to start when it
fails, printing what the test sent, what came back and what to fix, and
exiting with status 1. --force starts without the test.

The first cycle is a full one; a cycle that was stopped resumes where it
stopped. Follow it with ferry apps status NAME --watch.`,
		Args: cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, c *adminclient.Client, args []string) error {
			if err := c.Start(cmd.Context(), args[0], force); err != nil {
				if !force {
					return adminview.StartError(args[0], err)
				}
				return err
			}
			adminview.Started(cmd.OutOrStdout(), args[0], force)
			return nil
		}),
	}
	cmd.Flags().BoolVar(&force, "force", false, "start without running Test Connection first")
	return cmd
}

func newAppsStopCommand(run appsRun) *cobra.Command {
	return &cobra.Command{
		Use:   "stop NAME",
		Short: "Turn provisioning Off at once",
		Long: `Stop turns an application's provisioning Off at once: a running cycle sends
nothing more to the application (requests already sent finish) and keeps
its place; ferry apps start resumes it where it stopped.`,
		Args: cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, c *adminclient.Client, args []string) error {
			if err := c.Stop(cmd.Context(), args[0]); err != nil {
				return err
			}
			adminview.Stopped(cmd.OutOrStdout(), args[0])
			return nil
		}),
	}
}

func newAppsRestartCommand(run appsRun) *cobra.Command {
	var reset bool
	cmd := &cobra.Command{
		Use:   "restart NAME [--reset]",
		Short: "Restart provisioning with a full cycle; --reset clears the current state first",
		Long: `Restart turns provisioning On and makes its next cycle a full one on the
current configuration: every object in scope is compared with the
application's, and a running cycle ends at its next page for it. Objects
already provisioned stay linked to the application's objects.

--reset is Entra's "clear current state and restart": before that full
cycle the job forgets which directory object is which object in the
application (its links), its place in the directory's change feed, and the
objects in escrow, and matches every object anew by the matching attributes
(userName for users, displayName for groups). Nothing is deleted in the
application. Use it when the application's objects were changed or
re-created behind Ferry's back.`,
		Args: cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, c *adminclient.Client, args []string) error {
			if err := c.Restart(cmd.Context(), args[0], reset); err != nil {
				return err
			}
			adminview.Restarted(cmd.OutOrStdout(), args[0], reset)
			return nil
		}),
	}
	cmd.Flags().BoolVar(&reset, "reset", false, "clear the current state first: forget the links, the change-feed position and the objects in escrow, and match every object anew")
	return cmd
}

func newAppsRetryCommand(run appsRun) *cobra.Command {
	return &cobra.Command{
		Use:   "retry NAME",
		Short: "Retry every object in escrow now",
		Long: `Retry makes the job retry every object whose last processing failed (the
objects in escrow, which ferry apps failures lists) at once: those with a
transient failure before their next try, and those that wait for a change
of the object or of the configuration.`,
		Args: cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, c *adminclient.Client, args []string) error {
			if err := c.Retry(cmd.Context(), args[0]); err != nil {
				return err
			}
			// The status says how many objects the retry retries.
			st, _, err := c.Status(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			adminview.Retrying(cmd.OutOrStdout(), args[0], st)
			return nil
		}),
	}
}

func newAppsFailuresCommand(run appsRun) *cobra.Command {
	var (
		limit  int
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "failures NAME [--json] [--limit N]",
		Short: "List the objects whose provisioning failed (in escrow), and why",
		Long: `Failures lists an application's objects in escrow: those whose last
processing failed. An object with a transient failure (no answer, a timeout,
5xx, 429) is tried again on its own schedule, shown as its next try; any
other failure waits for a change of the object or of the configuration.
ferry apps retry retries them all now.`,
		Args: cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, c *adminclient.Client, args []string) error {
			if err := admininput.Limit(limit, "objects"); err != nil {
				return err
			}
			fs, raw, err := c.Failures(cmd.Context(), args[0], limit)
			if err != nil {
				return err
			}
			return show(cmd, asJSON, raw, func() { adminview.Failures(cmd.OutOrStdout(), args[0], fs, limit) })
		}),
	}
	cmd.Flags().IntVar(&limit, "limit", 0, fmt.Sprintf("the most objects to list: 100 when not given, at most %d", provision.MaxLogLimit))
	jsonFlag(cmd, &asJSON, " array")
	return cmd
}
