package metrics_test

import (
	"encoding/json"
	"os"
	"regexp"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/ferryid/ferry/internal/metrics"
	"github.com/ferryid/ferry/internal/scim/schema"
)

// dashboardFile is the Grafana dashboard of Ferry's metrics.
const dashboardFile = "../../docs/grafana/ferry-dashboard.json"

// metricName finds the metric names in a PromQL expression: Ferry's, the
// Go runtime's and the process's all have these prefixes, and no function,
// keyword or label of the dashboard does.
var metricName = regexp.MustCompile(`\b(?:ferry|go|process)_[a-zA-Z0-9_:]*`)

// exported returns the names of every series Ferry's /metrics may serve,
// a histogram's _bucket, _sum and _count included.
func exported(t *testing.T) map[string]bool {
	t.Helper()
	reg := prometheus.NewRegistry()
	m := metrics.New(reg)
	m.WatchStore(reg, openStore(t, schema.Builtin()))
	// Every family with labels shows once it has a series.
	m.HTTPRequest("/healthz", "GET", 200, time.Millisecond)
	m.SCIMOperation("User", "create", 201)
	m.AuthFailed("invalid")
	m.AuthLimited()
	m.TargetRequest("POST", 201, time.Millisecond)
	m.CycleEnded("full", "completed", time.Second)
	m.ObjectProcessed("create", "success")
	m.Quarantine("app-1", "hr", false)
	m.ChangeLag(time.Second)
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, f := range fams {
		names[f.GetName()] = true
		if f.GetType() == dto.MetricType_HISTOGRAM || f.GetType() == dto.MetricType_SUMMARY {
			for _, s := range []string{"_bucket", "_sum", "_count"} {
				names[f.GetName()+s] = true
			}
		}
	}
	return names
}

// TestDashboard checks that the dashboard is JSON, that every expression
// names metrics Ferry exports and only those, and that it shows every
// family of Ferry's.
func TestDashboard(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("%s is not JSON: %v", dashboardFile, err)
	}
	names := exported(t)
	for _, f := range families {
		if !names[f] {
			t.Fatalf("the registry does not export %s", f)
		}
	}
	var exprs []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if s, ok := x.(string); ok && k == "expr" {
					exprs = append(exprs, s)
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(doc)
	if len(exprs) == 0 {
		t.Fatal("the dashboard has no expressions")
	}
	shown := map[string]bool{}
	for _, e := range exprs {
		used := metricName.FindAllString(e, -1)
		if len(used) == 0 {
			t.Errorf("expression %q names no metric", e)
		}
		for _, n := range used {
			if !names[n] {
				t.Errorf("expression %q names %s, which Ferry does not export", e, n)
			}
			shown[n] = true
		}
	}
	for _, f := range families {
		if !shown[f] && !shown[f+"_bucket"] {
			t.Errorf("the dashboard does not show %s", f)
		}
	}
}
