package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"syscall"
	"testing"
	"time"

	"github.com/ferryid/ferry/internal/ferrytest"
	"github.com/ferryid/ferry/internal/scim/resource"
	"github.com/ferryid/ferry/internal/scim/schema"
	"github.com/ferryid/ferry/internal/store"
)

// BenchmarkReadPath measures what the server's read path costs in CPU
// time per request (cpu-us/op, the process's user and system time), one
// request at a time straight into the handler: a figure that a machine
// busy with other work does not move as it moves a rate. 2,000 users in
// groups of 100, as ferry bench seeds them.
//
//	go test -run '^$' -bench BenchmarkReadPath -benchtime 2000x ./internal/server
func BenchmarkReadPath(b *testing.B) {
	ctx := context.Background()
	catalog := schema.Builtin()
	st := openTestStore(b, catalog)
	b.Cleanup(func() { st.Close() })
	h := New(DefaultConfig(), st, catalog, slog.New(slog.NewTextHandler(io.Discard, nil))).Handler()
	token := ferrytest.Token(b, st, "default", "bench", "")
	tn, err := st.TenantByName(ctx, "default")
	if err != nil {
		b.Fatal(err)
	}
	const users = 2000
	ids := make([]string, users)
	for i := range ids {
		doc, err := resource.Decode(fmt.Appendf(nil, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"u%07d@bench.example","externalId":"x%07d",
			"displayName":"Bench User %d","name":{"givenName":"Bench","familyName":"User%07d"},"title":"Engineer","active":true,
			"emails":[{"type":"work","value":"u%07d@work.example","primary":true},{"type":"home","value":"u%07d@home.example"}]}`, i, i, i, i, i, i))
		if err != nil {
			b.Fatal(err)
		}
		r := &store.Resource{TenantID: tn.ID, Type: store.UserType, Doc: doc}
		if err := st.Create(ctx, r); err != nil {
			b.Fatal(err)
		}
		ids[i] = r.ID
	}
	for g := range users / 100 {
		r := &store.Resource{TenantID: tn.ID, Type: store.GroupType, Doc: resource.Document{"displayName": fmt.Sprintf("g%05d", g)}}
		for _, id := range ids[g*100 : g*100+100] {
			r.Members = append(r.Members, store.Member{ID: id})
		}
		if err := st.Create(ctx, r); err != nil {
			b.Fatal(err)
		}
	}
	for _, sc := range []struct {
		name string
		path func(i int) string
	}{
		{"GetByID", func(i int) string { return "/Users/" + ids[i%users] }},
		{"UserNameEq", func(i int) string {
			return "/Users?filter=" + url.QueryEscape(fmt.Sprintf(`userName eq "u%07d@bench.example"`, i%users))
		}},
		{"List100", func(i int) string { return fmt.Sprintf("/Users?startIndex=%d&count=100", 1+(i*100)%(users-100)) }},
	} {
		b.Run(sc.name, func(b *testing.B) {
			send := func(i int) {
				r := httptest.NewRequest(http.MethodGet, "http://ferry.test/scim/v2"+sc.path(i), nil)
				r.Header.Set("Authorization", "Bearer "+token)
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if w.Code != http.StatusOK {
					b.Fatalf("%s: %d %s", sc.path(i), w.Code, w.Body)
				}
			}
			for i := range users { // every user read once, as a warm server has
				send(i)
			}
			cpu := func() time.Duration {
				var ru syscall.Rusage
				syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
				return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
			}
			start := cpu()
			i := 0
			for b.Loop() {
				send(i)
				i++
			}
			b.ReportMetric(float64((cpu()-start).Microseconds())/float64(i), "cpu-us/op")
		})
	}
}
