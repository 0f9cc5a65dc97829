// Package storetest is the conformance suite every store.Store backend
// must pass: the SQLite and PostgreSQL backends both run it, so that
// nothing above the interface can tell them apart.
//
// Besides the behaviour of each method, it checks the property the filter
// translation rests on: for every filter, Query returns exactly the
// resources filter.Match selects from the same documents as the server
// renders them.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ferryid/ferry/internal/clocktest"
	"github.com/ferryid/ferry/internal/scim"
	"github.com/ferryid/ferry/internal/scim/filter"
	"github.com/ferryid/ferry/internal/scim/resource"
	"github.com/ferryid/ferry/internal/scim/schema"
	"github.com/ferryid/ferry/internal/store"
)

// Open returns a new, empty store for one test. now, when not nil, is the
// store's clock (the backends' Options.Now): Run gives one to the tests of
// job leases, which move time on rather than wait for it; nil keeps the
// store's own clock. Run closes the store when the test ends.
type Open func(t *testing.T, now func() time.Time) store.Store

// Run runs the conformance suite against the stores open returns. Subtests
// run in parallel, each on its own store.
func Run(t *testing.T, open Open) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"Tenants", testTenants},
		{"Tokens", testTokens},
		{"CreateGet", testCreateGet},
		{"EncodedReads", testEncodedReads},
		{"TenantIsolation", testTenantIsolation},
		{"UserNameUnique", testUserNameUnique},
		{"GroupDisplayNameUnique", testGroupDisplayNameUnique},
		{"IDUnique", testIDUnique},
		{"ConcurrentCreates", testConcurrentCreates},
		{"ConcurrentIfMatch", testConcurrentIfMatch},
		{"ChangeFeedUnderConcurrentWriters", testChangeFeedUnderConcurrentWriters},
		{"Members", testMembers},
		{"MemberErrors", testMemberErrors},
		{"DeleteRemovesMemberships", testDeleteRemovesMemberships},
		{"Update", testUpdate},
		{"UpdateNoChange", testUpdateNoChange},
		{"Delete", testDelete},
		{"Changes", testChanges},
		{"Paging", testPaging},
		{"CountOnly", testCountOnly},
		{"IDsOnly", testIDsOnly},
		{"Sorting", testSorting},
		{"KeysetWalk", testKeysetWalk},
		{"KeysetSkip", testKeysetSkip},
		{"KeysetSorted", testKeysetSorted},
		{"SpecialCharacters", testSpecialCharacters},
		{"LongValues", testLongValues},
		{"UnsupportedFilters", testUnsupportedFilters},
		{"FilterMatchesEvaluator", testFilterMatchesEvaluator},
		{"TokenScopes", testTokenScopes},
		{"Apps", testApps},
		{"AppNameUnique", testAppNameUnique},
		{"UpdateApp", testUpdateApp},
		{"AppControl", testAppControl},
		{"DeleteApp", testDeleteApp},
		{"Assignments", testAssignments},
		{"AssignmentsPage", testAssignmentsPage},
		{"AssignedTo", testAssignedTo},
		{"DeleteRemovesAssignments", testDeleteRemovesAssignments},
		{"Links", testLinks},
		{"LinkLogs", testLinkLogs},
		{"DeleteLinks", testDeleteLinks},
		{"CountLinks", testCountLinks},
		{"Escrows", testEscrows},
		{"EscrowQueries", testEscrowQueries},
		{"JobState", testJobState},
		{"ClaimJob", testClaimJob},
		{"Logs", testLogs},
		{"LogTimes", testLogTimes},
		{"LogLimits", testLogLimits},
		{"Audit", testAudit},
		{"Sources", testSources},
		{"Webhooks", testWebhooks},
		{"WebhookDeliveries", testWebhookDeliveries},
		{"Schemas", testSchemas},
		{"SchemasVersion", testSchemasVersion},
		{"ExtensionFilters", testExtensionFilters},
		{"UndeclaredValues", testUndeclaredValues},
		{"ConsoleAdmins", testConsoleAdmins},
		{"ConsoleSessions", testConsoleSessions},
		{"ConsoleAdminSessions", testConsoleAdminSessions},
		{"ConsoleExpiry", testConsoleExpiry},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, openStore(t, open, nil))
		})
	}
	clocked := []struct {
		name string
		fn   func(t *testing.T, s store.Store, c *clocktest.Clock)
	}{
		{"LeaseGenerations", testLeaseGenerations},
		{"ConcurrentClaims", testConcurrentClaims},
		{"FencedJobState", testFencedJobState},
		{"FencedLinkWrites", testFencedLinkWrites},
		{"SourceLease", testSourceLease},
		{"WebhookLeases", testWebhookLeases},
		{"PruneChanges", testPruneChanges},
	}
	for _, tt := range clocked {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := NewClock()
			tt.fn(t, openStore(t, open, c.Now), c)
		})
	}
}

// openStore opens a store for one test and closes it when the test ends.
func openStore(t *testing.T, open Open, now func() time.Time) store.Store {
	s := open(t, now)
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// --- helpers -------------------------------------------------------------------

var (
	catalog   = schema.Builtin()
	userType  = catalog.ResourceType(store.UserType)
	groupType = catalog.ResourceType(store.GroupType)
)

func tenant(t *testing.T, s store.Store, name string) string {
	t.Helper()
	tn, err := s.EnsureTenant(context.Background(), name)
	if err != nil {
		t.Fatalf("EnsureTenant(%q): %v", name, err)
	}
	return tn.ID
}

// normalize runs a document through resource.Normalize, as the server does
// before it stores anything.
func normalize(t testing.TB, rt *schema.ResourceType, d resource.Document) resource.Document {
	t.Helper()
	n, err := resource.Normalize(d, rt)
	if err != nil {
		t.Fatalf("Normalize(%v): %v", d, err)
	}
	return n
}

func user(t testing.TB, userName string, more ...any) resource.Document {
	t.Helper()
	d := resource.Document{"userName": userName}
	for i := 0; i+1 < len(more); i += 2 {
		d[more[i].(string)] = more[i+1]
	}
	return normalize(t, userType, d)
}

func group(t testing.TB, name string) resource.Document {
	t.Helper()
	return normalize(t, groupType, resource.Document{"displayName": name})
}

func create(t *testing.T, s store.Store, tenantID, typ string, doc resource.Document, members ...string) *store.Resource {
	t.Helper()
	r := &store.Resource{TenantID: tenantID, Type: typ, Doc: doc}
	for _, m := range members {
		r.Members = append(r.Members, store.Member{ID: m})
	}
	if err := s.Create(context.Background(), r); err != nil {
		t.Fatalf("Create %s %v: %v", typ, doc, err)
	}
	return r
}

func get(t *testing.T, s store.Store, tenantID, typ, id string) *store.Resource {
	t.Helper()
	r, err := s.Get(context.Background(), tenantID, typ, id, store.ReadOptions{Members: true})
	if err != nil {
		t.Fatalf("Get %s %s: %v", typ, id, err)
	}
	return r
}

// wantKind checks that err is a *store.Error of kind (one of the store's
// sentinel errors).
func wantKind(t *testing.T, what string, err error, kind error) *store.Error {
	t.Helper()
	e, ok := errors.AsType[*store.Error](err)
	if !ok {
		t.Fatalf("%s: got error %v, want a *store.Error of kind %q", what, err, kind)
	}
	if !errors.Is(err, kind) {
		t.Fatalf("%s: got a %q error (%s), want %q", what, e.Kind, e.Detail, kind)
	}
	return e
}

func jsonOf(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func memberIDs(ms []store.Member) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	sort.Strings(out)
	return out
}

func sortedStrings(s ...string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

func parse(t testing.TB, f string) filter.Expr {
	t.Helper()
	e, err := filter.Parse(f)
	if err != nil {
		t.Fatalf("Parse(%s): %v", f, err)
	}
	return e
}

func queryIDs(t *testing.T, s store.Store, tenantID, typ string, q store.Query) []string {
	t.Helper()
	p, err := s.Query(context.Background(), tenantID, typ, q)
	if err != nil {
		t.Fatalf("Query %+v: %v", q, err)
	}
	ids := make([]string, len(p.Resources))
	for i, r := range p.Resources {
		ids[i] = r.ID
	}
	return ids
}

// testEncodedReads checks ReadOptions.Encoded: the document comes back as
// the bytes Create and Update returned for that version, undecoded, with
// members as asked, from Get and Query alike.
func testEncodedReads(t *testing.T, s store.Store) {
	ctx := context.Background()
	tn := tenant(t, s, "acme")
	u := create(t, s, tn, store.UserType, user(t, "enc@example.com", "displayName", "Enc <&>", "emails", []any{map[string]any{"value": "e@example.com", "type": "work"}}))
	if len(u.DocJSON) == 0 {
		t.Fatal("Create returned no DocJSON")
	}
	g := create(t, s, tn, store.GroupType, group(t, "Encoders"), u.ID)
	check := func(what string, r *store.Resource, want *store.Resource, members bool) {
		t.Helper()
		if r.Doc != nil {
			t.Errorf("%s: an encoded read decoded the document", what)
		}
		if string(r.DocJSON) != string(want.DocJSON) {
			t.Errorf("%s: DocJSON %s\nwant the bytes the write returned: %s", what, r.DocJSON, want.DocJSON)
		}
		d, err := resource.Decode(r.DocJSON)
		if err != nil || jsonOf(t, d) != jsonOf(t, want.Doc) {
			t.Errorf("%s: DocJSON decodes to %s (%v), want %s", what, jsonOf(t, d), err, jsonOf(t, want.Doc))
		}
		if r.Version != want.Version || !r.LastModified.Equal(want.LastModified) {
			t.Errorf("%s: version %d modified %v, want %d %v", what, r.Version, r.LastModified, want.Version, want.LastModified)
		}
		edges := r.Groups
		if r.Type == store.GroupType {
			edges = r.Members
		}
		if members != (len(edges) == 1) {
			t.Errorf("%s: memberships %v with Members %v", what, edges, members)
		}
	}
	for _, members := range []bool{false, true} {
		got, err := s.Get(ctx, tn, store.UserType, u.ID, store.ReadOptions{Members: members, Encoded: true})
		if err != nil {
			t.Fatal(err)
		}
		check(fmt.Sprintf("Get (members %v)", members), got, u, members)
		page, err := s.Query(ctx, tn, store.UserType, store.Query{Filter: parse(t, `userName eq "enc@example.com"`), Count: 10,
			ReadOptions: store.ReadOptions{Members: members, Encoded: true}})
		if err != nil || len(page.Resources) != 1 {
			t.Fatalf("Query: %v, %d resources", err, len(page.Resources))
		}
		check(fmt.Sprintf("Query (members %v)", members), page.Resources[0], u, members)
	}
	up, err := s.Update(ctx, tn, store.UserType, u.ID, 0, func(r *store.Resource) error {
		r.Doc = user(t, "enc@example.com", "displayName", "Encoded again")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, tn, store.UserType, u.ID, store.ReadOptions{Members: true, Encoded: true})
	if err != nil {
		t.Fatal(err)
	}
	check("Get after Update", got, up, true)
	gg, err := s.Get(ctx, tn, store.GroupType, g.ID, store.ReadOptions{Members: true, Encoded: true})
	if err != nil {
		t.Fatal(err)
	}
	check("Get of a group", gg, g, true)
	if plain := get(t, s, tn, store.UserType, u.ID); plain.Doc == nil || plain.DocJSON != nil {
		t.Errorf("a read without Encoded: Doc %v, DocJSON %s", plain.Doc, plain.DocJSON)
	}
}

// --- tenants and tokens ------------------------------------------------------

func testTenants(t *testing.T, s store.Store) {
	ctx := context.Background()
	a, err := s.EnsureTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if a.ID == "" || a.Name != "acme" || a.Created.IsZero() {
		t.Fatalf("EnsureTenant = %+v", a)
	}
	again, err := s.EnsureTenant(ctx, "acme")
	if err != nil || again.ID != a.ID || !again.Created.Equal(a.Created) {
		t.Fatalf("EnsureTenant again = %+v, %v; want %+v", again, err, a)
	}
	b, err := s.EnsureTenant(ctx, "globex")
	if err != nil || b.ID == a.ID {
		t.Fatalf("EnsureTenant(globex) = %+v, %v", b, err)
	}
	byName, err := s.TenantByName(ctx, "globex")
	if err != nil || byName.ID != b.ID {
		t.Fatalf("TenantByName(globex) = %+v, %v", byName, err)
	}
	_, err = s.TenantByName(ctx, "initech")
	wantKind(t, "TenantByName(initech)", err, store.ErrNotFound)
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

func testTokens(t *testing.T, s store.Store) {
	ctx := context.Background()
	a, b := tenant(t, s, "a"), tenant(t, s, "b")
	hash := func(c byte) []byte { return []byte(strings.Repeat(string(c), 32)) }
	t1, err := s.CreateToken(ctx, store.Token{TenantID: a, Name: "entra", Prefix: "fy_ab"}, hash('1'))
	if err != nil {
		t.Fatal(err)
	}
	if t1.ID == "" || t1.Created.IsZero() || t1.Revoked != nil {
		t.Fatalf("CreateToken = %+v", t1)
	}
	if _, err := s.CreateToken(ctx, store.Token{TenantID: a, Name: "okta", Prefix: "fy_cd"}, hash('2')); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateToken(ctx, store.Token{TenantID: b, Name: "other", Prefix: "fy_ef"}, hash('3')); err != nil {
		t.Fatal(err)
	}
	_, err = s.CreateToken(ctx, store.Token{TenantID: a, Name: "dup"}, hash('1'))
	wantKind(t, "CreateToken with a hash already recorded", err, store.ErrIDTaken)

	got, err := s.TokenByHash(ctx, hash('1'))
	if err != nil || got.ID != t1.ID || got.TenantID != a || got.Name != "entra" || got.Prefix != "fy_ab" || string(got.Hash) != string(hash('1')) {
		t.Fatalf("TokenByHash = %+v, %v", got, err)
	}
	_, err = s.TokenByHash(ctx, hash('9'))
	wantKind(t, "TokenByHash(unknown)", err, store.ErrNotFound)

	list, err := s.Tokens(ctx, a)
	if err != nil || len(list) != 2 {
		t.Fatalf("Tokens(a) = %+v, %v; want 2 tokens", list, err)
	}
	wantKind(t, "RevokeToken from another tenant", s.RevokeToken(ctx, b, t1.ID), store.ErrNotFound)
	wantKind(t, "RevokeToken(unknown)", s.RevokeToken(ctx, a, "nope"), store.ErrNotFound)
	if err := s.RevokeToken(ctx, a, t1.ID); err != nil {
		t.Fatal(err)
	}
	_, err = s.TokenByHash(ctx, hash('1'))
	wantKind(t, "TokenByHash(revoked)", err, store.ErrNotFound)
	list, err = s.Tokens(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	revoked := 0
	for _, tk := range list {
		if tk.Revoked != nil {
			revoked++
			if tk.ID != t1.ID {
				t.Errorf("token %s revoked, want only %s", tk.ID, t1.ID)
			}
		}
	}
	if len(list) != 2 || revoked != 1 {
		t.Fatalf("Tokens(a) after revoking = %+v; want 2 tokens, 1 revoked", list)
	}
}

// --- resources -----------------------------------------------------------------

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func testCreateGet(t *testing.T, s store.Store) {
	ctx := context.Background()
	tn := tenant(t, s, "acme")
	doc := user(t, "bjensen@example.com",
		"name", map[string]any{"givenName": "Barbara", "familyName": "Jensen"},
		"emails", []any{map[string]any{"value": "bjensen@example.com", "type": "work", "primary": true}},
		"active", true,
		scim.EnterpriseUserURN, map[string]any{"employeeNumber": "701984", "manager": map[string]any{"value": "26118915-6090-4610-87e4-49d8ca9f808d"}},
	)
	r := create(t, s, tn, store.UserType, doc)
	if !uuidRE.MatchString(r.ID) {
		t.Errorf("generated id %q is not a version 4 UUID", r.ID)
	}
	if r.Version != 1 || r.Created.IsZero() || !r.Created.Equal(r.LastModified) {
		t.Errorf("Create set Version %d, Created %v, LastModified %v", r.Version, r.Created, r.LastModified)
	}
	got, err := s.Get(ctx, tn, store.UserType, r.ID, store.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if jsonOf(t, got.Doc) != jsonOf(t, doc) {
		t.Errorf("Get doc = %s\nwant %s", jsonOf(t, got.Doc), jsonOf(t, doc))
	}
	if got.ID != r.ID || got.TenantID != tn || got.Type != store.UserType || got.Version != 1 ||
		!got.Created.Equal(r.Created) || !got.LastModified.Equal(r.LastModified) {
		t.Errorf("Get = %+v, want the created %+v", got, r)
	}
	if got.Created.Location() != time.UTC {
		t.Errorf("Created is in %v, want UTC", got.Created.Location())
	}
	if got.Groups != nil {
		t.Errorf("Get without Members filled Groups: %v", got.Groups)
	}

	// A caller-chosen id is kept; server-managed keys are not stored.
	g := &store.Resource{TenantID: tn, Type: store.GroupType, ID: "Group-1",
		Doc: resource.Document{"displayName": "Admins", "id": "x", "meta": map[string]any{"version": "1"}}}
	if err := s.Create(ctx, g); err != nil {
		t.Fatal(err)
	}
	gg := get(t, s, tn, store.GroupType, "Group-1")
	if _, ok := gg.Doc["id"]; ok {
		t.Errorf("stored doc kept id: %v", gg.Doc)
	}
	if _, ok := gg.Doc["meta"]; ok {
		t.Errorf("stored doc kept meta: %v", gg.Doc)
	}

	for _, tc := range []struct{ name, typ, id string }{
		{"wrong type", store.GroupType, r.ID},
		{"unknown id", store.UserType, "nope"},
		{"id in another case", store.GroupType, "group-1"},
	} {
		_, err := s.Get(ctx, tn, tc.typ, tc.id, store.ReadOptions{})
		wantKind(t, "Get "+tc.name, err, store.ErrNotFound)
	}
}

func testTenantIsolation(t *testing.T, s store.Store) {
	ctx := context.Background()
	a, b := tenant(t, s, "a"), tenant(t, s, "b")
	ua := create(t, s, a, store.UserType, user(t, "alice", "title", "boss"))
	ub := create(t, s, b, store.UserType, user(t, "alice", "title", "boss"))
	ga := create(t, s, a, store.GroupType, group(t, "staff"), ua.ID)

	_, err := s.Get(ctx, b, store.UserType, ua.ID, store.ReadOptions{})
	wantKind(t, "Get of another tenant's user", err, store.ErrNotFound)
	_, err = s.Update(ctx, b, store.UserType, ua.ID, 0, func(*store.Resource) error { return nil })
	wantKind(t, "Update of another tenant's user", err, store.ErrNotFound)
	wantKind(t, "Delete of another tenant's user", s.Delete(ctx, b, store.UserType, ua.ID, 0), store.ErrNotFound)
	// A member id from another tenant does not exist here.
	err = s.Create(ctx, &store.Resource{TenantID: b, Type: store.GroupType, Doc: group(t, "x"), Members: []store.Member{{ID: ua.ID}}})
	wantKind(t, "Create with another tenant's member", err, store.ErrInvalid)

	if got := queryIDs(t, s, b, store.UserType, store.Query{Filter: parse(t, `id eq "`+ua.ID+`"`), Count: 10}); len(got) != 0 {
		t.Errorf("tenant b found tenant a's user by id: %v", got)
	}
	for _, f := range []string{`userName eq "alice"`, `title co "bo"`, `id eq "` + ub.ID + `"`, `title pr`, `not (title eq "x")`} {
		got := queryIDs(t, s, b, store.UserType, store.Query{Filter: parse(t, f), Count: 10})
		if !slices.Equal(got, []string{ub.ID}) {
			t.Errorf("tenant b, %s: got %v, want only %s", f, got, ub.ID)
		}
	}
	got := queryIDs(t, s, b, store.GroupType, store.Query{Filter: parse(t, `members[value eq "`+ua.ID+`"]`), Count: 10})
	if len(got) != 0 {
		t.Errorf("tenant b found tenant a's group %v", got)
	}
	got = queryIDs(t, s, a, store.GroupType, store.Query{Filter: parse(t, `members[value eq "`+ua.ID+`"]`), Count: 10})
	if !slices.Equal(got, []string{ga.ID}) {
		t.Errorf("tenant a: members[value eq ...] = %v, want %s", got, ga.ID)
	}
	p, err := s.Query(ctx, b, store.UserType, store.Query{})
	if err != nil || p.Total != 1 {
		t.Errorf("tenant b total = %d, %v; want 1", p.Total, err)
	}
	ch, err := s.Changes(ctx, b, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range ch {
		if c.TenantID != b {
			t.Errorf("Changes(b) returned %+v", c)
		}
	}
}

func testUserNameUnique(t *testing.T, s store.Store) {
	ctx := context.Background()
	a, b := tenant(t, s, "a"), tenant(t, s, "b")
	create(t, s, a, store.UserType, user(t, "Bob.Smith@example.com"))
	for _, name := range []string{"bob.smith@example.com", "BOB.SMITH@EXAMPLE.COM"} {
		err := s.Create(ctx, &store.Resource{TenantID: a, Type: store.UserType, Doc: user(t, name)})
		e := wantKind(t, "Create "+name, err, store.ErrNameTaken)
		if !strings.Contains(e.Detail, "userName") || !strings.Contains(e.Detail, name) {
			t.Errorf("ErrNameTaken detail %q does not name the attribute and value", e.Detail)
		}
	}
	// Another tenant, and a group of the same name, are separate.
	create(t, s, b, store.UserType, user(t, "bob.smith@example.com"))
	create(t, s, a, store.GroupType, group(t, "Bob.Smith@example.com"))
	// Renaming onto a taken name fails too, and leaves the user as it was.
	other := create(t, s, a, store.UserType, user(t, "alice"))
	_, err := s.Update(ctx, a, store.UserType, other.ID, 0, func(r *store.Resource) error {
		r.Doc["userName"] = "BOB.smith@example.com"
		return nil
	})
	wantKind(t, "Update onto a taken userName", err, store.ErrNameTaken)
	if got := get(t, s, a, store.UserType, other.ID); got.Version != 1 || got.Doc["userName"] != "alice" {
		t.Errorf("failed update changed the user: %+v", got)
	}
	// Changing only the case of one's own userName is fine.
	if _, err := s.Update(ctx, a, store.UserType, other.ID, 0, func(r *store.Resource) error {
		r.Doc["userName"] = "ALICE"
		return nil
	}); err != nil {
		t.Errorf("Update to own userName in another case: %v", err)
	}
}

func testGroupDisplayNameUnique(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	create(t, s, a, store.GroupType, group(t, "Engineering"))
	err := s.Create(ctx, &store.Resource{TenantID: a, Type: store.GroupType, Doc: group(t, "engineering")})
	e := wantKind(t, "Create a group with a taken displayName", err, store.ErrNameTaken)
	if !strings.Contains(e.Detail, "displayName") || !strings.Contains(e.Detail, "engineering") {
		t.Errorf("ErrNameTaken detail %q does not name the attribute and value", e.Detail)
	}
	create(t, s, tenant(t, s, "b"), store.GroupType, group(t, "Engineering"))
}

func testIDUnique(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	create(t, s, a, store.UserType, user(t, "u1"))
	err := s.Create(ctx, &store.Resource{TenantID: a, Type: store.UserType, ID: "fixed", Doc: user(t, "u2")})
	if err != nil {
		t.Fatal(err)
	}
	// Ids are unique within a tenant, across types and ignoring case: a
	// member id must name exactly one resource.
	for _, tc := range []struct{ typ, id, name string }{
		{store.UserType, "fixed", "u3"},
		{store.GroupType, "FIXED", "g"},
	} {
		var doc resource.Document
		if tc.typ == store.UserType {
			doc = user(t, tc.name)
		} else {
			doc = group(t, tc.name)
		}
		err := s.Create(ctx, &store.Resource{TenantID: a, Type: tc.typ, ID: tc.id, Doc: doc})
		wantKind(t, "Create "+tc.typ+" with id "+tc.id, err, store.ErrIDTaken)
	}
	err = s.Create(ctx, &store.Resource{TenantID: tenant(t, s, "b"), Type: store.UserType, ID: "fixed", Doc: user(t, "u2")})
	if err != nil {
		t.Errorf("the same id in another tenant: %v", err)
	}
}

func testConcurrentCreates(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	const n = 50
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			name := "Racer@example.com"
			if i%2 == 1 {
				name = "racer@EXAMPLE.com"
			}
			errs[i] = s.Create(ctx, &store.Resource{TenantID: a, Type: store.UserType, Doc: user(t, name)})
		})
	}
	wg.Wait()
	ok, conflicts := 0, 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, store.ErrNameTaken):
			conflicts++
		default:
			t.Errorf("concurrent Create: %v", err)
		}
	}
	if ok != 1 || conflicts != n-1 {
		t.Errorf("%d concurrent creates of one userName: %d succeeded, %d got ErrNameTaken; want 1 and %d", n, ok, conflicts, n-1)
	}
	p, err := s.Query(ctx, a, store.UserType, store.Query{Filter: parse(t, `userName eq "racer@example.com"`)})
	if err != nil || p.Total != 1 {
		t.Errorf("users named racer: %d, %v; want 1", p.Total, err)
	}
}

func testMembers(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	alice := create(t, s, a, store.UserType, user(t, "alice", "displayName", "Alice A."))
	bob := create(t, s, a, store.UserType, user(t, "bob"))
	inner := create(t, s, a, store.GroupType, group(t, "Inner"), alice.ID)

	// The member type comes from the stored resource, whatever the
	// client said; ids match ignoring case; duplicates collapse.
	g := &store.Resource{TenantID: a, Type: store.GroupType, Doc: group(t, "Outer"), Members: []store.Member{
		{ID: alice.ID, Type: store.GroupType},
		{ID: strings.ToUpper(bob.ID)},
		{ID: inner.ID, Type: store.UserType},
		{ID: alice.ID},
	}}
	if err := s.Create(ctx, g); err != nil {
		t.Fatal(err)
	}
	got := get(t, s, a, store.GroupType, g.ID)
	want := map[string]store.Member{
		alice.ID: {ID: alice.ID, Type: store.UserType, Display: "Alice A."},
		bob.ID:   {ID: bob.ID, Type: store.UserType, Display: "bob"},
		inner.ID: {ID: inner.ID, Type: store.GroupType, Display: "Inner"},
	}
	if len(got.Members) != len(want) {
		t.Fatalf("members = %+v, want %+v", got.Members, want)
	}
	for _, m := range got.Members {
		if want[m.ID] != m {
			t.Errorf("member %+v, want %+v", m, want[m.ID])
		}
	}
	plain, err := s.Get(ctx, a, store.GroupType, g.ID, store.ReadOptions{})
	if err != nil || plain.Members != nil {
		t.Errorf("Get without Members: members %v, %v", plain.Members, err)
	}

	// A user's groups are computed from the memberships.
	ga := get(t, s, a, store.UserType, alice.ID)
	if gotIDs, wantIDs := memberIDs(ga.Groups), sortedStrings(inner.ID, g.ID); !slices.Equal(gotIDs, wantIDs) {
		t.Errorf("alice's groups = %v, want %v", gotIDs, wantIDs)
	}
	for _, m := range ga.Groups {
		if m.Type != store.GroupType || (m.ID == g.ID && m.Display != "Outer") {
			t.Errorf("alice's group %+v", m)
		}
	}
	if gi := get(t, s, a, store.GroupType, inner.ID); !slices.Equal(memberIDs(gi.Members), []string{alice.ID}) {
		t.Errorf("inner's members = %v", gi.Members)
	}

	// Update replaces the membership.
	up, err := s.Update(ctx, a, store.GroupType, g.ID, 0, func(r *store.Resource) error {
		if len(r.Members) != 3 {
			t.Errorf("Update sees %d members, want 3", len(r.Members))
		}
		r.Members = []store.Member{{ID: bob.ID}}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if up.Version != 2 || !slices.Equal(memberIDs(up.Members), []string{bob.ID}) {
		t.Errorf("Update returned version %d, members %v", up.Version, up.Members)
	}
	if ga := get(t, s, a, store.UserType, alice.ID); !slices.Equal(memberIDs(ga.Groups), []string{inner.ID}) {
		t.Errorf("alice's groups after the update = %v, want %v", memberIDs(ga.Groups), []string{inner.ID})
	}

	// Query fills members when asked, and only then.
	p, err := s.Query(ctx, a, store.GroupType, store.Query{Count: 10, ReadOptions: store.ReadOptions{Members: true}})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range p.Resources {
		if r.ID == g.ID && !slices.Equal(memberIDs(r.Members), []string{bob.ID}) {
			t.Errorf("Query with members: %v", r.Members)
		}
	}
	p, err = s.Query(ctx, a, store.UserType, store.Query{Count: 10, ReadOptions: store.ReadOptions{Members: true}})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range p.Resources {
		if r.ID == bob.ID && !slices.Equal(memberIDs(r.Groups), []string{g.ID}) {
			t.Errorf("Query with members: bob's groups %v", r.Groups)
		}
	}
}

func testMemberErrors(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	u := create(t, s, a, store.UserType, user(t, "u"))
	err := s.Create(ctx, &store.Resource{TenantID: a, Type: store.GroupType, Doc: group(t, "g"),
		Members: []store.Member{{ID: u.ID}, {ID: "no-such-id"}}})
	e := wantKind(t, "Create with a missing member", err, store.ErrInvalid)
	if !strings.Contains(e.Detail, "no-such-id") {
		t.Errorf("detail %q does not name the missing id", e.Detail)
	}
	// Nothing of the failed create remains.
	if p, err := s.Query(ctx, a, store.GroupType, store.Query{}); err != nil || p.Total != 0 {
		t.Errorf("groups after a failed create: %d, %v", p.Total, err)
	}
	g := create(t, s, a, store.GroupType, group(t, "g"), u.ID)
	_, err = s.Update(ctx, a, store.GroupType, g.ID, 0, func(r *store.Resource) error {
		r.Members = append(r.Members, store.Member{ID: g.ID})
		return nil
	})
	wantKind(t, "a group in itself", err, store.ErrInvalid)
	_, err = s.Update(ctx, a, store.GroupType, g.ID, 0, func(r *store.Resource) error {
		r.Members = append(r.Members, store.Member{ID: "gone"})
		r.Doc["displayName"] = "renamed"
		return nil
	})
	wantKind(t, "Update with a missing member", err, store.ErrInvalid)
	if got := get(t, s, a, store.GroupType, g.ID); got.Version != 1 || got.Doc["displayName"] != "g" || len(got.Members) != 1 {
		t.Errorf("failed update changed the group: %+v", got)
	}
}

func testDeleteRemovesMemberships(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	u1 := create(t, s, a, store.UserType, user(t, "u1"))
	u2 := create(t, s, a, store.UserType, user(t, "u2"))
	g1 := create(t, s, a, store.GroupType, group(t, "g1"), u1.ID, u2.ID)
	g2 := create(t, s, a, store.GroupType, group(t, "g2"), u1.ID, g1.ID)

	if err := s.Delete(ctx, a, store.UserType, u1.ID, 0); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		g    *store.Resource
		want []string
	}{{g1, []string{u2.ID}}, {g2, []string{g1.ID}}} {
		got := get(t, s, a, store.GroupType, tc.g.ID)
		if !slices.Equal(memberIDs(got.Members), sortedStrings(tc.want...)) {
			t.Errorf("%s members after deleting u1: %v, want %v", tc.g.Doc["displayName"], memberIDs(got.Members), tc.want)
		}
		if got.Version != 2 {
			t.Errorf("%s version %d after losing a member, want 2", tc.g.Doc["displayName"], got.Version)
		}
	}
	if err := s.Delete(ctx, a, store.GroupType, g1.ID, 0); err != nil {
		t.Fatal(err)
	}
	if got := get(t, s, a, store.UserType, u2.ID); len(got.Groups) != 0 {
		t.Errorf("u2's groups after deleting g1: %v", got.Groups)
	}
	if got := get(t, s, a, store.GroupType, g2.ID); len(got.Members) != 0 {
		t.Errorf("g2's members after deleting g1: %v", got.Members)
	}
	for _, f := range []string{`members[value eq "` + u1.ID + `"]`, `members.value eq "` + g1.ID + `"`} {
		if got := queryIDs(t, s, a, store.GroupType, store.Query{Filter: parse(t, f), Count: 10}); len(got) != 0 {
			t.Errorf("%s after the deletes: %v", f, got)
		}
	}
	if got := queryIDs(t, s, a, store.UserType, store.Query{Filter: parse(t, `groups pr`), Count: 10}); len(got) != 0 {
		t.Errorf("users still in groups: %v", got)
	}
}

func testUpdate(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	u := create(t, s, a, store.UserType, user(t, "u", "title", "Engineer"))

	up, err := s.Update(ctx, a, store.UserType, u.ID, 1, func(r *store.Resource) error {
		if r.Version != 1 || r.Doc["title"] != "Engineer" {
			t.Errorf("change sees %+v", r)
		}
		r.Doc["title"] = "Manager"
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if up.Version != 2 || up.Doc["title"] != "Manager" || up.LastModified.Before(u.LastModified) || !up.Created.Equal(u.Created) {
		t.Errorf("Update = %+v", up)
	}
	got := get(t, s, a, store.UserType, u.ID)
	if got.Version != 2 || got.Doc["title"] != "Manager" || !got.LastModified.Equal(up.LastModified) {
		t.Errorf("Get after Update = %+v", got)
	}
	// The index follows the document.
	if ids := queryIDs(t, s, a, store.UserType, store.Query{Filter: parse(t, `title eq "manager"`), Count: 5}); !slices.Equal(ids, []string{u.ID}) {
		t.Errorf("title eq manager = %v", ids)
	}
	if ids := queryIDs(t, s, a, store.UserType, store.Query{Filter: parse(t, `title co "engin"`), Count: 5}); len(ids) != 0 {
		t.Errorf("title co engin after the update = %v", ids)
	}

	_, err = s.Update(ctx, a, store.UserType, u.ID, 1, func(r *store.Resource) error {
		t.Error("change called despite a version mismatch")
		return nil
	})
	wantKind(t, "Update with a stale version", err, store.ErrVersionMismatch)

	boom := errors.New("boom")
	_, err = s.Update(ctx, a, store.UserType, u.ID, 0, func(r *store.Resource) error {
		r.Doc["title"] = "Director"
		return boom
	})
	if !errors.Is(err, boom) {
		t.Errorf("Update returned %v, want change's error", err)
	}
	if got := get(t, s, a, store.UserType, u.ID); got.Version != 2 || got.Doc["title"] != "Manager" {
		t.Errorf("abandoned update changed the user: %+v", got)
	}
	_, err = s.Update(ctx, a, store.UserType, "missing", 0, func(*store.Resource) error { return nil })
	wantKind(t, "Update of a missing user", err, store.ErrNotFound)
}

func testUpdateNoChange(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	u := create(t, s, a, store.UserType, user(t, "u", "title", "Engineer"))
	g := create(t, s, a, store.GroupType, group(t, "g"), u.ID)
	before, err := s.Changes(ctx, a, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		typ, id string
		change  func(*store.Resource) error
	}{
		{store.UserType, u.ID, func(r *store.Resource) error { return nil }},
		{store.UserType, u.ID, func(r *store.Resource) error {
			r.Doc["title"] = "Engineer"
			r.Groups = nil
			return nil
		}},
		{store.GroupType, g.ID, func(r *store.Resource) error {
			r.Members = []store.Member{{ID: strings.ToUpper(u.ID), Type: "whatever"}}
			return nil
		}},
	} {
		got, err := s.Update(ctx, a, tc.typ, tc.id, 1, tc.change)
		if err != nil {
			t.Fatal(err)
		}
		if got.Version != 1 {
			t.Errorf("no-op Update returned version %d", got.Version)
		}
		if r := get(t, s, a, tc.typ, tc.id); r.Version != 1 || !r.LastModified.Equal(r.Created) {
			t.Errorf("no-op Update wrote: version %d, lastModified %v", r.Version, r.LastModified)
		}
	}
	after, err := s.Changes(ctx, a, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before) {
		t.Errorf("no-op updates recorded changes: %+v", after[len(before):])
	}
}

func testDelete(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	u := create(t, s, a, store.UserType, user(t, "u", "title", "x"))
	wantKind(t, "Delete with a stale version", s.Delete(ctx, a, store.UserType, u.ID, 7), store.ErrVersionMismatch)
	wantKind(t, "Delete with the wrong type", s.Delete(ctx, a, store.GroupType, u.ID, 0), store.ErrNotFound)
	if err := s.Delete(ctx, a, store.UserType, u.ID, 1); err != nil {
		t.Fatal(err)
	}
	_, err := s.Get(ctx, a, store.UserType, u.ID, store.ReadOptions{})
	wantKind(t, "Get after Delete", err, store.ErrNotFound)
	wantKind(t, "Delete again", s.Delete(ctx, a, store.UserType, u.ID, 0), store.ErrNotFound)
	p, err := s.Query(ctx, a, store.UserType, store.Query{Filter: parse(t, `title pr or userName eq "u"`), Count: 5})
	if err != nil || p.Total != 0 {
		t.Errorf("deleted user still found: %d, %v", p.Total, err)
	}
	if p, err := s.Query(ctx, a, store.UserType, store.Query{}); err != nil || p.Total != 0 {
		t.Errorf("total after Delete = %d, %v", p.Total, err)
	}
	// The userName is free again.
	create(t, s, a, store.UserType, user(t, "U"))
}

func testChanges(t *testing.T, s store.Store) {
	ctx := context.Background()
	a, b := tenant(t, s, "a"), tenant(t, s, "b")
	u1 := create(t, s, a, store.UserType, user(t, "u1"))
	u2 := create(t, s, a, store.UserType, user(t, "u2"))
	create(t, s, b, store.UserType, user(t, "other"))
	g := create(t, s, a, store.GroupType, group(t, "g"), u1.ID)
	mustUpdate := func(typ, id string, fn func(*store.Resource)) {
		t.Helper()
		if _, err := s.Update(ctx, a, typ, id, 0, func(r *store.Resource) error { fn(r); return nil }); err != nil {
			t.Fatal(err)
		}
	}
	mustUpdate(store.UserType, u2.ID, func(r *store.Resource) { r.Doc["title"] = "t" })
	mustUpdate(store.GroupType, g.ID, func(r *store.Resource) { r.Members = []store.Member{{ID: u2.ID}} })
	if err := s.Delete(ctx, a, store.UserType, u2.ID, 0); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, a, store.GroupType, g.ID, 0); err != nil {
		t.Fatal(err)
	}
	type entry struct {
		typ, id string
		op      store.ChangeOp
	}
	want := []entry{
		{store.UserType, u1.ID, store.OpCreate},
		{store.UserType, u2.ID, store.OpCreate},
		{store.GroupType, g.ID, store.OpCreate},
		{store.UserType, u1.ID, store.OpMembership},
		{store.UserType, u2.ID, store.OpUpdate},
		{store.GroupType, g.ID, store.OpUpdate},
		{store.UserType, u2.ID, store.OpMembership},
		{store.UserType, u1.ID, store.OpMembership},
		{store.UserType, u2.ID, store.OpDelete},
		{store.GroupType, g.ID, store.OpUpdate},
		{store.GroupType, g.ID, store.OpDelete},
	}
	all, err := s.Changes(ctx, a, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var got []entry
	for i, c := range all {
		got = append(got, entry{c.Type, c.ID, c.Op})
		if c.TenantID != a || c.At.IsZero() {
			t.Errorf("change %+v", c)
		}
		if i > 0 && c.Seq <= all[i-1].Seq {
			t.Errorf("seq %d after %d", c.Seq, all[i-1].Seq)
		}
	}
	// Within one write the order of entries is the store's own; compare
	// each write's entries as a set, and the writes in order.
	if len(got) != len(want) {
		t.Fatalf("changes:\n got %v\nwant %v", got, want)
	}
	groupsOf := [][2]int{{0, 1}, {1, 2}, {2, 4}, {4, 5}, {5, 8}, {8, 10}, {10, 11}}
	for _, r := range groupsOf {
		gs := fmt.Sprint(sortEntries(got[r[0]:r[1]]))
		ws := fmt.Sprint(sortEntries(want[r[0]:r[1]]))
		if gs != ws {
			t.Errorf("changes %d..%d:\n got %v\nwant %v", r[0], r[1], got[r[0]:r[1]], want[r[0]:r[1]])
		}
	}
	// What each create and update did, for the events API: the state
	// after it, the attributes it changed, the members it added and
	// removed. Deletes and the members' entries record nothing.
	var groupUpdates []store.ChangeDetail
	for _, c := range all {
		d := c.Detail
		switch {
		case c.Op == store.OpCreate && c.ID == u1.ID:
			if d.State["userName"] != "u1" || d.Changed != nil || d.Added != nil {
				t.Errorf("u1's create: detail %+v", d)
			}
		case c.Op == store.OpCreate && c.ID == g.ID:
			if d.State["displayName"] != "g" || !slices.Equal(d.Added, []store.ChangeMember{{ID: u1.ID, Type: store.UserType}}) {
				t.Errorf("g's create: detail %+v, want its first member %s added", d, u1.ID)
			}
		case c.Op == store.OpUpdate && c.ID == u2.ID:
			if d.State["title"] != "t" || !slices.Equal(d.Changed, []string{"title"}) {
				t.Errorf("u2's update: detail %+v, want title changed", d)
			}
		case c.Op == store.OpUpdate && c.ID == g.ID:
			groupUpdates = append(groupUpdates, d)
		case c.Op == store.OpCreate:
		default:
			if !d.Empty() {
				t.Errorf("%s of %s %s: detail %+v, want none", c.Op, c.Type, c.ID, d)
			}
		}
	}
	if len(groupUpdates) != 2 || !slices.Equal(groupUpdates[0].Added, []store.ChangeMember{{ID: u2.ID, Type: store.UserType}}) ||
		!slices.Equal(groupUpdates[0].Removed, []store.ChangeMember{{ID: u1.ID, Type: store.UserType}}) ||
		groupUpdates[0].Changed != nil || groupUpdates[0].State["displayName"] != "g" ||
		!slices.Equal(groupUpdates[1].Removed, []store.ChangeMember{{ID: u2.ID, Type: store.UserType}}) || groupUpdates[1].Added != nil {
		t.Errorf("g's updates: %+v; want u2 in and u1 out, then u2 out (deleted)", groupUpdates)
	}
	// Paging through the feed from a watermark.
	var paged []store.Change
	after := int64(0)
	for {
		page, err := s.Changes(ctx, a, after, 3)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		if len(page) > 3 {
			t.Fatalf("Changes returned %d entries for limit 3", len(page))
		}
		paged = append(paged, page...)
		after = page[len(page)-1].Seq
	}
	if len(paged) != len(all) {
		t.Errorf("paging gave %d entries, want %d", len(paged), len(all))
	}
	tail, err := s.Changes(ctx, a, all[len(all)-1].Seq, 10)
	if err != nil || len(tail) != 0 {
		t.Errorf("Changes after the last seq = %v, %v", tail, err)
	}
}

func sortEntries[E any](es []E) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = fmt.Sprint(e)
	}
	sort.Strings(out)
	return out
}

func testPaging(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	var ids []string
	for i := range 25 {
		ids = append(ids, create(t, s, a, store.UserType, user(t, fmt.Sprintf("user%02d", i), "title", []string{"a", "b"}[i%2])).ID)
	}
	sort.Strings(ids)
	p, err := s.Query(ctx, a, store.UserType, store.Query{})
	if err != nil || p.Total != 25 || len(p.Resources) != 0 {
		t.Fatalf("Count 0: total %d, %d resources, %v; want 25 and none", p.Total, len(p.Resources), err)
	}
	var all []string
	for start := 1; start <= 25; start += 10 {
		page, err := s.Query(ctx, a, store.UserType, store.Query{StartIndex: start, Count: 10})
		if err != nil || page.Total != 25 {
			t.Fatalf("page at %d: total %d, %v", start, page.Total, err)
		}
		for _, r := range page.Resources {
			all = append(all, r.ID)
		}
	}
	if !slices.Equal(all, ids) {
		t.Errorf("pages by id:\n got %v\nwant %v", all, ids)
	}
	if got := queryIDs(t, s, a, store.UserType, store.Query{StartIndex: 0, Count: 2}); !slices.Equal(got, ids[:2]) {
		t.Errorf("StartIndex 0 = %v, want %v", got, ids[:2])
	}
	if got := queryIDs(t, s, a, store.UserType, store.Query{StartIndex: 30, Count: 5}); len(got) != 0 {
		t.Errorf("StartIndex past the end = %v", got)
	}
	desc := queryIDs(t, s, a, store.UserType, store.Query{Count: 3, Descending: true})
	if want := []string{ids[24], ids[23], ids[22]}; !slices.Equal(desc, want) {
		t.Errorf("descending by id = %v, want %v", desc, want)
	}
	p, err = s.Query(ctx, a, store.UserType, store.Query{Filter: parse(t, `title eq "b"`), StartIndex: 3, Count: 4})
	if err != nil || p.Total != 12 || len(p.Resources) != 4 {
		t.Errorf("filtered page: total %d, %d resources, %v; want 12 and 4", p.Total, len(p.Resources), err)
	}
	p, err = s.Query(ctx, a, store.UserType, store.Query{Filter: parse(t, `title eq "b"`)})
	if err != nil || p.Total != 12 || len(p.Resources) != 0 {
		t.Errorf("filtered, Count 0: total %d, %d resources, %v", p.Total, len(p.Resources), err)
	}
}

func testSorting(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	mk := func(userName, family string, emails ...any) string {
		d := resource.Document{"userName": userName}
		if family != "" {
			d["name"] = map[string]any{"familyName": family}
		}
		if len(emails) > 0 {
			d["emails"] = emails
		}
		return create(t, s, a, store.UserType, normalize(t, userType, d)).ID
	}
	email := func(v string, primary bool) map[string]any {
		return map[string]any{"value": v, "primary": primary}
	}
	carol := mk("carol", "Zeta", email("b@x", false), email("z@x", true))
	alice := mk("Alice", "beta", email("y@x", false))
	bob := mk("bob", "")
	dave := mk("dave", "Beta", email("a@x", false), email("c@x", false))
	eve := mk("Eve", "alpha")
	byID := func(ids ...string) []string { return ids }
	// Times are kept to the millisecond, so creation order can tie; ties
	// sort by id.
	byTime := func(desc bool) []string {
		ids := []string{carol, alice, bob, dave, eve}
		created := map[string]time.Time{}
		for _, id := range ids {
			created[id] = get(t, s, a, store.UserType, id).Created
		}
		sort.SliceStable(ids, func(i, j int) bool {
			ci, cj := created[ids[i]], created[ids[j]]
			if !ci.Equal(cj) {
				return ci.Before(cj) != desc
			}
			return (ids[i] < ids[j]) != desc
		})
		return ids
	}
	tests := []struct {
		sortBy string
		desc   bool
		want   []string
	}{
		// userName is not caseExact: Alice, bob, carol, dave, Eve.
		{"userName", false, byID(alice, bob, carol, dave, eve)},
		{"userName", true, byID(eve, dave, carol, bob, alice)},
		// Without a value last; equal values (beta, Beta) by id.
		{"name.familyName", false, append(append([]string{eve}, sortedStrings(alice, dave)...), carol, bob)},
		{"name.familyName", true, append(append([]string{bob, carol}, reversed(sortedStrings(alice, dave))...), eve)},
		// The primary email, else the first.
		{"emails.value", false, byID(dave, alice, carol, bob, eve)[:3]},
		{"emails", false, byID(dave, alice, carol)},
		{"meta.created", false, byTime(false)},
		{"meta.lastModified", true, byTime(true)},
		{"urn:ietf:params:scim:schemas:core:2.0:User:userName", false, byID(alice, bob, carol, dave, eve)},
		{"unknownAttribute", false, sortedStrings(alice, bob, carol, dave, eve)},
	}
	for _, tc := range tests {
		got := queryIDs(t, s, a, store.UserType, store.Query{SortBy: tc.sortBy, Descending: tc.desc, Count: 10})
		if tc.sortBy == "emails.value" || tc.sortBy == "emails" {
			got = got[:3]
			if rest := queryIDs(t, s, a, store.UserType, store.Query{SortBy: tc.sortBy, Count: 10})[3:]; !slices.Equal(rest, sortedStrings(bob, eve)) {
				t.Errorf("sortBy %s: users without emails %v, want %v last", tc.sortBy, rest, sortedStrings(bob, eve))
			}
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("sortBy %s descending=%v:\n got %v\nwant %v", tc.sortBy, tc.desc, got, tc.want)
		}
	}
	// Paging a sorted list gives the same order.
	var paged []string
	for start := 1; start <= 5; start += 2 {
		paged = append(paged, queryIDs(t, s, a, store.UserType, store.Query{SortBy: "userName", StartIndex: start, Count: 2})...)
	}
	if want := byID(alice, bob, carol, dave, eve); !slices.Equal(paged, want) {
		t.Errorf("paged sort = %v, want %v", paged, want)
	}
	_, err := s.Query(ctx, a, store.UserType, store.Query{SortBy: "emails[type eq \"work\"]", Count: 1})
	if e, ok := scim.AsError(err); !ok || e.Status != 400 {
		t.Errorf("sortBy with a filter: %v, want a 400", err)
	}
}

func reversed(s []string) []string {
	out := slices.Clone(s)
	slices.Reverse(out)
	return out
}

func testSpecialCharacters(t *testing.T, s store.Store) {
	a := tenant(t, s, "a")
	names := []string{`100%_sure`, `under_score`, `per%cent`, `quote"d`, `back\slash`, `star*glob?[x]`, `emoji😀tail`, `O'Brien`, `plain`}
	ids := map[string]string{}
	for _, n := range names {
		ids[n] = create(t, s, a, store.UserType, user(t, n, "title", n+"-T")).ID
	}
	tests := []struct {
		filter string
		want   []string
	}{
		{`userName co "%"`, []string{`100%_sure`, `per%cent`}},
		{`userName co "_"`, []string{`100%_sure`, `under_score`}},
		{`userName co "%_"`, []string{`100%_sure`}},
		{`userName sw "100%"`, []string{`100%_sure`}},
		{`userName ew "%cent"`, []string{`per%cent`}},
		{`userName co "\""`, []string{`quote"d`}},
		{`userName co "e\"d"`, []string{`quote"d`}},
		{`userName eq "QUOTE\"D"`, []string{`quote"d`}},
		{`userName co "\\"`, []string{`back\slash`}},
		{`userName co "*glob?["`, []string{`star*glob?[x]`}},
		{`userName sw "emoji😀"`, []string{`emoji😀tail`}},
		{`userName co "😀t"`, []string{`emoji😀tail`}},
		{`userName sw "emoji"`, []string{`emoji😀tail`}},
		{`userName co "'b"`, []string{`O'Brien`}},
		{`title ew "%_sure-t"`, []string{`100%_sure`}},
		{`title co "_s"`, []string{`100%_sure`, `under_score`}},
	}
	for _, tc := range tests {
		var want []string
		for _, n := range tc.want {
			want = append(want, ids[n])
		}
		sort.Strings(want)
		got := queryIDs(t, s, a, store.UserType, store.Query{Filter: parse(t, tc.filter), Count: 100})
		sort.Strings(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s: got %v, want %v", tc.filter, got, want)
		}
	}
}

func testUnsupportedFilters(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	for _, tc := range []struct{ typ, filter string }{
		{store.UserType, `meta.version eq "W/\"1\""`},
		{store.UserType, `meta.location pr`},
		{store.UserType, `groups.display eq "x"`},
		{store.UserType, `groups.type eq "direct"`},
		{store.UserType, `groups[$ref pr]`},
		{store.GroupType, `members.display co "a"`},
		{store.GroupType, `members[$ref pr]`},
		{store.UserType, `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User[department eq "x"]`},
	} {
		_, err := s.Query(ctx, a, tc.typ, store.Query{Filter: parse(t, tc.filter), Count: 1})
		wantKind(t, tc.filter, err, store.ErrUnsupportedFilter)
	}
}
