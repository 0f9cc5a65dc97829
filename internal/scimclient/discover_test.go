package scimclient

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"golang.org/x/time/rate"

	"github.com/ferryid/ferry/internal/scim/schema"
)

// answer is a canned response of discoveryTarget.
type answer struct {
	status int
	body   string
}

// discoveryTarget serves canned answers by path (after /scim/v2) and 404
// for any other.
func discoveryTarget(t *testing.T, answers map[string]answer) *Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, ok := answers[strings.TrimPrefix(r.URL.Path, "/scim/v2")]
		if !ok {
			a = answer{status: 404, body: scimError(404, "", "no such endpoint")}
		}
		w.Header().Set("Content-Type", "application/scim+json")
		w.WriteHeader(a.status)
		w.Write([]byte(a.body))
	}))
	t.Cleanup(srv.Close)
	c, err := New(Config{BaseURL: srv.URL + "/scim/v2", Token: testToken, RateLimit: rate.Inf, Clock: newFakeClock(),
		Retry: RetryPolicy{MaxAttempts: 1}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func readTestdata(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/discovery/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

const customExt = "urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User"

// TestDiscoverSchema reads a target with a custom User extension, served
// as the RFC says, and checks the typed description and the resource type
// the engine builds from it.
func TestDiscoverSchema(t *testing.T) {
	t.Parallel()
	c := discoveryTarget(t, map[string]answer{
		"/Schemas":       {200, readTestdata(t, "schemas.json")},
		"/ResourceTypes": {200, readTestdata(t, "resource_types.json")},
	})
	ts, err := c.DiscoverSchema(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if ts == nil || len(ts.Schemas) != 3 || len(ts.ResourceTypes) != 2 || len(ts.Notes) != 0 {
		t.Fatalf("discovered %+v", ts)
	}
	users := ts.Find("Users")
	if users == nil || len(users.Extensions) != 1 || users.Extensions[0].Schema != customExt {
		t.Fatalf("Users = %+v", users)
	}
	rt := ts.ResourceType("Users", schema.Builtin())
	ext := rt.SchemaByURN(customExt)
	if ext == nil {
		t.Fatal("the extension is not part of the Users resource type")
	}
	for _, tc := range []struct {
		name       string
		typ        schema.Type
		multi      bool
		mutability schema.Mutability
	}{
		{"costCenter", schema.String, false, schema.ReadWrite},
		{"badgeNumber", schema.Integer, false, schema.ReadWrite},
		{"skills", schema.String, true, schema.ReadWrite},
		{"hireDate", schema.DateTime, false, schema.ReadWrite},
		{"legacyId", schema.String, false, schema.ReadOnly},
	} {
		a := ext.Attribute(tc.name)
		if a == nil || a.Type != tc.typ || a.MultiValued != tc.multi || a.Mutability != tc.mutability {
			t.Errorf("%s = %+v, want type %s multiValued %v mutability %s", tc.name, a, tc.typ, tc.multi, tc.mutability)
		}
	}
	// The common attributes the target's /Schemas leave out are there.
	for _, name := range []string{"id", "externalId", "meta", "userName", "emails"} {
		if rt.Schema.Attribute(name) == nil {
			t.Errorf("the Users core schema has no %s", name)
		}
	}
	if rt.Schema.Attribute("nickName") != nil {
		t.Error("nickName, which the target does not declare, is in its core schema")
	}
	if cv := rt.Schema.Attribute("emails").SubAttribute("type").CanonicalValues; strings.Join(cv, ",") != "work,home" {
		t.Errorf("emails.type canonical values = %v", cv)
	}
	if ts.ResourceType("Devices", schema.Builtin()) != nil {
		t.Error("a resource type the target does not serve was found")
	}
}

// TestDiscoverSchemaAdoptsExtensions: a schema served in /Schemas that
// /ResourceTypes does not list is an extension of the resource type its id
// ends with.
func TestDiscoverSchemaAdoptsExtensions(t *testing.T) {
	t.Parallel()
	rts := strings.Replace(readTestdata(t, "resource_types.json"),
		`"schemaExtensions": [{"schema": "urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User", "required": false}]`,
		`"schemaExtensions": []`, 1)
	c := discoveryTarget(t, map[string]answer{
		"/Schemas":       {200, readTestdata(t, "schemas.json")},
		"/ResourceTypes": {200, rts},
	})
	ts, err := c.DiscoverSchema(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if rt := ts.ResourceType("Users", schema.Builtin()); rt == nil || rt.SchemaByURN(customExt) == nil {
		t.Fatalf("Users = %+v", ts.Find("Users"))
	}
	if g := ts.Find("Groups"); len(g.Extensions) != 0 {
		t.Errorf("Groups took extensions %+v", g.Extensions)
	}
	if len(ts.Notes) != 1 || !strings.Contains(ts.Notes[0], "is not among /Users's extensions") {
		t.Errorf("notes = %q", ts.Notes)
	}
}

// TestDiscoverSchemaLenient reads what targets serve in the wild: a bare
// array, odd case, characteristics left out or written as text, no
// /ResourceTypes.
func TestDiscoverSchemaLenient(t *testing.T) {
	t.Parallel()
	c := discoveryTarget(t, map[string]answer{
		"/Schemas": {200, `[
			{"ID": "urn:ietf:params:scim:schemas:core:2.0:User", "Attributes": [
				{"Name": "userName", "Type": "String", "Required": "True"},
				{"name": "active", "type": "Boolean", "mutability": "READWRITE"},
				{"name": "title"},
				{"name": "photo", "type": "blob"},
				{"type": "string"}
			]},
			{"id": "urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User", "attributes": [
				{"name": "costCenter", "multiValued": "false", "mutability": "sometimes"}
			]},
			{"name": "no id"}
		]`},
		"/ResourceTypes": {501, ""},
	})
	ts, err := c.DiscoverSchema(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	rt := ts.ResourceType("users", schema.Builtin())
	if rt == nil || rt.SchemaByURN(customExt) == nil {
		t.Fatalf("inferred Users = %+v (notes %q)", rt, ts.Notes)
	}
	un := rt.Schema.Attribute("username")
	if un.Type != schema.String || !un.Required || un.Mutability != schema.ReadWrite {
		t.Errorf("userName = %+v", un)
	}
	if a := rt.Schema.Attribute("active"); a.Type != schema.Boolean || a.Mutability != schema.ReadWrite {
		t.Errorf("active = %+v", a)
	}
	if a := rt.Schema.Attribute("title"); a.Type != schema.String || a.Returned != schema.Default || a.Uniqueness != schema.None {
		t.Errorf("title, with no characteristics, = %+v; want RFC 7643 §2.2's defaults", a)
	}
	if rt.Schema.Attribute("photo") != nil {
		t.Error("an attribute of an unknown type was kept")
	}
	if a := rt.SchemaByURN(customExt).Attribute("costCenter"); a.MultiValued || a.Mutability != schema.ReadWrite {
		t.Errorf("costCenter = %+v", a)
	}
	notes := strings.Join(ts.Notes, "\n")
	for _, want := range []string{`photo has the unknown type "blob"; it is left out`, "without a name", `/Schemas[2] has no id`,
		`unknown mutability "sometimes"; readWrite is assumed`, "serves no /ResourceTypes; Users and Groups are inferred"} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes lack %q:\n%s", want, notes)
		}
	}
	if ts.Find("Groups") != nil {
		t.Error("Groups inferred though the target serves no Group schema")
	}
}

// TestDiscoverSchemaNotServed checks that a target without /Schemas means
// no discovery and no error, while a refused token is an error.
func TestDiscoverSchemaNotServed(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		answers  map[string]answer
		wantCode Code
	}{
		{name: "404", answers: map[string]answer{}},
		{name: "501", answers: map[string]answer{"/Schemas": {501, scimError(501, "", "not implemented")}}},
		{name: "405", answers: map[string]answer{"/Schemas": {405, ""}}},
		{name: "empty list", answers: map[string]answer{"/Schemas": {200, `{"totalResults":0,"Resources":[]}`}}},
		{name: "401", answers: map[string]answer{"/Schemas": {401, scimError(401, "", "bad token")}}, wantCode: CodeUnauthorized},
		{name: "not JSON", answers: map[string]answer{"/Schemas": {200, "<html>"}}, wantCode: CodeServiceIncompatible},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ts, err := discoveryTarget(t, tc.answers).DiscoverSchema(context.Background())
			if CodeOf(err) != tc.wantCode || ts != nil {
				t.Fatalf("DiscoverSchema = %+v, %v; want nil and code %q", ts, err, tc.wantCode)
			}
			if err != nil && strings.Contains(err.Error(), testToken) {
				t.Fatal("the error shows the token")
			}
		})
	}
}

// FuzzDiscoverSchemas reads any body as /Schemas: it never panics, and
// what it keeps is what the protocol core can use: known types and
// characteristics, no complex sub-attribute, a Users resource type that
// resolves its own attributes.
func FuzzDiscoverSchemas(f *testing.F) {
	b, err := os.ReadFile("testdata/discovery/schemas.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(`[{"id":"urn:ietf:params:scim:schemas:core:2.0:User","attributes":[{"name":"a","type":"Complex","subAttributes":[{"name":"b","type":"complex"}]}]}]`))
	f.Add([]byte(`{"Resources":[{"ID":"x:User","Attributes":[{"Name":"n","Mutability":"READONLY","multiValued":"True"}]}]}`))
	f.Add([]byte(`[{"id":"a:User","name":"Users","schema":"noColon","attributes":[]},{"id":"b:User","schema":"c:","endpoint":"x"}]`))
	rfc := schema.Builtin()
	known := map[schema.Type]bool{schema.String: true, schema.Boolean: true, schema.Decimal: true, schema.Integer: true,
		schema.DateTime: true, schema.Binary: true, schema.Reference: true, schema.Complex: true}
	f.Fuzz(func(t *testing.T, body []byte) {
		items, problem := discoveryItems(body)
		if problem != "" {
			return
		}
		ts := &TargetSchema{}
		ts.addSchemas(items)
		// The same body as /ResourceTypes, as a target might answer.
		for i, it := range items {
			if rt, _ := parseResourceType(it, fmt.Sprint(i)); rt != nil {
				ts.ResourceTypes = append(ts.ResourceTypes, *rt)
			}
		}
		if len(ts.ResourceTypes) == 0 {
			ts.inferResourceTypes()
		} else {
			ts.adoptExtensions()
		}
		for _, s := range ts.Schemas {
			for _, a := range s.Attributes {
				if !known[a.Type] || a.Mutability == "" || a.Returned == "" || a.Uniqueness == "" {
					t.Fatalf("%s: %+v", s.ID, a)
				}
				for _, sub := range a.SubAttributes {
					if sub.Type == schema.Complex || !known[sub.Type] {
						t.Fatalf("%s.%s: sub-attribute %+v", s.ID, a.Name, sub)
					}
				}
			}
		}
		rt := ts.ResourceType("Users", rfc)
		if rt == nil {
			return
		}
		for _, a := range rt.Schema.Attributes {
			if _, got := rt.Resolve("", a.Name); got == nil {
				t.Fatalf("Users does not resolve its own attribute %q", a.Name)
			}
		}
	})
}
