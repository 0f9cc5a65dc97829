package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/ferryid/ferry/internal/store"
	"github.com/ferryid/ferry/internal/store/sqlfilter"
)

// The job_states and job_leases tables: each application's job
// bookkeeping, and the lease that lets one process at a time run the job.

// JobStateColumns are the job_states columns ReadJobState reads.
const JobStateColumns = `watermark, state, updated_at`

// ReadJobState reads the one row of JobStateColumns that row holds, the
// state of the job of application appID; no row is a state never
// written: the zero JobState with AppID set.
func ReadJobState(row Row, appID string) (*store.JobState, error) {
	js := &store.JobState{AppID: appID}
	if err := row.Scan(&js.Watermark, &js.State, TextTime(&js.Updated)); err != nil && !NoRows(err) {
		return nil, err
	}
	return js, nil
}

// JobStateArgs are the arguments of the statement that writes js at now,
// by number: 1 app_id, 2 watermark, 3 state, 4 now (updated_at).
func JobStateArgs(js *store.JobState, now time.Time) []any {
	return []any{js.AppID, js.Watermark, JSONText(js.State), sqlfilter.TimeKey(now)}
}

// PutJobState is the flow of store.Provisioning.PutJobState in the
// backend called name, which its errors begin with: it checks js and
// fence before the write, runs write, which writes js (with JobStateArgs)
// in a write after checking there the fence it is given, if any (see
// CheckFence), and returns the write's time; and sets js.Updated to it
// once the write has committed.
func PutJobState(name string, js *store.JobState, fence []store.Lease, write func(fence *store.Lease) (time.Time, error)) error {
	var f *store.Lease
	return checkedWrite(func() (*store.JobState, error) {
		if err := CheckJSON("job state", js.State); err != nil {
			return nil, err
		}
		if len(fence) > 1 {
			return nil, fmt.Errorf("%s: write job state of application %s: %d fences, at most one", name, js.AppID, len(fence))
		}
		if len(fence) == 1 {
			f = &fence[0]
		}
		return js, nil
	}, func(*store.JobState) (time.Time, error) {
		return write(f)
	}, func(js *store.JobState, now time.Time) {
		js.Updated = now
	})
}

// LeaseColumns are the job_leases columns ReadLease reads.
const LeaseColumns = `owner, expires_at, generation`

// ReadLease reads the one row of LeaseColumns that row holds, the lease on
// the job of application appID; no row is a job never claimed: the zero
// Lease with AppID set.
func ReadLease(row Row, appID string) (store.Lease, error) {
	lease := store.Lease{AppID: appID}
	err := row.Scan(&lease.Owner, TextTime(&lease.Expires), &lease.Generation)
	return lease, NoRowsAs(err, nil)
}

// Tx is a write of a backend (a PostgreSQL transaction, a write in the
// SQLite store's batch) as the steps of this package that run inside one
// use it.
type Tx interface {
	// LeaseAt reads the lease on the job of application appID as the write
	// has it (locked, where the backend locks it) and the time to hold it
	// against, on the clock of the backend's leases.
	LeaseAt(ctx context.Context, appID string) (store.Lease, time.Time, error)
	// AppendLogs appends a batch of provisioning logs.
	AppendLogs(ctx context.Context, b *LogBatch) error
}

// CheckFence returns nil when there is no fence or when fence still
// holds the lease on the job of application appID as tx has it;
// otherwise store.CheckFence's error, or the error of reading the lease.
func CheckFence(ctx context.Context, tx Tx, appID string, fence *store.Lease) error {
	if fence == nil {
		return nil
	}
	cur, now, err := tx.LeaseAt(ctx, appID)
	if err != nil {
		return err
	}
	return store.CheckFence(cur, *fence, now)
}

// Fenced is the body of a write of links, provisioning logs or escrows in
// tx, of the backend called name, which its errors begin with. It checks
// the fence store.WithFence put in ctx, if any, in the write (see
// CheckFence), then runs fn, if any, the write of a link or an escrow,
// then appends b, if any, the logs that go with it.
func Fenced[T Tx](ctx context.Context, name string, tx T, b *LogBatch, fn func(T) error) error {
	if fence, ok := store.FenceFrom(ctx); ok {
		if err := CheckFence(ctx, tx, fence.AppID, &fence); err != nil {
			return fmt.Errorf("%s: write of application %s: %w", name, fence.AppID, err)
		}
	}
	if fn != nil {
		if err := fn(tx); err != nil {
			return err
		}
	}
	if b == nil {
		return nil
	}
	return tx.AppendLogs(ctx, b)
}
