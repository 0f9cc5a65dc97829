package provision_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ferryid/ferry/internal/provision"
	"github.com/ferryid/ferry/internal/store"
)

// TestWatermarkBehindRetention: once the change feed after a job's
// watermark was pruned, the job's next cycle is a full one that says why,
// brings the target in line with the changes it could not read, and moves
// the watermark past the horizon, so that the cycles after it are
// incremental again.
func TestWatermarkBehindRetention(t *testing.T) {
	ctx := context.Background()
	d := newDirectory(t)
	tg := newTarget(t)
	ann := d.create(t, store.UserType, `{"userName":"ann@example.com","active":true,"title":"One"}`)
	app, err := d.m.CreateApp(ctx, d.tenant, provision.NewApp{Name: "kept", Template: "ringcentral", TenantURL: tg.url, SecretToken: tg.token, Scope: provision.ScopeAll})
	if err != nil {
		t.Fatal(err)
	}
	if c := d.cycle(t, app.Name, false); c.Kind != "initial" {
		t.Fatalf("first cycle: %+v", c)
	}
	d.update(t, store.UserType, ann, func(r *store.Resource) { r.Doc["title"] = "Two" })
	d.create(t, store.UserType, `{"userName":"bob@example.com","active":true}`)
	// Every entry so far goes: the cutoff is after the last write's time
	// (the store's clock), whatever the machine's clock says.
	cs, err := d.st.Changes(ctx, d.tenant, 0, 1000)
	if err != nil || len(cs) == 0 {
		t.Fatalf("changes: %v, %v", cs, err)
	}
	if n, err := d.st.PruneChanges(ctx, cs[len(cs)-1].At.Add(time.Second)); err != nil || n != int64(len(cs)) {
		t.Fatalf("PruneChanges = %d, %v; want %d", n, err, len(cs))
	}

	c := d.cycle(t, app.Name, false)
	if c.Kind != "full" || !strings.Contains(c.Reason, "deleted by the server's event retention") {
		t.Errorf("cycle after the prune: kind %s, reason %q; want a full cycle saying why", c.Kind, c.Reason)
	}
	if u := tg.user(t, "ann@example.com"); u == nil || u.Doc["title"] != "Two" {
		t.Errorf("ann in the target: %v, want title Two", u)
	}
	if tg.user(t, "bob@example.com") == nil {
		t.Error("bob, created in the pruned range, is not in the target")
	}
	st, err := d.m.Status(ctx, d.tenant, app.Name)
	if err != nil || st.Last == nil || st.Last.Reason != c.Reason {
		t.Errorf("status after the full cycle: %+v, %v", st, err)
	}

	d.update(t, store.UserType, ann, func(r *store.Resource) { r.Doc["title"] = "Three" })
	if c := d.cycle(t, app.Name, false); c.Kind != "incremental" || c.Reason != "" {
		t.Errorf("cycle after the full one: kind %s, reason %q; want incremental", c.Kind, c.Reason)
	}
	if u := tg.user(t, "ann@example.com"); u == nil || u.Doc["title"] != "Three" {
		t.Errorf("ann in the target: %v, want title Three", u)
	}
}
