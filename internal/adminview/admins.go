package adminview

import (
	"fmt"
	"io"

	"github.com/ferryid/ferry/internal/store"
)

// AdminCreated says a console admin was created: who, with which role, in
// which tenant; never the password or its hash.
func AdminCreated(w io.Writer, a *store.Admin, tenant string) {
	fmt.Fprintf(w, "Created console admin %s with role %s in tenant %q.\n", a.Email, a.Role, tenant)
}

// Admins writes a table of a tenant's console admins, without their
// password hashes.
func Admins(w io.Writer, admins []store.Admin) error {
	tw := newTable(w)
	fmt.Fprintln(tw, "EMAIL\tROLE\tCREATED")
	for _, a := range admins {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", a.Email, a.Role, formatTime(a.Created))
	}
	return tw.Flush()
}

// AdminRemoved says a console admin was removed, and signed out.
func AdminRemoved(w io.Writer, email string) {
	fmt.Fprintf(w, "Removed console admin %s; its console sessions are ended.\n", email)
}

// AdminPasswordSet says a console admin's password was replaced, and that
// the admin must sign in again with it.
func AdminPasswordSet(w io.Writer, email string) {
	fmt.Fprintf(w, "Set the password of console admin %s; its console sessions are ended, so it signs in again with the new one.\n", email)
}
