package scimclient

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/ferryid/ferry/internal/clocktest"
	"github.com/ferryid/ferry/internal/scim"
	"github.com/ferryid/ferry/internal/scim/filter"
	"github.com/ferryid/ferry/internal/scim/resource"
)

// testToken is the bearer token every test client sends; TestTokenNeverLeaks
// looks for it in errors and logs.
const testToken = "s3cr3t-T0KEN-4f9a1c"

// newFakeClock is a Clock whose Sleep returns at once and moves time
// forward, so tests see exactly what the client waited.
func newFakeClock() *clocktest.Clock {
	return clocktest.New(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
}

// totalSlept is all the client waited on c.
func totalSlept(c *clocktest.Clock) time.Duration {
	var t time.Duration
	for _, d := range c.Slept() {
		t += d
	}
	return t
}

// fault is how the fake target misbehaves on one request.
type fault struct {
	status int
	header map[string]string
	body   string
	// block holds the request until the client gives up on it.
	block bool
	// applied performs the request before failing, as when the target
	// made the change and the response was lost.
	applied bool
	// hangup closes the connection without a response.
	hangup bool
}

// recorded is a request the fake target received.
type recorded struct {
	Method string
	URI    string
	Header http.Header
	Body   []byte
}

// fakeTarget is a small SCIM service provider over loopback HTTP: it keeps
// resources by type, answers filter queries and paging as RFC 7644 says,
// and misbehaves as scripted, fault by fault, per method.
type fakeTarget struct {
	t   *testing.T
	srv *httptest.Server

	mu      sync.Mutex
	objects map[string]map[string]resource.Document // by type, by id
	order   map[string][]string                     // ids by type, in creation order
	seq     int
	faults  map[string][]fault // by method
	reqs    []recorded
	// arrived is signalled (without blocking) when a request is recorded.
	arrived chan struct{}

	// Quirks.
	ignoreFilter     bool // answer queries as if unfiltered
	ignoreStartIndex bool
	maxPage          int  // caps count silently, when > 0
	omitTotal        bool // leave totalResults out
	// spc is the body of /ServiceProviderConfig; "" answers 404.
	spc string
	// cursors serves RFC 9865 cursor pages to queries with a cursor
	// parameter; a cursor is "k" and the offset of the page's first object.
	cursors bool
	// cursorMax answers a larger count with 400 invalidCount, when > 0.
	cursorMax int
	// expired lists cursors answered with 400 expiredCursor.
	expired map[string]bool
	// stuckCursor sends this nextCursor on every page, when set.
	stuckCursor string
}

func newTarget(t *testing.T) *fakeTarget {
	t.Helper()
	f := &fakeTarget{t: t, objects: map[string]map[string]resource.Document{}, order: map[string][]string{}, faults: map[string][]fault{},
		arrived: make(chan struct{}, 1)}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// base is the Tenant URL of the fake target.
func (f *fakeTarget) base() string { return f.srv.URL + "/scim/v2" }

func (f *fakeTarget) script(method string, faults ...fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults[method] = append(f.faults[method], faults...)
}

func (f *fakeTarget) put(typ string, doc resource.Document) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.store(typ, doc)
}

func (f *fakeTarget) store(typ string, doc resource.Document) string {
	f.seq++
	id := fmt.Sprintf("%s-%03d", strings.ToLower(typ[:1]), f.seq)
	doc = doc.Clone()
	doc["id"] = id
	if f.objects[typ] == nil {
		f.objects[typ] = map[string]resource.Document{}
	}
	f.objects[typ][id] = doc
	f.order[typ] = append(f.order[typ], id)
	return id
}

func (f *fakeTarget) requests() []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.reqs)
}

// settled returns the requests the target received once it has received
// at least want, or after a second. A request the client timed out may
// reach the handler after the client has moved on when the machine is
// loaded (as under -race), so counts are taken when the target has caught up.
func (f *fakeTarget) settled(method string, want int) int {
	timeout := time.NewTimer(time.Second)
	defer timeout.Stop()
	for {
		n := f.count(method)
		if n >= want {
			return n
		}
		select {
		case <-f.arrived:
		case <-timeout.C:
			return f.count(method)
		}
	}
}

// count returns how many requests with method the target received; "" counts
// all.
func (f *fakeTarget) count(method string) int {
	n := 0
	for _, r := range f.requests() {
		if method == "" || r.Method == method {
			n++
		}
	}
	return n
}

func (f *fakeTarget) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.reqs = append(f.reqs, recorded{Method: r.Method, URI: r.RequestURI, Header: r.Header.Clone(), Body: body})
	select {
	case f.arrived <- struct{}{}:
	default: // a signal is pending already
	}
	var ft *fault
	if q := f.faults[r.Method]; len(q) > 0 {
		ft = &q[0]
		f.faults[r.Method] = q[1:]
	}
	f.mu.Unlock()

	if ft == nil {
		f.handle(w, r, body)
		return
	}
	if ft.applied {
		f.handle(httptest.NewRecorder(), r, body)
	}
	switch {
	case ft.block:
		<-r.Context().Done()
	case ft.hangup:
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	default:
		for k, v := range ft.header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(ft.status)
		io.WriteString(w, ft.body)
	}
}

// handle is the well-behaved target.
func (f *fakeTarget) handle(w http.ResponseWriter, r *http.Request, body []byte) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/scim/v2/")
	if !ok {
		writeError(w, http.StatusNotFound, "", "no such endpoint")
		return
	}
	typ, id, _ := strings.Cut(rest, "/")
	f.mu.Lock()
	defer f.mu.Unlock()
	if typ == "ServiceProviderConfig" {
		if f.spc == "" {
			writeError(w, http.StatusNotFound, "", "no such endpoint")
			return
		}
		w.Header().Set("Content-Type", "application/scim+json")
		io.WriteString(w, f.spc)
		return
	}
	switch {
	case r.Method == http.MethodGet && id == "":
		f.query(w, r, typ)
	case r.Method == http.MethodPost && id == "":
		doc, err := resource.Decode(body)
		if err != nil {
			writeError(w, http.StatusBadRequest, scim.InvalidSyntax, err.Error())
			return
		}
		for _, o := range f.objects[typ] {
			if name, ok := doc.String("userName"); ok && o["userName"] == name {
				writeError(w, http.StatusConflict, scim.Uniqueness, "userName "+name+" is taken")
				return
			}
		}
		id := f.store(typ, doc)
		writeJSON(w, http.StatusCreated, f.objects[typ][id])
	default:
		obj, ok := f.objects[typ][id]
		if !ok {
			writeError(w, http.StatusNotFound, "", "Resource "+id+" not found")
			return
		}
		switch r.Method {
		case http.MethodGet:
			writeJSON(w, http.StatusOK, obj)
		case http.MethodPatch:
			w.WriteHeader(http.StatusNoContent)
		case http.MethodDelete:
			delete(f.objects[typ], id)
			f.order[typ] = slices.DeleteFunc(f.order[typ], func(s string) bool { return s == id })
			w.WriteHeader(http.StatusNoContent)
		default:
			writeError(w, http.StatusMethodNotAllowed, "", "")
		}
	}
}

func (f *fakeTarget) query(w http.ResponseWriter, r *http.Request, typ string) {
	var expr filter.Expr
	if s := r.URL.Query().Get("filter"); s != "" && !f.ignoreFilter {
		var err error
		if expr, err = filter.Parse(s); err != nil {
			writeError(w, http.StatusBadRequest, scim.InvalidFilter, err.Error())
			return
		}
	}
	var all []any
	for _, id := range f.order[typ] {
		if d := f.objects[typ][id]; expr == nil || filter.Match(expr, d, nil) {
			all = append(all, d)
		}
	}
	if f.cursors && r.URL.Query().Has("cursor") {
		f.cursorPage(w, r, all)
		return
	}
	start, _ := strconv.Atoi(r.URL.Query().Get("startIndex"))
	if start < 1 || f.ignoreStartIndex {
		start = 1
	}
	count := len(all)
	if c, err := strconv.Atoi(r.URL.Query().Get("count")); err == nil {
		count = c
	}
	if f.maxPage > 0 {
		count = min(count, f.maxPage)
	}
	page := []any{}
	if start <= len(all) {
		page = all[start-1 : min(len(all), start-1+count)]
	}
	out := map[string]any{
		"schemas":      []string{scim.ListResponseURN},
		"Resources":    page,
		"startIndex":   start,
		"itemsPerPage": len(page),
	}
	if !f.omitTotal {
		out["totalResults"] = len(all)
	}
	writeJSON(w, http.StatusOK, out)
}

// cursorPage answers a cursor query (RFC 9865 §2) with the page of all at
// the cursor's offset.
func (f *fakeTarget) cursorPage(w http.ResponseWriter, r *http.Request, all []any) {
	q := r.URL.Query()
	cursor := q.Get("cursor")
	if f.expired[cursor] {
		writeError(w, http.StatusBadRequest, ScimTypeExpiredCursor, "Cursor has expired.")
		return
	}
	at := 0
	if cursor != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(cursor, "k"))
		if !strings.HasPrefix(cursor, "k") || err != nil || n < 0 || n > len(all) {
			writeError(w, http.StatusBadRequest, ScimTypeInvalidCursor, "Cursor value is invalid.")
			return
		}
		at = n
	}
	count := 100
	if c, err := strconv.Atoi(q.Get("count")); err == nil {
		count = c
	}
	if f.cursorMax > 0 && count > f.cursorMax {
		writeError(w, http.StatusBadRequest, ScimTypeInvalidCount, fmt.Sprintf("Count value must be between 1 and maxPageSize (%d).", f.cursorMax))
		return
	}
	end := min(len(all), at+count)
	out := map[string]any{"schemas": []string{scim.ListResponseURN}, "Resources": all[at:end], "itemsPerPage": end - at}
	if !f.omitTotal {
		out["totalResults"] = len(all)
	}
	if end < len(all) {
		out["nextCursor"] = fmt.Sprintf("k%d", end)
	}
	if f.stuckCursor != "" {
		out["nextCursor"] = f.stuckCursor
	}
	if at > 0 {
		out["previousCursor"] = fmt.Sprintf("k%d", max(0, at-count))
	}
	writeJSON(w, http.StatusOK, out)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/scim+json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, scimType, detail string) {
	writeJSON(w, status, &scim.Error{Status: status, ScimType: scimType, Detail: detail})
}

// scimError is a SCIM Error body as a string, for scripted faults.
func scimError(status int, scimType, detail string) string {
	b, _ := json.Marshal(&scim.Error{Status: status, ScimType: scimType, Detail: detail})
	return string(b)
}

// testRetry is fast to reason about: 4 attempts, 100 ms base, 10 s cap.
var testRetry = RetryPolicy{MaxAttempts: 4, BaseDelay: 100 * time.Millisecond, MaxDelay: 10 * time.Second}

// testLogs collects what clients log, at debug level, for the token check.
type testLogs struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *testLogs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *testLogs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// newTestClient returns a client of tgt with a fake clock, a seeded random
// source, no rate limit and a 2 s attempt timeout, changed by opts.
func newTestClient(t *testing.T, base string, opts ...func(*Config)) (*Client, *clocktest.Clock, *testLogs) {
	t.Helper()
	clock, logs := newFakeClock(), &testLogs{}
	cfg := Config{
		BaseURL:   base,
		Token:     testToken,
		RateLimit: rate.Inf,
		Timeout:   2 * time.Second,
		Retry:     testRetry,
		Clock:     clock,
		Rand:      rand.New(rand.NewPCG(1, 2)),
		Logger:    slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	for _, o := range opts {
		o(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(c.hc.CloseIdleConnections)
	return c, clock, logs
}

// asError returns err as an *Error or fails the test.
func asError(t *testing.T, err error) *Error {
	t.Helper()
	var e *Error
	if err == nil || !errors.As(err, &e) {
		t.Fatalf("err = %v, want an *Error", err)
	}
	return e
}
