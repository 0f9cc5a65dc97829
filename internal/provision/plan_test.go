package provision_test

import (
	"context"
	"testing"

	. "github.com/ferryid/ferry/internal/provision"
	"github.com/ferryid/ferry/internal/store"
)

// TestPlan: a plan on a fresh application lists every create and sends
// nothing; after a cycle it lists nothing; a change in the directory is
// planned as an update with its old and new values; the plan of a scope
// change that is not saved lists the disables and says the threshold
// would hold them, and saves nothing.
func TestPlan(t *testing.T) {
	ctx := context.Background()
	d := newDirectory(t)
	tg := newTarget(t)
	ids := d.seedUsers(t, 5, "Engineer")
	const name = "planned"
	d.newApp(t, tg, name, "ringcentral")
	d.setThreshold(t, name, DeletionThreshold{Count: 3})
	tg.take()
	plan, err := d.m.Plan(ctx, d.tenant, name)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Creates) != 5 || len(plan.Updates)+len(plan.Disables)+len(plan.Deletes)+len(plan.Failures) != 0 {
		t.Errorf("plan of a fresh application: %d creates, %d updates, %d disables, %d deletes, %d failures; want 5 creates only",
			len(plan.Creates), len(plan.Updates), len(plan.Disables), len(plan.Deletes), len(plan.Failures))
	}
	if w := writes(tg.take()); len(w) != 0 {
		t.Errorf("the plan wrote to the target: %v", w)
	}
	if c := d.cycle(t, name, true); c.Counts.Created != 5 {
		t.Errorf("the cycle after the plan: %+v; the plan must have stored nothing", c.Counts)
	}

	plan, err = d.m.Plan(ctx, d.tenant, name)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(plan.Creates) + len(plan.Updates) + len(plan.Disables) + len(plan.Deletes); n != 0 || plan.Unchanged != 5 {
		t.Errorf("plan after a cycle: %d actions, %d unchanged; want none and 5", n, plan.Unchanged)
	}

	d.update(t, store.UserType, ids[0], func(r *store.Resource) { r.Doc["title"] = "Lead" })
	plan, err = d.m.Plan(ctx, d.tenant, name)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Updates) != 1 || len(plan.Updates[0].Changes) != 1 || plan.Updates[0].Changes[0] != (ModifiedProperty{Name: "title", OldValue: "Engineer", NewValue: "Lead"}) {
		t.Errorf("plan of a title change: %+v", plan.Updates)
	}

	scope := ScopeAssigned
	before, err := d.m.App(ctx, d.tenant, name)
	if err != nil {
		t.Fatal(err)
	}
	tg.take()
	plan, err = d.m.PlanChange(ctx, d.tenant, name, AppChange{Scope: &scope})
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Disables) != 5 || !plan.Staged || plan.Limit != 3 || plan.ConfigVersion != 0 {
		t.Errorf("plan of a scope change: %d disables, staged %v, limit %d, version %d; want 5 held by a threshold of 3",
			len(plan.Disables), plan.Staged, plan.Limit, plan.ConfigVersion)
	}
	after, err := d.m.App(ctx, d.tenant, name)
	if err != nil {
		t.Fatal(err)
	}
	if after.Version != before.Version || after.Config.Scope != ScopeAll {
		t.Errorf("the plan of a change saved it: version %d → %d, scope %s", before.Version, after.Version, after.Config.Scope)
	}
	if w := writes(tg.take()); len(w) != 0 {
		t.Errorf("the plan of a change wrote to the target: %v", w)
	}
}
