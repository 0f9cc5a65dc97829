package adminview

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ferryid/ferry/internal/provision"
)

// waitForCycle is how long Watch waits for a pending cycle to start
// (right after ferry apps start, say) before it gives up: longer than a
// scheduler's poll, and than a replica takes to take over a job.
const waitForCycle = 30 * time.Second

// Watch shows an application's status, as fetch reads it, every interval
// until its running cycle ends or ctx is done (Ctrl-C), which is not an
// error. A pending cycle that has not started yet is waited for, for up to
// waitForCycle. On a terminal it redraws in place; elsewhere it writes a
// line per update, then the status once the cycle ended; asJSON writes the
// API's JSON once per update, one document a line.
func Watch(ctx context.Context, out io.Writer, interval time.Duration, asJSON bool, fetch func(context.Context) (*provision.Status, []byte, error)) error {
	width := terminalWidth(out) // 0: not a terminal
	drawn := 0                  // lines drawn on the terminal, to redraw over
	seenRunning := false
	waitUntil := time.Now().Add(waitForCycle)
	timer := time.NewTimer(interval)
	defer timer.Stop()
	for {
		st, raw, err := fetch(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil // Ctrl-C during the request
			}
			return err
		}
		running := st.State == "running"
		seenRunning = seenRunning || running
		// Right after a start or a restart the cycle may not have begun.
		waiting := !running && !seenRunning && st.Enabled && st.FullCyclePending && time.Now().Before(waitUntil)
		done := !running && !waiting
		switch {
		case asJSON:
			if err := Raw(out, raw); err != nil {
				return err
			}
		case width > 0:
			var b bytes.Buffer
			Status(&b, st)
			switch {
			case waiting:
				fmt.Fprintln(&b, "Waiting for the pending cycle to start… (Ctrl-C stops watching)")
			case !done:
				fmt.Fprintln(&b, "Watching until the cycle ends… (Ctrl-C stops watching)")
			}
			if drawn > 0 {
				fmt.Fprintf(out, "\x1b[%dA\x1b[J", drawn) // up over the last drawing, and clear it
			}
			if _, err := out.Write(b.Bytes()); err != nil {
				return err
			}
			drawn = screenLines(b.String(), width)
		case done:
			Status(out, st)
		default:
			fmt.Fprintln(out, statusLine(st, time.Now()))
		}
		if done {
			return nil
		}
		timer.Reset(interval)
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		}
	}
}

// screenLines counts the terminal lines s takes on a terminal width
// columns wide, long lines wrapping.
func screenLines(s string, width int) int {
	n := 0
	for line := range strings.Lines(s) {
		cols := utf8.RuneCountInString(strings.TrimRight(line, "\n"))
		n += max(1, (cols+width-1)/width)
	}
	return n
}

// statusLine is one update of Watch when it does not redraw.
func statusLine(st *provision.Status, now time.Time) string {
	parts := []string{now.UTC().Format(time.TimeOnly), st.State}
	if cy := st.Current; cy != nil {
		parts = append(parts, cy.Kind+" cycle", progress(cy), formatCounts(cy.Counts))
	} else if st.Enabled && st.FullCyclePending {
		parts = append(parts, "a full cycle is pending")
	}
	return strings.Join(parts, "  ")
}

// progress is a cycle's percent, objects processed of the total and the
// estimated time left.
func progress(cy *provision.CycleStatus) string {
	s := fmt.Sprintf("%3d%%  %d of %d objects", cy.Percent, cy.Processed, cy.Total)
	if cy.EtaSeconds > 0 {
		s += ", about " + (time.Duration(cy.EtaSeconds) * time.Second).String() + " left"
	}
	return s
}

// cycleBar draws percent as a bar of width characters.
func cycleBar(percent, width int) string {
	percent = min(max(percent, 0), 100)
	full := percent * width / 100
	return "[" + strings.Repeat("#", full) + strings.Repeat("-", width-full) + "]"
}

// Status writes an application's provisioning status: On or Off, the
// configuration version, the running cycle's progress, the last cycle, the
// objects in escrow, a quarantine and staged deletes with what to do about
// them, the next full cycle, and the server's advice.
func Status(w io.Writer, st *provision.Status) {
	tw := newTable(w)
	row := func(label, value string) { fmt.Fprintf(tw, "%s\t%s\n", label, value) }
	row("App:", st.App)
	row("Provisioning:", fmt.Sprintf("%s (%s)", onOff(st.Enabled), st.State))
	if st.Holder != "" {
		row("Job held by:", st.Holder)
	}
	row("Configuration:", configLine(st))
	writeQuarantine(row, st)
	if cy := st.Current; cy != nil {
		state := cy.State
		if state == "" || state == "running" {
			state = "running"
		}
		row("Current cycle:", fmt.Sprintf("%s on version %d, %s since %s%s", cy.Kind, cy.ConfigVersion, state, formatTime(cy.Started), resumed(cy)))
		row("", cycleBar(cy.Percent, 30)+" "+progress(cy))
		row("", countsOf(cy))
	}
	if cy := st.Last; cy != nil {
		row("Last cycle:", lastCycleLine(cy))
		row("", countsOf(cy))
	} else if st.Current == nil {
		row("Last cycle:", "none yet")
	}
	failures := "none"
	if st.Failures > 0 {
		failures = plural(st.Failures, "object") + " in escrow"
		switch {
		case st.RetryableFailures == st.Failures:
			failures += ", retried on their own schedule"
		case st.RetryableFailures > 0:
			failures += fmt.Sprintf(", %d retried on their own schedule, the others waiting for a change", st.RetryableFailures)
		default:
			failures += ", waiting for a change of the object or of the configuration"
		}
		failures += " (ferry apps failures " + shellWord(st.App) + ")"
	}
	row("Failures:", failures)
	row("Next full cycle:", nextFullCycle(st))
	row("Totals:", formatCounts(st.Totals))
	row("Watermark:", fmt.Sprint(st.Watermark))
	if st.Advice != "" {
		row("Advice:", oneLine(st.Advice))
	}
	tw.Flush()
}

// writeQuarantine adds the rows of a quarantine and of staged deletes,
// when there are.
func writeQuarantine(row func(label, value string), st *provision.Status) {
	if q := st.Quarantine; q != nil {
		row("Quarantine:", oneLine(fmt.Sprintf("%s since %s: %s", q.Reason, formatTime(q.Since), q.Detail)))
		if !q.SeriesBegan.Equal(q.Since) || q.Attempts > 0 {
			row("", fmt.Sprintf("quarantined since %s, %s since", formatTime(q.SeriesBegan), plural(q.Attempts, "attempt")))
		}
		switch {
		case !q.NextAttempt.IsZero():
			row("Next attempt:", formatTime(q.NextAttempt)+" (or at once after a passing ferry apps test-connection "+shellWord(st.App)+")")
		case q.Reason == "TooManyDeletes":
			row("Next attempt:", "none: waiting for ferry apps allow-deletes or reject-deletes")
		}
		if q.Request != "" {
			row("Failing request:", oneLine(q.Request))
		}
		if q.Response != "" {
			row("Response:", oneLine(q.Response))
		}
	}
	if s := st.StagedDeletes; s != nil {
		row("Staged deletes:", fmt.Sprintf("%s and %s held since %s (over the limit of %d, with %d sent within the window before)",
			plural(s.Disables, "disable"), plural(s.Deletes, "delete"), formatTime(s.At), s.Limit, s.Recent))
		var sample []string
		for _, id := range s.Sample {
			sample = append(sample, plannedObject(id))
		}
		slices.Sort(sample)
		if more := s.Disables + s.Deletes - len(s.Sample); more > 0 {
			sample = append(sample, fmt.Sprintf("and %d more", more))
		}
		if len(sample) > 0 {
			row("", oneLine(strings.Join(sample, ", ")))
		}
		row("", fmt.Sprintf("ferry apps allow-deletes %s sends exactly these; ferry apps reject-deletes %s drops them",
			shellWord(st.App), shellWord(st.App)))
	}
}

// configLine says which configuration version is current, and whether a
// full cycle on it is still to run.
func configLine(st *provision.Status) string {
	s := fmt.Sprintf("version %d", st.ConfigVersion)
	switch cy := st.Current; {
	case cy != nil && cy.ConfigVersion != 0 && cy.ConfigVersion < st.ConfigVersion:
		s += fmt.Sprintf("; the running cycle is on version %d, and a full cycle on version %d follows it", cy.ConfigVersion, st.ConfigVersion)
	case st.FullCyclePending && cy != nil && cy.Kind != "initial" && cy.Kind != "full":
		s += "; a full cycle on it follows the running cycle"
	case st.FullCyclePending && cy == nil:
		s += "; a full cycle on it is pending"
	}
	return s
}

func resumed(cy *provision.CycleStatus) string {
	switch cy.Resumed {
	case 0:
		return ""
	case 1:
		return " (resumed once)"
	}
	return fmt.Sprintf(" (resumed %d times)", cy.Resumed)
}

// lastCycleLine says how the last cycle ended.
func lastCycleLine(cy *provision.CycleStatus) string {
	ended := formatTime(cy.Ended)
	var how string
	switch cy.State {
	case "completed", "":
		how = "completed " + ended
	case "stopped":
		how = "stopped " + ended + " (provisioning was turned Off; a full cycle resumes where it stopped)"
	case "superseded":
		how = "superseded " + ended + " by a newer configuration (a full cycle on it follows)"
	case "interrupted":
		how = "interrupted " + ended + " (its process stopped; the next process to run the job resumes it)"
	default:
		how = cy.State + " " + ended
	}
	s := fmt.Sprintf("%s on version %d, %s after %s%s", cy.Kind, cy.ConfigVersion, how, time.Duration(cy.DurationMs)*time.Millisecond, resumed(cy))
	if cy.Error != "" {
		s += ": " + cy.Error
	}
	if cy.Reason != "" {
		s += "; it ran because " + cy.Reason
	}
	return s
}

// countsOf is a cycle's counts, and how many objects of its total it
// processed when it did not process them all.
func countsOf(cy *provision.CycleStatus) string {
	s := formatCounts(cy.Counts)
	if cy.State != "running" && cy.Processed < cy.Total {
		s = fmt.Sprintf("%d of %d objects processed: %s", cy.Processed, cy.Total, s)
	}
	return s
}

func nextFullCycle(st *provision.Status) string {
	switch {
	case !st.Enabled:
		return "- (provisioning is Off)"
	case st.FullCyclePending && st.Current == nil:
		return "now (pending)"
	case st.NextFullCycle.IsZero():
		return "after the running cycle"
	}
	return "at " + formatTime(st.NextFullCycle)
}

// formatCounts lists the counts that are not zero.
func formatCounts(c provision.Counts) string {
	var parts []string
	for _, n := range []struct {
		n    int
		name string
	}{{c.Created, "created"}, {c.Updated, "updated"}, {c.Disabled, "disabled"}, {c.Deleted, "deleted"},
		{c.Unchanged, "unchanged"}, {c.Skipped, "skipped"}, {c.Failed, "failed"}} {
		if n.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n.n, n.name))
		}
	}
	if len(parts) == 0 {
		return "nothing done"
	}
	return strings.Join(parts, ", ")
}
