package expr

import (
	"strings"
	"testing"
)

// TestFormatDateTime exercises the .NET specifiers through FormatDateTime,
// on 2015-01-23 10:53:47.1234567 UTC and on an afternoon time.
func TestFormatDateTime(t *testing.T) {
	t.Parallel()
	const morning = "2015-01-03T09:05:07.1234567Z"
	const afternoon = "2015-11-23T22:53:47Z"
	iso := "yyyy-MM-ddTHH:mm:ss.FFFFFFFK"
	tests := []struct {
		name, input, inFormat, styles, outFormat, want string
	}{
		{"year", morning, iso, "", "yyyy yy y", "2015 15 15"},
		{"month", morning, iso, "", "MM M MMM MMMM", "01 1 Jan January"},
		{"day", morning, iso, "", "dd d ddd dddd", "03 3 Sat Saturday"},
		{"24 hour", morning, iso, "", "HH H", "09 9"},
		{"12 hour", afternoon, iso, "", "hh h tt t", "10 10 PM P"},
		{"12 hour morning", morning, iso, "", "hh h tt", "09 9 AM"},
		{"midnight", "2015-01-03T00:30:00Z", iso, "", "h:mm tt", "12:30 AM"},
		{"minutes seconds", morning, iso, "", "mm m ss s", "05 5 07 7"},
		{"fractions", morning, iso, "", "f ff fff ffffff fffffff", "1 12 123 123456 1234567"},
		{"trimmed fractions", "2015-01-03T09:05:07.1200000Z", iso, "", "ss.FFFFFFF", "07.12"},
		{"zero fraction drops the dot", afternoon, iso, "", "ss.FFF", "47"},
		{"offsets", morning, iso, "", "z zz zzz", "+0 +00 +00:00"},
		{"K of a UTC time", morning, iso, "", "%K", "Z"},
		{"K of an offset time", "2015-01-03T09:05:07+02:00", iso, "", "HH K", "07 +00:00"},
		{"K of an offset time to UTC", "2015-01-03T09:05:07+02:00", iso, "AdjustToUniversal", "HH K", "07 Z"},
		{"K without a zone", "2015-01-03 09:05", "yyyy-MM-dd HH:mm", "", "HH:mm'K'K", "09:05K"},
		{"assume universal", "2015-01-03 09:05", "yyyy-MM-dd HH:mm", "AssumeUniversal", "HH:mmK", "09:05+00:00"},
		{"Z literal", morning, iso, "", "yyyyMMddHHmmss.fZ", "20150103090507.1Z"},
		{"quoted literals", morning, iso, "", `'Year' yyyy "at" HH\h`, "Year 2015 at 09h"},
		{"percent", morning, iso, "", "%d", "3"},
		{"separators", morning, iso, "", "yyyy/MM/dd HH:mm", "2015/01/03 09:05"},
		{"non-letter text", morning, iso, "", "[yyyy] #1", "[2015] #1"},
		{"standard sortable", morning, iso, "", "s", "2015-01-03T09:05:07"},
		{"standard round trip", morning, iso, "", "o", "2015-01-03T09:05:07.1234567Z"},
		{"standard universal", morning, iso, "", "u", "2015-01-03 09:05:07Z"},
		{"standard short date", morning, iso, "", "d", "01/03/2015"},
		{"standard RFC 1123", morning, iso, "", "R", "Sat, 03 Jan 2015 09:05:07 GMT"},
		{"parse month names", "3 January 2015", "d MMMM yyyy", "", "yyyy-MM-dd", "2015-01-03"},
		{"parse abbreviated names", "Sat, 3 Jan 15", "ddd, d MMM yy", "", "yyyy-MM-dd", "2015-01-03"},
		{"parse two-digit year window", "1/2/49", "M/d/yy", "", "yyyy", "2049"},
		{"parse two-digit year window upper", "1/2/50", "M/d/yy", "", "yyyy", "1950"},
		{"parse 12 hour", "1/2/2015 12:15:00 AM", "M/d/yyyy hh:mm:ss tt", "", "HH:mm", "00:15"},
		{"parse white space", "  2015-01-03  ", "yyyy-MM-dd", "", "yyyy", "2015"},
		{"parse inner white space", "2015 -  01", "yyyy - MM", "AllowWhiteSpaces", "MM", "01"},
		{"parse time only is today", "10:00", "HH:mm", "", "yyyy-MM-dd HH:mm", "2021-07-02 10:00"},
		{"parse time only without current date", "10:00", "HH:mm", "NoCurrentDateDefault", "yyyy-MM-dd", "0001-01-01"},
		{"parse offset without colon", "2015-01-03T09:05+0200", "yyyy-MM-ddTHH:mmzzz", "", "HH:mm", "07:05"},
		{"parse optional fraction", "2015-01-03T09:05:07Z", iso, "", "ss.fff", "07.000"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			src := `FormatDateTime(` + quote(tc.input) + `, ` + quote(tc.styles) + `, ` + quote(tc.inFormat) + `, ` + quote(tc.outFormat) + `)`
			if tc.styles == "" {
				src = `FormatDateTime(` + quote(tc.input) + `, , ` + quote(tc.inFormat) + `, ` + quote(tc.outFormat) + `)`
			}
			assertValue(t, src, mustEval(t, src, nil), str(tc.want))
		})
	}
}

func TestParseTimeErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		input, format, styles, want string
	}{
		{"2015-1-03", "yyyy-MM-dd", "", "expected the month at position 5"},
		{"2015-02-30", "yyyy-MM-dd", "", "2015-02 has no day 30"},
		{"2015-01-03x", "yyyy-MM-dd", "", `unexpected "x" at position 10`},
		{" 2015", "yyyy", "None", "expected the year at position 0"},
		{"13:00 PM", "hh:mm tt", "", "the hour 13 is not between 1 and 12"},
		{"2015", "yyyy-MM", "", `expected "-" at the end of the input`},
		{"24:00", "HH:mm", "", "the hour 24 is not between 0 and 23"},
	}
	for _, tc := range tests {
		toks, err := parseFormat(tc.format)
		if err != nil {
			t.Fatal(err)
		}
		styles, err := parseStyles(tc.styles)
		if err != nil {
			t.Fatal(err)
		}
		_, err = parseTime(tc.input, toks, styles, fixedNow)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("parseTime(%q, %q) error = %v, want %q", tc.input, tc.format, err, tc.want)
		}
	}
}

func TestParseDate(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"2020-03-16-07:00", "2020-03-16T07:00:00Z"},
		{"2021-06-30+08:00", "2021-06-29T16:00:00Z"},
		{"2009-06-15T01:45:30-07:00", "2009-06-15T08:45:30Z"},
		{"2009-06-15T01:45:30.5Z", "2009-06-15T01:45:30.5Z"},
		{"2009-06-15T01:45Z", "2009-06-15T01:45:00Z"},
		{"2020-12-31 23:59:59-08:00", "2021-01-01T07:59:59Z"},
		{"2021-08-24", "2021-08-24T00:00:00Z"},
		{"8/25/2021 5:41:18 PM", "2021-08-25T17:41:18Z"},
		{"8/25/2021 17:41", "2021-08-25T17:41:00Z"},
		{"8/25/2021", "2021-08-25T00:00:00Z"},
		{"20150123105347.1Z", "2015-01-23T10:53:47.1Z"},
		{"Tue, 15 Jun 2009 20:45:30 GMT", "2009-06-15T20:45:30Z"},
	}
	for _, tc := range tests {
		got, ok := parseDate(tc.in)
		if !ok || got.Format("2006-01-02T15:04:05.999999999Z07:00") != tc.want {
			t.Errorf("parseDate(%q) = %v, %v, want %s", tc.in, got, ok, tc.want)
		}
	}
	for _, in := range []string{"", "yesterday", "2021-02-30", "2021-08-24T25:00:00Z", "13/1/2021"} {
		if got, ok := parseDate(in); ok {
			t.Errorf("parseDate(%q) = %v, want failure", in, got)
		}
	}
}
