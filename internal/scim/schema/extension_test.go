package schema

import (
	"strings"
	"testing"
)

func TestParseExtension(t *testing.T) {
	t.Parallel()
	const id = "urn:ietf:params:scim:schemas:extension:acme:2.0:User"
	with := func(attrs string) string { return `{"id":"` + id + `","attributes":[` + attrs + `]}` }
	tests := []struct {
		name, in, err string
	}{
		{"minimal", with(`{"name":"costCenter"}`), ""},
		{"every characteristic", with(`{"name":"office","type":"complex","multiValued":true,"description":"d","required":false,
			"mutability":"readWrite","returned":"default","uniqueness":"none","caseExact":false,
			"subAttributes":[{"name":"building","canonicalValues":["N","S"]},{"name":"$ref","type":"reference","referenceTypes":["external"]}]}`), ""},
		{"schemas and meta as /Schemas serves them", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Schema"],"id":"` + id + `",
			"attributes":[{"name":"a"}],"meta":{"resourceType":"Schema"}}`, ""},
		{"not JSON", `{`, "not a valid RFC 7643 §7 schema representation"},
		{"an unknown key", with(`{"name":"a","mutable":true}`), `unknown field "mutable"`},
		{"no id", `{"attributes":[{"name":"a"}]}`, `the schema has no "id"`},
		{"not a URN", `{"id":"acme","attributes":[{"name":"a"}]}`, `schema id "acme" is not a URN`},
		{"an empty segment", `{"id":"urn:acme::User","attributes":[{"name":"a"}]}`, "empty segment"},
		{"a quote in the URN", `{"id":"urn:acme:\"x","attributes":[{"name":"a"}]}`, `the character '"' is not allowed`},
		{"no attributes", `{"id":"` + id + `","attributes":[]}`, "no attributes"},
		{"a null attribute", with(`null`), "attribute 1 is null"},
		{"a name with a digit first", with(`{"name":"1a"}`), `attribute name "1a" is not valid`},
		{"a name with a dot", with(`{"name":"a.b"}`), `attribute name "a.b" is not valid`},
		{"$ref at the top", with(`{"name":"$ref"}`), `attribute name "$ref" is not valid`},
		{"a name twice", with(`{"name":"a"},{"name":"A"}`), id + ":A: defined twice"},
		{"a sub-attribute twice", with(`{"name":"o","type":"complex","subAttributes":[{"name":"x"},{"name":"X"}]}`), id + ":o.X: defined twice"},
		{"an unknown type", with(`{"name":"a","type":"text"}`), `unknown type "text"`},
		{"an unknown mutability", with(`{"name":"a","mutability":"sometimes"}`), `unknown mutability "sometimes"`},
		{"an unknown returned", with(`{"name":"a","returned":"maybe"}`), `unknown returned "maybe"`},
		{"uniqueness server", with(`{"name":"a","uniqueness":"server"}`), `declare uniqueness "none"`},
		{"writeOnly returned", with(`{"name":"a","mutability":"writeOnly"}`), `declare returned "never"`},
		{"canonical values of an integer", with(`{"name":"a","type":"integer","canonicalValues":["1"]}`), "canonicalValues are for string attributes"},
		{"referenceTypes of a string", with(`{"name":"a","referenceTypes":["User"]}`), "referenceTypes are for reference attributes"},
		{"complex without sub-attributes", with(`{"name":"a","type":"complex"}`), "needs subAttributes"},
		{"nested complex", with(`{"name":"a","type":"complex","subAttributes":[{"name":"b","type":"complex","subAttributes":[{"name":"c"}]}]}`), "cannot nest"},
		{"sub-attributes of a string", with(`{"name":"a","subAttributes":[{"name":"b"}]}`), "subAttributes on a string attribute"},
		{"too many", with(manyAttributes(MaxExtensionAttributes + 1)), "more than the 200 allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := ParseExtension([]byte(tt.in))
			if tt.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				if s.ID != id {
					t.Errorf("id %q", s.ID)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.err) || !IsExtensionError(err) {
				t.Fatalf("got %v, want an *ExtensionError containing %q", err, tt.err)
			}
		})
	}
}

func manyAttributes(n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"name":"a` + strings.Repeat("x", i) + `"}`)
	}
	return b.String()
}

// TestParseExtensionDefaults: characteristics left out take RFC 7643
// §2.2's defaults, and declared canonical values bind.
func TestParseExtensionDefaults(t *testing.T) {
	t.Parallel()
	s, err := ParseExtension([]byte(`{"id":"urn:acme:2.0:User","attributes":[{"name":"a"},{"name":"t","canonicalValues":["x"]},
		{"name":"o","type":"complex","subAttributes":[{"name":"b"}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []*Attribute{s.Attribute("a"), s.Attribute("o").SubAttribute("b")} {
		if a.Type != String || a.Mutability != ReadWrite || a.Returned != Default || a.Uniqueness != None || a.CanonicalOnly {
			t.Errorf("%s: %+v", a.Name, a)
		}
	}
	if !s.Attribute("t").CanonicalOnly {
		t.Error("declared canonical values do not bind")
	}
	if Builtin().ResourceType("User").Schema.Attribute("emails").SubAttribute("type").CanonicalOnly {
		t.Error("the built-in canonical values bind; RFC 7643 §7 makes them suggestions")
	}
}

func TestCheckExtension(t *testing.T) {
	t.Parallel()
	c := Builtin()
	ext := func(id string) *Schema { return &Schema{ID: id, Attributes: []*Attribute{{Name: "a"}}} }
	for _, tt := range []struct{ rt, id, err string }{
		{"User", "urn:acme:2.0:User", ""},
		{"groups", "urn:acme:2.0:Group", ""},
		{"Device", "urn:acme:2.0:Device", `resource type "Device" cannot be extended`},
		{"User", "urn:ietf:params:scim:schemas:core:2.0:Device", "which the SCIM RFCs reserve"},
		{"User", "URN:IETF:PARAMS:SCIM:API:messages:2.0:X", "which the SCIM RFCs reserve"},
		{"User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:user", "is already defined"},
	} {
		err := c.CheckExtension(tt.rt, ext(tt.id))
		if (tt.err == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tt.err) {
			t.Errorf("CheckExtension(%s, %s) = %v, want %q", tt.rt, tt.id, err, tt.err)
		}
	}
}

// TestExtend: the extended catalog has the declared schemas and resource
// types that list them; the base catalog is untouched.
func TestExtend(t *testing.T) {
	t.Parallel()
	base := Builtin()
	acme := &Schema{ID: "urn:acme:2.0:User", Attributes: []*Attribute{{Name: "badge", Type: String}, {Name: "costCenter", Type: String}}}
	c, err := base.Extend([]Declared{{ResourceType: "User", Schema: acme}})
	if err != nil {
		t.Fatal(err)
	}
	user := c.ResourceType("User")
	if c.Schema(acme.ID) != acme || !user.IsDeclared(acme) || user.IsDeclared(c.Schema("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User")) {
		t.Fatalf("extended: %+v", user.Extensions)
	}
	if s, a := user.Resolve("", "badge"); s != acme || a == nil {
		t.Error("an unqualified name does not resolve in the declared extension")
	}
	// The enterprise extension has a costCenter too: unqualified, it
	// stays the enterprise one, as before the declaration.
	if s, _ := user.Resolve("", "costCenter"); s == nil || s.ID != "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User" {
		t.Errorf("unqualified costCenter resolves in %v", s)
	}
	acme2 := &Schema{ID: "urn:acme2:2.0:User", Attributes: []*Attribute{{Name: "badge", Type: String}}}
	if c2, err := base.Extend([]Declared{{"User", acme}, {"User", acme2}}); err != nil {
		t.Fatal(err)
	} else if s, _ := c2.ResourceType("User").Resolve("", "badge"); s != nil {
		t.Errorf("a name two declared extensions define resolves in %s", s.ID)
	}
	if c.ResourceType("Group").SchemaByURN(acme.ID) != nil {
		t.Error("the Group resource type lists a User extension")
	}
	if base.Schema(acme.ID) != nil || len(base.ResourceType("User").Extensions) != 1 {
		t.Error("Extend modified its catalog")
	}
	if _, err := c.Extend([]Declared{{ResourceType: "User", Schema: acme}}); err == nil {
		t.Error("a schema declared twice was accepted")
	}
}

func TestRegistry(t *testing.T) {
	t.Parallel()
	r := NewRegistry(Builtin())
	if c, err := r.Catalog(nil); err != nil || c != r.Base() {
		t.Fatalf("no declarations: %p, %v; want the base catalog", c, err)
	}
	decl := []Declaration{{ResourceType: "User", Definition: []byte(`{"id":"urn:acme:2.0:User","attributes":[{"name":"a"}]}`)}}
	c1, err := r.Catalog(decl)
	if err != nil {
		t.Fatal(err)
	}
	c2, _ := r.Catalog([]Declaration{{ResourceType: "User", Definition: []byte(`{"id":"urn:acme:2.0:User","attributes":[{"name":"a"}]}`)}})
	if c1 != c2 || c1.Schema("urn:acme:2.0:User") == nil {
		t.Error("the same declarations gave another catalog")
	}
	c3, _ := r.Catalog([]Declaration{{ResourceType: "Group", Definition: decl[0].Definition}})
	if c3 == c1 || c3.ResourceType("Group").SchemaByURN("urn:acme:2.0:User") == nil {
		t.Error("declarations for another resource type gave the same catalog")
	}
	if _, err := r.Catalog([]Declaration{{ResourceType: "User", Definition: []byte(`{}`)}}); err == nil {
		t.Error("a broken declaration was accepted")
	}
}
