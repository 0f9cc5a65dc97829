package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ferryid/ferry/internal/provision"
	"github.com/ferryid/ferry/internal/scim"
	"github.com/ferryid/ferry/internal/scim/schema"
	"github.com/ferryid/ferry/internal/server"
	"github.com/ferryid/ferry/internal/store"
	"github.com/ferryid/ferry/internal/store/sqlite"
)

// runCommand runs the ferry command in-process as main does, and returns
// its output and exit status.
func runCommand(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := newRootCommand()
	var out, errs bytes.Buffer
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errs)
	cmd.SetIn(strings.NewReader(stdin))
	if err := cmd.ExecuteContext(context.Background()); err != nil {
		fmt.Fprintln(&errs, "ferry:", err)
		return out.String(), errs.String(), 1
	}
	return out.String(), errs.String(), 0
}

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
}

var stubTime = time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)

func stubApp(name string) *provision.AppView {
	return &provision.AppView{
		ID: "a-1", Name: name, Template: "ringcentral", Enabled: true, HasSecretToken: true, Version: 2,
		Config: provision.Config{TenantURL: "https://platform.ringcentral.com/scim/v2", Scope: provision.ScopeAssigned,
			Objects: []provision.ObjectMapping{{SourceType: "User", TargetType: "Users", Enabled: true,
				Actions:    provision.Actions{Create: true, Update: true},
				Attributes: []provision.AttributeMapping{{Type: "direct", Source: "userName", Target: "userName"}}}}},
		Created: stubTime, LastModified: stubTime,
	}
}

func stubLogs() []provision.LogRecord {
	return []provision.LogRecord{
		{ID: "l-2", ActivityDateTime: stubTime.Add(time.Minute), Action: "update", Status: "success",
			Source: provision.Identity{Type: "User", DisplayName: "alice@example.com"}, Target: provision.Identity{ID: "rc-1", Type: "User"},
			ModifiedProperties: []provision.ModifiedProperty{{Name: "title", OldValue: "a", NewValue: "b"}}},
		{ID: "l-1", ActivityDateTime: stubTime, Action: "create", Status: "failure",
			Source: provision.Identity{Type: "User", DisplayName: "bob@example.com"}, Target: provision.Identity{Type: "User"},
			Error: &provision.ErrorInfo{Code: "SystemForCrossDomainIdentityManagementConflict", Reason: "userName taken", Category: "failure"}},
	}
}

func (a *stubAdmin) Templates() []string {
	a.record("Templates", "", nil)
	return []string{"ringcentral", "scim"}
}

func (a *stubAdmin) CreateApp(_ context.Context, _ string, in provision.NewApp) (*provision.AppView, error) {
	if err := a.record("CreateApp", "", in); err != nil {
		return nil, err
	}
	return stubApp(in.Name), nil
}

func (a *stubAdmin) App(_ context.Context, _, name string) (*provision.AppView, error) {
	if err := a.record("App", name, nil); err != nil {
		return nil, err
	}
	return stubApp(name), nil
}

func (a *stubAdmin) Apps(context.Context, string) ([]*provision.AppView, error) {
	if err := a.record("Apps", "", nil); err != nil {
		return nil, err
	}
	off := stubApp("hr")
	off.Enabled = false
	return []*provision.AppView{stubApp("ringcentral"), off}, nil
}

func (a *stubAdmin) UpdateApp(_ context.Context, _, name string, ifVersion int64, ch provision.AppChange) (*provision.AppView, error) {
	if err := a.record("UpdateApp", name, []any{ch, ifVersion}); err != nil {
		return nil, err
	}
	return stubApp(name), nil
}

func (a *stubAdmin) DeleteApp(_ context.Context, _, name string) error {
	return a.record("DeleteApp", name, nil)
}

func (a *stubAdmin) Assign(_ context.Context, _, app string, p provision.Principal, role string) (*provision.AssignmentView, error) {
	if err := a.record("Assign", app, []any{p, role}); err != nil {
		return nil, err
	}
	return &provision.AssignmentView{PrincipalType: p.Type, PrincipalID: "p-1", PrincipalName: p.Name + p.ID, Role: role, Created: stubTime}, nil
}

func (a *stubAdmin) Unassign(_ context.Context, _, app string, p provision.Principal) error {
	return a.record("Unassign", app, p)
}

func (a *stubAdmin) Assignments(_ context.Context, _, app string) ([]provision.AssignmentView, error) {
	if err := a.record("Assignments", app, nil); err != nil {
		return nil, err
	}
	return []provision.AssignmentView{{PrincipalType: "Group", PrincipalID: "g-1", PrincipalName: "Sales", Created: stubTime}}, nil
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

func (a *stubAdmin) Start(_ context.Context, _, app string) error { return a.record("Start", app, nil) }
func (a *stubAdmin) Stop(_ context.Context, _, app string) error  { return a.record("Stop", app, nil) }
func (a *stubAdmin) Restart(_ context.Context, _, app string) error {
	return a.record("Restart", app, nil)
}

func (a *stubAdmin) Status(_ context.Context, _, app string) (*provision.Status, error) {
	if err := a.record("Status", app, nil); err != nil {
		return nil, err
	}
	return &provision.Status{App: app, Enabled: true, State: "idle", Watermark: 17,
		Last:   &provision.CycleStatus{ID: "c-1", Kind: "initial", Started: stubTime, Ended: stubTime.Add(90 * time.Second), DurationMs: 90000, Counts: provision.Counts{Created: 40, Failed: 2}},
		Totals: provision.Counts{Created: 40, Failed: 2}, NextFullCycle: stubTime.Add(40 * time.Minute)}, nil
}

func (a *stubAdmin) Logs(_ context.Context, _, app string, f provision.LogFilter) ([]provision.LogRecord, error) {
	if err := a.record("Logs", app, f); err != nil {
		return nil, err
	}
	return stubLogs(), nil
}

func (a *stubAdmin) ProvisionOnDemand(_ context.Context, _, app string, req provision.OnDemandRequest) (*provision.OnDemandResult, error) {
	if err := a.record("ProvisionOnDemand", app, req); err != nil {
		return nil, err
	}
	res := &provision.OnDemandResult{Steps: []provision.Step{
		{Name: "Import user", Type: "import", Status: "success", Description: "Read alice from the directory"},
		{Name: "Perform action", Type: "export", Status: "success", Description: "Created the user in the target"},
	}, Records: stubLogs()[:1]}
	if req.User == "bob" {
		res.Steps[1].Status = "failure"
		res.Records = stubLogs()[1:]
	}
	return res, nil
}

func ptr[T any](v T) *T { return &v }

// appsServer is a real Ferry server on a real SQLite database, with the
// admin API over a stubAdmin.
type appsServer struct {
	URL        string
	AdminToken string
	SCIMToken  string
	Admin      *stubAdmin
	Store      store.Store
}

func newAppsServer(t *testing.T) *appsServer {
	t.Helper()
	ctx := context.Background()
	catalog := schema.Builtin()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "ferry.db"), catalog, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	as := &appsServer{Admin: &stubAdmin{}, Store: st}
	srv := server.New(server.DefaultConfig(), as.Store, catalog, slog.New(slog.DiscardHandler))
	srv.EnableAdmin(as.Admin)
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		hs.Close()
		st.Close()
	})
	as.URL = hs.URL
	tn, err := st.EnsureTenant(ctx, "default")
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range []struct {
		dst   *string
		scope string
	}{{&as.AdminToken, store.ScopeAdmin}, {&as.SCIMToken, store.ScopeSCIM}} {
		token, err := server.NewToken(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := as.Store.CreateToken(ctx, store.Token{TenantID: tn.ID, Name: "test", Prefix: token[:6], Scope: tok.scope}, server.HashToken(token)); err != nil {
			t.Fatal(err)
		}
		*tok.dst = token
	}
	return as
}

// api calls the admin API directly and returns its answer's body, for
// comparing with what --json prints.
func (as *appsServer) api(t *testing.T, method, path, body string) string {
	t.Helper()
	req, err := http.NewRequest(method, as.URL+"/api/v1"+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+as.AdminToken)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, raw)
	}
	return string(raw)
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
		stderr   string     // a substring of stderr, when the command fails
		call     engineCall // the engine call; Method "" for none
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
				"Tenant URL:     https://platform.ringcentral.com/scim/v2\nSecret token:   set\nScope:          assigned\nVersion:        2\n" +
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
		{name: "start", args: []string{"start", "rc"}, out: "Provisioning of rc is On.\n", call: engineCall{"Start", "rc", nil}},
		{name: "stop", args: []string{"stop", "rc"}, out: "Provisioning of rc is Off.\n", call: engineCall{"Stop", "rc", nil}},
		{name: "restart", args: []string{"restart", "rc"}, contains: []string{"restarted"}, call: engineCall{"Restart", "rc", nil}},
		{
			name: "status", args: []string{"status", "rc"},
			contains: []string{"Provisioning:     On (idle)\n", "Last cycle:       initial, ended 2026-11-26T08:01:30Z after 1m30s: 40 created, 2 failed\n", "Next full cycle:  at 2026-11-26T08:40:00Z\n"},
			call:     engineCall{"Status", "rc", nil},
		},
		{name: "status --json", args: []string{"status", "rc", "--json"}, call: engineCall{"Status", "rc", nil}, api: []string{"GET", "/apps/rc/status", ""}},
		{
			name: "logs", args: []string{"logs", "rc"},
			out: "TIME                  ACTION  STATUS   SOURCE             TARGET  DETAIL\n" +
				"2026-11-26T08:01:00Z  update  success  alice@example.com  rc-1    set title\n" +
				"2026-11-26T08:00:00Z  create  failure  bob@example.com    -       SystemForCrossDomainIdentityManagementConflict: userName taken\n",
			call: engineCall{"Logs", "rc", provision.LogFilter{}},
		},
		{
			name: "logs --json with filters", args: []string{"logs", "rc", "--json", "--user", "bob@example.com", "--action", "create", "--status", "failure", "--limit", "5"},
			call: engineCall{"Logs", "rc", provision.LogFilter{User: "bob@example.com", Action: "create", Status: "failure", Limit: 5}},
			api:  []string{"GET", "/apps/rc/logs", ""},
		},
		{name: "logs with a bad time", args: []string{"logs", "rc", "--since", "yesterday"}, code: 1, stderr: "ferry: since=yesterday: want an RFC 3339 time"},
		{
			name: "provision a user", args: []string{"provision", "rc", "--user", "alice"},
			contains: []string{"success  Import user: Read alice from the directory\n", "update  success  alice@example.com"},
			call:     engineCall{"ProvisionOnDemand", "rc", provision.OnDemandRequest{User: "alice"}},
		},
		{
			name: "provision a group with members", args: []string{"provision", "rc", "--group", "Sales", "--member", "alice", "--member", "bob", "--json"},
			call: engineCall{"ProvisionOnDemand", "rc", provision.OnDemandRequest{Group: "Sales", Members: []string{"alice", "bob"}}},
			api:  []string{"POST", "/apps/rc/provision", `{"group":"Sales","members":["alice","bob"]}`},
		},
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
	if _, stderr, code := runCommand(t, "", "apps", "create", "--name", "rc", "--template", "scim", "--secret-token-file", file); code != 0 {
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

// TestTokensCreateScope checks ferry tokens create --scope: the token's
// scope reaches the database, and a bad scope is refused.
func TestTokensCreateScope(t *testing.T) {
	t.Parallel()
	database := filepath.Join(t.TempDir(), "ferry.db")
	tokens := map[string]string{} // --scope → token
	for _, scope := range []string{"admin", "scim", ""} {
		args := []string{"tokens", "create", "--database", database, "--name", "n-" + scope}
		if scope != "" {
			args = append(args, "--scope", scope)
		}
		stdout, stderr, code := runCommand(t, "", args...)
		if code != 0 || !strings.Contains(stderr, "Created ") {
			t.Fatalf("tokens create --scope %q: %d %s", scope, code, stderr)
		}
		tokens[scope] = strings.TrimSpace(stdout)
	}
	if _, stderr, code := runCommand(t, "", "tokens", "create", "--database", database, "--scope", "root"); code != 1 || !strings.Contains(stderr, "--scope must be scim or admin") {
		t.Errorf("--scope root: %d %s", code, stderr)
	}

	st, err := sqlite.Open(context.Background(), database, schema.Builtin(), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for scope, token := range tokens {
		tok, err := st.TokenByHash(context.Background(), server.HashToken(token))
		if err != nil {
			t.Fatal(err)
		}
		want := scope
		if want == "" {
			want = store.ScopeSCIM
		}
		if tok.Scope != want {
			t.Errorf("--scope %q: the token's scope is %q", scope, tok.Scope)
		}
	}
	stdout, _, _ := runCommand(t, "", "tokens", "list", "--database", database)
	if !strings.Contains(stdout, "SCOPE") || !strings.Contains(stdout, " admin ") {
		t.Errorf("tokens list does not show the admin token's scope:\n%s", stdout)
	}
}
