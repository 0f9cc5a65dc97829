package main

import "github.com/ferryid/ferry/internal/storeopen"

// isPostgres reports whether a --database value names a PostgreSQL
// database, for the end-to-end tests that run on either.
func isPostgres(database string) bool { return storeopen.IsPostgres(database) }
