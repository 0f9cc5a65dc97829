package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/ferryid/ferry/internal/provision"
	"github.com/ferryid/ferry/internal/scim"
	"github.com/ferryid/ferry/internal/store"
)

// Admin is the provisioning engine as the admin API (/api/v1) drives it;
// *provision.Service implements it. Every call is made for the tenant of
// the request's admin token.
//
// Errors that are the caller's mistake are *scim.Error values with a 4xx
// status (400 with a scimType, 404, 409) or the store's errors (which
// clientError answers as 404, 409, 410, 412 or 400), and reach the client as
// they are. Any other error is the server's: it is logged with a request
// id, and the client is told only that id.
type Admin interface {
	// Templates lists the names of the application templates.
	Templates() []string
	CreateApp(ctx context.Context, tenantID string, in provision.NewApp) (*provision.AppView, error)
	App(ctx context.Context, tenantID, name string) (*provision.AppView, error)
	Apps(ctx context.Context, tenantID string) ([]*provision.AppView, error)
	// UpdateApp applies ch; with ifVersion non-zero, an application at
	// another version is a 412.
	UpdateApp(ctx context.Context, tenantID, name string, ifVersion int64, ch provision.AppChange) (*provision.AppView, error)
	DeleteApp(ctx context.Context, tenantID, name string) error
	Assign(ctx context.Context, tenantID, app string, p provision.Principal, role string) (*provision.AssignmentView, error)
	Unassign(ctx context.Context, tenantID, app string, p provision.Principal) error
	Assignments(ctx context.Context, tenantID, app string) ([]provision.AssignmentView, error)
	// TestConnection reports a failed test in the result, not as an error.
	TestConnection(ctx context.Context, tenantID, app string) (*provision.TestResult, error)
	// TargetSchema lists the attributes the application's mappings may
	// set; DiscoverSchema reads the target's /Schemas again first, and a
	// target that cannot be read, or whose schema the mappings do not fit,
	// is a 409.
	TargetSchema(ctx context.Context, tenantID, app string) (*provision.TargetSchemaView, error)
	DiscoverSchema(ctx context.Context, tenantID, app string) (*provision.TargetSchemaView, error)
	// Start turns provisioning On. Unless force is set it runs Test
	// Connection first, and a failed test is a 409 whose detail gives the
	// test's message.
	Start(ctx context.Context, tenantID, app string, force bool) error
	// Stop turns provisioning Off at once: a running cycle halts, and
	// resumes where it stopped on the next Start.
	Stop(ctx context.Context, tenantID, app string) error
	// Restart makes the next cycle a full one and turns provisioning On;
	// with reset (Entra's "clear current state and restart") the job also
	// forgets its links, watermark and escrows and matches every object
	// anew.
	Restart(ctx context.Context, tenantID, app string, reset bool) error
	// Retry makes the job retry every object in escrow now.
	Retry(ctx context.Context, tenantID, app string) error
	Status(ctx context.Context, tenantID, app string) (*provision.Status, error)
	// Failures lists the objects in escrow, at most limit (100 when 0; a
	// limit above provision.MaxLogLimit is a 400).
	Failures(ctx context.Context, tenantID, app string, limit int) ([]provision.Failure, error)
	// Logs validates its filter: an unknown action or status, or a limit
	// above provision.MaxLogLimit, is a 400 that lists the valid values.
	Logs(ctx context.Context, tenantID, app string, f provision.LogFilter) ([]provision.LogRecord, error)
	ProvisionOnDemand(ctx context.Context, tenantID, app string, req provision.OnDemandRequest) (*provision.OnDemandResult, error)
	// AllowDeletes sends exactly the disables and deletes the
	// accidental-deletion threshold staged; RejectDeletes drops them. Both
	// end the quarantine the threshold caused, and are a 409 when nothing
	// is staged.
	AllowDeletes(ctx context.Context, tenantID, app string) error
	RejectDeletes(ctx context.Context, tenantID, app string) error
	// Plan is what a full cycle would do now; PlanChange what it would do
	// with ch applied. Neither writes anything, to the directory, the
	// target or the application.
	Plan(ctx context.Context, tenantID, app string) (*provision.Plan, error)
	PlanChange(ctx context.Context, tenantID, app string, ch provision.AppChange) (*provision.Plan, error)
	// Audit lists the application's audit log, newest first: at most
	// limit entries (100 when 0; above provision.MaxLogLimit a 400), after
	// the entry before when it is set. The actor of every action is the
	// name of the request's admin token, which the context carries
	// (provision.WithActor).
	Audit(ctx context.Context, tenantID, app, before string, limit int) ([]provision.AuditEntry, error)
}

// EnableAdmin serves the admin API (/api/v1) over a. Call it before
// Handler; without it, /api/v1 answers 404.
func (s *Server) EnableAdmin(a Admin) {
	s.admin = a
}

// EnableConsole serves the admin console (internal/console) at "/": every
// path that the SCIM API, the admin API, health and metrics do not serve.
// Call it before Handler.
func (s *Server) EnableConsole(h http.Handler) {
	s.console = h
}

// adminPrefix is where the admin API is served.
const adminPrefix = "/api/v1"

// adminRoute is one operation of the admin API. The router serves exactly
// the routes of adminRoutes, and a test holds api/openapi.json to the same
// list.
type adminRoute struct {
	method string
	// path is the route's template below adminPrefix, as OpenAPI writes
	// it: "/apps/{name}". A {param} matches one non-empty path segment,
	// unescaped.
	path string
	// query names the query parameters the route takes; the router
	// refuses any other, and any given twice, before serve runs.
	query []string
	serve func(s *Server, w http.ResponseWriter, r *adminRequest) error
}

// adminRequest is a routed, authenticated admin API request.
type adminRequest struct {
	*http.Request
	admin  Admin
	tenant string
	params map[string]string
}

// adminRoutes returns the admin API's routes. Paths that several methods
// share are listed together, so that a 405's Allow header reads in order.
func adminRoutes() []adminRoute {
	return []adminRoute{
		{"GET", "/templates", nil, (*Server).adminTemplates},
		{"GET", "/apps", nil, (*Server).adminListApps},
		{"POST", "/apps", nil, (*Server).adminCreateApp},
		{"GET", "/apps/{name}", nil, (*Server).adminGetApp},
		{"PATCH", "/apps/{name}", nil, (*Server).adminUpdateApp},
		{"DELETE", "/apps/{name}", nil, (*Server).adminDeleteApp},
		{"GET", "/apps/{name}/assignments", nil, (*Server).adminListAssignments},
		{"POST", "/apps/{name}/assignments", nil, (*Server).adminAssign},
		{"DELETE", "/apps/{name}/assignments/{type}/{principal}", []string{"by"}, (*Server).adminUnassign},
		{"POST", "/apps/{name}/test-connection", nil, (*Server).adminTestConnection},
		{"GET", "/apps/{name}/schema", nil, (*Server).adminTargetSchema},
		{"POST", "/apps/{name}/schema/discover", nil, (*Server).adminDiscoverSchema},
		{"POST", "/apps/{name}/start", []string{"force"}, (*Server).adminStart},
		{"POST", "/apps/{name}/stop", nil, (*Server).adminStop},
		{"POST", "/apps/{name}/restart", []string{"reset"}, (*Server).adminRestart},
		{"POST", "/apps/{name}/retry", nil, (*Server).adminRetry},
		{"GET", "/apps/{name}/status", nil, (*Server).adminStatus},
		{"GET", "/apps/{name}/failures", []string{"limit"}, (*Server).adminFailures},
		{"GET", "/apps/{name}/logs", logQuery, (*Server).adminLogs},
		{"POST", "/apps/{name}/provision", nil, (*Server).adminProvision},
		{"POST", "/apps/{name}/allow-deletes", nil, (*Server).adminAllowDeletes},
		{"POST", "/apps/{name}/reject-deletes", nil, (*Server).adminRejectDeletes},
		{"POST", "/apps/{name}/plan", nil, (*Server).adminPlan},
		{"GET", "/apps/{name}/audit", auditQuery, (*Server).adminAudit},
		{"POST", "/import", nil, (*Server).adminImport},
		{"GET", "/sources", nil, (*Server).adminListSources},
		{"POST", "/sources", nil, (*Server).adminCreateSource},
		{"GET", "/sources/{name}", nil, (*Server).adminGetSource},
		{"PATCH", "/sources/{name}", nil, (*Server).adminUpdateSource},
		{"DELETE", "/sources/{name}", []string{"release"}, (*Server).adminDeleteSource},
		{"POST", "/sources/{name}/sync", []string{"full", "allow-shrink"}, (*Server).adminSyncSource},
		{"GET", "/sources/{name}/status", nil, (*Server).adminSourceStatus},
		{"GET", "/users", directoryQuery, (*Server).adminListUsers},
		{"POST", "/users", nil, (*Server).adminCreateUser},
		{"GET", "/users/{name}", nil, (*Server).adminGetUser},
		{"DELETE", "/users/{name}", nil, (*Server).adminDeleteUser},
		{"POST", "/users/{name}/disable", nil, (*Server).adminDisableUser},
		{"POST", "/users/{name}/enable", nil, (*Server).adminEnableUser},
		{"GET", "/groups", directoryQuery, (*Server).adminListGroups},
		{"POST", "/groups", nil, (*Server).adminCreateGroup},
		{"GET", "/groups/{name}", nil, (*Server).adminGetGroup},
		{"DELETE", "/groups/{name}", nil, (*Server).adminDeleteGroup},
		{"POST", "/groups/{name}/members", nil, (*Server).adminAddMember},
		{"DELETE", "/groups/{name}/members/{user}", nil, (*Server).adminRemoveMember},
		{"GET", "/events", eventsQuery, (*Server).adminEvents},
		{"GET", "/schemas", nil, (*Server).adminListSchemas},
		{"POST", "/schemas", nil, (*Server).adminAddSchema},
		{"GET", "/schemas/{urn}", nil, (*Server).adminGetSchema},
		{"DELETE", "/schemas/{urn}", []string{"force"}, (*Server).adminRemoveSchema},
		{"GET", "/webhooks", nil, withWebhooks((*Server).adminListWebhooks)},
		{"POST", "/webhooks", nil, withWebhooks((*Server).adminCreateWebhook)},
		{"GET", "/webhooks/{id}", nil, withWebhooks((*Server).adminGetWebhook)},
		{"DELETE", "/webhooks/{id}", nil, withWebhooks((*Server).adminDeleteWebhook)},
		{"POST", "/webhooks/{id}/test", nil, withWebhooks((*Server).adminTestWebhook)},
		{"GET", "/webhooks/{id}/deliveries", []string{"limit"}, withWebhooks((*Server).adminWebhookDeliveries)},
	}
}

// routeAdmin authenticates and dispatches /api/v1/... by hand, as
// routeSCIM does /scim/v2, so that every unknown path and wrong method
// gets a JSON error body.
func (s *Server) routeAdmin(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	defer s.recoverAdmin(w, r)
	if s.admin == nil {
		writeAdminError(w, scim.Errorf(http.StatusNotFound, "", "the admin API is not enabled on this server"))
		return
	}
	c, err := s.verifyToken(w, r)
	if err != nil {
		s.adminFail(w, r, err)
		return
	}
	if c.scope != store.ScopeAdmin {
		writeAdminError(w, scim.Errorf(http.StatusForbidden, "", "this token is not an admin API token (its scope is %q); /api/v1 needs a token created with ferry tokens create --scope admin", c.scope))
		return
	}
	segs, ok := adminSegments(r.URL.EscapedPath())
	if !ok {
		writeAdminError(w, scim.Errorf(http.StatusNotFound, "", "no admin API endpoint at %s", r.URL.Path))
		return
	}
	var allowed []string
	for _, rt := range adminRoutes() {
		params, ok := matchRoute(rt.path, segs)
		if !ok {
			continue
		}
		if rt.method != r.Method {
			allowed = append(allowed, rt.method)
			continue
		}
		if _, err := strictQuery(r.URL.Query(), rt.query...); err != nil {
			s.adminFail(w, r, err)
			return
		}
		// The engine records who acted in its audit log.
		ctx := provision.WithActor(r.Context(), c.actor)
		req := &adminRequest{Request: r.WithContext(ctx), admin: s.admin, tenant: c.tenantID, params: params}
		if err := rt.serve(s, w, req); err != nil {
			s.adminFail(w, r, err)
		}
		return
	}
	if len(allowed) == 0 {
		writeAdminError(w, scim.Errorf(http.StatusNotFound, "", "no admin API endpoint at %s", r.URL.Path))
		return
	}
	list := strings.Join(allowed, ", ")
	w.Header().Set("Allow", list)
	writeAdminError(w, scim.Errorf(http.StatusMethodNotAllowed, "", "%s is not allowed on %s; allowed: %s", r.Method, r.URL.Path, list))
}

// adminSegments splits an escaped request path below adminPrefix into
// unescaped segments. An empty segment (a doubled or trailing slash) or a
// bad escape matches no route.
func adminSegments(escaped string) ([]string, bool) {
	rest, ok := strings.CutPrefix(escaped, adminPrefix+"/")
	if !ok || rest == "" {
		return nil, false
	}
	raw := strings.Split(rest, "/")
	segs := make([]string, len(raw))
	for i, r := range raw {
		seg, err := url.PathUnescape(r)
		if err != nil || seg == "" {
			return nil, false
		}
		segs[i] = seg
	}
	return segs, true
}

// matchRoute matches path segments against a route template and returns
// the template's parameters.
func matchRoute(template string, segs []string) (map[string]string, bool) {
	parts := strings.Split(strings.TrimPrefix(template, "/"), "/")
	if len(parts) != len(segs) {
		return nil, false
	}
	params := map[string]string{}
	for i, p := range parts {
		if name, ok := strings.CutPrefix(p, "{"); ok {
			params[strings.TrimSuffix(name, "}")] = segs[i]
			continue
		}
		if p != segs[i] {
			return nil, false
		}
	}
	return params, true
}

// appPath is the admin API path of an application.
func appPath(name string) string {
	return adminPrefix + "/apps/" + url.PathEscape(name)
}

// appTag is an application's version as an entity tag; If-Match takes it
// back.
func appTag(version int64) string {
	return `"` + strconv.FormatInt(version, 10) + `"`
}

// ifVersion reads an If-Match header: "<version>" (W/ and the quotes are
// optional) or * for any version, which is also what no header means.
func ifVersion(r *http.Request) (int64, error) {
	h := strings.TrimSpace(r.Header.Get("If-Match"))
	if h == "" || h == "*" {
		return 0, nil
	}
	v := strings.Trim(strings.TrimPrefix(h, "W/"), `"`)
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 1 {
		return 0, scim.BadRequest(scim.InvalidValue, "If-Match must be an application version in quotes, such as \"3\", or *; got %s", h)
	}
	return n, nil
}

func (s *Server) adminTemplates(w http.ResponseWriter, r *adminRequest) error {
	writeAdminJSON(w, http.StatusOK, nonNil(r.admin.Templates()))
	return nil
}

func (s *Server) adminListApps(w http.ResponseWriter, r *adminRequest) error {
	apps, err := r.admin.Apps(r.Context(), r.tenant)
	if err != nil {
		return err
	}
	writeAdminJSON(w, http.StatusOK, nonNil(apps))
	return nil
}

func (s *Server) adminCreateApp(w http.ResponseWriter, r *adminRequest) error {
	var in provision.NewApp
	if err := s.decodeAdminBody(w, r.Request, &in); err != nil {
		return err
	}
	app, err := r.admin.CreateApp(r.Context(), r.tenant, in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", appPath(app.Name))
	w.Header().Set("ETag", appTag(app.Version))
	writeAdminJSON(w, http.StatusCreated, app)
	return nil
}

func (s *Server) adminGetApp(w http.ResponseWriter, r *adminRequest) error {
	app, err := r.admin.App(r.Context(), r.tenant, r.params["name"])
	if err != nil {
		return err
	}
	w.Header().Set("ETag", appTag(app.Version))
	writeAdminJSON(w, http.StatusOK, app)
	return nil
}

func (s *Server) adminUpdateApp(w http.ResponseWriter, r *adminRequest) error {
	version, err := ifVersion(r.Request)
	if err != nil {
		return err
	}
	var ch provision.AppChange
	if err := s.decodeAdminBody(w, r.Request, &ch); err != nil {
		return err
	}
	app, err := r.admin.UpdateApp(r.Context(), r.tenant, r.params["name"], version, ch)
	if err != nil {
		return versionMismatch(r, version, err)
	}
	w.Header().Set("ETag", appTag(app.Version))
	writeAdminJSON(w, http.StatusOK, app)
	return nil
}

// versionMismatch rewrites a 412 of an update so that it names the
// application by its name, as the client knows it, and gives its current
// version; the store's own 412 names it by id.
func versionMismatch(r *adminRequest, want int64, err error) error {
	if e, ok := clientError(err); !ok || e.Status != http.StatusPreconditionFailed {
		return err
	}
	cur, gerr := r.admin.App(r.Context(), r.tenant, r.params["name"])
	if gerr != nil {
		return scim.Errorf(http.StatusPreconditionFailed, "", "application %q is no longer at version %d", r.params["name"], want)
	}
	return scim.Errorf(http.StatusPreconditionFailed, "", "application %q is at version %d, not %d: read it again and send that version",
		cur.Name, cur.Version, want)
}

func (s *Server) adminDeleteApp(w http.ResponseWriter, r *adminRequest) error {
	if err := r.admin.DeleteApp(r.Context(), r.tenant, r.params["name"]); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) adminListAssignments(w http.ResponseWriter, r *adminRequest) error {
	as, err := r.admin.Assignments(r.Context(), r.tenant, r.params["name"])
	if err != nil {
		return err
	}
	writeAdminJSON(w, http.StatusOK, nonNil(as))
	return nil
}

// assignRequest is the body of POST /apps/{name}/assignments.
type assignRequest struct {
	Principal provision.Principal `json:"principal"`
	Role      string              `json:"role,omitempty"`
}

func (s *Server) adminAssign(w http.ResponseWriter, r *adminRequest) error {
	var in assignRequest
	if err := s.decodeAdminBody(w, r.Request, &in); err != nil {
		return err
	}
	a, err := r.admin.Assign(r.Context(), r.tenant, r.params["name"], in.Principal, in.Role)
	if err != nil {
		return err
	}
	writeAdminJSON(w, http.StatusOK, a)
	return nil
}

// principalType reads the {type} of an assignment path: User or Group,
// in any case, singular or plural.
func principalType(seg string) (string, error) {
	switch strings.ToLower(seg) {
	case "user", "users":
		return store.UserType, nil
	case "group", "groups":
		return store.GroupType, nil
	}
	return "", scim.BadRequest(scim.InvalidValue, "principal type %q: want User or Group", seg)
}

// adminUnassign names the principal by userName or displayName, or by id
// with ?by=id.
func (s *Server) adminUnassign(w http.ResponseWriter, r *adminRequest) error {
	typ, err := principalType(r.params["type"])
	if err != nil {
		return err
	}
	p := provision.Principal{Type: typ}
	switch by := r.URL.Query().Get("by"); by {
	case "", "name":
		p.Name = r.params["principal"]
	case "id":
		p.ID = r.params["principal"]
	default:
		return scim.BadRequest(scim.InvalidValue, "by=%s: want name or id", by)
	}
	if err := r.admin.Unassign(r.Context(), r.tenant, r.params["name"], p); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) adminTestConnection(w http.ResponseWriter, r *adminRequest) error {
	res, err := r.admin.TestConnection(r.Context(), r.tenant, r.params["name"])
	if err != nil {
		return err
	}
	writeAdminJSON(w, http.StatusOK, res)
	return nil
}

func (s *Server) adminTargetSchema(w http.ResponseWriter, r *adminRequest) error {
	v, err := r.admin.TargetSchema(r.Context(), r.tenant, r.params["name"])
	if err != nil {
		return err
	}
	writeAdminJSON(w, http.StatusOK, v)
	return nil
}

func (s *Server) adminDiscoverSchema(w http.ResponseWriter, r *adminRequest) error {
	v, err := r.admin.DiscoverSchema(r.Context(), r.tenant, r.params["name"])
	if err != nil {
		return err
	}
	writeAdminJSON(w, http.StatusOK, v)
	return nil
}

func (s *Server) adminStart(w http.ResponseWriter, r *adminRequest) error {
	force, err := boolParam(r.URL.Query(), "force")
	if err != nil {
		return err
	}
	if err := r.admin.Start(r.Context(), r.tenant, r.params["name"], force); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) adminStop(w http.ResponseWriter, r *adminRequest) error {
	if err := r.admin.Stop(r.Context(), r.tenant, r.params["name"]); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) adminRestart(w http.ResponseWriter, r *adminRequest) error {
	reset, err := boolParam(r.URL.Query(), "reset")
	if err != nil {
		return err
	}
	if err := r.admin.Restart(r.Context(), r.tenant, r.params["name"], reset); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) adminRetry(w http.ResponseWriter, r *adminRequest) error {
	if err := r.admin.Retry(r.Context(), r.tenant, r.params["name"]); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) adminFailures(w http.ResponseWriter, r *adminRequest) error {
	limit, err := limitParam(r.URL.Query())
	if err != nil {
		return err
	}
	fs, err := r.admin.Failures(r.Context(), r.tenant, r.params["name"], limit)
	if err != nil {
		return err
	}
	writeAdminJSON(w, http.StatusOK, nonNil(fs))
	return nil
}

func (s *Server) adminStatus(w http.ResponseWriter, r *adminRequest) error {
	st, err := r.admin.Status(r.Context(), r.tenant, r.params["name"])
	if err != nil {
		return err
	}
	writeAdminJSON(w, http.StatusOK, st)
	return nil
}

func (s *Server) adminLogs(w http.ResponseWriter, r *adminRequest) error {
	f, err := logFilter(r.URL.Query())
	if err != nil {
		return err
	}
	logs, err := r.admin.Logs(r.Context(), r.tenant, r.params["name"], f)
	if err != nil {
		return err
	}
	writeAdminJSON(w, http.StatusOK, nonNil(logs))
	return nil
}

func (s *Server) adminProvision(w http.ResponseWriter, r *adminRequest) error {
	var in provision.OnDemandRequest
	if err := s.decodeAdminBody(w, r.Request, &in); err != nil {
		return err
	}
	res, err := r.admin.ProvisionOnDemand(r.Context(), r.tenant, r.params["name"], in)
	if err != nil {
		return err
	}
	writeAdminJSON(w, http.StatusOK, res)
	return nil
}

// nonNil makes an empty list encode as [] rather than null.
func nonNil[T any](list []T) []T {
	if list == nil {
		return []T{}
	}
	return list
}

// adminFail answers err: a 4xx client's mistake (see clientError) as it
// is, an exhausted request deadline as 503, a failure while the database
// does not answer as 503 with Retry-After, and anything else as a 500
// whose cause goes to the log under a request id that the client is given
// to quote.
func (s *Server) adminFail(w http.ResponseWriter, r *http.Request, err error) {
	if e, ok := clientError(err); ok && e.Status >= 400 && e.Status < 500 {
		writeAdminError(w, e)
		return
	}
	if errors.Is(err, context.DeadlineExceeded) {
		writeAdminError(w, scim.Errorf(http.StatusServiceUnavailable, "", "the request took too long; try again"))
		return
	}
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		return // the client went away
	}
	if s.databaseUnavailable(r.Context()) {
		writeAdminError(w, unavailable(w))
		return
	}
	id := requestID()
	s.log.LogAttrs(r.Context(), slog.LevelError, "admin request failed",
		slog.String("request_id", id),
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.Any("err", err),
	)
	writeInternalError(w, id)
}

// recoverAdmin turns a panic in the admin API into a logged 500 with a
// request id, as adminFail does an error.
func (s *Server) recoverAdmin(w http.ResponseWriter, r *http.Request) {
	v := recover()
	if v == nil {
		return
	}
	if v == http.ErrAbortHandler {
		panic(v)
	}
	id := requestID()
	s.log.Error("admin handler panic", "request_id", id, "method", r.Method, "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
	writeInternalError(w, id)
}

// requestID returns a random id that ties a 500 to its log line.
func requestID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}
