package sqlstore

// Row is one result row: *sql.Row, *sql.Rows, pgx.Row and pgx.Rows all
// satisfy it.
type Row interface {
	Scan(dest ...any) error
}

// Rows is a result set being read: *sql.Rows and pgx.Rows both satisfy it.
// Closing stays with the caller, since the two drivers' Close differ.
type Rows interface {
	Row
	Next() bool
	Err() error
}

// ScanAll reads every row of rows with scan, in order.
func ScanAll[T any](rows Rows, scan func(Row) (T, error)) ([]T, error) {
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
