package main

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/ferryid/ferry/internal/adminclient"
	"github.com/ferryid/ferry/internal/adminview"
	"github.com/ferryid/ferry/internal/events"
)

func newEventsCommand() *cobra.Command {
	return directoryCommand("events", "Read the directory's changes as events", "", func(run clientRun) []*cobra.Command {
		var (
			after, types string
			asJSON       bool
			interval     time.Duration
			once         bool
		)
		tail := &cobra.Command{
			Use:   "tail",
			Short: "Print the directory's events and follow new ones as they happen (Ctrl-C stops)",
			Long: `Tail prints the tenant's directory events in commit order (user.created,
user.updated, user.deactivated, user.reactivated, user.deleted, group.created,
group.updated, group.deleted, group.member_added, group.member_removed), from
the first one kept or after --after (an event's id, the last column), then
waits for new ones. --json prints each event as a JSON line, as the API
answers it (GET /api/v1/events).`,
			Args: cobra.NoArgs,
			RunE: run(func(cmd *cobra.Command, c *adminclient.Client, _ []string) error {
				if interval <= 0 {
					return fmt.Errorf("--interval must be positive")
				}
				ctx := cmd.Context()
				ticker := time.NewTicker(interval)
				defer ticker.Stop()
				cursor := after
				for {
					page, _, err := c.Events(ctx, cursor, events.MaxLimit, events.ParseTypes(types))
					if err != nil {
						if ctx.Err() != nil {
							return nil // Ctrl-C during the request
						}
						return err
					}
					for _, e := range page.Events {
						if asJSON {
							b, err := json.Marshal(e)
							if err != nil {
								return err
							}
							fmt.Fprintln(cmd.OutOrStdout(), string(b))
						} else {
							adminview.Event(cmd.OutOrStdout(), e)
						}
					}
					cursor = page.Next
					if len(page.Events) == events.MaxLimit {
						continue // more are waiting
					}
					if once {
						return nil
					}
					select {
					case <-ctx.Done():
						return nil
					case <-ticker.C:
					}
				}
			}),
		}
		f := tail.Flags()
		f.StringVar(&after, "after", "", "start after this event id (a cursor); from the first event kept when empty")
		f.StringVar(&types, "types", "", "comma-separated event types, or user.* and group.*; all when empty")
		f.BoolVar(&asJSON, "json", false, "print each event as a JSON line")
		f.DurationVar(&interval, "interval", time.Second, "how often to ask for new events")
		f.BoolVar(&once, "once", false, "print the events there are and stop, instead of following")
		return []*cobra.Command{tail}
	})
}
