package provision

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ferryid/ferry/internal/scim/resource"
	"github.com/ferryid/ferry/internal/scimclient"
	"github.com/ferryid/ferry/internal/store"
)

// This file is what happens to one directory object in one cycle: import
// it, decide its scope, match it to a target object, and create, update,
// disable or delete it there, recording each step in its log record.

// outcome is what processing one object did, for the cycle's counts and
// follow-ups.
type outcome struct {
	record *LogRecord // nil when there is nothing worth a log record
	count  func(*Counts)
	// linked says the object got a link in this pass (created or
	// matched): its dependents and groups are looked at again.
	linked bool
	// groups are the source groups the object is a member of.
	groups []string
	// interrupted says the cycle was stopped while the object was being
	// processed, before anything of it was done: it is not processed.
	interrupted bool
	// version is the source object's version, for its escrow.
	version int64
	// stillFailing says the object is in escrow with a permanent failure
	// and was left alone: nothing changed that could make it pass.
	stillFailing bool
	// held says the object's disable or delete waits for the cycle's end
	// (threshold.go): it is not processed yet.
	held bool
}

// pass holds what one cycle's object passes share: the lookups that would
// cost a request per object, the follow-ups, and the log records.
type pass struct {
	j        *job
	cycleID  string
	onDemand bool
	// prematch indexes the target's objects by matching value, when the
	// target was listed whole at the start of the cycle.
	prematch map[string]*targetIndex

	mu        sync.Mutex
	counts    Counts
	processed map[objectKey]bool
	followUps map[objectKey]bool
	records   []*LogRecord
	// loaded are objects of the page being processed, read with the
	// page, and their links (nil: none), so that a full cycle does not read
	// each again; an object takes its entry when it is processed.
	loaded map[objectKey]*loadedObject
	// added counts the follow-ups, which add to the cycle's total.
	added int

	// configVersion is the configuration version the pass provisions.
	configVersion int64
	// escrows are the objects in escrow; retrying says every one of them
	// is tried, permanent failures included.
	escrows  map[objectKey]*escrowed
	retrying bool
	// reconcile compares linked objects with the target as it is (full
	// cycles, provision on demand) rather than with what was last
	// exported; reconciled are the objects compared in this pass, whose
	// later follow-ups diff against what this pass exported.
	reconcile  bool
	reconciled map[objectKey]bool
	// cycleStarted is when the cycle began, passStarted when this pass
	// did: a resumed cycle finds objects created before its process died,
	// and its progress's rate is this pass's.
	cycleStarted, passStarted time.Time
	// held are the disables and deletes held until the cycle's end;
	// allowDeprovision says they are sent now.
	held             map[objectKey]heldAction
	allowDeprovision bool
	// plan collects what a dry pass would do (plan.go); nil otherwise.
	plan *Plan
	// changedAt is when the objects of an incremental cycle first changed
	// since the watermark, until their first write in the cycle; a write
	// held to the cycle's end (a disable, a delete) counts from it too.
	changedAt map[objectKey]time.Time
}

// loadedObject is a directory object and its link, read with its page.
type loadedObject struct {
	r    *store.Resource
	link *store.Link
}

type objectKey struct{ typ, id string }

func newPass(j *job, cycleID string) *pass {
	return &pass{j: j, cycleID: cycleID, processed: map[objectKey]bool{}, followUps: map[objectKey]bool{},
		escrows: map[objectKey]*escrowed{}, reconciled: map[objectKey]bool{}, held: map[objectKey]heldAction{}}
}

// unclaim forgets that an object was claimed: it was not processed after
// all.
func (p *pass) unclaim(k objectKey) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.processed, k)
}

// isProcessed reports whether the object was processed in this pass.
func (p *pass) isProcessed(k objectKey) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.processed[k]
}

// settle keeps a failed object in escrow and takes one that did not fail
// out of it.
func (p *pass) settle(ctx context.Context, k objectKey, o outcome) {
	if p.onDemand {
		return
	}
	if o.stillFailing {
		return // its escrow stands as it is
	}
	if o.record != nil && o.record.Status == StatusFailure {
		p.escrow(ctx, k, o.record, o.version)
		return
	}
	if o.count != nil {
		p.release(ctx, k)
	}
}

// claim reports whether the object is still to be processed in this pass,
// and marks it as processed.
func (p *pass) claim(k objectKey) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.processed[k] {
		return false
	}
	p.processed[k] = true
	return true
}

// preload keeps a page of directory objects, in id order after the id
// after, with their links, read by one query of the links in the same id
// range.
func (p *pass) preload(ctx context.Context, typ, after string, rs []*store.Resource) error {
	loaded := make(map[objectKey]*loadedObject, len(rs))
	for _, r := range rs {
		loaded[objectKey{typ, r.ID}] = &loadedObject{r: r}
	}
	if len(rs) > 0 {
		last := rs[len(rs)-1].ID
		for {
			links, err := p.j.e.store.Links(ctx, p.j.app.ID, typ, after, pageSize)
			if err != nil {
				return err
			}
			for _, l := range links {
				if l.SourceID > last {
					break
				}
				if o := loaded[objectKey{typ, l.SourceID}]; o != nil {
					o.link = l
				}
			}
			if len(links) < pageSize || links[len(links)-1].SourceID >= last {
				break
			}
			after = links[len(links)-1].SourceID
		}
	}
	p.mu.Lock()
	p.loaded = loaded
	p.mu.Unlock()
	return nil
}

// take returns the preloaded object k, once, or nil.
func (p *pass) take(k objectKey) *loadedObject {
	p.mu.Lock()
	defer p.mu.Unlock()
	o := p.loaded[k]
	delete(p.loaded, k)
	return o
}

// record adds an outcome to the pass.
func (p *pass) record(o outcome) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if o.count != nil {
		o.count(&p.counts)
	}
	if o.record != nil {
		p.records = append(p.records, o.record)
		if !p.j.dry {
			p.j.e.obs.ObjectProcessed(o.record.Action, o.record.Status)
		}
	}
}

// observeLag tells the engine's observer how long after its change in the
// directory the object k reached the target, when this pass wrote it
// because of a change (incremental cycles).
func (p *pass) observeLag(k objectKey, o outcome) {
	if o.record == nil || o.record.Status != StatusSuccess {
		return
	}
	switch o.record.Action {
	case ActionCreate, ActionUpdate, ActionDisable, ActionDelete:
	default:
		return
	}
	p.mu.Lock()
	at, ok := p.changedAt[k]
	delete(p.changedAt, k) // once: a follow-up of the object is not a change's
	p.mu.Unlock()
	if ok {
		p.j.e.obs.ChangeLag(p.j.e.clock.Now().Sub(at))
	}
}

// takeFollowUp reports whether the object was scheduled to be looked at
// again, and unschedules it.
func (p *pass) takeFollowUp(k objectKey) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	ok := p.followUps[k]
	delete(p.followUps, k)
	return ok
}

// followUp schedules an object to be looked at again at the end of the
// pass.
func (p *pass) followUp(k objectKey) {
	p.mu.Lock()
	p.followUps[k] = true
	p.mu.Unlock()
}

// object processes the directory object typ/id: the whole of what a cycle
// does to it.
func (p *pass) object(ctx context.Context, typ, id string) outcome {
	j := p.j
	co := j.cfg.object(typ)
	if co == nil {
		return outcome{}
	}
	unlock := j.e.lockObject(j.app.ID, typ, id)
	defer unlock()
	start := j.e.clock.Now()
	rec := &LogRecord{ID: "", ActivityDateTime: start.UTC(), CycleID: p.cycleID, ChangeID: store.NewID(), JobID: j.app.ID,
		Source: Identity{ID: id, Type: typ}, Target: Identity{Type: co.TargetType}}
	o := p.run(ctx, co, rec)
	rec.DurationMs = j.e.clock.Now().Sub(start).Milliseconds()
	if o.record != nil && o.record.Status == StatusFailure && o.record.ID == "" && ctx.Err() != nil && !p.onDemand {
		// The cycle was stopped under it: what failed is the stop, not the
		// object, and whatever was sent before was recorded with its link.
		return outcome{interrupted: true}
	}
	if o.record != nil && o.record.Status == StatusFailure && o.count == nil {
		o.count = func(c *Counts) { c.Failed++ }
	}
	if o.count == nil && !p.onDemand {
		// Every object a cycle looks at counts once, so that the counts
		// add up to what was processed.
		o.count = func(c *Counts) { c.Skipped++ }
	}
	return o
}

// run processes one directory object, one step per call: import it,
// determine its scope and read its link; then a linked object is acted on
// as its target object requires, and an unlinked one is matched in the
// target and linked, or created there.
func (p *pass) run(ctx context.Context, co *compiledObject, rec *LogRecord) (out outcome) {
	src, out, done := p.importObject(ctx, co, rec)
	if done {
		return out
	}
	// Whatever follows, an escrow of the object records the version
	// imported.
	defer func() { out.version = src.r.Version }()
	if out, done = p.determineScope(ctx, co, rec, src); done {
		return out
	}
	if out, done = p.readLink(ctx, co, rec, src); done {
		return out
	}
	if src.link != nil {
		return p.actOnLinked(ctx, co, rec, src)
	}
	if out, done = p.skipUnlinked(rec, src); done {
		return out
	}
	want, err := co.evaluate(src.doc, false, true, p.j.e.env)
	if err != nil {
		return mappingFailed(rec, err)
	}
	matched, found, err := p.match(ctx, co, want, rec)
	if err != nil {
		return failedErr(rec, "matching", err)
	}
	if found {
		return p.adopt(ctx, co, rec, src, matched)
	}
	if out, done = p.forgetLostCreate(ctx, co, rec, src); done {
		return out
	}
	return p.createMissing(ctx, co, rec, src, want)
}

// sourceObject is a directory object on its way through a pass's steps.
type sourceObject struct {
	// r is the object as imported, doc as mappings read it, pre what was
	// read with its page (nil when it was read alone), groups the ids of
	// the groups it is a member of.
	r      *store.Resource
	doc    resource.Document
	pre    *loadedObject
	groups []string
	// inScope and active are what determineScope found, why in words.
	inScope, active bool
	why             string
	// link is the object's link to its target object, nil when it has
	// none. lostCreate says its link only marks a create that was sent and
	// whose answer was never recorded (the process died).
	link       *store.Link
	lostCreate bool
}

// softDeleted reports whether the object is to be disabled in the target:
// out of scope, or disabled in the directory.
func (src *sourceObject) softDeleted() bool { return !src.inScope || !src.active }

// importObject reads the directory object and records its import. An
// object deleted from the directory ends there (gone deprovisions it), as
// does one whose permanent failure nothing could have changed.
func (p *pass) importObject(ctx context.Context, co *compiledObject, rec *LogRecord) (*sourceObject, outcome, bool) {
	k := objectKey{co.SourceType, rec.Source.ID}
	src := &sourceObject{pre: p.take(k)}
	r, err := p.readSource(ctx, k, src.pre)
	if errors.Is(err, store.ErrNotFound) {
		return nil, p.gone(ctx, co, rec), true
	}
	if err != nil {
		return nil, failed(rec, "import", "InternalError", fmt.Sprintf("reading the %s from the directory: %v", strings.ToLower(k.typ), err)), true
	}
	rec.Source.DisplayName = displayName(r)
	if p.waitsForChange(k, r) {
		// A permanent failure, and neither the object nor the
		// configuration changed since: trying again would fail again.
		return nil, outcome{stillFailing: true, count: func(c *Counts) { c.Failed++ }}, true
	}
	rec.step("Import", "import", StatusSuccess, fmt.Sprintf("Read %s %q from the directory", strings.ToLower(k.typ), rec.Source.DisplayName))
	src.r, src.doc = r, render(r)
	for _, g := range r.Groups {
		src.groups = append(src.groups, g.ID)
	}
	return src, outcome{}, false
}

// readSource returns the directory object k: as read with its page (pre),
// or read now.
func (p *pass) readSource(ctx context.Context, k objectKey, pre *loadedObject) (*store.Resource, error) {
	if pre != nil {
		return pre.r, nil
	}
	return p.j.e.store.Get(ctx, p.j.app.TenantID, k.typ, k.id, store.ReadOptions{Members: true})
}

// determineScope decides whether the object is in the application's scope
// and whether it is active, and records why.
func (p *pass) determineScope(ctx context.Context, co *compiledObject, rec *LogRecord, src *sourceObject) (outcome, bool) {
	inScope, why, err := p.j.inScope(ctx, co, src.r, src.doc)
	if err != nil {
		return failed(rec, "scoping", "InternalError", fmt.Sprintf("evaluating the scope: %v", err)), true
	}
	src.inScope, src.why, src.active = inScope, why, true
	if v, ok := src.r.Doc["active"].(bool); ok && co.SourceType == store.UserType {
		src.active = v
	}
	status := StatusSuccess
	if !inScope {
		status = StatusSkipped
	}
	rec.step("Determine scope", "scoping", status, why)
	switch {
	case !inScope:
		rec.Reason = why
	case !src.active:
		rec.Reason = reasonDisabled
	}
	return outcome{}, false
}

// readLink finds the object's link, as read with its page or now. A link
// without a target id marks a create that was sent and whose answer was
// never recorded (the process died): the target may have the object, so
// it is matched, whatever the scope says now.
func (p *pass) readLink(ctx context.Context, co *compiledObject, rec *LogRecord, src *sourceObject) (outcome, bool) {
	var link *store.Link
	if src.pre != nil {
		link = src.pre.link
	} else {
		l, err := p.j.e.store.Link(ctx, p.j.app.ID, co.SourceType, src.r.ID)
		switch {
		case err == nil:
			link = l
		case !errors.Is(err, store.ErrNotFound):
			return failed(rec, "processing", "InternalError", fmt.Sprintf("reading the link: %v", err)), true
		}
	}
	src.lostCreate = link != nil && link.TargetID == ""
	if !src.lostCreate {
		src.link = link
	}
	return outcome{}, false
}

// actOnLinked acts on a linked object: it is brought in line with its
// mappings (disabled when softly deleted), or, out of scope, left alone
// or, a group, deleted (groupLeft).
func (p *pass) actOnLinked(ctx context.Context, co *compiledObject, rec *LogRecord, src *sourceObject) outcome {
	link := src.link
	rec.Target.ID = link.TargetID
	rec.step("Match", "matching", StatusSuccess, fmt.Sprintf("Linked to target object %s", link.TargetID))
	switch {
	case !src.inScope && p.j.cfg.SkipOutOfScopeDeletions:
		return skipped(rec, codeEntrySynchronizationSkip, "The object left the scope; SkipOutOfScopeDeletions leaves it as it is in the target")
	case !src.inScope && co.SourceType == store.GroupType:
		return p.groupLeft(ctx, co, rec, link)
	}
	o := p.update(ctx, co, rec, src.r, src.doc, link, src.softDeleted(), src.inScope)
	o.groups = src.groups
	return o
}

// skipUnlinked ends the processing of an unlinked object that is not to
// be created: out of scope (worth a record only on demand) or disabled. A
// create whose answer was lost goes on to matching whatever the scope.
func (p *pass) skipUnlinked(rec *LogRecord, src *sourceObject) (outcome, bool) {
	switch {
	case src.lostCreate:
		return outcome{}, false
	case !src.inScope && !p.onDemand:
		return outcome{}, true // never provisioned, not in scope: nothing to do or log
	case !src.inScope:
		return skipped(rec, codeEntrySynchronizationSkip, "The object is not in scope: "+src.why), true
	case !src.active:
		return skipped(rec, codeEntrySynchronizationSkip, "The user is disabled in the directory; disabled users are not created"), true
	}
	return outcome{}, false
}

// adopt links the object to the target object matching found, then acts
// on it as on a linked object. A create whose answer was lost went
// through after all: its record is written with the link.
func (p *pass) adopt(ctx context.Context, co *compiledObject, rec *LogRecord, src *sourceObject, matched resource.Document) outcome {
	j := p.j
	tid, _ := matched.String("id")
	if o, dup := p.linkedElsewhere(ctx, co, rec, tid); dup {
		return o
	}
	link := &store.Link{AppID: j.app.ID, SourceType: co.SourceType, SourceID: src.r.ID, TargetID: tid}
	rec.Target.ID = tid
	exp := &exportedRecord{Values: co.observed(matched)}
	if co.members {
		exp.Members = memberIDsOf(matched)
	}
	var created *LogRecord
	if src.lostCreate {
		created = p.lostCreateRecord(co, rec, tid)
	}
	if err := j.putLink(ctx, link, exp, created); err != nil {
		return failed(rec, "matching", "InternalError", err.Error())
	}
	p.markReconciled(objectKey{co.SourceType, src.r.ID})
	o := p.update(ctx, co, rec, src.r, src.doc, link, src.softDeleted(), src.inScope)
	o.linked, o.groups = true, src.groups
	if src.lostCreate && o.record == nil {
		o.count = func(c *Counts) { c.Created++ }
	}
	return o
}

// lostCreateRecord is the record of a create whose answer was lost, and
// which matching found as target object tid.
func (p *pass) lostCreateRecord(co *compiledObject, rec *LogRecord, tid string) *LogRecord {
	created := p.followRecord(rec)
	created.Action, created.Status, created.Reason = ActionCreate, StatusSuccess, reasonNew
	created.step("Create", "export", StatusSuccess, fmt.Sprintf(
		"Created %s %s in the target; the answer was lost when the cycle was interrupted, and matching found it", strings.ToLower(co.SourceType), tid))
	return created
}

// forgetLostCreate drops the mark of a create whose answer was lost and
// which matching did not find: it never arrived. The object is created
// anew only if it is still in scope and active.
func (p *pass) forgetLostCreate(ctx context.Context, co *compiledObject, rec *LogRecord, src *sourceObject) (outcome, bool) {
	if !src.lostCreate {
		return outcome{}, false
	}
	if err := p.j.deleteLink(ctx, co.SourceType, src.r.ID, nil); err != nil {
		return failed(rec, "matching", "InternalError", err.Error()), true
	}
	return outcome{}, src.softDeleted()
}

// createMissing creates an object the target does not have, when the
// Create action is on.
func (p *pass) createMissing(ctx context.Context, co *compiledObject, rec *LogRecord, src *sourceObject, want *desired) outcome {
	if !co.Actions.Create {
		return skipped(rec, codeEntrySynchronizationSkip, "No matching object exists in the target and the Create action is off")
	}
	o := p.create(ctx, co, rec, src.r, want)
	o.groups = src.groups
	return o
}

// Reasons an action was taken, for log records.
const (
	reasonUnassigned = "not assigned to the application (directly or through a group)"
	reasonOutOfScope = "does not pass the scoping filters"
	reasonDisabled   = "disabled in the directory"
	reasonDeleted    = "deleted in the directory"
	reasonNew        = "in scope and not in the target"
	reasonChanged    = "changed in the directory or the configuration"
	reasonDrift      = "differs in the target"
)

// linkedElsewhere reports, with its failed outcome, that the target object
// tid is linked to another directory object already: both have the same
// matching value, and linking both would make them overwrite each other.
func (p *pass) linkedElsewhere(ctx context.Context, co *compiledObject, rec *LogRecord, tid string) (outcome, bool) {
	other, err := p.j.e.store.LinkByTarget(ctx, p.j.app.ID, co.SourceType, tid)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return outcome{}, false
	case err != nil:
		return failed(rec, "matching", "InternalError", err.Error()), true
	case other.SourceID == rec.Source.ID:
		return outcome{}, false
	}
	o := failed(rec, "matching", string(codeDuplicateSourceEntries), fmt.Sprintf(
		"The target object %s matches this %s, but it is linked to %s %s already: the two have the same matching value",
		tid, strings.ToLower(co.SourceType), strings.ToLower(co.SourceType), other.SourceID))
	rec.Error.RecommendedAction = "Make the matching attribute's value unique in the directory."
	return o, true
}

// create creates the object in the target and links it. The link and the
// create's log record are written together, so that a crash right after
// the create can lose neither.
func (p *pass) create(ctx context.Context, co *compiledObject, rec *LogRecord, r *store.Resource, want *desired) outcome {
	j := p.j
	refs, pending := j.resolveRefs(ctx, want.refs)
	values := maps2(want.values, refs)
	doc, err := co.document(values)
	if err != nil {
		return mappingFailed(rec, err)
	}
	if p.plan != nil {
		var changes []change
		for _, k := range sortedKeys(values) {
			changes = append(changes, change{path: k, new: values[k], redacted: want.redacted[k]})
		}
		p.planned(rec, ActionCreate, reasonNew, modified(changes))
		return outcome{count: func(c *Counts) { c.Created++ }}
	}
	rematch := func(ctx context.Context) (resource.Document, bool, error) {
		return p.queryMatch(ctx, co, want)
	}
	// Mark the create as sent before sending it: should the process die
	// before the answer is recorded, the object is matched, not created
	// twice, and its create is recorded then.
	marker := &store.Link{AppID: j.app.ID, SourceType: co.SourceType, SourceID: r.ID}
	if err := j.putLink(ctx, marker, &exportedRecord{Values: map[string]any{}}, nil); err != nil {
		return failed(rec, "export", "InternalError", err.Error())
	}
	created, matchedInstead, err := j.client.Create(ctx, co.TargetType, doc, rematch)
	if err != nil {
		return failedAction(rec, ActionCreate, err)
	}
	tid, _ := created.String("id")
	rec.Target.ID = tid
	link := &store.Link{AppID: j.app.ID, SourceType: co.SourceType, SourceID: r.ID, TargetID: tid}
	k := objectKey{co.SourceType, r.ID}
	if matchedInstead {
		// The target had it after all (a 409, or a create that went
		// through before its answer was lost): link, then update.
		if o, dup := p.linkedElsewhere(ctx, co, rec, tid); dup {
			return o
		}
		rec.step("Match", "matching", StatusSuccess, fmt.Sprintf("Matched target object %s when creating", tid))
		exp := &exportedRecord{Values: co.observed(created)}
		if err := j.putLink(ctx, link, exp, nil); err != nil {
			return failed(rec, "export", "InternalError", err.Error())
		}
		p.markReconciled(k)
		o := p.update(ctx, co, rec, r, render(r), link, false, true)
		o.linked = true
		return o
	}
	var changes []change
	for _, k := range sortedKeys(values) {
		changes = append(changes, change{path: k, new: values[k], redacted: want.redacted[k]})
	}
	rec.ModifiedProperties = modified(changes)
	rec.Action, rec.Status, rec.Reason = ActionCreate, StatusSuccess, reasonNew
	rec.step("Create", "export", StatusSuccess, fmt.Sprintf("Created %s %s in the target", strings.ToLower(co.SourceType), tid))
	exp := &exportedRecord{Values: values}
	if err := j.putLink(ctx, link, exp, rec); err != nil {
		// The target has the object and Ferry does not know it: the next
		// cycle's matching finds it.
		return failed(rec, "export", "InternalError", err.Error())
	}
	p.markReconciled(k)
	p.deferRefs(r.ID, pending)
	o := outcome{record: rec, linked: true, count: func(c *Counts) { c.Created++ }}
	if co.members {
		// The members follow in requests of their own, recorded in a
		// record of their own: the create's is written.
		mrec := p.followRecord(rec)
		added, removed, err := p.sendMembers(ctx, co, r, link, exp)
		switch {
		case err != nil && ctx.Err() != nil:
			// Stopped: the members are added when the cycle resumes.
		case err != nil:
			// Created, but its members failed: the object goes to escrow
			// with the members' failure, and is counted as created.
			failedAction(mrec, ActionUpdate, err)
			return outcome{record: mrec, linked: true, count: func(c *Counts) { c.Created++ }}
		case added+removed > 0:
			mrec.ModifiedProperties = []ModifiedProperty{{Name: "members", NewValue: fmt.Sprintf("%d members", added)}}
			mrec.Action, mrec.Status, mrec.Reason = ActionUpdate, StatusSuccess, reasonNew
			mrec.step("Update", "export", StatusSuccess, fmt.Sprintf("Added %d members to group %s", added, tid))
			if err := j.putLink(ctx, link, exp, mrec); err != nil {
				return failed(rec, "export", "InternalError", err.Error())
			}
		}
	}
	return o
}

// followRecord starts the log record of a further action on the object of
// rec, whose record is written already.
func (p *pass) followRecord(rec *LogRecord) *LogRecord {
	return &LogRecord{ActivityDateTime: p.j.e.clock.Now().UTC(), CycleID: rec.CycleID, ChangeID: store.NewID(), JobID: rec.JobID,
		Source: rec.Source, Target: rec.Target}
}

// update brings a linked object in line with its mappings: a PATCH of the
// attributes that differ, and, for a group, its members. In a full cycle
// (reconcile) they are compared with the target object as it is, once per
// cycle, so that drift is repaired and a target object that is gone is
// matched or created again; otherwise with what was last exported.
func (p *pass) update(ctx context.Context, co *compiledObject, rec *LogRecord, r *store.Resource, doc resource.Document,
	link *store.Link, softDeleted, inScope bool) outcome {
	j := p.j
	k := objectKey{co.SourceType, r.ID}
	want, err := co.evaluate(doc, softDeleted, false, j.e.env)
	if err != nil {
		return mappingFailed(rec, err)
	}
	exp, err := decodeExported(link.Exported)
	if err != nil {
		return failed(rec, "processing", "InternalError", err.Error())
	}
	reason := reasonChanged
	if p.reconcile && p.markReconciled(k) {
		actual, found, listed, err := p.actual(ctx, co, link.TargetID)
		if err != nil {
			return failedErr(rec, "matching", err)
		}
		if !found {
			return p.anchorLost(ctx, co, rec, link)
		}
		exp = co.reconciled(exp, actual)
		reason = reasonDrift
		if listed {
			rec.step("Read target", "matching", StatusSuccess, fmt.Sprintf("Compared target object %s, as listed at the start of the cycle, with the mappings", link.TargetID))
		} else {
			rec.step("Read target", "matching", StatusSuccess, fmt.Sprintf("Read target object %s to compare with the mappings", link.TargetID))
		}
	}
	refs, pending := j.resolveRefs(ctx, want.refs)
	changes := co.diff(exp.Values, want, refs)
	action := ActionUpdate
	if softDeleted && disables(changes) {
		action = ActionDisable
		if rec.Reason == "" {
			rec.Reason = reasonDisabled
		}
	}
	if len(changes) > 0 && !co.Actions.Update {
		return skipped(rec, codeEntrySynchronizationSkip, "The object differs from the target but the Update action is off")
	}
	if action == ActionDisable {
		if o, held := p.hold(co, rec, link.TargetID, ActionDisable); held {
			return o
		}
	}
	if p.plan != nil {
		return p.planUpdate(ctx, co, rec, r, exp, changes, reason)
	}
	if len(changes) > 0 {
		_, err := j.client.Patch(ctx, co.TargetType, link.TargetID, operations(changes))
		if scimclient.IsNotFound(err) {
			return p.anchorLost(ctx, co, rec, link)
		}
		if err != nil {
			return failedAction(rec, action, err)
		}
		for _, c := range changes {
			exp.Values[c.path] = c.new
		}
		rec.ModifiedProperties = modified(changes)
	}
	p.deferRefs(r.ID, pending)
	memberChanges := 0
	var memberErr error
	if co.members {
		before := len(exp.Members)
		added, removed, err := p.sendMembers(ctx, co, r, link, exp)
		if scimclient.IsNotFound(err) && len(changes) == 0 {
			return p.anchorLost(ctx, co, rec, link)
		}
		memberErr = err
		memberChanges = added + removed
		if memberChanges > 0 {
			rec.ModifiedProperties = append(rec.ModifiedProperties, ModifiedProperty{Name: "members",
				OldValue: fmt.Sprintf("%d members", before), NewValue: fmt.Sprintf("%d members (%d added, %d removed)", len(exp.Members), added, removed)})
		}
	}
	if len(changes) == 0 && memberChanges == 0 {
		if memberErr != nil && ctx.Err() == nil {
			return failedAction(rec, action, memberErr)
		}
		if p.onDemand {
			rec.Action, rec.Status = ActionOther, StatusSuccess
			rec.step("Update", "export", StatusSkipped, "The target object is already in sync")
			return outcome{record: rec, count: func(c *Counts) { c.Unchanged++ }}
		}
		if link.Created.After(p.cycleStarted) && link.Created.Before(p.passStarted) {
			// Created earlier in this cycle, before its process stopped or
			// died: its log record was written with its link.
			return outcome{count: func(c *Counts) { c.Created++ }}
		}
		return outcome{count: func(c *Counts) { c.Unchanged++ }}
	}
	if rec.Reason == "" {
		rec.Reason = reason
	}
	rec.Action, rec.Status = action, StatusSuccess
	verb := "Updated"
	if action == ActionDisable {
		verb = "Disabled"
	}
	rec.step(verb, "export", StatusSuccess, fmt.Sprintf("%s %s %s in the target", verb, strings.ToLower(co.SourceType), link.TargetID))
	if memberErr != nil && ctx.Err() == nil {
		// Some of it was sent: the record says what, and that the members
		// failed.
		o := failedAction(rec, action, memberErr)
		if err := j.putLink(ctx, link, exp, rec); err != nil {
			return failed(rec, "export", "InternalError", err.Error())
		}
		return o
	}
	if err := j.putLink(ctx, link, exp, rec); err != nil {
		return failed(rec, "export", "InternalError", err.Error())
	}
	if action == ActionDisable {
		return outcome{record: rec, count: func(c *Counts) { c.Disabled++ }}
	}
	return outcome{record: rec, count: func(c *Counts) { c.Updated++ }}
}

// markReconciled records that a linked object is compared with the target
// in this pass, and reports whether it was not already.
func (p *pass) markReconciled(k objectKey) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.reconciled[k] {
		return false
	}
	p.reconciled[k] = true
	return true
}

// disables reports whether changes set active to false.
func disables(changes []change) bool {
	for _, c := range changes {
		if strings.EqualFold(c.path, "active") && c.new == false {
			return true
		}
	}
	return false
}

// anchorLost handles a linked object that the target no longer has
// (InvalidAnchor): the link goes, and the object is matched or created
// again in this cycle's follow-ups.
func (p *pass) anchorLost(ctx context.Context, co *compiledObject, rec *LogRecord, link *store.Link) outcome {
	j := p.j
	if p.plan != nil {
		p.planned(rec, ActionCreate, "gone from the target: matched or created again", nil)
		return outcome{count: func(c *Counts) { c.Created++ }}
	}
	rec.Action, rec.Status, rec.Reason = ActionUpdate, StatusWarning, "gone from the target"
	rec.Error = &ErrorInfo{Code: string(scimclient.CodeInvalidAnchor), Category: "nonServiceFailure",
		Reason: fmt.Sprintf("The target no longer has object %s, which was created or matched for this %s", link.TargetID,
			strings.ToLower(co.SourceType)),
		RecommendedAction: "None: the link was dropped and the object is matched or created again."}
	rec.step("Update", "export", StatusWarning, rec.Error.Reason)
	if err := j.deleteLink(ctx, co.SourceType, link.SourceID, rec); err != nil {
		return failed(rec, "export", "InternalError", err.Error())
	}
	p.followUp(objectKey{co.SourceType, link.SourceID})
	return outcome{record: rec, count: func(c *Counts) { c.Skipped++ }}
}

// gone handles an object deleted from the directory: its target object is
// deleted when the Delete action is on, and disabled otherwise.
func (p *pass) gone(ctx context.Context, co *compiledObject, rec *LogRecord) outcome {
	j := p.j
	link, err := j.e.store.Link(ctx, j.app.ID, co.SourceType, rec.Source.ID)
	if errors.Is(err, store.ErrNotFound) {
		if p.onDemand {
			return skipped(rec, codeEntrySynchronizationSkip, "The object does not exist in the directory")
		}
		return outcome{}
	}
	if err != nil {
		return failed(rec, "processing", "InternalError", err.Error())
	}
	if link.TargetID == "" {
		// A create whose answer was lost, of an object since deleted: with
		// no source to match by, only the mark goes.
		if err := j.deleteLink(ctx, co.SourceType, rec.Source.ID, nil); err != nil {
			return failed(rec, "processing", "InternalError", err.Error())
		}
		return outcome{}
	}
	rec.Target.ID = link.TargetID
	rec.Reason = reasonDeleted
	rec.step("Import", "import", StatusSuccess, "The object was deleted from the directory")
	if j.cfg.SkipOutOfScopeDeletions && !co.Actions.Delete {
		return skipped(rec, codeEntrySynchronizationSkip, "Deleted in the directory; the Delete action is off and SkipOutOfScopeDeletions is set")
	}
	if co.Actions.Delete {
		if o, held := p.hold(co, rec, link.TargetID, ActionDelete); held {
			return o
		}
		err := j.client.Delete(ctx, co.TargetType, link.TargetID)
		if err != nil && !scimclient.IsNotFound(err) {
			return failedAction(rec, ActionDelete, err)
		}
		rec.Action, rec.Status = ActionDelete, StatusSuccess
		rec.step("Delete", "export", StatusSuccess, fmt.Sprintf("Deleted %s %s in the target", strings.ToLower(co.SourceType), link.TargetID))
		if err := j.deleteLink(ctx, co.SourceType, rec.Source.ID, rec); err != nil {
			return failed(rec, "export", "InternalError", err.Error())
		}
		return outcome{record: rec, count: func(c *Counts) { c.Deleted++ }}
	}
	// Without the Delete action a deleted user is disabled, not left
	// active; then the object is no longer managed.
	exp, err := decodeExported(link.Exported)
	if err != nil {
		return failed(rec, "processing", "InternalError", err.Error())
	}
	if co.SourceType == store.UserType && exp.Values["active"] != false && co.mapsActive() {
		if o, held := p.hold(co, rec, link.TargetID, ActionDisable); held {
			return o
		}
		ops := []scimclient.Operation{{Op: "replace", Path: "active", Value: false}}
		if _, err := j.client.Patch(ctx, co.TargetType, link.TargetID, ops); err != nil && !scimclient.IsNotFound(err) {
			return failedAction(rec, ActionDisable, err)
		}
		rec.ModifiedProperties = []ModifiedProperty{{Name: "active", OldValue: display(exp.Values["active"]), NewValue: "false"}}
	}
	rec.Action, rec.Status = ActionDisable, StatusSuccess
	rec.step("Disable", "export", StatusSuccess, "Deleted in the directory with the Delete action off: disabled in the target and no longer managed")
	if err := j.deleteLink(ctx, co.SourceType, rec.Source.ID, rec); err != nil {
		return failed(rec, "export", "InternalError", err.Error())
	}
	return outcome{record: rec, count: func(c *Counts) { c.Disabled++ }}
}

// groupLeft handles a provisioned group that left the scope. A group has
// no active to clear, so, as Entra does, it is deleted in the target when
// the Delete action is on; otherwise it is left as it is and no longer
// managed.
func (p *pass) groupLeft(ctx context.Context, co *compiledObject, rec *LogRecord, link *store.Link) outcome {
	j := p.j
	if !co.Actions.Delete {
		if err := j.deleteLink(ctx, co.SourceType, link.SourceID, nil); err != nil {
			return failed(rec, "export", "InternalError", err.Error())
		}
		return skipped(rec, codeEntrySynchronizationSkip, "The group left the scope; with the Delete action off it stays in the target, no longer managed")
	}
	if o, held := p.hold(co, rec, link.TargetID, ActionDelete); held {
		return o
	}
	if err := j.client.Delete(ctx, co.TargetType, link.TargetID); err != nil && !scimclient.IsNotFound(err) {
		return failedAction(rec, ActionDelete, err)
	}
	rec.Action, rec.Status = ActionDelete, StatusSuccess
	rec.step("Delete", "export", StatusSuccess, fmt.Sprintf("The group left the scope: deleted group %s in the target", link.TargetID))
	if err := j.deleteLink(ctx, co.SourceType, link.SourceID, rec); err != nil {
		return failed(rec, "export", "InternalError", err.Error())
	}
	return outcome{record: rec, count: func(c *Counts) { c.Deleted++ }}
}

// mapsActive reports whether the object's mappings set active.
func (co *compiledObject) mapsActive() bool {
	for _, ca := range co.attrs {
		if strings.EqualFold(ca.Target, "active") {
			return true
		}
	}
	return false
}

// --- matching -----------------------------------------------------------------

// match finds the target object of an unlinked source object by its
// matching attributes, in precedence order, as Entra ID matches
// (https://learn.microsoft.com/entra/identity/app-provisioning/customize-application-attributes).
func (p *pass) match(ctx context.Context, co *compiledObject, want *desired, rec *LogRecord) (resource.Document, bool, error) {
	any := false
	for _, ca := range co.match {
		v, ok := want.values[ca.Target].(string)
		if !ok || v == "" {
			continue
		}
		any = true
		if idx := p.prematch[co.TargetType]; idx != nil {
			docs := idx.lookup(ca.Target, v)
			switch len(docs) {
			case 0:
				continue
			case 1:
				rec.step("Match", "matching", StatusSuccess, fmt.Sprintf("Matched on %s = %q (target listing)", ca.Target, v))
				return docs[0], true, nil
			}
			return nil, false, &mappingError{scimclient.CodeDuplicateTargetEntries,
				fmt.Sprintf("%d target objects have %s = %q", len(docs), ca.Target, v)}
		}
		doc, found, err := p.j.client.Match(ctx, co.TargetType, ca.Target, v)
		if err != nil {
			return nil, false, err
		}
		if found {
			rec.step("Match", "matching", StatusSuccess, fmt.Sprintf("Matched on %s = %q", ca.Target, v))
			return doc, true, nil
		}
	}
	if !any {
		return nil, false, &mappingError{codeImportSkipped, "The object has no value for any matching attribute"}
	}
	rec.step("Match", "matching", StatusSuccess, "No matching object in the target")
	return nil, false, nil
}

// queryMatch matches by querying the target, whatever the listing said:
// the check before a create is resent.
func (p *pass) queryMatch(ctx context.Context, co *compiledObject, want *desired) (resource.Document, bool, error) {
	for _, ca := range co.match {
		v, ok := want.values[ca.Target].(string)
		if !ok || v == "" {
			continue
		}
		doc, found, err := p.j.client.Match(ctx, co.TargetType, ca.Target, v)
		if err != nil || found {
			return doc, found, err
		}
	}
	return nil, false, nil
}

// --- references and members ------------------------------------------------------

// resolveRefs turns the source ids of reference attributes into the
// target ids of their linked objects. pending are those not linked yet.
func (j *job) resolveRefs(ctx context.Context, refs map[string]string) (map[string]any, []string) {
	out := map[string]any{}
	var pending []string
	for path, sid := range refs {
		l, err := j.e.store.Link(ctx, j.app.ID, store.UserType, sid)
		if err != nil || l.TargetID == "" {
			pending = append(pending, sid)
			continue
		}
		out[path] = map[string]any{"value": l.TargetID}
	}
	return out, pending
}

// deferRefs remembers that object id waits for the objects pending to be
// provisioned, to be updated when they are.
func (p *pass) deferRefs(id string, pending []string) {
	if len(pending) == 0 {
		return
	}
	p.j.stateMu.Lock()
	defer p.j.stateMu.Unlock()
	if p.j.state.PendingRefs == nil {
		p.j.state.PendingRefs = map[string][]string{}
	}
	for _, sid := range pending {
		if !slices.Contains(p.j.state.PendingRefs[sid], id) {
			p.j.state.PendingRefs[sid] = append(p.j.state.PendingRefs[sid], id)
		}
	}
}

// sendMembers sends the difference between a group's linked members and
// the members last exported, in chunks, and records the new set in exp;
// the caller writes the link. A target that the engine compared with
// (reconcile) has in exp.Members what it holds of the members Ferry gave
// it.
func (p *pass) sendMembers(ctx context.Context, co *compiledObject, r *store.Resource, link *store.Link, exp *exportedRecord) (added, removed int, err error) {
	j := p.j
	add, remove, want, err := p.memberChanges(ctx, r, exp)
	if err != nil {
		return 0, 0, err
	}
	if len(add) == 0 && len(remove) == 0 {
		return 0, 0, nil
	}
	if !co.Actions.Update && len(exp.Members) > 0 {
		return 0, 0, nil
	}
	if len(add) > 0 {
		if err := j.client.AddMembers(ctx, link.TargetID, add); err != nil {
			return 0, 0, err
		}
	}
	if len(remove) > 0 {
		if err := j.client.RemoveMembers(ctx, link.TargetID, remove); err != nil {
			// The additions went through: keep them.
			exp.Members = sortedUnion(exp.Members, add)
			return len(add), 0, err
		}
	}
	slices.Sort(want)
	exp.Members = want
	return len(add), len(remove), nil
}

// memberChanges returns the target ids of a group's linked members
// (want), those to add and those to remove, against what was exported.
func (p *pass) memberChanges(ctx context.Context, r *store.Resource, exp *exportedRecord) (add, remove, want []string, err error) {
	j := p.j
	for _, m := range r.Members {
		l, err := j.e.store.Link(ctx, j.app.ID, m.Type, m.ID)
		if errors.Is(err, store.ErrNotFound) || (err == nil && l.TargetID == "") {
			continue // not provisioned (yet): added when it is
		}
		if err != nil {
			return nil, nil, nil, err
		}
		want = append(want, l.TargetID)
	}
	have := map[string]bool{}
	for _, id := range exp.Members {
		have[id] = true
	}
	wantSet := map[string]bool{}
	for _, id := range want {
		wantSet[id] = true
		if !have[id] {
			add = append(add, id)
		}
	}
	for _, id := range exp.Members {
		if !wantSet[id] {
			remove = append(remove, id)
		}
	}
	return add, remove, want, nil
}

func sortedUnion(a, b []string) []string {
	out := slices.Concat(a, b)
	slices.Sort(out)
	return slices.Compact(out)
}

// memberIDsOf returns the member ids of a target group document.
func memberIDsOf(doc resource.Document) []string {
	ms, _ := doc["members"].([]any)
	var out []string
	for _, m := range ms {
		if mm, ok := m.(map[string]any); ok {
			if id, ok := mm["value"].(string); ok {
				out = append(out, id)
			}
		}
	}
	slices.Sort(out)
	return out
}

// --- helpers --------------------------------------------------------------------------

// putLink stores a link with its exported record and, when rec is not
// nil, the log record of the target write it follows, in one transaction:
// a crash can lose neither without the other. The store writes even when
// ctx is done, as what the target was sent must be recorded.
func (j *job) putLink(ctx context.Context, l *store.Link, exp *exportedRecord, rec *LogRecord) error {
	b, err := json.Marshal(exp)
	if err != nil {
		return err
	}
	l.Exported = b
	return j.writeLink(rec, func(logs []*store.ProvisioningLog) error {
		if err := j.e.store.PutLink(context.WithoutCancel(ctx), l, logs...); err != nil {
			return fmt.Errorf("store the link: %w", err)
		}
		return nil
	})
}

// deleteLink removes an object's link, with the log record of the target
// write it follows, as putLink writes one.
func (j *job) deleteLink(ctx context.Context, typ, id string, rec *LogRecord) error {
	return j.writeLink(rec, func(logs []*store.ProvisioningLog) error {
		if err := j.e.store.DeleteLink(context.WithoutCancel(ctx), j.app.ID, typ, id, logs...); err != nil {
			return fmt.Errorf("remove the link: %w", err)
		}
		return nil
	})
}

// writeLink runs a write of a link with rec's stored form (none for nil),
// once the fence allows it, and gives rec the id it was stored with. A
// plan writes nothing.
func (j *job) writeLink(rec *LogRecord, write func([]*store.ProvisioningLog) error) error {
	if j.dry {
		return nil
	}
	if err := j.guard(); err != nil {
		return err
	}
	logs, err := j.commitRecord(rec)
	if err != nil {
		return err
	}
	if err := write(logs); err != nil {
		if j.fenced(err) {
			return errLeaseLost
		}
		return err
	}
	if rec != nil {
		rec.ID = logs[0].ID
	}
	return nil
}

// commitRecord returns the stored form of rec, none for nil.
func (j *job) commitRecord(rec *LogRecord) ([]*store.ProvisioningLog, error) {
	if rec == nil {
		return nil, nil
	}
	rec.DurationMs = j.e.clock.Now().Sub(rec.ActivityDateTime).Milliseconds()
	l, err := storedLog(j.app, rec)
	if err != nil {
		return nil, err
	}
	return []*store.ProvisioningLog{l}, nil
}

// render returns a stored resource as the document mappings read: the
// stored attributes with its id.
func render(r *store.Resource) resource.Document {
	doc := r.Doc.Clone()
	doc["id"] = r.ID
	return doc
}

func displayName(r *store.Resource) string {
	for _, k := range []string{"userName", "displayName"} {
		if s, ok := r.Doc.String(k); ok && s != "" {
			return s
		}
	}
	return r.ID
}

func maps2(a, b map[string]any) map[string]any {
	out := make(map[string]any, len(a)+len(b))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

func (r *LogRecord) step(name, typ, status, description string) {
	r.Steps = append(r.Steps, Step{Name: name, Type: typ, Status: status, Description: description})
}

func skipped(rec *LogRecord, code scimclient.Code, reason string) outcome {
	rec.Action, rec.Status = ActionOther, StatusSkipped
	rec.Error = &ErrorInfo{Code: string(code), Reason: reason, Category: "nonServiceFailure"}
	return outcome{record: rec, count: func(c *Counts) { c.Skipped++ }}
}

// failed records a failure. Failures of Ferry's own (InternalError: the
// database) are retryable; the others are made so by failedErr when the
// target's answer says so.
func failed(rec *LogRecord, stepType, code, reason string) outcome {
	rec.Action, rec.Status = ActionOther, StatusFailure
	rec.Error = &ErrorInfo{Code: code, Reason: reason, Category: "failure", Retryable: code == "InternalError"}
	rec.step("Failed", stepType, StatusFailure, reason)
	return outcome{record: rec, count: func(c *Counts) { c.Failed++ }}
}

func mappingFailed(rec *LogRecord, err error) outcome {
	var me *mappingError
	if errors.As(err, &me) {
		o := failed(rec, "processing", string(me.code), me.reason)
		rec.Error.RecommendedAction = recommendation(me.code)
		return o
	}
	return failed(rec, "processing", "InternalError", err.Error())
}

// failedAction records the failure of an action sent to the target: the
// record names the action that failed.
func failedAction(rec *LogRecord, action string, err error) outcome {
	o := failedErr(rec, "export", err)
	rec.Action = action
	return o
}

// failedErr records a failure from the target or matching.
func failedErr(rec *LogRecord, stepType string, err error) outcome {
	var me *mappingError
	if errors.As(err, &me) {
		o := failed(rec, stepType, string(me.code), me.reason)
		rec.Error.RecommendedAction = recommendation(me.code)
		return o
	}
	code := scimclient.CodeOf(err)
	if code == "" {
		code = "InternalError"
	}
	o := failed(rec, stepType, string(code), err.Error())
	rec.Error.RecommendedAction = recommendation(code)
	if se, ok := errors.AsType[*scimclient.Error](err); ok {
		rec.Error.Retryable = se.Retryable
		rec.Error.Request = se.Method + " " + se.URL
	}
	return o
}

// recommendation is the recommended action for an error code.
func recommendation(code scimclient.Code) string {
	switch code {
	case scimclient.CodeUnauthorized, scimclient.CodeInsufficientRights:
		return "Check the Secret Token and run Test Connection."
	case scimclient.CodeTooManyRequests, scimclient.CodeInternalServerError, scimclient.CodeTimeout, scimclient.CodeWebExceptionProtocolError:
		return "None: the object is in escrow and retried on its own schedule (ferry apps retry retries it now)."
	case scimclient.CodeEgressRefused:
		return "This server's egress policy refuses the target's address: an operator allows it with ferry serve --egress-allow (env FERRY_EGRESS_ALLOW); then ferry apps retry."
	case scimclient.CodeBadRequest, scimclient.CodeUnprocessableEntity:
		return "The target refused the object's values (see the reason for the attribute it names): fix the value in the directory or the attribute mapping; the object is tried again when either changes."
	case scimclient.CodeEntryConflict:
		return "Another object in the target has a unique value of this one (a userName or an email): make the values unique, or match on that attribute."
	case scimclient.CodeDuplicateTargetEntries:
		return "Make the matching attribute's value unique in the target, or change the matching attributes."
	case codeMandatoryFieldsMissing:
		return "Give the object a value for the attribute the target requires, or a default value in the mapping."
	case codeImportSkipped:
		return "Give the object a value for a matching attribute."
	case codeExpressionFailed, codeSchemaPropertyOneValue:
		return "Fix the attribute mapping's expression."
	}
	return ""
}
