package storetest

import (
	"context"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/ferryid/ferry/internal/scim/filter"
	"github.com/ferryid/ferry/internal/scim/resource"
	"github.com/ferryid/ferry/internal/scim/schema"
	"github.com/ferryid/ferry/internal/store"
)

// ExtensionURN and ExtensionSchema are the extension schema the
// conformance tests declare: one attribute of each kind the attribute
// index treats apart.
const (
	ExtensionURN    = "urn:ietf:params:scim:schemas:extension:acme:2.0:User"
	ExtensionSchema = `{"id":"` + ExtensionURN + `","name":"AcmeUser","attributes":[
		{"name":"costCenter","type":"string"},
		{"name":"badge","type":"string","caseExact":true},
		{"name":"level","type":"integer"},
		{"name":"hired","type":"dateTime"},
		{"name":"remote","type":"boolean"},
		{"name":"tags","type":"string","multiValued":true},
		{"name":"office","type":"complex","subAttributes":[
			{"name":"building","type":"string"},{"name":"floor","type":"integer"}]}]}`
)

// extendedUserType returns the User resource type with ExtensionSchema, as
// the server builds it for a tenant that declared it.
func extendedUserType(t testing.TB) *schema.ResourceType {
	t.Helper()
	c, err := schema.NewRegistry(catalog).Catalog([]schema.Declaration{{ResourceType: store.UserType, Definition: []byte(ExtensionSchema)}})
	if err != nil {
		t.Fatal(err)
	}
	return c.ResourceType(store.UserType)
}

func declare(t *testing.T, s store.Store, tenantID string) {
	t.Helper()
	e := &store.SchemaExtension{TenantID: tenantID, URN: ExtensionURN, ResourceType: store.UserType, Definition: []byte(ExtensionSchema)}
	if err := s.AddSchema(context.Background(), e); err != nil {
		t.Fatalf("AddSchema: %v", err)
	}
	if e.Created.IsZero() {
		t.Error("AddSchema did not set Created")
	}
}

// testSchemas: declarations are per tenant, unique by URN ignoring case,
// listed, and removed only when unused unless forced.
func testSchemas(t *testing.T, s store.Store) {
	ctx := context.Background()
	a, b := tenant(t, s, "a"), tenant(t, s, "b")
	declare(t, s, a)
	dup := &store.SchemaExtension{TenantID: a, URN: strings.ToUpper(ExtensionURN), ResourceType: store.UserType, Definition: []byte(ExtensionSchema)}
	wantKind(t, "AddSchema of a declared URN", s.AddSchema(ctx, dup), store.ErrNameTaken)
	wantKind(t, "AddSchema for a resource type that is none", s.AddSchema(ctx, &store.SchemaExtension{TenantID: a, URN: "urn:x:y", ResourceType: "Device", Definition: []byte("{}")}), store.ErrInvalid)

	list, err := s.SchemaExtensions(ctx, a)
	if err != nil || len(list) != 1 || list[0].URN != ExtensionURN || list[0].ResourceType != store.UserType ||
		string(list[0].Definition) != ExtensionSchema || list[0].TenantID != a {
		t.Fatalf("SchemaExtensions(a) = %+v, %v", list, err)
	}
	if list, err := s.SchemaExtensions(ctx, b); err != nil || len(list) != 0 {
		t.Fatalf("SchemaExtensions(b) = %+v, %v; want none: declarations are per tenant", list, err)
	}
	_, err = s.RemoveSchema(ctx, b, ExtensionURN, false)
	wantKind(t, "RemoveSchema in another tenant", err, store.ErrNotFound)

	rt := extendedUserType(t)
	u1 := create(t, s, a, store.UserType, normalize(t, rt, resource.Document{"userName": "u1",
		ExtensionURN: map[string]any{"costCenter": "CC-1"}}))
	u2 := create(t, s, a, store.UserType, normalize(t, rt, resource.Document{"userName": "u2"}))
	_, err = s.RemoveSchema(ctx, a, ExtensionURN, false)
	if e := wantKind(t, "RemoveSchema of a schema in use", err, store.ErrInUse); !strings.Contains(e.Detail, "1 User resource") {
		t.Errorf("the refusal %q does not say how many resources use the schema", e.Detail)
	}
	if got := get(t, s, a, store.UserType, u1.ID); got.Doc[ExtensionURN] == nil {
		t.Fatal("a refused RemoveSchema removed values")
	}
	changes, err := s.Changes(ctx, a, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	after := changes[len(changes)-1].Seq

	n, err := s.RemoveSchema(ctx, a, strings.ToUpper(ExtensionURN), true)
	if err != nil || n != 1 {
		t.Fatalf("RemoveSchema(force) = %d, %v; want 1 resource changed", n, err)
	}
	got := get(t, s, a, store.UserType, u1.ID)
	if _, ok := got.Doc[ExtensionURN]; ok || got.Version != u1.Version+1 {
		t.Errorf("after a forced removal: doc %v version %d; want no extension, version %d", got.Doc, got.Version, u1.Version+1)
	}
	if urns, _ := got.Doc["schemas"].([]any); slices.Contains(urns, any(ExtensionURN)) {
		t.Errorf("schemas still lists the removed extension: %v", urns)
	}
	if got := get(t, s, a, store.UserType, u2.ID); got.Version != u2.Version {
		t.Errorf("a user without values was rewritten: version %d", got.Version)
	}
	changes, err = s.Changes(ctx, a, after, 100)
	if err != nil || len(changes) != 1 || changes[0].ID != u1.ID || changes[0].Op != store.OpUpdate {
		t.Fatalf("changes after a forced removal: %+v, %v; want one update of %s", changes, err, u1.ID)
	}
	// The index rows went with the values.
	p, err := s.Query(ctx, a, store.UserType, store.Query{Filter: mustFilter(t, ExtensionURN+":costCenter pr"), Count: 10})
	if err != nil || p.Total != 0 {
		t.Errorf("a filter on the removed values finds %d, %v", p.Total, err)
	}
	if list, _ := s.SchemaExtensions(ctx, a); len(list) != 0 {
		t.Errorf("the schema is still listed: %+v", list)
	}
	_, err = s.RemoveSchema(ctx, a, ExtensionURN, true)
	wantKind(t, "RemoveSchema of a removed schema", err, store.ErrNotFound)
	// Declared again, it starts empty; an unused one goes without force.
	declare(t, s, a)
	if n, err := s.RemoveSchema(ctx, a, ExtensionURN, false); err != nil || n != 0 {
		t.Fatalf("RemoveSchema of an unused schema = %d, %v", n, err)
	}
}

// testSchemasVersion: every change to a tenant's declarations moves its
// schemas version, which VersionedSchemaExtensions returns with the
// declarations and a read with ReadOptions.SchemasVersion returns with the
// resource; another tenant's changes leave it.
func testSchemasVersion(t *testing.T, s store.Store) {
	ctx := context.Background()
	a, b := tenant(t, s, "a"), tenant(t, s, "b")
	u := create(t, s, a, store.UserType, normalize(t, catalog.ResourceType(store.UserType), resource.Document{"userName": "u"}))
	want := func(when string, version int64, declared int) {
		t.Helper()
		v, list, err := s.VersionedSchemaExtensions(ctx, a)
		if err != nil || v != version || len(list) != declared {
			t.Errorf("%s: VersionedSchemaExtensions = %d, %d declared, %v; want %d, %d", when, v, len(list), err, version, declared)
		}
		for _, members := range []bool{false, true} {
			res, err := s.Get(ctx, a, store.UserType, u.ID, store.ReadOptions{SchemasVersion: true, Members: members, Encoded: true})
			if err != nil || res.SchemasVersion != version {
				t.Errorf("%s: Get (members %v) read schemas version %v, %v; want %d", when, members, res, err, version)
			}
		}
	}
	want("before any declaration", 0, 0)
	declare(t, s, a)
	want("after a declaration", 1, 1)
	dup := &store.SchemaExtension{TenantID: a, URN: ExtensionURN, ResourceType: store.UserType, Definition: []byte(ExtensionSchema)}
	wantKind(t, "AddSchema of a declared URN", s.AddSchema(ctx, dup), store.ErrNameTaken)
	want("after a refused declaration", 1, 1)
	declare(t, s, b)
	want("after another tenant's declaration", 1, 1)
	if _, err := s.RemoveSchema(ctx, a, ExtensionURN, false); err != nil {
		t.Fatal(err)
	}
	want("after a removal", 2, 0)
	if v, list, err := s.VersionedSchemaExtensions(ctx, "no-such-tenant"); err != nil || v != 0 || len(list) != 0 {
		t.Errorf("VersionedSchemaExtensions of no tenant = %d, %v, %v; want 0 and none", v, list, err)
	}
}

func mustFilter(t testing.TB, f string) filter.Expr {
	t.Helper()
	e, err := filter.Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// testExtensionFilters: the attributes of a declared extension are indexed
// by their declared types, so that every filter and sort on them selects
// what filter.Match selects with the tenant's resource type: a caseExact
// string compares exactly, integers and dateTimes by value.
func testExtensionFilters(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	declare(t, s, a)
	rt := extendedUserType(t)
	docs := []resource.Document{
		{"userName": "u1", ExtensionURN: map[string]any{"costCenter": "CC-100", "badge": "Ab1", "level": 3, "hired": "2020-01-02T03:04:05Z",
			"remote": true, "tags": []any{"red", "Blue"}, "office": map[string]any{"building": "North", "floor": 12}}},
		{"userName": "u2", ExtensionURN: map[string]any{"costCenter": "cc-200", "badge": "ab1", "level": 20, "hired": "2020-01-02T04:04:05+02:00",
			"remote": false, "tags": "blue", "office": map[string]any{"building": "south", "floor": 2}}},
		{"userName": "u3", ExtensionURN: map[string]any{"costCenter": "XY-100", "level": 100, "hired": "2021-06-01T00:00:00"}},
		{"userName": "u4"},
	}
	var rendered []map[string]any
	var created []string
	for _, d := range docs {
		r := create(t, s, a, store.UserType, normalize(t, rt, d))
		rendered = append(rendered, render(t, r))
		created = append(created, r.ID)
	}
	x := ExtensionURN + ":"
	filters := []string{
		x + `costCenter eq "cc-100"`,
		x + `costCenter co "c-1"`,
		x + `costCenter sw "CC"`,
		x + `costCenter ew "00"`,
		x + `costCenter pr`,
		x + `costCenter gt "cc-150"`,
		x + `badge eq "ab1"`,
		x + `badge eq "Ab1"`,
		x + `badge co "b1"`,
		x + `badge co "B1"`,
		x + `level gt 5`,
		x + `level le 20`,
		x + `level eq 3`,
		x + `hired lt "2020-01-02T03:00:00Z"`,
		x + `hired ge "2020-01-02T03:04:05Z"`,
		x + `remote eq false`,
		x + `tags eq "blue"`,
		x + `tags co "e"`,
		x + `office.building eq "NORTH"`,
		x + `office.floor gt 5`,
		`not (` + x + `level gt 5) and userName sw "u"`,
		x + `costCenter pr or userName eq "u4"`,
	}
	// The evaluator is the oracle; these hold it to the declared types.
	for f, want := range map[string]int{x + `badge eq "ab1"`: 1, x + `badge co "B1"`: 0, x + `costCenter eq "CC-200"`: 1,
		x + `level gt 5`: 2, x + `hired lt "2020-01-02T03:00:00Z"`: 1} {
		n := 0
		for _, d := range rendered {
			if filter.Match(mustFilter(t, f), d, rt) {
				n++
			}
		}
		if n != want {
			t.Errorf("filter.Match(%s) selects %d, want %d", f, n, want)
		}
	}
	for _, f := range filters {
		e := mustFilter(t, f)
		if err := filter.Check(e, rt); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		var want []string
		for i, d := range rendered {
			if filter.Match(e, d, rt) {
				want = append(want, created[i])
			}
		}
		sort.Strings(want)
		p, err := s.Query(ctx, a, store.UserType, store.Query{Filter: e, Count: 10})
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		got := ids(p)
		sort.Strings(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s: got %v, want %v (filter.Match)", f, got, want)
		}
	}
	for _, tc := range []struct {
		sortBy string
		desc   bool
		want   []string
	}{
		{x + "level", false, []string{"u1", "u2", "u3", "u4"}},
		{x + "level", true, []string{"u4", "u3", "u2", "u1"}},
		{x + "costCenter", false, []string{"u1", "u2", "u3", "u4"}},
		{x + "hired", false, []string{"u2", "u1", "u3", "u4"}},
	} {
		p, err := s.Query(ctx, a, store.UserType, store.Query{SortBy: tc.sortBy, Descending: tc.desc, Count: 10})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range p.Resources {
			got = append(got, r.Doc["userName"].(string))
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("sortBy %s (descending %v): got %v, want %v", tc.sortBy, tc.desc, got, tc.want)
		}
	}
	// Another tenant that did not declare the schema reads the same
	// path as an unknown attribute's: its documents cannot hold one.
	b := tenant(t, s, "b")
	p, err := s.Query(ctx, b, store.UserType, store.Query{Filter: mustFilter(t, x+`level gt 5`), Count: 10})
	if err != nil || p.Total != 0 {
		t.Errorf("tenant b: %d, %v", p.Total, err)
	}
}

// testUndeclaredValues: values under a schema the tenant has not declared
// (or removed between the server's check and the write) are refused by the
// store itself.
func testUndeclaredValues(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	doc := normalize(t, extendedUserType(t), resource.Document{"userName": "u1", ExtensionURN: map[string]any{"costCenter": "CC-1"}})
	err := s.Create(ctx, &store.Resource{TenantID: a, Type: store.UserType, Doc: doc})
	wantKind(t, "Create with an undeclared schema's values", err, store.ErrInvalid)
	u := create(t, s, a, store.UserType, user(t, "u2"))
	_, err = s.Update(ctx, a, store.UserType, u.ID, 0, func(r *store.Resource) error {
		r.Doc = doc.Clone()
		r.Doc["userName"] = "u2"
		return nil
	})
	wantKind(t, "Update with an undeclared schema's values", err, store.ErrInvalid)
	declare(t, s, a)
	create(t, s, a, store.UserType, doc)
}
