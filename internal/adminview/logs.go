package adminview

import (
	"fmt"
	"io"
	"strings"

	"github.com/ferryid/ferry/internal/provision"
)

// Logs writes a page of app's provisioning-log records, listed with limit
// (0 for the server's default), and how to see older ones when the page
// is full.
func Logs(w io.Writer, app string, logs []provision.LogRecord, limit int) {
	if len(logs) == 0 {
		fmt.Fprintf(w, "No provisioning logs of %s match.\n", app)
		return
	}
	writeLogs(w, logs)
	if len(logs) == effectiveLimit(limit) {
		fmt.Fprintf(w, "\nOlder records: ferry apps logs %s --before %s (with the same filters)\n", shellWord(app), logs[len(logs)-1].ID)
	}
}

// writeLogs writes provisioning-log records, one block each: the record's
// id, time, action and status, then the object, why, what changed, and on
// failure the error and what to do.
func writeLogs(w io.Writer, logs []provision.LogRecord) {
	for i, l := range logs {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "%s  %s  %s  %s\n", l.ID, formatTime(l.ActivityDateTime), l.Action, l.Status)
		row := blockRow(w)
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

// blockRow returns what writes a labelled row of a block, on one line, and
// nothing for an empty value.
func blockRow(w io.Writer) func(label, value string) {
	return func(label, value string) {
		if value != "" {
			fmt.Fprintf(w, "  %-13s %s\n", label+":", oneLine(value))
		}
	}
}

// Failures writes app's objects in escrow, listed with limit (0 for the
// server's default), one block each, and how to retry them.
func Failures(w io.Writer, app string, fs []provision.Failure, limit int) {
	if len(fs) == 0 {
		fmt.Fprintf(w, "No objects of %s are in escrow: nothing failed.\n", app)
		return
	}
	for i, f := range fs {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintln(w, object(f.Source))
		row := blockRow(w)
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
