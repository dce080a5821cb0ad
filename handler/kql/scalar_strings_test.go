package kql

import "testing"

func TestStringFunctions(t *testing.T) {
	runTable(t, nil, []queryTest{
		{"case and length", `print a = tolower("AbC"), b = toupper("AbC"), c = strlen("héllo"), d = strlen("")`, `
			a:string|b:string|c:long|d:long
			abc|ABC|5|0`},
		// https://learn.microsoft.com/kusto/query/substring-function: a negative
		// start counts from the end, substring("123456", -2, 2) is 56.
		{"substring", `print a = substring("abcdefg", 1, 2), b = substring("123456", 2), c = substring("abc", 5), d = substring("abc", -1, 2), e = substring("123456", -2, 2)`, `
			a:string|b:string|c:string|d:string|e:string
			bc|3456||c|56`},
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
