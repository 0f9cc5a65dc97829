package server

import (
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ferryid/ferry/internal/clocktest"
	"github.com/ferryid/ferry/internal/scim/schema"
)

// cursorServer is a test server whose cursors are signed with key and
// issued and checked by clock.
func cursorServer(t *testing.T, key string, clock *clocktest.Clock) *testServer {
	t.Helper()
	cfg := DefaultConfig()
	cfg.CursorKey = []byte(key)
	cfg.Now = clock.Now
	return newTestServerConfig(t, cfg)
}

// walkCursor reads every page of a GET list from an empty cursor on, and
// returns the values of attr in the order read. Every page but the last
// has count resources and a nextCursor; every page has totalResults.
func walkCursor(t *testing.T, ts *testServer, path string, count, total int, attr string) []string {
	t.Helper()
	var out []string
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > total+1 {
			t.Fatalf("%s: the walk does not end", path)
		}
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		r := ts.do(t, "GET", fmt.Sprintf("%s%scursor=%s&count=%d", path, sep, cursor, count), "")
		r.wantStatus(t, path, 200)
		r.expect(t, path, map[string]any{"totalResults": total, "startIndex": absent, "previousCursor": absent})
		res, _ := r.Body["Resources"].([]any)
		for _, x := range res {
			out = append(out, fmt.Sprint(x.(map[string]any)[attr]))
		}
		next, ok := r.Body["nextCursor"].(string)
		if !ok {
			return out
		}
		if len(res) != count || r.Body["itemsPerPage"] != float64(count) {
			t.Fatalf("%s: a page of %d resources (itemsPerPage %v, count %d) with a nextCursor", path, len(res), r.Body["itemsPerPage"], count)
		}
		if url.QueryEscape(next) != next {
			t.Fatalf("nextCursor %q has characters outside RFC 3986's unreserved set", next)
		}
		cursor = next
	}
}

func TestCursorWalk(t *testing.T) {
	t.Parallel()
	ts := cursorServer(t, "walk key", clocktest.New(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)))
	var names []string
	for i := range 23 {
		name := fmt.Sprintf("user%02d", (i*7)%23)
		names = append(names, name)
		ts.do(t, "POST", "/Users", `{"userName":"`+name+`","title":"`+[]string{"a", "b"}[i%2]+`"}`).wantStatus(t, "seed", 201)
	}
	slices.Sort(names)
	// By id, the default order: every user once.
	ids := walkCursor(t, ts, "/Users", 5, 23, "id")
	if !slices.IsSorted(ids) || len(slices.Compact(slices.Clone(ids))) != 23 {
		t.Errorf("walk by id: %v, want 23 distinct ids in order", ids)
	}
	// Sorted, descending, filtered.
	got := walkCursor(t, ts, "/Users?sortBy=userName&sortOrder=descending&attributes=userName", 4, 23, "userName")
	if want := slices.Clone(names); !slices.Equal(got, reversedStrings(want)) {
		t.Errorf("walk by userName descending:\n got %v\nwant %v", got, reversedStrings(want))
	}
	got = walkCursor(t, ts, "/Users?filter="+url.QueryEscape(`title eq "b"`)+"&sortBy=userName", 3, 11, "userName")
	if len(got) != 11 || !slices.IsSorted(got) {
		t.Errorf("filtered walk: %v, want 11 userNames in order", got)
	}
	// A count that covers everything: one page, no nextCursor.
	ts.do(t, "GET", "/Users?cursor=&count=100", "").expect(t, "one page", map[string]any{"totalResults": 23, "itemsPerPage": 23, "nextCursor": absent})
	// count=0: the total alone.
	ts.do(t, "GET", "/Users?cursor&count=0", "").expect(t, "count 0", map[string]any{"totalResults": 23, "itemsPerPage": 0, "nextCursor": absent})
	// Groups, and POST .search with the cursor in the body.
	for i := range 3 {
		ts.do(t, "POST", "/Groups", fmt.Sprintf(`{"displayName":"g%d"}`, i)).wantStatus(t, "group", 201)
	}
	if got := walkCursor(t, ts, "/Groups?sortBy=displayName&excludedAttributes=members", 2, 3, "displayName"); !slices.Equal(got, []string{"g0", "g1", "g2"}) {
		t.Errorf("groups: %v", got)
	}
	var searched []string
	body := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"sortBy":"userName","cursor":%q,"count":10}`
	cursor := ""
	for {
		r := ts.do(t, "POST", "/Users/.search", fmt.Sprintf(body, cursor))
		r.wantStatus(t, "search", 200)
		for _, x := range r.Body["Resources"].([]any) {
			searched = append(searched, x.(map[string]any)["userName"].(string))
		}
		next, ok := r.Body["nextCursor"].(string)
		if !ok {
			break
		}
		cursor = next
	}
	if !slices.Equal(searched, names) {
		t.Errorf("POST .search walk:\n got %v\nwant %v", searched, names)
	}
	// Without cursor or startIndex, paging is by index, as before.
	ts.do(t, "GET", "/Users?count=2", "").expect(t, "index default", map[string]any{"startIndex": 1, "nextCursor": absent})
}

func reversedStrings(s []string) []string {
	out := slices.Clone(s)
	slices.Reverse(out)
	return out
}

func TestCursorErrors(t *testing.T) {
	t.Parallel()
	clock := clocktest.New(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	ts := cursorServer(t, "error key", clock)
	other := ts.newToken(t, "other")
	for i := range 5 {
		ts.do(t, "POST", "/Users", fmt.Sprintf(`{"userName":"u%d","title":"t"}`, i)).wantStatus(t, "seed", 201)
		ts.doWith(t, other, "POST", "/Users", fmt.Sprintf(`{"userName":"u%d","title":"t"}`, i)).wantStatus(t, "seed other", 201)
	}
	const query = "/Users?filter=title%20eq%20%22t%22&sortBy=userName&count=2&cursor="
	first := ts.do(t, "GET", query, "")
	first.wantStatus(t, "first page", 200)
	next := first.Body["nextCursor"].(string)
	second := ts.do(t, "GET", query+next, "")
	second.expect(t, "second page", map[string]any{"Resources.0.userName": "u2"})

	// Every byte of the cursor is covered by its signature.
	for i := range next {
		c := []byte(next)
		c[i] = "AB"[btoi(c[i] == 'A')]
		ts.do(t, "GET", query+string(c), "").wantError(t, fmt.Sprintf("cursor altered at %d", i), 400, "invalidCursor")
	}
	for _, bad := range []string{"x", "not-a-cursor", next[:len(next)-2], next + "AA", strings.Repeat("A", 80)} {
		ts.do(t, "GET", query+bad, "").wantError(t, "made-up cursor "+bad, 400, "invalidCursor")
	}
	// Another tenant's token, with the same query: refused, and with the
	// same words as a forged cursor (RFC 9865 §5.2).
	forged := ts.do(t, "GET", query+"x", "")
	foreign := ts.doWith(t, other, "GET", query+next, "")
	foreign.wantError(t, "other tenant", 400, "invalidCursor")
	if foreign.Body["detail"] != forged.Body["detail"] {
		t.Errorf("another tenant's cursor: detail %q, a forged one's %q; want the same", foreign.Body["detail"], forged.Body["detail"])
	}
	// Another query: filter, sort, order, resource type.
	for _, q := range []string{
		"/Users?filter=title%20eq%20%22u%22&sortBy=userName&count=2&cursor=",
		"/Users?filter=title%20eq%20%22t%22&sortBy=title&count=2&cursor=",
		"/Users?filter=title%20eq%20%22t%22&sortBy=userName&sortOrder=descending&count=2&cursor=",
		"/Users?sortBy=userName&count=2&cursor=",
		"/Groups?filter=displayName%20eq%20%22t%22&sortBy=userName&count=2&cursor=",
	} {
		ts.do(t, "GET", q+next, "").wantError(t, "other query "+q, 400, "invalidCursor")
	}
	// What a page shows and how long it is are not the query.
	ts.do(t, "GET", "/Users?filter=title%20eq%20%22t%22&sortBy=userName&count=3&attributes=userName&cursor="+next, "").
		expect(t, "other count and attributes", map[string]any{"Resources.0.userName": "u2", "itemsPerPage": 3, "nextCursor": absent})
	// The same query by POST .search takes the cursor.
	ts.do(t, "POST", "/Users/.search", `{"filter":"title eq \"t\"","sortBy":"userName","count":2,"cursor":"`+next+`"}`).
		expect(t, "search with a GET's cursor", map[string]any{"Resources.0.userName": "u2"})

	// Expiry: good up to the timeout after it was issued, then expired.
	clock.Advance(DefaultCursorTimeout)
	ts.do(t, "GET", query+next, "").wantStatus(t, "at the timeout", 200)
	clock.Advance(time.Second)
	ts.do(t, "GET", query+next, "").wantError(t, "past the timeout", 400, "expiredCursor")
	// A page read now issues a fresh cursor.
	fresh := ts.do(t, "GET", query, "").Body["nextCursor"].(string)
	ts.do(t, "GET", query+fresh, "").wantStatus(t, "fresh cursor", 200)

	// Mixing the two methods, and cursors across resource types.
	ts.do(t, "GET", query+"&startIndex=3", "").wantError(t, "cursor and startIndex", 400, "invalidValue")
	ts.do(t, "POST", "/Users/.search", `{"startIndex":1,"cursor":""}`).wantError(t, "search with both", 400, "invalidValue")
	ts.do(t, "POST", "/.search", `{"cursor":""}`).wantError(t, "root search", 400, "invalidValue")
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestCursorAcrossReplicas checks that a cursor one server issued is good
// on another that has the same key (replicas of ferry serve, or the same
// one restarted), and not on one with another key.
func TestCursorAcrossReplicas(t *testing.T) {
	t.Parallel()
	clock := clocktest.New(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	a := cursorServer(t, "shared key", clock)
	for i := range 4 {
		a.do(t, "POST", "/Users", fmt.Sprintf(`{"userName":"u%d"}`, i)).wantStatus(t, "seed", 201)
	}
	next := a.do(t, "GET", "/Users?sortBy=userName&count=2&cursor", "").Body["nextCursor"].(string)
	replica := func(key string) *testServer {
		cfg := DefaultConfig()
		cfg.CursorKey, cfg.Now = []byte(key), clock.Now
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		srv := httptest.NewServer(New(cfg, a.Store, schema.Builtin(), log).Handler())
		t.Cleanup(srv.Close)
		return &testServer{URL: srv.URL + "/scim/v2", Store: a.Store, Token: a.Token, http: srv}
	}
	replica("shared key").do(t, "GET", "/Users?sortBy=userName&count=2&cursor="+next, "").
		expect(t, "same key", map[string]any{"Resources.0.userName": "u2", "Resources.1.userName": "u3", "nextCursor": absent})
	replica("another key").do(t, "GET", "/Users?sortBy=userName&count=2&cursor="+next, "").wantError(t, "another key", 400, "invalidCursor")
}

func TestCursorServiceProviderConfig(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig()
	cfg.MaxResults, cfg.DefaultCount, cfg.CursorTimeout = 250, 50, 90*time.Second
	ts := newTestServerConfig(t, cfg)
	ts.do(t, "GET", "/ServiceProviderConfig", "").expect(t, "pagination", map[string]any{
		"pagination.cursor": true, "pagination.index": true, "pagination.defaultPaginationMethod": "index",
		"pagination.defaultPageSize": 50, "pagination.maxPageSize": 250, "pagination.cursorTimeout": 90,
	})
	for i := range 3 {
		ts.do(t, "POST", "/Users", fmt.Sprintf(`{"userName":"u%d"}`, i)).wantStatus(t, "seed", 201)
	}
	// maxPageSize holds for cursor pages too.
	for i := 3; i < 260; i++ {
		ts.do(t, "POST", "/Users", fmt.Sprintf(`{"userName":"u%d"}`, i)).wantStatus(t, "seed", 201)
	}
	r := ts.do(t, "GET", "/Users?cursor&count=1000&attributes=id", "")
	r.expect(t, "count above maxPageSize", map[string]any{"itemsPerPage": 250, "totalResults": 260})
	if _, ok := r.Body["nextCursor"].(string); !ok {
		t.Errorf("a page cut at maxPageSize has no nextCursor")
	}
	ts.do(t, "GET", "/Users?cursor&attributes=id", "").expect(t, "default page size", map[string]any{"itemsPerPage": 50})
}
