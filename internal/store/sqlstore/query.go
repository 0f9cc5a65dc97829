package sqlstore

import (
	"github.com/ferryid/ferry/internal/store"
	"github.com/ferryid/ferry/internal/store/sqlfilter"
)

// Statements are the statements of one Query, as a backend writes them.
type Statements struct {
	// Count counts the results, with CountArgs.
	Count     string
	CountArgs []any
	// Page reads the page of results, rows of ResourceColumns (followed by
	// a column of memberships when Members is true, then by the sort key
	// when Keyed is true), with PageArgs. It is "" when no resources are
	// asked for.
	Page     string
	PageArgs []any
	// Offset is the page's offset, StartIndex - 1; 0 for a keyset page.
	Offset int
	// Members says the page's rows end with a column of memberships.
	Members bool
	// Keyset says the page is a keyset page (Query.After), which reads
	// one row more than it returns to tell whether more follow.
	Keyset bool
	// Keyed says the page's rows end with their sort key (a keyset page
	// that does not sort by id alone).
	Keyed bool
	// Encoded says the page's documents are left encoded
	// (store.ReadOptions.Encoded).
	Encoded bool
	// IDsOnly says the page's rows are of IDColumns instead of
	// ResourceColumns, and Members is false (store.ReadOptions.IDsOnly).
	IDsOnly bool
}

// PageColumns returns the select list of q's page before Keyset: the
// resource's columns, and its memberships, whose subquery edges gives,
// when q asks for them. It records in st what the rows hold.
func PageColumns(st *Statements, q store.Query, edges string) string {
	if q.IDsOnly {
		st.IDsOnly = true
		return IDColumns
	}
	st.Encoded = q.Encoded
	if !q.Members {
		return ResourceColumns
	}
	st.Members = true
	return ResourceColumns + ", (" + edges + ")"
}

// Keyset adds what a keyset page (q.After) needs to the page statement
// of a query sorted by s, given its WHERE clause, select list and LIMIT:
// the condition "after q.After" (none on the first page), the sort key as
// the last column (unless rows sort by id alone), and a LIMIT one more
// than q.Count, to tell whether more follow. It records in st that the
// page is a keyset page, whose offset is q.Skip. Without q.After it
// returns its inputs unchanged.
func Keyset(b *sqlfilter.Builder, s sqlfilter.Sort, q store.Query, st *Statements, where, columns string, limit int) (string, string, int) {
	if q.After == nil {
		return where, columns, limit
	}
	st.Keyset, st.Keyed, st.Offset = true, s.Key != "", max(q.Skip, 0)
	if q.After.ID != "" {
		where += " AND " + s.After(b, q.After.Key, q.After.ID)
	}
	if st.Keyed {
		columns += ", " + s.Key
	}
	return where, columns, q.Count + 1
}

// ReadPage reads the rows of st's page statement into a page of q: its
// resources and, for a keyset page, where the page ends when more follow.
// Total is left to the caller (Statements.Total).
func ReadPage(rows Rows, st Statements, q store.Query) (store.Page, error) {
	var keys []*string
	// An ids-only page's resources come from one array: a page of ids is
	// read per list request, and a hundred small allocations showed.
	var ids []store.Resource
	if st.IDsOnly {
		ids = make([]store.Resource, 0, q.Count+1)
	}
	res, err := ScanAll(rows, func(row Row) (*store.Resource, error) {
		var edges *string
		if st.Members {
			edges = new(string)
		}
		var key *string
		dest := []any{}
		if st.Keyed {
			dest = append(dest, &key)
		}
		if st.IDsOnly {
			ids = append(ids, store.Resource{}) // within capacity (LIMIT is at most Count+1); beyond it, earlier pointers keep the old array
			r := &ids[len(ids)-1]
			err := row.Scan(append([]any{&r.ID}, dest...)...)
			keys = append(keys, key)
			return r, err
		}
		r, _, err := scanResource(row, edges, st.Encoded, dest...)
		keys = append(keys, key)
		return r, err
	})
	if err != nil {
		return store.Page{}, err
	}
	page := store.Page{Resources: res}
	if st.Keyset && len(res) > q.Count {
		page.Resources = res[:q.Count]
		last := res[q.Count-1]
		page.Next = &store.Position{ID: last.ID}
		if st.Keyed {
			page.Next.Key = keys[q.Count-1]
		}
	}
	return page, nil
}

// Total returns the total number of q's results when its page tells it,
// and reports false when the total must be counted: a page that is not
// full ends the results, unless it is empty past the start. A client's
// userName eq then costs one statement.
func (st Statements) Total(q store.Query, p store.Page) (int, bool) {
	if st.Keyset {
		if q.After.ID == "" && p.Next == nil {
			return len(p.Resources), true
		}
		return 0, false
	}
	return PageTotal(q, st.Offset, len(p.Resources))
}

// PageTotal returns the total number of a query's results when its page,
// of n resources at offset, tells it: a page that is not full ends the
// results, unless it is empty past the start. It reports false when the
// total must be counted.
func PageTotal(q store.Query, offset, n int) (int, bool) {
	if n < q.Count && (n > 0 || offset == 0) {
		return offset + n, true
	}
	return 0, false
}
