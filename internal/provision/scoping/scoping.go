// Package scoping implements Entra ID's attribute-based scoping filters,
// which decide whether a source object is in scope for provisioning.
//
// A Set holds filters; an object is in scope when it passes any one of them
// (OR), and passes a filter when every clause of it holds (AND). A clause
// compares one single-valued attribute of the object with a value, using
// one of Entra's 14 operators, spelled as Entra spells them. An empty Set
// puts everything in scope, as having no scoping filter does in Entra.
//
// Sets are plain data with JSON tags: the engine stores them and the admin
// API accepts them as JSON. Validate checks one against a SCIM resource
// type; Compile does the same and returns a Matcher, which holds the
// compiled regular expressions, for evaluating many objects.
package scoping

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/ferryid/ferry/internal/provision/expr"
	"github.com/ferryid/ferry/internal/scim/schema"
)

// Set is the scoping filters of one mapping. The filters are ORed.
type Set []Filter

// Filter is one scoping filter: its clauses are ANDed.
type Filter struct {
	Title   string   `json:"title,omitempty"` // Entra's "Scoping Filter Title", for people
	Clauses []Clause `json:"clauses"`
}

// Clause is one condition: Attribute Operator Value.
type Clause struct {
	// Attribute is a SCIM attribute path of the source directory, such as
	// "department" or `emails[type eq "work"].value`.
	Attribute string   `json:"attribute"`
	Operator  Operator `json:"operator"`
	// Value is what the attribute is compared with; operators that test the
	// attribute alone (IS TRUE, IS FALSE, IS NULL, IS NOT NULL) ignore it.
	Value string `json:"value,omitempty"`
}

// Operator is a scoping operator, spelled as Entra spells it.
type Operator string

// Entra's scoping operators. Comparisons are case-sensitive. A clause on an
// attribute that is null or empty is false, whatever the operator, except
// for IS NULL and IS NOT NULL, which test exactly that.
const (
	// ContainedIn is "&": true when the attribute's value occurs in the
	// clause's value (Entra: "the evaluated attribute exists in the input
	// string value"), as .NET's String.Contains tests it, so that
	// department & "Sales,Marketing" holds for Sales and Marketing. It is a
	// substring test: put delimiters in the value if "Sale" must not match.
	ContainedIn Operator = "&"
	// NotContainedIn is "!&": true when the attribute's value does not occur
	// in the clause's value.
	NotContainedIn Operator = "!&"
	// EndsWith is true when the attribute ends with the value.
	EndsWith Operator = "ENDS_WITH"
	// Equals is true when the attribute is exactly the value.
	Equals Operator = "EQUALS"
	// GreaterThan is true when the attribute, an integer, is greater than
	// the value, an integer. An attribute that is not an integer fails.
	GreaterThan Operator = "Greater_Than"
	// GreaterThanOrEquals is GreaterThan or equal.
	GreaterThanOrEquals Operator = "Greater_Than_OR_EQUALS"
	// Includes is true when the attribute contains the value.
	Includes Operator = "Includes"
	// IsFalse is true when the attribute is the boolean false (or the
	// string "False" in any case).
	IsFalse Operator = "IS FALSE"
	// IsNotNull is true when the attribute is present and not empty.
	IsNotNull Operator = "IS NOT NULL"
	// IsNull is true when the attribute is absent or empty.
	IsNull Operator = "IS NULL"
	// IsTrue is true when the attribute is the boolean true (or the string
	// "True" in any case).
	IsTrue Operator = "IS TRUE"
	// NotEquals is true when the attribute is not exactly the value.
	NotEquals Operator = "NOT EQUALS"
	// NotRegexMatch is true when the regular expression matches nowhere in
	// the attribute.
	NotRegexMatch Operator = "NOT REGEX MATCH"
	// RegexMatch is true when the regular expression matches somewhere in
	// the attribute, as .NET's Regex.IsMatch; anchor it with ^ and $ to
	// match the whole value. The syntax is RE2's: .NET's lookaround and
	// backreferences are not available.
	RegexMatch Operator = "REGEX MATCH"
)

// Operators returns the 14 operators in the order Entra's documentation
// lists them, for an admin interface to offer.
func Operators() []Operator {
	return []Operator{ContainedIn, NotContainedIn, EndsWith, Equals, GreaterThan, GreaterThanOrEquals, Includes,
		IsFalse, IsNotNull, IsNull, IsTrue, NotEquals, NotRegexMatch, RegexMatch}
}

// ParseOperator returns the operator s names. Case does not matter, and
// spaces and underscores are interchangeable, so Microsoft Graph's
// "IS_NOT_NULL" and a typed "not equals" are accepted; the result is
// spelled as Entra spells it.
func ParseOperator(s string) (Operator, bool) {
	key := strings.Join(strings.Fields(strings.ReplaceAll(strings.ToUpper(s), "_", " ")), " ")
	switch key {
	case "&":
		return ContainedIn, true
	case "!&":
		return NotContainedIn, true
	case "ENDS WITH":
		return EndsWith, true
	case "EQUALS":
		return Equals, true
	case "GREATER THAN":
		return GreaterThan, true
	case "GREATER THAN OR EQUALS":
		return GreaterThanOrEquals, true
	case "INCLUDES":
		return Includes, true
	case "IS FALSE":
		return IsFalse, true
	case "IS NOT NULL":
		return IsNotNull, true
	case "IS NULL":
		return IsNull, true
	case "IS TRUE":
		return IsTrue, true
	case "NOT EQUALS":
		return NotEquals, true
	case "NOT REGEX MATCH":
		return NotRegexMatch, true
	case "REGEX MATCH":
		return RegexMatch, true
	}
	return "", false
}

// NeedsValue reports whether the operator compares the attribute with the
// clause's value, rather than testing the attribute alone.
func (o Operator) NeedsValue() bool {
	switch o {
	case IsTrue, IsFalse, IsNull, IsNotNull:
		return false
	}
	return true
}

// UnmarshalJSON accepts any spelling ParseOperator accepts and stores the
// canonical one. An unknown operator is kept as written, for Validate to
// report with the filter and clause it is in.
func (o *Operator) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("scoping operator: %w", err)
	}
	if op, ok := ParseOperator(s); ok {
		*o = op
	} else {
		*o = Operator(s)
	}
	return nil
}

// Validate checks s against the source resource type rt: every filter has
// clauses; every operator is known; every attribute is a single-valued
// attribute of rt (multi-valued and dateTime attributes are not supported,
// as in Entra; a value filter such as emails[type eq "work"].value selects
// one value and is allowed); operators that compare have a value, an integer
// for Greater_Than and Greater_Than_OR_EQUALS and a regular expression that
// compiles for REGEX MATCH and NOT REGEX MATCH. Errors name the filter and
// clause, counting from 1 as an admin interface shows them.
func (s Set) Validate(rt *schema.ResourceType) error {
	_, err := s.Compile(rt)
	return err
}

// Compile validates s (see Validate) and returns a Matcher for it.
func (s Set) Compile(rt *schema.ResourceType) (*Matcher, error) {
	m := &Matcher{filters: make([][]clause, len(s))}
	for i, f := range s {
		where := fmt.Sprintf("scoping filter %d", i+1)
		if f.Title != "" {
			where += fmt.Sprintf(" (%q)", f.Title)
		}
		if len(f.Clauses) == 0 {
			return nil, fmt.Errorf("%s has no clauses", where)
		}
		for j, c := range f.Clauses {
			cc, err := compileClause(c, rt)
			if err != nil {
				return nil, fmt.Errorf("%s, clause %d: %w", where, j+1, err)
			}
			m.filters[i] = append(m.filters[i], cc)
		}
	}
	return m, nil
}

func compileClause(c Clause, rt *schema.ResourceType) (clause, error) {
	op, ok := ParseOperator(string(c.Operator))
	if !ok {
		names := make([]string, 0, 14)
		for _, o := range Operators() {
			names = append(names, string(o))
		}
		return clause{}, fmt.Errorf("unknown operator %q; the operators are %s", c.Operator, strings.Join(names, ", "))
	}
	if strings.TrimSpace(c.Attribute) == "" {
		return clause{}, fmt.Errorf("the attribute is missing")
	}
	info, err := expr.ResolveAttribute(rt, c.Attribute)
	switch {
	case err != nil:
		return clause{}, fmt.Errorf("attribute %q: %w", c.Attribute, err)
	case info.Multi && !info.Filtered:
		return clause{}, fmt.Errorf("attribute %q is multi-valued, and scoping filters support only single-valued attributes; select one value with a filter such as emails[type eq \"work\"].value", c.Attribute)
	case info.Type == schema.DateTime:
		return clause{}, fmt.Errorf("attribute %q is a date and time, which scoping filters do not support", c.Attribute)
	}
	cc := clause{attr: c.Attribute, op: op, value: c.Value}
	if !op.NeedsValue() {
		return cc, nil
	}
	if c.Value == "" {
		return clause{}, fmt.Errorf("%s needs a value to compare %q with", op, c.Attribute)
	}
	switch op {
	case GreaterThan, GreaterThanOrEquals:
		if cc.n, err = strconv.ParseInt(strings.TrimSpace(c.Value), 10, 64); err != nil {
			return clause{}, fmt.Errorf("%s needs a whole number, not %q", op, c.Value)
		}
	case RegexMatch, NotRegexMatch:
		if cc.re, err = regexp.Compile(c.Value); err != nil {
			return clause{}, fmt.Errorf("the regular expression %q does not compile (Ferry uses RE2 syntax, without lookaround or backreferences): %w", c.Value, err)
		}
	}
	return cc, nil
}

// Matcher evaluates a validated Set. It is immutable and safe for
// concurrent use; a nil or zero Matcher, like an empty Set, puts everything
// in scope.
type Matcher struct {
	filters [][]clause
}

// clause is a validated Clause with its value prepared.
type clause struct {
	attr  string
	op    Operator
	value string
	n     int64          // Greater_Than*
	re    *regexp.Regexp // REGEX MATCH, NOT REGEX MATCH
}

// Match reports whether the object src reads from is in scope: there are no
// filters, or all clauses of some filter hold. Attributes are read through
// src, the same Source expression mappings read (usually an
// expr.DocumentSource). An attribute that holds several values, which
// Validate cannot rule out for a value-filtered path, is an error rather
// than a guess.
func (m *Matcher) Match(src expr.Source) (bool, error) {
	if m == nil || len(m.filters) == 0 {
		return true, nil
	}
next:
	for i, f := range m.filters {
		for j, c := range f {
			ok, err := c.match(src)
			if err != nil {
				return false, fmt.Errorf("scoping filter %d, clause %d: %w", i+1, j+1, err)
			}
			if !ok {
				continue next
			}
		}
		return true, nil
	}
	return false, nil
}

func (c clause) match(src expr.Source) (bool, error) {
	v, err := src.Attribute(c.attr)
	if err != nil {
		return false, fmt.Errorf("reading %q: %w", c.attr, err)
	}
	switch vs := v.Values(); {
	case len(vs) > 1:
		return false, fmt.Errorf("attribute %q has %d values; a scoping clause needs one", c.attr, len(vs))
	case len(vs) == 1:
		v = vs[0]
	}
	empty := v.IsNullOrEmpty()
	switch c.op {
	case IsNull:
		return empty, nil
	case IsNotNull:
		return !empty, nil
	}
	if empty {
		return false, nil
	}
	text := v.Text()
	switch c.op {
	case ContainedIn:
		return strings.Contains(c.value, text), nil
	case NotContainedIn:
		return !strings.Contains(c.value, text), nil
	case EndsWith:
		return strings.HasSuffix(text, c.value), nil
	case Equals:
		return text == c.value, nil
	case NotEquals:
		return text != c.value, nil
	case Includes:
		return strings.Contains(text, c.value), nil
	case GreaterThan, GreaterThanOrEquals:
		n, ok := v.Int()
		if !ok && v.Kind() == expr.String {
			var err error
			n, err = strconv.ParseInt(strings.TrimSpace(text), 10, 64)
			ok = err == nil
		}
		if !ok {
			return false, nil
		}
		if c.op == GreaterThan {
			return n > c.n, nil
		}
		return n >= c.n, nil
	case IsTrue, IsFalse:
		b, ok := v.Bool()
		if !ok && v.Kind() == expr.String {
			switch s := strings.TrimSpace(text); {
			case strings.EqualFold(s, "true"):
				b, ok = true, true
			case strings.EqualFold(s, "false"):
				b, ok = false, true
			}
		}
		return ok && b == (c.op == IsTrue), nil
	case RegexMatch:
		return c.re.MatchString(text), nil
	case NotRegexMatch:
		return !c.re.MatchString(text), nil
	}
	return false, fmt.Errorf("unknown operator %q", c.op)
}
