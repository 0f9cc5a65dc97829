package provision

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/ferryid/ferry/internal/scim"
	"github.com/ferryid/ferry/internal/store"
)

// An administrator steers a job through its application's record, never
// through its job state: the job state belongs to the process running the
// job, which rewrites it page after page, and a request written there
// would be lost under the next save (a configuration saved during a cycle
// used to be forgotten that way). The application's record holds, besides
// the configuration and On/Off, a small control record that the running
// job reads at every page and the scheduler before every cycle.

// control is the engine's JSON control record (store.App.Control).
type control struct {
	// ConfigVersion grows with every saved change that can change what the
	// target should hold (the configuration, the Secret Token) and with
	// every restart. A job whose last full cycle ran on an older version
	// runs a full cycle on the newest, and a cycle that sees it grow ends
	// at its next page so that one can start.
	ConfigVersion int64 `json:"configVersion"`
	// ResetVersion is the ConfigVersion at which a reset was asked: before
	// that version's full cycle the job forgets its links, watermark and
	// escrows and matches everything anew.
	ResetVersion int64 `json:"resetVersion,omitempty"`
	// Retry grows with every ferry apps retry: the job retries every
	// object in escrow at once.
	Retry int64 `json:"retry,omitempty"`
	// Release grows with every passing Test Connection: a job quarantined
	// for failures tries again at once.
	Release int64 `json:"release,omitempty"`
	// AllowDeletes and RejectDeletes name a staged set of disables and
	// deletes an administrator allowed or rejected.
	AllowDeletes  string `json:"allowDeletes,omitempty"`
	RejectDeletes string `json:"rejectDeletes,omitempty"`
}

func decodeControl(b []byte) (control, error) {
	var c control
	if len(b) == 0 {
		return c, nil
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return control{}, fmt.Errorf("the application's control record does not decode: %w", err)
	}
	return c, nil
}

func (c control) encode() []byte {
	b, _ := json.Marshal(c) // a struct of integers always encodes
	return b
}

// changeControl changes an application's control record, with the
// application's other fields when other is not nil, in one transaction.
func (m *Manager) changeControl(ctx context.Context, tenantID, appID string, change func(*control, *store.App) error) (*store.App, error) {
	return m.store.UpdateApp(ctx, tenantID, appID, 0, func(a *store.App) error {
		c, err := decodeControl(a.Control)
		if err != nil {
			return err
		}
		if err := change(&c, a); err != nil {
			return err
		}
		a.Control = c.encode()
		return nil
	})
}

// Start turns provisioning On. Unless force is set, it first runs Test
// Connection and refuses to start when the test fails, as a job that
// cannot reach its target would only fill the logs with failures.
func (m *Manager) Start(ctx context.Context, tenantID, app string, force bool) error {
	a, err := m.store.AppByName(ctx, tenantID, app)
	if err != nil {
		return err
	}
	if !force {
		res, err := m.testConnection(ctx, a)
		if err != nil {
			return err
		}
		if !res.Success {
			return scim.Errorf(409, "", "%s was not started: Test Connection failed: %s. Fix the Tenant URL or the Secret Token, or start it with force to skip the test",
				a.Name, res.Message)
		}
	}
	if err := m.setEnabled(ctx, a, true); err != nil {
		return err
	}
	var d *AuditDetails
	if force {
		d = &AuditDetails{Force: true}
	}
	m.audit(ctx, a, auditStart, d)
	return nil
}

// Stop turns provisioning Off at once: a cycle running in this process,
// or in another within its poll interval, sends nothing more to the
// target (requests already sent finish), keeps its checkpoint and is shown
// as stopped with its counts. Start resumes it.
func (m *Manager) Stop(ctx context.Context, tenantID, app string) error {
	a, err := m.store.AppByName(ctx, tenantID, app)
	if err != nil {
		return err
	}
	if err := m.setEnabled(ctx, a, false); err != nil {
		return err
	}
	m.audit(ctx, a, auditStop, nil)
	m.interrupt(a.ID, errStopped)
	return nil
}

func (m *Manager) setEnabled(ctx context.Context, a *store.App, on bool) error {
	if _, err := m.store.UpdateApp(ctx, a.TenantID, a.ID, 0, func(a *store.App) error { a.Enabled = on; return nil }); err != nil {
		return err
	}
	m.Wake()
	return nil
}

// Restart makes the job's next cycle a full one on the current
// configuration, ending a running cycle at its next page, and turns
// provisioning On. Links are kept unless reset is set: then, as Entra's
// "clear current state and restart", the job forgets its links, watermark
// and escrows and matches every object anew.
func (m *Manager) Restart(ctx context.Context, tenantID, app string, reset bool) error {
	a, err := m.store.AppByName(ctx, tenantID, app)
	if err != nil {
		return err
	}
	_, err = m.changeControl(ctx, tenantID, a.ID, func(c *control, a *store.App) error {
		c.ConfigVersion++
		if reset {
			c.ResetVersion = c.ConfigVersion
		}
		a.Enabled = true
		return nil
	})
	if err != nil {
		return err
	}
	action := auditRestart
	if reset {
		action = auditRestartReset
	}
	m.audit(ctx, a, action, nil)
	m.Wake()
	return nil
}

// Retry makes the job retry every object in escrow at once, whatever
// their schedule.
func (m *Manager) Retry(ctx context.Context, tenantID, app string) error {
	a, err := m.store.AppByName(ctx, tenantID, app)
	if err != nil {
		return err
	}
	if _, err := m.changeControl(ctx, tenantID, a.ID, func(c *control, _ *store.App) error {
		c.Retry++
		return nil
	}); err != nil {
		return err
	}
	m.audit(ctx, a, auditRetry, nil)
	m.Wake()
	return nil
}
