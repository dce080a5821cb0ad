package kql

import (
	"testing"
	"time"
)

// events is a small table used by the operator tests.
func eventsDB() Database {
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	return Database{"Events": {
		Name:    "Events",
		Columns: []Column{{"TimeGenerated", "datetime"}, {"Computer", "string"}, {"Level", "long"}, {"Msg", "string"}, {"Data", "dynamic"}},
		Rows: [][]any{
			{t0, "web1", int64(2), "disk full", map[string]any{"tags": []any{"a", "b"}}},
			{t0.Add(time.Hour), "web2", int64(4), "login ok", map[string]any{"tags": []any{"c"}}},
			{t0.Add(2 * time.Hour), "web1", int64(3), "Disk slow", nil},
			{t0.Add(3 * time.Hour), "db1", nil, "restart", map[string]any{"tags": []any{}}},
		},
	}}
}

func TestRowOperators(t *testing.T) {
	runTable(t, eventsDB(), []queryTest{
		{"where with several predicates", `Events | where Level >= 3 and Msg has "disk" | project Computer`, `
			Computer:string
			web1`},
		{"filter is where", `Events | filter Computer startswith "db" | count`, `
			Count:long
			1`},
		{"extend adds and replaces; items see earlier items", `Events | take 1 | extend Level = Level * 10, Double = Level * 2, Upper = toupper(Computer) | project Level, Double, Upper`, `
			Level:long|Double:long|Upper:string
			20|40|WEB1`},
		{"extend names unnamed expressions", `Events | take 1 | extend Data.tags, strlen(Msg) | project-away TimeGenerated, Computer, Level, Msg, Data`, `
			Data_tags:dynamic|Column1:long
			["a","b"]|9`},
		{"project renames and computes", `Events | take 2 | project Host = Computer, Hour = bin(TimeGenerated, 1h), Level`, `
			Host:string|Hour:datetime|Level:long
			web1|2024-01-01T00:00:00.0000000Z|2
			web2|2024-01-01T01:00:00.0000000Z|4`},
		{"project-away with wildcard", `Events | take 1 | project-away T*, D*, Msg`, `
			Computer:string|Level:long
			web1|2`},
		{"project-keep and project-reorder", `Events | take 1 | project-keep Msg, Comp* | project-reorder Msg`, `
			Msg:string|Computer:string
			disk full|web1`},
		{"project-rename", `Events | take 1 | project-rename Host = Computer, Severity = Level | project Host, Severity`, `
			Host:string|Severity:long
			web1|2`},
		{"take and limit", `Events | limit 2 | take 5 | project Computer`, `
			Computer:string
			web1
			web2`},
		{"distinct", `Events | distinct Computer`, `
			Computer:string
			web1
			web2
			db1`},
		{"distinct star", `datatable(a:long, b:string)[1, "x", 1, "x", 2, "x"] | distinct *`, `
			a:long|b:string
			1|x
			2|x`},
		{"column_ifexists", `Events | take 1 | project a = column_ifexists("Computer", ""), b = column_ifexists("NoSuch", "fallback")`, `
			a:string|b:string
			web1|fallback`},
		{"count", `Events | count`, `
			Count:long
			4`},
		{"getschema", `Events | project Computer, Level | getschema`, `
			ColumnName:string|ColumnOrdinal:int|DataType:string|ColumnType:string
			Computer|0|System.String|string
			Level|1|System.Int64|long`},
		{"serialize", `Events | serialize | take 1 | project Computer`, `
			Computer:string
			web1`},
	})
}

func TestSortAndTop(t *testing.T) {
	runTable(t, eventsDB(), []queryTest{
		{"order by defaults to descending, nulls last", `Events | order by Level | project Computer, Level`, `
			Computer:string|Level:long
			web2|4
			web1|3
			web1|2
			db1|`},
		{"ascending puts nulls first", `Events | sort by Level asc | project Computer, Level`, `
			Computer:string|Level:long
			db1|
			web1|2
			web1|3
			web2|4`},
		{"nulls placement can be chosen", `Events | order by Level asc nulls last | project Computer, Level`, `
			Computer:string|Level:long
			web1|2
			web1|3
			web2|4
			db1|`},
		{"several keys", `Events | order by Computer asc, TimeGenerated desc | project Computer, Level`, `
			Computer:string|Level:long
			db1|
			web1|3
			web1|2
			web2|4`},
		{"top", `Events | top 2 by Level | project Computer, Level`, `
			Computer:string|Level:long
			web2|4
			web1|3`},
		{"top ascending", `Events | top 1 by TimeGenerated asc | project Msg`, `
			Msg:string
			disk full`},
	})
}

func TestLetAndSources(t *testing.T) {
	runTable(t, eventsDB(), []queryTest{
		{"scalar lets", `let lookback = 2h; let minLevel = 1 + 2; let t0 = datetime(2024-01-01 03:00);
			Events | where TimeGenerated >= t0 - lookback and Level >= minLevel | project Computer`, `
			Computer:string
			web2
			web1`},
		{"tabular lets", `let web = Events | where Computer startswith "web";
			let levels = web | summarize n = count() by Computer;
			levels | order by Computer asc`, `
			Computer:string|n:long
			web1|2
			web2|1`},
		{"let naming a table", `let E = Events; E | count`, `
			Count:long
			4`},
		{"toscalar", `let maxLevel = toscalar(Events | summarize max(Level));
			Events | where Level == maxLevel | project Computer`, `
			Computer:string
			web2`},
		{"datatable", `datatable(a:long, b:string, c:dynamic, d:datetime)[1, "x", dynamic({"k": 1}), datetime(2024-01-01), -2, 'y', dynamic([1]), datetime(null)]`, `
			a:long|b:string|c:dynamic|d:datetime
			1|x|{"k":1}|2024-01-01T00:00:00.0000000Z
			-2|y|[1]|`},
		{"range of datetimes", `range t from datetime(2024-01-01) to datetime(2024-01-01 02:00) step 1h`, `
			t:datetime
			2024-01-01T00:00:00.0000000Z
			2024-01-01T01:00:00.0000000Z
			2024-01-01T02:00:00.0000000Z`},
		{"parenthesized source and materialize", `let m = materialize(Events | where Level > 2); (m | project Computer) | take 1`, `
			Computer:string
			web2`},
	})
}

func TestUnion(t *testing.T) {
	db := Database{
		"A": {Name: "A", Columns: []Column{{"k", "string"}, {"v", "long"}}, Rows: [][]any{{"a", int64(1)}}},
		"B": {Name: "B", Columns: []Column{{"k", "string"}, {"w", "real"}}, Rows: [][]any{{"b", 2.5}}},
		"C": {Name: "C", Columns: []Column{{"k", "string"}, {"v", "string"}}, Rows: [][]any{{"c", "x"}}},
	}
	runTable(t, db, []queryTest{
		{"outer union of columns", `union A, B`, `
			k:string|v:long|w:real
			a|1|
			b||2.5`},
		{"withsource", `union withsource=SourceTable A, (B | project k)`, `
			SourceTable:string|k:string|v:long
			A|a|1
			union_arg1|b|`},
		{"piped union", `A | union B | project k`, `
			k:string
			a
			b`},
		{"same name with different types", `union A, C`, `
			k:string|v_long:long|v_string:string
			a|1|
			c||x`},
		{"kind=inner keeps common columns", `union kind=inner A, B`, `
			k:string
			a
			b`},
		{"wildcards", `union withsource=T A* , B | project T, k`, `
			T:string|k:string
			A|a
			B|b`},
		{"isfuzzy skips missing tables", `union isfuzzy=true A, Missing | count`, `
			Count:long
			1`},
	})
}

func TestJoinDetails(t *testing.T) {
	db := Database{
		"L": {Name: "L", Columns: []Column{{"id", "long"}, {"host", "string"}, {"x", "string"}}, Rows: [][]any{
			{int64(1), "h1", "l1"}, {int64(2), "h2", "l2"}, {int64(1), "h1", "l3"}, {nil, "h9", "l4"},
		}},
		"R": {Name: "R", Columns: []Column{{"rid", "long"}, {"host", "string"}, {"x", "string"}, {"z", "string"}}, Rows: [][]any{
			{int64(1), "h1", "r1", "q"}, {int64(2), "h2", "r2", "q"}, {nil, "h9", "r9", "q"},
		}},
	}
	runTable(t, db, []queryTest{
		{"$left/$right keys, clashing names get suffixes", `L | join kind=inner R on $left.id == $right.rid`, `
			id:long|host:string|x:string|rid:long|host1:string|x1:string|z:string
			1|h1|l1|1|h1|r1|q
			2|h2|l2|2|h2|r2|q
			1|h1|l3|1|h1|r1|q`},
		{"several keys, default innerunique keeps the first left row", `L | join (R | project id = rid, host, y = x) on id, host`, `
			id:long|host:string|x:string|id1:long|host1:string|y:string
			1|h1|l1|1|h1|r1
			2|h2|l2|2|h2|r2`},
		{"null keys never match", `L | join kind=leftanti (R | project id = rid) on id | project x`, `
			x:string
			l4`},
		{"bare right side and key in either order", `L | join kind=leftsemi R on $right.rid == $left.id | project x`, `
			x:string
			l1
			l2
			l3`},
		{"lookup drops the right keys", `L | lookup (R | project id = rid, y = x) on id`, `
			id:long|host:string|x:string|y:string
			1|h1|l1|r1
			2|h2|l2|r2
			1|h1|l3|r1
			|h9|l4|`},
	})
}

func TestMvExpandAndParse(t *testing.T) {
	runTable(t, eventsDB(), []queryTest{
		{"mv-expand a property to typeof(string), empty arrays drop the row", `Events | mv-expand Tag = Data.tags to typeof(string) | project Computer, Tag`, `
			Computer:string|Tag:string
			web1|a
			web1|b
			web2|c
			web1|`},
		{"mv-expand limit", `Events | take 1 | mv-expand Tag = Data.tags limit 1 | project Tag`, `
			Tag:dynamic
			a`},
		{"parse with a typed column and trailing star", `datatable(Col:string)["id=42 user=alice rest", "no match here"]
			| parse Col with * "id=" Id:long " user=" Name " " *`, `
			Col:string|Id:long|Name:string
			id=42 user=alice rest|42|alice
			no match here||`},
		{"parse as in the issue", `datatable(Col:string)["user x alice 42 trailing", "nothing"] | parse Col with * "x" Name " " Rest:long *`, `
			Col:string|Name:string|Rest:long
			user x alice 42 trailing| alice|42
			nothing||`},
		{"parse-where drops rows that do not match", `datatable(Col:string)["x=1", "y"] | parse-where Col with "x=" N:int`, `
			Col:string|N:int
			x=1|1`},
		{"parse relaxed nulls what does not convert", `datatable(Col:string)["a=x;"] | parse kind=relaxed Col with "a=" A:long ";"`, `
			Col:string|A:long
			a=x;|`},
	})
}
