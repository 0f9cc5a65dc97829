package sqlfilter

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

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
