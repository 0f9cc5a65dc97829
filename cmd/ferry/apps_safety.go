package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/ferryid/ferry/internal/adminclient"
	"github.com/ferryid/ferry/internal/admininput"
	"github.com/ferryid/ferry/internal/adminview"
	"github.com/ferryid/ferry/internal/provision"
)

// The commands of the engine's safety net: the disables and deletes the
// accidental-deletion threshold staged (allow-deletes, reject-deletes),
// the plan of a cycle, and the audit log.

func newAppsAllowDeletesCommand(run appsRun) *cobra.Command {
	return &cobra.Command{
		Use:   "allow-deletes NAME",
		Short: "Send the disables and deletes the accidental-deletion threshold staged",
		Long: `Allow-deletes sends exactly the disables and deletes that the
accidental-deletion threshold staged (ferry apps status NAME shows them), not
any that arose since, and ends the quarantine they caused. Each object is
looked at again first: one that no longer needs its disable or delete
(assigned again since, say) is left alone.`,
		Args: cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, c *adminclient.Client, args []string) error {
			return decideStaged(cmd, c, args[0], c.AllowDeletes, adminview.DeletesAllowed)
		}),
	}
}

func newAppsRejectDeletesCommand(run appsRun) *cobra.Command {
	return &cobra.Command{
		Use:   "reject-deletes NAME",
		Short: "Drop the disables and deletes the accidental-deletion threshold staged",
		Long: `Reject-deletes drops the disables and deletes that the accidental-deletion
threshold staged: none of them is sent, their objects stay as they are in
the application, and the job leaves the quarantine they caused. Should the
assignments, scope or directory still call for them, a later cycle holds
them again: fix those first.`,
		Args: cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, c *adminclient.Client, args []string) error {
			return decideStaged(cmd, c, args[0], c.RejectDeletes, adminview.DeletesRejected)
		}),
	}
}

// decideStaged allows or rejects the staged disables and deletes of the
// application name with decide, then says what it did to them with
// report. The status is read first, to name the staged set; the server
// refuses either when nothing is staged, and says so.
func decideStaged(cmd *cobra.Command, c *adminclient.Client, name string,
	decide func(ctx context.Context, app string) error, report func(io.Writer, string, *provision.Status)) error {
	st, _, err := c.Status(cmd.Context(), name)
	if err != nil {
		return err
	}
	if err := decide(cmd.Context(), name); err != nil {
		return err
	}
	report(cmd.OutOrStdout(), name, st)
	return nil
}

func newAppsPlanCommand(run appsRun) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "plan NAME [--json]",
		Short: "Show what a full cycle would do now, sending and saving nothing",
		Long: `Plan reads the directory and the application as a full cycle does and shows
what the cycle would do: the objects it would create, update (each attribute
old → new), disable and delete, those that would fail, and whether the
accidental-deletion threshold would hold the disables and deletes. It sends
the application only reads, and saves nothing.

ferry apps update NAME ... --plan shows the plan of a change without saving it.`,
		Args: cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, c *adminclient.Client, args []string) error {
			p, raw, err := c.Plan(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return show(cmd, asJSON, raw, func() { adminview.Plan(cmd.OutOrStdout(), p) })
		}),
	}
	jsonFlag(cmd, &asJSON, "")
	return cmd
}

func newAppsAuditCommand(run appsRun) *cobra.Command {
	var (
		limit  int
		before string
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "audit NAME [--json] [--limit N] [--before ID]",
		Short: "Show who changed an application, and what, newest first",
		Long: `Audit shows an application's audit log, newest first: every change of its
configuration, its creation and deletion, start, stop, restart (with
--reset or not), retry, allow-deletes and reject-deletes, assignments and
unassignments, each with who did it (the name of the admin token used),
when, and what changed, old → new. Secrets never appear: a new secret token
reads "changed".

The entries outlive the application: those of one deleted since are found
by the name it had. At most 1000 entries are listed at once: --before ID
continues a listing after the entry ID, the last one shown.`,
		Args: cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, c *adminclient.Client, args []string) error {
			if err := admininput.Limit(limit, "entries"); err != nil {
				return err
			}
			entries, raw, err := c.Audit(cmd.Context(), args[0], before, limit)
			if err != nil {
				return err
			}
			return show(cmd, asJSON, raw, func() { adminview.Audit(cmd.OutOrStdout(), args[0], entries, limit) })
		}),
	}
	cmd.Flags().IntVar(&limit, "limit", 0, fmt.Sprintf("the most entries to show: 100 when not given, at most %d", provision.MaxLogLimit))
	cmd.Flags().StringVar(&before, "before", "", "continue a listing after the entry with this id")
	jsonFlag(cmd, &asJSON, " array")
	return cmd
}
