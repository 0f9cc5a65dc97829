// Package adminview writes what ferry apps and ferry tokens show people:
// the admin API's answers as tables and blocks of text, and the sentences
// that say what a command did and what to do next, naming the commands
// that do it. With --json the commands print the server's bytes instead,
// through Raw.
package adminview

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ferryid/ferry/internal/adminclient"
	"github.com/ferryid/ferry/internal/provision"
)

// Raw writes an API answer exactly as the server sent it, ending its last
// line.
func Raw(w io.Writer, raw []byte) error {
	if _, err := w.Write(raw); err != nil {
		return err
	}
	if len(raw) > 0 && raw[len(raw)-1] != '\n' {
		_, err := w.Write([]byte{'\n'})
		return err
	}
	return nil
}

// Templates lists template names, one a line.
func Templates(w io.Writer, names []string) {
	for _, n := range names {
		fmt.Fprintln(w, n)
	}
}

// Apps writes a table of applications.
func Apps(w io.Writer, apps []provision.AppView) error {
	tw := newTable(w)
	fmt.Fprintln(tw, "NAME\tTEMPLATE\tPROVISIONING\tSCOPE\tTENANT URL")
	for _, a := range apps {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", a.Name, a.Template, onOff(a.Enabled), a.Config.Scope, a.Config.TenantURL)
	}
	return tw.Flush()
}

// App writes an application: its settings, then a line per mapping.
func App(w io.Writer, a *provision.AppView) {
	secret := "not set"
	if a.HasSecretToken {
		secret = "set"
	}
	tw := newTable(w)
	for _, row := range [][2]string{
		{"Name", a.Name},
		{"ID", a.ID},
		{"Template", a.Template},
		{"Provisioning", onOff(a.Enabled)},
		{"Tenant URL", a.Config.TenantURL},
		{"Secret token", secret},
		{"Scope", a.Config.Scope},
		{"Roles", formatRoles(a.Config.Roles)},
		{"Version", strconv.FormatInt(a.Version, 10)},
		{"Created", formatTime(a.Created)},
		{"Last modified", formatTime(a.LastModified)},
	} {
		fmt.Fprintf(tw, "%s:\t%s\n", row[0], row[1])
	}
	tw.Flush()
	if len(a.Config.Objects) > 0 {
		fmt.Fprintln(w, "Mappings:")
	}
	for _, o := range a.Config.Objects {
		var actions []string
		for _, act := range []struct {
			on   bool
			name string
		}{{o.Actions.Create, "create"}, {o.Actions.Update, "update"}, {o.Actions.Delete, "delete"}} {
			if act.on {
				actions = append(actions, act.name)
			}
		}
		state := ""
		if !o.Enabled {
			state = " (off)"
		}
		fmt.Fprintf(w, "  %s → %s%s: %s; %s, %s\n", o.SourceType, o.TargetType, state, orNone(strings.Join(actions, ", ")),
			plural(len(o.Attributes), "attribute"), plural(len(o.Scoping), "scoping filter"))
	}
}

// formatRoles lists an application's roles, marking the default one and
// those that are not provisioned.
func formatRoles(roles []provision.Role) string {
	var out []string
	for _, r := range roles {
		var marks []string
		if r.Default {
			marks = append(marks, "default")
		}
		if r.NotProvisioned {
			marks = append(marks, "not provisioned")
		}
		if len(marks) > 0 {
			out = append(out, r.Name+" ("+strings.Join(marks, ", ")+")")
		} else {
			out = append(out, r.Name)
		}
	}
	if len(out) == 0 {
		return "none"
	}
	return strings.Join(out, ", ")
}

// Created says an application was created, Off, and how to turn it On.
func Created(w io.Writer, app *provision.AppView) {
	fmt.Fprintf(w, "Created %s from template %s (scope %s). Provisioning is Off: check it with\n  ferry apps test-connection %s\nthen turn it On with\n  ferry apps start %s\n",
		app.Name, app.Template, app.Config.Scope, shellWord(app.Name), shellWord(app.Name))
}

// Updated says an application was changed, and its new version.
func Updated(w io.Writer, app *provision.AppView) {
	fmt.Fprintf(w, "Updated %s (now version %d).\n", app.Name, app.Version)
}

// Deleted says an application was deleted.
func Deleted(w io.Writer, name string) {
	fmt.Fprintf(w, "Deleted %s.\n", name)
}

// Assigned says who was assigned to app, and with which role.
func Assigned(w io.Writer, app string, a *provision.AssignmentView) {
	withRole := ""
	if a.Role != "" {
		withRole = " with role " + a.Role
	}
	fmt.Fprintf(w, "Assigned %s %s to %s%s.\n", a.PrincipalType, a.PrincipalName, app, withRole)
}

// Unassigned says who was unassigned from app, by id or by name as p
// names them.
func Unassigned(w io.Writer, app string, p provision.Principal) {
	who := p.Name
	if p.ID != "" {
		who = p.ID
	}
	fmt.Fprintf(w, "Unassigned %s %s from %s.\n", p.Type, who, app)
}

// Assignments writes a table of assignments.
func Assignments(w io.Writer, as []provision.AssignmentView) error {
	tw := newTable(w)
	fmt.Fprintln(tw, "TYPE\tNAME\tROLE\tID\tASSIGNED")
	for _, a := range as {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", a.PrincipalType, a.PrincipalName, orDash(a.Role), a.PrincipalID, formatTime(a.Created))
	}
	return tw.Flush()
}

// ConnectionWorks says that the connection to app works, when the test
// says so; ConnectionError says what failed otherwise.
func ConnectionWorks(w io.Writer, app string, res *provision.TestResult) {
	if res.Success {
		fmt.Fprintf(w, "The connection to %s works.\n", app)
		if res.Schema != "" {
			fmt.Fprintf(w, "Schema: %s\n", res.Schema)
		}
	}
}

// ConnectionError is the error of a failed Test Connection of app, nil
// for one that passed.
func ConnectionError(app string, res *provision.TestResult) error {
	if res.Success {
		return nil
	}
	code := ""
	if res.Code != "" {
		code = " (" + res.Code + ")"
	}
	return fmt.Errorf("test connection to %s failed%s: %s", app, code, res.Message)
}

// OnDemand writes the steps of a provision on demand, then the
// provisioning-log records it made.
func OnDemand(w io.Writer, res *provision.OnDemandResult) {
	for _, s := range res.Steps {
		fmt.Fprintf(w, "%-8s %s: %s\n", s.Status, s.Name, oneLine(s.Description))
	}
	if len(res.Records) > 0 {
		fmt.Fprintln(w)
		writeLogs(w, res.Records)
	}
}

// OnDemandError is the error of a provision on demand that failed: the
// first failed record's, else the first failed step's; nil when none
// failed.
func OnDemandError(res *provision.OnDemandResult) error {
	for _, r := range res.Records {
		if r.Status == provision.StatusFailure {
			reason := ""
			if r.Error != nil {
				reason = ": " + r.Error.Code + ": " + r.Error.Reason
			}
			return fmt.Errorf("provisioning %s failed%s", identity(r.Source), reason)
		}
	}
	for _, s := range res.Steps {
		if s.Status == provision.StatusFailure {
			return fmt.Errorf("provisioning failed at %s: %s", s.Name, s.Description)
		}
	}
	return nil
}

// Started says provisioning of name is On, and how to follow it; force
// says Test Connection was skipped.
func Started(w io.Writer, name string, force bool) {
	if force {
		fmt.Fprintf(w, "Provisioning of %s is On (Test Connection was skipped: --force).\n", name)
	} else {
		fmt.Fprintf(w, "Test Connection to %s passed. Provisioning of %s is On.\n", name, name)
	}
	fmt.Fprintf(w, "Follow its cycle with: ferry apps status %s --watch\n", shellWord(name))
}

// StartError is the error of a start of name without --force: a refusal
// for a failing Test Connection (409) gets the commands that fix the
// connection, or skip the test, after the server's detail, which gives
// the test's message.
func StartError(name string, err error) error {
	if e, ok := errors.AsType[*adminclient.Error](err); ok && e.Status == http.StatusConflict {
		return fmt.Errorf("%s\nTo fix the connection: ferry apps update %s --tenant-url URL, or --secret-token-file FILE; "+
			"then test it with ferry apps test-connection %s. To start without the test: ferry apps start %s --force",
			e.Detail, shellWord(name), shellWord(name), shellWord(name))
	}
	return err
}

// Stopped says provisioning of name is Off, and how it resumes.
func Stopped(w io.Writer, name string) {
	fmt.Fprintf(w, "Provisioning of %s is Off. A running cycle stops now; ferry apps start %s resumes it where it stopped.\n",
		name, shellWord(name))
}

// Restarted says what a restart of name does, with reset or not.
func Restarted(w io.Writer, name string, reset bool) {
	if reset {
		fmt.Fprintf(w, "Provisioning of %s restarted with its current state cleared. Forgotten: its links between directory objects and %s's objects, "+
			"its place in the directory's change feed, and its objects in escrow.\n", name, name)
		fmt.Fprintf(w, "The next cycle is a full one that matches every object anew by its matching attributes; nothing is deleted in %s. Provisioning is On.\n", name)
	} else {
		fmt.Fprintf(w, "Provisioning of %s restarted: the next cycle is a full one on the current configuration; "+
			"objects already provisioned stay linked. Provisioning is On.\n", name)
	}
	fmt.Fprintf(w, "Follow it with: ferry apps status %s --watch\n", shellWord(name))
}

// Retrying says what a retry of name's objects in escrow does, by its
// status: nothing, once provisioning is On, or now.
func Retrying(w io.Writer, name string, st *provision.Status) {
	switch {
	case st.Failures == 0:
		fmt.Fprintf(w, "No objects of %s are in escrow: there is nothing to retry.\n", name)
	case !st.Enabled:
		fmt.Fprintf(w, "%s of %s in escrow will be retried when provisioning is On; it is Off (ferry apps start %s).\n",
			plural(st.Failures, "object"), name, shellWord(name))
	default:
		fmt.Fprintf(w, "Retrying %s of %s in escrow now. Follow them with: ferry apps failures %s\n",
			plural(st.Failures, "object"), name, shellWord(name))
	}
}

func newTable(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
}

// onOff names a provisioning status as Entra does.
func onOff(enabled bool) string {
	if enabled {
		return "On"
	}
	return "Off"
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func orNone(s string) string {
	if s == "" {
		return "no actions"
	}
	return s
}

// oneLine keeps a table row on one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// shellWord quotes s for a command line, when it needs it.
func shellWord(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.@/:", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
