package kql

import (
	"strings"
	"testing"
)

// User-defined functions and views: the examples of
// https://learn.microsoft.com/kusto/query/functions/user-defined-functions
// with the outputs the page shows (or states in a comment: "The output is
// 70", "Returns 12-b.default-7").
func TestUserDefinedFunctionsDocs(t *testing.T) {
	runTable(t, nil, []queryTest{
		{"scalar function with a default", `let Add7 = (arg0:long = 5) { arg0 + 7 };
			range x from 1 to 3 step 1
			| extend x_plus_7 = Add7(x), five_plus_seven = Add7()`, `
			x:long|x_plus_7:long|five_plus_seven:long
			1|8|12
			2|9|12
			3|10|12`},
		{"tabular function without arguments", `let tenNumbers = () { range x from 1 to 3 step 1};
			tenNumbers
			| extend x_plus_7 = x + 7`, `
			x:long|x_plus_7:long
			1|8
			2|9
			3|10`},
		{"tabular and scalar input", `let MyFilter = (T:(x:long), v:long) {
			  T | where x >= v
			};
			MyFilter((range x from 1 to 10 step 1), 9)`, `
			x:long
			9
			10`},
		{"tabular input of any schema", `let MyDistinct = (T:(*)) {
			  T | distinct *
			};
			MyDistinct((range x from 1 to 3 step 1))`, `
			x:long
			1
			2
			3`},
		{"lets in the body, nested function", `let Test1 = (id: int) {
			  let Test2 = 10;
			  let Test3 = 10 + Test2 + id;
			  let Test4 = (arg: int) {
			      let Test5 = 20;
			      Test2 + Test3 + Test5 + arg
			  };
			  Test4(10)
			};
			range x from 1 to Test1(10) step 1
			| count`, `
			Count:long
			70`},
		{"named argument", `let f = (a:long, b:string = "b.default", c:long = 0) {
			  strcat(a, "-", b, "-", c)
			};
			print f(12, c=7)`, `
			print_0:string
			12-b.default-7`},
		{"no arguments, with or without parentheses", `let a=(){123};
			range x from 1 to 2 step 1
			| extend y = x * a, z = x * a() `, `
			x:long|y:long|z:long
			1|123|123
			2|246|246`},
		{"two scalar arguments", `let f=(a:string, b:string) {
			  strcat(a, " (la la la)", b)
			};
			print f("hello", "world")`, `
			print_0:string
			hello (la la la)world`},
		{"invoke", `let append_to_column_a=(T:(a:string), what:string) {
			    T | extend a=strcat(a, " ", what)
			};
			datatable (a:string) ["sad", "really", "sad"]
			| invoke append_to_column_a(":-)")`, `
			a:string
			sad :-)
			really :-)
			sad :-)`},
		{"arguments by name in any order", `let f = (a:long, b:string = "b.default", c:long = 0) {
			  strcat(a, "-", b, "-", c)
			};
			union
			  (print x=f(c=7, a=12)), // "12-b.default-7"
			  (print x=f(12, c=7))    // "12-b.default-7"`, `
			x:string
			12-b.default-7
			12-b.default-7`},
		{"a view is a table for wildcards, a function is not", `let T_view = view () { print x=1 };
			let T_notview = () { print x=2 };
			union T*`, `
			x:long
			1`},
		{"restriction 1, supported form", `let Table1 = datatable(xdate:datetime)[datetime(1970-01-01)];
			let Table2 = datatable(Column:long)[1235];
			let f = (hours:long) { toscalar(Table1 | summarize min(xdate) - hours*1h) };
			Table2 | where Column != 123 | project d = f(10)`, `
			d:datetime
			1969-12-31T14:00:00.0000000Z`},
		{"a function named without parentheses, and called", `let T=(){
			  range x from 1 to 2 step 1
			  | project x1 = 1, x2 = 2
			};
			union T, (T())`, `
			x1:long|x2:long
			1|2
			1|2
			1|2
			1|2`},
	})
}

func TestUserDefinedFunctionsMore(t *testing.T) {
	runTable(t, eventsDB(), []queryTest{
		{"a scalar function over columns", `let label = (c:string, l:long) { strcat(c, "#", l) };
			Events | where isnotnull(Level) | project x = label(Computer, Level)`, `
			x:string
			web1#2
			web2#4
			web1#3`},
		{"a parameter shadows a column and the function of the same name", `let Level = (Level:long) { Level * 10 };
			Events | where Computer == "web2" | project Level = Level(Level)`, `
			Level:long
			40`},
		{"a tabular function as a let", `let ByComputer = (c:string) { Events | where Computer == c };
			let web1 = ByComputer("web1");
			web1 | count`, `
			Count:long
			2`},
		{"table() by name", `let n = "Events"; table(n) | count`, `
			Count:long
			4`},
		{"a view with parameters, in toscalar", `let V = view (minLevel:long) { Events | where Level >= minLevel };
			print n = toscalar(V(3) | count)`, `
			n:long
			2`},
		{"lets declared before the function, not after", `let x = 1;
			let f = () { x + 1 };
			let x = 100;
			print f()`, `
			print_0:long
			2`},
	})
	for _, tc := range []struct{ query, want string }{
		{"let f = (a:long) { a };\nprint f()", "function 'f' needs a value for parameter 'a'"},
		{"let f = (a:long) { a };\nprint f(1, 2)", "function 'f' takes 1 arguments, got 2"},
		{"let f = (a:long) { a };\nprint f(b=1)", "function 'f' has no parameter 'b'"},
		{"let f = (a:datetime) { a };\nprint f('x')", "parameter 'a' of function 'f' is datetime, got string"},
		{"let f = (T:(Nope:string)) { T };\nEvents | invoke f()", "has no column 'Nope'"},
		{"let f = (n:long) { toscalar(Events | where Level > n | count) };\nEvents | extend x = f(Level)", "arguments must not vary by row"},
		{"Events | invoke FileProfile()", "a Microsoft Defender built-in function"},
		{"let f = (a:long = 1, b:long) { a };\nprint f()", "parameter 'b' needs a default value"},
	} {
		_, err := Run(t.Context(), tc.query, eventsDB(), Options{Now: testNow})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want an error with %q", tc.query, err, tc.want)
		}
	}
}
