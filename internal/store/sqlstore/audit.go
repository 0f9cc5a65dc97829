package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ferryid/ferry/internal/store"
	"github.com/ferryid/ferry/internal/store/sqlfilter"
)

// The audit log (the app_audit table) is the same in both backends but for
// placeholders: its statements are written once, here, for a Dialect.

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
// arguments AppendAudit gives; an entry whose id is stored already is
// skipped.
func AuditInsertSQL(d sqlfilter.Dialect) string {
	ps := make([]string, 9)
	for i := range ps {
		ps[i] = d.Placeholder(i + 1)
	}
	return `INSERT INTO app_audit (id, tenant_id, app_id, app_name, app_name_key, at, actor, action, details) VALUES (` +
		strings.Join(ps, ", ") + `) ON CONFLICT (id) DO NOTHING`
}

// AppendAudit is the flow of store.Provisioning.AppendAudit: it checks e
// and gives it an id (its ID, or a new UUID when it has none) before the
// write, runs write, which runs AuditInsertSQL in a write with the
// arguments that args returns for the write's time, and sets e's ID and
// At to what was stored once the write has committed. The entry is
// stored at its At, or at the write's time when that is zero.
func AppendAudit(e *store.AuditEntry, write func(args func(now time.Time) []any) error) error {
	return checkedWrite(func() (string, error) {
		if err := CheckAudit(e); err != nil {
			return "", err
		}
		if e.ID != "" {
			return e.ID, nil
		}
		return store.NewID(), nil
	}, func(id string) (at time.Time, err error) {
		err = write(func(now time.Time) []any {
			if at = e.At; at.IsZero() {
				at = now
			}
			// The details are bound as text (or NULL), which both a SQLite
			// TEXT column and a PostgreSQL json one take as it is.
			return []any{id, e.TenantID, e.AppID, e.AppName, sqlfilter.FoldKey(e.AppName), sqlfilter.TimeKey(at), e.Actor,
				e.Action, JSONText(e.Details)}
		})
		return at, err
	}, func(id string, at time.Time) {
		e.ID, e.At = id, at
	})
}

// auditColumns are the app_audit columns ScanAudit reads.
const auditColumns = `id, tenant_id, app_id, app_name, at, actor, action, details`

// AuditSQL returns the query of a page of audit entries, newest first,
// continuing after cur when it is not nil. Each of its conditions is
// served by one of the two indexes, whose last columns are (at, seq): a
// page is read in order off the index.
func AuditSQL(d sqlfilter.Dialect, q store.AuditQuery, cur *Cursor) (string, []any) {
	b := sqlfilter.NewBuilder(d)
	where := "tenant_id = " + b.Arg(q.TenantID)
	if q.AppID != "" {
		where += " AND app_id = " + b.Arg(q.AppID)
	} else {
		where += " AND app_name_key = " + b.Arg(sqlfilter.FoldKey(q.AppName))
	}
	if cur != nil {
		where += " AND (at, seq) < (" + b.Arg(cur.At) + ", " + b.Arg(cur.Seq) + ")"
	}
	limit := b.Arg(PageLimit(q.Limit))
	return `SELECT ` + auditColumns + ` FROM app_audit WHERE ` + where + ` ORDER BY at DESC, seq DESC LIMIT ` + limit, b.Args()
}

// ScanAudit reads a row of AuditSQL.
func ScanAudit(row Row) (*store.AuditEntry, error) {
	var e store.AuditEntry
	if err := row.Scan(&e.ID, &e.TenantID, &e.AppID, &e.AppName, TextTime(&e.At), &e.Actor, &e.Action, &e.Details); err != nil {
		return nil, err
	}
	return &e, nil
}

// Audit reads the page of audit entries that q selects, newest first,
// through qr, whose statements take d's placeholders (see Page).
func Audit(ctx context.Context, qr Querier, d sqlfilter.Dialect, q store.AuditQuery) ([]*store.AuditEntry, error) {
	return Page(ctx, qr, d, "app_audit", q.TenantID, q.Before,
		func(cur *Cursor) (string, []any) { return AuditSQL(d, q, cur) }, ScanAudit)
}
