package postgres

import (
	"context"
	"time"

	"github.com/ferryid/ferry/internal/store/sqlfilter"
	"github.com/ferryid/ferry/internal/store/sqlstore"
)

// Webhooks (store.Webhooks) are sqlstore.WebhookStore on this store's
// pool, transactions and lease clock; see the ninth migration for the
// tables.

// webhookTx adapts a transaction to sqlstore.WebhookTx.
type webhookTx struct {
	reader
	w *wtx
}

func (t webhookTx) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	tag, err := t.w.Exec(ctx, query, args...)
	return tag.RowsAffected(), err
}

func (t webhookTx) Now() time.Time { return t.w.now }

// LeaseNow is leaseNow: the database server's clock, as ClaimJob's. The
// statements that claim and check a lease are single UPDATEs, which lock
// the webhook's row.
func (t webhookTx) LeaseNow(ctx context.Context) (time.Time, error) { return t.w.leaseNow(ctx) }

func (s *Store) webhookStore() sqlstore.WebhookStore {
	return sqlstore.WebhookStore{
		Name:    "postgres",
		Dialect: sqlfilter.Postgres{},
		Read: func(ctx context.Context, fn func(q sqlstore.Querier) error) error {
			return fn(reader{s.pool})
		},
		Write: func(ctx context.Context, fn func(tx sqlstore.WebhookTx) error) error {
			return s.write(ctx, "", func(w *wtx) error { return fn(webhookTx{reader{w}, w}) })
		},
	}
}
