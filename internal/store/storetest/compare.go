package storetest

import (
	"context"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/ferryid/ferry/internal/store"
)

// Compare seeds the same directory into two stores of different backends
// and checks that they answer alike, row for row: every filter of the
// conformance table and several hundred random ones select the same
// resources, and sorted listings return them in the same order page by
// page. Run checks each backend against filter.Match; Compare checks what
// Match cannot decide, the order of sorted results.
//
// Filters and sorts on meta.created and meta.lastModified are left out:
// the two stores created the resources at different times.
func Compare(t *testing.T, a, b store.Store) {
	ctx := context.Background()
	ca, cb := seed(t, a, 300, 30), seed(t, b, 300, 30)
	for _, typ := range []string{store.UserType, store.GroupType} {
		if !slices.Equal(ca.ids[typ], cb.ids[typ]) {
			t.Fatalf("the stores were seeded with different %s ids", typ)
		}
	}
	compared := 0
	same := func(typ string, q store.Query, what string) {
		t.Helper()
		pa, errA := a.Query(ctx, ca.tenant, typ, q)
		pb, errB := b.Query(ctx, cb.tenant, typ, q)
		if (errA == nil) != (errB == nil) {
			t.Errorf("%s: one store failed: %v / %v", what, errA, errB)
			return
		}
		if errA != nil {
			return
		}
		compared++
		ia, ib := ids(pa), ids(pb)
		if pa.Total != pb.Total || !slices.Equal(ia, ib) {
			t.Errorf("%s %s: the stores differ\n  total %d, %v\n  total %d, %v", typ, what, pa.Total, ia, pb.Total, ib)
		}
	}
	filters := filterCases(ca)
	g := filterGen{rng: rand.New(rand.NewPCG(19, 23)), c: ca}
	for range 400 {
		typ := store.UserType
		if g.rng.IntN(5) == 0 {
			typ = store.GroupType
		}
		filters = append(filters, struct{ typ, filter string }{typ, g.expr(typ, 0)})
	}
	for _, f := range filters {
		if strings.Contains(strings.ToLower(f.filter), "meta.") {
			continue
		}
		same(f.typ, store.Query{Filter: parse(t, f.filter), Count: 1000}, f.filter)
	}
	sorts := map[string][]string{
		store.UserType: {"userName", "name.familyName", "name.givenName", "displayName", "title", "emails",
			"emails.value", "phoneNumbers.type", "active", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
			"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value", "groups", "id", "unknownAttribute"},
		store.GroupType: {"displayName", "externalId", "members", "id"},
	}
	for typ, paths := range sorts {
		for _, sortBy := range paths {
			for _, desc := range []bool{false, true} {
				for _, page := range [][2]int{{1, 1000}, {1, 40}, {41, 40}, {290, 40}} {
					q := store.Query{SortBy: sortBy, Descending: desc, StartIndex: page[0], Count: page[1]}
					same(typ, q, "sortBy "+sortBy)
				}
			}
		}
	}
	t.Logf("%d queries answered alike", compared)
}

func ids(p store.Page) []string {
	out := make([]string, len(p.Resources))
	for i, r := range p.Resources {
		out[i] = r.ID
	}
	return out
}
