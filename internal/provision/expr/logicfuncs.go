package expr

import (
	"strings"
)

func evalBitAnd(ev *evaluator, c *call) (Value, error) {
	a := ev.readArgs(c)
	x, null1 := a.integer(0)
	y, null2 := a.integer(1)
	if a.err != nil || null1 || null2 {
		return Value{}, a.err
	}
	return IntValue(x & y), nil
}

func evalCBool(ev *evaluator, c *call) (Value, error) {
	b, err := ev.truthArg(c, 0)
	if err != nil {
		return Value{}, err
	}
	return BoolValue(b), nil
}

// evalCoalesce returns the first argument that is not null. Entra's
// defaultValue is simply the last argument, so it needs no special case;
// the empty string is a value, not null, and is returned.
func evalCoalesce(ev *evaluator, c *call) (Value, error) {
	for i := range c.args {
		v, err := ev.arg(c, i)
		if err != nil || v.kind != Null {
			return v, err
		}
	}
	return Value{}, nil
}

// evalIgnoreFlowIfNullOrEmpty marks the whole evaluation as "drop this
// attribute" when its argument is null or empty, wherever in the expression
// it sits: Entra documents it as an instruction to the provisioning service,
// not as a value.
func evalIgnoreFlowIfNullOrEmpty(ev *evaluator, c *call) (Value, error) {
	v, err := ev.arg(c, 0)
	if err != nil {
		return Value{}, err
	}
	if v.IsNullOrEmpty() {
		ev.ignore = true
		return Value{}, nil
	}
	return v, nil
}

// evalIIF evaluates only the branch the condition selects, so that the other
// may fail (or draw randomness) without consequence.
func evalIIF(ev *evaluator, c *call) (Value, error) {
	b, err := ev.truthArg(c, 0)
	if err != nil {
		return Value{}, err
	}
	if b {
		return ev.arg(c, 1)
	}
	return ev.arg(c, 2)
}

// evalIsString reports whether the expression gives a single string value.
func evalIsString(ev *evaluator, c *call) (Value, error) {
	v, err := ev.arg(c, 0)
	return BoolValue(v.kind == String), err
}

// evalNot follows Entra's description literally: True gives False and
// anything else, null included, gives True.
func evalNot(ev *evaluator, c *call) (Value, error) {
	a := ev.readArgs(c)
	v := a.single(0)
	if a.err != nil {
		return Value{}, a.err
	}
	isTrue := false
	switch v.kind {
	case Bool:
		isTrue = v.num != 0
	case String:
		isTrue = strings.EqualFold(strings.TrimSpace(v.str), "true")
	}
	return BoolValue(!isTrue), nil
}

// evalRedact passes its argument through, marking the evaluation as secret
// before the argument is evaluated so that even its errors hide values.
func evalRedact(ev *evaluator, c *call) (Value, error) {
	ev.redact = true
	v, err := ev.arg(c, 0)
	if err != nil {
		return Value{}, err
	}
	return v.redact(), nil
}

// evalSwitch compares the source with each key, case-sensitively, and
// returns the value of the first key that matches, else the default. A null
// source compares as "", so a "" key catches absent attributes, as Entra
// recommends.
//
// Entra documents a bug where Switch evaluates to null when some other
// mapped attribute changed but the Switch source did not, nulling the
// target. Here Switch is a pure function of its arguments: the source is
// read on every evaluation, whatever else changed.
func evalSwitch(ev *evaluator, c *call) (Value, error) {
	src, _, err := ev.textArg(c, 0)
	if err != nil {
		return Value{}, err
	}
	for i := 2; i+1 < len(c.args); i += 2 {
		key, _, err := ev.textArg(c, i)
		if err != nil {
			return Value{}, err
		}
		if key == src {
			return ev.arg(c, i+1)
		}
	}
	return ev.arg(c, 1)
}
