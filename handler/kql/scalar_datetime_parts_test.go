package kql

import "testing"

func TestDatetimeParts(t *testing.T) {
	runTable(t, nil, []queryTest{
		// https://learn.microsoft.com/kusto/query/datetime-part-function
		{"datetime_part", `let dt = datetime(2017-10-30 01:02:03.7654321);
			print
			year = datetime_part("year", dt),
			quarter = datetime_part("quarter", dt),
			month = datetime_part("month", dt),
			weekOfYear = datetime_part("week_of_year", dt),
			day = datetime_part("day", dt),
			dayOfYear = datetime_part("dayOfYear", dt),
			hour = datetime_part("hour", dt),
			minute = datetime_part("minute", dt),
			second = datetime_part("second", dt),
			millisecond = datetime_part("millisecond", dt),
			microsecond = datetime_part("microsecond", dt),
			nanosecond = datetime_part("nanosecond", dt)`, `
			year:int|quarter:int|month:int|weekOfYear:int|day:int|dayOfYear:int|hour:int|minute:int|second:int|millisecond:int|microsecond:int|nanosecond:int
			2017|4|10|44|30|303|1|2|3|765|765432|765432100`},
		// https://learn.microsoft.com/kusto/query/week-of-year-function
		{"week_of_year", `print a = week_of_year(datetime(2020-12-31)), b = week_of_year(datetime(2020-06-15)), c = week_of_year(datetime(1970-01-01)), d = week_of_year(datetime(2000-01-01))`, `
			a:int|b:int|c:int|d:int
			53|25|1|52`},
		// https://learn.microsoft.com/kusto/query/make-datetime-function
		{"make_datetime", `print year_month_day = make_datetime(2017,10,01), year_month_day_hour_minute = make_datetime(2017,10,01,12,10),
			year_month_day_hour_minute_second = make_datetime(2017,10,01,12,11,0.1234567)`, `
			year_month_day:datetime|year_month_day_hour_minute:datetime|year_month_day_hour_minute_second:datetime
			2017-10-01T00:00:00.0000000Z|2017-10-01T12:10:00.0000000Z|2017-10-01T12:11:00.1234567Z`},
		// https://learn.microsoft.com/kusto/query/make-timespan-function
		{"make_timespan", `print ['timespan'] = make_timespan(1,12,30,55.123)`, `
			timespan:timespan
			1.12:30:55.1230000`},
		// https://learn.microsoft.com/kusto/query/format-timespan-function
		{"format_timespan", `let t = time(29.09:00:05.12345);
			print
			v1=format_timespan(t, 'dd.hh:mm:ss:FF'),
			v2=format_timespan(t, 'ddd.h:mm:ss [fffffff]')`, `
			v1:string|v2:string
			29.09:00:05:12|029.9:00:05 [1234500]`},
		// https://learn.microsoft.com/kusto/query/unixtime-microseconds-todatetime-function and -nanoseconds-
		{"unixtime conversions", `print a = unixtime_microseconds_todatetime(1546300800000000), b = unixtime_nanoseconds_todatetime(1546300800000000000)`, `
			a:datetime|b:datetime
			2019-01-01T00:00:00.0000000Z|2019-01-01T00:00:00.0000000Z`},
	})
}
