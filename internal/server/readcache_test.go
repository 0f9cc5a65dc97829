package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ferryid/ferry/internal/ferrytest"
	"github.com/ferryid/ferry/internal/pgtest"
	"github.com/ferryid/ferry/internal/scim"
	"github.com/ferryid/ferry/internal/scim/resource"
	"github.com/ferryid/ferry/internal/scim/schema"
	"github.com/ferryid/ferry/internal/store"
	"github.com/ferryid/ferry/internal/store/postgres"
	"github.com/ferryid/ferry/internal/store/sqlite"
)

// referenceRender is how the server rendered a resource before the read
// cache: the whole document decoded, projected and encoded in response
// order. The cached path must give the same bytes.
func referenceRender(t *testing.T, base string, res *store.Resource, rt *schema.ResourceType, include, exclude resource.Projection) []byte {
	t.Helper()
	d := resource.Project(fullDocument(res, rt, base), rt, include, exclude)
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, k := range orderedKeys(d) {
		if i > 0 {
			buf.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		vb, err := json.Marshal(d[k])
		if err != nil {
			t.Fatal(err)
		}
		buf.Write(kb)
		buf.WriteByte(':')
		buf.Write(vb)
	}
	buf.WriteByte('}')
	return buf.Bytes()
}

// TestCachedProjection holds the cached path (stored bytes, fields encoded
// once, projected per request) to the reference rendering of the decoded
// document, for every projection a client can ask, on a cold and a warm
// cache, for users (with groups) and groups (with members).
func TestCachedProjection(t *testing.T) {
	t.Parallel()
	catalog := schema.Builtin()
	users, groups := catalog.ResourceType(store.UserType), catalog.ResourceType(store.GroupType)
	userDoc := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","` + scim.EnterpriseUserURN + `"],
		"userName":"bjensen@example.com","externalId":"ext-<1>&","displayName":"Babs \"B\" Jensen","active":true,
		"title":"Tour Guide","nickName":"","x-unknown":{"kept":1.50},
		"name":{"givenName":"Barbara","familyName":"Jensen","formatted":"Ms. Barbara J Jensen, III"},
		"emails":[{"type":"work","value":"bjensen@example.com","primary":true},{"type":"home","value":"babs@jensen.org"}],
		"phoneNumbers":[{"type":"work","value":"555-555-8377"}],
		"addresses":[{"type":"work","streetAddress":"100 Universal City Plaza","locality":"Hollywood","postalCode":"91608"}],
		"` + scim.EnterpriseUserURN + `":{"employeeNumber":"701984","costCenter":"4130","manager":{"value":"26118915","displayName":"John Smith"}}}`
	groupDoc := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Tour Guides","externalId":"g-1"}`
	decode := func(s string) (resource.Document, []byte) {
		d, err := resource.Decode([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(d)
		return d, b
	}
	created := time.Date(2026, 1, 2, 3, 4, 5, 6e6, time.UTC)
	ud, ub := decode(userDoc)
	gd, gb := decode(groupDoc)
	// An empty value is dropped by projection: such a document is never
	// written as it is stored.
	ed, eb := decode(userDoc[:len(userDoc)-1] + `,"ims":[],"x509Certificates":[{}]}`)
	resources := []struct {
		name string
		rt   *schema.ResourceType
		res  store.Resource
	}{
		{"user", users, store.Resource{TenantID: "t", Type: store.UserType, ID: "u-1", Doc: ud, DocJSON: ub, Version: 3, Created: created, LastModified: created.Add(time.Hour),
			Groups: []store.Member{{ID: "g-1", Type: store.GroupType, Display: "Tour Guides"}, {ID: "g-2", Type: store.GroupType}}}},
		{"user without groups", users, store.Resource{TenantID: "t", Type: store.UserType, ID: "u-2", Doc: ud, DocJSON: ub, Version: 1, Created: created, LastModified: created}},
		{"user with empty values", users, store.Resource{TenantID: "t", Type: store.UserType, ID: "u-3", Doc: ed, DocJSON: eb, Version: 2, Created: created, LastModified: created,
			Groups: []store.Member{{ID: "g-1", Type: store.GroupType, Display: "Tour Guides"}}}},
		{"group", groups, store.Resource{TenantID: "t", Type: store.GroupType, ID: "g-1", Doc: gd, DocJSON: gb, Version: 7, Created: created, LastModified: created,
			Members: []store.Member{{ID: "u-1", Type: store.UserType, Display: "Babs"}, {ID: "g-9", Type: store.GroupType, Display: "Nested"}}}},
		{"group without members", groups, store.Resource{TenantID: "t", Type: store.GroupType, ID: "g-2", Doc: gd, DocJSON: gb, Version: 1, Created: created, LastModified: created, Members: []store.Member{}}},
	}
	lists := []struct{ attributes, excluded string }{
		{"", ""},
		{"userName", ""},
		{"userName,emails.value", ""},
		{"emails.type,name.givenName", ""},
		{"meta.version,meta.location", ""},
		{"groups", ""},
		{"groups.display", ""},
		{"members.value", ""},
		{"displayName,members", ""},
		{scim.EnterpriseUserURN, ""},
		{scim.EnterpriseUserURN + ":manager.value", ""},
		{scim.EnterpriseUserURN + ":employeeNumber,userName", ""},
		{"urn:ietf:params:scim:schemas:core:2.0:User:name.familyName", ""},
		{"id", ""},
		{"nosuchattribute", ""},
		{"", "emails"},
		{"", "emails.primary,name.formatted"},
		{"", "meta"},
		{"", "meta.location"},
		{"", "groups"},
		{"", "members"},
		{"", "members.display"},
		{"", scim.EnterpriseUserURN},
		{"", scim.EnterpriseUserURN + ":manager"},
		{"", scim.EnterpriseUserURN + ":employeeNumber,costCenter,manager"},
		{"", "id,schemas"},
		{"", "nosuchattribute"},
		{"userName", "userName"},
	}
	srv := New(DefaultConfig(), nil, catalog, nil)
	for _, rc := range resources {
		for _, p := range lists {
			include, exclude := projections(rc.rt, p.attributes, p.excluded)
			r := httptest.NewRequest("GET", "http://ferry.example:8080/scim/v2/Users", nil)
			want := referenceRender(t, "http://ferry.example:8080/scim/v2", &rc.res, rc.rt, include, exclude)
			for _, pass := range []string{"cold", "warm"} {
				var got bytes.Buffer
				res := rc.res
				res.Doc = nil // as an encoded read returns it
				if err := srv.renderTo(&got, baseURL(r), &res, rc.rt, include, exclude, readAt{}); err != nil {
					t.Fatalf("%s attributes=%q excludedAttributes=%q (%s): %v", rc.name, p.attributes, p.excluded, pass, err)
				}
				if !bytes.Equal(got.Bytes(), want) {
					t.Errorf("%s attributes=%q excludedAttributes=%q (%s cache):\n got %s\nwant %s", rc.name, p.attributes, p.excluded, pass, got.Bytes(), want)
				}
			}
		}
	}
}

// replicaPair is two servers, each with its own read cache, over one
// database: on PostgreSQL two stores (two replicas as ferry serve runs
// them), on SQLite one store. Requests go straight to the handlers.
type replicaPair struct {
	a, b    http.Handler
	server  *Server // a's
	token   string
	catalog *schema.Catalog
	store   store.Store // a's
}

func newReplicaPair(t *testing.T, backend string) replicaPair {
	t.Helper()
	ctx := context.Background()
	catalog := schema.Builtin()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	var sa, sb store.Store
	switch backend {
	case "sqlite":
		// As ferry serve opens it: the owner, whose commits the servers'
		// caches are told of.
		st, err := sqlite.Open(ctx, t.TempDir()+"/ferry.db", catalog, sqlite.Options{Owner: true})
		if err != nil {
			t.Fatal(err)
		}
		sa, sb = st, st
		t.Cleanup(func() { st.Close() })
	case "postgres":
		server := pg
		if server == nil {
			if testing.Short() {
				t.Skip("starts a PostgreSQL server")
			}
			var err error
			if server, err = pgtest.Start(ctx); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { server.Stop() })
		}
		dsn, err := server.CreateDatabase(ctx, "readcache")
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range []*store.Store{&sa, &sb} {
			st, err := postgres.Open(ctx, dsn, catalog, postgres.Options{MaxConns: 8})
			if err != nil {
				t.Fatal(err)
			}
			*s = st
			t.Cleanup(func() { st.Close() })
		}
	}
	server := New(DefaultConfig(), sa, catalog, log)
	p := replicaPair{
		a:       server.Handler(),
		server:  server,
		b:       New(DefaultConfig(), sb, catalog, log).Handler(),
		catalog: catalog,
		store:   sa,
	}
	p.token = ferrytest.Token(t, sa, "default", "test", "")
	return p
}

// uncached returns a server on a's store that keeps no read cache: what
// the database holds, for comparison with a's answers.
func (p replicaPair) uncached() http.Handler {
	cfg := DefaultConfig()
	cfg.ReadCacheBytes = 0
	return New(cfg, p.store, p.catalog, slog.New(slog.DiscardHandler)).Handler()
}

// call sends one request to h and returns the status and the decoded body.
func (p replicaPair) call(h http.Handler, method, path, body string) (int, map[string]any, string) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r := httptest.NewRequest(method, "http://ferry.test/scim/v2"+path, rd)
	r.Header.Set("Authorization", "Bearer "+p.token)
	r.Header.Set("Content-Type", "application/scim+json")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	var doc map[string]any
	json.Unmarshal(w.Body.Bytes(), &doc)
	return w.Code, doc, w.Body.String()
}

// create POSTs body to path through server a and returns the new id.
func (p replicaPair) create(t *testing.T, path, body string) string {
	t.Helper()
	status, doc, raw := p.call(p.a, "POST", path, body)
	if status != http.StatusCreated {
		t.Fatalf("POST %s: %d %s", path, status, raw)
	}
	return doc["id"].(string)
}

// patch sends one PATCH operation (op, a JSON object) to path through
// server a.
func (p replicaPair) patch(t *testing.T, path, op string) {
	t.Helper()
	status, _, raw := p.call(p.a, "PATCH", path, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[`+op+`]}`)
	if status != http.StatusOK && status != http.StatusNoContent {
		t.Fatalf("PATCH %s: %d %s", path, status, raw)
	}
}

// versionOf reads meta.version ("W/\"7\"") of a rendered resource.
func versionOf(t *testing.T, doc map[string]any) int64 {
	t.Helper()
	meta, _ := doc["meta"].(map[string]any)
	v, _ := meta["version"].(string)
	n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(v, `W/"`), `"`), 10, 64)
	if err != nil {
		t.Fatalf("meta.version %q: %v", v, err)
	}
	return n
}

// TestReadCacheNeverServesAnAcknowledgedVersionLate writes users through
// both servers while readers on both read them by id, by userName filter
// and by page: no read may return a version older than one whose write
// was acknowledged before the read was sent, and the bytes of every
// version read must be the ones its write answered with.
func TestReadCacheNeverServesAnAcknowledgedVersionLate(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			p := newReplicaPair(t, backend)
			const users, writers, writes, readers = 8, 4, 40, 4
			ids := make([]string, users)
			acked := make([]atomic.Int64, users)
			var titles sync.Map // "id/version" → title its write answered with
			for i := range ids {
				status, doc, raw := p.call(p.a, "POST", "/Users", fmt.Sprintf(`{"userName":"u%d@example.com","title":"t0"}`, i))
				if status != http.StatusCreated {
					t.Fatalf("create: %d %s", status, raw)
				}
				ids[i] = doc["id"].(string)
				acked[i].Store(1)
				titles.Store(ids[i]+"/1", "t0")
			}
			handlers := []http.Handler{p.a, p.b}
			var failures atomic.Int64
			fail := func(format string, args ...any) {
				if failures.Add(1) <= 5 {
					t.Errorf(format, args...)
				}
			}
			var writing sync.WaitGroup
			done := make(chan struct{})
			for w := range writers {
				writing.Go(func() {
					for k := range writes {
						i := (w + k) % users
						title := fmt.Sprintf("t%d-%d", w, k)
						status, doc, raw := p.call(handlers[k%2], "PATCH", "/Users/"+ids[i],
							`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"title","value":"`+title+`"}]}`)
						if status != http.StatusOK {
							fail("patch: %d %s", status, raw)
							return
						}
						v := versionOf(t, doc)
						titles.Store(fmt.Sprintf("%s/%d", ids[i], v), title)
						for cur := acked[i].Load(); v > cur && !acked[i].CompareAndSwap(cur, v); cur = acked[i].Load() {
						}
					}
				})
			}
			check := func(doc map[string]any, i int, floor int64, how string) {
				v := versionOf(t, doc)
				if v < floor {
					fail("%s of user %d returned version %d after version %d was acknowledged", how, i, v, floor)
				}
				want, ok := titles.Load(fmt.Sprintf("%s/%d", ids[i], v))
				if ok && doc["title"] != want {
					fail("%s of user %d at version %d: title %v, but that version's write answered %v", how, i, v, doc["title"], want)
				}
			}
			var reading sync.WaitGroup
			for rd := range readers {
				reading.Go(func() {
					for n := 0; ; n++ {
						select {
						case <-done:
							return
						default:
						}
						i := (rd + n) % users
						h := handlers[(rd+n)%2]
						floor := acked[i].Load()
						switch n % 3 {
						case 0:
							status, doc, raw := p.call(h, "GET", "/Users/"+ids[i], "")
							if status != http.StatusOK {
								fail("get: %d %s", status, raw)
								return
							}
							check(doc, i, floor, "GET by id")
						case 1:
							status, doc, raw := p.call(h, "GET", "/Users?filter="+url.QueryEscape(fmt.Sprintf(`userName eq "u%d@example.com"`, i)), "")
							list, _ := doc["Resources"].([]any)
							if status != http.StatusOK || len(list) != 1 {
								fail("filter: %d %s", status, raw)
								return
							}
							check(list[0].(map[string]any), i, floor, "userName filter")
						case 2:
							floors := make([]int64, users)
							for j := range floors {
								floors[j] = acked[j].Load()
							}
							status, doc, raw := p.call(h, "GET", "/Users?count=100", "")
							list, _ := doc["Resources"].([]any)
							if status != http.StatusOK || len(list) != users {
								fail("list: %d %s", status, raw)
								return
							}
							for _, e := range list {
								d := e.(map[string]any)
								j := slices.Index(ids, d["id"].(string))
								check(d, j, floors[j], "list")
							}
						}
					}
				})
			}
			writing.Wait()
			close(done)
			reading.Wait()
			// After the writes, both servers answer the last version.
			for i, id := range ids {
				for _, h := range handlers {
					_, doc, _ := p.call(h, "GET", "/Users/"+id, "")
					if v := versionOf(t, doc); v != acked[i].Load() {
						t.Errorf("user %d: version %d after all writes, want %d", i, v, acked[i].Load())
					}
				}
			}
		})
	}
}

// TestReadCacheGroupMembers checks what a resource's version does not
// record: a group's members' displays and a user's groups follow writes to
// other resources, through the other server too.
func TestReadCacheGroupMembers(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			p := newReplicaPair(t, backend)
			u := p.create(t, "/Users", `{"userName":"ann@example.com","displayName":"Ann"}`)
			g := p.create(t, "/Groups", `{"displayName":"Pilots","members":[{"value":"`+u+`"}]}`)
			h := p.create(t, "/Groups", `{"displayName":"Crew"}`)
			read := func(path, jsonPath string) any {
				t.Helper()
				status, doc, raw := p.call(p.b, "GET", path, "")
				if status != http.StatusOK {
					t.Fatalf("GET %s: %d %s", path, status, raw)
				}
				v, _ := get(doc, jsonPath)
				return v
			}
			want := func(what string, got, want any) {
				t.Helper()
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("%s: %v, want %v", what, got, want)
				}
			}
			// Warm server b's cache, then change what its entries cannot know.
			want("member display", read("/Groups/"+g, "members.0.display"), "Ann")
			want("listed member display", read("/Groups?filter="+url.QueryEscape(`displayName eq "Pilots"`), "Resources.0.members.0.display"), "Ann")
			want("user's group", read("/Users/"+u, "groups.0.display"), "Pilots")
			groupVersion := read("/Groups/"+g, "meta.version")

			p.patch(t, "/Users/"+u, `{"op":"replace","path":"displayName","value":"Ann B"}`)
			want("member display after the member's rename", read("/Groups/"+g, "members.0.display"), "Ann B")
			want("listed member display after the rename", read("/Groups?filter="+url.QueryEscape(`displayName eq "Pilots"`), "Resources.0.members.0.display"), "Ann B")
			want("group version (a member's rename is no write of the group)", read("/Groups/"+g, "meta.version"), groupVersion)

			p.patch(t, "/Groups/"+g, `{"op":"replace","path":"displayName","value":"Pilots 2"}`)
			want("user's group after the group's rename", read("/Users/"+u, "groups.0.display"), "Pilots 2")

			p.patch(t, "/Groups/"+h, `{"op":"add","path":"members","value":[{"value":"`+u+`"}]}`)
			status, doc, _ := p.call(p.b, "GET", "/Users/"+u, "")
			groups, _ := doc["groups"].([]any)
			if status != http.StatusOK || len(groups) != 2 {
				t.Errorf("user's groups after joining a second: %v", doc["groups"])
			}
			p.patch(t, "/Groups/"+g, `{"op":"remove","path":"members[value eq \"`+u+`\"]"}`)
			want("user's groups after leaving", read("/Users/"+u, "groups.0.display"), "Crew")
			want("members after the last left (named, so shown empty)", read("/Groups/"+g+"?attributes=members", "members"), "[]")

			status, _, raw := p.call(p.a, "DELETE", "/Users/"+u, "")
			if status != http.StatusNoContent {
				t.Fatalf("delete: %d %s", status, raw)
			}
			if status, _, _ := p.call(p.b, "GET", "/Users/"+u, ""); status != http.StatusNotFound {
				t.Errorf("GET of a deleted user through the other server: %d, want 404", status)
			}
			want("members after the member's deletion", read("/Groups/"+h, "members"), nil)
		})
	}
}

// TestReadCacheBudget checks that the cache stays within its budget,
// evicting the least recently used entries, and that a read of another
// row of a cached resource misses.
func TestReadCacheBudget(t *testing.T) {
	t.Parallel()
	c := newReadCache(10_000)
	entry := func(id string, version int64) *rendered {
		return &rendered{key: cacheKey{"t", store.UserType, id}, version: version, doc: []byte(`{}`), size: 1000}
	}
	row := func(id string, version int64) *store.Resource {
		return &store.Resource{TenantID: "t", Type: store.UserType, ID: id, Version: version, DocJSON: []byte(`{}`)}
	}
	for i := range 10 {
		c.put(entry(fmt.Sprint(i), 1), readAt{})
	}
	if c.get(row("0", 1), nil) == nil {
		t.Fatal("a cached entry missed")
	}
	c.put(entry("10", 1), readAt{}) // evicts "1", the least recently used since "0" was read
	if c.size > c.budget || len(c.entries) != 10 {
		t.Errorf("%d bytes in %d entries, budget %d", c.size, len(c.entries), c.budget)
	}
	if c.get(row("1", 1), nil) != nil || c.get(row("0", 1), nil) == nil || c.get(row("10", 1), nil) == nil {
		t.Error("the eviction did not take the least recently used entry")
	}
	if c.get(row("0", 2), nil) != nil {
		t.Error("an entry of version 1 answered a read of version 2")
	}
	changed := row("0", 1)
	changed.DocJSON = []byte(`{"a":1}`)
	if c.get(changed, nil) != nil {
		t.Error("an entry answered a row with other document bytes")
	}
	c.put(entry("0", 2), readAt{}) // a write replaces the entry
	if c.get(row("0", 2), nil) == nil || len(c.entries) != 10 || c.size != 10_000 {
		t.Errorf("after replacing: %d entries, %d bytes", len(c.entries), c.size)
	}
	c.remove("t", store.UserType, "0")
	if c.get(row("0", 2), nil) != nil || c.size != 9000 {
		t.Errorf("after remove: %d bytes", c.size)
	}
	big := entry("big", 1)
	big.size = 5000
	if c.put(big, readAt{}); c.get(row("big", 1), nil) != nil {
		t.Error("an entry of more than an eighth of the budget was kept")
	}
	off := newReadCache(0)
	off.put(entry("x", 1), readAt{})
	if off.get(row("x", 1), nil) != nil {
		t.Error("a cache of no budget kept an entry")
	}
}

// TestAppendMemberList checks the hand-written encoding of members and
// groups against encoding/json's of memberList, which it replaces.
func TestAppendMemberList(t *testing.T) {
	t.Parallel()
	ms := []store.Member{
		{ID: "a1", Type: store.UserType, Display: "Ada Lovelace"},
		{ID: "g2", Type: store.GroupType},
		{ID: "a3", Type: store.UserType, Display: `Tom "Tommy" <O'Brien> & Søn\` + "\u2028\t"},
	}
	for _, direct := range []bool{false, true} {
		for _, list := range [][]store.Member{nil, ms[:1], ms} {
			want := memberList(list, "https://ferry.example/scim/v2")
			if direct {
				for _, g := range want {
					g.(map[string]any)["type"] = "direct"
				}
			}
			wantJSON, _ := json.Marshal(want)
			got := appendMemberList(nil, list, "https://ferry.example/scim/v2", direct)
			if !bytes.Equal(got, wantJSON) {
				t.Errorf("direct=%v:\n got %s\nwant %s", direct, got, wantJSON)
			}
		}
	}
}

// TestReadCacheNameLookups reads users by userName and groups by
// displayName (the filters an owned cache answers from memory, see
// answerByName) around renames, a name taken over by another resource, a
// deletion and changes of case: each answer must be the directory's.
func TestReadCacheNameLookups(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			p := newReplicaPair(t, backend)
			// find returns the ids a filter lists, read twice through each
			// server (the second read of each may come from the cache).
			find := func(path, f string) []string {
				t.Helper()
				var first []string
				for i, h := range []http.Handler{p.a, p.a, p.b, p.b} {
					status, doc, raw := p.call(h, "GET", path+"?filter="+url.QueryEscape(f), "")
					if status != http.StatusOK {
						t.Fatalf("GET %s %s: %d %s", path, f, status, raw)
					}
					var ids []string
					list, _ := doc["Resources"].([]any)
					for _, r := range list {
						ids = append(ids, r.(map[string]any)["id"].(string))
					}
					if total, _ := doc["totalResults"].(float64); int(total) != len(ids) {
						t.Errorf("%s: totalResults %v for %d resources", f, doc["totalResults"], len(ids))
					}
					if i == 0 {
						first = ids
					} else if !slices.Equal(ids, first) {
						t.Errorf("%s: read %d found %v, read 1 found %v", f, i+1, ids, first)
					}
				}
				return first
			}
			want := func(what string, got []string, ids ...string) {
				t.Helper()
				if !slices.Equal(got, ids) {
					t.Errorf("%s: found %v, want %v", what, got, ids)
				}
			}
			ada := p.create(t, "/Users", `{"userName":"Ada@example.com"}`)
			want("by userName", find("/Users", `userName eq "ada@EXAMPLE.com"`), ada)
			want("by userName with the schema's URN", find("/Users", `urn:ietf:params:scim:schemas:core:2.0:User:userName eq "Ada@example.com"`), ada)
			p.patch(t, "/Users/"+ada, `{"op":"replace","path":"userName","value":"ada.lovelace@example.com"}`)
			want("the old name after a rename", find("/Users", `userName eq "ada@example.com"`))
			want("the new name after a rename", find("/Users", `userName eq "ADA.LOVELACE@example.com"`), ada)
			other := p.create(t, "/Users", `{"userName":"ada@example.com"}`)
			want("the old name, taken by another user", find("/Users", `userName eq "ada@example.com"`), other)
			if status, _, raw := p.call(p.b, "DELETE", "/Users/"+other, ""); status != http.StatusNoContent {
				t.Fatalf("delete: %d %s", status, raw)
			}
			want("a deleted user's name", find("/Users", `userName eq "ada@example.com"`))
			want("a prefix of a name is no match", find("/Users", `userName eq "ada.lovelace"`))

			crew := p.create(t, "/Groups", `{"displayName":"Crew"}`)
			want("by group displayName", find("/Groups", `displayName eq "crew"`), crew)
			p.patch(t, "/Groups/"+crew, `{"op":"replace","path":"displayName","value":"Flight Crew"}`)
			want("a group's old name", find("/Groups", `displayName eq "crew"`))
			want("a group's new name", find("/Groups", `displayName eq "flight crew"`), crew)
			// The group's members show up in a cached group found by name.
			p.patch(t, "/Groups/"+crew, `{"op":"add","path":"members","value":[{"value":"`+ada+`"}]}`)
			status, doc, raw := p.call(p.b, "GET", "/Groups?filter="+url.QueryEscape(`displayName eq "Flight Crew"`), "")
			list, _ := doc["Resources"].([]any)
			if status != http.StatusOK || len(list) != 1 {
				t.Fatalf("group by name: %d %s", status, raw)
			}
			if members, _ := list[0].(map[string]any)["members"].([]any); len(members) != 1 {
				t.Errorf("group by name after adding a member: members %v", list[0].(map[string]any)["members"])
			}
		})
	}
}

// TestReadCacheBodyPerHost reads one user, whose whole response an owned
// cache keeps (rendered.body), through two host names: each response
// locates the user under its own host, and a group renamed between reads
// shows its new name in the user's groups.
func TestReadCacheBodyPerHost(t *testing.T) {
	t.Parallel()
	p := newReplicaPair(t, "sqlite")
	ada := p.create(t, "/Users", `{"userName":"ada@example.com"}`)
	crew := p.create(t, "/Groups", `{"displayName":"Crew","members":[{"value":"`+ada+`"}]}`)
	get := func(host string) map[string]any {
		t.Helper()
		r := httptest.NewRequest("GET", "http://"+host+"/scim/v2/Users/"+ada, nil)
		r.Header.Set("Authorization", "Bearer "+p.token)
		w := httptest.NewRecorder()
		p.a.ServeHTTP(w, r)
		var doc map[string]any
		if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &doc) != nil {
			t.Fatalf("GET through %s: %d %s", host, w.Code, w.Body)
		}
		return doc
	}
	location := func(doc map[string]any) string { return doc["meta"].(map[string]any)["location"].(string) }
	groupName := func(doc map[string]any) string {
		groups, _ := doc["groups"].([]any)
		if len(groups) != 1 {
			t.Fatalf("groups %v, want one", doc["groups"])
		}
		return groups[0].(map[string]any)["display"].(string)
	}
	for range 2 { // the second round may come from kept bodies
		for _, host := range []string{"a.example", "b.example:8443"} {
			if got, want := location(get(host)), "http://"+host+"/scim/v2/Users/"+ada; got != want {
				t.Errorf("location through %s: %s, want %s", host, got, want)
			}
		}
	}
	p.patch(t, "/Groups/"+crew, `{"op":"replace","path":"displayName","value":"Flight Crew"}`)
	if got := groupName(get("a.example")); got != "Flight Crew" {
		t.Errorf("the user's group after its rename: %q, want Flight Crew", got)
	}
}

// TestReadCacheBodyCounted checks that a kept response body counts in
// the cache's budget, once however often it is replaced.
func TestReadCacheBodyCounted(t *testing.T) {
	t.Parallel()
	c := newReadCache(1 << 20)
	c.own()
	doc := []byte(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ada"}`)
	res := &store.Resource{TenantID: "t", Type: store.UserType, ID: "u1", Version: 1, DocJSON: doc}
	rt := schema.Builtin().ResourceType(store.UserType)
	e, err := renderResource(res, rt)
	if err != nil {
		t.Fatal(err)
	}
	e.hasEdges = true
	c.put(e, c.begin(true))
	before := c.size
	var lengths []int
	for _, base := range []string{"http://a/scim/v2", "http://a/scim/v2", "http://bb/scim/v2"} {
		body, err := c.currentBody(base, e, resource.Projection{}, resource.Projection{})
		if err != nil {
			t.Fatal(err)
		}
		lengths = append(lengths, len(body))
		if !bytes.Contains(body, []byte(base+"/Users/u1")) {
			t.Errorf("body under %s: %s", base, body)
		}
	}
	if got, want := c.size-before, lengths[2]; got != want {
		t.Errorf("the cache grew by %d bytes for its kept body, want %d", got, want)
	}
}

var cursorValue = regexp.MustCompile(`"nextCursor":"[^"]*"`)

// TestReadCachePages lists users, by index and by cursor, through an
// owned cache (readPage: ids read alone, resources from the cache) as it
// fills, around writes and with projections, and compares every page with
// the same list through a server that keeps no cache.
func TestReadCachePages(t *testing.T) {
	t.Parallel()
	p := newReplicaPair(t, "sqlite")
	uncached := p.uncached()
	var ids []string
	for i := range 12 {
		ids = append(ids, p.create(t, "/Users", fmt.Sprintf(`{"userName":"u%02d@example.com","title":"t%d"}`, i, i%3)))
	}
	crew := p.create(t, "/Groups", `{"displayName":"Crew","members":[{"value":"`+ids[0]+`"},{"value":"`+ids[5]+`"}]}`)
	lists := []string{
		"/Users?count=5",
		"/Users?startIndex=4&count=5",
		"/Users?filter=" + url.QueryEscape(`title eq "t1"`) + "&count=10",
		"/Users?sortBy=userName&sortOrder=descending&count=4",
		"/Users?count=5&attributes=userName,groups",
		"/Users?count=5&excludedAttributes=groups",
		"/Groups?count=5",
		"/Users?count=5&cursor=",
	}
	compare := func(when string) {
		t.Helper()
		for _, path := range lists {
			for round := range 2 { // the second may come from the cache
				status, _, got := p.call(p.a, "GET", path, "")
				wantStatus, _, want := p.call(uncached, "GET", path, "")
				// Each server seals its cursors with a key of its own.
				got, want = cursorValue.ReplaceAllString(got, "…"), cursorValue.ReplaceAllString(want, "…")
				if status != http.StatusOK || status != wantStatus || got != want {
					t.Errorf("%s, GET %s (round %d): %d %.2000s\nwithout a cache: %d %.2000s", when, path, round+1, status, got, wantStatus, want)
				}
			}
		}
	}
	compare("cold")
	p.patch(t, "/Users/"+ids[5], `{"op":"replace","path":"title","value":"t1"}`)
	compare("after a user's change")
	p.patch(t, "/Groups/"+crew, `{"op":"replace","path":"displayName","value":"Flight Crew"}`)
	compare("after a group's rename")
	if status, _, raw := p.call(p.a, "DELETE", "/Users/"+ids[1], ""); status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", status, raw)
	}
	compare("after a deletion")
}

// TestReadCacheAnchors checks that pages by startIndex read after the
// places the cache remembers (anchors.go) are the pages a server without
// a cache answers: walked in order and at random, around an update (which
// keeps the anchors) and a create and a delete (which forget them).
func TestReadCacheAnchors(t *testing.T) {
	t.Parallel()
	p := newReplicaPair(t, "sqlite")
	uncached := p.uncached()
	var ids []string
	for i := range 30 {
		ids = append(ids, p.create(t, "/Users", fmt.Sprintf(`{"userName":"a%02d@example.com"}`, i)))
	}
	anchors := func() int {
		p.server.cache.mu.RLock()
		defer p.server.cache.mu.RUnlock()
		n := 0
		for _, list := range p.server.cache.anchors {
			n += len(list)
		}
		return n
	}
	rng := rand.New(rand.NewPCG(1, 2))
	compare := func(when string) {
		t.Helper()
		var paths []string
		for start := 1; start <= 34; start += 3 { // a walk, then past the end
			paths = append(paths, fmt.Sprintf("/Users?startIndex=%d&count=3", start))
		}
		for range 20 {
			paths = append(paths, fmt.Sprintf("/Users?startIndex=%d&count=%d", 1+rng.IntN(33), 1+rng.IntN(5)))
		}
		paths = append(paths, "/Users?startIndex=5&count=4&attributes=userName", "/Users?startIndex=7&count=2&excludedAttributes=groups")
		for _, path := range paths {
			status, _, got := p.call(p.a, "GET", path, "")
			wantStatus, _, want := p.call(uncached, "GET", path, "")
			if status != http.StatusOK || status != wantStatus || got != want {
				t.Errorf("%s, GET %s: %d %.1500s\nwithout a cache: %d %.1500s", when, path, status, got, wantStatus, want)
			}
		}
	}
	compare("cold")
	kept := anchors()
	if kept == 0 {
		t.Fatal("no anchors kept after a walk of the pages")
	}
	compare("warm")
	p.patch(t, "/Users/"+ids[3], `{"op":"replace","path":"title","value":"Lead"}`)
	if n := anchors(); n < kept {
		t.Errorf("an update dropped anchors: %d, had %d", n, kept)
	}
	compare("after an update")
	p.create(t, "/Users", `{"userName":"newcomer@example.com"}`)
	if n := anchors(); n != 0 {
		t.Errorf("%d anchors kept after a create", n)
	}
	compare("after a create")
	if status, _, raw := p.call(p.a, "DELETE", "/Users/"+ids[10], ""); status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", status, raw)
	}
	if n := anchors(); n != 0 {
		t.Errorf("%d anchors kept after a delete", n)
	}
	compare("after a delete")
}

// TestReadCacheWritesReplaceEntries makes random writes (creates, PUTs,
// PATCHes of names and displays, members added, replaced and removed,
// nested groups, deletions) while an owned cache holds the resources they
// change, and after each compares every resource, every list and a name
// filter through the cached server with a server that keeps no cache,
// byte for byte. Writes change cached entries in place (readCache.apply):
// a user created and then added to a group is answered from the cache
// without a read of the database.
func TestReadCacheWritesReplaceEntries(t *testing.T) {
	t.Parallel()
	p := newReplicaPair(t, "sqlite")
	uncached := p.uncached()
	rng := rand.New(rand.NewPCG(14, 7))
	var users, groups []string
	pick := func(ids []string) string { return ids[rng.IntN(len(ids))] }
	send := func(method, path, body string) {
		t.Helper()
		status, _, raw := p.call(p.a, method, path, body)
		if status >= 300 && status != http.StatusConflict {
			t.Fatalf("%s %s %s: %d %s", method, path, body, status, raw)
		}
	}
	patch := func(path, op string) {
		t.Helper()
		send("PATCH", path, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[`+op+`]}`)
	}
	// memberList names a few users and, at times, a group other than
	// the one (self) it is for.
	memberList := func(self string) string {
		var ms []string
		for range rng.IntN(4) {
			ms = append(ms, `{"value":"`+pick(users)+`"}`)
		}
		if g := pick(append([]string{self}, groups...)); g != self && rng.IntN(4) == 0 {
			ms = append(ms, `{"value":"`+g+`"}`)
		}
		return "[" + strings.Join(slices.Compact(ms), ",") + "]"
	}
	compare := func(step int, what string) {
		t.Helper()
		paths := []string{"/Users?count=100", "/Groups?count=100", "/Users?count=100&attributes=groups"}
		for _, id := range users {
			paths = append(paths, "/Users/"+id)
		}
		for _, id := range groups {
			paths = append(paths, "/Groups/"+id, "/Groups/"+id+"?excludedAttributes=members")
		}
		for range 2 {
			paths = append(paths, "/Users?filter="+url.QueryEscape(fmt.Sprintf(`userName eq "u%d@example.com"`, rng.IntN(400))),
				"/Users?filter="+url.QueryEscape(fmt.Sprintf(`userName eq "R%d@example.com"`, rng.IntN(20))))
		}
		for _, path := range paths {
			status, _, got := p.call(p.a, "GET", path, "")
			wantStatus, _, want := p.call(uncached, "GET", path, "")
			if status != wantStatus || got != want {
				t.Fatalf("step %d, after %s: GET %s: %d %.1500s\nwithout a cache: %d %.1500s", step, what, path, status, got, wantStatus, want)
			}
		}
	}
	for step := range 400 {
		var what string
		switch n := rng.IntN(20); {
		case n < 4 || len(users) < 3:
			what = "a user's create"
			users = append(users, p.create(t, "/Users", fmt.Sprintf(`{"userName":"u%d@example.com","displayName":"User %d"}`, step, step)))
		case n < 6 || len(groups) == 0:
			what = "a group's create"
			groups = append(groups, p.create(t, "/Groups", fmt.Sprintf(`{"displayName":"Group %d","members":%s}`, step, memberList(""))))
		case n < 8:
			what = "a user's rename"
			patch("/Users/"+pick(users), fmt.Sprintf(`{"op":"replace","path":"displayName","value":"Renamed %d"}`, step))
		case n == 8:
			what = "a userName's change"
			patch("/Users/"+pick(users), fmt.Sprintf(`{"op":"replace","path":"userName","value":"r%d@example.com"}`, rng.IntN(20)))
		case n == 9:
			what = "a user's PUT"
			send("PUT", "/Users/"+pick(users), fmt.Sprintf(`{"userName":"put%d@example.com","title":"t%d"}`, step, step))
		case n < 13:
			what = "members added"
			g := pick(groups)
			patch("/Groups/"+g, `{"op":"add","path":"members","value":`+memberList(g)+`}`)
		case n == 13:
			what = "a member removed"
			patch("/Groups/"+pick(groups), `{"op":"remove","path":"members[value eq \"`+pick(users)+`\"]"}`)
		case n == 14:
			what = "a group's rename"
			patch("/Groups/"+pick(groups), fmt.Sprintf(`{"op":"replace","path":"displayName","value":"Group %d"}`, step))
		case n == 15:
			what = "a group's members replaced"
			g := pick(groups)
			patch("/Groups/"+g, `{"op":"replace","path":"members","value":`+memberList(g)+`}`)
		case n == 16:
			what = "a group's PUT"
			g := pick(groups)
			send("PUT", "/Groups/"+g, fmt.Sprintf(`{"displayName":"Put %d","members":%s}`, step, memberList(g)))
		case n == 17 && len(users) > 5:
			what = "a user's deletion"
			i := rng.IntN(len(users))
			send("DELETE", "/Users/"+users[i], "")
			users = slices.Delete(users, i, i+1)
		case n == 18 && len(groups) > 2:
			what = "a group's deletion"
			i := rng.IntN(len(groups))
			send("DELETE", "/Groups/"+groups[i], "")
			groups = slices.Delete(groups, i, i+1)
		default:
			what = "nothing"
		}
		compare(step, what)
	}

	// A user created and then added to a group, with no read between:
	// both writes keep its entry, which a GET then answers from.
	id := p.create(t, "/Users", `{"userName":"fresh@example.com","displayName":"Fresh"}`)
	patch("/Groups/"+groups[0], `{"op":"add","path":"members","value":[{"value":"`+id+`"}]}`)
	_, group, _ := p.call(uncached, "GET", "/Groups/"+groups[0]+"?attributes=displayName", "")
	p.server.cache.mu.RLock()
	var entry *rendered
	for k, el := range p.server.cache.entries {
		if k.id == id {
			entry = el.Value.(*rendered)
		}
	}
	p.server.cache.mu.RUnlock()
	if entry == nil || !entry.hasEdges || len(entry.edges) != 1 || entry.edges[0].ID != groups[0] || entry.edges[0].Display != group["displayName"] {
		t.Fatalf("entry of a user created and added to a group: %+v, want one with its group %s", entry, groups[0])
	}
	compare(400, "a fresh user's create and membership")
}
