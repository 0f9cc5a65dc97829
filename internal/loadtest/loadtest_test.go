package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	mrand "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ferryid/ferry/internal/scim/filter"
)

func TestHistogramQuantiles(t *testing.T) {
	t.Parallel()
	rng := mrand.New(mrand.NewPCG(1, 2))
	var h, a, b Histogram
	var all []int64
	for i := range 200_000 {
		// Log-normal around 1 ms, with a tail, as request latencies are.
		v := int64(math.Exp(rng.NormFloat64()*1.2) * 1e6)
		all = append(all, v)
		h.Record(time.Duration(v))
		if i%2 == 0 {
			a.Record(time.Duration(v))
		} else {
			b.Record(time.Duration(v))
		}
	}
	a.Merge(&b)
	slices.Sort(all)
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999, 1} {
		exact := all[int(math.Ceil(q*float64(len(all))))-1]
		got := h.Quantile(q).Nanoseconds()
		if got < exact || float64(got) > float64(exact)*(1+1.0/64)+1 {
			t.Errorf("q%.3f = %d ns, exact %d ns: beyond the 1/64 bound", q, got, exact)
		}
		if m := a.Quantile(q); m != h.Quantile(q) {
			t.Errorf("q%.3f of merged halves = %v, of the whole = %v", q, m, h.Quantile(q))
		}
	}
	if h.Max().Nanoseconds() != all[len(all)-1] || h.Count() != uint64(len(all)) {
		t.Errorf("max %v count %d, want %d and %d", h.Max(), h.Count(), all[len(all)-1], len(all))
	}
	var total uint64
	for _, bn := range h.Distribution() {
		total += bn.Count
	}
	if total != h.Count() {
		t.Errorf("the distribution holds %d of %d values", total, h.Count())
	}
}

func TestBuckets(t *testing.T) {
	t.Parallel()
	prev := -1
	for v := int64(0); v < 1<<42; v = v*9/8 + 1 {
		i := bucketOf(v)
		if i < prev || i >= numBuckets {
			t.Fatalf("bucketOf(%d) = %d after %d", v, i, prev)
		}
		prev = i
		if up := bucketUpper(i); i < numBuckets-1 && (up < v || float64(up-v) > float64(v)/64+1) {
			t.Fatalf("value %d in bucket %d whose upper bound is %d", v, i, up)
		}
	}
	if (&Histogram{}).Quantile(0.5) != 0 {
		t.Error("an empty histogram has a median")
	}
}

func TestCheckTarget(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		url    string
		remote bool
		ok     bool
	}{
		{"IPv4 loopback", "http://127.0.0.1:8080/scim/v2", false, true},
		{"IPv6 loopback", "http://[::1]:8080/scim/v2", false, true},
		{"localhost", "http://localhost:8080/scim/v2", false, true},
		{"remote address", "https://192.0.2.10/scim/v2", false, false},
		{"remote address allowed", "https://192.0.2.10/scim/v2", true, true},
		{"not http", "ftp://127.0.0.1/scim", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckTarget(context.Background(), tt.url, tt.remote)
			if (err == nil) != tt.ok {
				t.Fatalf("CheckTarget(%s, %v) = %v", tt.url, tt.remote, err)
			}
			if !tt.ok && strings.HasPrefix(tt.url, "https") && !strings.Contains(err.Error(), "--allow-remote") {
				t.Errorf("the refusal does not say how to override it: %v", err)
			}
		})
	}
}

// fakeEndpoint is just enough of a SCIM service provider for load: it
// keeps ids, checks that every filter parses as RFC 7644 syntax, and can
// fail one kind of request.
type fakeEndpoint struct {
	mu       sync.Mutex
	seq      int
	live     map[string]bool // "Users/id", "Groups/id"
	seen     map[string]int  // requests per method and first path segment
	badFilt  []string
	failWith map[string]int // "METHOD /Users" → status
	noCursor bool           // advertise no cursor pagination
}

func newFakeEndpoint() *fakeEndpoint {
	return &fakeEndpoint{live: map[string]bool{}, seen: map[string]int{}, failWith: map[string]int{}}
}

func (f *fakeEndpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	body, _ := io.ReadAll(r.Body)
	path := strings.TrimPrefix(r.URL.Path, "/scim/v2/")
	typ, id, _ := strings.Cut(path, "/")
	key := r.Method + " /" + typ
	if id != "" {
		key += "/{id}"
	}
	if fl := r.URL.Query().Get("filter"); fl != "" {
		if _, err := filter.Parse(fl); err != nil {
			f.badFilt = append(f.badFilt, fl)
		}
		key += "?filter"
	}
	f.seen[key]++
	w.Header().Set("Content-Type", "application/scim+json")
	if st := f.failWith[key]; st != 0 {
		w.WriteHeader(st)
		fmt.Fprintf(w, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"%d","detail":"made to fail"}`, st)
		return
	}
	switch {
	case r.Method == http.MethodPost:
		if !json.Valid(body) {
			w.WriteHeader(400)
			return
		}
		f.seq++
		nid := fmt.Sprintf("%s-%d", strings.ToLower(typ), f.seq)
		f.live[typ+"/"+nid] = true
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"id":%q}`, nid)
	case r.Method == http.MethodDelete:
		if !f.live[path] {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		delete(f.live, path)
		w.WriteHeader(http.StatusNoContent)
	case r.Method == http.MethodPatch && typ == "Groups":
		w.WriteHeader(http.StatusNoContent)
	case typ == "ServiceProviderConfig" && f.noCursor:
		io.WriteString(w, `{"filter":{"supported":true}}`)
	case typ == "ServiceProviderConfig":
		io.WriteString(w, `{"pagination":{"cursor":true,"index":true,"maxPageSize":40}}`)
	case r.URL.Query().Has("cursor"):
		// Cursor pages of the users by id; the cursor is the last id.
		var ids []string
		for k := range f.live {
			if u, ok := strings.CutPrefix(k, "Users/"); ok {
				ids = append(ids, u)
			}
		}
		slices.Sort(ids)
		after := r.URL.Query().Get("cursor")
		count, _ := strconv.Atoi(r.URL.Query().Get("count"))
		i, _ := slices.BinarySearch(ids, after)
		if after != "" && i < len(ids) && ids[i] == after {
			i++
		}
		page := ids[i:min(i+count, len(ids))]
		var res []string
		for _, id := range page {
			res = append(res, fmt.Sprintf(`{"id":%q}`, id))
		}
		next := ""
		if i+count < len(ids) {
			next = fmt.Sprintf(`,"nextCursor":%q`, page[len(page)-1])
		}
		fmt.Fprintf(w, `{"totalResults":%d,"Resources":[%s]%s}`, len(ids), strings.Join(res, ","), next)
	case id != "" && !f.live[path]:
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"status":"404"}`)
	default:
		fmt.Fprintf(w, `{"totalResults":%d,"Resources":[]}`, len(f.live))
	}
}

func (f *fakeEndpoint) server(t *testing.T) string {
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return srv.URL + "/scim/v2"
}

// TestRun seeds a fake endpoint, runs every scenario briefly and checks
// each produced requests, no errors, ordered percentiles and a timeline;
// that the filters sent are valid SCIM filters; and that cleanup removed
// everything the run created.
func TestRun(t *testing.T) {
	t.Parallel()
	f := newFakeEndpoint()
	var phases []string
	var pmu sync.Mutex
	rep, err := Run(context.Background(), Options{
		BaseURL: f.server(t), Token: "t", Users: 150, Concurrency: 4, Duration: 300 * time.Millisecond,
		Progress: func(p Progress) {
			pmu.Lock()
			defer pmu.Unlock()
			if len(phases) == 0 || phases[len(phases)-1] != p.Phase {
				phases = append(phases, p.Phase)
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Scenarios) != len(Scenarios()) {
		t.Fatalf("%d scenario results, want %d", len(rep.Scenarios), len(Scenarios()))
	}
	for i, s := range rep.Scenarios {
		if s.Name == ListAll {
			// 150 users and the creates, 40 a page (the maxPageSize).
			if w := s.Walk; w == nil || w.Count != 40 || w.Resources != w.TotalResults || w.Resources < 150 || w.Pages != (w.Resources+39)/40 ||
				s.Requests != int64(w.Pages) || s.Errors != 0 || w.FirstPagesMs <= 0 || w.LastPagesMs <= 0 {
				t.Errorf("list-all: %+v, walk %+v", s, w)
			}
			continue
		}
		if s.Name != Scenarios()[i].Name || s.Requests == 0 || s.Errors != 0 || s.RequestsPerSecond <= 0 {
			t.Errorf("%s: %d requests, %d errors (%v, %s), %.0f req/s", s.Name, s.Requests, s.Errors, s.ErrorsByStatus, s.FirstError, s.RequestsPerSecond)
		}
		l := s.Latency
		if !(0 < l.P50 && l.P50 <= l.P90 && l.P90 <= l.P99 && l.P99 <= l.Max) {
			t.Errorf("%s: percentiles out of order: %+v", s.Name, l)
		}
		if len(s.Throughput) < 5 || len(s.Distribution) == 0 {
			t.Errorf("%s: %d throughput points, %d distribution bins", s.Name, len(s.Throughput), len(s.Distribution))
		}
	}
	if rep.Seed.Users != 150 || rep.Seed.Groups != 1 || rep.Seed.Memberships != 100 {
		t.Errorf("seed %+v, want 150 users and 1 group of 100", rep.Seed)
	}
	for _, k := range []string{"GET /Users/{id}", "GET /Users?filter", "PATCH /Groups/{id}", "POST /Users", "PATCH /Users/{id}"} {
		if f.seen[k] == 0 {
			t.Errorf("no %s request reached the endpoint: %v", k, f.seen)
		}
	}
	if len(f.badFilt) > 0 {
		t.Errorf("filters that are not RFC 7644 syntax: %q", f.badFilt[:1])
	}
	if len(f.live) != 0 || rep.Cleanup.Failed != 0 || rep.Cleanup.Deleted == 0 {
		t.Errorf("after cleanup %d resources remain; cleanup %+v", len(f.live), rep.Cleanup)
	}
	if !slices.Contains(phases, "seed users") || !slices.Contains(phases, GetByID) || phases[len(phases)-1] != "cleanup" {
		t.Errorf("progress phases %v", phases)
	}
}

// TestErrorsByStatus checks that unexpected statuses are counted by status
// with the first one described, and do not stop the run.
func TestErrorsByStatus(t *testing.T) {
	t.Parallel()
	f := newFakeEndpoint()
	f.failWith["GET /Users/{id}"] = 503
	rep, err := Run(context.Background(), Options{BaseURL: f.server(t), Token: "t", Users: 20, Concurrency: 2, Duration: 100 * time.Millisecond, Scenarios: []string{GetByID}, Keep: true})
	if err != nil {
		t.Fatal(err)
	}
	s := rep.Scenarios[0]
	if s.Errors == 0 || s.Errors != s.Requests || s.ErrorsByStatus["503"] != s.Errors || !strings.Contains(s.FirstError, "answered 503: {") {
		t.Errorf("errors %d of %d: %v, first %q", s.Errors, s.Requests, s.ErrorsByStatus, s.FirstError)
	}
	if !rep.Cleanup.Kept || len(f.live) != 21 {
		t.Errorf("Keep: cleanup %+v, %d resources left, want the 20 users and the group", rep.Cleanup, len(f.live))
	}
}

// TestSeedFailureStops checks that a seeding failure ends the run with the
// endpoint's answer, and that the users seeded before it are deleted.
func TestSeedFailureStops(t *testing.T) {
	t.Parallel()
	f := newFakeEndpoint()
	f.failWith["POST /Groups"] = 403
	_, err := Run(context.Background(), Options{BaseURL: f.server(t), Token: "t", Users: 30, Concurrency: 3, Duration: time.Second})
	if err == nil || !strings.Contains(err.Error(), "seeding groups: POST /Groups answered 403, want 201") || !strings.Contains(err.Error(), "made to fail") {
		t.Fatalf("err = %v", err)
	}
	if len(f.live) != 0 {
		t.Errorf("%d seeded resources left after a failed run", len(f.live))
	}
}

func TestRunRefusesRemoteAndUnknownScenario(t *testing.T) {
	t.Parallel()
	if _, err := Run(context.Background(), Options{BaseURL: "http://192.0.2.1/scim/v2", Token: "t"}); err == nil || !strings.Contains(err.Error(), "not a loopback address") {
		t.Errorf("remote target: %v", err)
	}
	if _, err := Run(context.Background(), Options{BaseURL: "http://127.0.0.1:1/scim/v2", Token: "t", Scenarios: []string{"delete-everything"}}); err == nil || !strings.Contains(err.Error(), "get-by-id") {
		t.Errorf("unknown scenario: %v", err)
	}
}

// TestHTMLReport checks the page names every scenario, draws its charts as
// inline SVG and fetches nothing.
func TestHTMLReport(t *testing.T) {
	t.Parallel()
	f := newFakeEndpoint()
	rep, err := Run(context.Background(), Options{BaseURL: f.server(t), Token: "t", Users: 20, Concurrency: 2, Duration: 100 * time.Millisecond, Scenarios: []string{GetByID, CreateUser}})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := rep.WriteHTML(&buf); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	for _, want := range []string{"<!DOCTYPE html>", GetByID, CreateUser, "Throughput", "Latency distribution", "<polyline", "<rect"} {
		if !strings.Contains(page, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	if n := strings.Count(page, "<svg"); n != 2+2*2 {
		t.Errorf("%d charts, want 6 (throughput, latency, and two per scenario)", n)
	}
	for _, banned := range []string{"<script", "<link", " src=", " href=", "@import", "url("} {
		if strings.Contains(page, banned) {
			t.Errorf("the report contains %q: it must load nothing", banned)
		}
	}
}

// TestListAllWithoutCursors checks that an endpoint that does not
// advertise cursor pagination gets an error in the list-all result, not a
// failed run, and that --page-size is the count asked for.
func TestListAllWithoutCursors(t *testing.T) {
	t.Parallel()
	f := newFakeEndpoint()
	f.noCursor = true
	rep, err := Run(context.Background(), Options{BaseURL: f.server(t), Token: "t", Users: 10, Concurrency: 2, Scenarios: []string{ListAll}})
	if err != nil {
		t.Fatal(err)
	}
	if s := rep.Scenarios[0]; s.Errors != 1 || s.ErrorsByStatus["unsupported"] != 1 || !strings.Contains(s.FirstError, "RFC 9865") || s.Walk != nil {
		t.Errorf("list-all without cursors: %+v", s)
	}
	f = newFakeEndpoint()
	rep, err = Run(context.Background(), Options{BaseURL: f.server(t), Token: "t", Users: 10, Concurrency: 2, Scenarios: []string{ListAll}, PageSize: 3})
	if err != nil {
		t.Fatal(err)
	}
	if w := rep.Scenarios[0].Walk; w == nil || w.Count != 3 || w.Pages != 4 || w.Resources != 10 {
		t.Errorf("list-all with a page size of 3: %+v", w)
	}
}

// TestCeiling checks that --ceiling measures a static copy of a seeded
// user served by this process, not the endpoint, and that each scenario's
// ratio is its rate over the ceiling's.
func TestCeiling(t *testing.T) {
	t.Parallel()
	f := newFakeEndpoint()
	rep, err := Run(context.Background(), Options{BaseURL: f.server(t), Token: "t", Users: 20, Concurrency: 2, Duration: 100 * time.Millisecond,
		Scenarios: []string{GetByID, List100}, Keep: true, Ceiling: true})
	if err != nil {
		t.Fatal(err)
	}
	c := rep.Ceiling
	if c == nil {
		t.Fatal("no ceiling in the report")
	}
	// The fake answers a GET of a live user with its list body.
	if want := len(fmt.Sprintf(`{"totalResults":%d,"Resources":[]}`, 21)); c.Bytes != want {
		t.Errorf("ceiling body of %d bytes, want the %d the endpoint answered", c.Bytes, want)
	}
	if c.Result.Name != CeilingName || c.Result.Requests == 0 || c.Result.Errors != 0 {
		t.Errorf("ceiling result %+v", c.Result)
	}
	// One GET read the user to copy; the ceiling's requests went elsewhere.
	if got, want := f.seen["GET /Users/{id}"], int(rep.Scenarios[0].Requests)+1; got != want {
		t.Errorf("the endpoint saw %d GET /Users/{id}, want %d (the scenario's and one copy)", got, want)
	}
	// Each scenario's ceiling is measured right before it: the first one
	// is the report's.
	if first := rep.Scenarios[0].CeilingRequestsPerSecond; first != c.Result.RequestsPerSecond {
		t.Errorf("the report's ceiling is %v req/s, the first scenario's %v", c.Result.RequestsPerSecond, first)
	}
	for _, s := range rep.Scenarios {
		if want := s.RequestsPerSecond / s.CeilingRequestsPerSecond; s.CeilingRatio != want || want <= 0 {
			t.Errorf("%s: ceilingRatio %v, want %v", s.Name, s.CeilingRatio, want)
		}
	}
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(`"ceilingRatio":`)) || !bytes.Contains(b, []byte(`"ceiling":{"bytes":`)) {
		t.Errorf("the JSON report lacks the ceiling: %.300s", b)
	}
	var page bytes.Buffer
	if err := rep.WriteHTML(&page); err != nil || !strings.Contains(page.String(), "Of ceiling") {
		t.Errorf("the HTML report lacks the ceiling column (err %v)", err)
	}
}
