package provision

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ferryid/ferry/internal/scim"
	"github.com/ferryid/ferry/internal/scimclient"
	"github.com/ferryid/ferry/internal/store"
)

// An administrator's view of a job and the requests that steer it. The
// job's records are the Engine's and only its running job writes the job
// state: the Service reads them, and asks through the application's
// control record (control.go), or of the Engine for what reaches a job
// running in this process.

// Status returns an application's job status and progress.
func (s *Service) Status(ctx context.Context, tenantID, app string) (*Status, error) {
	a, err := s.store.AppByName(ctx, tenantID, app)
	if err != nil {
		return nil, err
	}
	js, state, err := s.engine.loadState(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	ctl, err := decodeControl(a.Control)
	if err != nil {
		return nil, err
	}
	st := &Status{App: a.Name, Enabled: a.Enabled, Current: state.Current, Last: state.Last, Watermark: js.Watermark,
		ConfigVersion: ctl.ConfigVersion, FullCyclePending: state.fullDue(ctl), Totals: state.Totals}
	lease, err := s.store.JobLease(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	if lease.Owner != "" && lease.Expires.After(s.clock.Now()) {
		st.Holder = lease.Owner
	}
	switch {
	case state.Current != nil && s.clock.Now().Sub(state.Heartbeat) > staleAfter:
		// Its process died, or lost the job, without ending it.
		st.State = "interrupted"
		st.Current.State = "interrupted"
	case state.Current != nil:
		st.State = "running"
	case a.Enabled && state.Quarantine != nil:
		st.State = "quarantined"
	case a.Enabled:
		st.State = "idle"
	default:
		st.State = "off"
	}
	if cfg, err := decodeConfig(a.Config); err == nil && a.Enabled && !state.LastFull.IsZero() {
		st.NextFullCycle = state.LastFull.Add(fullInterval(cfg))
	}
	if st.Failures, st.RetryableFailures, err = s.store.CountEscrows(ctx, a.ID); err != nil {
		return nil, err
	}
	st.Quarantine = state.Quarantine
	if state.Staged != nil {
		st.StagedDeletes = state.Staged.view()
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

// TestConnection checks the application's endpoint and token as Entra's
// Test Connection does.
func (s *Service) TestConnection(ctx context.Context, tenantID, app string) (*TestResult, error) {
	a, err := s.store.AppByName(ctx, tenantID, app)
	if err != nil {
		return nil, err
	}
	return s.testConnection(ctx, a)
}

func (s *Service) testConnection(ctx context.Context, a *store.App) (*TestResult, error) {
	cfg, err := decodeConfig(a.Config)
	if err != nil {
		return nil, err
	}
	c, err := s.engine.client(a, cfg)
	if err != nil {
		return &TestResult{Success: false, Message: err.Error()}, nil
	}
	if err := c.TestConnection(ctx); err != nil {
		return &TestResult{Success: false, Message: err.Error(), Code: string(scimclient.CodeOf(err))}, nil
	}
	// The connection works: what the target says of its schema is read
	// and saved too. Failing to is no failure of the test; it says why.
	res := &TestResult{Success: true}
	if res.Schema, _, err = s.discover(ctx, a, c); err != nil {
		return nil, err
	}
	// A job quarantined for failures tries again at once.
	if _, state, err := s.engine.loadState(ctx, a.ID); err == nil && state.Quarantine != nil && state.Quarantine.Reason != reasonTooManyDeletes {
		if _, err := s.changeControl(ctx, a.TenantID, a.ID, func(c *control, _ *store.App) error { c.Release++; return nil }); err != nil {
			return nil, err
		}
		s.engine.Wake()
	}
	return res, nil
}

// changeControl changes an application's control record, with the
// application's other fields when other is not nil, in one transaction.
func (s *Service) changeControl(ctx context.Context, tenantID, appID string, change func(*control, *store.App) error) (*store.App, error) {
	return s.store.UpdateApp(ctx, tenantID, appID, 0, func(a *store.App) error {
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
func (s *Service) Start(ctx context.Context, tenantID, app string, force bool) error {
	a, err := s.store.AppByName(ctx, tenantID, app)
	if err != nil {
		return err
	}
	if !force {
		res, err := s.testConnection(ctx, a)
		if err != nil {
			return err
		}
		if !res.Success {
			return scim.Errorf(409, "", "%s was not started: Test Connection failed: %s. Fix the Tenant URL or the Secret Token, or start it with force to skip the test",
				a.Name, res.Message)
		}
	}
	if err := s.setEnabled(ctx, a, true); err != nil {
		return err
	}
	var d *AuditDetails
	if force {
		d = &AuditDetails{Force: true}
	}
	s.audit(ctx, a, auditStart, d)
	return nil
}

// Stop turns provisioning Off at once: a cycle running in this process,
// or in another within its poll interval, sends nothing more to the
// target (requests already sent finish), keeps its checkpoint and is shown
// as stopped with its counts. Start resumes it.
func (s *Service) Stop(ctx context.Context, tenantID, app string) error {
	a, err := s.store.AppByName(ctx, tenantID, app)
	if err != nil {
		return err
	}
	if err := s.setEnabled(ctx, a, false); err != nil {
		return err
	}
	s.audit(ctx, a, auditStop, nil)
	s.engine.interrupt(a.ID, errStopped)
	return nil
}

func (s *Service) setEnabled(ctx context.Context, a *store.App, on bool) error {
	if _, err := s.store.UpdateApp(ctx, a.TenantID, a.ID, 0, func(a *store.App) error { a.Enabled = on; return nil }); err != nil {
		return err
	}
	s.engine.Wake()
	return nil
}

// Restart makes the job's next cycle a full one on the current
// configuration, ending a running cycle at its next page, and turns
// provisioning On. Links are kept unless reset is set: then, as Entra's
// "clear current state and restart", the job forgets its links, watermark
// and escrows and matches every object anew.
func (s *Service) Restart(ctx context.Context, tenantID, app string, reset bool) error {
	a, err := s.store.AppByName(ctx, tenantID, app)
	if err != nil {
		return err
	}
	_, err = s.changeControl(ctx, tenantID, a.ID, func(c *control, a *store.App) error {
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
	s.audit(ctx, a, action, nil)
	s.engine.Wake()
	return nil
}

// Retry makes the job retry every object in escrow at once, whatever
// their schedule.
func (s *Service) Retry(ctx context.Context, tenantID, app string) error {
	a, err := s.store.AppByName(ctx, tenantID, app)
	if err != nil {
		return err
	}
	if _, err := s.changeControl(ctx, tenantID, a.ID, func(c *control, _ *store.App) error {
		c.Retry++
		return nil
	}); err != nil {
		return err
	}
	s.audit(ctx, a, auditRetry, nil)
	s.engine.Wake()
	return nil
}

// AllowDeletes sends exactly the disables and deletes the threshold staged
// (not those that arose since), and leaves the quarantine they caused.
func (s *Service) AllowDeletes(ctx context.Context, tenantID, app string) error {
	return s.decideStaged(ctx, tenantID, app, true)
}

// RejectDeletes drops the staged disables and deletes: the objects stay as
// they are in the target, and the job leaves quarantine. The next cycle
// holds again whatever the configuration then still disables or deletes.
func (s *Service) RejectDeletes(ctx context.Context, tenantID, app string) error {
	return s.decideStaged(ctx, tenantID, app, false)
}

func (s *Service) decideStaged(ctx context.Context, tenantID, app string, allow bool) error {
	a, err := s.store.AppByName(ctx, tenantID, app)
	if err != nil {
		return err
	}
	_, state, err := s.engine.loadState(ctx, a.ID)
	if err != nil {
		return err
	}
	if state.Staged == nil {
		return conflict("%s holds no staged disables or deletes", a.Name)
	}
	id := state.Staged.ID
	if _, err := s.changeControl(ctx, tenantID, a.ID, func(c *control, _ *store.App) error {
		if allow {
			c.AllowDeletes = id
		} else {
			c.RejectDeletes = id
		}
		return nil
	}); err != nil {
		return err
	}
	action := auditRejectDeletes
	if allow {
		action = auditAllowDeletes
	}
	s.audit(ctx, a, action, stagedDetails(state.Staged))
	s.engine.Wake()
	return nil
}

// conflict is a 409 for a request the application's state does not allow.
func conflict(format string, args ...any) *scim.Error {
	return scim.Errorf(409, "", format, args...)
}

// RunCycle runs one cycle of an application's job now, in the calling
// goroutine: a full cycle when full is set (or when the job needs one),
// an incremental one otherwise. It fails with 409 when the job is running
// elsewhere. It returns the cycle's status.
func (s *Service) RunCycle(ctx context.Context, tenantID, app string, full bool) (*CycleStatus, error) {
	a, err := s.store.AppByName(ctx, tenantID, app)
	if err != nil {
		return nil, err
	}
	return s.engine.runCycle(ctx, a, full)
}

// Plan returns what a full cycle would do now on the saved configuration.
func (s *Service) Plan(ctx context.Context, tenantID, app string) (*Plan, error) {
	a, err := s.store.AppByName(ctx, tenantID, app)
	if err != nil {
		return nil, err
	}
	ctl, err := decodeControl(a.Control)
	if err != nil {
		return nil, err
	}
	return s.engine.plan(ctx, a, ctl.ConfigVersion, false)
}

// PlanChange returns what a full cycle would do with ch applied, saving
// nothing: the change is checked as UpdateApp checks it.
func (s *Service) PlanChange(ctx context.Context, tenantID, app string, ch AppChange) (*Plan, error) {
	a, err := s.store.AppByName(ctx, tenantID, app)
	if err != nil {
		return nil, err
	}
	changed := *a
	if err := s.applyChange(&changed, ch); err != nil {
		return nil, err
	}
	return s.engine.plan(ctx, &changed, 0, true)
}

// ProvisionOnDemand provisions one user, or one group and up to five of its
// members, now, whether the job is On or Off, and returns the steps taken:
// test connection, import, scope, match and action (Entra's five), with
// the log record of each object. An object that fails is reported in its
// steps, not as an error: errors are for requests that cannot be run.
func (s *Service) ProvisionOnDemand(ctx context.Context, tenantID, app string, req OnDemandRequest) (*OnDemandResult, error) {
	if (req.User == "") == (req.Group == "") {
		return nil, invalid("name one user or one group to provision")
	}
	if len(req.Members) > maxOnDemandMembers {
		return nil, invalid("a provision on demand takes at most %d members of a group, not %d", maxOnDemandMembers, len(req.Members))
	}
	a, err := s.store.AppByName(ctx, tenantID, app)
	if err != nil {
		return nil, err
	}
	return s.engine.provisionOnDemand(ctx, a, req)
}
