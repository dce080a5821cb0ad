package kql

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// Unsupported or wrong queries fail with an error that names the culprit and
// its line:column.
func TestErrors(t *testing.T) {
	db := eventsDB()
	for _, test := range []struct {
		query string
		pos   Pos
		want  string // substring of the message
	}{
		{"Events | evaluate autocluster()", Pos{1, 19}, "unsupported evaluate plugin 'autocluster'"},
		{"Events\n| make-series count() on TimeGenerated in range(1, 2, 1)", Pos{2, 55}, "make-series: step must be a positive constant timespan"},
		{"Events | frobnicate", Pos{1, 10}, "unknown tabular operator 'frobnicate'"},
		{"Events | extend x = parse_user_agent(Msg, 'browser')", Pos{1, 21}, "unsupported function 'parse_user_agent'"},
		{"Events | extend x = nosuchfn(Msg)", Pos{1, 21}, "unknown function 'nosuchfn'"},
		{"Events\n| where Computr == 'x'", Pos{2, 9}, "unknown column or name 'Computr'"},
		{"Events | project Computer, Nope", Pos{1, 28}, "unknown column or name 'Nope'"},
		{"Nowhere | take 1", Pos{1, 1}, "unknown table 'Nowhere'"},
		{"Events | summarize tdigest(Level)", Pos{1, 20}, "unsupported aggregation function 'tdigest'"},
		{"Events | summarize tolower(Msg)", Pos{1, 20}, "summarize needs an aggregation function such as count() here"},
		{"Events | summarize x = 1 + arg_max(Level, *)", Pos{1, 28}, "arg_max() cannot be used inside an expression"},
		{"Events | summarize x = 1 + count() + Level", Pos{1, 38}, "unknown column or name 'Level'"},
		{"Events | extend n = count()", Pos{1, 21}, "aggregation function 'count' is only allowed in summarize"},
		{"Events | where Computer > 1", Pos{1, 25}, "cannot compare string with long using '>'"},
		{"Events | where TimeGenerated <= 1h", Pos{1, 30}, "cannot compare datetime with timespan using '<='"},
		{"Events | extend x = Computer + 1", Pos{1, 30}, "'+' is not defined for string and long (use strcat() to join strings)"},
		{"Events | extend x = Msg.field", Pos{1, 24}, "property access '.field' needs a dynamic value"},
		{"Events | where Level", Pos{1, 16}, "where needs a bool expression"},
		{"Events | extend x = substring(Msg)", Pos{1, 21}, "function 'substring' takes 2 to 3 arguments, got 1"},
		{"Events | join kind=inner (Events) on Nope", Pos{1, 38}, "join: unknown column 'Nope' on the left side"},
		{"Events | project-away Nope", Pos{1, 10}, "project-away: unknown column 'Nope'"},
		{"let f = (a:string) { Events };\nf()", Pos{2, 1}, "function 'f' needs a value for parameter 'a'"},
		{"Events | where Msg matches regex '('", Pos{1, 34}, "bad regular expression"},
		{"Events | take Level", Pos{1, 15}, "unknown column or name 'Level'"},
		{"Events | take -1", Pos{1, 15}, "take needs a constant non-negative number"},
		{"Events | join kind=crossjoin (Events) on Computer", Pos{1, 20}, "unsupported join kind 'crossjoin'"},
		{"print x = 1;\nprint y = 2", Pos{2, 1}, "only one tabular expression statement"},
		{"print x = 1\nprint y = 2", Pos{2, 1}, "expected '|', ';' or end of query, found 'print'"},
		{"Events | where Msg == 'a", Pos{1, 23}, "unterminated string literal"},
		{"Events | where x == \"\\q\"", Pos{1, 22}, "unknown escape sequence \\q"},
		{"Events | where (Level > 1", Pos{1, 26}, "expected ')', found end of query"},
		{"Events | where Level > 1d2", Pos{1, 24}, "bad number or timespan literal"},
		{"Events | extend x = datetime(2024-13-45)", Pos{1, 29}, "bad datetime literal '2024-13-45'"},
		{"Events | extend x = datetime(Computer)", Pos{1, 29}, "bad datetime literal 'Computer'"},
		{"Events | extend x = datetime(\"soon\")", Pos{1, 30}, "bad datetime literal 'soon'"},
		{"```kusto\nEvents | take 1\n```", Pos{1, 1}, "strip the markdown ```kusto fence"},
		{"Events | summarize count() by Computer | extend y = x", Pos{1, 53}, "unknown column or name 'x'"},
	} {
		t.Run(test.query, func(t *testing.T) {
			_, err := Run(context.Background(), test.query, db, Options{Now: testNow})
			var kerr *Error
			if !errors.As(err, &kerr) {
				t.Fatalf("got error %v, want a *kql.Error", err)
			}
			if kerr.Pos != test.pos || !strings.Contains(kerr.Msg, test.want) {
				t.Errorf("got %q at %v, want %q at %v", kerr.Msg, kerr.Pos, test.want, test.pos)
			}
			if !strings.Contains(err.Error(), test.pos.String()) {
				t.Errorf("Error() = %q does not show the position", err.Error())
			}
		})
	}
}

func TestParseOnlyChecksSyntax(t *testing.T) {
	if _, err := Parse("Events | extend x = nosuchfn(y) | where z"); err != nil {
		t.Errorf("Parse rejected a well-formed query: %v", err)
	}
	if _, err := Parse("Events | where"); err == nil {
		t.Error("Parse accepted a truncated query")
	}
}

func TestRunHonoursContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Run(ctx, "Events | where Level > 1 | count", eventsDB(), Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
}

// TestOddInputs feeds truncated and edge-case queries: each must give a result
// or a *kql.Error, never a panic or another error.
func TestOddInputs(t *testing.T) {
	for _, q := range []string{
		"", "// only a comment", "Events |", "print", "datatable(a:int)[]", "Events | where", "let x = ;", "Events | project",
		"Events | summarize", "Events | join", "Events | join (Events) on", "Events | order by", "print x = (1", "print x = [",
		"print x = dynamic([1,", "print x = split('a', '')", "print x = substring('abc', 2, -1)", "Events | mv-expand",
		"Events | parse Msg with", "Events | top by Level", "print 1 +", "print x = 'a' has", "print a = 1 in ()",
		"Events | extend x = Data[0].tags[-5]", "print x = bin(5, 0)", "print x = range(1, 10, 0)", "range x from 1 to 3 step 0",
		"print x = toscalar(Events | take 0)", "print x = extract('(a)', 5, 'a')", "print x = datetime(null) + 1d",
		"print x = -datetime(2024-01-01)", "Events | summarize arg_max(Level) by Computer", "union", "Events | union",
		"print x = case(true)", "print x = iff(1, 2, 3)", "Events | distinct", "print x = strcat()", "print x = tostring()",
		"Events | take 1 | mv-expand x = dynamic({'a': 1}) limit 0", "print x = format_datetime(now(), '')",
		"Events | project-rename a = b", "print x = 9223372036854775807 + 1", "print x = 99999999999999999999",
		"print x = datetime(9999-12-31) + 1d", "print x = bin(datetime(0001-01-01), 1d)", "Events | join kind=inner (Events) on $left.Level == $right.Msg",
	} {
		_, err := Run(context.Background(), q, eventsDB(), Options{Now: testNow})
		var kerr *Error
		if err != nil && !errors.As(err, &kerr) {
			t.Errorf("%q: got %v, want a *kql.Error", q, err)
		}
	}
}

func TestFormat(t *testing.T) {
	tbl := &Table{
		Columns: []Column{{"Name", "string"}, {"N", "long"}, {"When", "datetime"}, {"D", "dynamic"}},
		Rows: [][]any{
			{"short", int64(1), time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), []any{"a"}},
			{strings.Repeat("x", 60), nil, nil, map[string]any{"multi": "line\nvalue"}},
		},
	}
	var b strings.Builder
	if err := Format(&b, tbl); err != nil {
		t.Fatal(err)
	}
	want := "Name                                              N  When                          D\n" +
		"------------------------------------------------  -  ----------------------------  -----------------------\n" +
		"short                                             1  2024-01-01T00:00:00.0000000Z  [\"a\"]\n" +
		strings.Repeat("x", 47) + "…" + strings.Repeat(" ", 35) + "{\"multi\":\"line\\nvalue\"}\n"
	if b.String() != want {
		t.Errorf("Format:\n%s\nwant:\n%s", b.String(), want)
	}
}

// UnknownName tells a name the engine or the database does not know (a table, a function) from
// a query that is wrong.
func TestErrorUnknownName(t *testing.T) {
	db := Database{"T": {Name: "T", Columns: []Column{{Name: "a", Type: "long"}}}}
	for _, test := range []struct {
		query   string
		unknown bool
	}{
		{"Contoso | take 1", true},
		{"imProcessCreation | take 1", true},
		{"imProcessCreation(ago(1d)) | take 1", true},
		{"T | extend b = no_such_function(a)", true},
		{"T | project (a", false},
		{"T | where a == ", false},
	} {
		_, err := Run(context.Background(), test.query, db, Options{})
		var kerr *Error
		if !errors.As(err, &kerr) || kerr.UnknownName() != test.unknown {
			t.Errorf("%s: err %v, UnknownName %v, want %v", test.query, err, kerr != nil && kerr.UnknownName(), test.unknown)
		}
	}
}
