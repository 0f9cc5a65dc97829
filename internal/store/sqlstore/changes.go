package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/ferryid/ferry/internal/scim/resource"
	"github.com/ferryid/ferry/internal/store"
	"github.com/ferryid/ferry/internal/store/sqlfilter"
)

// ChangeColumns are the changes columns ScanChange reads.
const ChangeColumns = `seq, tenant_id, type, id, op, at, detail`

// ScanChange reads a row of ChangeColumns.
func ScanChange(row Row) (store.Change, error) {
	var c store.Change
	var op, at string
	var detail sql.NullString
	if err := row.Scan(&c.Seq, &c.TenantID, &c.Type, &c.ID, &op, &at, &detail); err != nil {
		return store.Change{}, err
	}
	c.Op = store.ChangeOp(op)
	var err error
	if c.At, err = parseTime(at); err != nil {
		return store.Change{}, err
	}
	if detail.Valid && detail.String != "" {
		if err := json.Unmarshal([]byte(detail.String), &c.Detail); err != nil {
			return store.Change{}, fmt.Errorf("change %d: detail: %w", c.Seq, err)
		}
	}
	return c, nil
}

// DetailText is what the detail column of a change is bound to: the
// detail's JSON, or NULL when it records nothing.
func DetailText(d store.ChangeDetail) (any, error) {
	if d.Empty() {
		return nil, nil
	}
	b, err := json.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("encode change detail: %w", err)
	}
	return string(b), nil
}

// CreateDetail is the detail of a create: the state written, and a
// group's first members.
func CreateDetail(doc resource.Document, members []Member) store.ChangeDetail {
	d := store.ChangeDetail{State: doc}
	for _, m := range members {
		d.Added = append(d.Added, store.ChangeMember{ID: m.ID, Type: m.Type})
	}
	return d
}

// UpdateDetail is the detail of an update from before to rev.
func UpdateDetail(before resource.Document, rev *Revision) store.ChangeDetail {
	d := store.ChangeDetail{State: rev.Doc, Changed: resource.ChangedAttributes(before, rev.Doc)}
	for _, m := range rev.Added {
		d.Added = append(d.Added, store.ChangeMember{ID: m.ID, Type: m.Type})
	}
	for _, m := range rev.Removed {
		d.Removed = append(d.Removed, store.ChangeMember{ID: m.ID, Type: m.Type})
	}
	return d
}

// LeftDetail is the detail of a group's update when a member was deleted:
// the member left it.
func LeftDetail(typ, memberID string) store.ChangeDetail {
	return store.ChangeDetail{Removed: []store.ChangeMember{{ID: memberID, Type: typ}}}
}

// ChangeFeed reads the change feed (store.Store.Changes) and prunes it
// (PruneChanges) on a backend, which gives its reads and writes; the
// statements are the same on both.
//
// A prune deletes a tenant's feed from its start up to its first entry
// recorded at or after the cutoff, never an entry above one it keeps: the
// time of an entry is its write's, and its seq is given at commit, so
// times need not grow with seq. Every entry kept thus lies above the
// tenant's horizon (change_horizons), the highest seq deleted, and a
// reader that started from the oldest entry kept never finds its cursor
// below the horizon.
type ChangeFeed struct {
	Name    string // the backend's name, which errors begin with
	Dialect sqlfilter.Dialect
	// Read runs fn on a read connection or the pool.
	Read func(ctx context.Context, fn func(q Querier) error) error
	// Write runs fn as one write (a transaction); fn may run again.
	Write func(ctx context.Context, fn func(tx WebhookTx) error) error
	// Batch is how many entries one write of PruneChanges deletes;
	// PruneBatch when 0.
	Batch int
}

// Changes returns up to limit entries of a tenant after after, or a
// *store.PrunedError when entries after after were pruned. The entries
// are read before the horizon: a prune that deleted entries the read did
// not find committed before it, so the horizon read next shows it.
func (f ChangeFeed) Changes(ctx context.Context, tenantID string, after int64, limit int) ([]store.Change, error) {
	if limit <= 0 {
		return nil, nil
	}
	var out []store.Change
	var horizon int64
	err := f.Read(ctx, func(q Querier) (err error) {
		out, err = List(ctx, q, ScanChange, bind(f.Dialect, `SELECT `+ChangeColumns+` FROM changes
			WHERE tenant_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3`), tenantID, after, limit)
		if err != nil || after == 0 {
			return err
		}
		return q.QueryRow(ctx, bind(f.Dialect, `SELECT COALESCE(MAX(seq), 0) FROM change_horizons WHERE tenant_id = ?1`),
			tenantID).Scan(&horizon)
	})
	if err != nil {
		return nil, fmt.Errorf("%s: read changes: %w", f.Name, err)
	}
	if after < horizon {
		return nil, &store.PrunedError{TenantID: tenantID, After: after, Horizon: horizon}
	}
	return out, nil
}

// PruneChanges deletes the entries of every tenant recorded before
// before, Batch per write, and records each tenant's horizon in the
// write that moves it.
func (f ChangeFeed) PruneChanges(ctx context.Context, before time.Time) (int64, error) {
	var tenants []string
	err := f.Read(ctx, func(q Querier) (err error) {
		tenants, err = List(ctx, q, scanString, `SELECT id FROM tenants ORDER BY id`)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("%s: prune changes: list tenants: %w", f.Name, err)
	}
	var total int64
	for _, t := range tenants {
		n, err := f.pruneTenant(ctx, t, before)
		total += n
		if err != nil {
			return total, fmt.Errorf("%s: prune changes of tenant %s: %w", f.Name, t, err)
		}
	}
	return total, nil
}

func scanString(row Row) (string, error) {
	var s string
	err := row.Scan(&s)
	return s, err
}

// pruneTenant deletes a tenant's entries below the first one recorded at
// or after before (below the next seq to come when there is none).
func (f ChangeFeed) pruneTenant(ctx context.Context, tenantID string, before time.Time) (int64, error) {
	var stop int64
	err := f.Read(ctx, func(q Querier) error {
		return q.QueryRow(ctx, bind(f.Dialect, `SELECT COALESCE(
			(SELECT seq FROM changes WHERE tenant_id = ?1 AND at >= ?2 ORDER BY seq LIMIT 1),
			(SELECT MAX(seq) + 1 FROM changes WHERE tenant_id = ?1), 0)`),
			tenantID, sqlfilter.TimeKey(before)).Scan(&stop)
	})
	if err != nil {
		return 0, err
	}
	batch := f.Batch
	if batch <= 0 {
		batch = PruneBatch
	}
	var total int64
	for {
		var n int64
		err := f.Write(ctx, func(tx WebhookTx) error {
			var top int64
			if err := tx.QueryRow(ctx, bind(f.Dialect, `SELECT COALESCE(MAX(seq), 0) FROM
				(SELECT seq FROM changes WHERE tenant_id = ?1 AND seq < ?2 ORDER BY seq LIMIT ?3) AS batch`),
				tenantID, stop, batch).Scan(&top); err != nil || top == 0 {
				n = 0
				return err
			}
			var err error
			if n, err = tx.Exec(ctx, bind(f.Dialect, `DELETE FROM changes WHERE tenant_id = ?1 AND seq <= ?2`), tenantID, top); err != nil {
				return err
			}
			_, err = tx.Exec(ctx, bind(f.Dialect, `INSERT INTO change_horizons (tenant_id, seq) VALUES (?1, ?2)
				ON CONFLICT (tenant_id) DO UPDATE SET seq = excluded.seq WHERE change_horizons.seq < excluded.seq`), tenantID, top)
			return err
		})
		if err != nil {
			return total, err
		}
		total += n
		if n < int64(batch) {
			return total, nil
		}
	}
}
