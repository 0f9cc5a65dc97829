package adminview

import (
	"fmt"
	"io"
	"strings"

	"github.com/ferryid/ferry/internal/csvimport"
)

// ImportProgress returns what draws an import's progress on the terminal
// w writes to, redrawing one line in place, or nil when w is not a
// terminal (a log or a pipe gets the summary alone).
func ImportProgress(w io.Writer) func(done, total int) {
	width := terminalWidth(w)
	if width == 0 {
		return nil
	}
	return func(done, total int) {
		percent := 100
		if total > 0 {
			percent = done * 100 / total
		}
		line := fmt.Sprintf("%s %3d%%  %d of %d users", cycleBar(percent, 30), percent, done, total)
		fmt.Fprintf(w, "\r%-*s", min(len(line)+2, width-1), line)
		if done >= total {
			fmt.Fprintln(w)
		}
	}
}

// ImportResult writes what an import did (or would do, in a dry run): the
// counts, the rows that failed with their lines, the columns no mapping
// knew, and why delete-missing disabled no one.
func ImportResult(w io.Writer, res *csvimport.Result) {
	c := res.Counts
	verb := ""
	switch {
	case res.Refused != "":
		fmt.Fprintf(w, "Refused, nothing was written: %s.\n", res.Refused)
		verb = "Without --delete-missing it would have: "
	case res.DryRun:
		verb = "Dry run, nothing written. Would have: "
	}
	if c.Created+c.Updated+c.Disabled+c.GroupsCreated+c.MembersAdded+c.MembersRemoved == 0 && c.Failed == 0 {
		fmt.Fprintf(w, "%s%s read; nothing to change: the directory already matches the file.\n", verb, plural(res.Rows, "row"))
	} else {
		tw := newTable(w)
		if verb != "" {
			fmt.Fprintln(tw, strings.TrimSpace(verb))
		}
		row := func(label string, n int) { fmt.Fprintf(tw, "%s\t%d\n", label, n) }
		row("Rows:", res.Rows)
		row("Created:", c.Created)
		row("Updated:", c.Updated)
		row("Unchanged:", c.Unchanged)
		row("Disabled:", c.Disabled)
		row("Failed:", c.Failed)
		if c.GroupsCreated+c.MembersAdded+c.MembersRemoved > 0 {
			fmt.Fprintf(tw, "Groups:\t%s created, %s added, %s removed\n", plural(c.GroupsCreated, "group"), plural(c.MembersAdded, "member"), plural(c.MembersRemoved, "member"))
		}
		tw.Flush()
	}
	if len(res.IgnoredColumns) > 0 {
		fmt.Fprintf(w, "Ignored columns (no mapping; --map COLUMN=SCIM-PATH maps one): %s\n", strings.Join(res.IgnoredColumns, ", "))
	}
	if len(res.Errors) > 0 {
		fmt.Fprintf(w, "\n%s failed:\n", plural(len(res.Errors), "row"))
		for _, e := range res.Errors {
			fmt.Fprintf(w, "  %s\n", e.Error())
		}
	}
}
