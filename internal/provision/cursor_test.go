package provision_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/ferryid/ferry/internal/provision"
	"github.com/ferryid/ferry/internal/scim"
	"github.com/ferryid/ferry/internal/scim/resource"
	"github.com/ferryid/ferry/internal/scim/schema"
	"github.com/ferryid/ferry/internal/server"
	"github.com/ferryid/ferry/internal/store"
)

// cursorTarget is a Ferry target behind an adapter that pages by RFC 9865
// cursors: its /ServiceProviderConfig advertises them, and a query with a
// cursor parameter is answered from the page at the cursor's offset
// ("k" and the offset), with nextCursor until the last page. It counts
// the reads of users the engine sends.
type cursorTarget struct {
	*target

	mu sync.Mutex
	// cursorPages, indexPages, queries and gets count GET /Users by cursor,
	// by startIndex, by filter (matching) and by id; firstPages the cursor
	// listings begun (cursor= empty).
	cursorPages, indexPages, queries, gets, firstPages int
	// expireOnce answers the first request for this cursor with 400
	// expiredCursor (RFC 9865 §2.1).
	expireOnce string
	// indexOnly hides the cursors: the target pages as RFC 7644 alone
	// says.
	indexOnly bool
}

// newCursorTarget serves base, by cursor with pages of at most
// maxPageSize when cursors is set, as RFC 7644 alone says otherwise.
func newCursorTarget(t testing.TB, base *target, cursors bool, maxPageSize int) *cursorTarget {
	t.Helper()
	h := server.New(server.DefaultConfig(), base.store, schema.Builtin(), slog.New(slog.NewTextHandler(io.Discard, nil))).Handler()
	ct := &cursorTarget{}
	ct.target = base.inject(t, func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodGet {
			return false
		}
		q := r.URL.Query()
		ct.mu.Lock()
		defer ct.mu.Unlock()
		cursors := cursors && !ct.indexOnly
		switch {
		case r.URL.Path == "/scim/v2/ServiceProviderConfig":
			// Ferry's own server (the base) offers cursors; a target
			// without them says so.
			pagination := map[string]any{"cursor": false, "index": true}
			if cursors {
				pagination = map[string]any{"cursor": true, "index": "true", "maxPageSize": maxPageSize, "cursorTimeout": 600}
			}
			w.Header().Set("Content-Type", "application/scim+json")
			json.NewEncoder(w).Encode(map[string]any{"schemas": []string{scim.ServiceProviderConfigURN}, "pagination": pagination})
			return true
		case strings.HasPrefix(r.URL.Path, "/scim/v2/Users/"):
			ct.gets++
		case r.URL.Path != "/scim/v2/Users":
		case q.Has("filter"):
			ct.queries++
		case q.Has("cursor") && cursors:
			ct.cursorPages++
			ct.cursorPage(t, h, w, r, maxPageSize)
			return true
		default:
			ct.indexPages++
		}
		return false
	})
	return ct
}

// cursorPage answers a cursor query with h's page at the cursor's offset,
// made an RFC 9865 page.
func (ct *cursorTarget) cursorPage(t testing.TB, h http.Handler, w http.ResponseWriter, r *http.Request, maxPageSize int) {
	q := r.URL.Query()
	cursor := q.Get("cursor")
	if cursor == "" {
		ct.firstPages++
	}
	if cursor != "" && cursor == ct.expireOnce {
		ct.expireOnce = ""
		w.Header().Set("Content-Type", "application/scim+json")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"400","scimType":"expiredCursor","detail":"Cursor has expired."}`)
		return
	}
	at := 0
	if cursor != "" {
		at, _ = strconv.Atoi(strings.TrimPrefix(cursor, "k"))
	}
	count, _ := strconv.Atoi(q.Get("count"))
	if count <= 0 || count > maxPageSize {
		t.Errorf("a cursor listing asked for count %q; want 1 to maxPageSize %d", q.Get("count"), maxPageSize)
		count = maxPageSize
	}
	inner := url.Values{}
	for k, v := range q {
		inner[k] = v
	}
	inner.Del("cursor")
	inner.Set("startIndex", strconv.Itoa(at+1))
	inner.Set("count", strconv.Itoa(count))
	req := httptest.NewRequest(http.MethodGet, "/scim/v2/Users?"+inner.Encode(), nil)
	req.Header = r.Header.Clone()
	rr := httptest.NewRecorder()
	h.ServeHTTP(rr, req)
	var page map[string]any
	if err := json.Unmarshal(rr.Body.Bytes(), &page); err != nil {
		t.Errorf("the target's page: %v", err)
		return
	}
	total, _ := page["totalResults"].(float64)
	items, _ := page["Resources"].([]any)
	delete(page, "startIndex")
	if at+len(items) < int(total) {
		page["nextCursor"] = "k" + strconv.Itoa(at+len(items))
	}
	w.Header().Set("Content-Type", "application/scim+json")
	json.NewEncoder(w).Encode(page)
}

type userReads struct{ cursorPages, indexPages, queries, gets, firstPages int }

// take returns the reads counted since the last take.
func (ct *cursorTarget) take() userReads {
	ct.mu.Lock()
	defer ct.mu.Unlock()
	r := userReads{ct.cursorPages, ct.indexPages, ct.queries, ct.gets, ct.firstPages}
	ct.cursorPages, ct.indexPages, ct.queries, ct.gets, ct.firstPages = 0, 0, 0, 0, 0
	return r
}

// TestFullCycleListsCursorTargets: a target above the index listing limit
// is listed whole by cursor when it offers cursors, so that matching and
// the comparison of linked users cost no request per user; without
// cursors it is matched and read one user at a time, as before.
func TestFullCycleListsCursorTargets(t *testing.T) {
	const users, limit, maxPageSize = 12, 5, 4
	for _, cursors := range []bool{true, false} {
		t.Run(fmt.Sprintf("cursors=%v", cursors), func(t *testing.T) {
			ctx := context.Background()
			d := newDirectoryWith(t, func(o *Options) { o.IndexListingLimit = limit })
			base := newTarget(t)
			for i := range users {
				name := fmt.Sprintf("user%02d@example.com", i)
				d.create(t, store.UserType, fmt.Sprintf(`{"userName":%q,"active":true,"title":"Engineer"}`, name))
				// The target has them already: the first cycle matches them.
				postTarget(t, base, "Users", fmt.Sprintf(`{"userName":%q,"active":true,"title":"Intern"}`, name))
			}
			tg := newCursorTarget(t, base, cursors, maxPageSize)
			app := d.newApp(t, tg.target, "cursors", "ringcentral")

			c := d.cycle(t, app.Name, true)
			if c.Counts.Updated != users || c.Counts.Failed != 0 || c.Counts.Created != 0 {
				t.Fatalf("first cycle: %+v", c.Counts)
			}
			got := tg.take()
			pages := (users + maxPageSize - 1) / maxPageSize
			want := userReads{cursorPages: pages, firstPages: 1}
			if !cursors {
				// The count request finds 12 > 5: each user is matched by
				// a query.
				want = userReads{indexPages: 1, queries: users}
			}
			if got != want {
				t.Errorf("reads of users in the first full cycle: %+v, want %+v", got, want)
			}

			// Drift in the target: the next full cycle compares every
			// linked user, from the listing or by reading each.
			u := base.user(t, "user03@example.com")
			if _, err := base.store.Update(ctx, base.tenant, store.UserType, u.ID, 0, func(r *store.Resource) error {
				r.Doc["title"] = "Drifted"
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			c = d.cycle(t, app.Name, true)
			if c.Counts.Updated != 1 || c.Counts.Failed != 0 {
				t.Errorf("second cycle: %+v", c.Counts)
			}
			if got := base.user(t, "user03@example.com"); got.Doc["title"] != "Engineer" {
				t.Errorf("the drift was not repaired: %v", got.Doc["title"])
			}
			got = tg.take()
			want = userReads{cursorPages: pages, firstPages: 1}
			if !cursors {
				want = userReads{indexPages: 1, gets: users}
			}
			if got != want {
				t.Errorf("reads of users in the second full cycle: %+v, want %+v", got, want)
			}
		})
	}
}

// TestExpiredCursorRelists: a cursor that expires in the middle of the
// listing starts it again once, from the start; nothing is read one by
// one and nothing is matched twice.
func TestExpiredCursorRelists(t *testing.T) {
	const users, maxPageSize = 10, 4
	d := newDirectoryWith(t, func(o *Options) { o.IndexListingLimit = 5 })
	base := newTarget(t)
	for i := range users {
		name := fmt.Sprintf("user%02d@example.com", i)
		d.create(t, store.UserType, fmt.Sprintf(`{"userName":%q,"active":true}`, name))
		postTarget(t, base, "Users", fmt.Sprintf(`{"userName":%q,"active":true}`, name))
	}
	tg := newCursorTarget(t, base, true, maxPageSize)
	tg.expireOnce = "k8"
	app := d.newApp(t, tg.target, "expiring", "ringcentral")
	c := d.cycle(t, app.Name, true)
	if c.Counts.Failed != 0 || c.Counts.Created != 0 {
		t.Fatalf("cycle: %+v", c.Counts)
	}
	// 2 pages, the refused third, then 3 pages again.
	if got, want := tg.take(), (userReads{cursorPages: 6, firstPages: 2}); got != want {
		t.Errorf("reads of users: %+v, want %+v", got, want)
	}
}

// BenchmarkFullCycleRead runs a full cycle over a directory and a target
// that agree, FERRY_BENCH_TARGET_USERS users each (2,000 by default): the
// cycle reads the whole target and writes nothing. "cursor" lists the
// target by RFC 9865 cursors, 100 users a page; "one-by-one" is the same
// target without cursors, above the index listing limit (set to 1 here,
// 20,000 by default), whose users are each read by id.
//
//	FERRY_BENCH_TARGET_USERS=100000 go test -run '^$' -bench FullCycleRead -benchtime 1x -timeout 2h ./internal/provision/
func BenchmarkFullCycleRead(b *testing.B) {
	n := BenchTargetUsers(b, 2000)
	ctx := context.Background()
	d := newDirectoryWith(b, func(o *Options) { o.IndexListingLimit = 1 })
	base := newTarget(b)
	start := time.Now()
	for i := range n {
		doc := fmt.Sprintf(`{"userName":"user%06d@example.com","active":true,"title":"Engineer"}`, i)
		d.create(b, store.UserType, doc)
		seedTarget(b, base, doc)
	}
	tg := newCursorTarget(b, base, true, 100)
	app := d.newApp(b, tg.target, "bench", "ringcentral")
	if c := d.cycle(b, app.Name, true); c.Counts.Failed != 0 {
		b.Fatalf("initial cycle: %+v", c.Counts)
	}
	b.Logf("%d users seeded and linked in %s", n, time.Since(start).Round(time.Second))
	for _, mode := range []string{"cursor", "one-by-one"} {
		b.Run(mode, func(b *testing.B) {
			tg.mu.Lock()
			tg.indexOnly = mode == "one-by-one"
			tg.mu.Unlock()
			tg.take()
			cycles := 0
			for b.Loop() {
				c, err := d.m.RunCycle(ctx, d.tenant, app.Name, true)
				if err != nil || c.Error != "" || c.Counts.Updated != 0 || c.Counts.Failed != 0 {
					b.Fatalf("cycle: %v %+v", err, c)
				}
				cycles++
			}
			r := tg.take()
			b.ReportMetric(float64(r.cursorPages+r.indexPages+r.queries+r.gets)/float64(cycles), "reads/cycle")
			b.ReportMetric(float64(n)*float64(cycles)/b.Elapsed().Seconds(), "users/s")
		})
	}
}

// seedTarget stores a user in the target directly, as a POST would.
func seedTarget(b testing.TB, tg *target, body string) {
	b.Helper()
	doc, err := resource.Decode([]byte(body))
	if err != nil {
		b.Fatal(err)
	}
	if doc, err = resource.Normalize(doc, testCatalog.ResourceType(store.UserType)); err != nil {
		b.Fatal(err)
	}
	if err := tg.store.Create(context.Background(), &store.Resource{TenantID: tg.tenant, Type: store.UserType, Doc: doc}); err != nil {
		b.Fatal(err)
	}
}
