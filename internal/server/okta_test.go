package server

import (
	"github.com/ferryid/ferry/internal/store"
	"net/url"
	"strings"
	"testing"
)

// TestOktaSequence replays the requests Okta sends, as
// https://developer.okta.com/docs/api/openapi/okta-scim/guides/scim-20 and
// Okta's SPEC test show them: lookups with startIndex/count, create with
// password and groups, PUT of the whole resource, path-less deactivation,
// group push with a filtered remove and an add in one PATCH.
func TestOktaSequence(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	q := url.QueryEscape

	r := ts.do(t, "GET", "/Users?filter="+q(`userName eq "test.user@okta.local"`)+"&startIndex=1&count=100", "",
		"Accept", "application/scim+json", "Content-Type", "application/scim+json; charset=utf-8")
	r.expect(t, "lookup", map[string]any{"totalResults": 0, "startIndex": 1, "itemsPerPage": 0})

	r = ts.do(t, "POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"test.user@okta.local",
		"name":{"givenName":"Test","familyName":"User"},
		"emails":[{"primary":true,"value":"test.user@okta.local","type":"work"}],
		"displayName":"Test User","locale":"en-US","externalId":"00ujl29u0le5T6Aj10h7",
		"groups":[],"password":"1mz050nq","active":true}`, "Content-Type", "application/json")
	r.wantStatus(t, "create", 201)
	r.expect(t, "create", map[string]any{"password": absent, "active": true, "name.givenName": "Test", "locale": "en-US"})
	id := r.Body["id"].(string)
	if strings.Contains(r.Raw, "1mz050nq") {
		t.Fatal("the password was returned")
	}
	// Nor is it stored: Ferry keeps nothing it does not use.
	stored, err := ts.Store.Get(t.Context(), tenantOf(t, ts), "User", id, store.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := stored.Doc["password"]; ok {
		t.Fatal("the password was stored")
	}

	// Case-insensitive userName lookup, as Okta's SPEC test probes.
	ts.do(t, "GET", "/Users?filter="+q(`userName eq "TEST.USER@OKTA.LOCAL"`)+"&startIndex=1&count=100", "").
		expect(t, "caps lookup", map[string]any{"totalResults": 1, "Resources.0.id": id})
	ts.do(t, "POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"test.user@okta.local"}`).
		wantError(t, "duplicate", 409, "uniqueness")

	// Profile update: GET, then PUT of the entire object with one change.
	full := ts.do(t, "GET", "/Users/"+id, "")
	body := strings.Replace(full.Raw, `"givenName":"Test"`, `"givenName":"Changed"`, 1)
	r = ts.do(t, "PUT", "/Users/"+id, body)
	r.wantStatus(t, "put", 200)
	r.expect(t, "put", map[string]any{"name.givenName": "Changed", "name.familyName": "User", "id": id, "emails.0.value": "test.user@okta.local"})

	// Deactivate with a path-less replace; the user stays readable.
	r = ts.do(t, "PATCH", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":false}}]}`)
	r.wantStatus(t, "deactivate", 200)
	ts.do(t, "GET", "/Users/"+id, "").expect(t, "deactivated", map[string]any{"active": false})

	// Group push.
	r = ts.do(t, "POST", "/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Test SCIMv2","members":[]}`)
	r.wantStatus(t, "push group", 201)
	gid := r.Body["id"].(string)
	other := ts.do(t, "POST", "/Users", `{"userName":"other@okta.local"}`).Body["id"].(string)
	ts.do(t, "PATCH", "/Groups/"+gid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[{"value":"`+id+`","display":"test.user@okta.local"}]}]}`).
		wantStatus(t, "add member", 204)
	ts.do(t, "PATCH", "/Groups/"+gid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
		{"op":"replace","value":{"id":"`+gid+`","displayName":"Test SCIMv2 renamed"}},
		{"op":"remove","path":"members[value eq \"`+id+`\"]"},
		{"op":"add","path":"members","value":[{"value":"`+other+`","display":"other@okta.local"}]}]}`).wantStatus(t, "membership update", 204)
	r = ts.do(t, "GET", "/Groups/"+gid, "")
	r.expect(t, "group after push", map[string]any{"displayName": "Test SCIMv2 renamed", "members.0.value": other, "members.0.display": "other@okta.local", "members.1": absent})
	// Full push replaces the members.
	ts.do(t, "PATCH", "/Groups/"+gid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"members","value":[{"value":"`+id+`"}]}]}`).
		wantStatus(t, "full push", 204)
	ts.do(t, "GET", "/Groups/"+gid, "").expect(t, "after full push", map[string]any{"members.0.value": id, "members.1": absent})
	ts.do(t, "GET", "/Groups?startIndex=1&count=100", "").expect(t, "list groups", map[string]any{"totalResults": 1, "Resources.0.members.0.value": id})
	ts.do(t, "DELETE", "/Groups/"+gid, "").wantStatus(t, "delete group", 204)
}
