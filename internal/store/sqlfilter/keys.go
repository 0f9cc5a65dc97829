package sqlfilter

import (
	"encoding/json"
	"fmt"
	"github.com/ferryid/ferry/internal/scim/filter"
	"math"
	"strconv"
	"strings"
	"time"
)

// Fold is filter.Fold: values are stored folded exactly as the evaluator
// folds them, so that comparing folded strings byte by byte, as SQLite's
// BINARY collation does, gives the evaluator's answers.
func Fold(s string) string { return filter.Fold(s) }

// FoldKey is filter.FoldKey: the key eq and ne compare, and the one a
// userName or group displayName is unique by.
func FoldKey(s string) string { return filter.FoldKey(s) }

// eqvOf returns FoldKey(s) when it differs from Fold(s), and "" otherwise:
// the attribute_values.eqv column, NULL for nearly every string.
func eqvOf(s string) (string, bool) {
	if !strings.ContainsAny(s, "İı") {
		return "", false
	}
	return FoldKey(s), true
}

// TimeLayout is the fixed-width UTC form timestamps are stored in: equal
// width, so that comparing the text compares the instants.
const TimeLayout = "2006-01-02T15:04:05.000000000Z"

// TimeKey returns t in TimeLayout. Years outside 0000–9999, which only an
// offset can produce from a parsed xsd:dateTime (0000-01-01T00:00:00+01:00),
// get a first character that still orders them before ("-") or after (":")
// every four-digit year.
func TimeKey(t time.Time) string {
	t = t.UTC()
	y := t.Year()
	switch {
	case y < 0:
		return "-" + fmt.Sprintf("%04d", -y) + t.Format("-01-02T15:04:05.000000000Z")
	case y > 9999:
		return ":" + fmt.Sprintf("%04d", y-10000) + t.Format("-01-02T15:04:05.000000000Z")
	}
	return t.Format(TimeLayout)
}

// Number keys: a number's exact decimal value written so that comparing two
// keys byte by byte orders them as the numbers. filter.Match compares
// numbers exactly (int64, else 256-bit floats); float64 would round large
// integers and long decimals, so numbers are not stored as REAL.
//
// A key is a class byte ('1' negative, '2' zero, '3' positive) followed, for
// non-zero values 0.D × 10^E, by E as nine offset digits and the significant
// digits D. For negative values both are complemented, and a '~' ends the
// digits so that a shorter mantissa (a smaller magnitude) sorts after a
// longer one it prefixes.
const (
	expOffset = 500_000_000
	expLimit  = 499_999_999
)

// NumberKey returns the key of a JSON number's text (json.Number, or a
// filter's number literal). It reports false for text that is not a JSON
// number.
func NumberKey(s string) (string, bool) {
	i := 0
	neg := false
	if i < len(s) && s[i] == '-' {
		neg = true
		i++
	}
	start := i
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	intPart := s[start:i]
	if intPart == "" || len(intPart) > 1 && intPart[0] == '0' {
		return "", false
	}
	frac := ""
	if i < len(s) && s[i] == '.' {
		i++
		fs := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		frac = s[fs:i]
		if frac == "" {
			return "", false
		}
	}
	exp := int64(0)
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		expNeg := false
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			expNeg = s[i] == '-'
			i++
		}
		es := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			// Saturate: exponents this large only order against the
			// values Normalize accepts, which all fit a float64.
			if exp < math.MaxInt32 {
				exp = exp*10 + int64(s[i]-'0')
			}
			i++
		}
		if i == es {
			return "", false
		}
		if expNeg {
			exp = -exp
		}
	}
	if i != len(s) {
		return "", false
	}
	return numberKey(neg, intPart, frac, exp), true
}

// numberKey builds the key of ±intPart.frac × 10^exp.
func numberKey(neg bool, intPart, frac string, exp int64) string {
	digits := strings.TrimLeft(intPart+frac, "0")
	// The value is 0.digits × 10^e, with e counted from the decimal point.
	e := exp + int64(len(intPart)) - int64(len(intPart)+len(frac)-len(digits))
	digits = strings.TrimRight(digits, "0")
	if digits == "" {
		return "2"
	}
	e = max(-expLimit, min(expLimit, e))
	var b strings.Builder
	if !neg {
		b.WriteByte('3')
		b.WriteString(fmt.Sprintf("%09d", e+expOffset))
		b.WriteString(digits)
		return b.String()
	}
	b.WriteByte('1')
	b.WriteString(fmt.Sprintf("%09d", 2*expOffset-1-(e+expOffset)))
	for i := 0; i < len(digits); i++ {
		b.WriteByte('9' - digits[i] + '0')
	}
	b.WriteByte('~')
	return b.String()
}

// numberText returns the JSON text of a decoded number, or false for
// anything else (including NaN and infinities, which filter.Match never
// matches).
func numberText(v any) (string, bool) {
	switch n := v.(type) {
	case json.Number:
		return string(n), true
	case float64:
		if math.IsNaN(n) || math.IsInf(n, 0) {
			return "", false
		}
		return strconv.FormatFloat(n, 'g', -1, 64), true
	case float32:
		if math.IsNaN(float64(n)) || math.IsInf(float64(n), 0) {
			return "", false
		}
		return strconv.FormatFloat(float64(n), 'g', -1, 32), true
	case int:
		return strconv.Itoa(n), true
	case int64:
		return strconv.FormatInt(n, 10), true
	case int32:
		return strconv.FormatInt(int64(n), 10), true
	}
	return "", false
}
