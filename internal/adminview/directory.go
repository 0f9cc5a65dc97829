package adminview

import (
	"fmt"
	"io"
	"strings"

	"github.com/ferryid/ferry/internal/directory"
)

// Users writes a page of users as a table, and how many there are in all.
func Users(w io.Writer, list *directory.UserList, offset int) {
	if len(list.Users) == 0 {
		fmt.Fprintf(w, "No users (%s match).\n", plural(list.Total, "user"))
		return
	}
	tw := newTable(w)
	fmt.Fprintln(tw, "USERNAME\tNAME\tEMAIL\tTITLE\tACTIVE\tGROUPS")
	for _, u := range list.Users {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", u.UserName, orDash(personName(&u)), orDash(u.Email), orDash(u.Title), yesNo(u.Active), orDash(strings.Join(u.Groups, ", ")))
	}
	tw.Flush()
	more(w, offset, len(list.Users), list.Total)
}

// User writes one user.
func User(w io.Writer, u *directory.User) {
	tw := newTable(w)
	row := func(label, value string) { fmt.Fprintf(tw, "%s\t%s\n", label, value) }
	row("User name:", u.UserName)
	row("Id:", u.ID)
	row("Name:", orDash(personName(u)))
	row("Email:", orDash(u.Email))
	row("Title:", orDash(u.Title))
	row("Department:", orDash(u.Department))
	if u.ExternalID != "" {
		row("External id:", u.ExternalID)
	}
	row("Active:", yesNo(u.Active))
	row("Groups:", orDash(strings.Join(u.Groups, ", ")))
	row("Created:", formatTime(u.Created))
	row("Last modified:", formatTime(u.LastModified))
	tw.Flush()
}

// Groups writes a page of groups as a table.
func Groups(w io.Writer, list *directory.GroupList, offset int) {
	if len(list.Groups) == 0 {
		fmt.Fprintf(w, "No groups (%s match).\n", plural(list.Total, "group"))
		return
	}
	tw := newTable(w)
	fmt.Fprintln(tw, "NAME\tMEMBERS\tID")
	for _, g := range list.Groups {
		fmt.Fprintf(tw, "%s\t%d\t%s\n", g.DisplayName, len(g.Members), g.ID)
	}
	tw.Flush()
	more(w, offset, len(list.Groups), list.Total)
}

// Group writes one group and its members.
func Group(w io.Writer, g *directory.Group) {
	tw := newTable(w)
	fmt.Fprintf(tw, "Group:\t%s\n", g.DisplayName)
	fmt.Fprintf(tw, "Id:\t%s\n", g.ID)
	if g.ExternalID != "" {
		fmt.Fprintf(tw, "External id:\t%s\n", g.ExternalID)
	}
	fmt.Fprintf(tw, "Members:\t%d\n", len(g.Members))
	tw.Flush()
	for _, m := range g.Members {
		kind := ""
		if m.Type != "User" {
			kind = " (" + strings.ToLower(m.Type) + ")"
		}
		fmt.Fprintf(w, "  %s%s\n", m.Name, kind)
	}
}

// personName is a user's displayName, else given and family names.
func personName(u *directory.User) string {
	if u.DisplayName != "" {
		return u.DisplayName
	}
	return strings.TrimSpace(u.GivenName + " " + u.FamilyName)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// more says what a page left out, and the flag that shows the next one.
func more(w io.Writer, offset, shown, total int) {
	if offset+shown < total {
		fmt.Fprintf(w, "%d to %d of %d; --offset %d shows more.\n", offset+1, offset+shown, total, offset+shown)
	}
}
