package expr

import (
	"log/slog"
	"strconv"
	"strings"
	"time"
)

// Kind is the kind of a Value: Entra's values are strings, booleans,
// integers, date-times, multi-valued or null.
type Kind uint8

// The kinds of Value. The zero Value is Null.
const (
	Null     Kind = iota // no value: an absent attribute, or a function's "nothing"
	String               // a string
	Bool                 // True or False
	Int                  // a 64-bit integer
	DateTime             // an instant, kept in UTC
	Multi                // several single values, in order
)

// String returns the kind's name.
func (k Kind) String() string {
	switch k {
	case Null:
		return "null"
	case String:
		return "string"
	case Bool:
		return "boolean"
	case Int:
		return "integer"
	case DateTime:
		return "dateTime"
	case Multi:
		return "multi-valued"
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// dateTimeLayout is the Go form of Entra's "M/d/yyyy h:mm:ss tt", the format
// CDate, DateAdd and Now return and a DateTime turns into when used as a string.
const dateTimeLayout = "1/2/2006 3:04:05 PM"

// Value is a value an expression computes or an attribute holds. The zero
// Value is null. Values are immutable; methods never modify the receiver.
//
// Two marks travel with a result: Redacted (a Redact call was involved, so
// logs must show "[Redact]" instead of the value) and Ignored
// (IgnoreFlowIfNullOrEmpty asked for the attribute to be left out of the
// flow).
type Value struct {
	kind     Kind
	str      string
	num      int64 // Int, and Bool as 0 or 1
	t        time.Time
	elems    []Value // Multi: single, non-null values
	redacted bool
	ignored  bool
}

// StringValue returns a string Value.
func StringValue(s string) Value { return Value{kind: String, str: s} }

// BoolValue returns a boolean Value.
func BoolValue(b bool) Value {
	v := Value{kind: Bool}
	if b {
		v.num = 1
	}
	return v
}

// IntValue returns an integer Value.
func IntValue(n int64) Value { return Value{kind: Int, num: n} }

// TimeValue returns a DateTime Value for the instant t (kept in UTC).
func TimeValue(t time.Time) Value { return Value{kind: DateTime, t: t.UTC()} }

// MultiValue returns a multi-valued Value of vs. Multi-valued arguments
// contribute their elements and null ones nothing; with no element left the
// result is null. A single element still makes a multi-valued Value, so
// that Count and Item see an attribute's shape and not its current length.
func MultiValue(vs ...Value) Value {
	var elems []Value
	redacted := false
	for _, v := range vs {
		redacted = redacted || v.redacted
		switch v.kind {
		case Null:
		case Multi:
			elems = append(elems, v.elems...)
		default:
			v.redacted, v.ignored = false, false
			elems = append(elems, v)
		}
	}
	if len(elems) == 0 {
		return Value{redacted: redacted}
	}
	return Value{kind: Multi, elems: elems, redacted: redacted}
}

// Kind returns the kind of v.
func (v Value) Kind() Kind { return v.kind }

// IsNull reports whether v is null.
func (v Value) IsNull() bool { return v.kind == Null }

// IsNullOrEmpty reports whether v is null or the empty string, which is what
// Entra's IsNullOrEmpty tests. A multi-valued Value whose only element is
// empty counts as empty too.
func (v Value) IsNullOrEmpty() bool {
	switch v.kind {
	case Null:
		return true
	case String:
		return v.str == ""
	case Multi:
		return len(v.elems) == 1 && v.elems[0].IsNullOrEmpty()
	}
	return false
}

// Text returns v as a string the way Entra converts values: booleans are
// "True" and "False", integers decimal, date-times "M/d/yyyy h:mm:ss tt" in
// UTC, null "". A multi-valued Value gives its elements' texts joined with
// ", ", which is for display only; functions that want one string refuse
// several values instead.
func (v Value) Text() string {
	switch v.kind {
	case String:
		return v.str
	case Bool:
		if v.num != 0 {
			return "True"
		}
		return "False"
	case Int:
		return strconv.FormatInt(v.num, 10)
	case DateTime:
		return v.t.Format(dateTimeLayout)
	case Multi:
		texts := make([]string, len(v.elems))
		for i, e := range v.elems {
			texts[i] = e.Text()
		}
		return strings.Join(texts, ", ")
	}
	return ""
}

// Bool returns a boolean Value's value; ok is false for other kinds.
func (v Value) Bool() (b, ok bool) { return v.num != 0, v.kind == Bool }

// Int returns an integer Value's value; ok is false for other kinds.
func (v Value) Int() (n int64, ok bool) { return v.num, v.kind == Int }

// Time returns a DateTime Value's instant, in UTC; ok is false for other kinds.
func (v Value) Time() (t time.Time, ok bool) { return v.t, v.kind == DateTime }

// Values returns the single values v holds: the elements of a multi-valued
// Value, v itself for a single one, none for null. The elements carry v's
// Redacted mark.
func (v Value) Values() []Value {
	switch v.kind {
	case Null:
		return nil
	case Multi:
		out := make([]Value, len(v.elems))
		for i, e := range v.elems {
			e.redacted = v.redacted
			out[i] = e
		}
		return out
	}
	s := v
	s.ignored = false
	return []Value{s}
}

// Len returns how many single values v holds.
func (v Value) Len() int {
	switch v.kind {
	case Null:
		return 0
	case Multi:
		return len(v.elems)
	}
	return 1
}

// Any returns v as a plain Go value: nil, string, bool, int64, time.Time or,
// for a multi-valued Value, []any of those.
func (v Value) Any() any {
	switch v.kind {
	case String:
		return v.str
	case Bool:
		return v.num != 0
	case Int:
		return v.num
	case DateTime:
		return v.t
	case Multi:
		out := make([]any, len(v.elems))
		for i, e := range v.elems {
			out[i] = e.Any()
		}
		return out
	}
	return nil
}

// Redacted reports whether a Redact call contributed to v, so that
// provisioning logs must show "[Redact]" in its place. The value itself
// still flows to the target.
func (v Value) Redacted() bool { return v.redacted }

// Ignored reports whether IgnoreFlowIfNullOrEmpty fired while computing v:
// the engine leaves the target attribute out of the flow altogether, as if
// it were not mapped. An ignored Value is null.
func (v Value) Ignored() bool { return v.ignored }

// String returns v for logs and error messages: "[Redact]" when v is
// Redacted, otherwise the text quoted (or null, or a bracketed list).
func (v Value) String() string {
	switch {
	case v.redacted:
		return "[Redact]"
	case v.kind == Null:
		return "null"
	case v.kind == Multi:
		parts := make([]string, len(v.elems))
		for i, e := range v.elems {
			parts[i] = e.String()
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case v.kind == String:
		return strconv.Quote(v.str)
	}
	return v.Text()
}

// LogValue makes slog print v as String does, so a redacted value never
// reaches a log line.
func (v Value) LogValue() slog.Value { return slog.StringValue(v.String()) }

// equal reports whether v and w are the same value, ignoring the marks.
func (v Value) equal(w Value) bool {
	if v.kind != w.kind {
		return false
	}
	switch v.kind {
	case String:
		return v.str == w.str
	case Bool, Int:
		return v.num == w.num
	case DateTime:
		return v.t.Equal(w.t)
	case Multi:
		if len(v.elems) != len(w.elems) {
			return false
		}
		for i := range v.elems {
			if !v.elems[i].equal(w.elems[i]) {
				return false
			}
		}
	}
	return true
}

// redact returns v marked as redacted.
func (v Value) redact() Value {
	v.redacted = true
	return v
}
