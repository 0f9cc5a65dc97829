package server

import (
	"encoding/json"
	"net/http"
	"os"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ferryid/ferry/internal/csvimport"
	"github.com/ferryid/ferry/internal/directory"
	"github.com/ferryid/ferry/internal/events"
	"github.com/ferryid/ferry/internal/extensions"
	"github.com/ferryid/ferry/internal/ferrytest"
	"github.com/ferryid/ferry/internal/provision"
	"github.com/ferryid/ferry/internal/provision/scoping"
	"github.com/ferryid/ferry/internal/sourcesync"
	"github.com/ferryid/ferry/internal/webhooks"
)

// openAPIFile is the admin API's description, kept in the repository for
// clients to generate code from.
const openAPIFile = "../../api/openapi.json"

// openAPISchema is the part of a JSON Schema the tests read.
type openAPISchema struct {
	Ref                  string                    `json:"$ref"`
	Type                 string                    `json:"type"`
	Properties           map[string]*openAPISchema `json:"properties"`
	Required             []string                  `json:"required"`
	Items                *openAPISchema            `json:"items"`
	Enum                 []string                  `json:"enum"`
	AdditionalProperties any                       `json:"additionalProperties"`
}

type openAPIParameter struct {
	Ref  string `json:"$ref"`
	Name string `json:"name"`
	In   string `json:"in"`
}

type openAPIDoc struct {
	OpenAPI    string                                `json:"openapi"`
	Servers    []struct{ URL string }                `json:"servers"`
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		Schemas    map[string]*openAPISchema   `json:"schemas"`
		Parameters map[string]openAPIParameter `json:"parameters"`
	} `json:"components"`
}

func readOpenAPI(t *testing.T) (openAPIDoc, []byte) {
	t.Helper()
	raw, err := os.ReadFile(openAPIFile)
	if err != nil {
		t.Fatal(err)
	}
	var doc openAPIDoc
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("%s: %v", openAPIFile, err)
	}
	return doc, raw
}

// TestOpenAPIRoutes holds api/openapi.json to the routes the server
// serves: the same (method, path) pairs, every path parameter declared,
// and exactly the query parameters each route takes (the router refuses
// any other).
func TestOpenAPIRoutes(t *testing.T) {
	t.Parallel()
	doc, _ := readOpenAPI(t)
	if doc.OpenAPI != "3.1.0" || len(doc.Servers) != 1 || doc.Servers[0].URL != adminPrefix {
		t.Errorf("openapi %q, servers %+v: want 3.1.0 served at %s", doc.OpenAPI, doc.Servers, adminPrefix)
	}
	var documented, served []string
	queries := map[string][]string{} // "METHOD path" → documented query parameters, sorted
	for path, item := range doc.Paths {
		var params []string
		if raw, ok := item["parameters"]; ok {
			params = append(params, parameterNames(t, doc, raw)...)
		}
		for method, raw := range item {
			if method == "parameters" {
				continue
			}
			documented = append(documented, strings.ToUpper(method)+" "+path)
			var op struct {
				Parameters json.RawMessage `json:"parameters"`
			}
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Fatal(err)
			}
			all := params
			if op.Parameters != nil {
				all = append(slices.Clone(params), parameterNames(t, doc, op.Parameters)...)
			}
			for _, seg := range strings.Split(path, "/") {
				if name, ok := strings.CutPrefix(seg, "{"); ok && !slices.Contains(all, "path:"+strings.TrimSuffix(name, "}")) {
					t.Errorf("%s %s: path parameter %s is not declared", method, path, seg)
				}
			}
			var query []string
			for _, p := range all {
				if name, ok := strings.CutPrefix(p, "query:"); ok {
					query = append(query, name)
				}
			}
			sort.Strings(query)
			queries[strings.ToUpper(method)+" "+path] = query
		}
	}
	// The document itself is served outside adminRoutes, unauthenticated.
	served = append(served, "GET "+openAPIPath)
	for _, rt := range adminRoutes() {
		served = append(served, rt.method+" "+rt.path)
		want := slices.Sorted(slices.Values(rt.query))
		if got, ok := queries[rt.method+" "+rt.path]; ok && !slices.Equal(got, want) {
			t.Errorf("%s %s: api/openapi.json documents query parameters %q; the route takes %q", rt.method, rt.path, got, want)
		}
	}
	for _, r := range served {
		if !slices.Contains(documented, r) {
			t.Errorf("%s is served but not in api/openapi.json", r)
		}
	}
	for _, r := range documented {
		if !slices.Contains(served, r) {
			t.Errorf("%s is in api/openapi.json but not served", r)
		}
	}
}

// parameterNames returns "in:name" of a parameter list, resolving refs.
func parameterNames(t *testing.T, doc openAPIDoc, raw json.RawMessage) []string {
	t.Helper()
	var list []openAPIParameter
	if err := json.Unmarshal(raw, &list); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range list {
		if p.Ref != "" {
			name, _ := strings.CutPrefix(p.Ref, "#/components/parameters/")
			var ok bool
			if p, ok = doc.Components.Parameters[name]; !ok {
				t.Errorf("parameter %s is not defined", p.Ref)
				continue
			}
		}
		names = append(names, p.In+":"+p.Name)
	}
	return names
}

// TestOpenAPIRefs checks that every $ref of the document resolves.
func TestOpenAPIRefs(t *testing.T) {
	t.Parallel()
	_, raw := readOpenAPI(t)
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["$ref"].(string); ok {
				target := doc
				for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
					m, _ := target.(map[string]any)
					target = m[part]
				}
				if target == nil {
					t.Errorf("$ref %s does not resolve", ref)
				}
			}
			for _, e := range v {
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(doc)
}

// TestOpenAPISchemas holds each schema to the Go type the API encodes or
// decodes: the same property names as the JSON tags, JSON types that match
// the fields', and (except where a request documents more) required
// exactly the fields that are always encoded. Request bodies refuse unknown
// fields, and say so.
func TestOpenAPISchemas(t *testing.T) {
	t.Parallel()
	doc, _ := readOpenAPI(t)
	types := map[string]any{
		"Error":              adminError{},
		"NewApp":             provision.NewApp{},
		"AppChange":          provision.AppChange{},
		"AppView":            provision.AppView{},
		"Config":             provision.Config{},
		"ObjectMapping":      provision.ObjectMapping{},
		"Actions":            provision.Actions{},
		"AttributeMapping":   provision.AttributeMapping{},
		"ScopingFilter":      scoping.Filter{},
		"ScopingClause":      scoping.Clause{},
		"Principal":          provision.Principal{},
		"AssignRequest":      assignRequest{},
		"AssignmentView":     provision.AssignmentView{},
		"TestResult":         provision.TestResult{},
		"TargetSchemaView":   provision.TargetSchemaView{},
		"TargetAttribute":    provision.TargetAttribute{},
		"Status":             provision.Status{},
		"CycleStatus":        provision.CycleStatus{},
		"Counts":             provision.Counts{},
		"LogRecord":          provision.LogRecord{},
		"Step":               provision.Step{},
		"ModifiedProperty":   provision.ModifiedProperty{},
		"Identity":           provision.Identity{},
		"ErrorInfo":          provision.ErrorInfo{},
		"OnDemandRequest":    provision.OnDemandRequest{},
		"OnDemandResult":     provision.OnDemandResult{},
		"Role":               provision.Role{},
		"Failure":            provision.Failure{},
		"DeletionThreshold":  provision.DeletionThreshold{},
		"FailureThreshold":   provision.FailureThreshold{},
		"Quarantine":         provision.Quarantine{},
		"StagedDeletes":      provision.StagedDeletes{},
		"Plan":               provision.Plan{},
		"PlannedAction":      provision.PlannedAction{},
		"AuditEntry":         provision.AuditEntry{},
		"AuditDetails":       provision.AuditDetails{},
		"AuditChange":        provision.AuditChange{},
		"ImportRequest":      csvimport.Request{},
		"ImportResult":       csvimport.Result{},
		"ImportCounts":       csvimport.Counts{},
		"ImportRowError":     csvimport.RowError{},
		"ImportProgress":     csvimport.Progress{},
		"DirectoryUser":      directory.User{},
		"DirectoryGroup":     directory.Group{},
		"DirectoryMember":    directory.Member{},
		"UserList":           directory.UserList{},
		"GroupList":          directory.GroupList{},
		"NewUser":            directory.NewUser{},
		"NewGroup":           directory.NewGroup{},
		"NewMember":          directory.NewMember{},
		"NewSource":          sourcesync.CreateInput{},
		"SourceChange":       sourcesync.UpdateInput{},
		"SourceConfig":       sourcesync.Config{},
		"SourceRule":         sourcesync.Rule{},
		"Source":             sourcesync.Source{},
		"SourceStatus":       sourcesync.Status{},
		"SourcePass":         sourcesync.Pass{},
		"SourceCounts":       sourcesync.Counts{},
		"SourceMark":         sourcesync.Mark{},
		"SourceDeleteResult": sourcesync.DeleteResult{},
		"Event":              events.Event{},
		"EventObject":        events.Object{},
		"EventPage":          events.Page{},
		"NewWebhook":         webhooks.NewWebhook{},
		"Webhook":            webhooks.View{},
		"WebhookDelivery":    webhooks.Delivery{},
		"WebhookTestResult":  webhooks.TestResult{},
		"NewExtensionSchema": extensions.NewSchema{},
		"ExtensionSchema":    extensions.View{},
		"SchemaRemoveResult": extensions.RemoveResult{},
	}
	// Request bodies, and the types inside them, which refuse unknown
	// fields.
	closed := []string{"NewApp", "AppChange", "Config", "DeletionThreshold", "FailureThreshold", "Role", "ObjectMapping", "Actions",
		"AttributeMapping", "ScopingFilter", "ScopingClause", "Principal", "AssignRequest", "OnDemandRequest", "ImportRequest", "NewUser", "NewGroup", "NewMember",
		"NewSource", "SourceChange", "SourceConfig", "SourceRule", "NewWebhook", "NewExtensionSchema"}
	// NewApp documents what creating an application needs, which is less
	// than every field its Go type always encodes.
	requiredByDesign := map[string][]string{"NewApp": {"name", "template"}}

	for name := range doc.Components.Schemas {
		if _, ok := types[name]; !ok {
			t.Errorf("schema %s has no Go type in this test", name)
		}
	}
	for name, v := range types {
		sc, ok := doc.Components.Schemas[name]
		if !ok {
			t.Errorf("schema %s is missing", name)
			continue
		}
		typ := reflect.TypeOf(v)
		var props, required []string
		for i := range typ.NumField() {
			f := typ.Field(i)
			tag := f.Tag.Get("json")
			prop, opts, _ := strings.Cut(tag, ",")
			if prop == "" || prop == "-" {
				continue
			}
			props = append(props, prop)
			if !strings.Contains(opts, "omitempty") && !strings.Contains(opts, "omitzero") {
				required = append(required, prop)
			}
			if ps, ok := sc.Properties[prop]; ok {
				if want, got := jsonType(f.Type), schemaType(doc, ps); want != "" && got != want {
					t.Errorf("%s.%s is %s in the schema, %s in Go (%s)", name, prop, got, want, f.Type)
				}
			}
		}
		var documented []string
		for p := range sc.Properties {
			documented = append(documented, p)
		}
		if r, ok := requiredByDesign[name]; ok {
			required = r
		}
		for _, l := range [][]string{props, required, documented, sc.Required} {
			sort.Strings(l)
		}
		if !slices.Equal(documented, props) {
			t.Errorf("%s: schema properties %v, Go fields %v", name, documented, props)
		}
		if !slices.Equal(sc.Required, required) {
			t.Errorf("%s: schema requires %v, want %v", name, sc.Required, required)
		}
		if slices.Contains(closed, name) != (sc.AdditionalProperties == false) {
			t.Errorf("%s: additionalProperties %v; request types are closed", name, sc.AdditionalProperties)
		}
	}

	ops := doc.Components.Schemas["ScopingClause"].Properties["operator"].Enum
	var want []string
	for _, op := range scoping.Operators() {
		want = append(want, string(op))
	}
	if !slices.Equal(ops, want) {
		t.Errorf("operator enum %q, want %q", ops, want)
	}
}

// jsonType is the JSON type encoding/json writes for t, or "" when a
// custom encoding decides.
func jsonType(t reflect.Type) string {
	if t == reflect.TypeFor[time.Time]() {
		return "string"
	}
	if t.Implements(reflect.TypeFor[json.Marshaler]()) {
		return ""
	}
	switch t.Kind() {
	case reflect.Pointer:
		return jsonType(t.Elem())
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int32, reflect.Int64:
		return "integer"
	case reflect.Float64:
		return "number"
	case reflect.Slice:
		return "array"
	case reflect.Struct, reflect.Map:
		return "object"
	}
	return t.Kind().String()
}

// schemaType is a property schema's type, following a $ref.
func schemaType(doc openAPIDoc, s *openAPISchema) string {
	if name, ok := strings.CutPrefix(s.Ref, "#/components/schemas/"); ok {
		if target, ok := doc.Components.Schemas[name]; ok {
			return target.Type
		}
	}
	return s.Type
}

// TestOpenAPILogValues holds the documented provisioning actions and
// statuses (of log records, of failures, of plans, and of the logs query)
// and audit actions to the engine's.
func TestOpenAPILogValues(t *testing.T) {
	t.Parallel()
	doc, _ := readOpenAPI(t)
	actions := []string{provision.ActionCreate, provision.ActionUpdate, provision.ActionDisable, provision.ActionDelete, provision.ActionOther}
	statuses := []string{provision.StatusSuccess, provision.StatusFailure, provision.StatusSkipped, provision.StatusWarning}
	schemas := doc.Components.Schemas
	for _, c := range []struct {
		where string
		got   []string
		want  []string
	}{
		{"LogRecord.provisioningAction", schemas["LogRecord"].Properties["provisioningAction"].Enum, actions},
		{"LogRecord.status", schemas["LogRecord"].Properties["status"].Enum, statuses},
		{"Failure.provisioningAction", schemas["Failure"].Properties["provisioningAction"].Enum, actions},
		{"PlannedAction.provisioningAction", schemas["PlannedAction"].Properties["provisioningAction"].Enum, actions},
		{"AuditEntry.action", schemas["AuditEntry"].Properties["action"].Enum, provision.AuditActions()},
	} {
		if !slices.Equal(c.got, c.want) {
			t.Errorf("%s: enum %q, want %q", c.where, c.got, c.want)
		}
	}
	var op struct {
		Parameters []struct {
			Name   string        `json:"name"`
			Schema openAPISchema `json:"schema"`
		} `json:"parameters"`
	}
	if err := json.Unmarshal(doc.Paths["/apps/{name}/logs"]["get"], &op); err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, p := range op.Parameters {
		want := map[string][]string{"action": actions, "status": statuses}[p.Name]
		if want == nil {
			continue
		}
		found++
		if !slices.Equal(p.Schema.Enum, want) {
			t.Errorf("logs query %s: enum %q, want %q", p.Name, p.Schema.Enum, want)
		}
	}
	if found != 2 {
		t.Errorf("the logs query documents %d of action and status", found)
	}
}

// TestOpenAPIServed checks that the server serves api/openapi.json as it
// is, without a token.
func TestOpenAPIServed(t *testing.T) {
	t.Parallel()
	_, want := readOpenAPI(t)
	ts := newTestServer(t)
	r := ferrytest.Request(t, "", "GET", ts.http.URL+adminPrefix+openAPIPath, "", "")
	if r.Status != http.StatusOK || r.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("status %d, Content-Type %q, want 200 application/json: %s", r.Status, r.Header.Get("Content-Type"), r.Raw)
	}
	if r.Raw != string(want) {
		t.Fatal("the served document differs from api/openapi.json")
	}
}
