package server

import (
	"net/http"
	"strings"
	"time"
)

// Observer is told what the server does, for its metrics
// (internal/metrics implements it); the server works without one.
type Observer interface {
	// HTTPRequest is one request served: route is its route pattern
	// (routePattern), never its raw path, so that no id becomes a label.
	HTTPRequest(route, method string, status int, elapsed time.Duration)
	// SCIMOperation is one SCIM operation (scimOperation) on a resource
	// type ("User", "Group"; "" for a Bulk request or a search of all).
	SCIMOperation(resourceType, operation string, status int)
	// AuthFailed is one request refused for its bearer token: authMissing
	// or authInvalid.
	AuthFailed(reason string)
	// AuthLimited is one request refused because its client address used
	// up its failed authentications (failures.go).
	AuthLimited()
}

// Why an authentication failed, for Observer.AuthFailed.
const (
	authMissing = "missing"
	authInvalid = "invalid"
)

type nopObserver struct{}

func (nopObserver) HTTPRequest(string, string, int, time.Duration) {}
func (nopObserver) SCIMOperation(string, string, int)              {}
func (nopObserver) AuthFailed(string)                              {}
func (nopObserver) AuthLimited()                                   {}

// SetObserver makes o the server's observer.
func (s *Server) SetObserver(o Observer) { s.obs = o }

// EnableMetrics serves h at GET /metrics on the server's handler, without
// authentication, as Prometheus scrapes it: it holds counts, no personal data
// or secrets. ferry serve --metrics-listen serves it on an address of its
// own instead.
func (s *Server) EnableMetrics(h http.Handler) { s.metrics = h }

// observe tells the observer of every request, by its route pattern.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		status := rec.status
		if status == 0 {
			status = http.StatusOK
		}
		route := s.routePattern(r.URL.EscapedPath())
		s.obs.HTTPRequest(route, r.Method, status, time.Since(start))
		if typ, op := s.scimOperation(r.Method, r.URL.EscapedPath()); op != "" {
			s.obs.SCIMOperation(typ, op, status)
		}
	})
}

// routePattern names the route of an escaped request path, with {id} and
// the admin API's parameters in place of their values; a path no route
// serves is "other", so that a scan of random paths adds no series.
func (s *Server) routePattern(path string) string {
	switch path {
	case "/healthz", "/readyz", "/metrics", "/scim/v2", adminPrefix, adminPrefix + openAPIPath:
		return path
	}
	if rest, ok := strings.CutPrefix(path, "/scim/v2/"); ok {
		segs, err := pathSegments(rest)
		if err != nil || len(segs) == 0 {
			return "other"
		}
		first := segs[0]
		switch {
		case len(segs) == 1 && (first == ".search" || first == "Bulk" || first == "ServiceProviderConfig" || first == "Me" ||
			first == "ResourceTypes" || first == "Schemas"):
			return "/scim/v2/" + first
		case len(segs) == 2 && (first == "ResourceTypes" || first == "Schemas"):
			return "/scim/v2/" + first + "/{id}"
		}
		rt := resourceTypeAt(s.catalog, first)
		if rt == nil {
			return "other"
		}
		switch {
		case len(segs) == 1:
			return "/scim/v2/" + first
		case len(segs) == 2 && segs[1] == ".search":
			return "/scim/v2/" + first + "/.search"
		case len(segs) == 2:
			return "/scim/v2/" + first + "/{id}"
		}
		return "other"
	}
	if segs, ok := adminSegments(path); ok {
		for _, rt := range adminRoutes() {
			if _, ok := matchRoute(rt.path, segs); ok {
				return adminPrefix + rt.path
			}
		}
	}
	return "other"
}

// scimOperation names the SCIM operation a request is: create, replace,
// patch, delete, get, list, search or bulk, with the resource type it is
// on; op is "" for anything else.
func (s *Server) scimOperation(method, path string) (resourceType, op string) {
	rest, ok := strings.CutPrefix(path, "/scim/v2/")
	if !ok {
		return "", ""
	}
	segs, err := pathSegments(rest)
	if err != nil || len(segs) == 0 {
		return "", ""
	}
	if len(segs) == 1 && method == http.MethodPost {
		switch segs[0] {
		case "Bulk":
			return "", "bulk"
		case ".search":
			return "", "search"
		}
	}
	rt := resourceTypeAt(s.catalog, segs[0])
	if rt == nil {
		return "", ""
	}
	switch {
	case len(segs) == 1 && method == http.MethodGet:
		op = "list"
	case len(segs) == 1 && method == http.MethodPost:
		op = "create"
	case len(segs) == 2 && segs[1] == ".search" && method == http.MethodPost:
		op = "search"
	case len(segs) == 2 && method == http.MethodGet:
		op = "get"
	case len(segs) == 2 && method == http.MethodPut:
		op = "replace"
	case len(segs) == 2 && method == http.MethodPatch:
		op = "patch"
	case len(segs) == 2 && method == http.MethodDelete:
		op = "delete"
	default:
		return "", ""
	}
	return rt.Name, op
}
