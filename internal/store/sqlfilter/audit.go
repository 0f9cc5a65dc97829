package sqlfilter

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ferryid/ferry/internal/store"
)

// The audit log (the app_audit table) is the same in both backends but for
// placeholders: its statements are written once, here, for a Dialect.

// defaultAuditLimit and maxAuditLimit bound a page of audit entries.
const (
	defaultAuditLimit = 100
	maxAuditLimit     = 1000
)

// AuditLimit is the page size of an AuditQuery.
func AuditLimit(n int) int {
	switch {
	case n <= 0:
		return defaultAuditLimit
	case n > maxAuditLimit:
		return maxAuditLimit
	}
	return n
}

// CheckAudit checks what a caller can get wrong in an audit entry, before
// anything is written.
func CheckAudit(e *store.AuditEntry) error {
	for _, f := range []struct{ name, v string }{{"app name", e.AppName}, {"actor", e.Actor}, {"action", e.Action}} {
		if !utf8.ValidString(f.v) || strings.ContainsRune(f.v, 0) {
			return store.Invalid("the audit entry's %s %q is not valid text", f.name, f.v)
		}
	}
	if e.TenantID == "" || e.AppID == "" || e.Action == "" {
		return fmt.Errorf("an audit entry needs a tenant, an application and an action: %+v", e)
	}
	return CheckJSON("audit entry details", e.Details)
}

// AuditInsertSQL is the statement that appends one entry, with the
// arguments AuditInsertArgs gives; an entry whose id is stored already is
// skipped.
func AuditInsertSQL(d Dialect) string {
	ps := make([]string, 9)
	for i := range ps {
		ps[i] = d.Placeholder(i + 1)
	}
	return `INSERT INTO app_audit (id, tenant_id, app_id, app_name, app_name_key, at, actor, action, details) VALUES (` +
		strings.Join(ps, ", ") + `) ON CONFLICT (id) DO NOTHING`
}

// AuditInsertArgs are the arguments of AuditInsertSQL for e, stored with id
// at at. The details are bound as text (or NULL), which both a SQLite TEXT
// column and a PostgreSQL json one take as it is.
func AuditInsertArgs(e *store.AuditEntry, id string, at time.Time) []any {
	var details any
	if len(e.Details) > 0 {
		details = string(e.Details)
	}
	return []any{id, e.TenantID, e.AppID, e.AppName, FoldKey(e.AppName), TimeKey(at), e.Actor, e.Action, details}
}

// AuditCursorSQL reads the (at, seq) of the entry a listing continues
// after: its arguments are the entry's id and the tenant.
func AuditCursorSQL(d Dialect) string {
	return `SELECT at, seq FROM app_audit WHERE id = ` + d.Placeholder(1) + ` AND tenant_id = ` + d.Placeholder(2)
}

// AuditCursor is the (at, seq) of the entry a listing continues after.
type AuditCursor struct {
	At  string
	Seq int64
}

// auditColumns are the app_audit columns ScanAudit reads.
const auditColumns = `id, tenant_id, app_id, app_name, at, actor, action, details`

// AuditSQL returns the query of a page of audit entries, newest first,
// continuing after cur when it is not nil. Each of its conditions is
// served by one of the two indexes, whose last columns are (at, seq): a
// page is read in order off the index.
func AuditSQL(d Dialect, q store.AuditQuery, cur *AuditCursor) (string, []any) {
	b := NewBuilder(d)
	where := "tenant_id = " + b.Arg(q.TenantID)
	if q.AppID != "" {
		where += " AND app_id = " + b.Arg(q.AppID)
	} else {
		where += " AND app_name_key = " + b.Arg(FoldKey(q.AppName))
	}
	if cur != nil {
		where += " AND (at, seq) < (" + b.Arg(cur.At) + ", " + b.Arg(cur.Seq) + ")"
	}
	limit := b.Arg(AuditLimit(q.Limit))
	return `SELECT ` + auditColumns + ` FROM app_audit WHERE ` + where + ` ORDER BY at DESC, seq DESC LIMIT ` + limit, b.Args()
}

// ScanAudit reads a row of AuditSQL: a pgx row or a database/sql one.
func ScanAudit(row interface{ Scan(...any) error }) (*store.AuditEntry, error) {
	var e store.AuditEntry
	var at string
	if err := row.Scan(&e.ID, &e.TenantID, &e.AppID, &e.AppName, &at, &e.Actor, &e.Action, &e.Details); err != nil {
		return nil, err
	}
	var err error
	if e.At, err = time.Parse(TimeLayout, at); err != nil {
		return nil, err
	}
	return &e, nil
}
