package resource

import (
	"encoding/json"
	"testing"

	"github.com/ferryid/ferry/internal/scim"
	"github.com/ferryid/ferry/internal/scim/schema"
)

// FuzzDecodeNormalize feeds arbitrary bodies through Decode and Normalize as
// a POST would: no panic, failures are 400 *scim.Error values, and a
// normalized document normalizes to itself.
func FuzzDecodeNormalize(f *testing.F) {
	for _, s := range []string{
		servedUser,
		`{"userName":"a","active":"True","emails":{"value":"x"},"manager":"m","name.givenName":"G"}`,
		`{"displayName":"g","members":[{"value":"u1","$ref":null}]}`,
		`{"userName":"a","x509Certificates":[{"value":"aGVsbG8="}],"meta":{"created":"2008-01-23T04:56:22Z"}}`,
	} {
		f.Add(s, true)
	}
	catalog := schema.Builtin()
	users, groups := catalog.ResourceType("User"), catalog.ResourceType("Group")
	f.Fuzz(func(t *testing.T, body string, user bool) {
		d, err := Decode([]byte(body))
		if err != nil {
			wantClientError(t, err)
			return
		}
		rt := groups
		if user {
			rt = users
		}
		n, err := Normalize(d, rt)
		if err != nil {
			wantClientError(t, err)
			return
		}
		again, err := Normalize(n, rt)
		if err != nil {
			t.Fatalf("normalized document fails validation: %v", err)
		}
		a, _ := json.Marshal(n)
		b, _ := json.Marshal(again)
		if string(a) != string(b) {
			t.Fatalf("normalize is not idempotent:\n%s\n%s", a, b)
		}
		Project(n, rt, ParseProjection(rt, "userName,emails.value"), Projection{})
	})
}

func wantClientError(t *testing.T, err error) {
	t.Helper()
	if e, ok := scim.AsError(err); !ok || e.Status != 400 {
		t.Fatalf("got %v, want a 400 *scim.Error", err)
	}
}
