package adminview

import (
	"fmt"
	"io"
	"strings"

	"github.com/ferryid/ferry/internal/sourcesync"
)

// Sources writes the sources as a table.
func Sources(w io.Writer, list []sourcesync.Source) {
	if len(list) == 0 {
		fmt.Fprintln(w, "No sources. Create one with: ferry sources create --name NAME --url ldap://HOST --base-dn DN ...")
		return
	}
	tw := newTable(w)
	fmt.Fprintln(tw, "NAME\tTYPE\tSTATUS\tURL\tLAST PASS\tOUTCOME\tNEXT PASS")
	for _, s := range list {
		last, outcome := "-", "-"
		if p := s.Status.Last; p != nil {
			last, outcome = formatTime(p.Ended)+" ("+p.Kind+")", p.Outcome
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.Name, s.Type, sourceState(&s), s.Config.URL, last, outcome, nextPass(&s))
	}
	tw.Flush()
}

func sourceState(s *sourcesync.Source) string {
	if s.Status.State == "running" {
		return "running in " + s.Status.RunningIn
	}
	return s.Status.State
}

func nextPass(s *sourcesync.Source) string {
	if !s.Enabled {
		return "- (off)"
	}
	if s.Status.NextPass.IsZero() {
		return "now"
	}
	return formatTime(s.Status.NextPass)
}

// Source writes a source: its configuration (never its password) and
// where its passes stand.
func Source(w io.Writer, s *sourcesync.Source) {
	tw := newTable(w)
	row := func(label, value string) { fmt.Fprintf(tw, "%s\t%s\n", label, value) }
	c := s.Config
	row("Source:", s.Name+" ("+s.Type+")")
	row("Status:", sourceState(s))
	row("URL:", c.URL+map[bool]string{true: " (StartTLS)"}[c.StartTLS])
	row("Bind DN:", orDash(c.BindDN)+map[bool]string{true: " (password set)", false: " (no password)"}[s.BindPasswordSet])
	row("Base DN:", c.BaseDN)
	row("Preset:", orDash(c.Preset))
	row("User filter:", orDash(c.UserFilter))
	row("Group filter:", orDash(c.GroupFilter))
	for _, m := range []struct {
		label string
		rules []sourcesync.Rule
	}{{"User mapping:", c.UserMapping}, {"Group mapping:", c.GroupMapping}} {
		var parts []string
		for _, r := range m.rules {
			parts = append(parts, r.Path+"="+r.Attribute)
		}
		if len(parts) > 0 {
			row(m.label, strings.Join(parts, ", "))
		}
	}
	row("Interval:", durationOr(c.Interval, sourcesync.DefaultInterval.String())+" incremental, "+
		durationOr(c.FullInterval, sourcesync.DefaultFullInterval.String())+" full")
	row("Read guard:", fmt.Sprintf("no disables or deletes when more than %d%% are gone", shrink(c.MaxShrinkPercent)))
	row("Version:", fmt.Sprint(s.Version))
	row("Next pass:", nextPass(s))
	row("Next full pass:", formatTime(s.Status.NextFull))
	tw.Flush()
	if s.Status.Last != nil {
		fmt.Fprintln(w)
		Pass(w, s.Name, s.Status.Last)
	}
}

func durationOr(d sourcesync.Duration, def string) string {
	if d == 0 {
		return def
	}
	return d.String()
}

func shrink(p int) int {
	if p == 0 {
		return 20
	}
	return p
}

// SourceStatus writes where a source's passes stand.
func SourceStatus(w io.Writer, name string, st *sourcesync.Status) {
	tw := newTable(w)
	row := func(label, value string) { fmt.Fprintf(tw, "%s\t%s\n", label, value) }
	state := st.State
	if st.RunningIn != "" {
		state += " in " + st.RunningIn
	}
	row("Source:", name)
	row("Status:", state)
	row("Last success:", formatTime(st.LastSuccess))
	if st.Mark != nil {
		row("Changes since:", st.Mark.Attribute+" "+st.Mark.Value)
	}
	row("Next pass:", formatTime(st.NextPass))
	row("Next full pass:", formatTime(st.NextFull))
	tw.Flush()
	if st.Last != nil {
		fmt.Fprintln(w)
		Pass(w, name, st.Last)
	}
}

// Pass writes a pass's record: what it read and did, and, for a pass that
// failed or was held back, why and what to do.
func Pass(w io.Writer, name string, p *sourcesync.Pass) {
	c := p.Counts
	fmt.Fprintf(w, "Last pass: %s %s (%s), %s to %s: %s\n", p.Kind, name, p.Trigger, formatTime(p.Started), formatTime(p.Ended), strings.ToUpper(p.Outcome))
	fmt.Fprintf(w, "  read %s and %s; created %d, updated %d, disabled %d, deleted %d; members +%d -%d; %d failed\n",
		plural(c.ReadUsers, "user"), plural(c.ReadGroups, "group"), c.Created, c.Updated, c.Disabled, c.Deleted, c.MembersAdded, c.MembersRemoved, c.Failed)
	if p.Error != "" {
		fmt.Fprintf(w, "  error: %s\n", p.Error)
	}
	if p.Guard != "" {
		fmt.Fprintf(w, "  read guard: %s (%s held back)\n", p.Guard, plural(p.Withheld, "change"))
	}
	for _, f := range p.Failures {
		fmt.Fprintf(w, "  failed: %s\n", f)
	}
	for _, n := range p.Notes {
		fmt.Fprintf(w, "  note: %s\n", n)
	}
	if p.Advice != "" {
		fmt.Fprintf(w, "  what to do: %s\n", p.Advice)
	}
}

// SourceDeleted says a source is gone, and what became of its objects.
func SourceDeleted(w io.Writer, res *sourcesync.DeleteResult) {
	fmt.Fprintf(w, "Deleted source %s", res.Name)
	if res.ReleasedUsers+res.ReleasedGroups > 0 {
		fmt.Fprintf(w, "; released %s and %s, which stay in the directory without its externalId", plural(res.ReleasedUsers, "user"), plural(res.ReleasedGroups, "group"))
	}
	fmt.Fprintln(w, ".")
}
