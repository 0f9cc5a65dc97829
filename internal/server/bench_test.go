package server

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ferryid/ferry/internal/scim/resource"
	"github.com/ferryid/ferry/internal/store"
)

var benchUsers = flag.Int("bench-users", 10000, "users seeded for BenchmarkServer")

// BenchmarkServer drives the real HTTP server on loopback with 16
// concurrent clients, over a directory of -bench-users users, and reports
// requests per second and latency percentiles per scenario.
//
//	go test -run '^$' -bench BenchmarkServer -benchtime 5s ./internal/server -bench-users 100000
func BenchmarkServer(b *testing.B) {
	ts := newTestServer(b)
	ctx := context.Background()
	tenant, err := ts.Store.TenantByName(ctx, "default")
	if err != nil {
		b.Fatal(err)
	}
	// Seeded by 16 writers at once, as clients would: SQLite commits
	// their writes in groups, PostgreSQL in parallel transactions.
	ids := make([]string, *benchUsers)
	var seedNext atomic.Int64
	var seedErr atomic.Value
	var seeders sync.WaitGroup
	for range 16 {
		seeders.Go(func() {
			for i := int(seedNext.Add(1)) - 1; i < len(ids); i = int(seedNext.Add(1)) - 1 {
				doc, err := resource.Decode(fmt.Appendf(nil, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"user%06d@example.com","externalId":"ext-%06d",
					"name":{"givenName":"Given%d","familyName":"Family%d"},"active":true,
					"emails":[{"type":"work","value":"user%06d@corp.example.com","primary":true},{"type":"home","value":"u%06d@home.example"}]}`, i, i, i, i, i, i))
				if err == nil {
					r := &store.Resource{TenantID: tenant.ID, Type: store.UserType, Doc: doc}
					err = ts.Store.Create(ctx, r)
					ids[i] = r.ID
				}
				if err != nil {
					seedErr.Store(err)
					return
				}
			}
		})
	}
	seeders.Wait()
	if err, _ := seedErr.Load().(error); err != nil {
		b.Fatal(err)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	var created atomic.Int64
	scenarios := []struct {
		name    string
		request func(i int) (method, path, body string)
	}{
		{"GetByID", func(i int) (string, string, string) { return "GET", "/Users/" + ids[i%len(ids)], "" }},
		{"UserNameEq", func(i int) (string, string, string) {
			return "GET", "/Users?filter=" + url.QueryEscape(fmt.Sprintf(`userName eq "user%06d@example.com"`, i%len(ids))), ""
		}},
		{"EmailValuePathCo", func(i int) (string, string, string) {
			return "GET", "/Users?filter=" + url.QueryEscape(fmt.Sprintf(`emails[type eq "work" and value co "%06d@corp"]`, i%len(ids))), ""
		}},
		{"List100", func(i int) (string, string, string) {
			return "GET", fmt.Sprintf("/Users?startIndex=%d&count=100", 1+(i*100)%max(len(ids)-100, 1)), ""
		}},
		{"Create", func(int) (string, string, string) {
			return "POST", "/Users", fmt.Sprintf(`{"userName":"new%09d@example.com","name":{"givenName":"N"},"emails":[{"type":"work","value":"n@example.com"}]}`, created.Add(1))
		}},
	}
	for _, sc := range scenarios {
		b.Run(sc.name, func(b *testing.B) {
			var (
				mu        sync.Mutex
				latencies []time.Duration
				next      atomic.Int64
				failures  atomic.Int64
			)
			b.SetParallelism(8) // 8 × GOMAXPROCS(2) = 16 concurrent clients
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				local := make([]time.Duration, 0, 1024)
				for pb.Next() {
					method, path, body := sc.request(int(next.Add(1)))
					var rd io.Reader
					if body != "" {
						rd = strings.NewReader(body)
					}
					req, _ := http.NewRequest(method, ts.URL+path, rd)
					req.Header.Set("Authorization", "Bearer "+ts.Token)
					if body != "" {
						req.Header.Set("Content-Type", "application/scim+json")
					}
					t0 := time.Now()
					resp, err := client.Do(req)
					if err != nil {
						failures.Add(1)
						continue
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					local = append(local, time.Since(t0))
					if resp.StatusCode >= 300 {
						failures.Add(1)
					}
				}
				mu.Lock()
				latencies = append(latencies, local...)
				mu.Unlock()
			})
			elapsed := time.Since(start)
			b.StopTimer()
			if f := failures.Load(); f > 0 {
				b.Fatalf("%d requests failed", f)
			}
			slices.Sort(latencies)
			pct := func(p float64) float64 {
				if len(latencies) == 0 {
					return 0
				}
				return float64(latencies[int(p*float64(len(latencies)-1))].Microseconds()) / 1000
			}
			b.ReportMetric(float64(len(latencies))/elapsed.Seconds(), "req/s")
			b.ReportMetric(pct(0.50), "p50-ms")
			b.ReportMetric(pct(0.99), "p99-ms")
		})
	}
}
