package sqlstore

import "github.com/ferryid/ferry/internal/store"

// Statements are the statements of one Query, as a backend writes them.
type Statements struct {
	// Count counts the results, with CountArgs.
	Count     string
	CountArgs []any
	// Page reads the page of results, rows of ResourceColumns (followed by
	// a column of memberships when Members is true), with PageArgs. It is
	// "" when no resources are asked for.
	Page     string
	PageArgs []any
	// Offset is the page's offset, StartIndex - 1.
	Offset int
	// Members says the page's rows end with a column of memberships.
	Members bool
	// Encoded says the page's documents are left encoded
	// (store.ReadOptions.Encoded).
	Encoded bool
}

// PageTotal returns the total number of a query's results when its page,
// of n resources at offset, tells it: a page that is not full ends the
// results, unless it is empty past the start. It reports false when the
// total must be counted. A client's userName eq then costs one statement.
func PageTotal(q store.Query, offset, n int) (int, bool) {
	if n < q.Count && (n > 0 || offset == 0) {
		return offset + n, true
	}
	return 0, false
}
