package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ferryid/ferry/internal/ferrytest"
	"github.com/ferryid/ferry/internal/provision"
	"github.com/ferryid/ferry/internal/provision/scoping"
	"github.com/ferryid/ferry/internal/scim"
	"github.com/ferryid/ferry/internal/scim/schema"
	"github.com/ferryid/ferry/internal/store"
)

// adminCall is one call the admin API made on the engine.
type adminCall struct {
	Method    string
	Tenant    string
	App       string // the application's name, when the call names one
	Arg       any    // the decoded argument: NewApp, AppChange, Principal, LogFilter, OnDemandRequest, a limit
	IfVersion int64
	Role      string
	Flag      bool // Start's force, Restart's reset
}

// recordingAdmin is a test implementation of Admin: it records every call
// and answers with the canned results below, or with errs[method].
type recordingAdmin struct {
	mu    sync.Mutex
	calls []adminCall
	errs  map[string]error
}

func (a *recordingAdmin) record(c adminCall) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls = append(a.calls, c)
	return a.errs[c.Method]
}

// fail makes method return err from now on.
func (a *recordingAdmin) fail(method string, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.errs == nil {
		a.errs = map[string]error{}
	}
	a.errs[method] = err
}

// take returns the calls made since the last take.
func (a *recordingAdmin) take() []adminCall {
	a.mu.Lock()
	defer a.mu.Unlock()
	c := a.calls
	a.calls = nil
	return c
}

var testTime = time.Date(2026, 11, 26, 9, 30, 0, 0, time.UTC)

func cannedApp(name string) *provision.AppView {
	return &provision.AppView{
		ID: "0b0e8f8e-1c55-4b43-9a43-0c6b5e6f3c11", Name: name, Template: "scim", Enabled: true,
		Config: provision.Config{
			TenantURL: "https://target.example/scim/v2", Scope: provision.ScopeAssigned,
			FullCycleInterval: provision.Duration(40 * time.Minute),
			Objects: []provision.ObjectMapping{{
				SourceType: "User", TargetType: "Users", Enabled: true,
				Actions:    provision.Actions{Create: true, Update: true, Delete: true},
				Attributes: []provision.AttributeMapping{{Type: provision.Direct, Source: "userName", Target: "userName", Match: true, MatchPriority: 1}},
			}},
		},
		HasSecretToken: true, Version: 3, Created: testTime, LastModified: testTime.Add(time.Minute),
	}
}

func cannedAssignment() provision.AssignmentView {
	return provision.AssignmentView{PrincipalType: "User", PrincipalID: "u-1", PrincipalName: "alice@example.com", Role: "User", Created: testTime}
}

func cannedStatus(app string) *provision.Status {
	return &provision.Status{
		App: app, Enabled: true, State: "running", Watermark: 42, ConfigVersion: 4, Failures: 1, RetryableFailures: 1,
		Advice:  "1 objects failed and are in escrow (retried on their own schedule): ferry apps failures hr shows why; ferry apps retry hr retries them now.",
		Current: &provision.CycleStatus{ID: "c-2", Kind: "incremental", ConfigVersion: 4, State: "running", Started: testTime, Total: 10, Processed: 3, Percent: 30, EtaSeconds: 7, Counts: provision.Counts{Updated: 2, Failed: 1}},
		Last:    &provision.CycleStatus{ID: "c-1", Kind: "initial", ConfigVersion: 4, State: "completed", Started: testTime.Add(-time.Hour), Ended: testTime.Add(-59 * time.Minute), DurationMs: 60000, Total: 9, Processed: 9, Percent: 100, Counts: provision.Counts{Created: 9}},
		Totals:  provision.Counts{Created: 9, Updated: 2, Failed: 1},
	}
}

func cannedFailures() []provision.Failure {
	return []provision.Failure{{
		Source: provision.Identity{ID: "u-1", Type: "User", DisplayName: "alice"}, Target: provision.Identity{Type: "User"},
		Action: provision.ActionCreate, Request: "POST https://target.example/scim/v2/Users",
		Error: &provision.ErrorInfo{Code: "SystemForCrossDomainIdentityManagementServiceUnavailable", Reason: "503", Category: "failure",
			Request: "POST https://target.example/scim/v2/Users", Retryable: true},
		Attempts: 2, Retryable: true, NextTry: testTime.Add(2 * time.Minute), FirstFailed: testTime, LastFailed: testTime.Add(time.Minute), LogID: "l-1",
	}}
}

func cannedLogs() []provision.LogRecord {
	return []provision.LogRecord{{
		ID: "l-1", ActivityDateTime: testTime, CycleID: "c-1", ChangeID: "ch-1", JobID: "j-1", DurationMs: 12,
		Action: provision.ActionCreate, Status: provision.StatusFailure,
		Steps:  []provision.Step{{Name: "export", Type: "export", Status: provision.StatusFailure, Description: "POST /Users failed", Details: map[string]string{"status": "409"}}},
		Source: provision.Identity{ID: "u-1", Type: "User", DisplayName: "alice"},
		Target: provision.Identity{Type: "User"},
		Error:  &provision.ErrorInfo{Code: "SystemForCrossDomainIdentityManagementBadRequest", Reason: "bad", Category: "failure"},
	}}
}

func cannedOnDemand() *provision.OnDemandResult {
	return &provision.OnDemandResult{Steps: []provision.Step{{Name: "Import user", Type: "import", Status: provision.StatusSuccess}}, Records: cannedLogs()}
}

func (a *recordingAdmin) Templates() []string {
	a.record(adminCall{Method: "Templates"})
	return []string{"ringcentral", "scim"}
}

func (a *recordingAdmin) CreateApp(ctx context.Context, tenantID string, in provision.NewApp) (*provision.AppView, error) {
	if err := a.record(adminCall{Method: "CreateApp", Tenant: tenantID, Arg: in}); err != nil {
		return nil, err
	}
	return cannedApp(in.Name), nil
}

func (a *recordingAdmin) App(ctx context.Context, tenantID, name string) (*provision.AppView, error) {
	if err := a.record(adminCall{Method: "App", Tenant: tenantID, App: name}); err != nil {
		return nil, err
	}
	return cannedApp(name), nil
}

func (a *recordingAdmin) Apps(ctx context.Context, tenantID string) ([]*provision.AppView, error) {
	if err := a.record(adminCall{Method: "Apps", Tenant: tenantID}); err != nil {
		return nil, err
	}
	return []*provision.AppView{cannedApp("hr"), cannedApp("ringcentral")}, nil
}

func (a *recordingAdmin) UpdateApp(ctx context.Context, tenantID, name string, ifVersion int64, ch provision.AppChange) (*provision.AppView, error) {
	if err := a.record(adminCall{Method: "UpdateApp", Tenant: tenantID, App: name, IfVersion: ifVersion, Arg: ch}); err != nil {
		return nil, err
	}
	return cannedApp(name), nil
}

func (a *recordingAdmin) DeleteApp(ctx context.Context, tenantID, name string) error {
	return a.record(adminCall{Method: "DeleteApp", Tenant: tenantID, App: name})
}

func (a *recordingAdmin) Assign(ctx context.Context, tenantID, app string, p provision.Principal, role string) (*provision.AssignmentView, error) {
	if err := a.record(adminCall{Method: "Assign", Tenant: tenantID, App: app, Arg: p, Role: role}); err != nil {
		return nil, err
	}
	v := cannedAssignment()
	return &v, nil
}

func (a *recordingAdmin) Unassign(ctx context.Context, tenantID, app string, p provision.Principal) error {
	return a.record(adminCall{Method: "Unassign", Tenant: tenantID, App: app, Arg: p})
}

func (a *recordingAdmin) Assignments(ctx context.Context, tenantID, app string) ([]provision.AssignmentView, error) {
	if err := a.record(adminCall{Method: "Assignments", Tenant: tenantID, App: app}); err != nil {
		return nil, err
	}
	return []provision.AssignmentView{cannedAssignment()}, nil
}

func (a *recordingAdmin) TestConnection(ctx context.Context, tenantID, app string) (*provision.TestResult, error) {
	if err := a.record(adminCall{Method: "TestConnection", Tenant: tenantID, App: app}); err != nil {
		return nil, err
	}
	return &provision.TestResult{Success: false, Code: "Unauthorized", Message: "GET /Users answered 401"}, nil
}

func cannedSchema(app string) *provision.TargetSchemaView {
	return &provision.TargetSchemaView{App: app, Attributes: []provision.TargetAttribute{
		{ResourceType: "Users", Path: "urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User:costCenter", Type: "string",
			Mutability: "readWrite", Source: provision.SourceDiscovered}}}
}

func (a *recordingAdmin) TargetSchema(ctx context.Context, tenantID, app string) (*provision.TargetSchemaView, error) {
	if err := a.record(adminCall{Method: "TargetSchema", Tenant: tenantID, App: app}); err != nil {
		return nil, err
	}
	return cannedSchema(app), nil
}

func (a *recordingAdmin) DiscoverSchema(ctx context.Context, tenantID, app string) (*provision.TargetSchemaView, error) {
	if err := a.record(adminCall{Method: "DiscoverSchema", Tenant: tenantID, App: app}); err != nil {
		return nil, err
	}
	return cannedSchema(app), nil
}

func (a *recordingAdmin) Start(ctx context.Context, tenantID, app string, force bool) error {
	return a.record(adminCall{Method: "Start", Tenant: tenantID, App: app, Flag: force})
}

func (a *recordingAdmin) Stop(ctx context.Context, tenantID, app string) error {
	return a.record(adminCall{Method: "Stop", Tenant: tenantID, App: app})
}

func (a *recordingAdmin) Restart(ctx context.Context, tenantID, app string, reset bool) error {
	return a.record(adminCall{Method: "Restart", Tenant: tenantID, App: app, Flag: reset})
}

func (a *recordingAdmin) Retry(ctx context.Context, tenantID, app string) error {
	return a.record(adminCall{Method: "Retry", Tenant: tenantID, App: app})
}

func (a *recordingAdmin) Failures(ctx context.Context, tenantID, app string, limit int) ([]provision.Failure, error) {
	if err := a.record(adminCall{Method: "Failures", Tenant: tenantID, App: app, Arg: limit}); err != nil {
		return nil, err
	}
	return cannedFailures(), nil
}

func (a *recordingAdmin) Status(ctx context.Context, tenantID, app string) (*provision.Status, error) {
	if err := a.record(adminCall{Method: "Status", Tenant: tenantID, App: app}); err != nil {
		return nil, err
	}
	return cannedStatus(app), nil
}

func (a *recordingAdmin) Logs(ctx context.Context, tenantID, app string, f provision.LogFilter) ([]provision.LogRecord, error) {
	if err := a.record(adminCall{Method: "Logs", Tenant: tenantID, App: app, Arg: f}); err != nil {
		return nil, err
	}
	return cannedLogs(), nil
}

func (a *recordingAdmin) ProvisionOnDemand(ctx context.Context, tenantID, app string, req provision.OnDemandRequest) (*provision.OnDemandResult, error) {
	if err := a.record(adminCall{Method: "ProvisionOnDemand", Tenant: tenantID, App: app, Arg: req}); err != nil {
		return nil, err
	}
	return cannedOnDemand(), nil
}

func (a *recordingAdmin) AllowDeletes(ctx context.Context, tenantID, app string) error {
	return a.record(adminCall{Method: "AllowDeletes", Tenant: tenantID, App: app})
}

func (a *recordingAdmin) RejectDeletes(ctx context.Context, tenantID, app string) error {
	return a.record(adminCall{Method: "RejectDeletes", Tenant: tenantID, App: app})
}

func (a *recordingAdmin) Plan(ctx context.Context, tenantID, app string) (*provision.Plan, error) {
	if err := a.record(adminCall{Method: "Plan", Tenant: tenantID, App: app}); err != nil {
		return nil, err
	}
	return cannedPlan(app), nil
}

func (a *recordingAdmin) PlanChange(ctx context.Context, tenantID, app string, ch provision.AppChange) (*provision.Plan, error) {
	if err := a.record(adminCall{Method: "PlanChange", Tenant: tenantID, App: app, Arg: ch}); err != nil {
		return nil, err
	}
	return cannedPlan(app), nil
}

// auditArgs are Audit's arguments, as an adminCall records them.
type auditArgs struct {
	Before string
	Limit  int
}

func (a *recordingAdmin) Audit(ctx context.Context, tenantID, app, before string, limit int) ([]provision.AuditEntry, error) {
	if err := a.record(adminCall{Method: "Audit", Tenant: tenantID, App: app, Arg: auditArgs{before, limit}}); err != nil {
		return nil, err
	}
	return cannedAudit(app), nil
}

func cannedPlan(app string) *provision.Plan {
	return &provision.Plan{App: app, ConfigVersion: 4,
		Creates: []provision.PlannedAction{{Source: provision.Identity{ID: "u-2", Type: "User", DisplayName: "bob"}, Target: provision.Identity{Type: "User"},
			Action: provision.ActionCreate, Reason: "created in the directory", Changes: []provision.ModifiedProperty{{Name: "userName", NewValue: "bob"}}}},
		Updates: []provision.PlannedAction{{Source: provision.Identity{ID: "u-1", Type: "User", DisplayName: "alice"}, Target: provision.Identity{ID: "t-1", Type: "User"},
			Action: provision.ActionUpdate, Reason: "differs in the target", Changes: []provision.ModifiedProperty{{Name: "title", OldValue: "a", NewValue: "b"}}}},
		Disables: []provision.PlannedAction{{Source: provision.Identity{ID: "u-3", Type: "User", DisplayName: "carol"}, Target: provision.Identity{ID: "t-3", Type: "User"},
			Action: provision.ActionDisable, Reason: "not assigned to the application"}},
		Deletes: []provision.PlannedAction{}, Failures: []provision.PlannedAction{}, Unchanged: 7, Skipped: 1, Staged: true, Limit: 1, Recent: 0}
}

func cannedAudit(app string) []provision.AuditEntry {
	return []provision.AuditEntry{{ID: "e-2", At: testTime, App: app, AppID: "0b0e8f8e-1c55-4b43-9a43-0c6b5e6f3c11", Actor: "alice", Action: "update",
		Details: &provision.AuditDetails{Changes: []provision.AuditChange{
			{Field: "scope", Old: json.RawMessage(`"assigned"`), New: json.RawMessage(`"all"`)},
			{Field: "secretToken", New: json.RawMessage(`"changed"`)}}}},
		{ID: "e-1", At: testTime.Add(-time.Hour), App: app, AppID: "0b0e8f8e-1c55-4b43-9a43-0c6b5e6f3c11", Actor: "alice", Action: "start",
			Details: &provision.AuditDetails{Force: true}}}
}

// syncBuffer is a log destination that tests read while the server writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// adminServer is a real Ferry server on a real database, with the admin API
// enabled over a recordingAdmin and its log captured.
type adminServer struct {
	*ferrytest.Server
	Admin *recordingAdmin
	Log   *syncBuffer
}

func newAdminTestServer(t testing.TB, enable bool) *adminServer {
	t.Helper()
	rec := &recordingAdmin{}
	as := startAdminServer(t, func(store.Store, *schema.Catalog) Admin {
		if enable {
			return rec
		}
		return nil
	})
	as.Admin = rec
	return as
}

// startAdminServer starts a real Ferry server on a real database (see
// openTestStore) with the admin API over what admin returns for its store,
// or without the admin API when it returns nil; setup, when given, is
// called on the server before it serves, with its log.
func startAdminServer(t testing.TB, admin func(store.Store, *schema.Catalog) Admin, setup ...func(*Server, *slog.Logger)) *adminServer {
	t.Helper()
	catalog := schema.Builtin()
	st := openTestStore(t, catalog)
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv := New(DefaultConfig(), st, catalog, log)
	if a := admin(st, catalog); a != nil {
		srv.EnableAdmin(a)
	}
	for _, fn := range setup {
		fn(srv, log)
	}
	return &adminServer{Server: ferrytest.Serve(t, st, srv.Handler()), Log: logs}
}

// token creates a tenant (if needed) and a token of scope for it.
func (as *adminServer) token(t testing.TB, tenant, scope string) string {
	t.Helper()
	return ferrytest.Token(t, as.Store, tenant, "test", scope)
}

// adminResponse is an admin API answer.
type adminResponse ferrytest.Response

// call sends a request to the server (path from its root) with token,
// and checks that any body is JSON of the right content type. Headers
// come in name, value pairs.
func (as *adminServer) call(t *testing.T, token, method, path, body string, headers ...string) adminResponse {
	t.Helper()
	out := adminResponse(ferrytest.Request(t, token, method, as.URL+path, "application/json", body, headers...))
	if len(out.Raw) > 0 && strings.HasPrefix(path, "/api/") {
		if ct := out.Header.Get("Content-Type"); ct != "application/json" {
			t.Fatalf("%s %s: Content-Type %q, want application/json; body %s", method, path, ct, out.Raw)
		}
		if !json.Valid([]byte(out.Raw)) {
			t.Fatalf("%s %s: body is not JSON: %s", method, path, out.Raw)
		}
	}
	return out
}

// wantError checks an admin API error body: exactly status, error, detail
// (containing detail), and scimType when one is expected.
func (r adminResponse) wantError(t *testing.T, status int, scimType, detail string) adminError {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d; body %s", r.Status, status, r.Raw)
	}
	var e adminError
	dec := json.NewDecoder(strings.NewReader(r.Raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		t.Fatalf("error body %s: %v", r.Raw, err)
	}
	if e.Status != status || e.Error == "" || e.Detail == "" || e.ScimType != scimType {
		t.Errorf("error body %s: want status %d, an error and a detail, scimType %q", r.Raw, status, scimType)
	}
	if !strings.Contains(e.Detail, detail) {
		t.Errorf("detail %q does not say %q", e.Detail, detail)
	}
	return e
}

// mustJSON encodes v as the server would, with its trailing newline.
func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b) + "\n"
}

func ptr[T any](v T) *T { return &v }

// TestAdminRoutes calls every route once with a valid request and checks
// the status, the headers, the exact body and the engine call it made.
func TestAdminRoutes(t *testing.T) {
	t.Parallel()
	as := newAdminTestServer(t, true)
	app := func(method string) adminCall { return adminCall{Method: method, Tenant: as.Tenant, App: "hr app/1"} }
	const name = "/api/v1/apps/hr%20app%2F1"
	tests := []struct {
		name        string
		method      string
		path        string
		body        string
		headers     []string
		wantStatus  int
		wantBody    any // encoded as the server must; nil for no body
		wantCall    adminCall
		wantHeaders map[string]string
	}{
		{
			name: "templates", method: "GET", path: "/api/v1/templates",
			wantStatus: 200, wantBody: []string{"ringcentral", "scim"}, wantCall: adminCall{Method: "Templates"},
		},
		{
			name: "list apps", method: "GET", path: "/api/v1/apps",
			wantStatus: 200, wantBody: []*provision.AppView{cannedApp("hr"), cannedApp("ringcentral")},
			wantCall: adminCall{Method: "Apps", Tenant: as.Tenant},
		},
		{
			name: "create app", method: "POST", path: "/api/v1/apps",
			body:       `{"name":"hr app/1","template":"ringcentral","tenantUrl":"https://platform.ringcentral.com/scim/v2","secretToken":"tok","scope":"all"}`,
			wantStatus: 201, wantBody: cannedApp("hr app/1"),
			wantCall: adminCall{Method: "CreateApp", Tenant: as.Tenant, Arg: provision.NewApp{
				Name: "hr app/1", Template: "ringcentral", TenantURL: "https://platform.ringcentral.com/scim/v2", SecretToken: "tok", Scope: "all"}},
			wantHeaders: map[string]string{"Location": name, "ETag": `"3"`},
		},
		{
			name: "create app with a configuration", method: "POST", path: "/api/v1/apps",
			body: `{"name":"hr app/1","template":"scim","tenantUrl":"https://t.example/scim","secretToken":"tok",
				"config":{"tenantUrl":"","scope":"assigned","fullCycleInterval":"1h","objects":[{"sourceType":"User","targetType":"Users","enabled":true,
				"actions":{"create":true,"update":true,"delete":false},"attributes":[{"type":"direct","source":"userName","target":"userName","match":true}],
				"scoping":[{"clauses":[{"attribute":"department","operator":"equals","value":"Sales"}]}]}]}}`,
			wantStatus: 201, wantBody: cannedApp("hr app/1"),
			wantCall: adminCall{Method: "CreateApp", Tenant: as.Tenant, Arg: provision.NewApp{
				Name: "hr app/1", Template: "scim", TenantURL: "https://t.example/scim", SecretToken: "tok",
				Config: &provision.Config{Scope: "assigned", FullCycleInterval: provision.Duration(time.Hour), Objects: []provision.ObjectMapping{{
					SourceType: "User", TargetType: "Users", Enabled: true, Actions: provision.Actions{Create: true, Update: true},
					Attributes: []provision.AttributeMapping{{Type: "direct", Source: "userName", Target: "userName", Match: true}},
					Scoping:    scoping.Set{{Clauses: []scoping.Clause{{Attribute: "department", Operator: "EQUALS", Value: "Sales"}}}},
				}}},
			}},
			wantHeaders: map[string]string{"Location": name},
		},
		{
			name: "get app", method: "GET", path: name,
			wantStatus: 200, wantBody: cannedApp("hr app/1"), wantCall: app("App"),
			wantHeaders: map[string]string{"ETag": `"3"`},
		},
		{
			name: "update app", method: "PATCH", path: name, body: `{"tenantUrl":"https://new.example/scim","secretToken":"new"}`,
			wantStatus: 200, wantBody: cannedApp("hr app/1"),
			wantCall: adminCall{Method: "UpdateApp", Tenant: as.Tenant, App: "hr app/1",
				Arg: provision.AppChange{TenantURL: ptr("https://new.example/scim"), SecretToken: ptr("new")}},
			wantHeaders: map[string]string{"ETag": `"3"`},
		},
		{
			name: "update app if at version", method: "PATCH", path: name, body: `{"scope":"all"}`, headers: []string{"If-Match", `"7"`},
			wantStatus: 200, wantBody: cannedApp("hr app/1"),
			wantCall: adminCall{Method: "UpdateApp", Tenant: as.Tenant, App: "hr app/1", IfVersion: 7, Arg: provision.AppChange{Scope: ptr("all")}},
		},
		{
			name: "delete app", method: "DELETE", path: name,
			wantStatus: 204, wantCall: app("DeleteApp"),
		},
		{
			name: "list assignments", method: "GET", path: name + "/assignments",
			wantStatus: 200, wantBody: []provision.AssignmentView{cannedAssignment()}, wantCall: app("Assignments"),
		},
		{
			name: "assign a user", method: "POST", path: name + "/assignments", body: `{"principal":{"type":"User","name":"alice@example.com"},"role":"User"}`,
			wantStatus: 200, wantBody: cannedAssignment(),
			wantCall: adminCall{Method: "Assign", Tenant: as.Tenant, App: "hr app/1", Arg: provision.Principal{Type: "User", Name: "alice@example.com"}, Role: "User"},
		},
		{
			name: "assign a group by id", method: "POST", path: name + "/assignments", body: `{"principal":{"type":"Group","id":"g-1"}}`,
			wantStatus: 200, wantBody: cannedAssignment(),
			wantCall: adminCall{Method: "Assign", Tenant: as.Tenant, App: "hr app/1", Arg: provision.Principal{Type: "Group", ID: "g-1"}},
		},
		{
			name: "unassign a user by name", method: "DELETE", path: name + "/assignments/User/alice%40example.com",
			wantStatus: 204, wantCall: adminCall{Method: "Unassign", Tenant: as.Tenant, App: "hr app/1", Arg: provision.Principal{Type: "User", Name: "alice@example.com"}},
		},
		{
			name: "unassign a group by id", method: "DELETE", path: name + "/assignments/groups/g-1?by=id",
			wantStatus: 204, wantCall: adminCall{Method: "Unassign", Tenant: as.Tenant, App: "hr app/1", Arg: provision.Principal{Type: "Group", ID: "g-1"}},
		},
		{
			name: "test connection that fails is still a 200", method: "POST", path: name + "/test-connection",
			wantStatus: 200, wantBody: provision.TestResult{Success: false, Code: "Unauthorized", Message: "GET /Users answered 401"},
			wantCall: app("TestConnection"),
		},
		{name: "target schema", method: "GET", path: name + "/schema", wantStatus: 200, wantBody: cannedSchema("hr app/1"), wantCall: app("TargetSchema")},
		{name: "discover the target schema", method: "POST", path: name + "/schema/discover", wantStatus: 200, wantBody: cannedSchema("hr app/1"), wantCall: app("DiscoverSchema")},
		{name: "start", method: "POST", path: name + "/start", wantStatus: 204, wantCall: app("Start")},
		{name: "start with force", method: "POST", path: name + "/start?force=true", wantStatus: 204, wantCall: adminCall{Method: "Start", Tenant: as.Tenant, App: "hr app/1", Flag: true}},
		{name: "start with force=false", method: "POST", path: name + "/start?force=false", wantStatus: 204, wantCall: app("Start")},
		{name: "stop", method: "POST", path: name + "/stop", wantStatus: 204, wantCall: app("Stop")},
		{name: "restart", method: "POST", path: name + "/restart", wantStatus: 204, wantCall: app("Restart")},
		{name: "restart with reset", method: "POST", path: name + "/restart?reset=true", wantStatus: 204, wantCall: adminCall{Method: "Restart", Tenant: as.Tenant, App: "hr app/1", Flag: true}},
		{name: "retry", method: "POST", path: name + "/retry", wantStatus: 204, wantCall: app("Retry")},
		{
			name: "status", method: "GET", path: name + "/status",
			wantStatus: 200, wantBody: cannedStatus("hr app/1"), wantCall: app("Status"),
		},
		{
			name: "failures", method: "GET", path: name + "/failures",
			wantStatus: 200, wantBody: cannedFailures(), wantCall: adminCall{Method: "Failures", Tenant: as.Tenant, App: "hr app/1", Arg: 0},
		},
		{
			name: "failures with a limit", method: "GET", path: name + "/failures?limit=7",
			wantStatus: 200, wantBody: cannedFailures(), wantCall: adminCall{Method: "Failures", Tenant: as.Tenant, App: "hr app/1", Arg: 7},
		},
		{
			name: "logs", method: "GET", path: name + "/logs",
			wantStatus: 200, wantBody: cannedLogs(),
			wantCall: adminCall{Method: "Logs", Tenant: as.Tenant, App: "hr app/1", Arg: provision.LogFilter{}},
		},
		{name: "allow deletes", method: "POST", path: name + "/allow-deletes", wantStatus: 204, wantCall: app("AllowDeletes")},
		{name: "reject deletes", method: "POST", path: name + "/reject-deletes", wantStatus: 204, wantCall: app("RejectDeletes")},
		{
			name: "plan", method: "POST", path: name + "/plan",
			wantStatus: 200, wantBody: cannedPlan("hr app/1"), wantCall: app("Plan"),
		},
		{
			name: "plan of a change", method: "POST", path: name + "/plan", body: `{"scope":"assigned","config":{"scope":"all","accidentalDeletions":{"count":10,"percent":5,"window":"2h"},"objects":[]}}`,
			wantStatus: 200, wantBody: cannedPlan("hr app/1"),
			wantCall: adminCall{Method: "PlanChange", Tenant: as.Tenant, App: "hr app/1", Arg: provision.AppChange{Scope: ptr("assigned"), Config: &provision.Config{
				Scope: "all", AccidentalDeletions: provision.DeletionThreshold{Count: 10, Percent: 5, Window: provision.Duration(2 * time.Hour)},
				Objects: []provision.ObjectMapping{}}}},
		},
		{
			name: "plan with a blank body", method: "POST", path: name + "/plan", body: " \n",
			wantStatus: 200, wantBody: cannedPlan("hr app/1"), wantCall: app("Plan"),
		},
		{
			name: "audit", method: "GET", path: name + "/audit",
			wantStatus: 200, wantBody: cannedAudit("hr app/1"), wantCall: adminCall{Method: "Audit", Tenant: as.Tenant, App: "hr app/1", Arg: auditArgs{}},
		},
		{
			name: "audit page", method: "GET", path: name + "/audit?before=e-9&limit=5",
			wantStatus: 200, wantBody: cannedAudit("hr app/1"), wantCall: adminCall{Method: "Audit", Tenant: as.Tenant, App: "hr app/1", Arg: auditArgs{"e-9", 5}},
		},
		{
			name: "provision on demand", method: "POST", path: name + "/provision", body: `{"group":"Sales","members":["alice","bob"]}`,
			wantStatus: 200, wantBody: cannedOnDemand(),
			wantCall: adminCall{Method: "ProvisionOnDemand", Tenant: as.Tenant, App: "hr app/1", Arg: provision.OnDemandRequest{Group: "Sales", Members: []string{"alice", "bob"}}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			as.Admin.take()
			resp := as.call(t, as.AdminToken, tc.method, tc.path, tc.body, tc.headers...)
			if resp.Status != tc.wantStatus {
				t.Fatalf("status %d, want %d; body %s", resp.Status, tc.wantStatus, resp.Raw)
			}
			want := ""
			if tc.wantBody != nil {
				want = mustJSON(t, tc.wantBody)
			}
			if resp.Raw != want {
				t.Errorf("body\n%s\nwant\n%s", resp.Raw, want)
			}
			for k, v := range tc.wantHeaders {
				if got := resp.Header.Get(k); got != v {
					t.Errorf("%s: %q, want %q", k, got, v)
				}
			}
			if got := resp.Header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control %q, want no-store", got)
			}
			calls := as.Admin.take()
			if len(calls) != 1 || !reflect.DeepEqual(calls[0], tc.wantCall) {
				t.Errorf("engine calls %+v\nwant [%+v]", calls, tc.wantCall)
			}
		})
	}
}

// TestAdminEmptyLists checks that an engine's nil list is [] on the wire.
func TestAdminEmptyLists(t *testing.T) {
	t.Parallel()
	as := newAdminTestServer(t, true)
	srv := New(DefaultConfig(), as.Store, schema.Builtin(), slog.New(slog.DiscardHandler))
	srv.EnableAdmin(emptyAdmin{as.Admin})
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	as.URL = hs.URL
	for _, path := range []string{"/api/v1/apps", "/api/v1/apps/x/assignments", "/api/v1/apps/x/logs", "/api/v1/apps/x/failures", "/api/v1/apps/x/audit", "/api/v1/templates"} {
		resp := as.call(t, as.AdminToken, "GET", path, "")
		if resp.Status != 200 || resp.Raw != "[]\n" {
			t.Errorf("GET %s: %d %s, want 200 []", path, resp.Status, resp.Raw)
		}
	}
}

// emptyAdmin answers every list with nil.
type emptyAdmin struct{ *recordingAdmin }

func (emptyAdmin) Templates() []string { return nil }
func (emptyAdmin) Apps(context.Context, string) ([]*provision.AppView, error) {
	return nil, nil
}
func (emptyAdmin) Assignments(context.Context, string, string) ([]provision.AssignmentView, error) {
	return nil, nil
}
func (emptyAdmin) Logs(context.Context, string, string, provision.LogFilter) ([]provision.LogRecord, error) {
	return nil, nil
}
func (emptyAdmin) Failures(context.Context, string, string, int) ([]provision.Failure, error) {
	return nil, nil
}
func (emptyAdmin) Audit(context.Context, string, string, string, int) ([]provision.AuditEntry, error) {
	return nil, nil
}

// TestAdminEngineErrors checks how the engine's errors reach the client:
// its *scim.Error 4xx as they are, anything else as a 500 that names a
// request id which the log holds with the cause.
func TestAdminEngineErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		err        error
		wantStatus int
		scimType   string
		detail     string
	}{
		{"invalid value", scim.BadRequest(scim.InvalidValue, "template %q does not exist", "nope"), 400, "invalidValue", `template "nope" does not exist`},
		{"not found", scim.Errorf(404, "", "application %q not found", "hr"), 404, "", `application "hr" not found`},
		{"conflict", scim.Errorf(409, scim.Uniqueness, "application %q exists", "hr"), 409, "uniqueness", `application "hr" exists`},
		{"precondition failed", scim.Errorf(412, "", "application %q is at version 4", "hr"), 412, "", "version 4"},
		{"wrapped", fmt.Errorf("create app: %w", scim.Errorf(409, scim.Uniqueness, "taken")), 409, "uniqueness", "taken"},
		{"internal", errors.New("sqlite: database is locked at /var/lib/ferry.db"), 500, "", "internal error (request id "},
		{"5xx scim error is internal", scim.Errorf(503, "", "pool exhausted at 10.0.0.7"), 500, "", "internal error (request id "},
		{"deadline", fmt.Errorf("read apps: %w", context.DeadlineExceeded), 503, "", "took too long"},
	}
	as := newAdminTestServer(t, true)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			as.Admin.fail("App", tc.err)
			resp := as.call(t, as.AdminToken, "GET", "/api/v1/apps/hr", "")
			e := resp.wantError(t, tc.wantStatus, tc.scimType, tc.detail)
			if tc.wantStatus != 500 {
				if e.RequestID != "" {
					t.Errorf("a client error has a request id: %s", resp.Raw)
				}
				return
			}
			if e.Error != "internal error" || e.Detail != "internal error (request id "+e.RequestID+")" || len(e.RequestID) < 16 {
				t.Errorf("500 body %s: want only \"internal error\" and the request id", resp.Raw)
			}
			logs := as.Log.String()
			var line string
			for l := range strings.Lines(logs) {
				if strings.Contains(l, "request_id="+e.RequestID) {
					line = l
				}
			}
			if !strings.Contains(line, tc.err.Error()) || !strings.Contains(line, "path=/api/v1/apps/hr") {
				t.Errorf("no log line with request id %s, the cause and the path:\n%s", e.RequestID, logs)
			}
		})
	}
}

// TestAdminAuth checks that each API takes only its own tokens, both ways,
// through the token cache as well, and that the token decides the tenant.
func TestAdminAuth(t *testing.T) {
	t.Parallel()
	as := newAdminTestServer(t, true)
	otherAdmin := as.token(t, "other", store.ScopeAdmin)
	for round := range 2 { // the second round is answered from the token cache
		t.Run(fmt.Sprintf("round %d", round+1), func(t *testing.T) {
			as.call(t, "", "GET", "/api/v1/apps", "").wantError(t, 401, "", "bearer token is required")
			resp := as.call(t, "not-a-token", "GET", "/api/v1/apps", "")
			resp.wantError(t, 401, "", "not valid")
			if got := resp.Header.Get("WWW-Authenticate"); !strings.Contains(got, "invalid_token") {
				t.Errorf("WWW-Authenticate %q", got)
			}
			as.call(t, as.SCIMToken, "GET", "/api/v1/apps", "").wantError(t, 403, "", "--scope admin")
			as.call(t, as.SCIMToken, "POST", "/api/v1/apps", `{"name":"x"}`).wantError(t, 403, "", "not an admin API token")

			// An admin token is refused by the SCIM API, with a SCIM error.
			scimResp := as.call(t, as.AdminToken, "GET", "/scim/v2/Users", "")
			if scimResp.Status != 403 || !strings.Contains(scimResp.Raw, "urn:ietf:params:scim:api:messages:2.0:Error") || !strings.Contains(scimResp.Raw, "--scope scim") {
				t.Errorf("admin token on /scim/v2: %d %s", scimResp.Status, scimResp.Raw)
			}
			if r := as.call(t, as.AdminToken, "POST", "/scim/v2/Users", `{"userName":"mallory"}`); r.Status != 403 {
				t.Errorf("admin token created a user: %d %s", r.Status, r.Raw)
			}
			if r := as.call(t, as.SCIMToken, "GET", "/scim/v2/Users", ""); r.Status != 200 {
				t.Errorf("SCIM token on /scim/v2: %d %s", r.Status, r.Raw)
			}

			as.Admin.take()
			if r := as.call(t, as.AdminToken, "GET", "/api/v1/apps", ""); r.Status != 200 {
				t.Fatalf("admin token: %d %s", r.Status, r.Raw)
			}
			if r := as.call(t, otherAdmin, "GET", "/api/v1/apps", ""); r.Status != 200 {
				t.Fatalf("other tenant's admin token: %d %s", r.Status, r.Raw)
			}
			calls := as.Admin.take()
			if len(calls) != 2 || calls[0].Tenant != as.Tenant || calls[1].Tenant == as.Tenant || calls[1].Tenant == "" {
				t.Errorf("calls %+v: want the default tenant, then the other one", calls)
			}
		})
	}
	if calls := as.Admin.take(); len(calls) != 0 {
		t.Errorf("refused requests reached the engine: %+v", calls)
	}
}

// TestAdminNotEnabled checks /api/v1 on a server without EnableAdmin.
func TestAdminNotEnabled(t *testing.T) {
	t.Parallel()
	as := newAdminTestServer(t, false)
	for _, path := range []string{"/api/v1", "/api/v1/", "/api/v1/apps", "/api/v1/apps/x/status"} {
		as.call(t, as.AdminToken, "GET", path, "").wantError(t, 404, "", "admin API is not enabled")
	}
}

// TestAdminRouting checks unknown paths, wrong methods and odd names.
func TestAdminRouting(t *testing.T) {
	t.Parallel()
	as := newAdminTestServer(t, true)
	tests := []struct {
		method, path string
		status       int
		allow        string
	}{
		{"GET", "/api/v1", 404, ""},
		{"GET", "/api/v1/", 404, ""},
		{"GET", "/api/v1/nothing", 404, ""},
		{"GET", "/api/v1/apps/", 404, ""},
		{"GET", "/api/v1/apps/hr/", 404, ""},
		{"GET", "/api/v1/apps/hr/jobs", 404, ""},
		{"GET", "/api/v1/apps/hr/assignments/User", 404, ""},
		{"GET", "/api/v1/apps/hr/assignments/User/a/b", 404, ""},
		{"PUT", "/api/v1/apps", 405, "GET, POST"},
		{"DELETE", "/api/v1/templates", 405, "GET"},
		{"PUT", "/api/v1/apps/hr", 405, "GET, PATCH, DELETE"},
		{"POST", "/api/v1/apps/hr", 405, "GET, PATCH, DELETE"},
		{"GET", "/api/v1/apps/hr/start", 405, "POST"},
		{"GET", "/api/v1/apps/hr/test-connection", 405, "POST"},
		{"POST", "/api/v1/apps/hr/logs", 405, "GET"},
		{"GET", "/api/v1/apps/hr/assignments/User/alice", 405, "DELETE"},
		{"PATCH", "/api/v1/apps/hr/assignments", 405, "GET, POST"},
		{"GET", "/api/v1/apps/hr/plan", 405, "POST"},
		{"GET", "/api/v1/apps/hr/allow-deletes", 405, "POST"},
		{"DELETE", "/api/v1/apps/hr/reject-deletes", 405, "POST"},
		{"POST", "/api/v1/apps/hr/audit", 405, "GET"},
		{"GET", "/api/v1/apps/hr/audit/e-1", 404, ""},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			resp := as.call(t, as.AdminToken, tc.method, tc.path, "")
			resp.wantError(t, tc.status, "", "")
			if got := resp.Header.Get("Allow"); got != tc.allow {
				t.Errorf("Allow %q, want %q", got, tc.allow)
			}
		})
	}
	if calls := as.Admin.take(); len(calls) != 0 {
		t.Errorf("unrouted requests reached the engine: %+v", calls)
	}
}

// TestAdminBodies checks the request body rules: JSON only, no unknown
// fields, a size limit, and errors that say where the body went wrong.
func TestAdminBodies(t *testing.T) {
	t.Parallel()
	as := newAdminTestServer(t, true)
	big := `{"name":"` + strings.Repeat("x", int(DefaultConfig().MaxBodyBytes)) + `"}`
	tests := []struct {
		name        string
		method      string
		path        string
		body        string
		contentType string
		status      int
		scimType    string
		detail      string
	}{
		{"unknown field", "POST", "/api/v1/apps", `{"name":"hr","secretTokn":"x"}`, "", 400, "invalidValue", `unknown field "secretTokn"`},
		{"unknown nested field", "PATCH", "/api/v1/apps/hr", `{"config":{"objects":[{"sourceType":"User","mapping":[]}]}}`, "", 400, "invalidValue", `unknown field "mapping"`},
		{"malformed", "POST", "/api/v1/apps", `{"name":"hr",}`, "", 400, "invalidSyntax", "byte offset 14"},
		{"truncated", "POST", "/api/v1/apps", `{"name":"hr"`, "", 400, "invalidSyntax", "byte offset 12"},
		{"wrong type", "POST", "/api/v1/apps", `{"name":"hr","template":7}`, "", 400, "invalidValue", "template must be a string, not number"},
		{"wrong nested type", "POST", "/api/v1/apps/hr/assignments", `{"principal":"alice"}`, "", 400, "invalidValue", "principal must be an object"},
		{"bad duration", "PATCH", "/api/v1/apps/hr", `{"config":{"fullCycleInterval":"soon"}}`, "", 400, "invalidValue", "soon"},
		{"bad operator", "PATCH", "/api/v1/apps/hr", `{"config":{"objects":[{"scoping":[{"clauses":[{"attribute":"a","operator":7}]}]}]}}`, "", 400, "invalidValue", "scoping operator"},
		{"two objects", "POST", "/api/v1/apps/hr/provision", `{"user":"a"} {"user":"b"}`, "", 400, "invalidSyntax", "more data after the JSON object"},
		{"an array", "POST", "/api/v1/apps/hr/provision", `[{"user":"a"}]`, "", 400, "invalidValue", "must be an object, not array"},
		{"empty", "POST", "/api/v1/apps", "", "", 400, "invalidSyntax", "body is empty"},
		{"too large", "POST", "/api/v1/apps", big, "", 413, "", "larger than"},
		{"not JSON", "POST", "/api/v1/apps", `name=hr`, "application/x-www-form-urlencoded", 415, "", "application/json"},
		{"plan of an unknown field", "POST", "/api/v1/apps/hr/plan", `{"scop":"all"}`, "", 400, "invalidValue", `unknown field "scop"`},
		{"plan of a malformed change", "POST", "/api/v1/apps/hr/plan", `{"scope":`, "", 400, "invalidSyntax", "byte offset"},
		{"plan of a form", "POST", "/api/v1/apps/hr/plan", `scope=all`, "application/x-www-form-urlencoded", 415, "", "application/json"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var headers []string
			if tc.contentType != "" {
				headers = []string{"Content-Type", tc.contentType}
			}
			as.call(t, as.AdminToken, tc.method, tc.path, tc.body, headers...).wantError(t, tc.status, tc.scimType, tc.detail)
		})
	}
	if calls := as.Admin.take(); len(calls) != 0 {
		t.Errorf("refused bodies reached the engine: %+v", calls)
	}
}

// TestAdminIfMatch checks how If-Match becomes UpdateApp's ifVersion.
func TestAdminIfMatch(t *testing.T) {
	t.Parallel()
	as := newAdminTestServer(t, true)
	tests := []struct {
		ifMatch string
		want    int64
		bad     bool
	}{
		{"", 0, false},
		{"*", 0, false},
		{`"12"`, 12, false},
		{`W/"12"`, 12, false},
		{`12`, 12, false},
		{`"twelve"`, 0, true},
		{`"0"`, 0, true},
		{`"-1"`, 0, true},
		{`"1", "2"`, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.ifMatch, func(t *testing.T) {
			var headers []string
			if tc.ifMatch != "" {
				headers = []string{"If-Match", tc.ifMatch}
			}
			resp := as.call(t, as.AdminToken, "PATCH", "/api/v1/apps/hr", `{"name":"hr2"}`, headers...)
			calls := as.Admin.take()
			if tc.bad {
				resp.wantError(t, 400, "invalidValue", "If-Match")
				if len(calls) != 0 {
					t.Errorf("engine called: %+v", calls)
				}
				return
			}
			if resp.Status != 200 || len(calls) != 1 || calls[0].IfVersion != tc.want {
				t.Errorf("%d %s, calls %+v: want ifVersion %d", resp.Status, resp.Raw, calls, tc.want)
			}
		})
	}
}

// TestAdminLogsQuery checks the query of GET /apps/{name}/logs.
func TestAdminLogsQuery(t *testing.T) {
	t.Parallel()
	as := newAdminTestServer(t, true)
	since := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		query  string
		want   provision.LogFilter
		detail string // a 400 saying this, when set
	}{
		{query: "", want: provision.LogFilter{}},
		{query: "user=alice%40example.com&action=create&status=failure&limit=50&before=l-9",
			want: provision.LogFilter{User: "alice@example.com", Action: "create", Status: "failure", Limit: 50, Before: "l-9"}},
		{query: "since=2026-11-01T00:00:00Z&until=2026-11-02T01:00:00.5%2B01:00",
			want: provision.LogFilter{Since: since, Until: time.Date(2026, 11, 2, 1, 0, 0, 5e8, time.FixedZone("", 3600))}},
		{query: "since=2026-11-01", detail: "since=2026-11-01: want an RFC 3339 time"},
		{query: "until=yesterday", detail: "until=yesterday"},
		{query: "since=2026-11-02T00:00:00Z&until=2026-11-01T00:00:00Z", detail: "before since"},
		{query: "limit=0", detail: "limit=0: want a positive integer"},
		{query: "limit=-3", detail: "limit=-3"},
		{query: "limit=ten", detail: "limit=ten"},
		{query: "users=alice", detail: `unknown query parameter "users"`},
		{query: "status=failure&status=success", detail: `"status" is given 2 times`},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			resp := as.call(t, as.AdminToken, "GET", "/api/v1/apps/hr/logs?"+tc.query, "")
			calls := as.Admin.take()
			if tc.detail != "" {
				resp.wantError(t, 400, "invalidValue", tc.detail)
				if len(calls) != 0 {
					t.Errorf("engine called: %+v", calls)
				}
				return
			}
			if resp.Status != 200 || len(calls) != 1 {
				t.Fatalf("%d %s, calls %+v", resp.Status, resp.Raw, calls)
			}
			got := calls[0].Arg.(provision.LogFilter)
			if !got.Since.Equal(tc.want.Since) || !got.Until.Equal(tc.want.Until) {
				t.Errorf("since %v until %v, want %v %v", got.Since, got.Until, tc.want.Since, tc.want.Until)
			}
			got.Since, got.Until, tc.want.Since, tc.want.Until = time.Time{}, time.Time{}, time.Time{}, time.Time{}
			if got != tc.want {
				t.Errorf("filter %+v, want %+v", got, tc.want)
			}
		})
	}
}

// TestAdminUnassignPaths checks the principal segments of DELETE
// .../assignments/{type}/{principal}.
func TestAdminUnassignPaths(t *testing.T) {
	t.Parallel()
	as := newAdminTestServer(t, true)
	for _, tc := range []struct {
		path   string
		want   provision.Principal
		detail string
	}{
		{path: "User/alice", want: provision.Principal{Type: "User", Name: "alice"}},
		{path: "users/alice?by=name", want: provision.Principal{Type: "User", Name: "alice"}},
		{path: "GROUP/Sales%20EMEA", want: provision.Principal{Type: "Group", Name: "Sales EMEA"}},
		{path: "Group/1f0c?by=id", want: provision.Principal{Type: "Group", ID: "1f0c"}},
		{path: "Device/d-1", detail: `principal type "Device": want User or Group`},
		{path: "User/alice?by=email", detail: "by=email: want name or id"},
		{path: "User/alice?force=1", detail: `unknown query parameter "force"`},
	} {
		t.Run(tc.path, func(t *testing.T) {
			resp := as.call(t, as.AdminToken, "DELETE", "/api/v1/apps/hr/assignments/"+tc.path, "")
			calls := as.Admin.take()
			if tc.detail != "" {
				resp.wantError(t, 400, "invalidValue", tc.detail)
				return
			}
			if resp.Status != 204 || len(calls) != 1 || calls[0].Arg != tc.want {
				t.Errorf("%d %s, calls %+v: want Unassign of %+v", resp.Status, resp.Raw, calls, tc.want)
			}
		})
	}
}

// TestAdminSecretsNeverLogged sends secret tokens through every path that
// logs (a success, a refused body, an engine failure, a panic) and greps
// the captured log for them and for the bearer token.
func TestAdminSecretsNeverLogged(t *testing.T) {
	t.Parallel()
	as := newAdminTestServer(t, true)
	const secret = "s3cret-target-token-Zq81"
	create := `{"name":"hr","template":"scim","tenantUrl":"https://t.example/scim","secretToken":"` + secret + `"}`
	patch := `{"secretToken":"` + secret + `"}`
	if r := as.call(t, as.AdminToken, "POST", "/api/v1/apps", create); r.Status != 201 {
		t.Fatalf("create: %d %s", r.Status, r.Raw)
	}
	if r := as.call(t, as.AdminToken, "PATCH", "/api/v1/apps/hr", patch); r.Status != 200 {
		t.Fatalf("patch: %d %s", r.Status, r.Raw)
	}
	as.call(t, as.AdminToken, "POST", "/api/v1/apps", `{"secretToken":"`+secret+`","bogus":1}`).wantError(t, 400, "invalidValue", "bogus")
	as.call(t, as.AdminToken, "POST", "/api/v1/apps", `{"secretToken":"`+secret+`"`).wantError(t, 400, "invalidSyntax", "")
	as.Admin.fail("CreateApp", errors.New("seal the secret token: key file missing"))
	as.Admin.fail("UpdateApp", errors.New("write app: disk full"))
	as.call(t, as.AdminToken, "POST", "/api/v1/apps", create).wantError(t, 500, "", "internal error")
	as.call(t, as.AdminToken, "PATCH", "/api/v1/apps/hr", patch).wantError(t, 500, "", "internal error")
	as.call(t, as.SCIMToken, "POST", "/api/v1/apps", create).wantError(t, 403, "", "")

	logs := as.Log.String()
	if !strings.Contains(logs, "key file missing") {
		t.Fatalf("the log lacks the failures, so the test proves nothing:\n%s", logs)
	}
	for _, s := range []string{secret, as.AdminToken, as.SCIMToken} {
		if strings.Contains(logs, s) {
			t.Errorf("the log holds a secret %q:\n%s", s, logs)
		}
	}
}

// TestAdminPanic checks that an engine panic is a 500 with a request id,
// in the admin API's error shape.
func TestAdminPanic(t *testing.T) {
	t.Parallel()
	as := newAdminTestServer(t, true)
	catalog := schema.Builtin()
	srv := New(DefaultConfig(), as.Store, catalog, slog.New(slog.NewTextHandler(as.Log, nil)))
	srv.EnableAdmin(panickyAdmin{as.Admin})
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	as.URL = hs.URL
	e := as.call(t, as.AdminToken, "GET", "/api/v1/apps/hr/status", "").wantError(t, 500, "", "internal error")
	if e.RequestID == "" || !strings.Contains(as.Log.String(), "request_id="+e.RequestID) {
		t.Errorf("the panic's log line lacks request id %q:\n%s", e.RequestID, as.Log.String())
	}
}

type panickyAdmin struct{ *recordingAdmin }

func (panickyAdmin) Status(context.Context, string, string) (*provision.Status, error) {
	panic("nil map")
}

// TestAdminSegments checks the path splitting that routing rests on,
// including what no HTTP client sends.
func TestAdminSegments(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		path string
		want []string // nil: no route
	}{
		{"/api/v1/apps", []string{"apps"}},
		{"/api/v1/apps/a%2Fb%20c", []string{"apps", "a/b c"}},
		{"/api/v1/apps/%E2%9C%93", []string{"apps", "✓"}},
		{"/api/v1", nil},
		{"/api/v1/", nil},
		{"/api/v1apps", nil},
		{"/api/v1/apps/", nil},
		{"/api/v1//apps", nil},
		{"/api/v1/apps/%zz", nil},
		{"/scim/v2/Users", nil},
	} {
		got, ok := adminSegments(tc.path)
		if ok != (tc.want != nil) || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("adminSegments(%q) = %q, %v; want %q", tc.path, got, ok, tc.want)
		}
	}
}

// The engine's Service is what ferry serve plugs in.
var _ Admin = (*provision.Service)(nil)

// TestAdminJobQueries checks the query parameters of the job routes: the
// flags start and restart take, failures' limit, and that every other
// parameter (a misspelt flag, one on a route that takes none) is a 400
// that never reaches the engine.
func TestAdminJobQueries(t *testing.T) {
	t.Parallel()
	as := newAdminTestServer(t, true)
	tests := []struct {
		method, path string
		detail       string // the 400's detail, or "" for a success
		want         adminCall
	}{
		{method: "POST", path: "/start?force=true", want: adminCall{Method: "Start", App: "hr", Flag: true}},
		{method: "POST", path: "/start?force=false", want: adminCall{Method: "Start", App: "hr"}},
		{method: "POST", path: "/restart?reset=true", want: adminCall{Method: "Restart", App: "hr", Flag: true}},
		{method: "GET", path: "/failures?limit=1000", want: adminCall{Method: "Failures", App: "hr", Arg: 1000}},
		{method: "POST", path: "/start?force=yes", detail: "force=yes: want true or false"},
		{method: "POST", path: "/start?force", detail: "force=: want true or false"},
		{method: "POST", path: "/start?forse=true", detail: `unknown query parameter "forse"; this endpoint takes force`},
		{method: "POST", path: "/start?force=true&force=true", detail: `query parameter "force" is given 2 times`},
		{method: "POST", path: "/restart?reset=1", detail: "reset=1: want true or false"},
		{method: "POST", path: "/restart?force=true", detail: `unknown query parameter "force"; this endpoint takes reset`},
		{method: "POST", path: "/stop?force=true", detail: `unknown query parameter "force"; this endpoint takes none`},
		{method: "POST", path: "/retry?all=true", detail: `unknown query parameter "all"; this endpoint takes none`},
		{method: "GET", path: "/status?watch=1", detail: `unknown query parameter "watch"; this endpoint takes none`},
		{method: "GET", path: "/failures?limit=0", detail: "limit=0: want a positive integer (at most 1000)"},
		{method: "GET", path: "/failures?limit=many", detail: "limit=many: want a positive integer"},
		{method: "GET", path: "/failures?count=5", detail: `unknown query parameter "count"; this endpoint takes limit`},
		{method: "GET", path: "/audit?limit=0", detail: "limit=0: want a positive integer"},
		{method: "GET", path: "/audit?user=alice", detail: `unknown query parameter "user"; this endpoint takes before, limit`},
		{method: "POST", path: "/plan?dry=true", detail: `unknown query parameter "dry"; this endpoint takes none`},
		{method: "POST", path: "/allow-deletes?all=true", detail: `unknown query parameter "all"; this endpoint takes none`},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			resp := as.call(t, as.AdminToken, tc.method, "/api/v1/apps/hr"+tc.path, "")
			calls := as.Admin.take()
			if tc.detail != "" {
				resp.wantError(t, 400, "invalidValue", tc.detail)
				if len(calls) != 0 {
					t.Errorf("a refused query reached the engine: %+v", calls)
				}
				return
			}
			tc.want.Tenant = as.Tenant
			if resp.Status/100 != 2 || len(calls) != 1 || !reflect.DeepEqual(calls[0], tc.want) {
				t.Errorf("%d %s, calls %+v: want %+v", resp.Status, resp.Raw, calls, tc.want)
			}
		})
	}
}

// TestAdminVersionMismatchNamesTheApp checks that a 412 names the
// application by its name and gives its version, not the store's id.
func TestAdminVersionMismatchNamesTheApp(t *testing.T) {
	t.Parallel()
	as := newAdminTestServer(t, true)
	as.Admin.fail("UpdateApp", scim.Errorf(412, "", "application %q is at version 3, not 2", cannedApp("hr").ID))
	e := as.call(t, as.AdminToken, "PATCH", "/api/v1/apps/hr", `{"scope":"all"}`, "If-Match", `"2"`).
		wantError(t, 412, "", `application "hr" is at version 3, not 2`)
	if strings.Contains(e.Detail, cannedApp("hr").ID) {
		t.Errorf("the 412 names the application by its id: %s", e.Detail)
	}
}

// newEngineTarget is an application the engine provisions into: a real
// Ferry SCIM server on its own database.
func newEngineTarget(t *testing.T) *ferrytest.Target {
	t.Helper()
	catalog := schema.Builtin()
	st := openTestStore(t, catalog)
	return ferrytest.NewTarget(t, st, New(DefaultConfig(), st, catalog, slog.New(slog.DiscardHandler)).Handler())
}

// newEngineAdminServer is a real Ferry server whose admin API runs the
// real engine on the server's database (see ferrytest.Engine).
func newEngineAdminServer(t *testing.T) (*adminServer, *provision.Service) {
	t.Helper()
	var m *provision.Service
	as := startAdminServer(t, func(st store.Store, catalog *schema.Catalog) Admin {
		m = ferrytest.Engine(t, st, catalog)
		return m
	})
	return as, m
}

// engineStatus reads an application's status through the admin API.
func engineStatus(t *testing.T, as *adminServer, path string) provision.Status {
	t.Helper()
	resp := as.call(t, as.AdminToken, "GET", path+"/status", "")
	var st provision.Status
	if resp.Status != 200 || json.Unmarshal([]byte(resp.Raw), &st) != nil {
		t.Fatalf("status: %d %s", resp.Status, resp.Raw)
	}
	return st
}

// TestAdminJobControl drives the real engine through the job routes:
// start refused by a failing Test Connection and accepted with force, the
// failures in escrow, retry, restart and restart with reset, and the logs'
// filter validation.
func TestAdminJobControl(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	as, m := newEngineAdminServer(t)
	tg := newEngineTarget(t)
	const app = "HR app"
	path := "/api/v1/apps/HR%20app"
	for _, u := range []string{"ann@example.com", "refused@example.com"} {
		if r := as.call(t, as.SCIMToken, "POST", "/scim/v2/Users", `{"userName":"`+u+`","active":true}`); r.Status != 201 {
			t.Fatalf("create %s in the directory: %d %s", u, r.Status, r.Raw)
		}
	}
	create := fmt.Sprintf(`{"name":%q,"template":"scim","tenantUrl":%q,"secretToken":"not-the-token","scope":"all"}`, app, tg.URL)
	if r := as.call(t, as.AdminToken, "POST", "/api/v1/apps", create); r.Status != 201 {
		t.Fatalf("create the application: %d %s", r.Status, r.Raw)
	}
	var created provision.AppView
	json.Unmarshal([]byte(as.call(t, as.AdminToken, "GET", path, "").Raw), &created)

	// A wrong Secret Token: start is refused, and says why, naming the
	// application by its name.
	e := as.call(t, as.AdminToken, "POST", path+"/start", "").wantError(t, 409, "", "Test Connection failed")
	for _, want := range []string{app, "force"} {
		if !strings.Contains(e.Detail, want) {
			t.Errorf("the refusal %q does not say %q", e.Detail, want)
		}
	}
	if strings.Contains(e.Detail, created.ID) {
		t.Errorf("the refusal names the application by its id: %s", e.Detail)
	}
	if st := engineStatus(t, as, path); st.Enabled || st.State != "off" {
		t.Fatalf("a refused start turned provisioning On: %+v", st)
	}
	// force starts it without the test.
	if r := as.call(t, as.AdminToken, "POST", path+"/start?force=true", ""); r.Status != 204 {
		t.Fatalf("start?force=true: %d %s", r.Status, r.Raw)
	}
	if st := engineStatus(t, as, path); !st.Enabled || st.State != "idle" || !st.FullCyclePending {
		t.Fatalf("after start?force=true: %+v; want On, idle, a full cycle pending", st)
	}
	if r := as.call(t, as.AdminToken, "POST", path+"/stop", ""); r.Status != 204 {
		t.Fatalf("stop: %d %s", r.Status, r.Raw)
	}
	// With the right token the test passes, and start needs no force.
	if r := as.call(t, as.AdminToken, "PATCH", path, `{"secretToken":"`+tg.Token+`"}`); r.Status != 200 {
		t.Fatalf("set the secret token: %d %s", r.Status, r.Raw)
	}
	if r := as.call(t, as.AdminToken, "POST", path+"/start", ""); r.Status != 204 {
		t.Fatalf("start with a working connection: %d %s", r.Status, r.Raw)
	}

	// The first cycle: ann is created, refused@ fails and is in escrow.
	failures := func(query string) []provision.Failure {
		t.Helper()
		resp := as.call(t, as.AdminToken, "GET", path+"/failures"+query, "")
		var fs []provision.Failure
		if resp.Status != 200 || json.Unmarshal([]byte(resp.Raw), &fs) != nil || fs == nil {
			t.Fatalf("failures: %d %s; want a JSON list", resp.Status, resp.Raw)
		}
		return fs
	}
	cycle := func(what string) *provision.CycleStatus {
		t.Helper()
		c, err := m.RunCycle(ctx, as.Tenant, app, false)
		if err != nil || c == nil {
			t.Fatalf("%s: %+v, %v", what, c, err)
		}
		return c
	}
	c := cycle("the initial cycle")
	if c.Kind != "initial" || c.Counts.Created != 1 || c.Counts.Failed != 1 || c.Counts.Sum() != c.Processed {
		t.Errorf("the initial cycle: %+v; want ann created and refused@ failed", c)
	}
	fs := failures("")
	if len(fs) != 1 {
		t.Fatalf("failures %+v: want refused@example.com", fs)
	}
	f := fs[0]
	if f.Source.DisplayName != "refused@example.com" || f.Action != provision.ActionCreate || f.Attempts != 1 || f.Retryable ||
		!f.NextTry.IsZero() || f.Error == nil || f.Error.Code == "" || !strings.HasPrefix(f.Request, "POST "+tg.URL+"/Users") {
		t.Errorf("the failure: %+v %+v; want refused@example.com's create, attempt 1, permanent, with its request", f, f.Error)
	}
	st := engineStatus(t, as, path)
	if st.Failures != 1 || st.RetryableFailures != 0 || !strings.Contains(st.Advice, "ferry apps failures") {
		t.Errorf("status after the failure: failures %d (%d retryable), advice %q", st.Failures, st.RetryableFailures, st.Advice)
	}
	// A permanent failure waits for a change: another cycle leaves it...
	cycle("an incremental cycle")
	if fs := failures(""); len(fs) != 1 || fs[0].Attempts != 1 {
		t.Errorf("a cycle with no change tried the permanent failure again: %+v", fs)
	}
	// ... and retry tries it now.
	if r := as.call(t, as.AdminToken, "POST", path+"/retry", ""); r.Status != 204 || r.Raw != "" {
		t.Fatalf("retry: %d %s", r.Status, r.Raw)
	}
	cycle("the cycle after retry")
	if fs := failures(""); len(fs) != 1 || fs[0].Attempts != 2 {
		t.Errorf("after retry: %+v; want refused@example.com tried a second time", fs)
	}
	// A restart runs a full cycle on a new configuration version, which
	// tries the object again; its escrow is kept.
	before := engineStatus(t, as, path).ConfigVersion
	if r := as.call(t, as.AdminToken, "POST", path+"/restart", ""); r.Status != 204 {
		t.Fatalf("restart: %d %s", r.Status, r.Raw)
	}
	if st := engineStatus(t, as, path); st.ConfigVersion != before+1 || !st.FullCyclePending {
		t.Errorf("after restart: configVersion %d (was %d), fullCyclePending %v", st.ConfigVersion, before, st.FullCyclePending)
	}
	if c := cycle("the cycle after restart"); c.Kind != "full" {
		t.Errorf("the cycle after restart is %s, want full", c.Kind)
	}
	if fs := failures(""); len(fs) != 1 || fs[0].Attempts != 3 {
		t.Errorf("after restart: %+v; want refused@example.com at its third attempt", fs)
	}
	// restart?reset=true forgets the escrows (and links): the failure
	// starts over at its first attempt.
	if r := as.call(t, as.AdminToken, "POST", path+"/restart?reset=true", ""); r.Status != 204 {
		t.Fatalf("restart?reset=true: %d %s", r.Status, r.Raw)
	}
	if c := cycle("the cycle after a reset"); (c.Kind != "full" && c.Kind != "initial") || c.Counts.Failed != 1 || c.Counts.Created != 0 {
		t.Errorf("the cycle after a reset: %+v; want a full cycle that matches ann and fails refused@ again", c)
	}
	if fs := failures(""); len(fs) != 1 || fs[0].Attempts != 1 {
		t.Errorf("after restart?reset=true: %+v; want refused@example.com's escrow forgotten, then at its first attempt", fs)
	}
	// Once the target accepts it, retry clears the escrow: [] on the wire.
	tg.Refuse.Store(false)
	as.call(t, as.AdminToken, "POST", path+"/retry", "")
	if c := cycle("the retry that succeeds"); c.Counts.Created != 1 {
		t.Errorf("the retry that succeeds: %+v", c)
	}
	if r := as.call(t, as.AdminToken, "GET", path+"/failures", ""); r.Status != 200 || r.Raw != "[]\n" {
		t.Errorf("failures when none: %d %s, want []", r.Status, r.Raw)
	}

	// The engine's own checks of limits and log filters.
	for _, tc := range []struct{ path, detail string }{
		{"/failures?limit=1001", "at most 1000"},
		{"/logs?limit=100000", "at most 1000"},
		{"/logs?status=bogus", "success, failure, skipped, warning"},
		{"/logs?action=remove", "create, update, disable, delete, other"},
	} {
		as.call(t, as.AdminToken, "GET", path+tc.path, "").wantError(t, 400, "invalidValue", tc.detail)
	}
	resp := as.call(t, as.AdminToken, "GET", path+"/logs?status=failed", "")
	var logs []provision.LogRecord
	if resp.Status != 200 || json.Unmarshal([]byte(resp.Raw), &logs) != nil || len(logs) != 4 {
		t.Fatalf("logs?status=failed: %d %s; want the four failures of refused@example.com", resp.Status, resp.Raw)
	}
	for _, l := range logs {
		if l.Status != provision.StatusFailure || l.Source.DisplayName != "refused@example.com" || l.Error == nil || l.Error.Request == "" {
			t.Errorf("logs?status=failed gave %+v", l)
		}
	}
}

// TestAdminRepointNeedsSecret: PATCHing only an application's tenantUrl
// to a listener is refused with a 400 that says why, and the listener
// receives nothing: not the change's Test Connection, not the stored
// secret token.
func TestAdminRepointNeedsSecret(t *testing.T) {
	t.Parallel()
	as, _ := newEngineAdminServer(t)
	tg := newEngineTarget(t)
	var received atomic.Int32
	listener := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { received.Add(1) }))
	t.Cleanup(listener.Close)
	create := fmt.Sprintf(`{"name":"hr","template":"scim","tenantUrl":%q,"secretToken":%q,"scope":"all"}`, tg.URL, tg.Token)
	if r := as.call(t, as.AdminToken, "POST", "/api/v1/apps", create); r.Status != 201 {
		t.Fatalf("create the application: %d %s", r.Status, r.Raw)
	}
	e := as.call(t, as.AdminToken, "PATCH", "/api/v1/apps/hr", `{"tenantUrl":"`+listener.URL+`/scim/v2"}`).
		wantError(t, 400, "invalidValue", "secretToken")
	if !strings.Contains(e.Detail, "another scheme, host or port") {
		t.Errorf("the refusal does not say why: %s", e.Detail)
	}
	r := as.call(t, as.AdminToken, "POST", "/api/v1/apps/hr/test-connection", "")
	if r.Status != 200 || !strings.Contains(r.Raw, `"success":true`) {
		t.Errorf("Test Connection after the refused change: %d %s; want a success against the original target", r.Status, r.Raw)
	}
	if n := received.Load(); n != 0 {
		t.Errorf("the listener received %d requests", n)
	}
}

// namedToken creates an admin token of the default tenant named name.
func (as *adminServer) namedToken(t *testing.T, name string) string {
	t.Helper()
	return ferrytest.Token(t, as.Store, "default", name, store.ScopeAdmin)
}

// TestAdminSafetyNet drives the real engine through the safety net's
// routes: plans (of a fresh application, of one in sync, of a change that
// is not saved), a scope change held by the accidental-deletion threshold,
// reject-deletes and allow-deletes with and without a staged set, and the
// audit log of it all, which names the admin token's name as the actor
// and never a secret.
func TestAdminSafetyNet(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	as, m := newEngineAdminServer(t)
	tg := newEngineTarget(t)
	alice := as.namedToken(t, "alice")
	const path = "/api/v1/apps/hr"
	for _, u := range []string{"cat@example.com", "ann@example.com", "bob@example.com"} {
		if r := as.call(t, as.SCIMToken, "POST", "/scim/v2/Users", `{"userName":"`+u+`","active":true}`); r.Status != 201 {
			t.Fatalf("create %s in the directory: %d %s", u, r.Status, r.Raw)
		}
	}
	send := func(method, path, body string, want int) string {
		t.Helper()
		r := as.call(t, alice, method, path, body)
		if r.Status != want {
			t.Fatalf("%s %s: %d %s; want %d", method, path, r.Status, r.Raw, want)
		}
		return r.Raw
	}
	send("POST", "/api/v1/apps", fmt.Sprintf(`{"name":"hr","template":"scim","tenantUrl":%q,"secretToken":%q,"scope":"all"}`, tg.URL, tg.Token), 201)
	var view provision.AppView
	json.Unmarshal([]byte(send("GET", path, "", 200)), &view)
	cfg := view.Config
	cfg.AccidentalDeletions = provision.DeletionThreshold{Count: 1}
	send("PATCH", path, mustJSON(t, provision.AppChange{Config: &cfg}), 200)
	cycle := func(what string) *provision.CycleStatus {
		t.Helper()
		c, err := m.RunCycle(ctx, as.Tenant, "hr", false)
		if err != nil || c == nil {
			t.Fatalf("%s: %+v, %v", what, c, err)
		}
		return c
	}
	plan := func(body string) provision.Plan {
		t.Helper()
		raw := send("POST", path+"/plan", body, 200)
		for _, list := range []string{"creates", "updates", "disables", "deletes", "failures"} {
			if !strings.Contains(raw, `"`+list+`":[`) {
				t.Errorf("the plan's %s is not a list: %s", list, raw)
			}
		}
		var p provision.Plan
		dec := json.NewDecoder(strings.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&p); err != nil {
			t.Fatalf("plan %s: %v", raw, err)
		}
		return p
	}
	names := func(as []provision.PlannedAction) string {
		var out []string
		for _, a := range as {
			out = append(out, a.Source.DisplayName)
		}
		return strings.Join(out, " ")
	}

	// A fresh application: every user is a create, sorted by name, and
	// nothing reaches the target.
	p := plan("")
	st := engineStatus(t, as, path)
	if names(p.Creates) != "ann@example.com bob@example.com cat@example.com" || len(p.Updates)+len(p.Disables)+len(p.Deletes)+len(p.Failures) != 0 ||
		p.Staged || p.App != "hr" || p.ConfigVersion != st.ConfigVersion {
		t.Errorf("the plan of a fresh application: %+v; want the three creates on version %d", p, st.ConfigVersion)
	}
	if c := p.Creates[0]; c.Action != provision.ActionCreate || c.Source.Type != "User" || c.Source.ID == "" || len(c.Changes) == 0 {
		t.Errorf("a planned create: %+v; want the user and the attributes it would set", c)
	}
	if n, _ := tg.ActiveUsers(t); n != 0 {
		t.Errorf("the plan created %d users in the target", n)
	}

	// Nothing staged: allow and reject are refused, and say why.
	for _, op := range []string{"/allow-deletes", "/reject-deletes"} {
		as.call(t, alice, "POST", path+op, "").wantError(t, 409, "", "no staged disables or deletes")
	}

	send("POST", path+"/start?force=true", "", 204)
	if c := cycle("the initial cycle"); c.Counts.Created != 3 {
		t.Fatalf("the initial cycle: %+v", c.Counts)
	}
	if p := plan(""); len(p.Creates)+len(p.Updates)+len(p.Disables)+len(p.Deletes) != 0 || p.Unchanged != 3 {
		t.Errorf("the plan after a cycle: %+v; want nothing to do, 3 unchanged", p)
	}

	// The plan of a scope change that would disable everyone: the
	// threshold would hold the disables; nothing is saved.
	before := engineStatus(t, as, path)
	p = plan(`{"scope":"assigned"}`)
	if names(p.Disables) != "ann@example.com bob@example.com cat@example.com" || !p.Staged || p.Limit != 1 || p.ConfigVersion != 0 {
		t.Errorf("the plan of scope assigned: %+v; want the three disables, staged by the threshold of 1, of an unsaved configuration", p)
	}
	if d := p.Disables[0]; d.Action != provision.ActionDisable || d.Target.ID == "" || d.Reason == "" {
		t.Errorf("a planned disable: %+v; want its target and why", d)
	}
	json.Unmarshal([]byte(send("GET", path, "", 200)), &view)
	if after := engineStatus(t, as, path); view.Config.Scope != "all" || after.ConfigVersion != before.ConfigVersion || after.FullCyclePending {
		t.Errorf("the plan of a change saved it: scope %s, version %d (was %d)", view.Config.Scope, after.ConfigVersion, before.ConfigVersion)
	}
	as.call(t, alice, "POST", path+"/plan", `{"scope":"some"}`).wantError(t, 400, "invalidValue", "")

	// The change itself is held: nothing is disabled, the job is
	// quarantined with the staged set.
	send("PATCH", path, `{"scope":"assigned"}`, 200)
	cycle("the cycle of the scope change")
	if _, active := tg.ActiveUsers(t); active != 3 {
		t.Errorf("%d active users in the target after the held cycle, want 3", active)
	}
	st = engineStatus(t, as, path)
	if st.State != "quarantined" || st.Quarantine == nil || st.Quarantine.Reason != "TooManyDeletes" || st.StagedDeletes == nil ||
		st.StagedDeletes.Disables != 3 || st.StagedDeletes.Limit != 1 || len(st.StagedDeletes.Sample) != 3 {
		t.Fatalf("status after the trip: %s, quarantine %+v, staged %+v", st.State, st.Quarantine, st.StagedDeletes)
	}
	// reject-deletes drops the set: the target keeps its users.
	send("POST", path+"/reject-deletes", "", 204)
	cycle("the cycle of reject-deletes")
	st = engineStatus(t, as, path)
	if st.Quarantine != nil || st.StagedDeletes != nil {
		t.Errorf("after reject-deletes: quarantine %+v, staged %+v", st.Quarantine, st.StagedDeletes)
	}
	if _, active := tg.ActiveUsers(t); active != 3 {
		t.Errorf("%d active users after reject-deletes, want 3", active)
	}
	as.call(t, alice, "POST", path+"/allow-deletes", "").wantError(t, 409, "", "no staged")
	// A restart's full cycle holds them again; allow-deletes sends them.
	send("POST", path+"/restart", "", 204)
	cycle("the full cycle of the restart")
	if st := engineStatus(t, as, path); st.StagedDeletes == nil || st.StagedDeletes.Disables != 3 {
		t.Fatalf("after the restart: staged %+v; want the three disables held again", st.StagedDeletes)
	}
	send("POST", path+"/allow-deletes", "", 204)
	if c := cycle("the cycle of allow-deletes"); c.Counts.Disabled != 3 {
		t.Errorf("allow-deletes: %+v; want 3 disabled", c.Counts)
	}
	if _, active := tg.ActiveUsers(t); active != 0 {
		t.Errorf("%d active users after allow-deletes, want none", active)
	}
	if st := engineStatus(t, as, path); st.Quarantine != nil || st.StagedDeletes != nil || st.State != "idle" {
		t.Errorf("after allow-deletes: %s, quarantine %+v, staged %+v", st.State, st.Quarantine, st.StagedDeletes)
	}

	// The audit log names alice for every action, newest first, with what
	// changed and never a secret; it outlives the application.
	send("PATCH", path, `{"secretToken":"`+tg.Token+`"}`, 200)
	send("DELETE", path, "", 204)
	raw := send("GET", path+"/audit", "", 200)
	var entries []provision.AuditEntry
	if err := json.Unmarshal([]byte(raw), &entries); err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range entries {
		actions = append(actions, e.Action)
		if e.Actor != "alice" || e.App != "hr" || e.At.IsZero() || e.ID == "" {
			t.Errorf("entry %+v: want alice's, of hr, with an id and a time", e)
		}
	}
	want := "delete update allow-deletes restart reject-deletes update start update create"
	if got := strings.Join(actions, " "); got != want {
		t.Fatalf("audit actions:\n %s\nwant\n %s", got, want)
	}
	for _, secret := range []string{tg.Token, alice, as.AdminToken} {
		if strings.Contains(raw, secret) {
			t.Errorf("the audit log holds a secret: %s", raw)
		}
	}
	change := func(e provision.AuditEntry, field string) string {
		if e.Details != nil {
			for _, c := range e.Details.Changes {
				if c.Field == field {
					return string(c.Old) + " → " + string(c.New)
				}
			}
		}
		return ""
	}
	for _, c := range []struct {
		i           int
		field, want string
	}{
		{1, "secretToken", ` → "changed"`},
		{5, "scope", `"all" → "assigned"`},
		{7, "accidentalDeletions", ` → {"count":1}`},
		{8, "scope", ` → "all"`},
		{8, "secretToken", ` → "set"`},
	} {
		if got := change(entries[c.i], c.field); got != c.want {
			t.Errorf("the %s's %s: %q, want %q", entries[c.i].Action, c.field, got, c.want)
		}
	}
	if d := entries[2].Details; d == nil || d.Disables != 3 || d.StagedID == "" {
		t.Errorf("allow-deletes' details: %+v; want the staged set of 3 disables", d)
	}
	if d := entries[6].Details; d == nil || !d.Force {
		t.Errorf("start's details: %+v; want force", d)
	}
	// Page by page.
	var paged []string
	cursor := ""
	for range len(entries) + 1 {
		q := "?limit=4"
		if cursor != "" {
			q += "&before=" + cursor
		}
		var page []provision.AuditEntry
		json.Unmarshal([]byte(send("GET", path+"/audit"+q, "", 200)), &page)
		if len(page) == 0 {
			break
		}
		for _, e := range page {
			paged = append(paged, e.Action)
		}
		cursor = page[len(page)-1].ID
	}
	if got := strings.Join(paged, " "); got != want {
		t.Errorf("audit page by page: %s", got)
	}
	as.call(t, alice, "GET", "/api/v1/apps/nothing/audit", "").wantError(t, 404, "", "")
	as.call(t, alice, "GET", path+"/audit?limit=1001", "").wantError(t, 400, "invalidValue", "at most 1000")
}
