// Package sqlfilter translates SCIM filters (filter.Expr) into SQL that
// selects exactly the resources filter.Match would, and flattens resource
// documents into the attribute_values rows that SQL searches. It is shared by
// the SQLite and PostgreSQL backends; what differs between them (parameter
// markers, substring search, prefix ranges) sits behind Dialect.
//
// # Tables
//
// The SQL assumes these tables, which each backend's migrations create:
//
//	resources(rid, tenant_id, type, id, id_key, created_at, last_modified, ...)
//	    rid is an integer key; id_key is FoldKey(id); timestamps are TimeKey text.
//	attr_paths(aid, tenant_id, type, path)
//	    one integer per attribute path per tenant and resource type, so that
//	    attribute_values rows are small and every lookup is tenant-scoped.
//	attribute_values(rid, aid, elem, kind, val, eqv, num)
//	    one row per scalar value of the document (see Flatten), indexed on
//	    (aid, val, eqv, rid, elem), (aid, num, rid, elem) and (rid, aid, elem).
//	memberships(group_rid, member_rid)
//	    indexed both ways.
//
// # Semantics
//
// Where gives filter.Match's answers for every filter the grammar allows
// over normalized documents (resource.Normalize), with the server-managed
// attributes rendered from the tables: id, meta.created,
// meta.lastModified and meta.resourceType, a Group's members (value and
// type) and a User's groups (value). meta.created and meta.lastModified
// are compared as instants, and by co, sw and ew as the text
// RenderedTimeLayout gives them. Paths whose value only the HTTP layer knows
// (meta.location, meta.version, members.$ref, members.display, groups.$ref,
// groups.display, groups.type) and value filters on a whole extension are
// refused with a store.ErrUnsupportedFilter error rather than answered
// wrongly.
package sqlfilter

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/ferryid/ferry/internal/store"
)

// RenderedTimeLayout is how meta.created and meta.lastModified appear in
// SCIM responses (store.TimeLayout).
const RenderedTimeLayout = store.TimeLayout

// Dialect is what differs between the SQL databases the translator targets.
// Methods that take values add them to b as arguments, so that no value is
// ever written into SQL text.
type Dialect interface {
	// Placeholder returns the marker of the n-th argument, counting from 1.
	Placeholder(n int) string
	// Bool returns the literal of a constant condition.
	Bool(v bool) string
	// CompareText returns the condition "col op v" on a text column of
	// attribute_values, op being one of = <> < <= > >=, written so that
	// the value index can answer it.
	CompareText(b *Builder, col, op, v string) string
	// Contains returns a condition true when the text expression col
	// contains p, which is not empty.
	Contains(b *Builder, col, p string) string
	// HasPrefix returns a condition true when col starts with p, which is
	// not empty. On an indexed column it should be an index range.
	HasPrefix(b *Builder, col, p string) string
	// HasSuffix returns a condition true when col ends with p, which is not
	// empty.
	HasSuffix(b *Builder, col, p string) string
	// SubstringSource returns a FROM clause that yields the
	// attribute_values rows, aliased alias, whose val may contain p, driven
	// by a substring index, and the condition that goes with it. It
	// reports false when no index can answer p (too short for trigrams,
	// say); the caller then searches the attribute's rows by Contains.
	// Rows it yields are checked with Contains as well, so it may return
	// more rows than match, never fewer.
	SubstringSource(b *Builder, alias, p string) (from, where string, ok bool)
}

// Builder accumulates a statement's arguments while its SQL is written.
type Builder struct {
	d    Dialect
	args []any
}

// NewBuilder returns a Builder for d whose first arguments are args.
func NewBuilder(d Dialect, args ...any) *Builder {
	return &Builder{d: d, args: args}
}

// Dialect returns the builder's dialect.
func (b *Builder) Dialect() Dialect { return b.d }

// Arg adds v as the next argument and returns its placeholder.
func (b *Builder) Arg(v any) string {
	b.args = append(b.args, v)
	return b.d.Placeholder(len(b.args))
}

// Args returns the arguments added so far, in placeholder order.
func (b *Builder) Args() []any { return b.args }

// SQLite is the Dialect of SQLite (modernc.org/sqlite), with the FTS5
// trigram table attribute_values_fts indexing attribute_values.val by rowid.
type SQLite struct{}

// Placeholder returns ?N, which every SQLite driver binds by number.
func (SQLite) Placeholder(n int) string { return "?" + strconv.Itoa(n) }

// Bool returns 1 or 0.
func (SQLite) Bool(v bool) string {
	if v {
		return "1"
	}
	return "0"
}

// CompareText compares col itself: SQLite indexes whole values.
func (SQLite) CompareText(b *Builder, col, op, v string) string {
	return col + " " + op + " " + b.Arg(v)
}

// Contains uses instr, which is case-sensitive, unlike LIKE.
func (SQLite) Contains(b *Builder, col, p string) string {
	return "instr(" + col + ", " + b.Arg(p) + ") > 0"
}

// HasPrefix is a range [p, next) where next is the least string greater
// than every string starting with p, so an index on col answers it. The
// bound is computed on bytes: p + "\uffff" would miss strings continuing
// with a supplementary-plane character.
func (SQLite) HasPrefix(b *Builder, col, p string) string {
	lo := col + " >= " + b.Arg(p)
	if next, ok := prefixEnd(p); ok {
		return "(" + lo + " AND " + col + " < " + b.Arg(next) + ")"
	}
	return lo
}

// HasSuffix compares the last characters; substr counts characters from the
// end for a negative start.
func (SQLite) HasSuffix(b *Builder, col, p string) string {
	n := utf8.RuneCountInString(p)
	return "substr(" + col + ", " + b.Arg(-n) + ") = " + b.Arg(p)
}

// SubstringSource searches the FTS5 trigram index for p as a phrase, which
// matches the rows containing p as a substring. The CROSS JOIN keeps the
// index lookup as the outer loop: SQLite never reorders it.
func (SQLite) SubstringSource(b *Builder, alias, p string) (string, string, bool) {
	if utf8.RuneCountInString(p) < 3 {
		return "", "", false
	}
	f := alias + "_fts"
	from := "attribute_values_fts " + f + " CROSS JOIN attribute_values " + alias + " ON " + alias + ".rowid = " + f + ".rowid"
	phrase := `"` + strings.ReplaceAll(p, `"`, `""`) + `"`
	return from, f + ".val MATCH " + b.Arg(phrase), true
}

// prefixEnd returns the least string greater than every string with prefix
// p, or false when there is none. It increments p's last character, so the
// bound is valid UTF-8 when p is, which PostgreSQL requires of text; in
// code point order (byte order, for UTF-8) it is the exact end of the
// strings starting with p, whatever follows the prefix, supplementary-plane
// characters included. A byte that is not part of a UTF-8 character is
// incremented as a byte.
func prefixEnd(p string) (string, bool) {
	for p != "" {
		r, size := utf8.DecodeLastRuneInString(p)
		last := p[len(p)-size:]
		p = p[:len(p)-size]
		switch {
		case r == utf8.RuneError && size == 1:
			if last[0] < 0xFF {
				return p + string([]byte{last[0] + 1}), true
			}
		case r < utf8.MaxRune:
			r++
			if r == 0xD800 {
				r = 0xE000 // surrogates are not characters
			}
			return p + string(r), true
		}
	}
	return "", false
}
