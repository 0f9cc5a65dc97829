package sqlite

import (
	"context"
	"strings"
	"testing"

	"github.com/ferryid/ferry/internal/store"
	"github.com/ferryid/ferry/internal/store/sqlstore"
	"github.com/ferryid/ferry/internal/store/sqlstore/sqlstoretest"
)

// plan returns SQLite's EXPLAIN QUERY PLAN for one statement, one line per
// step.
func plan(t *testing.T, s *Store, query string, args []any) []string {
	t.Helper()
	var out []string
	err := s.read(context.Background(), func(c *conn) error {
		rows, err := c.c.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				return err
			}
			out = append(out, detail)
		}
		return rows.Err()
	})
	if err != nil {
		t.Fatalf("EXPLAIN %s: %v", query, err)
	}
	return out
}

// TestQueryPlans checks that the filters clients send most are answered by
// index lookups: no step scans resources or attribute_values (the FTS5
// table's own access is a "SCAN ... VIRTUAL TABLE" and is an index lookup).
func TestQueryPlans(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	t.Cleanup(func() { s.Close() })
	sqlstoretest.QueryPlans(t, s, sqlstoretest.Planner{
		Statements: func(tenantID, typ string, q store.Query) (sqlstore.Statements, error) {
			return s.querySQL(t.Context(), tenantID, typ, q)
		},
		Explain: func(t *testing.T, query string, args []any) []string { return plan(t, s, query, args) },
		Scans: func(step string) bool {
			return strings.HasPrefix(step, "SCAN ") && !strings.Contains(step, "VIRTUAL TABLE") && step != "SCAN CONSTANT ROW"
		},
	}, []sqlstoretest.PlanCase{
		{Type: store.UserType, Filter: `userName eq "bjensen"`, Uses: []string{"attribute_values_val (aid=? AND val=? AND eqv=?)"}},
		{Type: store.UserType, Filter: `externalId eq "701984"`, Uses: []string{"attribute_values_val (aid=? AND val=?)"}},
		{Type: store.UserType, Filter: `emails[type eq "work"].value eq "bjensen@example.com"`, Uses: []string{"EXISTS USING COVERING INDEX attribute_values_val"}},
		{Type: store.UserType, Filter: `emails[type eq "work" and value co "abc"]`, Uses: []string{"VIRTUAL TABLE"}},
		{Type: store.GroupType, Filter: `displayName eq "Admins"`, Uses: []string{"attribute_values_val (aid=? AND val=? AND eqv=?)"}},
		{Type: store.GroupType, Filter: `members[value eq "2819c223"]`, Uses: []string{"resources_id_key (tenant_id=? AND id_key=?)", "memberships_member (member_rid=?)"}},
		{Type: store.GroupType, Filter: `id eq "g1" and members[value eq "u1"]`, Uses: []string{"resources_id (tenant_id=? AND type=? AND id=?)", "memberships_member"}},
		{Type: store.UserType, Filter: `groups.value eq "g1"`, Uses: []string{"resources_id_key (tenant_id=? AND id_key=?)"}},
		{Type: store.UserType, Filter: `id eq "2819c223-7f76-453a-919d-413861904646"`, Uses: []string{"resources_id (tenant_id=? AND type=? AND id=?)"}},
		{Type: store.UserType, Filter: `name.familyName sw "J"`, Uses: []string{"attribute_values_val (aid=? AND val>? AND val<?)"}},
		{Type: store.UserType, Filter: `meta.lastModified gt "2011-05-13T04:42:34Z"`, Uses: []string{"resources_modified (tenant_id=? AND type=? AND last_modified>?)"}},
		{Type: store.UserType, Filter: `emails[value co "abc"]`, Uses: []string{"VIRTUAL TABLE"}},
		{Type: store.UserType, Filter: `emails.value ew "example.com"`, Uses: []string{"VIRTUAL TABLE"}},
		{Type: store.UserType, Filter: `userName eq "a" or userName eq "b"`, Uses: []string{"COMPOUND QUERY", "UNION ALL"}},
		{Type: store.UserType, Filter: `active eq true and userName sw "b"`, Uses: []string{"attribute_values_val"}},
		{Type: store.UserType, Filter: `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "m1"`, Uses: []string{"attribute_values_val (aid=? AND val=? AND eqv=?)"}},
		{Type: store.UserType, Filter: ``, Uses: []string{"resources_id (tenant_id=? AND type=?)"}},
		// A page of ids (an owned read cache's list) reads the index alone.
		{Type: store.UserType, Filter: ``, IDsOnly: true, Uses: []string{"COVERING INDEX resources_id (tenant_id=? AND type=?)"}},
		// The engine pages through a directory by id.
		{Type: store.UserType, Filter: `id gt "2819c223-7f76-453a-919d-413861904646"`, Uses: []string{"resources_id (tenant_id=? AND type=? AND id>?)"}},
		// Cursor pages (RFC 9865) start after their position: an index
		// range, however deep into the directory.
		{Type: store.UserType, After: &store.Position{ID: "2819c223"}, Uses: []string{"resources_id (tenant_id=? AND type=? AND id>?)"}},
		{Type: store.UserType, After: &store.Position{ID: "2819c223"}, Descending: true, Uses: []string{"resources_id (tenant_id=? AND type=? AND id<?)"}},
		{Type: store.UserType, After: &store.Position{}, Uses: []string{"resources_id (tenant_id=? AND type=?)"}},
		{Type: store.UserType, Filter: `userName sw "b"`, After: &store.Position{ID: "2819c223"}, Uses: []string{"attribute_values_val"}},
		{Type: store.UserType, After: &store.Position{ID: "2819c223", Key: new("2011-05-13T04:42:34.000Z")}, SortBy: "meta.created", Uses: []string{"resources_created"}},
		{Type: store.UserType, After: &store.Position{ID: "2819c223", Key: new("bjensen")}, SortBy: "userName", Uses: []string{"attribute_values"}},
	})
}

// TestPendingTrigramsPlan checks that a batch's trigram flush reads the
// pending list and looks each value up by rowid, whatever the size of
// attribute_values.
func TestPendingTrigramsPlan(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	t.Cleanup(func() { s.Close() })
	got := strings.Join(plan(t, s, pendingTrigramsSQL, nil), "\n")
	want := "SCAN p\nSEARCH v USING INTEGER PRIMARY KEY (rowid=?)"
	if got != want {
		t.Errorf("plan of the trigram flush:\n%s\nwant:\n%s", got, want)
	}
}

// TestLongFilter checks that the longest filter the parser accepts still
// runs: SQLite bounds expression depth at 1000, and a chain of or is
// written as a balanced tree.
func TestLongFilter(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	t.Cleanup(func() { s.Close() })
	sqlstoretest.LongFilter(t, s)
}
