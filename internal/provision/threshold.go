package provision

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/ferryid/ferry/internal/store"
)

// Accidental-deletion prevention. A cycle does not send a disable or a
// delete when it meets one: it holds it (the object's processing ends
// there, uncounted), and decides once the cycle has looked at every
// object. When the held actions, with those sent within the window before,
// stay within the threshold they are sent then; otherwise none is sent,
// each is logged as staged, and the job is quarantined with reason
// TooManyDeletes until an administrator allows exactly that set
// (ferry apps allow-deletes) or drops it (reject-deletes). A cycle that
// ends early (a failed read of the directory, a stop) sends none of them,
// so an incomplete read never deprovisions anyone.

// Defaults of a DeletionThreshold's zero values.
const (
	DefaultDeletionThreshold = 500
	defaultDeletionWindow    = time.Hour
)

// heldAction is a disable or delete held until the cycle's end, or
// staged by the threshold.
type heldAction struct {
	Type     string `json:"type"`
	ID       string `json:"id"`
	Name     string `json:"name,omitempty"`
	TargetID string `json:"targetId,omitempty"`
	Action   string `json:"action"` // ActionDisable or ActionDelete
	Reason   string `json:"reason,omitempty"`
}

// stagedSet is the set of actions the threshold staged.
type stagedSet struct {
	ID     string       `json:"id"`
	At     time.Time    `json:"at"`
	Items  []heldAction `json:"items"`
	Limit  int          `json:"limit"`
	Recent int          `json:"recent"`
}

func checkDeletionThreshold(t DeletionThreshold) error {
	if t.Count < 0 {
		return invalid("accidentalDeletions.count must not be negative, not %d", t.Count)
	}
	if t.Percent < 0 || t.Percent > 100 {
		return invalid("accidentalDeletions.percent is a share of the linked objects, from 0 to 100, not %g", t.Percent)
	}
	if t.Window < 0 {
		return invalid("accidentalDeletions.window must not be negative")
	}
	return nil
}

func (t DeletionThreshold) count() int {
	if t.Count > 0 {
		return t.Count
	}
	return DefaultDeletionThreshold
}

func (t DeletionThreshold) window() time.Duration {
	if t.Window > 0 {
		return time.Duration(t.Window)
	}
	return defaultDeletionWindow
}

// hold holds a disable or delete of the object of rec until the cycle's
// end, unless the pass may send them (the decision was made, or an
// administrator provisions on demand). It reports whether it held it.
func (p *pass) hold(co *compiledObject, rec *LogRecord, targetID, action string) (outcome, bool) {
	if p.allowDeprovision || p.onDemand {
		return outcome{}, false
	}
	h := heldAction{Type: co.SourceType, ID: rec.Source.ID, Name: rec.Source.DisplayName, TargetID: targetID, Action: action, Reason: rec.Reason}
	p.mu.Lock()
	p.held[objectKey{h.Type, h.ID}] = h
	p.mu.Unlock()
	return outcome{held: true}, true
}

// heldActions returns the pass's held actions with those a cycle before
// it held and did not decide (it stopped or died), once each.
func (j *job) heldActions(p *pass) []heldAction {
	p.mu.Lock()
	defer p.mu.Unlock()
	j.stateMu.Lock()
	defer j.stateMu.Unlock()
	for _, h := range j.state.Deferred {
		k := objectKey{h.Type, h.ID}
		if _, ok := p.held[k]; !ok {
			p.held[k] = h
		}
	}
	out := make([]heldAction, 0, len(p.held))
	for _, h := range p.held {
		out = append(out, h)
	}
	return out
}

// keepHeld writes the pass's held actions into the job state, so that a
// cycle that stops or dies before deciding leaves them to the next. The
// caller holds stateMu.
func (j *job) keepHeldLocked() {
	p := j.pass
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.held) == 0 {
		return
	}
	seen := map[objectKey]bool{}
	for _, h := range j.state.Deferred {
		seen[objectKey{h.Type, h.ID}] = true
	}
	for k, h := range p.held {
		if !seen[k] {
			j.state.Deferred = append(j.state.Deferred, h)
		}
	}
}

// deletionLimit is how many disables and deletes the threshold allows now.
func (j *job) deletionLimit(ctx context.Context) (int, error) {
	t := j.cfg.AccidentalDeletions
	limit := t.count()
	if t.Percent > 0 {
		linked := 0
		for _, co := range j.cfg.objects {
			c, err := j.e.store.CountLinks(ctx, j.app.TenantID, j.app.ID, co.SourceType)
			if err != nil {
				return 0, err
			}
			linked += c.Total
		}
		limit = min(limit, int(math.Floor(t.Percent*float64(linked)/100)))
	}
	return limit, nil
}

// recentDeprovisions counts the disables and deletes sent within the
// window before now, forgetting older ones. The caller holds stateMu.
func (j *job) recentDeprovisionsLocked(now time.Time) int {
	from := now.Add(-j.cfg.AccidentalDeletions.window())
	kept := j.state.Deprovisioned[:0]
	for _, at := range j.state.Deprovisioned {
		if at.After(from) {
			kept = append(kept, at)
		}
	}
	j.state.Deprovisioned = kept
	return len(kept)
}

// settleDeprovisioning decides, at the end of a cycle that looked at every
// object, what becomes of the disables and deletes it held: sent, or
// staged and the job quarantined.
func (j *job) settleDeprovisioning(ctx context.Context, p *pass) error {
	held := j.heldActions(p)
	if len(held) == 0 {
		return nil
	}
	now := j.e.clock.Now().UTC()
	j.stateMu.Lock()
	recent := j.recentDeprovisionsLocked(now)
	j.stateMu.Unlock()
	if !j.cfg.AccidentalDeletions.Off {
		limit, err := j.deletionLimit(ctx)
		if err != nil {
			return err
		}
		if len(held)+recent > limit {
			return j.stage(ctx, p, held, limit, recent, now)
		}
	}
	if err := j.deprovision(ctx, p, held); err != nil {
		return err
	}
	j.stateMu.Lock()
	j.state.Deferred = nil
	j.stateMu.Unlock()
	return nil
}

// deprovision sends held actions: each object is processed again, with
// disables and deletes allowed, so that one that no longer needs them
// (assigned again since) is left alone.
func (j *job) deprovision(ctx context.Context, p *pass, held []heldAction) error {
	p.mu.Lock()
	p.allowDeprovision = true
	keys := make([]objectKey, 0, len(held))
	for _, h := range held {
		k := objectKey{h.Type, h.ID}
		delete(p.processed, k)
		delete(p.held, k)
		keys = append(keys, k)
	}
	before := p.counts.Disabled + p.counts.Deleted
	p.mu.Unlock()
	for len(keys) > 0 {
		n := min(len(keys), pageSize)
		if err := j.runPage(ctx, p, keys[:n]); err != nil {
			return err
		}
		keys = keys[n:]
	}
	p.mu.Lock()
	sent := p.counts.Disabled + p.counts.Deleted - before
	p.mu.Unlock()
	now := j.e.clock.Now().UTC()
	j.stateMu.Lock()
	for range sent {
		j.state.Deprovisioned = append(j.state.Deprovisioned, now)
	}
	j.stateMu.Unlock()
	return nil
}

// stage holds the actions for an administrator: each is logged as staged,
// and the job is quarantined with reason TooManyDeletes.
func (j *job) stage(ctx context.Context, p *pass, held []heldAction, limit, recent int, now time.Time) error {
	set := &stagedSet{ID: store.NewID(), At: now, Items: held, Limit: limit, Recent: recent}
	disables, deletes := set.counts()
	detail := fmt.Sprintf("%d disables and %d deletes, with %d sent in the last %s, exceed the accidental-deletion threshold of %d: none was sent",
		disables, deletes, recent, j.cfg.AccidentalDeletions.window(), limit)
	name := shellQuote(j.app.Name)
	action := fmt.Sprintf("Check the assignments, the scope and the scoping filters; then ferry apps allow-deletes %s sends exactly these, or ferry apps reject-deletes %s drops them.", name, name)
	for _, h := range held {
		code := "StagedAction"
		if h.Action == ActionDelete {
			code = "StagedDelete"
		}
		rec := &LogRecord{ActivityDateTime: now, CycleID: p.cycleID, ChangeID: store.NewID(), JobID: j.app.ID,
			Action: h.Action, Status: StatusSkipped, Reason: "held by the accidental-deletion threshold",
			Source: Identity{ID: h.ID, Type: h.Type, DisplayName: h.Name}, Target: Identity{ID: h.TargetID, Type: h.Type},
			Error: &ErrorInfo{Code: code, Category: "nonServiceFailure", Reason: detail, RecommendedAction: action}}
		rec.step("Staged", "export", StatusSkipped, detail)
		p.record(outcome{record: rec, count: func(c *Counts) { c.Skipped++ }})
	}
	j.stateMu.Lock()
	j.state.Staged = set
	j.state.Deferred = nil
	j.quarantineLocked(reasonTooManyDeletes, detail, "", "", now)
	j.stateMu.Unlock()
	j.log.Warn("disables and deletes held by the accidental-deletion threshold", "app", j.app.Name,
		"disables", disables, "deletes", deletes, "recent", recent, "limit", limit)
	j.e.notify(j.app, Notice{Type: NoticeDeletesStaged, Subject: fmt.Sprintf("%s: %d disables and deletes held", j.app.Name, disables+deletes),
		Text: detail + "\n\n" + action + "\n\n" + set.sampleText(10), Data: set.view()})
	return j.flush(ctx, p)
}

func (s *stagedSet) counts() (disables, deletes int) {
	for _, h := range s.Items {
		if h.Action == ActionDelete {
			deletes++
		} else {
			disables++
		}
	}
	return disables, deletes
}

func (s *stagedSet) view() *StagedDeletes {
	disables, deletes := s.counts()
	v := &StagedDeletes{ID: s.ID, At: s.At, Disables: disables, Deletes: deletes, Limit: s.Limit, Recent: s.Recent}
	for _, h := range s.Items[:min(len(s.Items), 10)] {
		v.Sample = append(v.Sample, Identity{ID: h.ID, Type: h.Type, DisplayName: h.Name})
	}
	return v
}

func (s *stagedSet) sampleText(n int) string {
	var b strings.Builder
	for _, h := range s.Items[:min(len(s.Items), n)] {
		fmt.Fprintf(&b, "  %s %s %s\n", h.Action, strings.ToLower(h.Type), h.Name)
	}
	if len(s.Items) > n {
		fmt.Fprintf(&b, "  and %d more\n", len(s.Items)-n)
	}
	return b.String()
}

// runStaged applies the staged set (allow) or drops it (reject), as the
// control record says, and leaves the quarantine it caused.
func (j *job) runStaged(ctx context.Context) error {
	j.stateMu.Lock()
	set := j.state.Staged
	j.stateMu.Unlock()
	allow := set != nil && j.control.AllowDeletes == set.ID
	total := 0
	if allow {
		total = len(set.Items)
	}
	p, err := j.beginCycle(ctx, CycleStatus{ID: store.NewID(), Kind: kindStaged, ConfigVersion: j.version, Started: j.e.clock.Now().UTC(), Total: total})
	if err != nil {
		return err
	}
	if allow {
		err = j.deprovision(ctx, p, set.Items)
	}
	if err == nil {
		j.stateMu.Lock()
		j.state.Staged = nil
		if q := j.state.Quarantine; q != nil && q.Reason == reasonTooManyDeletes {
			j.state.Quarantine = nil
		}
		j.stateMu.Unlock()
		j.log.Info("staged disables and deletes decided", "app", j.app.Name, "allowed", allow)
	}
	return j.endCycle(ctx, p, err)
}
