package postgres

import (
	"context"

	"github.com/ferryid/ferry/internal/store/sqlfilter"
	"github.com/ferryid/ferry/internal/store/sqlstore"
)

// The console's admins and sessions (store.Console) are
// sqlstore.ConsoleStore on this store's pool and transactions; see the
// twelfth migration for the tables.

// consoleDB lends sqlstore.ConsoleStore the store's pool and transactions.
func (s *Store) consoleDB() sqlstore.ConsoleDB {
	return sqlstore.ConsoleDB{
		Backend: "postgres",
		Dialect: sqlfilter.Postgres{},
		Read: func(_ context.Context, fn func(sqlstore.Querier) error) error {
			return fn(reader{s.pool})
		},
		Write: func(ctx context.Context, fn func(sqlstore.ConsoleTx) error) error {
			return s.write(ctx, "", func(w *wtx) error { return fn(sourceTx{reader{w}, w}) })
		},
		EmailTaken: func(err error) bool {
			code, constraint := pgCode(err)
			return code == uniqueViolation && constraint == "console_admins_email_key"
		},
		HashTaken: func(err error) bool {
			code, constraint := pgCode(err)
			return code == uniqueViolation && constraint == "console_sessions_pkey"
		},
	}
}
