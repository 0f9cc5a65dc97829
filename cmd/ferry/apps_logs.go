package main

import (
	"fmt"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ferryid/ferry/internal/provision"
)

// The values the logs' --action and --status take: the engine's, which
// it checks as well.
var (
	logActions  = []string{provision.ActionCreate, provision.ActionUpdate, provision.ActionDisable, provision.ActionDelete, provision.ActionOther}
	logStatuses = []string{provision.StatusSuccess, provision.StatusFailure, provision.StatusSkipped, provision.StatusWarning}
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
		RunE: run(func(cmd *cobra.Command, c *appsClient, args []string) error {
			q, err := logQuery(f, since, until, time.Now())
			if err != nil {
				return err
			}
			var logs []provision.LogRecord
			raw, err := c.get(cmd.Context(), "GET", appPath(args[0], "logs"), q, nil, &logs)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				return writeRaw(out, raw)
			}
			if len(logs) == 0 {
				fmt.Fprintf(out, "No provisioning logs of %s match.\n", args[0])
				return nil
			}
			writeLogs(out, logs)
			if len(logs) == effectiveLimit(f.Limit) {
				fmt.Fprintf(out, "\nOlder records: ferry apps logs %s --before %s (with the same filters)\n", shellWord(args[0]), logs[len(logs)-1].ID)
			}
			return nil
		}),
	}
	fl := cmd.Flags()
	fl.StringVar(&f.User, "user", "", "only this source object: userName, displayName or id")
	fl.StringVar(&f.Action, "action", "", "only this action: "+strings.Join(logActions, ", "))
	fl.StringVar(&f.Status, "status", "", "only this status: "+strings.Join(logStatuses, ", ")+" (or failed)")
	fl.StringVar(&since, "since", "", "only records at or after this time: RFC 3339, or a duration ago such as 2h")
	fl.StringVar(&until, "until", "", "only records before this time: RFC 3339, or a duration ago such as 30m")
	fl.StringVar(&f.Before, "before", "", "continue a listing after the record with this id")
	fl.IntVar(&f.Limit, "limit", 0, fmt.Sprintf("the most records to show: 100 when not given, at most %d", provision.MaxLogLimit))
	fl.BoolVar(&asJSON, "json", false, "print the API's JSON array")
	return cmd
}

// logQuery checks the logs flags as the server would, naming the flags and
// listing the valid values, and returns the API's query.
func logQuery(f provision.LogFilter, since, until string, now time.Time) (url.Values, error) {
	action := strings.ToLower(strings.TrimSpace(f.Action))
	if action != "" && !slices.Contains(logActions, action) {
		return nil, fmt.Errorf("--action %q is not a provisioning action; the actions are %s", f.Action, strings.Join(logActions, ", "))
	}
	status := strings.ToLower(strings.TrimSpace(f.Status))
	if status == "failed" {
		status = provision.StatusFailure
	}
	if status != "" && !slices.Contains(logStatuses, status) {
		return nil, fmt.Errorf("--status %q is not a provisioning status; the statuses are %s (or failed)", f.Status, strings.Join(logStatuses, ", "))
	}
	if err := checkLimit(f.Limit, "records"); err != nil {
		if f.Limit > provision.MaxLogLimit {
			err = fmt.Errorf("%w; continue a listing with --before ID, the id of the last record shown", err)
		}
		return nil, err
	}
	q := url.Values{}
	times := map[string]time.Time{}
	for _, t := range []struct{ flag, value string }{{"since", since}, {"until", until}} {
		if t.value == "" {
			continue
		}
		at, err := parseWhen(t.value, now)
		if err != nil {
			return nil, fmt.Errorf("--%s %s: want an RFC 3339 time such as 2026-01-02T15:04:05Z, or a duration such as 2h (that long ago)", t.flag, t.value)
		}
		times[t.flag] = at
		q.Set(t.flag, at.Format(time.RFC3339Nano))
	}
	if s, u := times["since"], times["until"]; !s.IsZero() && !u.IsZero() && u.Before(s) {
		return nil, fmt.Errorf("--until %s is before --since %s", until, since)
	}
	for k, v := range map[string]string{"user": f.User, "action": action, "status": status, "before": f.Before} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if f.Limit != 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	return q, nil
}

// parseWhen reads an RFC 3339 time, or a positive duration meaning that
// long before now.
func parseWhen(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return time.Time{}, fmt.Errorf("%q is neither a time nor a duration", s)
	}
	return now.Add(-d).UTC(), nil
}

// writeLogs prints provisioning-log records for people, one block each:
// the record's id, time, action and status, then the object, why, what
// changed, and on failure the error and what to do.
func writeLogs(w io.Writer, logs []provision.LogRecord) {
	for i, l := range logs {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "%s  %s  %s  %s\n", l.ID, formatTime(l.ActivityDateTime), l.Action, l.Status)
		row := func(label, value string) {
			if value != "" {
				fmt.Fprintf(w, "  %-13s %s\n", label+":", oneLine(value))
			}
		}
		row("Object", object(l.Source))
		if l.Target.ID != "" {
			row("Target", object(l.Target))
		}
		row("Reason", l.Reason)
		for j, p := range l.ModifiedProperties {
			label := ""
			if j == 0 {
				label = "Changed:"
			}
			fmt.Fprintf(w, "  %-13s %s: %s → %s\n", label, p.Name, orEmpty(p.OldValue), orEmpty(p.NewValue))
		}
		if e := l.Error; e != nil {
			row("Error", errorText(e))
			row("Request", e.Request)
			row("Recommended", e.RecommendedAction)
			if e.Retryable {
				row("Retried", "yes, on its own schedule (ferry apps failures)")
			}
		}
	}
}

// errorText is an error's code and reason.
func errorText(e *provision.ErrorInfo) string {
	if e.Reason == "" {
		return e.Code
	}
	return e.Code + ": " + e.Reason
}

// orEmpty shows an empty attribute value as such.
func orEmpty(v string) string {
	if v == "" {
		return "(empty)"
	}
	return oneLine(v)
}

// identity names an object in a few words: its name, or its id.
func identity(id provision.Identity) string {
	switch {
	case id.DisplayName != "":
		return id.DisplayName
	case id.ID != "":
		return id.ID
	}
	return "-"
}
