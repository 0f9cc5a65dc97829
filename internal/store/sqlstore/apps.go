package sqlstore

import (
	"bytes"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ferryid/ferry/internal/store"
	"github.com/ferryid/ferry/internal/store/sqlfilter"
)

// The apps table: an application's row, what its writes check, and the
// read-modify-write of UpdateApp.

// MaxAppName bounds an application's name, in characters.
const MaxAppName = 256

// CheckApp checks what a caller can get wrong in an application.
func CheckApp(a *store.App) error {
	switch n := utf8.RuneCountInString(a.Name); {
	case n == 0:
		return store.Invalid("an application needs a name")
	case n > MaxAppName:
		return store.Invalid("an application's name has at most %d characters", MaxAppName)
	case !utf8.ValidString(a.Name) || strings.ContainsRune(a.Name, 0):
		return store.Invalid("application name %q is not valid text", a.Name)
	}
	if err := CheckJSON("application config", a.Config); err != nil {
		return err
	}
	return CheckJSON("application control", a.Control)
}

// AppNameTaken is the ErrNameTaken of an application name taken in the
// tenant.
func AppNameTaken(name string) *store.Error {
	return store.Errorf(store.ErrNameTaken, "an application named %q already exists", name)
}

// AppIDTaken is the ErrIDTaken of an application id taken in any tenant:
// links, job state and leases name an application by its id alone.
func AppIDTaken(id string) *store.Error {
	return store.Errorf(store.ErrIDTaken, "application id %q is already taken", id)
}

// AppNotFound is the ErrNotFound of an application, named by what (its id
// or its name), that the tenant does not have or that does not exist.
func AppNotFound(what string) *store.Error {
	return store.NotFound("application %q not found", what)
}

// AppColumns are the apps columns ScanApp reads.
const AppColumns = `id, tenant_id, name, template, config, control, secret, enabled, version, created_at, last_modified`

// ScanApp reads a row of AppColumns.
func ScanApp(row Row) (*store.App, error) {
	var a store.App
	if err := row.Scan(&a.ID, &a.TenantID, &a.Name, &a.Template, &a.Config, &a.Control, &a.Secret, &a.Enabled,
		&a.Version, TextTime(&a.Created), TextTime(&a.LastModified)); err != nil {
		return nil, err
	}
	return &a, nil
}

// ReadApp reads the one row of AppColumns that row holds; no row is the
// AppNotFound of what.
func ReadApp(row Row, what string) (*store.App, error) {
	a, err := ScanApp(row)
	return a, NoRowsAs(err, AppNotFound(what))
}

// AppsSQL returns the query of a tenant's applications in name order,
// ignoring case, or with tenantID "" of every tenant's, by tenant id and
// then name.
func AppsSQL(d sqlfilter.Dialect, tenantID string) (string, []any) {
	if tenantID == "" {
		return `SELECT ` + AppColumns + ` FROM apps ORDER BY tenant_id, name_key`, nil
	}
	return `SELECT ` + AppColumns + ` FROM apps WHERE tenant_id = ` + d.Placeholder(1) + ` ORDER BY name_key`, []any{tenantID}
}

// AppArgs are the arguments of the statements that write a's apps row
// at now, by number: 1 id, 2 tenant_id, 3 name, 4 name_key, 5 template,
// 6 config, 7 control, 8 secret, 9 enabled, 10 now (created_at or
// last_modified).
func AppArgs(a *store.App, now time.Time) []any {
	return []any{a.ID, a.TenantID, a.Name, sqlfilter.FoldKey(a.Name), a.Template, JSONText(a.Config), JSONText(a.Control),
		Blob(a.Secret), a.Enabled, sqlfilter.TimeKey(now)}
}

// CreateApp is the flow of store.Provisioning.CreateApp: it checks a and
// gives the copy it writes an id when a has none, runs write, which
// inserts the copy (with AppArgs) in a write and returns the write's
// time, and sets a to what was stored once the write has committed.
func CreateApp(a *store.App, write func(c *store.App) (now time.Time, err error)) error {
	return checkedWrite(func() (*store.App, error) {
		if err := CheckApp(a); err != nil {
			return nil, err
		}
		c := *a
		if c.ID == "" {
			c.ID = store.NewID()
		}
		return &c, nil
	}, write, func(c *store.App, now time.Time) {
		c.Version, c.Created, c.LastModified = 1, now, now
		*a = *c
	})
}

// DeleteAppSQL returns the statements that delete an application, whose
// id is their one argument, with its assignments, links, escrows, job
// state and lease, in that order; its provisioning logs and audit entries
// stay.
func DeleteAppSQL(d sqlfilter.Dialect) []string {
	id := d.Placeholder(1)
	return []string{
		`DELETE FROM app_assignments WHERE app_id = ` + id,
		`DELETE FROM app_links WHERE app_id = ` + id,
		`DELETE FROM app_escrows WHERE app_id = ` + id,
		`DELETE FROM job_states WHERE app_id = ` + id,
		`DELETE FROM job_leases WHERE app_id = ` + id,
		`DELETE FROM apps WHERE id = ` + id,
	}
}

// AppUpdate is the step of UpdateApp that runs in the backend's write,
// given cur, the application as the write read it, and the write's time.
// It calls change on a copy of cur, restores what change cannot set
// (ID, TenantID and the fields the store keeps: Version, Created,
// LastModified), checks the result and writes it with put (with
// AppArgs), unless it stores as cur does: then it returns noChange, the
// backend's error that ends a write with nothing to write.
type AppUpdate func(cur *store.App, now time.Time, noChange error, put func(next *store.App) error) error

// UpdateApp is the flow of store.Provisioning.UpdateApp: write runs the
// AppUpdate it is given in a write, after reading the application there
// (locked, where the backend locks it). With ifVersion non-zero, the
// application at another version is ErrVersionMismatch. It returns the
// application as it stands after the write.
func UpdateApp(ifVersion int64, change func(*store.App) error, write func(AppUpdate) error) (*store.App, error) {
	var out *store.App
	err := write(func(cur *store.App, now time.Time, noChange error, put func(next *store.App) error) error {
		if ifVersion != 0 && cur.Version != ifVersion {
			return VersionMismatch("application", cur.ID, cur.Version, ifVersion)
		}
		next := cloneApp(cur)
		if err := change(next); err != nil {
			return err
		}
		next.ID, next.TenantID, next.Version, next.Created, next.LastModified =
			cur.ID, cur.TenantID, cur.Version, cur.Created, cur.LastModified
		if err := CheckApp(next); err != nil {
			return err
		}
		if sameApp(cur, next) {
			out = cur
			return noChange
		}
		// The update is the write's only statement that writes: a name
		// taken is its only failure, and undoes nothing else.
		if err := put(next); err != nil {
			return err
		}
		next.Version++
		next.LastModified = now
		out = next
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func cloneApp(a *store.App) *store.App {
	c := *a
	c.Config = bytes.Clone(a.Config)
	c.Control = bytes.Clone(a.Control)
	c.Secret = bytes.Clone(a.Secret)
	return &c
}

// sameApp reports whether b stores as a does.
func sameApp(a, b *store.App) bool {
	return a.Name == b.Name && a.Template == b.Template && bytes.Equal(a.Config, b.Config) &&
		bytes.Equal(a.Control, b.Control) && bytes.Equal(a.Secret, b.Secret) && a.Enabled == b.Enabled
}
