package sqlstore

import "context"

// Querier runs the statements of a read: a backend's read connection,
// pool or write transaction, which the backend adapts to it.
type Querier interface {
	// QueryRow runs a query of at most one row.
	QueryRow(ctx context.Context, query string, args ...any) Row
	// Query runs a query and calls read with its rows, which it closes
	// once read returns.
	Query(ctx context.Context, read func(Rows) error, query string, args ...any) error
}

// List runs a query with q and reads every row of its result with scan.
func List[T any](ctx context.Context, q Querier, scan func(Row) (T, error), query string, args ...any) ([]T, error) {
	var out []T
	err := q.Query(ctx, func(rows Rows) (err error) {
		out, err = ScanAll(rows, scan)
		return err
	}, query, args...)
	if err != nil {
		return nil, err
	}
	return out, nil
}
