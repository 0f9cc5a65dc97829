package provision

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ferryid/ferry/internal/egress"
	"github.com/ferryid/ferry/internal/notify"
	"github.com/ferryid/ferry/internal/provision/expr"
	"github.com/ferryid/ferry/internal/scim/schema"
	"github.com/ferryid/ferry/internal/scimclient"
	"github.com/ferryid/ferry/internal/seal"
	"github.com/ferryid/ferry/internal/store"
	"golang.org/x/time/rate"
)

// Options tunes an Engine. The zero value is a sound default.
type Options struct {
	// Workers is how many objects a job processes at once; 16 when zero.
	// Most of an object's time is spent waiting for the target and for
	// commits, so more workers than cores pay: 8 to 32 workers took an
	// initial cycle into a local Ferry from 600 to 700 users a second on
	// two cores.
	Workers int
	// PollInterval is how often the scheduler looks for due jobs and new
	// directory changes; 500 ms when zero. A directory write reaches the
	// target within about this long plus the time to send it.
	PollInterval time.Duration
	// Egress says which addresses the engine may connect to beyond the
	// public internet: every request to a target goes through an HTTP
	// client it guards, Test Connection's included. nil is egress's
	// default, which refuses loopback, private, link-local (cloud
	// metadata), unspecified, multicast and broadcast addresses: a tenant
	// admin chooses the Tenant URL, and the secret token goes there.
	Egress *egress.Policy
	// MaxRateLimit is the highest rateLimit, in requests a second, an
	// application may be saved with; DefaultMaxRateLimit when zero.
	MaxRateLimit float64
	// Owner names this process in job leases; a random id when empty.
	Owner string
	// RetryPolicy is the SCIM client's retry policy; its default when
	// zero.
	RetryPolicy scimclient.RetryPolicy
	// Clock is the engine's one clock: when things happen (log records,
	// escrow schedules, quarantines, heartbeats), how long they take, when
	// a lease is renewed and until when it lets the job act; the SCIM
	// clients wait on it too (rate limit, backoff, Retry-After).
	// scimclient.RealClock when nil, whose readings carry the monotonic
	// clock: the fence and the supervisor measure the time that passed, not
	// the wall clock, which may jump.
	Clock scimclient.Clock
	// LogRetention is how long provisioning logs are kept; 30 days (as
	// Entra's) when zero.
	LogRetention time.Duration
	// Notifier delivers notices to applications' notification addresses;
	// none are sent when nil.
	Notifier *notify.Notifier
	// LeaseTTL is how long a job's lease lasts without renewal: how long
	// the job of a process that died waits for another to take it over;
	// DefaultLeaseTTL when zero. See lease.go for the timings that follow
	// from it.
	LeaseTTL time.Duration
	// Observer is told of cycles, objects, requests to targets,
	// quarantines and the lag of changes, for metrics; nil tells no one.
	Observer Observer
	// IndexListingLimit is the most objects of one type a full cycle lists
	// from a target that pages by startIndex only (RFC 7644 §3.4.2.4);
	// the objects of a larger one are matched by query and read by id, one
	// at a time. DefaultIndexListingLimit when zero. A target that
	// advertises cursor pagination (RFC 9865) is listed whatever its size.
	IndexListingLimit int
}

// DefaultIndexListingLimit is Options.IndexListingLimit's default. Index
// paging gets slower page by page on many targets (each page skips the
// ones before it) and shifts when objects come and go during the listing;
// cursors do neither.
const DefaultIndexListingLimit = 20000

// DefaultMaxRateLimit is Options.MaxRateLimit's default, in requests a
// second: a tenant admin may not turn the engine into a flood.
const DefaultMaxRateLimit = 1000

// Engine is the provisioning runtime: its scheduler (Run) runs the jobs of
// the applications that are On, each in one process at a time, and it runs
// what must act as a job does (a cycle now, a provision on demand, a plan)
// for the Service. It keeps what outlives a cycle in this process: the
// applications' SCIM clients, the jobs running here, the objects being
// processed. It knows nothing of administration: the Service holds it,
// never the other way round.
type Engine struct {
	store   store.Store
	catalog *schema.Catalog
	sealer  *seal.Sealer
	log     *slog.Logger
	opts    Options
	workers int
	clock   scimclient.Clock
	env     expr.Env
	owner   string
	obs     Observer

	objMu   sync.Mutex
	objects map[string]*objectLock

	runMu   sync.Mutex
	running map[string]bool // app ids whose job runs in this process
	// interrupts stop the jobs running in this process, by app id.
	interrupts map[string]context.CancelCauseFunc
	// scheduleFailing says the scheduler's last look at the database
	// failed.
	scheduleFailing bool
	wake            chan struct{}

	clientMu sync.Mutex
	clients  map[string]cachedClient // by app id
}

// cachedClient is an application's SCIM client, kept across cycles so that
// its rate limit and its connections to the target carry over.
type cachedClient struct {
	version int64 // the application version it was made for
	client  *scimclient.Client
}

type objectLock struct {
	mu   sync.Mutex
	refs int
}

// NewEngine returns an Engine over st. sealer opens the applications'
// sealed secrets (credentials.go).
func NewEngine(st store.Store, catalog *schema.Catalog, sealer *seal.Sealer, log *slog.Logger, opts Options) *Engine {
	if opts.MaxRateLimit <= 0 {
		opts.MaxRateLimit = DefaultMaxRateLimit
	}
	if opts.IndexListingLimit <= 0 {
		opts.IndexListingLimit = DefaultIndexListingLimit
	}
	e := &Engine{store: st, catalog: catalog, sealer: sealer, log: log, opts: opts,
		objects: map[string]*objectLock{}, running: map[string]bool{}, interrupts: map[string]context.CancelCauseFunc{},
		wake:    make(chan struct{}, 1),
		clients: map[string]cachedClient{}}
	e.workers = opts.Workers
	if e.workers <= 0 {
		e.workers = 16
	}
	e.clock = opts.Clock
	if e.clock == nil {
		e.clock = scimclient.RealClock{}
	}
	e.env = expr.Env{Now: e.clock.Now}
	e.owner = opts.Owner
	if e.owner == "" {
		e.owner = store.NewID()
	}
	e.obs = opts.Observer
	if e.obs == nil {
		e.obs = nopObserver{}
	}
	return e
}

// lockObject serializes the processing of one object of an application
// in this process (a cycle and a provision on demand, say).
func (e *Engine) lockObject(appID, typ, id string) func() {
	key := appID + "/" + typ + "/" + id
	e.objMu.Lock()
	l := e.objects[key]
	if l == nil {
		l = &objectLock{}
		e.objects[key] = l
	}
	l.refs++
	e.objMu.Unlock()
	l.mu.Lock()
	return func() {
		l.mu.Unlock()
		e.objMu.Lock()
		if l.refs--; l.refs == 0 {
			delete(e.objects, key)
		}
		e.objMu.Unlock()
	}
}

// loadState reads a job's state.
func (e *Engine) loadState(ctx context.Context, appID string) (*store.JobState, *jobState, error) {
	js, err := e.store.JobState(ctx, appID)
	if err != nil {
		return nil, nil, err
	}
	s := &jobState{}
	if len(js.State) > 0 {
		if err := json.Unmarshal(js.State, s); err != nil {
			return nil, nil, fmt.Errorf("the job state does not decode: %w", err)
		}
	}
	return js, s, nil
}

// client returns the SCIM client of an application's target, made anew
// when the application changed since.
func (e *Engine) client(a *store.App, cfg Config) (*scimclient.Client, error) {
	e.clientMu.Lock()
	defer e.clientMu.Unlock()
	if c, ok := e.clients[a.ID]; ok && c.version == a.Version {
		return c.client, nil
	}
	c, err := e.newClient(a, cfg)
	if err != nil {
		return nil, err
	}
	e.clients[a.ID] = cachedClient{version: a.Version, client: c}
	return c, nil
}

// forgetClient drops the SCIM client of an application that is gone.
func (e *Engine) forgetClient(appID string) {
	e.clientMu.Lock()
	delete(e.clients, appID)
	e.clientMu.Unlock()
}

// newClient makes a SCIM client for an application's target.
func (e *Engine) newClient(a *store.App, cfg Config) (*scimclient.Client, error) {
	creds, err := openCredentials(e.sealer, a)
	if err != nil {
		return nil, err
	}
	token := creds.Token
	limit := scimclient.DefaultRateLimit
	if cfg.RateLimit > 0 {
		// Capped also here: the application may have been saved before the
		// maximum was lowered, or by a replica with another.
		limit = rate.Limit(min(cfg.RateLimit, e.opts.MaxRateLimit))
	}
	// A client of its own per application version, as scimclient's default
	// would have: its connections never outlive the configuration.
	return scimclient.New(scimclient.Config{BaseURL: cfg.TenantURL, Token: string(token),
		Profile: scimclient.Profile(cfg.Profile), RateLimit: limit, HTTPClient: e.opts.Egress.Client(),
		Retry: e.opts.RetryPolicy, Clock: e.clock, Logger: e.log, Observer: e.obs})
}

func fullInterval(c Config) time.Duration {
	if c.FullCycleInterval > 0 {
		return time.Duration(c.FullCycleInterval)
	}
	return DefaultFullCycleInterval
}
