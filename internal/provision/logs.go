package provision

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/ferryid/ferry/internal/store"
)

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
func (e *Engine) writeLogs(ctx context.Context, a *store.App, records []*LogRecord) error {
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
	if err := e.store.AppendLogs(context.WithoutCancel(ctx), logs); err != nil {
		return fmt.Errorf("write provisioning logs: %w", err)
	}
	for i, l := range logs {
		written[i].ID = l.ID
	}
	return nil
}
