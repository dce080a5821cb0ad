package kql

import "testing"

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
