package resource

import (
	"strings"
	"testing"

	"github.com/ferryid/ferry/internal/scim"
	"github.com/ferryid/ferry/internal/scim/schema"
)

const acme = "urn:ietf:params:scim:schemas:extension:acme:2.0:User"

// acmeUsers returns the User resource type with acme declared.
func acmeUsers(t testing.TB) *schema.ResourceType {
	t.Helper()
	c, err := schema.NewRegistry(schema.Builtin()).Catalog([]schema.Declaration{{ResourceType: "User", Definition: []byte(`{"id":"` + acme + `",
		"attributes":[{"name":"costCenter"},{"name":"tier","canonicalValues":["gold","silver"]},{"name":"code","caseExact":true,"canonicalValues":["AB"]},
		{"name":"level","type":"integer"},{"name":"tags","multiValued":true},{"name":"secret","mutability":"readOnly"}]}`)}})
	if err != nil {
		t.Fatal(err)
	}
	return c.ResourceType("User")
}

func TestNormalizeDeclaredExtension(t *testing.T) {
	t.Parallel()
	users := acmeUsers(t)
	builtin := schema.Builtin().ResourceType("User")
	tests := []struct {
		name     string
		rt       *schema.ResourceType
		in, want string
		scimType string
		detail   string
	}{
		{name: "the object form", rt: users,
			in:   `{"userName":"a","` + acme + `":{"COSTCENTER":"CC","tier":"Gold","level":3,"tags":"x","secret":"s"}}`,
			want: `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","` + acme + `"],"userName":"a","` + acme + `":{"costCenter":"CC","level":3,"tags":["x"],"tier":"Gold"}}`},
		{name: "Entra's qualified keys, its URN not in schemas", rt: users,
			in:   `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"a","` + acme + `:costCenter":"CC"}`,
			want: `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","` + acme + `"],"userName":"a","` + acme + `":{"costCenter":"CC"}}`},
		{name: "a null for an undeclared extension means nothing", rt: builtin,
			in:   `{"userName":"a","` + acme + `:costCenter":null,"` + acme + `":null}`,
			want: `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"a"}`},
		{name: "an unknown URN only in schemas is ignored", rt: builtin,
			in:   `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","` + acme + `"],"userName":"a"}`,
			want: `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"a"}`},
		{name: "an undeclared extension's object", rt: builtin, in: `{"userName":"a","` + acme + `":{"costCenter":"CC"}}`,
			scimType: scim.InvalidValue, detail: `belongs to the schema ` + acme + `, which is not declared for Users in this tenant`},
		{name: "an undeclared extension's qualified key", rt: builtin, in: `{"userName":"a","` + acme + `:costCenter":"CC"}`,
			scimType: scim.InvalidValue, detail: `attribute "` + acme + `:costCenter" belongs to the schema ` + acme + `,`},
		{name: "an attribute the declaration lacks", rt: users, in: `{"userName":"a","` + acme + `":{"costCentre":"CC"}}`,
			scimType: scim.InvalidValue, detail: `attribute "` + acme + `:costCentre" is not defined by the extension schema`},
		{name: "a qualified attribute the declaration lacks", rt: users, in: `{"userName":"a","` + acme + `:costCentre":"CC"}`,
			scimType: scim.InvalidValue, detail: `is not defined by the extension schema`},
		{name: "a value outside canonicalValues", rt: users, in: `{"userName":"a","` + acme + `":{"tier":"bronze"}}`,
			scimType: scim.InvalidValue, detail: `"bronze" is not one of its canonical values gold, silver`},
		{name: "a caseExact canonical value in another case", rt: users, in: `{"userName":"a","` + acme + `":{"code":"ab"}}`,
			scimType: scim.InvalidValue, detail: `is not one of its canonical values AB`},
		{name: "a wrong type", rt: users, in: `{"userName":"a","` + acme + `":{"level":"x"}}`,
			scimType: scim.InvalidValue, detail: `attribute "` + acme + `:level": expected an integer`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Normalize(mustDecode(t, tt.in), tt.rt)
			if tt.detail == "" {
				if err != nil {
					t.Fatal(err)
				}
				if g, w := canonical(t, got), canonical(t, mustDecode(t, tt.want)); g != w {
					t.Errorf("got  %s\nwant %s", g, w)
				}
				return
			}
			e, ok := scim.AsError(err)
			if !ok || e.Status != 400 || e.ScimType != tt.scimType || !strings.Contains(e.Detail, tt.detail) {
				t.Fatalf("got %v, want a 400 %s containing %q", err, tt.scimType, tt.detail)
			}
		})
	}
}
