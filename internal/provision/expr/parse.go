package expr

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Bounds on what Parse accepts. Expressions come from administrators and
// from imported Entra configurations, so the parser refuses oversized or
// deeply nested input up front instead of spending memory and stack on it.
const (
	// MaxLength is the longest expression, in characters, that Parse
	// accepts. It is Entra's own limit, so anything Entra accepts fits.
	MaxLength = 10000

	// MaxDepth is the deepest nesting of function calls Parse accepts. Real
	// expressions nest a handful of calls; the parser never recurses deeper
	// than this, whatever the input.
	MaxDepth = 32
)

// Error is a problem with an expression's text: a syntax error from Parse
// or a validation error from Check. Msg is one sentence naming what is wrong
// and, for validation errors, the function and argument.
type Error struct {
	Pos int    // 0-based byte offset in the expression where the problem is
	Msg string // what is wrong, written for the administrator
}

// Error formats the problem with its position, for logs and API responses.
func (e *Error) Error() string {
	return fmt.Sprintf("expression error at position %d: %s", e.Pos, e.Msg)
}

// errorf returns an *Error at pos.
func errorf(pos int, format string, args ...any) *Error {
	return &Error{Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

// Expression is a parsed expression. It is immutable and safe for
// concurrent use.
type Expression struct {
	root node
}

// node is an element of the syntax tree.
type node interface {
	pos() int
}

type (
	// attrRef is [path].
	attrRef struct {
		at   int
		path string
	}
	// strLit is a "string constant".
	strLit struct {
		at int
		s  string
	}
	// intLit is a decimal or &H hexadecimal integer.
	intLit struct {
		at  int
		n   int64
		hex bool
	}
	// nameLit is a bare named constant: vbTextCompare or vbBinaryCompare.
	nameLit struct {
		at   int
		name string
	}
	// missing is an argument left empty, as in Replace([x], "a", , , "b", , ).
	missing struct {
		at int
	}
	// call is Name(args…).
	call struct {
		at   int
		name string
		args []node
		fn   *function // nil for a name Ferry does not know

		// Prepared once at parse time so that evaluation does not redo it.
		re       *regexp.Regexp    // Replace's constant regexPattern, when it compiles
		replacer *strings.Replacer // NormalizeDiacritics' table
	}
	// compare is left op right, with op one of = <> < <= > >=.
	compare struct {
		at          int
		op          string
		left, right node
	}
)

func (n *attrRef) pos() int { return n.at }
func (n *strLit) pos() int  { return n.at }
func (n *intLit) pos() int  { return n.at }
func (n *nameLit) pos() int { return n.at }
func (n *missing) pos() int { return n.at }
func (n *call) pos() int    { return n.at }
func (n *compare) pos() int { return n.at }

// isNamedConstant reports whether name is one of the bare words the language
// knows: the compare types of InStr.
func isNamedConstant(name string) bool {
	return name == "vbTextCompare" || name == "vbBinaryCompare"
}

// Parse parses an expression in Entra's syntax. A whole expression may be a
// function call, an [attribute] reference (what a Direct mapping is), a
// "string" constant or a number; a comparison (a = b) is accepted too and
// gives True or False.
//
// Syntax errors are *Error values naming the 0-based byte position and what
// was expected there. Parse checks syntax only: unknown functions, wrong
// argument counts and unknown attributes are Check's to report, so that the
// text an administrator typed can be parsed and shown back before it is
// valid.
func Parse(src string) (*Expression, error) {
	if utf8.RuneCountInString(src) > MaxLength {
		at := 0
		for n := 0; n < MaxLength; n++ {
			_, size := utf8.DecodeRuneInString(src[at:])
			at += size
		}
		return nil, errorf(at, "the expression is longer than %d characters, the most Entra and Ferry accept", MaxLength)
	}
	p := &parser{src: src}
	p.space()
	if p.eof() {
		return nil, errorf(p.i, "expected an expression, found end of input")
	}
	root, err := p.expr()
	if err != nil {
		return nil, err
	}
	p.space()
	if !p.eof() {
		return nil, p.unexpected("expected end of expression")
	}
	prepare(root)
	return &Expression{root: root}, nil
}

type parser struct {
	src   string
	i     int
	depth int // function calls currently open
}

func (p *parser) eof() bool { return p.i >= len(p.src) }

// space skips white space, including the non-breaking spaces that copying
// an expression from a web page brings along.
func (p *parser) space() {
	for p.i < len(p.src) {
		r, size := utf8.DecodeRuneInString(p.src[p.i:])
		if !unicode.IsSpace(r) {
			return
		}
		p.i += size
	}
}

// found describes the input at the current position for an error message.
func (p *parser) found() string {
	if p.eof() {
		return "end of input"
	}
	if w := p.word(); w != "" {
		return strconv.Quote(w)
	}
	r, _ := utf8.DecodeRuneInString(p.src[p.i:])
	return strconv.Quote(string(r))
}

// word returns the identifier at the current position, or "".
func (p *parser) word() string {
	j := p.i
	for j < len(p.src) && isIdentByte(p.src[j], j > p.i) {
		j++
	}
	return p.src[p.i:j]
}

func isIdentByte(c byte, notFirst bool) bool {
	return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || notFirst && '0' <= c && c <= '9'
}

// unexpected reports the input at the current position as not what was
// expected, with a hint for the mistakes people coming from other languages
// make.
func (p *parser) unexpected(expected string) error {
	switch w := p.word(); {
	case strings.EqualFold(w, "and") || strings.EqualFold(w, "or"):
		return errorf(p.i, "found %q: conditions cannot be combined with AND or OR; nest IIF calls instead", w)
	case strings.HasPrefix(p.src[p.i:], "=="):
		return errorf(p.i, `found "==": compare with "="`)
	case strings.HasPrefix(p.src[p.i:], "!="):
		return errorf(p.i, `found "!=": compare with "<>"`)
	}
	return errorf(p.i, "%s, found %s", expected, p.found())
}

// expr parses an operand, optionally compared with another.
func (p *parser) expr() (node, error) {
	left, err := p.operand()
	if err != nil {
		return nil, err
	}
	p.space()
	at := p.i
	op := p.compareOp()
	if op == "" {
		return left, nil
	}
	p.space()
	right, err := p.operand()
	if err != nil {
		return nil, err
	}
	p.space()
	if p.compareOp() != "" {
		return nil, errorf(at, "only one comparison is allowed in a condition; nest IIF calls instead")
	}
	return &compare{at: at, op: op, left: left, right: right}, nil
}

// compareOp consumes and returns a comparison operator, or returns "".
func (p *parser) compareOp() string {
	rest := p.src[p.i:]
	for _, op := range [...]string{"<>", "<=", ">=", "=", "<", ">"} {
		if strings.HasPrefix(rest, op) && !strings.HasPrefix(rest, "==") {
			p.i += len(op)
			return op
		}
	}
	return ""
}

// operand parses a function call, attribute reference, string, number or
// named constant.
func (p *parser) operand() (node, error) {
	if p.eof() {
		return nil, p.unexpected(`expected a function call, an [attribute], a "string" or a number`)
	}
	at := p.i
	switch c := p.src[p.i]; {
	case c == '[':
		return p.attribute()
	case c == '"':
		s, err := p.str()
		if err != nil {
			return nil, err
		}
		return &strLit{at: at, s: s}, nil
	case c == '-' || '0' <= c && c <= '9':
		return p.number()
	case c == '&':
		return p.hex()
	case isIdentByte(c, false):
		name := p.word()
		p.i += len(name)
		p.space()
		if p.eof() || p.src[p.i] != '(' {
			if isNamedConstant(name) {
				return &nameLit{at: at, name: name}, nil
			}
			return nil, p.unexpected(fmt.Sprintf("expected \"(\" after the function name %q", name))
		}
		return p.call(at, name)
	}
	return nil, p.unexpected(`expected a function call, an [attribute], a "string" or a number`)
}

// call parses the parenthesized argument list of the function name, with
// the current position at "(".
func (p *parser) call(at int, name string) (node, error) {
	if p.depth >= MaxDepth {
		return nil, errorf(at, "function calls are nested more than %d deep", MaxDepth)
	}
	p.depth++
	defer func() { p.depth-- }()
	p.i++ // (
	c := &call{at: at, name: name, fn: lookup(name)}
	p.space()
	if !p.eof() && p.src[p.i] == ')' {
		p.i++
		return c, nil
	}
	for {
		p.space()
		if !p.eof() && (p.src[p.i] == ',' || p.src[p.i] == ')') {
			c.args = append(c.args, &missing{at: p.i})
		} else {
			arg, err := p.expr()
			if err != nil {
				return nil, err
			}
			c.args = append(c.args, arg)
		}
		p.space()
		if p.eof() {
			return nil, p.unexpected(fmt.Sprintf(`expected "," or ")" in the arguments of %s`, name))
		}
		switch p.src[p.i] {
		case ',':
			p.i++
		case ')':
			p.i++
			return c, nil
		default:
			return nil, p.unexpected(fmt.Sprintf(`expected "," or ")" after argument %d of %s`, len(c.args), name))
		}
	}
}

// attribute parses [path]. Brackets nest inside the path for SCIM value
// filters (emails[type eq "work"].value), and a string inside a filter may
// hold any character, so both are tracked to find the closing bracket.
func (p *parser) attribute() (node, error) {
	at := p.i
	depth := 0
	for i := p.i; i < len(p.src); i++ {
		switch p.src[i] {
		case '"':
			for i++; i < len(p.src) && p.src[i] != '"'; i++ {
				if p.src[i] == '\\' {
					i++
				}
			}
		case '[':
			depth++
		case ']':
			depth--
			if depth == 0 {
				path := strings.TrimFunc(p.src[at+1:i], unicode.IsSpace)
				if path == "" {
					return nil, errorf(at, `empty attribute reference: expected an attribute name between "[" and "]"`)
				}
				p.i = i + 1
				return &attrRef{at: at, path: path}, nil
			}
		}
	}
	return nil, errorf(at, `unterminated attribute reference: expected "]"`)
}

// str parses a string constant. A backslash escapes a quotation mark or a
// backslash; before any other character it is kept as written, so a regular
// expression such as "\d+" pasted without doubling its backslash still means
// what it says.
func (p *parser) str() (string, error) {
	at := p.i
	var b strings.Builder
	for i := p.i + 1; i < len(p.src); i++ {
		switch c := p.src[i]; c {
		case '"':
			p.i = i + 1
			return b.String(), nil
		case '\\':
			if i+1 < len(p.src) && (p.src[i+1] == '"' || p.src[i+1] == '\\') {
				i++
				b.WriteByte(p.src[i])
				continue
			}
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return "", errorf(at, "unterminated string constant: expected a closing quotation mark")
}

// number parses a decimal integer with an optional minus sign.
func (p *parser) number() (node, error) {
	at := p.i
	j := p.i
	if p.src[j] == '-' {
		j++
	}
	start := j
	for j < len(p.src) && '0' <= p.src[j] && p.src[j] <= '9' {
		j++
	}
	if j == start {
		p.i = j
		return nil, p.unexpected(`expected a digit after "-"`)
	}
	if j < len(p.src) && (p.src[j] == '.' || p.src[j] == 'e' || p.src[j] == 'E') {
		return nil, errorf(at, "only whole numbers are supported")
	}
	n, err := strconv.ParseInt(p.src[at:j], 10, 64)
	if err != nil {
		return nil, errorf(at, "the number %s is out of range", p.src[at:j])
	}
	p.i = j
	return &intLit{at: at, n: n}, nil
}

// hex parses a VBA hexadecimal literal, &HF7. Up to 16 digits are accepted
// and read as the bits of a 64-bit integer, as VBA reads &HFFFF as -1 in
// its own width.
func (p *parser) hex() (node, error) {
	at := p.i
	if !strings.HasPrefix(p.src[p.i:], "&H") && !strings.HasPrefix(p.src[p.i:], "&h") {
		return nil, p.unexpected(`expected a hexadecimal number such as &HF7`)
	}
	j := p.i + 2
	for j < len(p.src) && isHexDigit(p.src[j]) {
		j++
	}
	digits := p.src[p.i+2 : j]
	if digits == "" {
		p.i += 2
		return nil, p.unexpected(`expected hexadecimal digits after "&H"`)
	}
	u, err := strconv.ParseUint(digits, 16, 64)
	if err != nil {
		return nil, errorf(at, "the number &H%s is out of range", digits)
	}
	p.i = j
	return &intLit{at: at, n: int64(u), hex: true}, nil
}

func isHexDigit(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// prepare does, once, the work evaluation would otherwise redo on every
// call: compiling constant regular expressions and building lookup tables.
// A pattern that does not compile is left for Check and Eval to report.
func prepare(root node) {
	var replacer *strings.Replacer
	walk(root, func(n node) {
		c, ok := n.(*call)
		if !ok || c.fn == nil {
			return
		}
		switch c.name {
		case "Replace":
			if len(c.args) > 2 {
				if s, ok := c.args[2].(*strLit); ok {
					c.re, _ = regexp.Compile(s.s)
				}
			}
		case "NormalizeDiacritics":
			if replacer == nil {
				replacer = diacriticsReplacer()
			}
			c.replacer = replacer
		}
	})
}

// walk calls f for n and every node below it, in source order.
func walk(n node, f func(node)) {
	f(n)
	switch n := n.(type) {
	case *call:
		for _, a := range n.args {
			walk(a, f)
		}
	case *compare:
		walk(n.left, f)
		walk(n.right, f)
	}
}

// String returns the expression in canonical form: one space after each
// comma and around comparison operators. It parses back to the same
// expression.
func (e *Expression) String() string {
	var b strings.Builder
	write(&b, e.root)
	return b.String()
}

func write(b *strings.Builder, n node) {
	switch n := n.(type) {
	case *attrRef:
		b.WriteString("[" + n.path + "]")
	case *strLit:
		b.WriteString(quote(n.s))
	case *intLit:
		if n.hex {
			b.WriteString("&H" + strings.ToUpper(strconv.FormatUint(uint64(n.n), 16)))
		} else {
			b.WriteString(strconv.FormatInt(n.n, 10))
		}
	case *nameLit:
		b.WriteString(n.name)
	case *missing:
	case *call:
		b.WriteString(n.name + "(")
		for i, a := range n.args {
			if i > 0 {
				b.WriteString(", ")
			}
			write(b, a)
		}
		b.WriteString(")")
	case *compare:
		write(b, n.left)
		b.WriteString(" " + n.op + " ")
		write(b, n.right)
	}
}

// quote writes s as a string constant in the expression syntax.
func quote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return `"` + r.Replace(s) + `"`
}

// Attributes returns the attribute paths the expression references, each
// once, in the order they first appear. The engine uses it to know which
// source attributes a mapping depends on.
func (e *Expression) Attributes() []string {
	var paths []string
	seen := map[string]bool{}
	walk(e.root, func(n node) {
		if a, ok := n.(*attrRef); ok && !seen[a.path] {
			seen[a.path] = true
			paths = append(paths, a.path)
		}
	})
	return paths
}

// Attribute reports whether the whole expression is one attribute reference,
// as a Direct mapping is, and returns its path.
func (e *Expression) Attribute() (path string, ok bool) {
	a, ok := e.root.(*attrRef)
	if !ok {
		return "", false
	}
	return a.path, true
}
