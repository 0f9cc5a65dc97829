package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/ferryid/ferry/internal/store"
	"github.com/ferryid/ferry/internal/store/sqlfilter"
)

// The webhooks and webhook_deliveries tables: store.Webhooks, written
// once for both backends. Every statement is one the two databases run
// alike once its placeholders are the dialect's; a backend gives its
// reads, its writes and its lease clock (WebhookStore).

// WebhookTx is a backend's write as WebhookStore uses it.
type WebhookTx interface {
	Querier
	// Exec runs a statement that writes and returns how many rows it
	// changed.
	Exec(ctx context.Context, query string, args ...any) (int64, error)
	// Now is the write's time, to the millisecond.
	Now() time.Time
	// LeaseNow is the time a lease is claimed or checked at, on the
	// clock of the backend's job leases (ClaimJob's).
	LeaseNow(ctx context.Context) (time.Time, error)
}

// WebhookStore implements store.Webhooks on a backend, which embeds it.
type WebhookStore struct {
	Name    string // the backend's name, which errors begin with
	Dialect sqlfilter.Dialect
	// Read runs fn on a read connection or the pool.
	Read func(ctx context.Context, fn func(q Querier) error) error
	// Write runs fn as one write (a transaction); fn may run again.
	Write func(ctx context.Context, fn func(tx WebhookTx) error) error
}

// webhookColumns are the webhooks columns scanWebhook reads.
const webhookColumns = `id, tenant_id, url, types, secret, enabled, cursor, attempts, first_failed, next_attempt,
	last_error, lease_owner, lease_expires, version, created_at, last_modified`

func scanWebhook(row Row) (*store.Webhook, error) {
	var w store.Webhook
	var types string
	if err := row.Scan(&w.ID, &w.TenantID, &w.URL, &types, &w.Secret, &w.Enabled, &w.Cursor, &w.Attempts,
		TextTime(&w.FirstFailed), TextTime(&w.NextAttempt), &w.LastError, &w.LeaseOwner, TextTime(&w.LeaseExpires),
		&w.Version, TextTime(&w.Created), TextTime(&w.LastModified)); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(types), &w.Types); err != nil {
		return nil, fmt.Errorf("webhook %s: types: %w", w.ID, err)
	}
	return &w, nil
}

// deliveryColumns are the webhook_deliveries columns scanDelivery reads.
const deliveryColumns = `seq, webhook_id, event_id, event_type, attempt, status, error, duration_ms, at, outcome`

func scanDelivery(row Row) (*store.WebhookDelivery, error) {
	var d store.WebhookDelivery
	var ms int64
	if err := row.Scan(&d.Seq, &d.WebhookID, &d.EventID, &d.EventType, &d.Attempt, &d.Status, &d.Error, &ms,
		TextTime(&d.At), &d.Outcome); err != nil {
		return nil, err
	}
	d.Duration = time.Duration(ms) * time.Millisecond
	return &d, nil
}

// optTime binds a time that may be zero: NULL then.
func optTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return sqlfilter.TimeKey(t)
}

// sql returns query with its placeholders ?1, ?2, ... in the dialect's
// form.
func (s *WebhookStore) sql(query string) string { return bind(s.Dialect, query) }

// bind writes the ?1 .. ?9 placeholders of query as the dialect's.
func bind(d sqlfilter.Dialect, query string) string {
	out := make([]byte, 0, len(query))
	for i := 0; i < len(query); i++ {
		if query[i] == '?' && i+1 < len(query) && query[i+1] >= '1' && query[i+1] <= '9' {
			n := int(query[i+1] - '0')
			out = append(out, d.Placeholder(n)...)
			i++
			continue
		}
		out = append(out, query[i])
	}
	return string(out)
}

func webhookNotFound(id string) *store.Error { return store.NotFound("webhook %q not found", id) }

// CreateWebhook stores a new webhook (store.Webhooks.CreateWebhook).
func (s *WebhookStore) CreateWebhook(ctx context.Context, w *store.Webhook) error {
	if w.URL == "" {
		return store.Invalid("a webhook needs a URL")
	}
	types := w.Types
	if types == nil {
		types = []string{}
	}
	typesJSON, err := json.Marshal(types)
	if err != nil {
		return err
	}
	c := *w
	if c.ID == "" {
		c.ID = store.NewID()
	}
	err = s.Write(ctx, func(tx WebhookTx) error {
		var one int
		err := tx.QueryRow(ctx, s.sql(`SELECT 1 FROM tenants WHERE id = ?1`), c.TenantID).Scan(&one)
		if err = NoRowsAs(err, store.NotFound("tenant %q not found", c.TenantID)); err != nil {
			return Wrap(err, "%s: create webhook", s.Name)
		}
		if c.Cursor == "" {
			// After the tenant's last change-feed entry: an events cursor
			// "<seq>" continues after every event of entry seq.
			var last int64
			if err := tx.QueryRow(ctx, s.sql(`SELECT COALESCE(MAX(seq), 0) FROM changes WHERE tenant_id = ?1`),
				c.TenantID).Scan(&last); err != nil {
				return fmt.Errorf("%s: create webhook: read the change feed: %w", s.Name, err)
			}
			c.Cursor = strconv.FormatInt(last, 10)
		}
		c.Version, c.Created, c.LastModified = 1, tx.Now(), tx.Now()
		_, err = tx.Exec(ctx, s.sql(`INSERT INTO webhooks (id, tenant_id, url, types, secret, enabled, cursor, attempts,
			first_failed, next_attempt, last_error, lease_owner, lease_expires, version, created_at, last_modified)
			VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, NULL, NULL, '', '', NULL, 1, ?8, ?8)`),
			c.ID, c.TenantID, c.URL, string(typesJSON), Blob(c.Secret), c.Enabled, c.Cursor, sqlfilter.TimeKey(tx.Now()))
		return Wrap(err, "%s: create webhook", s.Name)
	})
	if err != nil {
		return err
	}
	c.WebhookState = store.WebhookState{Cursor: c.Cursor}
	*w = c
	return nil
}

// readWebhook reads a webhook by id in the tenant (any tenant's when
// tenantID is "").
func (s *WebhookStore) readWebhook(ctx context.Context, q Querier, tenantID, id string) (*store.Webhook, error) {
	query, args := `SELECT `+webhookColumns+` FROM webhooks WHERE id = ?1`, []any{id}
	if tenantID != "" {
		query, args = query+` AND tenant_id = ?2`, append(args, tenantID)
	}
	w, err := scanWebhook(q.QueryRow(ctx, s.sql(query), args...))
	return w, Wrap(NoRowsAs(err, webhookNotFound(id)), "%s: read webhook %s", s.Name, id)
}

// Webhook reads one of the tenant's webhooks.
func (s *WebhookStore) Webhook(ctx context.Context, tenantID, id string) (*store.Webhook, error) {
	var w *store.Webhook
	err := s.Read(ctx, func(q Querier) (err error) {
		w, err = s.readWebhook(ctx, q, tenantID, id)
		return err
	})
	return w, err
}

// Webhooks lists a tenant's webhooks, oldest first, or every tenant's.
func (s *WebhookStore) Webhooks(ctx context.Context, tenantID string) ([]*store.Webhook, error) {
	query, args := `SELECT `+webhookColumns+` FROM webhooks ORDER BY tenant_id, created_at, id`, []any(nil)
	if tenantID != "" {
		query, args = `SELECT `+webhookColumns+` FROM webhooks WHERE tenant_id = ?1 ORDER BY created_at, id`, []any{tenantID}
	}
	var out []*store.Webhook
	err := s.Read(ctx, func(q Querier) (err error) {
		out, err = List(ctx, q, scanWebhook, s.sql(query), args...)
		return err
	})
	return out, Wrap(err, "%s: list webhooks", s.Name)
}

// DeleteWebhook removes a webhook and its delivery log. The webhook's row
// goes first: a write of its state that holds the row is waited for, and
// one that comes after finds no webhook and writes nothing.
func (s *WebhookStore) DeleteWebhook(ctx context.Context, tenantID, id string) error {
	return s.Write(ctx, func(tx WebhookTx) error {
		n, err := tx.Exec(ctx, s.sql(`DELETE FROM webhooks WHERE id = ?1 AND tenant_id = ?2`), id, tenantID)
		if err == nil && n == 0 {
			err = webhookNotFound(id)
		}
		if err == nil {
			_, err = tx.Exec(ctx, s.sql(`DELETE FROM webhook_deliveries WHERE webhook_id = ?1`), id)
		}
		return Wrap(err, "%s: delete webhook %s", s.Name, id)
	})
}

// ClaimWebhook takes or renews owner's lease on a webhook: one statement,
// so that of several claimers exactly one takes a free lease.
func (s *WebhookStore) ClaimWebhook(ctx context.Context, id, owner string, ttl time.Duration) (*store.Webhook, bool, error) {
	if owner == "" || ttl <= 0 {
		return nil, false, fmt.Errorf("%s: claim webhook %s: an owner and a positive ttl are needed", s.Name, id)
	}
	var w *store.Webhook
	var held bool
	err := s.Write(ctx, func(tx WebhookTx) error {
		now, err := tx.LeaseNow(ctx)
		if err != nil {
			return fmt.Errorf("%s: claim webhook %s: %w", s.Name, id, err)
		}
		n, err := tx.Exec(ctx, s.sql(`UPDATE webhooks SET lease_owner = ?2, lease_expires = ?3
			WHERE id = ?1 AND (lease_owner IN (?2, '') OR lease_expires <= ?4)`),
			id, owner, sqlfilter.TimeKey(now.Add(ttl)), sqlfilter.TimeKey(now))
		if err != nil {
			return fmt.Errorf("%s: claim webhook %s: %w", s.Name, id, err)
		}
		held = n == 1
		w, err = s.readWebhook(ctx, tx, "", id)
		return err
	})
	if err != nil {
		return nil, false, err
	}
	return w, held, nil
}

// ReleaseWebhook gives up owner's lease on a webhook, if owner holds it.
func (s *WebhookStore) ReleaseWebhook(ctx context.Context, id, owner string) error {
	return s.Write(ctx, func(tx WebhookTx) error {
		_, err := tx.Exec(ctx, s.sql(`UPDATE webhooks SET lease_owner = '' WHERE id = ?1 AND lease_owner = ?2 AND lease_owner <> ''`), id, owner)
		return Wrap(err, "%s: release webhook %s", s.Name, id)
	})
}

// PutWebhookState records a webhook's state and a delivery, if owner
// holds its lease. The update is the write's first statement: when it
// changes no row, nothing was written.
func (s *WebhookStore) PutWebhookState(ctx context.Context, id, owner string, st store.WebhookState, d *store.WebhookDelivery) error {
	return s.Write(ctx, func(tx WebhookTx) error {
		now, err := tx.LeaseNow(ctx)
		if err != nil {
			return fmt.Errorf("%s: write webhook %s: %w", s.Name, id, err)
		}
		n, err := tx.Exec(ctx, s.sql(`UPDATE webhooks SET cursor = ?3, attempts = ?4, first_failed = ?5, next_attempt = ?6,
			last_error = ?7, version = version + 1, last_modified = ?8
			WHERE id = ?1 AND lease_owner = ?2 AND lease_owner <> '' AND lease_expires > ?9`),
			id, owner, st.Cursor, st.Attempts, optTime(st.FirstFailed), optTime(st.NextAttempt), st.LastError,
			sqlfilter.TimeKey(tx.Now()), sqlfilter.TimeKey(now))
		if err != nil {
			return fmt.Errorf("%s: write webhook %s: %w", s.Name, id, err)
		}
		if n == 0 {
			return fmt.Errorf("%s: write webhook %s: %w: the lease of %s expired, passed to another process, or the webhook is gone",
				s.Name, id, store.ErrLeaseLost, owner)
		}
		if d == nil {
			return nil
		}
		return s.insertDelivery(ctx, tx, d)
	})
}

// AppendWebhookDelivery appends a delivery to a webhook's log without a
// lease.
func (s *WebhookStore) AppendWebhookDelivery(ctx context.Context, d *store.WebhookDelivery) error {
	return s.Write(ctx, func(tx WebhookTx) error {
		return s.insertDelivery(ctx, tx, d)
	})
}

func (s *WebhookStore) insertDelivery(ctx context.Context, tx WebhookTx, d *store.WebhookDelivery) error {
	if d.At.IsZero() {
		d.At = tx.Now()
	}
	_, err := tx.Exec(ctx, s.sql(`INSERT INTO webhook_deliveries (webhook_id, event_id, event_type, attempt, status, error,
		duration_ms, at, outcome) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)`),
		d.WebhookID, d.EventID, d.EventType, d.Attempt, d.Status, d.Error, d.Duration.Milliseconds(),
		sqlfilter.TimeKey(d.At), d.Outcome)
	return Wrap(err, "%s: log delivery of webhook %s", s.Name, d.WebhookID)
}

// WebhookDeliveries lists the newest entries of a webhook's delivery log.
func (s *WebhookStore) WebhookDeliveries(ctx context.Context, tenantID, id string, limit int) ([]*store.WebhookDelivery, error) {
	var out []*store.WebhookDelivery
	err := s.Read(ctx, func(q Querier) error {
		if _, err := s.readWebhook(ctx, q, tenantID, id); err != nil {
			return err
		}
		var err error
		out, err = List(ctx, q, scanDelivery, s.sql(`SELECT `+deliveryColumns+` FROM webhook_deliveries
			WHERE webhook_id = ?1 ORDER BY seq DESC LIMIT ?2`), id, PageLimit(limit))
		return Wrap(err, "%s: list deliveries of webhook %s", s.Name, id)
	})
	return out, err
}

// PruneWebhookDeliveries deletes the delivery log entries from before
// before.
func (s *WebhookStore) PruneWebhookDeliveries(ctx context.Context, before time.Time) (int, error) {
	var n int64
	err := s.Write(ctx, func(tx WebhookTx) (err error) {
		n, err = tx.Exec(ctx, s.sql(`DELETE FROM webhook_deliveries WHERE at < ?1`), sqlfilter.TimeKey(before))
		return Wrap(err, "%s: prune webhook deliveries", s.Name)
	})
	return int(n), err
}
