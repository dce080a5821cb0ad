package kql

import (
	"strings"
	"testing"
)

func TestParseForms(t *testing.T) {
	runTable(t, eventsDB(), []queryTest{
		// Col.[0] and Col.["key"]: an index or a quoted key after a dot, as
		// in TargetResources.[0].userPrincipalName (Kusto.Language accepts it).
		{"dot index", `print d = dynamic([{"a": 1}, {"a": 2}]) | project x = d.[1].a, y = d.[0].["a"]`, `
			x:dynamic|y:dynamic
			2|1`},
		// A let whose value is a tabular function call followed by a pipe, on
		// later lines.
		{"let of a call with a pipe", "let f = (n:long) { range x from 1 to n step 1 };\nlet t = f(3)\n| where x > 1;\nt\n| count", `
			Count:long
			2`},
		{"only lets, then the expression on a later line", "let a = 1;\nlet b = a + 1;\n\n\nprint b", `
			b:long
			2`},
		{"adjacent string literals in a list", `print x = "b" in ("a"
			"b", "c")`, `
			x:bool
			false`},
	})
}

// Constructs outside the subset fail at their place with their name.
func TestParseUnsupported(t *testing.T) {
	for _, tc := range []struct {
		query string
		pos   Pos
		want  string
	}{
		{"Events | facet by Computer", Pos{1, 10}, "unsupported tabular operator 'facet'"},
		{"Events\n| evaluate autocluster()", Pos{2, 12}, "unsupported evaluate plugin 'autocluster'"},
		{"find where x == 1", Pos{1, 1}, "unsupported tabular source 'find'"},
		{"Events | partition by Computer { Events }", Pos{1, 32}, "partition by ... { subquery with its own source }"},
		{"Events | make-series count() on TimeGenerated in range(datetime(2024-01-01), 2, 1h)", Pos{1, 78}, "range stop must be a constant of the axis type"},
		{"let f = (a:long) { a a };\nprint 1", Pos{1, 22}, "expected '}' after the body of function 'f'"},
		{"let f = (a:long, a:long) { a };\nprint 1", Pos{1, 18}, "parameter 'a' is declared twice"},
		{"print x = 1 | search in (Events) \"a\"", Pos{1, 22}, "search in (...) cannot follow a pipe"},
		{"search kind=loose \"a\"", Pos{1, 13}, "unknown search kind 'loose'"},
		{"externaldata (a:string) []", Pos{1, 1}, "externaldata needs a URL"},
		{"Events | render", Pos{1, 16}, "expected a visualization"},
		{"Events | summarize (a, b) = count() by Computer", Pos{1, 29}, "2 names for the 1 columns of count()"},
	} {
		_, err := Run(t.Context(), tc.query, eventsDB(), Options{Now: testNow})
		kerr, ok := err.(*Error)
		if !ok || kerr.Pos != tc.pos || !strings.Contains(kerr.Msg, tc.want) {
			t.Errorf("%q: got %v, want %q at %v", tc.query, err, tc.want, tc.pos)
		}
	}
}
