package expr

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf16"
)

func evalAppend(ev *evaluator, c *call) (Value, error) {
	a := ev.readArgs(c)
	s, null := a.text(0)
	if a.err != nil || null {
		return Value{}, a.err
	}
	suffix, _ := a.text(1)
	if a.err != nil {
		return Value{}, a.err
	}
	return StringValue(s + suffix), nil
}

// evalConvertToBase64 encodes the UTF-16LE bytes of the string, as .NET's
// Encoding.Unicode does.
func evalConvertToBase64(ev *evaluator, c *call) (Value, error) {
	a := ev.readArgs(c)
	s, null := a.text(0)
	if a.err != nil || null {
		return Value{}, a.err
	}
	units := utf16.Encode([]rune(s))
	buf := make([]byte, 0, 2*len(units))
	for _, u := range units {
		buf = binary.LittleEndian.AppendUint16(buf, u)
	}
	return StringValue(base64.StdEncoding.EncodeToString(buf)), nil
}

func evalConvertToUTF8Hex(ev *evaluator, c *call) (Value, error) {
	a := ev.readArgs(c)
	s, null := a.text(0)
	if a.err != nil || null {
		return Value{}, a.err
	}
	return StringValue(strings.ToUpper(hex.EncodeToString([]byte(s)))), nil
}

func evalCStr(ev *evaluator, c *call) (Value, error) {
	a := ev.readArgs(c)
	s, null := a.text(0)
	if a.err != nil || null {
		return Value{}, a.err
	}
	return StringValue(s), nil
}

// evalInStr returns the 1-based position of value2 in value1 from start,
// or 0. Positions count characters. vbTextCompare ignores case.
func evalInStr(ev *evaluator, c *call) (Value, error) {
	a := ev.readArgs(c)
	s, null1 := a.text(0)
	sub, null2 := a.text(1)
	if a.err != nil || null1 || null2 {
		return Value{}, a.err
	}
	start := int64(1)
	if n, null := a.integer(2); a.err != nil {
		return Value{}, a.err
	} else if !null {
		start = n
	}
	if start < 1 {
		return Value{}, fmt.Errorf("%s must be at least 1, got %d", argName(c, 2), start)
	}
	text := false
	if v := a.value(3); v.kind != Null {
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

// evalLeft follows Entra's documented edge cases: 0 characters give "",
// a negative count gives the whole string, and null gives "".
func evalLeft(ev *evaluator, c *call) (Value, error) {
	a := ev.readArgs(c)
	s, _ := a.text(0)
	n, null := a.integer(1)
	if a.err != nil || null {
		return Value{}, a.err
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
	a := ev.readArgs(c)
	s, null0 := a.text(0)
	start, null1 := a.integer(1)
	length, null2 := a.integer(2)
	if a.err != nil || null0 || null1 || null2 {
		return Value{}, a.err
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
	a := ev.readArgs(c)
	s, null := a.text(0)
	if a.err != nil || null {
		return Value{}, a.err
	}
	r := c.replacer
	if r == nil {
		r = diacriticsReplacer()
	}
	return StringValue(r.Replace(s)), nil
}

func evalPCase(ev *evaluator, c *call) (Value, error) {
	a := ev.readArgs(c)
	s, null := a.text(0)
	if a.err != nil || null {
		return Value{}, a.err
	}
	seps, null := a.text(1)
	if a.err != nil {
		return Value{}, a.err
	}
	if null {
		return StringValue(titleCase(s)), nil
	}
	return StringValue(properCase(s, seps)), nil
}

// evalStripSpaces removes the space character only, as documented; tabs
// and other white space stay.
func evalStripSpaces(ev *evaluator, c *call) (Value, error) {
	a := ev.readArgs(c)
	s, null := a.text(0)
	if a.err != nil || null {
		return Value{}, a.err
	}
	return StringValue(strings.ReplaceAll(s, " ", "")), nil
}

// evalCase is ToLower and ToUpper. Cultures follow the invariant rules
// except Turkish and Azerbaijani, whose dotted and dotless i differ.
func evalCase(ev *evaluator, c *call, upper bool) (Value, error) {
	a := ev.readArgs(c)
	s, null := a.text(0)
	if a.err != nil || null {
		return Value{}, a.err
	}
	culture, _ := a.text(1)
	if a.err != nil {
		return Value{}, a.err
	}
	if culture != "" && !isCultureName(culture) {
		return Value{}, fmt.Errorf("%s is not a culture name such as en-US, got %s", argName(c, 1), ev.show(a.value(1)))
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
	a := ev.readArgs(c)
	s, _ := a.text(0)
	n, null := a.integer(1)
	if a.err != nil || null {
		return Value{}, a.err
	}
	delims, _ := a.text(2)
	if a.err != nil {
		return Value{}, a.err
	}
	words := strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune(delims, r) })
	if n < 1 || n > int64(len(words)) {
		return StringValue(""), nil
	}
	return StringValue(words[n-1]), nil
}
