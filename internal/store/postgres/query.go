package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/ferryid/ferry/internal/scim/filter"
	"github.com/ferryid/ferry/internal/store"
	"github.com/ferryid/ferry/internal/store/sqlfilter"
)

// Query runs a filtered, sorted, paged search, entirely in the database:
// the filter is translated by sqlfilter, so it selects what filter.Match
// would over the documents as the server renders them.
func (s *Store) Query(ctx context.Context, tenantID, typ string, q store.Query) (store.Page, error) {
	st, err := s.querySQL(tenantID, typ, q)
	if err != nil {
		return store.Page{}, err
	}
	var page store.Page
	if st.page == "" {
		if err := s.pool.QueryRow(ctx, st.count, st.countArgs...).Scan(&page.Total); err != nil {
			return store.Page{}, fmt.Errorf("postgres: query %s: %w", typ, err)
		}
		return page, nil
	}
	if err := s.readPage(ctx, st, q, &page); err != nil {
		return store.Page{}, fmt.Errorf("postgres: query %s: %w", typ, err)
	}
	// A page that is not full ends the results, so it tells the total
	// (unless it is empty past the start): Entra's userName eq costs one
	// statement. Otherwise the total is a second statement, which a write
	// between the two can make count one resource more or less than the
	// page saw; a transaction would cost two more round trips for every
	// query to rule that out.
	if n := len(page.Resources); n < q.Count && (n > 0 || st.offset == 0) {
		page.Total = st.offset + n
	} else if err := s.pool.QueryRow(ctx, st.count, st.countArgs...).Scan(&page.Total); err != nil {
		return store.Page{}, fmt.Errorf("postgres: query %s: %w", typ, err)
	}
	return page, nil
}

// readPage reads the page of st into page.
func (s *Store) readPage(ctx context.Context, st queryStatements, q store.Query, page *store.Page) error {
	rows, err := s.pool.Query(ctx, st.page, st.pageArgs...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var edges *string
		if q.Members {
			edges = new(string)
		}
		r, _, err := scanResource(rows, edges)
		if err != nil {
			return err
		}
		page.Resources = append(page.Resources, r)
	}
	return rows.Err()
}

// queryStatements are the statements of one Query.
type queryStatements struct {
	count     string
	countArgs []any
	page      string // "" when no resources are asked for
	pageArgs  []any
	offset    int // the page's offset, StartIndex - 1
}

// querySQL translates q.
func (s *Store) querySQL(tenantID, typ string, q store.Query) (queryStatements, error) {
	rt, err := s.resourceType(typ)
	if err != nil {
		return queryStatements{}, err
	}
	b := sqlfilter.NewBuilder(sqlfilter.Postgres{}, tenantID, typ)
	t := sqlfilter.Target{Type: rt, Alias: "r", TenantArg: "$1", TypeArg: "$2"}
	cond, err := sqlfilter.Where(b, t, q.Filter)
	if err != nil {
		return queryStatements{}, err
	}
	where := " WHERE r.tenant_id = $1 AND r.type = $2"
	if q.Filter != nil {
		where += " AND " + cond.SQL
	}
	st := queryStatements{count: "SELECT count(*) FROM resources r" + where, countArgs: append([]any(nil), b.Args()...)}
	if valueSensitive(q.Filter) {
		st.countArgs = append([]any{pgx.QueryExecModeExec}, st.countArgs...)
	}
	if q.Filter == nil {
		st.count = `SELECT coalesce((SELECT n FROM resource_counts WHERE tenant_id = $1 AND type = $2), 0)`
		st.countArgs = []any{tenantID, typ}
	}
	if q.Count <= 0 {
		return st, nil
	}
	order, err := sqlfilter.OrderBy(b, t, q.SortBy, q.Descending)
	if err != nil {
		return queryStatements{}, err
	}
	st.offset = max(q.StartIndex, 1) - 1
	// The page's rows are found by rid first, then read: the rows the
	// OFFSET skips are never read whole (in id order not even from the
	// table, see migration 00003), and the memberships, which in the
	// select list of the paged query would be computed for every skipped
	// row too, are read for the page alone.
	columns := resourceColumns
	if q.Members {
		columns += ", (" + edgesOf(typ) + ")"
	}
	st.page = "SELECT " + columns + " FROM resources r WHERE r.rid IN (SELECT r.rid FROM resources r" + where +
		" ORDER BY " + order + " LIMIT " + b.Arg(q.Count) + " OFFSET " + b.Arg(st.offset) + ") ORDER BY " + order
	st.pageArgs = b.Args()
	if valueSensitive(q.Filter) {
		st.pageArgs = append([]any{pgx.QueryExecModeExec}, st.pageArgs...)
	}
	return st, nil
}

// valueSensitive reports whether the best plan of a filter depends on its
// values: a substring, prefix or range test, or a presence test. pgx
// prepares statements, and after five runs PostgreSQL may plan a prepared
// statement once for all values; that plan for a value-path co measured
// 80 ms where one made for its values took 3. Such filters are sent
// unprepared, planned every time with their values. An equality plans the
// same whatever its value, and keeps the prepared statement, whose plan is
// reused.
func valueSensitive(e filter.Expr) bool {
	switch x := e.(type) {
	case *filter.Compare:
		return x != nil && x.Op != filter.Eq
	case *filter.Logical:
		return x != nil && (valueSensitive(x.Left) || valueSensitive(x.Right))
	case *filter.Not:
		return x != nil && valueSensitive(x.X)
	case *filter.ValuePath:
		return x != nil && valueSensitive(x.Filter)
	}
	return false
}
