package server

import (
	"errors"
	"fmt"
	"testing"

	"github.com/ferryid/ferry/internal/scim"
	"github.com/ferryid/ferry/internal/store"
)

// TestClientError checks the one place where the store's errors get their
// HTTP status and scimType: each kind, wrapped with context as the engine
// returns it, keeps the store's detail.
func TestClientError(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		err      error
		ok       bool
		status   int
		scimType string
		detail   string
	}{
		{"not found", store.NotFound("application %q not found", "hr"), true, 404, "", `application "hr" not found`},
		{"name taken", store.Errorf(store.ErrNameTaken, "userName %q is already taken", "ann"), true, 409, scim.Uniqueness, `userName "ann" is already taken`},
		{"id taken", store.Errorf(store.ErrIDTaken, "id %q is already taken", "u1"), true, 409, scim.Uniqueness, `id "u1" is already taken`},
		{"version mismatch", store.Errorf(store.ErrVersionMismatch, "User %q is at version 3, not 2", "u1"), true, 412, "", `User "u1" is at version 3, not 2`},
		{"invalid", store.Invalid("member %q does not exist", "m1"), true, 400, scim.InvalidValue, `member "m1" does not exist`},
		{"unsupported filter", store.Errorf(store.ErrUnsupportedFilter, "invalid filter: meta.location cannot be filtered on"), true, 400, scim.InvalidFilter, "invalid filter: meta.location cannot be filtered on"},
		{"wrapped", fmt.Errorf("update app: %w", store.NotFound("application %q not found", "hr")), true, 404, "", `application "hr" not found`},
		{"scim error", scim.Errorf(409, "", "a cycle of hr is running"), true, 409, "", "a cycle of hr is running"},
		{"unknown kind", store.Errorf(errors.New("other"), "what"), false, 0, "", ""},
		{"lease lost", fmt.Errorf("put link: %w", store.ErrLeaseLost), false, 0, "", ""},
		{"other error", errors.New("disk full"), false, 0, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, ok := clientError(tc.err)
			if ok != tc.ok {
				t.Fatalf("clientError(%v) ok = %v, want %v", tc.err, ok, tc.ok)
			}
			if !ok {
				return
			}
			if e.Status != tc.status || e.ScimType != tc.scimType || e.Detail != tc.detail {
				t.Errorf("clientError(%v) = %d %q %q, want %d %q %q", tc.err, e.Status, e.ScimType, e.Detail, tc.status, tc.scimType, tc.detail)
			}
		})
	}
}
