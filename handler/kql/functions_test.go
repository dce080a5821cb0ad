package kql

import "testing"

func TestStringFunctions(t *testing.T) {
	runTable(t, nil, []queryTest{
		{"case and length", `print a = tolower("AbC"), b = toupper("AbC"), c = strlen("héllo"), d = strlen("")`, `
			a:string|b:string|c:long|d:long
			abc|ABC|5|0`},
		{"substring", `print a = substring("abcdefg", 1, 2), b = substring("123456", 2), c = substring("abc", 5), d = substring("abc", -1, 2)`, `
			a:string|b:string|c:string|d:string
			bc|3456||ab`},
		{"strcat", `print a = strcat("a", 1, "-", true), b = strcat_delim("-", "a", "b"), c = strcat_array(dynamic(["a", "b", 1]), ",")`, `
			a:string|b:string|c:string
			a1-true|a-b|a,b,1`},
		{"split and index", `print a = split("a/b/c", "/"), b = split("a/b/c", "/")[-1], c = tostring(split("vm1.contoso.com", ".")[0]), d = split("a/b", "/")[5], e = split("a/b/c", "/", 2)`, `
			a:dynamic|b:dynamic|c:string|d:dynamic|e:dynamic
			["a","b","c"]|c|vm1||["c"]`},
		{"replace and trim", `print a = replace_string("a.b.c", ".", "/"), b = trim(@"[- ]+", "--ab c--"), c = trim_start("x", "xxabx"), d = trim_end(@"\.ps1", "run.ps1"), e = replace_regex("ab12cd3", @"(\d+)", @"<\1>")`, `
			a:string|b:string|c:string|d:string|e:string
			a/b/c|ab c|abx|run|ab<12>cd<3>`},
		{"extract", `print a = extract(@"\-File\s(script[0-9]{1,9}\.ps1)", 1, "powershell -File script12.ps1"),
			b = extract("x(\\d+)", 1, "nothing"), c = extract(@"(\d+)s", 1, "took 15s", typeof(long)), d = extract("(a)(b)", 0, "zabz"), e = extract(@"(\d+)", 1, "n/a", typeof(int))`, `
			a:string|b:string|c:long|d:string|e:int
			script12.ps1||15|ab|`},
		{"extract_all", `print a = extract_all(@"(\d+)", "a1b22c333"), b = extract_all(@"(\w)=(\d)", "a=1, b=2")`, `
			a:dynamic|b:dynamic
			["1","22","333"]|[["a","1"],["b","2"]]`},
		{"indexof, reverse, countof", `print a = indexof("abcabc", "c"), b = indexof("abc", "z"), c = reverse("abc"), d = countof("aaa", "a")`, `
			a:long|b:long|c:string|d:long
			2|-1|cba|3`},
		{"hashes", `print a = hash_sha256("abc"), b = hash_md5("abc"), c = hash_sha256(tostring(dynamic(["Get-Process"])))`, `
			a:string|b:string|c:string
			ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad|900150983cd24fb0d6963f7d28e17f72|` + sha256Hex(`["Get-Process"]`)},
		{"ipv4", `print a = ipv4_is_private("10.1.2.3"), b = ipv4_is_private("8.8.8.8"), c = ipv4_is_in_range("192.168.1.7", "192.168.1.0/24"), d = ipv4_is_in_range("10.0.0.1", "10.0.0.2"), e = ipv4_is_private("nope")`, `
			a:bool|b:bool|c:bool|d:bool|e:bool
			true|false|true|false|`},
		{"base64 and url", `print a = base64_encode_tostring("Kusto"), b = base64_decode_tostring("S3VzdG8="), c = url_decode("a%20b")`, `
			a:string|b:string|c:string
			S3VzdG8=|Kusto|a b`},
	})
}

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

func TestDynamicFunctions(t *testing.T) {
	runTable(t, nil, []queryTest{
		{"parse_json and property access", `let j = parse_json('{"scope": "/subscriptions/s1/resourceGroups/rg/x", "n": 2, "a": [10, 20, 30], "o": {"k": "v"}}');
			print a = j.scope, b = j["n"], c = j.a[1], d = j.a[-1], e = j.o.k, f = j.missing, g = tostring(j.a), h = j['o']['k']`, `
			a:dynamic|b:dynamic|c:dynamic|d:dynamic|e:dynamic|f:dynamic|g:string|h:dynamic
			/subscriptions/s1/resourceGroups/rg/x|2|20|30|v||[10,20,30]|v`},
		{"property access on a dynamic column", `datatable(d:dynamic)[dynamic({"Command": "Get-Process"}), dynamic(null), dynamic("{\"Command\": \"from text\"}")]
			| extend c = tostring(d.Command), e = tostring(parse_json(d).Command)`, `
			d:dynamic|c:string|e:string
			{"Command":"Get-Process"}|Get-Process|Get-Process
			||
			{"Command": "from text"}|from text|from text`},
		{"parse_json of invalid JSON keeps the string", `print a = parse_json("not json"), b = todynamic("[1,2]"), c = gettype(parse_json("1.5"))`, `
			a:dynamic|b:dynamic|c:string
			not json|[1,2]|real`},
		{"arrays", `let a = dynamic([3, 1, null, 2]);
			print n = array_length(a), asc = array_sort_asc(a), desc = array_sort_desc(a), p = pack_array(1, "x", true), s = array_slice(a, 1, 2), c = array_concat(a, dynamic([9])), i = array_index_of(a, 2), h = set_has_element(a, 3)`, `
			n:long|asc:dynamic|desc:dynamic|p:dynamic|s:dynamic|c:dynamic|i:long|h:bool
			4|[1,2,3,null]|[3,2,1,null]|[1,"x",true]|[1,null]|[3,1,null,2,9]|3|true`},
		{"bag_merge and range", `print m = bag_merge(dynamic({"a": 1}), dynamic({"a": 2, "b": 3})), r = range(1, 7, 3), t = range(datetime(2024-01-01), datetime(2024-01-01 02:00))`, `
			m:dynamic|r:dynamic|t:dynamic
			{"a":1,"b":3}|[1,4,7]|["2024-01-01T00:00:00.0000000Z","2024-01-01T01:00:00.0000000Z","2024-01-01T02:00:00.0000000Z"]`},
		{"bags", `let b = dynamic({"b": 1, "a": 2});
			print k = bag_keys(b), p = bag_pack("x", 1, "y", "z"), has = bag_has_key(b, "a"), n = array_length(b)`, `
			k:dynamic|p:dynamic|has:bool|n:long
			["a","b"]|{"x":1,"y":"z"}|true|`},
	})
}

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
