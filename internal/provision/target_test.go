package provision_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/ferryid/ferry/internal/egress"
	. "github.com/ferryid/ferry/internal/provision"
	"github.com/ferryid/ferry/internal/scim"
	"github.com/ferryid/ferry/internal/scim/schema"
)

// allowLoopback is the egress policy of ferry serve --egress-allow
// loopback, which tests whose targets listen on loopback need.
func allowLoopback(t testing.TB) *egress.Policy {
	t.Helper()
	p, err := egress.Parse("loopback")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// listener is a loopback HTTP server that records every connection made
// to it and every Authorization header it receives: a place a secret
// token must never reach.
type listener struct {
	url string

	mu    sync.Mutex
	conns int
	auth  []string
}

func newListener(t *testing.T) *listener {
	t.Helper()
	l := &listener{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l.mu.Lock()
		l.auth = append(l.auth, r.Header.Get("Authorization"))
		l.mu.Unlock()
		w.Header().Set("Content-Type", "application/scim+json")
		io.WriteString(w, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":0,"Resources":[]}`)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			l.mu.Lock()
			l.conns++
			l.mu.Unlock()
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	l.url = srv.URL + "/scim/v2"
	return l
}

// nothing fails the test if anything connected to the listener.
func (l *listener) nothing(t *testing.T) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conns != 0 || len(l.auth) != 0 {
		t.Errorf("the listener received %d connections and the Authorization headers %q; want nothing", l.conns, l.auth)
	}
}

func badRequest(t *testing.T, err error, what string, want ...string) {
	t.Helper()
	e, ok := scim.AsError(err)
	if !ok || e.Status != 400 {
		t.Fatalf("%s: %v; want a 400", what, err)
	}
	for _, w := range want {
		if !strings.Contains(e.Detail, w) {
			t.Errorf("%s: %q does not say %q", what, e.Detail, w)
		}
	}
}

// TestEgressGuard: an engine without --egress-allow sends nothing to an
// application whose Tenant URL is on loopback (or any other refused
// address), and its Test Connection says why and what allows it.
func TestEgressGuard(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := newDirectoryWith(t, func(o *Options) { o.Egress = nil })
	l := newListener(t)
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(strings.TrimSuffix(l.url, "/scim/v2"), "http://"))
	tests := []struct {
		name, url string
		want      []string
	}{
		{"loopback", l.url, []string{"127.0.0.1", "loopback address", "--egress-allow loopback", "FERRY_EGRESS_ALLOW"}},
		{"localhost", "http://localhost:" + port + "/scim/v2", []string{"localhost (", "loopback address", "--egress-allow loopback"}},
		{"unspecified", "http://0.0.0.0:" + port + "/scim/v2", []string{"0.0.0.0", "unspecified", "--egress-allow 0.0.0.0/32"}},
		{"mapped IPv6 loopback", "http://[::ffff:127.0.0.1]:" + port + "/scim/v2", []string{"127.0.0.1", "--egress-allow loopback"}},
		{"cloud metadata", "http://169.254.169.254/scim/v2", []string{"169.254.169.254", "cloud metadata", "--egress-allow 169.254.169.254/32"}},
	}
	for _, tc := range tests {
		app, err := d.m.CreateApp(ctx, d.tenant, NewApp{Name: tc.name, Template: "scim", TenantURL: tc.url, SecretToken: "the-stored-secret"})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		res, err := d.m.TestConnection(ctx, d.tenant, app.Name)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if res.Success || res.Code != "EgressRefused" {
			t.Errorf("%s: Test Connection %+v; want refused by the egress policy", tc.name, res)
		}
		for _, want := range tc.want {
			if !strings.Contains(res.Message, want) {
				t.Errorf("%s: Test Connection's message %q does not say %q", tc.name, res.Message, want)
			}
		}
	}
	l.nothing(t)

	// The same application, from an engine the operator allowed loopback:
	// the request goes out.
	m := NewService(NewEngine(d.st, schema.Builtin(), d.sealer, slog.New(slog.DiscardHandler), Options{Egress: allowLoopback(t)}))
	if res, err := m.TestConnection(ctx, d.tenant, "loopback"); err != nil || !res.Success {
		t.Fatalf("Test Connection with loopback allowed: %+v, %v", res, err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	// Two requests: the test's query, then /Schemas (Test Connection
	// reads the target's schema).
	if len(l.auth) != 2 || l.auth[0] != "Bearer the-stored-secret" || l.auth[1] != l.auth[0] {
		t.Errorf("the listener received the Authorization headers %q; want the stored secret's, twice", l.auth)
	}
}

// TestRepointNeedsSecret: moving an application to another scheme, host
// or port needs its secret token in the same request, so that whoever may
// edit it cannot have the stored secret sent to a listener of theirs; a
// new path on the same endpoint does not.
func TestRepointNeedsSecret(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := newDirectory(t) // loopback allowed: the listener is reachable
	tg := newTarget(t)
	l := newListener(t)
	const name = "repointed"
	if _, err := d.m.CreateApp(ctx, d.tenant, NewApp{Name: name, Template: "scim", TenantURL: tg.url, SecretToken: tg.token}); err != nil {
		t.Fatal(err)
	}
	host := strings.TrimPrefix(strings.TrimSuffix(tg.url, "/scim/v2"), "http://")
	_, port, _ := net.SplitHostPort(host)
	for _, moved := range []string{
		l.url,                                   // another port
		"http://localhost:" + port + "/scim/v2", // another host
		"https://" + host + "/scim/v2",          // another scheme
	} {
		_, err := d.m.UpdateApp(ctx, d.tenant, name, 0, AppChange{TenantURL: &moved})
		badRequest(t, err, "tenantUrl alone to "+moved, "secretToken", "another scheme, host or port")
		cfg := Config{}
		if v, err := d.m.App(ctx, d.tenant, name); err == nil {
			cfg = v.Config
		}
		if cfg.TenantURL != tg.url {
			t.Fatalf("the refused change was saved: tenantUrl %q", cfg.TenantURL)
		}
		cfg.TenantURL = moved
		_, err = d.m.UpdateApp(ctx, d.tenant, name, 0, AppChange{Config: &cfg})
		badRequest(t, err, "a configuration with tenantUrl "+moved, "secretToken")
	}
	if res, err := d.m.TestConnection(ctx, d.tenant, name); err != nil || !res.Success {
		t.Fatalf("Test Connection after the refused changes: %+v, %v", res, err)
	}
	l.nothing(t)

	// Same endpoint, another path, default port written out: no token needed.
	for _, same := range []string{tg.url + "/", "HTTP://" + strings.ToUpper(host) + "/scim/v2"} {
		if _, err := d.m.UpdateApp(ctx, d.tenant, name, 0, AppChange{TenantURL: &same}); err != nil {
			t.Errorf("tenantUrl %s on the same endpoint: %v", same, err)
		}
	}
	// With the token, the application moves.
	token := "the-listener-token"
	if _, err := d.m.UpdateApp(ctx, d.tenant, name, 0, AppChange{TenantURL: &l.url, SecretToken: &token}); err != nil {
		t.Fatalf("tenantUrl with secretToken: %v", err)
	}
}

// TestTargetSettingsChecked: Tenant URLs with a query or fragment, short
// secret tokens and rate limits above the operator's maximum are refused
// when saved.
func TestTargetSettingsChecked(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := newDirectoryWith(t, func(o *Options) { o.MaxRateLimit = 0 }) // the default maximum
	const good = "https://t.example/scim/v2"
	tests := []struct {
		name string
		app  NewApp
		rate float64
		want []string // what the refusal says; none when accepted
		not  string   // what it must not repeat
	}{
		{name: "a query", app: NewApp{TenantURL: good + "?apikey=abc123"},
			want: []string{"https://t.example/scim/v2 must not have a query", "?aadOptscim062020", "?AzureAdScimPatch2017"}, not: "abc123"},
		{name: "a fragment", app: NewApp{TenantURL: good + "#x"}, want: []string{"fragment"}},
		{name: "Entra's compliance flag", app: NewApp{TenantURL: good + "?aadOptscim062020"}},
		{name: "Entra's legacy flag", app: NewApp{TenantURL: good + "?AzureAdScimPatch2017"}},
		{name: "a flag with another parameter", app: NewApp{TenantURL: good + "?aadOptscim062020&key=abc123"}, want: []string{"query"}, not: "abc123"},
		{name: "a one-letter secret", app: NewApp{SecretToken: "x"}, want: []string{"secretToken must have at least 8 characters, not 1"}},
		{name: "a seven-character secret", app: NewApp{SecretToken: "1234567"}, want: []string{"at least 8"}},
		{name: "an eight-character secret", app: NewApp{SecretToken: "12345678"}},
		{name: "the maximum rate", rate: 1000},
		{name: "above the maximum rate", rate: 1e9, want: []string{"rateLimit 1e+09", "maximum of 1000", "--max-rate-limit", "FERRY_MAX_RATE_LIMIT"}},
	}
	base, err := d.m.CreateApp(ctx, d.tenant, NewApp{Name: "base", Template: "scim", TenantURL: good, SecretToken: "a-good-secret"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		in := tc.app
		in.Name, in.Template = tc.name, "scim"
		if in.TenantURL == "" {
			in.TenantURL = good
		}
		if in.SecretToken == "" {
			in.SecretToken = "a-good-secret"
		}
		if tc.rate != 0 {
			cfg := base.Config
			cfg.RateLimit = tc.rate
			in.Config = &cfg
		}
		_, err := d.m.CreateApp(ctx, d.tenant, in)
		if tc.want == nil {
			if err != nil {
				t.Errorf("%s: %v; want it saved", tc.name, err)
			}
			continue
		}
		badRequest(t, err, tc.name, tc.want...)
		if tc.not != "" && strings.Contains(err.Error(), tc.not) {
			t.Errorf("%s: the refusal repeats %q: %v", tc.name, tc.not, err)
		}
	}

	// The same rules on update.
	short := "short"
	_, err = d.m.UpdateApp(ctx, d.tenant, "an eight-character secret", 0, AppChange{SecretToken: &short})
	badRequest(t, err, "update with a short secret", "at least 8")
	query := good + "?apikey=abc123"
	_, err = d.m.UpdateApp(ctx, d.tenant, "an eight-character secret", 0, AppChange{TenantURL: &query})
	badRequest(t, err, "update with a query", "must not have a query")
	v, err := d.m.App(ctx, d.tenant, "the maximum rate")
	if err != nil {
		t.Fatal(err)
	}
	cfg := v.Config
	cfg.RateLimit = 1000.5
	_, err = d.m.UpdateApp(ctx, d.tenant, "the maximum rate", 0, AppChange{Config: &cfg})
	badRequest(t, err, "update above the maximum rate", "maximum of 1000")

	// An operator's own maximum.
	low := newDirectoryWith(t, func(o *Options) { o.MaxRateLimit = 50 })
	cfg.RateLimit = 51
	_, err = low.m.CreateApp(ctx, low.tenant, NewApp{Name: "x", Template: "scim", TenantURL: good, SecretToken: "a-good-secret", Config: &cfg})
	badRequest(t, err, "above an operator's maximum of 50", "maximum of 50")
}
