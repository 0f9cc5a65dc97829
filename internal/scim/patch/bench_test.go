package patch

import (
	"testing"

	"github.com/ferryid/ferry/internal/scim/resource"
	"github.com/ferryid/ferry/internal/scim/schema"
)

// BenchmarkApply6 parses and applies the six-operation PATCH Entra sends for
// an attribute update (entra-client.md §2.3(c)).
func BenchmarkApply6(b *testing.B) {
	users := schema.Builtin().ResourceType("User")
	start, err := resource.Decode([]byte(entraUser))
	if err != nil {
		b.Fatal(err)
	}
	body := []byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
		{ "op": "Replace", "path": "displayName", "value": "Pvlo" },
		{ "op": "Replace", "path": "emails[type eq \"work\"].value", "value": "TestBcwqnm@test.microsoft.com" },
		{ "op": "Replace", "path": "name.givenName", "value": "Gtfd" },
		{ "op": "Replace", "path": "name.familyName", "value": "Pkqf" },
		{ "op": "Replace", "path": "externalId", "value": "Eqpj" },
		{ "op": "Replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber", "value": "Eqpj" }]}`)
	b.ReportAllocs()
	for b.Loop() {
		ops, err := Parse(body)
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := Apply(start, users, ops); err != nil {
			b.Fatal(err)
		}
	}
}
