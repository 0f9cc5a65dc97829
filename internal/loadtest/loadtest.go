// Package loadtest measures how a SCIM 2.0 endpoint holds load: it seeds
// users and groups through the endpoint's own API, runs bounded scenarios
// of the requests provisioning clients make (reads by id, the filters Entra
// and Okta match with, pages of 100, creates, updates, membership changes)
// with a fixed number of concurrent workers, and reports throughput and
// latency percentiles per scenario, as JSON and as a self-contained HTML
// page.
//
// It speaks plain RFC 7644, so it measures any endpoint, not only Ferry's.
// It refuses targets that are not on the loopback interface unless told
// otherwise: a load test against someone else's server is an attack.
package loadtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The scenarios, by name.
const (
	GetByID          = "get-by-id"
	FilterUserName   = "filter-username"
	FilterExternalID = "filter-externalid"
	FilterEmail      = "filter-email-co"
	List100          = "list-100"
	CreateUser       = "create-user"
	PatchUser        = "patch-user"
	AddMember        = "group-add-member"
	ListAll          = "list-all"
)

// ScenarioInfo describes a scenario.
type ScenarioInfo struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

// Scenarios lists every scenario, in the order a run executes them: reads
// first, so that the writes do not change what they read.
func Scenarios() []ScenarioInfo {
	return []ScenarioInfo{
		{GetByID, "GET /Users/{id} of a random seeded user"},
		{FilterUserName, `GET /Users?filter=userName eq "…" for a random seeded user (Entra's and Okta's matching query)`},
		{FilterExternalID, `GET /Users?filter=externalId eq "…" for a random seeded user`},
		{FilterEmail, `GET /Users?filter=emails[type eq "work" and value co "…"] matching one seeded user`},
		{List100, "GET /Users?startIndex=…&count=100 at a random offset (Okta's import)"},
		{CreateUser, "POST /Users of a new user"},
		{PatchUser, "PATCH /Users/{id} replacing title and displayName of a random seeded user"},
		{AddMember, "PATCH /Groups/{id} adding a random seeded user to a random seeded group"},
		{ListAll, "GET /Users?cursor=…&count=… walking every user with cursors (RFC 9865), one client, page after page, once"},
	}
}

// Options configure a run. The zero values of the numbers are replaced by
// the defaults noted.
type Options struct {
	BaseURL string // the SCIM root, e.g. http://127.0.0.1:8080/scim/v2
	Token   string // bearer token

	Users       int           // users to seed; 1000
	Concurrency int           // concurrent workers per scenario and for seeding; 16
	Duration    time.Duration // how long each scenario runs; 10 s
	Scenarios   []string      // names to run; all when empty
	// PageSize is the count of the list-all walk's pages; 1000, or the
	// endpoint's maxPageSize when that is smaller.
	PageSize int

	// AllowRemote permits a target that is not a loopback address.
	AllowRemote bool
	// Keep leaves the seeded and created resources in place.
	Keep bool
	// Ceiling also measures, with the same workers, an in-process
	// net/http handler on loopback that answers every request with the
	// bytes of one seeded user as the endpoint serves it: the most this
	// machine and this load generator can do for a response of that size.
	// It is measured for half the duration right before each scenario, so
	// that the two see the same background load, and each scenario's
	// CeilingRatio is its rate over the ceiling's just before it.
	Ceiling bool

	// Client sends the requests; nil means one whose transport keeps a
	// connection per worker alive (the default keeps two, which would
	// measure connection setup instead of the endpoint).
	Client *http.Client
	// Seed makes the random choices repeatable; 0 means a random seed.
	Seed uint64
	// Progress, when set, is called as phases advance: seeding and
	// cleanup count resources, scenarios count elapsed milliseconds.
	Progress func(Progress)
}

// Progress reports how far a phase is.
type Progress struct {
	Phase       string // "seed users", "seed groups", a scenario name, "cleanup"
	Done, Total int
	Unit        string // Resources while seeding and cleaning up, Milliseconds in a scenario
}

// The units of Progress.
const (
	Resources    = "resources"
	Milliseconds = "ms"
)

// ReportFormat identifies the JSON layout of Report.
const ReportFormat = "ferry-bench/v1"

// Report is the outcome of a run.
type Report struct {
	Format      string     `json:"format"`
	Target      string     `json:"target"`
	Started     time.Time  `json:"started"`
	Users       int        `json:"users"`
	Groups      int        `json:"groups"`
	Concurrency int        `json:"concurrency"`
	Duration    string     `json:"durationPerScenario"`
	Seed        SeedReport `json:"seed"`
	// Ceiling is the static handler's measurement, with Options.Ceiling.
	Ceiling   *Ceiling `json:"ceiling,omitempty"`
	Scenarios []Result `json:"scenarios"`
	Cleanup   Cleanup  `json:"cleanup"`
}

// SeedReport says how seeding went.
type SeedReport struct {
	Users             int     `json:"users"`
	Groups            int     `json:"groups"`
	Memberships       int     `json:"memberships"`
	Seconds           float64 `json:"seconds"`
	RequestsPerSecond float64 `json:"requestsPerSecond"`
}

// Ceiling is the measurement of a static handler answering one seeded
// user's bytes (see Options.Ceiling), the one before the first scenario.
type Ceiling struct {
	// Bytes is the size of the body it answers.
	Bytes  int    `json:"bytes"`
	Result Result `json:"result"`
}

// Cleanup says what was deleted at the end.
type Cleanup struct {
	Kept    bool `json:"kept"`
	Deleted int  `json:"deleted"`
	Failed  int  `json:"failed"`
}

// Result is one scenario's measurements.
type Result struct {
	Name              string           `json:"name"`
	Description       string           `json:"description"`
	Requests          int64            `json:"requests"`
	Errors            int64            `json:"errors"`
	ErrorsByStatus    map[string]int64 `json:"errorsByStatus"` // "404", "500", "transport"
	Seconds           float64          `json:"seconds"`
	RequestsPerSecond float64          `json:"requestsPerSecond"`
	Latency           Latency          `json:"latencyMs"`
	Distribution      []Bin            `json:"distribution"`
	// Throughput is the completed requests per second in successive
	// intervals of IntervalMillis, for a chart over time.
	Throughput     []float64 `json:"throughput"`
	IntervalMillis float64   `json:"intervalMs"`
	FirstError     string    `json:"firstError,omitempty"`
	// Walk is what the list-all scenario measured of its walk.
	Walk *Walk `json:"walk,omitempty"`
	// CeilingRatio is RequestsPerSecond over CeilingRequestsPerSecond,
	// the ceiling's rate measured right before the scenario, when the run
	// measures one (Options.Ceiling).
	CeilingRatio             float64 `json:"ceilingRatio,omitempty"`
	CeilingRequestsPerSecond float64 `json:"ceilingRequestsPerSecond,omitempty"`
}

// Walk is a walk of every user with cursors: how long its pages took at
// its start and at its end. With keyset pagination behind the cursors the
// two are alike; with pages that skip the rows before them, the last
// pages cost more than the first.
type Walk struct {
	Count        int     `json:"count"` // resources asked for a page
	Pages        int     `json:"pages"`
	Resources    int     `json:"resources"`
	TotalResults int     `json:"totalResults"` // as the first page said
	Seconds      float64 `json:"seconds"`
	// FirstPagesMs and LastPagesMs are the mean time of a page over the
	// first and the last pages of the walk (five each, fewer in a short
	// walk).
	FirstPagesMs float64 `json:"firstPagesMs"`
	LastPagesMs  float64 `json:"lastPagesMs"`
}

// Latency holds percentiles in milliseconds.
type Latency struct {
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
}

func (o *Options) defaults() {
	if o.Users <= 0 {
		o.Users = 1000
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 16
	}
	if o.Duration <= 0 {
		o.Duration = 10 * time.Second
	}
}

// CheckTarget refuses a base URL whose host is not a loopback address (or
// a name resolving only to loopback addresses), unless allowRemote.
func CheckTarget(ctx context.Context, base string, allowRemote bool) error {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("base URL %q is not an http(s) URL", base)
	}
	if allowRemote {
		return nil
	}
	host := u.Hostname()
	var ips []net.IP
	if ip := net.ParseIP(host); ip != nil {
		ips = []net.IP{ip}
	} else {
		addrs, err := net.DefaultResolver.LookupIPAddr(ctx, host)
		if err != nil {
			return fmt.Errorf("resolve %s: %w", host, err)
		}
		for _, a := range addrs {
			ips = append(ips, a.IP)
		}
	}
	for _, ip := range ips {
		if !ip.IsLoopback() {
			return fmt.Errorf("refusing to load %s: %s is not a loopback address; pass --allow-remote only for an endpoint you operate", base, ip)
		}
	}
	if len(ips) == 0 {
		return fmt.Errorf("%s resolves to no address", host)
	}
	return nil
}

// runner is one run's state.
type runner struct {
	opts   Options
	base   string
	client *http.Client
	tag    string
	seed   uint64

	users  []string // seeded user ids, by index
	groups []string // seeded group ids
	total  int      // users on the endpoint after seeding, for list offsets

	mu      sync.Mutex
	created []string // users created by the create-user scenario
}

// Run seeds the endpoint, runs the scenarios one after another and deletes
// what it created (unless Keep), also when ctx is cancelled.
func Run(ctx context.Context, opts Options) (*Report, error) {
	opts.defaults()
	names := opts.Scenarios
	if len(names) == 0 {
		for _, s := range Scenarios() {
			names = append(names, s.Name)
		}
	}
	var infos []ScenarioInfo
	for _, n := range names {
		i := slices.IndexFunc(Scenarios(), func(s ScenarioInfo) bool { return s.Name == n })
		if i < 0 {
			return nil, fmt.Errorf("unknown scenario %q; choose from %s", n, strings.Join(scenarioNames(), ", "))
		}
		infos = append(infos, Scenarios()[i])
	}
	if err := CheckTarget(ctx, opts.BaseURL, opts.AllowRemote); err != nil {
		return nil, err
	}
	r := &runner{opts: opts, base: strings.TrimRight(opts.BaseURL, "/"), client: opts.Client, seed: opts.Seed}
	if r.client == nil {
		tr := &http.Transport{
			Proxy:               nil,
			MaxIdleConns:        2 * opts.Concurrency,
			MaxIdleConnsPerHost: 2 * opts.Concurrency,
			IdleConnTimeout:     90 * time.Second,
		}
		defer tr.CloseIdleConnections()
		r.client = &http.Client{Timeout: 30 * time.Second, Transport: tr}
	}
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, err
	}
	r.tag = hex.EncodeToString(b[:4])
	if r.seed == 0 {
		r.seed = binary.LittleEndian.Uint64(b[4:])
	}
	rep := &Report{
		Format: ReportFormat, Target: r.base, Started: time.Now().UTC(), Users: opts.Users,
		Concurrency: opts.Concurrency, Duration: opts.Duration.String(), Scenarios: []Result{},
	}
	defer func() {
		// Cleanup also runs after an interruption, with its own deadline.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Minute)
		defer cancel()
		rep.Cleanup = r.cleanup(cctx)
	}()
	if err := r.seedAll(ctx, rep); err != nil {
		return rep, err
	}
	var ceiling func() (Result, error)
	if opts.Ceiling {
		var stop func()
		var size int
		var err error
		if ceiling, size, stop, err = r.ceiling(ctx); err != nil {
			return rep, err
		}
		defer stop()
		rep.Ceiling = &Ceiling{Bytes: size}
	}
	for _, info := range infos {
		var c Result
		if ceiling != nil && info.Name != ListAll {
			var err error
			if c, err = ceiling(); err != nil {
				return rep, err
			}
			if rep.Ceiling.Result.Name == "" {
				rep.Ceiling.Result = c
			}
		}
		var res Result
		var err error
		if info.Name == ListAll {
			res, err = r.walk(ctx, info)
		} else {
			res, err = r.scenario(ctx, info, r.opts.Duration, r.next)
		}
		if err != nil {
			return rep, err
		}
		if c.RequestsPerSecond > 0 {
			res.CeilingRatio = res.RequestsPerSecond / c.RequestsPerSecond
			res.CeilingRequestsPerSecond = c.RequestsPerSecond
		}
		rep.Scenarios = append(rep.Scenarios, res)
	}
	return rep, nil
}

// CeilingName is the phase and result name of the ceiling's measurement.
const CeilingName = "ceiling"

// ceiling reads one seeded user as the endpoint serves it and starts a
// net/http server on a loopback port of this process answering those
// bytes. measure runs the run's workers and client against it for half
// the scenarios' duration; stop closes it.
func (r *runner) ceiling(ctx context.Context) (measure func() (Result, error), size int, stop func(), err error) {
	if len(r.users) == 0 {
		return nil, 0, nil, errors.New("ceiling: no seeded user to copy")
	}
	path := "/Users/" + url.PathEscape(r.users[0])
	var raw json.RawMessage
	status, excerpt, err := r.send(ctx, http.MethodGet, path, nil, &raw)
	if err != nil || status != http.StatusOK {
		return nil, 0, nil, failure("ceiling: reading a seeded user", http.MethodGet, path, status, excerpt, err, http.StatusOK)
	}
	body := []byte(raw)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, 0, nil, fmt.Errorf("ceiling: %w", err)
	}
	length := strconv.Itoa(len(body))
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			h := w.Header()
			h.Set("Content-Type", "application/scim+json")
			h.Set("Content-Length", length)
			w.Write(body)
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go srv.Serve(ln)
	base := "http://" + ln.Addr().String() + "/scim/v2"
	measure = func() (Result, error) {
		return r.scenario(ctx, ScenarioInfo{CeilingName, "a static User of the same size from an in-process net/http handler on loopback"},
			max(r.opts.Duration/2, time.Millisecond), func(string, *mrand.Rand, int, int) request {
				return request{method: http.MethodGet, base: base, path: path, ok: [2]int{200}}
			})
	}
	return measure, len(body), func() { srv.Close() }, nil
}

func scenarioNames() []string {
	var out []string
	for _, s := range Scenarios() {
		out = append(out, s.Name)
	}
	return out
}

func (r *runner) progress(phase string, done, total int) {
	if r.opts.Progress != nil {
		unit := Resources
		if phase == CeilingName || (phase != ListAll && slices.Contains(scenarioNames(), phase)) {
			unit = Milliseconds
		}
		r.opts.Progress(Progress{Phase: phase, Done: done, Total: total, Unit: unit})
	}
}

// send sends one request and returns its status, draining the body so
// that the connection is reused. With into set, a 2xx body is decoded; a
// body of any other status is returned, shortened, to explain it.
func (r *runner) send(ctx context.Context, method, path string, body []byte, into any) (int, string, error) {
	return r.sendTo(ctx, r.base, method, path, body, into)
}

// sendTo is send to another base URL.
func (r *runner) sendTo(ctx context.Context, base, method, path string, body []byte, into any) (int, string, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, rd)
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Authorization", "Bearer "+r.opts.Token)
	req.Header.Set("Accept", "application/scim+json")
	if body != nil {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	var excerpt string
	switch {
	case resp.StatusCode/100 != 2:
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		excerpt = string(b)
	case into != nil:
		err = json.NewDecoder(resp.Body).Decode(into)
	}
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, excerpt, err
}

// failure describes an unexpected answer during seeding.
func failure(what, method, path string, status int, excerpt string, err error, want int) error {
	if status == 0 {
		return fmt.Errorf("%s: %s %s: %w", what, method, path, err)
	}
	if err != nil {
		return fmt.Errorf("%s: %s %s answered %d with a body that could not be read: %w", what, method, path, status, err)
	}
	return fmt.Errorf("%s: %s %s answered %d, want %d: %s", what, method, path, status, want, excerpt)
}

// userName, externalID and workEmail are the seeded values of user i.
func (r *runner) userName(i int) string   { return fmt.Sprintf("lt-%s-u%07d@bench.example", r.tag, i) }
func (r *runner) externalID(i int) string { return fmt.Sprintf("lt-%s-x%07d", r.tag, i) }
func (r *runner) emailFragment(i int) string {
	return fmt.Sprintf("%s-u%07d@", r.tag, i)
}

func (r *runner) userBody(i int) []byte {
	b, _ := json.Marshal(map[string]any{
		"schemas":     []string{"urn:ietf:params:scim:schemas:core:2.0:User"},
		"userName":    r.userName(i),
		"externalId":  r.externalID(i),
		"displayName": fmt.Sprintf("Bench User %d", i),
		"name":        map[string]any{"givenName": "Bench", "familyName": fmt.Sprintf("User%07d", i)},
		"emails": []any{
			map[string]any{"type": "work", "value": "lt-" + r.emailFragment(i) + "work.example", "primary": true},
			map[string]any{"type": "home", "value": "lt-" + r.emailFragment(i) + "home.example"},
		},
		"title":  "Engineer",
		"active": true,
	})
	return b
}

type idOnly struct {
	ID string `json:"id"`
}

// parallel runs fn for 0..n-1 on the run's concurrency, stopping at the
// first error, and reports progress under phase.
func (r *runner) parallel(ctx context.Context, phase string, n int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next, done atomic.Int64
	var wg sync.WaitGroup
	for range min(r.opts.Concurrency, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := fn(ctx, i); err != nil {
					cancel(err)
					return
				}
				if d := int(done.Add(1)); d%50 == 0 || d == n {
					r.progress(phase, d, n)
				}
			}
		}()
	}
	wg.Wait()
	return context.Cause(ctx)
}

// seedAll creates the users, then groups of up to 100 of them, members
// added by PATCH in chunks of 50 as Entra does.
func (r *runner) seedAll(ctx context.Context, rep *Report) error {
	start := time.Now()
	n := r.opts.Users
	r.users = make([]string, n)
	var requests atomic.Int64
	err := r.parallel(ctx, "seed users", n, func(ctx context.Context, i int) error {
		var out idOnly
		status, excerpt, err := r.send(ctx, http.MethodPost, "/Users", r.userBody(i), &out)
		requests.Add(1)
		if err != nil || status != http.StatusCreated || out.ID == "" {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return failure("seeding users", http.MethodPost, "/Users", status, excerpt, err, http.StatusCreated)
		}
		r.users[i] = out.ID
		return nil
	})
	if err != nil {
		r.users = slices.DeleteFunc(r.users, func(id string) bool { return id == "" })
		return err
	}
	groups := max(1, n/100)
	r.groups = make([]string, groups)
	var memberships atomic.Int64
	err = r.parallel(ctx, "seed groups", groups, func(ctx context.Context, g int) error {
		body, _ := json.Marshal(map[string]any{
			"schemas":     []string{"urn:ietf:params:scim:schemas:core:2.0:Group"},
			"displayName": fmt.Sprintf("lt-%s-g%05d", r.tag, g),
		})
		var out idOnly
		status, excerpt, err := r.send(ctx, http.MethodPost, "/Groups", body, &out)
		requests.Add(1)
		if err != nil || status != http.StatusCreated || out.ID == "" {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return failure("seeding groups", http.MethodPost, "/Groups", status, excerpt, err, http.StatusCreated)
		}
		r.groups[g] = out.ID
		members := r.users[g*100 : min(n, g*100+100)]
		for chunk := range slices.Chunk(members, 50) {
			refs := make([]any, len(chunk))
			for i, id := range chunk {
				refs[i] = map[string]string{"value": id}
			}
			body, _ := json.Marshal(patchOp("add", "members", refs))
			status, excerpt, err := r.send(ctx, http.MethodPatch, "/Groups/"+out.ID, body, nil)
			requests.Add(1)
			if err != nil || (status != http.StatusOK && status != http.StatusNoContent) {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				return failure("adding group members", http.MethodPatch, "/Groups/"+out.ID, status, excerpt, err, http.StatusNoContent)
			}
			memberships.Add(int64(len(chunk)))
		}
		return nil
	})
	if err != nil {
		r.groups = slices.DeleteFunc(r.groups, func(id string) bool { return id == "" })
		return err
	}
	var page struct {
		TotalResults int `json:"totalResults"`
	}
	if status, _, err := r.send(ctx, http.MethodGet, "/Users?count=0", nil, &page); err == nil && status == http.StatusOK && page.TotalResults > 0 {
		r.total = page.TotalResults
	} else {
		r.total = n
	}
	secs := time.Since(start).Seconds()
	rep.Groups = groups
	rep.Seed = SeedReport{Users: n, Groups: groups, Memberships: int(memberships.Load()), Seconds: secs, RequestsPerSecond: float64(requests.Load()) / secs}
	return nil
}

func patchOp(op, path string, value any) map[string]any {
	return map[string]any{
		"schemas":    []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
		"Operations": []any{map[string]any{"op": op, "path": path, "value": value}},
	}
}

// filterPath builds GET /Users?filter=… with the value JSON-quoted.
func filterPath(expr string, v string) string {
	q, _ := json.Marshal(v)
	return "/Users?filter=" + url.QueryEscape(fmt.Sprintf(expr, q))
}

// request is one request of a scenario, with the statuses that count as
// success.
type request struct {
	method string
	base   string // the endpoint's when empty
	path   string
	body   []byte
	ok     [2]int
	create bool // decode the id of a created user, for cleanup
}

// next returns a scenario's next request for a worker.
func (r *runner) next(name string, rng *mrand.Rand, worker, seq int) request {
	n := len(r.users)
	i := rng.IntN(n)
	switch name {
	case GetByID:
		return request{method: http.MethodGet, path: "/Users/" + url.PathEscape(r.users[i]), ok: [2]int{200}}
	case FilterUserName:
		return request{method: http.MethodGet, path: filterPath("userName eq %s", r.userName(i)), ok: [2]int{200}}
	case FilterExternalID:
		return request{method: http.MethodGet, path: filterPath("externalId eq %s", r.externalID(i)), ok: [2]int{200}}
	case FilterEmail:
		return request{method: http.MethodGet, path: filterPath(`emails[type eq "work" and value co %s]`, r.emailFragment(i)), ok: [2]int{200}}
	case List100:
		start := 1 + rng.IntN(max(1, r.total-99))
		return request{method: http.MethodGet, path: "/Users?startIndex=" + strconv.Itoa(start) + "&count=100", ok: [2]int{200}}
	case CreateUser:
		b, _ := json.Marshal(map[string]any{
			"schemas":  []string{"urn:ietf:params:scim:schemas:core:2.0:User"},
			"userName": fmt.Sprintf("lt-%s-c%03d-%07d@bench.example", r.tag, worker, seq),
			"name":     map[string]any{"givenName": "Created", "familyName": strconv.Itoa(seq)},
			"emails":   []any{map[string]any{"type": "work", "value": fmt.Sprintf("lt-%s-c%03d-%07d@work.example", r.tag, worker, seq), "primary": true}},
			"active":   true,
		})
		return request{method: http.MethodPost, path: "/Users", body: b, ok: [2]int{201}, create: true}
	case PatchUser:
		b, _ := json.Marshal(map[string]any{
			"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
			"Operations": []any{
				map[string]any{"op": "replace", "path": "title", "value": fmt.Sprintf("Title %d", seq)},
				map[string]any{"op": "replace", "path": "displayName", "value": fmt.Sprintf("Bench User %d/%d", i, seq)},
			},
		})
		return request{method: http.MethodPatch, path: "/Users/" + url.PathEscape(r.users[i]), body: b, ok: [2]int{200, 204}}
	case AddMember:
		g := r.groups[rng.IntN(len(r.groups))]
		b, _ := json.Marshal(patchOp("add", "members", []any{map[string]string{"value": r.users[i]}}))
		return request{method: http.MethodPatch, path: "/Groups/" + url.PathEscape(g), body: b, ok: [2]int{200, 204}}
	}
	panic("loadtest: unknown scenario " + name)
}

// worker is one worker's measurements, merged at the end of a scenario.
type worker struct {
	hist     Histogram
	errors   map[string]int64
	requests int64
	timeline []int64
	firstErr string
	created  []string
}

// scenario runs one scenario for the configured duration. Workers start no
// request after the deadline and let the ones in flight finish, so that
// nothing is cut short and counted as an error.
func (r *runner) scenario(ctx context.Context, info ScenarioInfo, d time.Duration, next func(name string, rng *mrand.Rand, worker, seq int) request) (Result, error) {
	start := time.Now()
	// The run is cut into equal slots (at most 60, at least 20 ms long)
	// for the throughput chart; requests start only before the deadline,
	// so each falls in one.
	slots := min(60, max(1, int(d/(20*time.Millisecond))))
	interval := d / time.Duration(slots)
	slotOf := func(t time.Time) int {
		return min(int(int64(t.Sub(start))*int64(slots)/int64(d)), slots-1)
	}
	workers := make([]*worker, r.opts.Concurrency)
	deadline := start.Add(d)
	stop, ticking := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(ticking)
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				r.progress(info.Name, int(min(time.Since(start), d).Milliseconds()), int(d.Milliseconds()))
			}
		}
	}()
	var wg sync.WaitGroup
	for w := range workers {
		wk := &worker{errors: map[string]int64{}, timeline: make([]int64, slots)}
		workers[w] = wk
		rng := mrand.New(mrand.NewPCG(r.seed, uint64(w)<<32|uint64(len(info.Name))))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seq := 0; ctx.Err() == nil && time.Now().Before(deadline); seq++ {
				req := next(info.Name, rng, w, seq)
				var out idOnly
				var into any
				if req.create {
					into = &out
				}
				base := req.base
				if base == "" {
					base = r.base
				}
				t0 := time.Now()
				status, excerpt, err := r.sendTo(ctx, base, req.method, req.path, req.body, into)
				lat := time.Since(t0)
				if ctx.Err() != nil {
					return
				}
				wk.requests++
				wk.timeline[slotOf(t0)]++
				if status != 0 {
					wk.hist.Record(lat)
				}
				switch {
				case status == 0:
					wk.errors["transport"]++
					if wk.firstErr == "" {
						wk.firstErr = fmt.Sprintf("%s %s: %v", req.method, req.path, err)
					}
				case status != req.ok[0] && status != req.ok[1]:
					wk.errors[strconv.Itoa(status)]++
					if wk.firstErr == "" {
						wk.firstErr = fmt.Sprintf("%s %s answered %d: %s", req.method, req.path, status, excerpt)
					}
				case req.create && out.ID != "":
					wk.created = append(wk.created, out.ID)
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(stop)
	<-ticking
	r.progress(info.Name, int(d.Milliseconds()), int(d.Milliseconds()))
	if err := ctx.Err(); err != nil {
		for _, wk := range workers {
			r.remember(wk.created)
		}
		return Result{}, err
	}
	res := Result{Name: info.Name, Description: info.Description, ErrorsByStatus: map[string]int64{}, Seconds: elapsed.Seconds(), IntervalMillis: float64(interval) / 1e6}
	var hist Histogram
	timeline := make([]int64, slots)
	for _, wk := range workers {
		hist.Merge(&wk.hist)
		res.Requests += wk.requests
		for k, v := range wk.errors {
			res.ErrorsByStatus[k] += v
			res.Errors += v
		}
		for i, c := range wk.timeline {
			timeline[i] += c
		}
		if res.FirstError == "" {
			res.FirstError = wk.firstErr
		}
		r.remember(wk.created)
	}
	res.RequestsPerSecond = float64(res.Requests) / elapsed.Seconds()
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	res.Latency = Latency{P50: ms(hist.Quantile(0.50)), P90: ms(hist.Quantile(0.90)), P99: ms(hist.Quantile(0.99)), Max: ms(hist.Max()), Mean: ms(hist.Mean())}
	res.Distribution = hist.Distribution()
	for _, c := range timeline {
		res.Throughput = append(res.Throughput, float64(c)/interval.Seconds())
	}
	return res, nil
}

// walk runs the list-all scenario: one client reads every user, a page
// after another, from an empty cursor to the page without a nextCursor.
// An endpoint that does not advertise cursor pagination in its
// /ServiceProviderConfig gets an error in the result, not a failed run.
func (r *runner) walk(ctx context.Context, info ScenarioInfo) (Result, error) {
	res := Result{Name: info.Name, Description: info.Description, ErrorsByStatus: map[string]int64{}}
	fail := func(key, msg string) (Result, error) {
		res.Errors++
		res.ErrorsByStatus[key]++
		res.FirstError = msg
		return res, nil
	}
	var spc struct {
		Pagination *struct {
			Cursor      bool `json:"cursor"`
			MaxPageSize int  `json:"maxPageSize"`
		} `json:"pagination"`
	}
	status, excerpt, err := r.send(ctx, http.MethodGet, "/ServiceProviderConfig", nil, &spc)
	if status != http.StatusOK || err != nil {
		return fail(statusKey(status), fmt.Sprintf("GET /ServiceProviderConfig answered %d: %s%v", status, excerpt, errText(err)))
	}
	if spc.Pagination == nil || !spc.Pagination.Cursor {
		return fail("unsupported", "the endpoint does not advertise cursor pagination (RFC 9865: pagination.cursor in /ServiceProviderConfig)")
	}
	count := r.opts.PageSize
	if count <= 0 {
		count = 1000
		if m := spc.Pagination.MaxPageSize; m > 0 {
			count = min(count, m)
		}
	}
	w := &Walk{Count: count}
	var hist Histogram
	var took []time.Duration
	var ends []time.Duration
	start := time.Now()
	cursor := ""
	for {
		var page struct {
			TotalResults int               `json:"totalResults"`
			Resources    []json.RawMessage `json:"Resources"`
			NextCursor   string            `json:"nextCursor"`
		}
		path := "/Users?count=" + strconv.Itoa(count) + "&cursor=" + url.QueryEscape(cursor)
		t0 := time.Now()
		status, excerpt, err := r.send(ctx, http.MethodGet, path, nil, &page)
		lat := time.Since(t0)
		if ctx.Err() != nil {
			return Result{}, ctx.Err()
		}
		res.Requests++
		if status != http.StatusOK || err != nil {
			return fail(statusKey(status), fmt.Sprintf("GET %s answered %d: %s%v", path, status, excerpt, errText(err)))
		}
		hist.Record(lat)
		took = append(took, lat)
		ends = append(ends, time.Since(start))
		if w.Pages == 0 {
			w.TotalResults = page.TotalResults
		}
		w.Pages++
		w.Resources += len(page.Resources)
		r.progress(info.Name, min(w.Resources, w.TotalResults), max(w.TotalResults, 1))
		if page.NextCursor == "" {
			break
		}
		if len(page.Resources) == 0 || w.Pages > w.TotalResults+1 {
			return fail("loop", fmt.Sprintf("GET %s: a page of %d resources with a nextCursor, page %d of a walk of %d resources; the walk would not end",
				path, len(page.Resources), w.Pages, w.TotalResults))
		}
		cursor = page.NextCursor
	}
	elapsed := time.Since(start)
	w.Seconds = elapsed.Seconds()
	k := max(1, min(5, len(took)/2))
	w.FirstPagesMs, w.LastPagesMs = meanMillis(took[:k]), meanMillis(took[len(took)-k:])
	res.Walk = w
	res.Seconds = elapsed.Seconds()
	res.RequestsPerSecond = float64(res.Requests) / elapsed.Seconds()
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	res.Latency = Latency{P50: ms(hist.Quantile(0.50)), P90: ms(hist.Quantile(0.90)), P99: ms(hist.Quantile(0.99)), Max: ms(hist.Max()), Mean: ms(hist.Mean())}
	res.Distribution = hist.Distribution()
	// Pages completed per second over the walk, in up to 60 slots.
	slots := min(60, len(ends))
	interval := elapsed / time.Duration(slots)
	counts := make([]int64, slots)
	for _, e := range ends {
		counts[min(int(int64(e)*int64(slots)/int64(elapsed)), slots-1)]++
	}
	for _, c := range counts {
		res.Throughput = append(res.Throughput, float64(c)/interval.Seconds())
	}
	res.IntervalMillis = float64(interval) / 1e6
	return res, nil
}

func meanMillis(ds []time.Duration) float64 {
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	return float64(sum.Microseconds()) / 1000 / float64(len(ds))
}

func statusKey(status int) string {
	if status == 0 {
		return "transport"
	}
	return strconv.Itoa(status)
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func (r *runner) remember(ids []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.created = append(r.created, ids...)
}

// cleanup deletes the groups, then the users, the run created.
func (r *runner) cleanup(ctx context.Context) Cleanup {
	r.mu.Lock()
	users := append(slices.Clone(r.users), r.created...)
	r.mu.Unlock()
	var out Cleanup
	if r.opts.Keep {
		out.Kept = true
		return out
	}
	type item struct{ path string }
	var items []item
	for _, g := range r.groups {
		items = append(items, item{"/Groups/" + url.PathEscape(g)})
	}
	groupCount := len(items)
	for _, u := range users {
		items = append(items, item{"/Users/" + url.PathEscape(u)})
	}
	var deleted, failed atomic.Int64
	del := func(ctx context.Context, i int) error {
		status, _, err := r.send(ctx, http.MethodDelete, items[i].path, nil, nil)
		if err == nil && (status == http.StatusNoContent || status == http.StatusOK || status == http.StatusNotFound) {
			deleted.Add(1)
		} else {
			failed.Add(1)
		}
		return nil
	}
	// Groups first, so that no group refers to a deleted user in between.
	if err := r.parallel(ctx, "cleanup", groupCount, del); err == nil {
		r.parallel(ctx, "cleanup", len(items)-groupCount, func(ctx context.Context, i int) error { return del(ctx, groupCount+i) })
	}
	out.Deleted, out.Failed = int(deleted.Load()), int(failed.Load())
	if ctx.Err() != nil {
		out.Failed += len(items) - out.Deleted - out.Failed
	}
	return out
}
