package provision

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ferryid/ferry/internal/scim"
	"github.com/ferryid/ferry/internal/scimclient"
	"github.com/ferryid/ferry/internal/store"
)

// Wake makes the scheduler look for due jobs now rather than at its next
// poll.
func (e *Engine) Wake() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// Run schedules the jobs of every application that is On until ctx is
// done: a full cycle first and whenever one is due (a configuration
// change, a restart, the full-cycle interval), otherwise an incremental
// cycle as soon as the directory changed. Jobs run concurrently, each in
// one process at a time: a process runs a job only while it holds the
// job's lease in the database, so replicas sharing a database share the
// work. Run returns once the cycles it started have stopped.
func (e *Engine) Run(ctx context.Context) {
	poll := e.pollInterval()
	done := make(chan struct{})
	active := 0
	t := time.NewTicker(poll)
	defer t.Stop()
	var lastPrune time.Time
	for {
		if e.clock.Now().Sub(lastPrune) >= time.Hour {
			lastPrune = e.clock.Now()
			e.pruneLogs(ctx)
		}
		started := e.schedule(ctx, done)
		active += started
		select {
		case <-ctx.Done():
			for ; active > 0; active-- {
				<-done
			}
			return
		case <-done:
			active--
		case <-t.C:
		case <-e.wake:
		}
	}
}

// schedule starts the due jobs that are not running here, and returns how
// many it started.
func (e *Engine) schedule(ctx context.Context, done chan<- struct{}) int {
	apps, err := e.store.Apps(ctx, "")
	if err != nil {
		if ctx.Err() == nil {
			e.schedulerFailing(err)
		}
		return 0
	}
	started, failing := 0, error(nil)
	defer func() {
		if ctx.Err() == nil {
			e.schedulerFailing(failing)
		}
	}()
	for _, a := range apps {
		if !a.Enabled || e.isRunning(a.ID) {
			continue
		}
		kind, err := e.due(ctx, a)
		if err != nil {
			failing = fmt.Errorf("check the job of %s: %w", a.Name, err)
			continue
		}
		if kind == "" {
			continue
		}
		claimedAt := e.clock.Now()
		lease, ok, err := e.store.ClaimJob(ctx, a.ID, e.owner, e.leaseTTL())
		if err != nil || !ok {
			continue
		}
		// The list was read before the claim: provisioning may have been
		// turned Off, or the configuration changed, since. The job runs on
		// the application as it is now, and not at all when Off.
		id := a.ID
		if a, err = e.store.App(ctx, a.TenantID, id); err != nil || !a.Enabled {
			e.store.ReleaseJob(context.WithoutCancel(ctx), id, e.owner)
			continue
		}
		e.setRunning(a.ID, true)
		started++
		go func() {
			defer func() { done <- struct{}{} }()
			defer e.setRunning(a.ID, false)
			if err := e.runJob(ctx, a, kind, lease, claimedAt); err != nil && ctx.Err() == nil && !errors.Is(err, errLeaseLost) {
				e.log.Error("cycle failed", "app", a.Name, "err", err)
			}
		}()
	}
	return started
}

// schedulerFailing logs the scheduler's failures to read the database
// once when they start and once when they end, not at every poll: while
// the database is away, every poll fails.
func (e *Engine) schedulerFailing(err error) {
	e.runMu.Lock()
	was := e.scheduleFailing
	e.scheduleFailing = err != nil
	e.runMu.Unlock()
	switch {
	case err != nil && !was:
		e.log.Error("the scheduler cannot read the database; jobs wait until it can", "err", err)
	case err == nil && was:
		e.log.Info("the scheduler reads the database again")
	}
}

func (e *Engine) isRunning(id string) bool {
	e.runMu.Lock()
	defer e.runMu.Unlock()
	return e.running[id]
}

func (e *Engine) setRunning(id string, on bool) {
	e.runMu.Lock()
	defer e.runMu.Unlock()
	if on {
		e.running[id] = true
	} else {
		delete(e.running, id)
	}
}

// staleAfter is how old a running cycle's heartbeat may grow before the
// cycle is taken for interrupted; its process saves progress every
// progressEvery.
const (
	progressEvery = time.Second
	staleAfter    = 5 * progressEvery
)

// due says which cycle an application's job needs now: kindFull,
// kindRetry, kindIncremental or "".
func (e *Engine) due(ctx context.Context, a *store.App) (string, error) {
	js, s, err := e.loadState(ctx, a.ID)
	if err != nil {
		return "", err
	}
	cfg, err := decodeConfig(a.Config)
	if err != nil {
		return "", err
	}
	ctl, err := decodeControl(a.Control)
	if err != nil {
		return "", err
	}
	if s.Staged != nil && (ctl.AllowDeletes == s.Staged.ID || ctl.RejectDeletes == s.Staged.ID) {
		return kindStaged, nil
	}
	if attempt, waiting := e.quarantineDue(s, ctl); waiting {
		return attempt, nil
	}
	if s.fullDue(ctl) || e.clock.Now().Sub(s.LastFull) >= fullInterval(cfg) {
		return kindFull, nil
	}
	if ctl.Retry > s.RetryDone {
		return kindRetry, nil
	}
	cs, err := e.store.Changes(ctx, a.TenantID, js.Watermark, 1)
	if errors.Is(err, store.ErrChangesPruned) {
		// Changes after the watermark are gone (the server's event
		// retention): only a full cycle sees them all (runFull says so).
		return kindFull, nil
	}
	if err != nil {
		return "", err
	}
	if len(cs) > 0 {
		return kindIncremental, nil
	}
	es, err := e.store.Escrows(ctx, a.ID, store.EscrowQuery{Due: e.clock.Now(), Limit: 1})
	if err != nil {
		return "", err
	}
	// Objects in escrow due for a try, or a cycle its process left
	// running: an incremental cycle retries the ones and closes the other.
	if len(es) > 0 || (s.Current != nil && e.clock.Now().Sub(s.Heartbeat) > staleAfter) {
		return kindIncremental, nil
	}
	if s.Quarantine != nil {
		// Released by an administrator: an attempt at once, which ends
		// the quarantine when it passes.
		return kindRetry, nil
	}
	return "", nil
}

// runJob runs one cycle of an application's job while holding its lease.
// A supervisor renews the lease, saves the progress every second, and
// watches the application: Off or a lost lease stops the cycle at once
// (nothing more is sent; requests already sent finish), a newer
// configuration ends it at its next page.
func (e *Engine) runJob(ctx context.Context, a *store.App, kind string, lease store.Lease, claimedAt time.Time) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	defer e.store.ReleaseJob(context.WithoutCancel(ctx), a.ID, e.owner)
	e.setInterrupt(a.ID, cancel)
	defer e.setInterrupt(a.ID, nil)
	f := newFence(e.clock.Now, e.leaseTTL(), lease, claimedAt, cancel)
	// The store checks the lease too, in the transaction of every write of
	// the cycle's links, logs and escrows: a pause between the fence's
	// check and a write cannot let the write through after a takeover.
	ctx = store.WithFence(ctx, lease)
	// Every request of the cycle to the target passes the fence right
	// before it is sent.
	ctx = scimclient.WithGate(ctx, func(string) error { return f.check() })
	j, err := e.openJob(ctx, a, false)
	if err != nil {
		return err
	}
	j.fence, j.stop = f, cancel
	supervised := make(chan struct{})
	go func() {
		defer close(supervised)
		j.supervise(ctx, cancel)
	}()
	defer func() { <-supervised }()
	defer cancel(nil) // ends the supervisor before the job returns
	if j.disableAfterQuarantine(ctx) {
		return nil
	}
	switch kind {
	case kindStaged:
		return j.runStaged(ctx)
	case kindFull:
		return j.runFull(ctx)
	}
	err = j.runIncremental(ctx, kind == kindRetry)
	if errors.Is(err, store.ErrChangesPruned) {
		// Pruned since due looked: nothing was done yet, and a full
		// cycle repairs what the lost changes would have.
		return j.runFull(ctx)
	}
	return err
}

// supervise watches a running job until ctx is done: it stops the job
// when provisioning is turned Off, the application is deleted or the
// lease is lost, marks it superseded when a newer configuration is saved,
// renews the lease and saves the progress.
func (j *job) supervise(ctx context.Context, stop context.CancelCauseFunc) {
	renewal := renewEvery(j.e.leaseTTL())
	t := time.NewTicker(min(j.e.pollInterval(), renewal))
	defer t.Stop()
	// Intervals on the engine's clock, whose readings are monotonic when
	// it is the real one: a jump of the wall clock neither delays a
	// renewal nor makes one early.
	clock := j.e.clock
	renewed, saved := clock.Now(), clock.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if j.fence.check() != nil {
			return // the fence stopped the job
		}
		a, err := j.e.store.App(ctx, j.app.TenantID, j.app.ID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			stop(errStopped)
			return
		case err == nil && !a.Enabled && j.app.Enabled:
			// Turned Off since the cycle began. (A cycle run by hand with
			// RunCycle on an application that is Off runs to its end.)
			stop(errStopped)
			return
		case err == nil:
			if c, err := decodeControl(a.Control); err == nil && c.ConfigVersion != j.version {
				j.superseded.Store(true)
			}
		}
		if clock.Now().Sub(renewed) >= renewal {
			claimedAt := clock.Now()
			lease, held, err := j.e.store.ClaimJob(ctx, j.app.ID, j.e.owner, j.e.leaseTTL())
			if err == nil {
				// A renewal that fails (the database is slow or away)
				// leaves the fence where it was: it stops the job in time.
				j.fence.renewed(lease, held, claimedAt)
				if j.fence.check() != nil {
					return
				}
				renewed = clock.Now()
			}
		}
		if clock.Now().Sub(saved) >= progressEvery {
			if err := j.saveState(ctx); err != nil && ctx.Err() == nil {
				j.log.Warn("save the job's progress", "app", j.app.Name, "err", err)
			}
			saved = clock.Now()
		}
	}
}

func (e *Engine) leaseTTL() time.Duration {
	if e.opts.LeaseTTL > 0 {
		return e.opts.LeaseTTL
	}
	return DefaultLeaseTTL
}

func (e *Engine) pollInterval() time.Duration {
	if e.opts.PollInterval > 0 {
		return e.opts.PollInterval
	}
	return 500 * time.Millisecond
}

// setInterrupt registers the cancel function of the job of an
// application running in this process, or removes it.
func (e *Engine) setInterrupt(appID string, cancel context.CancelCauseFunc) {
	e.runMu.Lock()
	defer e.runMu.Unlock()
	if cancel == nil {
		delete(e.interrupts, appID)
		return
	}
	e.interrupts[appID] = cancel
}

// interrupt stops the job of an application if it runs in this process.
func (e *Engine) interrupt(appID string, cause error) {
	e.runMu.Lock()
	cancel := e.interrupts[appID]
	e.runMu.Unlock()
	if cancel != nil {
		cancel(cause)
	}
}

// openJob loads what a cycle of an application needs; with freshClient,
// a SCIM client made for it alone rather than the application's cached
// one.
func (e *Engine) openJob(ctx context.Context, a *store.App, freshClient bool) (*job, error) {
	cfg, err := decodeConfig(a.Config)
	if err != nil {
		return nil, err
	}
	ctl, err := decodeControl(a.Control)
	if err != nil {
		return nil, err
	}
	ds, err := storedSchema(a.Config)
	if err != nil {
		return nil, err
	}
	c, err := compile(cfg, e.catalog, ds)
	if err != nil {
		return nil, err
	}
	client, err := e.client(a, cfg)
	if freshClient {
		client, err = e.newClient(a, cfg)
	}
	if err != nil {
		return nil, err
	}
	js, s, err := e.loadState(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	return &job{e: e, app: a, cfg: c, client: client, log: e.log, state: s, stored: js,
		version: ctl.ConfigVersion, control: ctl}, nil
}

// runCycle runs one cycle of application a's job now, in the calling
// goroutine, as Service.RunCycle describes.
func (e *Engine) runCycle(ctx context.Context, a *store.App, full bool) (*CycleStatus, error) {
	kind := kindIncremental
	if due, err := e.due(ctx, a); err != nil {
		return nil, err
	} else if full || due == kindFull {
		kind = kindFull
	} else if due == kindRetry || due == kindStaged {
		kind = due
	}
	e.runMu.Lock()
	busy := e.running[a.ID]
	if !busy {
		e.running[a.ID] = true
	}
	e.runMu.Unlock()
	if busy {
		return nil, scim.Errorf(409, "", "a cycle of %s is running", a.Name)
	}
	defer e.setRunning(a.ID, false)
	claimedAt := e.clock.Now()
	lease, ok, err := e.store.ClaimJob(ctx, a.ID, e.owner, e.leaseTTL())
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, scim.Errorf(409, "", "a cycle of %s is running in another process", a.Name)
	}
	if err := e.runJob(ctx, a, kind, lease, claimedAt); err != nil {
		return nil, err
	}
	_, s, err := e.loadState(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	return s.Last, nil
}

// pruneLogs deletes the provisioning logs older than the retention.
func (e *Engine) pruneLogs(ctx context.Context) {
	keep := e.opts.LogRetention
	if keep <= 0 {
		keep = 30 * 24 * time.Hour
	}
	n, err := e.store.PruneLogs(ctx, e.clock.Now().Add(-keep))
	switch {
	case err != nil && ctx.Err() == nil:
		e.log.Error("prune provisioning logs", "err", err)
	case n > 0:
		e.log.Info("pruned provisioning logs", "records", n, "olderThan", keep)
	}
}
