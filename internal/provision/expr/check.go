package expr

import (
	"fmt"
	"strconv"
	"strings"
)

// AttributeChecker reports whether an attribute path may be referenced,
// with an error saying why not. SchemaChecker builds one from a SCIM
// resource type.
type AttributeChecker func(path string) error

// Compile parses src and checks it (see Check): what the admin API does
// when an administrator saves an expression mapping.
func Compile(src string, attrs AttributeChecker) (*Expression, error) {
	e, err := Parse(src)
	if err != nil {
		return nil, err
	}
	if err := e.Check(attrs); err != nil {
		return nil, err
	}
	return e, nil
}

// Check validates the expression: every function exists (with the correctly
// cased name suggested when only case differs) and is supported, gets an
// accepted number of arguments, and gets no empty argument where one is
// required; every attribute reference passes attrs (nil accepts any); and
// constant arguments are of the right kind where that can be told before
// evaluation: DateAdd and DateDiff intervals, whole numbers, dates,
// regular expressions, date and time formats and styles, InStr compare
// types, culture names, Replace's argument combination, RandomString's
// limits, Item's and Mid's 1-based positions.
//
// The error is the first problem in source order, an *Error whose Msg is
// one sentence naming the function and argument.
func (e *Expression) Check(attrs AttributeChecker) error {
	if err := check(e.root, attrs, false); err != nil {
		return err
	}
	return nil
}

// check validates n; nameOK says whether a bare named constant may stand
// here (only as InStr's compareType).
func check(n node, attrs AttributeChecker, nameOK bool) *Error {
	switch n := n.(type) {
	case *attrRef:
		if attrs != nil {
			if err := attrs(n.path); err != nil {
				return errorf(n.at, "attribute [%s]: %v", n.path, err)
			}
		}
	case *nameLit:
		if !nameOK {
			return errorf(n.at, "%s can only be given as InStr's compareType", n.name)
		}
	case *compare:
		if err := check(n.left, attrs, false); err != nil {
			return err
		}
		return check(n.right, attrs, false)
	case *call:
		if err := checkCall(n); err != nil {
			return err
		}
		for i, a := range n.args {
			p, _ := n.fn.param(i)
			if err := checkArg(n, i, p.kind); err != nil {
				return err
			}
			if err := check(a, attrs, p.kind == compareArg); err != nil {
				return err
			}
		}
		if n.fn.check != nil {
			return n.fn.check(n)
		}
	}
	return nil
}

// checkCall checks what Eval cannot do without: a known, supported function
// with an accepted number of arguments and no required argument left empty.
func checkCall(c *call) *Error {
	if c.fn == nil {
		for _, name := range builtinNames() {
			if strings.EqualFold(name, c.name) {
				return errorf(c.at, "unknown function %q; did you mean %q? Function names are case-sensitive", c.name, name)
			}
		}
		return errorf(c.at, "unknown function %q", c.name)
	}
	f := c.fn
	if f.reason != "" {
		return errorf(c.at, "Ferry does not support the function %s: %s", f.name, f.reason)
	}
	n, lo, hi := len(c.args), f.minArgs(), f.maxArgs()
	switch {
	case f.even && (n < lo || n%2 != 0):
		return errorf(c.at, "%s takes an even number of arguments, at least %d, as in %s, but is given %d", f.name, lo, f.usage(), n)
	case hi < 0 && n < lo:
		return errorf(c.at, "%s takes at least %d arguments, as in %s, but is given %d", f.name, lo, f.usage(), n)
	case hi >= 0 && (n < lo || n > hi):
		return errorf(c.at, "%s takes %s, as in %s, but is given %d", f.name, countArgs(lo, hi), f.usage(), n)
	}
	for i, a := range c.args {
		if _, empty := a.(*missing); empty {
			if p, _ := f.param(i); !p.optional {
				return argErrorf(c, i, "is required but empty")
			}
		}
	}
	return nil
}

// countArgs says how many arguments a function takes: "no arguments",
// "1 argument", "2 to 4 arguments".
func countArgs(lo, hi int) string {
	switch {
	case hi == 0:
		return "no arguments"
	case lo == hi && hi == 1:
		return "1 argument"
	case lo == hi:
		return strconv.Itoa(hi) + " arguments"
	}
	return fmt.Sprintf("%d to %d arguments", lo, hi)
}

// argErrorf returns an *Error at argument i of c: "Mid argument 2 (start) …".
func argErrorf(c *call, i int, format string, args ...any) *Error {
	pos := c.at
	if i < len(c.args) {
		pos = c.args[i].pos()
	}
	return errorf(pos, "%s %s %s", c.name, argName(c, i), fmt.Sprintf(format, args...))
}

// checkArg checks argument i of c against the kind its parameter expects,
// when the argument is a constant.
func checkArg(c *call, i int, kind argKind) *Error {
	a := c.args[i]
	if cmp, ok := a.(*compare); ok {
		switch kind {
		case intArg, dateArg, intervalArg, regexArg, formatArg, stylesArg, compareArg, cultureArg:
			return errorf(cmp.at, "%s %s is a comparison, which gives True or False", c.name, argName(c, i))
		}
		return nil
	}
	if name, ok := a.(*nameLit); ok {
		if kind != compareArg {
			return errorf(name.at, "%s can only be given as InStr's compareType", name.name)
		}
		return nil
	}
	str, isStr := a.(*strLit)
	num, isNum := a.(*intLit)
	if !isStr && !isNum {
		return nil
	}
	switch kind {
	case intArg:
		if isStr {
			if _, err := strconv.ParseInt(strings.TrimSpace(str.s), 10, 64); err != nil {
				return argErrorf(c, i, "must be a whole number, not %q", str.s)
			}
		}
	case dateArg:
		if isNum {
			return argErrorf(c, i, "must be a date and time, not the number %d", num.n)
		}
		if _, ok := parseDate(str.s); !ok {
			return argErrorf(c, i, "must be a date and time (such as 2021-08-24T10:00:00Z or 8/24/2021 10:00:00 AM), not %q", str.s)
		}
	case intervalArg:
		if isNum || !isInterval(str.s) {
			return argErrorf(c, i, "must be one of yyyy, m, d, ww, h, n, s, not %s", constText(a))
		}
	case regexArg:
		if isNum {
			return argErrorf(c, i, "must be a regular expression in quotes, not the number %d", num.n)
		}
		if _, err := compileRegex(str.s); err != nil {
			return argErrorf(c, i, "is invalid: %v", err)
		}
	case formatArg:
		if isNum {
			return argErrorf(c, i, "must be a date and time format in quotes, not the number %d", num.n)
		}
		if _, err := parseFormat(str.s); err != nil {
			return argErrorf(c, i, "is invalid: %v", err)
		}
	case stylesArg:
		if isNum {
			return argErrorf(c, i, "must be DateTimeStyles names in quotes, not the number %d", num.n)
		}
		if _, err := parseStyles(str.s); err != nil {
			return argErrorf(c, i, "is invalid: %v", err)
		}
	case compareArg:
		if _, ok := compareType(constValue(a)); !ok {
			return argErrorf(c, i, "must be vbTextCompare or vbBinaryCompare, not %s", constText(a))
		}
	case cultureArg:
		if isNum || str.s != "" && !isCultureName(str.s) {
			return argErrorf(c, i, "must be a culture name such as en-US, not %s", constText(a))
		}
	}
	return nil
}

// constValue returns the value of a constant node.
func constValue(n node) Value {
	switch n := n.(type) {
	case *strLit:
		return StringValue(n.s)
	case *intLit:
		return IntValue(n.n)
	case *nameLit:
		return StringValue(n.name)
	}
	return Value{}
}

// constText writes a constant for an error message as it was written.
func constText(n node) string {
	var b strings.Builder
	write(&b, n)
	return b.String()
}
