package provision

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"

	"github.com/ferryid/ferry/internal/scim/schema"
	"github.com/ferryid/ferry/internal/scimclient"
	"github.com/ferryid/ferry/internal/seal"
	"github.com/ferryid/ferry/internal/store"
)

// Service is provisioning as administrators see it, the admin API's side
// (/api/v1): it creates, reads, changes and deletes applications and
// their assignments, shows a job's status, failures, logs, plans and
// audit log, and steers a job through the application's record (On and
// Off, restart, retry, the staged deletes; control.go). What must act as
// the job does (Stop's interruption of a running cycle, a cycle run now, a
// provision on demand, a plan, Test Connection on the job's client) it asks
// of the Engine it holds.
type Service struct {
	engine       *Engine
	store        store.Store
	catalog      *schema.Catalog
	sealer       *seal.Sealer
	log          *slog.Logger
	clock        scimclient.Clock
	maxRateLimit float64
}

// NewService returns the administration of e's applications, on e's
// store, schemas, secret key, logger and clock.
func NewService(e *Engine) *Service {
	return &Service{engine: e, store: e.store, catalog: e.catalog, sealer: e.sealer, log: e.log, clock: e.clock,
		maxRateLimit: e.opts.MaxRateLimit}
}

// Templates returns the names of the application templates.
func (s *Service) Templates() []string { return Templates() }

// --- applications --------------------------------------------------------------

// CreateApp creates an application from a template. It starts Off: Start
// turns provisioning On.
func (s *Service) CreateApp(ctx context.Context, tenantID string, in NewApp) (*AppView, error) {
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
	if _, err := compile(cfg, s.catalog, nil); err != nil {
		return nil, err
	}
	if err := s.checkRateLimit(cfg); err != nil {
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
	sealCredentials(s.sealer, a, credentials{Token: in.SecretToken, WebhookSecret: in.WebhookSecret})
	if err := s.store.CreateApp(ctx, a); err != nil {
		return nil, err
	}
	s.audit(ctx, a, auditCreate, appChanges(nil, a, changedSecrets(in)))
	return s.view(a)
}

// App returns an application by name.
func (s *Service) App(ctx context.Context, tenantID, name string) (*AppView, error) {
	a, err := s.store.AppByName(ctx, tenantID, name)
	if err != nil {
		return nil, err
	}
	return s.view(a)
}

// Apps lists a tenant's applications.
func (s *Service) Apps(ctx context.Context, tenantID string) ([]*AppView, error) {
	as, err := s.store.Apps(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	out := make([]*AppView, 0, len(as))
	for _, a := range as {
		v, err := s.view(a)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// UpdateApp changes an application. A change to what is provisioned or
// how (the configuration, the target) schedules a full cycle.
func (s *Service) UpdateApp(ctx context.Context, tenantID, name string, ifVersion int64, ch AppChange) (*AppView, error) {
	a, err := s.store.AppByName(ctx, tenantID, name)
	if err != nil {
		return nil, err
	}
	var before *store.App
	updated, err := s.store.UpdateApp(ctx, tenantID, a.ID, ifVersion, func(a *store.App) error {
		b := *a // applyChange replaces the fields it changes, never writes into them
		before = &b
		return s.applyChange(a, ch)
	})
	if err != nil {
		return nil, err
	}
	if d := appChanges(before, updated, changedSecrets(ch)); d != nil {
		s.audit(ctx, updated, auditUpdate, d)
	}
	s.engine.Wake()
	return s.view(updated)
}

// applyChange applies ch to a, checking it whole: UpdateApp saves the
// result, a plan of the change (PlanChange) only looks at it.
func (s *Service) applyChange(a *store.App, ch AppChange) error {
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
	ds, err := storedSchema(a.Config)
	if err != nil {
		return err
	}
	if _, err := compile(cfg, s.catalog, ds); err != nil {
		return err
	}
	if err := s.checkRateLimit(cfg); err != nil {
		return err
	}
	if ch.SecretToken == nil {
		var old Config
		json.Unmarshal([]byte(before), &old)
		if err := checkRepoint(old.TenantURL, cfg.TenantURL); err != nil {
			return err
		}
	}
	b, err := encodeConfig(cfg, ds)
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
		creds, err := openCredentials(s.sealer, a)
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
		sealCredentials(s.sealer, a, creds)
	}
	if cfg.NotificationWebhook != "" {
		creds, err := openCredentials(s.sealer, a)
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
		return raiseConfigVersion(a)
	}
	return nil
}

// raiseConfigVersion raises the configuration version in a's control
// record, so that a full cycle on the new version follows.
func raiseConfigVersion(a *store.App) error {
	c, err := decodeControl(a.Control)
	if err != nil {
		return err
	}
	c.ConfigVersion++
	a.Control = c.encode()
	return nil
}

// DeleteApp deletes an application with its assignments and links. What
// was provisioned stays in the target.
func (s *Service) DeleteApp(ctx context.Context, tenantID, name string) error {
	a, err := s.store.AppByName(ctx, tenantID, name)
	if err != nil {
		return err
	}
	if err := s.store.DeleteApp(ctx, tenantID, a.ID); err != nil {
		return err
	}
	s.audit(ctx, a, auditDelete, nil)
	s.engine.forgetClient(a.ID)
	return nil
}

func (s *Service) view(a *store.App) (*AppView, error) {
	cfg, err := decodeConfig(a.Config)
	if err != nil {
		return nil, err
	}
	return &AppView{ID: a.ID, Name: a.Name, Template: a.Template, Enabled: a.Enabled, Config: cfg,
		HasSecretToken: len(a.Secret) > 0, HasWebhookSecret: hasWebhookSecret(s.sealer, a), Version: a.Version, Created: a.Created, LastModified: a.LastModified}, nil
}

// --- assignments --------------------------------------------------------------

// Assign assigns a user or group to an application.
func (s *Service) Assign(ctx context.Context, tenantID, app string, p Principal, role string) (*AssignmentView, error) {
	a, err := s.store.AppByName(ctx, tenantID, app)
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
	r, err := findPrincipal(ctx, s.store, tenantID, p)
	if err != nil {
		return nil, err
	}
	as := store.Assignment{AppID: a.ID, PrincipalType: r.Type, PrincipalID: r.ID, Role: role}
	if err := s.store.Assign(ctx, tenantID, as); err != nil {
		return nil, err
	}
	s.audit(ctx, a, auditAssign, principalDetails(r, role))
	s.engine.Wake()
	return &AssignmentView{PrincipalType: r.Type, PrincipalID: r.ID, PrincipalName: displayName(r), Role: role, Created: s.clock.Now().UTC()}, nil
}

// Unassign removes a user's or group's assignment.
func (s *Service) Unassign(ctx context.Context, tenantID, app string, p Principal) error {
	a, err := s.store.AppByName(ctx, tenantID, app)
	if err != nil {
		return err
	}
	r, err := findPrincipal(ctx, s.store, tenantID, p)
	if err != nil {
		return err
	}
	if err := s.store.Unassign(ctx, tenantID, a.ID, r.Type, r.ID); err != nil {
		return err
	}
	s.audit(ctx, a, auditUnassign, principalDetails(r, ""))
	s.engine.Wake()
	return nil
}

// Assignments lists an application's assignments.
func (s *Service) Assignments(ctx context.Context, tenantID, app string) ([]AssignmentView, error) {
	a, err := s.store.AppByName(ctx, tenantID, app)
	if err != nil {
		return nil, err
	}
	as, err := s.store.Assignments(ctx, tenantID, a.ID)
	if err != nil {
		return nil, err
	}
	return s.assignmentViews(ctx, tenantID, as), nil
}

// AssignmentsPage lists at most limit of the application's assignments,
// groups first, each type in id order, after the assignment of
// afterType and afterID (from the start when they are ""): a page read in
// the database, for a console that shows thousands of them.
func (s *Service) AssignmentsPage(ctx context.Context, tenantID, app, afterType, afterID string, limit int) ([]AssignmentView, error) {
	if limit <= 0 || limit > MaxLogLimit {
		return nil, invalid("an assignments page holds 1 to %d assignments, not %d", MaxLogLimit, limit)
	}
	a, err := s.store.AppByName(ctx, tenantID, app)
	if err != nil {
		return nil, err
	}
	as, err := s.store.AssignmentsPage(ctx, tenantID, a.ID, store.Assignment{PrincipalType: afterType, PrincipalID: afterID}, limit)
	if err != nil {
		return nil, err
	}
	return s.assignmentViews(ctx, tenantID, as), nil
}

// assignmentViews shows assignments with their principals' names.
func (s *Service) assignmentViews(ctx context.Context, tenantID string, as []store.Assignment) []AssignmentView {
	out := make([]AssignmentView, 0, len(as))
	for _, x := range as {
		v := AssignmentView{PrincipalType: x.PrincipalType, PrincipalID: x.PrincipalID, Role: x.Role, Created: x.Created}
		if r, err := s.store.Get(ctx, tenantID, x.PrincipalType, x.PrincipalID, store.ReadOptions{}); err == nil {
			v.PrincipalName = displayName(r)
		}
		out = append(out, v)
	}
	return out
}
