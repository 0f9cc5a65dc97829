package provision

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ferryid/ferry/internal/scimclient"
	"github.com/ferryid/ferry/internal/store"
)

// Quarantine holds back a job that cannot do good: its target refuses the
// credentials or breaks the protocol (at once), too many of a cycle's
// objects fail (at the cycle's end), or the accidental-deletion threshold
// tripped. A job quarantined for failures tries again 6 h, 12 h and 24 h
// after it began, then daily, and is turned Off after 28 days; any attempt
// that passes ends it. Its state lives in the job state, which only the
// job writes: an administrator ends it through the control record (a
// passing Test Connection, a configuration change, a restart).

// Entra's quarantine reasons.
const (
	reasonQuarantineException = "EncounteredQuarantineException"
	reasonEscrowProportion    = "EncounteredEscrowProportionThreshold"
	reasonTotalEscrow         = "EncounteredTotalEscrowThreshold"
	reasonTooManyDeletes      = "TooManyDeletes"
)

// quarantineSchedule is the spacing of a quarantined job's attempts after
// the quarantine began; then daily.
var quarantineSchedule = []time.Duration{6 * time.Hour, 12 * time.Hour, 24 * time.Hour}

// quarantineLimit is how long a job stays quarantined before it is turned
// Off.
const quarantineLimit = 28 * 24 * time.Hour

// errQuarantined ends a cycle whose job was quarantined.
var errQuarantined = errors.New("the job was quarantined")

// Defaults of a FailureThreshold's zero values.
const (
	defaultMinFailures = 50
	defaultFailRatio   = 0.4
	defaultMaxFailures = 40000
)

func checkFailureThreshold(t FailureThreshold) error {
	if t.MinFailures < 0 || t.MaxFailures < 0 || t.Ratio < 0 || t.Ratio > 1 {
		return invalid("failureQuarantine: minFailures and maxFailures are counts, ratio a share from 0 to 1")
	}
	return nil
}

// quarantineLocked puts the job in quarantine, or, when it is already,
// records a new attempt's failure. The caller holds stateMu.
func (j *job) quarantineLocked(reason, detail, request, response string, now time.Time) {
	q := j.state.Quarantine
	changed := q == nil || q.Reason != reason
	if q == nil {
		q = &Quarantine{SeriesBegan: now}
		j.state.Quarantine = q
	} else {
		q.Attempts++
	}
	q.Reason, q.Detail, q.Since, q.Request, q.Response = reason, detail, now, request, response
	if q.Since.Before(q.SeriesBegan) {
		q.SeriesBegan = q.Since
	}
	q.NextAttempt = time.Time{}
	if reason != reasonTooManyDeletes {
		i := min(q.Attempts, len(quarantineSchedule)-1)
		next := q.SeriesBegan.Add(quarantineSchedule[i])
		if q.Attempts >= len(quarantineSchedule) {
			next = now.Add(24 * time.Hour)
		}
		q.NextAttempt = next
	}
	j.state.QuarantineVersion = j.version
	if changed {
		// Once when it begins, once more when its reason changes.
		j.e.notify(j.app, Notice{Type: NoticeQuarantine, Subject: fmt.Sprintf("%s is quarantined: %s", j.app.Name, reason),
			Text: quarantineText(j.app.Name, q), Data: *q})
	}
}

func quarantineText(app string, q *Quarantine) string {
	s := fmt.Sprintf("Provisioning of %s is quarantined since %s.\n\nReason: %s\n%s\n", app, q.Since.Format(time.RFC3339), q.Reason, q.Detail)
	if q.Request != "" {
		s += fmt.Sprintf("\nRequest: %s\nResponse: %s\n", q.Request, q.Response)
	}
	if !q.NextAttempt.IsZero() {
		s += fmt.Sprintf("\nNext attempt: %s. A passing Test Connection, a change of the configuration or ferry apps restart ends the quarantine at once.\n",
			q.NextAttempt.Format(time.RFC3339))
	}
	return s
}

// quarantineNow quarantines the job on a failure of the target that no
// object can get past (credentials refused, the protocol broken), and
// ends the running cycle.
func (j *job) quarantineNow(rec *LogRecord) {
	if j.stop == nil || rec.Error == nil {
		return
	}
	j.stateMu.Lock()
	j.quarantineLocked(reasonQuarantineException, rec.Error.Reason, rec.Error.Request, rec.Error.Code, j.e.clock.Now().UTC())
	j.stateMu.Unlock()
	j.log.Warn("job quarantined", "app", j.app.Name, "reason", reasonQuarantineException, "code", rec.Error.Code)
	j.stop(errQuarantined)
}

// quarantinesAtOnce reports whether a failure quarantines the job at once.
func quarantinesAtOnce(rec *LogRecord) bool {
	if rec == nil || rec.Status != StatusFailure || rec.Error == nil {
		return false
	}
	switch scimclient.Code(rec.Error.Code) {
	case scimclient.CodeUnauthorized, scimclient.CodeInsufficientRights, scimclient.CodeServiceIncompatible:
		return true
	}
	return false
}

// judgeFailures quarantines the job after a cycle in which too many
// objects failed, or ends a quarantine whose attempt passed.
func (j *job) judgeFailures(c Counts) {
	t := j.cfg.FailureQuarantine
	minFailures, ratio, maxFailures := t.MinFailures, t.Ratio, t.MaxFailures
	if minFailures == 0 {
		minFailures = defaultMinFailures
	}
	if ratio == 0 {
		ratio = defaultFailRatio
	}
	if maxFailures == 0 {
		maxFailures = defaultMaxFailures
	}
	attempted := c.Created + c.Updated + c.Disabled + c.Deleted + c.Failed
	now := j.e.clock.Now().UTC()
	j.stateMu.Lock()
	defer j.stateMu.Unlock()
	switch {
	case c.Failed >= maxFailures:
		j.quarantineLocked(reasonTotalEscrow, fmt.Sprintf("%d objects failed in one cycle", c.Failed), "", "", now)
	case c.Failed >= minFailures && float64(c.Failed) > ratio*float64(attempted):
		j.quarantineLocked(reasonEscrowProportion, fmt.Sprintf("%d of the %d objects acted on failed in one cycle", c.Failed, attempted), "", "", now)
	default:
		if q := j.state.Quarantine; q != nil && q.Reason != reasonTooManyDeletes {
			j.log.Info("quarantine ended: an attempt passed", "app", j.app.Name, "reason", q.Reason)
			j.state.Quarantine = nil
		}
	}
}

// leaveQuarantine ends the quarantine when an administrator asked: a
// newer configuration, a restart, or a passing Test Connection (not for
// held deletes, which wait for allow-deletes or reject-deletes, or a new
// configuration).
func (j *job) leaveQuarantine() {
	j.stateMu.Lock()
	defer j.stateMu.Unlock()
	q := j.state.Quarantine
	released := j.control.Release > j.state.ReleaseDone
	j.state.ReleaseDone = j.control.Release
	if q == nil {
		return
	}
	switch {
	case j.state.QuarantineVersion != j.control.ConfigVersion:
		j.state.Staged = nil // the new configuration decides anew
	case released && q.Reason != reasonTooManyDeletes:
	default:
		return
	}
	j.log.Info("quarantine ended by an administrator", "app", j.app.Name, "reason", q.Reason)
	j.state.Quarantine = nil
}

// quarantineDue says what a quarantined job may do now: wait (waiting,
// with kind ""), make an attempt (waiting, with kindRetry), or whatever
// else is due (not waiting: not quarantined, or released by an
// administrator).
func (e *Engine) quarantineDue(s *jobState, ctl control) (kind string, waiting bool) {
	q := s.Quarantine
	if q == nil {
		return "", false
	}
	if s.QuarantineVersion != ctl.ConfigVersion || (ctl.Release > s.ReleaseDone && q.Reason != reasonTooManyDeletes) {
		return "", false // ended: the next cycle clears it
	}
	if q.Reason == reasonTooManyDeletes || e.clock.Now().Before(q.NextAttempt) {
		return "", true
	}
	return kindRetry, true
}

// disableAfterQuarantine turns the job Off when it has been quarantined
// for longer than quarantineLimit, and reports whether it did.
func (j *job) disableAfterQuarantine(ctx context.Context) bool {
	j.stateMu.Lock()
	q := j.state.Quarantine
	j.stateMu.Unlock()
	if q == nil || q.Reason == reasonTooManyDeletes || j.e.clock.Now().Sub(q.SeriesBegan) < quarantineLimit {
		return false
	}
	if _, err := j.e.store.UpdateApp(context.WithoutCancel(ctx), j.app.TenantID, j.app.ID, 0, func(a *store.App) error {
		a.Enabled = false
		return nil
	}); err != nil {
		j.log.Error("turn off a job quarantined for 28 days", "app", j.app.Name, "err", err)
		return false
	}
	j.log.Warn("job turned Off after 28 days in quarantine", "app", j.app.Name, "reason", q.Reason)
	return true
}
