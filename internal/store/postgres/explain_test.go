package postgres

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/ferryid/ferry/internal/scim/resource"
	"github.com/ferryid/ferry/internal/store"
	"github.com/ferryid/ferry/internal/store/sqlstore"
	"github.com/ferryid/ferry/internal/store/sqlstore/sqlstoretest"
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
	sqlstoretest.QueryPlans(t, s, sqlstoretest.Planner{
		Statements: func(tenantID, typ string, q store.Query) (sqlstore.Statements, error) {
			return s.querySQL(t.Context(), tenantID, typ, q)
		},
		Explain: func(t *testing.T, query string, args []any) []string {
			rows, err := s.pool.Query(ctx, "EXPLAIN "+query, args...)
			if err != nil {
				t.Fatalf("EXPLAIN %s: %v", query, err)
			}
			steps, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				t.Fatal(err)
			}
			return steps
		},
		Scans: func(step string) bool {
			return strings.Contains(step, "Seq Scan on resources") || strings.Contains(step, "Seq Scan on attribute_values")
		},
	}, []sqlstoretest.PlanCase{
		{Type: store.UserType, Filter: `userName eq "user00042@example.com"`, Uses: []string{"attribute_values_val"}},
		{Type: store.UserType, Filter: `externalId eq "ext-42"`, Uses: []string{"attribute_values_val"}},
		{Type: store.UserType, Filter: `emails[type eq "work"].value eq "user00042@corp.example.com"`, Uses: []string{"attribute_values_val"}},
		{Type: store.UserType, Filter: `emails[type eq "work" and value co "00042@corp"]`, Uses: []string{"attribute_values_trgm"}},
		// At this size the planner may read the attribute's rows through
		// the value index instead of the trigram index for a long suffix
		// (more trigrams cost more); either way, no scan.
		{Type: store.UserType, Filter: `emails.value ew "00042@corp.example.com"`},
		{Type: store.UserType, Filter: `name.familyName sw "Family4"`, Uses: []string{"attribute_values_val"}},
		{Type: store.UserType, Filter: `id eq "2819c223-7f76-453a-919d-413861904646"`, Uses: []string{"resources_id_rid"}},
		{Type: store.UserType, Filter: `meta.lastModified gt "2999-05-13T04:42:34Z"`, Uses: []string{"resources_modified"}},
		{Type: store.UserType, Filter: `id gt "user02990"`, Uses: []string{"resources_id_rid"}},
		{Type: store.UserType, Filter: `userName eq "user00001@example.com" or userName eq "user00002@example.com"`, Uses: []string{"attribute_values_val"}},
		{Type: store.UserType, Filter: `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "m7"`, Uses: []string{"attribute_values_val"}},
		// Cursor pages (RFC 9865) start after their position: an index
		// range, however deep into the directory.
		// range, however deep into the directory (ids are UUIDs: these
		// positions are at the end).
		{Type: store.UserType, After: &store.Position{ID: "fff"}, Uses: []string{"resources_id_rid"}},
		{Type: store.UserType, After: &store.Position{ID: "000"}, Descending: true, Uses: []string{"resources_id_rid"}},
		{Type: store.UserType, Filter: `userName sw "user0004"`, After: &store.Position{ID: "8"}, Uses: []string{"attribute_values_val"}},
		{Type: store.UserType, After: &store.Position{ID: "8", Key: new("2999-05-13T04:42:34.000Z")}, SortBy: "meta.created", Uses: []string{"resources_created"}},
	})
}

// TestLongFilter runs the longest filters the parser accepts: chains of
// several hundred or and and terms.
func TestLongFilter(t *testing.T) {
	s := openStore(t)
	defer s.Close()
	sqlstoretest.LongFilter(t, s)
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
	// Each Create notes its write before it returns, so every refresh the
	// loop started has been counted in the analyzer's wait group by now.
	s.analyze.wg.Wait()
	var tuples float64
	if err := s.pool.QueryRow(ctx, `SELECT reltuples FROM pg_class WHERE relname = 'resources'`).Scan(&tuples); err != nil {
		t.Fatal(err)
	}
	if tuples < minAnalyzeWrites {
		t.Fatalf("after %d creates and the refreshes they started, the planner counts %.0f resources", 2*minAnalyzeWrites, tuples)
	}
}
