package adminclient_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ferryid/ferry/internal/adminclient"
	"github.com/ferryid/ferry/internal/csvimport"
	"github.com/ferryid/ferry/internal/directory"
	"github.com/ferryid/ferry/internal/events"
	"github.com/ferryid/ferry/internal/extensions"
	"github.com/ferryid/ferry/internal/ferrytest"
	"github.com/ferryid/ferry/internal/provision"
	"github.com/ferryid/ferry/internal/sourcesync"
	"github.com/ferryid/ferry/internal/webhooks"
)

// request is what the client sent.
type request struct {
	Method, Path, Query       string // Path escaped, below /api/v1
	Auth, IfMatch, Type, Body string
}

// recorder is a fake admin API: it records each request and answers with
// status and body.
type recorder struct {
	mu     sync.Mutex
	got    []request
	status int
	body   string
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.got = append(rec.got, request{Method: r.Method, Path: strings.TrimPrefix(r.URL.EscapedPath(), "/api/v1"), Query: r.URL.RawQuery,
		Auth: r.Header.Get("Authorization"), IfMatch: r.Header.Get("If-Match"), Type: r.Header.Get("Content-Type"), Body: string(b)})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(rec.status)
	io.WriteString(w, rec.body)
}

// answer sets the next answer, and returns the requests so far.
func (rec *recorder) answer(status int, body string) []request {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	got := rec.got
	rec.got, rec.status, rec.body = nil, status, body
	return got
}

func newClient(t *testing.T, h http.Handler) (*adminclient.Client, string) {
	t.Helper()
	hs := httptest.NewServer(h)
	t.Cleanup(hs.Close)
	c, err := adminclient.New(hs.URL+"/", "admin-token", hs.Client())
	if err != nil {
		t.Fatal(err)
	}
	return c, hs.URL
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestOperations calls every method and checks the request it sends (its
// method, path, query, If-Match and JSON body, against the operations of
// api/openapi.json), that it decodes the answer, and that it returns the
// answer's bytes as they came.
func TestOperations(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	c, _ := newClient(t, rec)
	ctx := context.Background()
	since := time.Date(2026, 11, 26, 8, 0, 0, 500, time.UTC)
	app, status, logs, failures := ferrytest.App("HR / Sales"), ferrytest.Status("rc"), ferrytest.Logs(), ferrytest.Failures()
	plan := &provision.Plan{App: "rc", ConfigVersion: 3, Unchanged: 2}
	created := time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)
	user := &directory.User{ID: "u-1", UserName: "ann", Title: "CEO", Active: true, Groups: []string{"Sales"}, Version: 2, Created: created, LastModified: created}
	group := &directory.Group{ID: "g-1", DisplayName: "Sales", Members: []directory.Member{{ID: "u-1", Type: "User", Name: "ann"}}, Version: 3, Created: created, LastModified: created}
	eventPage := &events.Page{Events: []events.Event{{ID: "12", Type: "user.deactivated", Time: created, Object: events.Object{Type: "User", ID: "u-1"},
		State: map[string]any{"userName": "ann", "active": false}, Changed: []string{"active"}}}, Next: "12"}
	importResult := &csvimport.Result{Key: "userName", DryRun: true, Rows: 1, Counts: csvimport.Counts{Created: 1},
		Errors: []csvimport.RowError{}, IgnoredColumns: []string{}}
	pass := &sourcesync.Pass{Kind: "full", Trigger: "manual", Started: created, Ended: created, Outcome: "guarded", Guard: "half gone",
		Counts: sourcesync.Counts{ReadUsers: 10}}
	source := &sourcesync.Source{ID: "s-1", Name: "corp", Type: "ldap", Enabled: true, Version: 1, Created: created, LastModified: created,
		Config: sourcesync.Config{URL: "ldap://dc", BaseDN: "dc=x", Interval: sourcesync.Duration(time.Minute)}, BindPasswordSet: true,
		Status: sourcesync.Status{State: "idle", Last: pass, Mark: &sourcesync.Mark{Attribute: "modifyTimestamp", Value: "20261126080000Z"}}}
	webhook := webhooks.View{ID: "w-1", URL: "https://hooks.example/ferry", Events: []string{"user.*"}, Enabled: true, Cursor: "12.0",
		Attempts: 1, FirstFailed: &created, NextAttempt: &created, LastError: "the receiver answered 503", Created: created, LastModified: created}
	webhookWithSecret := webhook
	schemaView := extensions.View{ID: "urn:acme:2.0:User", ResourceType: "User", Attributes: []string{"costCenter"}, Created: created,
		Schema: json.RawMessage(`{"id":"urn:acme:2.0:User","attributes":[{"name":"costCenter","type":"string"}]}`)}
	webhookWithSecret.Secret = "fwhsec_0123"
	assignment := &provision.AssignmentView{PrincipalType: "Group", PrincipalID: "g-1", PrincipalName: "Sales", Role: "User"}
	// Each call returns the decoded value (nil for an operation that has
	// none), the raw answer and the error.
	type result struct {
		value any
		raw   []byte
		err   error
	}
	r := func(v any, raw []byte, err error) result { return result{v, raw, err} }
	e := func(err error) result { return result{nil, nil, err} }
	tests := []struct {
		name   string
		call   func() result
		want   request // Auth is the client's, always
		answer any     // what the server answers, and the call decodes
	}{
		{"openapi", func() result { return r(c.OpenAPI(ctx)) }, request{Method: "GET", Path: "/openapi.json"}, map[string]any{"openapi": "3.1.0"}},
		{"templates", func() result { return r(c.Templates(ctx)) }, request{Method: "GET", Path: "/templates"}, []string{"ringcentral", "scim"}},
		{"apps", func() result { return r(c.Apps(ctx)) }, request{Method: "GET", Path: "/apps"}, []provision.AppView{*app}},
		{"app", func() result { return r(c.App(ctx, "HR / Sales")) }, request{Method: "GET", Path: "/apps/HR%20%2F%20Sales"}, app},
		{"create", func() result {
			return r(c.CreateApp(ctx, provision.NewApp{Name: "rc", Template: "scim", SecretToken: "s"}))
		},
			request{Method: "POST", Path: "/apps", Body: `{"name":"rc","template":"scim","tenantUrl":"","secretToken":"s"}`}, app},
		{"update", func() result { return r(c.UpdateApp(ctx, "rc", 0, provision.AppChange{Scope: ptr("all")})) },
			request{Method: "PATCH", Path: "/apps/rc", Body: `{"scope":"all"}`}, app},
		{"update if at a version", func() result { return r(c.UpdateApp(ctx, "rc", 4, provision.AppChange{Name: ptr("rc2")})) },
			request{Method: "PATCH", Path: "/apps/rc", IfMatch: `"4"`, Body: `{"name":"rc2"}`}, app},
		{"delete", func() result { return e(c.DeleteApp(ctx, "rc")) }, request{Method: "DELETE", Path: "/apps/rc"}, nil},
		{"assign", func() result {
			return r(c.Assign(ctx, "rc", provision.Principal{Type: "Group", Name: "Sales"}, "User"))
		}, request{Method: "POST", Path: "/apps/rc/assignments", Body: `{"principal":{"type":"Group","name":"Sales"},"role":"User"}`}, assignment},
		{"unassign by name", func() result {
			return e(c.Unassign(ctx, "rc", provision.Principal{Type: "User", Name: "a/b@example.com"}))
		},
			request{Method: "DELETE", Path: "/apps/rc/assignments/User/a%2Fb@example.com"}, nil},
		{"unassign by id", func() result { return e(c.Unassign(ctx, "rc", provision.Principal{Type: "Group", ID: "g/1"})) },
			request{Method: "DELETE", Path: "/apps/rc/assignments/Group/g%2F1", Query: "by=id"}, nil},
		{"assignments", func() result { return r(c.Assignments(ctx, "rc")) }, request{Method: "GET", Path: "/apps/rc/assignments"}, []provision.AssignmentView{*assignment}},
		{"test connection", func() result { return r(c.TestConnection(ctx, "rc")) }, request{Method: "POST", Path: "/apps/rc/test-connection"},
			&provision.TestResult{Code: "Unauthorized", Message: "answered 401"}},
		{"target schema", func() result { return r(c.TargetSchema(ctx, "rc")) }, request{Method: "GET", Path: "/apps/rc/schema"},
			&provision.TargetSchemaView{App: "rc", Attributes: []provision.TargetAttribute{{ResourceType: "Users", Path: "userName", Type: "string", Mutability: "readWrite", Source: "rfc"}}}},
		{"discover the target schema", func() result { return r(c.DiscoverSchema(ctx, "rc")) }, request{Method: "POST", Path: "/apps/rc/schema/discover"},
			&provision.TargetSchemaView{App: "rc", Discovered: true, Attributes: []provision.TargetAttribute{}}},
		{"provision on demand", func() result {
			return r(c.ProvisionOnDemand(ctx, "rc", provision.OnDemandRequest{Group: "Sales", Members: []string{"alice"}}))
		}, request{Method: "POST", Path: "/apps/rc/provision", Body: `{"group":"Sales","members":["alice"]}`}, &provision.OnDemandResult{Records: logs}},
		{"start", func() result { return e(c.Start(ctx, "rc", false)) }, request{Method: "POST", Path: "/apps/rc/start"}, nil},
		{"start --force", func() result { return e(c.Start(ctx, "rc", true)) }, request{Method: "POST", Path: "/apps/rc/start", Query: "force=true"}, nil},
		{"stop", func() result { return e(c.Stop(ctx, "rc")) }, request{Method: "POST", Path: "/apps/rc/stop"}, nil},
		{"restart", func() result { return e(c.Restart(ctx, "rc", false)) }, request{Method: "POST", Path: "/apps/rc/restart"}, nil},
		{"restart --reset", func() result { return e(c.Restart(ctx, "rc", true)) }, request{Method: "POST", Path: "/apps/rc/restart", Query: "reset=true"}, nil},
		{"retry", func() result { return e(c.Retry(ctx, "rc")) }, request{Method: "POST", Path: "/apps/rc/retry"}, nil},
		{"status", func() result { return r(c.Status(ctx, "rc")) }, request{Method: "GET", Path: "/apps/rc/status"}, status},
		{"failures", func() result { return r(c.Failures(ctx, "rc", 0)) }, request{Method: "GET", Path: "/apps/rc/failures"}, failures},
		{"failures --limit", func() result { return r(c.Failures(ctx, "rc", 2)) }, request{Method: "GET", Path: "/apps/rc/failures", Query: "limit=2"}, failures},
		{"logs", func() result { return r(c.Logs(ctx, "rc", provision.LogFilter{})) }, request{Method: "GET", Path: "/apps/rc/logs"}, logs},
		{"logs filtered", func() result {
			return r(c.Logs(ctx, "rc", provision.LogFilter{User: "bob", Action: "create", Status: "failure", Since: since, Until: since.Add(time.Hour), Before: "l-9", Limit: 5}))
		}, request{Method: "GET", Path: "/apps/rc/logs",
			Query: "action=create&before=l-9&limit=5&since=2026-11-26T08%3A00%3A00.0000005Z&status=failure&until=2026-11-26T09%3A00%3A00.0000005Z&user=bob"}, logs},
		{"allow deletes", func() result { return e(c.AllowDeletes(ctx, "rc")) }, request{Method: "POST", Path: "/apps/rc/allow-deletes"}, nil},
		{"reject deletes", func() result { return e(c.RejectDeletes(ctx, "rc")) }, request{Method: "POST", Path: "/apps/rc/reject-deletes"}, nil},
		{"plan", func() result { return r(c.Plan(ctx, "rc")) }, request{Method: "POST", Path: "/apps/rc/plan"}, plan},
		{"plan of a change", func() result { return r(c.PlanChange(ctx, "rc", provision.AppChange{Scope: ptr("assigned")})) },
			request{Method: "POST", Path: "/apps/rc/plan", Body: `{"scope":"assigned"}`}, plan},
		{"audit", func() result { return r(c.Audit(ctx, "rc", "", 0)) }, request{Method: "GET", Path: "/apps/rc/audit"}, []provision.AuditEntry{{ID: "e-1", Action: "start"}}},
		{"audit, a page", func() result { return r(c.Audit(ctx, "rc", "e-1", 5)) },
			request{Method: "GET", Path: "/apps/rc/audit", Query: "before=e-1&limit=5"}, []provision.AuditEntry{{ID: "e-0", Action: "create"}}},
		{"import", func() result {
			return r(c.Import(ctx, csvimport.Request{CSV: "userName\nann\n", Key: "userName", DryRun: true}, nil))
		}, request{Method: "POST", Path: "/import", Body: `{"csv":"userName\nann\n","key":"userName","dryRun":true}`}, importResult},
		{"users", func() result { return r(c.Users(ctx, "", 0, 0)) }, request{Method: "GET", Path: "/users"}, &directory.UserList{Users: []directory.User{*user}, Total: 1}},
		{"users filtered", func() result { return r(c.Users(ctx, `title eq "CEO"`, 100, 50)) },
			request{Method: "GET", Path: "/users", Query: "filter=title+eq+%22CEO%22&limit=50&offset=100"}, &directory.UserList{Users: []directory.User{}, Total: 101}},
		{"user", func() result { return r(c.User(ctx, "a/b@example.com")) }, request{Method: "GET", Path: "/users/a%2Fb@example.com"}, user},
		{"create user", func() result { return r(c.CreateUser(ctx, directory.NewUser{UserName: "ann", Title: "CEO"})) },
			request{Method: "POST", Path: "/users", Body: `{"userName":"ann","title":"CEO"}`}, user},
		{"disable user", func() result { return r(c.DisableUser(ctx, "ann")) }, request{Method: "POST", Path: "/users/ann/disable"}, user},
		{"enable user", func() result { return r(c.EnableUser(ctx, "ann")) }, request{Method: "POST", Path: "/users/ann/enable"}, user},
		{"delete user", func() result { return e(c.DeleteUser(ctx, "ann")) }, request{Method: "DELETE", Path: "/users/ann"}, nil},
		{"groups", func() result { return r(c.Groups(ctx, "", 0, 0)) }, request{Method: "GET", Path: "/groups"}, &directory.GroupList{Groups: []directory.Group{*group}, Total: 1}},
		{"group", func() result { return r(c.Group(ctx, "Sales / EMEA")) }, request{Method: "GET", Path: "/groups/Sales%20%2F%20EMEA"}, group},
		{"create group", func() result { return r(c.CreateGroup(ctx, "Sales")) }, request{Method: "POST", Path: "/groups", Body: `{"displayName":"Sales"}`}, group},
		{"delete group", func() result { return e(c.DeleteGroup(ctx, "Sales")) }, request{Method: "DELETE", Path: "/groups/Sales"}, nil},
		{"add member", func() result { return r(c.AddMember(ctx, "Sales", "ann")) },
			request{Method: "POST", Path: "/groups/Sales/members", Body: `{"user":"ann"}`}, group},
		{"remove member", func() result { return r(c.RemoveMember(ctx, "Sales", "a/b@example.com")) },
			request{Method: "DELETE", Path: "/groups/Sales/members/a%2Fb@example.com"}, group},
		{"events", func() result { return r(c.Events(ctx, "", 0, nil)) }, request{Method: "GET", Path: "/events"}, eventPage},
		{"events after, of types", func() result { return r(c.Events(ctx, "12.1", 50, []string{"user.*", "group.deleted"})) },
			request{Method: "GET", Path: "/events", Query: "after=12.1&limit=50&types=user.%2A%2Cgroup.deleted"}, &events.Page{Events: []events.Event{}, Next: "12.1"}},
		{"sources", func() result { return r(c.Sources(ctx)) }, request{Method: "GET", Path: "/sources"}, []sourcesync.Source{*source}},
		{"source", func() result { return r(c.Source(ctx, "corp/eu")) }, request{Method: "GET", Path: "/sources/corp%2Feu"}, source},
		{"source status", func() result { return r(c.SourceStatus(ctx, "corp")) }, request{Method: "GET", Path: "/sources/corp/status"}, &source.Status},
		{"create source", func() result {
			return r(c.CreateSource(ctx, sourcesync.CreateInput{Name: "corp", Config: sourcesync.Config{URL: "ldap://dc", BaseDN: "dc=x"}, BindPassword: "pw"}))
		}, request{Method: "POST", Path: "/sources", Body: `{"name":"corp","config":{"url":"ldap://dc","baseDN":"dc=x"},"bindPassword":"pw"}`}, source},
		{"update source", func() result { return r(c.UpdateSource(ctx, "corp", sourcesync.UpdateInput{Enabled: ptr(false)})) },
			request{Method: "PATCH", Path: "/sources/corp", Body: `{"enabled":false}`}, source},
		{"delete source", func() result { return r(c.DeleteSource(ctx, "corp", false)) }, request{Method: "DELETE", Path: "/sources/corp"},
			&sourcesync.DeleteResult{Name: "corp"}},
		{"delete source --release", func() result { return r(c.DeleteSource(ctx, "corp", true)) },
			request{Method: "DELETE", Path: "/sources/corp", Query: "release=true"}, &sourcesync.DeleteResult{Name: "corp", ReleasedUsers: 2}},
		{"sync source", func() result { return r(c.SyncSource(ctx, "corp", false, false)) }, request{Method: "POST", Path: "/sources/corp/sync"}, pass},
		{"sync source --full --allow-shrink", func() result { return r(c.SyncSource(ctx, "corp", true, true)) },
			request{Method: "POST", Path: "/sources/corp/sync", Query: "allow-shrink=true&full=true"}, pass},
		{"create webhook", func() result {
			return r(c.CreateWebhook(ctx, webhooks.NewWebhook{URL: "https://hooks.example/ferry", Events: []string{"user.*"}}))
		}, request{Method: "POST", Path: "/webhooks", Body: `{"url":"https://hooks.example/ferry","events":["user.*"]}`}, &webhookWithSecret},
		{"webhooks", func() result { return r(c.Webhooks(ctx)) }, request{Method: "GET", Path: "/webhooks"}, []webhooks.View{webhook}},
		{"webhook", func() result { return r(c.Webhook(ctx, "w/1")) }, request{Method: "GET", Path: "/webhooks/w%2F1"}, &webhook},
		{"delete webhook", func() result { return e(c.DeleteWebhook(ctx, "w-1")) }, request{Method: "DELETE", Path: "/webhooks/w-1"}, nil},
		{"test webhook", func() result { return r(c.TestWebhook(ctx, "w-1")) }, request{Method: "POST", Path: "/webhooks/w-1/test"},
			&webhooks.TestResult{Delivered: false, Status: 500, Error: "the receiver answered 500 Internal Server Error", DurationMs: 12}},
		{"webhook deliveries", func() result { return r(c.WebhookDeliveries(ctx, "w-1", 5)) },
			request{Method: "GET", Path: "/webhooks/w-1/deliveries", Query: "limit=5"}, []webhooks.Delivery{{EventID: "12.0",
				EventType: "user.created", Attempt: 2, Status: 204, DurationMs: 3, At: created, Outcome: "delivered"}}},
		{"add schema", func() result {
			return r(c.AddSchema(ctx, extensions.NewSchema{ResourceType: "User", Schema: json.RawMessage(`{"id":"urn:acme:2.0:User"}`)}))
		}, request{Method: "POST", Path: "/schemas", Body: `{"resourceType":"User","schema":{"id":"urn:acme:2.0:User"}}`}, &schemaView},
		{"schemas", func() result { return r(c.Schemas(ctx)) }, request{Method: "GET", Path: "/schemas"}, []extensions.View{schemaView}},
		{"schema", func() result { return r(c.Schema(ctx, "urn:acme:2.0:User")) }, request{Method: "GET", Path: "/schemas/urn:acme:2.0:User"}, &schemaView},
		{"remove schema", func() result { return r(c.RemoveSchema(ctx, "urn:acme:2.0:User", false)) },
			request{Method: "DELETE", Path: "/schemas/urn:acme:2.0:User"}, &extensions.RemoveResult{ID: "urn:acme:2.0:User"}},
		{"remove schema --force", func() result { return r(c.RemoveSchema(ctx, "urn:acme:2.0:User", true)) },
			request{Method: "DELETE", Path: "/schemas/urn:acme:2.0:User", Query: "force=true"}, &extensions.RemoveResult{ID: "urn:acme:2.0:User", ResourcesChanged: 3}},
	}
	doc := readOpenAPI(t)
	covered := map[string]bool{}
	for _, tc := range tests {
		body, status := "", http.StatusNoContent
		if tc.answer != nil {
			// The server's bytes, with its spacing, which the raw answer
			// keeps.
			body, status = mustJSON(t, tc.answer)+"\n", http.StatusOK
		}
		rec.answer(status, body)
		res := tc.call()
		got := rec.answer(0, "")
		if res.err != nil {
			t.Errorf("%s: %v", tc.name, res.err)
			continue
		}
		want := tc.want
		want.Auth = "Bearer admin-token"
		if want.Body != "" {
			want.Type = "application/json"
		}
		if len(got) != 1 || got[0] != want {
			t.Errorf("%s: sent %+v\nwant [%+v]", tc.name, got, want)
		}
		if op := doc.operation(want.Method, want.Path); op == "" {
			t.Errorf("%s: %s %s is no operation of %s", tc.name, want.Method, want.Path, openAPIFile)
		} else {
			covered[op] = true
			for _, q := range strings.Split(want.Query, "&") {
				if name, _, _ := strings.Cut(q, "="); name != "" && !slices.Contains(doc.query[op], name) {
					t.Errorf("%s: %s takes no query parameter %s", tc.name, op, name)
				}
			}
		}
		if tc.answer == nil {
			continue
		}
		if string(res.raw) != body {
			t.Errorf("%s: raw answer %q, want the server's %q", tc.name, res.raw, body)
		}
		if !reflect.DeepEqual(res.value, tc.answer) {
			t.Errorf("%s: decoded %#v\nwant %#v", tc.name, res.value, tc.answer)
		}
	}
	for op := range doc.query {
		if !covered[op] {
			t.Errorf("no method calls %s", op)
		}
	}
}

func ptr[T any](v T) *T { return &v }

// openAPIFile is the admin API's description.
const openAPIFile = "../../api/openapi.json"

// openAPI is the admin API's operations, "METHOD /path/{param}", with the
// query parameters each takes.
type openAPI struct {
	query map[string][]string
}

func readOpenAPI(t *testing.T) openAPI {
	t.Helper()
	raw, err := os.ReadFile(openAPIFile)
	if err != nil {
		t.Fatal(err)
	}
	type param struct {
		Ref  string `json:"$ref"`
		Name string `json:"name"`
		In   string `json:"in"`
	}
	var doc struct {
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Parameters map[string]param `json:"parameters"`
		} `json:"components"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("%s: %v", openAPIFile, err)
	}
	api := openAPI{query: map[string][]string{}}
	for path, ops := range doc.Paths {
		for method, rawOp := range ops {
			if method == "parameters" {
				continue
			}
			var op struct {
				Parameters []param `json:"parameters"`
			}
			if err := json.Unmarshal(rawOp, &op); err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
			key := strings.ToUpper(method) + " " + path
			api.query[key] = []string{}
			for _, p := range op.Parameters {
				if p.Ref != "" {
					p = doc.Components.Parameters[strings.TrimPrefix(p.Ref, "#/components/parameters/")]
				}
				if p.In == "query" {
					api.query[key] = append(api.query[key], p.Name)
				}
			}
		}
	}
	return api
}

// operation returns the operation an escaped request path matches, or "".
func (api openAPI) operation(method, path string) string {
	segs := strings.Split(path, "/")
	for op := range api.query {
		m, template, _ := strings.Cut(op, " ")
		parts := strings.Split(template, "/")
		if m != method || len(parts) != len(segs) {
			continue
		}
		match := true
		for i, p := range parts {
			if p != segs[i] && !(strings.HasPrefix(p, "{") && segs[i] != "") {
				match = false
				break
			}
		}
		if match {
			return op
		}
	}
	return ""
}

// TestErrors: an API error reads as its detail and carries its status; an
// answer that is not the API's names the server; an unreachable server,
// a malformed answer and a server URL that is not one say so.
func TestErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rec := &recorder{}
	c, url := newClient(t, rec)

	rec.answer(409, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":409,"error":"conflict","detail":"rc was not started: Test Connection failed"}`)
	err := c.Start(ctx, "rc", false)
	if e, ok := errors.AsType[*adminclient.Error](err); !ok || e.Status != 409 || err.Error() != "rc was not started: Test Connection failed" {
		t.Errorf("an API error: %#v", err)
	}

	rec.answer(404, "<html>nginx: not found</html>")
	_, _, err = c.App(ctx, "rc")
	if e, ok := errors.AsType[*adminclient.Error](err); !ok || e.Status != 404 ||
		e.Detail != "GET /apps/rc answered 404 Not Found: <html>nginx: not found</html> (is "+url+" a Ferry server?)" {
		t.Errorf("an answer of another server: %#v", err)
	}

	rec.answer(200, `{"name":`)
	if _, _, err = c.Status(ctx, "rc"); err == nil || !strings.HasPrefix(err.Error(), "GET /apps/rc/status: the answer is not what this ferry understands: ") {
		t.Errorf("a malformed answer: %v", err)
	}

	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	c, err = adminclient.New(down.URL, "t", http.DefaultClient)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.App(ctx, "rc"); err == nil || !strings.HasPrefix(err.Error(), `cannot reach Ferry: Get "`+down.URL+`/api/v1/apps/rc"`) {
		t.Errorf("a server that is down: %v", err)
	}

	for _, bad := range []string{"127.0.0.1:8080", "ftp://x.example", "http://", "://"} {
		if _, err := adminclient.New(bad, "t", http.DefaultClient); err == nil || err.Error() != "want the server's URL, such as http://127.0.0.1:8080" {
			t.Errorf("New(%q): %v", bad, err)
		}
	}
}

// TestImportProgress reads an import's progress stream: each line reaches
// the callback, the result ends it, and an error line or a stream cut
// short is an error.
func TestImportProgress(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rec := &recorder{}
	c, _ := newClient(t, rec)
	result := `{"key":"userName","dryRun":false,"rows":2,"counts":{"created":2,"updated":0,"unchanged":0,"disabled":0,"failed":0,"groupsCreated":0,"membersAdded":0,"membersRemoved":0},"errors":[],"ignoredColumns":[]}`
	rec.answer(200, `{"done":1,"total":2}`+"\n"+`{"done":2,"total":2}`+"\n"+`{"done":2,"total":2,"result":`+result+"}\n")
	var seen []string
	res, raw, err := c.Import(ctx, csvimport.Request{CSV: "userName\na\nb\n"}, func(done, total int) {
		seen = append(seen, fmt.Sprintf("%d/%d", done, total))
	})
	if err != nil || res.Counts.Created != 2 || string(raw) != result || strings.Join(seen, " ") != "1/2 2/2" {
		t.Errorf("Import = %+v, %s, %v; progress %q", res, raw, err, seen)
	}
	if got := rec.answer(200, `{"done":1,"total":2}`+"\n"+`{"error":"the import stopped: database is closed"}`+"\n"); len(got) != 1 || got[0].Body != `{"csv":"userName\na\nb\n"}` {
		t.Errorf("sent %+v", got)
	}
	if _, _, err := c.Import(ctx, csvimport.Request{CSV: "x"}, func(int, int) {}); err == nil || err.Error() != "the import stopped: database is closed" {
		t.Errorf("an error line: %v", err)
	}
	rec.answer(200, `{"done":1,"total":2}`+"\n")
	if _, _, err := c.Import(ctx, csvimport.Request{CSV: "x"}, func(int, int) {}); err == nil || !strings.Contains(err.Error(), "without its result") {
		t.Errorf("a stream cut short: %v", err)
	}
	rec.answer(400, `{"status":400,"detail":"no column holds the key userName"}`)
	if _, _, err := c.Import(ctx, csvimport.Request{CSV: "x"}, func(int, int) {}); err == nil || err.Error() != "no column holds the key userName" {
		t.Errorf("a refused file: %v", err)
	}
}
