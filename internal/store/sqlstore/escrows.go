package sqlstore

import (
	"time"

	"github.com/ferryid/ferry/internal/store"
	"github.com/ferryid/ferry/internal/store/sqlfilter"
)

// The app_escrows table: the objects whose processing failed in an
// application, waiting to be tried again.

// EscrowColumns are the app_escrows columns ScanEscrow reads and
// PutEscrow writes.
const EscrowColumns = `app_id, source_type, source_id, source_name, attempts, retryable, next_try, first_failed, last_failed, record`

// ScanEscrow reads a row of EscrowColumns. A NULL next_try (an escrow that
// is not retryable) reads as the zero time.
func ScanEscrow(row Row) (*store.Escrow, error) {
	var e store.Escrow
	if err := row.Scan(&e.AppID, &e.SourceType, &e.SourceID, &e.SourceName, &e.Attempts, &e.Retryable,
		TextTime(&e.NextTry), TextTime(&e.FirstFailed), TextTime(&e.LastFailed), &e.Record); err != nil {
		return nil, err
	}
	return &e, nil
}

// PutEscrow is the flow of store.Provisioning.PutEscrow: it checks e
// before the write, runs write, which writes e in a write with the
// arguments that args returns for the write's time (see escrowArgs) and
// scans e's first_failed as stored into first; and sets e's times to what
// was stored once the write has committed.
func PutEscrow(e *store.Escrow, write func(args func(now time.Time) []any, first *time.Time) error) error {
	var first time.Time
	return checkedWrite(func() (*store.Escrow, error) {
		return e, CheckJSON("escrow record", e.Record)
	}, func(e *store.Escrow) (last time.Time, err error) {
		err = write(func(now time.Time) []any {
			var args []any
			args, last = escrowArgs(e, now)
			return args
		}, &first)
		return last, err
	}, func(e *store.Escrow, last time.Time) {
		e.FirstFailed, e.LastFailed = first, last
		if !e.Retryable {
			e.NextTry = time.Time{}
		}
	})
}

// escrowArgs are the arguments of the statement that writes e at now, by
// number, in the order of EscrowColumns: 1 app_id, 2 source_type,
// 3 source_id, 4 source_name, 5 attempts, 6 retryable, 7 next_try, 8
// first_failed, 9 last_failed, 10 record. first_failed is NULL when
// e.FirstFailed is zero, for the statement to keep the replaced escrow's
// or take last_failed; last_failed, returned too, is now when
// e.LastFailed is zero.
func escrowArgs(e *store.Escrow, now time.Time) (args []any, last time.Time) {
	if last = e.LastFailed; last.IsZero() {
		last = now
	}
	var first *string
	if !e.FirstFailed.IsZero() {
		f := sqlfilter.TimeKey(e.FirstFailed)
		first = &f
	}
	return []any{e.AppID, e.SourceType, e.SourceID, e.SourceName, e.Attempts, e.Retryable, escrowNextTry(e),
		first, sqlfilter.TimeKey(last), JSONText(e.Record)}, last
}

// escrowNextTry returns what an escrow's next_try is bound to: NULL for an
// escrow that is not retryable, which waits for a change rather than a
// time, and otherwise its NextTry, the zero time (due at once) included.
func escrowNextTry(e *store.Escrow) *string {
	if !e.Retryable {
		return nil
	}
	t := sqlfilter.TimeKey(e.NextTry)
	return &t
}

// EscrowsSQL returns the query of a page of an application's escrows that
// q selects, in (source_type, source_id) order. dueFrom is the table as
// the backend reads the due escrows (naming an index, say), retryable the
// backend's condition that an escrow is retryable.
func EscrowsSQL(d sqlfilter.Dialect, appID string, q store.EscrowQuery, dueFrom, retryable string) (string, []any) {
	b := sqlfilter.NewBuilder(d)
	from := "app_escrows"
	where := "app_id = " + b.Arg(appID) + " AND (source_type, source_id) > (" + b.Arg(q.AfterType) + ", " + b.Arg(q.AfterID) + ")"
	if !q.Due.IsZero() {
		from = dueFrom
		where += " AND " + retryable + " AND next_try <= " + b.Arg(sqlfilter.TimeKey(q.Due))
	}
	limit := b.Arg(PageLimit(q.Limit))
	return `SELECT ` + EscrowColumns + ` FROM ` + from + ` WHERE ` + where + ` ORDER BY source_type, source_id LIMIT ` + limit, b.Args()
}
