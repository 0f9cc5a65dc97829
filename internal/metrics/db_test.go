package metrics_test

import (
	"context"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ferryid/ferry/internal/metrics"
	"github.com/ferryid/ferry/internal/pgtest"
	"github.com/ferryid/ferry/internal/scim/schema"
	"github.com/ferryid/ferry/internal/store/postgres"
)

// TestWatchPostgres checks the pool metrics of a PostgreSQL store, read
// from pgxpool's Stat, on a real PostgreSQL.
func TestWatchPostgres(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pgs, err := pgtest.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pgs.Stop() })
	dsn, err := pgs.CreateDatabase(ctx, "metrics")
	if err != nil {
		t.Fatal(err)
	}
	st, err := postgres.Open(ctx, dsn, schema.Builtin(), postgres.Options{MaxConns: 7})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	if !metrics.New(reg).WatchStore(reg, st) {
		t.Fatal("the PostgreSQL store's pool is not watched")
	}
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range fams {
		for _, m := range f.Metric {
			if labelOf(m, "pool") == "postgres" {
				got[f.GetName()] = m.GetGauge().GetValue() + m.GetCounter().GetValue()
			}
		}
	}
	if got["ferry_db_connections_max"] != 7 || got["ferry_db_connections_open"] < 1 {
		t.Fatalf("pool metrics %v: want 7 connections at most, one open at least", got)
	}
	for _, name := range families {
		if _, ok := got[name]; !ok && strings.HasPrefix(name, "ferry_db_") {
			t.Errorf("%s{pool=\"postgres\"} is missing", name)
		}
	}
}
