package expr

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/ferryid/ferry/internal/scim/resource"
	"github.com/ferryid/ferry/internal/scim/schema"
)

// fixedNow is the clock of every test: Entra's Now() example value.
var fixedNow = time.Date(2021, 7, 2, 15, 33, 38, 0, time.UTC)

// testEnv returns an Env with a fixed clock and a seeded random source, so
// results are reproducible.
func testEnv() Env {
	return Env{
		Now:  func() time.Time { return fixedNow },
		Rand: rand.NewChaCha8([32]byte{'f', 'e', 'r', 'r', 'y'}),
	}
}

// str, boolean, integer and multi build expected values.
func str(s string) Value   { return StringValue(s) }
func boolean(b bool) Value { return BoolValue(b) }
func integer(n int64) Value {
	return IntValue(n)
}
func multi(ss ...string) Value {
	vs := make([]Value, len(ss))
	for i, s := range ss {
		vs[i] = StringValue(s)
	}
	return MultiValue(vs...)
}

// mustEval parses, checks (without an attribute checker) and evaluates src.
func mustEval(t *testing.T, src string, s Source) Value {
	t.Helper()
	e, err := Compile(src, nil)
	if err != nil {
		t.Fatalf("Compile(%s): %v", src, err)
	}
	v, err := e.Eval(s, testEnv())
	if err != nil {
		t.Fatalf("Eval(%s): %v", src, err)
	}
	return v
}

// assertValue fails unless got is want: same kind and value.
func assertValue(t *testing.T, src string, got, want Value) {
	t.Helper()
	if !got.equal(want) {
		t.Errorf("%s\n got %s (%s)\nwant %s (%s)", src, got, got.Kind(), want, want.Kind())
	}
}

func userType(t testing.TB) *schema.ResourceType {
	t.Helper()
	rt := schema.Builtin().ResourceType("User")
	if rt == nil {
		t.Fatal("no User resource type")
	}
	return rt
}

func groupType(t testing.TB) *schema.ResourceType {
	t.Helper()
	rt := schema.Builtin().ResourceType("Group")
	if rt == nil {
		t.Fatal("no Group resource type")
	}
	return rt
}

// testUserJSON is a SCIM user as Ferry's source directory stores it, with
// the server-maintained meta and the read-only manager.displayName.
const testUserJSON = `{
	"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User",
	            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
	"id": "2819c223-7f76-453a-919d-413861904646",
	"externalId": "bjensen",
	"userName": "bjensen@example.com",
	"name": {"givenName": "Barbara", "familyName": "Jensen", "formatted": "Ms. Barbara J Jensen III"},
	"displayName": "Babs Jensen",
	"title": "",
	"active": true,
	"emails": [
		{"value": "bjensen@example.com", "type": "work", "primary": true},
		{"value": "babs@jensen.org", "type": "home"}
	],
	"phoneNumbers": [{"value": "+1 555 555 5555", "type": "work"}],
	"meta": {"resourceType": "User", "created": "2010-01-23T04:56:22Z", "lastModified": "2011-05-13T04:42:34-07:00"},
	"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
		"employeeNumber": "701984",
		"department": "Tour Operations",
		"organization": "Company A",
		"manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d", "displayName": "John Smith"}
	}
}`

func testUser(t testing.TB) resource.Document {
	t.Helper()
	d, err := resource.Decode([]byte(testUserJSON))
	if err != nil {
		t.Fatal(err)
	}
	return d
}
