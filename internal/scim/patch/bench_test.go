package patch

import (
	"testing"

	"github.com/ferryid/ferry/internal/scim/resource"
	"github.com/ferryid/ferry/internal/scim/schema"
)

// entraUpdate is the six-operation PATCH Entra sends for an attribute
// update (the request to replace multiple attributes in
// https://learn.microsoft.com/entra/identity/app-provisioning/application-provisioning-config-problem-scim-compatibility).
var entraUpdate = []byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
	{ "op": "Replace", "path": "displayName", "value": "Pvlo" },
	{ "op": "Replace", "path": "emails[type eq \"work\"].value", "value": "TestBcwqnm@test.microsoft.com" },
	{ "op": "Replace", "path": "name.givenName", "value": "Gtfd" },
	{ "op": "Replace", "path": "name.familyName", "value": "Pkqf" },
	{ "op": "Replace", "path": "externalId", "value": "Eqpj" },
	{ "op": "Replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber", "value": "Eqpj" }]}`)

// BenchmarkParse6 decodes the six-operation body and parses its paths.
func BenchmarkParse6(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(entraUpdate); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkApply6 applies the six parsed operations to a user, including
// the copy, the final validation and the change check.
func BenchmarkApply6(b *testing.B) {
	users := schema.Builtin().ResourceType("User")
	start, err := resource.Decode([]byte(entraUser))
	if err != nil {
		b.Fatal(err)
	}
	ops, err := Parse(entraUpdate)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Apply(start, users, ops); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseApply6 is the whole PATCH: body in, new document out.
func BenchmarkParseApply6(b *testing.B) {
	users := schema.Builtin().ResourceType("User")
	start, err := resource.Decode([]byte(entraUser))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		ops, err := Parse(entraUpdate)
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := Apply(start, users, ops); err != nil {
			b.Fatal(err)
		}
	}
}
