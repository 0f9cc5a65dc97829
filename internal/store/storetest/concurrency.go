package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/ferryid/ferry/internal/store"
)

// testChangeFeedUnderConcurrentWriters runs writers in parallel while a
// reader follows the feed with a watermark, as the provisioning engine
// does. Every entry must reach the reader exactly once: an entry that
// became visible below the reader's watermark would be missed for good,
// and shows up here as an entry of the full feed the reader never got.
func testChangeFeedUnderConcurrentWriters(t *testing.T, s store.Store) {
	ctx := context.Background()
	a, other := tenant(t, s, "a"), tenant(t, s, "other")
	const writers, perWriter = 6, 25
	var wg sync.WaitGroup
	errs := make(chan error, writers*perWriter)
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				tn := a
				if i%5 == 4 {
					tn = other // interleaved writes of another tenant
				}
				r := &store.Resource{TenantID: tn, Type: store.UserType, Doc: user(t, fmt.Sprintf("w%d-%d", w, i))}
				if err := s.Create(ctx, r); err != nil {
					errs <- err
					return
				}
				if i%3 == 0 {
					_, err := s.Update(ctx, tn, store.UserType, r.ID, 0, func(r *store.Resource) error {
						r.Doc["title"] = "updated"
						return nil
					})
					if err != nil {
						errs <- err
						return
					}
				}
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()

	seen := map[int64]store.Change{}
	var watermark int64
	follow := func() {
		for {
			batch, err := s.Changes(ctx, a, watermark, 7)
			if err != nil {
				t.Fatalf("Changes: %v", err)
			}
			for _, c := range batch {
				if c.Seq <= watermark {
					t.Fatalf("Changes after %d returned seq %d", watermark, c.Seq)
				}
				if _, dup := seen[c.Seq]; dup {
					t.Fatalf("seq %d returned twice", c.Seq)
				}
				seen[c.Seq] = c
				watermark = c.Seq
			}
			if len(batch) < 7 {
				return
			}
		}
	}
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
		}
		follow()
	}
	follow()
	close(errs)
	for err := range errs {
		t.Fatalf("write: %v", err)
	}

	all, err := s.Changes(ctx, a, 0, 100000)
	if err != nil {
		t.Fatal(err)
	}
	creates, updates := 0, 0
	for _, c := range all {
		if _, ok := seen[c.Seq]; !ok {
			t.Errorf("entry %d (%s %s) appeared below the reader's watermark after the reader passed it", c.Seq, c.Op, c.ID)
		}
		if c.TenantID != a {
			t.Errorf("entry %d belongs to tenant %s", c.Seq, c.TenantID)
		}
		switch c.Op {
		case store.OpCreate:
			creates++
		case store.OpUpdate:
			updates++
		}
	}
	if len(all) != len(seen) {
		t.Errorf("the reader got %d entries, the feed has %d", len(seen), len(all))
	}
	// Per writer, i in 0..24: tenant a for i%5 != 4 (20 creates), updated
	// for i%3 == 0 among those (i = 0, 3, 6, 12, 15, 18, 21: 7).
	if creates != writers*20 || updates != writers*7 {
		t.Errorf("feed of tenant a: %d creates and %d updates, want %d and %d", creates, updates, writers*20, writers*7)
	}
}

// testConcurrentIfMatch runs updates that all expect version 1 at once:
// exactly one may succeed, the others get store.ErrVersionMismatch.
func testConcurrentIfMatch(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	u := create(t, s, a, store.UserType, user(t, "contended"))
	const n = 20
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, errs[i] = s.Update(ctx, a, store.UserType, u.ID, 1, func(r *store.Resource) error {
				r.Doc["title"] = fmt.Sprint("writer ", i)
				return nil
			})
		})
	}
	wg.Wait()
	ok, stale := 0, 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, store.ErrVersionMismatch):
			stale++
		default:
			t.Errorf("Update: %v", err)
		}
	}
	if ok != 1 || stale != n-1 {
		t.Errorf("%d updates If-Match version 1: %d succeeded, %d got ErrVersionMismatch; want 1 and %d", n, ok, stale, n-1)
	}
	if got := get(t, s, a, store.UserType, u.ID); got.Version != 2 {
		t.Errorf("version after the race: %d, want 2", got.Version)
	}
}

// testLongValues stores values longer than a database index entry can
// hold, and finds them by every operator.
func testLongValues(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	// 3,000 multi-byte characters: 6,000 bytes.
	long := strings.Repeat("é", 2990) + "0123456789"
	longer := strings.Repeat("é", 2990) + "0123456799"
	// Values that share their first 200 characters with long.
	u1 := create(t, s, a, store.UserType, user(t, long, "title", long))
	u2 := create(t, s, a, store.UserType, user(t, longer, "title", longer))
	u3 := create(t, s, a, store.UserType, user(t, "short", "title", strings.Repeat("é", 200)))
	g := create(t, s, a, store.GroupType, group(t, long), u1.ID)
	err := s.Create(ctx, &store.Resource{TenantID: a, Type: store.UserType, Doc: user(t, strings.ToUpper(long))})
	wantKind(t, "Create with a long userName taken in another case", err, store.ErrNameTaken)

	tests := []struct {
		filter string
		want   []string
	}{
		{`title eq "` + long + `"`, []string{u1.ID}},
		{`userName eq "` + strings.ToUpper(longer) + `"`, []string{u2.ID}},
		{`title ne "` + long + `"`, []string{u2.ID, u3.ID}},
		{`title gt "` + long + `"`, []string{u2.ID}},
		{`title ge "` + long + `"`, []string{u1.ID, u2.ID}},
		{`title lt "` + longer + `"`, []string{u1.ID, u3.ID}},
		{`title le "` + strings.Repeat("é", 200) + `"`, []string{u3.ID}},
		{`title sw "` + strings.Repeat("é", 250) + `"`, []string{u1.ID, u2.ID}},
		{`title sw "` + long[:len(long)-1] + `"`, []string{u1.ID}},
		{`title sw "` + strings.Repeat("é", 200) + `"`, []string{u1.ID, u2.ID, u3.ID}},
		{`title ew "6789"`, []string{u1.ID}},
		{`title co "éé0123"`, []string{u1.ID, u2.ID}},
	}
	for _, tc := range tests {
		got := queryIDs(t, s, a, store.UserType, store.Query{Filter: parse(t, tc.filter), Count: 10})
		want := sortedStrings(tc.want...)
		if !slices.Equal(got, want) {
			t.Errorf("%.60s…: got %v, want %v", tc.filter, got, want)
		}
	}
	got := queryIDs(t, s, a, store.GroupType, store.Query{Filter: parse(t, `displayName eq "`+long+`"`), Count: 10})
	if !slices.Equal(got, []string{g.ID}) {
		t.Errorf("group by its long displayName: %v, want %v", got, []string{g.ID})
	}
	if m := get(t, s, a, store.UserType, u1.ID).Groups; len(m) != 1 || m[0].Display != long {
		t.Errorf("groups of u1: %+v", m)
	}
}

// testCountOnly asks for the total alone (count=0), with and without a
// filter.
func testCountOnly(t *testing.T, s store.Store) {
	ctx := context.Background()
	a, b := tenant(t, s, "a"), tenant(t, s, "b")
	for i := range 5 {
		create(t, s, a, store.UserType, user(t, fmt.Sprint("u", i), "title", fmt.Sprint(i%2)))
	}
	create(t, s, b, store.UserType, user(t, "elsewhere", "title", "1"))
	u := create(t, s, a, store.UserType, user(t, "gone"))
	if err := s.Delete(ctx, a, store.UserType, u.ID, 0); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		filter string
		want   int
	}{
		{"", 5},
		{`title eq "1"`, 2},
		{`title eq "0" or userName eq "gone"`, 3},
		{`title eq "7"`, 0},
	} {
		var q store.Query
		if tc.filter != "" {
			q.Filter = parse(t, tc.filter)
		}
		p, err := s.Query(ctx, a, store.UserType, q)
		if err != nil {
			t.Fatal(err)
		}
		if p.Total != tc.want || len(p.Resources) != 0 {
			t.Errorf("count=0, filter %q: total %d with %d resources, want %d and none", tc.filter, p.Total, len(p.Resources), tc.want)
		}
	}
	p, err := s.Query(ctx, a, store.GroupType, store.Query{})
	if err != nil || p.Total != 0 {
		t.Errorf("groups of a tenant without any: %d, %v", p.Total, err)
	}
}

// testIDsOnly reads pages with store.ReadOptions.IDsOnly: the same
// resources, in the same order and with the same totals and keyset
// positions, as the same queries read whole, and nothing but their ids.
func testIDsOnly(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	for i := range 7 {
		create(t, s, a, store.UserType, user(t, fmt.Sprint("u", i), "title", fmt.Sprint(i%3)))
	}
	for _, q := range []store.Query{
		{Count: 3},
		{Count: 3, StartIndex: 4},
		{Count: 10, Filter: parse(t, `title eq "1"`)},
		{Count: 4, SortBy: "userName", Descending: true, StartIndex: 2},
		{Count: 3, After: &store.Position{}},
		{Count: 3, SortBy: "title", After: &store.Position{}},
	} {
		whole := q
		whole.Members = true
		want, err := s.Query(ctx, a, store.UserType, whole)
		if err != nil {
			t.Fatal(err)
		}
		q.IDsOnly, q.Members, q.Encoded = true, true, true // IDsOnly overrides the others
		got, err := s.Query(ctx, a, store.UserType, q)
		if err != nil {
			t.Fatalf("IDsOnly %+v: %v", q, err)
		}
		if !slices.Equal(ids(got), ids(want)) || got.Total != want.Total || !reflect.DeepEqual(got.Next, want.Next) {
			t.Errorf("IDsOnly %+v: %v total %d next %+v; read whole: %v total %d next %+v",
				q, ids(got), got.Total, got.Next, ids(want), want.Total, want.Next)
		}
		for _, r := range got.Resources {
			if r.ID == "" || r.Version != 0 || r.Doc != nil || r.DocJSON != nil || r.Groups != nil {
				t.Errorf("IDsOnly %+v returned more than an identity: %+v", q, r)
			}
		}
	}
}
