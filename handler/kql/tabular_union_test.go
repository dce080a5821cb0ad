package kql

import "testing"

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
