package kql

import "testing"

func TestDatetimeFunctions(t *testing.T) {
	runTable(t, nil, []queryTest{
		{"now and ago use the query clock", `print a = now(), b = ago(1h), c = now(-1d), d = now() - ago(2d)`, `
			a:datetime|b:datetime|c:datetime|d:timespan
			2024-01-02T03:04:05.0000000Z|2024-01-02T02:04:05.0000000Z|2024-01-01T03:04:05.0000000Z|2.00:00:00`},
		{"start and end of periods", `let t = datetime(2024-02-14 15:16:17);
			print a = startofday(t), b = startofweek(t), c = startofmonth(t), d = startofyear(t), e = endofday(t), f = startofday(t, 1)`, `
			a:datetime|b:datetime|c:datetime|d:datetime|e:datetime|f:datetime
			2024-02-14T00:00:00.0000000Z|2024-02-11T00:00:00.0000000Z|2024-02-01T00:00:00.0000000Z|2024-01-01T00:00:00.0000000Z|2024-02-14T23:59:59.9999999Z|2024-02-15T00:00:00.0000000Z`},
		{"bin of datetimes", `print a = bin(datetime(2024-02-14 15:16:17), 1h), b = bin(datetime(2024-02-14 15:16:17), 15m), c = bin(datetime(2024-02-14 15:16:17), 7d)`, `
			a:datetime|b:datetime|c:datetime
			2024-02-14T15:00:00.0000000Z|2024-02-14T15:15:00.0000000Z|2024-02-12T00:00:00.0000000Z`},
		{"parts", `let t = datetime(2024-02-14 15:16:17);
			print y = getyear(t), m = getmonth(t), d = dayofmonth(t), h = hourofday(t), w = dayofweek(t), f = format_datetime(t, "yyyy-MM-dd HH:mm:ss.fff")`, `
			y:int|m:int|d:int|h:int|w:timespan|f:string
			2024|2|14|15|3.00:00:00|2024-02-14 15:16:17.000`},
		{"diff and add", `print a = datetime_diff("day", datetime(2024-03-01), datetime(2024-02-28 23:00)), b = datetime_diff("hour", datetime(2024-01-01 10:00), datetime(2024-01-01 08:59)),
			c = datetime_diff("month", datetime(2024-03-01), datetime(2023-12-31)), d = datetime_add("month", 1, datetime(2024-01-31)), e = datetime_add("hour", -2, datetime(2024-01-01))`, `
			a:long|b:long|c:long|d:datetime|e:datetime
			2|2|3|2024-02-29T00:00:00.0000000Z|2023-12-31T22:00:00.0000000Z`},
		{"unix time", `print a = unixtime_seconds_todatetime(1700000000), b = unixtime_milliseconds_todatetime(1700000000500)`, `
			a:datetime|b:datetime
			2023-11-14T22:13:20.0000000Z|2023-11-14T22:13:20.5000000Z`},
	})
}
