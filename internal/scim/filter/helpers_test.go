package filter

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/ferryid/ferry/internal/scim"
	"github.com/ferryid/ferry/internal/scim/schema"
)

const (
	userURN       = "urn:ietf:params:scim:schemas:core:2.0:User"
	enterpriseURN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
)

func attr(name string, typ schema.Type, opts ...func(*schema.Attribute)) *schema.Attribute {
	a := &schema.Attribute{Name: name, Type: typ}
	for _, o := range opts {
		o(a)
	}
	return a
}

func caseExact(a *schema.Attribute)   { a.CaseExact = true }
func multiValued(a *schema.Attribute) { a.MultiValued = true }

func subs(sub ...*schema.Attribute) func(*schema.Attribute) {
	return func(a *schema.Attribute) { a.SubAttributes = sub }
}

// testUserType builds a small User resource type by hand, so that these
// tests don't depend on the embedded schema files.
func testUserType() *schema.ResourceType {
	core := &schema.Schema{
		ID:   userURN,
		Name: "User",
		Attributes: []*schema.Attribute{
			attr("id", schema.String, caseExact),
			attr("userName", schema.String),
			attr("displayName", schema.String),
			attr("userType", schema.String),
			attr("title", schema.String),
			attr("active", schema.Boolean),
			attr("externalId", schema.String, caseExact),
			attr("loginCount", schema.Integer),
			attr("score", schema.Decimal),
			attr("profileUrl", schema.Reference),
			attr("schemas", schema.Reference, caseExact, multiValued),
			attr("name", schema.Complex, subs(
				attr("givenName", schema.String),
				attr("familyName", schema.String),
			)),
			attr("emails", schema.Complex, multiValued, subs(
				attr("value", schema.String),
				attr("type", schema.String),
				attr("primary", schema.Boolean),
				attr("display", schema.String),
			)),
			attr("ims", schema.Complex, multiValued, subs(
				attr("value", schema.String),
				attr("type", schema.String),
			)),
			attr("members", schema.Complex, multiValued, subs(
				attr("value", schema.String, caseExact),
				attr("type", schema.String),
				attr("display", schema.String),
			)),
			attr("meta", schema.Complex, subs(
				attr("created", schema.DateTime),
				attr("lastModified", schema.DateTime),
				attr("resourceType", schema.String, caseExact),
			)),
			attr("x509Certificates", schema.Complex, multiValued, subs(
				attr("value", schema.Binary, caseExact),
				attr("type", schema.String),
			)),
			attr("photoData", schema.Binary, caseExact),
		},
	}
	enterprise := &schema.Schema{
		ID:   enterpriseURN,
		Name: "EnterpriseUser",
		Attributes: []*schema.Attribute{
			attr("department", schema.String),
			attr("employeeNumber", schema.String),
			attr("manager", schema.Complex, subs(
				attr("value", schema.String, caseExact),
				attr("$ref", schema.Reference, caseExact),
				attr("displayName", schema.String),
			)),
		},
	}
	return &schema.ResourceType{
		ID:         "User",
		Name:       "User",
		Endpoint:   "/Users",
		Schema:     core,
		Extensions: []schema.Extension{{Schema: enterprise}},
	}
}

// testUserJSON is a realistic User as a client would send it, with an
// irregularly cased key to exercise case-insensitive lookup.
const testUserJSON = `{
  "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
  "id": "2819c223-7f76-453a-919d-413861904646",
  "externalId": "jYoung",
  "userName": "Barbara.Jensen@example.com",
  "displayName": "Babs Jensen",
  "userType": "Employee",
  "title": "Tour Guide",
  "active": true,
  "loginCount": 42,
  "score": 97.5,
  "profileUrl": "https://login.example.com/bjensen",
  "name": {"givenName": "Barbara", "familyName": "O'Malley"},
  "Emails": [
    {"value": "bjensen@example.com", "type": "work", "primary": true},
    {"value": "babs@jensen.org", "type": "home"}
  ],
  "ims": [{"value": "babs@foo.com", "type": "xmpp"}],
  "x509Certificates": [{"value": "TUlJRGpqQ0NBbmFnQXdJQkFnSUJB"}],
  "meta": {
    "resourceType": "User",
    "created": "2010-01-23T04:56:22Z",
    "lastModified": "2011-05-13T04:42:34Z"
  },
  "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
    "employeeNumber": "701984",
    "department": "Tour Operations",
    "manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d", "$ref": "../Users/26118915-6090-4610-87e4-49d8ca9f808d", "displayName": "John Smith"}
  }
}`

// decode decodes JSON the way the server does, with UseNumber.
func decode(tb testing.TB, s string) map[string]any {
	tb.Helper()
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		tb.Fatalf("decode %s: %v", s, err)
	}
	return m
}

// wantSCIMError checks that err is a 400 *scim.Error of scimType and that its
// detail contains each of parts.
func wantSCIMError(t *testing.T, err error, scimType string, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s", scimType)
	}
	e, ok := scim.AsError(err)
	if !ok {
		t.Fatalf("error %v (%T) is not a *scim.Error", err, err)
	}
	if e.Status != 400 || e.ScimType != scimType {
		t.Fatalf("error %v: got status %d scimType %q, want 400 %q", err, e.Status, e.ScimType, scimType)
	}
	for _, p := range parts {
		if !strings.Contains(e.Detail, p) {
			t.Errorf("detail %q does not contain %q", e.Detail, p)
		}
	}
}
