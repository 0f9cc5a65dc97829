package expr

import (
	"fmt"
	"strings"
)

func evalCount(ev *evaluator, c *call) (Value, error) {
	v, err := ev.arg(c, 0)
	return IntValue(int64(v.Len())), err
}

func evalItem(ev *evaluator, c *call) (Value, error) {
	a := ev.readArgs(c)
	n, null := a.integer(1)
	if a.err != nil || null {
		return Value{}, a.err
	}
	if n < 1 {
		return Value{}, fmt.Errorf("%s is 1-based and must be at least 1, got %d", argName(c, 1), n)
	}
	items := a.value(0).Values()
	if n > int64(len(items)) {
		return Value{}, nil
	}
	return items[n-1], nil
}

func checkItem(c *call) *Error {
	if n, ok := constInt(c.args[1]); ok && n < 1 {
		return argErrorf(c, 1, "is 1-based and must be at least 1, not %d", n)
	}
	return nil
}

// evalJoin joins the non-empty values of its sources, each value of a
// multi-valued source on its own. Empty values are skipped: Entra's own
// example Join(", ", "", [surname], [givenName]) gives "Doe, John". When
// every source is null the result is null, so that nothing is provisioned.
func evalJoin(ev *evaluator, c *call) (Value, error) {
	a := ev.readArgs(c)
	sep, _ := a.text(0)
	if a.err != nil {
		return Value{}, a.err
	}
	var parts []string
	present, total := false, 0
	for _, v := range a.vs[1:] {
		for _, e := range v.Values() {
			present = true
			if s := e.Text(); s != "" {
				parts = append(parts, s)
				if total += len(s) + len(sep); total > MaxValueSize {
					return Value{}, errTooLong()
				}
			}
		}
	}
	if !present {
		return Value{}, nil
	}
	return StringValue(strings.Join(parts, sep)), nil
}

// evalRemoveDuplicates keeps the first of equal values, in order; the
// comparison is exact, case included.
func evalRemoveDuplicates(ev *evaluator, c *call) (Value, error) {
	v, err := ev.arg(c, 0)
	if err != nil || v.kind != Multi {
		return v, err
	}
	var out []Value
	for _, e := range v.elems {
		dup := false
		for _, o := range out {
			if o.equal(e) {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, e)
		}
	}
	r := MultiValue(out...)
	r.redacted = v.redacted
	return r, nil
}

// evalSplit splits on the delimiter and trims white space around each part:
// Entra's documented example splits "PermissionSetOne, PermissionSetTwo" on
// "," into ["PermissionSetOne", "PermissionSetTwo"].
func evalSplit(ev *evaluator, c *call) (Value, error) {
	a := ev.readArgs(c)
	s, null := a.text(0)
	if a.err != nil || null {
		return Value{}, a.err
	}
	delim, _ := a.text(1)
	if a.err != nil {
		return Value{}, a.err
	}
	if delim == "" {
		return Value{}, fmt.Errorf("%s must not be empty", argName(c, 1))
	}
	parts := strings.Split(s, delim)
	out := make([]Value, len(parts))
	for i, p := range parts {
		out[i] = StringValue(strings.TrimSpace(p))
	}
	return MultiValue(out...), nil
}

func checkSplit(c *call) *Error {
	if s, ok := c.args[1].(*strLit); ok && s.s == "" {
		return argErrorf(c, 1, "must not be empty")
	}
	return nil
}
