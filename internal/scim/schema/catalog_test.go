package schema

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/ferryid/ferry/internal/scim"
)

// lookup finds the attribute at a dotted path ("name.givenName") in the
// schema urn of c, or nil.
func lookup(c *Catalog, urn, path string) *Attribute {
	s := c.Schema(urn)
	if s == nil {
		return nil
	}
	parts := strings.Split(path, ".")
	a := s.Attribute(parts[0])
	for _, p := range parts[1:] {
		if a == nil {
			return nil
		}
		a = a.SubAttribute(p)
	}
	return a
}

func names(attrs []*Attribute) []string {
	out := make([]string, 0, len(attrs))
	for _, a := range attrs {
		out = append(out, a.Name)
	}
	return out
}

// walk calls fn for every attribute and sub-attribute of attrs, with its
// dotted path and its parent (nil at the top level).
func walk(attrs []*Attribute, prefix string, parent *Attribute, fn func(path string, a, parent *Attribute)) {
	for _, a := range attrs {
		path := a.Name
		if prefix != "" {
			path = prefix + "." + a.Name
		}
		fn(path, a, parent)
		walk(a.SubAttributes, path, a, fn)
	}
}

func TestBuiltinLoads(t *testing.T) {
	t.Parallel()
	var c1, c2 *Catalog
	func() {
		defer func() {
			if r := recover(); r != nil {
				t.Fatalf("Builtin panicked: %v", r)
			}
		}()
		c1, c2 = Builtin(), Builtin()
	}()
	if len(c1.Schemas()) == 0 || len(c1.ResourceTypes()) == 0 {
		t.Fatalf("Builtin: %d schemas, %d resource types", len(c1.Schemas()), len(c1.ResourceTypes()))
	}
	// Each call returns independent values.
	if c1.Schemas()[0] == c2.Schemas()[0] || c1.Schemas()[0].Attributes[0] == c2.Schemas()[0].Attributes[0] {
		t.Error("two Builtin calls share schema values")
	}
}

func TestBuiltinSchemaOrder(t *testing.T) {
	t.Parallel()
	want := []struct{ id, name string }{
		{scim.UserURN, "User"},
		{scim.EnterpriseUserURN, "EnterpriseUser"},
		{scim.GroupURN, "Group"},
		{scim.ServiceProviderConfigURN, "Service Provider Configuration"},
		{scim.ResourceTypeURN, "ResourceType"},
		{scim.SchemaURN, "Schema"},
	}
	got := Builtin().Schemas()
	if len(got) != len(want) {
		t.Fatalf("got %d schemas, want %d", len(got), len(want))
	}
	for i, w := range want {
		if got[i].ID != w.id || got[i].Name != w.name {
			t.Errorf("schema %d = %q (%q), want %q (%q)", i, got[i].ID, got[i].Name, w.id, w.name)
		}
		if got[i].Description == "" || len(got[i].Attributes) == 0 {
			t.Errorf("schema %s: empty description or no attributes", w.id)
		}
	}
}

// char is the full set of characteristics a row of the transcription test
// expects. canonical and refs must match exactly (nil: none); subs, when
// non-nil, are the expected sub-attribute names in order.
type char struct {
	typ       Type
	multi     bool
	required  bool
	caseExact bool
	mut       Mutability
	ret       Returned
	uniq      Uniqueness
	canonical []string
	refs      []string
	subs      []string
}

func TestBuiltinCharacteristics(t *testing.T) {
	t.Parallel()
	rw := func(typ Type) char { return char{typ: typ, mut: ReadWrite, ret: Default, uniq: None} }
	with := func(c char, f func(*char)) char { f(&c); return c }
	ro := func(typ Type) char { return char{typ: typ, mut: ReadOnly, ret: Default, uniq: None} }
	imm := func(typ Type) char { return char{typ: typ, mut: Immutable, ret: Default, uniq: None} }
	multiSubs := []string{"value", "display", "type", "primary"}

	tests := []struct {
		urn, path string
		want      char
	}{
		// Common attributes added to User and Group.
		{scim.UserURN, "id", char{typ: String, caseExact: true, mut: ReadOnly, ret: Always, uniq: Server}},
		{scim.UserURN, "externalId", with(rw(String), func(c *char) { c.caseExact = true })},
		{scim.UserURN, "meta", with(ro(Complex), func(c *char) {
			c.subs = []string{"resourceType", "created", "lastModified", "location", "version"}
		})},
		{scim.UserURN, "meta.resourceType", with(ro(String), func(c *char) { c.caseExact = true })},
		{scim.UserURN, "meta.created", ro(DateTime)},
		{scim.UserURN, "meta.lastModified", ro(DateTime)},
		{scim.UserURN, "meta.location", with(ro(Reference), func(c *char) { c.caseExact = true; c.refs = []string{"uri"} })},
		{scim.UserURN, "meta.version", with(ro(String), func(c *char) { c.caseExact = true })},
		{scim.GroupURN, "id", char{typ: String, caseExact: true, mut: ReadOnly, ret: Always, uniq: Server}},
		{scim.GroupURN, "externalId", with(rw(String), func(c *char) { c.caseExact = true })},
		{scim.GroupURN, "meta.created", ro(DateTime)},

		// User (RFC 7643 §4.1, §8.7.1).
		{scim.UserURN, "userName", with(rw(String), func(c *char) { c.required = true; c.uniq = Server })},
		{scim.UserURN, "name", with(rw(Complex), func(c *char) {
			c.subs = []string{"formatted", "familyName", "givenName", "middleName", "honorificPrefix", "honorificSuffix"}
		})},
		{scim.UserURN, "name.givenName", rw(String)},
		{scim.UserURN, "name.honorificSuffix", rw(String)},
		{scim.UserURN, "displayName", rw(String)},
		{scim.UserURN, "profileUrl", with(rw(Reference), func(c *char) { c.refs = []string{"external"} })},
		{scim.UserURN, "active", rw(Boolean)},
		{scim.UserURN, "password", char{typ: String, mut: WriteOnly, ret: Never, uniq: None}},
		{scim.UserURN, "emails", with(rw(Complex), func(c *char) { c.multi = true; c.subs = multiSubs })},
		{scim.UserURN, "emails.value", rw(String)},
		{scim.UserURN, "emails.type", with(rw(String), func(c *char) { c.canonical = []string{"work", "home", "other"} })},
		{scim.UserURN, "emails.primary", rw(Boolean)},
		{scim.UserURN, "emails.display", rw(String)},
		{scim.UserURN, "phoneNumbers", with(rw(Complex), func(c *char) { c.multi = true; c.subs = multiSubs })},
		{scim.UserURN, "phoneNumbers.type", with(rw(String), func(c *char) {
			c.canonical = []string{"work", "home", "mobile", "fax", "pager", "other"}
		})},
		{scim.UserURN, "ims.type", with(rw(String), func(c *char) {
			c.canonical = []string{"aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo"}
		})},
		{scim.UserURN, "photos.value", with(rw(Reference), func(c *char) { c.refs = []string{"external"} })},
		{scim.UserURN, "photos.type", with(rw(String), func(c *char) { c.canonical = []string{"photo", "thumbnail"} })},
		{scim.UserURN, "addresses", with(rw(Complex), func(c *char) {
			c.multi = true
			c.subs = []string{"formatted", "streetAddress", "locality", "region", "postalCode", "country", "type", "primary"}
		})},
		{scim.UserURN, "addresses.type", with(rw(String), func(c *char) { c.canonical = []string{"work", "home", "other"} })},
		{scim.UserURN, "addresses.postalCode", rw(String)},
		{scim.UserURN, "groups", with(ro(Complex), func(c *char) { c.multi = true; c.subs = []string{"value", "$ref", "display", "type"} })},
		{scim.UserURN, "groups.value", ro(String)},
		{scim.UserURN, "groups.$ref", with(ro(Reference), func(c *char) { c.refs = []string{"Group"} })},
		{scim.UserURN, "groups.type", with(ro(String), func(c *char) { c.canonical = []string{"direct", "indirect"} })},
		{scim.UserURN, "entitlements", with(rw(Complex), func(c *char) { c.multi = true; c.subs = multiSubs })},
		{scim.UserURN, "roles", with(rw(Complex), func(c *char) { c.multi = true; c.subs = multiSubs })},
		{scim.UserURN, "roles.value", rw(String)},
		{scim.UserURN, "x509Certificates", with(rw(Complex), func(c *char) { c.multi = true; c.subs = multiSubs })},
		{scim.UserURN, "x509Certificates.value", rw(Binary)},

		// Enterprise User extension (RFC 7643 §4.3).
		{scim.EnterpriseUserURN, "employeeNumber", rw(String)},
		{scim.EnterpriseUserURN, "costCenter", rw(String)},
		{scim.EnterpriseUserURN, "department", rw(String)},
		{scim.EnterpriseUserURN, "manager", with(rw(Complex), func(c *char) { c.subs = []string{"value", "$ref", "displayName"} })},
		{scim.EnterpriseUserURN, "manager.value", rw(String)},
		{scim.EnterpriseUserURN, "manager.$ref", with(rw(Reference), func(c *char) { c.refs = []string{"User"} })},
		{scim.EnterpriseUserURN, "manager.displayName", ro(String)},

		// Group (RFC 7643 §4.2).
		{scim.GroupURN, "displayName", with(rw(String), func(c *char) { c.required = true })},
		{scim.GroupURN, "members", with(rw(Complex), func(c *char) { c.multi = true; c.subs = []string{"value", "$ref", "type", "display"} })},
		{scim.GroupURN, "members.value", imm(String)},
		{scim.GroupURN, "members.$ref", with(imm(Reference), func(c *char) { c.refs = []string{"User", "Group"} })},
		{scim.GroupURN, "members.type", with(imm(String), func(c *char) { c.canonical = []string{"User", "Group"} })},
		// readOnly, not RFC 7643 §8.7.1's immutable: Ferry computes a member's
		// display from the member (RFC 7643 §2.2, mutability).
		{scim.GroupURN, "members.display", ro(String)},

		// ServiceProviderConfig (RFC 7643 §5, §8.7.2).
		{scim.ServiceProviderConfigURN, "documentationUri", with(ro(Reference), func(c *char) { c.refs = []string{"external"} })},
		{scim.ServiceProviderConfigURN, "patch", with(ro(Complex), func(c *char) { c.required = true; c.subs = []string{"supported"} })},
		{scim.ServiceProviderConfigURN, "patch.supported", with(ro(Boolean), func(c *char) { c.required = true })},
		{scim.ServiceProviderConfigURN, "bulk", with(ro(Complex), func(c *char) {
			c.required = true
			c.subs = []string{"supported", "maxOperations", "maxPayloadSize"}
		})},
		{scim.ServiceProviderConfigURN, "bulk.maxOperations", with(ro(Integer), func(c *char) { c.required = true })},
		{scim.ServiceProviderConfigURN, "bulk.maxPayloadSize", with(ro(Integer), func(c *char) { c.required = true })},
		{scim.ServiceProviderConfigURN, "filter.maxResults", with(ro(Integer), func(c *char) { c.required = true })},
		{scim.ServiceProviderConfigURN, "changePassword.supported", with(ro(Boolean), func(c *char) { c.required = true })},
		{scim.ServiceProviderConfigURN, "sort.supported", with(ro(Boolean), func(c *char) { c.required = true })},
		{scim.ServiceProviderConfigURN, "etag.supported", with(ro(Boolean), func(c *char) { c.required = true })},
		{scim.ServiceProviderConfigURN, "authenticationSchemes", with(ro(Complex), func(c *char) {
			c.multi, c.required = true, true
			c.subs = []string{"type", "name", "description", "specUri", "documentationUri", "primary"}
		})},
		{scim.ServiceProviderConfigURN, "authenticationSchemes.type", with(ro(String), func(c *char) {
			c.required = true
			c.canonical = []string{"oauth", "oauth2", "oauthbearertoken", "httpbasic", "httpdigest"}
		})},
		{scim.ServiceProviderConfigURN, "authenticationSchemes.specUri", with(ro(Reference), func(c *char) { c.refs = []string{"external"} })},

		// ResourceType (RFC 7643 §6, §8.7.2).
		{scim.ResourceTypeURN, "id", ro(String)},
		{scim.ResourceTypeURN, "name", with(ro(String), func(c *char) { c.required = true })},
		{scim.ResourceTypeURN, "endpoint", with(ro(Reference), func(c *char) { c.required = true; c.refs = []string{"uri"} })},
		{scim.ResourceTypeURN, "schema", with(ro(Reference), func(c *char) {
			c.required, c.caseExact = true, true
			c.refs = []string{"uri"}
		})},
		{scim.ResourceTypeURN, "schemaExtensions", with(ro(Complex), func(c *char) { c.multi = true; c.subs = []string{"schema", "required"} })},
		{scim.ResourceTypeURN, "schemaExtensions.required", with(ro(Boolean), func(c *char) { c.required = true })},

		// Schema (RFC 7643 §7, §8.7.2).
		{scim.SchemaURN, "id", with(ro(String), func(c *char) { c.required = true })},
		{scim.SchemaURN, "attributes", with(ro(Complex), func(c *char) {
			c.multi, c.required = true, true
			c.subs = []string{"name", "type", "multiValued", "description", "required", "canonicalValues",
				"caseExact", "mutability", "returned", "uniqueness", "referenceTypes"}
		})},
		{scim.SchemaURN, "attributes.type", with(ro(String), func(c *char) {
			c.required = true
			c.canonical = []string{"string", "complex", "boolean", "decimal", "integer", "dateTime", "reference", "binary"}
		})},
		{scim.SchemaURN, "attributes.mutability", with(ro(String), func(c *char) {
			c.caseExact = true
			c.canonical = []string{"readOnly", "readWrite", "immutable", "writeOnly"}
		})},
		{scim.SchemaURN, "attributes.canonicalValues", with(ro(String), func(c *char) { c.multi, c.caseExact = true, true })},
		{scim.SchemaURN, "attributes.referenceTypes", with(ro(String), func(c *char) { c.multi, c.caseExact = true, true })},
	}

	c := Builtin()
	for _, tt := range tests {
		t.Run(tt.urn[strings.LastIndex(tt.urn, ":")+1:]+"/"+tt.path, func(t *testing.T) {
			t.Parallel()
			a := lookup(c, tt.urn, tt.path)
			if a == nil {
				t.Fatalf("%s: attribute not found", tt.path)
			}
			got := char{
				typ: a.Type, multi: a.MultiValued, required: a.Required, caseExact: a.CaseExact,
				mut: a.Mutability, ret: a.Returned, uniq: a.Uniqueness,
				canonical: a.CanonicalValues, refs: a.ReferenceTypes,
			}
			w := tt.want
			if got.typ != w.typ || got.multi != w.multi || got.required != w.required || got.caseExact != w.caseExact ||
				got.mut != w.mut || got.ret != w.ret || got.uniq != w.uniq {
				t.Errorf("got type=%s multiValued=%t required=%t caseExact=%t mutability=%s returned=%s uniqueness=%s\n"+
					"want type=%s multiValued=%t required=%t caseExact=%t mutability=%s returned=%s uniqueness=%s",
					got.typ, got.multi, got.required, got.caseExact, got.mut, got.ret, got.uniq,
					w.typ, w.multi, w.required, w.caseExact, w.mut, w.ret, w.uniq)
			}
			if !slices.Equal(got.canonical, w.canonical) {
				t.Errorf("canonicalValues = %q, want %q", got.canonical, w.canonical)
			}
			if !slices.Equal(got.refs, w.refs) {
				t.Errorf("referenceTypes = %q, want %q", got.refs, w.refs)
			}
			if w.subs != nil && !slices.Equal(names(a.SubAttributes), w.subs) {
				t.Errorf("subAttributes = %q, want %q", names(a.SubAttributes), w.subs)
			}
			if a.Description == "" {
				t.Error("no description")
			}
		})
	}
}

// TestBuiltinInvariants checks properties that hold across every built-in
// definition, so a slip anywhere in the data files shows up.
func TestBuiltinInvariants(t *testing.T) {
	t.Parallel()
	var numeric []string
	for _, s := range Builtin().Schemas() {
		walk(s.Attributes, "", nil, func(path string, a, parent *Attribute) {
			where := s.Name + ":" + path
			if a.Description == "" {
				t.Errorf("%s: no description", where)
			}
			if (a.Type == Reference) != (len(a.ReferenceTypes) > 0) {
				t.Errorf("%s: type %s with referenceTypes %q", where, a.Type, a.ReferenceTypes)
			}
			if len(a.CanonicalValues) > 0 && a.Type != String {
				t.Errorf("%s: canonicalValues on a %s attribute", where, a.Type)
			}
			if parent != nil && parent.Mutability == ReadOnly && a.Mutability != ReadOnly {
				t.Errorf("%s: %s sub-attribute of a readOnly attribute", where, a.Mutability)
			}
			if (a.Mutability == WriteOnly) != (a.Returned == Never) {
				t.Errorf("%s: mutability %s with returned %s", where, a.Mutability, a.Returned)
			}
			if a.Type == Integer || a.Type == Decimal {
				numeric = append(numeric, s.ID+":"+path+" ("+string(a.Type)+")")
			}
		})
	}
	// Only ServiceProviderConfig has numbers, and all of them are integers.
	want := []string{
		scim.ServiceProviderConfigURN + ":bulk.maxOperations (integer)",
		scim.ServiceProviderConfigURN + ":bulk.maxPayloadSize (integer)",
		scim.ServiceProviderConfigURN + ":filter.maxResults (integer)",
		scim.ServiceProviderConfigURN + ":pagination.defaultPageSize (integer)",
		scim.ServiceProviderConfigURN + ":pagination.maxPageSize (integer)",
		scim.ServiceProviderConfigURN + ":pagination.cursorTimeout (integer)",
	}
	if !slices.Equal(numeric, want) {
		t.Errorf("numeric attributes = %q, want %q", numeric, want)
	}
	// Only the identifiers are unique.
	c := Builtin()
	var unique []string
	for _, s := range c.Schemas() {
		walk(s.Attributes, "", nil, func(path string, a, _ *Attribute) {
			if a.Uniqueness != None {
				unique = append(unique, s.Name+":"+path)
			}
		})
	}
	if want := []string{"User:id", "User:userName", "Group:id"}; !slices.Equal(unique, want) {
		t.Errorf("unique attributes = %q, want %q", unique, want)
	}
}

func TestAttributeLookupIgnoresCase(t *testing.T) {
	t.Parallel()
	c := Builtin()
	user := c.Schema(strings.ToUpper(scim.UserURN))
	if user == nil || user.ID != scim.UserURN {
		t.Fatalf("Schema(upper-case User URN) = %v", user)
	}
	tests := []struct {
		attr, sub, want string
	}{
		{"USERNAME", "", "userName"},
		{"username", "", "userName"},
		{"name", "GIVENNAME", "givenName"},
		{"NAME", "familyname", "familyName"},
		{"Emails", "VALUE", "value"},
		{"x509certificates", "Value", "value"},
		{"GROUPS", "$REF", "$ref"},
		{"META", "LASTMODIFIED", "lastModified"},
		{"EXTERNALID", "", "externalId"},
	}
	for _, tt := range tests {
		a := user.Attribute(tt.attr)
		if a != nil && tt.sub != "" {
			a = a.SubAttribute(tt.sub)
		}
		if a == nil || a.Name != tt.want {
			t.Errorf("%s.%s: got %v, want %s", tt.attr, tt.sub, a, tt.want)
		}
	}
	if user.Attribute("nosuch") != nil || user.Attribute("name").SubAttribute("nosuch") != nil {
		t.Error("unknown names resolved")
	}
	if user.Attribute("name.givenName") != nil {
		t.Error("Attribute resolved a dotted path; it takes one name")
	}
}

func TestResourceTypes(t *testing.T) {
	t.Parallel()
	c := Builtin()
	rts := c.ResourceTypes()
	if len(rts) != 2 || rts[0].ID != "User" || rts[1].ID != "Group" {
		t.Fatalf("ResourceTypes = %v, want User, Group", rts)
	}
	user, group := rts[0], rts[1]
	if user.Name != "User" || user.Endpoint != "/Users" || user.Description != "User Account" || user.Schema.ID != scim.UserURN {
		t.Errorf("User resource type = %+v", user)
	}
	if len(user.Extensions) != 1 || user.Extensions[0].Schema.ID != scim.EnterpriseUserURN || user.Extensions[0].Required {
		t.Errorf("User extensions = %+v, want the optional enterprise extension", user.Extensions)
	}
	if group.Name != "Group" || group.Endpoint != "/Groups" || group.Description != "Group" || group.Schema.ID != scim.GroupURN {
		t.Errorf("Group resource type = %+v", group)
	}
	if len(group.Extensions) != 0 {
		t.Errorf("Group extensions = %+v, want none", group.Extensions)
	}
	// The resource types share the catalog's schema values.
	if user.Schema != c.Schema(scim.UserURN) || user.Extensions[0].Schema != c.Schema(scim.EnterpriseUserURN) {
		t.Error("resource type schemas are not the catalog's")
	}

	for _, name := range []string{"User", "user", "USER", "Users", "/users"} {
		if got := c.ResourceType(name); got != user {
			t.Errorf("ResourceType(%q) = %v, want User", name, got)
		}
	}
	for _, name := range []string{"Group", "group", "Groups"} {
		if got := c.ResourceType(name); got != group {
			t.Errorf("ResourceType(%q) = %v, want Group", name, got)
		}
	}
	for _, name := range []string{"", "Schema", "Users/"} {
		if got := c.ResourceType(name); got != nil {
			t.Errorf("ResourceType(%q) = %v, want nil", name, got)
		}
	}
}

func TestResolve(t *testing.T) {
	t.Parallel()
	c := Builtin()
	user, group := c.ResourceType("User"), c.ResourceType("Group")
	tests := []struct {
		rt         *ResourceType
		urn, name  string
		wantSchema string // "" when nothing resolves
		wantAttr   string
	}{
		{user, "", "userName", scim.UserURN, "userName"},
		{user, "", "USERNAME", scim.UserURN, "userName"},
		{user, "", "department", scim.EnterpriseUserURN, "department"},
		{user, "", "manager", scim.EnterpriseUserURN, "manager"},
		{user, "", "id", scim.UserURN, "id"},
		{user, "", "meta", scim.UserURN, "meta"},
		{user, scim.UserURN, "emails", scim.UserURN, "emails"},
		{user, strings.ToUpper(scim.EnterpriseUserURN), "Manager", scim.EnterpriseUserURN, "manager"},
		{user, strings.ToLower(scim.EnterpriseUserURN), "EMPLOYEENUMBER", scim.EnterpriseUserURN, "employeeNumber"},
		{user, scim.EnterpriseUserURN, "userName", "", ""},
		{user, scim.UserURN, "department", "", ""},
		{user, "urn:example:unknown", "userName", "", ""},
		{user, scim.GroupURN, "displayName", "", ""},
		{user, "", "nosuch", "", ""},
		{group, "", "members", scim.GroupURN, "members"},
		{group, "", "department", "", ""},
		{group, scim.EnterpriseUserURN, "department", "", ""},
	}
	for _, tt := range tests {
		s, a := tt.rt.Resolve(tt.urn, tt.name)
		if tt.wantSchema == "" {
			if s != nil || a != nil {
				t.Errorf("%s.Resolve(%q, %q) = %v, %v; want nil, nil", tt.rt.Name, tt.urn, tt.name, s, a)
			}
			continue
		}
		if s == nil || a == nil || s.ID != tt.wantSchema || a.Name != tt.wantAttr {
			t.Errorf("%s.Resolve(%q, %q) = %v, %v; want %s, %s", tt.rt.Name, tt.urn, tt.name, s, a, tt.wantSchema, tt.wantAttr)
		}
	}

	if got := user.SchemaByURN(strings.ToUpper(scim.UserURN)); got != user.Schema {
		t.Errorf("SchemaByURN(core, upper case) = %v", got)
	}
	enterprise := user.SchemaByURN(scim.EnterpriseUserURN)
	if enterprise == nil || !user.IsExtension(enterprise) || user.IsExtension(user.Schema) {
		t.Error("IsExtension does not tell the enterprise extension from the core schema")
	}
	if user.SchemaByURN(scim.GroupURN) != nil {
		t.Error("SchemaByURN(Group) resolved on the User resource type")
	}
}

func TestSchemaURNs(t *testing.T) {
	t.Parallel()
	c := Builtin()
	if got, want := c.ResourceType("User").SchemaURNs(), []string{scim.UserURN, scim.EnterpriseUserURN}; !slices.Equal(got, want) {
		t.Errorf("User.SchemaURNs() = %q, want %q", got, want)
	}
	if got, want := c.ResourceType("Group").SchemaURNs(), []string{scim.GroupURN}; !slices.Equal(got, want) {
		t.Errorf("Group.SchemaURNs() = %q, want %q", got, want)
	}
}

// characteristicKeys are the keys every attribute object carries when served
// from /Schemas; Entra's schema discovery expects all of them.
var characteristicKeys = []string{"name", "type", "multiValued", "required", "caseExact", "mutability", "returned", "uniqueness"}

// TestSchemaJSON marshals every schema as /Schemas serves it and checks each
// attribute object carries every characteristic and nothing is null.
func TestSchemaJSON(t *testing.T) {
	t.Parallel()
	for _, s := range Builtin().Schemas() {
		t.Run(s.Name, func(t *testing.T) {
			t.Parallel()
			data, err := json.Marshal(s)
			if err != nil {
				t.Fatal(err)
			}
			var doc map[string]any
			if err := json.Unmarshal(data, &doc); err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{"id", "name", "description", "attributes"} {
				if _, ok := doc[k]; !ok {
					t.Errorf("schema has no %q", k)
				}
			}
			checkNoNull(t, "schema", doc)
			attrs, _ := doc["attributes"].([]any)
			checkAttributeObjects(t, s.Name, attrs, false)
		})
	}
}

func checkNoNull(t *testing.T, path string, v any) {
	t.Helper()
	switch v := v.(type) {
	case nil:
		t.Errorf("%s: null", path)
	case map[string]any:
		for k, e := range v {
			checkNoNull(t, path+"."+k, e)
		}
	case []any:
		for _, e := range v {
			checkNoNull(t, path+"[]", e)
		}
	}
}

// checkAttributeObjects checks a JSON array of attribute definitions. With
// strict set it also rejects keys outside RFC 7643 §7 and empty arrays.
func checkAttributeObjects(t *testing.T, where string, attrs []any, strict bool) {
	t.Helper()
	allowed := map[string]bool{"description": true, "subAttributes": true, "canonicalValues": true, "referenceTypes": true}
	for _, k := range characteristicKeys {
		allowed[k] = true
	}
	if len(attrs) == 0 {
		t.Errorf("%s: no attributes", where)
	}
	for _, raw := range attrs {
		obj, ok := raw.(map[string]any)
		if !ok {
			t.Errorf("%s: attribute is %T, not an object", where, raw)
			continue
		}
		name, _ := obj["name"].(string)
		at := where + "." + name
		for _, k := range characteristicKeys {
			if _, ok := obj[k]; !ok {
				t.Errorf("%s: no %q", at, k)
			}
		}
		for _, k := range []string{"multiValued", "required", "caseExact"} {
			if _, ok := obj[k].(bool); !ok {
				t.Errorf("%s: %q is %T, not a boolean", at, k, obj[k])
			}
		}
		if d, _ := obj["description"].(string); d == "" {
			t.Errorf("%s: no description", at)
		}
		if strict {
			for k, v := range obj {
				if !allowed[k] {
					t.Errorf("%s: unexpected key %q", at, k)
				}
				if arr, ok := v.([]any); ok && len(arr) == 0 {
					t.Errorf("%s: empty %q", at, k)
				}
			}
		}
		if subs, ok := obj["subAttributes"]; ok {
			arr, _ := subs.([]any)
			checkAttributeObjects(t, at, arr, strict)
		}
	}
}

// TestDataFilesExplicit reads the embedded files themselves: every
// characteristic must be written out (with its exact spelling; Go's decoder
// would accept other casings and fill in zero values), and no key may be one
// the catalog silently ignores.
func TestDataFilesExplicit(t *testing.T) {
	t.Parallel()
	files, err := fs.Glob(builtinFS, "data/schemas/*.json")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"data/schemas/01_user.json",
		"data/schemas/02_enterprise_user.json",
		"data/schemas/03_group.json",
		"data/schemas/04_service_provider_config.json",
		"data/schemas/05_resource_type.json",
		"data/schemas/06_schema.json",
	}
	if !slices.Equal(files, want) {
		t.Fatalf("schema files = %q, want %q", files, want)
	}
	for _, name := range files {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			data, err := fs.ReadFile(builtinFS, name)
			if err != nil {
				t.Fatal(err)
			}
			dec := json.NewDecoder(bytes.NewReader(data))
			dec.DisallowUnknownFields()
			var s Schema
			if err := dec.Decode(&s); err != nil {
				t.Errorf("decode with unknown fields disallowed: %v", err)
			}
			var doc map[string]any
			if err := json.Unmarshal(data, &doc); err != nil {
				t.Fatal(err)
			}
			for k := range doc {
				switch k {
				case "id", "name", "description", "attributes":
				default:
					t.Errorf("unexpected top-level key %q (the server adds schemas and meta)", k)
				}
			}
			checkNoNull(t, name, doc)
			attrs, _ := doc["attributes"].([]any)
			checkAttributeObjects(t, name, attrs, true)
		})
	}

	data, err := fs.ReadFile(builtinFS, "data/resource_types.json")
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var rts []resourceTypeJSON
	if err := dec.Decode(&rts); err != nil {
		t.Fatalf("resource_types.json: %v", err)
	}
}

func TestLoadRejectsBadDefinitions(t *testing.T) {
	t.Parallel()
	const okRT = `[{"id":"Thing","name":"Thing","endpoint":"/Things","schema":"urn:x:Thing"}]`
	attr := func(name, typ, extra string) string {
		return `{"name":"` + name + `","type":"` + typ + `","multiValued":false,"required":false,"caseExact":false,` +
			`"mutability":"readWrite","returned":"default","uniqueness":"none"` + extra + `}`
	}
	schemaFile := func(attrs ...string) string {
		return `{"id":"urn:x:Thing","name":"Thing","attributes":[` + strings.Join(attrs, ",") + `]}`
	}
	tests := []struct {
		name    string
		schema  string // data/schemas/thing.json; "" for none
		rts     string // data/resource_types.json; "" for none
		wantErr string // "" for success
	}{
		{"valid", schemaFile(attr("a", "string", ""), attr("c", "complex", `,"subAttributes":[`+attr("s", "integer", "")+`]`)), okRT, ""},
		{"unknown type", schemaFile(attr("a", "text", "")), okRT, `urn:x:Thing.a: unknown type "text"`},
		{"missing type", schemaFile(`{"name":"a","mutability":"readWrite","returned":"default","uniqueness":"none"}`), okRT, `unknown type ""`},
		{"nested complex", schemaFile(attr("c", "complex", `,"subAttributes":[`+attr("inner", "complex", `,"subAttributes":[`+attr("x", "string", "")+`]`)+`]`)), okRT, "urn:x:Thing.c.inner: complex attributes cannot nest"},
		{"complex without sub-attributes", schemaFile(attr("c", "complex", "")), okRT, "complex attribute without sub-attributes"},
		{"sub-attributes on a string", schemaFile(attr("a", "string", `,"subAttributes":[`+attr("x", "string", "")+`]`)), okRT, "sub-attributes on a string attribute"},
		{"bad sub-attribute type", schemaFile(attr("c", "complex", `,"subAttributes":[`+attr("x", "number", "")+`]`)), okRT, `urn:x:Thing.c.x: unknown type "number"`},
		{"defined twice", schemaFile(attr("a", "string", ""), attr("A", "string", "")), okRT, "urn:x:Thing.A: defined twice"},
		{"sub-attribute defined twice", schemaFile(attr("c", "complex", `,"subAttributes":[`+attr("x", "string", "")+`,`+attr("X", "string", "")+`]`)), okRT, "defined twice"},
		{"no name", schemaFile(attr("", "string", "")), okRT, "attribute without a name"},
		{"unknown mutability", schemaFile(strings.Replace(attr("a", "string", ""), `"readWrite"`, `"readwrite"`, 1)), okRT, `unknown mutability "readwrite"`},
		{"unknown returned", schemaFile(strings.Replace(attr("a", "string", ""), `"default"`, `"sometimes"`, 1)), okRT, `unknown returned "sometimes"`},
		{"unknown uniqueness", schemaFile(strings.Replace(attr("a", "string", ""), `"none"`, `"unique"`, 1)), okRT, `unknown uniqueness "unique"`},
		{"malformed schema JSON", `{"id":`, okRT, "thing.json"},
		{"resource type with unknown schema", schemaFile(attr("a", "string", "")), `[{"id":"T","name":"T","endpoint":"/T","schema":"urn:x:Other"}]`, "unknown schema urn:x:Other"},
		{"resource type with unknown extension", schemaFile(attr("a", "string", "")), `[{"id":"T","name":"T","endpoint":"/T","schema":"urn:x:Thing","schemaExtensions":[{"schema":"urn:x:Ext","required":false}]}]`, "unknown extension schema urn:x:Ext"},
		{"malformed resource types", schemaFile(attr("a", "string", "")), `{}`, "resource_types.json"},
		{"no resource types file", schemaFile(attr("a", "string", "")), "", "resource_types.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fsys := fstest.MapFS{}
			if tt.schema != "" {
				fsys["data/schemas/thing.json"] = &fstest.MapFile{Data: []byte(tt.schema)}
			}
			if tt.rts != "" {
				fsys["data/resource_types.json"] = &fstest.MapFile{Data: []byte(tt.rts)}
			}
			c, err := load(fsys)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("load: %v", err)
				}
				if len(c.Schemas()) != 1 || c.ResourceType("thing") == nil {
					t.Errorf("load gave %d schemas and resource types %v", len(c.Schemas()), c.ResourceTypes())
				}
				return
			}
			if err == nil {
				t.Fatalf("load succeeded, want an error containing %q", tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("load error = %q, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}
