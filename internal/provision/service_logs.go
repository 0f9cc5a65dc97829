package provision

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/ferryid/ferry/internal/store"
)

// What an administrator reads of a job's work: its provisioning logs and
// its objects in escrow, as the Engine recorded them (logs.go, escrow.go).

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

// Logs returns an application's provisioning logs, newest first. An
// unknown action or status, or a limit above MaxLogLimit, is refused with
// the valid values.
func (s *Service) Logs(ctx context.Context, tenantID, app string, f LogFilter) ([]LogRecord, error) {
	f, err := checkLogFilter(f)
	if err != nil {
		return nil, err
	}
	a, err := s.store.AppByName(ctx, tenantID, app)
	if err != nil {
		return nil, err
	}
	q := store.LogQuery{TenantID: tenantID, AppID: a.ID, Action: f.Action, Status: f.Status, Since: f.Since,
		Until: f.Until, Before: f.Before, Limit: f.Limit}
	if f.User != "" {
		if _, err := s.store.Get(ctx, tenantID, store.UserType, f.User, store.ReadOptions{}); err == nil {
			q.SourceID = f.User
		} else if _, err := s.store.Get(ctx, tenantID, store.GroupType, f.User, store.ReadOptions{}); err == nil {
			q.SourceID = f.User
		} else {
			q.SourceName = f.User
		}
	}
	logs, err := s.store.Logs(ctx, q)
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

// Failures lists an application's objects in escrow, at most limit (100
// when zero, at most MaxLogLimit).
func (s *Service) Failures(ctx context.Context, tenantID, app string, limit int) ([]Failure, error) {
	if limit < 0 || limit > MaxLogLimit {
		return nil, invalid("limit %d is out of range: at most %d objects are listed at once", limit, MaxLogLimit)
	}
	if limit == 0 {
		limit = 100
	}
	a, err := s.store.AppByName(ctx, tenantID, app)
	if err != nil {
		return nil, err
	}
	es, err := s.store.Escrows(ctx, a.ID, store.EscrowQuery{Limit: limit})
	if err != nil {
		return nil, err
	}
	out := make([]Failure, 0, len(es))
	for _, e := range es {
		var rec escrowRecord
		if err := json.Unmarshal(e.Record, &rec); err != nil {
			return nil, fmt.Errorf("an escrow record does not decode: %w", err)
		}
		f := Failure{Source: Identity{ID: e.SourceID, Type: e.SourceType, DisplayName: e.SourceName}, Target: rec.Target,
			Action: rec.Action, Error: rec.Error, Attempts: e.Attempts, Retryable: e.Retryable, NextTry: e.NextTry,
			FirstFailed: e.FirstFailed, LastFailed: e.LastFailed, LogID: rec.LogID}
		if rec.Error != nil {
			f.Request = rec.Error.Request
		}
		out = append(out, f)
	}
	return out, nil
}
