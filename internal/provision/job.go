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
	"time"

	"github.com/ferryid/ferry/internal/provision/expr"
	"github.com/ferryid/ferry/internal/scim/filter"
	"github.com/ferryid/ferry/internal/scim/resource"
	"github.com/ferryid/ferry/internal/scimclient"
	"github.com/ferryid/ferry/internal/store"
)

// jobState is the engine's JSON job state (store.JobState.State): what a
// restarted process, or another replica, needs to carry on.
type jobState struct {
	// InitialDone says the first full cycle completed.
	InitialDone bool `json:"initialDone"`
	// FullPending asks for a full cycle next (a configuration change, a
	// restart).
	FullPending bool      `json:"fullPending,omitempty"`
	LastFull    time.Time `json:"lastFull,omitzero"`
	// Full is the checkpoint of a full cycle in progress.
	Full    *fullCheckpoint `json:"full,omitempty"`
	Current *CycleStatus    `json:"current,omitempty"`
	Last    *CycleStatus    `json:"last,omitempty"`
	Totals  Counts          `json:"totals"`
	// PendingRefs are objects waiting for a referenced object (their
	// manager) to be provisioned: referenced source id -> dependents.
	PendingRefs map[string][]string `json:"pendingRefs,omitempty"`
}

// fullCheckpoint is how far a full cycle got, so that a crash resumes it
// rather than starting over.
type fullCheckpoint struct {
	CycleID string `json:"cycleId"`
	Kind    string `json:"kind"`
	// Watermark is the change-feed position when the cycle started: the
	// incremental cycles after it continue from there.
	Watermark int64 `json:"watermark"`
	// Phase is the object type being read ("User", "Group"), or "links"
	// once the directory was read.
	Phase string `json:"phase"`
	// After is the last source id of Phase done.
	After string `json:"after"`
}

// job is one application's job while a cycle runs. One goroutine runs a
// job's cycles; the objects of a page are processed in parallel.
type job struct {
	m      *Manager
	app    *store.App
	cfg    *compiled
	client *scimclient.Client
	log    *slog.Logger

	stateMu sync.Mutex
	state   *jobState
	stored  *store.JobState

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
			return false, "not assigned to the application (directly or through a group)", nil
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
			return false, "does not pass the scoping filters", nil
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
		as, err := j.m.store.Assignments(ctx, j.app.TenantID, j.app.ID)
		if err != nil {
			j.assignedErr = err
			return
		}
		j.assigned = map[objectKey]bool{}
		for _, a := range as {
			j.assigned[objectKey{a.PrincipalType, a.PrincipalID}] = true
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

// saveState writes the job state.
func (j *job) saveState(ctx context.Context) error {
	j.stateMu.Lock()
	b, err := json.Marshal(j.state)
	j.stateMu.Unlock()
	if err != nil {
		return err
	}
	j.stored.State = b
	if err := j.m.store.PutJobState(ctx, j.stored); err != nil {
		return fmt.Errorf("save the job state: %w", err)
	}
	return nil
}

// pageSize is how many directory objects a cycle reads and processes at a
// time; a checkpoint follows each page.
const pageSize = 200

// runPage processes objects in parallel, at most the Manager's worker
// count at once, then writes their log records.
func (j *job) runPage(ctx context.Context, p *pass, keys []objectKey) error {
	sem := make(chan struct{}, j.m.workers)
	var wg sync.WaitGroup
	for _, k := range keys {
		if !p.claim(k) {
			continue
		}
		if ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			o := p.object(ctx, k.typ, k.id)
			p.record(o)
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
		_, err := j.m.store.Link(ctx, j.app.ID, store.UserType, id)
		if isStatus(err, 404) {
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

// flush writes a pass's log records so far and the progress.
func (j *job) flush(ctx context.Context, p *pass) error {
	p.mu.Lock()
	records := p.records
	p.records = nil
	counts := p.counts
	p.mu.Unlock()
	if err := j.m.writeLogs(ctx, j.app, records); err != nil {
		return err
	}
	j.stateMu.Lock()
	if cur := j.state.Current; cur != nil {
		cur.Counts = counts
		cur.Processed = len(p.processed)
		cur.DurationMs = time.Since(cur.Started).Milliseconds()
	}
	j.stateMu.Unlock()
	return nil
}

// --- cycles ------------------------------------------------------------------

// Cycle kinds.
const (
	kindInitial     = "initial"
	kindFull        = "full"
	kindIncremental = "incremental"
)

// beginCycle records a new cycle as current.
func (j *job) beginCycle(kind, id string) *pass {
	j.stateMu.Lock()
	j.state.Current = &CycleStatus{ID: id, Kind: kind, Started: j.m.now().UTC()}
	j.stateMu.Unlock()
	return newPass(j, id)
}

// endCycle records the current cycle as the last one.
func (j *job) endCycle(ctx context.Context, p *pass, cycleErr error) error {
	j.stateMu.Lock()
	cur := j.state.Current
	if cur != nil {
		p.mu.Lock()
		cur.Counts = p.counts
		cur.Processed = len(p.processed)
		p.mu.Unlock()
		cur.Ended = j.m.now().UTC()
		cur.DurationMs = cur.Ended.Sub(cur.Started).Milliseconds()
		if cycleErr != nil {
			cur.Error = cycleErr.Error()
		}
		t := &j.state.Totals
		t.Created += cur.Counts.Created
		t.Updated += cur.Counts.Updated
		t.Disabled += cur.Counts.Disabled
		t.Deleted += cur.Counts.Deleted
		t.Unchanged += cur.Counts.Unchanged
		t.Skipped += cur.Counts.Skipped
		t.Failed += cur.Counts.Failed
		j.state.Last = cur
		j.state.Current = nil
	}
	j.stateMu.Unlock()
	if cur != nil {
		j.log.Info("cycle ended", "app", j.app.Name, "kind", cur.Kind, "cycle", cur.ID, "durationMs", cur.DurationMs,
			"created", cur.Counts.Created, "updated", cur.Counts.Updated, "disabled", cur.Counts.Disabled,
			"deleted", cur.Counts.Deleted, "failed", cur.Counts.Failed, "err", cycleErr)
	}
	return j.saveState(context.WithoutCancel(ctx))
}

// latestSeq returns the position of the last change-feed entry of the
// tenant, reading from the job's watermark.
func (j *job) latestSeq(ctx context.Context) (int64, error) {
	seq := j.stored.Watermark
	for {
		cs, err := j.m.store.Changes(ctx, j.app.TenantID, seq, 5000)
		if err != nil {
			return 0, err
		}
		if len(cs) == 0 {
			return seq, nil
		}
		seq = cs[len(cs)-1].Seq
	}
}

// runFull runs (or resumes) a full cycle: every object in scope is
// matched, created or updated, and every linked object out of scope or
// gone is disabled or deleted.
func (j *job) runFull(ctx context.Context) error {
	j.stateMu.Lock()
	cp := j.state.Full
	j.stateMu.Unlock()
	if cp == nil {
		kind := kindFull
		if !j.state.InitialDone {
			kind = kindInitial
		}
		w, err := j.latestSeq(ctx)
		if err != nil {
			return err
		}
		cp = &fullCheckpoint{CycleID: store.NewID(), Kind: kind, Watermark: w}
		j.state.Full = cp
	}
	p := j.beginCycle(cp.Kind, cp.CycleID)
	if err := j.saveState(ctx); err != nil {
		return err
	}
	err := j.full(ctx, p, cp)
	if err == nil {
		err = j.runFollowUps(ctx, p)
	}
	if err == nil {
		j.stateMu.Lock()
		j.state.Full = nil
		j.state.FullPending = false
		j.state.InitialDone = true
		j.state.LastFull = j.m.now().UTC()
		j.stateMu.Unlock()
		if cp.Watermark > j.stored.Watermark {
			j.stored.Watermark = cp.Watermark
		}
	}
	return errors.Join(err, j.endCycle(ctx, p, err))
}

func (j *job) full(ctx context.Context, p *pass, cp *fullCheckpoint) error {
	if err := j.prematch(ctx, p); err != nil {
		j.log.Warn("listing the target to pre-match failed; matching by query instead", "app", j.app.Name, "err", err)
	}
	phases := []string{}
	for _, co := range j.cfg.objects {
		phases = append(phases, co.SourceType)
	}
	phases = append(phases, "links")
	start := slices.Index(phases, cp.Phase)
	if start < 0 {
		start, cp.After = 0, ""
	}
	for _, phase := range phases[start:] {
		cp.Phase = phase
		var err error
		if phase == "links" {
			err = j.linkPass(ctx, p)
		} else if j.cfg.Scope == ScopeAssigned {
			err = j.assignedPass(ctx, p, phase, cp)
		} else {
			err = j.directoryPass(ctx, p, phase, cp)
		}
		if err != nil {
			return err
		}
		cp.After = ""
	}
	return nil
}

// directoryPass reads every object of a type in id order, a page at a
// time, checkpointing after each.
func (j *job) directoryPass(ctx context.Context, p *pass, typ string, cp *fullCheckpoint) error {
	for {
		q := store.Query{SortBy: "id", Count: pageSize, ReadOptions: store.ReadOptions{Members: true}}
		if cp.After != "" {
			f, err := idAfter(cp.After)
			if err != nil {
				return err
			}
			q.Filter = f
		}
		page, err := j.m.store.Query(ctx, j.app.TenantID, typ, q)
		if err != nil {
			return fmt.Errorf("read the directory: %w", err)
		}
		keys := make([]objectKey, len(page.Resources))
		for i, r := range page.Resources {
			keys[i] = objectKey{typ, r.ID}
		}
		if err := p.preload(ctx, typ, cp.After, page.Resources); err != nil {
			return err
		}
		if err := j.runPage(ctx, p, keys); err != nil {
			return err
		}
		j.stateMu.Lock()
		if cur := j.state.Current; cur != nil {
			cur.InScope += len(keys)
		}
		j.stateMu.Unlock()
		if len(keys) == 0 || len(keys) < pageSize {
			return nil
		}
		cp.After = keys[len(keys)-1].id
		if err := j.saveState(ctx); err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// assignedPass processes the assigned objects of a type: assigned users
// and the direct members of assigned groups, or assigned groups.
func (j *job) assignedPass(ctx context.Context, p *pass, typ string, cp *fullCheckpoint) error {
	as, err := j.m.store.Assignments(ctx, j.app.TenantID, j.app.ID)
	if err != nil {
		return err
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
		switch {
		case a.PrincipalType == typ:
			add(a.PrincipalID)
		case typ == store.UserType && a.PrincipalType == store.GroupType:
			g, err := j.m.store.Get(ctx, j.app.TenantID, store.GroupType, a.PrincipalID, store.ReadOptions{Members: true})
			if isStatus(err, 404) {
				continue
			}
			if err != nil {
				return err
			}
			for _, m := range g.Members {
				if m.Type == store.UserType {
					add(m.ID)
				}
			}
		}
	}
	slices.SortFunc(keys, func(a, b objectKey) int { return strings.Compare(a.id, b.id) })
	j.stateMu.Lock()
	if cur := j.state.Current; cur != nil {
		cur.InScope += len(keys)
	}
	j.stateMu.Unlock()
	i, _ := slices.BinarySearchFunc(keys, cp.After, func(k objectKey, after string) int { return strings.Compare(k.id, after) })
	if cp.After != "" && i < len(keys) && keys[i].id == cp.After {
		i++
	}
	keys = keys[i:]
	for len(keys) > 0 {
		n := min(len(keys), pageSize)
		if err := j.runPage(ctx, p, keys[:n]); err != nil {
			return err
		}
		cp.After = keys[n-1].id
		keys = keys[n:]
		if err := j.saveState(ctx); err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return nil
}

// linkPass looks at every linked object the cycle has not processed: it
// left the scope (disable) or the directory (delete).
func (j *job) linkPass(ctx context.Context, p *pass) error {
	for _, co := range j.cfg.objects {
		after := ""
		for {
			links, err := j.m.store.Links(ctx, j.app.ID, co.SourceType, after, pageSize)
			if err != nil {
				return err
			}
			var keys []objectKey
			for _, l := range links {
				keys = append(keys, objectKey{co.SourceType, l.SourceID})
			}
			if err := j.runPage(ctx, p, keys); err != nil {
				return err
			}
			if len(links) < pageSize {
				break
			}
			after = links[len(links)-1].SourceID
		}
	}
	return nil
}

// runIncremental processes the change feed after the job's watermark, a
// page at a time, moving the watermark after each.
func (j *job) runIncremental(ctx context.Context) error {
	p := j.beginCycle(kindIncremental, store.NewID())
	var err error
	for {
		var cs []store.Change
		cs, err = j.m.store.Changes(ctx, j.app.TenantID, j.stored.Watermark, 500)
		if err != nil || len(cs) == 0 {
			break
		}
		var users, groups []objectKey
		seen := map[objectKey]bool{}
		for _, c := range cs {
			k := objectKey{c.Type, c.ID}
			if seen[k] {
				continue
			}
			seen[k] = true
			if c.Type == store.UserType {
				users = append(users, k)
				continue
			}
			groups = append(groups, k)
			// A group assigned or unassigned changes the scope of its
			// direct members.
			if c.Op == store.OpAssignment && j.cfg.Scope == ScopeAssigned {
				g, gerr := j.m.store.Get(ctx, j.app.TenantID, store.GroupType, c.ID, store.ReadOptions{Members: true})
				if gerr == nil {
					for _, m := range g.Members {
						if k := (objectKey{m.Type, m.ID}); m.Type == store.UserType && !seen[k] {
							seen[k] = true
							users = append(users, k)
						}
					}
				}
			}
		}
		j.stateMu.Lock()
		if cur := j.state.Current; cur != nil {
			cur.InScope += len(users) + len(groups)
		}
		j.stateMu.Unlock()
		// Each page starts afresh: an object changed again later in the
		// feed is processed again.
		p.mu.Lock()
		p.processed = map[objectKey]bool{}
		p.mu.Unlock()
		if err = j.runPage(ctx, p, append(users, groups...)); err != nil {
			break
		}
		if err = j.runFollowUps(ctx, p); err != nil {
			break
		}
		j.stored.Watermark = cs[len(cs)-1].Seq
		if err = j.saveState(ctx); err != nil {
			break
		}
		if len(cs) < 500 {
			break
		}
	}
	return errors.Join(err, j.endCycle(ctx, p, err))
}

// idAfter is the filter "id gt after".
func idAfter(after string) (filter.Expr, error) {
	b, _ := json.Marshal(after)
	return filter.Parse("id gt " + string(b))
}
