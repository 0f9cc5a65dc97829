package expr

import (
	"fmt"
	"time"
)

func evalCDate(ev *evaluator, c *call) (Value, error) {
	a := ev.readArgs(c)
	t, null := a.datetime(0)
	if a.err != nil || null {
		return Value{}, a.err
	}
	return TimeValue(t), nil
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

// interval returns argument i as one of the intervals DateAdd and DateDiff
// take.
func (r *argReader) interval(i int) string {
	s, _ := r.text(i)
	if r.err == nil && !isInterval(s) {
		r.err = fmt.Errorf("%s must be one of yyyy, m, d, ww, h, n, s, got %s", argName(r.c, i), r.ev.show(at(r.vs, i)))
	}
	return s
}

func evalDateAdd(ev *evaluator, c *call) (Value, error) {
	a := ev.readArgs(c)
	interval := a.interval(0)
	n, null1 := a.integer(1)
	t, null2 := a.datetime(2)
	if a.err != nil || null1 || null2 {
		return Value{}, a.err
	}
	r, ok := dateAdd(interval, n, t)
	if !ok {
		return Value{}, fmt.Errorf("adding %d %s to %s goes outside the years 1 to 9999", n, interval, t.Format(dateTimeLayout))
	}
	return TimeValue(r), nil
}

func evalDateDiff(ev *evaluator, c *call) (Value, error) {
	a := ev.readArgs(c)
	interval := a.interval(0)
	t1, null1 := a.datetime(1)
	t2, null2 := a.datetime(2)
	if a.err != nil || null1 || null2 {
		return Value{}, a.err
	}
	return IntValue(dateDiff(interval, t1, t2)), nil
}

func evalDateFromNum(ev *evaluator, c *call) (Value, error) {
	a := ev.readArgs(c)
	n, null := a.integer(0)
	if a.err != nil || null {
		return Value{}, a.err
	}
	if n < 0 {
		return Value{}, fmt.Errorf("%s must not be negative, got %d", argName(c, 0), n)
	}
	return TimeValue(fromFiletime(n)), nil
}

func evalNumFromDate(ev *evaluator, c *call) (Value, error) {
	a := ev.readArgs(c)
	t, null := a.datetime(0)
	if a.err != nil || null {
		return Value{}, a.err
	}
	n, ok := toFiletime(t)
	if !ok {
		return Value{}, fmt.Errorf("%s is before 1601, the start of Active Directory time", t.Format(dateTimeLayout))
	}
	return IntValue(n), nil
}

func evalFormatDateTime(ev *evaluator, c *call) (Value, error) {
	a := ev.readArgs(c)
	src := a.single(0)
	if a.err != nil || src.kind == Null {
		return Value{}, a.err
	}
	styleText, _ := a.text(1)
	if a.err != nil {
		return Value{}, a.err
	}
	styles, err := parseStyles(styleText)
	if err != nil {
		return Value{}, fmt.Errorf("%s: %w", argName(c, 1), err)
	}
	inFormat, _ := a.text(2)
	outFormat, _ := a.text(3)
	if a.err != nil {
		return Value{}, a.err
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
