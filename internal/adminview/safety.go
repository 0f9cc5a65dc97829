package adminview

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/ferryid/ferry/internal/provision"
)

// DeletesAllowed says that the disables and deletes staged for name, as
// its status st read before, are allowed, and when they are sent.
func DeletesAllowed(w io.Writer, name string, st *provision.Status) {
	fmt.Fprintf(w, "Allowed %s staged for %s%s.\n", stagedCounts(st.StagedDeletes), name, stagedWhen(st.StagedDeletes))
	if st.Enabled {
		fmt.Fprintf(w, "The job sends exactly these now and leaves quarantine. Follow it with: ferry apps status %s --watch\n", shellWord(name))
	} else {
		fmt.Fprintf(w, "Provisioning is Off: the job sends them once it is On (ferry apps start %s).\n", shellWord(name))
	}
}

// DeletesRejected says that the disables and deletes staged for name, as
// its status st read before, are dropped, and what follows.
func DeletesRejected(w io.Writer, name string, st *provision.Status) {
	fmt.Fprintf(w, "Dropped %s staged for %s%s: none is sent, and those objects stay as they are in %s. "+
		"The job leaves quarantine; should the assignments, scope or directory still call for them, a later cycle holds them again.\n",
		stagedCounts(st.StagedDeletes), name, stagedWhen(st.StagedDeletes), name)
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

// Plan writes the plan of a full cycle: the counts per action, then each
// object's action, then what the threshold would do.
func Plan(w io.Writer, p *provision.Plan) {
	writePlan(w, p, false)
}

// ChangePlan writes the plan of a full cycle with a change that was not
// saved, and how to save it.
func ChangePlan(w io.Writer, p *provision.Plan) {
	writePlan(w, p, true)
	fmt.Fprintf(w, "\nNothing was saved: run the same ferry apps update without --plan to save the change.\n")
}

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

// Audit writes a page of app's audit entries, listed with limit (0 for the
// server's default): a line each, then the changes, one a line; and how to
// see older ones when the page is full.
func Audit(w io.Writer, app string, entries []provision.AuditEntry, limit int) {
	if len(entries) == 0 {
		fmt.Fprintf(w, "No audit entries of %s.\n", app)
		return
	}
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
	if len(entries) == effectiveLimit(limit) {
		fmt.Fprintf(w, "\nOlder entries: ferry apps audit %s --before %s\n", shellWord(app), entries[len(entries)-1].ID)
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
