package server

import (
	"net/http"
	"strings"
	"time"

	"github.com/ferryid/ferry/internal/scim/schema"
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

// routePattern names the route of an escaped request path (classify).
func (s *Server) routePattern(path string) string {
	route, _, _ := s.classify("", path)
	return route
}

// scimOperation names the SCIM operation of a request (classify).
func (s *Server) scimOperation(method, path string) (resourceType, op string) {
	_, resourceType, op = s.classify(method, path)
	return resourceType, op
}

// resourceRoutes are the route patterns of a resource type's endpoint
// (classify), made once rather than per request.
type resourceRoutes struct{ name, list, search, byID string }

// newResourceRoutes returns the routes of cat's resource types by their
// endpoint's path segment ("Users").
func newResourceRoutes(cat *schema.Catalog) map[string]resourceRoutes {
	routes := map[string]resourceRoutes{}
	for _, rt := range cat.ResourceTypes() {
		if seg, ok := strings.CutPrefix(rt.Endpoint, "/"); ok && seg != "" {
			base := "/scim/v2" + rt.Endpoint
			routes[seg] = resourceRoutes{name: rt.Name, list: base, search: base + "/.search", byID: base + "/{id}"}
		}
	}
	return routes
}

// classify names a request by its method and escaped path, for the
// observer: route is its route pattern, with {id} and the admin API's
// parameters in place of their values, and "other" for a path no route
// serves, so that a scan of random paths adds no series; op is the SCIM
// operation (create, replace, patch, delete, get, list, search, bulk) on
// resourceType ("" for none), "" for any other request.
func (s *Server) classify(method, path string) (route, resourceType, op string) {
	return s.classifyWith(method, path, nil)
}

// classifyRequest is classify for r, with the SCIM path's segments that
// its handler split (scimSegments) when it did.
func (s *Server) classifyRequest(r *http.Request) (route, resourceType, op string) {
	return s.classifyWith(r.Method, r.URL.EscapedPath(), requestContextOf(r))
}

// classifyWith is classify, taking the SCIM path's segments from rc when
// the handler split them there.
func (s *Server) classifyWith(method, path string, rc *requestContext) (route, resourceType, op string) {
	switch path {
	case "/healthz", "/readyz", "/metrics", "/scim/v2", adminPrefix, adminPrefix + openAPIPath:
		return path, "", ""
	}
	if rest, ok := strings.CutPrefix(path, "/scim/v2/"); ok {
		var segs []string
		var err error
		if rc != nil && rc.segsSplit {
			segs, err = rc.segs, rc.segsErr
		} else {
			segs, err = pathSegments(rest)
		}
		if err != nil || len(segs) == 0 {
			return "other", "", ""
		}
		first := segs[0]
		switch {
		case len(segs) == 1 && (first == ".search" || first == "Bulk"):
			if method == http.MethodPost {
				op = strings.ToLower(strings.TrimPrefix(first, "."))
			}
			return "/scim/v2/" + first, "", op
		case len(segs) == 1 && (first == "ServiceProviderConfig" || first == "Me" || first == "ResourceTypes" || first == "Schemas"):
			return "/scim/v2/" + first, "", ""
		case len(segs) == 2 && (first == "ResourceTypes" || first == "Schemas"):
			return "/scim/v2/" + first + "/{id}", "", ""
		}
		rt, ok := s.resourceRoutes[first]
		if !ok {
			return "other", "", ""
		}
		switch {
		case len(segs) == 1:
			route = rt.list
			switch method {
			case http.MethodGet:
				op = "list"
			case http.MethodPost:
				op = "create"
			}
		case len(segs) == 2 && segs[1] == ".search":
			route = rt.search
			if method == http.MethodPost {
				op = "search"
			}
		case len(segs) == 2:
			route = rt.byID
			switch method {
			case http.MethodGet:
				op = "get"
			case http.MethodPut:
				op = "replace"
			case http.MethodPatch:
				op = "patch"
			case http.MethodDelete:
				op = "delete"
			}
		default:
			return "other", "", ""
		}
		if op == "" {
			return route, "", ""
		}
		return route, rt.name, op
	}
	if segs, ok := adminSegments(path); ok {
		for _, rt := range adminRoutes() {
			if _, ok := matchRoute(rt.path, segs); ok {
				return adminPrefix + rt.path, "", ""
			}
		}
		return "other", "", ""
	}
	if s.console != nil {
		// The console's pages are one route: their paths name
		// applications.
		return "console", "", ""
	}
	return "other", "", ""
}
