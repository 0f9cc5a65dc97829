package sqlite

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/ferryid/ferry/internal/scim/filter"
	"github.com/ferryid/ferry/internal/store"
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
	ctx := context.Background()
	s := openTest(t)
	t.Cleanup(func() { s.Close() })
	tn, err := s.EnsureTenant(ctx, "t")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		typ, filter string
		uses        []string // substrings the plan must contain
	}{
		{store.UserType, `userName eq "bjensen"`, []string{"attribute_values_val (aid=? AND val=? AND eqv=?)"}},
		{store.UserType, `externalId eq "701984"`, []string{"attribute_values_val (aid=? AND val=?)"}},
		{store.UserType, `emails[type eq "work"].value eq "bjensen@example.com"`, []string{"EXISTS USING COVERING INDEX attribute_values_val"}},
		{store.UserType, `emails[type eq "work" and value co "abc"]`, []string{"VIRTUAL TABLE"}},
		{store.GroupType, `displayName eq "Admins"`, []string{"attribute_values_val (aid=? AND val=? AND eqv=?)"}},
		{store.GroupType, `members[value eq "2819c223"]`, []string{"resources_id_key (tenant_id=? AND id_key=?)", "memberships_member (member_rid=?)"}},
		{store.GroupType, `id eq "g1" and members[value eq "u1"]`, []string{"resources_id (tenant_id=? AND type=? AND id=?)", "memberships_member"}},
		{store.UserType, `groups.value eq "g1"`, []string{"resources_id_key (tenant_id=? AND id_key=?)"}},
		{store.UserType, `id eq "2819c223-7f76-453a-919d-413861904646"`, []string{"resources_id (tenant_id=? AND type=? AND id=?)"}},
		{store.UserType, `name.familyName sw "J"`, []string{"attribute_values_val (aid=? AND val>? AND val<?)"}},
		{store.UserType, `meta.lastModified gt "2011-05-13T04:42:34Z"`, []string{"resources_modified (tenant_id=? AND type=? AND last_modified>?)"}},
		{store.UserType, `emails[value co "abc"]`, []string{"VIRTUAL TABLE"}},
		{store.UserType, `emails.value ew "example.com"`, []string{"VIRTUAL TABLE"}},
		{store.UserType, `userName eq "a" or userName eq "b"`, []string{"COMPOUND QUERY", "UNION ALL"}},
		{store.UserType, `active eq true and userName sw "b"`, []string{"attribute_values_val"}},
		{store.UserType, `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "m1"`, []string{"attribute_values_val (aid=? AND val=? AND eqv=?)"}},
		{store.UserType, ``, []string{"resources_id (tenant_id=? AND type=?)"}},
		// The engine pages through a directory by id.
		{store.UserType, `id gt "2819c223-7f76-453a-919d-413861904646"`, []string{"resources_id (tenant_id=? AND type=? AND id>?)"}},
	}
	for _, tc := range tests {
		t.Run(tc.filter, func(t *testing.T) {
			var e filter.Expr
			if tc.filter != "" {
				if e, err = filter.Parse(tc.filter); err != nil {
					t.Fatal(err)
				}
			}
			st, err := s.querySQL(tn.ID, tc.typ, store.Query{Filter: e, Count: 100})
			if err != nil {
				t.Fatal(err)
			}
			for _, q := range []struct {
				sql  string
				args []any
			}{{st.Count, st.CountArgs}, {st.Page, st.PageArgs}} {
				p := plan(t, s, q.sql, q.args)
				text := strings.Join(p, "\n")
				for _, line := range p {
					if strings.HasPrefix(line, "SCAN ") && !strings.Contains(line, "VIRTUAL TABLE") && line != "SCAN CONSTANT ROW" {
						t.Errorf("plan scans: %q\nquery: %s\nplan:\n%s", line, q.sql, text)
					}
				}
				if q.sql == st.Page {
					t.Logf("plan:\n%s", text)
					for _, u := range tc.uses {
						if !strings.Contains(text, u) {
							t.Errorf("plan does not use %q\nquery: %s\nplan:\n%s", u, q.sql, text)
						}
					}
				}
			}
		})
	}
}

// TestLongFilter checks that the longest filter the parser accepts still
// runs: SQLite bounds expression depth at 1000, and a chain of or is
// written as a balanced tree.
func TestLongFilter(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openTest(t)
	t.Cleanup(func() { s.Close() })
	tn, err := s.EnsureTenant(ctx, "t")
	if err != nil {
		t.Fatal(err)
	}
	for _, join := range []string{" or ", " and "} {
		var terms []string
		for i := 0; ; i++ {
			next := append(terms, fmt.Sprintf(`userName ne "u%d"`, i))
			if len(strings.Join(next, join)) > filter.MaxLength {
				break
			}
			terms = next
		}
		e, err := filter.Parse(strings.Join(terms, join))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Query(ctx, tn.ID, store.UserType, store.Query{Filter: e, Count: 10}); err != nil {
			t.Fatalf("%d terms joined by %q: %v", len(terms), join, err)
		}
	}
}
