package sqlstore

import (
	"context"
	"time"

	"github.com/ferryid/ferry/internal/store"
	"github.com/ferryid/ferry/internal/store/sqlfilter"
)

// The provisioning_logs table: what the engine did, or decided not to do,
// to each object.

// LogColumns are the provisioning_logs columns a record is appended with,
// in the order of LogBatch.Values.
const LogColumns = `id, tenant_id, app_id, cycle_id, at, action, status, source_type, source_id, source_name_key, source_name, target_id, record`

// LogReadColumns are the provisioning_logs columns ScanLog reads.
const LogReadColumns = `id, tenant_id, app_id, cycle_id, at, action, status, source_type, source_id, source_name, target_id, record`

// ScanLog reads a row of LogReadColumns.
func ScanLog(row Row) (*store.ProvisioningLog, error) {
	var l store.ProvisioningLog
	if err := row.Scan(&l.ID, &l.TenantID, &l.AppID, &l.CycleID, TextTime(&l.At), &l.Action, &l.Status,
		&l.SourceType, &l.SourceID, &l.SourceName, &l.TargetID, &l.Record); err != nil {
		return nil, err
	}
	return &l, nil
}

// LogBatch is provisioning-log records checked, and given their ids,
// before the write that appends them: nothing in them can then fail the
// write once it has written, as the SQLite store's writer needs.
// AppendLogs, PutLink and DeleteLink append records through it.
type LogBatch struct {
	logs []*store.ProvisioningLog
	ids  []string
}

// NewLogBatch checks logs and gives each record its ID, or a new UUID
// when it has none. The records themselves are set only by Done.
func NewLogBatch(logs []*store.ProvisioningLog) (*LogBatch, error) {
	b := &LogBatch{logs: logs, ids: make([]string, len(logs))}
	for i, l := range logs {
		if err := CheckJSON("provisioning-log record", l.Record); err != nil {
			return nil, err
		}
		if b.ids[i] = l.ID; b.ids[i] == "" {
			b.ids[i] = store.NewID()
		}
	}
	return b, nil
}

// Len is the number of records in the batch.
func (b *LogBatch) Len() int { return len(b.logs) }

// Values are the values of the batch's i-th record in the order of
// LogColumns, appended by a write at now: its At is now where zero. Each
// is text, but for a record's record, which is NULL (nil) when empty.
func (b *LogBatch) Values(i int, now time.Time) []any {
	l := b.logs[i]
	at := l.At
	if at.IsZero() {
		at = now
	}
	return []any{b.ids[i], l.TenantID, l.AppID, l.CycleID, sqlfilter.TimeKey(at), l.Action, l.Status,
		l.SourceType, l.SourceID, sqlfilter.FoldKey(l.SourceName), l.SourceName, l.TargetID, JSONText(l.Record)}
}

// Done sets the records' IDs, and At where zero to now, the time of the
// write that appended them, once it has committed.
func (b *LogBatch) Done(now time.Time) {
	for i, l := range b.logs {
		l.ID = b.ids[i]
		if l.At.IsZero() {
			l.At = now
		}
	}
}

// WriteLogs is the flow of a write that appends logs, as DeleteLink's
// does: it checks them and gives them their IDs (see NewLogBatch), runs
// write, which appends their batch in a write and returns the write's
// time, and sets the records' IDs and times once the write has committed.
func WriteLogs(logs []*store.ProvisioningLog, write func(*LogBatch) (now time.Time, err error)) error {
	return checkedWrite(func() (*LogBatch, error) { return NewLogBatch(logs) }, write, (*LogBatch).Done)
}

// AppendLogs is the flow of store.Provisioning.AppendLogs: WriteLogs,
// with no write at all for no logs.
func AppendLogs(logs []*store.ProvisioningLog, write func(*LogBatch) (now time.Time, err error)) error {
	if len(logs) == 0 {
		return nil
	}
	return WriteLogs(logs, write)
}

// Cursor is the (at, seq) of the record a listing newest first continues
// after: provisioning logs and audit entries are read in the order of
// their (at, seq), which never changes.
type Cursor struct {
	At  string
	Seq int64
}

// Page reads a page of a listing newest first of table (provisioning_logs
// or app_audit): the first when before is "", and otherwise the page
// after the tenant's record whose id is before. pageSQL returns the
// query of the page after a cursor (nil for the first), whose rows scan
// reads. A before that names no record of the tenant (one pruned since,
// say) selects nothing: pruning removes older records first, so none
// older than it is left.
func Page[T any](ctx context.Context, q Querier, d sqlfilter.Dialect, table, tenantID, before string,
	pageSQL func(*Cursor) (string, []any), scan func(Row) (T, error)) ([]T, error) {
	var cur *Cursor
	if before != "" {
		// The cursor needs no snapshot shared with the page: a record's
		// (at, seq) never changes.
		cur = new(Cursor)
		err := q.QueryRow(ctx, `SELECT at, seq FROM `+table+` WHERE id = `+d.Placeholder(1)+` AND tenant_id = `+d.Placeholder(2),
			before, tenantID).Scan(&cur.At, &cur.Seq)
		if NoRows(err) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
	}
	query, args := pageSQL(cur)
	return List(ctx, q, scan, query, args...)
}

// Logs reads the page of provisioning logs that q selects, newest first,
// through qr, whose statements take d's placeholders (see Page); logsSQL
// is the backend's query of a page (LogsSQL, with its from and nameKey).
func Logs(ctx context.Context, qr Querier, d sqlfilter.Dialect, q store.LogQuery,
	logsSQL func(store.LogQuery, *Cursor) (string, []any)) ([]*store.ProvisioningLog, error) {
	return Page(ctx, qr, d, "provisioning_logs", q.TenantID, q.Before,
		func(cur *Cursor) (string, []any) { return logsSQL(q, cur) }, ScanLog)
}

// LogsSQL returns the query of a page of the provisioning logs that q
// selects, newest first, continuing after cur when it is not nil. from is
// the table as the backend's query reads it (naming an index, say), and
// nameKey returns the condition that source_name_key is the folded name
// whose placeholder is k.
func LogsSQL(d sqlfilter.Dialect, q store.LogQuery, cur *Cursor, from string, nameKey func(k string) string) (string, []any) {
	b := sqlfilter.NewBuilder(d)
	where := "tenant_id = " + b.Arg(q.TenantID)
	for _, f := range []struct{ col, val string }{
		{"app_id", q.AppID}, {"source_id", q.SourceID}, {"action", q.Action}, {"status", q.Status},
	} {
		if f.val != "" {
			where += " AND " + f.col + " = " + b.Arg(f.val)
		}
	}
	if q.SourceName != "" {
		where += " AND " + nameKey(b.Arg(sqlfilter.FoldKey(q.SourceName)))
	}
	if !q.Since.IsZero() {
		where += " AND at >= " + b.Arg(sqlfilter.TimeKey(q.Since))
	}
	if !q.Until.IsZero() {
		where += " AND at < " + b.Arg(sqlfilter.TimeKey(q.Until))
	}
	if cur != nil {
		where += " AND (at, seq) < (" + b.Arg(cur.At) + ", " + b.Arg(cur.Seq) + ")"
	}
	limit := b.Arg(PageLimit(q.Limit))
	return `SELECT ` + LogReadColumns + ` FROM ` + from + ` WHERE ` + where +
		` ORDER BY at DESC, seq DESC LIMIT ` + limit, b.Args()
}

// PruneBatch is how many log records one write of PruneLogs deletes, so
// that a large prune neither holds other writes up for long nor becomes
// one long transaction.
const PruneBatch = 5000

// Prune deletes records with deleteBatch, a write that deletes at most
// PruneBatch of them and returns how many, until one deletes fewer, and
// returns how many were deleted.
func Prune(deleteBatch func() (int, error)) (int, error) {
	total := 0
	for {
		n, err := deleteBatch()
		if err != nil {
			return total, err
		}
		total += n
		if n < PruneBatch {
			return total, nil
		}
	}
}
