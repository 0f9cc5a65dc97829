// Package adminclient calls a Ferry server's admin API (/api/v1, described
// by api/openapi.json) over HTTP: one method per operation, each returning
// the decoded answer and the answer's JSON exactly as the server sent it.
package adminclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ferryid/ferry/internal/provision"
)

// maxAnswer bounds the answer the client reads: the longest listings
// (1000 log records) are far smaller.
const maxAnswer = 64 << 20

// Client calls one server's admin API with one admin token.
type Client struct {
	base  string // the server's root URL, without a trailing slash
	token string
	http  *http.Client
}

// New returns a client of the server whose root URL is base, such as
// http://127.0.0.1:8080, that authenticates with token, an admin token of
// a tenant, and sends its requests with hc.
func New(base, token string, hc *http.Client) (*Client, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("want the server's URL, such as http://127.0.0.1:8080")
	}
	return &Client{base: strings.TrimSuffix(base, "/"), token: token, http: hc}, nil
}

// Error is an error answer of the admin API; it reads as its detail.
type Error struct {
	Status int    // the HTTP status
	Detail string // what went wrong, as the server says it
}

func (e *Error) Error() string { return e.Detail }

// call sends a request to path (below /api/v1) with in, if not nil, as its
// JSON body, and headers (name, value pairs). It returns the raw body of a
// 2xx answer, and an *Error with the server's detail otherwise.
func (c *Client) call(ctx context.Context, method, path string, query url.Values, in any, headers ...string) ([]byte, error) {
	resp, err := c.do(ctx, method, path, query, in, headers...)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return nil, fmt.Errorf("%s %s: reading the answer: %w", method, path, err)
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return raw, nil
	}
	return nil, c.answerError(method, path, resp, raw)
}

// do sends a request to path (below /api/v1) with in, if not nil, as its
// JSON body, and headers (name, value pairs; Accept is JSON unless they
// say otherwise), and returns the answer unread.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, in any, headers ...string) (*http.Response, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, err
		}
		body = bytes.NewReader(b)
	}
	u := c.base + "/api/v1" + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := c.http.Do(req)
	if err != nil {
		// The URL holds no secret; the error names it and what failed.
		return nil, fmt.Errorf("cannot reach Ferry: %w", err)
	}
	return resp, nil
}

// answerError is the *Error of an answer that is not a success: the
// server's detail, or what came instead of the API's error.
func (c *Client) answerError(method, path string, resp *http.Response, raw []byte) error {
	var e struct {
		Status int    `json:"status"`
		Detail string `json:"detail"`
	}
	if json.Unmarshal(raw, &e) == nil && e.Detail != "" {
		return &Error{Status: resp.StatusCode, Detail: e.Detail}
	}
	snippet := strings.TrimSpace(string(raw))
	if len(snippet) > 200 {
		snippet = snippet[:200] + "…"
	}
	return &Error{Status: resp.StatusCode, Detail: fmt.Sprintf("%s %s answered %s: %s (is %s a Ferry server?)", method, path, resp.Status, snippet, c.base)}
}

// send calls the API for an operation whose answer says nothing more than
// its success.
func (c *Client) send(ctx context.Context, method, path string, query url.Values) error {
	_, err := c.call(ctx, method, path, query, nil)
	return err
}

// get calls the API and decodes its answer into a new T; it returns the
// raw answer too.
func get[T any](ctx context.Context, c *Client, method, path string, query url.Values, in any, headers ...string) (T, []byte, error) {
	var out T
	raw, err := c.call(ctx, method, path, query, in, headers...)
	if err != nil {
		return out, nil, err
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return out, nil, fmt.Errorf("%s %s: the answer is not what this ferry understands: %w", method, path, err)
	}
	return out, raw, nil
}

// getOne is get of an object, which it returns by pointer; an answer of
// JSON null reads as the zero object.
func getOne[T any](ctx context.Context, c *Client, method, path string, query url.Values, in any, headers ...string) (*T, []byte, error) {
	out, raw, err := get[T](ctx, c, method, path, query, in, headers...)
	if err != nil {
		return nil, nil, err
	}
	return &out, raw, nil
}

// appPath is the path of an application, below /api/v1, and of what
// follows it: rest's segments are taken as they are, already escaped.
func appPath(name string, rest ...string) string {
	p := "/apps/" + url.PathEscape(name)
	for _, r := range rest {
		p += "/" + r
	}
	return p
}

// flag is the query that turns a boolean parameter on, none when off.
func flag(name string, on bool) url.Values {
	if !on {
		return nil
	}
	return url.Values{name: {"true"}}
}

// limit is the query of a listing's limit and the id it continues after,
// each left out when zero.
func limit(n int, before string) url.Values {
	q := url.Values{}
	if n > 0 {
		q.Set("limit", strconv.Itoa(n))
	}
	if before != "" {
		q.Set("before", before)
	}
	return q
}

// OpenAPI returns the server's description of its admin API, an OpenAPI
// 3.1 document, decoded as a JSON object.
func (c *Client) OpenAPI(ctx context.Context) (map[string]any, []byte, error) {
	return get[map[string]any](ctx, c, "GET", "/openapi.json", nil, nil)
}

// Templates lists the names of the application templates.
func (c *Client) Templates(ctx context.Context) ([]string, []byte, error) {
	return get[[]string](ctx, c, "GET", "/templates", nil, nil)
}

// Apps lists the tenant's applications.
func (c *Client) Apps(ctx context.Context) ([]provision.AppView, []byte, error) {
	return get[[]provision.AppView](ctx, c, "GET", "/apps", nil, nil)
}

// App returns the application named name.
func (c *Client) App(ctx context.Context, name string) (*provision.AppView, []byte, error) {
	return getOne[provision.AppView](ctx, c, "GET", appPath(name), nil, nil)
}

// CreateApp creates an application.
func (c *Client) CreateApp(ctx context.Context, in provision.NewApp) (*provision.AppView, []byte, error) {
	return getOne[provision.AppView](ctx, c, "POST", "/apps", nil, in)
}

// UpdateApp changes what ch names of the application named name. With
// ifVersion other than 0, the server applies it only if the application is
// still at that version (If-Match).
func (c *Client) UpdateApp(ctx context.Context, name string, ifVersion int64, ch provision.AppChange) (*provision.AppView, []byte, error) {
	var ifMatch []string
	if ifVersion != 0 {
		ifMatch = []string{"If-Match", `"` + strconv.FormatInt(ifVersion, 10) + `"`}
	}
	return getOne[provision.AppView](ctx, c, "PATCH", appPath(name), nil, ch, ifMatch...)
}

// DeleteApp deletes the application named name.
func (c *Client) DeleteApp(ctx context.Context, name string) error {
	return c.send(ctx, "DELETE", appPath(name), nil)
}

// Assign assigns a user or group to an application, with role, or the
// application's default role when role is empty.
func (c *Client) Assign(ctx context.Context, app string, p provision.Principal, role string) (*provision.AssignmentView, []byte, error) {
	return getOne[provision.AssignmentView](ctx, c, "POST", appPath(app, "assignments"), nil, map[string]any{"principal": p, "role": role})
}

// Unassign unassigns a user or group from an application: by its id when
// p.ID is set, else by its name.
func (c *Client) Unassign(ctx context.Context, app string, p provision.Principal) error {
	who, q := p.Name, url.Values(nil)
	if p.ID != "" {
		who, q = p.ID, url.Values{"by": {"id"}}
	}
	return c.send(ctx, "DELETE", appPath(app, "assignments", p.Type, url.PathEscape(who)), q)
}

// Assignments lists the users and groups assigned to an application.
func (c *Client) Assignments(ctx context.Context, app string) ([]provision.AssignmentView, []byte, error) {
	return get[[]provision.AssignmentView](ctx, c, "GET", appPath(app, "assignments"), nil, nil)
}

// TestConnection tests the connection to an application's SCIM endpoint.
// A failed test is a result, not an error.
func (c *Client) TestConnection(ctx context.Context, app string) (*provision.TestResult, []byte, error) {
	return getOne[provision.TestResult](ctx, c, "POST", appPath(app, "test-connection"), nil, nil)
}

// ProvisionOnDemand provisions one user, or one group and some of its
// members, now.
func (c *Client) ProvisionOnDemand(ctx context.Context, app string, req provision.OnDemandRequest) (*provision.OnDemandResult, []byte, error) {
	return getOne[provision.OnDemandResult](ctx, c, "POST", appPath(app, "provision"), nil, req)
}

// Start turns an application's provisioning On once Test Connection
// passes, or at once with force. A failing test is an *Error of status 409.
func (c *Client) Start(ctx context.Context, app string, force bool) error {
	return c.send(ctx, "POST", appPath(app, "start"), flag("force", force))
}

// Stop turns an application's provisioning Off.
func (c *Client) Stop(ctx context.Context, app string) error {
	return c.send(ctx, "POST", appPath(app, "stop"), nil)
}

// Restart makes an application's next cycle a full one; reset clears its
// job's state first.
func (c *Client) Restart(ctx context.Context, app string, reset bool) error {
	return c.send(ctx, "POST", appPath(app, "restart"), flag("reset", reset))
}

// Retry retries an application's objects in escrow now.
func (c *Client) Retry(ctx context.Context, app string) error {
	return c.send(ctx, "POST", appPath(app, "retry"), nil)
}

// Status returns an application's provisioning status.
func (c *Client) Status(ctx context.Context, app string) (*provision.Status, []byte, error) {
	return getOne[provision.Status](ctx, c, "GET", appPath(app, "status"), nil, nil)
}

// Failures lists an application's objects in escrow, at most n of them
// (the server's default when 0).
func (c *Client) Failures(ctx context.Context, app string, n int) ([]provision.Failure, []byte, error) {
	return get[[]provision.Failure](ctx, c, "GET", appPath(app, "failures"), limit(n, ""), nil)
}

// Logs lists an application's provisioning-log records that f selects,
// newest first.
func (c *Client) Logs(ctx context.Context, app string, f provision.LogFilter) ([]provision.LogRecord, []byte, error) {
	q := limit(f.Limit, f.Before)
	for k, v := range map[string]string{"user": f.User, "action": f.Action, "status": f.Status} {
		if v != "" {
			q.Set(k, v)
		}
	}
	for k, t := range map[string]time.Time{"since": f.Since, "until": f.Until} {
		if !t.IsZero() {
			q.Set(k, t.Format(time.RFC3339Nano))
		}
	}
	return get[[]provision.LogRecord](ctx, c, "GET", appPath(app, "logs"), q, nil)
}

// AllowDeletes sends the disables and deletes the accidental-deletion
// threshold staged.
func (c *Client) AllowDeletes(ctx context.Context, app string) error {
	return c.send(ctx, "POST", appPath(app, "allow-deletes"), nil)
}

// RejectDeletes drops the disables and deletes the accidental-deletion
// threshold staged.
func (c *Client) RejectDeletes(ctx context.Context, app string) error {
	return c.send(ctx, "POST", appPath(app, "reject-deletes"), nil)
}

// Plan returns what a full cycle of an application would do now.
func (c *Client) Plan(ctx context.Context, app string) (*provision.Plan, []byte, error) {
	return getOne[provision.Plan](ctx, c, "POST", appPath(app, "plan"), nil, nil)
}

// PlanChange returns what a full cycle would do with ch applied to an
// application; nothing is saved.
func (c *Client) PlanChange(ctx context.Context, app string, ch provision.AppChange) (*provision.Plan, []byte, error) {
	return getOne[provision.Plan](ctx, c, "POST", appPath(app, "plan"), nil, ch)
}

// Audit lists an application's audit entries, newest first: at most n
// (the server's default when 0), after the entry before when not empty.
func (c *Client) Audit(ctx context.Context, app, before string, n int) ([]provision.AuditEntry, []byte, error) {
	return get[[]provision.AuditEntry](ctx, c, "GET", appPath(app, "audit"), limit(n, before), nil)
}
