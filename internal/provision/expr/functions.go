package expr

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf16"
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

func evalAppend(ev *evaluator, c *call) (Value, error) {
	vs, err := ev.args(c)
	if err != nil {
		return Value{}, err
	}
	s, null, err := ev.text(c, 0, vs[0])
	if err != nil || null {
		return Value{}, err
	}
	suffix, _, err := ev.text(c, 1, vs[1])
	if err != nil {
		return Value{}, err
	}
	return StringValue(s + suffix), nil
}

func evalBitAnd(ev *evaluator, c *call) (Value, error) {
	vs, err := ev.args(c)
	if err != nil {
		return Value{}, err
	}
	a, null1, err := ev.integer(c, 0, vs[0])
	if err != nil {
		return Value{}, err
	}
	b, null2, err := ev.integer(c, 1, vs[1])
	if err != nil || null1 || null2 {
		return Value{}, err
	}
	return IntValue(a & b), nil
}

func evalCBool(ev *evaluator, c *call) (Value, error) {
	v, err := ev.arg(c, 0)
	if err != nil {
		return Value{}, err
	}
	b, err := ev.truth(c, 0, v)
	return BoolValue(b), err
}

func evalCDate(ev *evaluator, c *call) (Value, error) {
	v, err := ev.arg(c, 0)
	if err != nil {
		return Value{}, err
	}
	t, null, err := ev.datetime(c, 0, v)
	if err != nil || null {
		return Value{}, err
	}
	return TimeValue(t), nil
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

// evalConvertToBase64 encodes the UTF-16LE bytes of the string, as .NET's
// Encoding.Unicode does.
func evalConvertToBase64(ev *evaluator, c *call) (Value, error) {
	v, err := ev.arg(c, 0)
	if err != nil {
		return Value{}, err
	}
	s, null, err := ev.text(c, 0, v)
	if err != nil || null {
		return Value{}, err
	}
	units := utf16.Encode([]rune(s))
	buf := make([]byte, 0, 2*len(units))
	for _, u := range units {
		buf = binary.LittleEndian.AppendUint16(buf, u)
	}
	return StringValue(base64.StdEncoding.EncodeToString(buf)), nil
}

func evalConvertToUTF8Hex(ev *evaluator, c *call) (Value, error) {
	v, err := ev.arg(c, 0)
	if err != nil {
		return Value{}, err
	}
	s, null, err := ev.text(c, 0, v)
	if err != nil || null {
		return Value{}, err
	}
	return StringValue(strings.ToUpper(hex.EncodeToString([]byte(s)))), nil
}

func evalCount(ev *evaluator, c *call) (Value, error) {
	v, err := ev.arg(c, 0)
	return IntValue(int64(v.Len())), err
}

func evalCStr(ev *evaluator, c *call) (Value, error) {
	v, err := ev.arg(c, 0)
	if err != nil {
		return Value{}, err
	}
	s, null, err := ev.text(c, 0, v)
	if err != nil || null {
		return Value{}, err
	}
	return StringValue(s), nil
}

// isInterval reports whether s is one of the intervals DateAdd and DateDiff
// take. Entra documents them in lower case, and VB's DateDiff compares them
// case-sensitively, so "D" is not "d".
func isInterval(s string) bool {
	switch s {
	case "yyyy", "m", "d", "ww", "h", "n", "s":
		return true
	}
	return false
}

func (ev *evaluator) interval(c *call, v Value) (string, error) {
	s, _, err := ev.text(c, 0, v)
	if err != nil {
		return "", err
	}
	if !isInterval(s) {
		return "", fmt.Errorf("%s must be one of yyyy, m, d, ww, h, n, s, got %s", argName(c, 0), ev.show(v))
	}
	return s, nil
}

func evalDateAdd(ev *evaluator, c *call) (Value, error) {
	vs, err := ev.args(c)
	if err != nil {
		return Value{}, err
	}
	interval, err := ev.interval(c, vs[0])
	if err != nil {
		return Value{}, err
	}
	n, null1, err := ev.integer(c, 1, vs[1])
	if err != nil {
		return Value{}, err
	}
	t, null2, err := ev.datetime(c, 2, vs[2])
	if err != nil || null1 || null2 {
		return Value{}, err
	}
	r, ok := dateAdd(interval, n, t)
	if !ok {
		return Value{}, fmt.Errorf("adding %d %s to %s goes outside the years 1 to 9999", n, interval, t.Format(dateTimeLayout))
	}
	return TimeValue(r), nil
}

func evalDateDiff(ev *evaluator, c *call) (Value, error) {
	vs, err := ev.args(c)
	if err != nil {
		return Value{}, err
	}
	interval, err := ev.interval(c, vs[0])
	if err != nil {
		return Value{}, err
	}
	t1, null1, err := ev.datetime(c, 1, vs[1])
	if err != nil {
		return Value{}, err
	}
	t2, null2, err := ev.datetime(c, 2, vs[2])
	if err != nil || null1 || null2 {
		return Value{}, err
	}
	return IntValue(dateDiff(interval, t1, t2)), nil
}

func evalDateFromNum(ev *evaluator, c *call) (Value, error) {
	v, err := ev.arg(c, 0)
	if err != nil {
		return Value{}, err
	}
	n, null, err := ev.integer(c, 0, v)
	if err != nil || null {
		return Value{}, err
	}
	if n < 0 {
		return Value{}, fmt.Errorf("%s must not be negative, got %d", argName(c, 0), n)
	}
	return TimeValue(fromFiletime(n)), nil
}

func evalNumFromDate(ev *evaluator, c *call) (Value, error) {
	v, err := ev.arg(c, 0)
	if err != nil {
		return Value{}, err
	}
	t, null, err := ev.datetime(c, 0, v)
	if err != nil || null {
		return Value{}, err
	}
	n, ok := toFiletime(t)
	if !ok {
		return Value{}, fmt.Errorf("%s is before 1601, the start of Active Directory time", t.Format(dateTimeLayout))
	}
	return IntValue(n), nil
}

func evalFormatDateTime(ev *evaluator, c *call) (Value, error) {
	vs, err := ev.args(c)
	if err != nil {
		return Value{}, err
	}
	src, err := ev.single(c, 0, vs[0])
	if err != nil || src.kind == Null {
		return Value{}, err
	}
	styleText, _, err := ev.text(c, 1, vs[1])
	if err != nil {
		return Value{}, err
	}
	styles, err := parseStyles(styleText)
	if err != nil {
		return Value{}, fmt.Errorf("%s: %w", argName(c, 1), err)
	}
	inFormat, _, err := ev.text(c, 2, vs[2])
	if err != nil {
		return Value{}, err
	}
	outFormat, _, err := ev.text(c, 3, vs[3])
	if err != nil {
		return Value{}, err
	}
	out, err := parseFormat(outFormat)
	if err != nil {
		return Value{}, fmt.Errorf("%s: %w", argName(c, 3), err)
	}
	var d parsedTime
	if t, ok := src.Time(); ok {
		// A DateTime (from CDate or Now) needs no parsing; inputFormat
		// describes strings.
		d = parsedTime{t: t, kind: kindUTC}
	} else {
		in, err := parseFormat(inFormat)
		if err != nil {
			return Value{}, fmt.Errorf("%s: %w", argName(c, 2), err)
		}
		d, err = parseTime(src.Text(), in, styles, ev.env.Now())
		if err != nil {
			return Value{}, fmt.Errorf("%s does not match the inputFormat %q: %w", ev.show(src), inFormat, err)
		}
	}
	return StringValue(formatTime(d, out)), nil
}

func evalGuid(ev *evaluator, _ *call) (Value, error) {
	var b [16]byte
	if _, err := io.ReadFull(ev.env.Rand, b[:]); err != nil {
		return Value{}, fmt.Errorf("reading randomness: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
	h := hex.EncodeToString(b[:])
	return StringValue(h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]), nil
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
	cond, err := ev.arg(c, 0)
	if err != nil {
		return Value{}, err
	}
	b, err := ev.truth(c, 0, cond)
	if err != nil {
		return Value{}, err
	}
	if b {
		return ev.arg(c, 1)
	}
	return ev.arg(c, 2)
}

// evalInStr returns the 1-based position of value2 in value1 from start,
// or 0. Positions count characters. vbTextCompare ignores case.
func evalInStr(ev *evaluator, c *call) (Value, error) {
	vs, err := ev.args(c)
	if err != nil {
		return Value{}, err
	}
	s, null1, err := ev.text(c, 0, vs[0])
	if err != nil {
		return Value{}, err
	}
	sub, null2, err := ev.text(c, 1, vs[1])
	if err != nil || null1 || null2 {
		return Value{}, err
	}
	start := int64(1)
	if n, null, err := ev.integer(c, 2, at(vs, 2)); err != nil {
		return Value{}, err
	} else if !null {
		start = n
	}
	if start < 1 {
		return Value{}, fmt.Errorf("%s must be at least 1, got %d", argName(c, 2), start)
	}
	text := false
	if v := at(vs, 3); v.kind != Null {
		t, ok := compareType(v)
		if !ok {
			return Value{}, fmt.Errorf("%s must be vbTextCompare or vbBinaryCompare, got %s", argName(c, 3), ev.show(v))
		}
		text = t
	}
	runes := []rune(s)
	if start > int64(len(runes))+1 {
		return IntValue(0), nil
	}
	hay := string(runes[start-1:])
	if text {
		hay, sub = strings.ToLower(hay), strings.ToLower(sub)
	}
	i := strings.Index(hay, sub)
	if i < 0 {
		return IntValue(0), nil
	}
	return IntValue(start + int64(len([]rune(hay[:i])))), nil
}

// compareType reads InStr's compareType: the named constants, their names
// as strings, or VB's values (0 binary, 1 text). It reports whether the
// comparison ignores case.
func compareType(v Value) (text, ok bool) {
	switch v.Text() {
	case "vbTextCompare", "1":
		return true, true
	case "vbBinaryCompare", "0":
		return false, true
	}
	return false, false
}

// evalIsString reports whether the expression gives a single string value.
func evalIsString(ev *evaluator, c *call) (Value, error) {
	v, err := ev.arg(c, 0)
	return BoolValue(v.kind == String), err
}

func evalItem(ev *evaluator, c *call) (Value, error) {
	vs, err := ev.args(c)
	if err != nil {
		return Value{}, err
	}
	n, null, err := ev.integer(c, 1, vs[1])
	if err != nil || null {
		return Value{}, err
	}
	if n < 1 {
		return Value{}, fmt.Errorf("%s is 1-based and must be at least 1, got %d", argName(c, 1), n)
	}
	items := vs[0].Values()
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
	vs, err := ev.args(c)
	if err != nil {
		return Value{}, err
	}
	sep, _, err := ev.text(c, 0, vs[0])
	if err != nil {
		return Value{}, err
	}
	var parts []string
	present, total := false, 0
	for _, v := range vs[1:] {
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

// evalLeft follows Entra's documented edge cases: 0 characters give "",
// a negative count gives the whole string, and null gives "".
func evalLeft(ev *evaluator, c *call) (Value, error) {
	vs, err := ev.args(c)
	if err != nil {
		return Value{}, err
	}
	s, _, err := ev.text(c, 0, vs[0])
	if err != nil {
		return Value{}, err
	}
	n, null, err := ev.integer(c, 1, vs[1])
	if err != nil || null {
		return Value{}, err
	}
	r := []rune(s)
	if n < 0 || n >= int64(len(r)) {
		return StringValue(s), nil
	}
	return StringValue(string(r[:n])), nil
}

// evalMid returns length characters from the 1-based start, fewer when the
// string ends first.
func evalMid(ev *evaluator, c *call) (Value, error) {
	vs, err := ev.args(c)
	if err != nil {
		return Value{}, err
	}
	s, null0, err := ev.text(c, 0, vs[0])
	if err != nil {
		return Value{}, err
	}
	start, null1, err := ev.integer(c, 1, vs[1])
	if err != nil {
		return Value{}, err
	}
	length, null2, err := ev.integer(c, 2, vs[2])
	if err != nil || null0 || null1 || null2 {
		return Value{}, err
	}
	if start < 1 {
		return Value{}, fmt.Errorf("%s is 1-based and must be at least 1, got %d", argName(c, 1), start)
	}
	if length < 0 {
		return Value{}, fmt.Errorf("%s must not be negative, got %d", argName(c, 2), length)
	}
	r := []rune(s)
	if start > int64(len(r)) {
		return StringValue(""), nil
	}
	end := min(int64(len(r)), start-1+length)
	return StringValue(string(r[start-1 : end])), nil
}

func checkMid(c *call) *Error {
	if n, ok := constInt(c.args[1]); ok && n < 1 {
		return argErrorf(c, 1, "is 1-based and must be at least 1, not %d", n)
	}
	if n, ok := constInt(c.args[2]); ok && n < 0 {
		return argErrorf(c, 2, "must not be negative, not %d", n)
	}
	return nil
}

func evalNormalizeDiacritics(ev *evaluator, c *call) (Value, error) {
	v, err := ev.arg(c, 0)
	if err != nil {
		return Value{}, err
	}
	s, null, err := ev.text(c, 0, v)
	if err != nil || null {
		return Value{}, err
	}
	r := c.replacer
	if r == nil {
		r = diacriticsReplacer()
	}
	return StringValue(r.Replace(s)), nil
}

// evalNot follows Entra's description literally: True gives False and
// anything else, null included, gives True.
func evalNot(ev *evaluator, c *call) (Value, error) {
	v, err := ev.arg(c, 0)
	if err != nil {
		return Value{}, err
	}
	v, err = ev.single(c, 0, v)
	if err != nil {
		return Value{}, err
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

func evalPCase(ev *evaluator, c *call) (Value, error) {
	vs, err := ev.args(c)
	if err != nil {
		return Value{}, err
	}
	s, null, err := ev.text(c, 0, vs[0])
	if err != nil || null {
		return Value{}, err
	}
	seps, null, err := ev.text(c, 1, at(vs, 1))
	if err != nil {
		return Value{}, err
	}
	if null {
		return StringValue(titleCase(s)), nil
	}
	return StringValue(properCase(s, seps)), nil
}

func evalRandomString(ev *evaluator, c *call) (Value, error) {
	vs, err := ev.args(c)
	if err != nil {
		return Value{}, err
	}
	var n [5]int64
	for i := range n {
		v, null, err := ev.integer(c, i, vs[i])
		if err != nil {
			return Value{}, err
		}
		if null {
			return Value{}, fmt.Errorf("%s is null", argName(c, i))
		}
		n[i] = v
	}
	avoid, _, err := ev.text(c, 5, at(vs, 5))
	if err != nil {
		return Value{}, err
	}
	if msg := randomStringProblem(n, avoid); msg != "" {
		return Value{}, fmt.Errorf("%s", msg)
	}
	s, err := randomString(ev.env.Rand, n, avoid)
	if err != nil {
		return Value{}, err
	}
	return StringValue(s), nil
}

func checkRandomString(c *call) *Error {
	var n [5]int64
	for i := range n {
		v, ok := constInt(c.args[i])
		if !ok {
			return nil
		}
		n[i] = v
	}
	avoid := ""
	if len(c.args) > 5 {
		s, ok := c.args[5].(*strLit)
		if !ok {
			if _, empty := c.args[5].(*missing); !empty {
				return nil
			}
		} else {
			avoid = s.s
		}
	}
	if msg := randomStringProblem(n, avoid); msg != "" {
		return errorf(c.at, "RandomString: %s", msg)
	}
	return nil
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

// replaceMode is which of Entra's five Replace behaviours the given
// arguments select.
type replaceMode int

const (
	replaceNone          replaceMode = iota
	replaceOldValue                  // oldValue, replacementValue
	replaceTemplate                  // oldValue, template
	replaceRegex                     // regexPattern, replacementValue
	replaceGroup                     // regexPattern, regexGroupName, replacementValue
	replaceFromAttribute             // regexPattern, regexGroupName, replacementAttributeName
)

// modeOf determines the Replace mode from which arguments are given, which
// is a matter of syntax: an attribute that happens to be null at run time
// does not switch modes.
func modeOf(c *call) replaceMode {
	has := func(i int) bool {
		if i >= len(c.args) {
			return false
		}
		_, empty := c.args[i].(*missing)
		return !empty
	}
	old, pattern, group, value, attr, template := has(1), has(2), has(3), has(4), has(5), has(6)
	switch {
	case old && !pattern && !group && !attr && value && !template:
		return replaceOldValue
	case old && !pattern && !group && !attr && !value && template:
		return replaceTemplate
	case !old && pattern && !group && value && !attr && !template:
		return replaceRegex
	case !old && pattern && group && value && !attr && !template:
		return replaceGroup
	case !old && pattern && group && !value && attr && !template:
		return replaceFromAttribute
	}
	return replaceNone
}

func checkReplace(c *call) *Error {
	if modeOf(c) == replaceNone {
		return errorf(c.at, "Replace needs one of these argument combinations, the others left empty: "+
			"oldValue and replacementValue; oldValue and template; regexPattern and replacementValue; "+
			"regexPattern, regexGroupName and replacementValue; or regexPattern, regexGroupName and replacementAttributeName")
	}
	return nil
}

func evalReplace(ev *evaluator, c *call) (Value, error) {
	mode := modeOf(c)
	if mode == replaceNone {
		return Value{}, checkReplace(c)
	}
	vs, err := ev.args(c)
	if err != nil {
		return Value{}, err
	}
	src, srcNull, err := ev.text(c, 0, vs[0])
	if err != nil {
		return Value{}, err
	}
	str := func(i int) (string, error) {
		s, _, err := ev.text(c, i, at(vs, i))
		return s, err
	}
	switch mode {
	case replaceOldValue, replaceTemplate:
		if srcNull {
			return Value{}, nil
		}
		old, err := str(1)
		if err != nil {
			return Value{}, err
		}
		if old == "" {
			return Value{}, fmt.Errorf("%s must not be empty", argName(c, 1))
		}
		var in, repl string
		if mode == replaceOldValue {
			in = src
			repl, err = str(4)
		} else {
			// The template receives the source in place of oldValue.
			repl = src
			in, err = str(6)
		}
		if err != nil {
			return Value{}, err
		}
		if len(in)+strings.Count(in, old)*(len(repl)-len(old)) > MaxValueSize {
			return Value{}, errTooLong()
		}
		return StringValue(strings.ReplaceAll(in, old, repl)), nil
	}

	re := c.re
	if re == nil {
		pattern, err := str(2)
		if err != nil {
			return Value{}, err
		}
		if re, err = compileRegex(pattern); err != nil {
			return Value{}, fmt.Errorf("%s: %w", argName(c, 2), err)
		}
	}
	switch mode {
	case replaceRegex:
		if srcNull {
			return Value{}, nil
		}
		repl, err := str(4)
		if err != nil {
			return Value{}, err
		}
		out, ok := regexReplace(re, src, repl)
		if !ok {
			return Value{}, errTooLong()
		}
		return StringValue(out), nil
	case replaceGroup:
		if srcNull {
			return Value{}, nil
		}
		group, err := str(3)
		if err != nil {
			return Value{}, err
		}
		g := re.SubexpIndex(group)
		if g < 0 {
			return Value{}, fmt.Errorf("%s: the regular expression has no group named %q", argName(c, 3), group)
		}
		repl, err := str(4)
		if err != nil {
			return Value{}, err
		}
		out, ok := replaceGroupSpans(re, g, src, repl)
		if !ok {
			return Value{}, errTooLong()
		}
		return StringValue(out), nil
	}
	// replaceFromAttribute: the source wins when it has a value.
	if !srcNull && src != "" {
		return StringValue(src), nil
	}
	group, err := str(3)
	if err != nil {
		return Value{}, err
	}
	g := re.SubexpIndex(group)
	if g < 0 {
		return Value{}, fmt.Errorf("%s: the regular expression has no group named %q", argName(c, 3), group)
	}
	other, null, err := ev.text(c, 5, at(vs, 5))
	if err != nil || null {
		return Value{}, err
	}
	m := re.FindStringSubmatchIndex(other)
	if m == nil || m[2*g] < 0 {
		return Value{}, nil
	}
	return StringValue(other[m[2*g]:m[2*g+1]]), nil
}

// compileRegex compiles a pattern, explaining the difference from .NET when
// it does not compile: Go's RE2 syntax has no lookaround or backreferences.
func compileRegex(pattern string) (*regexp.Regexp, error) {
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, fmt.Errorf("the regular expression does not compile (Ferry uses RE2 syntax, without lookaround or backreferences): %w", err)
	}
	return re, nil
}

// replaceGroupSpans replaces, in every match of re, the text the group g
// matched with repl, leaving the rest of the match alone. ok is false when
// the result would be longer than MaxValueSize.
func replaceGroupSpans(re *regexp.Regexp, g int, src, repl string) (string, bool) {
	var b strings.Builder
	last := 0
	for _, m := range re.FindAllStringSubmatchIndex(src, -1) {
		s, e := m[2*g], m[2*g+1]
		if s < 0 || s < last {
			continue
		}
		b.WriteString(src[last:s])
		b.WriteString(repl)
		last = e
		if b.Len() > MaxValueSize {
			return "", false
		}
	}
	b.WriteString(src[last:])
	return b.String(), true
}

// regexReplace is .NET's Regex.Replace: every match is replaced with repl,
// in which $1 and ${name} insert groups, $$ a dollar sign, $& the match,
// $` and $' the text before and after it, $+ the last group and $_ the
// whole input. Go's Expand reads "$name" differently, hence this. ok is
// false when the result would be longer than MaxValueSize.
func regexReplace(re *regexp.Regexp, src, repl string) (string, bool) {
	var b strings.Builder
	last := 0
	for _, m := range re.FindAllStringSubmatchIndex(src, -1) {
		b.WriteString(src[last:m[0]])
		expandDotNet(&b, re, src, m, repl)
		last = m[1]
		if b.Len() > MaxValueSize {
			return "", false
		}
	}
	b.WriteString(src[last:])
	return b.String(), true
}

func expandDotNet(b *strings.Builder, re *regexp.Regexp, src string, m []int, repl string) {
	group := func(g int) {
		if g < len(m)/2 && m[2*g] >= 0 {
			b.WriteString(src[m[2*g]:m[2*g+1]])
		}
	}
	for i := 0; i < len(repl); i++ {
		if repl[i] != '$' || i+1 == len(repl) {
			b.WriteByte(repl[i])
			continue
		}
		next := repl[i+1]
		switch {
		case next == '$':
			b.WriteByte('$')
			i++
		case next == '&':
			group(0)
			i++
		case next == '`':
			b.WriteString(src[:m[0]])
			i++
		case next == '\'':
			b.WriteString(src[m[1]:])
			i++
		case next == '_':
			b.WriteString(src)
			i++
		case next == '+':
			group(len(m)/2 - 1)
			i++
		case next == '{':
			end := strings.IndexByte(repl[i+2:], '}')
			if end < 0 {
				b.WriteByte('$')
				continue
			}
			name := repl[i+2 : i+2+end]
			g := re.SubexpIndex(name)
			if n, err := strconv.Atoi(name); err == nil && n >= 0 && n < len(m)/2 {
				g = n
			}
			if g < 0 {
				b.WriteString(repl[i : i+3+end])
			} else {
				group(g)
			}
			i += 2 + end
		case '0' <= next && next <= '9':
			// The longest run of digits that names a group, as .NET reads it.
			j := i + 1
			for j < len(repl) && '0' <= repl[j] && repl[j] <= '9' {
				j++
			}
			for ; j > i+1; j-- {
				if n, err := strconv.Atoi(repl[i+1 : j]); err == nil && n < len(m)/2 {
					group(n)
					break
				}
			}
			if j == i+1 {
				b.WriteByte('$')
				continue
			}
			i = j - 1
		default:
			b.WriteByte('$')
		}
	}
}

// evalSplit splits on the delimiter and trims white space around each part:
// Entra's documented example splits "PermissionSetOne, PermissionSetTwo" on
// "," into ["PermissionSetOne", "PermissionSetTwo"].
func evalSplit(ev *evaluator, c *call) (Value, error) {
	vs, err := ev.args(c)
	if err != nil {
		return Value{}, err
	}
	s, null, err := ev.text(c, 0, vs[0])
	if err != nil || null {
		return Value{}, err
	}
	delim, _, err := ev.text(c, 1, vs[1])
	if err != nil {
		return Value{}, err
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

// evalStripSpaces removes the space character only, as documented; tabs
// and other white space stay.
func evalStripSpaces(ev *evaluator, c *call) (Value, error) {
	v, err := ev.arg(c, 0)
	if err != nil {
		return Value{}, err
	}
	s, null, err := ev.text(c, 0, v)
	if err != nil || null {
		return Value{}, err
	}
	return StringValue(strings.ReplaceAll(s, " ", "")), nil
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
	v, err := ev.arg(c, 0)
	if err != nil {
		return Value{}, err
	}
	src, _, err := ev.text(c, 0, v)
	if err != nil {
		return Value{}, err
	}
	for i := 2; i+1 < len(c.args); i += 2 {
		kv, err := ev.arg(c, i)
		if err != nil {
			return Value{}, err
		}
		key, _, err := ev.text(c, i, kv)
		if err != nil {
			return Value{}, err
		}
		if key == src {
			return ev.arg(c, i+1)
		}
	}
	return ev.arg(c, 1)
}

// evalCase is ToLower and ToUpper. Cultures follow the invariant rules
// except Turkish and Azerbaijani, whose dotted and dotless i differ.
func evalCase(ev *evaluator, c *call, upper bool) (Value, error) {
	vs, err := ev.args(c)
	if err != nil {
		return Value{}, err
	}
	s, null, err := ev.text(c, 0, vs[0])
	if err != nil || null {
		return Value{}, err
	}
	culture, _, err := ev.text(c, 1, at(vs, 1))
	if err != nil {
		return Value{}, err
	}
	if culture != "" && !isCultureName(culture) {
		return Value{}, fmt.Errorf("%s is not a culture name such as en-US, got %s", argName(c, 1), ev.show(at(vs, 1)))
	}
	lang := strings.ToLower(culture)
	if i := strings.IndexByte(lang, '-'); i >= 0 {
		lang = lang[:i]
	}
	turkic := lang == "tr" || lang == "az"
	switch {
	case upper && turkic:
		return StringValue(strings.ToUpperSpecial(unicode.TurkishCase, s)), nil
	case upper:
		return StringValue(strings.ToUpper(s)), nil
	case turkic:
		return StringValue(strings.ToLowerSpecial(unicode.TurkishCase, s)), nil
	}
	return StringValue(strings.ToLower(s)), nil
}

// isCultureName reports whether s looks like an RFC 4646 culture name:
// letters and digits in hyphen-separated parts, the first 2 or 3 letters.
func isCultureName(s string) bool {
	for i, part := range strings.Split(s, "-") {
		if part == "" || len(part) > 8 {
			return false
		}
		for _, r := range part {
			if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || i > 0 && '0' <= r && r <= '9') {
				return false
			}
		}
		if i == 0 && (len(part) < 2 || len(part) > 3) {
			return false
		}
	}
	return true
}

// evalWord returns the n-th word, words being runs of characters between
// any of the delimiter characters; empty runs between adjacent delimiters
// are not words. Out-of-range numbers and null give "", as documented.
func evalWord(ev *evaluator, c *call) (Value, error) {
	vs, err := ev.args(c)
	if err != nil {
		return Value{}, err
	}
	s, _, err := ev.text(c, 0, vs[0])
	if err != nil {
		return Value{}, err
	}
	n, null, err := ev.integer(c, 1, vs[1])
	if err != nil || null {
		return Value{}, err
	}
	delims, _, err := ev.text(c, 2, vs[2])
	if err != nil {
		return Value{}, err
	}
	words := strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune(delims, r) })
	if n < 1 || n > int64(len(words)) {
		return StringValue(""), nil
	}
	return StringValue(words[n-1]), nil
}

// dateAdd adds n intervals to t. Months and years clamp the day to the end
// of the month (January 31 plus one month is February 28 or 29), as .NET's
// AddMonths does. ok is false outside the years 1 to 9999.
func dateAdd(interval string, n int64, t time.Time) (time.Time, bool) {
	const limit = 10000 * 366 * 24 * 3600 // more seconds than the whole range holds
	var r time.Time
	switch interval {
	case "yyyy", "m":
		months := n
		if interval == "yyyy" {
			if n > 10000 || n < -10000 {
				return time.Time{}, false
			}
			months = 12 * n
		}
		if months > 120000 || months < -120000 {
			return time.Time{}, false
		}
		r = addMonths(t, int(months))
	case "d", "ww":
		days := n
		if interval == "ww" {
			days = 7 * n
		}
		if days > limit/86400 || days < -limit/86400 {
			return time.Time{}, false
		}
		r = t.AddDate(0, 0, int(days))
	default:
		unit := map[string]int64{"h": 3600, "n": 60, "s": 1}[interval]
		if n > limit/unit || n < -limit/unit {
			return time.Time{}, false
		}
		r = time.Unix(t.Unix()+n*unit, int64(t.Nanosecond())).UTC()
	}
	if r.Year() < 1 || r.Year() > 9999 {
		return time.Time{}, false
	}
	return r, true
}

func addMonths(t time.Time, n int) time.Time {
	y, m, d := t.Date()
	total := int(m) - 1 + n
	y += floorDiv(total, 12)
	month := time.Month(total - 12*floorDiv(total, 12) + 1)
	if last := daysIn(y, month); d > last {
		d = last
	}
	return time.Date(y, month, d, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
}

func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

func floorDiv(a, b int) int {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// dateDiff is VB's DateDiff: years and months count calendar boundaries
// (December 31 to January 1 is one year); days, hours, minutes and seconds
// count whole elapsed units, truncated toward zero; weeks count the Sundays
// between the two dates' weeks. Entra's documented results (-3449 days,
// -493 weeks, -113 months and -9 years from 8/25/2021 5:41:18 PM back to
// 2012-03-16-07:00) are these rules.
func dateDiff(interval string, t1, t2 time.Time) int64 {
	switch interval {
	case "yyyy":
		return int64(t2.Year() - t1.Year())
	case "m":
		return int64((t2.Year()-t1.Year())*12 + int(t2.Month()) - int(t1.Month()))
	case "ww":
		return (weekStart(t2) - weekStart(t1)) / 7
	}
	// In 100 ns ticks, as .NET counts; the years 1 to 9999 fit in int64.
	ticks := (t2.Unix()-t1.Unix())*10_000_000 + int64(t2.Nanosecond()-t1.Nanosecond())/100
	switch interval {
	case "d":
		return ticks / (86400 * 10_000_000)
	case "h":
		return ticks / (3600 * 10_000_000)
	case "n":
		return ticks / (60 * 10_000_000)
	}
	return ticks / 10_000_000
}

// weekStart returns the day number (days since 1970-01-01) of the Sunday
// starting t's week.
func weekStart(t time.Time) int64 {
	day := t.Unix() / 86400
	if t.Unix()%86400 < 0 {
		day--
	}
	weekday := (day + 4) % 7 // 1970-01-01 was a Thursday
	if weekday < 0 {
		weekday += 7
	}
	return day - weekday
}

// Active Directory stores times as 100 ns intervals since 1601-01-01 UTC.
const filetimeEpochOffset = 11644473600 // seconds from 1601-01-01 to 1970-01-01

func fromFiletime(n int64) time.Time {
	sec := n/10_000_000 - filetimeEpochOffset
	return time.Unix(sec, (n%10_000_000)*100).UTC()
}

func toFiletime(t time.Time) (int64, bool) {
	sec := t.Unix() + filetimeEpochOffset
	if sec < 0 {
		return 0, false
	}
	return sec*10_000_000 + int64(t.Nanosecond())/100, true
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
