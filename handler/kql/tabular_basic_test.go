package kql

import "testing"

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
