package storetest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/ferryid/ferry/internal/scim/resource"
	"github.com/ferryid/ferry/internal/store"
)

// walk reads every page of q from the start with keyset paging
// (Query.After), checking each page's total against wantTotal (when not
// negative), and returns the ids in the order read.
func walk(t *testing.T, s store.Store, tenantID, typ string, q store.Query, wantTotal int) []string {
	t.Helper()
	var out []string
	q.After = &store.Position{}
	for pages := 0; ; pages++ {
		if pages > 100000 {
			t.Fatalf("walk of %+v does not end", q)
		}
		p, err := s.Query(context.Background(), tenantID, typ, q)
		if err != nil {
			t.Fatalf("keyset page after %+v: %v", *q.After, err)
		}
		if wantTotal >= 0 && p.Total != wantTotal {
			t.Fatalf("keyset page after %+v: total %d, want %d", *q.After, p.Total, wantTotal)
		}
		if len(p.Resources) > q.Count {
			t.Fatalf("keyset page of %d resources, count %d", len(p.Resources), q.Count)
		}
		for _, r := range p.Resources {
			out = append(out, r.ID)
		}
		if p.Next == nil {
			return out
		}
		if len(p.Resources) != q.Count {
			t.Fatalf("a page of %d resources (count %d) says more follow", len(p.Resources), q.Count)
		}
		if last := p.Resources[len(p.Resources)-1].ID; p.Next.ID != last {
			t.Fatalf("Next.ID %q, want the page's last resource %q", p.Next.ID, last)
		}
		q.After = p.Next
	}
}

// testKeysetWalk walks 10,000 users with keyset pages while other users
// are created and deleted: every user that exists for the whole walk comes
// back exactly once, in id order, and nothing comes back twice.
func testKeysetWalk(t *testing.T, s store.Store) {
	ctx := context.Background()
	a, other := tenant(t, s, "a"), tenant(t, s, "other")
	n := 10000
	if testing.Short() {
		n = 1000
	}
	// Seeded by a few writers at once, which PostgreSQL takes in parallel.
	ids := make([]string, n)
	var seeding sync.WaitGroup
	seedErrs := make(chan error, 4)
	for w := range 4 {
		seeding.Go(func() {
			for i := w; i < n; i += 4 {
				r := &store.Resource{TenantID: a, Type: store.UserType, Doc: user(t, fmt.Sprintf("u%05d", i))}
				if err := s.Create(ctx, r); err != nil {
					seedErrs <- err
					return
				}
				ids[i] = r.ID
			}
		})
	}
	seeding.Wait()
	close(seedErrs)
	if err := <-seedErrs; err != nil {
		t.Fatalf("seeding: %v", err)
	}
	stable := map[string]bool{}
	var doomed []string // deleted while the walk runs
	for i, id := range ids {
		if i%10 == 3 {
			doomed = append(doomed, id)
		} else {
			stable[id] = true
		}
	}
	create(t, s, other, store.UserType, user(t, "someone-else"))

	stop := make(chan struct{})
	var churned sync.WaitGroup
	var created []string
	var churnErr error
	churned.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			r := &store.Resource{TenantID: a, Type: store.UserType, Doc: user(t, fmt.Sprintf("churn%06d", i))}
			if err := s.Create(ctx, r); err != nil {
				churnErr = err
				return
			}
			created = append(created, r.ID)
			if i < len(doomed) {
				if err := s.Delete(ctx, a, store.UserType, doomed[i], 0); err != nil {
					churnErr = err
					return
				}
			}
			if i%2 == 1 { // and some of what it created
				if err := s.Delete(ctx, a, store.UserType, created[i/2], 0); err != nil {
					churnErr = err
					return
				}
			}
		}
	})
	got := walk(t, s, a, store.UserType, store.Query{Count: 97}, -1)
	close(stop)
	churned.Wait()
	if churnErr != nil {
		t.Fatalf("creating and deleting during the walk: %v", churnErr)
	}
	if !slices.IsSorted(got) {
		t.Errorf("the walk is not in id order")
	}
	seen := map[string]int{}
	for _, id := range got {
		seen[id]++
		if seen[id] == 2 {
			t.Errorf("user %s returned twice", id)
		}
	}
	missing := 0
	for id := range stable {
		if seen[id] != 1 {
			missing++
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d users that existed for the whole walk were not returned", missing, len(stable))
	}
	t.Logf("walked %d users while %d were created and some deleted", len(got), len(created))
}

// testKeysetSorted walks sorted and filtered queries two resources at a
// time, and compares them with the same query read in one page: the same
// resources in the same order, ties and resources without a sort key
// included, ascending and descending.
func testKeysetSorted(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	families := []string{"Zeta", "beta", "", "Beta", "alpha", "beta", "", "gamma", "Alpha", "delta", "beta", ""}
	var gids []string
	for i, f := range families {
		d := resource.Document{"userName": fmt.Sprintf("user%02d", (i*7)%len(families)), "title": []string{"a", "b", "c"}[i%3]}
		if f != "" {
			d["name"] = map[string]any{"familyName": f}
		}
		if i%4 != 0 {
			d["emails"] = []any{map[string]any{"value": fmt.Sprintf("%c@x", 'z'-i), "primary": i%2 == 0}}
		}
		r := create(t, s, a, store.UserType, normalize(t, userType, d))
		if i%3 == 0 {
			gids = append(gids, r.ID)
		}
	}
	for i := range 5 {
		create(t, s, a, store.GroupType, group(t, fmt.Sprintf("g%d", i)), gids[:i]...)
	}
	tests := []struct {
		sortBy, filter string
		desc           bool
	}{
		{"", "", false},
		{"", "", true},
		{"userName", "", false},
		{"userName", "", true},
		{"name.familyName", "", false},
		{"name.familyName", "", true},
		{"emails.value", "", false},
		{"emails.value", "", true},
		{"meta.created", "", false},
		{"meta.lastModified", "", true},
		{"id", "", true},
		{"", `title eq "b"`, false},
		{"name.familyName", `title ne "c"`, true},
		{"userName", `emails pr`, false},
		{"", `userName eq "nobody"`, false},
	}
	for _, tc := range tests {
		q := store.Query{SortBy: tc.sortBy, Descending: tc.desc, Count: 100}
		if tc.filter != "" {
			q.Filter = parse(t, tc.filter)
		}
		want, err := s.Query(ctx, a, store.UserType, q)
		if err != nil {
			t.Fatalf("sortBy %q filter %q: %v", tc.sortBy, tc.filter, err)
		}
		for _, count := range []int{1, 2, 5} {
			q.Count = count
			got := walk(t, s, a, store.UserType, q, want.Total)
			if !slices.Equal(got, ids(want)) {
				t.Errorf("sortBy %q descending=%v filter %q, %d a page:\n got %v\nwant %v", tc.sortBy, tc.desc, tc.filter, count, got, ids(want))
			}
		}
	}
	// Groups, with their members, page the same way.
	q := store.Query{SortBy: "displayName", Descending: true, Count: 2, ReadOptions: store.ReadOptions{Members: true}}
	q.After = &store.Position{}
	var names []string
	for q.After != nil {
		p, err := s.Query(ctx, a, store.GroupType, q)
		if err != nil {
			t.Fatalf("groups: %v", err)
		}
		for _, r := range p.Resources {
			names = append(names, fmt.Sprintf("%v:%d", r.Doc["displayName"], len(r.Members)))
		}
		q.After = p.Next
	}
	if want := []string{"g4:4", "g3:3", "g2:2", "g1:1", "g0:0"}; !slices.Equal(names, want) {
		t.Errorf("groups by displayName descending, with members: %v, want %v", names, want)
	}
	// Count 0 is the total alone, with nowhere to go next.
	p, err := s.Query(ctx, a, store.UserType, store.Query{After: &store.Position{}})
	if err != nil || p.Total != len(families) || len(p.Resources) != 0 || p.Next != nil {
		t.Errorf("keyset count 0: total %d, %d resources, next %v, %v; want %d, none, nil", p.Total, len(p.Resources), p.Next, err, len(families))
	}
}

// testKeysetSkip checks that a keyset page with Skip is the page of the
// same query at the index it names: After the resource at position p,
// skipping k, is the page at startIndex p+k+1, in id order and sorted,
// with or without documents, and its total is the query's.
func testKeysetSkip(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	const n = 23
	for i := range n {
		doc := user(t, fmt.Sprintf("skip%02d", i))
		doc["title"] = fmt.Sprintf("t%02d", (i*7)%n)
		create(t, s, a, store.UserType, doc)
	}
	for _, base := range []store.Query{{}, {SortBy: "title"}, {SortBy: "title", Descending: true}, {ReadOptions: store.ReadOptions{IDsOnly: true}}} {
		all := base
		all.Count = n
		whole, err := s.Query(ctx, a, store.UserType, all)
		if err != nil {
			t.Fatal(err)
		}
		for _, pos := range []int{1, 5, 22} {
			for _, skip := range []int{0, 1, 4, 30} {
				// The place of the resource at pos, as a keyset page
				// ending there gives it (with its sort key).
				first := base
				first.Count, first.After = pos, &store.Position{}
				fp, err := s.Query(ctx, a, store.UserType, first)
				if err != nil || fp.Next == nil {
					t.Fatalf("the first %d: %v, next %v", pos, err, fp.Next)
				}
				q := base
				q.Count = 3
				q.After, q.Skip = fp.Next, skip
				p, err := s.Query(ctx, a, store.UserType, q)
				if err != nil {
					t.Fatalf("%+v: %v", q, err)
				}
				var want []string
				for i := pos + skip; i < min(pos+skip+3, n); i++ {
					want = append(want, whole.Resources[i].ID)
				}
				var got []string
				for _, r := range p.Resources {
					got = append(got, r.ID)
				}
				if !slices.Equal(got, want) {
					t.Errorf("after position %d, skipping %d: %v, want %v", pos, skip, got, want)
				}
				if p.Total != n {
					t.Errorf("after position %d, skipping %d: total %d, want %d", pos, skip, p.Total, n)
				}
				if more := pos+skip+3 < n; (p.Next != nil) != more {
					t.Errorf("after position %d, skipping %d: Next %v, want more=%v", pos, skip, p.Next, more)
				}
			}
		}
	}
}
