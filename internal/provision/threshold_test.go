package provision_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/ferryid/ferry/internal/provision"
	"github.com/ferryid/ferry/internal/store"
)

// setThreshold sets an application's accidental-deletion threshold.
func (d *directory) setThreshold(t *testing.T, app string, th DeletionThreshold) {
	t.Helper()
	ctx := context.Background()
	v, err := d.m.App(ctx, d.tenant, app)
	if err != nil {
		t.Fatal(err)
	}
	cfg := v.Config
	cfg.AccidentalDeletions = th
	if _, err := d.m.UpdateApp(ctx, d.tenant, app, 0, AppChange{Config: &cfg}); err != nil {
		t.Fatal(err)
	}
}

// activeInTarget counts the target's active users.
func activeInTarget(t *testing.T, tg *target) int {
	n := 0
	for _, u := range tg.users(t) {
		if u.Doc["active"] == true {
			n++
		}
	}
	return n
}

// TestScopeChangeIsHeld: a careless scope change (assigned, with few
// assigned) would disable most users: the threshold holds every disable,
// none is sent, each is logged as staged, and the job is quarantined;
// allow-deletes then sends exactly that set.
func TestScopeChangeIsHeld(t *testing.T) {
	ctx := context.Background()
	d := newDirectory(t)
	tg := newTarget(t)
	ids := d.seedUsers(t, 60, "Engineer")
	const name = "scope"
	d.newApp(t, tg, name, "ringcentral")
	d.setThreshold(t, name, DeletionThreshold{Count: 40})
	d.cycle(t, name, true)
	for _, id := range ids[:10] {
		if _, err := d.m.Assign(ctx, d.tenant, name, Principal{Type: "User", ID: id}, ""); err != nil {
			t.Fatal(err)
		}
	}
	scope := ScopeAssigned
	if _, err := d.m.UpdateApp(ctx, d.tenant, name, 0, AppChange{Scope: &scope}); err != nil {
		t.Fatal(err)
	}
	tg.take()
	c := d.cycle(t, name, false)
	if w := writes(tg.take()); len(w) != 0 {
		t.Errorf("the cycle held by the threshold wrote %d requests: %v", len(w), w[:min(len(w), 5)])
	}
	if c.Counts.Disabled != 0 || c.Counts.Skipped != 50 {
		t.Errorf("the held cycle's counts: %+v; want 50 skipped (staged), none disabled", c.Counts)
	}
	checkCounts(t, "the held cycle", c)
	st := d.status(t, name)
	if st.Quarantine == nil || st.Quarantine.Reason != "TooManyDeletes" || st.StagedDeletes == nil || st.StagedDeletes.Disables != 50 || st.State != "quarantined" && st.State != "off" {
		t.Fatalf("status after the trip: state %s, quarantine %+v, staged %+v", st.State, st.Quarantine, st.StagedDeletes)
	}
	if !strings.Contains(st.Advice, "allow-deletes") {
		t.Errorf("advice: %q", st.Advice)
	}
	staged, err := d.m.Logs(ctx, d.tenant, name, LogFilter{Status: StatusSkipped, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, l := range staged {
		if l.Error != nil && l.Error.Code == "StagedAction" && l.Action == ActionDisable {
			n++
		}
	}
	if n != 50 {
		t.Errorf("%d staged log records, want 50", n)
	}
	if got := activeInTarget(t, tg); got != 60 {
		t.Errorf("%d active users in the target while held, want 60", got)
	}

	// Something arrives after the staging: it is not part of the set.
	late := ids[0]
	if err := d.m.Unassign(ctx, d.tenant, name, Principal{Type: "User", ID: late}); err != nil {
		t.Fatal(err)
	}
	if err := d.m.AllowDeletes(ctx, d.tenant, name); err != nil {
		t.Fatal(err)
	}
	c = d.cycle(t, name, false)
	if c.Kind != "staged" || c.Counts.Disabled != 50 {
		t.Errorf("allow-deletes: %s %+v; want 50 disabled", c.Kind, c.Counts)
	}
	if got := activeInTarget(t, tg); got != 10 {
		t.Errorf("%d active users after allow-deletes, want the 10 assigned (the one unassigned since is not part of the set)", got)
	}
	if st := d.status(t, name); st.Quarantine != nil || st.StagedDeletes != nil {
		t.Errorf("after allow-deletes: quarantine %+v, staged %+v", st.Quarantine, st.StagedDeletes)
	}
	if err := d.m.AllowDeletes(ctx, d.tenant, name); err == nil {
		t.Error("allow-deletes with nothing staged succeeded")
	}
}

// TestBulkDeleteIsHeld: a bulk delete in the directory is held the same
// way; reject-deletes drops the set and leaves the target as it is.
func TestBulkDeleteIsHeld(t *testing.T) {
	ctx := context.Background()
	d := newDirectory(t)
	tg := newTarget(t)
	ids := d.seedUsers(t, 60, "Engineer")
	const name = "bulk"
	d.newApp(t, tg, name, "ringcentral")
	d.setThreshold(t, name, DeletionThreshold{Count: 40})
	d.cycle(t, name, true)
	for _, id := range ids[:45] {
		if err := d.st.Delete(ctx, d.tenant, store.UserType, id, 0); err != nil {
			t.Fatal(err)
		}
	}
	tg.take()
	c := d.cycle(t, name, false)
	if w := writes(tg.take()); len(w) != 0 || c.Counts.Deleted != 0 {
		t.Errorf("the held cycle deleted %d and wrote %v", c.Counts.Deleted, w)
	}
	if st := d.status(t, name); st.StagedDeletes == nil || st.StagedDeletes.Deletes != 45 {
		t.Fatalf("staged: %+v", st.StagedDeletes)
	}
	if err := d.m.RejectDeletes(ctx, d.tenant, name); err != nil {
		t.Fatal(err)
	}
	d.cycle(t, name, false)
	if st := d.status(t, name); st.Quarantine != nil || st.StagedDeletes != nil {
		t.Errorf("after reject-deletes: quarantine %+v, staged %+v", st.Quarantine, st.StagedDeletes)
	}
	if n := len(tg.users(t)); n != 60 {
		t.Errorf("%d users in the target after reject-deletes, want the 60", n)
	}
}

// TestDeletesAddUpOverTheWindow: single deletes through incremental
// cycles add up within the window, so a stream of them trips the
// threshold too.
func TestDeletesAddUpOverTheWindow(t *testing.T) {
	ctx := context.Background()
	d := newDirectory(t)
	tg := newTarget(t)
	ids := d.seedUsers(t, 12, "Engineer")
	const name = "stream"
	d.newApp(t, tg, name, "ringcentral")
	d.setThreshold(t, name, DeletionThreshold{Count: 5})
	d.cycle(t, name, true)
	for i, id := range ids[:6] {
		if err := d.st.Delete(ctx, d.tenant, store.UserType, id, 0); err != nil {
			t.Fatal(err)
		}
		c := d.cycle(t, name, false)
		switch {
		case i < 5 && c.Counts.Deleted != 1:
			t.Errorf("delete %d within the threshold: %+v", i+1, c.Counts)
		case i == 5 && c.Counts.Deleted != 0:
			t.Errorf("the sixth delete within the hour was sent: %+v", c.Counts)
		}
	}
	if st := d.status(t, name); st.Quarantine == nil || st.Quarantine.Reason != "TooManyDeletes" || st.StagedDeletes.Recent != 5 {
		t.Errorf("after six deletes in an hour: quarantine %+v, staged %+v", st.Quarantine, st.StagedDeletes)
	}
}

// TestQuarantineBacksOff: too many failures in a cycle quarantine the
// job; on the Engine's clock it tries again 6 h after, then 12 h after
// the quarantine began; a passing Test Connection lets it try at once,
// and an attempt that passes ends the quarantine. After 28 days the job
// is turned Off.
func TestQuarantineBacksOff(t *testing.T) {
	ctx := context.Background()
	clock := newTestClock(time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC))
	now := clock.Now
	advance := clock.Advance
	d := newDirectoryWith(t, func(o *Options) { o.Clock = clock })
	base := newTarget(t)
	d.seedUsers(t, 60, "Engineer")
	var broken atomic.Bool
	broken.Store(true)
	tg := base.inject(t, func(w http.ResponseWriter, r *http.Request) bool {
		if broken.Load() && r.Method == "POST" {
			w.WriteHeader(http.StatusInternalServerError)
			return true
		}
		return false
	})
	const name = "backoff"
	d.newApp(t, tg, name, "ringcentral")
	if err := d.m.Start(ctx, d.tenant, name, false); err != nil {
		t.Fatal(err)
	}
	began := now()
	d.cycle(t, name, true)
	st := d.status(t, name)
	if q := st.Quarantine; st.State != "quarantined" || q == nil || q.Reason != "EncounteredEscrowProportionThreshold" || !q.NextAttempt.Equal(began.Add(6*time.Hour)) {
		t.Fatalf("after a cycle of failures: state %s, quarantine %+v", st.State, st.Quarantine)
	}
	due := func() string {
		t.Helper()
		kind, err := d.m.DueForTest(ctx, d.tenant, name)
		if err != nil {
			t.Fatal(err)
		}
		return kind
	}
	advance(5 * time.Hour)
	if k := due(); k != "" {
		t.Errorf("5 h into the quarantine the job is due for %q", k)
	}
	advance(time.Hour)
	if k := due(); k != "retry" {
		t.Fatalf("6 h into the quarantine the job is due for %q, want an attempt", k)
	}
	d.cycle(t, name, false)
	if q := d.status(t, name).Quarantine; q == nil || q.Attempts != 1 || !q.NextAttempt.Equal(began.Add(12*time.Hour)) {
		t.Errorf("after a failed attempt: %+v; want the next at 12 h", q)
	}
	// Fixed: a passing Test Connection lets it try at once, and it passes.
	broken.Store(false)
	if res, err := d.m.TestConnection(ctx, d.tenant, name); err != nil || !res.Success {
		t.Fatalf("test connection: %+v, %v", res, err)
	}
	if k := due(); k == "" {
		t.Fatal("after a passing Test Connection the job is not due")
	}
	c := d.cycle(t, name, false)
	if st := d.status(t, name); st.Quarantine != nil || c.Counts.Created != 60 {
		t.Errorf("after the fix: quarantine %+v, counts %+v", st.Quarantine, c.Counts)
	}

	// 28 days in quarantine turn the job Off.
	broken.Store(true)
	d.seedUsers2(t, 60)
	d.cycle(t, name, false)
	if d.status(t, name).Quarantine == nil {
		t.Fatal("not quarantined again")
	}
	advance(29 * 24 * time.Hour)
	d.cycle(t, name, false)
	if st := d.status(t, name); st.Enabled {
		t.Errorf("after 29 days in quarantine the job is still On: %+v", st.Quarantine)
	}
}

// seedUsers2 creates n more users, other2-000@example.com...
func (d *directory) seedUsers2(t *testing.T, n int) {
	t.Helper()
	for i := range n {
		d.create(t, store.UserType, fmt.Sprintf(`{"userName":"other2-%03d@example.com","active":true}`, i))
	}
}
