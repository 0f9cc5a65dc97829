package storetest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ferryid/ferry/internal/scim"
	"github.com/ferryid/ferry/internal/store"
)

// The provisioning engine's storage (store.Provisioning): applications,
// assignments, links, job state and leases, provisioning logs; and token
// scopes.

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
		wantStatus(t, fmt.Sprintf("CreateToken with scope %q", bad), err, 400, scim.InvalidValue)
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
	wantStatus(t, "App from another tenant", err, 404, "")
	_, err = s.AppByName(ctx, b, "Salesforce")
	wantStatus(t, "AppByName from another tenant", err, 404, "")
	_, err = s.App(ctx, a, "nope")
	wantStatus(t, "App(unknown)", err, 404, "")

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
	wantStatus(t, "CreateApp with a taken id", err, 409, scim.Uniqueness)

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
	wantStatus(t, "CreateApp without a name", err, 400, scim.InvalidValue)
	err = s.CreateApp(ctx, &store.App{TenantID: a, Name: strings.Repeat("x", 257), Template: "scim"})
	wantStatus(t, "CreateApp with a long name", err, 400, scim.InvalidValue)
	err = s.CreateApp(ctx, &store.App{TenantID: "no-such-tenant", Name: "x", Template: "scim"})
	wantStatus(t, "CreateApp in a tenant that does not exist", err, 404, "")
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
		e := wantStatus(t, "CreateApp "+name, err, 409, scim.Uniqueness)
		if !strings.Contains(e.Detail, name) {
			t.Errorf("409 detail %q does not name the application %q", e.Detail, name)
		}
	}
	createApp(t, s, b, "salesforce") // another tenant's
	other := createApp(t, s, a, "Workday")
	_, err := s.UpdateApp(ctx, a, other.ID, 0, func(x *store.App) error { x.Name = "SalesForce"; return nil })
	wantStatus(t, "renaming to a taken name", err, 409, scim.Uniqueness)
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
	wantStatus(t, "UpdateApp at a stale version", err, 412, "")
	// change's error abandons the update.
	boom := scim.BadRequest(scim.InvalidValue, "no")
	_, err = s.UpdateApp(ctx, a, app.ID, 0, func(x *store.App) error { x.Template = "t"; return boom })
	wantStatus(t, "UpdateApp whose change fails", err, 400, scim.InvalidValue)
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
	wantStatus(t, "UpdateApp to an empty name", err, 400, scim.InvalidValue)
	_, err = s.UpdateApp(ctx, b, app.ID, 0, func(x *store.App) error { return nil })
	wantStatus(t, "UpdateApp from another tenant", err, 404, "")
	_, err = s.UpdateApp(ctx, a, "nope", 0, func(x *store.App) error { return nil })
	wantStatus(t, "UpdateApp(unknown)", err, 404, "")
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
		if ok, err := s.ClaimJob(ctx, id, "worker-1", time.Hour); err != nil || !ok {
			t.Fatalf("ClaimJob = %t, %v", ok, err)
		}
	}
	if err := s.AppendLogs(ctx, []*store.ProvisioningLog{{TenantID: a, AppID: app.ID, Action: "create", Status: "success"}}); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, "DeleteApp from another tenant", s.DeleteApp(ctx, b, app.ID), 404, "")
	if err := s.DeleteApp(ctx, a, app.ID); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, "DeleteApp again", s.DeleteApp(ctx, a, app.ID), 404, "")
	_, err := s.App(ctx, a, app.ID)
	wantStatus(t, "App after DeleteApp", err, 404, "")
	_, err = s.AppByName(ctx, a, "app")
	wantStatus(t, "AppByName after DeleteApp", err, 404, "")

	// The same id again starts from nothing: the assignments, links, job
	// state and lease went with the application.
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
	wantStatus(t, "Link after DeleteApp", err, 404, "")
	if js, err := s.JobState(ctx, app.ID); err != nil || js.Watermark != 0 || js.State != nil {
		t.Errorf("JobState after DeleteApp = %+v, %v", js, err)
	}
	if ok, err := s.ClaimJob(ctx, app.ID, "worker-2", time.Hour); err != nil || !ok {
		t.Errorf("ClaimJob by another owner after DeleteApp = %t, %v; the lease should be gone", ok, err)
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
	if ok, _ := s.ClaimJob(ctx, keep.ID, "worker-2", time.Hour); ok {
		t.Error("the other application's lease is gone")
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
		wantStatus(t, "Assign "+tc.name, err, 400, scim.InvalidValue)
	}
	err = s.Assign(ctx, a, store.Assignment{AppID: app.ID, PrincipalType: store.UserType, PrincipalID: "ghost"})
	if e := wantStatus(t, "Assign ghost", err, 400, scim.InvalidValue); !strings.Contains(e.Detail, `user "ghost" does not exist`) {
		t.Errorf("Assign ghost: detail %q", e.Detail)
	}
	err = s.Assign(ctx, a, store.Assignment{AppID: otherApp.ID, PrincipalType: store.UserType, PrincipalID: u1.ID})
	wantStatus(t, "Assign to another tenant's application", err, 404, "")
	err = s.Assign(ctx, a, store.Assignment{AppID: "nope", PrincipalType: store.UserType, PrincipalID: u1.ID})
	wantStatus(t, "Assign to an unknown application", err, 404, "")

	// Unassign.
	wantStatus(t, "Unassign what is not assigned", s.Unassign(ctx, a, app.ID, store.UserType, u2.ID), 404, "")
	wantStatus(t, "Unassign from another tenant", s.Unassign(ctx, b, app.ID, store.UserType, u1.ID), 404, "")
	if err := s.Unassign(ctx, a, app.ID, store.UserType, u1.ID); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, "Unassign twice", s.Unassign(ctx, a, app.ID, store.UserType, u1.ID), 404, "")
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
	wantStatus(t, "Unassign a deleted user", s.Unassign(ctx, a, app.ID, store.UserType, u.ID), 404, "")
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

	// Replacing keeps Created.
	time.Sleep(2 * time.Millisecond)
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
	wantStatus(t, "LinkByTarget of the replaced target", err, 404, "")

	// Links are per application and source type.
	_, err = s.Link(ctx, other.ID, store.UserType, "u1")
	wantStatus(t, "Link of another application", err, 404, "")
	_, err = s.Link(ctx, app.ID, store.GroupType, "u1")
	wantStatus(t, "Link of another type", err, 404, "")
	_, err = s.LinkByTarget(ctx, app.ID, store.GroupType, "T-2")
	wantStatus(t, "LinkByTarget of another type", err, 404, "")
	err = s.PutLink(ctx, &store.Link{AppID: "nope", SourceType: store.UserType, SourceID: "u1", TargetID: "x"})
	wantStatus(t, "PutLink of an unknown application", err, 404, "")

	if err := s.DeleteLink(ctx, app.ID, store.UserType, "u1"); err != nil {
		t.Fatal(err)
	}
	_, err = s.Link(ctx, app.ID, store.UserType, "u1")
	wantStatus(t, "Link after DeleteLink", err, 404, "")
	_, err = s.LinkByTarget(ctx, app.ID, store.UserType, "T-2")
	wantStatus(t, "LinkByTarget after DeleteLink", err, 404, "")
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
	wantStatus(t, "PutJobState of an unknown application", s.PutJobState(ctx, &store.JobState{AppID: "nope"}), 404, "")
}

// claimAll has n owners claim the job at once and returns the winners.
func claimAll(t *testing.T, s store.Store, appID, prefix string, n int, ttl time.Duration) []string {
	t.Helper()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var winners []string
	var errs []error
	start := make(chan struct{})
	for i := range n {
		owner := fmt.Sprintf("%s-%02d", prefix, i)
		wg.Go(func() {
			<-start
			ok, err := s.ClaimJob(context.Background(), appID, owner, ttl)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
			} else if ok {
				winners = append(winners, owner)
			}
		})
	}
	close(start)
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("ClaimJob: %v", errs[0])
	}
	return winners
}

func testClaimJob(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	app, other := createApp(t, s, a, "App"), createApp(t, s, a, "Other")
	claim := func(appID, owner string, ttl time.Duration) bool {
		t.Helper()
		ok, err := s.ClaimJob(ctx, appID, owner, ttl)
		if err != nil {
			t.Fatalf("ClaimJob(%s): %v", owner, err)
		}
		return ok
	}

	// Of 20 claimers at once, one wins the live lease.
	winners := claimAll(t, s, app.ID, "w", 20, time.Hour)
	if len(winners) != 1 {
		t.Fatalf("%d claimers won a free lease, want exactly 1: %v", len(winners), winners)
	}
	holder := winners[0]
	if more := claimAll(t, s, app.ID, "late", 20, time.Hour); len(more) != 0 {
		t.Fatalf("claimers took a live lease: %v", more)
	}
	if !claim(app.ID, holder, time.Hour) {
		t.Error("the holder could not renew its lease")
	}
	if !claim(other.ID, "x", time.Hour) {
		t.Error("another application's lease was not free")
	}
	// Releasing: only the holder's release frees the lease.
	if err := s.ReleaseJob(ctx, app.ID, "not-the-holder"); err != nil {
		t.Fatal(err)
	}
	if claim(app.ID, "y", time.Hour) {
		t.Error("a release by another owner freed the lease")
	}
	if err := s.ReleaseJob(ctx, app.ID, holder); err != nil {
		t.Fatal(err)
	}
	if !claim(app.ID, "y", time.Hour) {
		t.Error("the lease was not free after its holder released it")
	}

	// Expiry: once the ttl has passed, another owner can take the lease,
	// and then holds it.
	const ttl = 100 * time.Millisecond
	if !claim(other.ID, "x", ttl) {
		t.Fatal("the holder could not renew with a short ttl")
	}
	time.Sleep(ttl + 50*time.Millisecond)
	winners = claimAll(t, s, other.ID, "next", 20, time.Hour)
	if len(winners) != 1 {
		t.Fatalf("%d claimers won an expired lease, want exactly 1: %v", len(winners), winners)
	}
	if claim(other.ID, "x", time.Hour) {
		t.Error("the expired holder took the lease back from its new holder")
	}
	if !claim(other.ID, winners[0], time.Hour) {
		t.Error("the new holder could not renew")
	}

	_, err := s.ClaimJob(ctx, "nope", "x", time.Hour)
	wantStatus(t, "ClaimJob of an unknown application", err, 404, "")
	if err := s.ReleaseJob(ctx, "nope", "x"); err != nil {
		t.Errorf("ReleaseJob of an unknown application: %v", err)
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
