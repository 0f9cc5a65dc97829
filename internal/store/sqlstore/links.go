package sqlstore

import (
	"time"

	"github.com/ferryid/ferry/internal/store"
	"github.com/ferryid/ferry/internal/store/sqlfilter"
)

// The app_links table: what each directory object was created or matched
// as in an application.

// LinkColumns are the app_links columns ScanLink reads and LinkArgs
// writes.
const LinkColumns = `app_id, source_type, source_id, target_id, exported, created_at, updated_at`

// ScanLink reads a row of LinkColumns.
func ScanLink(row Row) (*store.Link, error) {
	var l store.Link
	if err := row.Scan(&l.AppID, &l.SourceType, &l.SourceID, &l.TargetID, &l.Exported,
		TextTime(&l.Created), TextTime(&l.Updated)); err != nil {
		return nil, err
	}
	return &l, nil
}

// ReadLink reads the one row of LinkColumns that row holds; no row is an
// ErrNotFound that says there is no link of what.
func ReadLink(row Row, what string) (*store.Link, error) {
	l, err := ScanLink(row)
	return l, NoRowsAs(err, store.NotFound("no link of %s", what))
}

// LinkArgs are the arguments of the statement that writes l at now, by
// number: 1 app_id, 2 source_type, 3 source_id, 4 target_id, 5 exported,
// 6 now (created_at of a new link, updated_at).
func LinkArgs(l *store.Link, now time.Time) []any {
	return []any{l.AppID, l.SourceType, l.SourceID, l.TargetID, JSONText(l.Exported), sqlfilter.TimeKey(now)}
}

// PutLink is the flow of store.Provisioning.PutLink: it checks l and logs
// before the write, runs write, which writes l (with LinkArgs) and
// appends the batch of logs in one write, scans l's created_at as stored
// into created and returns the write's time; and sets l's times and the
// logs' IDs and times once the write has committed.
func PutLink(l *store.Link, logs []*store.ProvisioningLog, write func(b *LogBatch, created *time.Time) (now time.Time, err error)) error {
	var created time.Time
	return checkedWrite(func() (*LogBatch, error) {
		if err := CheckJSON("exported record", l.Exported); err != nil {
			return nil, err
		}
		return NewLogBatch(logs)
	}, func(b *LogBatch) (time.Time, error) {
		return write(b, &created)
	}, func(b *LogBatch, now time.Time) {
		l.Created, l.Updated = created, now
		b.Done(now)
	})
}
