package kql

import "testing"

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
