package patch

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/ferryid/ferry/internal/scim"
	"github.com/ferryid/ferry/internal/scim/resource"
	"github.com/ferryid/ferry/internal/scim/schema"
)

var fuzzSeeds = []string{
	`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"emails[type eq \"work\"].value","value":"x@y"}]}`,
	`{"Operations":[{"op":"replace","value":{"displayName":"B","name.givenName":"K","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber":"A"}}]}`,
	`{"Operations":[{"op":"Remove","path":"members","value":[{"$ref":null,"value":"u1"}]}]}`,
	`{"Operations":[{"op":"remove","path":"members[value eq \"u2\"]"}]}`,
	`{"Operations":[{"op":"Add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"m"}]}`,
	`{"Operations":[{"op":"Remove","path":"emails[type eq \"work\"].value","value":"old@x"}]}`,
	`{"Operations":[{"op":"replace","value":{"active":false}}]}`,
	`{"Operations":[{"op":"add","path":"emails","value":[{"value":"a","primary":true}]},{"op":"replace","path":"name","value":null}]}`,
	`{"Operations":[{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User","value":{"department":"D"}}]}`,
}

// FuzzParse checks that no body makes Parse panic, and that every failure is
// a client error.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		_, err := Parse([]byte(body))
		checkClientError(t, err)
	})
}

// FuzzApply applies fuzzed PATCH bodies to a user and a group: no panic,
// failures are 4xx *scim.Error values, the stored document is never changed,
// and every success is a valid, normalized document.
func FuzzApply(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s, true)
		f.Add(s, false)
	}
	catalog := schema.Builtin()
	users, groups := catalog.ResourceType("User"), catalog.ResourceType("Group")
	userDoc := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],"userName":"a","active":true,"name":{"givenName":"G"},"emails":[{"type":"work","value":"w@x","primary":true},{"type":"home","value":"h@x"}],"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":{"value":"m"}}}`
	groupDoc := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"G","members":[{"value":"u1"},{"value":"u2"}]}`
	f.Fuzz(func(t *testing.T, body string, user bool) {
		ops, err := Parse([]byte(body))
		if err != nil {
			checkClientError(t, err)
			return
		}
		rt, src := groups, groupDoc
		if user {
			rt, src = users, userDoc
		}
		start, err := resource.Decode([]byte(src))
		if err != nil {
			t.Fatal(err)
		}
		snapshot := start.Clone()
		out, _, err := Apply(start, rt, ops)
		if !equalDocs(start, snapshot) {
			t.Fatalf("Apply modified the stored document")
		}
		if err != nil {
			checkClientError(t, err)
			return
		}
		again, err := resource.Normalize(out, rt)
		if err != nil {
			t.Fatalf("result does not validate: %v", err)
		}
		if !equalDocs(again, out) {
			t.Fatalf("result is not normalized")
		}
	})
}

func checkClientError(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	e, ok := scim.AsError(err)
	if !ok || e.Status < 400 || e.Status >= 500 {
		t.Fatalf("got %v, want a 4xx *scim.Error", err)
	}
}

// equalDocs compares documents by their JSON encoding (maps encode with
// sorted keys, so equal documents encode identically).
func equalDocs(a, b resource.Document) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}
