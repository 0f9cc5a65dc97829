package sqlite

import (
	"context"
	"fmt"

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
	err = s.read(ctx, func(c *conn) error {
		if st.page == "" {
			return c.QueryRowContext(ctx, st.count, st.countArgs...).Scan(&page.Total)
		}
		rows, err := c.QueryContext(ctx, st.page, st.pageArgs...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var r *store.Resource
			var err error
			if st.withEdges {
				var list string
				if r, _, err = scanResource(rows, &list); err == nil {
					err = setEdges(r, list)
				}
			} else {
				r, _, err = scanResource(rows)
			}
			if err != nil {
				return err
			}
			page.Resources = append(page.Resources, r)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows.Close()
		// A page that is not full ends the results, so it tells the
		// total (unless it is empty past the start): Entra's userName
		// eq takes one statement.
		if n := len(page.Resources); n < q.Count && (n > 0 || st.offset == 0) {
			page.Total = st.offset + n
		} else if err := c.QueryRowContext(ctx, st.count, st.countArgs...).Scan(&page.Total); err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		return store.Page{}, fmt.Errorf("sqlite: query %s: %w", typ, err)
	}
	return page, nil
}

// queryStatements are the statements of one Query.
type queryStatements struct {
	count     string
	countArgs []any
	page      string // "" when no resources are asked for
	pageArgs  []any
	offset    int  // the page's offset, StartIndex - 1
	withEdges bool // the page has a last column of memberships (membersOfRow, groupsOfRow)
}

// querySQL translates q.
func (s *Store) querySQL(tenantID, typ string, q store.Query) (queryStatements, error) {
	rt, err := s.resourceType(typ)
	if err != nil {
		return queryStatements{}, err
	}
	b := sqlfilter.NewBuilder(sqlfilter.SQLite{}, tenantID, typ)
	t := sqlfilter.Target{Type: rt, Alias: "r", TenantArg: "?1", TypeArg: "?2"}
	cond, err := sqlfilter.Where(b, t, q.Filter)
	if err != nil {
		return queryStatements{}, err
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
	var st queryStatements
	st.countArgs = append([]any(nil), b.Args()...)
	if q.Filter == nil {
		st.count = `SELECT coalesce((SELECT n FROM resource_counts WHERE tenant_id = ?1 AND type = ?2), 0)`
		st.countArgs = []any{tenantID, typ}
	} else {
		st.count = "SELECT count(*) FROM resources r" + where
	}
	if q.Count <= 0 {
		return st, nil
	}
	order, err := sqlfilter.OrderBy(b, t, q.SortBy, q.Descending)
	if err != nil {
		return queryStatements{}, err
	}
	start := max(q.StartIndex, 1)
	st.offset = start - 1
	columns := "r.rid, r.tenant_id, r.type, r.id, r.version, r.created_at, r.last_modified, r.doc"
	if q.Members {
		// The page's memberships come in the same statement.
		st.withEdges = true
		if typ == store.UserType {
			columns += ", (" + groupsOfRow + ")"
		} else {
			columns += ", (" + membersOfRow + ")"
		}
	}
	st.page = "SELECT " + columns + " FROM resources r" +
		where + " ORDER BY " + order + " LIMIT " + b.Arg(q.Count) + " OFFSET " + b.Arg(start-1)
	st.pageArgs = b.Args()
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
		rows, err := cn.QueryContext(ctx, `SELECT seq, tenant_id, type, id, op, at FROM changes
			WHERE tenant_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3`, tenantID, after, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var c store.Change
			var op, at string
			if err := rows.Scan(&c.Seq, &c.TenantID, &c.Type, &c.ID, &op, &at); err != nil {
				return err
			}
			c.Op = store.ChangeOp(op)
			if c.At, err = parseTime(at); err != nil {
				return err
			}
			out = append(out, c)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: read changes: %w", err)
	}
	return out, nil
}
