package provision

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/ferryid/ferry/internal/store"
)

// MaxLogLimit is the most provisioning-log records one listing returns;
// a larger limit is refused rather than silently cut.
const MaxLogLimit = 1000

// The values a LogFilter's Action and Status take.
var (
	logActions  = []string{ActionCreate, ActionUpdate, ActionDisable, ActionDelete, ActionOther}
	logStatuses = []string{StatusSuccess, StatusFailure, StatusSkipped, StatusWarning}
)

// checkLogFilter validates f and returns it normalised: "failed" is taken
// for "failure", as people type it.
func checkLogFilter(f LogFilter) (LogFilter, error) {
	f.Action = strings.ToLower(strings.TrimSpace(f.Action))
	f.Status = strings.ToLower(strings.TrimSpace(f.Status))
	if f.Status == "failed" {
		f.Status = StatusFailure
	}
	if f.Action != "" && !slices.Contains(logActions, f.Action) {
		return f, invalid("action %q is not a provisioning action; the actions are %s", f.Action, strings.Join(logActions, ", "))
	}
	if f.Status != "" && !slices.Contains(logStatuses, f.Status) {
		return f, invalid("status %q is not a provisioning status; the statuses are %s (or failed)", f.Status, strings.Join(logStatuses, ", "))
	}
	if f.Limit < 0 || f.Limit > MaxLogLimit {
		return f, invalid("limit %d is out of range: at most %d records are listed at once; continue a listing with before", f.Limit, MaxLogLimit)
	}
	return f, nil
}

// storedLog is the store's row of a log record.
func storedLog(a *store.App, r *LogRecord) (*store.ProvisioningLog, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	return &store.ProvisioningLog{TenantID: a.TenantID, AppID: a.ID, CycleID: r.CycleID,
		At: r.ActivityDateTime, Action: r.Action, Status: r.Status, SourceType: r.Source.Type, SourceID: r.Source.ID,
		SourceName: r.Source.DisplayName, TargetID: r.Target.ID, Record: b}, nil
}

// writeLogs stores log records of an application, setting their ids.
// Records that have an id were stored already, with the link write of
// their action, and are skipped.
func (m *Manager) writeLogs(ctx context.Context, a *store.App, records []*LogRecord) error {
	var logs []*store.ProvisioningLog
	var written []*LogRecord
	for _, r := range records {
		if r.ID != "" {
			continue
		}
		l, err := storedLog(a, r)
		if err != nil {
			return err
		}
		logs = append(logs, l)
		written = append(written, r)
	}
	if len(logs) == 0 {
		return nil
	}
	if err := m.store.AppendLogs(context.WithoutCancel(ctx), logs); err != nil {
		return fmt.Errorf("write provisioning logs: %w", err)
	}
	for i, l := range logs {
		written[i].ID = l.ID
	}
	return nil
}

// Logs returns an application's provisioning logs, newest first. An
// unknown action or status, or a limit above MaxLogLimit, is refused with
// the valid values.
func (m *Manager) Logs(ctx context.Context, tenantID, app string, f LogFilter) ([]LogRecord, error) {
	f, err := checkLogFilter(f)
	if err != nil {
		return nil, err
	}
	a, err := m.store.AppByName(ctx, tenantID, app)
	if err != nil {
		return nil, err
	}
	q := store.LogQuery{TenantID: tenantID, AppID: a.ID, Action: f.Action, Status: f.Status, Since: f.Since,
		Until: f.Until, Before: f.Before, Limit: f.Limit}
	if f.User != "" {
		if _, err := m.store.Get(ctx, tenantID, store.UserType, f.User, store.ReadOptions{}); err == nil {
			q.SourceID = f.User
		} else if _, err := m.store.Get(ctx, tenantID, store.GroupType, f.User, store.ReadOptions{}); err == nil {
			q.SourceID = f.User
		} else {
			q.SourceName = f.User
		}
	}
	logs, err := m.store.Logs(ctx, q)
	if err != nil {
		return nil, err
	}
	out := make([]LogRecord, 0, len(logs))
	for _, l := range logs {
		var r LogRecord
		if err := json.Unmarshal(l.Record, &r); err != nil {
			return nil, fmt.Errorf("a provisioning log record does not decode: %w", err)
		}
		r.ID = l.ID
		out = append(out, r)
	}
	return out, nil
}
