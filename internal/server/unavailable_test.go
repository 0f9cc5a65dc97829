package server

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ferryid/ferry/internal/pgtest"
	"github.com/ferryid/ferry/internal/scim/schema"
	"github.com/ferryid/ferry/internal/store/postgres"
)

// TestDatabaseDownIs503: with its PostgreSQL stopped, the server answers
// requests that need the database 503 with Retry-After, a temporary
// condition a client retries, and logs the database's going away once.
// It runs on its own PostgreSQL, whatever the run's backend, to stop it.
func TestDatabaseDownIs503(t *testing.T) {
	ctx := context.Background()
	pgs, err := pgtest.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			pgs.Stop()
		}
	})
	dsn, err := pgs.CreateDatabase(ctx, "down")
	if err != nil {
		t.Fatal(err)
	}
	catalog := schema.Builtin()
	st, err := postgres.Open(ctx, dsn, catalog, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var logs syncBuffer
	srv := httptest.NewServer(New(DefaultConfig(), st, catalog, slog.New(slog.NewTextHandler(&logs, nil))).Handler())
	t.Cleanup(srv.Close)
	ts := &testServer{URL: srv.URL + "/scim/v2", Store: st, http: srv}
	ts.Token = ts.newToken(t, "default")
	if r := ts.do(t, "POST", "/Users", `{"userName":"ann@example.com"}`); r.Status != 201 {
		t.Fatalf("create before the stop: %d %s", r.Status, r.Raw)
	}

	if err := pgs.Stop(); err != nil {
		t.Fatal(err)
	}
	stopped = true
	for _, tc := range []struct{ method, path, body string }{
		{"GET", "/Users?filter=" + `userName%20eq%20%22ann@example.com%22`, ""},
		{"POST", "/Users", `{"userName":"ben@example.com"}`},
		{"GET", "/Groups", ""},
	} {
		r := ts.do(t, tc.method, tc.path, tc.body)
		if r.Status != http.StatusServiceUnavailable || r.Header.Get("Retry-After") == "" {
			t.Errorf("%s %s with the database down: %d, Retry-After %q; want 503 with Retry-After", tc.method, tc.path, r.Status, r.Header.Get("Retry-After"))
		}
	}
	resp, err := http.Get(srv.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("/readyz with the database down: %d", resp.StatusCode)
	}
	if n := strings.Count(logs.String(), "the database does not answer"); n != 1 {
		t.Errorf("the database's going away was logged %d times over four requests; want once:\n%s", n, logs.String())
	}
}
