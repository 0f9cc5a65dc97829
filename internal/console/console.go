// Package console is Ferry's admin console: the portal an administrator
// coming from Entra ID or Okta expects, served by ferry serve at "/".
// Pages are rendered on the server with html/template; htmx (vendored,
// embedded, no CDN) updates the parts that change in place, such as a
// running cycle's progress. Everything the console does goes through the
// same interface as the admin API (server.Admin), so the two cannot
// disagree.
//
// Sign-in is per tenant, by an admin account's email and password (ferry
// admins) or by an admin API token. Sessions live in the database
// (store.Console), so every replica of a database serves them; the cookie
// carries a random secret whose SHA-256 hash is the session's key. Every
// form carries the session's CSRF token, and a viewer's change is refused
// by the server, whatever the page shows.
package console

import (
	"context"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/ferryid/ferry/internal/provision"
	"github.com/ferryid/ferry/internal/server"
	"github.com/ferryid/ferry/internal/store"
	"github.com/ferryid/ferry/internal/throttle"
)

//go:embed templates static
var assets embed.FS

// Store is what the console keeps and reads: its admins and sessions, the
// tenants, and the admin API tokens it accepts for sign-in.
type Store interface {
	store.Console
	TenantByName(ctx context.Context, name string) (store.Tenant, error)
	TokenByHash(ctx context.Context, hash []byte) (store.Token, error)
	Tokens(ctx context.Context, tenantID string) ([]store.Token, error)
	// Query and Get read the directory: its browser, and the search of
	// assignments.
	Query(ctx context.Context, tenantID, typ string, q store.Query) (store.Page, error)
	Get(ctx context.Context, tenantID, typ, id string, opts store.ReadOptions) (*store.Resource, error)
	// CreateToken and RevokeToken manage the tenant's tokens.
	CreateToken(ctx context.Context, t store.Token, hash []byte) (store.Token, error)
	RevokeToken(ctx context.Context, tenantID, id string) error
}

// Admin is the engine's administration as the admin API serves it
// (server.Admin), and what the console's longer tables need besides.
type Admin interface {
	server.Admin
	// AssignmentsPage lists at most limit of an application's
	// assignments after the one of afterType and afterID, a page read in
	// the database (provision.Service).
	AssignmentsPage(ctx context.Context, tenantID, app, afterType, afterID string, limit int) ([]provision.AssignmentView, error)
}

// Config configures a Console.
type Config struct {
	Store Store
	// Admin is the engine's administration.
	Admin Admin
	// Secure marks the session cookie Secure (and names it with the
	// __Host- prefix) on every request, for a console behind a proxy that
	// terminates TLS; a request that arrives over TLS gets it anyway.
	Secure bool
	// IdleTimeout ends a session unused for this long; MaxAge ends any
	// session this long after its sign-in.
	IdleTimeout, MaxAge time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	Log *slog.Logger
}

// Default session lifetimes: a working session ends after 30 idle minutes
// and, whatever happens, 12 hours after sign-in.
const (
	DefaultIdleTimeout = 30 * time.Minute
	DefaultMaxAge      = 12 * time.Hour
)

// Console serves the admin console.
type Console struct {
	cfg    Config
	pages  map[string]*template.Template
	static http.Handler
	signIn *throttle.Failures
	mux    *http.ServeMux
	// decoy is the hash verified for an unknown account (decoyHash).
	decoyOnce sync.Once
	decoy     string
}

// New returns the console of cfg.
func New(cfg Config) (*Console, error) {
	if cfg.Store == nil || cfg.Admin == nil {
		return nil, errors.New("console: a store and an admin are required")
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.MaxAge <= 0 {
		cfg.MaxAge = DefaultMaxAge
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	static, err := fs.Sub(assets, "static")
	if err != nil {
		return nil, err
	}
	c := &Console{cfg: cfg, pages: pages, static: http.StripPrefix("/static/", http.FileServerFS(static)),
		signIn: throttle.NewFailures(maxFailedSignIns, signInWindow, cfg.Now)}
	c.mux = c.routes()
	return c, nil
}

// ServeHTTP serves the console. Its pages are never cached and never
// framed by another site.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Content-Type-Options", "nosniff")
	if r.Method != http.MethodGet && r.Method != http.MethodHead && !sameOrigin(r) {
		// Sign-in has no session to carry a CSRF token yet: a form posted
		// from another site (which would sign the victim in to the
		// attacker's account) is refused by the Origin browsers send.
		c.refuse(w, r, nil, http.StatusForbidden, "This form was sent from another site.")
		return
	}
	c.mux.ServeHTTP(w, r)
}

// sameOrigin reports whether r's Origin header, when it has one, names
// the host r was sent to: its Host, or the X-Forwarded-Host a proxy in
// front set (a cross-site form cannot set that header).
func sameOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true // not a browser's cross-site form; the CSRF token guards the rest
	}
	u, err := url.Parse(origin)
	if err != nil {
		return false
	}
	return u.Host == r.Host || (u.Host != "" && u.Host == r.Header.Get("X-Forwarded-Host"))
}

// routes lists every page and action. Actions are POSTs, which
// authorize checks for a session, the CSRF token and the admin role.
func (c *Console) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("GET /static/", cacheAssets(c.static))
	mux.HandleFunc("GET /signin", c.signInPage)
	mux.HandleFunc("POST /signin", c.signInWithPassword)
	mux.HandleFunc("POST /signin/token", c.signInWithToken)
	mux.Handle("POST /signout", c.authorize(viewer, c.signOut))
	mux.Handle("GET /{$}", c.authorize(viewer, func(w http.ResponseWriter, r *http.Request, s *session) {
		http.Redirect(w, r, "/apps", http.StatusSeeOther)
	}))
	mux.Handle("GET /apps", c.authorize(viewer, c.appsPage))
	mux.Handle("GET /apps/new", c.authorize(viewer, c.galleryPage))
	mux.Handle("POST /apps", c.authorize(admin, c.createApp))
	mux.Handle("GET /apps/{name}", c.authorize(viewer, c.appPage))
	mux.Handle("GET /apps/{name}/delete", c.authorize(viewer, c.deletePage))
	mux.Handle("GET /apps/{name}/assignments", c.authorize(viewer, c.assignPage))
	mux.Handle("POST /apps/{name}/assign", c.authorize(admin, c.assign))
	mux.Handle("POST /apps/{name}/unassign", c.authorize(admin, c.unassign))
	mux.Handle("GET /apps/{name}/mappings", c.authorize(viewer, c.mappingsPage))
	mux.Handle("GET /apps/{name}/mappings/{object}/{row}", c.authorize(viewer, c.mappingForm))
	mux.Handle("POST /apps/{name}/mappings/{object}/{row}", c.authorize(admin, c.saveMapping))
	mux.Handle("POST /apps/{name}/mappings/{object}/{row}/remove", c.authorize(admin, c.removeMapping))
	mux.Handle("POST /apps/{name}/mappings/try", c.authorize(viewer, c.tryExpression))
	mux.Handle("GET /apps/{name}/scoping/{object}", c.authorize(viewer, c.scopingPage))
	mux.Handle("POST /apps/{name}/scoping/{object}/add", c.authorize(admin, c.addClause))
	mux.Handle("POST /apps/{name}/scoping/{object}/{filter}/{clause}/remove", c.authorize(admin, c.removeClause))
	mux.Handle("GET /apps/{name}/restart", c.authorize(viewer, c.restartPage))
	mux.Handle("POST /apps/{name}/restart", c.authorize(admin, c.restart))
	mux.Handle("POST /apps/{name}/deletes", c.authorize(admin, c.decideDeletes))
	mux.Handle("POST /apps/{name}/retry", c.authorize(admin, c.retry))
	mux.Handle("GET /apps/{name}/failures", c.authorize(viewer, c.failuresPage))
	mux.Handle("GET /apps/{name}/plan", c.authorize(viewer, c.planPage))
	mux.Handle("POST /apps/{name}/plan", c.authorize(viewer, c.computePlan))
	mux.Handle("GET /apps/{name}/audit", c.authorize(viewer, c.auditPage))
	mux.Handle("GET /apps/{name}/settings", c.authorize(viewer, c.settingsPage))
	mux.Handle("POST /apps/{name}/settings", c.authorize(admin, c.saveSettings))
	mux.Handle("GET /apps/{name}/ondemand", c.authorize(viewer, c.onDemandPage))
	mux.Handle("POST /apps/{name}/ondemand", c.authorize(admin, c.provisionOnDemand))
	mux.Handle("GET /apps/{name}/logs", c.authorize(viewer, c.logsPage))
	mux.Handle("GET /apps/{name}/logs/export/{format}", c.authorize(viewer, c.exportLogs))
	mux.Handle("POST /apps/{name}/delete", c.authorize(admin, c.deleteApp))
	mux.Handle("GET /apps/{name}/status", c.authorize(viewer, c.appStatus))
	mux.Handle("POST /apps/{name}/credentials", c.authorize(admin, c.saveCredentials))
	mux.Handle("POST /apps/{name}/test", c.authorize(admin, c.testConnection))
	mux.Handle("POST /apps/{name}/provisioning", c.authorize(admin, c.setProvisioning))
	mux.Handle("GET /directory/{type}", c.authorize(viewer, c.directoryList))
	mux.Handle("GET /directory/{type}/{id}", c.authorize(viewer, c.directoryOne))
	mux.Handle("GET /tokens", c.authorize(viewer, c.tokensPage))
	mux.Handle("POST /tokens", c.authorize(admin, c.createToken))
	mux.Handle("POST /tokens/{id}/revoke", c.authorize(admin, c.revokeToken))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		c.notFound(w, r)
	})
	return mux
}

// cacheAssets lets browsers keep the embedded assets for a day: they
// change only with the binary.
func cacheAssets(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=86400")
		h.ServeHTTP(w, r)
	})
}
