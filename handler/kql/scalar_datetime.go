package kql

import (
	"math"
	"strings"
	"time"
)

// Datetime and timespan functions. now() and ago() read the query clock
// (Options.Now), fixed for the whole query as in Kusto.

func init() {
	register(map[string]*fnDef{
		"now":                              {minArgs: 0, maxArgs: 1, build: buildNow},
		"ago":                              {minArgs: 1, maxArgs: 1, build: buildAgo},
		"bin":                              {minArgs: 2, maxArgs: 2, retFn: argType(0), eval: binFn},
		"floor":                            {minArgs: 2, maxArgs: 2, retFn: argType(0), eval: binFn},
		"bin_at":                           {minArgs: 3, maxArgs: 3, retFn: argType(0), eval: binAt},
		"startofday":                       {minArgs: 1, maxArgs: 2, ret: "datetime", eval: startOf("day")},
		"startofweek":                      {minArgs: 1, maxArgs: 2, ret: "datetime", eval: startOf("week")},
		"startofmonth":                     {minArgs: 1, maxArgs: 2, ret: "datetime", eval: startOf("month")},
		"startofyear":                      {minArgs: 1, maxArgs: 2, ret: "datetime", eval: startOf("year")},
		"endofday":                         {minArgs: 1, maxArgs: 2, ret: "datetime", eval: endOf("day")},
		"endofweek":                        {minArgs: 1, maxArgs: 2, ret: "datetime", eval: endOf("week")},
		"endofmonth":                       {minArgs: 1, maxArgs: 2, ret: "datetime", eval: endOf("month")},
		"endofyear":                        {minArgs: 1, maxArgs: 2, ret: "datetime", eval: endOf("year")},
		"format_datetime":                  {minArgs: 2, maxArgs: 2, ret: "string", eval: formatDatetimeFn},
		"datetime_diff":                    {minArgs: 3, maxArgs: 3, ret: "long", eval: datetimeDiff},
		"datetime_add":                     {minArgs: 3, maxArgs: 3, ret: "datetime", eval: datetimeAdd},
		"dayofweek":                        {minArgs: 1, maxArgs: 1, ret: "timespan", eval: dateField(func(t time.Time) any { return time.Duration(t.Weekday()) * 24 * time.Hour })},
		"dayofmonth":                       {minArgs: 1, maxArgs: 1, ret: "int", eval: dateField(func(t time.Time) any { return int64(t.Day()) })},
		"dayofyear":                        {minArgs: 1, maxArgs: 1, ret: "int", eval: dateField(func(t time.Time) any { return int64(t.YearDay()) })},
		"hourofday":                        {minArgs: 1, maxArgs: 1, ret: "int", eval: dateField(func(t time.Time) any { return int64(t.Hour()) })},
		"getyear":                          {minArgs: 1, maxArgs: 1, ret: "int", eval: dateField(func(t time.Time) any { return int64(t.Year()) })},
		"getmonth":                         {minArgs: 1, maxArgs: 1, ret: "int", eval: dateField(func(t time.Time) any { return int64(t.Month()) })},
		"monthofyear":                      {minArgs: 1, maxArgs: 1, ret: "int", eval: dateField(func(t time.Time) any { return int64(t.Month()) })},
		"unixtime_seconds_todatetime":      {minArgs: 1, maxArgs: 1, ret: "datetime", eval: unixTo(time.Second)},
		"unixtime_milliseconds_todatetime": {minArgs: 1, maxArgs: 1, ret: "datetime", eval: unixTo(time.Millisecond)},
	})
}

func buildNow(s *scope, c *call, args []compiled) (compiled, error) {
	now := s.x.now
	if len(args) == 1 {
		d, ok := args[0].fn(nil).(time.Duration)
		if !args[0].konst || !ok {
			return compiled{}, errorf(c.pos, "now() takes a constant timespan offset")
		}
		now = now.Add(d)
	}
	return konst(now, "datetime"), nil
}

func buildAgo(s *scope, c *call, args []compiled) (compiled, error) {
	if args[0].typ != "timespan" && !dynamicLike(args[0].typ) {
		return compiled{}, errorf(c.args[0].exprPos(), "ago() takes a timespan, got %s", args[0].typ)
	}
	now := s.x.now
	a := args[0]
	return fold(compiled{typ: "datetime", fn: func(r []any) any {
		d, ok := toTimespan(a.fn(r))
		if !ok {
			return nil
		}
		return now.Add(-d)
	}}, a), nil
}

// epoch is Kusto's datetime origin; bins of datetimes are counted from it.
var epoch = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)

// binFn rounds down to a multiple of the bin size: bin(7, 5) is 5,
// bin(datetime, 1h) the start of the hour.
func binFn(a []any) any { return binAtValue(a[0], a[1], nil) }

func binAt(a []any) any { return binAtValue(a[0], a[1], a[2]) }

func binAtValue(v, size, at any) any {
	switch x := v.(type) {
	case int64:
		if n, ok := size.(int64); ok {
			if n <= 0 {
				return nil
			}
			base, _ := toLong(at)
			return floorDiv(x-base, n)*n + base
		}
		f, ok := toReal(size)
		if !ok || f <= 0 {
			return nil
		}
		base, _ := toReal(at)
		return int64(math.Floor((float64(x)-base)/f)*f + base)
	case float64:
		f, ok := toReal(size)
		if !ok || f <= 0 {
			return nil
		}
		base, _ := toReal(at)
		return math.Floor((x-base)/f)*f + base
	case time.Time:
		d, ok := toTimespan(size)
		if !ok || d <= 0 {
			return nil
		}
		origin := ticksOf(epoch)
		if t, ok := at.(time.Time); ok {
			origin = ticksOf(t)
		}
		size := int64(d / tick)
		return fromTicks(floorDiv(ticksOf(x)-origin, size)*size + origin)
	case time.Duration:
		d, ok := toTimespan(size)
		if !ok || d <= 0 {
			return nil
		}
		base, _ := at.(time.Duration)
		return time.Duration(floorDiv(int64(x-base), int64(d)))*d + base
	}
	return nil
}

// ticksOf counts 100ns ticks since the Unix epoch; unlike time.Sub it does not
// saturate over the two thousand years since Kusto's origin.
func ticksOf(t time.Time) int64 { return t.Unix()*1e7 + int64(t.Nanosecond())/100 }

func fromTicks(tk int64) time.Time {
	sec := floorDiv(tk, 1e7)
	return time.Unix(sec, (tk-sec*1e7)*100).UTC()
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func startOfValue(unit string, t time.Time, offset int) time.Time {
	y, m, d := t.Date()
	switch unit {
	case "day":
		return time.Date(y, m, d+offset, 0, 0, 0, 0, time.UTC)
	case "week":
		return time.Date(y, m, d-int(t.Weekday())+7*offset, 0, 0, 0, 0, time.UTC)
	case "month":
		return time.Date(y, m+time.Month(offset), 1, 0, 0, 0, 0, time.UTC)
	}
	return time.Date(y+offset, 1, 1, 0, 0, 0, 0, time.UTC)
}

func startOf(unit string) func(a []any) any {
	return func(a []any) any {
		t, ok := toDatetime(a[0])
		if !ok {
			return nil
		}
		off := int64(0)
		if len(a) > 1 {
			off, _ = toLong(a[1])
		}
		return startOfValue(unit, t, int(off))
	}
}

func endOf(unit string) func(a []any) any {
	return func(a []any) any {
		t, ok := toDatetime(a[0])
		if !ok {
			return nil
		}
		off := int64(0)
		if len(a) > 1 {
			off, _ = toLong(a[1])
		}
		return startOfValue(unit, t, int(off)+1).Add(-tick)
	}
}

func dateField(f func(time.Time) any) func(a []any) any {
	return func(a []any) any {
		t, ok := toDatetime(a[0])
		if !ok {
			return nil
		}
		return f(t)
	}
}

// unixTo converts a count of units since 1970-01-01 to a datetime; whole
// numbers convert exactly.
func unixTo(unit time.Duration) func(a []any) any {
	return func(a []any) any {
		if n, ok := a[0].(int64); ok {
			if unit >= tick {
				return fromTicks(n * int64(unit/tick))
			}
			return fromTicks(floorDiv(n, int64(tick/unit)))
		}
		f, ok := toReal(a[0])
		if !ok || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil
		}
		return fromTicks(int64(math.Round(f * float64(unit) / float64(tick))))
	}
}

// formatDatetimeFn implements format_datetime with the .NET-style specifiers
// Kusto documents: yyyy yy MM M dd d HH H hh h mm m ss s f..fffffff F..FFFFFFF tt.
func formatDatetimeFn(a []any) any {
	t, ok := toDatetime(a[0])
	if !ok {
		return nil
	}
	f := text(a[1])
	var b strings.Builder
	for i := 0; i < len(f); {
		c := f[i]
		j := i
		for j < len(f) && f[j] == c {
			j++
		}
		n := j - i
		switch c {
		case 'y':
			if n <= 2 {
				b.WriteString(pad2(int64(t.Year() % 100)))
			} else {
				b.WriteString(t.Format("2006"))
			}
		case 'M':
			b.WriteString(num(int64(t.Month()), n))
		case 'd':
			b.WriteString(num(int64(t.Day()), n))
		case 'H':
			b.WriteString(num(int64(t.Hour()), n))
		case 'h':
			h := t.Hour() % 12
			if h == 0 {
				h = 12
			}
			b.WriteString(num(int64(h), n))
		case 'm':
			b.WriteString(num(int64(t.Minute()), n))
		case 's':
			b.WriteString(num(int64(t.Second()), n))
		case 'f', 'F':
			frac := t.Format(".0000000")[1 : 1+min(n, 7)]
			if c == 'F' {
				frac = strings.TrimRight(frac, "0")
			}
			b.WriteString(frac)
		case 't':
			if t.Hour() < 12 {
				b.WriteString("AM"[:min(n, 2)])
			} else {
				b.WriteString("PM"[:min(n, 2)])
			}
		default:
			b.WriteString(f[i:j])
		}
		i = j
	}
	return b.String()
}

func num(v int64, width int) string {
	if width >= 2 {
		return pad2(v)
	}
	return itoa(int(v))
}

var diffUnits = map[string]time.Duration{
	"day": 24 * time.Hour, "hour": time.Hour, "minute": time.Minute, "second": time.Second,
	"millisecond": time.Millisecond, "microsecond": time.Microsecond, "nanosecond": time.Nanosecond,
}

// datetimeDiff counts the part boundaries between the two datetimes (first minus second).
func datetimeDiff(a []any) any {
	part := strings.ToLower(text(a[0]))
	t1, ok1 := toDatetime(a[1])
	t2, ok2 := toDatetime(a[2])
	if !ok1 || !ok2 {
		return nil
	}
	switch part {
	case "year":
		return int64(t1.Year() - t2.Year())
	case "quarter":
		return int64((t1.Year()-t2.Year())*4 + (int(t1.Month())-1)/3 - (int(t2.Month())-1)/3)
	case "month":
		return int64((t1.Year()-t2.Year())*12 + int(t1.Month()) - int(t2.Month()))
	case "week":
		return int64(startOfValue("week", t1, 0).Sub(startOfValue("week", t2, 0)) / (7 * 24 * time.Hour))
	}
	unit, ok := diffUnits[part]
	if !ok {
		return nil
	}
	if unit < tick {
		return (ticksOf(t1) - ticksOf(t2)) * int64(tick/unit)
	}
	size := int64(unit / tick)
	return floorDiv(ticksOf(t1)-ticksOf(epoch), size) - floorDiv(ticksOf(t2)-ticksOf(epoch), size)
}

func datetimeAdd(a []any) any {
	part := strings.ToLower(text(a[0]))
	n, ok1 := toLong(a[1])
	t, ok2 := toDatetime(a[2])
	if !ok1 || !ok2 {
		return nil
	}
	switch part {
	case "year":
		return addMonths(t, 12*int(n))
	case "quarter":
		return addMonths(t, 3*int(n))
	case "month":
		return addMonths(t, int(n))
	case "week":
		return t.AddDate(0, 0, 7*int(n))
	}
	unit, ok := diffUnits[part]
	if !ok {
		return nil
	}
	return t.Add(time.Duration(n) * unit)
}

// addMonths moves by calendar months, keeping the day within the target month
// (January 31 plus one month is the end of February), as .NET does.
func addMonths(t time.Time, n int) time.Time {
	y, m, d := t.Date()
	first := time.Date(y, m+time.Month(n), 1, 0, 0, 0, 0, time.UTC)
	last := first.AddDate(0, 1, -1).Day()
	return time.Date(first.Year(), first.Month(), min(d, last), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
}
