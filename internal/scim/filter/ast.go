// Package filter implements the RFC 7644 §3.4.2.2 filter grammar and the
// §3.5.2 PATCH path grammar: a parser producing an AST, and an evaluator of
// that AST over JSON documents.
//
// The store translates the AST to SQL; the provisioning engine and the PATCH
// code evaluate it in memory. Parse errors are *scim.Error values with
// scimType invalidFilter (or invalidPath for PATCH paths) and name the byte
// position and what was expected.
package filter

import (
	"strconv"
	"strings"
)

// AttrPath is an attribute path: an optional schema URN, an attribute name and
// an optional sub-attribute name, e.g.
// "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value"
// is {URN: "urn:...:2.0:User", Name: "manager", Sub: "value"}.
//
// Names are kept as written; comparisons with schema names ignore case.
// Inside a value filter (emails[type eq "work"]) paths are relative to the
// element: Name is the sub-attribute ("type") and URN and Sub are empty.
type AttrPath struct {
	URN  string
	Name string
	Sub  string
}

// String returns the path in SCIM syntax.
func (p AttrPath) String() string {
	var b strings.Builder
	if p.URN != "" {
		b.WriteString(p.URN)
		if p.Name != "" {
			b.WriteByte(':')
		}
	}
	b.WriteString(p.Name)
	if p.Sub != "" {
		b.WriteByte('.')
		b.WriteString(p.Sub)
	}
	return b.String()
}

// Op is a comparison operator.
type Op string

// The comparison operators of RFC 7644 §3.4.2.2, lower-case as they are
// written canonically (the parser accepts any case).
const (
	Eq Op = "eq"
	Ne Op = "ne"
	Co Op = "co"
	Sw Op = "sw"
	Ew Op = "ew"
	Pr Op = "pr"
	Gt Op = "gt"
	Ge Op = "ge"
	Lt Op = "lt"
	Le Op = "le"
)

// Kind is the kind of a comparison value.
type Kind int

// The kinds of comparison value (RFC 7644 compValue).
const (
	StringValue Kind = iota // a JSON string, or a bare word accepted leniently
	NumberValue             // a JSON number, kept as its text
	BoolValue               // true or false
	NullValue               // null
)

// Value is a comparison value as written in the filter.
type Value struct {
	Kind Kind
	// Str holds the decoded string for StringValue and the number's text
	// (as written) for NumberValue.
	Str  string
	Bool bool
}

// String returns the value in filter syntax.
func (v Value) String() string {
	switch v.Kind {
	case NumberValue:
		return v.Str
	case BoolValue:
		return strconv.FormatBool(v.Bool)
	case NullValue:
		return "null"
	default:
		return quoteJSON(v.Str)
	}
}

// Expr is a filter expression: *Compare, *Logical, *Not or *ValuePath.
type Expr interface {
	String() string
	expr()
}

// Compare is "path op value", or "path pr" (Value is then the zero Value).
type Compare struct {
	Path  AttrPath
	Op    Op
	Value Value
}

// LogicalOp is "and" or "or".
type LogicalOp string

// The logical operators.
const (
	And LogicalOp = "and"
	Or  LogicalOp = "or"
)

// Logical is "left and right" or "left or right".
type Logical struct {
	Op          LogicalOp
	Left, Right Expr
}

// Not is "not (x)".
type Not struct {
	X Expr
}

// ValuePath is "attr[filter]": true when some element of the multi-valued
// attribute Attr satisfies Filter, whose paths are relative to the element.
// Attr never has a Sub.
//
// The form Entra sends, emails[type eq "work"].value eq "x", is parsed as the
// equivalent emails[type eq "work" and value eq "x"], so consumers only ever
// see this one shape.
type ValuePath struct {
	Attr   AttrPath
	Filter Expr
}

func (*Compare) expr()   {}
func (*Logical) expr()   {}
func (*Not) expr()       {}
func (*ValuePath) expr() {}

func (c *Compare) String() string {
	if c.Op == Pr {
		return c.Path.String() + " pr"
	}
	return c.Path.String() + " " + string(c.Op) + " " + c.Value.String()
}

func (l *Logical) String() string {
	return "(" + l.Left.String() + " " + string(l.Op) + " " + l.Right.String() + ")"
}

func (n *Not) String() string { return "not (" + n.X.String() + ")" }

func (v *ValuePath) String() string { return v.Attr.String() + "[" + v.Filter.String() + "]" }

// Path is a PATCH operation path (RFC 7644 §3.5.2 PATH rule):
//
//	attr, attr.sub         Attr = {Name, Sub}, Filter = nil
//	attr[filter]           Attr = {Name}, Filter set
//	attr[filter].sub       Attr = {Name}, Filter set, Sub = "sub"
//	urn:...:attr.sub       as above, with Attr.URN set
//	urn:...:User           a whole extension: Attr = {URN: "urn:...:2.0", Name: "User"}
//
// A bare extension URN cannot be told from a URN-qualified attribute by
// syntax alone; the schema-aware caller decides, by checking whether
// Attr.String() is the id of one of the resource type's schemas.
type Path struct {
	Attr   AttrPath
	Filter Expr
	Sub    string
}

// String returns the path in SCIM syntax.
func (p Path) String() string {
	if p.Filter == nil {
		return p.Attr.String()
	}
	s := p.Attr.String() + "[" + p.Filter.String() + "]"
	if p.Sub != "" {
		s += "." + p.Sub
	}
	return s
}
