package sqlite

import (
	"context"
	"strings"
	"time"

	"github.com/ferryid/ferry/internal/store/sqlfilter"
	"github.com/ferryid/ferry/internal/store/sqlstore"
)

// sourceDB lends sqlstore.SourceStore the store's reads and its writer.
func (s *Store) sourceDB() sqlstore.SourceDB {
	return sqlstore.SourceDB{
		Backend: "sqlite",
		Dialect: sqlfilter.SQLite{},
		Read: func(ctx context.Context, fn func(sqlstore.Querier) error) error {
			return s.readConn(ctx, func(c *conn) error { return fn(reader{c}) })
		},
		Write: func(ctx context.Context, fn func(sqlstore.SourceTx) error) error {
			return s.write(ctx, func(w *wtx) error { return fn(sourceTx{reader{w}, w}) })
		},
		NameTaken: func(err error) bool { return isUnique(err) && strings.Contains(err.Error(), "sources.name_key") },
	}
}

// sourceTx is a write as sqlstore.SourceTx.
type sourceTx struct {
	reader
	w *wtx
}

func (t sourceTx) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := t.w.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (t sourceTx) Now() time.Time { return t.w.now }

// LeaseNow is the store's clock, not truncated as the write's time is, as
// ClaimJob's.
func (t sourceTx) LeaseNow(context.Context) (time.Time, error) { return t.w.s.now(), nil }
