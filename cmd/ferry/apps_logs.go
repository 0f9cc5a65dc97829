package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ferryid/ferry/internal/adminclient"
	"github.com/ferryid/ferry/internal/admininput"
	"github.com/ferryid/ferry/internal/adminview"
	"github.com/ferryid/ferry/internal/provision"
)

func newAppsLogsCommand(run appsRun) *cobra.Command {
	var (
		f      provision.LogFilter
		since  string
		until  string
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "logs NAME [--user NAME] [--action A] [--status S] [--since T] [--until T] [--limit N] [--json]",
		Short: "Show an application's provisioning logs, newest first",
		Long: `Logs shows an application's provisioning logs, newest first: one record per
object the job acted on (or decided not to), with why, what it changed (old
→ new), and, for a failure, Entra's error code, its reason and the
recommended action.

--since and --until take an RFC 3339 time (2026-01-02T15:04:05Z) or a
duration meaning that long ago (2h, 30m). At most 1000 records are listed
at once: --before ID continues a listing after the record ID, the last one
shown.`,
		Args: cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, c *adminclient.Client, args []string) error {
			filter, err := admininput.LogFilter(f, since, until, time.Now())
			if err != nil {
				return err
			}
			logs, raw, err := c.Logs(cmd.Context(), args[0], filter)
			if err != nil {
				return err
			}
			return show(cmd, asJSON, raw, func() { adminview.Logs(cmd.OutOrStdout(), args[0], logs, f.Limit) })
		}),
	}
	fl := cmd.Flags()
	fl.StringVar(&f.User, "user", "", "only this source object: userName, displayName or id")
	fl.StringVar(&f.Action, "action", "", "only this action: "+strings.Join(admininput.LogActions(), ", "))
	fl.StringVar(&f.Status, "status", "", "only this status: "+strings.Join(admininput.LogStatuses(), ", ")+" (or failed)")
	fl.StringVar(&since, "since", "", "only records at or after this time: RFC 3339, or a duration ago such as 2h")
	fl.StringVar(&until, "until", "", "only records before this time: RFC 3339, or a duration ago such as 30m")
	fl.StringVar(&f.Before, "before", "", "continue a listing after the record with this id")
	fl.IntVar(&f.Limit, "limit", 0, fmt.Sprintf("the most records to show: 100 when not given, at most %d", provision.MaxLogLimit))
	jsonFlag(cmd, &asJSON, " array")
	return cmd
}
