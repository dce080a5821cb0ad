package kql

import (
	"strings"
	"testing"
	"time"
)

// searchDB has three tables, for search and union over "every table".
func searchDB() Database {
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	return Database{
		"Events": eventsDB()["Events"],
		"Logons": {Name: "Logons", Columns: []Column{{"TimeGenerated", "datetime"}, {"Account", "string"}, {"Computer", "string"}, {"Failed", "bool"}},
			Rows: [][]any{
				{t0, "alice", "web1", false},
				{t0.Add(time.Hour), "Bob", "db1", true},
			}},
		"Notes": {Name: "Notes", Columns: []Column{{"Text", "string"}, {"N", "long"}},
			Rows: [][]any{{"Disk replaced on web1", int64(7)}, {"nothing to see", int64(404)}}},
	}
}

// search follows the predicate syntax table of
// https://learn.microsoft.com/kusto/query/search-operator: a bare term is
// "where * has term" over every table, * in a term makes it hasprefix,
// hassuffix, contains or a regular expression, Col:"term" looks in one column,
// kind=case_sensitive makes terms case-sensitive, and the output starts with
// $table, the name of each row's table.
func TestSearch(t *testing.T) {
	runTable(t, searchDB(), []queryTest{
		{"a term in every table", `search "web1" | project $table, Computer, Text`, `
			$table:string|Computer:string|Text:string
			Events|web1|
			Events|web1|
			Logons|web1|
			Notes||Disk replaced on web1`},
		{"has matches whole terms, case-insensitively", `search "DISK" | project $table, Msg, Text`, `
			$table:string|Msg:string|Text:string
			Events|disk full|
			Events|Disk slow|
			Notes||Disk replaced on web1`},
		{"search in (tables)", `search in (Logons, Notes) "bob" | project $table, Account`, `
			$table:string|Account:string
			Logons|Bob`},
		{"wildcards in table names", `search in (Log*) "alice" | count`, `
			Count:long
			1`},
		{"Col:term", `search Computer:"db1" | project $table, Computer`, `
			$table:string|Computer:string
			Events|db1
			Logons|db1`},
		{"Col == value is exact", `search Account == "bob" | count`, `
			Count:long
			0`},
		{"prefix", `search "rest*" | project Msg`, `
			Msg:string
			restart`},
		{"suffix", `search "*ful" | project Msg`, `
			Msg:string
			`},
		{"contains", `search "*lac*" | project Text`, `
			Text:string
			Disk replaced on web1`},
		{"inner wildcard is a regular expression", `search "Di*ow" | project Msg`, `
			Msg:string
			Disk slow`},
		{"and, or and a comparison", `search "web1" and ("disk" or "alice") and TimeGenerated < datetime(2024-01-01 01:00) | project $table, Msg, Account`, `
			$table:string|Msg:string|Account:string
			Events|disk full|
			Logons||alice`},
		{"the table's name is not searched", `search "Notes" | count`, `
			Count:long
			0`},
		{"numbers are searched as text", `search "404" | project N`, `
			N:long
			404`},
		{"case-sensitive", `search kind=case_sensitive "Disk" | project $table, Msg, Text`, `
			$table:string|Msg:string|Text:string
			Events|Disk slow|
			Notes||Disk replaced on web1`},
		{"search *", `search * | summarize count() by $table`, `
			$table:string|count_:long
			Events|4
			Logons|2
			Notes|2`},
		{"after a pipe", `Events | search "slow" | project $table, Msg`, `
			$table:string|Msg:string
			Events|Disk slow`},
		{"after a pipe, on a computed table", `Events | project Msg | search "ok"`, `
			$table:string|Msg:string
			union_arg0|login ok`},
		{"where * has", `Events | where * has "full" | project Msg`, `
			Msg:string
			disk full`},
		{"not", `search in (Logons) not("alice") | project Account`, `
			Account:string
			Bob`},
	})
}

// union * reads every table (https://learn.microsoft.com/kusto/query/union-operator),
// and views (https://learn.microsoft.com/kusto/query/functions/user-defined-functions#view-functions).
func TestUnionStar(t *testing.T) {
	runTable(t, searchDB(), []queryTest{
		{"withsource, counted", `union withsource=T * | summarize n = count() by T | order by T asc`, `
			T:string|n:long
			Events|4
			Logons|2
			Notes|2`},
		{"columns of every table", `union * | getschema | project ColumnName`, `
			ColumnName:string
			TimeGenerated
			Computer
			Level
			Msg
			Data
			Account
			Failed
			Text
			N`},
		{"filters before the union builds rows", `union withsource=T * | where Computer == "db1" | project T, Computer`, `
			T:string|Computer:string
			Events|db1
			Logons|db1`},
		{"kind=outer with wildcards", `union withsource=T kind=outer Ev*, Notes | where isnotempty(Text) or Level == 4 | project T, Msg, Text`, `
			T:string|Msg:string|Text:string
			Events|login ok|
			Notes||Disk replaced on web1
			Notes||nothing to see`},
		{"a view is a table for union *", `let V = view () { print Text = "from the view" }; union withsource=T * | where Text has "view" | project T, Text`, `
			T:string|Text:string
			V|from the view`},
		{"a let named like a table is not what * reads", `let Notes = Notes | take 1; union withsource=T * | summarize n = count() by T | where T == "Notes"`, `
			T:string|n:long
			Notes|2`},
		{"isfuzzy skips legs over missing tables", `union isfuzzy=true (Missing | where x == 1), (Notes | where N > 10) | project Text`, `
			Text:string
			nothing to see`},
	})
	if _, err := Run(t.Context(), "union (Missing | where x == 1), Notes", searchDB(), Options{Now: testNow}); err == nil || !strings.Contains(err.Error(), "unknown table 'Missing'") {
		t.Errorf("union without isfuzzy: got %v, want unknown table 'Missing'", err)
	}
}

// The columns a pipeline reads after a union decide what the union builds.
func TestNeededColumns(t *testing.T) {
	for _, tc := range []struct {
		query string
		want  string // sorted names; "all" for nil
	}{
		{"union * | summarize count() by Type", "Type"},
		{"union * | where A > 1 | extend B = C | project B, D", "A B C D"},
		{"union * | count", ""},
		{"union * | take 10", "all"},
		{"union * | summarize arg_max(T, *) by K", "all"},
		{"union * | where * has 'x' | count", "all"},
		{"union * | project-away X", "all"},
	} {
		q, err := Parse(tc.query)
		if err != nil {
			t.Fatal(err)
		}
		keep := neededColumns(q.body.ops)
		got := "all"
		if keep != nil {
			var names []string
			for k := range keep {
				names = append(names, k)
			}
			sortStrings(names)
			got = strings.Join(names, " ")
		}
		if got != tc.want {
			t.Errorf("%s: needs %q, want %q", tc.query, got, tc.want)
		}
	}
}
