package sqlstore

import (
	"database/sql"
	"fmt"
	"strings"
	"sync"

	"github.com/ferryid/ferry/internal/store/sqlfilter"
)

// The attribute index: the attribute_values rows of a document
// (sqlfilter.Flatten) and the ids of the attribute paths they name.

// Value is an attribute_values row.
type Value struct {
	// ID is the row's key (rowid in SQLite, vid in PostgreSQL); 0 for a
	// row not stored yet.
	ID            int64
	AID           int64
	Elem, Kind    int64
	Val, Eqv, Num sql.NullString
	FTS           bool
}

// NewValue returns the attribute_values row of r, whose path has the id
// aid.
func NewValue(aid int64, r sqlfilter.Row) Value {
	return Value{AID: aid, Elem: int64(r.Elem), Kind: int64(r.Kind), Val: r.Val, Eqv: r.Eqv, Num: r.Num, FTS: r.Substring}
}

// ScanValue reads a row of (id, aid, elem, kind, val, eqv, num, fts) of
// attribute_values, id being rowid or vid.
func ScanValue(row Row) (Value, error) {
	var v Value
	err := row.Scan(&v.ID, &v.AID, &v.Elem, &v.Kind, &v.Val, &v.Eqv, &v.Num, &v.FTS)
	return v, err
}

// key is equal for two rows that store the same value.
func (v Value) key() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d|%d|%d|%t", v.AID, v.Elem, v.Kind, v.FTS)
	for _, s := range []sql.NullString{v.Val, v.Eqv, v.Num} {
		if s.Valid {
			b.WriteString("|s")
			b.WriteString(s.String)
		} else {
			b.WriteString("|n")
		}
	}
	return b.String()
}

// DiffValues compares a resource's attribute_values rows, old, with the
// ones it should have, next: it returns the rows of next to insert and the
// ids of the rows of old to delete. Rows in both stay where they are,
// which spares the indexes (the trigram index most). It reuses next's
// array.
func DiffValues(old, next []Value) (insert []Value, gone []int64) {
	if len(old) == 0 {
		return next, nil
	}
	have := make(map[string][]int64, len(old))
	for _, v := range old {
		k := v.key()
		have[k] = append(have[k], v.ID)
	}
	insert = next[:0]
	for _, v := range next {
		k := v.key()
		if ids := have[k]; len(ids) > 0 {
			have[k] = ids[1:]
			continue
		}
		insert = append(insert, v)
	}
	for _, ids := range have {
		gone = append(gone, ids...)
	}
	return insert, gone
}

// PathKey names an attr_paths row: an attribute path of a tenant's
// resource type.
type PathKey struct{ Tenant, Type, Path string }

// PathIDs holds the ids of committed attr_paths rows, which never change
// once committed. It is safe for concurrent use; the zero value is empty.
type PathIDs struct {
	mu  sync.RWMutex
	ids map[PathKey]int64
}

// Get returns the id of the path k, if known.
func (p *PathIDs) Get(k PathKey) (int64, bool) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	id, ok := p.ids[k]
	return id, ok
}

// Add records the ids of committed paths. Only committed ids may enter:
// a rolled-back id could be handed out again for another path.
func (p *PathIDs) Add(ids map[PathKey]int64) {
	if len(ids) == 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ids == nil {
		p.ids = make(map[PathKey]int64, len(ids))
	}
	for k, v := range ids {
		p.ids[k] = v
	}
}

// Load records the ids of rows of (aid, tenant_id, type, path) of
// attr_paths.
func (p *PathIDs) Load(rows Rows) error {
	ids := map[PathKey]int64{}
	for rows.Next() {
		var id int64
		var k PathKey
		if err := rows.Scan(&id, &k.Tenant, &k.Type, &k.Path); err != nil {
			return err
		}
		ids[k] = id
	}
	if err := rows.Err(); err != nil {
		return err
	}
	p.Add(ids)
	return nil
}
