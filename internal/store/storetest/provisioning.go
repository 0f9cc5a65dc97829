package storetest

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ferryid/ferry/internal/store"
)

// The provisioning engine's storage (store.Provisioning): applications,
// assignments, links, escrows, job state and leases, provisioning logs;
// and token scopes.

func createApp(t *testing.T, s store.Store, tenantID, name string) *store.App {
	t.Helper()
	a := &store.App{TenantID: tenantID, Name: name, Template: "scim", Config: []byte(`{"target":"https://example.com"}`)}
	if err := s.CreateApp(context.Background(), a); err != nil {
		t.Fatalf("CreateApp %q: %v", name, err)
	}
	return a
}

func assign(t *testing.T, s store.Store, tenantID, appID, typ, id, role string) {
	t.Helper()
	if err := s.Assign(context.Background(), tenantID, store.Assignment{AppID: appID, PrincipalType: typ, PrincipalID: id, Role: role}); err != nil {
		t.Fatalf("Assign %s %s to %s: %v", typ, id, appID, err)
	}
}

func appNames(apps []*store.App) []string {
	out := make([]string, len(apps))
	for i, a := range apps {
		out[i] = a.Name
	}
	return out
}

// --- tokens ---------------------------------------------------------------------------

func testTokenScopes(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	hash := func(c byte) []byte { return []byte(strings.Repeat(string(c), 32)) }
	tests := []struct {
		name, scope, want string
		hash              []byte
	}{
		{"empty means scim", "", store.ScopeSCIM, hash('1')},
		{"scim", store.ScopeSCIM, store.ScopeSCIM, hash('2')},
		{"admin", store.ScopeAdmin, store.ScopeAdmin, hash('3')},
	}
	for _, tc := range tests {
		tk, err := s.CreateToken(ctx, store.Token{TenantID: a, Name: tc.name, Scope: tc.scope}, tc.hash)
		if err != nil {
			t.Fatalf("CreateToken %s: %v", tc.name, err)
		}
		if tk.Scope != tc.want {
			t.Errorf("CreateToken %s: scope %q, want %q", tc.name, tk.Scope, tc.want)
		}
		got, err := s.TokenByHash(ctx, tc.hash)
		if err != nil || got.Scope != tc.want || got.ID != tk.ID {
			t.Errorf("TokenByHash %s = %+v, %v; want scope %q", tc.name, got, err, tc.want)
		}
	}
	for _, bad := range []string{"Admin", "root", " scim"} {
		_, err := s.CreateToken(ctx, store.Token{TenantID: a, Name: "bad", Scope: bad}, hash('9'))
		wantKind(t, fmt.Sprintf("CreateToken with scope %q", bad), err, store.ErrInvalid)
	}
	if _, err := s.TokenByHash(ctx, hash('9')); err == nil {
		t.Error("a token with an invalid scope was stored")
	}
	list, err := s.Tokens(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	scopes := map[string]string{}
	for _, tk := range list {
		scopes[tk.Name] = tk.Scope
	}
	want := map[string]string{"empty means scim": "scim", "scim": "scim", "admin": "admin"}
	if fmt.Sprint(scopes) != fmt.Sprint(want) {
		t.Errorf("Tokens scopes = %v, want %v", scopes, want)
	}
}

// --- applications ---------------------------------------------------------------------

func testApps(t *testing.T, s store.Store) {
	ctx := context.Background()
	a, b := tenant(t, s, "a"), tenant(t, s, "b")
	in := &store.App{TenantID: a, Name: "Salesforce", Template: "salesforce", Config: []byte(`{"mappings":[1,2]}`),
		Secret: []byte{0, 1, 2, 0xff}, Enabled: true}
	if err := s.CreateApp(ctx, in); err != nil {
		t.Fatal(err)
	}
	if !uuidRE.MatchString(in.ID) || in.Version != 1 || in.Created.IsZero() || !in.LastModified.Equal(in.Created) {
		t.Fatalf("CreateApp set %+v", in)
	}
	check := func(what string, got *store.App, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if got.ID != in.ID || got.TenantID != a || got.Name != "Salesforce" || got.Template != "salesforce" ||
			string(got.Config) != `{"mappings":[1,2]}` || string(got.Secret) != "\x00\x01\x02\xff" || !got.Enabled ||
			got.Version != 1 || !got.Created.Equal(in.Created) || !got.LastModified.Equal(in.LastModified) {
			t.Errorf("%s = %+v, want %+v", what, got, in)
		}
	}
	got, err := s.App(ctx, a, in.ID)
	check("App", got, err)
	got, err = s.AppByName(ctx, a, "SALESFORCE")
	check("AppByName ignoring case", got, err)

	// Tenant isolation.
	_, err = s.App(ctx, b, in.ID)
	wantKind(t, "App from another tenant", err, store.ErrNotFound)
	_, err = s.AppByName(ctx, b, "Salesforce")
	wantKind(t, "AppByName from another tenant", err, store.ErrNotFound)
	_, err = s.App(ctx, a, "nope")
	wantKind(t, "App(unknown)", err, store.ErrNotFound)

	// No secret and no config read back as none; a given id is kept.
	bare := &store.App{ID: "app-bare", TenantID: a, Name: "bare", Template: "scim"}
	if err := s.CreateApp(ctx, bare); err != nil {
		t.Fatal(err)
	}
	if got, err := s.App(ctx, a, "app-bare"); err != nil || got.Config != nil || got.Secret != nil || got.Enabled {
		t.Errorf("App(bare) = %+v, %v", got, err)
	}
	// Ids are unique across tenants: links and leases name apps by id.
	err = s.CreateApp(ctx, &store.App{ID: "app-bare", TenantID: b, Name: "other", Template: "scim"})
	wantKind(t, "CreateApp with a taken id", err, store.ErrIDTaken)

	for _, name := range []string{"zeta", "Alpha", "beta"} {
		createApp(t, s, a, name)
	}
	createApp(t, s, b, "Gamma")
	list, err := s.Apps(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := appNames(list), []string{"Alpha", "bare", "beta", "Salesforce", "zeta"}; !slices.Equal(got, want) {
		t.Errorf("Apps(a) = %v, want %v (by name, ignoring case)", got, want)
	}
	all, err := s.Apps(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 6 {
		t.Fatalf("Apps(\"\") = %v, want 6 applications", appNames(all))
	}
	for i := 1; i < len(all); i++ {
		prev, cur := all[i-1], all[i]
		if prev.TenantID > cur.TenantID || prev.TenantID == cur.TenantID && strings.ToLower(prev.Name) > strings.ToLower(cur.Name) {
			t.Errorf("Apps(\"\") not by tenant and name: %s/%s before %s/%s", prev.TenantID, prev.Name, cur.TenantID, cur.Name)
		}
	}

	// What callers can get wrong.
	err = s.CreateApp(ctx, &store.App{TenantID: a, Template: "scim"})
	wantKind(t, "CreateApp without a name", err, store.ErrInvalid)
	err = s.CreateApp(ctx, &store.App{TenantID: a, Name: strings.Repeat("x", 257), Template: "scim"})
	wantKind(t, "CreateApp with a long name", err, store.ErrInvalid)
	err = s.CreateApp(ctx, &store.App{TenantID: "no-such-tenant", Name: "x", Template: "scim"})
	wantKind(t, "CreateApp in a tenant that does not exist", err, store.ErrNotFound)
	if err := s.CreateApp(ctx, &store.App{TenantID: a, Name: "badconfig", Config: []byte(`{"a":`)}); err == nil {
		t.Error("CreateApp stored a config that is not JSON")
	}
}

func testAppNameUnique(t *testing.T, s store.Store) {
	ctx := context.Background()
	a, b := tenant(t, s, "a"), tenant(t, s, "b")
	sf := createApp(t, s, a, "Salesforce")
	for _, name := range []string{"Salesforce", "salesforce", "SALESFORCE"} {
		err := s.CreateApp(ctx, &store.App{TenantID: a, Name: name, Template: "scim"})
		e := wantKind(t, "CreateApp "+name, err, store.ErrNameTaken)
		if !strings.Contains(e.Detail, name) {
			t.Errorf("ErrNameTaken detail %q does not name the application %q", e.Detail, name)
		}
	}
	createApp(t, s, b, "salesforce") // another tenant's
	other := createApp(t, s, a, "Workday")
	_, err := s.UpdateApp(ctx, a, other.ID, 0, func(x *store.App) error { x.Name = "SalesForce"; return nil })
	wantKind(t, "renaming to a taken name", err, store.ErrNameTaken)
	if got, err := s.App(ctx, a, other.ID); err != nil || got.Name != "Workday" || got.Version != 1 {
		t.Errorf("after a failed rename: %+v, %v", got, err)
	}
	// Changing only the case of its own name is no conflict.
	up, err := s.UpdateApp(ctx, a, sf.ID, 0, func(x *store.App) error { x.Name = "SALESFORCE"; return nil })
	if err != nil || up.Name != "SALESFORCE" {
		t.Fatalf("UpdateApp to its own name in capitals = %+v, %v", up, err)
	}
	if got, err := s.AppByName(ctx, a, "salesforce"); err != nil || got.ID != sf.ID {
		t.Errorf("AppByName after the rename = %+v, %v", got, err)
	}
	// The old name is free once renamed away.
	if _, err := s.UpdateApp(ctx, a, sf.ID, 0, func(x *store.App) error { x.Name = "CRM"; return nil }); err != nil {
		t.Fatal(err)
	}
	createApp(t, s, a, "salesforce")
}

func testUpdateApp(t *testing.T, s store.Store) {
	ctx := context.Background()
	a, b := tenant(t, s, "a"), tenant(t, s, "b")
	app := createApp(t, s, a, "Slack")
	calls := 0
	up, err := s.UpdateApp(ctx, a, app.ID, 1, func(x *store.App) error {
		calls++
		if x.Name != "Slack" || x.Version != 1 {
			t.Errorf("change sees %+v", x)
		}
		x.Enabled = true
		x.Config = []byte(`{"v":2}`)
		x.Secret = []byte("sealed")
		// What change cannot move.
		x.ID, x.TenantID = "moved", b
		x.Created = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
		x.Version = 42
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if calls == 0 {
		t.Error("change was not called")
	}
	if up.ID != app.ID || up.TenantID != a || !up.Created.Equal(app.Created) || up.Version != 2 ||
		up.LastModified.Before(app.LastModified) || !up.Enabled || string(up.Config) != `{"v":2}` || string(up.Secret) != "sealed" {
		t.Fatalf("UpdateApp = %+v", up)
	}
	got, err := s.App(ctx, a, app.ID)
	if err != nil || got.Version != 2 || !got.Enabled || string(got.Config) != `{"v":2}` || !got.LastModified.Equal(up.LastModified) {
		t.Fatalf("App after UpdateApp = %+v, %v", got, err)
	}
	if _, err := s.App(ctx, a, "moved"); err == nil {
		t.Error("change moved the application to another id")
	}
	if _, err := s.App(ctx, b, app.ID); err == nil {
		t.Error("change moved the application to another tenant")
	}

	// If-Match.
	_, err = s.UpdateApp(ctx, a, app.ID, 1, func(x *store.App) error { x.Template = "t"; return nil })
	wantKind(t, "UpdateApp at a stale version", err, store.ErrVersionMismatch)
	// change's error abandons the update.
	boom := errors.New("no")
	_, err = s.UpdateApp(ctx, a, app.ID, 0, func(x *store.App) error { x.Template = "t"; return boom })
	if !errors.Is(err, boom) {
		t.Errorf("UpdateApp returned %v, want change's error", err)
	}
	// Nothing to change: nothing written.
	same, err := s.UpdateApp(ctx, a, app.ID, 2, func(x *store.App) error { return nil })
	if err != nil || same.Version != 2 {
		t.Errorf("UpdateApp without a change = %+v, %v; want version 2", same, err)
	}
	if got, _ := s.App(ctx, a, app.ID); got.Version != 2 || got.Template != "scim" {
		t.Errorf("after abandoned updates: %+v", got)
	}
	// Disabling is a change; so is removing the secret.
	off, err := s.UpdateApp(ctx, a, app.ID, 2, func(x *store.App) error { x.Enabled = false; x.Secret = nil; return nil })
	if err != nil || off.Version != 3 || off.Enabled || off.Secret != nil {
		t.Errorf("UpdateApp disabling = %+v, %v", off, err)
	}
	_, err = s.UpdateApp(ctx, a, app.ID, 0, func(x *store.App) error { x.Name = ""; return nil })
	wantKind(t, "UpdateApp to an empty name", err, store.ErrInvalid)
	_, err = s.UpdateApp(ctx, b, app.ID, 0, func(x *store.App) error { return nil })
	wantKind(t, "UpdateApp from another tenant", err, store.ErrNotFound)
	_, err = s.UpdateApp(ctx, a, "nope", 0, func(x *store.App) error { return nil })
	wantKind(t, "UpdateApp(unknown)", err, store.ErrNotFound)
}

func testAppControl(t *testing.T, s store.Store) {
	ctx := context.Background()
	a, b := tenant(t, s, "a"), tenant(t, s, "b")
	const control = `{"generation":1,"restart":false}`
	in := &store.App{TenantID: a, Name: "Controlled", Template: "scim", Config: []byte(`{"v":1}`), Control: []byte(control)}
	if err := s.CreateApp(ctx, in); err != nil {
		t.Fatal(err)
	}
	createApp(t, s, b, "Elsewhere")
	bare := createApp(t, s, a, "Bare")

	// Every read returns the control record, and none for an application
	// created without one.
	find := func(list []*store.App, err error, id string) (*store.App, error) {
		for _, x := range list {
			if x.ID == id {
				return x, err
			}
		}
		return nil, fmt.Errorf("%s not listed (%v)", id, err)
	}
	reads := []struct {
		name string
		read func(id, name string) (*store.App, error)
	}{
		{"App", func(id, _ string) (*store.App, error) { return s.App(ctx, a, id) }},
		{"AppByName", func(_, name string) (*store.App, error) { return s.AppByName(ctx, a, name) }},
		{"Apps", func(id, _ string) (*store.App, error) { list, err := s.Apps(ctx, a); return find(list, err, id) }},
		{"Apps of every tenant", func(id, _ string) (*store.App, error) { list, err := s.Apps(ctx, ""); return find(list, err, id) }},
	}
	readAll := func(what string, id, name, wantControl string, wantVersion int64) {
		t.Helper()
		for _, r := range reads {
			got, err := r.read(id, name)
			if err != nil {
				t.Fatalf("%s: %s: %v", what, r.name, err)
			}
			if string(got.Control) != wantControl || got.Version != wantVersion {
				t.Errorf("%s: %s read control %q at version %d, want %q at %d", what, r.name, got.Control, got.Version,
					wantControl, wantVersion)
			}
			if wantControl == "" && got.Control != nil {
				t.Errorf("%s: %s read control %q, want none (nil)", what, r.name, got.Control)
			}
		}
	}
	readAll("created", in.ID, "controlled", control, 1)
	readAll("created without control", bare.ID, "bare", "", 1)

	// UpdateApp writes a change of the control record alone, and nothing
	// for a change that leaves it as stored.
	steps := []struct {
		name        string
		change      func(x *store.App)
		wantControl string
		wantVersion int64
	}{
		{"nothing", func(*store.App) {}, control, 1},
		{"the same control, a new slice", func(x *store.App) { x.Control = []byte(control) }, control, 1},
		{"control alone", func(x *store.App) { x.Control = []byte(`{"generation":2,"restart":true}`) },
			`{"generation":2,"restart":true}`, 2},
		{"control edited in place", func(x *store.App) { x.Control[len(`{"generation":`)] = '3' },
			`{"generation":3,"restart":true}`, 3},
		{"control and config", func(x *store.App) {
			x.Control, x.Config = []byte(`{"generation":4}`), []byte(`{"v":4}`)
		}, `{"generation":4}`, 4},
		{"config alone keeps the control", func(x *store.App) { x.Config = []byte(`{"v":5}`) }, `{"generation":4}`, 5},
		{"control removed", func(x *store.App) { x.Control = nil }, "", 6},
		{"removed again, as empty", func(x *store.App) { x.Control = []byte{} }, "", 6},
		{"control set again", func(x *store.App) { x.Control = []byte(`{"retry":true}`) }, `{"retry":true}`, 7},
	}
	prev := in
	for _, st := range steps {
		var seen []byte
		up, err := s.UpdateApp(ctx, a, in.ID, prev.Version, func(x *store.App) error {
			seen = bytes.Clone(x.Control)
			st.change(x)
			return nil
		})
		if err != nil {
			t.Fatalf("%s: UpdateApp: %v", st.name, err)
		}
		if !bytes.Equal(seen, prev.Control) {
			t.Errorf("%s: change saw control %q, want the stored %q", st.name, seen, prev.Control)
		}
		if string(up.Control) != st.wantControl || up.Version != st.wantVersion {
			t.Errorf("%s: UpdateApp = control %q at version %d, want %q at %d", st.name, up.Control, up.Version,
				st.wantControl, st.wantVersion)
		}
		if st.wantVersion == prev.Version && !up.LastModified.Equal(prev.LastModified) {
			t.Errorf("%s: nothing changed but LastModified moved from %v to %v", st.name, prev.LastModified, up.LastModified)
		}
		readAll(st.name, in.ID, "Controlled", st.wantControl, st.wantVersion)
		prev = up
	}

	// A control record that is not JSON is refused, and changes nothing.
	if err := s.CreateApp(ctx, &store.App{TenantID: a, Name: "badcontrol", Template: "scim", Control: []byte(`{"a":`)}); err == nil {
		t.Error("CreateApp stored a control record that is not JSON")
	}
	if _, err := s.AppByName(ctx, a, "badcontrol"); err == nil {
		t.Error("a failed CreateApp left an application")
	}
	if _, err := s.UpdateApp(ctx, a, in.ID, 0, func(x *store.App) error { x.Control = []byte("restart"); return nil }); err == nil {
		t.Error("UpdateApp stored a control record that is not JSON")
	}
	readAll("after a refused update", in.ID, "Controlled", `{"retry":true}`, 7)
	readAll("the other application", bare.ID, "bare", "", 1)
}

func testDeleteApp(t *testing.T, s store.Store) {
	ctx := context.Background()
	a, b := tenant(t, s, "a"), tenant(t, s, "b")
	u := create(t, s, a, store.UserType, user(t, "u"))
	app := &store.App{ID: "app-1", TenantID: a, Name: "App", Template: "scim"}
	if err := s.CreateApp(ctx, app); err != nil {
		t.Fatal(err)
	}
	keep := createApp(t, s, a, "Keep")
	for _, id := range []string{app.ID, keep.ID} {
		assign(t, s, a, id, store.UserType, u.ID, "")
		if err := s.PutLink(ctx, &store.Link{AppID: id, SourceType: store.UserType, SourceID: u.ID, TargetID: "t1"}); err != nil {
			t.Fatal(err)
		}
		if err := s.PutJobState(ctx, &store.JobState{AppID: id, Watermark: 7, State: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
		if err := s.PutEscrow(ctx, &store.Escrow{AppID: id, SourceType: store.UserType, SourceID: u.ID, Attempts: 1}); err != nil {
			t.Fatal(err)
		}
		if _, ok, err := s.ClaimJob(ctx, id, "worker-1", time.Hour); err != nil || !ok {
			t.Fatalf("ClaimJob = %t, %v", ok, err)
		}
		if err := s.ReleaseJob(ctx, id, "worker-1"); err != nil {
			t.Fatal(err)
		}
		// Generation 2: a lease that was released and claimed again.
		if l, ok, err := s.ClaimJob(ctx, id, "worker-1", time.Hour); err != nil || !ok || l.Generation != 2 {
			t.Fatalf("ClaimJob after ReleaseJob = %+v, %t, %v; want generation 2", l, ok, err)
		}
	}
	if err := s.AppendLogs(ctx, []*store.ProvisioningLog{{TenantID: a, AppID: app.ID, Action: "create", Status: "success"}}); err != nil {
		t.Fatal(err)
	}
	wantKind(t, "DeleteApp from another tenant", s.DeleteApp(ctx, b, app.ID), store.ErrNotFound)
	if err := s.DeleteApp(ctx, a, app.ID); err != nil {
		t.Fatal(err)
	}
	wantKind(t, "DeleteApp again", s.DeleteApp(ctx, a, app.ID), store.ErrNotFound)
	_, err := s.App(ctx, a, app.ID)
	wantKind(t, "App after DeleteApp", err, store.ErrNotFound)
	_, err = s.AppByName(ctx, a, "app")
	wantKind(t, "AppByName after DeleteApp", err, store.ErrNotFound)

	// The same id again starts from nothing: the assignments, links,
	// escrows, job state and lease went with the application.
	if err := s.CreateApp(ctx, &store.App{ID: app.ID, TenantID: a, Name: "App", Template: "scim"}); err != nil {
		t.Fatal(err)
	}
	if as, err := s.Assignments(ctx, a, app.ID); err != nil || len(as) != 0 {
		t.Errorf("Assignments after DeleteApp = %+v, %v", as, err)
	}
	if in, err := s.AssignedTo(ctx, a, app.ID, u.ID); err != nil || in {
		t.Errorf("AssignedTo after DeleteApp = %t, %v", in, err)
	}
	_, err = s.Link(ctx, app.ID, store.UserType, u.ID)
	wantKind(t, "Link after DeleteApp", err, store.ErrNotFound)
	if js, err := s.JobState(ctx, app.ID); err != nil || js.Watermark != 0 || js.State != nil {
		t.Errorf("JobState after DeleteApp = %+v, %v", js, err)
	}
	if es, err := s.Escrows(ctx, app.ID, store.EscrowQuery{}); err != nil || len(es) != 0 {
		t.Errorf("Escrows after DeleteApp = %d, %v; want none", len(es), err)
	}
	if n, r, err := s.CountEscrows(ctx, app.ID); err != nil || n != 0 || r != 0 {
		t.Errorf("CountEscrows after DeleteApp = %d, %d, %v; want 0, 0", n, r, err)
	}
	if l, err := s.JobLease(ctx, app.ID); err != nil || l != (store.Lease{AppID: app.ID}) {
		t.Errorf("JobLease after DeleteApp = %+v, %v; want the zero lease", l, err)
	}
	if l, ok, err := s.ClaimJob(ctx, app.ID, "worker-2", time.Hour); err != nil || !ok || l.Generation != 1 {
		t.Errorf("ClaimJob by another owner after DeleteApp = %+v, %t, %v; the lease should be gone, generation and all", l, ok, err)
	}
	// The logs stay; the other application keeps everything.
	if logs, err := s.Logs(ctx, store.LogQuery{TenantID: a, AppID: app.ID}); err != nil || len(logs) != 1 {
		t.Errorf("logs after DeleteApp = %d, %v; want 1", len(logs), err)
	}
	if as, err := s.Assignments(ctx, a, keep.ID); err != nil || len(as) != 1 {
		t.Errorf("Assignments of the other application = %+v, %v", as, err)
	}
	if _, err := s.Link(ctx, keep.ID, store.UserType, u.ID); err != nil {
		t.Errorf("Link of the other application: %v", err)
	}
	if n, _, err := s.CountEscrows(ctx, keep.ID); err != nil || n != 1 {
		t.Errorf("CountEscrows of the other application = %d, %v; want 1", n, err)
	}
	if l, ok, _ := s.ClaimJob(ctx, keep.ID, "worker-2", time.Hour); ok || l.Owner != "worker-1" || l.Generation != 2 {
		t.Errorf("the other application's lease = %+v, %t; want worker-1's, generation 2", l, ok)
	}
}

// --- assignments --------------------------------------------------------------------

func testAssignments(t *testing.T, s store.Store) {
	ctx := context.Background()
	a, b := tenant(t, s, "a"), tenant(t, s, "b")
	u1 := create(t, s, a, store.UserType, user(t, "u1"))
	u2 := create(t, s, a, store.UserType, user(t, "u2"))
	g := create(t, s, a, store.GroupType, group(t, "g"), u2.ID)
	outsider := create(t, s, b, store.UserType, user(t, "outsider"))
	app := createApp(t, s, a, "App")
	otherApp := createApp(t, s, b, "App")
	start, err := s.Changes(ctx, a, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	watermark := start[len(start)-1].Seq

	assign(t, s, a, app.ID, store.UserType, u1.ID, "")
	assign(t, s, a, app.ID, store.GroupType, g.ID, "Reader")
	assign(t, s, a, app.ID, store.UserType, u1.ID, "Admin") // replaces the role
	list, err := s.Assignments(ctx, a, app.ID)
	if err != nil {
		t.Fatal(err)
	}
	type row struct{ typ, id, role string }
	var got []row
	for _, as := range list {
		got = append(got, row{as.PrincipalType, as.PrincipalID, as.Role})
		if as.AppID != app.ID || as.Created.IsZero() {
			t.Errorf("assignment %+v", as)
		}
	}
	want := []row{{store.GroupType, g.ID, "Reader"}, {store.UserType, u1.ID, "Admin"}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Assignments = %v, want %v", got, want)
	}
	if list, err := s.Assignments(ctx, b, app.ID); err != nil || len(list) != 0 {
		t.Errorf("Assignments from another tenant = %+v, %v", list, err)
	}

	// The principal must exist in the tenant, with that type.
	for _, tc := range []struct {
		name    string
		typ, id string
	}{
		{"unknown user", store.UserType, "nope"},
		{"a group named as a user", store.UserType, g.ID},
		{"a user named as a group", store.GroupType, u1.ID},
		{"another tenant's user", store.UserType, outsider.ID},
		{"no type", "", u1.ID},
	} {
		err := s.Assign(ctx, a, store.Assignment{AppID: app.ID, PrincipalType: tc.typ, PrincipalID: tc.id})
		wantKind(t, "Assign "+tc.name, err, store.ErrInvalid)
	}
	err = s.Assign(ctx, a, store.Assignment{AppID: app.ID, PrincipalType: store.UserType, PrincipalID: "ghost"})
	if e := wantKind(t, "Assign ghost", err, store.ErrInvalid); !strings.Contains(e.Detail, `user "ghost" does not exist`) {
		t.Errorf("Assign ghost: detail %q", e.Detail)
	}
	err = s.Assign(ctx, a, store.Assignment{AppID: otherApp.ID, PrincipalType: store.UserType, PrincipalID: u1.ID})
	wantKind(t, "Assign to another tenant's application", err, store.ErrNotFound)
	err = s.Assign(ctx, a, store.Assignment{AppID: "nope", PrincipalType: store.UserType, PrincipalID: u1.ID})
	wantKind(t, "Assign to an unknown application", err, store.ErrNotFound)

	// Unassign.
	wantKind(t, "Unassign what is not assigned", s.Unassign(ctx, a, app.ID, store.UserType, u2.ID), store.ErrNotFound)
	wantKind(t, "Unassign from another tenant", s.Unassign(ctx, b, app.ID, store.UserType, u1.ID), store.ErrNotFound)
	if err := s.Unassign(ctx, a, app.ID, store.UserType, u1.ID); err != nil {
		t.Fatal(err)
	}
	wantKind(t, "Unassign twice", s.Unassign(ctx, a, app.ID, store.UserType, u1.ID), store.ErrNotFound)
	if list, _ := s.Assignments(ctx, a, app.ID); len(list) != 1 || list[0].PrincipalID != g.ID {
		t.Errorf("Assignments after Unassign = %+v", list)
	}

	// Each Assign and Unassign appended an OpAssignment for its principal;
	// the failed ones nothing.
	changes, err := s.Changes(ctx, a, watermark, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var feed []string
	for _, c := range changes {
		feed = append(feed, c.Type+" "+c.ID+" "+string(c.Op))
	}
	wantFeed := []string{
		store.UserType + " " + u1.ID + " assignment",
		store.GroupType + " " + g.ID + " assignment",
		store.UserType + " " + u1.ID + " assignment",
		store.UserType + " " + u1.ID + " assignment",
	}
	if !slices.Equal(feed, wantFeed) {
		t.Errorf("change feed:\n got %v\nwant %v", feed, wantFeed)
	}
	if other, err := s.Changes(ctx, b, 0, 1000); err != nil || len(other) != 1 {
		t.Errorf("tenant b's feed = %+v, %v; want its one create", other, err)
	}
}

func testAssignedTo(t *testing.T, s store.Store) {
	ctx := context.Background()
	a, b := tenant(t, s, "a"), tenant(t, s, "b")
	direct := create(t, s, a, store.UserType, user(t, "direct"))
	member := create(t, s, a, store.UserType, user(t, "member"))
	nested := create(t, s, a, store.UserType, user(t, "nested"))
	nobody := create(t, s, a, store.UserType, user(t, "nobody"))
	inner := create(t, s, a, store.GroupType, group(t, "inner"), nested.ID)
	assigned := create(t, s, a, store.GroupType, group(t, "assigned"), member.ID, inner.ID)
	create(t, s, a, store.GroupType, group(t, "unassigned"), nobody.ID)
	app := createApp(t, s, a, "App")
	other := createApp(t, s, a, "Other")
	assign(t, s, a, app.ID, store.UserType, direct.ID, "")
	assign(t, s, a, app.ID, store.GroupType, assigned.ID, "")
	assign(t, s, a, other.ID, store.UserType, nobody.ID, "")

	check := func(what, tenantID, appID, userID string, want bool) {
		t.Helper()
		got, err := s.AssignedTo(ctx, tenantID, appID, userID)
		if err != nil || got != want {
			t.Errorf("AssignedTo %s = %t, %v; want %t", what, got, err, want)
		}
	}
	check("directly", a, app.ID, direct.ID, true)
	check("through an assigned group", a, app.ID, member.ID, true)
	check("through a group in an assigned group", a, app.ID, nested.ID, false)
	check("through an unassigned group, assigned to another app", a, app.ID, nobody.ID, false)
	check("to the other app", a, other.ID, nobody.ID, true)
	check("to the other app, assigned to this one", a, other.ID, direct.ID, false)
	check("a group id", a, app.ID, assigned.ID, false)
	check("from another tenant", b, app.ID, direct.ID, false)
	check("an unknown user", a, app.ID, "nope", false)
	check("an unknown app", a, "nope", direct.ID, false)

	// Leaving the group leaves the scope.
	if _, err := s.Update(ctx, a, store.GroupType, assigned.ID, 0, func(r *store.Resource) error {
		r.Members = []store.Member{{ID: inner.ID}}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	check("after leaving the group", a, app.ID, member.ID, false)
	if err := s.Unassign(ctx, a, app.ID, store.UserType, direct.ID); err != nil {
		t.Fatal(err)
	}
	check("after Unassign", a, app.ID, direct.ID, false)
}

func testDeleteRemovesAssignments(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	u := create(t, s, a, store.UserType, user(t, "u"))
	m := create(t, s, a, store.UserType, user(t, "m"))
	g := create(t, s, a, store.GroupType, group(t, "g"), m.ID)
	app := createApp(t, s, a, "App")
	assign(t, s, a, app.ID, store.UserType, u.ID, "")
	assign(t, s, a, app.ID, store.UserType, m.ID, "")
	assign(t, s, a, app.ID, store.GroupType, g.ID, "")

	if err := s.Delete(ctx, a, store.UserType, u.ID, 0); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, a, store.GroupType, g.ID, 0); err != nil {
		t.Fatal(err)
	}
	list, err := s.Assignments(ctx, a, app.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].PrincipalID != m.ID {
		t.Fatalf("Assignments after deleting a user and a group = %+v; want only %s", list, m.ID)
	}
	if in, err := s.AssignedTo(ctx, a, app.ID, u.ID); err != nil || in {
		t.Errorf("AssignedTo a deleted user = %t, %v", in, err)
	}
	// A new user with the deleted one's id is not assigned.
	again := &store.Resource{TenantID: a, Type: store.UserType, ID: u.ID, Doc: user(t, "u")}
	if err := s.Create(ctx, again); err != nil {
		t.Fatal(err)
	}
	if in, err := s.AssignedTo(ctx, a, app.ID, u.ID); err != nil || in {
		t.Errorf("AssignedTo a new user with a deleted one's id = %t, %v", in, err)
	}
	wantKind(t, "Unassign a deleted user", s.Unassign(ctx, a, app.ID, store.UserType, u.ID), store.ErrNotFound)
}

// --- links ------------------------------------------------------------------------------

func testLinks(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	app, other := createApp(t, s, a, "App"), createApp(t, s, a, "Other")

	l := &store.Link{AppID: app.ID, SourceType: store.UserType, SourceID: "u1", TargetID: "T-1", Exported: []byte(`{"userName":"a"}`)}
	if err := s.PutLink(ctx, l); err != nil {
		t.Fatal(err)
	}
	if l.Created.IsZero() || !l.Updated.Equal(l.Created) {
		t.Fatalf("PutLink set Created %v, Updated %v", l.Created, l.Updated)
	}
	first := l.Created
	check := func(what string, got *store.Link, err error, target, exported string) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if got.AppID != app.ID || got.SourceType != store.UserType || got.SourceID != "u1" || got.TargetID != target ||
			string(got.Exported) != exported || !got.Created.Equal(first) || got.Updated.Before(got.Created) {
			t.Errorf("%s = %+v", what, got)
		}
	}
	got, err := s.Link(ctx, app.ID, store.UserType, "u1")
	check("Link", got, err, "T-1", `{"userName":"a"}`)
	got, err = s.LinkByTarget(ctx, app.ID, store.UserType, "T-1")
	check("LinkByTarget", got, err, "T-1", `{"userName":"a"}`)

	// Replacing keeps Created. (The store's clock has nanoseconds, and
	// the replacing write reads it later than the first: a Created set
	// anew would differ.)
	l2 := &store.Link{AppID: app.ID, SourceType: store.UserType, SourceID: "u1", TargetID: "T-2", Exported: []byte(`{"userName":"b"}`)}
	if err := s.PutLink(ctx, l2); err != nil {
		t.Fatal(err)
	}
	if !l2.Created.Equal(first) || l2.Updated.Before(first) {
		t.Errorf("PutLink replacing set Created %v (want %v), Updated %v", l2.Created, first, l2.Updated)
	}
	got, err = s.Link(ctx, app.ID, store.UserType, "u1")
	check("Link after replacing", got, err, "T-2", `{"userName":"b"}`)
	if !got.Updated.Equal(l2.Updated) {
		t.Errorf("Updated = %v, want %v", got.Updated, l2.Updated)
	}
	_, err = s.LinkByTarget(ctx, app.ID, store.UserType, "T-1")
	wantKind(t, "LinkByTarget of the replaced target", err, store.ErrNotFound)

	// Links are per application and source type.
	_, err = s.Link(ctx, other.ID, store.UserType, "u1")
	wantKind(t, "Link of another application", err, store.ErrNotFound)
	_, err = s.Link(ctx, app.ID, store.GroupType, "u1")
	wantKind(t, "Link of another type", err, store.ErrNotFound)
	_, err = s.LinkByTarget(ctx, app.ID, store.GroupType, "T-2")
	wantKind(t, "LinkByTarget of another type", err, store.ErrNotFound)
	err = s.PutLink(ctx, &store.Link{AppID: "nope", SourceType: store.UserType, SourceID: "u1", TargetID: "x"})
	wantKind(t, "PutLink of an unknown application", err, store.ErrNotFound)

	if err := s.DeleteLink(ctx, app.ID, store.UserType, "u1"); err != nil {
		t.Fatal(err)
	}
	_, err = s.Link(ctx, app.ID, store.UserType, "u1")
	wantKind(t, "Link after DeleteLink", err, store.ErrNotFound)
	_, err = s.LinkByTarget(ctx, app.ID, store.UserType, "T-2")
	wantKind(t, "LinkByTarget after DeleteLink", err, store.ErrNotFound)
	if err := s.DeleteLink(ctx, app.ID, store.UserType, "u1"); err != nil {
		t.Errorf("DeleteLink of a missing link: %v", err)
	}

	// Paging in source id order.
	var want []string
	for i := range 25 {
		id := fmt.Sprintf("src-%02d", (i*7)%25) // out of order
		want = append(want, id)
		for _, ln := range []*store.Link{
			{AppID: app.ID, SourceType: store.UserType, SourceID: id, TargetID: "t-" + id},
			{AppID: app.ID, SourceType: store.GroupType, SourceID: "g-" + id, TargetID: "t-" + id},
			{AppID: other.ID, SourceType: store.UserType, SourceID: "o-" + id, TargetID: "t-" + id},
		} {
			if err := s.PutLink(ctx, ln); err != nil {
				t.Fatal(err)
			}
		}
	}
	slices.Sort(want)
	var paged []string
	after := ""
	for {
		page, err := s.Links(ctx, app.ID, store.UserType, after, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) > 10 {
			t.Fatalf("Links returned %d for limit 10", len(page))
		}
		if len(page) == 0 {
			break
		}
		for _, ln := range page {
			if ln.AppID != app.ID || ln.SourceType != store.UserType || ln.TargetID != "t-"+ln.SourceID {
				t.Errorf("Links gave %+v", ln)
			}
			paged = append(paged, ln.SourceID)
		}
		after = page[len(page)-1].SourceID
	}
	if !slices.Equal(paged, want) {
		t.Errorf("Links paged:\n got %v\nwant %v", paged, want)
	}
	if page, err := s.Links(ctx, app.ID, store.UserType, "src-20", 100); err != nil || len(page) != 4 || page[0].SourceID != "src-21" {
		t.Errorf("Links after src-20 = %d links, %v", len(page), err)
	}
	if page, err := s.Links(ctx, app.ID, store.GroupType, "", 100); err != nil || len(page) != 25 {
		t.Errorf("group links = %d, %v; want 25", len(page), err)
	}
}

func testLinkLogs(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	app := createApp(t, s, a, "App")
	logOf := func(action, source string) *store.ProvisioningLog {
		return &store.ProvisioningLog{TenantID: a, AppID: app.ID, CycleID: "c1", Action: action, Status: "success",
			SourceType: store.UserType, SourceID: source, SourceName: source + "@example.com", TargetID: "T-" + source,
			Record: fmt.Appendf(nil, `{"action":%q,"source":%q}`, action, source)}
	}
	tenantLogs := func() []*store.ProvisioningLog {
		t.Helper()
		return readLogs(t, s, store.LogQuery{TenantID: a, Limit: 1000})
	}

	// PutLink stores the link and its records, which get their ids (a
	// given one kept) and the write's time.
	created, exported := logOf("create", "u1"), logOf("other", "u1")
	exported.ID = "given-id"
	l := &store.Link{AppID: app.ID, SourceType: store.UserType, SourceID: "u1", TargetID: "T-u1", Exported: []byte(`{"n":1}`)}
	if err := s.PutLink(ctx, l, created, exported); err != nil {
		t.Fatal(err)
	}
	if !uuidRE.MatchString(created.ID) || exported.ID != "given-id" {
		t.Errorf("PutLink set log ids %q, %q; want a new UUID and the given id", created.ID, exported.ID)
	}
	if !created.At.Equal(l.Updated) || !exported.At.Equal(l.Updated) {
		t.Errorf("PutLink set log times %v, %v; want the link's Updated %v", created.At, exported.At, l.Updated)
	}
	got := tenantLogs()
	if want := []string{exported.ID, created.ID}; !slices.Equal(logIDs(got), want) {
		t.Fatalf("logs after PutLink = %v, want %v", logIDs(got), want)
	}
	if r := got[1]; r.AppID != app.ID || r.Action != "create" || r.SourceID != "u1" || r.TargetID != "T-u1" ||
		!r.At.Equal(l.Updated) || string(r.Record) != `{"action":"create","source":"u1"}` {
		t.Errorf("the record PutLink appended reads %+v", r)
	}
	if ln, err := s.Link(ctx, app.ID, store.UserType, "u1"); err != nil || ln.TargetID != "T-u1" {
		t.Fatalf("Link after PutLink with logs = %+v, %v", ln, err)
	}
	// A call repeated, its outcome unknown to the caller, replaces the
	// link and skips the records it already stored.
	l.Exported = []byte(`{"n":2}`)
	if err := s.PutLink(ctx, l, created, exported); err != nil {
		t.Fatal(err)
	}
	if got := tenantLogs(); len(got) != 2 {
		t.Errorf("a repeated PutLink left %d records, want 2", len(got))
	}
	if ln, err := s.Link(ctx, app.ID, store.UserType, "u1"); err != nil || string(ln.Exported) != `{"n":2}` {
		t.Errorf("Link after a repeated PutLink = %+v, %v", ln, err)
	}

	// DeleteLink removes the link and appends its records; a link that is
	// not there is no error, and its records are appended all the same.
	deleted, skipped := logOf("delete", "u1"), logOf("delete", "u9")
	skipped.Status = "skipped"
	if err := s.DeleteLink(ctx, app.ID, store.UserType, "u1", deleted); err != nil {
		t.Fatal(err)
	}
	_, err := s.Link(ctx, app.ID, store.UserType, "u1")
	wantKind(t, "Link after DeleteLink with a record", err, store.ErrNotFound)
	if err := s.DeleteLink(ctx, app.ID, store.UserType, "u9", skipped); err != nil {
		t.Fatalf("DeleteLink of a missing link with a record: %v", err)
	}
	if !uuidRE.MatchString(deleted.ID) || !uuidRE.MatchString(skipped.ID) || deleted.At.IsZero() {
		t.Errorf("DeleteLink set %+v and %+v", deleted, skipped)
	}
	if got, want := logIDs(tenantLogs()), []string{skipped.ID, deleted.ID, exported.ID, created.ID}; !slices.Equal(got, want) {
		t.Errorf("logs after DeleteLink = %v, want %v", got, want)
	}

	// A write that fails stores neither the link nor its records.
	keep := &store.Link{AppID: app.ID, SourceType: store.UserType, SourceID: "u2", TargetID: "T-u2"}
	if err := s.PutLink(ctx, keep); err != nil {
		t.Fatal(err)
	}
	notJSON := func(action, source string) *store.ProvisioningLog {
		l := logOf(action, source)
		l.Record = []byte(`{"error":`)
		return l
	}
	put := func(l store.Link) func(logs ...*store.ProvisioningLog) error {
		return func(logs ...*store.ProvisioningLog) error { return s.PutLink(ctx, &l, logs...) }
	}
	u3 := store.Link{AppID: app.ID, SourceType: store.UserType, SourceID: "u3", TargetID: "T-u3"}
	unknownApp, badExport, badType := u3, u3, u3
	unknownApp.AppID = "nope"
	badExport.Exported = []byte("{")
	badType.SourceType = "Device"
	failures := []struct {
		name  string
		write func(logs ...*store.ProvisioningLog) error
		logs  []*store.ProvisioningLog
		kind  error // of the *store.Error; nil for any error
	}{
		{"PutLink to an unknown application", put(unknownApp), []*store.ProvisioningLog{logOf("create", "u3")}, store.ErrNotFound},
		{"PutLink with a record that is not JSON", put(u3), []*store.ProvisioningLog{notJSON("create", "u3")}, nil},
		{"PutLink with a good record and a bad one", put(u3),
			[]*store.ProvisioningLog{logOf("create", "u3"), notJSON("other", "u3")}, nil},
		{"PutLink with an exported record that is not JSON", put(badExport), []*store.ProvisioningLog{logOf("create", "u3")}, nil},
		{"PutLink of an unknown source type", put(badType), []*store.ProvisioningLog{logOf("create", "u3")}, nil},
		{"DeleteLink with a record that is not JSON", func(logs ...*store.ProvisioningLog) error {
			return s.DeleteLink(ctx, app.ID, store.UserType, "u2", logs...)
		}, []*store.ProvisioningLog{logOf("delete", "u2"), notJSON("delete", "u2")}, nil},
	}
	for _, tc := range failures {
		err := tc.write(tc.logs...)
		if err == nil {
			t.Fatalf("%s: no error", tc.name)
		}
		if tc.kind != nil {
			wantKind(t, tc.name, err, tc.kind)
		}
		for _, l := range tc.logs {
			if l.ID != "" || !l.At.IsZero() {
				t.Errorf("%s: a record was given ID %q and At %v", tc.name, l.ID, l.At)
			}
		}
		if got := tenantLogs(); len(got) != 4 {
			t.Errorf("%s: %d records stored, want the 4 from before", tc.name, len(got))
		}
		_, err = s.Link(ctx, app.ID, store.UserType, "u3")
		wantKind(t, tc.name+": Link u3", err, store.ErrNotFound)
		if ln, err := s.Link(ctx, app.ID, store.UserType, "u2"); err != nil || ln.TargetID != "T-u2" {
			t.Errorf("%s: Link u2 = %+v, %v; want it kept", tc.name, ln, err)
		}
	}
}

func testDeleteLinks(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	app, other := createApp(t, s, a, "App"), createApp(t, s, a, "Other")
	for _, ln := range []*store.Link{
		{AppID: app.ID, SourceType: store.UserType, SourceID: "u1", TargetID: "t1"},
		{AppID: app.ID, SourceType: store.UserType, SourceID: "u2", TargetID: "t2"},
		{AppID: app.ID, SourceType: store.UserType, SourceID: "u3", TargetID: "t3"},
		{AppID: app.ID, SourceType: store.GroupType, SourceID: "g1", TargetID: "t4"},
		{AppID: app.ID, SourceType: store.GroupType, SourceID: "g2", TargetID: "t5"},
		{AppID: other.ID, SourceType: store.UserType, SourceID: "u1", TargetID: "t1"},
		{AppID: other.ID, SourceType: store.GroupType, SourceID: "g1", TargetID: "t4"},
	} {
		if err := s.PutLink(ctx, ln); err != nil {
			t.Fatal(err)
		}
	}
	links := func(appID, typ string) int {
		t.Helper()
		page, err := s.Links(ctx, appID, typ, "", 100)
		if err != nil {
			t.Fatal(err)
		}
		return len(page)
	}
	tests := []struct {
		name  string
		appID string
		want  int
	}{
		{"every link, of both types", app.ID, 5},
		{"again: none left", app.ID, 0},
		{"an unknown application", "nope", 0},
	}
	for _, tc := range tests {
		if n, err := s.DeleteLinks(ctx, tc.appID); err != nil || n != tc.want {
			t.Errorf("DeleteLinks %s = %d, %v; want %d", tc.name, n, err, tc.want)
		}
	}
	if u, g := links(app.ID, store.UserType), links(app.ID, store.GroupType); u != 0 || g != 0 {
		t.Errorf("after DeleteLinks the application has %d user and %d group links", u, g)
	}
	if u, g := links(other.ID, store.UserType), links(other.ID, store.GroupType); u != 1 || g != 1 {
		t.Errorf("the other application has %d user and %d group links, want 1 and 1", u, g)
	}
	// The application starts again from nothing.
	if err := s.PutLink(ctx, &store.Link{AppID: app.ID, SourceType: store.UserType, SourceID: "u1", TargetID: "t9"}); err != nil {
		t.Fatal(err)
	}
	if ln, err := s.Link(ctx, app.ID, store.UserType, "u1"); err != nil || ln.TargetID != "t9" {
		t.Errorf("Link after DeleteLinks and PutLink = %+v, %v", ln, err)
	}
}

func testCountLinks(t *testing.T, s store.Store) {
	ctx := context.Background()
	a, b := tenant(t, s, "a"), tenant(t, s, "b")
	u1 := create(t, s, a, store.UserType, user(t, "u1"))
	u2 := create(t, s, a, store.UserType, user(t, "u2"))
	u3 := create(t, s, a, store.UserType, user(t, "u3"))
	g1 := create(t, s, a, store.GroupType, group(t, "g1"))
	onlyB := &store.Resource{TenantID: b, Type: store.UserType, ID: "only-in-b", Doc: user(t, "b1")}
	if err := s.Create(ctx, onlyB); err != nil {
		t.Fatal(err)
	}
	app, other := createApp(t, s, a, "App"), createApp(t, s, a, "Other")
	appB := createApp(t, s, b, "App")
	links := []struct {
		appID, typ string
		ids        []string
	}{
		// A user of tenant b and a user that never was are orphans in
		// tenant a; so is a user's id linked as a group.
		{app.ID, store.UserType, []string{u1.ID, u2.ID, u3.ID, onlyB.ID, "ghost"}},
		{app.ID, store.GroupType, []string{g1.ID, u1.ID}},
		{other.ID, store.UserType, []string{u1.ID}},
		{appB.ID, store.UserType, []string{onlyB.ID, u1.ID}},
	}
	for _, ls := range links {
		for _, id := range ls.ids {
			if err := s.PutLink(ctx, &store.Link{AppID: ls.appID, SourceType: ls.typ, SourceID: id, TargetID: "t-" + id}); err != nil {
				t.Fatal(err)
			}
		}
	}
	type count struct {
		name                 string
		tenantID, appID, typ string
		want                 store.LinkCounts
	}
	check := func(when string, counts []count) {
		t.Helper()
		for _, c := range counts {
			got, err := s.CountLinks(ctx, c.tenantID, c.appID, c.typ)
			if err != nil || got != c.want {
				t.Errorf("%s: CountLinks %s = %+v, %v; want %+v", when, c.name, got, err, c.want)
			}
		}
	}
	check("at first", []count{
		{"users", a, app.ID, store.UserType, store.LinkCounts{Total: 5, Orphaned: 2}},
		{"groups", a, app.ID, store.GroupType, store.LinkCounts{Total: 2, Orphaned: 1}},
		{"another application", a, other.ID, store.UserType, store.LinkCounts{Total: 1, Orphaned: 0}},
		{"a type without links", a, other.ID, store.GroupType, store.LinkCounts{}},
		{"tenant b's application", b, appB.ID, store.UserType, store.LinkCounts{Total: 2, Orphaned: 1}},
		{"an application of another tenant", b, app.ID, store.UserType, store.LinkCounts{}},
		{"an unknown application", a, "nope", store.UserType, store.LinkCounts{}},
	})

	// Deleting a source orphans its links, in every application of the
	// tenant and no other.
	if err := s.Delete(ctx, a, store.UserType, u2.ID, 0); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, a, store.GroupType, g1.ID, 0); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, a, store.UserType, u1.ID, 0); err != nil {
		t.Fatal(err)
	}
	check("after deleting u1, u2 and g1", []count{
		{"users", a, app.ID, store.UserType, store.LinkCounts{Total: 5, Orphaned: 4}},
		{"groups", a, app.ID, store.GroupType, store.LinkCounts{Total: 2, Orphaned: 2}},
		{"another application", a, other.ID, store.UserType, store.LinkCounts{Total: 1, Orphaned: 1}},
		{"tenant b's application", b, appB.ID, store.UserType, store.LinkCounts{Total: 2, Orphaned: 1}},
	})
	// A source is matched by type and id: a new user with a deleted one's
	// id is the link's source again.
	if err := s.Create(ctx, &store.Resource{TenantID: a, Type: store.UserType, ID: u2.ID, Doc: user(t, "u2")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DeleteLinks(ctx, other.ID); err != nil {
		t.Fatal(err)
	}
	check("after recreating u2 and clearing the other application", []count{
		{"users", a, app.ID, store.UserType, store.LinkCounts{Total: 5, Orphaned: 3}},
		{"another application", a, other.ID, store.UserType, store.LinkCounts{}},
	})
}

// --- escrows ----------------------------------------------------------------------------

// sameEscrow reports how got differs from want, or "".
func sameEscrow(got, want *store.Escrow) string {
	switch {
	case got.AppID != want.AppID || got.SourceType != want.SourceType || got.SourceID != want.SourceID:
		return fmt.Sprintf("object %s/%s/%s, want %s/%s/%s", got.AppID, got.SourceType, got.SourceID,
			want.AppID, want.SourceType, want.SourceID)
	case got.SourceName != want.SourceName || got.Attempts != want.Attempts || got.Retryable != want.Retryable:
		return fmt.Sprintf("name %q, attempts %d, retryable %t; want %q, %d, %t", got.SourceName, got.Attempts, got.Retryable,
			want.SourceName, want.Attempts, want.Retryable)
	case !got.NextTry.Equal(want.NextTry) || got.NextTry.IsZero() != want.NextTry.IsZero():
		return fmt.Sprintf("next try %v, want %v", got.NextTry, want.NextTry)
	case !got.FirstFailed.Equal(want.FirstFailed) || !got.LastFailed.Equal(want.LastFailed):
		return fmt.Sprintf("failed %v to %v, want %v to %v", got.FirstFailed, got.LastFailed, want.FirstFailed, want.LastFailed)
	case string(got.Record) != string(want.Record) || (got.Record == nil) != (want.Record == nil):
		return fmt.Sprintf("record %q, want %q", got.Record, want.Record)
	}
	return ""
}

func readEscrows(t *testing.T, s store.Store, appID string, q store.EscrowQuery) []*store.Escrow {
	t.Helper()
	es, err := s.Escrows(context.Background(), appID, q)
	if err != nil {
		t.Fatalf("Escrows(%s, %+v): %v", appID, q, err)
	}
	return es
}

func escrowKeys(es []*store.Escrow) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.SourceType + "/" + e.SourceID
	}
	return out
}

func testEscrows(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	app, other := createApp(t, s, a, "App"), createApp(t, s, a, "Other")
	// Times keep their nanoseconds: they are the engine's, not the store's.
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 123456789, time.UTC)

	// What callers can get wrong.
	err := s.PutEscrow(ctx, &store.Escrow{AppID: "nope", SourceType: store.UserType, SourceID: "u1"})
	wantKind(t, "PutEscrow of an unknown application", err, store.ErrNotFound)
	for _, bad := range []*store.Escrow{
		{AppID: app.ID, SourceType: "Device", SourceID: "u1"},
		{AppID: app.ID, SourceType: store.UserType, SourceID: "u1", Record: []byte(`{"error":`)},
	} {
		if err := s.PutEscrow(ctx, bad); err == nil {
			t.Errorf("PutEscrow(%+v) stored it", bad)
		}
	}
	if es := readEscrows(t, s, app.ID, store.EscrowQuery{}); len(es) != 0 {
		t.Fatalf("failed puts left escrows %v", escrowKeys(es))
	}
	if err := s.PutEscrow(ctx, &store.Escrow{AppID: other.ID, SourceType: store.UserType, SourceID: "u1", Attempts: 1}); err != nil {
		t.Fatal(err)
	}

	// A retryable failure, with every field given: stored as given.
	e := &store.Escrow{AppID: app.ID, SourceType: store.UserType, SourceID: "u1", SourceName: "u1@example.com",
		Attempts: 1, Retryable: true, NextTry: t0.Add(time.Minute), FirstFailed: t0, LastFailed: t0,
		Record: []byte(`{"error":"timeout"}`)}
	want := *e
	if err := s.PutEscrow(ctx, e); err != nil {
		t.Fatal(err)
	}
	if d := sameEscrow(e, &want); d != "" {
		t.Errorf("PutEscrow changed the escrow: %s", d)
	}
	got := readEscrows(t, s, app.ID, store.EscrowQuery{})
	if len(got) != 1 {
		t.Fatalf("Escrows = %v, want u1", escrowKeys(got))
	}
	if d := sameEscrow(got[0], &want); d != "" {
		t.Errorf("Escrows read back %s", d)
	}

	// Replaced by a permanent failure with no times: LastFailed is the
	// write's, FirstFailed the replaced escrow's, and NextTry is dropped.
	before := time.Now().Add(-time.Minute)
	e2 := &store.Escrow{AppID: app.ID, SourceType: store.UserType, SourceID: "u1", SourceName: "renamed",
		Attempts: 2, NextTry: t0.Add(time.Hour), Record: []byte(`{"error":"400"}`)}
	if err := s.PutEscrow(ctx, e2); err != nil {
		t.Fatal(err)
	}
	if !e2.FirstFailed.Equal(t0) || e2.LastFailed.Before(before) || !e2.NextTry.IsZero() {
		t.Errorf("PutEscrow replacing set FirstFailed %v (want %v), LastFailed %v (want the write's time), NextTry %v (want zero)",
			e2.FirstFailed, t0, e2.LastFailed, e2.NextTry)
	}
	want2 := store.Escrow{AppID: app.ID, SourceType: store.UserType, SourceID: "u1", SourceName: "renamed", Attempts: 2,
		FirstFailed: t0, LastFailed: e2.LastFailed, Record: []byte(`{"error":"400"}`)}
	if got := readEscrows(t, s, app.ID, store.EscrowQuery{}); len(got) != 1 || sameEscrow(got[0], &want2) != "" {
		t.Errorf("Escrows after replacing = %v: %s", escrowKeys(got), sameEscrow(got[0], &want2))
	}
	// A given FirstFailed starts a new run of failures.
	e3 := &store.Escrow{AppID: app.ID, SourceType: store.UserType, SourceID: "u1", Attempts: 1,
		FirstFailed: t0.Add(time.Hour), LastFailed: t0.Add(2 * time.Hour)}
	if err := s.PutEscrow(ctx, e3); err != nil {
		t.Fatal(err)
	}
	want3 := *e3
	if got := readEscrows(t, s, app.ID, store.EscrowQuery{}); len(got) != 1 || sameEscrow(got[0], &want3) != "" {
		t.Errorf("Escrows after a new run = %v: %s", escrowKeys(got), sameEscrow(got[0], &want3))
	}
	// A new escrow without times failed at the write's time; a retryable
	// one without NextTry is due at once, and no record reads as none.
	g := &store.Escrow{AppID: app.ID, SourceType: store.GroupType, SourceID: "g1", SourceName: "Admins", Attempts: 1, Retryable: true}
	if err := s.PutEscrow(ctx, g); err != nil {
		t.Fatal(err)
	}
	if g.LastFailed.Before(before) || !g.FirstFailed.Equal(g.LastFailed) || !g.NextTry.IsZero() {
		t.Errorf("PutEscrow of a new escrow without times set %+v", g)
	}
	got = readEscrows(t, s, app.ID, store.EscrowQuery{Due: t0})
	if len(got) != 1 || got[0].SourceID != "g1" || !got[0].NextTry.IsZero() || got[0].Record != nil ||
		!got[0].FirstFailed.Equal(g.FirstFailed) {
		t.Errorf("due escrows = %v, want g1 as put (%+v)", escrowKeys(got), got)
	}
	// Groups list before users: (SourceType, SourceID) order.
	if got, want := escrowKeys(readEscrows(t, s, app.ID, store.EscrowQuery{})), []string{"Group/g1", "User/u1"}; !slices.Equal(got, want) {
		t.Errorf("Escrows = %v, want %v", got, want)
	}

	counts := func(appID string, wantTotal, wantRetryable int) {
		t.Helper()
		n, r, err := s.CountEscrows(ctx, appID)
		if err != nil || n != wantTotal || r != wantRetryable {
			t.Errorf("CountEscrows(%s) = %d, %d, %v; want %d, %d", appID, n, r, err, wantTotal, wantRetryable)
		}
	}
	counts(app.ID, 2, 1)
	counts(other.ID, 1, 0)
	counts("nope", 0, 0)

	// DeleteEscrow removes one escrow; a missing one is no error.
	if err := s.DeleteEscrow(ctx, app.ID, store.UserType, "u1"); err != nil {
		t.Fatal(err)
	}
	for _, k := range [][3]string{{app.ID, store.UserType, "u1"}, {app.ID, store.GroupType, "u1"}, {"nope", store.UserType, "u1"}} {
		if err := s.DeleteEscrow(ctx, k[0], k[1], k[2]); err != nil {
			t.Errorf("DeleteEscrow of a missing escrow %v: %v", k, err)
		}
	}
	if got, want := escrowKeys(readEscrows(t, s, app.ID, store.EscrowQuery{})), []string{"Group/g1"}; !slices.Equal(got, want) {
		t.Errorf("Escrows after DeleteEscrow = %v, want %v", got, want)
	}
	counts(app.ID, 1, 1)

	// DeleteEscrows removes an application's escrows and no other's.
	for _, tc := range []struct {
		name  string
		appID string
		want  int
	}{{"the application's", app.ID, 1}, {"again", app.ID, 0}, {"an unknown application's", "nope", 0}} {
		if n, err := s.DeleteEscrows(ctx, tc.appID); err != nil || n != tc.want {
			t.Errorf("DeleteEscrows %s = %d, %v; want %d", tc.name, n, err, tc.want)
		}
	}
	counts(app.ID, 0, 0)
	counts(other.ID, 1, 0)
}

// testEscrowQueries pages through a thousand escrows of odd ids with and
// without Due, and checks every page against the order and selection
// worked out here: byte order of the type and then the id, as Go compares
// strings.
func testEscrowQueries(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	app, other := createApp(t, s, a, "App"), createApp(t, s, a, "Other")
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	rng := rand.New(rand.NewPCG(7, 11))
	ids := []string{"é", "e", "E", "Z", "a", "a b", "a-b", "_x", "ü1", "日本", "%", "~", "a\u00a0b"}
	for i := range 1190 {
		ids = append(ids, fmt.Sprintf("u%04d", i))
	}
	var model []*store.Escrow
	for i, id := range ids {
		e := &store.Escrow{AppID: app.ID, SourceType: []string{store.UserType, store.GroupType}[rng.IntN(4)/3], SourceID: id,
			SourceName: "name of " + id, Attempts: 1 + rng.IntN(5), Retryable: rng.IntN(3) > 0,
			NextTry:     t0.Add(time.Duration(rng.IntN(121)-60) * time.Minute),
			FirstFailed: t0.Add(-time.Duration(i) * time.Second), LastFailed: t0.Add(-time.Duration(i) * time.Millisecond),
			Record: fmt.Appendf(nil, `{"n":%d}`, i)}
		w := *e
		if !w.Retryable {
			w.NextTry = time.Time{}
		}
		model = append(model, &w)
		if i%5 == 0 {
			// The other application's escrows of the same objects are
			// never listed.
			o := *e
			o.AppID = other.ID
			if err := s.PutEscrow(ctx, &o); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.PutEscrow(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	slices.SortFunc(model, func(x, y *store.Escrow) int {
		return cmp.Or(cmp.Compare(x.SourceType, y.SourceType), cmp.Compare(x.SourceID, y.SourceID))
	})
	due := func(at time.Time) []*store.Escrow {
		var out []*store.Escrow
		for _, e := range model {
			if e.Retryable && !e.NextTry.After(at) {
				out = append(out, e)
			}
		}
		return out
	}
	retryable := len(due(time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)))
	if n, r, err := s.CountEscrows(ctx, app.ID); err != nil || n != len(model) || r != retryable {
		t.Errorf("CountEscrows = %d, %d, %v; want %d, %d", n, r, err, len(model), retryable)
	}
	if retryable == 0 || retryable == len(model) || len(due(t0)) == 0 || len(due(t0)) == retryable {
		t.Fatalf("the escrows do not cover the cases: %d retryable, %d due", retryable, len(due(t0)))
	}

	// Paging with After gives every selected escrow once, in order.
	pages := []struct {
		name  string
		q     store.EscrowQuery
		limit int // the page size the store must keep to
		want  []*store.Escrow
	}{
		{"all, 7 at a time", store.EscrowQuery{Limit: 7}, 7, model},
		{"all, default size", store.EscrowQuery{}, 100, model},
		{"all, the most at a time", store.EscrowQuery{Limit: 5000}, 1000, model},
		{"due at t0", store.EscrowQuery{Due: t0, Limit: 50}, 50, due(t0)},
		{"due an hour before", store.EscrowQuery{Due: t0.Add(-time.Hour), Limit: 50}, 50, due(t0.Add(-time.Hour))},
		{"due before every next try", store.EscrowQuery{Due: t0.Add(-2 * time.Hour)}, 100, nil},
		{"due at the last next try", store.EscrowQuery{Due: t0.Add(time.Hour), Limit: 1000}, 1000, due(t0.Add(time.Hour))},
	}
	for _, p := range pages {
		var got []*store.Escrow
		q := p.q
		for {
			page := readEscrows(t, s, app.ID, q)
			if len(page) > p.limit {
				t.Fatalf("%s: a page of %d, want at most %d", p.name, len(page), p.limit)
			}
			if len(page) < p.limit && len(got)+len(page) < len(p.want) {
				t.Fatalf("%s: a short page of %d after %d, of %d", p.name, len(page), len(got), len(p.want))
			}
			if len(page) == 0 {
				break
			}
			got = append(got, page...)
			last := page[len(page)-1]
			q.AfterType, q.AfterID = last.SourceType, last.SourceID
		}
		if !slices.Equal(escrowKeys(got), escrowKeys(p.want)) {
			t.Errorf("%s: %d escrows, want %d in order\n got %v\nwant %v", p.name, len(got), len(p.want),
				escrowKeys(got)[:min(len(got), 20)], escrowKeys(p.want)[:min(len(p.want), 20)])
			continue
		}
		for i := range got {
			if d := sameEscrow(got[i], p.want[i]); d != "" {
				t.Errorf("%s: escrow %s: %s", p.name, escrowKeys(got[i : i+1])[0], d)
				break
			}
		}
	}

	// Single pages: where After starts, and what Limit gives.
	groups := 0
	for _, e := range model {
		if e.SourceType == store.GroupType {
			groups++
		}
	}
	lastGroup := model[groups-1]
	firstPages := []struct {
		name string
		q    store.EscrowQuery
		want []*store.Escrow
	}{
		{"limit 0", store.EscrowQuery{}, model[:100]},
		{"limit -1", store.EscrowQuery{Limit: -1}, model[:100]},
		{"limit 1", store.EscrowQuery{Limit: 1}, model[:1]},
		{"limit 1000", store.EscrowQuery{Limit: 1000}, model[:1000]},
		{"limit 1001", store.EscrowQuery{Limit: 1001}, model[:1000]},
		{"after a type alone", store.EscrowQuery{AfterType: store.UserType, Limit: 3}, model[groups : groups+3]},
		{"after the last group", store.EscrowQuery{AfterType: store.GroupType, AfterID: lastGroup.SourceID, Limit: 3},
			model[groups : groups+3]},
		{"after an id that is not stored", store.EscrowQuery{AfterType: model[10].SourceType, AfterID: model[10].SourceID + "\x01",
			Limit: 2}, model[11:13]},
		{"after the last", store.EscrowQuery{AfterType: store.UserType, AfterID: model[len(model)-1].SourceID}, nil},
		{"after a type past every type", store.EscrowQuery{AfterType: "Zzz"}, nil},
		{"due, after the middle", store.EscrowQuery{Due: t0, AfterType: model[600].SourceType, AfterID: model[600].SourceID, Limit: 5},
			firstDue(model[601:], t0, 5)},
	}
	for _, p := range firstPages {
		if got := escrowKeys(readEscrows(t, s, app.ID, p.q)); !slices.Equal(got, escrowKeys(p.want)) {
			t.Errorf("%s: %d escrows %v, want %d %v", p.name, len(got), got[:min(len(got), 5)], len(p.want),
				escrowKeys(p.want)[:min(len(p.want), 5)])
		}
	}
	if got := readEscrows(t, s, "nope", store.EscrowQuery{}); len(got) != 0 {
		t.Errorf("an unknown application's escrows = %v", escrowKeys(got))
	}
	if n, err := s.DeleteEscrows(ctx, app.ID); err != nil || n != len(model) {
		t.Errorf("DeleteEscrows = %d, %v; want %d", n, err, len(model))
	}
	if n, r, err := s.CountEscrows(ctx, other.ID); err != nil || n != (len(ids)+4)/5 {
		t.Errorf("the other application's CountEscrows = %d, %d, %v; want %d", n, r, err, (len(ids)+4)/5)
	}
}

// firstDue returns the first n escrows of es due at at.
func firstDue(es []*store.Escrow, at time.Time, n int) []*store.Escrow {
	var out []*store.Escrow
	for _, e := range es {
		if len(out) < n && e.Retryable && !e.NextTry.After(at) {
			out = append(out, e)
		}
	}
	return out
}

// --- job state and lease ----------------------------------------------------------------

func testJobState(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	app, other := createApp(t, s, a, "App"), createApp(t, s, a, "Other")
	js, err := s.JobState(ctx, app.ID)
	if err != nil {
		t.Fatal(err)
	}
	if js.AppID != app.ID || js.Watermark != 0 || js.State != nil || !js.Updated.IsZero() {
		t.Fatalf("JobState never written = %+v, want the zero state with AppID", js)
	}
	in := &store.JobState{AppID: app.ID, Watermark: 41, State: []byte(`{"cycle":"c1","pending":["u1"]}`)}
	if err := s.PutJobState(ctx, in); err != nil {
		t.Fatal(err)
	}
	if in.Updated.IsZero() {
		t.Error("PutJobState did not set Updated")
	}
	got, err := s.JobState(ctx, app.ID)
	if err != nil || got.AppID != app.ID || got.Watermark != 41 || string(got.State) != string(in.State) || !got.Updated.Equal(in.Updated) {
		t.Fatalf("JobState = %+v, %v; want %+v", got, err, in)
	}
	if err := s.PutJobState(ctx, &store.JobState{AppID: app.ID, Watermark: 99}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.JobState(ctx, app.ID); err != nil || got.Watermark != 99 || got.State != nil {
		t.Errorf("JobState after the second put = %+v, %v", got, err)
	}
	if got, err := s.JobState(ctx, other.ID); err != nil || got.Watermark != 0 {
		t.Errorf("another application's JobState = %+v, %v", got, err)
	}
	wantKind(t, "PutJobState of an unknown application", s.PutJobState(ctx, &store.JobState{AppID: "nope"}), store.ErrNotFound)
}

// claimAll has n owners claim the job at once, and returns the winners
// and the lease every claimer was answered with: claimers that race must
// all see the same lease, the winner's.
func claimAll(t *testing.T, s store.Store, appID, prefix string, n int, ttl time.Duration) (winners []string, lease store.Lease) {
	t.Helper()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var leases []store.Lease
	var errs []error
	start := make(chan struct{})
	for i := range n {
		owner := fmt.Sprintf("%s-%02d", prefix, i)
		wg.Go(func() {
			<-start
			l, ok, err := s.ClaimJob(context.Background(), appID, owner, ttl)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				errs = append(errs, err)
			case ok != (l.Owner == owner):
				errs = append(errs, fmt.Errorf("ClaimJob(%s) = %t with the lease %+v", owner, ok, l))
			case ok:
				winners = append(winners, owner)
			}
			leases = append(leases, l)
		})
	}
	close(start)
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("ClaimJob: %v", errs[0])
	}
	// Every answer is the lease as the last claim to take it left it: when
	// exactly one claim took it, all answers are equal.
	if len(winners) <= 1 {
		for _, l := range leases[1:] {
			if !sameLease(l, leases[0]) {
				t.Fatalf("claimers racing for the lease were answered with different leases: %+v and %+v", leases[0], l)
			}
		}
	}
	return winners, leases[0]
}

// testClaimJob runs on the store's own clock, which for PostgreSQL is the
// database server's: the one test of leases on a clock it cannot move on.
// Its lease that expires lasts a nanosecond, over by the time the next
// statement reads the clock. The other tests of leases (leases.go) run on
// a clock they move on.
func testClaimJob(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	app, other := createApp(t, s, a, "App"), createApp(t, s, a, "Other")
	claim := func(appID, owner string, ttl time.Duration) (store.Lease, bool) {
		t.Helper()
		l, ok, err := s.ClaimJob(ctx, appID, owner, ttl)
		if err != nil {
			t.Fatalf("ClaimJob(%s): %v", owner, err)
		}
		return l, ok
	}

	// Of 20 claimers at once, one wins the live lease.
	before := time.Now()
	winners, lease := claimAll(t, s, app.ID, "w", 20, time.Hour)
	if len(winners) != 1 {
		t.Fatalf("%d claimers won a free lease, want exactly 1: %v", len(winners), winners)
	}
	holder := winners[0]
	// The database's clock is this host's (the test's PostgreSQL runs on
	// it); Expires is an hour after the claim, give or take the test's
	// own run time.
	if lease.Owner != holder || lease.Generation != 1 || lease.Expires.Before(before.Add(time.Hour-time.Minute)) ||
		lease.Expires.After(time.Now().Add(time.Hour+time.Minute)) {
		t.Fatalf("the won lease = %+v; want %s's, generation 1, an hour from now", lease, holder)
	}
	if more, l := claimAll(t, s, app.ID, "late", 20, time.Hour); len(more) != 0 || !sameLease(l, lease) {
		t.Fatalf("claimers of a live lease: %v won, and were answered %+v; want none, and %+v", more, l, lease)
	}
	if l, ok := claim(app.ID, holder, time.Hour); !ok || l.Generation != 1 || l.Expires.Before(lease.Expires) {
		t.Errorf("the holder's renewal = %+v, %t; want generation 1, held, ending no earlier", l, ok)
	}
	if _, ok := claim(other.ID, "x", time.Hour); !ok {
		t.Error("another application's lease was not free")
	}
	// Releasing: only the holder's release frees the lease.
	if err := s.ReleaseJob(ctx, app.ID, "not-the-holder"); err != nil {
		t.Fatal(err)
	}
	if _, ok := claim(app.ID, "y", time.Hour); ok {
		t.Error("a release by another owner freed the lease")
	}
	if err := s.ReleaseJob(ctx, app.ID, holder); err != nil {
		t.Fatal(err)
	}
	if l, ok := claim(app.ID, "y", time.Hour); !ok || l.Generation != 2 {
		t.Errorf("the claim after its holder released the lease = %+v, %t; want held, generation 2", l, ok)
	}

	// Expiry: once the ttl has passed, another owner can take the lease,
	// and then holds it.
	if _, ok := claim(other.ID, "x", time.Nanosecond); !ok {
		t.Fatal("the holder could not renew with a short ttl")
	}
	winners, lease = claimAll(t, s, other.ID, "next", 20, time.Hour)
	if len(winners) != 1 || lease.Generation != 2 {
		t.Fatalf("%d claimers won an expired lease, want exactly 1: %v, answered %+v (want generation 2)", len(winners), winners, lease)
	}
	if _, ok := claim(other.ID, "x", time.Hour); ok {
		t.Error("the expired holder took the lease back from its new holder")
	}
	if _, ok := claim(other.ID, winners[0], time.Hour); !ok {
		t.Error("the new holder could not renew")
	}

	_, _, err := s.ClaimJob(ctx, "nope", "x", time.Hour)
	wantKind(t, "ClaimJob of an unknown application", err, store.ErrNotFound)
	if err := s.ReleaseJob(ctx, "nope", "x"); err != nil {
		t.Errorf("ReleaseJob of an unknown application: %v", err)
	}
	if l, err := s.JobLease(ctx, "nope"); err != nil || l != (store.Lease{AppID: "nope"}) {
		t.Errorf("JobLease of an unknown application = %+v, %v; want the zero lease", l, err)
	}
}

// --- provisioning logs --------------------------------------------------------------------

func logIDs(logs []*store.ProvisioningLog) []string {
	out := make([]string, len(logs))
	for i, l := range logs {
		out[i] = l.ID
	}
	return out
}

func readLogs(t *testing.T, s store.Store, q store.LogQuery) []*store.ProvisioningLog {
	t.Helper()
	logs, err := s.Logs(context.Background(), q)
	if err != nil {
		t.Fatalf("Logs(%+v): %v", q, err)
	}
	return logs
}

func testLogs(t *testing.T, s store.Store) {
	ctx := context.Background()
	a, b := tenant(t, s, "a"), tenant(t, s, "b")
	at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	actions := []string{"create", "update", "delete", "other"}
	statuses := []string{"success", "failure", "skipped"}
	var batch []*store.ProvisioningLog
	for i := range 250 {
		batch = append(batch, &store.ProvisioningLog{
			TenantID:   a,
			AppID:      []string{"app-1", "app-2"}[i%2],
			CycleID:    "cycle-1",
			At:         at, // all in one instant
			Action:     actions[i%4],
			Status:     statuses[i%3],
			SourceType: store.UserType,
			SourceID:   fmt.Sprintf("u%d", i%10),
			SourceName: fmt.Sprintf("User%d@Example.com", i%10),
			TargetID:   fmt.Sprintf("t%d", i),
			Record:     fmt.Appendf(nil, `{"n":%d}`, i),
		})
	}
	// Appended in two batches, and another tenant's in between.
	if err := s.AppendLogs(ctx, batch[:100]); err != nil {
		t.Fatal(err)
	}
	theirs := []*store.ProvisioningLog{{TenantID: b, AppID: "app-1", At: at, Action: "create", Status: "success",
		SourceID: "u1", SourceName: "user1@example.com"}}
	if err := s.AppendLogs(ctx, theirs); err != nil {
		t.Fatal(err)
	}
	if err := s.AppendLogs(ctx, batch[100:]); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, l := range batch {
		if l.ID == "" || seen[l.ID] {
			t.Fatalf("AppendLogs set ID %q (empty or repeated)", l.ID)
		}
		seen[l.ID] = true
	}
	// Newest first: records of one instant in the reverse of the order
	// they were appended.
	var want []string
	for i := len(batch) - 1; i >= 0; i-- {
		want = append(want, batch[i].ID)
	}

	first := readLogs(t, s, store.LogQuery{TenantID: a})
	if len(first) != 100 {
		t.Fatalf("Logs without a limit gave %d records, want 100", len(first))
	}
	got := readLogs(t, s, store.LogQuery{TenantID: a, Limit: 1000})
	if !slices.Equal(logIDs(got), want) {
		t.Fatalf("Logs are not newest first, in the reverse of the order appended")
	}
	l := got[len(got)-1] // batch[0]
	if l.TenantID != a || l.AppID != "app-1" || l.CycleID != "cycle-1" || !l.At.Equal(at) || l.Action != "create" ||
		l.Status != "success" || l.SourceType != store.UserType || l.SourceID != "u0" || l.SourceName != "User0@Example.com" ||
		l.TargetID != "t0" || string(l.Record) != `{"n":0}` {
		t.Errorf("record read back as %+v", l)
	}

	// Paging with Before, 100 at a time, exact although every record has
	// the same At.
	var paged []string
	before := ""
	for {
		page := readLogs(t, s, store.LogQuery{TenantID: a, Before: before, Limit: 100})
		if len(page) == 0 {
			break
		}
		paged = append(paged, logIDs(page)...)
		before = page[len(page)-1].ID
	}
	if !slices.Equal(paged, want) {
		t.Errorf("paging with Before gave %d records, want the %d in order", len(paged), len(want))
	}
	// Paging through one application with a filter.
	var filtered, wantFiltered []string
	for _, id := range want {
		for _, l := range batch {
			if l.ID == id && l.AppID == "app-2" && l.Status == "failure" {
				wantFiltered = append(wantFiltered, id)
			}
		}
	}
	before = ""
	for {
		page := readLogs(t, s, store.LogQuery{TenantID: a, AppID: "app-2", Status: "failure", Before: before, Limit: 7})
		if len(page) == 0 {
			break
		}
		filtered = append(filtered, logIDs(page)...)
		before = page[len(page)-1].ID
	}
	if !slices.Equal(filtered, wantFiltered) {
		t.Errorf("paging app-2 failures gave %d records, want the %d in order", len(filtered), len(wantFiltered))
	}

	// Each filter selects what it says.
	tests := []struct {
		name  string
		q     store.LogQuery
		match func(l *store.ProvisioningLog) bool
	}{
		{"app", store.LogQuery{AppID: "app-1"}, func(l *store.ProvisioningLog) bool { return l.AppID == "app-1" }},
		{"source id", store.LogQuery{SourceID: "u3"}, func(l *store.ProvisioningLog) bool { return l.SourceID == "u3" }},
		{"source id in an app", store.LogQuery{AppID: "app-2", SourceID: "u3"},
			func(l *store.ProvisioningLog) bool { return l.SourceID == "u3" && l.AppID == "app-2" }},
		{"source name ignoring case", store.LogQuery{SourceName: "USER7@example.COM"},
			func(l *store.ProvisioningLog) bool { return l.SourceID == "u7" }},
		{"source name in an app", store.LogQuery{AppID: "app-1", SourceName: "user4@example.com"},
			func(l *store.ProvisioningLog) bool { return l.SourceID == "u4" && l.AppID == "app-1" }},
		{"action", store.LogQuery{Action: "delete"}, func(l *store.ProvisioningLog) bool { return l.Action == "delete" }},
		{"status", store.LogQuery{Status: "skipped"}, func(l *store.ProvisioningLog) bool { return l.Status == "skipped" }},
		{"action and status", store.LogQuery{Action: "update", Status: "failure"},
			func(l *store.ProvisioningLog) bool { return l.Action == "update" && l.Status == "failure" }},
		{"since the instant", store.LogQuery{Since: at}, func(*store.ProvisioningLog) bool { return true }},
		{"since after it", store.LogQuery{Since: at.Add(time.Millisecond)}, func(*store.ProvisioningLog) bool { return false }},
		{"until the instant", store.LogQuery{Until: at}, func(*store.ProvisioningLog) bool { return false }},
		{"until after it", store.LogQuery{Until: at.Add(time.Nanosecond)}, func(*store.ProvisioningLog) bool { return true }},
		{"a name nobody has", store.LogQuery{SourceName: "user1"}, func(*store.ProvisioningLog) bool { return false }},
	}
	for _, tc := range tests {
		q := tc.q
		q.TenantID, q.Limit = a, 1000
		var wantIDs []string
		for _, id := range want {
			for _, l := range batch {
				if l.ID == id && tc.match(l) {
					wantIDs = append(wantIDs, id)
				}
			}
		}
		if got := logIDs(readLogs(t, s, q)); !slices.Equal(got, wantIDs) {
			t.Errorf("%s: got %d records, want %d", tc.name, len(got), len(wantIDs))
		}
	}

	// Tenant isolation.
	if got := readLogs(t, s, store.LogQuery{TenantID: b, Limit: 1000}); len(got) != 1 || got[0].ID != theirs[0].ID {
		t.Errorf("tenant b's logs = %v, want only its own", logIDs(got))
	}
	if got := readLogs(t, s, store.LogQuery{TenantID: b, SourceName: "user1@example.com"}); len(got) != 1 {
		t.Errorf("tenant b's logs by name = %v", logIDs(got))
	}
	if got := readLogs(t, s, store.LogQuery{TenantID: a, Before: theirs[0].ID}); len(got) != 0 {
		t.Errorf("Before another tenant's record gave %d records", len(got))
	}
	if got := readLogs(t, s, store.LogQuery{TenantID: "nope", Limit: 1000}); len(got) != 0 {
		t.Errorf("an unknown tenant's logs = %d records", len(got))
	}
}

func testLogTimes(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	t0 := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	// Appended out of time order: At orders them, not the appending.
	var logs []*store.ProvisioningLog
	for _, h := range []int{5, 1, 9, 3, 7, 0, 8, 2, 6, 4} {
		logs = append(logs, &store.ProvisioningLog{ID: fmt.Sprintf("h%d", h), TenantID: a, AppID: "app",
			At: t0.Add(time.Duration(h) * time.Hour), Action: "update", Status: "success"})
	}
	if err := s.AppendLogs(ctx, logs); err != nil {
		t.Fatal(err)
	}
	ids := func(q store.LogQuery) []string {
		q.TenantID = a
		return logIDs(readLogs(t, s, q))
	}
	if got, want := ids(store.LogQuery{}), []string{"h9", "h8", "h7", "h6", "h5", "h4", "h3", "h2", "h1", "h0"}; !slices.Equal(got, want) {
		t.Errorf("Logs = %v, want %v", got, want)
	}
	if got, want := ids(store.LogQuery{Since: t0.Add(3 * time.Hour), Until: t0.Add(6 * time.Hour)}), []string{"h5", "h4", "h3"}; !slices.Equal(got, want) {
		t.Errorf("Logs since 3h until 6h = %v, want %v", got, want)
	}
	if got, want := ids(store.LogQuery{Before: "h5", Limit: 2}), []string{"h4", "h3"}; !slices.Equal(got, want) {
		t.Errorf("Logs before h5 = %v, want %v", got, want)
	}
	if got := ids(store.LogQuery{Before: "no-such-record"}); len(got) != 0 {
		t.Errorf("Logs before an unknown record = %v, want none", got)
	}

	// A record without a time gets the store's; appending a stored id
	// again is skipped, so a batch can be retried.
	before := time.Now().Add(-time.Minute)
	undated := &store.ProvisioningLog{TenantID: a, AppID: "app", Action: "create", Status: "success"}
	retry := &store.ProvisioningLog{ID: "h5", TenantID: a, AppID: "app", At: t0, Action: "delete", Status: "failure"}
	if err := s.AppendLogs(ctx, []*store.ProvisioningLog{undated, retry}); err != nil {
		t.Fatal(err)
	}
	if undated.At.Before(before) || undated.ID == "" {
		t.Errorf("AppendLogs set %+v", undated)
	}
	got := readLogs(t, s, store.LogQuery{TenantID: a, Limit: 1000})
	if len(got) != 11 || got[0].ID != undated.ID {
		t.Errorf("after appending an undated record and a repeated one: %v", logIDs(got))
	}
	for _, l := range got {
		if l.ID == "h5" && (l.Action != "update" || !l.At.Equal(t0.Add(5*time.Hour))) {
			t.Errorf("a repeated id replaced the stored record: %+v", l)
		}
	}

	// PruneLogs deletes what is older than its time, of every tenant.
	b := tenant(t, s, "b")
	if err := s.AppendLogs(ctx, []*store.ProvisioningLog{{TenantID: b, AppID: "x", At: t0, Action: "create", Status: "success"}}); err != nil {
		t.Fatal(err)
	}
	n, err := s.PruneLogs(ctx, t0.Add(4*time.Hour))
	if err != nil || n != 5 {
		t.Fatalf("PruneLogs = %d, %v; want 5 (h0..h3 and tenant b's)", n, err)
	}
	if got, want := ids(store.LogQuery{Until: t0.Add(24 * time.Hour)}), []string{"h9", "h8", "h7", "h6", "h5", "h4"}; !slices.Equal(got, want) {
		t.Errorf("Logs after PruneLogs = %v, want %v", got, want)
	}
	if got := readLogs(t, s, store.LogQuery{TenantID: b}); len(got) != 0 {
		t.Errorf("tenant b's old record survived PruneLogs")
	}
	if n, err := s.PruneLogs(ctx, t0.Add(4*time.Hour)); err != nil || n != 0 {
		t.Errorf("PruneLogs again = %d, %v; want 0", n, err)
	}
}

func testLogLimits(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	// One batch of a few thousand records, as a full cycle appends.
	at := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	logs := make([]*store.ProvisioningLog, 6000)
	for i := range logs {
		logs[i] = &store.ProvisioningLog{TenantID: a, AppID: "app", At: at.Add(time.Duration(i) * time.Microsecond),
			Action: "create", Status: "success", SourceID: fmt.Sprintf("u%d", i), SourceName: fmt.Sprintf("user%d", i)}
	}
	if err := s.AppendLogs(ctx, logs); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ limit, want int }{{0, 100}, {-1, 100}, {1, 1}, {1000, 1000}, {5000, 1000}} {
		got := readLogs(t, s, store.LogQuery{TenantID: a, Limit: tc.limit})
		if len(got) != tc.want {
			t.Errorf("Limit %d gave %d records, want %d", tc.limit, len(got), tc.want)
		}
		if len(got) > 0 && got[0].ID != logs[len(logs)-1].ID {
			t.Errorf("Limit %d: first record %s, want the newest", tc.limit, got[0].SourceID)
		}
	}
	// Names longer than an index entry holds are found too.
	long := strings.Repeat("Ab", 3000)
	if err := s.AppendLogs(ctx, []*store.ProvisioningLog{{TenantID: a, AppID: "app", Action: "create", Status: "failure",
		SourceName: long}}); err != nil {
		t.Fatal(err)
	}
	if got := readLogs(t, s, store.LogQuery{TenantID: a, SourceName: strings.ToLower(long)}); len(got) != 1 || got[0].SourceName != long {
		t.Errorf("Logs by a long name = %d records", len(got))
	}
	if n, err := s.PruneLogs(ctx, at.Add(time.Hour)); err != nil || n != len(logs) {
		t.Errorf("PruneLogs = %d, %v; want %d", n, err, len(logs))
	}
}

// testAssignmentsPage walks an application's assignments in keyset pages
// of two: every assignment once, in the order of Assignments, and none of
// another tenant's.
func testAssignmentsPage(t *testing.T, s store.Store) {
	ctx := context.Background()
	a, b := tenant(t, s, "a"), tenant(t, s, "b")
	app := createApp(t, s, a, "App")
	for i := range 5 {
		u := create(t, s, a, store.UserType, user(t, fmt.Sprint("u", i)))
		assign(t, s, a, app.ID, store.UserType, u.ID, "")
	}
	for i := range 2 {
		g := create(t, s, a, store.GroupType, group(t, fmt.Sprint("g", i)))
		assign(t, s, a, app.ID, store.GroupType, g.ID, "")
	}
	all, err := s.Assignments(ctx, a, app.ID)
	if err != nil || len(all) != 7 {
		t.Fatalf("Assignments: %d, %v", len(all), err)
	}
	var walked []store.Assignment
	var after store.Assignment
	for range 10 {
		page, err := s.AssignmentsPage(ctx, a, app.ID, after, 2)
		if err != nil {
			t.Fatal(err)
		}
		walked = append(walked, page...)
		if len(page) < 2 {
			break
		}
		after = page[len(page)-1]
	}
	key := func(as []store.Assignment) string {
		var out []string
		for _, x := range as {
			out = append(out, x.PrincipalType+"/"+x.PrincipalID)
		}
		return strings.Join(out, " ")
	}
	if key(walked) != key(all) {
		t.Errorf("pages walked %s\nwant %s", key(walked), key(all))
	}
	if page, err := s.AssignmentsPage(ctx, b, app.ID, store.Assignment{}, 10); err != nil || len(page) != 0 {
		t.Errorf("another tenant's page of the application: %v, %v", page, err)
	}
}
