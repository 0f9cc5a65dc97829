package postgres

import (
	"context"
	"time"

	"github.com/ferryid/ferry/internal/store/sqlfilter"
	"github.com/ferryid/ferry/internal/store/sqlstore"
)

// sourceDB lends sqlstore.SourceStore the store's pool and transactions.
func (s *Store) sourceDB() sqlstore.SourceDB {
	return sqlstore.SourceDB{
		Backend: "postgres",
		Dialect: sqlfilter.Postgres{},
		Read: func(_ context.Context, fn func(sqlstore.Querier) error) error {
			return fn(reader{s.pool})
		},
		Write: func(ctx context.Context, fn func(sqlstore.SourceTx) error) error {
			return s.write(ctx, "", func(w *wtx) error { return fn(sourceTx{reader{w}, w}) })
		},
		NameTaken: func(err error) bool {
			code, constraint := pgCode(err)
			return code == uniqueViolation && constraint == "sources_name_key"
		},
		Lock: " FOR UPDATE",
	}
}

// sourceTx is a transaction as sqlstore.SourceTx.
type sourceTx struct {
	reader
	w *wtx
}

func (t sourceTx) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	tag, err := t.w.Exec(ctx, query, args...)
	return tag.RowsAffected(), err
}

func (t sourceTx) Now() time.Time { return t.w.now }

func (t sourceTx) LeaseNow(ctx context.Context) (time.Time, error) { return t.w.leaseNow(ctx) }
