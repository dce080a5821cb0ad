package kql

import (
	"math"
	"strings"
	"time"
)

// Datetime parts, constructors and format_timespan.

func init() {
	register(map[string]*fnDef{
		"datetime_part":                    {minArgs: 2, maxArgs: 2, ret: "int", eval: datetimePart},
		"datepart":                         {minArgs: 2, maxArgs: 2, ret: "int", eval: datetimePart},
		"week_of_year":                     {minArgs: 1, maxArgs: 1, ret: "int", eval: dateField(isoWeek)},
		"make_datetime":                    {minArgs: 3, maxArgs: 6, ret: "datetime", eval: makeDatetime},
		"make_timespan":                    {minArgs: 2, maxArgs: 4, ret: "timespan", eval: makeTimespan},
		"format_timespan":                  {minArgs: 2, maxArgs: 2, ret: "string", eval: formatTimespanFn},
		"unixtime_microseconds_todatetime": {minArgs: 1, maxArgs: 1, ret: "datetime", eval: unixTo(time.Microsecond)},
		"unixtime_nanoseconds_todatetime":  {minArgs: 1, maxArgs: 1, ret: "datetime", eval: unixTo(time.Nanosecond)},
	})
}

// isoWeek is the ISO 8601 week number: week 1 holds the year's first Thursday
// (https://learn.microsoft.com/kusto/query/week-of-year-function).
func isoWeek(t time.Time) any {
	_, w := t.ISOWeek()
	return int64(w)
}

// datetimePart implements datetime_part(part, datetime)
// (https://learn.microsoft.com/kusto/query/datetime-part-function).
func datetimePart(a []any) any {
	t, ok := toDatetime(a[1])
	if !ok {
		return nil
	}
	ns := int64(t.Nanosecond())
	switch strings.ToLower(text(a[0])) {
	case "year":
		return int64(t.Year())
	case "quarter":
		return int64(t.Month()-1)/3 + 1
	case "month":
		return int64(t.Month())
	case "week_of_year", "weekofyear", "week":
		return isoWeek(t)
	case "day":
		return int64(t.Day())
	case "dayofyear":
		return int64(t.YearDay())
	case "hour":
		return int64(t.Hour())
	case "minute":
		return int64(t.Minute())
	case "second":
		return int64(t.Second())
	case "millisecond":
		return ns / 1e6
	case "microsecond":
		return ns / 1e3
	case "nanosecond":
		return ns
	}
	return nil
}

// make_datetime(year, month, day [, hour, minute [, second]]): null when a
// part is out of range.
func makeDatetime(a []any) any {
	if len(a) == 4 {
		return nil
	}
	var p [5]int64
	for i := 0; i < len(a) && i < 5; i++ {
		v, ok := toLong(a[i])
		if !ok {
			return nil
		}
		p[i] = v
	}
	sec := 0.0
	if len(a) == 6 {
		f, ok := toReal(a[5])
		if !ok || f < 0 || f >= 60 {
			return nil
		}
		sec = f
	}
	y, mo, d, h, mi := p[0], p[1], p[2], p[3], p[4]
	if y < 0 || y > 9999 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 {
		return nil
	}
	t := time.Date(int(y), time.Month(mo), int(d), int(h), int(mi), 0, 0, time.UTC)
	if t.Day() != int(d) {
		return nil
	}
	return fromTicks(ticksOf(t) + int64(math.Round(sec*1e7)))
}

// make_timespan(hour, minute), (hour, minute, second) or (day, hour, minute, second).
func makeTimespan(a []any) any {
	var day, hour, minute int64
	var sec float64
	ints := a
	if len(a) >= 3 {
		ints = a[:len(a)-1]
		f, ok := toReal(a[len(a)-1])
		if !ok {
			return nil
		}
		sec = f
	}
	vals := make([]int64, len(ints))
	for i, v := range ints {
		n, ok := toLong(v)
		if !ok {
			return nil
		}
		vals[i] = n
	}
	switch len(a) {
	case 2:
		hour, minute = vals[0], vals[1]
	case 3:
		hour, minute = vals[0], vals[1]
	case 4:
		day, hour, minute = vals[0], vals[1], vals[2]
	}
	ticks := ((day*24+hour)*60+minute)*60*1e7 + int64(math.Round(sec*1e7))
	return time.Duration(ticks) * tick
}

// formatTimespanFn implements format_timespan(timespan, format) with the
// specifiers d..dddddddd, h/H, hh/HH, m, mm, s, ss, f..fffffff and
// F..FFFFFFF (https://learn.microsoft.com/kusto/query/format-timespan-function).
func formatTimespanFn(a []any) any {
	d, ok := toTimespan(a[0])
	if !ok {
		return nil
	}
	var b strings.Builder
	if d < 0 {
		b.WriteByte('-')
		d = -d
	}
	ticks := int64(d / tick)
	frac := ticks % 1e7
	secs := ticks / 1e7
	days, hours, mins, s := secs/86400, secs/3600%24, secs/60%60, secs%60
	f := text(a[1])
	for i := 0; i < len(f); {
		c := f[i]
		j := i
		for j < len(f) && f[j] == c {
			j++
		}
		n := j - i
		switch c {
		case 'd':
			b.WriteString(padNum(days, n))
		case 'h', 'H':
			b.WriteString(padNum(hours, min(n, 2)))
		case 'm':
			b.WriteString(padNum(mins, min(n, 2)))
		case 's':
			b.WriteString(padNum(s, min(n, 2)))
		case 'f', 'F':
			digits := padNum(frac, 7)[:min(n, 7)]
			if c == 'F' {
				digits = strings.TrimRight(digits, "0")
			}
			b.WriteString(digits)
		default:
			b.WriteString(f[i:j])
		}
		i = j
	}
	return b.String()
}

// padNum prints v with at least width digits.
func padNum(v int64, width int) string {
	s := itoa(int(v))
	if len(s) < width {
		s = strings.Repeat("0", width-len(s)) + s
	}
	return s
}
