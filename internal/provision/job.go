package provision

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ferryid/ferry/internal/provision/expr"
	"github.com/ferryid/ferry/internal/scim/filter"
	"github.com/ferryid/ferry/internal/scim/resource"
	"github.com/ferryid/ferry/internal/scimclient"
	"github.com/ferryid/ferry/internal/store"
)

// jobState is the engine's JSON job state (store.JobState.State): what a
// restarted process, or another replica, needs to carry on. Only the
// process running the job writes it; administrators' requests reach the
// job through the application's control record (control.go).
type jobState struct {
	// InitialDone says the first full cycle completed.
	InitialDone bool `json:"initialDone"`
	// FullPending asks for a full cycle next; written by earlier versions
	// of Ferry, honoured once.
	FullPending bool `json:"fullPending,omitempty"`
	// FullVersion is the configuration version the last completed full
	// cycle provisioned.
	FullVersion int64 `json:"fullVersion,omitempty"`
	// ResetDone and RetryDone are the control record's ResetVersion and
	// Retry the job has acted on.
	ResetDone int64     `json:"resetDone,omitempty"`
	RetryDone int64     `json:"retryDone,omitempty"`
	LastFull  time.Time `json:"lastFull,omitzero"`
	// Full is the checkpoint of a full cycle in progress.
	Full    *fullCheckpoint `json:"full,omitempty"`
	Current *CycleStatus    `json:"current,omitempty"`
	Last    *CycleStatus    `json:"last,omitempty"`
	// Heartbeat is when the process running Current last saved its
	// progress: a Current whose heartbeat is old was interrupted.
	Heartbeat time.Time `json:"heartbeat,omitzero"`
	Totals    Counts    `json:"totals"`
	// PendingRefs are objects waiting for a referenced object (their
	// manager) to be provisioned: referenced source id -> dependents.
	PendingRefs map[string][]string `json:"pendingRefs,omitempty"`
	// Deferred are disables and deletes a cycle held and did not decide
	// yet (threshold.go); Staged those the threshold staged; Deprovisioned
	// when the disables and deletes within the threshold's window were
	// sent.
	Deferred      []heldAction `json:"deferred,omitempty"`
	Staged        *stagedSet   `json:"staged,omitempty"`
	Deprovisioned []time.Time  `json:"deprovisioned,omitempty"`
	// Quarantine holds the job back (quarantine.go); QuarantineVersion is
	// the configuration version it began on, ReleaseDone the control
	// record's Release the job acted on.
	Quarantine        *Quarantine `json:"quarantine,omitempty"`
	QuarantineVersion int64       `json:"quarantineVersion,omitempty"`
	ReleaseDone       int64       `json:"releaseDone,omitempty"`
	// LastDigest is when the last failure digest was sent.
	LastDigest time.Time `json:"lastDigest,omitzero"`
}

// fullDue reports whether the job's next cycle must be a full one.
func (s *jobState) fullDue(c control) bool {
	return !s.InitialDone || s.FullPending || s.FullVersion != c.ConfigVersion || s.ResetDone < c.ResetVersion || s.Full != nil
}

// fullCheckpoint is how far a full cycle got, so that a stop or a crash
// resumes it rather than starting over.
type fullCheckpoint struct {
	CycleID string `json:"cycleId"`
	Kind    string `json:"kind"`
	// ConfigVersion is the configuration version the cycle provisions; a
	// checkpoint of an older version is not resumed.
	ConfigVersion int64 `json:"configVersion"`
	// Watermark is the change-feed position when the cycle started: the
	// incremental cycles after it continue from there.
	Watermark int64 `json:"watermark"`
	// Phase is the object type being read ("User", "Group"), then the
	// type whose links are being looked at ("links:User").
	Phase string `json:"phase"`
	// After is the last source id of Phase done.
	After string `json:"after"`
	// Progress is the cycle's status at the checkpoint, which a resumed
	// cycle carries on from.
	Progress CycleStatus `json:"progress"`
}

// job is one application's job while a cycle runs. One goroutine runs a
// job's cycles; the objects of a page are processed in parallel.
type job struct {
	e      *Engine
	app    *store.App
	cfg    *compiled
	client *scimclient.Client
	log    *slog.Logger

	// version is the configuration version the job was opened on;
	// superseded is set when a newer one is saved, and the cycle ends at
	// its next page.
	version    int64
	control    control
	superseded atomic.Bool

	// saveMu orders the writes of the job state: the cycle's checkpoints
	// and the supervisor's progress saves.
	saveMu  sync.Mutex
	stateMu sync.Mutex
	state   *jobState
	stored  *store.JobState
	// pass is the running cycle's pass, whose counts the progress shows.
	pass *pass
	// fence is the job's right to act (its lease); nil for provision on
	// demand, which acts for the administrator, not for the job.
	fence *fence
	// stop ends the running cycle with a cause; nil on demand.
	stop context.CancelCauseFunc
	// dry says the job plans (plan.go): it stores nothing.
	dry bool
	// escrows are the application's objects in escrow when the cycle
	// began, read once (loadEscrows); assignedSet the assigned objects of
	// each type, read once (assignedKeys).
	escrows     map[objectKey]*escrowed
	assignedSet map[string][]objectKey
	// progress is the running cycle's status before its pass began
	// (counts carried over from before a stop or a crash).
	progress CycleStatus

	// assigned caches the application's assignments for a cycle.
	assignedOnce sync.Once
	assigned     map[objectKey]bool
	assignedErr  error
}

// object returns the enabled mapping of a source type, or nil.
func (c *compiled) object(typ string) *compiledObject {
	for _, co := range c.objects {
		if co.SourceType == typ {
			return co
		}
	}
	return nil
}

// inScope decides whether a directory object is in the application's
// scope, and says why in words for the log.
func (j *job) inScope(ctx context.Context, co *compiledObject, r *store.Resource, doc resource.Document) (bool, string, error) {
	var why []string
	if j.cfg.Scope == ScopeAssigned {
		ok, err := j.isAssigned(ctx, r)
		if err != nil {
			return false, "", err
		}
		if !ok {
			return false, reasonUnassigned, nil
		}
		why = append(why, "assigned to the application")
	} else {
		why = append(why, "every object is in scope (scope: all)")
	}
	if co.scoping != nil {
		ok, err := co.scoping.Match(expr.DocumentSource{Doc: doc, Type: co.source})
		if err != nil {
			return false, "", err
		}
		if !ok {
			return false, reasonOutOfScope, nil
		}
		if len(co.Scoping) > 0 {
			why = append(why, "passes the scoping filters")
		}
	}
	return true, strings.Join(why, "; "), nil
}

// isAssigned reports whether a user is assigned directly or as a direct
// member of an assigned group, or a group is assigned.
func (j *job) isAssigned(ctx context.Context, r *store.Resource) (bool, error) {
	j.assignedOnce.Do(func() {
		as, err := j.e.store.Assignments(ctx, j.app.TenantID, j.app.ID)
		if err != nil {
			j.assignedErr = err
			return
		}
		j.assigned = map[objectKey]bool{}
		for _, a := range as {
			if j.cfg.roleProvisioned(a.Role) {
				j.assigned[objectKey{a.PrincipalType, a.PrincipalID}] = true
			}
		}
	})
	if j.assignedErr != nil {
		return false, j.assignedErr
	}
	if j.assigned[objectKey{r.Type, r.ID}] {
		return true, nil
	}
	if r.Type == store.UserType {
		for _, g := range r.Groups {
			if j.assigned[objectKey{store.GroupType, g.ID}] {
				return true, nil
			}
		}
	}
	return false, nil
}

// saveState writes the job state with the running cycle's progress. It
// writes even when ctx is done: a stopped cycle records where it stopped.
func (j *job) saveState(ctx context.Context) error {
	if j.dry {
		return nil
	}
	j.saveMu.Lock()
	defer j.saveMu.Unlock()
	if err := j.guard(); err != nil {
		return err
	}
	j.stateMu.Lock()
	j.refreshProgress()
	if j.state.Current != nil {
		j.state.Heartbeat = j.e.clock.Now().UTC()
	}
	b, err := json.Marshal(j.state)
	stored := *j.stored
	j.stateMu.Unlock()
	if err != nil {
		return err
	}
	stored.State = b
	var fences []store.Lease
	if j.fence != nil {
		fences = append(fences, j.fence.current())
	}
	if err := j.e.store.PutJobState(context.WithoutCancel(ctx), &stored, fences...); err != nil {
		if j.fenced(err) {
			return errLeaseLost
		}
		return fmt.Errorf("save the job state: %w", err)
	}
	return nil
}

// refreshProgress brings the running cycle's status up to date with its
// pass. The caller holds stateMu.
func (j *job) refreshProgress() {
	cur, p := j.state.Current, j.pass
	if cur == nil || p == nil {
		return
	}
	p.mu.Lock()
	counts := p.counts
	added := p.added
	p.mu.Unlock()
	cur.Counts = j.progress.Counts
	cur.Counts.add(counts)
	cur.Processed = cur.Counts.Sum()
	cur.Total = max(j.progress.Total+added, cur.Processed)
	running := j.e.clock.Now().Sub(p.passStarted)
	cur.DurationMs = j.progress.DurationMs + running.Milliseconds()
	cur.Percent, cur.EtaSeconds = 100, 0
	if cur.Total > 0 {
		cur.Percent = cur.Processed * 100 / cur.Total
	}
	// The rate of this pass, not of the whole cycle: a resumed cycle's
	// earlier rate says nothing about now.
	if done := cur.Counts.Sum() - j.progress.Counts.Sum(); done >= 10 && running >= 250*time.Millisecond {
		left := cur.Total - cur.Processed
		cur.EtaSeconds = int64(float64(left) * running.Seconds() / float64(done))
	}
}

// pageSize is how many directory objects a cycle reads and processes at a
// time; a checkpoint follows each page.
const pageSize = 200

// runPage processes objects in parallel, at most the Engine's worker
// count at once, then writes their log records. Once ctx is done (a stop,
// a lost lease, a shutdown) no object is started; those running finish.
func (j *job) runPage(ctx context.Context, p *pass, keys []objectKey) error {
	sem := make(chan struct{}, j.e.workers)
	var wg sync.WaitGroup
	for _, k := range keys {
		if ctx.Err() != nil {
			break
		}
		if !p.claim(k) {
			continue
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			o := p.object(ctx, k.typ, k.id)
			if o.interrupted {
				p.unclaim(k) // not processed: the resumed cycle does it
				return
			}
			if o.held {
				return // a disable or delete, decided at the cycle's end
			}
			p.record(o)
			if j.dry {
				if o.record != nil && o.record.Status == StatusFailure {
					p.plannedFailure(o.record)
				}
				return
			}
			p.settle(ctx, k, o)
			p.observeLag(k, o)
			if !p.onDemand && quarantinesAtOnce(o.record) {
				j.quarantineNow(o.record)
			}
			if o.linked {
				j.linkedFollowUps(p, k, o.groups)
			}
		})
	}
	wg.Wait()
	// What was read with the page is not to be trusted by later passes.
	p.mu.Lock()
	p.loaded = nil
	p.mu.Unlock()
	if err := j.flush(ctx, p); err != nil {
		return err
	}
	// A page cut short by a stop is not done: its checkpoint must not move.
	return ctx.Err()
}

// linkedFollowUps schedules what a newly linked object unblocks: objects
// waiting for it as their manager, and the groups it is a member of, whose
// membership can now include it.
func (j *job) linkedFollowUps(p *pass, k objectKey, groups []string) {
	j.stateMu.Lock()
	deps := j.state.PendingRefs[k.id]
	delete(j.state.PendingRefs, k.id)
	j.stateMu.Unlock()
	for _, d := range deps {
		p.followUp(objectKey{store.UserType, d})
	}
	if j.cfg.object(store.GroupType) != nil {
		for _, g := range groups {
			p.followUp(objectKey{store.GroupType, g})
		}
	}
}

// runFollowUps processes the objects follow-ups named until there are
// none: a group whose member was just created, a user whose manager was.
// They add to the cycle's total.
func (j *job) runFollowUps(ctx context.Context, p *pass) error {
	for round := 0; round < 5; round++ {
		if err := j.pendingLinked(ctx, p); err != nil {
			return err
		}
		p.mu.Lock()
		keys := make([]objectKey, 0, len(p.followUps))
		for k := range p.followUps {
			keys = append(keys, k)
		}
		p.followUps = map[objectKey]bool{}
		p.mu.Unlock()
		if len(keys) == 0 {
			return nil
		}
		// Users first: a group's membership needs its members linked.
		slices.SortFunc(keys, func(a, b objectKey) int {
			if a.typ != b.typ {
				return strings.Compare(b.typ, a.typ)
			}
			return strings.Compare(a.id, b.id)
		})
		p.mu.Lock()
		for _, k := range keys {
			delete(p.processed, k)
		}
		p.added += len(keys)
		p.mu.Unlock()
		for len(keys) > 0 {
			n := min(len(keys), pageSize)
			if err := j.runPage(ctx, p, keys[:n]); err != nil {
				return err
			}
			keys = keys[n:]
		}
	}
	return nil
}

// pendingLinked follows up the objects waiting for a reference that is
// linked now. Objects processed in parallel can miss each other: the
// dependent finds its manager unlinked, and the manager, linked a moment
// later, finds no dependent waiting yet.
func (j *job) pendingLinked(ctx context.Context, p *pass) error {
	j.stateMu.Lock()
	refs := make([]string, 0, len(j.state.PendingRefs))
	for id := range j.state.PendingRefs {
		refs = append(refs, id)
	}
	j.stateMu.Unlock()
	for _, id := range refs {
		l, err := j.e.store.Link(ctx, j.app.ID, store.UserType, id)
		if errors.Is(err, store.ErrNotFound) || (err == nil && l.TargetID == "") {
			continue
		}
		if err != nil {
			return err
		}
		j.stateMu.Lock()
		deps := j.state.PendingRefs[id]
		delete(j.state.PendingRefs, id)
		j.stateMu.Unlock()
		for _, d := range deps {
			p.followUp(objectKey{store.UserType, d})
		}
	}
	return nil
}

// flush writes a pass's log records so far (those not written with their
// link already).
func (j *job) flush(ctx context.Context, p *pass) error {
	if j.dry {
		p.mu.Lock()
		p.records = nil
		p.mu.Unlock()
		return nil
	}
	if err := j.guard(); err != nil {
		return err
	}
	p.mu.Lock()
	records := p.records
	p.records = nil
	p.mu.Unlock()
	if err := j.e.writeLogs(ctx, j.app, records); err != nil {
		if j.fenced(err) {
			return errLeaseLost
		}
		return err
	}
	return nil
}

// checkpoint records that a page is done: a full cycle's position, the
// progress, the job state. It then says whether the cycle goes on: not
// once it was stopped or a newer configuration was saved.
func (j *job) checkpoint(ctx context.Context, move func()) error {
	j.stateMu.Lock()
	move()
	j.keepHeldLocked()
	if cp := j.state.Full; cp != nil && j.state.Current != nil && cp.CycleID == j.state.Current.ID {
		j.refreshProgress()
		cp.Progress = *j.state.Current
	}
	j.stateMu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := j.saveState(ctx); err != nil {
		return err
	}
	if j.superseded.Load() {
		return errSuperseded
	}
	return nil
}

// --- cycles ------------------------------------------------------------------

// Cycle kinds.
const (
	kindInitial     = "initial"
	kindFull        = "full"
	kindIncremental = "incremental"
	// kindRetry is an incremental cycle that also retries every object in
	// escrow, after ferry apps retry, or a quarantined job's attempt.
	kindRetry = "retry"
	// kindStaged applies or drops the disables and deletes the
	// accidental-deletion threshold staged.
	kindStaged = "staged"
)

// Cycle states.
const (
	cycleRunning     = "running"
	cycleCompleted   = "completed"
	cycleStopped     = "stopped"
	cycleSuperseded  = "superseded"
	cycleInterrupted = "interrupted"
	cycleQuarantined = "quarantined"
	cycleFailed      = "failed"
)

// Why a cycle ends early.
var (
	errStopped    = errors.New("provisioning was turned Off")
	errSuperseded = errors.New("a newer configuration was saved; a full cycle on it follows")
	errLeaseLost  = errors.New("the job's lease was lost to another process")
)

// beginCycle makes status the running cycle: a new one, or one resumed
// from its checkpoint's progress. A cycle its process left running (it
// died) becomes the last cycle, interrupted, unless it is the one resumed.
func (j *job) beginCycle(ctx context.Context, status CycleStatus) (*pass, error) {
	escrows, err := j.loadEscrows(ctx)
	if err != nil {
		return nil, err
	}
	j.leaveQuarantine()
	p := newPass(j, status.ID)
	p.configVersion = j.version
	p.escrows = escrows
	p.cycleStarted = status.Started
	p.passStarted = j.e.clock.Now()
	j.stateMu.Lock()
	if old := j.state.Current; old != nil && old.ID != status.ID {
		old.State = cycleInterrupted
		j.state.Last = old
	}
	cur := status
	cur.State, cur.Ended, cur.Error = cycleRunning, time.Time{}, ""
	j.state.Current = &cur
	j.progress = status
	j.pass = p
	j.stateMu.Unlock()
	return p, j.saveState(ctx)
}

// endCycle records the running cycle as the last one, in the state its
// error says, and returns the error unless the cycle ended as asked (a
// stop, a newer configuration).
func (j *job) endCycle(ctx context.Context, p *pass, cycleErr error) error {
	state := cycleCompleted
	cause := context.Cause(ctx)
	switch {
	case cycleErr == nil:
	case errors.Is(cause, errLeaseLost):
		// Another process runs the job now: what this one knows is stale,
		// and it must not write the job state over the new holder's.
		j.log.Warn("cycle interrupted", "app", j.app.Name, "cycle", p.cycleID, "err", cause)
		if cur := j.currentKind(); cur != "" {
			j.e.obs.CycleEnded(cur, cycleLeaseLost, j.e.clock.Now().Sub(p.passStarted))
		}
		return cause
	case errors.Is(cause, errStopped):
		state = cycleStopped
	case errors.Is(cause, errQuarantined):
		state = cycleQuarantined
	case errors.Is(cycleErr, errSuperseded):
		state = cycleSuperseded
	case ctx.Err() != nil:
		state = cycleInterrupted
	default:
		state = cycleFailed
	}
	j.stateMu.Lock()
	j.refreshProgress()
	cur := j.state.Current
	if cur != nil {
		cur.State = state
		cur.Ended = j.e.clock.Now().UTC()
		cur.EtaSeconds = 0
		if state == cycleFailed {
			cur.Error = cycleErr.Error()
		}
		p.mu.Lock()
		j.state.Totals.add(p.counts)
		p.mu.Unlock()
		j.state.Last = cur
		j.state.Current = nil
	}
	if state == cycleSuperseded {
		j.state.Full = nil // the newer configuration's full cycle starts over
	}
	if state != cycleCompleted {
		j.keepHeldLocked() // undecided: the next cycle decides them
	}
	j.pass = nil
	quarantined := j.state.Quarantine != nil
	j.stateMu.Unlock()
	j.e.obs.Quarantine(j.app.ID, j.app.Name, quarantined)
	if cur != nil {
		j.e.obs.CycleEnded(cur.Kind, state, j.e.clock.Now().Sub(p.passStarted))
		j.log.Info("cycle ended", "app", j.app.Name, "kind", cur.Kind, "cycle", cur.ID, "state", state,
			"durationMs", cur.DurationMs, "processed", cur.Processed, "total", cur.Total,
			"created", cur.Counts.Created, "updated", cur.Counts.Updated, "disabled", cur.Counts.Disabled,
			"deleted", cur.Counts.Deleted, "failed", cur.Counts.Failed, "err", cycleErr)
	}
	saveErr := j.saveState(ctx)
	if state == cycleStopped || state == cycleSuperseded || state == cycleQuarantined {
		return saveErr
	}
	return errors.Join(cycleErr, saveErr)
}

// currentKind is the kind of the running cycle, or "".
func (j *job) currentKind() string {
	j.stateMu.Lock()
	defer j.stateMu.Unlock()
	if j.state.Current == nil {
		return ""
	}
	return j.state.Current.Kind
}

// latestSeq returns the position of the last change-feed entry of the
// tenant, reading from the job's watermark, and the store's
// *store.PrunedError when entries after the watermark were deleted by
// retention (it then reads on from the oldest entry kept).
func (j *job) latestSeq(ctx context.Context) (int64, *store.PrunedError, error) {
	seq := j.watermark()
	var lost *store.PrunedError
	for {
		cs, err := j.e.store.Changes(ctx, j.app.TenantID, seq, 5000)
		if pe, ok := errors.AsType[*store.PrunedError](err); ok && lost == nil {
			lost, seq = pe, pe.Horizon
			continue
		}
		if err != nil {
			return 0, nil, err
		}
		if len(cs) == 0 {
			return seq, lost, nil
		}
		seq = cs[len(cs)-1].Seq
	}
}

func (j *job) watermark() int64 {
	j.stateMu.Lock()
	defer j.stateMu.Unlock()
	return j.stored.Watermark
}

// reset forgets what the job knows of the target (its links, escrows,
// watermark and pending references), as Entra's "clear current state and
// restart": the next full cycle matches every object anew.
func (j *job) reset(ctx context.Context) error {
	links, err := j.e.store.DeleteLinks(ctx, j.app.ID)
	if err != nil {
		return fmt.Errorf("reset: %w", err)
	}
	escrows, err := j.e.store.DeleteEscrows(ctx, j.app.ID)
	if err != nil {
		return fmt.Errorf("reset: %w", err)
	}
	j.stateMu.Lock()
	j.state.InitialDone = false
	j.state.Full = nil
	j.state.PendingRefs = nil
	j.state.ResetDone = j.control.ResetVersion
	j.stored.Watermark = 0
	j.stateMu.Unlock()
	j.log.Info("job reset", "app", j.app.Name, "links", links, "escrows", escrows)
	return j.saveState(ctx)
}

// runFull runs (or resumes) a full cycle: every object in scope is
// matched, created, or brought in line with the target as it is, and every
// linked object out of scope or gone is disabled or deleted.
func (j *job) runFull(ctx context.Context) error {
	if j.state.ResetDone < j.control.ResetVersion {
		if err := j.reset(ctx); err != nil {
			return err
		}
	}
	j.stateMu.Lock()
	cp := j.state.Full
	j.stateMu.Unlock()
	if cp != nil && cp.ConfigVersion != j.version {
		cp = nil // a checkpoint of an older configuration: start over
	}
	if cp == nil {
		kind := kindFull
		if !j.state.InitialDone {
			kind = kindInitial
		}
		w, lost, err := j.latestSeq(ctx)
		if err != nil {
			return err
		}
		reason := ""
		if lost != nil {
			// The job cannot go on incrementally: its watermark is behind
			// what the change feed keeps.
			reason = fmt.Sprintf("the directory's changes after the job's watermark %d, up to %d, were deleted by the server's event retention (--events-retention); this full cycle brings the target in line instead",
				lost.After, lost.Horizon)
			j.log.Warn("change feed pruned past the job's watermark: running a full cycle", "app", j.app.Name,
				"watermark", lost.After, "horizon", lost.Horizon)
		}
		total, err := j.fullTotal(ctx)
		if err != nil {
			return err
		}
		id := store.NewID()
		// A new full cycle looks at every object again: what an earlier
		// one held and did not decide is held again if it still applies.
		j.stateMu.Lock()
		j.state.Deferred = nil
		j.stateMu.Unlock()
		cp = &fullCheckpoint{CycleID: id, Kind: kind, ConfigVersion: j.version, Watermark: w,
			Progress: CycleStatus{ID: id, Kind: kind, ConfigVersion: j.version, Started: j.e.clock.Now().UTC(), Total: total, Reason: reason}}
	} else {
		cp.Progress.Resumed++
	}
	j.stateMu.Lock()
	j.state.Full = cp
	j.stateMu.Unlock()
	p, err := j.beginCycle(ctx, cp.Progress)
	if err != nil {
		return err
	}
	p.reconcile = true
	err = j.full(ctx, p, cp)
	if err == nil {
		err = j.runFollowUps(ctx, p)
	}
	if err == nil {
		err = j.finishCycle(ctx, p)
	}
	if err == nil {
		j.stateMu.Lock()
		j.state.Full = nil
		j.state.FullPending = false
		j.state.InitialDone = true
		j.state.FullVersion = cp.ConfigVersion
		// A full cycle tried every object in escrow.
		j.state.RetryDone = j.control.Retry
		j.state.LastFull = j.e.clock.Now().UTC()
		if cp.Watermark > j.stored.Watermark {
			j.stored.Watermark = cp.Watermark
		}
		j.stateMu.Unlock()
	}
	return j.endCycle(ctx, p, err)
}

// fullTotal counts the objects a full cycle examines: the directory's
// objects in the scope (every object of a mapped type, or the assigned
// ones) and the linked objects outside it, which are disabled or deleted.
func (j *job) fullTotal(ctx context.Context) (int, error) {
	total := 0
	for _, co := range j.cfg.objects {
		if j.cfg.Scope == ScopeAll {
			page, err := j.e.store.Query(ctx, j.app.TenantID, co.SourceType, store.Query{})
			if err != nil {
				return 0, fmt.Errorf("count the directory: %w", err)
			}
			lc, err := j.e.store.CountLinks(ctx, j.app.TenantID, j.app.ID, co.SourceType)
			if err != nil {
				return 0, fmt.Errorf("count the links: %w", err)
			}
			total += page.Total + lc.Orphaned
			continue
		}
		keys, err := j.assignedKeys(ctx, co.SourceType)
		if err != nil {
			return 0, err
		}
		in := make(map[string]bool, len(keys))
		for _, k := range keys {
			in[k.id] = true
		}
		total += len(keys)
		for after := ""; ; {
			links, err := j.e.store.Links(ctx, j.app.ID, co.SourceType, after, 1000)
			if err != nil {
				return 0, fmt.Errorf("count the links: %w", err)
			}
			for _, l := range links {
				if !in[l.SourceID] {
					total++
				}
			}
			if len(links) < 1000 {
				break
			}
			after = links[len(links)-1].SourceID
		}
	}
	return total, nil
}

func (j *job) full(ctx context.Context, p *pass, cp *fullCheckpoint) error {
	if err := j.prematch(ctx, p); err != nil {
		j.log.Warn("listing the target failed; matching and reading linked objects one by one instead", "app", j.app.Name, "err", err)
	}
	// The directory's objects of each type, then the links of each type.
	phases := []string{}
	for _, co := range j.cfg.objects {
		phases = append(phases, co.SourceType)
	}
	for _, co := range j.cfg.objects {
		phases = append(phases, linksPhase+co.SourceType)
	}
	start := slices.Index(phases, cp.Phase)
	if start < 0 {
		start = 0
		j.stateMu.Lock()
		cp.After = ""
		j.stateMu.Unlock()
	}
	for _, phase := range phases[start:] {
		j.stateMu.Lock()
		if cp.Phase != phase {
			cp.Phase, cp.After = phase, ""
		}
		j.stateMu.Unlock()
		var err error
		if typ, ok := strings.CutPrefix(phase, linksPhase); ok {
			err = j.linkPass(ctx, p, typ, cp)
		} else if j.cfg.Scope == ScopeAssigned {
			err = j.assignedPass(ctx, p, phase, cp)
		} else {
			err = j.directoryPass(ctx, p, phase, cp)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// directoryPass reads every object of a type in id order, a page at a
// time, checkpointing after each.
func (j *job) directoryPass(ctx context.Context, p *pass, typ string, cp *fullCheckpoint) error {
	for {
		j.stateMu.Lock()
		after := cp.After
		j.stateMu.Unlock()
		q := store.Query{SortBy: "id", Count: pageSize, ReadOptions: store.ReadOptions{Members: true}}
		if after != "" {
			f, err := idAfter(after)
			if err != nil {
				return err
			}
			q.Filter = f
		}
		page, err := j.e.store.Query(ctx, j.app.TenantID, typ, q)
		if err != nil {
			return fmt.Errorf("read the directory: %w", err)
		}
		keys := make([]objectKey, len(page.Resources))
		for i, r := range page.Resources {
			keys[i] = objectKey{typ, r.ID}
		}
		if err := p.preload(ctx, typ, after, page.Resources); err != nil {
			return err
		}
		if err := j.runPage(ctx, p, keys); err != nil {
			return err
		}
		if len(keys) == 0 || len(keys) < pageSize {
			return nil
		}
		if err := j.checkpoint(ctx, func() { cp.After = keys[len(keys)-1].id }); err != nil {
			return err
		}
	}
}

// assignedKeys returns the assigned objects of a type in id order:
// assigned users and the direct members of assigned groups, or assigned
// groups. Assignments of a role that is not provisioned do not count.
func (j *job) assignedKeys(ctx context.Context, typ string) ([]objectKey, error) {
	if keys, ok := j.assignedSet[typ]; ok {
		return keys, nil
	}
	as, err := j.e.store.Assignments(ctx, j.app.TenantID, j.app.ID)
	if err != nil {
		return nil, err
	}
	var keys []objectKey
	seen := map[string]bool{}
	add := func(id string) {
		if !seen[id] {
			seen[id] = true
			keys = append(keys, objectKey{typ, id})
		}
	}
	for _, a := range as {
		if !j.cfg.roleProvisioned(a.Role) {
			continue
		}
		switch {
		case a.PrincipalType == typ:
			add(a.PrincipalID)
		case typ == store.UserType && a.PrincipalType == store.GroupType:
			g, err := j.e.store.Get(ctx, j.app.TenantID, store.GroupType, a.PrincipalID, store.ReadOptions{Members: true})
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return nil, err
			}
			for _, m := range g.Members {
				if m.Type == store.UserType {
					add(m.ID)
				}
			}
		}
	}
	slices.SortFunc(keys, func(a, b objectKey) int { return strings.Compare(a.id, b.id) })
	if j.assignedSet == nil {
		j.assignedSet = map[string][]objectKey{}
	}
	j.assignedSet[typ] = keys
	return keys, nil
}

// assignedPass processes the assigned objects of a type, a page at a
// time, checkpointing after each.
func (j *job) assignedPass(ctx context.Context, p *pass, typ string, cp *fullCheckpoint) error {
	keys, err := j.assignedKeys(ctx, typ)
	if err != nil {
		return err
	}
	j.stateMu.Lock()
	after := cp.After
	j.stateMu.Unlock()
	i, _ := slices.BinarySearchFunc(keys, after, func(k objectKey, after string) int { return strings.Compare(k.id, after) })
	if after != "" && i < len(keys) && keys[i].id == after {
		i++
	}
	keys = keys[i:]
	for len(keys) > 0 {
		n := min(len(keys), pageSize)
		if err := j.runPage(ctx, p, keys[:n]); err != nil {
			return err
		}
		last := keys[n-1].id
		keys = keys[n:]
		if err := j.checkpoint(ctx, func() { cp.After = last }); err != nil {
			return err
		}
	}
	return nil
}

// linksPhase prefixes the phases of a full cycle that look at the links
// of a type ("links:User").
const linksPhase = "links:"

// linkPass looks at every linked object of a type outside the scope the
// directory phases covered: it left the scope (disable) or the directory
// (delete). Linked objects in that scope were processed by those phases,
// in this run of the cycle or before it was resumed.
func (j *job) linkPass(ctx context.Context, p *pass, typ string, cp *fullCheckpoint) error {
	var assigned map[string]bool
	if j.cfg.Scope == ScopeAssigned {
		keys, err := j.assignedKeys(ctx, typ)
		if err != nil {
			return err
		}
		assigned = make(map[string]bool, len(keys))
		for _, k := range keys {
			assigned[k.id] = true
		}
	}
	j.stateMu.Lock()
	after := cp.After
	j.stateMu.Unlock()
	for {
		links, err := j.e.store.Links(ctx, j.app.ID, typ, after, pageSize)
		if err != nil {
			return err
		}
		var keys []objectKey
		for _, l := range links {
			k := objectKey{typ, l.SourceID}
			if p.isProcessed(k) {
				continue
			}
			if assigned != nil {
				if assigned[l.SourceID] {
					continue
				}
			} else if _, err := j.e.store.Get(ctx, j.app.TenantID, typ, l.SourceID, store.ReadOptions{}); err == nil {
				continue
			} else if !errors.Is(err, store.ErrNotFound) {
				return err
			}
			keys = append(keys, k)
		}
		if err := j.runPage(ctx, p, keys); err != nil {
			return err
		}
		if len(links) < pageSize {
			return nil
		}
		after = links[len(links)-1].SourceID
		if err := j.checkpoint(ctx, func() { cp.After = after }); err != nil {
			return err
		}
	}
}

// maxIncremental bounds the change-feed entries one incremental cycle
// takes on; the next cycle carries on from its watermark.
const maxIncremental = 50000

// changePage is a page of change-feed entries, as the objects to process.
type changePage struct {
	keys []objectKey
	seq  int64 // the last entry's position
	// at is when each key's first change in the page was committed.
	at map[objectKey]time.Time
}

// changePages reads the change feed after the watermark, at most
// maxIncremental entries, into pages of the objects to process: each
// object once per page, only the mapped types, with the direct members of
// a group assigned or unassigned.
func (j *job) changePages(ctx context.Context) ([]changePage, error) {
	var pages []changePage
	seq := j.watermark()
	for read := 0; read < maxIncremental; {
		cs, err := j.e.store.Changes(ctx, j.app.TenantID, seq, 500)
		if err != nil {
			return nil, fmt.Errorf("read the change feed: %w", err)
		}
		if len(cs) == 0 {
			break
		}
		read += len(cs)
		seq = cs[len(cs)-1].Seq
		var users, groups []objectKey
		seen := map[objectKey]bool{}
		at := map[objectKey]time.Time{}
		for _, c := range cs {
			k := objectKey{c.Type, c.ID}
			if seen[k] {
				continue
			}
			seen[k] = true
			at[k] = c.At
			if c.Type == store.UserType {
				if j.cfg.object(store.UserType) != nil {
					users = append(users, k)
				}
				continue
			}
			if j.cfg.object(store.GroupType) != nil {
				groups = append(groups, k)
			}
			// A group assigned or unassigned changes the scope of its
			// direct members.
			if c.Op == store.OpAssignment && j.cfg.Scope == ScopeAssigned && j.cfg.object(store.UserType) != nil {
				g, gerr := j.e.store.Get(ctx, j.app.TenantID, store.GroupType, c.ID, store.ReadOptions{Members: true})
				if gerr == nil {
					for _, m := range g.Members {
						if k := (objectKey{m.Type, m.ID}); m.Type == store.UserType && !seen[k] {
							seen[k] = true
							at[k] = c.At
							users = append(users, k)
						}
					}
				}
			}
		}
		pages = append(pages, changePage{keys: append(users, groups...), seq: seq, at: at})
		if len(cs) < 500 {
			break
		}
	}
	return pages, nil
}

// runIncremental processes the change feed after the job's watermark, a
// page at a time, moving the watermark after each, then the objects in
// escrow that are due (every one of them for a retry cycle).
func (j *job) runIncremental(ctx context.Context, retryAll bool) error {
	pages, err := j.changePages(ctx)
	if err != nil {
		return err
	}
	retries, err := j.escrowKeys(ctx, retryAll)
	if err != nil {
		return err
	}
	total := len(retries)
	for _, pg := range pages {
		total += len(pg.keys)
	}
	kind := kindIncremental
	if retryAll {
		kind = kindRetry
	}
	p, err := j.beginCycle(ctx, CycleStatus{ID: store.NewID(), Kind: kind, ConfigVersion: j.version, Started: j.e.clock.Now().UTC(), Total: total})
	if err != nil {
		return err
	}
	p.retrying = retryAll
	err = func() error {
		for _, pg := range pages {
			// Each page starts afresh: an object changed again later in
			// the feed is processed again.
			p.mu.Lock()
			p.processed = map[objectKey]bool{}
			if p.changedAt == nil {
				p.changedAt = map[objectKey]time.Time{}
			}
			for k, at := range pg.at {
				if _, ok := p.changedAt[k]; !ok {
					p.changedAt[k] = at
				}
			}
			p.mu.Unlock()
			if err := j.runPage(ctx, p, pg.keys); err != nil {
				return err
			}
			if err := j.runFollowUps(ctx, p); err != nil {
				return err
			}
			if err := j.checkpoint(ctx, func() { j.stored.Watermark = pg.seq }); err != nil {
				return err
			}
		}
		p.mu.Lock()
		p.processed = map[objectKey]bool{}
		p.mu.Unlock()
		for len(retries) > 0 {
			n := min(len(retries), pageSize)
			if err := j.runPage(ctx, p, retries[:n]); err != nil {
				return err
			}
			retries = retries[n:]
		}
		if err := j.runFollowUps(ctx, p); err != nil {
			return err
		}
		return j.finishCycle(ctx, p)
	}()
	if err == nil && retryAll {
		j.stateMu.Lock()
		j.state.RetryDone = j.control.Retry
		j.stateMu.Unlock()
	}
	return j.endCycle(ctx, p, err)
}

// idAfter is the filter "id gt after".
func idAfter(after string) (filter.Expr, error) {
	b, _ := json.Marshal(after)
	return filter.Parse("id gt " + string(b))
}

// finishCycle is the end of a cycle that looked at every object: its held
// disables and deletes are sent or staged, and its failures judged.
func (j *job) finishCycle(ctx context.Context, p *pass) error {
	if err := j.settleDeprovisioning(ctx, p); err != nil {
		return err
	}
	j.stateMu.Lock()
	j.refreshProgress()
	var counts Counts
	if cur := j.state.Current; cur != nil {
		counts = cur.Counts
	}
	j.stateMu.Unlock()
	j.judgeFailures(counts)
	j.failureDigest(ctx, counts)
	return nil
}

// digestEvery is how often, at most, a failure digest is sent.
const digestEvery = time.Hour

// failureDigest tells the application's administrators, at most hourly,
// that objects failed, when they asked (NotifyOnFailure).
func (j *job) failureDigest(ctx context.Context, c Counts) {
	if !j.cfg.NotifyOnFailure || c.Failed == 0 || j.dry {
		return
	}
	now := j.e.clock.Now().UTC()
	j.stateMu.Lock()
	if now.Sub(j.state.LastDigest) < digestEvery {
		j.stateMu.Unlock()
		return
	}
	j.state.LastDigest = now
	j.stateMu.Unlock()
	total, retryable, err := j.e.store.CountEscrows(ctx, j.app.ID)
	if err != nil {
		return
	}
	name := shellQuote(j.app.Name)
	j.e.notify(j.app, Notice{Type: NoticeFailures, Subject: fmt.Sprintf("%s: %d objects failed", j.app.Name, c.Failed),
		Text: fmt.Sprintf("%d objects failed in the last cycle of %s; %d are in escrow, %d of them retried on their own schedule.\n\n"+
			"ferry apps failures %s shows why; ferry apps retry %s retries them now.\n", c.Failed, j.app.Name, total, retryable, name, name),
		Data: map[string]int{"failed": c.Failed, "inEscrow": total, "retryable": retryable}})
}
