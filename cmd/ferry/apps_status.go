package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/ferryid/ferry/internal/adminclient"
	"github.com/ferryid/ferry/internal/adminview"
	"github.com/ferryid/ferry/internal/provision"
)

func newAppsStatusCommand(run appsRun) *cobra.Command {
	var (
		asJSON   bool
		watch    bool
		interval time.Duration
	)
	cmd := &cobra.Command{
		Use:   "status NAME [--json] [--watch]",
		Short: "Show an application's provisioning status and progress",
		Long: `Status shows an application's provisioning: On or Off, the configuration
version and whether a full cycle on it is pending, the running cycle's
progress (percent, objects processed of the total, the estimated time left
and what was done so far), the last cycle, the objects in escrow, a
quarantine (why, since when, the next attempt, the failing request and the
application's answer), the disables and deletes the accidental-deletion
threshold holds (with ferry apps allow-deletes and reject-deletes), when the
next full cycle is due, and what to do about it, if anything.

--watch redraws it every --interval until the running cycle ends (or, when
a cycle is pending but not yet running, until it has run, for up to 30s), or
until Ctrl-C. On a terminal it redraws in place; otherwise it prints a line
per update, then the status once the cycle ended. With --json it prints the
API's JSON once per update, one document a line.`,
		Args: cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, c *adminclient.Client, args []string) error {
			if interval <= 0 {
				return fmt.Errorf("--interval %s: want a positive duration, such as 1s", interval)
			}
			fetch := func(ctx context.Context) (*provision.Status, []byte, error) { return c.Status(ctx, args[0]) }
			if watch {
				return adminview.Watch(cmd.Context(), cmd.OutOrStdout(), interval, asJSON, fetch)
			}
			st, raw, err := fetch(cmd.Context())
			if err != nil {
				return err
			}
			return show(cmd, asJSON, raw, func() { adminview.Status(cmd.OutOrStdout(), st) })
		}),
	}
	jsonFlag(cmd, &asJSON, "")
	cmd.Flags().BoolVarP(&watch, "watch", "w", false, "redraw until the running cycle ends (or Ctrl-C)")
	cmd.Flags().DurationVar(&interval, "interval", time.Second, "with --watch, how often to redraw")
	return cmd
}
