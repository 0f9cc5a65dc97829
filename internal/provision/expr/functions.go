package expr

import (
	"strconv"
	"strings"
	"time"
)

// argKind says what a parameter must be, so that Check can reject a constant
// argument of the wrong kind when a mapping is saved rather than when it
// first runs.
type argKind uint8

const (
	anyArg      argKind = iota
	intArg              // a whole number, or a string holding one
	dateArg             // a date-time, or a string CDate reads
	intervalArg         // a DateAdd/DateDiff interval: yyyy, m, d, ww, h, n, s
	regexArg            // a regular expression
	formatArg           // a .NET custom date and time format string
	stylesArg           // .NET DateTimeStyles names
	compareArg          // vbTextCompare or vbBinaryCompare
	cultureArg          // a culture name such as en-US
)

// param is one declared parameter of a function.
type param struct {
	name     string
	kind     argKind
	optional bool // may be left empty
}

// function is a built-in function: its signature, what Check verifies
// beyond the signature, and its implementation.
type function struct {
	name   string
	params []param
	min    int  // fewest arguments; 0 means up to the last required parameter
	repeat int  // how many trailing params repeat (Join's sources, Switch's key/value pairs)
	even   bool // the argument count must be even (Switch)
	eval   func(ev *evaluator, c *call) (Value, error)
	check  func(c *call) *Error // checks beyond each argument's kind, or nil
	reason string               // non-empty: Ferry does not support the function, and why
}

// param returns the declared parameter at argument index i.
func (f *function) param(i int) (param, bool) {
	if i < len(f.params) {
		return f.params[i], true
	}
	if f.repeat == 0 {
		return param{}, false
	}
	first := len(f.params) - f.repeat
	return f.params[first+(i-first)%f.repeat], true
}

// minArgs is the fewest arguments f takes.
func (f *function) minArgs() int {
	if f.min > 0 {
		return f.min
	}
	n := 0
	for i, p := range f.params {
		if !p.optional {
			n = i + 1
		}
	}
	return n
}

// maxArgs is the most arguments f takes, or -1 for no limit.
func (f *function) maxArgs() int {
	if f.repeat > 0 {
		return -1
	}
	return len(f.params)
}

// usage is f's signature as Entra's documentation writes it.
func (f *function) usage() string {
	names := make([]string, 0, len(f.params)+f.repeat+1)
	first := len(f.params) - f.repeat
	for i, p := range f.params {
		if f.repeat > 0 && i >= first {
			names = append(names, p.name+"1")
			continue
		}
		names = append(names, p.name)
	}
	if f.repeat > 0 {
		for _, p := range f.params[first:] {
			names = append(names, p.name+"2")
		}
		names = append(names, "…")
	}
	return f.name + "(" + strings.Join(names, ", ") + ")"
}

func req(name string) param               { return param{name: name} }
func opt(name string) param               { return param{name: name, optional: true} }
func reqOf(name string, k argKind) param  { return param{name: name, kind: k} }
func optOf(name string, k argKind) param  { return param{name: name, kind: k, optional: true} }
func params(ps ...param) []param          { return ps }
func one(name string) []param             { return params(req(name)) }
func fn(name string, ps []param) function { return function{name: name, params: ps} }

// lookup returns the built-in function called name (case-sensitive, as in
// Entra), or nil.
func lookup(name string) *function {
	var f function
	switch name {
	case "Append":
		f = fn(name, params(req("source"), req("suffix")))
		f.eval = evalAppend
	case "BitAnd":
		f = fn(name, params(reqOf("value1", intArg), reqOf("value2", intArg)))
		f.eval = evalBitAnd
	case "CBool":
		f = fn(name, one("expression"))
		f.eval = evalCBool
	case "CDate":
		f = fn(name, params(reqOf("expression", dateArg)))
		f.eval = evalCDate
	case "Coalesce":
		f = fn(name, one("source"))
		f.repeat = 1
		f.eval = evalCoalesce
	case "ConvertToBase64":
		f = fn(name, one("source"))
		f.eval = evalConvertToBase64
	case "ConvertToUTF8Hex":
		f = fn(name, one("source"))
		f.eval = evalConvertToUTF8Hex
	case "Count":
		f = fn(name, one("attribute"))
		f.eval = evalCount
	case "CStr":
		f = fn(name, one("value"))
		f.eval = evalCStr
	case "DateAdd":
		f = fn(name, params(reqOf("interval", intervalArg), reqOf("value", intArg), reqOf("dateTime", dateArg)))
		f.eval = evalDateAdd
	case "DateDiff":
		f = fn(name, params(reqOf("interval", intervalArg), reqOf("date1", dateArg), reqOf("date2", dateArg)))
		f.eval = evalDateDiff
	case "DateFromNum":
		f = fn(name, params(reqOf("value", intArg)))
		f.eval = evalDateFromNum
	case "FormatDateTime":
		f = fn(name, params(req("source"), optOf("dateTimeStyles", stylesArg), reqOf("inputFormat", formatArg), reqOf("outputFormat", formatArg)))
		f.eval = evalFormatDateTime
	case "Guid":
		f = fn(name, nil)
		f.eval = evalGuid
	case "IgnoreFlowIfNullOrEmpty":
		f = fn(name, one("expression"))
		f.eval = evalIgnoreFlowIfNullOrEmpty
	case "IIF":
		f = fn(name, params(req("condition"), req("valueIfTrue"), req("valueIfFalse")))
		f.eval = evalIIF
	case "InStr":
		f = fn(name, params(req("value1"), req("value2"), optOf("start", intArg), optOf("compareType", compareArg)))
		f.eval = evalInStr
	case "IsNull":
		f = fn(name, one("expression"))
		f.eval = func(ev *evaluator, c *call) (Value, error) {
			v, err := ev.arg(c, 0)
			return BoolValue(v.kind == Null), err
		}
	case "IsNullOrEmpty":
		f = fn(name, one("expression"))
		f.eval = func(ev *evaluator, c *call) (Value, error) {
			v, err := ev.arg(c, 0)
			return BoolValue(v.IsNullOrEmpty()), err
		}
	case "IsPresent":
		f = fn(name, one("expression"))
		f.eval = func(ev *evaluator, c *call) (Value, error) {
			v, err := ev.arg(c, 0)
			return BoolValue(!v.IsNullOrEmpty()), err
		}
	case "IsString":
		f = fn(name, one("expression"))
		f.eval = evalIsString
	case "Item":
		f = fn(name, params(req("attribute"), reqOf("index", intArg)))
		f.eval = evalItem
		f.check = checkItem
	case "Join":
		f = fn(name, params(req("separator"), req("source")))
		f.repeat = 1
		f.eval = evalJoin
	case "Left":
		f = fn(name, params(req("String"), reqOf("NumChars", intArg)))
		f.eval = evalLeft
	case "Mid":
		f = fn(name, params(req("source"), reqOf("start", intArg), reqOf("length", intArg)))
		f.eval = evalMid
		f.check = checkMid
	case "NormalizeDiacritics":
		f = fn(name, one("source"))
		f.eval = evalNormalizeDiacritics
	case "Not":
		f = fn(name, one("source"))
		f.eval = evalNot
	case "Now":
		f = fn(name, nil)
		f.eval = func(ev *evaluator, _ *call) (Value, error) { return TimeValue(ev.env.Now()), nil }
	case "NumFromDate":
		f = fn(name, params(reqOf("value", dateArg)))
		f.eval = evalNumFromDate
	case "PCase":
		f = fn(name, params(req("source"), opt("wordSeparators")))
		f.eval = evalPCase
	case "RandomString":
		f = fn(name, params(reqOf("Length", intArg), reqOf("MinimumNumbers", intArg), reqOf("MinimumSpecialCharacters", intArg),
			reqOf("MinimumCapital", intArg), reqOf("MinimumLowerCase", intArg), opt("CharactersToAvoid")))
		f.eval = evalRandomString
		f.check = checkRandomString
	case "Redact":
		f = fn(name, one("value"))
		f.eval = evalRedact
	case "RemoveDuplicates":
		f = fn(name, one("attribute"))
		f.eval = evalRemoveDuplicates
	case "Replace":
		f = fn(name, params(req("source"), opt("oldValue"), optOf("regexPattern", regexArg), opt("regexGroupName"),
			opt("replacementValue"), opt("replacementAttributeName"), opt("template")))
		f.min = 5
		f.eval = evalReplace
		f.check = checkReplace
	case "Split":
		f = fn(name, params(req("source"), req("delimiter")))
		f.eval = evalSplit
		f.check = checkSplit
	case "StripSpaces":
		f = fn(name, one("source"))
		f.eval = evalStripSpaces
	case "Switch":
		f = fn(name, params(req("source"), opt("defaultValue"), req("key"), req("value")))
		f.repeat = 2
		f.even = true
		f.eval = evalSwitch
	case "ToLower":
		f = fn(name, params(req("source"), optOf("culture", cultureArg)))
		f.eval = func(ev *evaluator, c *call) (Value, error) { return evalCase(ev, c, false) }
	case "ToUpper":
		f = fn(name, params(req("source"), optOf("culture", cultureArg)))
		f.eval = func(ev *evaluator, c *call) (Value, error) { return evalCase(ev, c, true) }
	case "Word":
		f = fn(name, params(req("String"), reqOf("WordNumber", intArg), req("Delimiters")))
		f.eval = evalWord
	case "AppRoleAssignmentsComplex", "AssertiveAppRoleAssignmentsComplex", "SingleAppRoleAssignment":
		f = fn(name, one("appRoleAssignments"))
		f.reason = "it reads Entra's app role assignments, which Ferry's source directory does not have"
	case "SelectUniqueValue":
		f = fn(name, one("uniqueValueRule"))
		f.repeat = 1
		f.reason = "it checks uniqueness in the target directory, which Entra supports only for on-premises Active Directory"
	default:
		return nil
	}
	return &f
}

// builtinNames lists every function name lookup knows, for suggestions.
func builtinNames() []string {
	return []string{
		"Append", "AppRoleAssignmentsComplex", "AssertiveAppRoleAssignmentsComplex", "BitAnd", "CBool", "CDate",
		"Coalesce", "ConvertToBase64", "ConvertToUTF8Hex", "Count", "CStr", "DateAdd", "DateDiff", "DateFromNum",
		"FormatDateTime", "Guid", "IgnoreFlowIfNullOrEmpty", "IIF", "InStr", "IsNull", "IsNullOrEmpty", "IsPresent",
		"IsString", "Item", "Join", "Left", "Mid", "NormalizeDiacritics", "Not", "Now", "NumFromDate", "PCase",
		"RandomString", "Redact", "RemoveDuplicates", "Replace", "SelectUniqueValue", "SingleAppRoleAssignment",
		"Split", "StripSpaces", "Switch", "ToLower", "ToUpper", "Word",
	}
}

// constInt returns the value of an integer constant argument (a number, or
// a string holding one).
func constInt(n node) (int64, bool) {
	switch n := n.(type) {
	case *intLit:
		return n.n, true
	case *strLit:
		v, err := strconv.ParseInt(strings.TrimSpace(n.s), 10, 64)
		return v, err == nil
	}
	return 0, false
}

// argReader reads a call's arguments, all evaluated up front, converting
// them in order. It keeps the first failure, of evaluation or conversion,
// in err, and every later read then gives a zero (null) value, so that a
// function checks err once after the arguments it needs rather than after
// each; the error is the one the first failing step gave.
type argReader struct {
	ev  *evaluator
	c   *call
	vs  []Value
	err error
}

// readArgs evaluates every argument of c for reading.
func (ev *evaluator) readArgs(c *call) *argReader {
	vs, err := ev.args(c)
	return &argReader{ev: ev, c: c, vs: vs, err: err}
}

// value returns argument i as evaluated; null when it was left out.
func (r *argReader) value(i int) Value {
	if r.err != nil {
		return Value{}
	}
	return at(r.vs, i)
}

// single returns the one value argument i holds (see evaluator.single).
func (r *argReader) single(i int) Value {
	if r.err != nil {
		return Value{}
	}
	v, err := r.ev.single(r.c, i, at(r.vs, i))
	r.err = err
	return v
}

// text returns argument i as a string; null reports isNull.
func (r *argReader) text(i int) (s string, isNull bool) {
	if r.err != nil {
		return "", true
	}
	s, isNull, r.err = r.ev.text(r.c, i, at(r.vs, i))
	return s, isNull
}

// integer returns argument i as a whole number; null reports isNull.
func (r *argReader) integer(i int) (n int64, isNull bool) {
	if r.err != nil {
		return 0, true
	}
	n, isNull, r.err = r.ev.integer(r.c, i, at(r.vs, i))
	return n, isNull
}

// datetime returns argument i as an instant; null reports isNull.
func (r *argReader) datetime(i int) (t time.Time, isNull bool) {
	if r.err != nil {
		return time.Time{}, true
	}
	t, isNull, r.err = r.ev.datetime(r.c, i, at(r.vs, i))
	return t, isNull
}

// textArg evaluates argument i alone and returns it as a string, for
// functions that must not evaluate every argument (Switch); null reports
// isNull.
func (ev *evaluator) textArg(c *call, i int) (s string, isNull bool, err error) {
	v, err := ev.arg(c, i)
	if err != nil {
		return "", true, err
	}
	return ev.text(c, i, v)
}

// truthArg evaluates argument i alone and returns it as a boolean, for
// functions that must not evaluate every argument (IIF).
func (ev *evaluator) truthArg(c *call, i int) (bool, error) {
	v, err := ev.arg(c, i)
	if err != nil {
		return false, err
	}
	return ev.truth(c, i, v)
}
