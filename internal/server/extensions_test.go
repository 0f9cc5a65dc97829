package server

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

const (
	acmeURN = "urn:ietf:params:scim:schemas:extension:acme:2.0:User"
	// acmeSchema is what an administrator declares for the attributes
	// Entra's admin added to the target's attribute list.
	acmeSchema = `{"id":"` + acmeURN + `","name":"AcmeUser","description":"Acme's user attributes","attributes":[
		{"name":"costCenter","type":"string","description":"The cost centre"},
		{"name":"level","type":"integer"},
		{"name":"tier","type":"string","canonicalValues":["gold","silver"]},
		{"name":"badge","type":"string","mutability":"immutable"},
		{"name":"pin","type":"string","mutability":"writeOnly","returned":"never"},
		{"name":"note","type":"string","returned":"request"},
		{"name":"tags","type":"string","multiValued":true},
		{"name":"office","type":"complex","subAttributes":[{"name":"building","type":"string"},{"name":"floor","type":"integer"}]}]}`
)

// scim sends a SCIM request to the admin server with token and decodes
// the answer.
func (as *adminServer) scim(t *testing.T, token, method, path, body string) response {
	t.Helper()
	r := as.call(t, token, method, "/scim/v2"+path, body, "Content-Type", "application/scim+json")
	out := response{Status: r.Status, Header: r.Header, Raw: r.Raw}
	if r.Raw != "" {
		if err := json.Unmarshal([]byte(r.Raw), &out.Body); err != nil {
			t.Fatalf("%s %s: %v\n%s", method, path, err, r.Raw)
		}
	}
	return out
}

// declareAcme declares acmeSchema through the admin API of the default
// tenant.
func declareAcme(t *testing.T, as *adminServer) {
	t.Helper()
	r := as.call(t, as.AdminToken, "POST", "/api/v1/schemas", `{"resourceType":"User","schema":`+acmeSchema+`}`)
	if r.Status != http.StatusCreated || r.Header.Get("Location") != "/api/v1/schemas/"+acmeURN {
		t.Fatalf("declare: %d %s (Location %q)", r.Status, r.Raw, r.Header.Get("Location"))
	}
}

// TestExtensionSchemaLifecycle follows one declared extension through the
// SCIM API: discovery, POST, GET, filters, sort, PATCH in its three forms,
// PUT, the characteristics it declares, and its removal.
func TestExtensionSchemaLifecycle(t *testing.T) {
	t.Parallel()
	as := newAdminTestServer(t, true)
	declareAcme(t, as)
	tok := as.SCIMToken
	other := as.token(t, "other", "scim")
	x := acmeURN + ":"

	// Discovery: this tenant's /Schemas and /ResourceTypes, not another's.
	r := as.scim(t, tok, "GET", "/Schemas/"+acmeURN, "")
	r.wantStatus(t, "GET /Schemas/urn", 200)
	r.expect(t, "GET /Schemas/urn", map[string]any{"id": acmeURN, "name": "AcmeUser", "attributes.0.name": "costCenter",
		"attributes.0.mutability": "readWrite", "attributes.0.returned": "default", "attributes.0.uniqueness": "none",
		"attributes.2.canonicalValues.1": "silver", "attributes.7.subAttributes.1.type": "integer",
		"meta.location": as.URL + "/scim/v2/Schemas/" + acmeURN})
	if r := as.scim(t, tok, "GET", "/Schemas", ""); !strings.Contains(r.Raw, `"id":"`+acmeURN+`"`) {
		t.Errorf("/Schemas does not list the declared schema: %s", r.Raw)
	}
	r = as.scim(t, tok, "GET", "/ResourceTypes/User", "")
	r.expect(t, "GET /ResourceTypes/User", map[string]any{"schemaExtensions.1.schema": acmeURN, "schemaExtensions.1.required": false})
	if r := as.scim(t, other, "GET", "/Schemas", ""); strings.Contains(r.Raw, acmeURN) {
		t.Errorf("another tenant's /Schemas lists the schema: %s", r.Raw)
	}
	as.scim(t, other, "GET", "/Schemas/"+acmeURN, "").wantError(t, "another tenant's /Schemas/urn", 404, "")
	if r := as.scim(t, other, "GET", "/ResourceTypes/User", ""); strings.Contains(r.Raw, acmeURN) {
		t.Errorf("another tenant's /ResourceTypes lists the schema: %s", r.Raw)
	}

	// POST: the object form, and Entra's URN-qualified keys at the top
	// level (its custom extension URN is not in "schemas").
	r = as.scim(t, tok, "POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ada",
		"`+acmeURN+`":{"costCenter":"CC-100","level":3,"tier":"Gold","badge":"B1","pin":"1234","note":"hi","tags":["red","blue"],
		"office":{"building":"North","floor":"12x"}}}`)
	r.wantError(t, "a complex sub-attribute of the wrong type", 400, "invalidValue")
	if !strings.Contains(r.Raw, "office.floor") {
		t.Errorf("the error does not name the attribute: %s", r.Raw)
	}
	r = as.scim(t, tok, "POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ada",
		"`+acmeURN+`":{"costCenter":"CC-100","level":3,"tier":"Gold","badge":"B1","pin":"1234","note":"hi","tags":["red","blue"],
		"office":{"building":"North","floor":12}}}`)
	r.wantStatus(t, "POST with the extension", 201)
	ada, _ := r.Body["id"].(string)
	r.expect(t, "POST with the extension", map[string]any{
		"schemas.1": acmeURN, "[" + acmeURN + "].costCenter": "CC-100", "[" + acmeURN + "].level": 3,
		"[" + acmeURN + "].tags.1": "blue", "[" + acmeURN + "].office.floor": 12,
		"[" + acmeURN + "].pin": absent, "[" + acmeURN + "].note": absent})
	r = as.scim(t, tok, "POST", "/Users", `{"userName":"bob","`+x+`costCenter":"cc-200","`+x+`level":"20","`+x+`tier":"silver"}`)
	r.wantError(t, "an integer given as a string", 400, "invalidValue")
	r = as.scim(t, tok, "POST", "/Users", `{"userName":"bob","`+x+`costCenter":"cc-200","`+x+`level":20,"`+x+`office.building":"South"}`)
	r.wantStatus(t, "POST with Entra's URN-qualified keys", 201)
	bob, _ := r.Body["id"].(string)
	r.expect(t, "POST with Entra's URN-qualified keys", map[string]any{"[" + acmeURN + "].costCenter": "cc-200", "[" + acmeURN + "].office.building": "South"})
	as.scim(t, tok, "POST", "/Users", `{"userName":"cyd"}`).wantStatus(t, "POST without the extension", 201)

	// GET honours returned: never is never shown, request only when asked.
	r = as.scim(t, tok, "GET", "/Users/"+ada+"?attributes="+url.QueryEscape(x+"note,"+x+"pin"), "")
	r.expect(t, "GET asking for note and pin", map[string]any{"[" + acmeURN + "].note": "hi", "[" + acmeURN + "].pin": absent, "userName": absent})
	r = as.scim(t, tok, "GET", "/Users/"+ada+"?excludedAttributes="+url.QueryEscape(x+"costCenter"), "")
	r.expect(t, "GET excluding costCenter", map[string]any{"[" + acmeURN + "].costCenter": absent, "[" + acmeURN + "].level": 3})

	// Filters and sorting, answered by the database.
	for _, tc := range []struct {
		filter string
		want   []string
	}{
		{x + `costCenter eq "cc-100"`, []string{"ada"}},
		{x + `costCenter co "C-"`, []string{"ada", "bob"}},
		{x + `costCenter sw "cc-2"`, []string{"bob"}},
		{x + `level gt 5`, []string{"bob"}},
		{x + `level le 3`, []string{"ada"}},
		{x + `tags eq "BLUE"`, []string{"ada"}},
		{x + `office.building eq "south"`, []string{"bob"}},
		{x + `costCenter pr`, []string{"ada", "bob"}},
		{`not (` + x + `costCenter pr)`, []string{"cyd"}},
	} {
		r := as.scim(t, tok, "GET", "/Users?sortBy="+url.QueryEscape(x+"level")+"&filter="+url.QueryEscape(tc.filter), "")
		r.wantStatus(t, tc.filter, 200)
		var got []string
		for _, res := range r.Body["Resources"].([]any) {
			got = append(got, res.(map[string]any)["userName"].(string))
		}
		if strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("filter %s: got %v, want %v", tc.filter, got, tc.want)
		}
	}

	// PATCH: add, replace and remove by full URN path, and the value-object
	// form keyed by the extension's URN.
	patch := func(what, ops string) response {
		t.Helper()
		return as.scim(t, tok, "PATCH", "/Users/"+bob, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[`+ops+`]}`)
	}
	r = patch("add", `{"op":"add","path":"`+x+`tags","value":["green"]},{"op":"Replace","path":"`+x+`costCenter","value":"CC-300"}`)
	r.wantStatus(t, "PATCH add and replace", 200)
	r.expect(t, "PATCH add and replace", map[string]any{"[" + acmeURN + "].tags.0": "green", "[" + acmeURN + "].costCenter": "CC-300"})
	r = patch("value object", `{"op":"replace","value":{"`+acmeURN+`":{"level":7,"tier":"gold"}}}`)
	r.wantStatus(t, "PATCH the value-object form", 200)
	r.expect(t, "PATCH the value-object form", map[string]any{"[" + acmeURN + "].level": 7, "[" + acmeURN + "].tier": "gold", "[" + acmeURN + "].costCenter": "CC-300"})
	r = patch("remove", `{"op":"remove","path":"`+x+`costCenter"}`)
	r.wantStatus(t, "PATCH remove", 200)
	r.expect(t, "PATCH remove", map[string]any{"[" + acmeURN + "].costCenter": absent, "[" + acmeURN + "].level": 7})
	r = as.scim(t, tok, "GET", "/Users?filter="+url.QueryEscape(x+`costCenter co "300"`), "")
	r.expect(t, "a filter after the remove", map[string]any{"totalResults": 0})
	r = as.scim(t, tok, "GET", "/Users?filter="+url.QueryEscape(x+`tags eq "green"`), "")
	r.expect(t, "a filter on the added value", map[string]any{"totalResults": 1, "Resources.0.id": bob})

	// The declared characteristics.
	patch("canonical", `{"op":"replace","path":"`+x+`tier","value":"bronze"}`).wantError(t, "a value not among canonicalValues", 400, "invalidValue")
	patch("set immutable", `{"op":"add","path":"`+x+`badge","value":"B2"}`).wantStatus(t, "setting an immutable attribute once", 200)
	patch("change immutable", `{"op":"replace","path":"`+x+`badge","value":"B3"}`).wantError(t, "changing an immutable attribute", 400, "mutability")
	r = patch("unknown attribute", `{"op":"add","path":"`+x+`costCentre","value":"x"}`)
	r.wantError(t, "an attribute the declared schema does not define", 400, "invalidValue")
	if !strings.Contains(r.Raw, "costCentre") || !strings.Contains(r.Raw, "not defined by the extension schema") {
		t.Errorf("the error does not name the attribute and the schema: %s", r.Raw)
	}

	// PUT replaces the extension like any attribute.
	r = as.scim(t, tok, "PUT", "/Users/"+bob, `{"userName":"bob","`+acmeURN+`":{"level":8,"badge":"B2"}}`)
	r.wantStatus(t, "PUT", 200)
	r.expect(t, "PUT", map[string]any{"[" + acmeURN + "].level": 8, "[" + acmeURN + "].tags": absent})

	// Another tenant has not declared the schema: its attributes are
	// refused rather than lost.
	r = as.scim(t, other, "POST", "/Users", `{"userName":"eve","`+x+`costCenter":"CC-1"}`)
	r.wantError(t, "an undeclared extension's attribute", 400, "invalidValue")
	if !strings.Contains(r.Raw, acmeURN) || !strings.Contains(r.Raw, "ferry schemas add") {
		t.Errorf("the refusal does not name the URN and the command: %s", r.Raw)
	}

	// Removal: refused while used, then forced.
	rr := as.call(t, as.AdminToken, "DELETE", "/api/v1/schemas/"+acmeURN, "")
	rr.wantError(t, 409, "", "2 User resource(s) hold values")
	rr = as.call(t, as.AdminToken, "DELETE", "/api/v1/schemas/"+strings.ToUpper(acmeURN)+"?force=true", "")
	if rr.Status != 200 || !strings.Contains(rr.Raw, `"resourcesChanged":2`) {
		t.Fatalf("forced removal: %d %s", rr.Status, rr.Raw)
	}
	r = as.scim(t, tok, "GET", "/Users/"+ada, "")
	r.expect(t, "GET after the removal", map[string]any{"[" + acmeURN + "]": absent, "schemas.1": absent, "meta.version": `W/"2"`})
	as.scim(t, tok, "GET", "/Schemas/"+acmeURN, "").wantError(t, "/Schemas/urn after the removal", 404, "")
	as.scim(t, tok, "POST", "/Users", `{"userName":"fay","`+x+`costCenter":"CC-1"}`).wantError(t, "the removed extension's attribute", 400, "invalidValue")
}

// TestExtensionSchemaAdmin covers the admin API's checks of a declaration
// and its list, show and remove.
func TestExtensionSchemaAdmin(t *testing.T) {
	t.Parallel()
	as := newAdminTestServer(t, true)
	add := func(body string) adminResponse {
		t.Helper()
		return as.call(t, as.AdminToken, "POST", "/api/v1/schemas", body)
	}
	schemaWith := func(id, attrs string) string {
		return `{"schema":{"id":"` + id + `","attributes":[` + attrs + `]}}`
	}
	for _, tc := range []struct{ name, body, detail string }{
		{"not a URN", schemaWith("acme-user", `{"name":"a"}`), `schema id "acme-user" is not a URN`},
		{"a URN with a space", schemaWith("urn:acme:my user", `{"name":"a"}`), `the character ' ' is not allowed`},
		{"a core URN", schemaWith("urn:ietf:params:scim:schemas:core:2.0:Device", `{"name":"a"}`), "which the SCIM RFCs reserve"},
		{"the enterprise URN", schemaWith("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", `{"name":"a"}`), "is already defined"},
		{"an unknown type", schemaWith("urn:acme:2.0:User", `{"name":"a","type":"text"}`), `urn:acme:2.0:User:a: unknown type "text"`},
		{"a bad name", schemaWith("urn:acme:2.0:User", `{"name":"2fa"}`), `attribute name "2fa" is not valid`},
		{"a name twice", schemaWith("urn:acme:2.0:User", `{"name":"a"},{"name":"A"}`), "urn:acme:2.0:User:A: defined twice"},
		{"nested complex", schemaWith("urn:acme:2.0:User", `{"name":"a","type":"complex","subAttributes":[{"name":"b","type":"complex","subAttributes":[{"name":"c"}]}]}`), "cannot nest"},
		{"uniqueness server", schemaWith("urn:acme:2.0:User", `{"name":"a","uniqueness":"server"}`), `declare uniqueness "none"`},
		{"a misspelt characteristic", schemaWith("urn:acme:2.0:User", `{"name":"a","multiValue":true}`), `unknown field "multiValue"`},
		{"no attributes", schemaWith("urn:acme:2.0:User", ``), "no attributes"},
		{"no schema", `{"resourceType":"User"}`, `"schema" is missing`},
		{"a resource type that is none", `{"resourceType":"Device","schema":{"id":"urn:acme:2.0:User","attributes":[{"name":"a"}]}}`, `resource type "Device" cannot be extended`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			add(tc.body).wantError(t, 400, "invalidValue", tc.detail)
		})
	}
	if r := add(`{"resourceType":"group","schema":{"id":"urn:acme:2.0:Group","attributes":[{"name":"costCenter"}]}}`); r.Status != 201 ||
		!strings.Contains(r.Raw, `"resourceType":"Group"`) || !strings.Contains(r.Raw, `"attributes":["costCenter"]`) ||
		!strings.Contains(r.Raw, `"mutability":"readWrite"`) {
		t.Fatalf("declare a Group extension: %d %s", r.Status, r.Raw)
	}
	add(`{"schema":{"id":"URN:ACME:2.0:GROUP","attributes":[{"name":"x"}]}}`).wantError(t, 409, "uniqueness", "already declared")
	if r := as.call(t, as.AdminToken, "GET", "/api/v1/schemas", ""); r.Status != 200 || !strings.Contains(r.Raw, `"id":"urn:acme:2.0:Group"`) {
		t.Errorf("list: %d %s", r.Status, r.Raw)
	}
	if r := as.call(t, as.AdminToken, "GET", "/api/v1/schemas/urn:acme:2.0:group", ""); r.Status != 200 || !strings.Contains(r.Raw, `"id":"urn:acme:2.0:Group"`) {
		t.Errorf("show: %d %s", r.Status, r.Raw)
	}
	otherAdmin := as.token(t, "other", "admin")
	as.call(t, otherAdmin, "GET", "/api/v1/schemas/urn:acme:2.0:Group", "").wantError(t, 404, "", "no schema urn:acme:2.0:Group is declared")
	as.call(t, otherAdmin, "DELETE", "/api/v1/schemas/urn:acme:2.0:Group", "").wantError(t, 404, "", "")
	// A group's extension works on /Groups.
	r := as.scim(t, as.SCIMToken, "POST", "/Groups", `{"displayName":"g","urn:acme:2.0:Group:costCenter":"CC-9"}`)
	r.wantStatus(t, "POST /Groups with the extension", 201)
	r.expect(t, "POST /Groups with the extension", map[string]any{"[urn:acme:2.0:Group].costCenter": "CC-9"})
	as.call(t, as.AdminToken, "DELETE", "/api/v1/schemas/urn:acme:2.0:Group", "").wantError(t, 409, "", "1 Group resource(s)")
	as.call(t, as.AdminToken, "DELETE", "/api/v1/schemas/urn:acme:2.0:Group?force=maybe", "").wantError(t, 400, "invalidValue", "force=maybe")
}
