package sqlite

import (
	"context"
	"fmt"

	"github.com/ferryid/ferry/internal/store"
	"github.com/ferryid/ferry/internal/store/sqlfilter"
	"github.com/ferryid/ferry/internal/store/sqlstore"
)

// Query runs a filtered, sorted, paged search, entirely in the database:
// the filter is translated by sqlfilter, so it selects what filter.Match
// would over the documents as the server renders them. The page and the
// total are read in one read transaction, so they agree.
func (s *Store) Query(ctx context.Context, tenantID, typ string, q store.Query) (store.Page, error) {
	st, err := s.querySQL(ctx, tenantID, typ, q)
	if err != nil {
		return store.Page{}, err
	}
	var page store.Page
	err = s.read(ctx, func(c *conn) error {
		if st.Page == "" {
			return c.QueryRowContext(ctx, st.Count, st.CountArgs...).Scan(&page.Total)
		}
		rows, err := c.QueryContext(ctx, st.Page, st.PageArgs...)
		if err != nil {
			return err
		}
		defer rows.Close()
		if page, err = sqlstore.ReadPage(rows, st, q); err != nil {
			return err
		}
		rows.Close()
		var ok bool
		if page.Total, ok = st.Total(q, page); ok {
			return nil
		}
		return c.QueryRowContext(ctx, st.Count, st.CountArgs...).Scan(&page.Total)
	})
	if err != nil {
		return store.Page{}, fmt.Errorf("sqlite: query %s: %w", typ, err)
	}
	return page, nil
}

// querySQL translates q.
func (s *Store) querySQL(ctx context.Context, tenantID, typ string, q store.Query) (sqlstore.Statements, error) {
	if _, err := s.resourceType(typ); err != nil {
		return sqlstore.Statements{}, err
	}
	rt, err := s.readType(ctx, tenantID, typ)
	if err != nil {
		return sqlstore.Statements{}, err
	}
	b := sqlfilter.NewBuilder(sqlfilter.SQLite{}, tenantID, typ)
	t := sqlfilter.Target{Type: rt, Alias: "r", TenantArg: "?1", TypeArg: "?2"}
	cond, err := sqlfilter.Where(b, t, q.Filter)
	if err != nil {
		return sqlstore.Statements{}, err
	}
	// A condition that only holds for rids out of index lookups drives
	// the query: "+" keeps SQLite from scanning the tenant's rows through
	// the (tenant_id, type) index instead.
	scope := "r.tenant_id = ?1 AND r.type = ?2"
	if cond.Indexed {
		scope = "+r.tenant_id = ?1 AND +r.type = ?2"
	}
	where := " WHERE " + scope
	if q.Filter != nil {
		where += " AND " + cond.SQL
	}
	var st sqlstore.Statements
	st.CountArgs = append([]any(nil), b.Args()...)
	if q.Filter == nil {
		st.Count = `SELECT coalesce((SELECT n FROM resource_counts WHERE tenant_id = ?1 AND type = ?2), 0)`
		st.CountArgs = []any{tenantID, typ}
	} else {
		st.Count = "SELECT count(*) FROM resources r" + where
	}
	if q.Count <= 0 {
		return st, nil
	}
	sort, err := sqlfilter.SortOf(b, t, q.SortBy, q.Descending)
	if err != nil {
		return sqlstore.Statements{}, err
	}
	limit := q.Count
	st.Offset = max(q.StartIndex, 1) - 1
	// The page's memberships come in the same statement.
	edges := membersOfRow
	if typ == store.UserType {
		edges = groupsOfRow
	}
	columns := sqlstore.PageColumns(&st, q, edges)
	// A keyset page starts after its position instead: an index range
	// in id order, no rows skipped.
	where, columns, limit = sqlstore.Keyset(b, sort, q, &st, where, columns, limit)
	st.Page = "SELECT " + columns + " FROM resources r" +
		where + " ORDER BY " + sort.OrderBy() + " LIMIT " + b.Arg(limit) + " OFFSET " + b.Arg(st.Offset)
	st.PageArgs = b.Args()
	return st, nil
}
