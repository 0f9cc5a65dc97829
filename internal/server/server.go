// Package server is Ferry's HTTP edge: the SCIM 2.0 service provider under
// /scim/v2 (RFC 7644), the admin API under /api/v1, bearer-token
// authentication, and the health endpoints. It turns requests into calls on
// the protocol core (internal/scim), the directory store and the
// provisioning engine, and turns *scim.Error values and the store's errors
// into error responses: a client's mistake is a 4xx, never a 500.
package server

import (
	"context"
	"crypto/rand"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ferryid/ferry/internal/directory"
	"github.com/ferryid/ferry/internal/extensions"
	"github.com/ferryid/ferry/internal/scim/schema"
	"github.com/ferryid/ferry/internal/sourcesync"
	"github.com/ferryid/ferry/internal/store"
	"github.com/ferryid/ferry/internal/throttle"
	"github.com/ferryid/ferry/internal/webhooks"
)

// Config holds the service provider's limits. The zero value is not
// usable; start from DefaultConfig.
type Config struct {
	MaxBodyBytes      int64         // largest request body outside Bulk and imports
	MaxImportBytes    int64         // largest CSV import (POST /api/v1/import)
	ImportTimeout     time.Duration // how long one import may take
	MaxBulkOperations int           // Bulk operations per request, advertised
	MaxBulkBytes      int64         // largest Bulk request body, advertised
	MaxResults        int           // the most resources one list returns, advertised
	DefaultCount      int           // resources per page when the client gives no count
	// CursorKey signs the cursors of cursor-based pagination (RFC 9865).
	// Every replica must have the same one, and keep it across restarts,
	// for a cursor one issued to be good on another: ferry serve derives
	// it from its secret key (seal.DeriveKey). Empty: New makes a random
	// one, good for this process alone.
	CursorKey []byte
	// CursorTimeout is how long a cursor stays good after the page that
	// issued it, advertised as cursorTimeout.
	CursorTimeout time.Duration
	// Now is the clock cursors are issued and checked by; nil is time.Now.
	Now            func() time.Time
	RequestTimeout time.Duration // how long one request may take in the handler
	DefaultTenant  string        // the tenant created at start
	// ReadCacheBytes bounds the memory of the rendered resources kept for
	// reads (see readcache.go); 0 keeps none.
	ReadCacheBytes int
	// LogRequests logs every request; false logs only those answered
	// with a status of 400 or more. A log line costs a request a write to
	// the log: at thousands of requests a second, a tenth of its time.
	LogRequests bool
}

// DefaultCursorTimeout is how long a cursor stays good between pages unless
// configured otherwise: a client that walks a million users a thousand at a
// time takes a fraction of a second a page, and one that stops for longer
// than this starts over.
const DefaultCursorTimeout = 10 * time.Minute

// DefaultConfig returns the limits Ferry ships with.
func DefaultConfig() Config {
	return Config{
		MaxBodyBytes:      1 << 20,
		MaxImportBytes:    128 << 20,
		ImportTimeout:     30 * time.Minute,
		MaxBulkOperations: 1000,
		MaxBulkBytes:      4 << 20,
		MaxResults:        1000,
		DefaultCount:      100,
		CursorTimeout:     DefaultCursorTimeout,
		RequestTimeout:    30 * time.Second,
		DefaultTenant:     "default",
		ReadCacheBytes:    DefaultReadCacheBytes,
		LogRequests:       true,
	}
}

// Server serves the SCIM API for every tenant of one store.
type Server struct {
	cfg     Config
	store   store.Store
	catalog *schema.Catalog
	// resourceRoutes names the routes of catalog's resource types, for
	// the metrics (classify).
	resourceRoutes map[string]resourceRoutes
	// registry extends catalog with each tenant's declared schemas
	// (tenantCatalog).
	registry *schema.Registry
	log      *slog.Logger
	tokens   *tokenCache
	// failures limits failed authentications per client address.
	failures *throttle.Failures
	obs      Observer
	metrics  http.Handler // GET /metrics; nil until EnableMetrics
	// cache keeps rendered resources for reads; nil keeps none.
	cache *readCache
	// catalogs keeps each tenant's catalog when the store tells of every
	// commit (store.CommitWatcher); nil otherwise, and every request
	// reads the tenant's declarations.
	catalogs *schema.CatalogCache
	// versioned keeps each tenant's catalog with its schemas version when
	// the store does not tell of its commits (catalogs.go); nil otherwise.
	versioned *versionedCatalogs
	admin     Admin        // nil until EnableAdmin
	console   http.Handler // "/" and what no other route serves; nil until EnableConsole
	// webhooks serves the admin API's webhooks; nil until EnableWebhooks.
	webhooks *webhooks.Service
	// directory is the directory as the admin API's users and groups
	// routes handle it.
	directory *directory.Service
	// extensions serves the admin API's schemas routes.
	extensions *extensions.Service
	sources    *sourcesync.Runner // nil until EnableSources
	cursors    cursorCodec
	// dbDown says the database did not answer at the last look, so that
	// its going away and coming back are logged once each.
	dbDown atomic.Bool
}

// New returns a server over st. The catalog must define the User and Group
// resource types.
func New(cfg Config, st store.Store, catalog *schema.Catalog, log *slog.Logger) *Server {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	key := cfg.CursorKey
	if len(key) == 0 {
		key = make([]byte, 32)
		rand.Read(key)
	}
	s := &Server{
		cursors:        cursorCodec{key: key, timeout: cfg.CursorTimeout, now: cfg.Now},
		cfg:            cfg,
		store:          st,
		catalog:        catalog,
		resourceRoutes: newResourceRoutes(catalog),
		log:            log,
		registry:       schema.NewRegistry(catalog),
		tokens:         newTokenCache(time.Now),
		failures:       newFailureLimiter(time.Now),
		obs:            nopObserver{},
		cache:          newReadCache(cfg.ReadCacheBytes),
		directory:      directory.New(st, catalog),
		extensions:     extensions.New(st, catalog),
	}
	if w, ok := st.(store.CommitWatcher); ok {
		catalogs := schema.NewCatalogCache()
		if w.WatchCommits(func(c store.Commit) {
			s.cache.apply(c)
			catalogs.Invalidate(c.Schemas)
		}) {
			s.cache.own()
			s.catalogs = catalogs
		}
	}
	if s.catalogs == nil {
		s.versioned = newVersionedCatalogs()
	}
	return s
}

// Handler returns the HTTP handler for every route Ferry serves.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", s.ready)
	if s.metrics != nil {
		mux.Handle("GET /metrics", s.metrics)
	}
	scimAPI := s.authenticate(http.HandlerFunc(s.routeSCIM))
	mux.Handle("/scim/v2/", scimAPI)
	mux.Handle("/scim/v2", scimAPI)
	mux.HandleFunc("GET "+adminPrefix+openAPIPath, s.openAPI)
	mux.HandleFunc(adminPrefix+"/", s.routeAdmin)
	mux.HandleFunc(adminPrefix, s.routeAdmin)
	if s.console != nil {
		mux.Handle("/", s.console)
	}
	return s.instrument(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// SCIM requests, nearly all of them, skip the mux's pattern
		// matching when their path is clean (the mux redirects the others
		// to their clean form).
		if p := r.URL.Path; strings.HasPrefix(p, "/scim/v2/") && isCleanPath(p) {
			scimAPI.ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	}))
}

// isCleanPath reports whether path.Clean leaves p as it is, but for a
// trailing slash: no empty, "." or ".." segments.
func isCleanPath(p string) bool {
	return !strings.Contains(p, "//") && !strings.Contains(p, "/./") && !strings.Contains(p, "/../") &&
		!strings.HasSuffix(p, "/.") && !strings.HasSuffix(p, "/..")
}

// ready reports whether the store answers.
func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if s.databaseUnavailable(ctx) {
		w.Header().Set("Retry-After", retryAfterSeconds)
		http.Error(w, "store unavailable\n", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ready\n"))
}
