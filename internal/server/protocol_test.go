package server

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
)

func TestErrorsAreSCIM(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	big := `{"userName":"` + strings.Repeat("x", 2<<20) + `"}`
	tests := []struct {
		name, method, path, body string
		headers                  []string
		status                   int
		scimType                 string
	}{
		{"no token", "GET", "/Users", "", []string{"Authorization", ""}, 401, ""},
		{"basic auth", "GET", "/Users", "", []string{"Authorization", "Basic dXNlcjpwYXNz"}, 401, ""},
		{"unknown endpoint", "GET", "/Widgets", "", nil, 404, ""},
		{"too deep a path", "GET", "/Users/a/b", "", nil, 404, ""},
		{"wrong method on collection", "DELETE", "/Users", "", nil, 405, ""},
		{"wrong method on resource", "POST", "/Users/abc", "", nil, 405, ""},
		{"Me", "GET", "/Me", "", nil, 501, ""},
		{"malformed JSON", "POST", "/Users", `{"userName":`, nil, 400, "invalidSyntax"},
		{"missing userName", "POST", "/Users", `{"name":{"givenName":"x"}}`, nil, 400, "invalidValue"},
		{"wrong type", "POST", "/Users", `{"userName":"a","active":"maybe"}`, nil, 400, "invalidValue"},
		{"wrong media type", "POST", "/Users", `{"userName":"a"}`, []string{"Content-Type", "text/plain"}, 415, ""},
		{"body too large", "POST", "/Users", big, nil, 413, ""},
		{"bad filter", "GET", "/Users?filter=" + url.QueryEscape(`userName eq`), "", nil, 400, "invalidFilter"},
		{"ordering on a boolean", "GET", "/Users?filter=" + url.QueryEscape(`active gt true`), "", nil, 400, "invalidFilter"},
		{"bad count", "GET", "/Users?count=ten", "", nil, 400, "invalidValue"},
		{"bad sortOrder", "GET", "/Users?sortOrder=up", "", nil, 400, "invalidValue"},
		{"patch unknown user", "PATCH", "/Users/nope", `{"Operations":[{"op":"replace","path":"title","value":"x"}]}`, nil, 404, ""},
		{"patch bad op", "PATCH", "/Users/nope", `{"Operations":[{"op":"merge"}]}`, nil, 400, "invalidSyntax"},
		{"group with unknown member", "POST", "/Groups", `{"displayName":"g","members":[{"value":"no-such-user"}]}`, nil, 400, "invalidValue"},
		{"unknown schema", "GET", "/Schemas/urn:nope", "", nil, 404, ""},
		{"unknown resource type", "GET", "/ResourceTypes/Widget", "", nil, 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ts.do(t, tt.method, tt.path, tt.body, tt.headers...).wantError(t, tt.name, tt.status, tt.scimType)
		})
	}
}

func TestMethodNotAllowedListsAllowed(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	r := ts.do(t, "PUT", "/Users", `{}`)
	r.wantError(t, "put collection", 405, "")
	if got := r.Header.Get("Allow"); got != "GET, POST" {
		t.Errorf("Allow = %q", got)
	}
}

func TestETags(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	r := ts.do(t, "POST", "/Users", `{"userName":"etag"}`)
	id, v1 := r.Body["id"].(string), r.Header.Get("ETag")
	if !strings.HasPrefix(v1, `W/"`) {
		t.Fatalf("ETag %q is not a weak tag", v1)
	}
	ts.do(t, "GET", "/Users/"+id, "", "If-None-Match", v1).wantStatus(t, "not modified", 304)
	ts.do(t, "GET", "/Users/"+id, "", "If-None-Match", `W/"999"`).wantStatus(t, "modified", 200)
	patch := `{"Operations":[{"op":"replace","path":"title","value":"T1"}]}`
	r = ts.do(t, "PATCH", "/Users/"+id, patch, "If-Match", v1)
	r.wantStatus(t, "patch with current tag", 200)
	v2 := r.Header.Get("ETag")
	if v2 == v1 || r.Body["meta"].(map[string]any)["version"] != v2 {
		t.Fatalf("version did not advance or differs from meta.version: %s -> %s, %v", v1, v2, r.Body["meta"])
	}
	ts.do(t, "PATCH", "/Users/"+id, patch, "If-Match", v1).wantError(t, "stale patch", 412, "")
	ts.do(t, "PUT", "/Users/"+id, `{"userName":"etag"}`, "If-Match", v1).wantError(t, "stale put", 412, "")
	ts.do(t, "DELETE", "/Users/"+id, "", "If-Match", v1).wantError(t, "stale delete", 412, "")
	// A PATCH that changes nothing keeps the version (Entra repeats updates every cycle).
	r = ts.do(t, "PATCH", "/Users/"+id, patch, "If-Match", v2)
	if r.Header.Get("ETag") != v2 {
		t.Errorf("no-op patch moved the version from %s to %s", v2, r.Header.Get("ETag"))
	}
	ts.do(t, "DELETE", "/Users/"+id, "", "If-Match", "*").wantStatus(t, "delete with *", 204)
}

func TestConcurrentCreatesOfOneUserName(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	const n = 50
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Different case each time: uniqueness is case-insensitive.
			name := "race@example.com"
			if i%2 == 1 {
				name = strings.ToUpper(name)
			}
			statuses[i] = ts.do(t, "POST", "/Users", `{"userName":"`+name+`"}`).Status
		}()
	}
	wg.Wait()
	count := map[int]int{}
	for _, s := range statuses {
		count[s]++
	}
	if count[201] != 1 || count[409] != n-1 {
		t.Fatalf("statuses %v, want one 201 and %d 409", count, n-1)
	}
}

func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	other := ts.newToken(t, "other")
	id := ts.do(t, "POST", "/Users", `{"userName":"shared@example.com"}`).Body["id"].(string)
	ts.doWith(t, other, "GET", "/Users/"+id, "").wantError(t, "other tenant get", 404, "")
	ts.doWith(t, other, "PATCH", "/Users/"+id, `{"Operations":[{"op":"replace","path":"title","value":"x"}]}`).wantError(t, "other tenant patch", 404, "")
	ts.doWith(t, other, "DELETE", "/Users/"+id, "").wantError(t, "other tenant delete", 404, "")
	ts.doWith(t, other, "GET", "/Users", "").expect(t, "other tenant list", map[string]any{"totalResults": 0})
	// The same userName is free in the other tenant.
	ts.doWith(t, other, "POST", "/Users", `{"userName":"shared@example.com"}`).wantStatus(t, "same name elsewhere", 201)
	// A group in the other tenant cannot take this tenant's user as member.
	ts.doWith(t, other, "POST", "/Groups", `{"displayName":"g","members":[{"value":"`+id+`"}]}`).wantError(t, "foreign member", 400, "invalidValue")
	ts.do(t, "GET", "/Users/"+id, "").wantStatus(t, "still there", 200)
}

func TestListParameters(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	for _, n := range []string{"carol", "alice", "bob"} {
		ts.do(t, "POST", "/Users", `{"userName":"`+n+`","name":{"familyName":"`+strings.ToUpper(n)+`"},"emails":[{"type":"work","value":"`+n+`@corp.example"}]}`).wantStatus(t, "seed", 201)
	}
	r := ts.do(t, "GET", "/Users?count=0", "")
	r.expect(t, "count=0", map[string]any{"totalResults": 3, "itemsPerPage": 0})
	r = ts.do(t, "GET", "/Users?sortBy=userName&sortOrder=descending&attributes=userName", "")
	r.expect(t, "sorted", map[string]any{"Resources.0.userName": "carol", "Resources.1.userName": "bob", "Resources.2.userName": "alice", "Resources.0.name": absent, "Resources.0.id": r.Body["Resources"].([]any)[0].(map[string]any)["id"]})
	r = ts.do(t, "GET", "/Users?excludedAttributes=emails,name.familyName&filter="+url.QueryEscape(`emails[type eq "work" and value co "@corp"]`), "")
	r.expect(t, "excluded", map[string]any{"totalResults": 3, "Resources.0.emails": absent, "Resources.0.name": absent, "Resources.0.userName": r.Body["Resources"].([]any)[0].(map[string]any)["userName"]})
	// Unquoted legacy value, capitalised attribute, '+' for spaces.
	r = ts.do(t, "GET", "/Users?filter=UserName+eq+alice", "")
	r.expect(t, "legacy filter", map[string]any{"totalResults": 1, "Resources.0.userName": "alice"})
	// POST .search, per type and at the root.
	r = ts.do(t, "POST", "/Users/.search", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"filter":"userName sw \"b\"","attributes":["userName"],"count":10}`)
	r.expect(t, "search", map[string]any{"totalResults": 1, "Resources.0.userName": "bob", "Resources.0.emails": absent})
	ts.do(t, "POST", "/Groups", `{"displayName":"bees"}`).wantStatus(t, "group", 201)
	r = ts.do(t, "POST", "/.search", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"filter":"userName sw \"b\" or displayName sw \"b\"","startIndex":1,"count":10}`)
	r.expect(t, "root search", map[string]any{"totalResults": 2, "Resources.0.userName": "bob", "Resources.1.displayName": "bees"})
	r = ts.do(t, "POST", "/.search", `{"filter":"userName sw \"b\" or displayName sw \"b\"","startIndex":2,"count":10}`)
	r.expect(t, "root search page 2", map[string]any{"totalResults": 2, "itemsPerPage": 1, "Resources.0.displayName": "bees"})
}

func TestDiscovery(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	r := ts.do(t, "GET", "/ServiceProviderConfig", "")
	r.expect(t, "spc", map[string]any{"patch.supported": true, "bulk.supported": true, "bulk.maxOperations": 1000, "filter.maxResults": 1000,
		"etag.supported": true, "sort.supported": true, "authenticationSchemes.0.type": "oauthbearertoken", "schemas.0": "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"})
	r = ts.do(t, "GET", "/ResourceTypes", "")
	r.expect(t, "resource types", map[string]any{"totalResults": 2, "Resources.0.endpoint": "/Users", "Resources.0.schemaExtensions.0.schema": enterpriseURN, "Resources.1.endpoint": "/Groups"})
	ts.do(t, "GET", "/ResourceTypes/User", "").expect(t, "User type", map[string]any{"schema": "urn:ietf:params:scim:schemas:core:2.0:User"})
	r = ts.do(t, "GET", "/Schemas/urn:ietf:params:scim:schemas:core:2.0:User", "")
	r.expect(t, "User schema", map[string]any{"id": "urn:ietf:params:scim:schemas:core:2.0:User", "schemas.0": "urn:ietf:params:scim:schemas:core:2.0:Schema", "meta.resourceType": "Schema"})
	var userName map[string]any
	for _, a := range r.Body["attributes"].([]any) {
		if a.(map[string]any)["name"] == "userName" {
			userName = a.(map[string]any)
		}
	}
	if userName["caseExact"] != false || userName["uniqueness"] != "server" || userName["required"] != true {
		t.Errorf("userName characteristics %v", userName)
	}
}

func TestBulk(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	// The group refers to a user created later in the same request.
	r := ts.do(t, "POST", "/Bulk", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"failOnErrors":5,"Operations":[
		{"method":"POST","path":"/Groups","bulkId":"g","data":{"displayName":"Tour Guides","members":[{"type":"User","value":"bulkId:u1"}]}},
		{"method":"POST","path":"/Users","bulkId":"u1","data":{"userName":"alice"}},
		{"method":"POST","path":"/Users","bulkId":"dup","data":{"userName":"ALICE"}},
		{"method":"PATCH","path":"/Users/bulkId:u1","data":{"Operations":[{"op":"replace","path":"title","value":"Guide"}]}},
		{"method":"POST","path":"/Groups","bulkId":"bad","data":{"displayName":"x","members":[{"value":"bulkId:nope"}]}}]}`)
	r.wantStatus(t, "bulk", 200)
	ops := r.Body["Operations"].([]any)
	if len(ops) != 5 {
		t.Fatalf("%d results: %s", len(ops), r.Raw)
	}
	status := map[string]string{}
	for _, o := range ops {
		m := o.(map[string]any)
		key := fmt.Sprint(m["method"], " ", m["bulkId"])
		status[key] = m["status"].(string)
	}
	want := map[string]string{"POST g": "201", "POST u1": "201", "POST dup": "409", "PATCH <nil>": "200", "POST bad": "409"}
	for k, v := range want {
		if status[k] != v {
			t.Errorf("%s: status %q, want %q (all: %v)", k, status[k], v, status)
		}
	}
	users := ts.do(t, "GET", "/Users?filter="+url.QueryEscape(`userName eq "alice"`), "")
	users.expect(t, "bulk user", map[string]any{"totalResults": 1, "Resources.0.title": "Guide", "Resources.0.groups.0.display": "Tour Guides"})

	// failOnErrors stops after the first error.
	r = ts.do(t, "POST", "/Bulk", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"failOnErrors":1,"Operations":[
		{"method":"POST","path":"/Users","data":{"userName":"alice"}},
		{"method":"POST","path":"/Users","data":{"userName":"never-created"}}]}`)
	if n := len(r.Body["Operations"].([]any)); n != 1 {
		t.Errorf("failOnErrors=1 ran %d operations: %s", n, r.Raw)
	}
	ts.do(t, "GET", "/Users?filter="+url.QueryEscape(`userName eq "never-created"`), "").expect(t, "not run", map[string]any{"totalResults": 0})

	// Too many operations.
	var b strings.Builder
	b.WriteString(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"Operations":[`)
	for i := range 1001 {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"method":"DELETE","path":"/Users/x%d"}`, i)
	}
	b.WriteString("]}")
	ts.do(t, "POST", "/Bulk", b.String()).wantError(t, "too many", http.StatusRequestEntityTooLarge, "tooMany")
}
