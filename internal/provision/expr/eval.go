package expr

import (
	"crypto/rand"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Source gives an expression the attributes of the object being provisioned.
type Source interface {
	// Attribute returns the value of the attribute at path, written as
	// between the brackets of an attribute reference. An attribute the
	// object does not have is null, not an error; errors are for paths
	// that cannot be read at all.
	Attribute(path string) (Value, error)
}

// Env is what evaluation needs from the world besides the source object.
// The zero Env uses the system clock and crypto/rand; tests pass fixed ones.
type Env struct {
	Now  func() time.Time // the clock Now() reads; nil means time.Now
	Rand io.Reader        // randomness for Guid and RandomString; nil means crypto/rand.Reader
}

// Eval evaluates the expression against src, whose attributes the
// expression's [attribute] references read; a nil src has no attributes.
//
// The result is Ignored when IgnoreFlowIfNullOrEmpty fired, and Redacted
// when a Redact call, or an attribute the source marked Redacted, was
// involved; error messages then show "[Redact]" instead of values too.
// Eval reports an expression Check would reject as an error; it never
// panics.
func (e *Expression) Eval(src Source, env Env) (Value, error) {
	ev := &evaluator{src: src, env: env}
	if ev.env.Now == nil {
		ev.env.Now = time.Now
	}
	if ev.env.Rand == nil {
		ev.env.Rand = rand.Reader
	}
	v, err := ev.eval(e.root)
	if err != nil {
		return Value{}, err
	}
	v.ignored = false
	if ev.ignore {
		v = Value{ignored: true}
	}
	if ev.redact {
		v.redacted = true
	}
	return v, nil
}

// MaxValueSize bounds, in bytes, the text of any value a function
// computes. Nested Replace or Join calls can otherwise grow a string
// exponentially within MaxDepth; no attribute a target accepts comes close.
const MaxValueSize = 1 << 20

func errTooLong() error {
	return fmt.Errorf("the result is longer than %d bytes", MaxValueSize)
}

// size returns the number of bytes of text v holds.
func size(v Value) int {
	switch v.kind {
	case String:
		return len(v.str)
	case Multi:
		n := 0
		for _, e := range v.elems {
			n += size(e)
		}
		return n
	}
	return 0
}

// evaluator holds the state of one evaluation.
type evaluator struct {
	src    Source
	env    Env
	redact bool // a secret is involved: mark the result, hide values in errors
	ignore bool // IgnoreFlowIfNullOrEmpty fired
}

func (ev *evaluator) eval(n node) (Value, error) {
	switch n := n.(type) {
	case *attrRef:
		if ev.src == nil {
			return Value{}, nil
		}
		v, err := ev.src.Attribute(n.path)
		if err != nil {
			return Value{}, fmt.Errorf("attribute [%s]: %w", n.path, err)
		}
		if v.redacted {
			ev.redact = true
		}
		v.ignored = false
		return v, nil
	case *strLit:
		return StringValue(n.s), nil
	case *intLit:
		return IntValue(n.n), nil
	case *nameLit:
		return StringValue(n.name), nil
	case *missing:
		return Value{}, nil
	case *compare:
		return ev.compare(n)
	case *call:
		if err := checkCall(n); err != nil {
			return Value{}, err
		}
		v, err := n.fn.eval(ev, n)
		if err == nil && size(v) > MaxValueSize {
			err = errTooLong()
		}
		if err != nil {
			return Value{}, fmt.Errorf("%s: %w", n.name, err)
		}
		return v, nil
	}
	return Value{}, fmt.Errorf("unexpected syntax node %T", n)
}

// show returns v for an error message, hiding it once a secret is involved
// and shortening long values so that the message stays one line.
func (ev *evaluator) show(v Value) string {
	if ev.redact || v.redacted {
		return "[Redact]"
	}
	s := v.String()
	if utf8.RuneCountInString(s) > 60 {
		r := []rune(s)
		s = string(r[:60]) + "…"
	}
	return s
}

// arg evaluates argument i of c; an argument left out or empty is null.
func (ev *evaluator) arg(c *call, i int) (Value, error) {
	if i >= len(c.args) {
		return Value{}, nil
	}
	return ev.eval(c.args[i])
}

// args evaluates every argument of c.
func (ev *evaluator) args(c *call) ([]Value, error) {
	vs := make([]Value, len(c.args))
	for i := range c.args {
		v, err := ev.eval(c.args[i])
		if err != nil {
			return nil, err
		}
		vs[i] = v
	}
	return vs, nil
}

// at returns vs[i], or null when the argument was left out.
func at(vs []Value, i int) Value {
	if i < len(vs) {
		return vs[i]
	}
	return Value{}
}

// argName names argument i of c for error messages: "argument 2 (start)".
func argName(c *call, i int) string {
	if c.fn != nil {
		if p, ok := c.fn.param(i); ok {
			return fmt.Sprintf("argument %d (%s)", i+1, p.name)
		}
	}
	return fmt.Sprintf("argument %d", i+1)
}

// single returns the one value v holds. Functions that work on one string
// take a multi-valued argument with exactly one element, and refuse more
// rather than guess which one was meant.
func (ev *evaluator) single(c *call, i int, v Value) (Value, error) {
	if v.kind != Multi {
		return v, nil
	}
	if len(v.elems) == 1 {
		e := v.elems[0]
		e.redacted = v.redacted
		return e, nil
	}
	return Value{}, fmt.Errorf("%s has %d values where one is expected; pick one with Item or combine them with Join", argName(c, i), len(v.elems))
}

// text returns argument value v as a string; null reports isNull.
func (ev *evaluator) text(c *call, i int, v Value) (s string, isNull bool, err error) {
	v, err = ev.single(c, i, v)
	if err != nil || v.kind == Null {
		return "", true, err
	}
	return v.Text(), false, nil
}

// integer returns argument value v as an integer: an integer, or a string
// holding one.
func (ev *evaluator) integer(c *call, i int, v Value) (n int64, isNull bool, err error) {
	v, err = ev.single(c, i, v)
	if err != nil || v.kind == Null {
		return 0, true, err
	}
	if n, ok := toInt(v); ok {
		return n, false, nil
	}
	return 0, false, fmt.Errorf("%s must be a whole number, got %s", argName(c, i), ev.show(v))
}

// toInt converts an integer, or a string holding a decimal integer, to int64.
func toInt(v Value) (int64, bool) {
	switch v.kind {
	case Int:
		return v.num, true
	case String:
		n, err := strconv.ParseInt(strings.TrimSpace(v.str), 10, 64)
		return n, err == nil
	}
	return 0, false
}

// datetime returns argument value v as an instant: a DateTime, or a string
// in one of the forms CDate reads.
func (ev *evaluator) datetime(c *call, i int, v Value) (t time.Time, isNull bool, err error) {
	v, err = ev.single(c, i, v)
	if err != nil || v.kind == Null {
		return time.Time{}, true, err
	}
	switch v.kind {
	case DateTime:
		return v.t, false, nil
	case String:
		if t, ok := parseDate(v.str); ok {
			return t, false, nil
		}
	}
	return time.Time{}, false, fmt.Errorf("%s must be a date and time (such as 2021-08-24T10:00:00Z or 8/24/2021 10:00:00 AM), got %s", argName(c, i), ev.show(v))
}

// truth converts a value to a boolean the way conditions and CBool read
// one: a boolean, "True" or "False" in any case, or a number (non-zero is
// True). Null is False.
func (ev *evaluator) truth(c *call, i int, v Value) (bool, error) {
	v, err := ev.single(c, i, v)
	if err != nil {
		return false, err
	}
	switch v.kind {
	case Null:
		return false, nil
	case Bool:
		return v.num != 0, nil
	case Int:
		return v.num != 0, nil
	case String:
		s := strings.TrimSpace(v.str)
		switch {
		case strings.EqualFold(s, "true"):
			return true, nil
		case strings.EqualFold(s, "false"):
			return false, nil
		}
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n != 0, nil
		}
	}
	return false, fmt.Errorf("%s must be True or False, got %s", argName(c, i), ev.show(v))
}

// compare evaluates a comparison. Integers compare as numbers, date-times as
// instants, anything else as case-sensitive strings; a string holding an
// integer or a date compares as one when the other side is one.
//
// Entra fails an IIF condition that reads a null or empty attribute, which
// its documentation lists as a known limitation. Ferry instead compares null
// as the empty string for = and <>, so IIF([country]="", "Other", [country])
// does what it says, and makes an ordering comparison with null false.
func (ev *evaluator) compare(n *compare) (Value, error) {
	l, err := ev.operand(n.left)
	if err != nil {
		return Value{}, err
	}
	r, err := ev.operand(n.right)
	if err != nil {
		return Value{}, err
	}
	if l.kind == Null || r.kind == Null {
		switch n.op {
		case "=":
			return BoolValue(l.Text() == r.Text()), nil
		case "<>":
			return BoolValue(l.Text() != r.Text()), nil
		}
		return BoolValue(false), nil
	}
	c := order(l, r)
	switch n.op {
	case "=":
		return BoolValue(c == 0), nil
	case "<>":
		return BoolValue(c != 0), nil
	case "<":
		return BoolValue(c < 0), nil
	case "<=":
		return BoolValue(c <= 0), nil
	case ">":
		return BoolValue(c > 0), nil
	}
	return BoolValue(c >= 0), nil
}

// operand evaluates one side of a comparison to a single value.
func (ev *evaluator) operand(n node) (Value, error) {
	v, err := ev.eval(n)
	if err != nil {
		return Value{}, err
	}
	if v.kind == Multi {
		if len(v.elems) != 1 {
			return Value{}, fmt.Errorf("comparison at position %d: a side has %d values where one is expected", n.pos(), len(v.elems))
		}
		v = v.elems[0]
	}
	return v, nil
}

// order compares two non-null single values: -1, 0 or +1.
func order(l, r Value) int {
	if l.kind == Int || r.kind == Int {
		if a, ok := toInt(l); ok {
			if b, ok := toInt(r); ok {
				return cmp3(a, b)
			}
		}
	}
	if l.kind == DateTime || r.kind == DateTime {
		a, aok := toTime(l)
		b, bok := toTime(r)
		if aok && bok {
			return a.Compare(b)
		}
	}
	return strings.Compare(l.Text(), r.Text())
}

func toTime(v Value) (time.Time, bool) {
	switch v.kind {
	case DateTime:
		return v.t, true
	case String:
		return parseDate(v.str)
	}
	return time.Time{}, false
}

func cmp3(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
