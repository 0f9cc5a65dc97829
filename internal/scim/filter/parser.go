package filter

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/ferryid/ferry/internal/scim"
)

// parser is a recursive-descent parser over a lazily lexed token stream.
// Recursion happens only where the input nests (parentheses, not, brackets),
// and each such step is counted against MaxDepth before it is taken; chains
// of "and" and "or" are built in loops.
type parser struct {
	src   string
	pos   int   // where the lexer resumes
	tok   token // the current token, not yet consumed
	depth int
	// noun and scimType make the one parser serve both grammars: filters
	// fail with invalidFilter, PATCH and attribute paths with invalidPath.
	noun     string
	scimType string
}

func newFilterParser(s string) parser {
	return parser{src: s, noun: "filter", scimType: scim.InvalidFilter}
}

func newPathParser(s string) parser {
	return parser{src: s, noun: "path", scimType: scim.InvalidPath}
}

func (p *parser) errorf(pos int, format string, args ...any) error {
	return scim.BadRequest(p.scimType, "invalid %s at position %d: %s", p.noun, pos, fmt.Sprintf(format, args...))
}

// found describes the current token for an error message.
func (p *parser) found() string {
	switch p.tok.kind {
	case tokEOF:
		return "end of input"
	case tokString:
		return "the string " + shorten(p.tok.text)
	}
	return strconv.Quote(shorten(p.tok.text))
}

// shorten cuts long tokens in error messages: the client already has the
// input, it only needs enough to recognise the spot.
func shorten(s string) string {
	const limit = 40
	if len(s) <= limit {
		return s
	}
	end := limit
	for end > 0 && !utf8.RuneStart(s[end]) {
		end--
	}
	return s[:end] + "..."
}

// start checks the input as a whole and reads the first token.
func (p *parser) start() error {
	if len(p.src) > MaxLength {
		return scim.BadRequest(p.scimType, "invalid %s: longer than %d bytes", p.noun, MaxLength)
	}
	if !utf8.ValidString(p.src) {
		i := 0
		for i < len(p.src) {
			r, size := utf8.DecodeRuneInString(p.src[i:])
			if r == utf8.RuneError && size == 1 {
				break
			}
			i += size
		}
		return p.errorf(i, "not valid UTF-8")
	}
	if err := p.advance(); err != nil {
		return err
	}
	if p.tok.kind == tokEOF {
		return scim.BadRequest(p.scimType, "invalid %s: the %s is empty", p.noun, p.noun)
	}
	return nil
}

// enter accounts for one more level of nesting at pos.
func (p *parser) enter(pos int) error {
	if p.depth == MaxDepth {
		return p.errorf(pos, "nested more than %d levels deep (parentheses, \"not\" and brackets count together)", MaxDepth)
	}
	p.depth++
	return nil
}

// Parse parses a filter in the RFC 7644 §3.4.2.2 grammar, as sent in the
// filter query parameter or the filter member of a SearchRequest.
//
// Keywords (operators, and, or, not, true, false, null) and attribute names
// are case-insensitive; names keep the case they were written in. Beyond
// the RFC's ABNF, Parse accepts what real clients send: "not(x)" without a
// space, any run of spaces, tabs and line breaks between tokens, attribute
// names starting with "$" ("$ref"), Entra's emails[type eq "work"].value eq
// "x" (returned as the equivalent value path, see ValuePath), and an
// unquoted comparison value such as externalId eq jyoung, taken as a string
// when it is not a keyword, number, true, false or null.
//
// Errors are *scim.Error values with status 400 and scimType invalidFilter.
// Their detail names the position of the problem as a 0-based byte offset
// into s ("invalid filter at position 9: ...") and what was expected there.
// Input longer than MaxLength or nested deeper than MaxDepth is rejected.
func Parse(s string) (Expr, error) {
	p := newFilterParser(s)
	if err := p.start(); err != nil {
		return nil, err
	}
	e, err := p.parseOr(false)
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tokEOF {
		return nil, p.errorf(p.tok.pos, "expected \"and\", \"or\" or end of input, found %s", p.found())
	}
	return e, nil
}

// ParsePath parses a PATCH operation path (RFC 7644 §3.5.2): attr,
// attr.sub, attr[filter], attr[filter].sub, each optionally prefixed with a
// schema URN, or a bare schema URN (see Path for how that comes out).
//
// Errors are *scim.Error values with status 400 and scimType invalidPath,
// positions in them 0-based byte offsets as for Parse, and the same bounds
// apply. The filter inside brackets follows Parse's rules, relative to the
// element: its paths are plain sub-attribute names.
func ParsePath(s string) (Path, error) {
	p := newPathParser(s)
	if err := p.start(); err != nil {
		return Path{}, err
	}
	if p.tok.kind != tokWord {
		return Path{}, p.errorf(p.tok.pos, "expected an attribute path, found %s", p.found())
	}
	attr, err := p.attrPath(p.tok, false)
	if err != nil {
		return Path{}, err
	}
	if err := p.advance(); err != nil {
		return Path{}, err
	}
	path := Path{Attr: attr}
	if p.tok.kind == tokLBracket {
		if attr.Sub != "" {
			return Path{}, p.errorf(p.tok.pos, "a value filter cannot follow a sub-attribute; write %s[...].%s", attr.Name, attr.Sub)
		}
		path.Filter, path.Sub, err = p.valueFilter()
		if err != nil {
			return Path{}, err
		}
		if p.tok.kind != tokEOF {
			return Path{}, p.errorf(p.tok.pos, "expected \".\" and a sub-attribute or end of input, found %s", p.found())
		}
		return path, nil
	}
	if p.tok.kind != tokEOF {
		return Path{}, p.errorf(p.tok.pos, "expected \"[\" or end of input, found %s", p.found())
	}
	return path, nil
}

// ParseAttrPath parses one attribute path without a filter, as used in the
// attributes, excludedAttributes and sortBy parameters: attr, attr.sub, or
// either with a schema URN prefix; a bare schema URN comes out as for
// ParsePath. Errors are *scim.Error values with status 400 and scimType
// invalidPath.
func ParseAttrPath(s string) (AttrPath, error) {
	p := newPathParser(s)
	if err := p.start(); err != nil {
		return AttrPath{}, err
	}
	if p.tok.kind != tokWord {
		return AttrPath{}, p.errorf(p.tok.pos, "expected an attribute path, found %s", p.found())
	}
	attr, err := p.attrPath(p.tok, false)
	if err != nil {
		return AttrPath{}, err
	}
	if err := p.advance(); err != nil {
		return AttrPath{}, err
	}
	if p.tok.kind != tokEOF {
		return AttrPath{}, p.errorf(p.tok.pos, "expected end of input after the attribute path, found %s", p.found())
	}
	return attr, nil
}

// isWord reports whether the current token is the keyword kw, ignoring case.
func (p *parser) isWord(kw string) bool {
	return p.tok.kind == tokWord && strings.EqualFold(p.tok.text, kw)
}

// parseOr parses "x or y or ...", left-associative, in a loop.
func (p *parser) parseOr(inBracket bool) (Expr, error) {
	left, err := p.parseAnd(inBracket)
	if err != nil {
		return nil, err
	}
	for p.isWord("or") {
		if err := p.advance(); err != nil {
			return nil, err
		}
		right, err := p.parseAnd(inBracket)
		if err != nil {
			return nil, err
		}
		left = &Logical{Op: Or, Left: left, Right: right}
	}
	return left, nil
}

// parseAnd parses "x and y and ...", left-associative, in a loop.
func (p *parser) parseAnd(inBracket bool) (Expr, error) {
	left, err := p.parseUnary(inBracket)
	if err != nil {
		return nil, err
	}
	for p.isWord("and") {
		if err := p.advance(); err != nil {
			return nil, err
		}
		right, err := p.parseUnary(inBracket)
		if err != nil {
			return nil, err
		}
		left = &Logical{Op: And, Left: left, Right: right}
	}
	return left, nil
}

// parseUnary parses a parenthesised filter, "not (filter)", an attribute
// expression or a value path.
func (p *parser) parseUnary(inBracket bool) (Expr, error) {
	switch p.tok.kind {
	case tokLParen:
		return p.parseGroup(inBracket, p.tok.pos)
	case tokWord:
		word := p.tok
		if err := p.advance(); err != nil {
			return nil, err
		}
		if strings.EqualFold(word.text, "not") {
			if p.tok.kind == tokLParen {
				// The group's parenthesis is the not's own, so the
				// pair counts as one level of nesting.
				x, err := p.parseGroup(inBracket, word.pos)
				if err != nil {
					return nil, err
				}
				return &Not{X: x}, nil
			}
			// The ABNF allows an attribute called "not"; only an
			// operator or a bracket after it says that is what was meant.
			if p.tok.kind != tokLBracket && (p.tok.kind != tokWord || !isCompareOp(p.tok.text)) {
				return nil, p.errorf(p.tok.pos, "expected \"(\" after \"not\", found %s", p.found())
			}
		}
		return p.parseAttrExp(word, inBracket)
	}
	return nil, p.errorf(p.tok.pos, "expected an attribute path, \"not\" or \"(\", found %s", p.found())
}

// parseGroup parses "(filter)" with the current token on "("; pos is where
// the group starts, at its "not" if it has one.
func (p *parser) parseGroup(inBracket bool, pos int) (Expr, error) {
	if err := p.enter(pos); err != nil {
		return nil, err
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	x, err := p.parseOr(inBracket)
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tokRParen {
		return nil, p.errorf(p.tok.pos, "expected \"and\", \"or\" or \")\", found %s", p.found())
	}
	p.depth--
	if err := p.advance(); err != nil {
		return nil, err
	}
	return x, nil
}

// parseAttrExp parses what follows the attribute path word: a comparison,
// "pr", or a value filter in brackets. The current token is the one after
// the path.
func (p *parser) parseAttrExp(word token, inBracket bool) (Expr, error) {
	path, err := p.attrPath(word, inBracket)
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tokLBracket {
		return p.comparison(path)
	}
	if inBracket {
		return nil, p.errorf(p.tok.pos, "value filters cannot be nested")
	}
	if path.Sub != "" {
		return nil, p.errorf(p.tok.pos, "a value filter cannot follow a sub-attribute; write %s[...].%s", path.Name, path.Sub)
	}
	filter, sub, err := p.valueFilter()
	if err != nil {
		return nil, err
	}
	if sub != "" {
		// Entra's attr[filter].sub op value means "some element passes
		// the filter and has sub op value": one value path.
		c, err := p.comparison(AttrPath{Name: sub})
		if err != nil {
			return nil, err
		}
		filter = &Logical{Op: And, Left: filter, Right: c}
	}
	return &ValuePath{Attr: path, Filter: filter}, nil
}

// valueFilter parses "[filter]" and an optional ".sub" written directly
// after the bracket, with the current token on "[".
func (p *parser) valueFilter() (Expr, string, error) {
	if err := p.enter(p.tok.pos); err != nil {
		return nil, "", err
	}
	if err := p.advance(); err != nil {
		return nil, "", err
	}
	filter, err := p.parseOr(true)
	if err != nil {
		return nil, "", err
	}
	if p.tok.kind != tokRBracket {
		return nil, "", p.errorf(p.tok.pos, "expected \"and\", \"or\" or \"]\", found %s", p.found())
	}
	p.depth--
	closing := p.tok.end
	if err := p.advance(); err != nil {
		return nil, "", err
	}
	if p.tok.kind != tokWord || p.tok.pos != closing || p.tok.text[0] != '.' {
		return filter, "", nil
	}
	sub := p.tok.text[1:]
	if err := p.checkName(sub, p.tok.pos+1); err != nil {
		return nil, "", err
	}
	if err := p.advance(); err != nil {
		return nil, "", err
	}
	return filter, sub, nil
}

// comparison parses "op value" or "pr" after path.
func (p *parser) comparison(path AttrPath) (Expr, error) {
	if p.tok.kind != tokWord || !isCompareOp(p.tok.text) {
		return nil, p.errorf(p.tok.pos, "expected a comparison operator (eq, ne, co, sw, ew, pr, gt, ge, lt, le), found %s", p.found())
	}
	op := Op(strings.ToLower(p.tok.text))
	if err := p.advance(); err != nil {
		return nil, err
	}
	if op == Pr {
		return &Compare{Path: path, Op: Pr}, nil
	}
	v, err := p.value()
	if err != nil {
		return nil, err
	}
	return &Compare{Path: path, Op: op, Value: v}, nil
}

// value parses a comparison value and consumes it.
func (p *parser) value() (Value, error) {
	var v Value
	switch p.tok.kind {
	case tokString:
		v = Value{Kind: StringValue, Str: p.tok.str}
	case tokWord:
		w := p.tok.text
		switch {
		case strings.EqualFold(w, "true"):
			v = Value{Kind: BoolValue, Bool: true}
		case strings.EqualFold(w, "false"):
			v = Value{Kind: BoolValue}
		case strings.EqualFold(w, "null"):
			v = Value{Kind: NullValue}
		case isNumber(w):
			v = Value{Kind: NumberValue, Str: w}
		case isKeyword(w):
			return Value{}, p.errorf(p.tok.pos, "expected a value (string, number, true, false or null), found %s", p.found())
		default:
			// Entra's older documentation sends externalId eq jyoung;
			// an unquoted word that cannot be anything else is a string.
			v = Value{Kind: StringValue, Str: w}
		}
	default:
		return Value{}, p.errorf(p.tok.pos, "expected a value (string, number, true, false or null), found %s", p.found())
	}
	return v, p.advance()
}

func isCompareOp(w string) bool {
	if len(w) != 2 {
		return false
	}
	switch Op(strings.ToLower(w)) {
	case Eq, Ne, Co, Sw, Ew, Pr, Gt, Ge, Lt, Le:
		return true
	}
	return false
}

func isKeyword(w string) bool {
	return isCompareOp(w) || strings.EqualFold(w, "and") || strings.EqualFold(w, "or") || strings.EqualFold(w, "not")
}

// attrPath splits a word into an attribute path and checks its syntax
// (RFC 7644 attrPath = [URI ":"] ATTRNAME *1subAttr). A path starting with
// "urn:" is split at its last colon, since the URN itself holds colons and
// dots ("...:enterprise:2.0:User:manager.value"); the name and the
// sub-attribute are split at the first dot after that colon. Inside a value
// filter paths are relative to the element, so neither a URN nor a
// sub-attribute is allowed there.
func (p *parser) attrPath(word token, inBracket bool) (AttrPath, error) {
	text, base := word.text, word.pos
	var path AttrPath
	if len(text) >= 4 && strings.EqualFold(text[:4], "urn:") {
		if inBracket {
			return AttrPath{}, p.errorf(base, "paths inside a value filter are relative to the element and cannot name a schema URN")
		}
		colon := strings.LastIndexByte(text, ':')
		if err := p.checkURN(text[:colon], base); err != nil {
			return AttrPath{}, err
		}
		path.URN = text[:colon]
		text, base = text[colon+1:], base+colon+1
	}
	name, sub, hasSub := strings.Cut(text, ".")
	if err := p.checkName(name, base); err != nil {
		return AttrPath{}, err
	}
	path.Name = name
	if hasSub {
		if inBracket {
			return AttrPath{}, p.errorf(base+len(name), "paths inside a value filter are relative to the element and cannot have a sub-attribute")
		}
		if err := p.checkName(sub, base+len(name)+1); err != nil {
			return AttrPath{}, err
		}
		path.Sub = sub
	}
	return path, nil
}

// checkName checks an attribute name at pos: ATTRNAME = ALPHA *(nameChar),
// nameChar = "-" / "_" / DIGIT / ALPHA, with "$" also allowed (RFC 7644
// §3.5.2 lists it, and "$ref" starts with it).
func (p *parser) checkName(name string, pos int) error {
	i := 0
	if i < len(name) && name[i] == '$' {
		i++
	}
	if i == len(name) {
		return p.errorf(pos+i, "expected an attribute name, found %s", p.describeAt(pos+i))
	}
	if !isAlpha(name[i]) {
		return p.errorf(pos+i, "an attribute name must start with a letter, found %s", p.describeAt(pos+i))
	}
	for i++; i < len(name); i++ {
		c := name[i]
		if isAlpha(c) || isDigit(c) || c == '-' || c == '_' || c == '$' {
			continue
		}
		switch c {
		case '.':
			return p.errorf(pos+i, "an attribute path has at most one sub-attribute, found a second \".\"")
		case ':':
			return p.errorf(pos+i, "unexpected \":\" in attribute name %q (a schema URN must start with \"urn:\")", shorten(name))
		}
		return p.errorf(pos+i, "unexpected %s in attribute name %q", p.describeAt(pos+i), shorten(name))
	}
	return nil
}

// checkURN checks the schema URN prefix of a path: "urn:" and non-empty
// colon-separated segments of URI characters.
func (p *parser) checkURN(urn string, pos int) error {
	seg := 0 // length of the current segment
	for i := 4; i < len(urn); i++ {
		c := urn[i]
		switch {
		case c == ':':
			if seg == 0 {
				return p.errorf(pos+i, "empty segment in schema URN %q", shorten(urn))
			}
			seg = 0
			continue
		case isAlpha(c) || isDigit(c) || strings.IndexByte("-._~!$&'*+,;=@%/?", c) >= 0:
			seg++
			continue
		}
		return p.errorf(pos+i, "unexpected %s in schema URN %q", p.describeAt(pos+i), shorten(urn))
	}
	if seg == 0 {
		return p.errorf(pos+len(urn), "empty segment in schema URN %q", shorten(urn))
	}
	return nil
}

// describeAt describes the character at pos for an error message.
func (p *parser) describeAt(pos int) string {
	if pos >= len(p.src) {
		return "end of input"
	}
	r, _ := utf8.DecodeRuneInString(p.src[pos:])
	return strconv.QuoteRune(r)
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
