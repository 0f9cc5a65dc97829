package provision

import (
	"time"

	"github.com/ferryid/ferry/internal/scimclient"
)

// Observer is told what the engine does, for metrics (internal/metrics
// implements it): the engine names no metrics library. Its methods are
// called from the jobs' goroutines and must not block.
type Observer interface {
	// TargetRequest is told of every request to a target
	// (scimclient.Observer).
	scimclient.Observer
	// CycleEnded is one cycle ended in this process: its kind (initial,
	// full, incremental, retry, staged), how it ended (completed,
	// stopped, superseded, interrupted, quarantined, failed, lease_lost)
	// and how long this process ran it.
	CycleEnded(kind, outcome string, elapsed time.Duration)
	// ObjectProcessed is one object's log record: its action (create,
	// update, disable, delete, other) and status (success, failure,
	// skipped, warning).
	ObjectProcessed(action, status string)
	// Quarantine is an application's quarantine state after a cycle of its
	// job in this process.
	Quarantine(appID, app string, quarantined bool)
	// ChangeLag is the time from a directory change's commit to the
	// successful write to the target of the object it changed.
	ChangeLag(lag time.Duration)
}

type nopObserver struct{}

func (nopObserver) TargetRequest(string, int, time.Duration) {}
func (nopObserver) CycleEnded(string, string, time.Duration) {}
func (nopObserver) ObjectProcessed(string, string)           {}
func (nopObserver) Quarantine(string, string, bool)          {}
func (nopObserver) ChangeLag(time.Duration)                  {}

// cycleLeaseLost is how CycleEnded names a cycle this process stopped
// because another took the job's lease.
const cycleLeaseLost = "lease_lost"
