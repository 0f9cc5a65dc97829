package metrics_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/ferryid/ferry/internal/ferrytest"
	"github.com/ferryid/ferry/internal/metrics"
	"github.com/ferryid/ferry/internal/scim/schema"
	"github.com/ferryid/ferry/internal/server"
	"github.com/ferryid/ferry/internal/store"
	"github.com/ferryid/ferry/internal/store/sqlite"
)

// families are the metric families Ferry exports (the Go runtime's and
// the process's aside).
var families = []string{
	"ferry_http_requests_total", "ferry_http_request_duration_seconds", "ferry_scim_operations_total",
	"ferry_auth_failures_total", "ferry_auth_rate_limited_total",
	"ferry_engine_cycles_total", "ferry_engine_cycle_duration_seconds", "ferry_engine_objects_total",
	"ferry_engine_target_requests_total", "ferry_engine_target_request_duration_seconds",
	"ferry_engine_quarantined", "ferry_engine_change_lag_seconds",
	"ferry_db_connections_open", "ferry_db_connections_in_use", "ferry_db_connections_idle",
	"ferry_db_connections_max", "ferry_db_waits_total", "ferry_db_wait_seconds_total",
}

func openStore(t *testing.T, catalog *schema.Catalog) store.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), t.TempDir()+"/ferry.db", catalog, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// TestMetricsOfACycle serves a real Ferry with its metrics, provisions a
// directory into a real target (an initial cycle, then an incremental one
// after a change) and reads /metrics: every family is there, with the
// labels and values what happened says.
func TestMetricsOfACycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	catalog := schema.Builtin()
	st := openStore(t, catalog)
	reg := prometheus.NewRegistry()
	m := metrics.New(reg)
	if !m.WatchStore(reg, st) {
		t.Fatal("the SQLite store's pools are not watched")
	}
	srv := server.New(server.DefaultConfig(), st, catalog, slog.New(slog.DiscardHandler))
	srv.SetObserver(m)
	srv.EnableMetrics(m.Handler())
	svc := ferrytest.ObservedEngine(t, st, catalog, m)
	srv.EnableAdmin(svc)
	fs := ferrytest.Serve(t, st, srv.Handler())
	tgStore := openStore(t, catalog)
	tg := ferrytest.NewTarget(t, tgStore, server.New(server.DefaultConfig(), tgStore, catalog, slog.New(slog.DiscardHandler)).Handler())

	createUser := func(name string) string {
		r := ferrytest.Request(t, fs.SCIMToken, "POST", fs.URL+"/scim/v2/Users", "application/scim+json", `{"userName":"`+name+`","active":true}`)
		if r.Status != 201 {
			t.Fatalf("create %s: %d %s", name, r.Status, r.Raw)
		}
		var u struct{ ID string }
		json.Unmarshal([]byte(r.Raw), &u)
		return u.ID
	}
	annID := createUser("ann@example.com")
	createUser("refused@example.com") // the target refuses it: a failure
	admin := func(method, path, body string, want int) {
		t.Helper()
		if r := ferrytest.Request(t, fs.AdminToken, method, fs.URL+"/api/v1"+path, "application/json", body); r.Status != want {
			t.Fatalf("%s %s: %d %s", method, path, r.Status, r.Raw)
		}
	}
	admin("POST", "/apps", fmt.Sprintf(`{"name":"hr","template":"scim","tenantUrl":%q,"secretToken":%q,"scope":"all"}`, tg.URL, tg.Token), 201)
	admin("POST", "/apps/hr/start?force=true", "", 204)
	if c, err := svc.RunCycle(ctx, fs.Tenant, "hr", false); err != nil || c.Kind != "initial" {
		t.Fatalf("first cycle: %+v, %v", c, err)
	}
	createUser("bob@example.com")
	if c, err := svc.RunCycle(ctx, fs.Tenant, "hr", false); err != nil || c.Kind != "incremental" {
		t.Fatalf("second cycle: %+v, %v", c, err)
	}
	if r := ferrytest.Request(t, fs.SCIMToken, "GET", fs.URL+"/scim/v2/Users/"+annID, "", ""); r.Status != 200 {
		t.Fatalf("get ann: %d %s", r.Status, r.Raw)
	}
	if r := ferrytest.Request(t, "not-a-token", "GET", fs.URL+"/scim/v2/Users", "", ""); r.Status != 401 {
		t.Fatalf("a wrong token: %d", r.Status)
	}

	r := ferrytest.Request(t, "", "GET", fs.URL+"/metrics", "", "")
	if r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("/metrics: %d %s", r.Status, r.Header.Get("Content-Type"))
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(r.Raw))
	if err != nil {
		t.Fatalf("/metrics is not in the text format: %v", err)
	}
	for _, name := range append(slices.Clone(families), "go_goroutines", "process_cpu_seconds_total") {
		if fams[name] == nil {
			t.Errorf("family %s is missing", name)
		}
	}
	for name, f := range fams {
		for _, mt := range f.Metric {
			for _, l := range mt.Label {
				if strings.Contains(l.GetValue(), annID) {
					t.Errorf("%s has a label with an id: %s=%q", name, l.GetName(), l.GetValue())
				}
			}
		}
	}
	type L = map[string]string
	tests := []struct {
		family string
		labels L
		min    float64 // of the value, or of a histogram's count
		max    float64 // 0: no upper bound
	}{
		{"ferry_http_requests_total", L{"route": "/scim/v2/Users", "method": "POST", "status": "201"}, 3, 3},
		{"ferry_http_requests_total", L{"route": "/scim/v2/Users/{id}", "method": "GET", "status": "200"}, 1, 1},
		{"ferry_http_requests_total", L{"route": "/api/v1/apps/{name}/start", "method": "POST", "status": "204"}, 1, 1},
		{"ferry_http_request_duration_seconds", L{"route": "/api/v1/apps", "method": "POST"}, 1, 1},
		{"ferry_scim_operations_total", L{"resource_type": "User", "operation": "create", "outcome": "success"}, 3, 3},
		{"ferry_scim_operations_total", L{"resource_type": "User", "operation": "get", "outcome": "success"}, 1, 1},
		{"ferry_scim_operations_total", L{"resource_type": "User", "operation": "list", "outcome": "client_error"}, 1, 1},
		{"ferry_auth_failures_total", L{"reason": "invalid"}, 1, 1},
		{"ferry_auth_failures_total", L{"reason": "missing"}, 0, 0},
		{"ferry_auth_rate_limited_total", L{}, 0, 0},
		{"ferry_engine_cycles_total", L{"kind": "initial", "outcome": "completed"}, 1, 1},
		{"ferry_engine_cycles_total", L{"kind": "incremental", "outcome": "completed"}, 1, 1},
		{"ferry_engine_cycle_duration_seconds", L{"kind": "initial"}, 1, 1},
		{"ferry_engine_objects_total", L{"action": "create", "outcome": "success"}, 2, 2},
		{"ferry_engine_objects_total", L{"action": "create", "outcome": "failure"}, 1, 0},
		{"ferry_engine_target_requests_total", L{"method": "POST", "status": "201"}, 2, 2},
		{"ferry_engine_target_requests_total", L{"method": "POST", "status": "400"}, 1, 0},
		{"ferry_engine_target_request_duration_seconds", L{"method": "POST"}, 3, 0},
		{"ferry_engine_quarantined", L{"application": "hr"}, 0, 0},
		{"ferry_engine_change_lag_seconds", L{}, 1, 1},
		{"ferry_db_connections_max", L{"pool": "write"}, 1, 1},
		{"ferry_db_connections_open", L{"pool": "read"}, 1, 0},
		{"ferry_db_waits_total", L{"pool": "write"}, 0, 0},
	}
	for _, tc := range tests {
		v, n := value(fams[tc.family], tc.labels)
		if n == 0 {
			t.Errorf("%s%v: no series", tc.family, tc.labels)
			continue
		}
		if v < tc.min || (tc.max > 0 && v > tc.max) || (tc.max == 0 && tc.min == 0 && v != 0) {
			t.Errorf("%s%v = %v, want %v..%v", tc.family, tc.labels, v, tc.min, tc.max)
		}
	}
	q := fams["ferry_engine_quarantined"]
	if q == nil || len(q.Metric) != 1 || labelOf(q.Metric[0], "application_id") == "" {
		t.Errorf("ferry_engine_quarantined: want one series with the application's id: %v", q)
	}
}

// value sums the values of the series of f whose labels include labels
// (the sample count of a histogram's), and counts them.
func value(f *dto.MetricFamily, labels map[string]string) (float64, int) {
	if f == nil {
		return 0, 0
	}
	var sum float64
	n := 0
	for _, mt := range f.Metric {
		ok := true
		for k, v := range labels {
			if labelOf(mt, k) != v {
				ok = false
			}
		}
		if !ok {
			continue
		}
		n++
		switch {
		case mt.Counter != nil:
			sum += mt.Counter.GetValue()
		case mt.Gauge != nil:
			sum += mt.Gauge.GetValue()
		case mt.Histogram != nil:
			sum += float64(mt.Histogram.GetSampleCount())
		case mt.Untyped != nil:
			sum += mt.Untyped.GetValue()
		}
	}
	return sum, n
}

func labelOf(mt *dto.Metric, name string) string {
	for _, l := range mt.Label {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}
