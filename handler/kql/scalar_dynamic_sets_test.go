package kql

import "testing"

func TestDynamicSetAndArrayFunctions(t *testing.T) {
	const ranges = `range x from 1 to 3 step 1
| extend y = x * 2
| extend z = y * 2
| extend w = z * 2
`
	runTable(t, nil, []queryTest{
		// https://learn.microsoft.com/kusto/query/set-union-function
		{"set_union", ranges + `| extend a1 = pack_array(x,y,x,z), a2 = pack_array(x, y), a3 = pack_array(w)
			| project a1,a2,a3,Out=set_union(a1, a2, a3)`, `
			a1:dynamic|a2:dynamic|a3:dynamic|Out:dynamic
			[1,2,1,4]|[1,2]|[8]|[1,2,4,8]
			[2,4,2,8]|[2,4]|[16]|[2,4,8,16]
			[3,6,3,12]|[3,6]|[24]|[3,6,12,24]`},
		{"set_union of one array", `datatable (Arr1: dynamic)
			[
			    dynamic(['A4', 'A2', 'A7', 'A2']),
			    dynamic(['C4', 'C7', 'C1', 'C4'])
			]
			| extend Out=set_union(Arr1, Arr1)`, `
			Arr1:dynamic|Out:dynamic
			["A4","A2","A7","A2"]|["A4","A2","A7"]
			["C4","C7","C1","C4"]|["C4","C7","C1"]`},
		// https://learn.microsoft.com/kusto/query/set-difference-function
		{"set_difference", ranges + `| extend a1 = pack_array(x,y,x,z), a2 = pack_array(x, y), a3 = pack_array(x,y,w)
			| project set_difference(a1, a2, a3)`, `
			Column1:dynamic
			[4]
			[8]
			[12]`},
		{"set_difference to empty", `print arr = set_difference(dynamic([1,2,3]), dynamic([1,2,3]))`, `
			arr:dynamic
			[]`},
		// https://learn.microsoft.com/kusto/query/set-intersect-function
		{"set_intersect", ranges + `| extend a1 = pack_array(x,y,x,z), a2 = pack_array(x, y), a3 = pack_array(w,x)
			| project set_intersect(a1, a2, a3)`, `
			Column1:dynamic
			[1]
			[2]
			[3]`},
		{"set_intersect to empty", `print arr = set_intersect(dynamic([1, 2, 3]), dynamic([4,5]))`, `
			arr:dynamic
			[]`},
		// https://learn.microsoft.com/kusto/query/array-split-function
		{"array_split", `print arr=dynamic([1,2,3,4,5]) | extend a = array_split(arr, 2), b = array_split(arr, dynamic([1,3]))`, `
			arr:dynamic|a:dynamic|b:dynamic
			[1,2,3,4,5]|[[1,2],[3,4,5]]|[[1],[2,3],[4,5]]`},
		// https://learn.microsoft.com/kusto/query/array-shift-left-function
		{"array_shift_left", `print arr=dynamic([1,2,3,4,5]) | extend a = array_shift_left(arr, 2), b = array_shift_left(arr, 2, -1), c = array_shift_left(arr, -2, -1)`, `
			arr:dynamic|a:dynamic|b:dynamic|c:dynamic
			[1,2,3,4,5]|[3,4,5,null,null]|[3,4,5,-1,-1]|[-1,-1,1,2,3]`},
		// https://learn.microsoft.com/kusto/query/array-iff-function
		{"array_iff", `print a = array_iff(dynamic([true,false,true]), dynamic([1,2,3]), dynamic([4,5,6])),
			b = array_iff(dynamic([1,0,50]), "yes", "no"),
			c = array_iff(dynamic(["some string value", datetime(2022-01-01), null]), 1, 0),
			d = array_iff(dynamic([true,true,true]), dynamic([1,2]), dynamic([3,4]))`, `
			a:dynamic|b:dynamic|c:dynamic|d:dynamic
			[1,5,3]|["yes","no","yes"]|[null,null,null]|[1,2,null]`},
		// https://learn.microsoft.com/kusto/query/zipfunction
		{"zip", `print a = zip(dynamic([1,3,5]), dynamic([2,4,6])), b = zip(dynamic(["A", 1, 1.5]), dynamic([{}, "B"]))`, `
			a:dynamic|b:dynamic
			[[1,2],[3,4],[5,6]]|[["A",{}],[1,"B"],[1.5,null]]`},
		// https://learn.microsoft.com/kusto/query/bag-remove-keys-function
		{"bag_remove_keys", `datatable(input:dynamic)
			[
			    dynamic({'key1' : 123,     'key2': 'abc'}),
			    dynamic({'key1' : 'value', 'key3': 42.0}),
			    dynamic({'key1': 123, 'key2': {'prop1' : 'abc', 'prop2': 'xyz'}, 'key3': [100, 200]}),
			]
			| project result=bag_remove_keys(input, dynamic(['key2', 'key4'])), result2 = bag_remove_keys(input, dynamic(['$.key2.prop1', 'key3']))`, `
			result:dynamic|result2:dynamic
			{"key1":123}|{"key1":123,"key2":"abc"}
			{"key1":"value","key3":42.0}|{"key1":"value"}
			{"key1":123,"key3":[100,200]}|{"key1":123,"key2":{"prop2":"xyz"}}`},
		// https://learn.microsoft.com/kusto/query/bag-set-key-function
		{"bag_set_key", `datatable(input: dynamic)
			[
			    dynamic({'key1': 1, 'key2': 2}),
			    dynamic({'key1': 1, 'key3': 'abc'}),
			]
			| extend result = bag_set_key(input, 'key3', 3)`, `
			input:dynamic|result:dynamic
			{"key1":1,"key2":2}|{"key1":1,"key2":2,"key3":3}
			{"key1":1,"key3":"abc"}|{"key1":1,"key3":3}`},
		{"bag_set_key with a JSONPath", `datatable(input: dynamic)
			[
			    dynamic({'key1': 123, 'key2': {'prop1': 123, 'prop2': 'xyz'}}),
			    dynamic({'key1': 123})
			]
			| extend result = bag_set_key(input, '$.key2.prop1', 'abc') | project result`, `
			result:dynamic
			{"key1":123,"key2":{"prop1":"abc","prop2":"xyz"}}
			{"key1":123,"key2":{"prop1":"abc"}}`},
		// https://learn.microsoft.com/kusto/query/bag-pack-columns-function
		{"bag_pack_columns", `datatable(Id: string, Value: string, Other: long)["A", "val_a", 1] | extend Packed = bag_pack_columns(Id, Value)`, `
			Id:string|Value:string|Other:long|Packed:dynamic
			A|val_a|1|{"Id":"A","Value":"val_a"}`},
		// https://learn.microsoft.com/kusto/query/extract-json-function
		{"extract_json", `let json = '{"name": "John", "age": 30, "city": "New York"}';
			print extract_json("$.name", json, typeof(string))`, `
			print_0:string
			John`},
		// https://learn.microsoft.com/kusto/query/array-sort-asc-function
		{"array_sort_asc of several arrays", `let array1 = dynamic([1,3,4,5,2]);
			let array2 = dynamic(["a","b","c","d","e"]);
			print s = array_sort_asc(array1,array2)`, `
			s:dynamic
			[[1,2,3,4,5],["a","e","b","c","d"]]`},
		{"array_sort_asc to sort commands by time", `datatable(command:string, command_time:datetime, user_id:string)
			[
			    'chmod',   datetime(2019-07-15),   "user1",
			    'ls',      datetime(2019-07-02),   "user1",
			    'dir',     datetime(2019-07-22),   "user1",
			    'mkdir',   datetime(2019-07-14),   "user1",
			    'rm',      datetime(2019-07-27),   "user1",
			    'pwd',     datetime(2019-07-25),   "user1",
			    'rm',      datetime(2019-07-23),   "user2",
			    'pwd',     datetime(2019-07-25),   "user2",
			]
			| summarize timestamps = make_list(command_time), commands = make_list(command) by user_id
			| project user_id, commands_in_chronological_order = array_sort_asc(timestamps, commands)[1]`, `
			user_id:string|commands_in_chronological_order:dynamic
			user1|["ls","mkdir","chmod","dir","pwd","rm"]
			user2|["rm","pwd"]`},
		{"array_sort_asc nulls", `print a = array_sort_asc(dynamic([null,"blue","yellow","green",null])), b = array_sort_asc(dynamic([null,"blue","yellow","green",null]), false)`, `
			a:dynamic|b:dynamic
			["blue","green","yellow",null,null]|[null,null,"blue","green","yellow"]`},
		{"array_sort_asc names of the columns", `let Names = "John,Paul,George,Ringo";
			let SortedNames = strcat_array(array_sort_asc(split(Names, ",")), ",");
			print result = SortedNames`, `
			result:string
			George,John,Paul,Ringo`},
	})
}

func TestPackAll(t *testing.T) {
	requireInputHook(t)
	runTable(t, nil, []queryTest{
		// https://learn.microsoft.com/kusto/query/pack-all-function
		{"pack_all", `datatable(SourceNumber:string,TargetNumber:string,CharsCount:long)
			[
			'555-555-1234','555-555-1212',46,
			'555-555-1313','',42,
			]
			| extend Packed=pack_all(), PackedIgnoreNullEmpty=pack_all(true) | project Packed, PackedIgnoreNullEmpty`, `
			Packed:dynamic|PackedIgnoreNullEmpty:dynamic
			{"CharsCount":46,"SourceNumber":"555-555-1234","TargetNumber":"555-555-1212"}|{"CharsCount":46,"SourceNumber":"555-555-1234","TargetNumber":"555-555-1212"}
			{"CharsCount":42,"SourceNumber":"555-555-1313","TargetNumber":""}|{"CharsCount":42,"SourceNumber":"555-555-1313"}`},
	})
}

// pack_all() and next() after another extend see that extend's columns.
func TestInputAfterExtend(t *testing.T) {
	requireInputHook(t)
	runTable(t, nil, []queryTest{
		// https://learn.microsoft.com/kusto/query/pack-all-function: every column of the input.
		{"pack_all after extend", `print a = 1 | extend b = 2 | extend p = pack_all()`, `
			a:long|b:long|p:dynamic
			1|2|{"a":1,"b":2}`},
		// https://learn.microsoft.com/kusto/query/next-function
		{"next after extend", `range a from 1 to 3 step 1 | extend b = a * 10 | serialize n = next(b)`, `
			a:long|b:long|n:long
			1|10|20
			2|20|30
			3|30|`},
	})
}
