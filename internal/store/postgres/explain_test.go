package postgres

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ferryid/ferry/internal/scim/filter"
	"github.com/ferryid/ferry/internal/scim/resource"
	"github.com/ferryid/ferry/internal/store"
)

// TestQueryPlans checks that PostgreSQL answers the filters clients send
// most with the indexes the migration makes, over a directory large
// enough, and analyzed, for the planner to prefer them: no sequential scan
// of resources or attribute_values.
func TestQueryPlans(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	defer s.Close()
	tn, err := s.EnsureTenant(ctx, "t")
	if err != nil {
		t.Fatal(err)
	}
	const users = 3000
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < users; i += 8 {
				doc, err := resource.Decode(fmt.Appendf(nil, `{"userName":"user%05d@example.com","externalId":"ext-%d",
					"name":{"givenName":"Given%d","familyName":"Family%d"},"active":%t,
					"emails":[{"type":"work","value":"user%05d@corp.example.com","primary":true}],
					"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":{"value":"m%d"}}}`,
					i, i, i, i%100, i%2 == 0, i, i%50))
				if err == nil {
					err = s.Create(ctx, &store.Resource{TenantID: tn.ID, Type: store.UserType, Doc: doc})
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if _, err := s.pool.Exec(ctx, "ANALYZE"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		typ, filter string
		uses        []string // index names the page's plan must use
	}{
		{store.UserType, `userName eq "user00042@example.com"`, []string{"attribute_values_val"}},
		{store.UserType, `externalId eq "ext-42"`, []string{"attribute_values_val"}},
		{store.UserType, `emails[type eq "work"].value eq "user00042@corp.example.com"`, []string{"attribute_values_val"}},
		{store.UserType, `emails[type eq "work" and value co "00042@corp"]`, []string{"attribute_values_trgm"}},
		// At this size the planner may read the attribute's rows through
		// the value index instead of the trigram index for a long suffix
		// (more trigrams cost more); either way, no scan.
		{store.UserType, `emails.value ew "00042@corp.example.com"`, nil},
		{store.UserType, `name.familyName sw "Family4"`, []string{"attribute_values_val"}},
		{store.UserType, `id eq "2819c223-7f76-453a-919d-413861904646"`, []string{"resources_id_rid"}},
		{store.UserType, `meta.lastModified gt "2999-05-13T04:42:34Z"`, []string{"resources_modified"}},
		{store.UserType, `id gt "user02990"`, []string{"resources_id_rid"}},
		{store.UserType, `userName eq "user00001@example.com" or userName eq "user00002@example.com"`, []string{"attribute_values_val"}},
		{store.UserType, `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "m7"`, []string{"attribute_values_val"}},
	}
	for _, tc := range tests {
		t.Run(tc.filter, func(t *testing.T) {
			e, err := filter.Parse(tc.filter)
			if err != nil {
				t.Fatal(err)
			}
			st, err := s.querySQL(tn.ID, tc.typ, store.Query{Filter: e, Count: 100})
			if err != nil {
				t.Fatal(err)
			}
			for _, q := range []struct {
				sql  string
				args []any
			}{{st.Count, st.CountArgs}, {st.Page, st.PageArgs}} {
				rows, err := s.pool.Query(ctx, "EXPLAIN "+q.sql, q.args...)
				if err != nil {
					t.Fatalf("EXPLAIN %s: %v", q.sql, err)
				}
				var lines []string
				for rows.Next() {
					var line string
					if err := rows.Scan(&line); err != nil {
						t.Fatal(err)
					}
					lines = append(lines, line)
				}
				rows.Close()
				plan := strings.Join(lines, "\n")
				for _, table := range []string{"Seq Scan on resources", "Seq Scan on attribute_values"} {
					if strings.Contains(plan, table) {
						t.Errorf("plan scans a table:\nquery: %s\nplan:\n%s", q.sql, plan)
					}
				}
				if q.sql == st.Page {
					for _, u := range tc.uses {
						if !strings.Contains(plan, u) {
							t.Errorf("plan does not use %s\nquery: %s\nplan:\n%s", u, q.sql, plan)
						}
					}
				}
			}
		})
	}
}

// TestLongFilter runs the longest filters the parser accepts: chains of
// several hundred or and and terms.
func TestLongFilter(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	defer s.Close()
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

// TestStatisticsFollowBulkLoads checks that the store refreshes the
// planner's statistics after a bulk load, without waiting for autovacuum:
// a userName eq over a freshly loaded directory then looks the value up
// rather than walking every resource.
func TestStatisticsFollowBulkLoads(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	defer s.Close()
	tn, err := s.EnsureTenant(ctx, "t")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 * minAnalyzeWrites {
		doc, _ := resource.Decode(fmt.Appendf(nil, `{"userName":"bulk%05d@example.com"}`, i))
		if err := s.Create(ctx, &store.Resource{TenantID: tn.ID, Type: store.UserType, Doc: doc}); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		var tuples float64
		if err := s.pool.QueryRow(ctx, `SELECT reltuples FROM pg_class WHERE relname = 'resources'`).Scan(&tuples); err != nil {
			t.Fatal(err)
		}
		if tuples >= minAnalyzeWrites {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %d creates the planner still counts %.0f resources", 2*minAnalyzeWrites, tuples)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
