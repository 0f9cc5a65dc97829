// Package sqlstore is the half of Ferry's two SQL stores (internal/store/sqlite
// and internal/store/postgres) that does not depend on the database: how a
// record becomes column values and back, the checks a write makes before it
// touches a table, page sizes and cursors, and the errors a write's failure
// stands for. The backends keep what truly differs: SQL text, transactions,
// locking and their drivers' error codes.
//
// Rows are read through the small interfaces of scan.go, which both
// database/sql and pgx satisfy, so one function decodes a row for both.
package sqlstore
