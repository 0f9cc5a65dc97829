package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/ferryid/ferry/internal/scim/filter"
	"github.com/ferryid/ferry/internal/store"
	"github.com/ferryid/ferry/internal/store/sqlfilter"
	"github.com/ferryid/ferry/internal/store/sqlstore"
)

// Query runs a filtered, sorted, paged search, entirely in the database:
// the filter is translated by sqlfilter, so it selects what filter.Match
// would over the documents as the server renders them.
func (s *Store) Query(ctx context.Context, tenantID, typ string, q store.Query) (store.Page, error) {
	st, err := s.querySQL(ctx, tenantID, typ, q)
	if err != nil {
		return store.Page{}, err
	}
	var page store.Page
	if st.Page != "" {
		if page, err = s.readPage(ctx, st, q); err != nil {
			return store.Page{}, fmt.Errorf("postgres: query %s: %w", typ, err)
		}
		// Unless the page tells the total, it is a second statement,
		// which a write between the two can make count one resource
		// more or less than the page saw; a transaction would cost two
		// more round trips for every query to rule that out.
		var ok bool
		if page.Total, ok = st.Total(q, page); ok {
			return page, nil
		}
	}
	if err := s.pool.QueryRow(ctx, st.Count, st.CountArgs...).Scan(&page.Total); err != nil {
		return store.Page{}, fmt.Errorf("postgres: query %s: %w", typ, err)
	}
	return page, nil
}

// readPage reads the resources of st's page.
func (s *Store) readPage(ctx context.Context, st sqlstore.Statements, q store.Query) (store.Page, error) {
	rows, err := s.pool.Query(ctx, st.Page, st.PageArgs...)
	if err != nil {
		return store.Page{}, err
	}
	defer rows.Close()
	return sqlstore.ReadPage(rows, st, q)
}

// querySQL translates q.
func (s *Store) querySQL(ctx context.Context, tenantID, typ string, q store.Query) (sqlstore.Statements, error) {
	rt, err := s.resourceType(typ)
	if err != nil {
		return sqlstore.Statements{}, err
	}
	if q.Filter != nil || q.SortBy != "" {
		// A filter or a sort may name an attribute of the tenant's
		// declared schemas; a list in id order names none, and is
		// spared reading the declarations (a round trip).
		if rt, err = s.tenantType(ctx, reader{s.pool}, tenantID, typ, ""); err != nil {
			return sqlstore.Statements{}, err
		}
	}
	b := sqlfilter.NewBuilder(sqlfilter.Postgres{}, tenantID, typ)
	t := sqlfilter.Target{Type: rt, Alias: "r", TenantArg: "$1", TypeArg: "$2"}
	cond, err := sqlfilter.Where(b, t, q.Filter)
	if err != nil {
		return sqlstore.Statements{}, err
	}
	where := " WHERE r.tenant_id = $1 AND r.type = $2"
	if q.Filter != nil {
		where += " AND " + cond.SQL
	}
	st := sqlstore.Statements{Count: "SELECT count(*) FROM resources r" + where, CountArgs: append([]any(nil), b.Args()...)}
	if valueSensitive(q.Filter) {
		st.CountArgs = append([]any{pgx.QueryExecModeExec}, st.CountArgs...)
	}
	if q.Filter == nil {
		st.Count = `SELECT coalesce((SELECT n FROM resource_counts WHERE tenant_id = $1 AND type = $2), 0)`
		st.CountArgs = []any{tenantID, typ}
	}
	if q.Count <= 0 {
		return st, nil
	}
	sort, err := sqlfilter.SortOf(b, t, q.SortBy, q.Descending)
	if err != nil {
		return sqlstore.Statements{}, err
	}
	order := sort.OrderBy()
	limit := q.Count
	st.Offset = max(q.StartIndex, 1) - 1
	// The page's rows are found by rid first, then read: the rows the
	// OFFSET skips are never read whole (in id order not even from the
	// table, see migration 00003), and the memberships, which in the
	// select list of the paged query would be computed for every skipped
	// row too, are read for the page alone.
	columns := sqlstore.PageColumns(&st, q, edgesOf(typ))
	// A keyset page starts after its position instead: an index range
	// in id order, no rows skipped.
	where, columns, limit = sqlstore.Keyset(b, sort, q, &st, where, columns, limit)
	st.Page = "SELECT " + columns + " FROM resources r WHERE r.rid IN (SELECT r.rid FROM resources r" + where +
		" ORDER BY " + order + " LIMIT " + b.Arg(limit) + " OFFSET " + b.Arg(st.Offset) + ") ORDER BY " + order
	st.PageArgs = b.Args()
	if valueSensitive(q.Filter) {
		st.PageArgs = append([]any{pgx.QueryExecModeExec}, st.PageArgs...)
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
