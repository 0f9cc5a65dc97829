package sqlfilter

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// IndexedPrefix is how many characters of attribute_values.val the
// PostgreSQL value index holds: an index entry must stay under about
// 2,700 bytes, and values may be longer. The migration's index expression,
// left(val, 200), must use the same number.
const IndexedPrefix = 200

// Postgres is the Dialect of PostgreSQL (pgx), with text columns in the "C"
// collation, the value index on (aid, left(val, IndexedPrefix)) and a
// pg_trgm GIN index on the val of rows whose fts is true.
type Postgres struct{}

// Placeholder returns $N.
func (Postgres) Placeholder(n int) string { return "$" + strconv.Itoa(n) }

// Bool returns TRUE or FALSE.
func (Postgres) Bool(v bool) string {
	if v {
		return "TRUE"
	}
	return "FALSE"
}

// CompareText compares the indexed prefix of col first, which the index
// answers, then col itself. Comparing prefixes is implied by comparing the
// values (a > b gives left(a) >= left(b)), so the first test never drops a
// match.
func (Postgres) CompareText(b *Builder, col, op, v string) string {
	whole := col + " " + op + " " + b.Arg(v)
	prefixOp := op
	switch op {
	case "<>":
		return whole
	case ">":
		prefixOp = ">="
	case "<":
		prefixOp = "<="
	}
	return "left(" + col + ", " + strconv.Itoa(IndexedPrefix) + ") " + prefixOp + " " + b.Arg(indexedPrefix(v)) +
		" AND " + whole
}

// Contains uses strpos, which is case-sensitive and has no wildcards.
func (Postgres) Contains(b *Builder, col, p string) string {
	return "strpos(" + col + ", " + b.Arg(p) + ") > 0"
}

// HasPrefix is a range on the indexed prefix of col, as in SQLite's
// dialect; when p is longer than the indexed prefix, the prefix must equal
// p's and col is then compared whole.
func (Postgres) HasPrefix(b *Builder, col, p string) string {
	key := "left(" + col + ", " + strconv.Itoa(IndexedPrefix) + ")"
	if utf8.RuneCountInString(p) > IndexedPrefix {
		cond := key + " = " + b.Arg(indexedPrefix(p)) + " AND " + col + " >= " + b.Arg(p)
		if next, ok := prefixEnd(p); ok {
			cond += " AND " + col + " < " + b.Arg(next)
		}
		return "(" + cond + ")"
	}
	lo := key + " >= " + b.Arg(p)
	if next, ok := prefixEnd(p); ok {
		return "(" + lo + " AND " + key + " < " + b.Arg(next) + ")"
	}
	return lo
}

// HasSuffix compares the last characters.
func (Postgres) HasSuffix(b *Builder, col, p string) string {
	return "right(" + col + ", " + b.Arg(utf8.RuneCountInString(p)) + ") = " + b.Arg(p)
}

// SubstringSource looks p up in the trigram index with LIKE, whose
// wildcards in p are escaped. pg_trgm needs three characters to find
// trigrams in.
func (Postgres) SubstringSource(b *Builder, alias, p string) (string, string, bool) {
	if utf8.RuneCountInString(p) < 3 {
		return "", "", false
	}
	pattern := "%" + likeEscaper.Replace(p) + "%"
	return "attribute_values " + alias, alias + ".fts AND " + alias + ".val LIKE " + b.Arg(pattern), true
}

var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// indexedPrefix returns the first IndexedPrefix characters of s.
func indexedPrefix(s string) string {
	n := 0
	for i := range s {
		if n == IndexedPrefix {
			return s[:i]
		}
		n++
	}
	return s
}
