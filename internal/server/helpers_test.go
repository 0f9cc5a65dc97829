package server

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/ferryid/ferry/internal/ferrytest"
	"github.com/ferryid/ferry/internal/pgtest"
	"github.com/ferryid/ferry/internal/scim/schema"
	"github.com/ferryid/ferry/internal/store"
	"github.com/ferryid/ferry/internal/store/postgres"
	"github.com/ferryid/ferry/internal/store/sqlite"
)

// testStoreEnv names the backend the package's tests and benchmarks run
// on: "sqlite" (the default) or "postgres". `make test` runs the package
// on both.
const testStoreEnv = "FERRY_TEST_STORE"

// pg is the throwaway PostgreSQL server of a run on PostgreSQL.
var pg *pgtest.Server

func TestMain(m *testing.M) {
	switch backend := os.Getenv(testStoreEnv); backend {
	case "", "sqlite":
	case "postgres":
		var err error
		if pg, err = pgtest.Start(context.Background(), pgtest.Options{Durable: os.Getenv("FERRY_TEST_PG_DURABLE") != ""}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	default:
		fmt.Fprintf(os.Stderr, "%s=%s: want sqlite or postgres\n", testStoreEnv, backend)
		os.Exit(2)
	}
	code := m.Run()
	if pg != nil {
		if err := pg.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}
	os.Exit(code)
}

// openTestStore opens an empty store on the backend of the run.
func openTestStore(t testing.TB, catalog *schema.Catalog) store.Store {
	t.Helper()
	ctx := context.Background()
	if pg != nil {
		dsn, err := pg.CreateDatabase(ctx, "server")
		if err != nil {
			t.Fatal(err)
		}
		st, err := postgres.Open(ctx, dsn, catalog, postgres.Options{MaxConns: 32})
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	// As ferry serve opens it: the owner, so that the server's caches are
	// told of every commit and answer reads from memory.
	st, err := sqlite.Open(ctx, t.TempDir()+"/ferry.db", catalog, sqlite.Options{Owner: true})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// testServer is a real Ferry server on a real database (see openTestStore),
// served over loopback HTTP.
type testServer struct {
	URL   string // the SCIM base, .../scim/v2
	Token string
	Store store.Store
	http  *httptest.Server
}

func newTestServer(t testing.TB) *testServer {
	t.Helper()
	return newTestServerConfig(t, DefaultConfig())
}

// newTestServerConfig is newTestServer with the limits of cfg.
func newTestServerConfig(t testing.TB, cfg Config) *testServer {
	t.Helper()
	catalog := schema.Builtin()
	st := openTestStore(t, catalog)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := httptest.NewServer(New(cfg, st, catalog, log).Handler())
	t.Cleanup(func() {
		srv.Close()
		st.Close()
	})
	ts := &testServer{URL: srv.URL + "/scim/v2", Store: st, http: srv}
	ts.Token = ts.newToken(t, "default")
	return ts
}

// newToken creates a tenant (if needed) and a token for it, of no scope
// (a SCIM token, as those made before scopes existed).
func (ts *testServer) newToken(t testing.TB, tenant string) string {
	t.Helper()
	return ferrytest.Token(t, ts.Store, tenant, "test", "")
}

// response is a decoded HTTP response.
type response struct {
	Status int
	Header http.Header
	Body   map[string]any
	Raw    string
}

// do sends a request with the server's token (unless headers set
// Authorization) and decodes the JSON answer.
func (ts *testServer) do(t *testing.T, method, path, body string, headers ...string) response {
	t.Helper()
	return ts.doWith(t, ts.Token, method, path, body, headers...)
}

func (ts *testServer) doWith(t *testing.T, token, method, path, body string, headers ...string) response {
	t.Helper()
	r := ferrytest.Request(t, token, method, ts.URL+path, "application/scim+json", body, headers...)
	out := response{Status: r.Status, Header: r.Header, Raw: r.Raw}
	if len(r.Raw) > 0 {
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/scim+json") {
			t.Fatalf("%s %s: Content-Type %q, want application/scim+json; body %s", method, path, ct, r.Raw)
		}
		if err := json.Unmarshal([]byte(r.Raw), &out.Body); err != nil {
			t.Fatalf("%s %s: response is not a JSON object: %v\n%s", method, path, err, r.Raw)
		}
	}
	return out
}

// get returns the value at a dotted path ("Resources.0.emails.0.value") in
// a decoded JSON document, and whether it is there. Keys are matched
// exactly, as a client would read them.
func get(doc any, path string) (any, bool) {
	cur := doc
	for _, part := range splitPath(path) {
		switch c := cur.(type) {
		case map[string]any:
			v, ok := c[part]
			if !ok {
				return nil, false
			}
			cur = v
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(c) {
				return nil, false
			}
			cur = c[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

// splitPath splits at dots, except inside a URN key written in brackets:
// "[urn:...:2.0:User].manager.value".
func splitPath(path string) []string {
	var parts []string
	for path != "" {
		if strings.HasPrefix(path, "[") {
			end := strings.Index(path, "]")
			parts = append(parts, path[1:end])
			path = strings.TrimPrefix(path[end+1:], ".")
			continue
		}
		part, rest, _ := strings.Cut(path, ".")
		parts = append(parts, part)
		path = rest
	}
	return parts
}

// absent is an expectation that a path has no value.
type absentValue struct{}

var absent = absentValue{}

// expect checks values at paths of a response body. Numbers are written as
// float64 (as encoding/json decodes them) or int.
func (r response) expect(t *testing.T, what string, want map[string]any) {
	t.Helper()
	for path, w := range want {
		got, ok := get(r.Body, path)
		if w == absent {
			if ok {
				t.Errorf("%s: %s = %v, want it absent", what, path, got)
			}
			continue
		}
		if n, isInt := w.(int); isInt {
			w = float64(n)
		}
		if !ok {
			t.Errorf("%s: %s is absent, want %v\nbody: %s", what, path, w, r.Raw)
			continue
		}
		if fmt.Sprint(got) != fmt.Sprint(w) || fmt.Sprintf("%T", got) != fmt.Sprintf("%T", w) {
			t.Errorf("%s: %s = %#v, want %#v", what, path, got, w)
		}
	}
}

// wantStatus fails the test unless the response has the status.
func (r response) wantStatus(t *testing.T, what string, status int) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("%s: status %d, want %d\nbody: %s", what, r.Status, status, r.Raw)
	}
}

// wantError checks a SCIM Error response: status, the Error schema, status
// as a string, a detail, and the scimType when one is given.
func (r response) wantError(t *testing.T, what string, status int, scimType string) {
	t.Helper()
	r.wantStatus(t, what, status)
	want := map[string]any{
		"schemas.0": "urn:ietf:params:scim:api:messages:2.0:Error",
		"status":    strconv.Itoa(status),
	}
	if scimType != "" {
		want["scimType"] = scimType
	}
	r.expect(t, what, want)
	if d, _ := r.Body["detail"].(string); d == "" {
		t.Errorf("%s: error has no detail: %s", what, r.Raw)
	}
}

var guidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// randomGUID returns a random v4 UUID like the ones Entra sends.
func randomGUID(t *testing.T) string {
	t.Helper()
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// tenantOf returns the id of the server's default tenant.
func tenantOf(t testing.TB, ts *testServer) string {
	t.Helper()
	tn, err := ts.Store.TenantByName(context.Background(), "default")
	if err != nil {
		t.Fatal(err)
	}
	return tn.ID
}
