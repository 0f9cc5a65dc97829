package provision_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ferryid/ferry/internal/bearer"
	"github.com/ferryid/ferry/internal/clocktest"
	. "github.com/ferryid/ferry/internal/provision"
	"github.com/ferryid/ferry/internal/scimclient"
	"github.com/ferryid/ferry/internal/server"
	"github.com/ferryid/ferry/internal/store"
)

// The tests in this file are about steering a job: Off, a configuration
// saved during a cycle, full cycles that repair the target, escrow and
// progress.

// seedUsers creates n active users user000@example.com... with a title.
func (d *directory) seedUsers(t *testing.T, n int, title string) []string {
	t.Helper()
	ids := make([]string, n)
	for i := range n {
		ids[i] = d.create(t, store.UserType, fmt.Sprintf(`{"userName":"user%03d@example.com","title":%q,"active":true}`, i, title))
	}
	return ids
}

// targetUsers returns the target's users by userName.
func (tg *target) users(t *testing.T) map[string]*store.Resource {
	t.Helper()
	page, err := tg.store.Query(context.Background(), tg.tenant, store.UserType, store.Query{Count: 100000})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*store.Resource{}
	for _, r := range page.Resources {
		name, _ := r.Doc.String("userName")
		if out[name] != nil {
			t.Errorf("the target holds %s twice", name)
		}
		out[name] = r
	}
	return out
}

// countingPOSTs returns the target behind a hook that counts POSTs and
// calls at(n) when the n-th arrives, before it is served.
func countingPOSTs(t *testing.T, base *target, at func(n int64)) (*target, *atomic.Int64) {
	var posts atomic.Int64
	tg := base.inject(t, func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == "POST" {
			at(posts.Add(1))
		}
		return false
	})
	return tg, &posts
}

// testClock is a clock a test moves by hand (clocktest.Clock), whose
// waits are real: the engine's rate limiter and retries sleep on it.
type testClock struct{ *clocktest.Clock }

func newTestClock(at time.Time) testClock { return testClock{clocktest.New(at)} }

// Sleep waits in real time.
func (testClock) Sleep(ctx context.Context, d time.Duration) error {
	return scimclient.RealClock{}.Sleep(ctx, d)
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// createRecords returns an application's create records, and how many
// each user has.
func (d *directory) createRecords(t *testing.T, app string) ([]LogRecord, map[string]int) {
	t.Helper()
	logs, err := d.m.Logs(context.Background(), d.tenant, app, LogFilter{Action: ActionCreate, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	perUser := map[string]int{}
	for _, l := range logs {
		perUser[l.Source.DisplayName]++
	}
	return logs, perUser
}

// newTenantToken creates a SCIM token of a tenant of the target's store.
func newTenantToken(t *testing.T, st store.Store, tenantID string) string {
	t.Helper()
	token, err := bearer.New(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateToken(context.Background(), store.Token{TenantID: tenantID, Name: "engine", Prefix: token[:6]}, bearer.Hash(token)); err != nil {
		t.Fatal(err)
	}
	return token
}

func (d *directory) newApp(t testing.TB, tg *target, name, template string) *AppView {
	t.Helper()
	app, err := d.m.CreateApp(context.Background(), d.tenant, NewApp{Name: name, Template: template, TenantURL: tg.url, SecretToken: tg.token, Scope: ScopeAll})
	if err != nil {
		t.Fatal(err)
	}
	d.unthrottle(t, name)
	return app
}

func (d *directory) status(t *testing.T, app string) *Status {
	t.Helper()
	st, err := d.m.Status(context.Background(), d.tenant, app)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func checkCounts(t *testing.T, what string, c *CycleStatus) {
	t.Helper()
	if c.Processed != c.Counts.Sum() {
		t.Errorf("%s: processed %d, but the counts %+v add up to %d", what, c.Processed, c.Counts, c.Counts.Sum())
	}
	if c.Processed > c.Total {
		t.Errorf("%s: processed %d of a total of %d", what, c.Processed, c.Total)
	}
}

// TestConfigSavedDuringCycleIsProvisioned: a configuration saved while a
// full cycle runs ends that cycle at its next page, and a full cycle on
// the new version follows, so that every target user gets the new value.
func TestConfigSavedDuringCycleIsProvisioned(t *testing.T) {
	ctx := context.Background()
	d := newDirectory(t)
	base := newTarget(t)
	d.seedUsers(t, 600, "v1")
	const name = "midcycle"
	var saved atomic.Int64
	tg, _ := countingPOSTs(t, base, func(n int64) {
		if n != 250 {
			return
		}
		v, err := d.m.App(ctx, d.tenant, name)
		if err != nil {
			t.Error(err)
			return
		}
		cfg := v.Config
		for i, a := range cfg.Objects[0].Attributes {
			if a.Target == "title" {
				cfg.Objects[0].Attributes[i] = AttributeMapping{Type: Constant, Source: "v2", Target: "title"}
			}
		}
		if _, err := d.m.UpdateApp(ctx, d.tenant, name, 0, AppChange{Config: &cfg}); err != nil {
			t.Error(err)
		}
		saved.Store(d.status(t, name).ConfigVersion)
	})
	d.newApp(t, tg, name, "ringcentral")

	first := d.cycle(t, name, true)
	if first.State != "superseded" || first.ConfigVersion != saved.Load()-1 {
		t.Errorf("the cycle the change was saved in: state %s on version %d; want superseded on %d", first.State, first.ConfigVersion, saved.Load()-1)
	}
	if first.Processed >= 600 {
		t.Errorf("the superseded cycle went on to the end: %d processed", first.Processed)
	}
	st := d.status(t, name)
	if !st.FullCyclePending || st.ConfigVersion != saved.Load() {
		t.Errorf("status after the change: fullCyclePending %v, configVersion %d; want true, %d", st.FullCyclePending, st.ConfigVersion, saved.Load())
	}
	second := d.cycle(t, name, false)
	if second.State != "completed" || second.ConfigVersion != saved.Load() {
		t.Errorf("the cycle after the change: state %s on version %d", second.State, second.ConfigVersion)
	}
	checkCounts(t, "the cycle after the change", second)
	users := tg.users(t)
	if len(users) != 600 {
		t.Fatalf("%d users in the target, want 600", len(users))
	}
	for name, u := range users {
		if u.Doc["title"] != "v2" {
			t.Fatalf("%s has title %v after the full cycle on the new configuration", name, u.Doc["title"])
		}
	}
	if st := d.status(t, name); st.FullCyclePending {
		t.Error("a full cycle is still pending after it ran on the newest version")
	}
}

// TestStopHaltsTheCycle: Off stops a running cycle at once: nothing is
// sent after Stop returns (with one worker, the request in flight is the
// one that asked to stop), the cycle is shown as stopped with its counts,
// and Start resumes it without creating anyone twice.
func TestStopHaltsTheCycle(t *testing.T) {
	ctx := context.Background()
	d := newDirectoryWith(t, func(o *Options) { o.Workers = 1 })
	base := newTarget(t)
	d.seedUsers(t, 600, "v1")
	const name = "stoppable"
	var stopped atomic.Bool
	var after atomic.Int64
	tg := base.inject(t, func(w http.ResponseWriter, r *http.Request) bool {
		if stopped.Load() {
			after.Add(1)
		}
		return false
	})
	tg, _ = countingPOSTs(t, tg, func(n int64) {
		if n == 100 {
			if err := d.m.Stop(ctx, d.tenant, name); err != nil {
				t.Error(err)
			}
			stopped.Store(true)
		}
	})
	d.newApp(t, tg, name, "ringcentral")
	if err := d.m.Start(ctx, d.tenant, name, false); err != nil {
		t.Fatal(err)
	}
	c := d.cycle(t, name, true)
	if c.State != "stopped" || c.Counts.Created != 100 {
		t.Errorf("stopped cycle: state %s, counts %+v; want stopped with 100 created", c.State, c.Counts)
	}
	checkCounts(t, "the stopped cycle", c)
	if c.Total != 600 {
		t.Errorf("the stopped cycle's total is %d, want 600", c.Total)
	}
	if n := after.Load(); n != 0 {
		t.Errorf("%d requests reached the target after Stop returned", n)
	}
	st := d.status(t, name)
	if st.State != "off" || !st.NextFullCycle.IsZero() || st.Last == nil || st.Last.State != "stopped" {
		t.Errorf("status when Off: state %s, next full cycle %v, last %+v", st.State, st.NextFullCycle, st.Last)
	}
	if !strings.Contains(st.Advice, "ferry apps start") {
		t.Errorf("the advice does not say how to resume: %q", st.Advice)
	}

	stopped.Store(false)
	if err := d.m.Start(ctx, d.tenant, name, false); err != nil {
		t.Fatal(err)
	}
	resumed := d.cycle(t, name, false)
	if resumed.ID != c.ID || resumed.Resumed != 1 || resumed.State != "completed" || resumed.Counts.Created != 600 || resumed.Processed != 600 {
		t.Errorf("resumed cycle: %+v; want the same cycle, resumed once, completed with 600 created", resumed)
	}
	if users := tg.users(t); len(users) != 600 {
		t.Errorf("%d users in the target after the resume, want 600", len(users))
	}
	logs, err := d.m.Logs(ctx, d.tenant, name, LogFilter{Action: ActionCreate, Limit: 1000})
	if err != nil || len(logs) != 600 {
		t.Errorf("create records: %d, %v; want one per created user, 600", len(logs), err)
	}
}

// TestStopFromAnotherReplica: Off saved by another process stops the
// cycle too, through the running job's watch of its application.
func TestStopFromAnotherReplica(t *testing.T) {
	ctx := context.Background()
	d := newDirectoryWith(t, func(o *Options) { o.Workers = 1 })
	other := d.replica(t)
	base := newTarget(t)
	d.seedUsers(t, 600, "v1")
	const name = "remote-stop"
	tg, _ := countingPOSTs(t, base, func(n int64) {
		if n == 50 {
			if err := other.Stop(ctx, d.tenant, name); err != nil {
				t.Error(err)
			}
		}
	})
	d.newApp(t, tg, name, "ringcentral")
	if err := d.m.Start(ctx, d.tenant, name, false); err != nil {
		t.Fatal(err)
	}
	c := d.cycle(t, name, true)
	if c.State != "stopped" || c.Counts.Created >= 600 {
		t.Errorf("cycle stopped by another process: state %s, counts %+v", c.State, c.Counts)
	}
	checkCounts(t, "the stopped cycle", c)
}

// TestFullCycleRepairsTheTarget: a full cycle compares linked objects
// with the target as it is: a user deleted in the target is created
// again, one disabled there is enabled, a mapped attribute changed there
// is put back, and an attribute Ferry does not map is left alone. Provision
// on demand shows the real difference.
func TestFullCycleRepairsTheTarget(t *testing.T) {
	ctx := context.Background()
	d := newDirectory(t)
	tg := newTarget(t)
	d.seedUsers(t, 5, "Engineer")
	const name = "repair"
	d.newApp(t, tg, name, "ringcentral")
	d.cycle(t, name, true)
	users := tg.users(t)
	gone, disabled, drifted := users["user000@example.com"], users["user001@example.com"], users["user002@example.com"]
	if err := tg.store.Delete(ctx, tg.tenant, store.UserType, gone.ID, 0); err != nil {
		t.Fatal(err)
	}
	for _, u := range []*store.Resource{disabled, drifted} {
		if _, err := tg.store.Update(ctx, tg.tenant, store.UserType, u.ID, 0, func(r *store.Resource) error {
			if u == disabled {
				r.Doc["active"] = false
			} else {
				r.Doc["title"] = "Changed in the target"
				r.Doc["nickName"] = "kept" // not mapped: Ferry leaves it
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	// An incremental cycle sees no directory change: it sends nothing.
	tg.take()
	d.cycle(t, name, false)
	if w := writes(tg.take()); len(w) != 0 {
		t.Errorf("an incremental cycle without directory changes sent %v", w)
	}

	// Provision on demand reads the target and shows the real difference.
	res, err := d.m.ProvisionOnDemand(ctx, d.tenant, name, OnDemandRequest{User: "user002@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	var mods []string
	for _, r := range res.Records {
		for _, m := range r.ModifiedProperties {
			mods = append(mods, m.Name+": "+m.OldValue+" -> "+m.NewValue)
		}
	}
	if want := "title: Changed in the target -> Engineer"; !strings.Contains(strings.Join(mods, "\n"), want) {
		t.Errorf("provision on demand changed %v; want %q", mods, want)
	}

	if err := d.m.Restart(ctx, d.tenant, name, false); err != nil {
		t.Fatal(err)
	}
	c := d.cycle(t, name, false)
	if c.Kind != "full" || c.Counts.Created != 1 || c.Counts.Updated != 1 || c.Counts.Failed != 0 {
		t.Errorf("full cycle after the target drifted: %s %+v; want 1 created (the deleted user), 1 updated (the disabled one)", c.Kind, c.Counts)
	}
	checkCounts(t, "the repairing cycle", c)
	users = tg.users(t)
	if u := users["user000@example.com"]; u == nil || u.ID == gone.ID {
		t.Errorf("the user deleted in the target: %+v", u)
	}
	if u := users["user001@example.com"]; u.Doc["active"] != true {
		t.Errorf("the user disabled in the target is still %v", u.Doc["active"])
	}
	if u := users["user002@example.com"]; u.Doc["title"] != "Engineer" || u.Doc["nickName"] != "kept" {
		t.Errorf("the drifted user: title %v, nickName %v", u.Doc["title"], u.Doc["nickName"])
	}

	// No drift: a full cycle reads the target and writes nothing.
	if err := d.m.Restart(ctx, d.tenant, name, false); err != nil {
		t.Fatal(err)
	}
	tg.take()
	c = d.cycle(t, name, false)
	if w := writes(tg.take()); len(w) != 0 || c.Counts.Unchanged != 5 {
		t.Errorf("a full cycle without drift: %+v, writes %v", c.Counts, w)
	}
}

// TestRestartOnAnotherTargetTenant: pointed at another tenant of the
// target (a new secret token) and restarted, the job creates everyone
// there rather than trusting links to objects the new tenant lacks.
func TestRestartOnAnotherTargetTenant(t *testing.T) {
	ctx := context.Background()
	d := newDirectory(t)
	tg := newTarget(t)
	d.seedUsers(t, 30, "Engineer")
	const name = "moved"
	d.newApp(t, tg, name, "ringcentral")
	d.cycle(t, name, true)

	tn, err := tg.store.EnsureTenant(ctx, "second")
	if err != nil {
		t.Fatal(err)
	}
	second := &target{url: tg.url, store: tg.store, tenant: tn.ID}
	second.token = newTenantToken(t, tg.store, tn.ID)
	if _, err := d.m.UpdateApp(ctx, d.tenant, name, 0, AppChange{SecretToken: &second.token}); err != nil {
		t.Fatal(err)
	}
	c := d.cycle(t, name, false)
	if c.Kind != "full" || c.Counts.Created != 30 {
		t.Errorf("cycle on the new tenant: %s %+v; want 30 created", c.Kind, c.Counts)
	}
	if n := len(second.users(t)); n != 30 {
		t.Errorf("the new tenant holds %d users, want 30", n)
	}
	if n := len(tg.users(t)); n != 30 {
		t.Errorf("the first tenant holds %d users, want its 30 untouched", n)
	}
}

// TestResetMatchesAnew: restart with reset forgets links and escrows and
// matches every object again, creating nothing twice.
func TestResetMatchesAnew(t *testing.T) {
	ctx := context.Background()
	d := newDirectory(t)
	tg := newTarget(t)
	d.seedUsers(t, 10, "Engineer")
	const name = "reset"
	d.newApp(t, tg, name, "ringcentral")
	d.cycle(t, name, true)
	if err := d.m.Restart(ctx, d.tenant, name, true); err != nil {
		t.Fatal(err)
	}
	tg.take()
	c := d.cycle(t, name, false)
	if c.Kind != "initial" || c.Counts.Created != 0 || c.Counts.Failed != 0 {
		t.Errorf("cycle after a reset: %s %+v; want an initial cycle that matches everyone", c.Kind, c.Counts)
	}
	for _, r := range writes(tg.take()) {
		if strings.HasPrefix(r, "POST") {
			t.Errorf("a reset created a user again: %s", r)
		}
	}
	if n := len(tg.users(t)); n != 10 {
		t.Errorf("%d users in the target, want 10", n)
	}
}

// TestFixedTokenRetriesEveryone: a target that refuses the secret token
// quarantines the job at once (no object after the first failures is
// sent), with the failing request in the status; saving the right token
// ends the quarantine and provisions everyone, without a restart.
func TestFixedTokenRetriesEveryone(t *testing.T) {
	ctx := context.Background()
	d := newDirectory(t)
	tg := newTarget(t)
	d.seedUsers(t, 20, "Engineer")
	const name = "token"
	app, err := d.m.CreateApp(ctx, d.tenant, NewApp{Name: name, Template: "ringcentral", TenantURL: tg.url, SecretToken: "wrong-token", Scope: ScopeAll})
	if err != nil {
		t.Fatal(err)
	}
	d.unthrottle(t, app.Name)
	c := d.cycle(t, name, true)
	if c.State != "quarantined" || c.Counts.Failed == 0 || c.Counts.Failed+c.Counts.Skipped > 16 {
		t.Errorf("with a wrong token: %s %+v; want quarantined after the failures of the requests in flight", c.State, c.Counts)
	}
	st := d.status(t, name)
	if q := st.Quarantine; q == nil || q.Reason != "EncounteredQuarantineException" || !strings.Contains(q.Request, "/Users") ||
		q.Response != "Unauthorized" || q.NextAttempt.IsZero() {
		t.Errorf("quarantine: %+v", st.Quarantine)
	}
	if !strings.Contains(st.Advice, "test-connection") {
		t.Errorf("advice: %q", st.Advice)
	}
	failures, err := d.m.Failures(ctx, d.tenant, name, 0)
	if err != nil || len(failures) == 0 {
		t.Fatalf("failures: %d, %v", len(failures), err)
	}
	f := failures[0]
	if f.Error == nil || f.Error.Code != "Unauthorized" || f.Retryable || !f.NextTry.IsZero() || f.Request == "" || f.Attempts != 1 {
		t.Errorf("a failure with a wrong token: %+v (error %+v)", f, f.Error)
	}
	// Quarantined: the scheduler runs nothing until the next attempt.
	if kind, err := d.m.DueForTest(ctx, d.tenant, name); err != nil || kind != "" {
		t.Errorf("a quarantined job is due for %q (%v)", kind, err)
	}

	if _, err := d.m.UpdateApp(ctx, d.tenant, name, 0, AppChange{SecretToken: &tg.token}); err != nil {
		t.Fatal(err)
	}
	c = d.cycle(t, name, false)
	if c.Counts.Created != 20 || c.Counts.Failed != 0 {
		t.Errorf("after the token was fixed: %+v; want 20 created", c.Counts)
	}
	if st := d.status(t, name); st.Failures != 0 || st.Quarantine != nil || st.State != "off" {
		t.Errorf("after the token was fixed: %d in escrow, quarantine %+v, state %s", st.Failures, st.Quarantine, st.State)
	}
}

// TestOutageIsRetriedOnSchedule: objects that failed while the target was
// down are retried on their own schedule (the first retry after 30
// seconds, on the Engine's clock), not at the next full cycle.
func TestOutageIsRetriedOnSchedule(t *testing.T) {
	ctx := context.Background()
	clock := newTestClock(time.Now())
	now := clock.Now
	advance := clock.Advance
	d := newDirectoryWith(t, func(o *Options) { o.Clock = clock })
	base := newTarget(t)
	d.seedUsers(t, 10, "Engineer")
	var down atomic.Bool
	tg := base.inject(t, func(w http.ResponseWriter, r *http.Request) bool {
		if down.Load() && r.Method == "POST" {
			w.WriteHeader(http.StatusServiceUnavailable)
			return true
		}
		return false
	})
	const name = "outage"
	d.newApp(t, tg, name, "ringcentral")
	down.Store(true)
	if c := d.cycle(t, name, true); c.Counts.Failed != 10 {
		t.Fatalf("cycle during the outage: %+v", c.Counts)
	}
	failures, err := d.m.Failures(ctx, d.tenant, name, 0)
	if err != nil || len(failures) != 10 {
		t.Fatalf("failures after the outage: %d, %v", len(failures), err)
	}
	if f := failures[0]; !f.Retryable || f.NextTry.Sub(now()) <= 29*time.Second || f.NextTry.Sub(now()) > 30*time.Second {
		t.Errorf("a failure of the outage: retryable %v, next try in %v; want retryable, in 30s", f.Retryable, f.NextTry.Sub(now()))
	}
	down.Store(false)
	// Not due yet: an incremental cycle leaves them.
	if c := d.cycle(t, name, false); c.Processed != 0 {
		t.Errorf("a cycle before the retry was due processed %d", c.Processed)
	}
	advance(31 * time.Second)
	c := d.cycle(t, name, false)
	if c.Counts.Created != 10 || c.Total != 10 {
		t.Errorf("the retry after 30 s: %+v of %d", c.Counts, c.Total)
	}
	if n := len(tg.users(t)); n != 10 {
		t.Errorf("%d users in the target after the retry", n)
	}
}

// TestRetryNow: ferry apps retry tries every object in escrow at once.
func TestRetryNow(t *testing.T) {
	ctx := context.Background()
	d := newDirectory(t)
	base := newTarget(t)
	d.seedUsers(t, 5, "Engineer")
	var down atomic.Bool
	tg := base.inject(t, func(w http.ResponseWriter, r *http.Request) bool {
		if down.Load() && r.Method == "POST" {
			w.WriteHeader(http.StatusBadGateway)
			return true
		}
		return false
	})
	const name = "retry"
	d.newApp(t, tg, name, "ringcentral")
	down.Store(true)
	d.cycle(t, name, true)
	down.Store(false)
	if err := d.m.Retry(ctx, d.tenant, name); err != nil {
		t.Fatal(err)
	}
	c := d.cycle(t, name, false)
	if c.Kind != "retry" || c.Counts.Created != 5 {
		t.Errorf("retry cycle: %s %+v", c.Kind, c.Counts)
	}
}

// TestProgressIsKnownBeforehand: a cycle's total is counted before it
// starts, and its progress is saved while it runs, not only per page.
func TestProgressIsKnownBeforehand(t *testing.T) {
	d := newDirectoryWith(t, func(o *Options) { o.Workers = 1 })
	base := newTarget(t)
	d.seedUsers(t, 300, "Engineer")
	const name = "progress"
	var seen *Status
	tg, _ := countingPOSTs(t, base, func(n int64) {
		if n == 150 {
			seen = d.status(t, name)
		}
	})
	d.newApp(t, tg, name, "ringcentral")
	c := d.cycle(t, name, true)
	if seen == nil || seen.State != "running" || seen.Current == nil || seen.Current.Total != 300 {
		t.Fatalf("status in the middle of the cycle: %+v", seen)
	}
	if cur := seen.Current; cur.Processed != cur.Counts.Sum() || cur.Percent != cur.Processed*100/300 {
		t.Errorf("progress in the middle of the cycle: %+v", cur)
	}
	if c.Total != 300 || c.Processed != 300 || c.Percent != 100 || c.Counts.Created != 300 {
		t.Errorf("the ended cycle: %+v", c)
	}
}

// TestRoles: an assignment's role must be one of the application's, and
// the RingCentral template's "Default Access" keeps its assignees out of
// scope, as Microsoft's tutorial says.
func TestRoles(t *testing.T) {
	ctx := context.Background()
	d := newDirectory(t)
	tg := newTarget(t)
	d.create(t, store.UserType, `{"userName":"ann@example.com","active":true}`)
	d.create(t, store.UserType, `{"userName":"ben@example.com","active":true}`)
	const name = "roles"
	if _, err := d.m.CreateApp(ctx, d.tenant, NewApp{Name: name, Template: "ringcentral", TenantURL: tg.url, SecretToken: tg.token}); err != nil {
		t.Fatal(err)
	}
	_, err := d.m.Assign(ctx, d.tenant, name, Principal{Type: "User", Name: "ann@example.com"}, "Admin")
	if err == nil || !strings.Contains(err.Error(), `"Default Access"`) {
		t.Errorf("an undeclared role: %v", err)
	}
	if _, err := d.m.Assign(ctx, d.tenant, name, Principal{Type: "User", Name: "ann@example.com"}, "default access"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.m.Assign(ctx, d.tenant, name, Principal{Type: "User", Name: "ben@example.com"}, ""); err != nil {
		t.Fatal(err)
	}
	as, err := d.m.Assignments(ctx, d.tenant, name)
	if err != nil {
		t.Fatal(err)
	}
	roles := map[string]string{}
	for _, a := range as {
		roles[a.PrincipalName] = a.Role
	}
	if roles["ann@example.com"] != "Default Access" || roles["ben@example.com"] != "User" {
		t.Errorf("roles as stored: %v", roles)
	}
	c := d.cycle(t, name, true)
	if c.Counts.Created != 1 || tg.user(t, "ann@example.com") != nil || tg.user(t, "ben@example.com") == nil {
		t.Errorf("provisioned with roles: %+v", c.Counts)
	}
}

// TestLogFilterIsChecked: an unknown status or action is refused with the
// valid values, "failed" is taken for "failure", and a limit above the
// maximum is refused rather than cut.
func TestLogFilterIsChecked(t *testing.T) {
	ctx := context.Background()
	d := newDirectory(t)
	tg := newTarget(t)
	const name = "logs"
	d.newApp(t, tg, name, "ringcentral")
	for _, tc := range []struct {
		name string
		f    LogFilter
		want string // in the error; "" for none
	}{
		{"failed is failure", LogFilter{Status: "failed"}, ""},
		{"unknown status", LogFilter{Status: "broken"}, "success, failure, skipped, warning"},
		{"unknown action", LogFilter{Action: "bogus"}, "create, update, disable, delete, other"},
		{"limit too large", LogFilter{Limit: 100000}, "at most 1000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := d.m.Logs(ctx, d.tenant, name, tc.f)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("error %v; want one naming %q", err, tc.want)
			}
		})
	}
}

// TestCrashLosesNoCreateRecord: a create whose answer never came back
// because the process died is recorded when the resumed cycle finds its
// object, so that every user in the target has exactly one create record.
func TestCrashLosesNoCreateRecord(t *testing.T) {
	ctx := context.Background()
	d := newDirectory(t)
	base := newTarget(t)
	d.seedUsers(t, 400, "Engineer")
	cycleCtx, crash := context.WithCancel(ctx)
	var posts atomic.Int64
	h := server.New(server.DefaultConfig(), base.store, testCatalog, discardLogger()).Handler()
	tg := base.inject(t, func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != "POST" || posts.Add(1) != 250 {
			return false
		}
		// The target creates the user, and the answer is lost with the
		// process that sent the request.
		h.ServeHTTP(httptest.NewRecorder(), r)
		crash()
		if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
			conn.Close()
		}
		return true
	})
	const name = "crash"
	d.newApp(t, tg, name, "ringcentral")
	if _, err := d.m.RunCycle(cycleCtx, d.tenant, name, true); err == nil {
		t.Fatal("the crashed cycle reported no error")
	}
	c := d.cycle(t, name, false)
	if c.State != "completed" || c.Counts.Created != 400 || c.Counts.Failed != 0 {
		t.Errorf("the resumed cycle: %s %+v; want 400 created", c.State, c.Counts)
	}
	if n := len(base.users(t)); n != 400 {
		t.Errorf("%d users in the target, want 400", n)
	}
	logs, perUser := d.createRecords(t, name)
	if len(logs) != 400 || len(perUser) != 400 {
		t.Errorf("%d create records for %d users; want one for each of the 400", len(logs), len(perUser))
	}
}

// TestProvisionOnDemandRecreatesLost: provision on demand of a user the
// target lost creates it again, rather than saying it is in sync.
func TestProvisionOnDemandRecreatesLost(t *testing.T) {
	ctx := context.Background()
	d := newDirectory(t)
	tg := newTarget(t)
	d.seedUsers(t, 2, "Engineer")
	const name = "ondemand"
	d.newApp(t, tg, name, "ringcentral")
	d.cycle(t, name, true)
	lost := tg.user(t, "user000@example.com")
	if err := tg.store.Delete(ctx, tg.tenant, store.UserType, lost.ID, 0); err != nil {
		t.Fatal(err)
	}
	res, err := d.m.ProvisionOnDemand(ctx, d.tenant, name, OnDemandRequest{User: "user000@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, r := range res.Records {
		actions = append(actions, r.Action+":"+r.Status)
	}
	if again := tg.user(t, "user000@example.com"); again == nil || again.ID == lost.ID {
		t.Errorf("the lost user after provision on demand: %+v (records %v)", again, actions)
	}
	if strings.Join(actions, " ") != "update:warning create:success" {
		t.Errorf("records: %v; want the lost link's warning, then the create", actions)
	}
}

// TestDeadProcessShowsInterrupted: a running cycle whose process stopped
// saving its progress (it died) is shown as interrupted once its
// heartbeat is a few seconds old, and the scheduler closes it.
func TestDeadProcessShowsInterrupted(t *testing.T) {
	clock := newTestClock(time.Now())
	// The supervisor, which saves the heartbeat, looks only every few
	// seconds here: none of its saves falls between the clock's jump and
	// the look at the status.
	d := newDirectoryWith(t, func(o *Options) { o.Clock = clock; o.Workers = 1; o.PollInterval = time.Hour })
	base := newTarget(t)
	d.seedUsers(t, 20, "Engineer")
	const name = "heartbeat"
	var seen, fresh *Status
	tg, _ := countingPOSTs(t, base, func(n int64) {
		if n != 10 {
			return
		}
		fresh = d.status(t, name)
		// Ten seconds on, without a save of the progress: the process is
		// taken for dead.
		clock.Advance(10 * time.Second)
		seen = d.status(t, name)
	})
	d.newApp(t, tg, name, "ringcentral")
	d.cycle(t, name, true)
	if fresh == nil || fresh.State != "running" {
		t.Fatalf("status of a live cycle: %+v", fresh)
	}
	if seen.State != "interrupted" || seen.Current == nil || seen.Current.State != "interrupted" || !strings.Contains(seen.Advice, "resumes it") {
		t.Errorf("status of a cycle whose heartbeat is 10 s old: state %s, current %+v, advice %q", seen.State, seen.Current, seen.Advice)
	}
}

// TestLeaseRunOutSendsNothing: a job whose lease ran out by its own clock
// (the injected one here; a pause in production) sends nothing more to
// the target, writes no failure, and the cycle that resumes it records
// every create exactly once. The supervisor looks only every few seconds
// here: the fence checked before each write and each request is what
// stops the job.
func TestLeaseRunOutSendsNothing(t *testing.T) {
	ctx := context.Background()
	clock := newTestClock(time.Now())
	// The supervisor, which would notice too, looks only every few
	// seconds: the fence's checks are on their own.
	d := newDirectoryWith(t, func(o *Options) { o.Clock = clock; o.Workers = 4; o.PollInterval = time.Hour })
	base := newTarget(t)
	const users = 30
	d.seedUsers(t, users, "Engineer")
	var late atomic.Int64
	var expired atomic.Bool
	tg := base.inject(t, func(w http.ResponseWriter, r *http.Request) bool {
		if expired.Load() {
			late.Add(1)
		}
		return false
	})
	tg, _ = countingPOSTs(t, tg, func(n int64) {
		if n == 8 {
			// The process "pauses" for longer than its lease while this
			// request is in flight.
			clock.Advance(DefaultLeaseTTL)
			expired.Store(true)
		}
	})
	const name = "fenced"
	d.newApp(t, tg, name, "ringcentral")
	v, err := d.m.App(ctx, d.tenant, name)
	if err != nil {
		t.Fatal(err)
	}
	cfg := v.Config
	cfg.RateLimit = 10
	if _, err := d.m.UpdateApp(ctx, d.tenant, name, 0, AppChange{Config: &cfg}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.m.RunCycle(ctx, d.tenant, name, true); err == nil {
		t.Fatal("the cycle whose lease ran out reported no error")
	}
	if n := late.Load(); n != 0 {
		t.Errorf("%d requests reached the target after the lease ran out", n)
	}
	if logs, err := d.m.Logs(ctx, d.tenant, name, LogFilter{Status: StatusFailure}); err != nil || len(logs) != 0 {
		t.Errorf("failure records after the lease ran out: %d, %v", len(logs), err)
	}
	expired.Store(false)
	c := d.cycle(t, name, false)
	if c.State != "completed" || c.Counts.Created != users || c.Resumed != 1 {
		t.Errorf("the resumed cycle: %+v", c)
	}
	logs, perUser := d.createRecords(t, name)
	if len(logs) != users || len(perUser) != users || len(base.users(t)) != users {
		t.Errorf("%d create records for %d users, %d in the target; want %d of each", len(logs), len(perUser), len(base.users(t)), users)
	}
}
