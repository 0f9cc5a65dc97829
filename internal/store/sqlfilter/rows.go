package sqlfilter

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ferryid/ferry/internal/scim/resource"
	"github.com/ferryid/ferry/internal/scim/schema"
	"github.com/ferryid/ferry/internal/store"
)

// The helpers below are the parts of the resources and memberships tables
// that both backends fill and read the same way.

// StoredDoc returns doc without the keys the store manages itself (those
// Builtin reports): what the resources.doc column holds.
func StoredDoc(doc resource.Document, rt *schema.ResourceType) resource.Document {
	out := make(resource.Document, len(doc))
	for k, v := range doc {
		if !Builtin(rt, k) {
			out[k] = v
		}
	}
	return out
}

// Names returns the unique name key of a stored document (the folded
// userName of a User, the folded displayName of a Group), which
// resources.name_key holds, and the name its memberships show
// (resources.display).
func Names(typ string, doc resource.Document) (key, display sql.NullString) {
	switch typ {
	case store.UserType:
		if u, ok := doc.String("userName"); ok {
			key = sql.NullString{String: FoldKey(u), Valid: true}
			display = sql.NullString{String: u, Valid: true}
		}
		if d, ok := doc.String("displayName"); ok && d != "" {
			display = sql.NullString{String: d, Valid: true}
		}
	case store.GroupType:
		if d, ok := doc.String("displayName"); ok {
			key = sql.NullString{String: FoldKey(d), Valid: true}
			display = sql.NullString{String: d, Valid: true}
		}
	}
	return key, display
}

// NameTaken is the ErrNameTaken of a write whose name key is already taken.
func NameTaken(typ string, doc resource.Document) *store.Error {
	if typ == store.UserType {
		u, _ := doc.String("userName")
		return store.Errorf(store.ErrNameTaken, "userName %q is already taken", u)
	}
	d, _ := doc.String("displayName")
	return store.Errorf(store.ErrNameTaken, "a group with displayName %q already exists", d)
}

// VersionMismatch is the ErrVersionMismatch of a write whose If-Match
// version is not the resource's.
func VersionMismatch(typ, id string, have, want int64) *store.Error {
	return store.Errorf(store.ErrVersionMismatch, "%s %q is at version %d, not %d", typ, id, have, want)
}

// DecodeEdges decodes a JSON array of [id, type, display] triples, the form
// in which both backends read a resource's memberships in the statement
// that reads the resource.
func DecodeEdges(list string) ([]store.Member, error) {
	var rows [][3]*string
	if err := json.Unmarshal([]byte(list), &rows); err != nil {
		return nil, err
	}
	ms := make([]store.Member, 0, len(rows))
	for _, r := range rows {
		if r[0] == nil || r[1] == nil {
			return nil, errors.New("membership row without id or type")
		}
		m := store.Member{ID: *r[0], Type: *r[1]}
		if r[2] != nil {
			m.Display = *r[2]
		}
		ms = append(ms, m)
	}
	return ms, nil
}

// MaxAppName bounds an application's name, in characters.
const MaxAppName = 256

// CheckJSON rejects a document that is not JSON before it is stored: the
// PostgreSQL store's json columns would refuse it, and both stores must
// behave alike.
func CheckJSON(what string, b []byte) error {
	if len(b) > 0 && (!json.Valid(b) || !utf8.Valid(b)) {
		return fmt.Errorf("%s is not JSON", what)
	}
	return nil
}

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

// AppColumns are the apps columns ScanApp reads.
const AppColumns = `id, tenant_id, name, template, config, control, secret, enabled, version, created_at, last_modified`

// ScanApp reads a row of AppColumns: a pgx row or a database/sql one.
func ScanApp(row interface{ Scan(...any) error }) (*store.App, error) {
	var a store.App
	var created, modified string
	if err := row.Scan(&a.ID, &a.TenantID, &a.Name, &a.Template, &a.Config, &a.Control, &a.Secret, &a.Enabled,
		&a.Version, &created, &modified); err != nil {
		return nil, err
	}
	var err error
	if a.Created, err = time.Parse(TimeLayout, created); err != nil {
		return nil, err
	}
	if a.LastModified, err = time.Parse(TimeLayout, modified); err != nil {
		return nil, err
	}
	return &a, nil
}

// defaultEscrowLimit and maxEscrowLimit bound a page of escrows.
const (
	defaultEscrowLimit = 100
	maxEscrowLimit     = 1000
)

// EscrowLimit is the page size of an EscrowQuery.
func EscrowLimit(n int) int {
	switch {
	case n <= 0:
		return defaultEscrowLimit
	case n > maxEscrowLimit:
		return maxEscrowLimit
	}
	return n
}

// EscrowColumns are the app_escrows columns ScanEscrow reads.
const EscrowColumns = `app_id, source_type, source_id, source_name, attempts, retryable, next_try, first_failed, last_failed, record`

// ScanEscrow reads a row of EscrowColumns: a pgx row or a database/sql
// one. A NULL next_try (an escrow that is not retryable) reads as the zero
// time.
func ScanEscrow(row interface{ Scan(...any) error }) (*store.Escrow, error) {
	var e store.Escrow
	var next *string
	var first, last string
	if err := row.Scan(&e.AppID, &e.SourceType, &e.SourceID, &e.SourceName, &e.Attempts, &e.Retryable,
		&next, &first, &last, &e.Record); err != nil {
		return nil, err
	}
	var err error
	if next != nil {
		if e.NextTry, err = time.Parse(TimeLayout, *next); err != nil {
			return nil, err
		}
	}
	if e.FirstFailed, err = time.Parse(TimeLayout, first); err != nil {
		return nil, err
	}
	if e.LastFailed, err = time.Parse(TimeLayout, last); err != nil {
		return nil, err
	}
	return &e, nil
}

// EscrowNextTry returns what an escrow's next_try is bound to: NULL for an
// escrow that is not retryable, which waits for a change rather than a
// time, and otherwise its NextTry, the zero time (due at once) included.
func EscrowNextTry(e *store.Escrow) *string {
	if !e.Retryable {
		return nil
	}
	t := TimeKey(e.NextTry)
	return &t
}
