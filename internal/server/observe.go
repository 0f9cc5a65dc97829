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

// classify names a request by its method and escaped path, for the
// observer: route is its route pattern, with {id} and the admin API's
// parameters in place of their values, and "other" for a path no route
// serves, so that a scan of random paths adds no series; op is the SCIM
// operation (create, replace, patch, delete, get, list, search, bulk) on
// resourceType ("" for none), "" for any other request.
func (s *Server) classify(method, path string) (route, resourceType, op string) {
	switch path {
	case "/healthz", "/readyz", "/metrics", "/scim/v2", adminPrefix, adminPrefix + openAPIPath:
		return path, "", ""
	}
	if rest, ok := strings.CutPrefix(path, "/scim/v2/"); ok {
		segs, err := pathSegments(rest)
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
		rt := resourceTypeAt(s.catalog, first)
		if rt == nil {
			return "other", "", ""
		}
		switch {
		case len(segs) == 1:
			route = "/scim/v2" + rt.Endpoint
			switch method {
			case http.MethodGet:
				op = "list"
			case http.MethodPost:
				op = "create"
			}
		case len(segs) == 2 && segs[1] == ".search":
			route = "/scim/v2" + rt.Endpoint + "/.search"
			if method == http.MethodPost {
				op = "search"
			}
		case len(segs) == 2:
			route = "/scim/v2" + rt.Endpoint + "/{id}"
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
		return route, rt.Name, op
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
