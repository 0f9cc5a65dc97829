package main

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

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
		RunE: run(func(cmd *cobra.Command, c *appsClient, args []string) error {
			name := args[0]
			var q url.Values
			if force {
				q = url.Values{"force": {"true"}}
			}
			if _, err := c.call(cmd.Context(), "POST", appPath(name, "start"), q, nil); err != nil {
				if e, ok := errors.AsType[*apiError](err); ok && e.Status == http.StatusConflict && !force {
					// The server's detail gives the test's message and what
					// to fix; these are the commands that fix it.
					return fmt.Errorf("%s\nTo fix the connection: ferry apps update %s --tenant-url URL, or --secret-token-file FILE; "+
						"then test it with ferry apps test-connection %s. To start without the test: ferry apps start %s --force",
						e.Detail, shellWord(name), shellWord(name), shellWord(name))
				}
				return err
			}
			out := cmd.OutOrStdout()
			if force {
				fmt.Fprintf(out, "Provisioning of %s is On (Test Connection was skipped: --force).\n", name)
			} else {
				fmt.Fprintf(out, "Test Connection to %s passed. Provisioning of %s is On.\n", name, name)
			}
			fmt.Fprintf(out, "Follow its cycle with: ferry apps status %s --watch\n", shellWord(name))
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
		RunE: run(func(cmd *cobra.Command, c *appsClient, args []string) error {
			if _, err := c.call(cmd.Context(), "POST", appPath(args[0], "stop"), nil, nil); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Provisioning of %s is Off. A running cycle stops now; ferry apps start %s resumes it where it stopped.\n",
				args[0], shellWord(args[0]))
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
		RunE: run(func(cmd *cobra.Command, c *appsClient, args []string) error {
			var q url.Values
			if reset {
				q = url.Values{"reset": {"true"}}
			}
			if _, err := c.call(cmd.Context(), "POST", appPath(args[0], "restart"), q, nil); err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if reset {
				fmt.Fprintf(out, "Provisioning of %s restarted with its current state cleared. Forgotten: its links between directory objects and %s's objects, "+
					"its place in the directory's change feed, and its objects in escrow.\n", args[0], args[0])
				fmt.Fprintf(out, "The next cycle is a full one that matches every object anew by its matching attributes; nothing is deleted in %s. Provisioning is On.\n", args[0])
			} else {
				fmt.Fprintf(out, "Provisioning of %s restarted: the next cycle is a full one on the current configuration; "+
					"objects already provisioned stay linked. Provisioning is On.\n", args[0])
			}
			fmt.Fprintf(out, "Follow it with: ferry apps status %s --watch\n", shellWord(args[0]))
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
		RunE: run(func(cmd *cobra.Command, c *appsClient, args []string) error {
			name := args[0]
			if _, err := c.call(cmd.Context(), "POST", appPath(name, "retry"), nil, nil); err != nil {
				return err
			}
			var st provision.Status
			if _, err := c.get(cmd.Context(), "GET", appPath(name, "status"), nil, nil, &st); err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			switch {
			case st.Failures == 0:
				fmt.Fprintf(out, "No objects of %s are in escrow: there is nothing to retry.\n", name)
			case !st.Enabled:
				fmt.Fprintf(out, "%s of %s in escrow will be retried when provisioning is On; it is Off (ferry apps start %s).\n",
					plural(st.Failures, "object"), name, shellWord(name))
			default:
				fmt.Fprintf(out, "Retrying %s of %s in escrow now. Follow them with: ferry apps failures %s\n",
					plural(st.Failures, "object"), name, shellWord(name))
			}
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
		RunE: run(func(cmd *cobra.Command, c *appsClient, args []string) error {
			if err := checkLimit(limit, "objects"); err != nil {
				return err
			}
			var q url.Values
			if limit > 0 {
				q = url.Values{"limit": {strconv.Itoa(limit)}}
			}
			var fs []provision.Failure
			raw, err := c.get(cmd.Context(), "GET", appPath(args[0], "failures"), q, nil, &fs)
			if err != nil {
				return err
			}
			if asJSON {
				return writeRaw(cmd.OutOrStdout(), raw)
			}
			writeFailures(cmd.OutOrStdout(), args[0], fs, limit)
			return nil
		}),
	}
	cmd.Flags().IntVar(&limit, "limit", 0, fmt.Sprintf("the most objects to list: 100 when not given, at most %d", provision.MaxLogLimit))
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the API's JSON array")
	return cmd
}

// checkLimit refuses a --limit the server would, naming the flag and the
// maximum.
func checkLimit(limit int, what string) error {
	switch {
	case limit < 0:
		return fmt.Errorf("--limit %d: want a positive number of %s", limit, what)
	case limit > provision.MaxLogLimit:
		return fmt.Errorf("--limit %d is more than %d, the most %s listed at once", limit, provision.MaxLogLimit, what)
	}
	return nil
}

// writeFailures prints objects in escrow, one block each.
func writeFailures(w io.Writer, app string, fs []provision.Failure, limit int) {
	if len(fs) == 0 {
		fmt.Fprintf(w, "No objects of %s are in escrow: nothing failed.\n", app)
		return
	}
	for i, f := range fs {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintln(w, object(f.Source))
		row := func(label, value string) {
			if value != "" {
				fmt.Fprintf(w, "  %-13s %s\n", label+":", oneLine(value))
			}
		}
		row("Action", f.Action+" failed")
		if f.Target.ID != "" {
			row("Target", object(f.Target))
		}
		if f.Error != nil {
			row("Error", errorText(f.Error))
		}
		request := f.Request
		if request == "" && f.Error != nil {
			request = f.Error.Request
		}
		row("Request", request)
		row("Attempts", fmt.Sprintf("%d, first failed %s, last %s", f.Attempts, formatTime(f.FirstFailed), formatTime(f.LastFailed)))
		switch {
		case f.Retryable && !f.NextTry.IsZero():
			row("Next try", formatTime(f.NextTry))
		case f.Retryable:
			row("Next try", "with the next full cycle")
		default:
			row("Next try", "waits for a change of the object or of the configuration (or ferry apps retry)")
		}
		if f.Error != nil {
			row("Recommended", f.Error.RecommendedAction)
		}
		if f.LogID != "" {
			row("Log record", f.LogID)
		}
	}
	fmt.Fprintln(w)
	more := ""
	if len(fs) == effectiveLimit(limit) && len(fs) < provision.MaxLogLimit {
		more = fmt.Sprintf(" (the first %d; --limit %d shows more)", len(fs), provision.MaxLogLimit)
	}
	fmt.Fprintf(w, "%s in escrow%s. ferry apps retry %s retries them now.\n", plural(len(fs), "object"), more, shellWord(app))
}

// effectiveLimit is the number of records or objects a listing of limit
// returns at most: the server's default, 100, for 0.
func effectiveLimit(limit int) int {
	if limit == 0 {
		return 100
	}
	return limit
}

// object names a directory object: its name, its type and its id.
func object(id provision.Identity) string {
	name := id.DisplayName
	if name == "" {
		name = id.ID
	}
	if name == "" {
		name = "(unnamed)"
	}
	var about []string
	if id.Type != "" {
		about = append(about, id.Type)
	}
	if id.ID != "" && id.ID != name {
		about = append(about, "id "+id.ID)
	}
	if len(about) == 0 {
		return name
	}
	return name + " (" + strings.Join(about, ", ") + ")"
}
