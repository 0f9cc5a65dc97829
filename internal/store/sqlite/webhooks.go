package sqlite

import (
	"context"
	"time"

	"github.com/ferryid/ferry/internal/store/sqlfilter"
	"github.com/ferryid/ferry/internal/store/sqlstore"
)

// Webhooks (store.Webhooks) are sqlstore.WebhookStore on this store's
// reads, writes and clock; see the eighth migration for the tables.

// webhookTx adapts a write to sqlstore.WebhookTx.
type webhookTx struct {
	reader
	w *wtx
}

func (t webhookTx) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := t.w.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (t webhookTx) Now() time.Time { return t.w.now }

// LeaseNow is the store's clock, as ClaimJob's: the writer alone holds
// the database's write lock, so a lease stays as read until the write
// ends.
func (t webhookTx) LeaseNow(context.Context) (time.Time, error) { return t.w.s.now(), nil }

func (s *Store) webhookStore() sqlstore.WebhookStore {
	return sqlstore.WebhookStore{
		Name:    "sqlite",
		Dialect: sqlfilter.SQLite{},
		Read: func(ctx context.Context, fn func(q sqlstore.Querier) error) error {
			return s.readConn(ctx, func(c *conn) error { return fn(reader{c}) })
		},
		Write: func(ctx context.Context, fn func(tx sqlstore.WebhookTx) error) error {
			return s.write(ctx, func(w *wtx) error { return fn(webhookTx{reader{w}, w}) })
		},
	}
}
