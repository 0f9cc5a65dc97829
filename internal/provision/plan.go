package provision

import (
	"context"
	"fmt"
	"net/http"
	"sort"

	"github.com/ferryid/ferry/internal/scimclient"
	"github.com/ferryid/ferry/internal/store"
)

// A plan is a full cycle run dry: it reads the directory and the target as
// a full cycle does (listing, matching queries, reads of linked objects)
// and, where the cycle would write, notes what it would write instead.
// Nothing is sent but reads (a gate on the client refuses any other
// method, in case a path were missed), and nothing is stored: no link, log
// record, escrow or job state. Disables and deletes are what the cycle
// would hold for the accidental-deletion threshold, so the plan says too
// whether the threshold would stage them. Entra previews one user
// (provision on demand); a plan previews the whole cycle.

// errDryRun is the gate's answer to a write during a plan.
var errDryRun = fmt.Errorf("a plan sends no writes")

// plan runs a full cycle of application a dry: version is the
// configuration version it plans (0 for an unsaved change, whose client is
// made for it alone).
func (e *Engine) plan(ctx context.Context, a *store.App, version int64, unsaved bool) (*Plan, error) {
	// An unsaved configuration gets a client of its own: the cached one
	// is the saved configuration's.
	j, err := e.openJob(ctx, a, unsaved)
	if err != nil {
		return nil, err
	}
	j.dry = true
	ctx = scimclient.WithGate(ctx, func(method string) error {
		if method != http.MethodGet {
			return errDryRun
		}
		return nil
	})
	plan := &Plan{App: a.Name, ConfigVersion: version}
	p := newPass(j, "plan-"+store.NewID())
	p.reconcile, p.configVersion, p.plan = true, j.version, plan
	if err := j.full(ctx, p, &fullCheckpoint{}); err != nil {
		return nil, fmt.Errorf("plan %s: %w", a.Name, err)
	}
	held := j.heldActions(p)
	for _, h := range held {
		pa := PlannedAction{Source: Identity{ID: h.ID, Type: h.Type, DisplayName: h.Name}, Target: Identity{ID: h.TargetID, Type: h.Type},
			Action: h.Action, Reason: h.Reason}
		if h.Action == ActionDelete {
			plan.Deletes = append(plan.Deletes, pa)
		} else {
			plan.Disables = append(plan.Disables, pa)
		}
	}
	if len(held) > 0 && !j.cfg.AccidentalDeletions.Off {
		limit, err := j.deletionLimit(ctx)
		if err != nil {
			return nil, err
		}
		plan.Limit = limit
		j.stateMu.Lock()
		plan.Recent = j.recentDeprovisionsLocked(e.clock.Now().UTC())
		j.stateMu.Unlock()
		plan.Staged = len(held)+plan.Recent > limit
	}
	p.mu.Lock()
	plan.Unchanged, plan.Skipped = p.counts.Unchanged, p.counts.Skipped
	p.mu.Unlock()
	for _, list := range [][]PlannedAction{plan.Creates, plan.Updates, plan.Disables, plan.Deletes, plan.Failures} {
		sort.Slice(list, func(i, k int) bool { return list[i].Source.DisplayName < list[k].Source.DisplayName })
	}
	for _, list := range []*[]PlannedAction{&plan.Creates, &plan.Updates, &plan.Disables, &plan.Deletes, &plan.Failures} {
		if *list == nil {
			*list = []PlannedAction{}
		}
	}
	return plan, nil
}

// planned notes an action of a plan.
func (p *pass) planned(rec *LogRecord, action, reason string, changes []ModifiedProperty) {
	pa := PlannedAction{Source: rec.Source, Target: rec.Target, Action: action, Reason: reason, Changes: changes}
	p.mu.Lock()
	defer p.mu.Unlock()
	switch action {
	case ActionCreate:
		p.plan.Creates = append(p.plan.Creates, pa)
	case ActionUpdate:
		p.plan.Updates = append(p.plan.Updates, pa)
	}
}

// plannedFailure notes an object whose processing would fail.
func (p *pass) plannedFailure(rec *LogRecord) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.plan.Failures = append(p.plan.Failures, PlannedAction{Source: rec.Source, Target: rec.Target, Action: ActionOther,
		Reason: rec.Reason, Error: rec.Error})
}

// planUpdate notes the update a linked object would get: the attributes
// that differ and, for a group, the members to add and remove.
func (p *pass) planUpdate(ctx context.Context, co *compiledObject, rec *LogRecord, r *store.Resource, exp *exportedRecord,
	changes []change, reason string) outcome {
	mods := modified(changes)
	if co.members {
		add, remove, _, err := p.memberChanges(ctx, r, exp)
		if err != nil {
			return failedAction(rec, ActionUpdate, err)
		}
		if len(add)+len(remove) > 0 && (co.Actions.Update || len(exp.Members) == 0) {
			mods = append(mods, ModifiedProperty{Name: "members", OldValue: fmt.Sprintf("%d members", len(exp.Members)),
				NewValue: fmt.Sprintf("%d added, %d removed", len(add), len(remove))})
		}
	}
	if len(mods) == 0 {
		return outcome{count: func(c *Counts) { c.Unchanged++ }}
	}
	p.planned(rec, ActionUpdate, reason, mods)
	return outcome{count: func(c *Counts) { c.Updated++ }}
}
