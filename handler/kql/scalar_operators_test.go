package kql

import "testing"

// Scalar operators, one print per case: arithmetic and its types, null
// semantics, comparisons across types, and the string operators.

func TestScalarOperators(t *testing.T) {
	runTable(t, nil, []queryTest{
		{"integer arithmetic", `print a = 7 + 3, b = 7 - 10, c = 6 * 7, d = 7 / 2, e = 7 % 3, f = -(4)`, `
			a:long|b:long|c:long|d:long|e:long|f:long
			10|-3|42|3|1|-4`},
		{"real arithmetic", `print a = 7 / 2.0, b = 1.5 + 2, c = 0.1 + 0.2, d = 1 / 0.0`, `
			a:real|b:real|c:real|d:real
			3.5|3.5|0.30000000000000004|Infinity`},
		{"integer division by zero is null", `print a = 1 / 0, b = 1 % 0`, `
			a:long|b:long
			|`},
		{"int columns", `datatable(i:int, l:long)[2, 3] | extend a = i + i, b = i + l, c = i * 1.5`, `
			i:int|l:long|a:int|b:long|c:real
			2|3|4|5|3`},
		{"datetime arithmetic", `let t = datetime(2024-01-01 10:00);
			print a = t - datetime(2024-01-01), b = t + 1d, c = t - 30m, d = 2h + t`, `
			a:timespan|b:datetime|c:datetime|d:datetime
			10:00:00|2024-01-02T10:00:00.0000000Z|2024-01-01T09:30:00.0000000Z|2024-01-01T12:00:00.0000000Z`},
		{"timespan arithmetic", `print a = 1d + 2h, b = 2h * 3, c = 3 * 10m, d = 1h / 4, e = 1d / 1h, f = -1d, g = 90s - 1m`, `
			a:timespan|b:timespan|c:timespan|d:timespan|e:real|f:timespan|g:timespan
			1.02:00:00|06:00:00|00:30:00|00:15:00|24|-1.00:00:00|00:00:30`},
		{"timespan literals", `print a = 100ms, b = 10s, c = 1.5h, d = 2d, e = 1tick, f = 10microseconds, g = time(1.02:03:04.5), h = timespan(00:00:01)`, `
			a:timespan|b:timespan|c:timespan|d:timespan|e:timespan|f:timespan|g:timespan|h:timespan
			00:00:00.1000000|00:00:10|01:30:00|2.00:00:00|00:00:00.0000001|00:00:00.0000100|1.02:03:04.5000000|00:00:01`},
		{"comparisons across numeric types", `print a = 1 == 1.0, b = 2 > 1.5, c = int(3) <= 3, d = 2.5 < 2, e = 1 != 2, f = 1 <> 1`, `
			a:bool|b:bool|c:bool|d:bool|e:bool|f:bool
			true|true|true|false|true|false`},
		{"datetime and timespan comparisons", `print a = datetime(2024-01-01) < datetime(2024-01-02), b = 1h > 30m, c = ago(1d) < now()`, `
			a:bool|b:bool|c:bool
			true|true|true`},
		{"string equality is case-sensitive", `print a = "abc" == "ABC", b = "abc" =~ "ABC", c = "abc" != "ABC", d = "abc" !~ "ABC", e = "b" > "a"`, `
			a:bool|b:bool|c:bool|d:bool|e:bool
			false|true|true|false|true`},
		// https://learn.microsoft.com/kusto/query/scalar-data-types/null-values#equality-and-inequality-of-null-values
		{"null comparisons", `print a = int(null) == 1, b = int(null) != 1, c = int(null) < 1, d = isnull(int(null) > 1), e = isnull(int(null) == int(null))`, `
			a:bool|b:bool|c:bool|d:bool|e:bool
			false|true||true|true`},
		{"three-valued logic", `print a = false and bool(null), b = true or bool(null), c = true and bool(null), d = not(true), e = not(bool(null)), f = true and not(false)`, `
			a:bool|b:bool|c:bool|d:bool|e:bool|f:bool
			false|true||false||true`},
		{"where drops null predicates", `datatable(x:long)[1, long(null), 3] | where x > 1`, `
			x:long
			3`},
		{"has matches whole terms", `print a = "powershell -ExecutionPolicy Unrestricted -File script0.ps1" has "-File",
			b = "powershell -Filepath x" has "-File", c = "a.b.c" has "b.c", d = "xb.c" has "b.c", e = "Hello" has "",
			f = "virtualMachines/vm1" has "virtualmachines", g = "virtualMachinesX" has "virtualMachines"`, `
			a:bool|b:bool|c:bool|d:bool|e:bool|f:bool|g:bool
			true|false|true|false|true|true|false`},
		{"has on a dynamic array uses its JSON", `print a = dynamic(["Started","Succeeded"]) has "Succeeded", b = dynamic(["Started"]) has "Succeeded"`, `
			a:bool|b:bool
			true|false`},
		{"has_any and has_all", `print a = "error: disk full" has_any ("disk", "cpu"), b = "error: disk full" has_all ("disk", "full"),
			c = "error: disk full" has_all ("disk", "cpu"), d = "x y" has_any (dynamic(["z", "y"]))`, `
			a:bool|b:bool|c:bool|d:bool
			true|true|false|true`},
		{"in with numbers and dynamic arrays", `print a = 2 in (1, 2, 3), b = 2.0 in (1, 2), c = "b" in (dynamic(["a", "b"])), d = 5 !in (1, 2), e = "B" in~ (dynamic(["a", "b"])), f = "B" !in~ ("b")`, `
			a:bool|b:bool|c:bool|d:bool|e:bool|f:bool
			true|true|true|true|true|false`},
		{"in with a tabular let", `let bad = datatable(ip:string)["10.0.0.1", "10.0.0.2"];
			datatable(ip:string, n:long)["10.0.0.1", 1, "10.0.0.3", 2, "10.0.0.2", 3]
			| where ip in (bad)`, `
			ip:string|n:long
			10.0.0.1|1
			10.0.0.2|3`},
		{"in with a subquery", `datatable(ip:string, n:long)["a", 1, "b", 2, "c", 3]
			| where ip !in ((datatable(x:string)["b"] | project x))`, `
			ip:string|n:long
			a|1
			c|3`},
		{"between is inclusive", `print a = 5 between (1 .. 5), b = 5.5 between (1 .. 5), c = 0 !between (1 .. 5),
			d = datetime(2024-01-02) between (datetime(2024-01-01) .. 1d), e = 1h between (30m .. 2h)`, `
			a:bool|b:bool|c:bool|d:bool|e:bool
			true|false|true|true|true`},
		{"matches regex", `print a = "script12.ps1" matches regex @"^script\d+\.ps1$", b = "x" matches regex "[0-9]"`, `
			a:bool|b:bool
			true|false`},
		{"contains and friends", `print a = "FabriKam" contains "brik", b = "FabriKam" contains_cs "brik", c = "Fabrikam" startswith "FAB", d = "Fabrikam" endswith "KAM", e = "Fabrikam" !contains "x"`, `
			a:bool|b:bool|c:bool|d:bool|e:bool
			true|false|true|true|true`},
		{"string literal forms (adjacent literals concatenate)", "print a = 'it''s' , b = \"tab\\there\", c = @\"C:\\temp\\x\", d = @'say ''hi''', e = 'a' \"b\", f = ```line1\nline2```, g = h'hidden', h = \"\\u0041\\\\\"", `
			a:string|b:string|c:string|d:string|e:string|f:string|g:string|h:string
			its|tab	here|C:\temp\x|say 'hi'|ab|line1
			line2|hidden|A\`},
		{"comments", `print a = 1 // a comment
			// another
			, b = "// not a comment"`, `
			a:long|b:string
			1|// not a comment`},
	})
}
