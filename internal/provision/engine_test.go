package provision_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ferryid/ferry/internal/bearer"
	. "github.com/ferryid/ferry/internal/provision"
	"github.com/ferryid/ferry/internal/scim/filter"
	"github.com/ferryid/ferry/internal/scim/resource"
	"github.com/ferryid/ferry/internal/scim/schema"
	"github.com/ferryid/ferry/internal/scimclient"
	"github.com/ferryid/ferry/internal/seal"
	"github.com/ferryid/ferry/internal/server"
	"github.com/ferryid/ferry/internal/store"
	"github.com/ferryid/ferry/internal/store/sqlite"
)

// The tests in this file run the engine on a real directory (SQLite) and
// provision into a real Ferry SCIM server (internal/server on its own
// SQLite database) over loopback HTTP.

// testCatalog is the schemas, loaded once: loading them decodes JSON.
var testCatalog = schema.Builtin()

// target is a Ferry SCIM server the engine provisions into, counting the
// requests it gets.
type target struct {
	// served is signalled (without blocking) after each request is
	// answered, for tests that wait for the engine to reach the target.
	served     chan struct{}
	url, token string
	store      store.Store
	tenant     string

	mu       sync.Mutex
	requests []string // "METHOD /path"
}

func newTarget(t testing.TB) *target {
	t.Helper()
	ctx := context.Background()
	catalog := schema.Builtin()
	st, err := sqlite.Open(ctx, t.TempDir()+"/target.db", catalog, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tg := &target{store: st, served: make(chan struct{}, 1)}
	tn, err := st.EnsureTenant(ctx, "default")
	if err != nil {
		t.Fatal(err)
	}
	tg.tenant = tn.ID
	tg.token, err = bearer.New(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateToken(ctx, store.Token{TenantID: tn.ID, Name: "engine", Prefix: tg.token[:6]}, bearer.Hash(tg.token)); err != nil {
		t.Fatal(err)
	}
	h := server.New(server.DefaultConfig(), st, catalog, slog.New(slog.NewTextHandler(io.Discard, nil))).Handler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tg.mu.Lock()
		tg.requests = append(tg.requests, r.Method+" "+r.URL.Path)
		tg.mu.Unlock()
		h.ServeHTTP(w, r)
		select {
		case tg.served <- struct{}{}:
		default: // a signal is pending already
		}
	}))
	t.Cleanup(func() { srv.Close(); st.Close() })
	tg.url = srv.URL + "/scim/v2"
	return tg
}

// take returns the requests since the last take.
func (tg *target) take() []string {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	r := tg.requests
	tg.requests = nil
	return r
}

func writes(reqs []string) []string {
	var out []string
	for _, r := range reqs {
		if r[:4] != "GET " {
			out = append(out, r)
		}
	}
	return out
}

// user returns the target user called userName, or nil.
func (tg *target) user(t *testing.T, userName string) *store.Resource {
	t.Helper()
	page, err := tg.store.Query(context.Background(), tg.tenant, store.UserType,
		store.Query{Filter: parseF(t, fmt.Sprintf("userName eq %q", userName)), Count: 2, ReadOptions: store.ReadOptions{Members: true}})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Resources) == 0 {
		return nil
	}
	return page.Resources[0]
}

func (tg *target) group(t *testing.T, name string) *store.Resource {
	t.Helper()
	page, err := tg.store.Query(context.Background(), tg.tenant, store.GroupType,
		store.Query{Filter: parseF(t, fmt.Sprintf("displayName eq %q", name)), Count: 2, ReadOptions: store.ReadOptions{Members: true}})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Resources) == 0 {
		return nil
	}
	return page.Resources[0]
}

// directory is the engine's source directory, its Engine and the Service
// over it.
type directory struct {
	st     *sqlite.Store
	tenant string
	m      *Service
	e      *Engine
	sealer *seal.Sealer
	opts   Options
}

func newDirectory(t *testing.T) *directory {
	t.Helper()
	return newDirectoryWith(t, nil)
}

// newDirectoryWith is newDirectory with the Engine's options changed by
// tune.
func newDirectoryWith(t testing.TB, tune func(*Options)) *directory {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, t.TempDir()+"/source.db", schema.Builtin(), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	tn, err := st.EnsureTenant(ctx, "default")
	if err != nil {
		t.Fatal(err)
	}
	key := make([]byte, seal.KeySize)
	rand.Read(key)
	sealer, err := seal.New(key)
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{
		PollInterval: 20 * time.Millisecond,
		RetryPolicy:  scimclient.RetryPolicy{MaxAttempts: 2, BaseDelay: time.Millisecond, MaxDelay: 10 * time.Millisecond},
		// The targets of these tests listen on loopback, which the engine
		// connects to only when allowed, as ferry serve --egress-allow
		// loopback does (TestEgressGuard runs without it); and unthrottle
		// lifts rate limits above the default maximum.
		Egress:       allowLoopback(t),
		MaxRateLimit: 1e6,
	}
	if tune != nil {
		tune(&opts)
	}
	e := NewEngine(st, schema.Builtin(), sealer, slog.New(slog.NewTextHandler(io.Discard, nil)), opts)
	return &directory{st: st, tenant: tn.ID, m: NewService(e), e: e, sealer: sealer, opts: opts}
}

// replica returns another Service, with an Engine of its own, over the
// same database, as another ferry serve process would have.
func (d *directory) replica(t *testing.T) *Service {
	t.Helper()
	opts := d.opts
	opts.Owner = "replica-" + t.Name()
	return NewService(NewEngine(d.st, schema.Builtin(), d.sealer, slog.New(slog.NewTextHandler(io.Discard, nil)), opts))
}

func (d *directory) create(t testing.TB, typ, body string, members ...string) string {
	t.Helper()
	doc, err := resource.Decode([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if doc, err = resource.Normalize(doc, testCatalog.ResourceType(typ)); err != nil {
		t.Fatal(err)
	}
	r := &store.Resource{TenantID: d.tenant, Type: typ, Doc: doc}
	for _, m := range members {
		r.Members = append(r.Members, store.Member{ID: m})
	}
	if err := d.st.Create(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	return r.ID
}

func (d *directory) update(t *testing.T, typ, id string, change func(*store.Resource)) {
	t.Helper()
	if _, err := d.st.Update(context.Background(), d.tenant, typ, id, 0, func(r *store.Resource) error {
		change(r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// cycle runs one cycle of the application's job now, as the scheduler
// would.
func (d *directory) cycle(t testing.TB, app string, full bool) *CycleStatus {
	t.Helper()
	c, err := d.m.RunCycle(context.Background(), d.tenant, app, full)
	if err != nil {
		t.Fatalf("cycle: %v", err)
	}
	if c == nil || c.Error != "" {
		t.Fatalf("cycle: %+v", c)
	}
	return c
}

func parseF(t *testing.T, s string) filter.Expr {
	t.Helper()
	e, err := filter.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestProvisionScimApp provisions users and groups with the scim template
// and follows the directory through creates, a match, updates, a disable,
// an unassignment, a rename, a membership change and a delete.
func TestProvisionScimApp(t *testing.T) {
	ctx := context.Background()
	d := newDirectory(t)
	tg := newTarget(t)

	// In the target already: one user the directory also has (matched, not
	// created), and one it does not (never touched).
	pre := postTarget(t, tg, "Users", `{"userName":"carol@example.com","title":"Old title"}`)
	outsider := postTarget(t, tg, "Users", `{"userName":"outsider@example.com","title":"Mine"}`)

	alice := d.create(t, store.UserType, `{"userName":"alice@example.com","name":{"givenName":"Alice","familyName":"Ames"},
		"emails":[{"type":"work","value":"alice@example.com"}],"title":"Engineer","active":true}`)
	bob := d.create(t, store.UserType, `{"userName":"bob@example.com","displayName":"Bob","active":true,
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":{"value":"`+alice+`"}}}`)
	carol := d.create(t, store.UserType, `{"userName":"carol@example.com","title":"Designer","active":true}`)
	dave := d.create(t, store.UserType, `{"userName":"dave@example.com","active":true}`)
	d.create(t, store.UserType, `{"userName":"erin@example.com","active":false}`)
	eng := d.create(t, store.GroupType, `{"displayName":"Engineering"}`, alice, bob)

	app, err := d.m.CreateApp(ctx, d.tenant, NewApp{Name: "Target", Template: "scim", TenantURL: tg.url, SecretToken: tg.token})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []Principal{{Type: "Group", Name: "Engineering"}, {Type: "User", Name: "carol@example.com"}, {Type: "User", Name: "erin@example.com"}} {
		if _, err := d.m.Assign(ctx, d.tenant, app.Name, p, ""); err != nil {
			t.Fatal(err)
		}
	}
	if res, err := d.m.TestConnection(ctx, d.tenant, app.Name); err != nil || !res.Success {
		t.Fatalf("test connection: %+v, %v", res, err)
	}

	// The initial cycle.
	c := d.cycle(t, app.Name, true)
	// Created: alice, bob and the group; carol matched and updated (bob may
	// be updated too, when his manager is created after him); erin
	// skipped, disabled.
	if c.Kind != "initial" || c.Counts.Created != 3 || c.Counts.Updated < 1 || c.Counts.Skipped != 1 || c.Counts.Failed != 0 {
		t.Errorf("initial cycle counts: %+v (kind %s)", c.Counts, c.Kind)
	}
	tg.take()
	a := tg.user(t, "alice@example.com")
	b := tg.user(t, "bob@example.com")
	if a == nil || b == nil {
		t.Fatalf("alice %v, bob %v in the target", a, b)
	}
	if tg.user(t, "dave@example.com") != nil || tg.user(t, "erin@example.com") != nil {
		t.Error("an unassigned user, or a disabled one, was created")
	}
	if got := tg.user(t, "carol@example.com"); got.ID != pre || got.Doc["title"] != "Designer" {
		t.Errorf("carol was not matched and updated: id %s (want %s), title %v", got.ID, pre, got.Doc["title"])
	}
	ext, _ := b.Doc["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"].(map[string]any)
	if m, _ := ext["manager"].(map[string]any); m["value"] != a.ID {
		t.Errorf("bob's manager in the target: %v, want alice's target id %s", ext, a.ID)
	}
	g := tg.group(t, "Engineering")
	if g == nil || !slices.Equal(memberSet(g), sortedIDs(a.ID, b.ID)) {
		t.Fatalf("group in the target: %+v", g)
	}
	if g.Doc["externalId"] != eng {
		t.Errorf("group externalId %v, want the directory id %s", g.Doc["externalId"], eng)
	}

	// A second full cycle changes nothing.
	d.cycle(t, app.Name, true)
	if w := writes(tg.take()); len(w) != 0 {
		t.Errorf("a second full cycle sent %d writes: %v", len(w), w)
	}
	// An incremental cycle without changes sends nothing at all.
	d.cycle(t, app.Name, false)
	if r := tg.take(); len(r) != 0 {
		t.Errorf("an incremental cycle without changes sent %v", r)
	}

	// Changes in the directory, one incremental cycle.
	d.update(t, store.UserType, alice, func(r *store.Resource) { r.Doc["title"] = "Staff Engineer" })
	d.update(t, store.UserType, bob, func(r *store.Resource) { r.Doc["active"] = false })
	d.update(t, store.UserType, carol, func(r *store.Resource) { r.Doc["userName"] = "carol.new@example.com" })
	if err := d.m.Unassign(ctx, d.tenant, app.Name, Principal{Type: "User", Name: "carol.new@example.com"}); err != nil {
		t.Fatal(err)
	}
	d.update(t, store.GroupType, eng, func(r *store.Resource) {
		r.Members = append(r.Members, store.Member{ID: dave})
	})
	c = d.cycle(t, app.Name, false)
	if c.Counts.Failed != 0 {
		t.Errorf("incremental cycle: %+v", c.Counts)
	}
	if got := tg.user(t, "alice@example.com"); got.Doc["title"] != "Staff Engineer" {
		t.Errorf("alice's title: %v", got.Doc["title"])
	}
	if got := tg.user(t, "bob@example.com"); got.Doc["active"] != false {
		t.Errorf("bob, disabled in the directory, is active=%v in the target", got.Doc["active"])
	}
	if got := tg.user(t, "carol.new@example.com"); got == nil || got.ID != pre || got.Doc["active"] != false {
		t.Errorf("carol, renamed then unassigned: %+v", got)
	}
	dv := tg.user(t, "dave@example.com")
	if dv == nil {
		t.Fatal("dave, now a member of an assigned group, was not created")
	}
	if g := tg.group(t, "Engineering"); !slices.Equal(memberSet(g), sortedIDs(a.ID, b.ID, dv.ID)) {
		t.Errorf("group members after dave joined: %v", memberSet(g))
	}

	// A delete in the directory deletes in the target.
	if err := d.st.Delete(ctx, d.tenant, store.UserType, alice, 0); err != nil {
		t.Fatal(err)
	}
	d.cycle(t, app.Name, false)
	if tg.user(t, "alice@example.com") != nil {
		t.Error("alice, deleted in the directory, is still in the target")
	}
	if g := tg.group(t, "Engineering"); !slices.Equal(memberSet(g), sortedIDs(b.ID, dv.ID)) {
		t.Errorf("group members after alice's delete: %v", memberSet(g))
	}

	// Unassigning the group deletes it in the target and disables its
	// members, who are no longer in scope.
	if err := d.m.Unassign(ctx, d.tenant, app.Name, Principal{Type: "Group", Name: "Engineering"}); err != nil {
		t.Fatal(err)
	}
	d.cycle(t, app.Name, false)
	if tg.group(t, "Engineering") != nil {
		t.Error("the unassigned group is still in the target")
	}
	if got := tg.user(t, "dave@example.com"); got.Doc["active"] != false {
		t.Errorf("dave, in scope only through the unassigned group, is active=%v", got.Doc["active"])
	}

	// The outsider was never touched.
	if o, err := tg.store.Get(ctx, tg.tenant, store.UserType, outsider, store.ReadOptions{}); err != nil || o.Version != 1 {
		t.Errorf("the target's own user: version %v, %v", o, err)
	}
	// Logs say what happened.
	logs, err := d.m.Logs(ctx, d.tenant, app.Name, LogFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	actions := map[string]int{}
	for _, l := range logs {
		actions[l.Action+"/"+l.Status]++
		if len(l.Steps) == 0 || l.CycleID == "" || l.JobID != app.ID {
			t.Errorf("log record without steps or ids: %+v", l)
		}
	}
	for _, want := range []string{"create/success", "update/success", "disable/success", "delete/success", "other/skipped"} {
		if actions[want] == 0 {
			t.Errorf("no %s log record; records: %v", want, actions)
		}
	}
}

// unthrottle lifts an application's rate limit (25 requests a second by
// default) for tests that provision hundreds of objects.
func (d *directory) unthrottle(t testing.TB, app string) {
	t.Helper()
	ctx := context.Background()
	v, err := d.m.App(ctx, d.tenant, app)
	if err != nil {
		t.Fatal(err)
	}
	cfg := v.Config
	cfg.RateLimit = 100000
	if _, err := d.m.UpdateApp(ctx, d.tenant, app, 0, AppChange{Config: &cfg}); err != nil {
		t.Fatal(err)
	}
}

func postTarget(t testing.TB, tg *target, typ, body string) string {
	t.Helper()
	c, err := scimclient.New(scimclient.Config{BaseURL: tg.url, Token: tg.token})
	if err != nil {
		t.Fatal(err)
	}
	doc, err := resource.Decode([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	created, _, err := c.Create(context.Background(), typ, doc, nil)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := created.String("id")
	return id
}

func memberSet(g *store.Resource) []string {
	var out []string
	for _, m := range g.Members {
		out = append(out, m.ID)
	}
	slices.Sort(out)
	return out
}

func sortedIDs(ids ...string) []string {
	out := slices.Clone(ids)
	slices.Sort(out)
	return out
}

// inject returns the target behind a handler with a hook that may answer a
// request itself.
func (tg *target) inject(t testing.TB, hook func(w http.ResponseWriter, r *http.Request) bool) *target {
	t.Helper()
	h := server.New(server.DefaultConfig(), tg.store, schema.Builtin(), slog.New(slog.NewTextHandler(io.Discard, nil))).Handler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tg.mu.Lock()
		tg.requests = append(tg.requests, r.Method+" "+r.URL.Path)
		tg.mu.Unlock()
		if hook(w, r) {
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return &target{url: srv.URL + "/scim/v2", token: tg.token, store: tg.store, tenant: tg.tenant}
}

// TestTargetFaults: a 409 on create links the object the target has, a
// 503 is retried, and a linked object the target lost is created again.
func TestTargetFaults(t *testing.T) {
	ctx := context.Background()
	d := newDirectory(t)
	base := newTarget(t)
	var mu sync.Mutex
	conflictSent, unavailableSent := false, false
	tg := base.inject(t, func(w http.ResponseWriter, r *http.Request) bool {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case r.Method == "POST" && r.URL.Path == "/scim/v2/Users" && !conflictSent:
			// Someone created the user between the listing and the POST.
			conflictSent = true
			postTarget(t, base, "Users", `{"userName":"ann@example.com","title":"made elsewhere"}`)
			w.Header().Set("Content-Type", "application/scim+json")
			w.WriteHeader(409)
			fmt.Fprint(w, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"409","scimType":"uniqueness","detail":"taken"}`)
			return true
		case r.Method == "PATCH" && !unavailableSent:
			unavailableSent = true
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(503)
			return true
		}
		return false
	})
	ann := d.create(t, store.UserType, `{"userName":"ann@example.com","title":"Analyst","active":true}`)
	app, err := d.m.CreateApp(ctx, d.tenant, NewApp{Name: "faulty", Template: "scim", TenantURL: tg.url, SecretToken: tg.token, Scope: ScopeAll})
	if err != nil {
		t.Fatal(err)
	}
	c := d.cycle(t, app.Name, true)
	if c.Counts.Failed != 0 || c.Counts.Created != 0 || c.Counts.Updated != 1 {
		t.Errorf("after a 409 the user should be linked and updated: %+v", c.Counts)
	}
	u := base.user(t, "ann@example.com")
	if u == nil || u.Doc["title"] != "Analyst" {
		t.Fatalf("ann in the target: %+v", u)
	}
	if !unavailableSent {
		t.Error("no PATCH met the 503")
	}
	// The target loses the user: the next update meets a 404, drops the
	// link, and the user is created again.
	if err := base.store.Delete(ctx, base.tenant, store.UserType, u.ID, 0); err != nil {
		t.Fatal(err)
	}
	d.update(t, store.UserType, ann, func(r *store.Resource) { r.Doc["title"] = "Lead" })
	d.cycle(t, app.Name, false)
	again := base.user(t, "ann@example.com")
	if again == nil || again.ID == u.ID || again.Doc["title"] != "Lead" {
		t.Fatalf("ann after the target lost her: %+v", again)
	}
}

// TestCrashResumesWithoutDuplicates stops a full cycle in the middle, as a
// crash would, and runs it again: every user is created exactly once.
func TestCrashResumesWithoutDuplicates(t *testing.T) {
	ctx := context.Background()
	d := newDirectory(t)
	base := newTarget(t)
	const users = 600 // three pages
	for i := range users {
		d.create(t, store.UserType, fmt.Sprintf(`{"userName":"user%03d@example.com","active":true}`, i))
	}
	cycleCtx, crash := context.WithCancel(ctx)
	var mu sync.Mutex
	posts, duplicates := 0, 0
	tg := base.inject(t, func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != "POST" {
			return false
		}
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		doc, _ := resource.Decode(body)
		name, _ := doc.String("userName")
		exists := base.user(t, name) != nil
		mu.Lock()
		defer mu.Unlock()
		posts++
		if exists {
			duplicates++ // a create of a user the target has
		}
		if posts == 250 {
			crash()
		}
		return false
	})
	app, err := d.m.CreateApp(ctx, d.tenant, NewApp{Name: "crashy", Template: "ringcentral", TenantURL: tg.url, SecretToken: tg.token, Scope: ScopeAll})
	if err != nil {
		t.Fatal(err)
	}
	d.unthrottle(t, app.Name)
	if _, err := d.m.RunCycle(cycleCtx, d.tenant, app.Name, true); err == nil {
		t.Fatal("the interrupted cycle reported no error")
	}
	c := d.cycle(t, app.Name, false) // resumes the full cycle
	if c.Kind != "initial" || c.Counts.Failed != 0 {
		t.Errorf("resumed cycle: %s %+v", c.Kind, c.Counts)
	}
	page, err := base.store.Query(ctx, base.tenant, store.UserType, store.Query{})
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	// A POST the crash cut off before the target stored its user is sent
	// again; a POST for a user the target has never is.
	if page.Total != users || duplicates != 0 || posts < users {
		t.Errorf("after the crash and the resume: %d users in the target, %d POSTs of which %d for users it had; want %d users and no such POST",
			page.Total, posts, duplicates, users)
	}
}

// TestProvisionOnDemand provisions one user, then one group with its
// members, with the job Off, and returns the steps of each.
func TestProvisionOnDemand(t *testing.T) {
	ctx := context.Background()
	d := newDirectory(t)
	tg := newTarget(t)
	ann := d.create(t, store.UserType, `{"userName":"ann@example.com","active":true}`)
	ben := d.create(t, store.UserType, `{"userName":"ben@example.com","active":true}`)
	d.create(t, store.UserType, `{"userName":"cid@example.com","active":true}`)
	d.create(t, store.GroupType, `{"displayName":"Ops"}`, ann, ben)
	app, err := d.m.CreateApp(ctx, d.tenant, NewApp{Name: "od", Template: "scim", TenantURL: tg.url, SecretToken: tg.token})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.m.Assign(ctx, d.tenant, app.Name, Principal{Type: "Group", Name: "Ops"}, ""); err != nil {
		t.Fatal(err)
	}
	stepNames := func(steps []Step) []string {
		var out []string
		for _, s := range steps {
			out = append(out, s.Name+":"+s.Status)
		}
		return out
	}

	res, err := d.m.ProvisionOnDemand(ctx, d.tenant, app.Name, OnDemandRequest{User: "ann@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"Test connection:success", "Import:success", "Determine scope:success", "Match:success", "Create:success"}
	if got := stepNames(res.Steps); !slices.Equal(got, want) {
		t.Errorf("steps for ann:\n got %v\nwant %v", got, want)
	}
	if tg.user(t, "ann@example.com") == nil {
		t.Fatal("ann was not created")
	}

	// Not assigned: nothing is sent, and the steps say why.
	res, err = d.m.ProvisionOnDemand(ctx, d.tenant, app.Name, OnDemandRequest{User: "cid@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Records) != 1 || res.Records[0].Status != StatusSkipped || tg.user(t, "cid@example.com") != nil {
		t.Errorf("cid, not assigned: %+v", res.Records)
	}

	// A group with its members.
	res, err = d.m.ProvisionOnDemand(ctx, d.tenant, app.Name, OnDemandRequest{Group: "Ops"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Records) != 3 {
		t.Fatalf("records of a group and its two members: %d", len(res.Records))
	}
	g := tg.group(t, "Ops")
	if g == nil || len(g.Members) != 2 {
		t.Fatalf("the group in the target: %+v", g)
	}
	if _, err := d.m.ProvisionOnDemand(ctx, d.tenant, app.Name, OnDemandRequest{Group: "Ops", Members: []string{"a", "b", "c", "d", "e", "f"}}); err == nil {
		t.Error("six members were accepted")
	}
	logs, err := d.m.Logs(ctx, d.tenant, app.Name, LogFilter{User: "ann@example.com"})
	if err != nil || len(logs) == 0 {
		t.Errorf("logs of ann: %d, %v", len(logs), err)
	}
}

// TestSchedulerFollowsTheDirectory runs the scheduler: once the
// application is On, its users reach the target, and a change in the
// directory follows without anyone asking for a cycle.
func TestSchedulerFollowsTheDirectory(t *testing.T) {
	ctx, stop := context.WithCancel(context.Background())
	d := newDirectory(t)
	tg := newTarget(t)
	ann := d.create(t, store.UserType, `{"userName":"ann@example.com","active":true,"title":"One"}`)
	app, err := d.m.CreateApp(ctx, d.tenant, NewApp{Name: "sched", Template: "ringcentral", TenantURL: tg.url, SecretToken: tg.token, Scope: ScopeAll})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { d.e.Run(ctx); close(done) }()
	defer func() { stop(); <-done }()
	if err := d.m.Start(ctx, d.tenant, app.Name, false); err != nil {
		t.Fatal(err)
	}
	// waitFor waits for ok, looking again each time the target answers
	// a request.
	waitFor := func(what string, at *target, ok func() bool) {
		t.Helper()
		timeout := time.NewTimer(10 * time.Second)
		defer timeout.Stop()
		for !ok() {
			select {
			case <-at.served:
			case <-timeout.C:
				t.Fatalf("%s did not happen within 10s", what)
			}
		}
	}
	waitFor("ann's create", tg, func() bool { return tg.user(t, "ann@example.com") != nil })
	d.update(t, store.UserType, ann, func(r *store.Resource) { r.Doc["title"] = "Two" })
	waitFor("ann's update", tg, func() bool { return tg.user(t, "ann@example.com").Doc["title"] == "Two" })
	// Off: no more cycles. A witness application, On, into a target of
	// its own, tells when the scheduler has looked at the next change: by
	// then it has looked at the application that is Off too, in the same
	// pass over the applications.
	witness := newTarget(t)
	if _, err := d.m.CreateApp(ctx, d.tenant, NewApp{Name: "witness", Template: "ringcentral", TenantURL: witness.url, SecretToken: witness.token, Scope: ScopeAll}); err != nil {
		t.Fatal(err)
	}
	if err := d.m.Start(ctx, d.tenant, "witness", false); err != nil {
		t.Fatal(err)
	}
	waitFor("the witness's create", witness, func() bool { return witness.user(t, "ann@example.com") != nil })
	if err := d.m.Stop(ctx, d.tenant, app.Name); err != nil {
		t.Fatal(err)
	}
	tg.take()
	d.update(t, store.UserType, ann, func(r *store.Resource) { r.Doc["title"] = "Three" })
	waitFor("the witness's update", witness, func() bool { return witness.user(t, "ann@example.com").Doc["title"] == "Three" })
	if got := tg.user(t, "ann@example.com").Doc["title"]; got != "Two" {
		t.Errorf("a change reached the target while provisioning was Off: title %v", got)
	}
	if w := writes(tg.take()); len(w) != 0 {
		t.Errorf("requests reached the target while provisioning was Off: %v", w)
	}
}

// TestDuplicateSourceEntries: two directory users whose mappings give the
// same userName do not both take the one target user.
func TestDuplicateSourceEntries(t *testing.T) {
	ctx := context.Background()
	d := newDirectory(t)
	tg := newTarget(t)
	cfg := Config{Scope: ScopeAll, Objects: []ObjectMapping{{SourceType: store.UserType, TargetType: "Users", Enabled: true,
		Actions: Actions{Create: true, Update: true},
		Attributes: []AttributeMapping{
			// The local part only: ann@a.example and ann@b.example collide.
			{Type: Expression, Source: `Word([userName], 1, "@")`, Target: "userName", Match: true},
			{Type: Direct, Source: "title", Target: "title"},
		}}}}
	d.create(t, store.UserType, `{"userName":"ann@a.example","title":"A","active":true}`)
	d.create(t, store.UserType, `{"userName":"ann@b.example","title":"B","active":true}`)
	app, err := d.m.CreateApp(ctx, d.tenant, NewApp{Name: "dup", Template: "scim", TenantURL: tg.url, SecretToken: tg.token, Config: &cfg})
	if err != nil {
		t.Fatal(err)
	}
	c := d.cycle(t, app.Name, true)
	if c.Counts.Created != 1 || c.Counts.Failed != 1 {
		t.Errorf("counts: %+v; want one created and one failed", c.Counts)
	}
	logs, err := d.m.Logs(ctx, d.tenant, app.Name, LogFilter{Status: StatusFailure})
	if err != nil || len(logs) != 1 || logs[0].Error == nil || logs[0].Error.Code != "DuplicateSourceEntries" {
		t.Fatalf("failure records: %+v, %v", logs, err)
	}
	// A second cycle does not flip the target between the two.
	before := tg.user(t, "ann").Doc["title"]
	d.cycle(t, app.Name, true)
	if after := tg.user(t, "ann").Doc["title"]; after != before {
		t.Errorf("the target user's title went from %v to %v", before, after)
	}
}
