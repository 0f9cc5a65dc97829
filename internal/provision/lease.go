package provision

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/ferryid/ferry/internal/store"
)

// A job runs in one process at a time: the one holding its lease in the
// database. The timings, for an operator (ferry serve --engine-lease-ttl
// sets the first; the others follow from it):
//
//   - the lease's TTL (30 s): a lease not renewed for this long expires,
//     and another process takes the job over at its next poll. A process
//     that died is replaced within about this long.
//   - renewal (every TTL/6, 5 s): the holder renews its lease this often,
//     so that a renewal failing now and then (a slow database) loses
//     nothing.
//   - the fence's margin (TTL/5, 6 s): by its own monotonic clock, the holder stops
//     acting this long before its lease would expire if its last renewal
//     were its last: no request to the target, no write of links, logs,
//     escrows or job state. A pause (a long GC, a frozen VM, SIGSTOP)
//     moves that clock on, so a process that wakes after its lease expired
//     finds out before it sends anything, not at its next renewal. The
//     margin covers the time between that check and a request reaching the
//     target, and clocks that run at slightly different rates.
//
// Writes of the job state, links, logs and escrows are also conditional on
// the lease in the database (its generation grows with every change of
// holder), checked in their own transaction, so a write that slipped past
// the check (a pause between the check and the write) is refused there.
// DefaultLeaseTTL is a job lease's TTL unless Options.LeaseTTL says
// otherwise.
const DefaultLeaseTTL = 30 * time.Second

// renewEvery is how often a job's lease of ttl is renewed.
func renewEvery(ttl time.Duration) time.Duration { return ttl / 6 }

// fence is a running job's right to act: the lease it holds and until
// when it may act, by this process's clock.
type fence struct {
	now func() time.Time
	// valid is how long after a claim the job may act: the lease's TTL
	// less the margin.
	valid time.Duration
	stop  context.CancelCauseFunc

	mu    sync.Mutex
	lease store.Lease
	until time.Time
	lost  error
}

// newFence returns the fence of a lease claimed at claimedAt (read before
// the claim was sent), which stop ends the job's cycle with once lost.
func newFence(now func() time.Time, ttl time.Duration, lease store.Lease, claimedAt time.Time, stop context.CancelCauseFunc) *fence {
	valid := ttl - ttl/5
	return &fence{now: now, valid: valid, stop: stop, lease: lease, until: claimedAt.Add(valid)}
}

// renewed records a renewal claimed at claimedAt. A lease of another
// generation is not a renewal: the job passed through other hands (or
// lapsed) in between, and this process must not act on what it knew.
func (f *fence) renewed(lease store.Lease, held bool, claimedAt time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.lost != nil {
		return
	}
	if !held || lease.Generation != f.lease.Generation {
		f.loseLocked()
		return
	}
	f.lease = lease
	f.until = claimedAt.Add(f.valid)
}

// check returns nil while the job may act, and errLeaseLost once it may
// not, ending the cycle then.
func (f *fence) check() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.lost == nil && !f.now().Before(f.until) {
		f.loseLocked()
	}
	return f.lost
}

// lose records that the lease is lost, as a write the database refused
// says.
func (f *fence) lose() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.lost == nil {
		f.loseLocked()
	}
}

func (f *fence) loseLocked() {
	f.lost = errLeaseLost
	f.stop(errLeaseLost)
}

// current returns the lease the job holds, for conditional writes.
func (f *fence) current() store.Lease {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lease
}

// guard checks the fence before a write of the job's records; a job
// without a fence (provision on demand) always may.
func (j *job) guard() error {
	if j.fence == nil {
		return nil
	}
	return j.fence.check()
}

// fenced reports whether err is the database refusing a write because the
// lease is lost, and records it.
func (j *job) fenced(err error) bool {
	if j.fence != nil && errors.Is(err, store.ErrLeaseLost) {
		j.fence.lose()
		return true
	}
	return false
}
