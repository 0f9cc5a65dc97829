package sqlite

import (
	"context"
	"fmt"

	"github.com/ferryid/ferry/internal/scim/schema"
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
		if page.Resources, err = sqlstore.ScanResources(rows, st.Members); err != nil {
			return err
		}
		rows.Close()
		var ok bool
		if page.Total, ok = sqlstore.PageTotal(q, st.Offset, len(page.Resources)); ok {
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
	var rt *schema.ResourceType
	err := s.readConn(ctx, func(c *conn) (err error) {
		rt, err = s.tenantType(ctx, reader{c}, tenantID, typ)
		return err
	})
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
	order, err := sqlfilter.OrderBy(b, t, q.SortBy, q.Descending)
	if err != nil {
		return sqlstore.Statements{}, err
	}
	start := max(q.StartIndex, 1)
	st.Offset = start - 1
	columns := sqlstore.ResourceColumns
	if q.Members {
		// The page's memberships come in the same statement.
		st.Members = true
		if typ == store.UserType {
			columns += ", (" + groupsOfRow + ")"
		} else {
			columns += ", (" + membersOfRow + ")"
		}
	}
	st.Page = "SELECT " + columns + " FROM resources r" +
		where + " ORDER BY " + order + " LIMIT " + b.Arg(q.Count) + " OFFSET " + b.Arg(start-1)
	st.PageArgs = b.Args()
	return st, nil
}

// Changes returns up to limit change-feed entries of a tenant with Seq
// greater than after, in Seq order.
func (s *Store) Changes(ctx context.Context, tenantID string, after int64, limit int) ([]store.Change, error) {
	if limit <= 0 {
		return nil, nil
	}
	var out []store.Change
	err := s.read(ctx, func(cn *conn) error {
		rows, err := cn.QueryContext(ctx, `SELECT `+sqlstore.ChangeColumns+` FROM changes
			WHERE tenant_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3`, tenantID, after, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		out, err = sqlstore.ScanAll(rows, sqlstore.ScanChange)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: read changes: %w", err)
	}
	return out, nil
}
