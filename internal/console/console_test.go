package console

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ferryid/ferry/internal/clocktest"
	"github.com/ferryid/ferry/internal/egress"
	"github.com/ferryid/ferry/internal/ferrytest"
	"github.com/ferryid/ferry/internal/password"
	"github.com/ferryid/ferry/internal/provision"
	"github.com/ferryid/ferry/internal/scim/resource"
	"github.com/ferryid/ferry/internal/scim/schema"
	"github.com/ferryid/ferry/internal/seal"
	"github.com/ferryid/ferry/internal/server"
	"github.com/ferryid/ferry/internal/store"
	"github.com/ferryid/ferry/internal/store/sqlite"
)

// fixture is a real Ferry server (SQLite, the engine's admin service, the
// console) on loopback, with a clock the test moves.
type fixture struct {
	t      testing.TB
	st     store.Store
	tenant store.Tenant
	admin  *provision.Service
	clock  *clocktest.Clock
	url    string
}

// The application every test has, and its secret token, which no page
// may ever show.
const (
	appName     = "RingCentral"
	appSecret   = "app-secret-marker-7d1f0c"
	appPassword = "correct horse battery staple"
)

func newFixture(t testing.TB) *fixture {
	t.Helper()
	ctx := context.Background()
	catalog := schema.Builtin()
	st, err := sqlite.Open(ctx, t.TempDir()+"/ferry.db", catalog, sqlite.Options{Owner: true})
	if err != nil {
		t.Fatal(err)
	}
	tenant, err := st.EnsureTenant(ctx, "default")
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := seal.New(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	policy, err := egress.Parse("loopback")
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	svc := provision.NewService(provision.NewEngine(st, catalog, sealer, log, provision.Options{Egress: policy}))
	// The target answers Test Connection's query (an empty list) and
	// refuses everything else with a SCIM error: provisioning fails with
	// the target's answer, which no page may echo the secret in either.
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/scim+json")
		if r.Method == http.MethodGet && r.URL.Query().Get("filter") != "" {
			w.Write([]byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":0,"Resources":[]}`))
			return
		}
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"400","detail":"this target takes nothing"}`))
	}))
	t.Cleanup(target.Close)
	if _, err := svc.CreateApp(ctx, tenant.ID, provision.NewApp{Name: appName, Template: "ringcentral",
		TenantURL: target.URL + "/scim/v2", SecretToken: appSecret}); err != nil {
		t.Fatal(err)
	}
	clock := clocktest.New(time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC))
	c, err := New(Config{Store: st, Admin: svc, Now: clock.Now, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	srv := server.New(server.DefaultConfig(), st, catalog, log)
	srv.EnableAdmin(svc)
	srv.EnableConsole(c)
	hs := ferrytest.Serve(t, st, srv.Handler())
	return &fixture{t: t, st: st, tenant: tenant, admin: svc, clock: clock, url: hs.URL}
}

// addAdmin creates an account of role with appPassword.
func (f *fixture) addAdmin(email, role string) {
	f.t.Helper()
	hash, err := password.Hash(appPassword)
	if err != nil {
		f.t.Fatal(err)
	}
	if err := f.st.CreateAdmin(context.Background(), &store.Admin{TenantID: f.tenant.ID, Email: email, Role: role, PasswordHash: hash}); err != nil {
		f.t.Fatal(err)
	}
}

// browser is a client with its own cookies that does not follow
// redirects, so that tests see them.
type browser struct {
	f      *fixture
	client *http.Client
	// pages are the bodies of every page read, for TestNoSecretsInPages.
	pages []string
}

func (f *fixture) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{f: f, client: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

// do sends a request and returns the status, the Location header and the
// body.
func (b *browser) do(method, path string, form url.Values, header ...string) (int, string, string) {
	b.f.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.f.url+path, body)
	if err != nil {
		b.f.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := b.client.Do(req)
	if err != nil {
		b.f.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	b.pages = append(b.pages, string(raw))
	return resp.StatusCode, resp.Header.Get("Location"), string(raw)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf reads the CSRF token from a page the browser may read.
func (b *browser) csrf() string {
	b.f.t.Helper()
	status, _, body := b.do("GET", "/apps/"+appName, nil)
	m := csrfField.FindStringSubmatch(body)
	if status != http.StatusOK || m == nil {
		b.f.t.Fatalf("no CSRF token on the application page: %d %.500s", status, body)
	}
	return m[1]
}

// signIn signs in with email and appPassword.
func (b *browser) signIn(email string) {
	b.f.t.Helper()
	status, loc, body := b.do("POST", "/signin", url.Values{"tenant": {"default"}, "email": {email}, "password": {appPassword}})
	if status != http.StatusSeeOther || loc != "/apps" {
		b.f.t.Fatalf("sign-in of %s: %d to %q: %.500s", email, status, loc, body)
	}
}

// enabled reports whether provisioning of the application is On.
func (f *fixture) enabled() bool {
	f.t.Helper()
	a, err := f.admin.App(context.Background(), f.tenant.ID, appName)
	if err != nil {
		f.t.Fatal(err)
	}
	return a.Enabled
}

// TestSignInAndOut signs in with a password, checks the session cookie's
// attributes, reads the pages, and signs out.
func TestSignInAndOut(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.addAdmin("Ada@Example.com", store.RoleAdmin)
	b := f.browser()
	if status, loc, _ := b.do("GET", "/apps", nil); status != http.StatusSeeOther || loc != "/signin" {
		t.Fatalf("signed out, GET /apps: %d to %q, want 303 to /signin", status, loc)
	}
	if status, _, body := b.do("GET", "/signin", nil); status != http.StatusOK || !strings.Contains(body, `name="password"`) {
		t.Fatalf("GET /signin: %d %.300s", status, body)
	}
	for _, wrong := range []url.Values{
		{"tenant": {"default"}, "email": {"ada@example.com"}, "password": {"not the password"}},
		{"tenant": {"default"}, "email": {"nobody@example.com"}, "password": {appPassword}},
		{"tenant": {"elsewhere"}, "email": {"ada@example.com"}, "password": {appPassword}},
	} {
		status, _, body := b.do("POST", "/signin", wrong)
		if status != http.StatusUnauthorized || !strings.Contains(body, "did not match") {
			t.Errorf("sign-in with %v: %d %.300s", wrong, status, body)
		}
	}
	req, _ := http.NewRequest("POST", f.url+"/signin", strings.NewReader(url.Values{"tenant": {"default"}, "email": {"ada@EXAMPLE.com"}, "password": {appPassword}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := b.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cookie := resp.Header.Get("Set-Cookie")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(cookie, "ferry_session=") ||
		!strings.Contains(cookie, "HttpOnly") || !strings.Contains(cookie, "SameSite=Strict") || !strings.Contains(cookie, "Path=/") {
		t.Fatalf("sign-in: %d, Set-Cookie %q", resp.StatusCode, cookie)
	}
	if status, _, body := b.do("GET", "/apps", nil); status != http.StatusOK || !strings.Contains(body, appName) || !strings.Contains(body, "Ada@Example.com") {
		t.Fatalf("GET /apps signed in: %d %.500s", status, body)
	}
	if status, _, _ := b.do("POST", "/signout", url.Values{}); status != http.StatusForbidden {
		t.Errorf("sign-out without the CSRF token: %d, want 403", status)
	}
	if status, loc, _ := b.do("POST", "/signout", url.Values{"csrf": {b.csrf()}}); status != http.StatusSeeOther || loc != "/signin" {
		t.Errorf("sign-out: %d to %q", status, loc)
	}
	if status, loc, _ := b.do("GET", "/apps", nil); status != http.StatusSeeOther || loc != "/signin" {
		t.Errorf("after sign-out, GET /apps: %d to %q", status, loc)
	}
}

// TestCSRF posts a change without the session's CSRF token, then with
// another session's: both are refused with 403 and change nothing.
func TestCSRF(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.addAdmin("ada@example.com", store.RoleAdmin)
	a, other := f.browser(), f.browser()
	a.signIn("ada@example.com")
	other.signIn("ada@example.com")
	for name, form := range map[string]url.Values{
		"no token":              {"status": {"on"}},
		"another session's one": {"status": {"on"}, "csrf": {other.csrf()}},
	} {
		if status, _, _ := a.do("POST", "/apps/"+appName+"/provisioning", form); status != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", name, status)
		}
	}
	if status, _, _ := a.do("POST", "/apps/"+appName+"/test", nil, "HX-Request", "true", "X-CSRF-Token", "forged"); status != http.StatusForbidden {
		t.Errorf("htmx post with a forged header: %d, want 403", status)
	}
	if f.enabled() {
		t.Error("a refused post turned provisioning On")
	}
}

// TestViewerRefused signs a viewer in: it reads every page, and the
// server refuses its changes, whatever a page offers.
func TestViewerRefused(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.addAdmin("viewer@example.com", store.RoleViewer)
	b := f.browser()
	b.signIn("viewer@example.com")
	if status, _, body := b.do("GET", "/apps/"+appName, nil); status != http.StatusOK || !strings.Contains(body, "disabled") {
		t.Fatalf("a viewer's application page: %d (its buttons should be disabled) %.300s", status, body)
	}
	csrf := b.csrf()
	for _, action := range []struct {
		path string
		form url.Values
	}{
		{"/apps/" + appName + "/provisioning", url.Values{"status": {"on"}, "csrf": {csrf}}},
		{"/apps/" + appName + "/credentials", url.Values{"tenantUrl": {"https://elsewhere.example/scim"}, "csrf": {csrf}}},
		{"/apps/" + appName + "/test", url.Values{"csrf": {csrf}}},
	} {
		status, _, body := b.do("POST", action.path, action.form)
		if status != http.StatusForbidden || !strings.Contains(body, "viewer") {
			t.Errorf("a viewer's POST %s: %d %.300s", action.path, status, body)
		}
	}
	app, err := f.admin.App(context.Background(), f.tenant.ID, appName)
	if err != nil {
		t.Fatal(err)
	}
	if app.Enabled || strings.Contains(app.Config.TenantURL, "elsewhere") {
		t.Errorf("a viewer changed the application: %+v", app)
	}
}

// TestSessionExpiry checks the idle and the absolute expiry: an expired
// session is sent to sign-in.
func TestSessionExpiry(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.addAdmin("ada@example.com", store.RoleAdmin)
	b := f.browser()
	b.signIn("ada@example.com")
	f.clock.Advance(DefaultIdleTimeout - time.Minute)
	if status, _, _ := b.do("GET", "/apps", nil); status != http.StatusOK {
		t.Fatalf("a session used within its idle time: %d", status)
	}
	f.clock.Advance(DefaultIdleTimeout + time.Second)
	if status, loc, _ := b.do("GET", "/apps", nil); status != http.StatusSeeOther || loc != "/signin" {
		t.Errorf("after %v idle: %d to %q, want 303 to /signin", DefaultIdleTimeout, status, loc)
	}
	if status, _, _ := b.do("GET", "/apps", nil, "HX-Request", "true"); status != http.StatusUnauthorized {
		t.Errorf("an htmx request of an expired session: %d, want 401 with HX-Redirect", status)
	}

	// Used every 20 minutes, a session still ends at its absolute expiry.
	b = f.browser()
	b.signIn("ada@example.com")
	for used := time.Duration(0); used+20*time.Minute < DefaultMaxAge; used += 20 * time.Minute {
		f.clock.Advance(20 * time.Minute)
		if status, _, _ := b.do("GET", "/apps", nil); status != http.StatusOK {
			t.Fatalf("a session in use %v after sign-in: %d", used+20*time.Minute, status)
		}
	}
	f.clock.Advance(21 * time.Minute) // past DefaultMaxAge since sign-in, 21 minutes after the last use
	if status, loc, _ := b.do("GET", "/apps", nil); status != http.StatusSeeOther || loc != "/signin" {
		t.Errorf("past the absolute expiry: %d to %q", status, loc)
	}
}

// TestSignInLimit fails sign-in until the client's address is limited,
// then waits the window out.
func TestSignInLimit(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.addAdmin("ada@example.com", store.RoleAdmin)
	b := f.browser()
	wrong := url.Values{"tenant": {"default"}, "email": {"ada@example.com"}, "password": {"guess"}}
	for i := range maxFailedSignIns {
		if status, _, _ := b.do("POST", "/signin", wrong); status != http.StatusUnauthorized {
			t.Fatalf("failed sign-in %d: %d, want 401", i+1, status)
		}
	}
	right := url.Values{"tenant": {"default"}, "email": {"ada@example.com"}, "password": {appPassword}}
	if status, _, body := b.do("POST", "/signin", right); status != http.StatusTooManyRequests || !strings.Contains(body, "Too many") {
		t.Errorf("sign-in after %d failures: %d, want 429", maxFailedSignIns, status)
	}
	f.clock.Advance(signInWindow)
	if status, _, _ := b.do("POST", "/signin", right); status != http.StatusSeeOther {
		t.Errorf("sign-in after the window: %d, want 303", status)
	}
}

// TestTokenSignIn signs in with admin API tokens: a SCIM token is
// refused, and a session ends within a minute of its token's revocation.
func TestTokenSignIn(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	scimToken := ferrytest.Token(t, f.st, "default", "provisioning", store.ScopeSCIM)
	adminToken := ferrytest.Token(t, f.st, "default", "ops laptop", store.ScopeAdmin)
	b := f.browser()
	if status, _, _ := b.do("POST", "/signin/token", url.Values{"token": {scimToken}}); status != http.StatusUnauthorized {
		t.Errorf("sign-in with a SCIM token: %d, want 401", status)
	}
	if status, loc, _ := b.do("POST", "/signin/token", url.Values{"token": {adminToken}}); status != http.StatusSeeOther || loc != "/apps" {
		t.Fatalf("sign-in with an admin token: %d to %q", status, loc)
	}
	if status, _, body := b.do("GET", "/apps", nil); status != http.StatusOK || !strings.Contains(body, "ops laptop") {
		t.Fatalf("GET /apps as the token: %d %.300s", status, body)
	}
	tokens, err := f.st.Tokens(context.Background(), f.tenant.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, tk := range tokens {
		if tk.Name == "ops laptop" {
			if err := f.st.RevokeToken(context.Background(), f.tenant.ID, tk.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	f.clock.Advance(touchEvery)
	if status, loc, _ := b.do("GET", "/apps", nil); status != http.StatusSeeOther || loc != "/signin" {
		t.Errorf("a minute after the token's revocation: %d to %q", status, loc)
	}
}

// TestNoSecretsInPages reads every page and fragment, as an admin signed
// in with a token and as one with a password, and runs Test Connection:
// neither the application's secret token nor the sign-in token appears.
func TestNoSecretsInPages(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.addAdmin("ada@example.com", store.RoleAdmin)
	adminToken := ferrytest.Token(t, f.st, "default", "ops", store.ScopeAdmin)
	byToken, byPassword := f.browser(), f.browser()
	byToken.do("POST", "/signin/token", url.Values{"token": {adminToken}})
	byPassword.signIn("ada@example.com")
	for _, b := range []*browser{byToken, byPassword} {
		csrf := b.csrf()
		b.do("GET", "/apps", nil)
		b.do("GET", "/apps/"+appName, nil)
		b.do("GET", "/apps/"+appName+"/status", nil, "HX-Request", "true")
		if status, _, body := b.do("POST", "/apps/"+appName+"/test", url.Values{"csrf": {csrf}}, "HX-Request", "true"); status != http.StatusOK || !strings.Contains(body, "Test Connection succeeded") {
			t.Errorf("Test Connection: %d %.300s", status, body)
		}
		b.do("POST", "/apps/"+appName+"/credentials", url.Values{"csrf": {csrf}, "tenantUrl": {"http://127.0.0.1:9/scim/v2"}})
		b.do("GET", "/signin", nil)
		b.do("GET", "/no/such/page", nil)
		for i, p := range b.pages {
			for _, secret := range []string{appSecret, adminToken, appPassword} {
				if strings.Contains(p, secret) {
					t.Errorf("page %d shows a secret (%.8s…): %.300s", i, secret, p)
				}
			}
		}
	}
}

// TestApplicationPages walks the pages of the tutorial that the unit
// tests can reach without a running engine: add an application from the
// gallery and delete it, assign a user found by a directory search,
// provision it on demand (the target refuses), read the log record it
// left, filter the logs and export them.
func TestApplicationPages(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.addAdmin("ada@example.com", store.RoleAdmin)
	ctx := context.Background()
	doc, err := resource.Decode([]byte(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"grace@example.com","displayName":"Grace Hopper","active":true}`))
	if err != nil {
		t.Fatal(err)
	}
	user := &store.Resource{TenantID: f.tenant.ID, Type: store.UserType, Doc: doc}
	if err := f.st.Create(ctx, user); err != nil {
		t.Fatal(err)
	}
	b := f.browser()
	b.signIn("ada@example.com")
	csrf := b.csrf()

	// The gallery.
	if status, _, body := b.do("GET", "/apps/new", nil); status != http.StatusOK || !strings.Contains(body, "ringcentral") || !strings.Contains(body, "RingCentral: users only") {
		t.Fatalf("the gallery: %d %.500s", status, body)
	}
	if status, _, body := b.do("POST", "/apps", url.Values{"csrf": {csrf}, "template": {"scim"}, "name": {appName}, "tenantUrl": {"https://other.example/scim/v2"}, "secretToken": {"other-secret"}}); status != http.StatusConflict || !strings.Contains(body, appName) {
		t.Errorf("adding an application whose name is taken: %d %s", status, body[strings.Index(body, "<main"):])
	}
	if status, loc, body := b.do("POST", "/apps", url.Values{"csrf": {csrf}, "template": {"scim"}, "name": {"HR app"}, "tenantUrl": {"https://hr.example/scim/v2"}, "secretToken": {"hr-secret"}}); status != http.StatusSeeOther || loc != "/apps/HR%20app?created=1" {
		t.Fatalf("adding an application: %d to %q %s", status, loc, body[max(0, strings.Index(body, "<main")):])
	}
	if status, _, _ := b.do("POST", "/apps/HR%20app/delete", url.Values{"csrf": {csrf}, "confirm": {"HR"}}); status != http.StatusUnprocessableEntity {
		t.Errorf("deleting without the name typed: %d, want 422", status)
	}
	if status, _, _ := b.do("POST", "/apps/HR%20app/delete", url.Values{"csrf": {csrf}, "confirm": {"HR app"}}); status != http.StatusSeeOther {
		t.Errorf("deleting: %d, want 303", status)
	}
	if _, err := f.admin.App(ctx, f.tenant.ID, "HR app"); err == nil {
		t.Error("the deleted application is still there")
	}

	// Users and groups.
	if status, _, body := b.do("GET", "/apps/"+appName+"/assignments?q=hopper", nil); status != http.StatusOK || !strings.Contains(body, "grace@example.com") {
		t.Fatalf("a directory search: %d %.500s", status, body)
	}
	if status, _, body := b.do("POST", "/apps/"+appName+"/assign", url.Values{"csrf": {csrf}, "type": {"User"}, "id": {user.ID}, "role": {"User"}}); status != http.StatusOK || !strings.Contains(body, "User assigned") {
		t.Fatalf("assigning: %d %.500s", status, body)
	}
	as, err := f.admin.Assignments(ctx, f.tenant.ID, appName)
	if err != nil || len(as) != 1 || as[0].PrincipalID != user.ID {
		t.Fatalf("assignments after assigning: %+v, %v", as, err)
	}

	// Provision on demand: the target refuses the user, and says so.
	status, _, body := b.do("POST", "/apps/"+appName+"/ondemand", url.Values{"csrf": {csrf}, "user": {"grace@example.com"}})
	if status != http.StatusOK || !strings.Contains(body, "What happened") || !strings.Contains(body, "failure") {
		t.Fatalf("provision on demand: %d %.1500s", status, body)
	}

	// The log record it left, filtered and exported.
	if status, _, body := b.do("GET", "/apps/"+appName+"/logs?status=failure&user=grace%40example.com", nil); status != http.StatusOK || !strings.Contains(body, "User grace@example.com") || !strings.Contains(body, "<details>") || !strings.Contains(body, "Recommended action") {
		t.Fatalf("the logs, filtered: %d %s", status, body[max(0, strings.Index(body, "<main")):])
	}
	if status, _, body := b.do("GET", "/apps/"+appName+"/logs?status=success", nil); status != http.StatusOK || !strings.Contains(body, "No provisioning log records match") {
		t.Errorf("the logs, filtered to nothing: %d %.500s", status, body)
	}
	if status, _, body := b.do("GET", "/apps/"+appName+"/logs?since=yesterday", nil); status != http.StatusBadRequest {
		t.Errorf("a malformed date: %d %.300s", status, body)
	}
	status, _, body = b.do("GET", "/apps/"+appName+"/logs/export/csv?status=failure", nil)
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if status != http.StatusOK || err != nil || len(rows) != 2 || rows[1][3] != "failure" || rows[1][7] != "grace@example.com" {
		t.Errorf("the CSV export: %d %v %q", status, err, rows)
	}
	status, _, body = b.do("GET", "/apps/"+appName+"/logs/export/json", nil)
	var records []provision.LogRecord
	if status != http.StatusOK || json.Unmarshal([]byte(body), &records) != nil || len(records) == 0 || records[0].Error == nil {
		t.Errorf("the JSON export: %d %.500s", status, body)
	}
}

// TestMappings edits an attribute mapping as the tutorial does: an
// invalid expression is refused with the reason and saves nothing, "try
// it" evaluates an expression for a directory user, and a valid mapping
// is saved, then removed.
func TestMappings(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.addAdmin("ada@example.com", store.RoleAdmin)
	ctx := context.Background()
	doc, err := resource.Decode([]byte(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"grace@example.com","name":{"givenName":"Grace","familyName":"Hopper"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.st.Create(ctx, &store.Resource{TenantID: f.tenant.ID, Type: store.UserType, Doc: doc}); err != nil {
		t.Fatal(err)
	}
	b := f.browser()
	b.signIn("ada@example.com")
	csrf := b.csrf()
	before, err := f.admin.App(ctx, f.tenant.ID, appName)
	if err != nil {
		t.Fatal(err)
	}
	rows := len(before.Config.Objects[0].Attributes)
	if status, _, body := b.do("GET", "/apps/"+appName+"/mappings", nil); status != http.StatusOK || !strings.Contains(body, "userName") || !strings.Contains(body, "Matching precedence") {
		t.Fatalf("the mappings page: %d %.500s", status, body)
	}
	if status, _, body := b.do("GET", "/apps/"+appName+"/mappings/User/0", nil); status != http.StatusOK || !strings.Contains(body, `name="target"`) {
		t.Fatalf("the edit form: %d %.500s", status, body)
	}
	version := strconv.FormatInt(before.Version, 10)
	mapping := func(source string) url.Values {
		return url.Values{"csrf": {csrf}, "version": {version}, "type": {"expression"}, "source": {source}, "target": {"nickName"}, "apply": {"always"}}
	}
	status, _, body := b.do("POST", "/apps/"+appName+"/mappings/User/new", mapping(`join(" ", [name.givenName])`))
	if status != http.StatusBadRequest || !strings.Contains(body, "unknown function") || !strings.Contains(body, `join(&#34; &#34;, [name.givenName])`) {
		t.Errorf("saving an invalid expression: %d %s", status, body[max(0, strings.Index(body, "<main")):])
	}
	if a, _ := f.admin.App(ctx, f.tenant.ID, appName); len(a.Config.Objects[0].Attributes) != rows || a.Version != before.Version {
		t.Fatalf("an invalid mapping was saved: %d mappings, version %d", len(a.Config.Objects[0].Attributes), a.Version)
	}
	try := mapping(`Join(" ", [name.givenName], ToUpper([name.familyName]))`)
	try.Set("tryUser", "grace@example.com")
	if status, _, body := b.do("POST", "/apps/"+appName+"/mappings/try", try, "HX-Request", "true"); status != http.StatusOK || !strings.Contains(body, "Grace HOPPER") {
		t.Errorf("try it: %d %s", status, body)
	}
	if status, loc, body := b.do("POST", "/apps/"+appName+"/mappings/User/new", try); status != http.StatusSeeOther || !strings.HasPrefix(loc, "/apps/"+appName+"/mappings") {
		t.Fatalf("saving a valid mapping: %d to %q %s", status, loc, body[max(0, strings.Index(body, "<main")):])
	}
	after, err := f.admin.App(ctx, f.tenant.ID, appName)
	if err != nil {
		t.Fatal(err)
	}
	added := after.Config.Objects[0].Attributes
	if len(added) != rows+1 || added[rows].Target != "nickName" || added[rows].Type != "expression" {
		t.Fatalf("after saving: %+v", added)
	}
	// A form made from the version before is refused: someone saved since.
	if status, _, _ := b.do("POST", "/apps/"+appName+"/mappings/User/new", try); status != http.StatusPreconditionFailed {
		t.Errorf("saving from a stale form: %d, want 412", status)
	}
	remove := url.Values{"csrf": {csrf}, "version": {strconv.FormatInt(after.Version, 10)}}
	if status, _, _ := b.do("POST", "/apps/"+appName+"/mappings/User/"+strconv.Itoa(rows)+"/remove", remove); status != http.StatusSeeOther {
		t.Errorf("removing: %d", status)
	}
	if a, _ := f.admin.App(ctx, f.tenant.ID, appName); len(a.Config.Objects[0].Attributes) != rows {
		t.Errorf("after removing: %d mappings, want %d", len(a.Config.Objects[0].Attributes), rows)
	}
}

// TestScopingFilters adds clauses with the builder, one refused by the
// engine (a regular expression that does not compile), and removes them.
func TestScopingFilters(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.addAdmin("ada@example.com", store.RoleAdmin)
	ctx := context.Background()
	b := f.browser()
	b.signIn("ada@example.com")
	csrf := b.csrf()
	version := func() string {
		a, err := f.admin.App(ctx, f.tenant.ID, appName)
		if err != nil {
			t.Fatal(err)
		}
		return strconv.FormatInt(a.Version, 10)
	}
	status, _, body := b.do("GET", "/apps/"+appName+"/scoping/User", nil)
	if status != http.StatusOK || strings.Count(body, "<option>") < 14 {
		t.Fatalf("the scoping page (the 14 operators): %d %.300s", status, body)
	}
	add := url.Values{"csrf": {csrf}, "version": {version()}, "filter": {"new"}, "title": {"Sales"}, "attribute": {"department"}, "operator": {"EQUALS"}, "value": {"Sales"}}
	if status, _, body := b.do("POST", "/apps/"+appName+"/scoping/User/add", add); status != http.StatusOK || !strings.Contains(body, "Scoping clause added") {
		t.Fatalf("adding a clause: %d %s", status, body[max(0, strings.Index(body, "<main")):])
	}
	bad := url.Values{"csrf": {csrf}, "version": {version()}, "filter": {"0"}, "attribute": {"title"}, "operator": {"REGEX MATCH"}, "value": {"(unclosed"}}
	if status, _, body := b.do("POST", "/apps/"+appName+"/scoping/User/add", bad); status != http.StatusBadRequest || !strings.Contains(body, "(unclosed") {
		t.Errorf("adding an invalid clause: %d %s", status, body[max(0, strings.Index(body, "<main")):])
	}
	a, err := f.admin.App(ctx, f.tenant.ID, appName)
	if err != nil {
		t.Fatal(err)
	}
	if set := a.Config.Objects[0].Scoping; len(set) != 1 || len(set[0].Clauses) != 1 || set[0].Clauses[0].Attribute != "department" {
		t.Fatalf("scoping after an add and a refused add: %+v", set)
	}
	remove := url.Values{"csrf": {csrf}, "version": {version()}}
	if status, _, _ := b.do("POST", "/apps/"+appName+"/scoping/User/0/0/remove", remove); status != http.StatusOK {
		t.Errorf("removing the clause: %d", status)
	}
	if a, _ := f.admin.App(ctx, f.tenant.ID, appName); len(a.Config.Objects[0].Scoping) != 0 {
		t.Errorf("after removing the last clause: %+v", a.Config.Objects[0].Scoping)
	}
}

// TestJobPages runs the job's controls from the console: the plan (a dry
// run), restart with reset behind its confirmation, allowing deletes when
// none are held (refused with the reason), the failures, and the audit
// log, which names the console's admin as the actor.
func TestJobPages(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.addAdmin("ada@example.com", store.RoleAdmin)
	b := f.browser()
	b.signIn("ada@example.com")
	csrf := b.csrf()
	if status, _, body := b.do("GET", "/apps/"+appName+"/plan", nil); status != http.StatusOK || !strings.Contains(body, "Compute the plan") || strings.Contains(body, "nothing was sent") {
		t.Errorf("the plan's page computes nothing by itself: %d %s", status, body[max(0, strings.Index(body, "<main")):])
	}
	if status, _, body := b.do("POST", "/apps/"+appName+"/plan", url.Values{"csrf": {csrf}}); status != http.StatusOK || !strings.Contains(body, "nothing was sent") {
		t.Errorf("the plan: %d %s", status, body[max(0, strings.Index(body, "<main")):])
	}
	if status, _, body := b.do("GET", "/apps/"+appName+"/restart", nil); status != http.StatusOK || !strings.Contains(body, "Clear current state and restart") {
		t.Errorf("the restart confirmation: %d %.300s", status, body)
	}
	if status, _, body := b.do("POST", "/apps/"+appName+"/restart", url.Values{"csrf": {csrf}, "reset": {"on"}}); status != http.StatusOK || !strings.Contains(body, "state cleared") {
		t.Errorf("restart with reset: %d %s", status, body[max(0, strings.Index(body, "<main")):])
	}
	if !f.enabled() {
		t.Error("a restart did not turn provisioning On")
	}
	if status, _, body := b.do("POST", "/apps/"+appName+"/deletes", url.Values{"csrf": {csrf}, "decision": {"allow"}}); status != http.StatusConflict {
		t.Errorf("allowing deletes when none are held: %d %s", status, body[max(0, strings.Index(body, "<main")):])
	}
	if status, _, body := b.do("GET", "/apps/"+appName+"/failures", nil); status != http.StatusOK || !strings.Contains(body, "No object is in escrow") {
		t.Errorf("the failures: %d %.300s", status, body)
	}
	status, _, body := b.do("GET", "/apps/"+appName+"/audit", nil)
	if status != http.StatusOK || !strings.Contains(body, "restart-reset") || !strings.Contains(body, "ada@example.com") {
		t.Errorf("the audit log: %d %s", status, body[max(0, strings.Index(body, "<main")):])
	}
}

// TestDirectoryAndTokens browses the directory (search, pages, a user's
// groups, a group's members) and manages tokens: a new token is shown
// once, works, and is refused once revoked.
func TestDirectoryAndTokens(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.addAdmin("ada@example.com", store.RoleAdmin)
	ctx := context.Background()
	var first *store.Resource
	for i := range directoryPageSize + 5 {
		doc, err := resource.Decode(fmt.Appendf(nil, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"user%02d@example.com","displayName":"User %02d"}`, i, i))
		if err != nil {
			t.Fatal(err)
		}
		u := &store.Resource{TenantID: f.tenant.ID, Type: store.UserType, Doc: doc}
		if err := f.st.Create(ctx, u); err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = u
		}
	}
	group := &store.Resource{TenantID: f.tenant.ID, Type: store.GroupType, Doc: resource.Document{"displayName": "Pilots"},
		Members: []store.Member{{ID: first.ID}}}
	if err := f.st.Create(ctx, group); err != nil {
		t.Fatal(err)
	}
	b := f.browser()
	b.signIn("ada@example.com")
	status, _, body := b.do("GET", "/directory/users", nil)
	if status != http.StatusOK || strings.Count(body, `href="/directory/users/`) != directoryPageSize || !strings.Contains(body, "Next page") {
		t.Fatalf("the first page of users: %d, %d users", status, strings.Count(body, `href="/directory/users/`))
	}
	next := regexp.MustCompile(`href="(/directory/users\?after=[^"]+)"`).FindStringSubmatch(body)
	if next == nil {
		t.Fatal("no link to the next page")
	}
	if status, _, body := b.do("GET", strings.ReplaceAll(next[1], "&amp;", "&"), nil); status != http.StatusOK || strings.Count(body, `href="/directory/users/`) != 5 || strings.Contains(body, "Next page") {
		t.Errorf("the last page of users: %d, %d users", status, strings.Count(body, `href="/directory/users/`))
	}
	if status, _, body := b.do("GET", "/directory/users?q=user07", nil); status != http.StatusOK || strings.Count(body, `href="/directory/users/`) != 1 {
		t.Errorf("a search: %d %.300s", status, body)
	}
	if status, _, body := b.do("GET", "/directory/users/"+first.ID, nil); status != http.StatusOK || !strings.Contains(body, "Pilots") {
		t.Errorf("a user's groups: %d %.300s", status, body)
	}
	if status, _, body := b.do("GET", "/directory/groups/"+group.ID, nil); status != http.StatusOK || !strings.Contains(body, "User 00") {
		t.Errorf("a group's members: %d %.300s", status, body)
	}
	if status, _, _ := b.do("GET", "/directory/users/no-such-id", nil); status != http.StatusNotFound {
		t.Errorf("an unknown user: %d, want 404", status)
	}

	// Tokens.
	csrf := b.csrf()
	status, _, body = b.do("POST", "/tokens", url.Values{"csrf": {csrf}, "name": {"entra"}, "scope": {"scim"}})
	m := regexp.MustCompile(`id="new-token" value="([^"]+)"`).FindStringSubmatch(body)
	if status != http.StatusOK || m == nil {
		t.Fatalf("creating a token: %d %.500s", status, body)
	}
	token := m[1]
	scimGet := func() int {
		req, _ := http.NewRequest("GET", f.url+"/scim/v2/Users?count=1", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := scimGet(); got != http.StatusOK {
		t.Fatalf("the new token on /scim/v2: %d", got)
	}
	status, _, body = b.do("GET", "/tokens", nil)
	if status != http.StatusOK || strings.Contains(body, token) || !strings.Contains(body, "entra") {
		t.Fatalf("the tokens page shows the token again, or not its name: %d", status)
	}
	entra := func() store.Token {
		tokens, err := f.st.Tokens(ctx, f.tenant.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, tk := range tokens {
			if tk.Name == "entra" {
				return tk
			}
		}
		t.Fatalf("no token named entra among %d", len(tokens))
		return store.Token{}
	}
	if status, _, body := b.do("POST", "/tokens/"+entra().ID+"/revoke", url.Values{"csrf": {csrf}}); status != http.StatusOK || !strings.Contains(body, "revoked") {
		t.Errorf("revoking: %d %.300s", status, body)
	}
	if entra().Revoked == nil {
		t.Error("the token was not revoked")
	}
	if status, _, _ := b.do("POST", "/tokens", url.Values{"csrf": {csrf}, "name": {"x"}, "scope": {"root"}}); status != http.StatusBadRequest {
		t.Errorf("a token of an unknown scope: %d, want 400", status)
	}
}

// TestAssignmentsPaged assigns more users than a page holds: the page
// shows one page of them, read in the database, and links to the rest.
func TestAssignmentsPaged(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.addAdmin("ada@example.com", store.RoleAdmin)
	ctx := context.Background()
	for i := range assignPageSize + 5 {
		doc, err := resource.Decode(fmt.Appendf(nil, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"member%02d@example.com"}`, i))
		if err != nil {
			t.Fatal(err)
		}
		u := &store.Resource{TenantID: f.tenant.ID, Type: store.UserType, Doc: doc}
		if err := f.st.Create(ctx, u); err != nil {
			t.Fatal(err)
		}
		if _, err := f.admin.Assign(ctx, f.tenant.ID, appName, provision.Principal{Type: store.UserType, ID: u.ID}, "User"); err != nil {
			t.Fatal(err)
		}
	}
	b := f.browser()
	b.signIn("ada@example.com")
	status, _, body := b.do("GET", "/apps/"+appName+"/assignments", nil)
	if status != http.StatusOK || strings.Count(body, ">Unassign<") != assignPageSize {
		t.Fatalf("the first page: %d, %d assignments", status, strings.Count(body, ">Unassign<"))
	}
	more := regexp.MustCompile(`href="(/apps/[^"]+/assignments\?after=[^"]+)">More assignments`).FindStringSubmatch(body)
	if more == nil {
		t.Fatal("no link to more assignments")
	}
	status, _, body = b.do("GET", more[1], nil)
	if status != http.StatusOK || strings.Count(body, ">Unassign<") != 5 || strings.Contains(body, "More assignments") {
		t.Errorf("the second page: %d, %d assignments", status, strings.Count(body, ">Unassign<"))
	}
}

// TestCrossSiteSignIn posts the sign-in form from another site, as a
// login-CSRF attack would: refused, no session.
func TestCrossSiteSignIn(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.addAdmin("ada@example.com", store.RoleAdmin)
	b := f.browser()
	form := url.Values{"tenant": {"default"}, "email": {"ada@example.com"}, "password": {appPassword}}
	if status, _, _ := b.do("POST", "/signin", form, "Origin", "https://evil.example"); status != http.StatusForbidden {
		t.Errorf("a sign-in posted from another site: %d, want 403", status)
	}
	if status, _, _ := b.do("GET", "/apps", nil); status != http.StatusSeeOther {
		t.Errorf("after a refused cross-site sign-in, GET /apps: %d, want 303 to sign-in", status)
	}
	if status, loc, _ := b.do("POST", "/signin", form, "Origin", f.url); status != http.StatusSeeOther || loc != "/apps" {
		t.Errorf("a sign-in posted from the console itself: %d to %q", status, loc)
	}
}

// TestEndedSessionsSwept checks that a sign-in deletes the sessions that
// ended before it.
func TestEndedSessionsSwept(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.addAdmin("ada@example.com", store.RoleAdmin)
	old := f.browser()
	old.signIn("ada@example.com")
	ck := old.client.Jar.Cookies(mustURL(t, f.url))
	if len(ck) != 1 {
		t.Fatalf("cookies: %v", ck)
	}
	f.clock.Advance(DefaultMaxAge + time.Minute)
	f.browser().signIn("ada@example.com")
	if _, err := f.st.SessionByHash(context.Background(), hashSecret(ck[0].Value)); err == nil {
		t.Error("a session that ended was still stored after the next sign-in")
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
