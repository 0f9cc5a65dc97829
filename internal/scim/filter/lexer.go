package filter

import (
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Bounds on what the parsers accept. Filters arrive from the network, so the
// parsers refuse oversized or deeply nested input up front instead of
// spending memory and stack on it.
const (
	// MaxLength is the longest filter or path, in bytes, that Parse,
	// ParsePath and ParseAttrPath accept. Real filters are far shorter; the
	// limit only stops abuse.
	MaxLength = 8192

	// MaxDepth is the deepest nesting of parentheses, "not (...)" groups and
	// value-filter brackets, counted together, that the parsers accept. A
	// "not (...)" counts as one level. The parsers never recurse deeper than
	// this, whatever the input.
	MaxDepth = 32
)

type tokenKind uint8

const (
	tokEOF tokenKind = iota
	tokWord
	tokString
	tokLParen
	tokRParen
	tokLBracket
	tokRBracket
)

// token is one lexical unit. Words cover attribute paths, keywords, numbers,
// true/false/null and the bare words some clients send unquoted; the parser
// tells them apart by position, because the lexer alone cannot know whether
// "pr" is an operator or an attribute called pr.
type token struct {
	kind tokenKind
	pos  int    // byte offset of the token's first byte
	end  int    // byte offset just past the token
	text string // the token as written
	str  string // the decoded value of a string token
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r'
}

// isWordEnd reports whether c ends a word. Anything else, '.', ':' and '@'
// included, belongs to the word, so that URN paths and unquoted e-mail
// addresses come out as one token.
func isWordEnd(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r', '(', ')', '[', ']', '"':
		return true
	}
	return false
}

func isControl(c byte) bool { return c < 0x20 || c == 0x7f }

// advance reads the next token into p.tok.
func (p *parser) advance() error {
	s := p.src
	i := p.pos
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	if i == len(s) {
		p.pos = i
		p.tok = token{kind: tokEOF, pos: i, end: i}
		return nil
	}
	var kind tokenKind
	switch s[i] {
	case '(':
		kind = tokLParen
	case ')':
		kind = tokRParen
	case '[':
		kind = tokLBracket
	case ']':
		kind = tokRBracket
	case '"':
		return p.lexString(i)
	default:
		j := i
		for j < len(s) && !isWordEnd(s[j]) {
			if isControl(s[j]) {
				return p.errorf(j, "unexpected control character %q", s[j:j+1])
			}
			j++
		}
		p.pos = j
		p.tok = token{kind: tokWord, pos: i, end: j, text: s[i:j]}
		return nil
	}
	p.pos = i + 1
	p.tok = token{kind: kind, pos: i, end: i + 1, text: s[i : i+1]}
	return nil
}

// lexString reads the JSON string starting at the quote at start. Strings
// without escapes, by far the common case, are sliced from the input rather
// than copied.
func (p *parser) lexString(start int) error {
	s := p.src
	for i := start + 1; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			p.pos = i + 1
			p.tok = token{kind: tokString, pos: start, end: i + 1, text: s[start : i+1], str: s[start+1 : i]}
			return nil
		case c == '\\':
			return p.lexEscapedString(start, i)
		case c < 0x20:
			return p.errorf(i, "control character %q in a string must be escaped", s[i:i+1])
		}
	}
	return p.errorf(start, "unterminated string")
}

// lexEscapedString finishes a string whose first escape is at i.
func (p *parser) lexEscapedString(start, i int) error {
	s := p.src
	var b strings.Builder
	b.Grow(i - start)
	b.WriteString(s[start+1 : i])
	for i < len(s) {
		c := s[i]
		switch {
		case c == '"':
			p.pos = i + 1
			p.tok = token{kind: tokString, pos: start, end: i + 1, text: s[start : i+1], str: b.String()}
			return nil
		case c < 0x20:
			return p.errorf(i, "control character %q in a string must be escaped", s[i:i+1])
		case c != '\\':
			// The input is known to be valid UTF-8, so multi-byte
			// characters can be copied byte by byte.
			b.WriteByte(c)
			i++
			continue
		}
		if i+1 == len(s) {
			break
		}
		switch e := s[i+1]; e {
		case '"', '\\', '/':
			b.WriteByte(e)
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			r, ok := hex4(s, i+2)
			if !ok {
				return p.errorf(i, "invalid escape %s: \\u must be followed by four hexadecimal digits", escapeText(s, i, 6))
			}
			if r == 0 {
				// Stored values never hold U+0000 (resource.Normalize
				// refuses it), and PostgreSQL cannot take it as a
				// parameter.
				return p.errorf(i, "\\u0000 is not allowed in a string")
			}
			i += 6
			if utf16.IsSurrogate(r) {
				// A high surrogate followed by a low one is one
				// character; anything else is a lone surrogate, which
				// becomes U+FFFD exactly as encoding/json decodes it.
				r2, ok := rune(0), false
				if r < 0xdc00 && i+1 < len(s) && s[i] == '\\' && s[i+1] == 'u' {
					r2, ok = hex4(s, i+2)
				}
				if ok && r2 >= 0xdc00 && r2 <= 0xdfff {
					r = utf16.DecodeRune(r, r2)
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
			b.WriteRune(r)
			continue
		default:
			return p.errorf(i, "invalid escape %s in string", escapeText(s, i, 2))
		}
		i += 2
	}
	return p.errorf(start, "unterminated string")
}

// escapeText returns up to n bytes of s from i for an error message: as
// written when that is plain ASCII (\q reads better than "\\q"), quoted
// otherwise.
func escapeText(s string, i, n int) string {
	end := min(i+n, len(s))
	for end > i && end < len(s) && !utf8.RuneStart(s[end]) {
		end--
	}
	t := s[i:end]
	for j := 0; j < len(t); j++ {
		if t[j] <= ' ' || t[j] >= 0x7f || t[j] == '"' {
			return strconv.Quote(t)
		}
	}
	return t
}

func hex4(s string, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	var r rune
	for _, c := range []byte(s[i : i+4]) {
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(d)
	}
	return r, true
}

// isNumber reports whether s is a number in JSON syntax (RFC 8259 §6):
// -? (0 | [1-9][0-9]*) (.[0-9]+)? ([eE][+-]?[0-9]+)?
func isNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		i = digits(s, i)
	default:
		return false
	}
	if i < len(s) && s[i] == '.' {
		j := digits(s, i+1)
		if j == i+1 {
			return false
		}
		i = j
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		j := digits(s, i)
		if j == i {
			return false
		}
		i = j
	}
	return i == len(s)
}

func digits(s string, i int) int {
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i
}

// quoteJSON returns s as a JSON string literal, the syntax the filter
// grammar takes its strings from. Only what JSON requires is escaped, so
// the result reads like the input; invalid UTF-8 becomes U+FFFD.
func quoteJSON(s string) string {
	const hex = "0123456789abcdef"
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b.WriteByte('\\')
				b.WriteByte(c)
			case c == '\n':
				b.WriteString(`\n`)
			case c == '\r':
				b.WriteString(`\r`)
			case c == '\t':
				b.WriteString(`\t`)
			case isControl(c):
				b.WriteString(`\u00`)
				b.WriteByte(hex[c>>4])
				b.WriteByte(hex[c&0xf])
			default:
				b.WriteByte(c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteString(`\ufffd`)
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	b.WriteByte('"')
	return b.String()
}
