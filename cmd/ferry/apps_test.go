package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/ferryid/ferry/internal/ferrytest"
	"github.com/ferryid/ferry/internal/provision"
	"github.com/ferryid/ferry/internal/scim"
	"github.com/ferryid/ferry/internal/scim/schema"
	"github.com/ferryid/ferry/internal/server"
	"github.com/ferryid/ferry/internal/store"
	"github.com/ferryid/ferry/internal/store/sqlite"
)

// engineCall is one call the admin API made on stubAdmin.
type engineCall struct {
	Method string
	App    string
	Arg    any
}

// stubAdmin is a small test implementation of the server's Admin
// interface: it records calls and answers with fixed values, or errs.
type stubAdmin struct {
	mu       sync.Mutex
	calls    []engineCall
	errs     map[string]error
	testFail bool // TestConnection reports a failure
	// statuses are what Status answers, one a call, the last one
	// repeated; ferrytest.Status when none.
	statuses []*provision.Status
	// onStatus, when set, is called with the number of Status calls so
	// far.
	onStatus func(n int)
	nStatus  int
}

func (a *stubAdmin) record(method, app string, arg any) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls = append(a.calls, engineCall{method, app, arg})
	return a.errs[method]
}

func (a *stubAdmin) take() []engineCall {
	a.mu.Lock()
	defer a.mu.Unlock()
	c := a.calls
	a.calls = nil
	return c
}

func (a *stubAdmin) set(method string, err error, testFail bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.errs = map[string]error{}
	if method != "" {
		a.errs[method] = err
	}
	a.testFail = testFail
	a.statuses, a.onStatus, a.nStatus = nil, nil, 0
}

// answerStatus makes Status answer statuses in turn, the last one from
// then on, calling onStatus (if not nil) with the number of calls so far.
func (a *stubAdmin) answerStatus(onStatus func(n int), statuses ...*provision.Status) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.statuses, a.onStatus, a.nStatus = statuses, onStatus, 0
}

func (a *stubAdmin) Templates() []string {
	a.record("Templates", "", nil)
	return []string{"ringcentral", "scim"}
}

func (a *stubAdmin) CreateApp(_ context.Context, _ string, in provision.NewApp) (*provision.AppView, error) {
	if err := a.record("CreateApp", "", in); err != nil {
		return nil, err
	}
	return ferrytest.App(in.Name), nil
}

func (a *stubAdmin) App(_ context.Context, _, name string) (*provision.AppView, error) {
	if err := a.record("App", name, nil); err != nil {
		return nil, err
	}
	return ferrytest.App(name), nil
}

func (a *stubAdmin) Apps(context.Context, string) ([]*provision.AppView, error) {
	if err := a.record("Apps", "", nil); err != nil {
		return nil, err
	}
	off := ferrytest.App("hr")
	off.Enabled = false
	return []*provision.AppView{ferrytest.App("ringcentral"), off}, nil
}

func (a *stubAdmin) UpdateApp(_ context.Context, _, name string, ifVersion int64, ch provision.AppChange) (*provision.AppView, error) {
	if err := a.record("UpdateApp", name, []any{ch, ifVersion}); err != nil {
		return nil, err
	}
	return ferrytest.App(name), nil
}

func (a *stubAdmin) DeleteApp(_ context.Context, _, name string) error {
	return a.record("DeleteApp", name, nil)
}

func (a *stubAdmin) Assign(_ context.Context, _, app string, p provision.Principal, role string) (*provision.AssignmentView, error) {
	if err := a.record("Assign", app, []any{p, role}); err != nil {
		return nil, err
	}
	return &provision.AssignmentView{PrincipalType: p.Type, PrincipalID: "p-1", PrincipalName: p.Name + p.ID, Role: role, Created: ferrytest.Time()}, nil
}

func (a *stubAdmin) Unassign(_ context.Context, _, app string, p provision.Principal) error {
	return a.record("Unassign", app, p)
}

func (a *stubAdmin) Assignments(_ context.Context, _, app string) ([]provision.AssignmentView, error) {
	if err := a.record("Assignments", app, nil); err != nil {
		return nil, err
	}
	return []provision.AssignmentView{{PrincipalType: "Group", PrincipalID: "g-1", PrincipalName: "Sales", Created: ferrytest.Time()}}, nil
}

func (a *stubAdmin) TargetSchema(_ context.Context, _, app string) (*provision.TargetSchemaView, error) {
	if err := a.record("TargetSchema", app, nil); err != nil {
		return nil, err
	}
	return stubSchema(app, ""), nil
}

func (a *stubAdmin) DiscoverSchema(_ context.Context, _, app string) (*provision.TargetSchemaView, error) {
	if err := a.record("DiscoverSchema", app, nil); err != nil {
		return nil, err
	}
	return stubSchema(app, "the target's schema was read and saved: 2 resource types, 3 schemas"), nil
}

func stubSchema(app, msg string) *provision.TargetSchemaView {
	at := ferrytest.Time()
	return &provision.TargetSchemaView{App: app, Discovered: true, DiscoveredAt: &at, Message: msg, Attributes: []provision.TargetAttribute{
		{ResourceType: "Users", Path: "userName", Type: "string", Mutability: "readWrite", Required: true, Source: provision.SourceDiscovered},
		{ResourceType: "Users", Path: "externalId", Type: "string", Mutability: "readWrite", Source: provision.SourceRFC},
		{ResourceType: "Users", Path: "urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User:skills", Type: "string",
			MultiValued: true, Mutability: "readWrite", Source: provision.SourceDiscovered},
	}}
}

func (a *stubAdmin) TestConnection(_ context.Context, _, app string) (*provision.TestResult, error) {
	if err := a.record("TestConnection", app, nil); err != nil {
		return nil, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.testFail {
		return &provision.TestResult{Code: "Unauthorized", Message: "GET /Users?filter=userName eq \"x\" answered 401; want 200"}, nil
	}
	return &provision.TestResult{Success: true}, nil
}

func (a *stubAdmin) Start(_ context.Context, _, app string, force bool) error {
	return a.record("Start", app, force)
}
func (a *stubAdmin) Stop(_ context.Context, _, app string) error { return a.record("Stop", app, nil) }
func (a *stubAdmin) Restart(_ context.Context, _, app string, reset bool) error {
	return a.record("Restart", app, reset)
}
func (a *stubAdmin) Retry(_ context.Context, _, app string) error { return a.record("Retry", app, nil) }

func (a *stubAdmin) Status(_ context.Context, _, app string) (*provision.Status, error) {
	if err := a.record("Status", app, nil); err != nil {
		return nil, err
	}
	a.mu.Lock()
	a.nStatus++
	n, hook := a.nStatus, a.onStatus
	st := ferrytest.Status(app)
	if len(a.statuses) > 0 {
		st = a.statuses[0]
		if len(a.statuses) > 1 {
			a.statuses = a.statuses[1:]
		}
	}
	a.mu.Unlock()
	if hook != nil {
		hook(n)
	}
	return st, nil
}

func (a *stubAdmin) Failures(_ context.Context, _, app string, limit int) ([]provision.Failure, error) {
	if err := a.record("Failures", app, limit); err != nil {
		return nil, err
	}
	if app == "clean" {
		return nil, nil
	}
	return ferrytest.Failures(), nil
}

func (a *stubAdmin) Logs(_ context.Context, _, app string, f provision.LogFilter) ([]provision.LogRecord, error) {
	if err := a.record("Logs", app, f); err != nil {
		return nil, err
	}
	return ferrytest.Logs(), nil
}

func (a *stubAdmin) ProvisionOnDemand(_ context.Context, _, app string, req provision.OnDemandRequest) (*provision.OnDemandResult, error) {
	if err := a.record("ProvisionOnDemand", app, req); err != nil {
		return nil, err
	}
	res := &provision.OnDemandResult{Steps: []provision.Step{
		{Name: "Import user", Type: "import", Status: "success", Description: "Read alice from the directory"},
		{Name: "Perform action", Type: "export", Status: "success", Description: "Created the user in the target"},
	}, Records: ferrytest.Logs()[:1]}
	if req.User == "bob" {
		res.Steps[1].Status = "failure"
		res.Records = ferrytest.Logs()[1:]
	}
	return res, nil
}

func (a *stubAdmin) AllowDeletes(_ context.Context, _, app string) error {
	return a.record("AllowDeletes", app, nil)
}

func (a *stubAdmin) RejectDeletes(_ context.Context, _, app string) error {
	return a.record("RejectDeletes", app, nil)
}

func (a *stubAdmin) Plan(_ context.Context, _, app string) (*provision.Plan, error) {
	if err := a.record("Plan", app, nil); err != nil {
		return nil, err
	}
	return &provision.Plan{App: app, ConfigVersion: 3, Creates: []provision.PlannedAction{}, Updates: []provision.PlannedAction{},
		Disables: []provision.PlannedAction{}, Deletes: []provision.PlannedAction{}, Failures: []provision.PlannedAction{}, Unchanged: 2}, nil
}

func (a *stubAdmin) PlanChange(_ context.Context, _, app string, ch provision.AppChange) (*provision.Plan, error) {
	if err := a.record("PlanChange", app, ch); err != nil {
		return nil, err
	}
	return &provision.Plan{App: app, Creates: []provision.PlannedAction{}, Updates: []provision.PlannedAction{},
		Disables: []provision.PlannedAction{}, Deletes: []provision.PlannedAction{}, Failures: []provision.PlannedAction{}}, nil
}

func (a *stubAdmin) Audit(_ context.Context, _, app, before string, limit int) ([]provision.AuditEntry, error) {
	if err := a.record("Audit", app, []any{before, limit}); err != nil {
		return nil, err
	}
	return []provision.AuditEntry{}, nil
}

func ptr[T any](v T) *T { return &v }

// appsServer is a real Ferry server on a real SQLite database, with the
// admin API over a stubAdmin or the engine.
type appsServer struct {
	*ferrytest.Server
	Admin *stubAdmin
}

// openSQLite opens an empty SQLite store of the test, named name.
func openSQLite(t *testing.T, name string, catalog *schema.Catalog) store.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), name), catalog, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// startAppsServer starts a real Ferry server on a real SQLite database
// with the admin API over what admin returns for its store.
func startAppsServer(t *testing.T, admin func(store.Store, *schema.Catalog) server.Admin) *appsServer {
	t.Helper()
	catalog := schema.Builtin()
	st := openSQLite(t, "ferry.db", catalog)
	srv := server.New(server.DefaultConfig(), st, catalog, slog.New(slog.DiscardHandler))
	srv.EnableAdmin(admin(st, catalog))
	return &appsServer{Server: ferrytest.Serve(t, st, srv.Handler())}
}

func newAppsServer(t *testing.T) *appsServer {
	t.Helper()
	stub := &stubAdmin{}
	as := startAppsServer(t, func(store.Store, *schema.Catalog) server.Admin { return stub })
	as.Admin = stub
	return as
}

// api calls the admin API directly and returns its answer's body, for
// comparing with what --json prints.
func (as *appsServer) api(t *testing.T, method, path, body string) string {
	t.Helper()
	r := ferrytest.Request(t, as.AdminToken, method, as.URL+"/api/v1"+path, "application/json", body)
	if r.Status != 200 {
		t.Fatalf("%s %s: %d %s", method, path, r.Status, r.Raw)
	}
	return r.Raw
}

// TestAppsCommands runs each apps command against a server and checks its
// exit status, its output, and the engine call it caused. --json output
// must be the API's answer byte for byte.
func TestAppsCommands(t *testing.T) {
	t.Parallel()
	as := newAppsServer(t)
	tests := []struct {
		name     string
		args     []string // after "apps"
		stdin    string
		testFail bool   // Test Connection fails
		code     int    // exit status
		out      string // stdout, exactly, unless contains is set
		contains []string
		stderr   string       // a substring of stderr, when the command fails
		call     engineCall   // the engine call; Method "" for none
		calls    []engineCall // the engine calls, when the command makes several
		// api names the API call whose answer --json must print: method,
		// path and body.
		api []string
	}{
		{
			name: "templates", args: []string{"templates"},
			out: "ringcentral\nscim\n", call: engineCall{Method: "Templates"},
		},
		{
			name: "create", args: []string{"create", "--name", "rc", "--template", "ringcentral", "--tenant-url", "https://platform.ringcentral.com/scim/v2", "--secret-token", "tok-123", "--scope", "all"},
			contains: []string{"Created rc from template ringcentral", "ferry apps test-connection rc", "ferry apps start rc"},
			call:     engineCall{"CreateApp", "", provision.NewApp{Name: "rc", Template: "ringcentral", TenantURL: "https://platform.ringcentral.com/scim/v2", SecretToken: "tok-123", Scope: "all"}},
		},
		{
			name: "create with the secret token on standard input", args: []string{"create", "--name", "rc", "--template", "scim", "--tenant-url", "https://t.example/scim", "--secret-token-file", "-", "--json"},
			stdin: "tok-from-stdin\n",
			call:  engineCall{"CreateApp", "", provision.NewApp{Name: "rc", Template: "scim", TenantURL: "https://t.example/scim", SecretToken: "tok-from-stdin"}},
			api:   []string{"GET", "/apps/rc", ""},
		},
		{
			name: "create needs a name", args: []string{"create", "--template", "scim"},
			code: 1, stderr: `required flag(s) "name" not set`,
		},
		{
			name: "create refuses two secret tokens", args: []string{"create", "--name", "x", "--template", "scim", "--secret-token", "a", "--secret-token-file", "-"},
			code: 1, stderr: "give the secret token once",
		},
		{
			name: "update", args: []string{"update", "rc", "--tenant-url", "https://new.example/scim", "--secret-token-file", "-", "--if-version", "4"},
			stdin: "rotated\n", out: "Updated rc (now version 2).\n",
			call: engineCall{"UpdateApp", "rc", []any{provision.AppChange{TenantURL: ptr("https://new.example/scim"), SecretToken: ptr("rotated")}, int64(4)}},
		},
		{
			name: "update --json", args: []string{"update", "rc", "--scope", "all", "--name", "rc2", "--json"},
			call: engineCall{"UpdateApp", "rc", []any{provision.AppChange{Name: ptr("rc2"), Scope: ptr("all")}, int64(0)}},
			api:  []string{"PATCH", "/apps/rc", `{"scope":"all","name":"rc2"}`},
		},
		{name: "update with nothing to change", args: []string{"update", "rc"}, code: 1, stderr: "ferry: nothing to change"},
		{
			name: "list", args: []string{"list"},
			out: "NAME         TEMPLATE     PROVISIONING  SCOPE     TENANT URL\n" +
				"ringcentral  ringcentral  On            assigned  https://platform.ringcentral.com/scim/v2\n" +
				"hr           ringcentral  Off           assigned  https://platform.ringcentral.com/scim/v2\n",
			call: engineCall{Method: "Apps"},
		},
		{name: "list --json", args: []string{"list", "--json"}, call: engineCall{Method: "Apps"}, api: []string{"GET", "/apps", ""}},
		{
			name: "show", args: []string{"show", "rc"},
			out: "Name:           rc\nID:             a-1\nTemplate:       ringcentral\nProvisioning:   On\n" +
				"Tenant URL:     https://platform.ringcentral.com/scim/v2\nSecret token:   set\nScope:          assigned\n" +
				"Roles:          User (default), Default Access (not provisioned)\nVersion:        2\n" +
				"Created:        2026-11-26T08:00:00Z\nLast modified:  2026-11-26T08:00:00Z\n" +
				"Mappings:\n  User → Users: create, update; 1 attribute, 0 scoping filters\n",
			call: engineCall{"App", "rc", nil},
		},
		{name: "show --json of a name that needs escaping", args: []string{"show", "HR / Sales", "--json"}, call: engineCall{"App", "HR / Sales", nil}, api: []string{"GET", "/apps/HR%20%2F%20Sales", ""}},
		{name: "delete", args: []string{"delete", "rc"}, out: "Deleted rc.\n", call: engineCall{"DeleteApp", "rc", nil}},
		{
			name: "assign a user", args: []string{"assign", "rc", "--user", "alice@example.com"},
			out: "Assigned User alice@example.com to rc.\n", call: engineCall{"Assign", "rc", []any{provision.Principal{Type: "User", Name: "alice@example.com"}, ""}},
		},
		{
			name: "assign a group with a role", args: []string{"assign", "rc", "--group", "Sales", "--role", "Admin"},
			out: "Assigned Group Sales to rc with role Admin.\n", call: engineCall{"Assign", "rc", []any{provision.Principal{Type: "Group", Name: "Sales"}, "Admin"}},
		},
		{name: "assign needs someone", args: []string{"assign", "rc"}, code: 1, stderr: "at least one of the flags in the group [user group] is required"},
		{name: "assign one at a time", args: []string{"assign", "rc", "--user", "a", "--group", "b"}, code: 1, stderr: "none of the others can be"},
		{
			name: "unassign a user", args: []string{"unassign", "rc", "--user", "alice@example.com"},
			out: "Unassigned User alice@example.com from rc.\n", call: engineCall{"Unassign", "rc", provision.Principal{Type: "User", Name: "alice@example.com"}},
		},
		{
			name: "unassign a group by id", args: []string{"unassign", "rc", "--group", "g/1", "--id"},
			out: "Unassigned Group g/1 from rc.\n", call: engineCall{"Unassign", "rc", provision.Principal{Type: "Group", ID: "g/1"}},
		},
		{
			name: "assignments", args: []string{"assignments", "rc"},
			out:  "TYPE   NAME   ROLE  ID   ASSIGNED\nGroup  Sales  -     g-1  2026-11-26T08:00:00Z\n",
			call: engineCall{"Assignments", "rc", nil},
		},
		{
			name: "test connection that works", args: []string{"test-connection", "rc"},
			out: "The connection to rc works.\n", call: engineCall{"TestConnection", "rc", nil},
		},
		{
			name: "test connection that fails", args: []string{"test-connection", "rc"}, testFail: true,
			code: 1, stderr: `ferry: test connection to rc failed (Unauthorized): GET /Users?filter=userName eq "x" answered 401; want 200`,
			call: engineCall{"TestConnection", "rc", nil},
		},
		{
			name: "test connection that fails, as JSON", args: []string{"test-connection", "rc", "--json"}, testFail: true,
			code: 1, stderr: "failed (Unauthorized)", call: engineCall{"TestConnection", "rc", nil}, api: []string{"POST", "/apps/rc/test-connection", ""},
		},
		{
			name: "schema", args: []string{"schema", "rc"},
			out: "Attributes of rc's target, as it declared them at /Schemas on 2026-11-26T08:00:00Z (ferry apps schema rc --refresh reads them again):\n" +
				"RESOURCE  ATTRIBUTE                                                                   TYPE               MULTI  MUTABILITY  SOURCE\n" +
				"Users     userName                                                                    string (required)  -      readWrite   discovered\n" +
				"Users     externalId                                                                  string             -      readWrite   rfc\n" +
				"Users     urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User:skills  string             multi  readWrite   discovered\n",
			call: engineCall{"TargetSchema", "rc", nil},
		},
		{
			name: "schema --refresh", args: []string{"schema", "rc", "--refresh", "--json"},
			call: engineCall{"DiscoverSchema", "rc", nil}, api: []string{"POST", "/apps/rc/schema/discover", ""},
		},
		{
			name: "start", args: []string{"start", "rc"},
			out:  "Test Connection to rc passed. Provisioning of rc is On.\nFollow its cycle with: ferry apps status rc --watch\n",
			call: engineCall{"Start", "rc", false},
		},
		{
			name: "start --force", args: []string{"start", "HR / Sales", "--force"},
			out:  "Provisioning of HR / Sales is On (Test Connection was skipped: --force).\nFollow its cycle with: ferry apps status 'HR / Sales' --watch\n",
			call: engineCall{"Start", "HR / Sales", true},
		},
		{
			name: "stop", args: []string{"stop", "rc"},
			out:  "Provisioning of rc is Off. A running cycle stops now; ferry apps start rc resumes it where it stopped.\n",
			call: engineCall{"Stop", "rc", nil},
		},
		{
			name: "restart", args: []string{"restart", "rc"},
			contains: []string{"Provisioning of rc restarted: the next cycle is a full one", "stay linked", "Provisioning is On"},
			call:     engineCall{"Restart", "rc", false},
		},
		{
			name: "restart --reset", args: []string{"restart", "rc", "--reset"},
			contains: []string{"current state cleared. Forgotten: its links between directory objects and rc's objects",
				"its place in the directory's change feed, and its objects in escrow.\n", "matches every object anew", "nothing is deleted in rc"},
			call: engineCall{"Restart", "rc", true},
		},
		{
			name: "retry", args: []string{"retry", "rc"},
			out:   "Retrying 2 objects of rc in escrow now. Follow them with: ferry apps failures rc\n",
			calls: []engineCall{{"Retry", "rc", nil}, {"Status", "rc", nil}},
		},
		{
			name: "failures", args: []string{"failures", "rc"},
			out: "bob@example.com (User, id u-7)\n" +
				"  Action:       create failed\n" +
				"  Error:        SystemForCrossDomainIdentityManagementBadRequest: The application refused the request: userName is invalid\n" +
				"  Request:      POST https://platform.ringcentral.com/scim/v2/Users\n" +
				"  Attempts:     2, first failed 2026-11-26T08:00:00Z, last 2026-11-26T08:01:00Z\n" +
				"  Next try:     waits for a change of the object or of the configuration (or ferry apps retry)\n" +
				"  Recommended:  Fix userName in the directory or its mapping.\n" +
				"  Log record:   l-1\n" +
				"\n" +
				"carol@example.com (User, id u-8)\n" +
				"  Action:       update failed\n" +
				"  Target:       rc-8 (User)\n" +
				"  Error:        SystemForCrossDomainIdentityManagementServiceUnavailable: The application answered 503\n" +
				"  Request:      PATCH https://platform.ringcentral.com/scim/v2/Users/rc-8\n" +
				"  Attempts:     1, first failed 2026-11-26T08:00:00Z, last 2026-11-26T08:00:00Z\n" +
				"  Next try:     2026-11-26T08:00:30Z\n" +
				"\n" +
				"2 objects in escrow. ferry apps retry rc retries them now.\n",
			call: engineCall{"Failures", "rc", 0},
		},
		{name: "failures --json --limit", args: []string{"failures", "rc", "--json", "--limit", "2"}, call: engineCall{"Failures", "rc", 2}, api: []string{"GET", "/apps/rc/failures?limit=2", ""}},
		{name: "failures when none", args: []string{"failures", "clean"}, out: "No objects of clean are in escrow: nothing failed.\n", call: engineCall{"Failures", "clean", 0}},
		{name: "failures when none, as JSON", args: []string{"failures", "clean", "--json"}, out: "[]\n", call: engineCall{"Failures", "clean", 0}},
		{name: "failures --limit too large", args: []string{"failures", "rc", "--limit", "1001"}, code: 1, stderr: "ferry: --limit 1001 is more than 1000, the most objects listed at once"},
		{
			name: "status", args: []string{"status", "rc"},
			out: "App:              rc\n" +
				"Provisioning:     On (idle)\n" +
				"Configuration:    version 3\n" +
				"Last cycle:       initial on version 3, completed 2026-11-26T08:01:30Z after 1m30s\n" +
				"                  40 created, 2 failed\n" +
				"Failures:         2 objects in escrow, 1 retried on their own schedule, the others waiting for a change (ferry apps failures rc)\n" +
				"Next full cycle:  at 2026-11-26T08:40:00Z\n" +
				"Totals:           40 created, 2 failed\n" +
				"Watermark:        17\n" +
				"Advice:           2 objects failed and are in escrow (1 retried on their own schedule, the others wait for a change of the object or of the configuration): ferry apps failures rc shows why; ferry apps retry rc retries them now.\n",
			call: engineCall{"Status", "rc", nil},
		},
		{name: "status --json", args: []string{"status", "rc", "--json"}, call: engineCall{"Status", "rc", nil}, api: []string{"GET", "/apps/rc/status", ""}},
		{name: "status --watch with a bad interval", args: []string{"status", "rc", "--watch", "--interval", "0s"}, code: 1, stderr: "ferry: --interval 0s: want a positive duration"},
		{
			name: "logs", args: []string{"logs", "rc"},
			out: "l-2  2026-11-26T08:01:00Z  update  success\n" +
				"  Object:       alice@example.com (User)\n" +
				"  Target:       rc-1 (User)\n" +
				"  Reason:       differs in the target\n" +
				"  Changed:      title: a → b\n" +
				"                department: (empty) → Sales\n" +
				"\n" +
				"l-1  2026-11-26T08:00:00Z  create  failure\n" +
				"  Object:       bob@example.com (User)\n" +
				"  Reason:       created in the directory\n" +
				"  Error:        SystemForCrossDomainIdentityManagementConflict: userName taken\n" +
				"  Request:      POST https://platform.ringcentral.com/scim/v2/Users\n" +
				"  Recommended:  Rename the user in the application, or match on another attribute.\n",
			call: engineCall{"Logs", "rc", provision.LogFilter{}},
		},
		{
			name: "logs --json with filters", args: []string{"logs", "rc", "--json", "--user", "bob@example.com", "--action", "Create", "--status", "failed", "--limit", "5"},
			call: engineCall{"Logs", "rc", provision.LogFilter{User: "bob@example.com", Action: "create", Status: "failure", Limit: 5}},
			api:  []string{"GET", "/apps/rc/logs", ""},
		},
		{
			name: "logs --since and --until", args: []string{"logs", "rc", "--since", "2026-11-26T08:00:00Z", "--until", "2026-11-26T08:00:00Z", "--before", "l-9"},
			contains: []string{"l-2  2026-11-26T08:01:00Z"},
			call:     engineCall{"Logs", "rc", provision.LogFilter{Since: ferrytest.Time(), Until: ferrytest.Time(), Before: "l-9"}},
		},
		{name: "logs with a bad time", args: []string{"logs", "rc", "--since", "yesterday"}, code: 1, stderr: "ferry: --since yesterday: want an RFC 3339 time such as 2026-01-02T15:04:05Z, or a duration such as 2h"},
		{name: "logs --until before --since", args: []string{"logs", "rc", "--since", "2026-11-26T09:00:00Z", "--until", "2026-11-26T08:00:00Z"}, code: 1, stderr: "ferry: --until 2026-11-26T08:00:00Z is before --since 2026-11-26T09:00:00Z"},
		{name: "logs with an unknown status", args: []string{"logs", "rc", "--status", "errored"}, code: 1, stderr: `ferry: --status "errored" is not a provisioning status; the statuses are success, failure, skipped, warning (or failed)`},
		{name: "logs with an unknown action", args: []string{"logs", "rc", "--action", "remove"}, code: 1, stderr: `ferry: --action "remove" is not a provisioning action; the actions are create, update, disable, delete, other`},
		{name: "logs --limit too large", args: []string{"logs", "rc", "--limit", "100000"}, code: 1, stderr: "ferry: --limit 100000 is more than 1000, the most records listed at once; continue a listing with --before ID"},
		{name: "logs --limit negative", args: []string{"logs", "rc", "--limit", "-1"}, code: 1, stderr: "ferry: --limit -1: want a positive number of records"},
		{
			name: "provision a user", args: []string{"provision", "rc", "--user", "alice"},
			contains: []string{"success  Import user: Read alice from the directory\n", "l-2  2026-11-26T08:01:00Z  update  success\n  Object:       alice@example.com (User)\n"},
			call:     engineCall{"ProvisionOnDemand", "rc", provision.OnDemandRequest{User: "alice"}},
		},
		{
			name: "provision six members", args: []string{"provision", "rc", "--group", "Sales", "--member", "a", "--member", "b", "--member", "c", "--member", "d", "--member", "e", "--member", "f"},
			code: 1, stderr: "ferry: 6 --member flags: a provision on demand takes a group and at most 5 of its members",
		},
		{
			name: "provision a group with members", args: []string{"provision", "rc", "--group", "Sales", "--member", "alice", "--member", "bob", "--json"},
			call: engineCall{"ProvisionOnDemand", "rc", provision.OnDemandRequest{Group: "Sales", Members: []string{"alice", "bob"}}},
			api:  []string{"POST", "/apps/rc/provision", `{"group":"Sales","members":["alice","bob"]}`},
		},
		{name: "plan --json", args: []string{"plan", "rc", "--json"}, call: engineCall{"Plan", "rc", nil}, api: []string{"POST", "/apps/rc/plan", ""}},
		{
			name: "plan with nothing to do", args: []string{"plan", "rc"}, call: engineCall{"Plan", "rc", nil},
			out: "Plan of a full cycle of rc on configuration version 3 (nothing was sent):\n" +
				"  create     0\n  update     0\n  disable    0\n  delete     0\n  fail       0\n  unchanged  2\n  skipped    0\n" +
				"\nNothing to do: rc is in sync with the directory.\n",
		},
		{
			name: "update --plan --json", args: []string{"update", "rc", "--scope", "all", "--plan", "--json"},
			call: engineCall{"PlanChange", "rc", provision.AppChange{Scope: ptr("all")}},
			api:  []string{"POST", "/apps/rc/plan", `{"scope":"all"}`},
		},
		{name: "update --plan --if-version", args: []string{"update", "rc", "--scope", "all", "--plan", "--if-version", "3"}, code: 1, stderr: "ferry: --plan saves nothing, so --if-version does not apply"},
		{
			name: "allow-deletes", args: []string{"allow-deletes", "rc"},
			out:   "Allowed the disables and deletes staged for rc.\nThe job sends exactly these now and leaves quarantine. Follow it with: ferry apps status rc --watch\n",
			calls: []engineCall{{"Status", "rc", nil}, {"AllowDeletes", "rc", nil}},
		},
		{
			name: "reject-deletes", args: []string{"reject-deletes", "rc"},
			contains: []string{"Dropped the disables and deletes staged for rc: none is sent"},
			calls:    []engineCall{{"Status", "rc", nil}, {"RejectDeletes", "rc", nil}},
		},
		{name: "audit when empty", args: []string{"audit", "rc"}, out: "No audit entries of rc.\n", call: engineCall{"Audit", "rc", []any{"", 0}}},
		{
			name: "audit --json, a page", args: []string{"audit", "rc", "--json", "--limit", "5", "--before", "e-1"},
			call: engineCall{"Audit", "rc", []any{"e-1", 5}}, api: []string{"GET", "/apps/rc/audit?limit=5&before=e-1", ""},
		},
		{name: "audit --limit too large", args: []string{"audit", "rc", "--limit", "1001"}, code: 1, stderr: "ferry: --limit 1001 is more than 1000, the most entries listed at once"},
		{
			name: "provision that fails", args: []string{"provision", "rc", "--user", "bob"},
			code: 1, contains: []string{"failure  Perform action"}, stderr: "ferry: provisioning bob@example.com failed: SystemForCrossDomainIdentityManagementConflict: userName taken",
			call: engineCall{"ProvisionOnDemand", "rc", provision.OnDemandRequest{User: "bob"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			as.Admin.set("", nil, tc.testFail)
			as.Admin.take()
			args := append([]string{"apps", "--server", as.URL, "--token", as.AdminToken}, tc.args...)
			stdout, stderr, code := runCommand(t, tc.stdin, args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, stdout, stderr)
			}
			if tc.stderr != "" && !strings.Contains(stderr, tc.stderr) {
				t.Errorf("stderr %q does not say %q", stderr, tc.stderr)
			}
			if tc.code == 0 && stderr != "" {
				t.Errorf("stderr %q, want none", stderr)
			}
			calls := as.Admin.take()
			switch {
			case tc.calls != nil:
				if !reflect.DeepEqual(calls, tc.calls) {
					t.Errorf("engine calls %+v\nwant %+v", calls, tc.calls)
				}
			case tc.call.Method == "" && len(calls) != 0:
				t.Errorf("engine calls %+v, want none", calls)
			case tc.call.Method != "" && (len(calls) != 1 || !reflect.DeepEqual(calls[0], tc.call)):
				t.Errorf("engine calls %+v\nwant [%+v]", calls, tc.call)
			}
			switch {
			case tc.api != nil:
				want := as.api(t, tc.api[0], tc.api[1], tc.api[2])
				if stdout != want {
					t.Errorf("stdout\n%s\nwant the API's answer\n%s", stdout, want)
				}
				if !json.Valid([]byte(stdout)) {
					t.Errorf("stdout is not JSON: %s", stdout)
				}
			case tc.contains != nil:
				for _, s := range tc.contains {
					if !strings.Contains(stdout, s) {
						t.Errorf("stdout does not say %q:\n%s", s, stdout)
					}
				}
			case stdout != tc.out:
				t.Errorf("stdout\n%s\nwant\n%s", stdout, tc.out)
			}
		})
	}
}

// TestAppsErrors checks that a failure prints the API's detail, or says
// what else went wrong, and exits 1.
func TestAppsErrors(t *testing.T) {
	t.Parallel()
	as := newAppsServer(t)
	notFerry := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "<html>nginx: not found</html>", http.StatusNotFound)
	}))
	defer notFerry.Close()
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	tests := []struct {
		name   string
		engine error // what the engine's App answers
		args   []string
		stderr string
	}{
		{"not found", scim.Errorf(404, "", "application %q not found", "rc"), []string{"--server", as.URL, "--token", as.AdminToken}, `ferry: application "rc" not found` + "\n"},
		{"invalid value", scim.BadRequest(scim.InvalidValue, "tenantUrl must be https"), []string{"--server", as.URL, "--token", as.AdminToken}, "ferry: tenantUrl must be https\n"},
		{"internal", errors.New("disk on fire"), []string{"--server", as.URL, "--token", as.AdminToken}, "ferry: internal error (request id "},
		{"SCIM token", nil, []string{"--server", as.URL, "--token", as.SCIMToken}, "ferry: this token is not an admin API token"},
		{"unknown token", nil, []string{"--server", as.URL, "--token", "nope"}, "ferry: the bearer token is not valid\n"},
		{"no token", nil, []string{"--server", as.URL, "--token", ""}, "ferry: an admin token is required: --token or FERRY_TOKEN"},
		{"not a Ferry server", nil, []string{"--server", notFerry.URL, "--token", "t"}, "answered 404 Not Found: <html>nginx: not found</html> (is " + notFerry.URL + " a Ferry server?)"},
		{"server down", nil, []string{"--server", down.URL, "--token", "t"}, "ferry: cannot reach Ferry: Get \"" + down.URL + "/api/v1/apps/rc\""},
		{"bad server URL", nil, []string{"--server", "127.0.0.1:8080", "--token", "t"}, `ferry: --server "127.0.0.1:8080": want the server's URL`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			as.Admin.set("App", tc.engine, false)
			args := append(append([]string{"apps"}, tc.args...), "show", "rc")
			stdout, stderr, code := runCommand(t, "", args...)
			if code != 1 || stdout != "" || !strings.Contains(stderr, tc.stderr) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 1, no output and %q", code, stdout, stderr, tc.stderr)
			}
			if strings.Contains(stderr, "disk on fire") {
				t.Errorf("the server's internal error reached the client: %s", stderr)
			}
		})
	}
}

// TestAppsEnvironment checks FERRY_SERVER, FERRY_TOKEN and
// FERRY_SECRET_TOKEN, and that secrets are shown nowhere.
func TestAppsEnvironment(t *testing.T) {
	as := newAppsServer(t)
	const secret = "s3cret-from-env"
	t.Setenv("FERRY_SERVER", as.URL)
	t.Setenv("FERRY_TOKEN", as.AdminToken)
	t.Setenv("FERRY_SECRET_TOKEN", secret)

	stdout, stderr, code := runCommand(t, "", "apps", "create", "--name", "rc", "--template", "ringcentral", "--tenant-url", "https://x.example/scim")
	if code != 0 {
		t.Fatalf("create with the environment: %d %s", code, stderr)
	}
	calls := as.Admin.take()
	if len(calls) != 1 || calls[0].Arg.(provision.NewApp).SecretToken != secret {
		t.Fatalf("calls %+v: want the secret token from FERRY_SECRET_TOKEN", calls)
	}
	for _, s := range []string{secret, as.AdminToken} {
		if strings.Contains(stdout+stderr, s) {
			t.Errorf("a secret is in the output: %s%s", stdout, stderr)
		}
	}

	// A file wins over the variable; a flag's token over FERRY_TOKEN.
	file := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(file, []byte("s3cret-from-file\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := runCommand(t, "", "apps", "create", "--name", "rc", "--template", "scim", "--tenant-url", "https://x.example/scim", "--secret-token-file", file); code != 0 {
		t.Fatalf("create with a file: %s", stderr)
	}
	if calls := as.Admin.take(); len(calls) != 1 || calls[0].Arg.(provision.NewApp).SecretToken != "s3cret-from-file" {
		t.Errorf("calls %+v: want the secret token from the file, without its line ending", calls)
	}
	// An update takes a new secret token only from a flag.
	if _, stderr, code := runCommand(t, "", "apps", "update", "rc", "--scope", "all"); code != 0 {
		t.Fatalf("update: %s", stderr)
	}
	if calls := as.Admin.take(); len(calls) != 1 || calls[0].Arg.([]any)[0].(provision.AppChange).SecretToken != nil {
		t.Errorf("calls %+v: an update took FERRY_SECRET_TOKEN", calls)
	}
	if _, stderr, code := runCommand(t, "", "apps", "list", "--token", as.SCIMToken); code != 1 || !strings.Contains(stderr, "not an admin API token") {
		t.Errorf("--token did not win over FERRY_TOKEN: %d %s", code, stderr)
	}

	// Help shows where the token comes from, never the token.
	stdout, _, _ = runCommand(t, "", "apps", "create", "--help")
	if strings.Contains(stdout, as.AdminToken) || strings.Contains(stdout, secret) || !strings.Contains(stdout, "FERRY_SECRET_TOKEN") {
		t.Errorf("help shows a secret, or does not name FERRY_SECRET_TOKEN:\n%s", stdout)
	}
}

// TestAppsFlagChecks checks the mistakes the CLI catches before any
// request: each message names the flag (or the environment variable), not
// the API's JSON field, and no call reaches the engine.
func TestAppsFlagChecks(t *testing.T) {
	as := newAppsServer(t)
	t.Setenv("FERRY_SECRET_TOKEN", "")
	empty := filepath.Join(t.TempDir(), "empty")
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	create := []string{"create", "--name", "rc", "--template", "ringcentral", "--tenant-url", "https://platform.ringcentral.com/scim/v2"}
	tests := []struct {
		name   string
		args   []string
		stderr []string
	}{
		{"create without a secret token", create, []string{"a secret token is required", "--secret-token-file FILE", "FERRY_SECRET_TOKEN", "--secret-token"}},
		{"create with an empty secret token file", append(create, "--secret-token-file", empty), []string{"--secret-token-file " + empty + " is empty"}},
		{"create with an empty secret token", append(create, "--secret-token", ""), []string{"--secret-token must not be empty"}},
		{"create without a tenant URL", []string{"create", "--name", "rc", "--template", "scim", "--secret-token", "t"}, []string{"--tenant-url is required"}},
		{"create without a template", []string{"create", "--name", "rc", "--tenant-url", "https://x.example/scim", "--secret-token", "t"}, []string{"--template is required", "ferry apps templates"}},
		{"create with a bad scope", append(create, "--secret-token", "t", "--scope", "everyone"), []string{`--scope must be assigned (the assigned users and groups) or all (everyone), not "everyone"`}},
		{"create with a tenant URL that is not a URL", []string{"create", "--name", "rc", "--template", "scim", "--tenant-url", "platform.ringcentral.com", "--secret-token", "t"},
			[]string{`--tenant-url "platform.ringcentral.com": want the application's SCIM base URL, an http or https URL`}},
		{"update with credentials in the tenant URL", []string{"update", "rc", "--tenant-url", "https://u:p@x.example/scim"}, []string{"--tenant-url must not carry credentials"}},
		{"create with a blank name", []string{"create", "--name", " ", "--template", "scim"}, []string{"--name must not be empty"}},
		{"update with an empty secret token file", []string{"update", "rc", "--secret-token-file", empty}, []string{"--secret-token-file " + empty + " is empty"}},
		{"update with a bad scope", []string{"update", "rc", "--scope", "some"}, []string{"--scope must be assigned"}},
		{"update with an empty tenant URL", []string{"update", "rc", "--tenant-url", ""}, []string{"--tenant-url must not be empty"}},
		{"update with an empty name", []string{"update", "rc", "--name", ""}, []string{"--name must not be empty"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			as.Admin.take()
			args := append([]string{"apps", "--server", as.URL, "--token", as.AdminToken}, tc.args...)
			stdout, stderr, code := runCommand(t, "", args...)
			if code != 1 || stdout != "" {
				t.Fatalf("exit %d, stdout %q: want exit 1 and no output", code, stdout)
			}
			for _, want := range tc.stderr {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr %q does not say %q", stderr, want)
				}
			}
			for _, field := range []string{"secretToken", "tenantUrl"} {
				if strings.Contains(stderr, field) {
					t.Errorf("stderr %q names the API's field %s rather than the flag", stderr, field)
				}
			}
			if calls := as.Admin.take(); len(calls) != 0 {
				t.Errorf("a refused command reached the engine: %+v", calls)
			}
		})
	}
}

// TestAppsConfigFile checks --config-file: the output of apps show --json
// round-trips through apps update, a bare configuration is taken too, and
// unknown fields are refused.
func TestAppsConfigFile(t *testing.T) {
	t.Parallel()
	as := newAppsServer(t)
	dir := t.TempDir()
	cli := func(args ...string) (string, string, int) {
		t.Helper()
		return runCommand(t, "", append([]string{"apps", "--server", as.URL, "--token", as.AdminToken}, args...)...)
	}
	write := func(name, content string) string {
		t.Helper()
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	shown, stderr, code := cli("show", "rc", "--json")
	if code != 0 {
		t.Fatalf("show --json: %s", stderr)
	}
	want := ferrytest.App("rc").Config
	cfgJSON, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		args    []string // after the file's path is appended
		content string
		stderr  string // the error, or "" for a success
		note    string // a note on stderr of a success
	}{
		{name: "the output of apps show --json", args: []string{"update", "rc"}, content: shown},
		{name: "a bare configuration", args: []string{"update", "rc"}, content: string(cfgJSON)},
		{name: "another application's output", args: []string{"update", "hr"}, content: shown, note: "is the configuration of rc; it is applied to hr"},
		{name: "an unknown field in the configuration", args: []string{"update", "rc"},
			content: strings.Replace(shown, `"scope":"assigned"`, `"scope":"assigned","scop":"all"`, 1), stderr: `config: unknown field "scop"`},
		{name: "an unknown field in a bare configuration", args: []string{"update", "rc"},
			content: `{"tenantUrl":"https://x.example","objects":[],"mappings":[]}`, stderr: `unknown field "mappings"`},
		{name: "an unknown field beside the configuration", args: []string{"update", "rc"},
			content: strings.Replace(shown, `"config":`, `"secret":"x","config":`, 1), stderr: `unknown field "secret": an application (ferry apps show --json) has only id, name, template, enabled, config`},
		{name: "a wrong type", args: []string{"update", "rc"}, content: `{"config":{"scope":7}}`, stderr: "config: scope must be a string, not number"},
		{name: "a null configuration", args: []string{"update", "rc"}, content: `{"config":null}`, stderr: "config is null"},
		{name: "not an object", args: []string{"update", "rc"}, content: `[1]`, stderr: "want a JSON object"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			as.Admin.take()
			path := write(strings.ReplaceAll(tc.name, " ", "-")+".json", tc.content)
			_, stderr, code := cli(append(tc.args, "--config-file", path)...)
			calls := as.Admin.take()
			if tc.stderr != "" {
				if code != 1 || !strings.Contains(stderr, "--config-file "+path+": ") || !strings.Contains(stderr, tc.stderr) {
					t.Errorf("exit %d, stderr %q: want the file named and %q", code, stderr, tc.stderr)
				}
				if len(calls) != 0 {
					t.Errorf("a refused file reached the engine: %+v", calls)
				}
				return
			}
			if code != 0 || (tc.note == "") != (stderr == "") || !strings.Contains(stderr, tc.note) {
				t.Fatalf("exit %d, stderr %q; want success and the note %q", code, stderr, tc.note)
			}
			if len(calls) != 1 || calls[0].Method != "UpdateApp" {
				t.Fatalf("calls %+v: want one UpdateApp", calls)
			}
			ch := calls[0].Arg.([]any)[0].(provision.AppChange)
			if ch.Config == nil || !reflect.DeepEqual(*ch.Config, want) || ch.Name != nil || ch.TenantURL != nil || ch.SecretToken != nil || ch.Scope != nil {
				t.Errorf("the change %+v (config %+v)\nwant only the configuration %+v", ch, ch.Config, want)
			}
			if v := calls[0].Arg.([]any)[1].(int64); v != 0 {
				t.Errorf("the file's version %d was sent as If-Match", v)
			}
		})
	}

	// create takes the output of apps show --json as well, with its
	// template when --template is not given.
	path := write("copy.json", shown)
	if _, stderr, code := cli("create", "--name", "rc copy", "--config-file", path, "--secret-token", "t"); code != 0 {
		t.Fatalf("create from apps show --json: %s", stderr)
	}
	calls := as.Admin.take()
	if len(calls) != 1 {
		t.Fatalf("calls %+v", calls)
	}
	if in := calls[0].Arg.(provision.NewApp); in.Template != "ringcentral" || in.Config == nil || !reflect.DeepEqual(*in.Config, want) || in.Name != "rc copy" {
		t.Errorf("create sent %+v; want the file's template and configuration under the new name", in)
	}
}

// TestAppsStatusWatch checks status --watch: an update per interval while
// the cycle runs, then the status once it ended; a pending cycle waited
// for; one JSON document per update with --json; and Ctrl-C.
func TestAppsStatusWatch(t *testing.T) {
	t.Parallel()
	as := newAppsServer(t)
	ended := ferrytest.Status("rc")
	pending := ferrytest.Status("rc")
	pending.FullCyclePending, pending.Last = true, nil
	watch := []string{"apps", "--server", as.URL, "--token", as.AdminToken, "status", "rc", "--watch", "--interval", "1ms"}
	tests := []struct {
		name     string
		args     []string
		statuses []*provision.Status
		calls    int      // Status calls
		lines    []string // stdout's lines start so
		contains []string
	}{
		{
			name: "a running cycle", statuses: []*provision.Status{ferrytest.Running("rc", 30), ferrytest.Running("rc", 60), ended},
			calls: 3, lines: []string{"", "", "App:  "},
			contains: []string{"  running  full cycle   30%  60 of 200 objects, about 1m10s left  30 updated, 29 unchanged, 1 failed\n",
				"  running  full cycle   60%  120 of 200 objects", "Last cycle:       initial on version 3, completed"},
		},
		{name: "no cycle running", statuses: []*provision.Status{ended}, calls: 1, lines: []string{"App:  "}},
		{
			name: "a pending cycle", statuses: []*provision.Status{pending, ferrytest.Running("rc", 50), ended},
			calls: 3, contains: []string{"idle  a full cycle is pending\n", "50%", "Last cycle:"},
		},
		{
			name: "JSON", args: []string{"--json"}, statuses: []*provision.Status{ferrytest.Running("rc", 30), ferrytest.Running("rc", 60), ended},
			calls: 3, lines: []string{`{"app":"rc",`, `{"app":"rc",`, `{"app":"rc",`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			as.Admin.set("", nil, false)
			as.Admin.take()
			as.Admin.answerStatus(nil, tc.statuses...)
			stdout, stderr, code := runCommand(t, "", append(watch, tc.args...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if calls := as.Admin.take(); len(calls) != tc.calls {
				t.Errorf("%d Status calls, want %d", len(calls), tc.calls)
			}
			lines := strings.Split(stdout, "\n")
			for i, prefix := range tc.lines {
				if i >= len(lines) || !strings.HasPrefix(lines[i], prefix) {
					t.Errorf("line %d does not start with %q:\n%s", i+1, prefix, stdout)
				}
			}
			if tc.args != nil {
				for _, l := range lines[:len(lines)-1] {
					if !json.Valid([]byte(l)) {
						t.Errorf("not one JSON document a line: %q", l)
					}
				}
				if len(lines) != tc.calls+1 {
					t.Errorf("%d lines for %d updates:\n%s", len(lines)-1, tc.calls, stdout)
				}
			}
			for _, want := range tc.contains {
				if !strings.Contains(stdout, want) {
					t.Errorf("stdout does not say %q:\n%s", want, stdout)
				}
			}
		})
	}

	// Ctrl-C stops watching a cycle that does not end, with no error.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	as.Admin.set("", nil, false)
	as.Admin.take()
	as.Admin.answerStatus(func(n int) {
		if n == 3 {
			cancel()
		}
	}, ferrytest.Running("rc", 10))
	stdout, stderr, code := runCommandContext(t, ctx, "", watch...)
	if code != 0 || stderr != "" {
		t.Errorf("Ctrl-C: exit %d, stderr %q; want 0 and nothing", code, stderr)
	}
	// The update whose request Ctrl-C interrupted may be shown or not.
	if calls, n := as.Admin.take(), strings.Count(stdout, "10%"); len(calls) != 3 || n < 2 || n > 3 {
		t.Errorf("%d Status calls and output\n%s\nwant 3 requests, then none after Ctrl-C", len(calls), stdout)
	}
}

// newAppsTarget is an application for the engine to provision into: a
// real Ferry SCIM server on its own SQLite database.
func newAppsTarget(t *testing.T) *ferrytest.Target {
	t.Helper()
	catalog := schema.Builtin()
	st := openSQLite(t, "target.db", catalog)
	return ferrytest.NewTarget(t, st, server.New(server.DefaultConfig(), st, catalog, slog.New(slog.DiscardHandler)).Handler())
}

// newEngineAppsServer is a real Ferry server whose admin API runs the real
// engine on the server's SQLite database. The scheduler does not run: the
// test runs cycles with RunCycle, one at a time.
func newEngineAppsServer(t *testing.T) (*appsServer, *provision.Service) {
	t.Helper()
	var m *provision.Service
	as := startAppsServer(t, func(st store.Store, catalog *schema.Catalog) server.Admin {
		m = ferrytest.Engine(t, st, catalog)
		return m
	})
	return as, m
}

// cli returns what runs ferry apps against the server and fails the test
// when the exit status is not wantCode.
func (as *appsServer) cli(t *testing.T) func(wantCode int, args ...string) (stdout, stderr string) {
	return func(wantCode int, args ...string) (string, string) {
		t.Helper()
		stdout, stderr, code := runCommand(t, "", append([]string{"apps", "--server", as.URL, "--token", as.AdminToken}, args...)...)
		if code != wantCode {
			t.Fatalf("ferry apps %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, wantCode, stdout, stderr)
		}
		return stdout, stderr
	}
}

// createUsers creates active users in the server's directory.
func (as *appsServer) createUsers(t *testing.T, userNames ...string) {
	t.Helper()
	for _, u := range userNames {
		if r := ferrytest.Request(t, as.SCIMToken, "POST", as.URL+"/scim/v2/Users", "application/scim+json", `{"userName":"`+u+`","active":true}`); r.Status != 201 {
			t.Fatalf("create %s in the directory: %d %s", u, r.Status, r.Raw)
		}
	}
}

// wantContains fails the test unless out, what a command printed, says
// each of wants.
func wantContains(t *testing.T, what, out string, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(out, want) {
			t.Errorf("%s does not say %q:\n%s", what, want, out)
		}
	}
}

// cycle runs one cycle of the application name with m.
func cycle(t *testing.T, m *provision.Service, tenant, name string) *provision.CycleStatus {
	t.Helper()
	c, err := m.RunCycle(context.Background(), tenant, name, false)
	if err != nil || c == nil {
		t.Fatalf("cycle of %s: %+v, %v", name, c, err)
	}
	return c
}

// TestAppsEngine drives the real engine with the CLI: start refused by a
// failing Test Connection and forced, the failures in escrow, retry,
// restart --reset, logs of the failures, roles, and apps update fed the
// output of apps show --json.
func TestAppsEngine(t *testing.T) {
	t.Parallel()
	as, m := newEngineAppsServer(t)
	tg := newAppsTarget(t)
	const app = "HR app"
	dir := t.TempDir()
	cli := as.cli(t)
	failures := func() []provision.Failure {
		t.Helper()
		out, _ := cli(0, "failures", app, "--json")
		var fs []provision.Failure
		if err := json.Unmarshal([]byte(out), &fs); err != nil {
			t.Fatalf("failures --json: %v: %s", err, out)
		}
		return fs
	}
	as.createUsers(t, "ann@example.com", "refused@example.com")
	wrong, right := filepath.Join(dir, "wrong"), filepath.Join(dir, "right")
	os.WriteFile(wrong, []byte("not-the-token\n"), 0o600)
	os.WriteFile(right, []byte(tg.Token+"\n"), 0o600)
	cli(0, "create", "--name", app, "--template", "scim", "--tenant-url", tg.URL, "--secret-token-file", wrong, "--scope", "all")
	var view provision.AppView
	shown, _ := cli(0, "show", app, "--json")
	if err := json.Unmarshal([]byte(shown), &view); err != nil {
		t.Fatal(err)
	}

	// A failing Test Connection: start refuses, says why and what to do,
	// and names the application by its name.
	_, stderr := cli(1, "start", app)
	wantContains(t, "start's refusal", stderr, "ferry: HR app was not started: Test Connection failed", "--force",
		"ferry apps update 'HR app' --tenant-url URL, or --secret-token-file FILE", "ferry apps test-connection 'HR app'")
	if strings.Contains(stderr, view.ID) {
		t.Errorf("start's refusal names the application by its id: %s", stderr)
	}
	if out, _ := cli(0, "status", app); !strings.Contains(out, "Provisioning:     Off (off)") {
		t.Errorf("a refused start turned provisioning On:\n%s", out)
	}
	out, _ := cli(0, "start", app, "--force")
	wantContains(t, "start --force", out, "Provisioning of HR app is On (Test Connection was skipped: --force).")
	out, _ = cli(0, "status", app)
	wantContains(t, "status after start --force", out, "Provisioning:     On (idle)", "a full cycle on it is pending", "Next full cycle:  now (pending)", "Last cycle:       none yet")
	cli(0, "stop", app)
	cli(0, "update", app, "--secret-token-file", right)
	out, _ = cli(0, "start", app)
	wantContains(t, "start", out, "Test Connection to HR app passed. Provisioning of HR app is On.")

	// The first cycle: refused@ fails, and is in escrow.
	if c := cycle(t, m, as.Tenant, app); c.Counts.Created != 1 || c.Counts.Failed != 1 {
		t.Fatalf("the first cycle: %+v", c)
	}
	out, _ = cli(0, "failures", app)
	wantContains(t, "failures", out, "refused@example.com (User, id ", "  Action:       create failed\n",
		"  Error:        ", "this user is refused by the application's policy", "  Request:      POST "+tg.URL+"/Users",
		"  Attempts:     1, first failed ", "  Next try:     waits for a change of the object or of the configuration",
		"1 object in escrow. ferry apps retry 'HR app' retries them now.")
	out, _ = cli(0, "status", app)
	wantContains(t, "status", out, "Last cycle:       initial on version ", "                  1 created, 1 failed\n",
		"Failures:         1 object in escrow, waiting for a change of the object or of the configuration (ferry apps failures 'HR app')",
		"Advice:           ")

	// retry tries it again at once.
	out, _ = cli(0, "retry", app)
	wantContains(t, "retry", out, "Retrying 1 object of HR app in escrow now.")
	cycle(t, m, as.Tenant, app)
	if fs := failures(); len(fs) != 1 || fs[0].Attempts != 2 {
		t.Errorf("after retry: %+v; want refused@example.com at its second attempt", fs)
	}
	// restart --reset forgets the escrow: the failure starts over.
	out, _ = cli(0, "restart", app, "--reset")
	wantContains(t, "restart --reset", out, "Forgotten: ")
	cycle(t, m, as.Tenant, app)
	if fs := failures(); len(fs) != 1 || fs[0].Attempts != 1 {
		t.Errorf("after restart --reset: %+v; want refused@example.com's escrow forgotten, then at its first attempt", fs)
	}

	// The logs of the failures, by the synonym people type.
	out, _ = cli(0, "logs", app, "--status", "failed")
	wantContains(t, "logs --status failed", out, "  create  failure\n", "  Object:       refused@example.com (User, id ", "  Error:        ", "  Request:      POST "+tg.URL+"/Users")
	if strings.Contains(out, "ann@example.com") {
		t.Errorf("logs --status failed shows ann's success:\n%s", out)
	}

	// Roles come from the application (the scim template's "User").
	_, stderr = cli(1, "assign", app, "--user", "ann@example.com", "--role", "Admin")
	wantContains(t, "assign --role Admin", stderr, `"Admin"`, `"User"`)
	out, _ = cli(0, "assign", app, "--user", "ann@example.com", "--role", "user")
	wantContains(t, "assign --role user", out, "Assigned User ann@example.com to HR app with role User.")

	// apps update fed the output of apps show --json changes nothing: the
	// same configuration, no new version, no full cycle scheduled.
	var before provision.Status
	raw, _ := cli(0, "status", app, "--json")
	json.Unmarshal([]byte(raw), &before)
	shown, _ = cli(0, "show", app, "--json")
	file := filepath.Join(dir, "app.json")
	os.WriteFile(file, []byte(shown), 0o600)
	out, _ = cli(0, "update", app, "--config-file", file)
	wantContains(t, "update --config-file", out, "Updated HR app")
	again, _ := cli(0, "show", app, "--json")
	if again != shown {
		t.Errorf("update --config-file with apps show --json changed the application:\n before %s\n after  %s", shown, again)
	}
	var after provision.Status
	raw, _ = cli(0, "status", app, "--json")
	json.Unmarshal([]byte(raw), &after)
	if after.ConfigVersion != before.ConfigVersion || after.FullCyclePending {
		t.Errorf("an unchanged configuration moved the configuration version from %d to %d (full cycle pending: %v)",
			before.ConfigVersion, after.ConfigVersion, after.FullCyclePending)
	}
	// An edited one is saved, and schedules a full cycle on it.
	edited := strings.Replace(shown, `"scope":"all"`, `"scope":"all","skipOutOfScopeDeletions":true`, 1)
	if edited == shown {
		t.Fatalf("the test's edit did not apply to %s", shown)
	}
	os.WriteFile(file, []byte(edited), 0o600)
	cli(0, "update", app, "--config-file", file)
	out, _ = cli(0, "status", app)
	wantContains(t, "status after a configuration change", out, fmt.Sprintf("Configuration:    version %d; a full cycle on it is pending", before.ConfigVersion+1))
	if out, _ = cli(0, "show", app, "--json"); !strings.Contains(out, `"skipOutOfScopeDeletions":true`) {
		t.Errorf("the edited configuration was not saved: %s", out)
	}
}

// TestAppsSafetyNet drives the real engine's safety net with the CLI: plan
// (of a fresh application, of one in sync, of a change with update
// --plan), a scope change held by the accidental-deletion threshold as
// status shows it, reject-deletes and allow-deletes saying what they did,
// a quarantine for refused credentials with its failing request, and the
// audit log of it all.
func TestAppsSafetyNet(t *testing.T) {
	t.Parallel()
	as, m := newEngineAppsServer(t)
	tg := newAppsTarget(t)
	const app = "HR app"
	dir := t.TempDir()
	cli := as.cli(t)
	as.createUsers(t, "cat@example.com", "ann@example.com", "bob@example.com")
	token := filepath.Join(dir, "token")
	os.WriteFile(token, []byte(tg.Token+"\n"), 0o600)
	cli(0, "create", "--name", app, "--template", "scim", "--tenant-url", tg.URL, "--secret-token-file", token, "--scope", "all")
	// A threshold of one disable or delete, set through a configuration
	// file.
	shown, _ := cli(0, "show", app, "--json")
	var view provision.AppView
	if err := json.Unmarshal([]byte(shown), &view); err != nil {
		t.Fatal(err)
	}
	view.Config.AccidentalDeletions = provision.DeletionThreshold{Count: 1}
	b, _ := json.Marshal(view.Config)
	file := filepath.Join(dir, "config.json")
	os.WriteFile(file, b, 0o600)
	cli(0, "update", app, "--config-file", file)

	// A fresh application: three creates, and nothing sent.
	out, _ := cli(0, "plan", app)
	wantContains(t, "plan of a fresh application", out, "Plan of a full cycle of HR app on configuration version ", "(nothing was sent):\n",
		"  create     3\n  update     0\n  disable    0\n  delete     0\n  fail       0\n  unchanged  0\n",
		"\ncreate   ann@example.com (User)\ncreate   bob@example.com (User)\ncreate   cat@example.com (User)\n")
	if strings.Contains(out, "threshold") {
		t.Errorf("the plan of creates speaks of the threshold:\n%s", out)
	}
	if n, _ := tg.ActiveUsers(t); n != 0 {
		t.Errorf("plan created %d users in the target", n)
	}
	raw, _ := cli(0, "plan", app, "--json")
	var p provision.Plan
	if err := json.Unmarshal([]byte(raw), &p); err != nil || len(p.Creates) != 3 || p.App != app {
		t.Errorf("plan --json: %v: %s", err, raw)
	}
	// Nothing staged: allow and reject say so.
	for _, op := range []string{"allow-deletes", "reject-deletes"} {
		_, stderr := cli(1, op, app)
		wantContains(t, op+" with nothing staged", stderr, "ferry: HR app holds no staged disables or deletes")
	}

	cli(0, "start", app)
	if c := cycle(t, m, as.Tenant, app); c.Counts.Created != 3 {
		t.Fatalf("the initial cycle: %+v", c.Counts)
	}
	out, _ = cli(0, "plan", app)
	wantContains(t, "plan after the initial cycle", out, "  unchanged  3\n", "\nNothing to do: HR app is in sync with the directory.\n")

	// update --plan shows what a scope change would do, and saves nothing.
	var before provision.Status
	raw, _ = cli(0, "status", app, "--json")
	json.Unmarshal([]byte(raw), &before)
	out, _ = cli(0, "update", app, "--scope", "assigned", "--plan")
	wantContains(t, "update --plan", out, "Plan of a full cycle of HR app with the change, which is not saved (nothing was sent):\n",
		"  disable    3\n", "\ndisable  ann@example.com (User): ", "\ndisable  cat@example.com (User): ",
		"The threshold would hold the disables and deletes: 3, with 0 sent within its window, exceed the accidental-deletion limit of 1. "+
			"The cycle would send none of them and quarantine HR app until ferry apps allow-deletes 'HR app' or ferry apps reject-deletes 'HR app'.\n",
		"\nNothing was saved: run the same ferry apps update without --plan to save the change.\n")
	var after provision.Status
	raw, _ = cli(0, "status", app, "--json")
	json.Unmarshal([]byte(raw), &after)
	if shown, _ := cli(0, "show", app, "--json"); !strings.Contains(shown, `"scope":"all"`) || after.ConfigVersion != before.ConfigVersion {
		t.Errorf("update --plan saved the change: version %d (was %d): %s", after.ConfigVersion, before.ConfigVersion, shown)
	}

	// The change itself: held, and status says what and what to do.
	cli(0, "update", app, "--scope", "assigned")
	cycle(t, m, as.Tenant, app)
	if _, active := tg.ActiveUsers(t); active != 3 {
		t.Errorf("%d active users after the held cycle, want 3", active)
	}
	out, _ = cli(0, "status", app)
	wantContains(t, "status of held deletes", out, "Provisioning:     On (quarantined)\n", "Quarantine:       TooManyDeletes since ",
		"Next attempt:     none: waiting for ferry apps allow-deletes or reject-deletes\n",
		"Staged deletes:   3 disables and 0 deletes held since ", "(over the limit of 1, with 0 sent within the window before)\n",
		"                  ann@example.com (User), bob@example.com (User), cat@example.com (User)\n",
		"                  ferry apps allow-deletes 'HR app' sends exactly these; ferry apps reject-deletes 'HR app' drops them\n")
	out, _ = cli(0, "reject-deletes", app)
	wantContains(t, "reject-deletes", out, "Dropped the 3 disables and 0 deletes staged for HR app at ", ": none is sent, and those objects stay as they are in HR app.")
	cycle(t, m, as.Tenant, app)
	if out, _ = cli(0, "status", app); strings.Contains(out, "Quarantine:") || strings.Contains(out, "Staged deletes:") {
		t.Errorf("status after reject-deletes:\n%s", out)
	}
	// A restart holds them again; allow-deletes sends them.
	cli(0, "restart", app)
	cycle(t, m, as.Tenant, app)
	out, _ = cli(0, "allow-deletes", app)
	wantContains(t, "allow-deletes", out, "Allowed the 3 disables and 0 deletes staged for HR app at ",
		"The job sends exactly these now and leaves quarantine. Follow it with: ferry apps status 'HR app' --watch\n")
	if c := cycle(t, m, as.Tenant, app); c.Counts.Disabled != 3 {
		t.Errorf("the cycle after allow-deletes: %+v; want 3 disabled", c.Counts)
	}
	if _, active := tg.ActiveUsers(t); active != 0 {
		t.Errorf("%d active users after allow-deletes, want none", active)
	}

	// Credentials refused: quarantined at once, with the failing request
	// and the answer.
	wrong := filepath.Join(dir, "wrong")
	os.WriteFile(wrong, []byte("not-the-right-token\n"), 0o600)
	cli(0, "create", "--name", "refused", "--template", "scim", "--tenant-url", tg.URL, "--secret-token-file", wrong, "--scope", "all")
	cli(0, "start", "refused", "--force")
	cycle(t, m, as.Tenant, "refused")
	out, _ = cli(0, "status", "refused")
	wantContains(t, "status of a quarantine", out, "Provisioning:     On (quarantined)\n", "Quarantine:       EncounteredQuarantineException since ",
		"Next attempt:     ", "(or at once after a passing ferry apps test-connection refused)\n", "Failing request:  ", tg.URL, "Response:         ")

	// The audit log: who, what and when, newest first; a page at a time.
	out, _ = cli(0, "audit", app)
	lines := strings.Split(out, "\n")
	var actions []string
	for _, l := range lines {
		if f := strings.Fields(l); len(f) >= 3 && !strings.HasPrefix(l, " ") {
			if f[1] != "test" {
				t.Errorf("an entry not by the admin token's name, test: %q", l)
			}
			actions = append(actions, f[2])
		}
	}
	if got, want := strings.Join(actions, " "), "allow-deletes restart reject-deletes update start update create"; got != want {
		t.Errorf("audit actions %q, want %q:\n%s", got, want, out)
	}
	wantContains(t, "audit", out, "  test  allow-deletes  3 disables and 0 deletes (staged set ", "  test  update\n    scope: all → assigned\n",
		"    accidentalDeletions: (none) → {\"count\":1}\n", "  test  create\n    name: (none) → HR app\n", "    secretToken: set\n")
	if strings.Contains(out, tg.Token) {
		t.Errorf("the audit log shows the secret token:\n%s", out)
	}
	out, _ = cli(0, "audit", app, "--limit", "2")
	wantContains(t, "audit --limit 2", out, "\nOlder entries: ferry apps audit 'HR app' --before ")
	raw, _ = cli(0, "audit", app, "--json")
	var entries []provision.AuditEntry
	if err := json.Unmarshal([]byte(raw), &entries); err != nil || len(entries) != 7 {
		t.Errorf("audit --json: %d entries, %v", len(entries), err)
	}
}
