package sqlfilter

import "unicode/utf8"

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
