package expr

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// This file implements the part of .NET's date and time formatting that
// Entra's FormatDateTime exposes: custom format strings (yyyy MM dd HH mm ss
// fff tt zzz K …), the one-letter standard formats, and parsing by format
// under DateTimeStyles. Names are the invariant culture's (English), and the
// machine's local time zone is taken to be UTC, as it is on Entra's servers.

// fmtToken is one element of a parsed format: a specifier letter repeated
// n times, or literal text (spec 0).
type fmtToken struct {
	spec byte
	n    int
	lit  string
}

// standardFormat returns the custom pattern a one-letter .NET standard
// format stands for in the invariant culture.
func standardFormat(c byte) (string, bool) {
	switch c {
	case 'd':
		return "MM/dd/yyyy", true
	case 'D':
		return "dddd, dd MMMM yyyy", true
	case 'f':
		return "dddd, dd MMMM yyyy HH:mm", true
	case 'F', 'U':
		return "dddd, dd MMMM yyyy HH:mm:ss", true
	case 'g':
		return "MM/dd/yyyy HH:mm", true
	case 'G':
		return "MM/dd/yyyy HH:mm:ss", true
	case 'm', 'M':
		return "MMMM dd", true
	case 'o', 'O':
		return "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffK", true
	case 'r', 'R':
		return "ddd, dd MMM yyyy HH':'mm':'ss 'GMT'", true
	case 's':
		return "yyyy'-'MM'-'dd'T'HH':'mm':'ss", true
	case 't':
		return "HH:mm", true
	case 'T':
		return "HH:mm:ss", true
	case 'u':
		return "yyyy'-'MM'-'dd HH':'mm':'ssZ", true
	case 'y', 'Y':
		return "yyyy MMMM", true
	}
	return "", false
}

// parseFormat parses a .NET date and time format string. Letters .NET
// would copy to the output unchanged are rejected, except T and Z, because
// an unquoted letter is far more often a mistake ("YYYY-MM-DD") than
// intended text; literal text goes in quotes or after a backslash.
func parseFormat(f string) ([]fmtToken, error) {
	if f == "" {
		return nil, fmt.Errorf("the date and time format is empty")
	}
	if len(f) == 1 {
		pattern, ok := standardFormat(f[0])
		if !ok {
			return nil, fmt.Errorf("%q is not a standard .NET date and time format (d, D, f, F, g, G, M, O, R, s, t, T, u, U, Y)", f)
		}
		f = pattern
	}
	var toks []fmtToken
	literal := func(s string) {
		if n := len(toks); n > 0 && toks[n-1].spec == 0 {
			toks[n-1].lit += s
			return
		}
		toks = append(toks, fmtToken{lit: s})
	}
	for i := 0; i < len(f); {
		c := f[i]
		switch {
		case c == '\'' || c == '"':
			var b strings.Builder
			j := i + 1
			for ; j < len(f) && f[j] != c; j++ {
				if f[j] == '\\' && j+1 < len(f) {
					j++
				}
				b.WriteByte(f[j])
			}
			if j >= len(f) {
				return nil, fmt.Errorf("the quoted text at position %d of the format has no closing quote", i)
			}
			literal(b.String())
			i = j + 1
		case c == '\\':
			if i+1 >= len(f) {
				return nil, fmt.Errorf("the format ends with a backslash, which escapes nothing")
			}
			_, size := utf8.DecodeRuneInString(f[i+1:])
			literal(f[i+1 : i+1+size])
			i += 1 + size
		case c == '%':
			if i+1 >= len(f) || !strings.ContainsRune("yMdhHmsfFtzK", rune(f[i+1])) {
				return nil, fmt.Errorf("%% at position %d of the format must be followed by one specifier letter", i)
			}
			toks = append(toks, fmtToken{spec: f[i+1], n: 1})
			i += 2
		case strings.IndexByte("yMdhHmsfFtzK", c) >= 0:
			j := i
			for j < len(f) && f[j] == c {
				j++
			}
			n := j - i
			if (c == 'f' || c == 'F') && n > 7 {
				return nil, fmt.Errorf("%q at position %d of the format has more than 7 fraction digits", f[i:j], i)
			}
			if c == 'K' {
				for k := 0; k < n; k++ {
					toks = append(toks, fmtToken{spec: 'K', n: 1})
				}
			} else {
				toks = append(toks, fmtToken{spec: c, n: n})
			}
			i = j
		case c == 'Z':
			toks = append(toks, fmtToken{spec: 'Z', n: 1})
			i++
		case c == 'T':
			literal("T")
			i++
		case c == 'g':
			return nil, fmt.Errorf("the era specifier g at position %d of the format is not supported", i)
		case 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z':
			hint := ""
			switch c {
			case 'Y':
				hint = " (years are y)"
			case 'D':
				hint = " (days are d)"
			case 'S':
				hint = " (seconds are s)"
			case 'n', 'N':
				hint = " (minutes are m)"
			}
			return nil, fmt.Errorf("%q at position %d of the format is not a date and time specifier%s; put literal text in quotes", string(c), i, hint)
		default:
			_, size := utf8.DecodeRuneInString(f[i:])
			literal(f[i : i+size])
			i += size
		}
	}
	return toks, nil
}

// dateKind is .NET's DateTimeKind, which decides what K prints.
type dateKind uint8

const (
	kindUnspecified dateKind = iota
	kindUTC
	kindLocal
)

// parsedTime is a date and time with its .NET kind. t holds the UTC clock
// (or, for kindUnspecified, the wall clock as written).
type parsedTime struct {
	t    time.Time
	kind dateKind
}

// formatTime formats d by toks. Offsets print as +00:00, the local time
// zone being UTC.
func formatTime(d parsedTime, toks []fmtToken) string {
	t := d.t
	var b strings.Builder
	for k, tok := range toks {
		n := tok.n
		switch tok.spec {
		case 0:
			b.WriteString(tok.lit)
		case 'y':
			y := t.Year()
			switch {
			case n == 1:
				b.WriteString(strconv.Itoa(y % 100))
			case n == 2:
				pad(&b, y%100, 2)
			default:
				pad(&b, y, n)
			}
		case 'M':
			switch {
			case n <= 2:
				pad(&b, int(t.Month()), n)
			case n == 3:
				b.WriteString(t.Month().String()[:3])
			default:
				b.WriteString(t.Month().String())
			}
		case 'd':
			switch {
			case n <= 2:
				pad(&b, t.Day(), n)
			case n == 3:
				b.WriteString(t.Weekday().String()[:3])
			default:
				b.WriteString(t.Weekday().String())
			}
		case 'h':
			h := t.Hour() % 12
			if h == 0 {
				h = 12
			}
			pad(&b, h, min(n, 2))
		case 'H':
			pad(&b, t.Hour(), min(n, 2))
		case 'm':
			pad(&b, t.Minute(), min(n, 2))
		case 's':
			pad(&b, t.Second(), min(n, 2))
		case 'f', 'F':
			digits := fmt.Sprintf("%07d", t.Nanosecond()/100)[:n]
			if tok.spec == 'F' {
				digits = strings.TrimRight(digits, "0")
				if digits == "" {
					// .NET drops the separator before an all-zero F field.
					if s := b.String(); k > 0 && strings.HasSuffix(s, ".") {
						b.Reset()
						b.WriteString(s[:len(s)-1])
					}
				}
			}
			b.WriteString(digits)
		case 't':
			ampm := "AM"
			if t.Hour() >= 12 {
				ampm = "PM"
			}
			b.WriteString(ampm[:min(n, 2)])
		case 'z':
			switch n {
			case 1:
				b.WriteString("+0")
			case 2:
				b.WriteString("+00")
			default:
				b.WriteString("+00:00")
			}
		case 'K':
			switch d.kind {
			case kindUTC:
				b.WriteString("Z")
			case kindLocal:
				b.WriteString("+00:00")
			}
		case 'Z':
			b.WriteString("Z")
		}
	}
	return b.String()
}

func pad(b *strings.Builder, v, width int) {
	s := strconv.Itoa(v)
	for i := len(s); i < width; i++ {
		b.WriteByte('0')
	}
	b.WriteString(s)
}

// dateStyles is a set of .NET DateTimeStyles flags.
type dateStyles uint16

const (
	allowLeadingWhite dateStyles = 1 << iota
	allowTrailingWhite
	allowInnerWhite
	noCurrentDateDefault
	adjustToUniversal
	assumeLocal
	assumeUniversal
	roundtripKind

	// defaultStyles is what Entra uses when dateTimeStyles is left empty.
	defaultStyles = roundtripKind | allowLeadingWhite | allowTrailingWhite
)

// parseStyles reads DateTimeStyles names, separated by commas or |, as
// in "AdjustToUniversal, AllowWhiteSpaces"; "" is Entra's default.
func parseStyles(s string) (dateStyles, error) {
	if strings.TrimSpace(s) == "" {
		return defaultStyles, nil
	}
	var st dateStyles
	for _, name := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '|' }) {
		name = strings.TrimSpace(name)
		name = strings.TrimPrefix(name, "DateTimeStyles.")
		switch strings.ToLower(name) {
		case "none":
		case "allowleadingwhite":
			st |= allowLeadingWhite
		case "allowtrailingwhite":
			st |= allowTrailingWhite
		case "allowinnerwhite":
			st |= allowInnerWhite
		case "allowwhitespaces":
			st |= allowLeadingWhite | allowTrailingWhite | allowInnerWhite
		case "nocurrentdatedefault":
			st |= noCurrentDateDefault
		case "adjusttouniversal":
			st |= adjustToUniversal
		case "assumelocal":
			st |= assumeLocal
		case "assumeuniversal":
			st |= assumeUniversal
		case "roundtripkind":
			st |= roundtripKind
		default:
			return 0, fmt.Errorf("%q is not a DateTimeStyles value (None, AllowLeadingWhite, AllowTrailingWhite, AllowInnerWhite, AllowWhiteSpaces, NoCurrentDateDefault, AdjustToUniversal, AssumeLocal, AssumeUniversal, RoundtripKind)", name)
		}
	}
	switch {
	case st&assumeLocal != 0 && st&assumeUniversal != 0:
		return 0, fmt.Errorf("AssumeLocal and AssumeUniversal cannot be combined")
	case st&roundtripKind != 0 && st&(assumeLocal|assumeUniversal|adjustToUniversal) != 0:
		return 0, fmt.Errorf("RoundtripKind cannot be combined with AssumeLocal, AssumeUniversal or AdjustToUniversal")
	}
	return st, nil
}

// timeScanner reads a date and time string by format.
type timeScanner struct {
	s string
	i int
}

func (sc *timeScanner) skipSpace() {
	for sc.i < len(sc.s) {
		r, size := utf8.DecodeRuneInString(sc.s[sc.i:])
		if !unicode.IsSpace(r) {
			return
		}
		sc.i += size
	}
}

// digits reads between lo and hi decimal digits.
func (sc *timeScanner) digits(lo, hi int) (int, bool) {
	j := sc.i
	for j < len(sc.s) && j-sc.i < hi && '0' <= sc.s[j] && sc.s[j] <= '9' {
		j++
	}
	if j-sc.i < lo {
		return 0, false
	}
	n := 0
	for _, c := range sc.s[sc.i:j] {
		n = n*10 + int(c-'0')
	}
	sc.i = j
	return n, true
}

// word reads one of words, ignoring case, and returns its index.
func (sc *timeScanner) word(words []string) (int, bool) {
	for k, w := range words {
		if len(sc.s)-sc.i >= len(w) && strings.EqualFold(sc.s[sc.i:sc.i+len(w)], w) {
			sc.i += len(w)
			return k, true
		}
	}
	return 0, false
}

// offset reads a time zone offset: ±h, ±hh, ±hh:mm or ±hhmm.
func (sc *timeScanner) offset(hourDigits int) (time.Duration, bool) {
	if sc.i >= len(sc.s) || sc.s[sc.i] != '+' && sc.s[sc.i] != '-' {
		return 0, false
	}
	sign := time.Duration(1)
	if sc.s[sc.i] == '-' {
		sign = -1
	}
	sc.i++
	lo := hourDigits
	if lo > 2 {
		lo = 2
	}
	h, ok := sc.digits(lo, 2)
	if !ok || h > 14 {
		return 0, false
	}
	m := 0
	if hourDigits >= 2 {
		save := sc.i
		if sc.i < len(sc.s) && sc.s[sc.i] == ':' {
			sc.i++
		}
		if v, ok := sc.digits(2, 2); ok && v < 60 {
			m = v
		} else if hourDigits > 2 {
			return 0, false
		} else {
			sc.i = save
		}
	}
	return sign * (time.Duration(h)*time.Hour + time.Duration(m)*time.Minute), true
}

func monthNames(abbrev bool) []string {
	names := make([]string, 12)
	for m := time.January; m <= time.December; m++ {
		names[m-1] = m.String()
		if abbrev {
			names[m-1] = names[m-1][:3]
		}
	}
	return names
}

func dayNames(abbrev bool) []string {
	names := make([]string, 7)
	for d := time.Sunday; d <= time.Saturday; d++ {
		names[d] = d.String()
		if abbrev {
			names[d] = names[d][:3]
		}
	}
	return names
}

// parseTime parses s by toks as .NET's DateTime.ParseExact does under
// styles. Fields the format lacks default as in .NET (see defaults); a time
// with an offset or Z is converted to UTC, and its kind decides what K
// prints.
func parseTime(s string, toks []fmtToken, styles dateStyles, now time.Time) (parsedTime, error) {
	if styles&allowLeadingWhite != 0 {
		s = strings.TrimLeftFunc(s, unicode.IsSpace)
	}
	if styles&allowTrailingWhite != 0 {
		s = strings.TrimRightFunc(s, unicode.IsSpace)
	}
	p := &timeParser{
		timeScanner: timeScanner{s: s},
		fields:      timeFields{year: -1, month: -1, day: -1, ampm: -1},
		inner:       styles&allowInnerWhite != 0,
	}
	for k := 0; k < len(toks); k++ {
		if p.inner && toks[k].spec != 0 {
			p.skipSpace()
		}
		skipNext, err := p.read(toks, k)
		if err != nil {
			return parsedTime{}, err
		}
		if skipNext {
			k++
		}
	}
	if p.i < len(s) {
		return parsedTime{}, fmt.Errorf("unexpected %q at position %d", s[p.i:], p.i)
	}
	f := p.fields
	f.defaults(styles, now)
	if err := f.validate(); err != nil {
		return parsedTime{}, err
	}
	t := time.Date(f.year, time.Month(f.month), f.day, f.hour, f.minute, f.sec, f.nsec, time.UTC).Add(-f.zone)
	return parsedTime{t: t, kind: f.kind(styles)}, nil
}

// timeFields are the fields parseTime has read; year, month and day are -1
// until read, ampm -1 until read and then 0 for AM, 1 for PM.
type timeFields struct {
	year, month, day        int
	hour, minute, sec, nsec int
	ampm                    int
	zone                    time.Duration
	hasZone, zulu           bool
}

// timeParser reads the fields of a date and time string by format.
type timeParser struct {
	timeScanner
	fields timeFields
	inner  bool // AllowInnerWhite: white space may come before any field
}

// read reads toks[k], the one format element each specifier stands for.
// skipNext reports that the element after it was absent along with it (an
// optional "." before F digits).
func (p *timeParser) read(toks []fmtToken, k int) (skipNext bool, err error) {
	tok := toks[k]
	f := &p.fields
	switch tok.spec {
	case 0:
		return p.literal(toks, k)
	case 'y':
		return false, p.year(tok.n)
	case 'M':
		return false, p.month(tok.n)
	case 'd':
		return false, p.day(tok.n)
	case 'h', 'H':
		return false, p.hour(tok)
	case 'm':
		return false, p.twoDigits(&f.minute, tok.n, "the minutes")
	case 's':
		return false, p.twoDigits(&f.sec, tok.n, "the seconds")
	case 'f', 'F':
		return false, p.fraction(tok)
	case 't':
		return false, p.ampm(tok.n)
	case 'z':
		return false, p.zoneOffset(tok.n)
	case 'K':
		return false, p.kindSuffix()
	case 'Z':
		return false, p.zulu()
	}
	return false, nil
}

// fail says which field was expected where the input did not match.
func (p *timeParser) fail(what string) error {
	if p.i >= len(p.s) {
		return fmt.Errorf("expected %s at the end of the input", what)
	}
	return fmt.Errorf("expected %s at position %d", what, p.i)
}

// literal matches literal text. .NET lets a "." before F digits be absent
// along with them, in which case the F element is skipped.
func (p *timeParser) literal(toks []fmtToken, k int) (skipNext bool, err error) {
	lit := toks[k].lit
	optionalDot := strings.HasSuffix(lit, ".") && k+1 < len(toks) && toks[k+1].spec == 'F'
	if optionalDot {
		lit = lit[:len(lit)-1]
	}
	for _, r := range lit {
		if p.inner && unicode.IsSpace(r) {
			p.skipSpace()
			continue
		}
		got, size := utf8.DecodeRuneInString(p.s[p.i:])
		if p.i >= len(p.s) || got != r {
			return false, p.fail(strconv.Quote(string(r)))
		}
		p.i += size
	}
	if !optionalDot {
		return false, nil
	}
	if p.i < len(p.s) && p.s[p.i] == '.' {
		p.i++
		return false, nil
	}
	return true, nil
}

func (p *timeParser) year(n int) error {
	lo, hi := n, n
	if n == 1 {
		lo, hi = 1, 2
	}
	year, ok := p.digits(lo, hi)
	if !ok {
		return p.fail("the year")
	}
	if n <= 2 {
		// Two-digit years fall in 1950–2049, the invariant culture's window.
		if year < 50 {
			year += 2000
		} else {
			year += 1900
		}
	}
	p.fields.year = year
	return nil
}

func (p *timeParser) month(n int) error {
	var month int
	var ok bool
	if n <= 2 {
		month, ok = p.digits(n, 2)
	} else {
		month, ok = p.word(monthNames(n == 3))
		month++
	}
	if !ok {
		return p.fail("the month")
	}
	p.fields.month = month
	return nil
}

// day reads the day of the month (d, dd) or a day name (ddd, dddd), which
// is matched but, as in .NET, not checked against the date.
func (p *timeParser) day(n int) error {
	if n > 2 {
		if _, ok := p.word(dayNames(n == 3)); !ok {
			return p.fail("the name of the day")
		}
		return nil
	}
	return p.twoDigits(&p.fields.day, n, "the day")
}

func (p *timeParser) hour(tok fmtToken) error {
	if err := p.twoDigits(&p.fields.hour, tok.n, "the hour"); err != nil {
		return err
	}
	if h := p.fields.hour; tok.spec == 'h' && (h < 1 || h > 12) {
		return fmt.Errorf("the hour %d is not between 1 and 12", h)
	}
	return nil
}

// twoDigits reads a field of at least n (at most 2) and at most 2 digits
// into dst; what names it when it is missing.
func (p *timeParser) twoDigits(dst *int, n int, what string) error {
	v, ok := p.digits(min(n, 2), 2)
	if !ok {
		return p.fail(what)
	}
	*dst = v
	return nil
}

// fraction reads n fraction digits (f) or up to n (F), in 100 ns ticks.
func (p *timeParser) fraction(tok fmtToken) error {
	start := p.i
	lo := tok.n
	if tok.spec == 'F' {
		lo = 0
	}
	if _, ok := p.digits(lo, tok.n); !ok {
		return p.fail(fmt.Sprintf("%d fraction digits", tok.n))
	}
	ticks, _ := strconv.Atoi(p.s[start:p.i] + strings.Repeat("0", 7-(p.i-start)))
	p.fields.nsec = ticks * 100
	return nil
}

func (p *timeParser) ampm(n int) error {
	words := []string{"AM", "PM"}
	if n == 1 {
		words = []string{"A", "P"}
	}
	v, ok := p.word(words)
	if !ok {
		return p.fail("AM or PM")
	}
	p.fields.ampm = v
	return nil
}

// zoneOffset reads z, zz or zzz: an offset that must be there.
func (p *timeParser) zoneOffset(n int) error {
	zone, ok := p.offset(n)
	if !ok {
		return p.fail("a time zone offset such as -08:00")
	}
	p.fields.zone, p.fields.hasZone = zone, true
	return nil
}

// kindSuffix reads K: Z, an offset, or nothing.
func (p *timeParser) kindSuffix() error {
	switch {
	case p.i < len(p.s) && p.s[p.i] == 'Z':
		p.i++
		p.fields.hasZone, p.fields.zulu = true, true
	case p.i < len(p.s) && (p.s[p.i] == '+' || p.s[p.i] == '-'):
		return p.zoneOffset(2)
	}
	return nil
}

// zulu reads the Z of the u and R formats, which RFC 1123 writes GMT.
func (p *timeParser) zulu() error {
	if _, ok := p.word([]string{"Z", "GMT"}); !ok {
		return p.fail(`"Z"`)
	}
	p.fields.hasZone, p.fields.zulu = true, true
	return nil
}

// defaults fills in what the format lacked, as .NET does: a missing date
// is today (now, in UTC) unless NoCurrentDateDefault, a missing year this
// year, a missing month or day 1. It also turns a 12-hour clock into 24.
func (f *timeFields) defaults(styles dateStyles, now time.Time) {
	if f.year < 0 && f.month < 0 && f.day < 0 {
		if styles&noCurrentDateDefault != 0 {
			f.year, f.month, f.day = 1, 1, 1
		} else {
			y, m, d := now.UTC().Date()
			f.year, f.month, f.day = y, int(m), d
		}
	}
	if f.year < 0 {
		f.year = now.UTC().Year()
		if styles&noCurrentDateDefault != 0 {
			f.year = 1
		}
	}
	if f.month < 0 {
		f.month = 1
	}
	if f.day < 0 {
		f.day = 1
	}
	switch {
	case f.ampm == 1 && f.hour < 12:
		f.hour += 12
	case f.ampm == 0 && f.hour == 12:
		f.hour = 0
	}
}

// validate rejects fields that are out of range, the date first.
func (f *timeFields) validate() error {
	switch {
	case f.year < 1 || f.year > 9999:
		return fmt.Errorf("the year %d is not between 1 and 9999", f.year)
	case f.month < 1 || f.month > 12:
		return fmt.Errorf("the month %d is not between 1 and 12", f.month)
	case f.day < 1 || f.day > daysIn(f.year, time.Month(f.month)):
		return fmt.Errorf("%d-%02d has no day %d", f.year, f.month, f.day)
	case f.hour > 23:
		return fmt.Errorf("the hour %d is not between 0 and 23", f.hour)
	case f.minute > 59:
		return fmt.Errorf("the minutes %d are not between 0 and 59", f.minute)
	case f.sec > 59:
		return fmt.Errorf("the seconds %d are not between 0 and 59", f.sec)
	}
	return nil
}

// kind is the .NET DateTimeKind the parsed time gets: a written zone or an
// assumed one makes it local, which AdjustToUniversal (or a Z under
// RoundtripKind) turns into UTC.
func (f *timeFields) kind(styles dateStyles) dateKind {
	switch {
	case f.hasZone:
		if styles&adjustToUniversal != 0 || f.zulu && styles&roundtripKind != 0 {
			return kindUTC
		}
		return kindLocal
	case styles&(assumeLocal|assumeUniversal) != 0:
		if styles&adjustToUniversal != 0 {
			return kindUTC
		}
		return kindLocal
	case styles&adjustToUniversal != 0:
		return kindUTC
	}
	return kindUnspecified
}

// dateForms are the forms parseDate reads, as .NET formats: ISO 8601 with
// or without time and offset (Workday's 2020-03-16-07:00 included), the
// M/d/yyyy h:mm:ss tt form CDate and Now produce, LDAP generalized time and
// RFC 1123.
func dateForms() []string {
	return []string{
		"yyyy-MM-ddTHH:mm:ss.FFFFFFFK",
		"yyyy-MM-ddTHH:mmK",
		"yyyy-MM-dd HH:mm:ss.FFFFFFFK",
		"yyyy-MM-dd HH:mmK",
		"yyyy-MM-ddK",
		"M/d/yyyy h:mm:ss.FFFFFFF tt",
		"M/d/yyyy h:mm tt",
		"M/d/yyyy H:mm:ss.FFFFFFF",
		"M/d/yyyy H:mm",
		"M/d/yyyy",
		"yyyyMMddHHmmss.FFFFFFFK",
		"ddd, dd MMM yyyy HH:mm:ss Z",
	}
}

// parseDate reads a date and time the way CDate does: any of dateForms,
// white space around it allowed, converted to UTC; a time without an offset
// is taken as UTC.
func parseDate(s string) (time.Time, bool) {
	for _, form := range dateForms() {
		toks, err := parseFormat(form)
		if err != nil {
			continue
		}
		if d, err := parseTime(s, toks, allowLeadingWhite|allowTrailingWhite|adjustToUniversal|noCurrentDateDefault, time.Time{}); err == nil {
			return d.t, true
		}
	}
	return time.Time{}, false
}
