package sqlfilter

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ferryid/ferry/internal/store"
)

// The helpers below are row helpers the backends' provisioning code
// calls. They belong in package sqlstore, with the directory's, and move
// there with that code.

// VersionMismatch is the ErrVersionMismatch of a write whose If-Match
// version is not the resource's.
func VersionMismatch(typ, id string, have, want int64) *store.Error {
	return store.Errorf(store.ErrVersionMismatch, "%s %q is at version %d, not %d", typ, id, have, want)
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
