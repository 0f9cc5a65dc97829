package sqlite

import (
	"context"
	"strings"

	"github.com/ferryid/ferry/internal/store/sqlfilter"
	"github.com/ferryid/ferry/internal/store/sqlstore"
)

// The console's admins and sessions (store.Console) are
// sqlstore.ConsoleStore on this store's reads and its writer; see the
// twelfth migration for the tables. Its writes add nothing to the
// commit the watchers are told of: they change no directory resource.

// consoleDB lends sqlstore.ConsoleStore the store's reads and its writer.
func (s *Store) consoleDB() sqlstore.ConsoleDB {
	return sqlstore.ConsoleDB{
		Backend: "sqlite",
		Dialect: sqlfilter.SQLite{},
		Read: func(ctx context.Context, fn func(sqlstore.Querier) error) error {
			return s.readConn(ctx, func(c *conn) error { return fn(reader{c}) })
		},
		Write: func(ctx context.Context, fn func(sqlstore.ConsoleTx) error) error {
			return s.write(ctx, func(w *wtx) error { return fn(sourceTx{reader{w}, w}) })
		},
		EmailTaken: func(err error) bool {
			return isUnique(err) && strings.Contains(err.Error(), "console_admins.email_key")
		},
		HashTaken: func(err error) bool { return isUnique(err) && strings.Contains(err.Error(), "console_sessions.hash") },
	}
}
