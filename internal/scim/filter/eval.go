package filter

import (
	"encoding/json"
	"errors"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ferryid/ferry/internal/scim"
	"github.com/ferryid/ferry/internal/scim/schema"
)

// Match reports whether doc, a resource as decoded by encoding/json with
// UseNumber (string, bool, json.Number, nil, []any, map[string]any; float64
// and Go integers are accepted too), satisfies e. rt supplies the attribute
// characteristics; with rt nil every attribute is unknown.
//
// Attribute names match document keys ignoring case. An unqualified name is
// resolved with rt.Resolve, so "department" finds the enterprise extension's
// attribute, which lives in the document under its schema URN; a path
// qualified with the core schema URN is a top-level attribute.
//
// Semantics, following RFC 7644 §3.4.2.2 where it speaks:
//   - A multi-valued attribute matches if any of its values does. Compared
//     without a sub-attribute, a complex value stands for its "value"
//     sub-attribute (emails co "example.com").
//   - Strings compare by the attribute's caseExact; unknown attributes are
//     compared ignoring case. gt, ge, lt and le on strings are
//     lexicographic (by byte, after case folding when not caseExact).
//   - dateTime attributes compare as instants, so offsets do not matter;
//     a value that does not parse as xsd:dateTime matches nothing.
//   - integer and decimal attributes compare numerically; booleans only
//     with eq and ne.
//   - A value of the wrong type for the attribute (active eq "true",
//     userName eq 1) matches nothing, with every operator including ne.
//   - "eq null" matches when there is no non-null value: the attribute is
//     absent, null or an empty array; "ne null" is its negation.
//   - "pr" matches a value that is not null, not "", not an empty array
//     and not an object without present members.
//   - ne matches when the attribute is absent: an absent value is not
//     equal to anything. This keeps "not (x eq v)" and "x ne v" agreeing
//     on resources without x.
//   - Unknown attributes are looked up in the document all the same and
//     compared by the JSON type found there; when absent they match only
//     ne and eq null.
//
// Match never panics on unexpected document shapes; they just don't match.
func Match(e Expr, doc map[string]any, rt *schema.ResourceType) bool {
	return eval(e, scope{doc: doc, rt: rt})
}

// MatchElement reports whether elem, one element of the multi-valued (or
// single-valued complex) attribute attr, satisfies e, the filter of a value
// path such as the type eq "work" of emails[type eq "work"]. Paths in e are
// sub-attribute names of attr; attr may be nil when unknown. The PATCH code
// uses it to select the elements a path addresses.
func MatchElement(e Expr, elem map[string]any, attr *schema.Attribute) bool {
	return eval(e, scope{doc: elem, parent: attr, element: true})
}

// scope is where paths are resolved: a resource with its resource type, or
// one element of a complex attribute with that attribute's definition.
type scope struct {
	doc     map[string]any
	rt      *schema.ResourceType
	parent  *schema.Attribute
	element bool
}

func eval(e Expr, sc scope) bool {
	// Chains of and/or parse into left-leaning trees as long as the filter
	// is, so the left spine is walked in a loop and only right operands
	// (shallow by construction) are evaluated recursively.
	for {
		switch x := e.(type) {
		case *Logical:
			if x == nil {
				return false
			}
			r := eval(x.Right, sc)
			switch x.Op {
			case And:
				if !r {
					return false
				}
			case Or:
				if r {
					return true
				}
			default:
				return false
			}
			e = x.Left
		case *Not:
			if x == nil {
				return false
			}
			return !eval(x.X, sc)
		case *Compare:
			if x == nil {
				return false
			}
			return evalCompare(x, sc)
		case *ValuePath:
			if x == nil {
				return false
			}
			return evalValuePath(x, sc)
		default:
			return false
		}
	}
}

// resolve finds the value of the attribute p.Name (p.Sub is left to the
// caller) and its definition, nil when unknown.
func (sc scope) resolve(p AttrPath) (any, *schema.Attribute) {
	if sc.element {
		var a *schema.Attribute
		if sc.parent != nil {
			a = sc.parent.SubAttribute(p.Name)
		}
		return lookup(sc.doc, p.Name), a
	}
	container := sc.doc
	var attr *schema.Attribute
	switch {
	case sc.rt != nil && sc.rt.Schema != nil:
		s, a := sc.rt.Resolve(p.URN, p.Name)
		attr = a
		switch {
		case s != nil:
			if sc.rt.IsExtension(s) {
				container = asMap(lookup(sc.doc, s.ID))
			}
		case p.URN != "":
			// "urn:...:enterprise:2.0:User pr" names a whole extension.
			if p.Sub == "" {
				if s := sc.rt.SchemaByURN(p.URN + ":" + p.Name); s != nil && sc.rt.IsExtension(s) {
					return lookup(sc.doc, s.ID), nil
				}
			}
			if !strings.EqualFold(p.URN, sc.rt.Schema.ID) {
				container = asMap(lookup(sc.doc, p.URN))
			}
		}
	case p.URN != "":
		// Without a schema there is no telling the core URN from an
		// extension's, so an extension object is used when there is one.
		if m, ok := lookup(sc.doc, p.URN).(map[string]any); ok {
			container = m
		}
	}
	return lookup(container, p.Name), attr
}

// lookup returns m[key], matching key without regard to case as SCIM
// attribute names are; the exact key is tried first since it nearly always
// hits.
func lookup(m map[string]any, key string) any {
	if v, ok := m[key]; ok {
		return v
	}
	for k, v := range m {
		if strings.EqualFold(k, key) {
			return v
		}
	}
	return nil
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func evalValuePath(vp *ValuePath, sc scope) bool {
	if vp.Filter == nil {
		return false
	}
	v, attr := sc.resolve(vp.Attr)
	inner := scope{parent: attr, element: true}
	switch t := v.(type) {
	case []any:
		for _, x := range t {
			if el, ok := x.(map[string]any); ok {
				inner.doc = el
				if eval(vp.Filter, inner) {
					return true
				}
			}
		}
	case map[string]any:
		// A single-valued complex attribute is a list of one.
		inner.doc = t
		return eval(vp.Filter, inner)
	}
	return false
}

// testMode says what a matcher tests each value for.
type testMode uint8

const (
	testPresent testMode = iota // pr
	testNonNull                 // eq null / ne null
	testCompare                 // every other comparison
)

// matcher applies one comparison to the values of an attribute. It is a
// struct rather than a closure so that matching does not allocate.
type matcher struct {
	mode  testMode
	sub   string
	attr  *schema.Attribute // definition of the compared values, nil when unknown
	op    Op
	value Value
}

func evalCompare(c *Compare, sc scope) bool {
	v, attr := sc.resolve(c.Path)
	m := matcher{sub: c.Path.Sub, attr: attr, op: c.Op, value: c.Value}
	if m.sub != "" && attr != nil {
		m.attr = attr.SubAttribute(m.sub)
	}
	switch {
	case c.Op == Pr:
		m.mode = testPresent
		return m.any(v)
	case c.Value.Kind == NullValue:
		m.mode = testNonNull
		switch c.Op {
		case Eq:
			return !m.any(v)
		case Ne:
			return m.any(v)
		}
		return false
	}
	m.mode = testCompare
	return m.any(v)
}

// any reports whether some value of v, or of its sub-attribute m.sub,
// passes m's test.
func (m *matcher) any(v any) bool {
	switch t := v.(type) {
	case []any:
		if len(t) == 0 {
			return m.test(nil)
		}
		for _, x := range t {
			if m.sub != "" {
				x = lookup(asMap(x), m.sub)
			}
			if m.test(x) {
				return true
			}
		}
		return false
	case map[string]any:
		if m.sub != "" {
			return m.test(lookup(t, m.sub))
		}
		return m.test(t)
	}
	if m.sub != "" {
		// A simple value has no sub-attributes: the sub-attribute is absent.
		return m.test(nil)
	}
	return m.test(v)
}

func (m *matcher) test(x any) bool {
	switch m.mode {
	case testPresent:
		return present(x, 2)
	case testNonNull:
		if arr, ok := x.([]any); ok {
			return len(arr) > 0
		}
		return x != nil
	}
	if t, ok := x.([]any); ok {
		// A multi-valued sub-attribute: again, any value will do.
		if len(t) == 0 {
			return compareValue(nil, m.attr, m.op, m.value)
		}
		for _, y := range t {
			if m.compare(y) {
				return true
			}
		}
		return false
	}
	return m.compare(x)
}

func (m *matcher) compare(x any) bool {
	attr := m.attr
	if t, ok := x.(map[string]any); ok {
		// RFC 7644 §3.4.2.2: a complex value compared as a whole is
		// compared by its "value" sub-attribute.
		x = lookup(t, "value")
		if attr != nil {
			attr = attr.SubAttribute("value")
		}
	}
	return compareValue(x, attr, m.op, m.value)
}

// present implements pr for one value; depth bounds the look into nested
// objects, which SCIM never nests deeper than an element of a complex
// attribute.
func present(x any, depth int) bool {
	switch t := x.(type) {
	case nil:
		return false
	case string:
		return t != ""
	case []any:
		for _, y := range t {
			if present(y, depth-1) {
				return true
			}
		}
		return false
	case map[string]any:
		if depth <= 0 {
			return len(t) > 0
		}
		for _, y := range t {
			if present(y, depth-1) {
				return true
			}
		}
		return false
	}
	return true
}

// compareValue applies op to one document value x and the filter's value.
func compareValue(x any, attr *schema.Attribute, op Op, val Value) bool {
	if x == nil {
		return op == Ne
	}
	typ, caseExact := schema.String, false
	if attr != nil {
		typ, caseExact = attr.Type, attr.CaseExact
	} else {
		switch x.(type) {
		case string:
		case bool:
			typ = schema.Boolean
		case json.Number, float64, float32, int, int64, int32:
			typ = schema.Decimal
		default:
			return false
		}
	}
	switch typ {
	case schema.Boolean:
		b, ok := x.(bool)
		if !ok || val.Kind != BoolValue {
			return false
		}
		switch op {
		case Eq:
			return b == val.Bool
		case Ne:
			return b != val.Bool
		}
		return false
	case schema.Integer, schema.Decimal:
		if val.Kind != NumberValue {
			return false
		}
		c, ok := compareNumbers(x, val.Str)
		return ok && ordered(op, c)
	case schema.Complex:
		return false
	}
	s, ok := x.(string)
	if !ok || val.Kind != StringValue {
		return false
	}
	switch op {
	case Co, Sw, Ew:
		return stringOp(s, val.Str, op, caseExact)
	}
	switch typ {
	case schema.DateTime:
		t1, ok1 := parseDateTime(s)
		t2, ok2 := parseDateTime(val.Str)
		return ok1 && ok2 && ordered(op, t1.Compare(t2))
	case schema.Binary:
		// Binary values have no order (RFC 7644 §3.4.2.2); Check reports
		// such filters, and here they match nothing.
		if op != Eq && op != Ne {
			return false
		}
	}
	return stringOp(s, val.Str, op, caseExact)
}

func ordered(op Op, c int) bool {
	switch op {
	case Eq:
		return c == 0
	case Ne:
		return c != 0
	case Gt:
		return c > 0
	case Ge:
		return c >= 0
	case Lt:
		return c < 0
	case Le:
		return c <= 0
	}
	return false
}

func stringOp(s, v string, op Op, caseExact bool) bool {
	if !caseExact {
		switch op {
		case Eq:
			return strings.EqualFold(s, v)
		case Ne:
			return !strings.EqualFold(s, v)
		}
		s, v = Fold(s), Fold(v)
	}
	switch op {
	case Co:
		return strings.Contains(s, v)
	case Sw:
		return strings.HasPrefix(s, v)
	case Ew:
		return strings.HasSuffix(s, v)
	}
	return ordered(op, strings.Compare(s, v))
}

// FoldKey returns a key that is equal for two strings exactly when
// strings.EqualFold holds for them, which is how Match decides eq and ne on
// attributes that are not caseExact.
//
// It is Fold except for U+0130 (İ) and U+0131 (ı): Fold maps both to "i",
// but neither is in the simple case-folding orbit of "i", so EqualFold keeps
// them apart. Those two are the only runes on which Fold and EqualFold
// disagree (checked over every rune by TestFoldKeyMatchesEqualFold in
// internal/store/sqlfilter).
func FoldKey(s string) string {
	if !strings.ContainsAny(s, "İı") {
		return Fold(s)
	}
	var b strings.Builder
	for _, r := range s {
		if r == 'İ' || r == 'ı' {
			b.WriteRune(r)
		} else {
			b.WriteString(Fold(string(r)))
		}
	}
	return b.String()
}

// Fold maps s to the case-folded form Match compares strings of attributes
// that are not caseExact in, so that strings equal under strings.EqualFold
// compare equal; the store folds values the same way so that SQL gives
// Match's answers. ASCII strings without upper case, the usual case, are
// returned without copying.
func Fold(s string) string {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf || c >= 'A' && c <= 'Z' {
			return strings.Map(foldRune, s)
		}
	}
	return s
}

func foldRune(r rune) rune {
	if r < utf8.RuneSelf {
		if r >= 'A' && r <= 'Z' {
			r += 'a' - 'A'
		}
		return r
	}
	// Upper then lower maps the members of a case-folding orbit such as
	// {K, k, U+212A KELVIN SIGN} or {S, s, U+017F LONG S} to one rune.
	return unicode.ToLower(unicode.ToUpper(r))
}

// compareNumbers compares a document number with a filter number literal.
// Integers that fit in 64 bits, nearly all SCIM numbers, compare exactly and
// without allocating; the rest go through big.Float, which keeps large
// integers and decimals exact where float64 would round.
func compareNumbers(x any, lit string) (int, bool) {
	var s string
	switch n := x.(type) {
	case json.Number:
		s = string(n)
	case float64:
		if math.IsNaN(n) || math.IsInf(n, 0) {
			return 0, false
		}
		s = strconv.FormatFloat(n, 'g', -1, 64)
	case float32:
		if math.IsNaN(float64(n)) || math.IsInf(float64(n), 0) {
			return 0, false
		}
		s = strconv.FormatFloat(float64(n), 'g', -1, 32)
	case int:
		s = strconv.Itoa(n)
	case int64:
		s = strconv.FormatInt(n, 10)
	case int32:
		s = strconv.FormatInt(int64(n), 10)
	default:
		return 0, false
	}
	if a, err := strconv.ParseInt(s, 10, 64); err == nil {
		if b, err := strconv.ParseInt(lit, 10, 64); err == nil {
			switch {
			case a < b:
				return -1, true
			case a > b:
				return 1, true
			}
			return 0, true
		}
	}
	// Both sides are checked against the JSON grammar first: big.Float
	// would otherwise also accept "Inf", hexadecimal and underscores.
	if !isNumber(s) || !isNumber(lit) {
		return 0, false
	}
	a, ok1 := parseBig(s)
	b, ok2 := parseBig(lit)
	if ok1 && ok2 {
		return a.Cmp(b), true
	}
	// Exponents too large even for big.Float: float64 saturates them to
	// ±Inf or 0, which still orders them correctly against ordinary values.
	fa, err1 := strconv.ParseFloat(s, 64)
	fb, err2 := strconv.ParseFloat(lit, 64)
	if !inRangeOrSaturated(err1) || !inRangeOrSaturated(err2) {
		return 0, false
	}
	switch {
	case fa < fb:
		return -1, true
	case fa > fb:
		return 1, true
	}
	return 0, true
}

func inRangeOrSaturated(err error) bool {
	return err == nil || errors.Is(err, strconv.ErrRange)
}

func parseBig(s string) (*big.Float, bool) {
	// 256 bits hold any integer up to 77 digits and any decimal a client
	// plausibly sends without rounding.
	f, _, err := new(big.Float).SetPrec(256).Parse(s, 10)
	return f, err == nil
}

// parseDateTime parses an xsd:dateTime (RFC 7643 §2.3.5): RFC 3339 with an
// offset or "Z", fractional seconds optional. A value without an offset is
// taken as UTC, which is as good a guess as any and keeps comparisons total.
func parseDateTime(s string) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, true
	}
	if t, err := time.Parse("2006-01-02T15:04:05.999999999", s); err == nil {
		return t, true
	}
	return time.Time{}, false
}

// Check reports a filter that is meaningless for the resource type and that
// RFC 7644 §3.4.2.2 says must fail rather than match nothing: gt, ge, lt or
// le on a boolean or binary attribute, a value path on an attribute that is
// not complex, or a sub-attribute the attribute does not define. The error
// is a 400 *scim.Error with scimType invalidFilter.
//
// Attributes the resource type does not know are not errors: clients such
// as Entra filter on custom extension attributes a server may not declare,
// and such filters simply match nothing. Inside a value path on a known
// complex attribute, however, an unknown sub-attribute is reported.
func Check(e Expr, rt *schema.ResourceType) error {
	if rt == nil || rt.Schema == nil {
		return nil
	}
	return check(e, scope{rt: rt})
}

func check(e Expr, sc scope) error {
	for {
		switch x := e.(type) {
		case *Logical:
			if x == nil {
				return nil
			}
			if err := check(x.Right, sc); err != nil {
				return err
			}
			e = x.Left
		case *Not:
			if x == nil {
				return nil
			}
			e = x.X
		case *Compare:
			if x == nil {
				return nil
			}
			return checkCompare(x, sc)
		case *ValuePath:
			if x == nil {
				return nil
			}
			attr, err := checkAttr(x.Attr, sc)
			if err != nil || attr == nil {
				return err
			}
			if attr.Type != schema.Complex {
				return scim.BadRequest(scim.InvalidFilter, "invalid filter: %s[...] filters the values of %q, which is not a complex attribute", x.Attr, attr.Name)
			}
			e, sc = x.Filter, scope{parent: attr, element: true}
		default:
			return nil
		}
	}
}

// checkAttr resolves p.Name, reporting an unknown sub-attribute of a known
// complex attribute. It returns nil, nil for an unknown attribute.
func checkAttr(p AttrPath, sc scope) (*schema.Attribute, error) {
	if sc.element {
		if sc.parent == nil {
			return nil, nil
		}
		a := sc.parent.SubAttribute(p.Name)
		if a == nil {
			return nil, scim.BadRequest(scim.InvalidFilter, "invalid filter: attribute %q has no sub-attribute %q", sc.parent.Name, p.Name)
		}
		return a, nil
	}
	_, a := sc.rt.Resolve(p.URN, p.Name)
	return a, nil
}

func checkCompare(c *Compare, sc scope) error {
	attr, err := checkAttr(c.Path, sc)
	if err != nil || attr == nil {
		return err
	}
	if c.Path.Sub != "" {
		sub := attr.SubAttribute(c.Path.Sub)
		if sub == nil {
			if attr.Type != schema.Complex {
				return scim.BadRequest(scim.InvalidFilter, "invalid filter: attribute %q is not complex and has no sub-attribute %q", attr.Name, c.Path.Sub)
			}
			return scim.BadRequest(scim.InvalidFilter, "invalid filter: attribute %q has no sub-attribute %q", attr.Name, c.Path.Sub)
		}
		attr = sub
	} else if attr.Type == schema.Complex {
		if v := attr.SubAttribute("value"); v != nil {
			attr = v
		}
	}
	switch c.Op {
	case Gt, Ge, Lt, Le:
		if attr.Type == schema.Boolean || attr.Type == schema.Binary {
			return scim.BadRequest(scim.InvalidFilter, "invalid filter: %q cannot be applied to %s, a %s attribute", c.Op, c.Path, attr.Type)
		}
	}
	return nil
}
