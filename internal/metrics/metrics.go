// Package metrics is Ferry's Prometheus instrumentation: the metric
// families of the HTTP server, the SCIM API, authentication, the
// provisioning engine and the database pools, registered on a registry the
// caller gives, and the /metrics handler that serves them in the Prometheus
// text format. Metrics implements internal/server's and
// internal/provision's Observer interfaces, so that neither names
// Prometheus.
package metrics

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds Ferry's metric families. Its methods are safe for
// concurrent use.
type Metrics struct {
	reg prometheus.Gatherer

	httpRequests  *prometheus.CounterVec
	httpDuration  *prometheus.HistogramVec
	httpSeries    sync.Map // httpKey → httpSeries
	scimOps       *prometheus.CounterVec
	scimSeries    sync.Map // scimKey → prometheus.Counter, as httpSeries
	authFailures  *prometheus.CounterVec
	authLimited   prometheus.Counter
	cycles        *prometheus.CounterVec
	cycleDuration *prometheus.HistogramVec
	objects       *prometheus.CounterVec
	targetReqs    *prometheus.CounterVec
	targetLatency *prometheus.HistogramVec
	quarantined   *prometheus.GaugeVec
	changeLag     prometheus.Histogram
}

// New registers Ferry's metric families, and the Go runtime's and the
// process's collectors, on reg. Each registry takes one Metrics: tests give
// each their own, never prometheus.DefaultRegisterer.
func New(reg *prometheus.Registry) *Metrics {
	m := &Metrics{
		reg: reg,
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ferry_http_requests_total",
			Help: "HTTP requests served, by route pattern, method and status code.",
		}, []string{"route", "method", "status"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "ferry_http_request_duration_seconds",
			Help:    "Time to serve an HTTP request, by route pattern and method.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route", "method"}),
		scimOps: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ferry_scim_operations_total",
			Help: "SCIM operations (create, replace, patch, delete, get, list, search, bulk), by resource type and outcome (success, client_error, server_error).",
		}, []string{"resource_type", "operation", "outcome"}),
		authFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ferry_auth_failures_total",
			Help: "Requests refused for their bearer token, by reason (missing, invalid).",
		}, []string{"reason"}),
		authLimited: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ferry_auth_rate_limited_total",
			Help: "Requests refused with 429 because their client address had too many failed authentications.",
		}),
		cycles: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ferry_engine_cycles_total",
			Help: "Provisioning cycles ended in this process, by kind and outcome.",
		}, []string{"kind", "outcome"}),
		cycleDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "ferry_engine_cycle_duration_seconds",
			Help: "Time this process ran a provisioning cycle, by kind.",
			// 0.1 s to about 7 hours.
			Buckets: prometheus.ExponentialBuckets(0.1, 4, 10),
		}, []string{"kind"}),
		objects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ferry_engine_objects_total",
			Help: "Objects processed by the engine (provisioning log records), by action and outcome.",
		}, []string{"action", "outcome"}),
		targetReqs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ferry_engine_target_requests_total",
			Help: "Requests sent to applications' SCIM endpoints, each attempt, by method and status code (\"none\" when no response came).",
		}, []string{"method", "status"}),
		targetLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "ferry_engine_target_request_duration_seconds",
			Help:    "Time from sending a request to an application's SCIM endpoint to reading its response, by method.",
			Buckets: prometheus.DefBuckets,
		}, []string{"method"}),
		quarantined: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "ferry_engine_quarantined",
			Help: "1 when an application's job is in quarantine, 0 when not, as of its last cycle in this process.",
		}, []string{"application_id", "application"}),
		changeLag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "ferry_engine_change_lag_seconds",
			Help: "Time from a directory change's commit to the write to the target of the object it changed (incremental cycles).",
			// 0.1 s to about 3.6 hours.
			Buckets: prometheus.ExponentialBuckets(0.1, 2, 18),
		}),
	}
	reg.MustRegister(m.httpRequests, m.httpDuration, m.scimOps, m.authFailures, m.authLimited,
		m.cycles, m.cycleDuration, m.objects, m.targetReqs, m.targetLatency, m.quarantined, m.changeLag,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// The reasons are known: their series exist at zero from the start.
	for _, reason := range []string{"missing", "invalid"} {
		m.authFailures.WithLabelValues(reason)
	}
	return m
}

// Handler serves the registry's metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// httpKey names the series of one route, method and status.
type httpKey struct {
	route, method string
	status        int
}

// httpSeries are the request counter and latency histogram of an httpKey.
type httpSeries struct {
	requests prometheus.Counter
	duration prometheus.Observer
}

// HTTPRequest implements server.Observer. The series of each route,
// method and status are looked up by their labels once, then kept
// (httpSeries): routes, known methods and statuses are few, and the label
// lookup on every request was the bulk of this call's cost.
func (m *Metrics) HTTPRequest(route, method string, status int, elapsed time.Duration) {
	method = knownMethod(method)
	k := httpKey{route, method, status}
	v, ok := m.httpSeries.Load(k)
	if !ok {
		v, _ = m.httpSeries.LoadOrStore(k, httpSeries{
			requests: m.httpRequests.WithLabelValues(route, method, strconv.Itoa(status)),
			duration: m.httpDuration.WithLabelValues(route, method),
		})
	}
	hs := v.(httpSeries)
	hs.requests.Inc()
	hs.duration.Observe(elapsed.Seconds())
}

// SCIMOperation implements server.Observer.
func (m *Metrics) SCIMOperation(resourceType, operation string, status int) {
	outcome := "success"
	switch {
	case status >= 500:
		outcome = "server_error"
	case status >= 400:
		outcome = "client_error"
	}
	k := scimKey{resourceType, operation, outcome}
	c, ok := m.scimSeries.Load(k)
	if !ok {
		c, _ = m.scimSeries.LoadOrStore(k, m.scimOps.WithLabelValues(resourceType, operation, outcome))
	}
	c.(prometheus.Counter).Inc()
}

// scimKey is a series of the SCIM operations' counter: resource types,
// operations and outcomes are few.
type scimKey struct{ resourceType, operation, outcome string }

// AuthFailed implements server.Observer.
func (m *Metrics) AuthFailed(reason string) { m.authFailures.WithLabelValues(reason).Inc() }

// AuthLimited implements server.Observer.
func (m *Metrics) AuthLimited() { m.authLimited.Inc() }

// TargetRequest implements scimclient.Observer.
func (m *Metrics) TargetRequest(method string, status int, elapsed time.Duration) {
	method = knownMethod(method)
	code := "none"
	if status > 0 {
		code = strconv.Itoa(status)
	}
	m.targetReqs.WithLabelValues(method, code).Inc()
	m.targetLatency.WithLabelValues(method).Observe(elapsed.Seconds())
}

// CycleEnded implements provision.Observer.
func (m *Metrics) CycleEnded(kind, outcome string, elapsed time.Duration) {
	m.cycles.WithLabelValues(kind, outcome).Inc()
	m.cycleDuration.WithLabelValues(kind).Observe(elapsed.Seconds())
}

// ObjectProcessed implements provision.Observer.
func (m *Metrics) ObjectProcessed(action, status string) {
	m.objects.WithLabelValues(action, status).Inc()
}

// Quarantine implements provision.Observer. An application renamed since
// its last cycle keeps one series, under its new name.
func (m *Metrics) Quarantine(appID, app string, quarantined bool) {
	m.quarantined.DeletePartialMatch(prometheus.Labels{"application_id": appID})
	v := 0.0
	if quarantined {
		v = 1
	}
	m.quarantined.WithLabelValues(appID, app).Set(v)
}

// ChangeLag implements provision.Observer.
func (m *Metrics) ChangeLag(lag time.Duration) { m.changeLag.Observe(max(lag, 0).Seconds()) }

// knownMethod keeps a label's values few: a client may send any method.
func knownMethod(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
		return method
	}
	return "other"
}
