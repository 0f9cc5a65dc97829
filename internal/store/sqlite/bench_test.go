package sqlite

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ferryid/ferry/internal/scim/filter"
	"github.com/ferryid/ferry/internal/scim/resource"
	"github.com/ferryid/ferry/internal/scim/schema"
	"github.com/ferryid/ferry/internal/store"
)

// Seeded directories are expensive (100,000 users take a while), so the
// benchmarks of one run share them. They are only built when a benchmark
// asks, never by go test without -bench.
var fixtures = struct {
	sync.Mutex
	dir string
	m   map[int]*fixture
}{m: map[int]*fixture{}}

type fixture struct {
	s      *Store
	tenant string
	ids    []string
}

func TestMain(m *testing.M) {
	code := m.Run()
	for _, f := range fixtures.m {
		f.s.Close()
	}
	if fixtures.dir != "" {
		os.RemoveAll(fixtures.dir)
	}
	os.Exit(code)
}

var benchUserType = schema.Builtin().ResourceType(store.UserType)

// benchUser is an Entra-like user: about twenty indexed values.
func benchUser(i int) resource.Document {
	given := []string{"Ann", "Bob", "Carla", "Dmitri", "Eve", "Farah", "Gus", "Hana"}[i%8]
	family := fmt.Sprintf("Family%d", i/8)
	if i%100 == 0 {
		// One user in a hundred has an x in the work address.
		family = fmt.Sprintf("Fox%d", i/8)
	}
	d := resource.Document{
		"userName":    fmt.Sprintf("%s.%s@corp.test", given, family),
		"externalId":  fmt.Sprintf("ext-%07d", i),
		"displayName": given + " " + family,
		"name":        map[string]any{"givenName": given, "familyName": family, "formatted": given + " " + family},
		"title":       []string{"Engineer", "Manager", "Analyst"}[i%3],
		"active":      i%10 != 0,
		"emails": []any{
			map[string]any{"value": fmt.Sprintf("%s.%s@corp.test", given, family), "type": "work", "primary": true},
			map[string]any{"value": fmt.Sprintf("%s%d@home.mail.test", given, i), "type": "home"},
		},
		"phoneNumbers": []any{map[string]any{"value": fmt.Sprintf("+1 555 %07d", i), "type": "work"}},
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": map[string]any{
			"employeeNumber": fmt.Sprint(100000 + i),
			"department":     []string{"Sales", "Engineering", "Support", "Finance"}[i%4],
			"manager":        map[string]any{"value": fmt.Sprintf("m-%d", i/50)},
		},
	}
	n, err := resource.Normalize(d, benchUserType)
	if err != nil {
		panic(err)
	}
	return n
}

// seeded returns a store holding n users, seeding it on first use with one
// transaction per 1,000 users.
func seeded(b *testing.B, n int) *fixture {
	b.Helper()
	fixtures.Lock()
	defer fixtures.Unlock()
	if f := fixtures.m[n]; f != nil {
		return f
	}
	if fixtures.dir == "" {
		dir, err := os.MkdirTemp("", "ferry-bench-")
		if err != nil {
			b.Fatal(err)
		}
		fixtures.dir = dir
	}
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(fixtures.dir, fmt.Sprintf("users-%d.db", n)), schema.Builtin(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	tn, err := s.EnsureTenant(ctx, "bench")
	if err != nil {
		b.Fatal(err)
	}
	f := &fixture{s: s, tenant: tn.ID}
	start := time.Now()
	for i := 0; i < n; i += 1000 {
		err := s.write(ctx, func(w *wtx) error {
			for j := i; j < min(i+1000, n); j++ {
				r := &store.Resource{TenantID: tn.ID, Type: store.UserType, Doc: benchUser(j)}
				e, err := s.encode(ctx, r)
				if err != nil {
					return err
				}
				if err := w.create(ctx, r, e); err != nil {
					return err
				}
				f.ids = append(f.ids, r.ID)
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("seeded %d users in %v", n, time.Since(start).Round(time.Millisecond))
	fixtures.m[n] = f
	return f
}

func mustParse(b *testing.B, s string) filter.Expr {
	b.Helper()
	e, err := filter.Parse(s)
	if err != nil {
		b.Fatal(err)
	}
	return e
}

// queryLoop runs a query per iteration with a filter chosen by i.
func queryLoop(b *testing.B, f *fixture, wantTotal int, filterOf func(i int) filter.Expr) {
	b.Helper()
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		p, err := f.s.Query(ctx, f.tenant, store.UserType, store.Query{Filter: filterOf(i), Count: 100})
		if err != nil {
			b.Fatal(err)
		}
		if wantTotal >= 0 && p.Total != wantTotal {
			b.Fatalf("total %d, want %d", p.Total, wantTotal)
		}
	}
}

// BenchmarkUserNameEq is Entra's matching query. Its latency should not
// grow with the directory: the 100,000-user run should stay within 1.5×
// of the 1,000-user one.
func BenchmarkUserNameEq(b *testing.B) {
	for _, n := range []int{1000, 100000} {
		b.Run(fmt.Sprintf("users=%d", n), func(b *testing.B) {
			f := seeded(b, n)
			filters := make([]filter.Expr, 1024)
			rng := rand.New(rand.NewPCG(1, 2))
			for i := range filters {
				filters[i] = mustParse(b, fmt.Sprintf(`userName eq "%s"`, benchUser(rng.IntN(n))["userName"]))
			}
			queryLoop(b, f, 1, func(i int) filter.Expr { return filters[i%len(filters)] })
		})
	}
}

// BenchmarkEmailCo is a substring search inside a value filter, on 100,000
// users: with a one-letter pattern, which no trigram can answer, so that
// the attribute's values are scanned (one user in a hundred matches), and
// with longer ones, which the trigram index answers.
func BenchmarkEmailCo(b *testing.B) {
	f := seeded(b, 100000)
	for _, tc := range []struct {
		name, filter string
		total        int
	}{
		{"x", `emails[type eq "work" and value co "x"]`, 1000},
		{"y1234@", `emails[type eq "work" and value co "y1234@"]`, 8},
		{"family1234@", `emails[type eq "work" and value co "family1234@"]`, 8},
	} {
		e := mustParse(b, tc.filter)
		b.Run(tc.name, func(b *testing.B) {
			queryLoop(b, f, tc.total, func(int) filter.Expr { return e })
		})
	}
}

// BenchmarkCreate creates users one at a time, each in its own
// transaction, as POST /Users does.
func BenchmarkCreate(b *testing.B) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(b.TempDir(), "create.db"), schema.Builtin(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	tn, err := s.EnsureTenant(ctx, "bench")
	if err != nil {
		b.Fatal(err)
	}
	docs := make([]resource.Document, 4096)
	for i := range docs {
		docs[i] = benchUser(i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		d := docs[i%len(docs)].Clone()
		d["userName"] = fmt.Sprintf("user%d@example.com", i)
		if err := s.Create(ctx, &store.Resource{TenantID: tn.ID, Type: store.UserType, Doc: d}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCreateParallel creates users from 16 goroutines, as a server
// under load does; their writes share commits.
func BenchmarkCreateParallel(b *testing.B) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(b.TempDir(), "create.db"), schema.Builtin(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	tn, err := s.EnsureTenant(ctx, "bench")
	if err != nil {
		b.Fatal(err)
	}
	docs := make([]resource.Document, 4096)
	for i := range docs {
		docs[i] = benchUser(i)
	}
	var next atomic.Int64
	b.SetParallelism(8) // 16 goroutines on this 2-CPU machine
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := next.Add(1)
			d := docs[i%int64(len(docs))].Clone()
			d["userName"] = fmt.Sprintf("user%d@example.com", i)
			if err := s.Create(ctx, &store.Resource{TenantID: tn.ID, Type: store.UserType, Doc: d}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkGetByID reads random users of 100,000 by id.
func BenchmarkGetByID(b *testing.B) {
	f := seeded(b, 100000)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(3, 4))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		id := f.ids[rng.IntN(len(f.ids))]
		if _, err := f.s.Get(ctx, f.tenant, store.UserType, id, store.ReadOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
