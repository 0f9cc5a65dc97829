package scim

import (
	"encoding/json"
	"fmt"
	"testing"
)

func TestErrorJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  *Error
		want string
	}{
		{
			name: "with scimType",
			err:  BadRequest(InvalidFilter, "invalid filter at position %d", 7),
			want: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"scimType":"invalidFilter","detail":"invalid filter at position 7","status":"400"}`,
		},
		{
			name: "without scimType",
			err:  Errorf(404, "", "Resource %s not found", "2819c223"),
			want: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"detail":"Resource 2819c223 not found","status":"404"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := json.Marshal(tt.err)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Fatalf("got  %s\nwant %s", got, tt.want)
			}
			var back Error
			if err := json.Unmarshal(got, &back); err != nil {
				t.Fatal(err)
			}
			if back != *tt.err {
				t.Fatalf("round trip: got %+v, want %+v", back, *tt.err)
			}
		})
	}
}

func TestErrorUnmarshalStatusForms(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		body   string
		status int
		ok     bool
	}{
		{`{"status":"409","detail":"x"}`, 409, true},
		// Okta's documented 409 body sends status as a number.
		{`{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"detail":"User already exists in the database.","status":409}`, 409, true},
		{`{"status":"conflict"}`, 0, false},
		{`{"status":true}`, 0, false},
	} {
		var e Error
		err := json.Unmarshal([]byte(tt.body), &e)
		if (err == nil) != tt.ok || e.Status != tt.status {
			t.Errorf("%s: status %d err %v; want %d ok=%v", tt.body, e.Status, err, tt.status, tt.ok)
		}
	}
}

func TestAsError(t *testing.T) {
	t.Parallel()
	inner := BadRequest(Uniqueness, "userName taken")
	wrapped := fmt.Errorf("create user: %w", inner)
	got, ok := AsError(wrapped)
	if !ok || got != inner {
		t.Fatalf("AsError(%v) = %v, %v", wrapped, got, ok)
	}
	if _, ok := AsError(fmt.Errorf("plain")); ok {
		t.Fatal("AsError matched a plain error")
	}
	if got := inner.Error(); got != "scim 400 uniqueness: userName taken" {
		t.Fatalf("Error() = %q", got)
	}
}
