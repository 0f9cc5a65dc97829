package sqlite

import (
	"context"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/ferryid/ferry/internal/store"
)

// cursorBenchUsers is the environment variable that sets how many users
// BenchmarkCursorPaging seeds; 20,000 unless set (FERRY_CURSOR_BENCH_USERS=1000000
// for the figures in the README).
const cursorBenchUsers = "FERRY_CURSOR_BENCH_USERS"

// BenchmarkCursorPaging compares keyset pages (RFC 9865 cursors,
// store.Query.After) with index pages (startIndex) deep into a directory:
// the first page of 100, the page of 100 after N-1,000 users by keyset and
// by StartIndex, and a walk of every user 1,000 at a time. A keyset page
// deep in the directory should cost what the first one does; an index page
// there skips N-1,000 rows first.
func BenchmarkCursorPaging(b *testing.B) {
	n := 20000
	if v := os.Getenv(cursorBenchUsers); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 2000 {
			b.Fatalf("%s=%q: want a number of users, at least 2000", cursorBenchUsers, v)
		}
	}
	f := seeded(b, n)
	ids := slices.Sorted(slices.Values(f.ids))
	ctx := context.Background()
	page := func(b *testing.B, q store.Query, want string) {
		b.Helper()
		p, err := f.s.Query(ctx, f.tenant, store.UserType, q)
		if err != nil {
			b.Fatal(err)
		}
		if len(p.Resources) != q.Count || p.Total != n || p.Resources[0].ID != want {
			b.Fatalf("page of %d resources, total %d, first %s; want %d, %d, %s", len(p.Resources), p.Total, p.Resources[0].ID, q.Count, n, want)
		}
	}
	deep := n - 1000 // users before the deep page
	b.Run("first/count=100", func(b *testing.B) {
		for b.Loop() {
			page(b, store.Query{Count: 100, After: &store.Position{}}, ids[0])
		}
	})
	b.Run("deep-cursor/count=100", func(b *testing.B) {
		for b.Loop() {
			page(b, store.Query{Count: 100, After: &store.Position{ID: ids[deep-1]}}, ids[deep])
		}
	})
	b.Run("deep-startIndex/count=100", func(b *testing.B) {
		for b.Loop() {
			page(b, store.Query{Count: 100, StartIndex: deep + 1}, ids[deep])
		}
	})
	b.Run("walk/count=1000", func(b *testing.B) {
		var first, last time.Duration
		for b.Loop() {
			q := store.Query{Count: 1000, After: &store.Position{}}
			seen := 0
			for pages := 0; q.After != nil; pages++ {
				start := time.Now()
				p, err := f.s.Query(ctx, f.tenant, store.UserType, q)
				if err != nil {
					b.Fatal(err)
				}
				took := time.Since(start)
				if pages == 0 {
					first = took
				}
				last = took
				seen += len(p.Resources)
				q.After = p.Next
			}
			if seen != n {
				b.Fatalf("walked %d users of %d", seen, n)
			}
		}
		b.ReportMetric(float64(first.Microseconds())/1000, "ms-first-page")
		b.ReportMetric(float64(last.Microseconds())/1000, "ms-last-page")
	})
}
