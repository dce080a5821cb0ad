package kql

import "testing"

func TestDynamicFunctions(t *testing.T) {
	runTable(t, nil, []queryTest{
		{"parse_json and property access", `let j = parse_json('{"scope": "/subscriptions/s1/resourceGroups/rg/x", "n": 2, "a": [10, 20, 30], "o": {"k": "v"}}');
			print a = j.scope, b = j["n"], c = j.a[1], d = j.a[-1], e = j.o.k, f = j.missing, g = tostring(j.a), h = j['o']['k']`, `
			a:dynamic|b:dynamic|c:dynamic|d:dynamic|e:dynamic|f:dynamic|g:string|h:dynamic
			/subscriptions/s1/resourceGroups/rg/x|2|20|30|v||[10,20,30]|v`},
		{"property access on a dynamic column", `datatable(d:dynamic)[dynamic({"Command": "Get-Process"}), dynamic(null), dynamic("{\"Command\": \"from text\"}")]
			| extend c = tostring(d.Command), e = tostring(parse_json(d).Command)`, `
			d:dynamic|c:string|e:string
			{"Command":"Get-Process"}|Get-Process|Get-Process
			||
			{"Command": "from text"}|from text|from text`},
		{"parse_json of invalid JSON keeps the string", `print a = parse_json("not json"), b = todynamic("[1,2]"), c = gettype(parse_json("1.5"))`, `
			a:dynamic|b:dynamic|c:string
			not json|[1,2]|real`},
		{"arrays", `let a = dynamic([3, 1, null, 2]);
			print n = array_length(a), asc = array_sort_asc(a), desc = array_sort_desc(a), p = pack_array(1, "x", true), s = array_slice(a, 1, 2), c = array_concat(a, dynamic([9])), i = array_index_of(a, 2), h = set_has_element(a, 3)`, `
			n:long|asc:dynamic|desc:dynamic|p:dynamic|s:dynamic|c:dynamic|i:long|h:bool
			4|[1,2,3,null]|[3,2,1,null]|[1,"x",true]|[1,null]|[3,1,null,2,9]|3|true`},
		{"bag_merge and range", `print m = bag_merge(dynamic({"a": 1}), dynamic({"a": 2, "b": 3})), r = range(1, 7, 3), t = range(datetime(2024-01-01), datetime(2024-01-01 02:00))`, `
			m:dynamic|r:dynamic|t:dynamic
			{"a":1,"b":3}|[1,4,7]|["2024-01-01T00:00:00.0000000Z","2024-01-01T01:00:00.0000000Z","2024-01-01T02:00:00.0000000Z"]`},
		{"bags", `let b = dynamic({"b": 1, "a": 2});
			print k = bag_keys(b), p = bag_pack("x", 1, "y", "z"), has = bag_has_key(b, "a"), n = array_length(b)`, `
			k:dynamic|p:dynamic|has:bool|n:long
			["a","b"]|{"x":1,"y":"z"}|true|`},
	})
}
