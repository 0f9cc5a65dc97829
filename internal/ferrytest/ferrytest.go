// Package ferrytest holds what the tests of Ferry's server, of its admin
// API client and of the ferry command share: a server under test with
// tokens of its default tenant, the engine run one cycle at a time, an
// application for the engine to provision into, HTTP requests as tests
// send them, and canned admin API answers.
//
// It does not import internal/server, whose own tests use it: callers
// build the server's handler and hand it over.
package ferrytest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ferryid/ferry/internal/bearer"
	"github.com/ferryid/ferry/internal/egress"
	"github.com/ferryid/ferry/internal/provision"
	"github.com/ferryid/ferry/internal/scim/schema"
	"github.com/ferryid/ferry/internal/scimclient"
	"github.com/ferryid/ferry/internal/seal"
	"github.com/ferryid/ferry/internal/store"
)

// Token creates the tenant named tenant (if needed) in st and a token of
// it, with name and scope ("" reads as a SCIM token, as for tokens made
// before scopes existed), and returns the token.
func Token(t testing.TB, st store.Store, tenant, name, scope string) string {
	t.Helper()
	ctx := context.Background()
	tn, err := st.EnsureTenant(ctx, tenant)
	if err != nil {
		t.Fatal(err)
	}
	token, _, err := bearer.Issue(ctx, st, rand.Reader, store.Token{TenantID: tn.ID, Name: name, Scope: scope})
	if err != nil {
		t.Fatal(err)
	}
	return token
}

// Server is a Ferry server under test, served over loopback HTTP.
type Server struct {
	URL        string // the server's root
	Store      store.Store
	Tenant     string // the default tenant's id
	AdminToken string // an admin token of the default tenant, named "test"
	SCIMToken  string // a SCIM token of the default tenant, named "test"
}

// Serve serves h, a Ferry server's handler on st, until the test ends,
// then closes st; it creates the default tenant and a token of each scope.
func Serve(t testing.TB, st store.Store, h http.Handler) *Server {
	t.Helper()
	hs := httptest.NewServer(h)
	t.Cleanup(func() {
		hs.Close()
		st.Close()
	})
	s := &Server{URL: hs.URL, Store: st}
	s.AdminToken = Token(t, st, "default", "test", store.ScopeAdmin)
	s.SCIMToken = Token(t, st, "default", "test", store.ScopeSCIM)
	tn, err := st.TenantByName(context.Background(), "default")
	if err != nil {
		t.Fatal(err)
	}
	s.Tenant = tn.ID
	return s
}

// Engine returns the provisioning engine on st, for an admin API to call.
// Its scheduler does not run: tests run cycles with RunCycle, so that what
// each request changes is seen one cycle at a time. A failed request to a
// target is not retried within a cycle.
func Engine(t testing.TB, st store.Store, catalog *schema.Catalog) *provision.Service {
	t.Helper()
	return ObservedEngine(t, st, catalog, nil)
}

// ObservedEngine is Engine with obs told what the engine does (see
// provision.Options.Observer); nil tells no one.
func ObservedEngine(t testing.TB, st store.Store, catalog *schema.Catalog, obs provision.Observer) *provision.Service {
	t.Helper()
	sealer := newSealer(t)
	// The targets of tests listen on loopback, which the engine connects
	// to only when allowed, as with ferry serve --egress-allow loopback.
	allow, err := egress.Parse("loopback")
	if err != nil {
		t.Fatal(err)
	}
	return provision.NewService(provision.NewEngine(st, catalog, sealer, slog.New(slog.DiscardHandler), provision.Options{
		RetryPolicy: scimclient.RetryPolicy{MaxAttempts: 1, BaseDelay: time.Millisecond, MaxDelay: time.Millisecond},
		Egress:      allow,
		Observer:    obs,
	}))
}

// newSealer returns a Sealer with a random key.
func newSealer(t testing.TB) *seal.Sealer {
	t.Helper()
	key := make([]byte, seal.KeySize)
	rand.Read(key)
	sealer, err := seal.New(key)
	if err != nil {
		t.Fatal(err)
	}
	return sealer
}

// Target is an application for the engine to provision into: a real Ferry
// SCIM server, which refuses to create the user refused@example.com while
// Refuse is set, as an application's policy would.
type Target struct {
	URL    string // the SCIM base URL, .../scim/v2
	Token  string // the SCIM token the engine sends
	Refuse atomic.Bool
}

// NewTarget serves scim, a Ferry server's handler on st, as a Target until
// the test ends, then closes st. Refuse starts set.
func NewTarget(t testing.TB, st store.Store, scim http.Handler) *Target {
	t.Helper()
	tg := &Target{}
	tg.Refuse.Store(true)
	tg.Token = Token(t, st, "default", "engine", "")
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "POST" && strings.HasSuffix(r.URL.Path, "/Users") && tg.Refuse.Load() {
			body, _ := io.ReadAll(r.Body)
			if bytes.Contains(body, []byte("refused@example.com")) {
				w.Header().Set("Content-Type", "application/scim+json")
				w.WriteHeader(400)
				io.WriteString(w, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"400","scimType":"invalidValue","detail":"this user is refused by the application's policy"}`)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		scim.ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		hs.Close()
		st.Close()
	})
	tg.URL = hs.URL + "/scim/v2"
	return tg
}

// ActiveUsers counts the target's users, and the active ones among them.
func (tg *Target) ActiveUsers(t testing.TB) (users, active int) {
	t.Helper()
	r := Request(t, tg.Token, "GET", tg.URL+"/Users?count=1000", "", "")
	var list struct {
		Resources []struct {
			Active bool `json:"active"`
		}
	}
	if r.Status != 200 || json.Unmarshal([]byte(r.Raw), &list) != nil {
		t.Fatalf("list the target's users: %d %s", r.Status, r.Raw)
	}
	for _, u := range list.Resources {
		if u.Active {
			active++
		}
	}
	return len(list.Resources), active
}

// Response is an HTTP answer as a test reads it.
type Response struct {
	Status int
	Header http.Header
	Raw    string
}

// Request sends method url with token as its bearer token and body as its
// contentType (neither when empty), and headers in name, value pairs. A
// request that gets no answer fails the test.
func Request(t testing.TB, token, method, url, contentType, body string, headers ...string) Response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return Response{Status: resp.StatusCode, Header: resp.Header, Raw: string(raw)}
}

// UsersByName reads the tenant's users (at most 1000) by userName.
func UsersByName(t testing.TB, st store.Store, tenantID string) map[string]*store.Resource {
	t.Helper()
	page, err := st.Query(context.Background(), tenantID, store.UserType, store.Query{Count: 1000})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*store.Resource{}
	for _, r := range page.Resources {
		name, _ := r.Doc.String("userName")
		out[name] = r
	}
	return out
}
