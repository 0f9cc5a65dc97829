package server

import (
	"log/slog"
	"testing"

	"github.com/ferryid/ferry/internal/scim/schema"
)

// TestRoutePattern checks that requests are named by their route, never
// by an id, and SCIM requests by their operation.
func TestRoutePattern(t *testing.T) {
	t.Parallel()
	s := New(DefaultConfig(), nil, schema.Builtin(), slog.New(slog.DiscardHandler))
	tests := []struct {
		name, method, path, route, resourceType, op string
	}{
		{"create", "POST", "/scim/v2/Users", "/scim/v2/Users", "User", "create"},
		{"list", "GET", "/scim/v2/Groups", "/scim/v2/Groups", "Group", "list"},
		{"get", "GET", "/scim/v2/Users/2819c223", "/scim/v2/Users/{id}", "User", "get"},
		{"replace", "PUT", "/scim/v2/Users/2819c223", "/scim/v2/Users/{id}", "User", "replace"},
		{"patch", "PATCH", "/scim/v2/Groups/g%2F1", "/scim/v2/Groups/{id}", "Group", "patch"},
		{"delete", "DELETE", "/scim/v2/Users/2819c223/", "/scim/v2/Users/{id}", "User", "delete"},
		{"search", "POST", "/scim/v2/Users/.search", "/scim/v2/Users/.search", "User", "search"},
		{"search all", "POST", "/scim/v2/.search", "/scim/v2/.search", "", "search"},
		{"bulk", "POST", "/scim/v2/Bulk", "/scim/v2/Bulk", "", "bulk"},
		{"a schema", "GET", "/scim/v2/Schemas/urn:ietf:params:scim:schemas:core:2.0:User", "/scim/v2/Schemas/{id}", "", ""},
		{"unknown type", "GET", "/scim/v2/Widgets/1", "other", "", ""},
		{"too deep", "GET", "/scim/v2/Users/1/2", "other", "", ""},
		{"admin", "GET", "/api/v1/apps/HR%20app/logs", "/api/v1/apps/{name}/logs", "", ""},
		{"admin unknown", "GET", "/api/v1/nothing/here", "other", "", ""},
		{"openapi", "GET", "/api/v1/openapi.json", "/api/v1/openapi.json", "", ""},
		{"health", "GET", "/healthz", "/healthz", "", ""},
		{"scan", "GET", "/wp-login.php", "other", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := s.routePattern(tc.path); got != tc.route {
				t.Errorf("routePattern(%q) = %q, want %q", tc.path, got, tc.route)
			}
			typ, op := s.scimOperation(tc.method, tc.path)
			if typ != tc.resourceType || op != tc.op {
				t.Errorf("scimOperation(%s %s) = %q, %q; want %q, %q", tc.method, tc.path, typ, op, tc.resourceType, tc.op)
			}
		})
	}
}
