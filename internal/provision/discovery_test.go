package provision_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	. "github.com/ferryid/ferry/internal/provision"
	"github.com/ferryid/ferry/internal/scim"
	"github.com/ferryid/ferry/internal/scim/filter"
	"github.com/ferryid/ferry/internal/scim/patch"
	"github.com/ferryid/ferry/internal/scim/resource"
	"github.com/ferryid/ferry/internal/scim/schema"
	"github.com/ferryid/ferry/internal/store"
)

// customExt is the extension the test target declares, as an application
// whose attribute list was edited in Entra would have it.
const customExt = "urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User"

const enterpriseExt = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

// extTarget is a SCIM target whose users carry customExt: it serves the
// schemas of internal/scimclient's discovery testdata at /Schemas and
// /ResourceTypes (when serveSchemas is set), keeps users in memory,
// answers equality filters and listings, applies PATCH with the protocol
// core against its own schema (so a path it does not declare is a 400),
// and records every write's body.
type extTarget struct {
	url          string
	serveSchemas bool
	rt           *schema.ResourceType

	mu     sync.Mutex
	users  map[string]resource.Document
	order  []string
	writes []string // "METHOD /path body"
}

func newExtTarget(t *testing.T, serveSchemas bool) *extTarget {
	t.Helper()
	schemasJSON := readFile(t, "../scimclient/testdata/discovery/schemas.json")
	var list struct{ Resources []*schema.Schema }
	if err := json.Unmarshal([]byte(schemasJSON), &list); err != nil {
		t.Fatal(err)
	}
	user := list.Resources[0]
	user.Attributes = append(user.Attributes, &schema.Attribute{Name: "externalId", Type: schema.String, Mutability: schema.ReadWrite})
	tg := &extTarget{serveSchemas: serveSchemas, users: map[string]resource.Document{},
		rt: &schema.ResourceType{Name: "User", Endpoint: "/Users", Schema: user, Extensions: []schema.Extension{{Schema: list.Resources[2]}}}}
	rtsJSON := readFile(t, "../scimclient/testdata/discovery/resource_types.json")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/scim+json")
		path := strings.TrimPrefix(r.URL.Path, "/scim/v2")
		tg.mu.Lock()
		defer tg.mu.Unlock()
		if r.Method != http.MethodGet {
			tg.writes = append(tg.writes, r.Method+" "+path+" "+string(body))
		}
		switch {
		case path == "/Schemas" && serveSchemas:
			io.WriteString(w, schemasJSON)
		case path == "/ResourceTypes" && serveSchemas:
			io.WriteString(w, rtsJSON)
		case path == "/Users" && r.Method == http.MethodGet:
			tg.list(t, w, r.URL.Query().Get("filter"))
		case path == "/Groups" && r.Method == http.MethodGet:
			io.WriteString(w, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":0,"Resources":[]}`)
		case path == "/Users" && r.Method == http.MethodPost:
			doc, err := resource.Decode(body)
			if err != nil {
				http.Error(w, err.Error(), 400)
				return
			}
			id := fmt.Sprintf("u%d", len(tg.order)+1)
			doc["id"] = id
			tg.users[id], tg.order = doc, append(tg.order, id)
			w.WriteHeader(201)
			json.NewEncoder(w).Encode(doc)
		case strings.HasPrefix(path, "/Users/"):
			id := strings.TrimPrefix(path, "/Users/")
			doc, ok := tg.users[id]
			if !ok {
				w.WriteHeader(404)
				return
			}
			if r.Method == http.MethodPatch {
				ops, err := patch.Parse(body)
				if err == nil {
					doc, _, err = patch.Apply(doc, tg.rt, ops)
				}
				if err != nil {
					w.WriteHeader(400)
					fmt.Fprintf(w, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"400","detail":%q}`, err.Error())
					return
				}
				tg.users[id] = doc
			}
			json.NewEncoder(w).Encode(doc)
		default:
			w.WriteHeader(404)
		}
	}))
	t.Cleanup(srv.Close)
	tg.url = srv.URL + "/scim/v2"
	return tg
}

func (tg *extTarget) list(t *testing.T, w http.ResponseWriter, f string) {
	var match filter.Expr
	if f != "" {
		var err error
		if match, err = filter.Parse(f); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
	}
	out := []any{}
	for _, id := range tg.order {
		if match == nil || filter.Match(match, tg.users[id], tg.rt) {
			out = append(out, tg.users[id])
		}
	}
	json.NewEncoder(w).Encode(map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:ListResponse"},
		"totalResults": len(out), "Resources": out})
}

// take returns the writes since the last take.
func (tg *extTarget) take() []string {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	w := tg.writes
	tg.writes = nil
	return w
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// newExtApp makes a directory and an application of it provisioning into
// a new extTarget, with cfg (nil for the scim template's).
func newExtApp(t *testing.T, name string, serveSchemas bool, cfg *Config) (*directory, *extTarget) {
	t.Helper()
	d := newDirectory(t)
	tg := newExtTarget(t, serveSchemas)
	if _, err := d.m.CreateApp(context.Background(), d.tenant, NewApp{Name: name, Template: "scim", TenantURL: tg.url,
		SecretToken: "target-token", Config: cfg}); err != nil {
		t.Fatal(err)
	}
	return d, tg
}

// extConfig maps users to the test target, with extra mappings.
func extConfig(extra ...AttributeMapping) *Config {
	attrs := []AttributeMapping{
		{Type: Direct, Source: "userName", Target: "userName", Match: true, MatchPriority: 1},
		{Type: Direct, Source: "displayName", Target: "displayName"},
		{Type: Expression, Source: `Switch([IsSoftDeleted], , "False", "True", "True", "False")`, Target: "active"},
	}
	return &Config{Scope: ScopeAll, Objects: []ObjectMapping{{SourceType: store.UserType, TargetType: "Users", Enabled: true,
		Actions: Actions{Create: true, Update: true, Delete: true}, Attributes: append(attrs, extra...)}}}
}

// TestDiscoveredExtension: Test Connection reads a target's extension
// schema; a mapping to its attributes saves, one to an attribute it does
// not declare, or of the wrong type, does not; and a cycle creates and
// updates users with the extension's values under its URN on the wire.
func TestDiscoveredExtension(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, tg := newExtApp(t, "ext", true, extConfig())
	const app = "ext"
	costCenter := AttributeMapping{Type: Direct, Source: enterpriseExt + ":costCenter", Target: customExt + ":costCenter"}
	// Before discovery the RFC schemas apply: the extension is unknown.
	_, err := d.m.UpdateApp(ctx, d.tenant, app, 0, AppChange{Config: extConfig(costCenter)})
	badRequest(t, err, "before discovery", "the Users schema does not define this attribute")

	res, err := d.m.TestConnection(ctx, d.tenant, app)
	if err != nil || !res.Success || !strings.Contains(res.Schema, "read and saved: 2 resource types, 3 schemas") {
		t.Fatalf("Test Connection = %+v, %v", res, err)
	}
	view, err := d.m.TargetSchema(ctx, d.tenant, app)
	if err != nil || !view.Discovered || view.DiscoveredAt == nil {
		t.Fatalf("TargetSchema = %+v, %v", view, err)
	}
	attrs := map[string]TargetAttribute{}
	for _, a := range view.Attributes {
		attrs[a.ResourceType+" "+a.Path] = a
	}
	for key, want := range map[string]TargetAttribute{
		"Users " + customExt + ":costCenter": {Type: "string", Mutability: "readWrite", Source: SourceDiscovered},
		"Users " + customExt + ":skills":     {Type: "string", MultiValued: true, Mutability: "readWrite", Source: SourceDiscovered},
		"Users " + customExt + ":legacyId":   {Type: "string", Mutability: "readOnly", Source: SourceDiscovered},
		"Users name.givenName":               {Type: "string", Mutability: "readWrite", Source: SourceDiscovered},
		"Users externalId":                   {Type: "string", Mutability: "readWrite", Source: SourceRFC},
		"Groups displayName":                 {Type: "string", Mutability: "readWrite", Required: true, Source: SourceDiscovered},
	} {
		got := attrs[key]
		want.ResourceType, want.Path = got.ResourceType, got.Path
		if got.Path == "" || fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s = %+v; want %+v", key, got, want)
		}
	}
	if _, ok := attrs["Users nickName"]; ok {
		t.Error("nickName, which the target does not declare, is listed")
	}

	for _, tc := range []struct {
		name string
		m    AttributeMapping
		want []string
	}{
		{"undeclared extension attribute", AttributeMapping{Type: Constant, Source: "x", Target: customExt + ":undeclared"},
			[]string{"does not declare this attribute for its Users", "ferry apps schema"}},
		{"undeclared core attribute", AttributeMapping{Type: Direct, Source: "nickName", Target: "nickName"},
			[]string{"does not declare this attribute"}},
		{"string to integer", AttributeMapping{Type: Direct, Source: enterpriseExt + ":employeeNumber", Target: customExt + ":badgeNumber"},
			[]string{"declares " + customExt + ":badgeNumber a single-valued integer", "is a string", "CStr"}},
		{"constant not a boolean", AttributeMapping{Type: Constant, Source: "maybe", Target: customExt + ":contractor"},
			[]string{"a single-valued boolean", `"maybe" is not a boolean`}},
		{"several values to one", AttributeMapping{Type: Direct, Source: "emails.value", Target: customExt + ":costCenter"},
			[]string{"may hold several values"}},
		{"read-only", AttributeMapping{Type: Constant, Source: "x", Target: customExt + ":legacyId"},
			[]string{"read-only"}},
		{"immutable, always", AttributeMapping{Type: Constant, Source: "2026-01-01T00:00:00Z", Target: customExt + ":employeeSince"},
			[]string{"declares the attribute immutable", `set apply to "onCreate"`}},
		{"unqualified extension attribute", AttributeMapping{Type: Constant, Source: "x", Target: "costCenter"},
			[]string{"write its full path, " + customExt + ":costCenter"}},
		{"not a canonical value", AttributeMapping{Type: Constant, Source: "x", Target: `emails[type eq "work"].type`},
			[]string{`the constant is "x", and the target declares the values work, home`}},
	} {
		_, err := d.m.UpdateApp(ctx, d.tenant, app, 0, AppChange{Config: extConfig(tc.m)})
		badRequest(t, err, tc.name, tc.want...)
	}

	_, err = d.m.UpdateApp(ctx, d.tenant, app, 0, AppChange{Config: extConfig(costCenter,
		AttributeMapping{Type: Constant, Source: "True", Target: customExt + ":contractor"},
		AttributeMapping{Type: Expression, Source: "[title]", Target: customExt + ":skills"},
		AttributeMapping{Type: Constant, Source: "2026-01-01T00:00:00Z", Target: customExt + ":employeeSince", Apply: ApplyOnCreate})})
	if err != nil {
		t.Fatalf("mapping the extension: %v", err)
	}
	// A configuration saved without the schema keeps it.
	if v, err := d.m.TargetSchema(ctx, d.tenant, app); err != nil || !v.Discovered {
		t.Fatalf("after an update, TargetSchema = %+v, %v", v, err)
	}

	id := d.create(t, store.UserType, `{"userName":"ann@example.com","displayName":"Ann","active":true,"title":"SCIM",
		"`+enterpriseExt+`":{"costCenter":"CC-1"}}`)
	tg.take()
	if c := d.cycle(t, app, true); c.Counts.Created != 1 {
		t.Fatalf("first cycle: %+v", c.Counts)
	}
	w := tg.take()
	if len(w) != 1 || !strings.HasPrefix(w[0], "POST /Users ") {
		t.Fatalf("writes: %q", w)
	}
	var created map[string]any
	if err := json.Unmarshal([]byte(strings.TrimPrefix(w[0], "POST /Users ")), &created); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(created["schemas"]); got != "[urn:ietf:params:scim:schemas:core:2.0:User "+customExt+"]" {
		t.Errorf("schemas = %s", got)
	}
	if got, want := fmt.Sprint(created[customExt]), "map[contractor:true costCenter:CC-1 employeeSince:2026-01-01T00:00:00Z skills:[SCIM]]"; got != want {
		t.Errorf("%s = %s; want %s", customExt, got, want)
	}
	if _, ok := created["costCenter"]; ok {
		t.Error("costCenter was sent outside its extension")
	}

	d.update(t, store.UserType, id, func(r *store.Resource) {
		r.Doc[enterpriseExt] = map[string]any{"costCenter": "CC-2"}
		r.Doc["title"] = "LDAP"
	})
	if c := d.cycle(t, app, false); c.Counts.Updated != 1 {
		t.Fatalf("second cycle: %+v", c.Counts)
	}
	w = tg.take()
	if len(w) != 1 || !strings.HasPrefix(w[0], "PATCH /Users/u1 ") {
		t.Fatalf("writes: %q", w)
	}
	var body struct{ Operations []map[string]any }
	if err := json.Unmarshal([]byte(strings.TrimPrefix(w[0], "PATCH /Users/u1 ")), &body); err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprint(body.Operations), "[map[op:replace path:"+customExt+":costCenter value:CC-2] "+
		"map[op:replace path:"+customExt+":skills value:[LDAP]]]"; got != want {
		t.Errorf("operations = %s; want %s", got, want)
	}
	tg.mu.Lock()
	stored := fmt.Sprint(tg.users["u1"][customExt])
	tg.mu.Unlock()
	if stored != "map[contractor:true costCenter:CC-2 employeeSince:2026-01-01T00:00:00Z skills:[LDAP]]" {
		t.Errorf("the target holds %s", stored)
	}
	// A full cycle reads the extension back from the target and finds
	// nothing to correct.
	if c := d.cycle(t, app, true); c.Counts.Updated != 0 || c.Counts.Created != 0 {
		t.Errorf("full cycle without drift: %+v", c.Counts)
	}
	if w := tg.take(); len(w) != 0 {
		t.Errorf("a full cycle without drift wrote %q", w)
	}
	// Drift in the target's extension is corrected.
	tg.mu.Lock()
	tg.users["u1"][customExt].(map[string]any)["costCenter"] = "CC-X"
	tg.mu.Unlock()
	d.cycle(t, app, true)
	if w := tg.take(); len(w) != 1 || !strings.Contains(w[0], `"path":"`+customExt+`:costCenter","value":"CC-2"`) {
		t.Errorf("correcting drift wrote %q", w)
	}
}

// TestNoSchemasKeepsRFC: a target that serves no /Schemas keeps the RFC
// schemas, and Test Connection says so.
func TestNoSchemasKeepsRFC(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, _ := newExtApp(t, "plain", false, extConfig())
	const app = "plain"
	res, err := d.m.TestConnection(ctx, d.tenant, app)
	if err != nil || !res.Success || !strings.Contains(res.Schema, "serves no /Schemas") {
		t.Fatalf("Test Connection = %+v, %v", res, err)
	}
	view, err := d.m.TargetSchema(ctx, d.tenant, app)
	if err != nil || view.Discovered {
		t.Fatalf("TargetSchema = %+v, %v", view, err)
	}
	seen := 0
	for _, a := range view.Attributes {
		if a.Source != SourceRFC {
			t.Errorf("%s: source %s", a.Path, a.Source)
		}
		if a.ResourceType == "Users" && (a.Path == "nickName" || a.Path == enterpriseExt+":department") {
			seen++
		}
	}
	if seen != 2 {
		t.Errorf("the RFC's nickName and enterprise department are not both listed: %+v", view.Attributes)
	}
	_, err = d.m.UpdateApp(ctx, d.tenant, app, 0, AppChange{Config: extConfig(
		AttributeMapping{Type: Constant, Source: "x", Target: customExt + ":costCenter"})})
	badRequest(t, err, "without discovery", "the Users schema does not define this attribute")
	// The RFC's nickName is a target as before, and no type check applies.
	if _, err := d.m.UpdateApp(ctx, d.tenant, app, 0, AppChange{Config: extConfig(
		AttributeMapping{Type: Direct, Source: "nickName", Target: "nickName"})}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.m.DiscoverSchema(ctx, d.tenant, app); err != nil {
		t.Fatalf("DiscoverSchema of a target without /Schemas: %v", err)
	}
}

// TestDiscoverFerryTarget: a Ferry target serves RFC 7643's schemas at
// /Schemas; both templates' mappings fit them, so Test Connection saves
// them, and a second discovery of the same schema changes nothing the job
// sees.
func TestDiscoverFerryTarget(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := newDirectory(t)
	tg := newTarget(t)
	for _, tmpl := range Templates() {
		app, err := d.m.CreateApp(ctx, d.tenant, NewApp{Name: tmpl, Template: tmpl, TenantURL: tg.url, SecretToken: tg.token})
		if err != nil {
			t.Fatal(err)
		}
		res, err := d.m.TestConnection(ctx, d.tenant, app.Name)
		if err != nil || !res.Success || !strings.Contains(res.Schema, "read and saved: 2 resource types") {
			t.Fatalf("%s: Test Connection = %+v, %v", tmpl, res, err)
		}
		st, err := d.m.Status(ctx, d.tenant, app.Name)
		if err != nil {
			t.Fatal(err)
		}
		before, err := d.m.App(ctx, d.tenant, app.Name)
		if err != nil {
			t.Fatal(err)
		}
		if v, err := d.m.DiscoverSchema(ctx, d.tenant, app.Name); err != nil || !strings.Contains(v.Message, "the same as on") {
			t.Fatalf("%s: DiscoverSchema = %+v, %v", tmpl, v, err)
		}
		if after, err := d.m.App(ctx, d.tenant, app.Name); err != nil || after.Version != before.Version {
			t.Errorf("%s: a rediscovery of the same schema wrote the application (version %d to %d)", tmpl, before.Version, after.Version)
		}
		again, err := d.m.Status(ctx, d.tenant, app.Name)
		if err != nil || again.ConfigVersion != st.ConfigVersion {
			t.Errorf("%s: a rediscovery of the same schema moved the configuration version from %d to %d (%v)", tmpl, st.ConfigVersion, again.ConfigVersion, err)
		}
		v, err := d.m.TargetSchema(ctx, d.tenant, app.Name)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, a := range v.Attributes {
			found = found || a.Path == enterpriseExt+":manager.value" && a.Source == SourceDiscovered
		}
		if !found {
			t.Errorf("%s: the enterprise extension's manager.value is not listed as discovered", tmpl)
		}
	}
}

// TestSchemaMisfitNotSaved: a target schema the saved mappings do not fit
// is not saved; Test Connection passes and says which mapping to change,
// and a discovery asked for is a 409 that says the same.
func TestSchemaMisfitNotSaved(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// The scim template maps title, which the target does not declare.
	d, _ := newExtApp(t, "misfit", true, nil)
	const app = "misfit"
	res, err := d.m.TestConnection(ctx, d.tenant, app)
	want := `read but not saved, as the mappings do not fit it: objects[0] (User) attributes[3] (target "title"): the target does not declare this attribute`
	if err != nil || !res.Success || !strings.Contains(res.Schema, want) {
		t.Fatalf("Test Connection = %+v, %v; want a success whose schema says %q", res, err, want)
	}
	_, err = d.m.DiscoverSchema(ctx, d.tenant, app)
	if e, ok := scim.AsError(err); !ok || e.Status != 409 || !strings.Contains(e.Detail, want) {
		t.Fatalf("DiscoverSchema: %v; want a 409 saying %q", err, want)
	}
	if v, err := d.m.TargetSchema(ctx, d.tenant, app); err != nil || v.Discovered {
		t.Fatalf("TargetSchema = %+v, %v; want nothing saved", v, err)
	}
}
