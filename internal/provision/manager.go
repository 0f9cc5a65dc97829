package provision

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/ferryid/ferry/internal/egress"
	"github.com/ferryid/ferry/internal/notify"
	"github.com/ferryid/ferry/internal/provision/expr"
	"github.com/ferryid/ferry/internal/scim"
	"github.com/ferryid/ferry/internal/scim/filter"
	"github.com/ferryid/ferry/internal/scim/schema"
	"github.com/ferryid/ferry/internal/scimclient"
	"github.com/ferryid/ferry/internal/seal"
	"github.com/ferryid/ferry/internal/store"
)

// Options tunes a Manager. The zero value is a sound default.
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
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// RetryPolicy is the SCIM client's retry policy; its default when
	// zero.
	RetryPolicy scimclient.RetryPolicy
	// Clock is the SCIM client's clock for waits; real time when nil.
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
}

// DefaultMaxRateLimit is Options.MaxRateLimit's default, in requests a
// second: a tenant admin may not turn the engine into a flood.
const DefaultMaxRateLimit = 1000

// Manager is the provisioning engine: it manages applications for the
// admin API and runs their jobs (Run).
type Manager struct {
	store   store.Store
	catalog *schema.Catalog
	sealer  *seal.Sealer
	log     *slog.Logger
	opts    Options
	workers int
	now     func() time.Time
	env     expr.Env
	owner   string

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

// NewManager returns a Manager over st. sealer encrypts target secrets.
func NewManager(st store.Store, catalog *schema.Catalog, sealer *seal.Sealer, log *slog.Logger, opts Options) *Manager {
	if opts.MaxRateLimit <= 0 {
		opts.MaxRateLimit = DefaultMaxRateLimit
	}
	m := &Manager{store: st, catalog: catalog, sealer: sealer, log: log, opts: opts,
		objects: map[string]*objectLock{}, running: map[string]bool{}, interrupts: map[string]context.CancelCauseFunc{},
		wake:    make(chan struct{}, 1),
		clients: map[string]cachedClient{}}
	m.workers = opts.Workers
	if m.workers <= 0 {
		m.workers = 16
	}
	m.now = opts.Now
	if m.now == nil {
		m.now = time.Now
	}
	m.env = expr.Env{Now: m.now}
	m.owner = opts.Owner
	if m.owner == "" {
		m.owner = store.NewID()
	}
	return m
}

// lockObject serializes the processing of one object of an application
// in this process (a cycle and a provision on demand, say).
func (m *Manager) lockObject(appID, typ, id string) func() {
	key := appID + "/" + typ + "/" + id
	m.objMu.Lock()
	l := m.objects[key]
	if l == nil {
		l = &objectLock{}
		m.objects[key] = l
	}
	l.refs++
	m.objMu.Unlock()
	l.mu.Lock()
	return func() {
		l.mu.Unlock()
		m.objMu.Lock()
		if l.refs--; l.refs == 0 {
			delete(m.objects, key)
		}
		m.objMu.Unlock()
	}
}

// Templates returns the names of the application templates.
func (m *Manager) Templates() []string { return Templates() }

// --- applications --------------------------------------------------------------

// CreateApp creates an application from a template. It starts Off: Start
// turns provisioning On.
func (m *Manager) CreateApp(ctx context.Context, tenantID string, in NewApp) (*AppView, error) {
	if strings.TrimSpace(in.Name) == "" {
		return nil, invalid("an application needs a name")
	}
	cfg, err := loadTemplate(in.Template)
	if err != nil {
		return nil, err
	}
	if in.Config != nil {
		cfg = *in.Config
	}
	if in.TenantURL != "" {
		cfg.TenantURL = in.TenantURL
	}
	if in.Scope != "" {
		cfg.Scope = in.Scope
	}
	if _, err := compile(cfg, m.catalog); err != nil {
		return nil, err
	}
	if err := m.checkRateLimit(cfg); err != nil {
		return nil, err
	}
	if in.SecretToken == "" {
		return nil, invalid("secretToken is required: the bearer token the application's SCIM endpoint accepts")
	}
	if err := checkSecretToken(in.SecretToken); err != nil {
		return nil, err
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	a := &store.App{ID: store.NewID(), TenantID: tenantID, Name: strings.TrimSpace(in.Name), Template: in.Template, Config: b,
		Control: control{ConfigVersion: 1}.encode()}
	if in.WebhookSecret != "" {
		if err := checkWebhookSecret(in.WebhookSecret); err != nil {
			return nil, err
		}
	}
	if cfg.NotificationWebhook != "" && in.WebhookSecret == "" {
		return nil, invalid("notificationWebhook needs a webhookSecret to sign the notices with")
	}
	sealCredentials(m.sealer, a, credentials{Token: in.SecretToken, WebhookSecret: in.WebhookSecret})
	if err := m.store.CreateApp(ctx, a); err != nil {
		return nil, err
	}
	m.audit(ctx, a, auditCreate, appChanges(nil, a, changedSecrets(in)))
	return m.view(a)
}

// App returns an application by name.
func (m *Manager) App(ctx context.Context, tenantID, name string) (*AppView, error) {
	a, err := m.store.AppByName(ctx, tenantID, name)
	if err != nil {
		return nil, err
	}
	return m.view(a)
}

// Apps lists a tenant's applications.
func (m *Manager) Apps(ctx context.Context, tenantID string) ([]*AppView, error) {
	as, err := m.store.Apps(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	out := make([]*AppView, 0, len(as))
	for _, a := range as {
		v, err := m.view(a)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// UpdateApp changes an application. A change to what is provisioned or
// how (the configuration, the target) schedules a full cycle.
func (m *Manager) UpdateApp(ctx context.Context, tenantID, name string, ifVersion int64, ch AppChange) (*AppView, error) {
	a, err := m.store.AppByName(ctx, tenantID, name)
	if err != nil {
		return nil, err
	}
	var before *store.App
	updated, err := m.store.UpdateApp(ctx, tenantID, a.ID, ifVersion, func(a *store.App) error {
		b := *a // applyChange replaces the fields it changes, never writes into them
		before = &b
		return m.applyChange(a, ch)
	})
	if err != nil {
		return nil, err
	}
	if d := appChanges(before, updated, changedSecrets(ch)); d != nil {
		m.audit(ctx, updated, auditUpdate, d)
	}
	m.Wake()
	return m.view(updated)
}

// applyChange applies ch to a, checking it whole: UpdateApp saves the
// result, a plan of the change (PlanChange) only looks at it.
func (m *Manager) applyChange(a *store.App, ch AppChange) error {
	cfg, err := decodeConfig(a.Config)
	if err != nil {
		return err
	}
	before := string(a.Config)
	if ch.Config != nil {
		cfg = *ch.Config
		if ch.TenantURL == nil && cfg.TenantURL == "" {
			var old Config
			json.Unmarshal([]byte(before), &old)
			cfg.TenantURL = old.TenantURL
		}
	}
	if ch.TenantURL != nil {
		cfg.TenantURL = *ch.TenantURL
	}
	if ch.Scope != nil {
		cfg.Scope = *ch.Scope
	}
	if _, err := compile(cfg, m.catalog); err != nil {
		return err
	}
	if err := m.checkRateLimit(cfg); err != nil {
		return err
	}
	if ch.SecretToken == nil {
		var old Config
		json.Unmarshal([]byte(before), &old)
		if err := checkRepoint(old.TenantURL, cfg.TenantURL); err != nil {
			return err
		}
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	a.Config = b
	targetChanged := string(b) != before
	if ch.Name != nil {
		if strings.TrimSpace(*ch.Name) == "" {
			return invalid("an application needs a name")
		}
		a.Name = strings.TrimSpace(*ch.Name)
	}
	if ch.SecretToken != nil {
		if *ch.SecretToken == "" {
			return invalid("secretToken must not be empty")
		}
		if err := checkSecretToken(*ch.SecretToken); err != nil {
			return err
		}
		targetChanged = true
	}
	if ch.SecretToken != nil || ch.WebhookSecret != nil {
		creds, err := openCredentials(m.sealer, a)
		if err != nil {
			return err
		}
		if ch.SecretToken != nil {
			creds.Token = *ch.SecretToken
		}
		if ch.WebhookSecret != nil {
			if err := checkWebhookSecret(*ch.WebhookSecret); err != nil {
				return err
			}
			creds.WebhookSecret = *ch.WebhookSecret
		}
		sealCredentials(m.sealer, a, creds)
	}
	if cfg.NotificationWebhook != "" {
		creds, err := openCredentials(m.sealer, a)
		if err != nil {
			return err
		}
		if creds.WebhookSecret == "" {
			return invalid("notificationWebhook needs a webhookSecret to sign the notices with")
		}
	}
	if targetChanged {
		// What the target should hold may have changed, or the target
		// itself: a full cycle on this version follows at once, and
		// objects that failed on the old one are retried with it.
		c, err := decodeControl(a.Control)
		if err != nil {
			return err
		}
		c.ConfigVersion++
		a.Control = c.encode()
	}
	return nil
}

// DeleteApp deletes an application with its assignments and links. What
// was provisioned stays in the target.
func (m *Manager) DeleteApp(ctx context.Context, tenantID, name string) error {
	a, err := m.store.AppByName(ctx, tenantID, name)
	if err != nil {
		return err
	}
	if err := m.store.DeleteApp(ctx, tenantID, a.ID); err != nil {
		return err
	}
	m.audit(ctx, a, auditDelete, nil)
	m.clientMu.Lock()
	delete(m.clients, a.ID)
	m.clientMu.Unlock()
	return nil
}

func (m *Manager) view(a *store.App) (*AppView, error) {
	cfg, err := decodeConfig(a.Config)
	if err != nil {
		return nil, err
	}
	return &AppView{ID: a.ID, Name: a.Name, Template: a.Template, Enabled: a.Enabled, Config: cfg,
		HasSecretToken: len(a.Secret) > 0, HasWebhookSecret: hasWebhookSecret(m.sealer, a), Version: a.Version, Created: a.Created, LastModified: a.LastModified}, nil
}

func decodeConfig(b []byte) (Config, error) {
	var c Config
	if err := json.Unmarshal(b, &c); err != nil {
		return Config{}, fmt.Errorf("the stored configuration does not decode: %w", err)
	}
	return c, nil
}

// --- assignments --------------------------------------------------------------

// Assign assigns a user or group to an application.
func (m *Manager) Assign(ctx context.Context, tenantID, app string, p Principal, role string) (*AssignmentView, error) {
	a, err := m.store.AppByName(ctx, tenantID, app)
	if err != nil {
		return nil, err
	}
	cfg, err := decodeConfig(a.Config)
	if err != nil {
		return nil, err
	}
	if role, err = cfg.resolveRole(role); err != nil {
		return nil, err
	}
	r, err := m.principal(ctx, tenantID, p)
	if err != nil {
		return nil, err
	}
	as := store.Assignment{AppID: a.ID, PrincipalType: r.Type, PrincipalID: r.ID, Role: role}
	if err := m.store.Assign(ctx, tenantID, as); err != nil {
		return nil, err
	}
	m.audit(ctx, a, auditAssign, principalDetails(r, role))
	m.Wake()
	return &AssignmentView{PrincipalType: r.Type, PrincipalID: r.ID, PrincipalName: displayName(r), Role: role, Created: m.now().UTC()}, nil
}

// Unassign removes a user's or group's assignment.
func (m *Manager) Unassign(ctx context.Context, tenantID, app string, p Principal) error {
	a, err := m.store.AppByName(ctx, tenantID, app)
	if err != nil {
		return err
	}
	r, err := m.principal(ctx, tenantID, p)
	if err != nil {
		return err
	}
	if err := m.store.Unassign(ctx, tenantID, a.ID, r.Type, r.ID); err != nil {
		return err
	}
	m.audit(ctx, a, auditUnassign, principalDetails(r, ""))
	m.Wake()
	return nil
}

// Assignments lists an application's assignments.
func (m *Manager) Assignments(ctx context.Context, tenantID, app string) ([]AssignmentView, error) {
	a, err := m.store.AppByName(ctx, tenantID, app)
	if err != nil {
		return nil, err
	}
	as, err := m.store.Assignments(ctx, tenantID, a.ID)
	if err != nil {
		return nil, err
	}
	out := make([]AssignmentView, 0, len(as))
	for _, x := range as {
		v := AssignmentView{PrincipalType: x.PrincipalType, PrincipalID: x.PrincipalID, Role: x.Role, Created: x.Created}
		if r, err := m.store.Get(ctx, tenantID, x.PrincipalType, x.PrincipalID, store.ReadOptions{}); err == nil {
			v.PrincipalName = displayName(r)
		}
		out = append(out, v)
	}
	return out, nil
}

// principal finds the user or group p names.
func (m *Manager) principal(ctx context.Context, tenantID string, p Principal) (*store.Resource, error) {
	typ := p.Type
	switch strings.ToLower(typ) {
	case "user", "users":
		typ = store.UserType
	case "group", "groups":
		typ = store.GroupType
	default:
		return nil, invalid("a principal is a User or a Group, not %q", p.Type)
	}
	if p.ID != "" {
		return m.store.Get(ctx, tenantID, typ, p.ID, store.ReadOptions{})
	}
	if p.Name == "" {
		return nil, invalid("name the %s by id or name", strings.ToLower(typ))
	}
	attr := "userName"
	if typ == store.GroupType {
		attr = "displayName"
	}
	b, _ := json.Marshal(p.Name)
	f, err := filter.Parse(attr + " eq " + string(b))
	if err != nil {
		return nil, err
	}
	page, err := m.store.Query(ctx, tenantID, typ, store.Query{Filter: f, Count: 2})
	if err != nil {
		return nil, err
	}
	switch len(page.Resources) {
	case 0:
		// Let an id given as a name work too.
		if r, err := m.store.Get(ctx, tenantID, typ, p.Name, store.ReadOptions{}); err == nil {
			return r, nil
		}
		return nil, scim.Errorf(404, "", "no %s named %q", strings.ToLower(typ), p.Name)
	case 1:
		return page.Resources[0], nil
	}
	return nil, scim.Errorf(409, "", "several groups are named %q; name it by id", p.Name)
}

// --- jobs ---------------------------------------------------------------------------

// Status returns an application's job status and progress.
func (m *Manager) Status(ctx context.Context, tenantID, app string) (*Status, error) {
	a, err := m.store.AppByName(ctx, tenantID, app)
	if err != nil {
		return nil, err
	}
	js, s, err := m.loadState(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	ctl, err := decodeControl(a.Control)
	if err != nil {
		return nil, err
	}
	st := &Status{App: a.Name, Enabled: a.Enabled, Current: s.Current, Last: s.Last, Watermark: js.Watermark,
		ConfigVersion: ctl.ConfigVersion, FullCyclePending: s.fullDue(ctl), Totals: s.Totals}
	lease, err := m.store.JobLease(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	if lease.Owner != "" && lease.Expires.After(m.now()) {
		st.Holder = lease.Owner
	}
	switch {
	case s.Current != nil && m.now().Sub(s.Heartbeat) > staleAfter:
		// Its process died, or lost the job, without ending it.
		st.State = "interrupted"
		st.Current.State = "interrupted"
	case s.Current != nil:
		st.State = "running"
	case a.Enabled && s.Quarantine != nil:
		st.State = "quarantined"
	case a.Enabled:
		st.State = "idle"
	default:
		st.State = "off"
	}
	if cfg, err := decodeConfig(a.Config); err == nil && a.Enabled && !s.LastFull.IsZero() {
		st.NextFullCycle = s.LastFull.Add(fullInterval(cfg))
	}
	if st.Failures, st.RetryableFailures, err = m.store.CountEscrows(ctx, a.ID); err != nil {
		return nil, err
	}
	st.Quarantine = s.Quarantine
	if s.Staged != nil {
		st.StagedDeletes = s.Staged.view()
	}
	st.Advice = advice(st)
	return st, nil
}

// advice says what an administrator should do about a status, if
// anything.
func advice(st *Status) string {
	var out []string
	if q := st.Quarantine; q != nil {
		switch {
		case q.Reason == reasonTooManyDeletes:
			out = append(out, fmt.Sprintf("Quarantined: %s. Check the assignments and the scoping; then ferry apps allow-deletes %s sends them, or ferry apps reject-deletes %s drops them.",
				q.Detail, shellQuote(st.App), shellQuote(st.App)))
		default:
			out = append(out, fmt.Sprintf("Quarantined (%s): %s. Next attempt %s; fix the cause, then ferry apps test-connection %s ends the quarantine at once.",
				q.Reason, q.Detail, q.NextAttempt.Format(time.RFC3339), shellQuote(st.App)))
		}
	}
	switch {
	case st.State == "interrupted":
		out = append(out, "The running cycle's process stopped without ending it; the next process to run the job resumes it where it was.")
	case !st.Enabled && st.Last != nil && st.Last.State == "stopped":
		out = append(out, fmt.Sprintf("Provisioning is Off; ferry apps start %s resumes the stopped cycle.", shellQuote(st.App)))
	}
	if st.Failures > 0 {
		s := fmt.Sprintf("%d objects failed and are in escrow", st.Failures)
		switch {
		case st.RetryableFailures == st.Failures:
			s += " (retried on their own schedule)"
		case st.RetryableFailures > 0:
			s += fmt.Sprintf(" (%d retried on their own schedule, the others wait for a change of the object or of the configuration)", st.RetryableFailures)
		default:
			s += " (they wait for a change of the object or of the configuration)"
		}
		out = append(out, fmt.Sprintf("%s: ferry apps failures %s shows why; ferry apps retry %s retries them now.", s, shellQuote(st.App), shellQuote(st.App)))
	}
	return strings.Join(out, " ")
}

// shellQuote quotes an application name for a command line, when it needs it.
func shellQuote(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t'\"$`\\!*?[]{}()<>|&;#~") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func fullInterval(c Config) time.Duration {
	if c.FullCycleInterval > 0 {
		return time.Duration(c.FullCycleInterval)
	}
	return DefaultFullCycleInterval
}

// loadState reads a job's state.
func (m *Manager) loadState(ctx context.Context, appID string) (*store.JobState, *jobState, error) {
	js, err := m.store.JobState(ctx, appID)
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

// TestConnection checks the application's endpoint and token as Entra's
// Test Connection does.
func (m *Manager) TestConnection(ctx context.Context, tenantID, app string) (*TestResult, error) {
	a, err := m.store.AppByName(ctx, tenantID, app)
	if err != nil {
		return nil, err
	}
	return m.testConnection(ctx, a)
}

func (m *Manager) testConnection(ctx context.Context, a *store.App) (*TestResult, error) {
	cfg, err := decodeConfig(a.Config)
	if err != nil {
		return nil, err
	}
	c, err := m.client(a, cfg)
	if err != nil {
		return &TestResult{Success: false, Message: err.Error()}, nil
	}
	if err := c.TestConnection(ctx); err != nil {
		return &TestResult{Success: false, Message: err.Error(), Code: string(scimclient.CodeOf(err))}, nil
	}
	// A job quarantined for failures tries again at once.
	if _, s, err := m.loadState(ctx, a.ID); err == nil && s.Quarantine != nil && s.Quarantine.Reason != reasonTooManyDeletes {
		if _, err := m.changeControl(ctx, a.TenantID, a.ID, func(c *control, _ *store.App) error { c.Release++; return nil }); err != nil {
			return nil, err
		}
		m.Wake()
	}
	return &TestResult{Success: true}, nil
}

// client returns the SCIM client of an application's target, made anew
// when the application changed since.
func (m *Manager) client(a *store.App, cfg Config) (*scimclient.Client, error) {
	m.clientMu.Lock()
	defer m.clientMu.Unlock()
	if c, ok := m.clients[a.ID]; ok && c.version == a.Version {
		return c.client, nil
	}
	c, err := m.newClient(a, cfg)
	if err != nil {
		return nil, err
	}
	m.clients[a.ID] = cachedClient{version: a.Version, client: c}
	return c, nil
}

// newClient makes a SCIM client for an application's target.
func (m *Manager) newClient(a *store.App, cfg Config) (*scimclient.Client, error) {
	creds, err := openCredentials(m.sealer, a)
	if err != nil {
		return nil, err
	}
	token := creds.Token
	limit := scimclient.DefaultRateLimit
	if cfg.RateLimit > 0 {
		// Capped also here: the application may have been saved before the
		// maximum was lowered, or by a replica with another.
		limit = rate.Limit(min(cfg.RateLimit, m.opts.MaxRateLimit))
	}
	// A client of its own per application version, as scimclient's default
	// would have: its connections never outlive the configuration.
	return scimclient.New(scimclient.Config{BaseURL: cfg.TenantURL, Token: string(token),
		Profile: scimclient.Profile(cfg.Profile), RateLimit: limit, HTTPClient: m.opts.Egress.Client(),
		Retry: m.opts.RetryPolicy, Clock: m.opts.Clock, Logger: m.log})
}
