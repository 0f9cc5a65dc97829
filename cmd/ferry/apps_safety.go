package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"

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
		RunE: run(func(cmd *cobra.Command, c *appsClient, args []string) error {
			name := args[0]
			st, err := stagedStatus(cmd, c, name)
			if err != nil {
				return err
			}
			if _, err := c.call(cmd.Context(), "POST", appPath(name, "allow-deletes"), nil, nil); err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "Allowed %s staged for %s%s.\n", stagedCounts(st.StagedDeletes), name, stagedWhen(st.StagedDeletes))
			if st.Enabled {
				fmt.Fprintf(out, "The job sends exactly these now and leaves quarantine. Follow it with: ferry apps status %s --watch\n", shellWord(name))
			} else {
				fmt.Fprintf(out, "Provisioning is Off: the job sends them once it is On (ferry apps start %s).\n", shellWord(name))
			}
			return nil
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
		RunE: run(func(cmd *cobra.Command, c *appsClient, args []string) error {
			name := args[0]
			st, err := stagedStatus(cmd, c, name)
			if err != nil {
				return err
			}
			if _, err := c.call(cmd.Context(), "POST", appPath(name, "reject-deletes"), nil, nil); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Dropped %s staged for %s%s: none is sent, and those objects stay as they are in %s. "+
				"The job leaves quarantine; should the assignments, scope or directory still call for them, a later cycle holds them again.\n",
				stagedCounts(st.StagedDeletes), name, stagedWhen(st.StagedDeletes), name)
			return nil
		}),
	}
}

// stagedStatus reads an application's status, to say what allow-deletes
// or reject-deletes did to its staged set. The server refuses either when
// nothing is staged, and says so.
func stagedStatus(cmd *cobra.Command, c *appsClient, name string) (*provision.Status, error) {
	var st provision.Status
	if _, err := c.get(cmd.Context(), "GET", appPath(name, "status"), nil, nil, &st); err != nil {
		return nil, err
	}
	return &st, nil
}

// stagedCounts says how many disables and deletes a staged set holds.
func stagedCounts(s *provision.StagedDeletes) string {
	if s == nil {
		return "the disables and deletes"
	}
	return fmt.Sprintf("the %s and %s", plural(s.Disables, "disable"), plural(s.Deletes, "delete"))
}

func stagedWhen(s *provision.StagedDeletes) string {
	if s == nil {
		return ""
	}
	return " at " + formatTime(s.At)
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
		RunE: run(func(cmd *cobra.Command, c *appsClient, args []string) error {
			var p provision.Plan
			raw, err := c.get(cmd.Context(), "POST", appPath(args[0], "plan"), nil, nil, &p)
			if err != nil {
				return err
			}
			if asJSON {
				return writeRaw(cmd.OutOrStdout(), raw)
			}
			writePlan(cmd.OutOrStdout(), &p, false)
			return nil
		}),
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the API's JSON")
	return cmd
}

// writePlan prints a plan for people: the counts per action, then each
// object's action, then what the threshold would do. unsaved says it is the
// plan of a change that was not saved.
func writePlan(w io.Writer, p *provision.Plan, unsaved bool) {
	what := fmt.Sprintf("on configuration version %d", p.ConfigVersion)
	if unsaved {
		what = "with the change, which is not saved"
	}
	fmt.Fprintf(w, "Plan of a full cycle of %s %s (nothing was sent):\n", p.App, what)
	for _, row := range []struct {
		label string
		n     int
	}{
		{"create", len(p.Creates)}, {"update", len(p.Updates)}, {"disable", len(p.Disables)}, {"delete", len(p.Deletes)},
		{"fail", len(p.Failures)}, {"unchanged", p.Unchanged}, {"skipped", p.Skipped},
	} {
		fmt.Fprintf(w, "  %-10s %d\n", row.label, row.n)
	}
	actions := [][]provision.PlannedAction{p.Creates, p.Updates, p.Disables, p.Deletes, p.Failures}
	if len(p.Creates)+len(p.Updates)+len(p.Disables)+len(p.Deletes)+len(p.Failures) == 0 {
		fmt.Fprintf(w, "\nNothing to do: %s is in sync with the directory.\n", p.App)
		return
	}
	fmt.Fprintln(w)
	for _, list := range actions {
		for _, a := range list {
			action := a.Action
			if action == provision.ActionOther {
				action = "fail"
			}
			why := ""
			switch {
			case a.Error != nil:
				why = ": " + oneLine(errorText(a.Error))
			case a.Reason != "" && a.Action != provision.ActionCreate:
				why = ": " + oneLine(a.Reason)
			}
			fmt.Fprintf(w, "%-8s %s%s\n", action, plannedObject(a.Source), why)
			if a.Action == provision.ActionUpdate {
				for _, m := range a.Changes {
					fmt.Fprintf(w, "           %s: %s → %s\n", m.Name, orEmpty(m.OldValue), orEmpty(m.NewValue))
				}
			}
		}
	}
	if p.Staged {
		fmt.Fprintf(w, "\nThe threshold would hold the disables and deletes: %d, with %d sent within its window, exceed the accidental-deletion limit of %d. "+
			"The cycle would send none of them and quarantine %s until ferry apps allow-deletes %s or ferry apps reject-deletes %s.\n",
			len(p.Disables)+len(p.Deletes), p.Recent, p.Limit, p.App, shellWord(p.App), shellWord(p.App))
	}
}

// plannedObject names an object of a plan: its name and type.
func plannedObject(id provision.Identity) string {
	if id.Type == "" {
		return identity(id)
	}
	return identity(id) + " (" + id.Type + ")"
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
		RunE: run(func(cmd *cobra.Command, c *appsClient, args []string) error {
			if err := checkLimit(limit, "entries"); err != nil {
				return err
			}
			q := url.Values{}
			if limit > 0 {
				q.Set("limit", strconv.Itoa(limit))
			}
			if before != "" {
				q.Set("before", before)
			}
			var entries []provision.AuditEntry
			raw, err := c.get(cmd.Context(), "GET", appPath(args[0], "audit"), q, nil, &entries)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				return writeRaw(out, raw)
			}
			if len(entries) == 0 {
				fmt.Fprintf(out, "No audit entries of %s.\n", args[0])
				return nil
			}
			writeAudit(out, entries)
			if len(entries) == effectiveLimit(limit) {
				fmt.Fprintf(out, "\nOlder entries: ferry apps audit %s --before %s\n", shellWord(args[0]), entries[len(entries)-1].ID)
			}
			return nil
		}),
	}
	cmd.Flags().IntVar(&limit, "limit", 0, fmt.Sprintf("the most entries to show: 100 when not given, at most %d", provision.MaxLogLimit))
	cmd.Flags().StringVar(&before, "before", "", "continue a listing after the entry with this id")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the API's JSON array")
	return cmd
}

// writeAudit prints audit entries for people: a line each, then the
// changes, one a line.
func writeAudit(w io.Writer, entries []provision.AuditEntry) {
	for _, e := range entries {
		line := fmt.Sprintf("%s  %s  %s", formatTime(e.At), orDash(e.Actor), e.Action)
		if about := auditAbout(e.Details); about != "" {
			line += "  " + about
		}
		fmt.Fprintln(w, line)
		if e.Details == nil {
			continue
		}
		for _, c := range e.Details.Changes {
			// A secret's change reads "changed" (or "set"), never a value.
			if strings.Contains(strings.ToLower(c.Field), "secret") {
				fmt.Fprintf(w, "    %s: %s\n", c.Field, auditValue(c.New))
				continue
			}
			fmt.Fprintf(w, "    %s: %s → %s\n", c.Field, auditValue(c.Old), auditValue(c.New))
		}
	}
}

// auditAbout says in a few words what an entry's details say besides its
// changes.
func auditAbout(d *provision.AuditDetails) string {
	if d == nil {
		return ""
	}
	var parts []string
	if p := d.Principal; p != nil {
		who := p.Name
		if who == "" {
			who = p.ID
		}
		parts = append(parts, p.Type+" "+who)
	}
	if d.Role != "" {
		parts = append(parts, "role "+d.Role)
	}
	if d.Force {
		parts = append(parts, "Test Connection skipped (--force)")
	}
	if d.StagedID != "" {
		parts = append(parts, fmt.Sprintf("%s and %s (staged set %s)", plural(d.Disables, "disable"), plural(d.Deletes, "delete"), d.StagedID))
	}
	return strings.Join(parts, ", ")
}

// maxAuditValue bounds a value audit shows; --json shows it whole.
const maxAuditValue = 120

// auditValue shows a changed setting's JSON value on one line: a string
// as it is, anything else as compact JSON, cut when long.
func auditValue(v json.RawMessage) string {
	if len(v) == 0 {
		return "(none)"
	}
	var s string
	if json.Unmarshal(v, &s) == nil {
		if s == "" {
			return "(empty)"
		}
		return cut(oneLine(s))
	}
	var b bytes.Buffer
	if json.Compact(&b, v) != nil {
		return cut(oneLine(string(v)))
	}
	return cut(b.String())
}

func cut(s string) string {
	if utf8.RuneCountInString(s) <= maxAuditValue {
		return s
	}
	r := []rune(s)
	return string(r[:maxAuditValue]) + "… (--json shows it whole)"
}
