package kql

import "testing"

func TestConversionFunctions(t *testing.T) {
	runTable(t, nil, []queryTest{
		{"tostring of every type", `print a = tostring(1.0), b = tostring(1.5), c = tostring(true), d = tostring(datetime(2024-01-01)), e = tostring(90m),
			f = tostring(dynamic({"b": 1, "a": [1, "x", null]})), g = tostring(int(null)), h = tostring(dynamic("str"))`, `
			a:string|b:string|c:string|d:string|e:string|f:string|g:string|h:string
			1|1.5|true|2024-01-01T00:00:00.0000000Z|01:30:00|{"a":[1,"x",null],"b":1}||str`},
		{"numbers", `print a = toint("42"), b = tolong("-7"), c = todouble("1.25"), d = toreal(3), e = toint("x"), f = tolong(2.9), g = toint(true)`, `
			a:int|b:long|c:real|d:real|e:int|f:long|g:int
			42|-7|1.25|3||2|1`},
		{"bool", `print a = tobool("true"), b = tobool("FALSE"), c = tobool(1), d = tobool("maybe")`, `
			a:bool|b:bool|c:bool|d:bool
			true|false|true|`},
		{"datetime", `print a = todatetime("2024-02-03T04:05:06Z"), b = todatetime("2024-02-03 04:05"), c = todatetime("not a date"), d = datetime("2024-05-06"), e = datetime(2015-12-31 23:59:59.9), f = todatetime("2024-02-03T04:05:06+02:00")`, `
			a:datetime|b:datetime|c:datetime|d:datetime|e:datetime|f:datetime
			2024-02-03T04:05:06.0000000Z|2024-02-03T04:05:00.0000000Z||2024-05-06T00:00:00.0000000Z|2015-12-31T23:59:59.9000000Z|2024-02-03T02:05:06.0000000Z`},
		{"timespan", `print a = totimespan("1.02:03:04"), b = totimespan("00:00:30"), c = totimespan("bad")`, `
			a:timespan|b:timespan|c:timespan
			1.02:03:04|00:00:30|`},
		{"typed nulls and literals", `print a = int(null), b = long(12), c = real(1.5), d = bool(true), e = guid(74be27de-1e4e-49d9-b579-fe0b331d3642), f = dynamic(null)`, `
			a:int|b:long|c:real|d:bool|e:guid|f:dynamic
			|12|1.5|true|74be27de-1e4e-49d9-b579-fe0b331d3642|`},
	})
}

func TestConditionalFunctions(t *testing.T) {
	runTable(t, nil, []queryTest{
		{"iff and iif", `print a = iff(1 > 2, "yes", "no"), b = iif(true, 1, 2.5), c = iff(bool(null), 1, 2)`, `
			a:string|b:real|c:long
			no|1|2`},
		{"case", `range x from 1 to 3 step 1 | extend size = case(x < 2, "small", x < 3, "medium", "large")`, `
			x:long|size:string
			1|small
			2|medium
			3|large`},
		{"coalesce", `print a = coalesce(int(null), 5), b = coalesce("", "x"), c = coalesce(int(null), int(null))`, `
			a:long|b:string|c:int
			5|x|`},
		{"null and empty tests", `print a = isempty(""), b = isempty("x"), c = isnotempty("x"), d = isnull(int(null)), e = isnotnull(1), f = isempty(int(null)), g = isnull("")`, `
			a:bool|b:bool|c:bool|d:bool|e:bool|f:bool|g:bool
			true|false|true|true|true|true|false`},
		{"math", `print a = abs(-3), b = round(2.567, 2), c = floor(7.9, 1), d = bin(17, 5), e = max_of(1, 5, 3), f = min_of(2.5, 1), g = pow(2, 10), h = sqrt(16.0)`, `
			a:long|b:real|c:real|d:long|e:long|f:real|g:real|h:real
			3|2.57|7|15|5|1|1024|4`},
	})
}
