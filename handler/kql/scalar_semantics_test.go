package kql

import "testing"

// Documented semantics: nulls, parse_json.
func TestNullSemantics(t *testing.T) {
	runTable(t, nil, []queryTest{
		// https://learn.microsoft.com/kusto/query/scalar-data-types/null-values#equality-and-inequality-of-null-values
		{"equality with null", `datatable(val:int)[5, int(null)]
			| extend IsBiggerThan3 = val > 3
			| extend IsBiggerThan3OrNull = val > 3 or isnull(val)
			| extend IsEqualToNull = val == int(null)
			| extend IsNotEqualToNull = val != int(null)`, `
			val:int|IsBiggerThan3:bool|IsBiggerThan3OrNull:bool|IsEqualToNull:bool|IsNotEqualToNull:bool
			5|true|true|false|true
			||true||`},
		// https://learn.microsoft.com/kusto/query/scalar-data-types/null-values#null-values-and-the-where-operator
		{"where with null", `datatable(ival:int, sval:string)[5, "a", int(null), "b"] | where ival != 5`, `
			ival:int|sval:string
			|b`},
		// https://learn.microsoft.com/kusto/query/scalar-data-types/null-values#null-values-and-binary-operators
		{"binary operators", `datatable(val:int)[5, int(null)] | extend Add = val + 10 | extend Multiply = val * 10`, `
			val:int|Add:long|Multiply:long
			5|15|50
			||`},
		// https://learn.microsoft.com/kusto/query/scalar-data-types/null-values#null-values-and-the-in-operator:
		// in is an or of ==, !in an and of !=.
		{"in with null", `print a = int(null) in (1, 2), b = int(null) !in (1, 2), c = isnull(int(null) in (1, int(null)))`, `
			a:bool|b:bool|c:bool
			false|true|true`},
		// https://learn.microsoft.com/kusto/query/scalar-data-types/null-values#null-values-and-the-logical-not--operator
		{"not of null", `print isnull(not(bool(null)))`, `
			print_0:bool
			true`},
	})
}

func TestParseJSONSemantics(t *testing.T) {
	runTable(t, nil, []queryTest{
		// https://learn.microsoft.com/kusto/query/isnull-function and isempty-function
		{"isnull and isempty of parse_json", `print a = isnull(""), b = isnull("x"), c = isnull(parse_json("")), d = isnull(parse_json("[]")), e = isnull(parse_json("{}")),
			f = isempty(""), g = isempty("x"), h = isempty(parse_json("")), i = isempty(parse_json("[]")), j = isempty(parse_json("{}"))`, `
			a:bool|b:bool|c:bool|d:bool|e:bool|f:bool|g:bool|h:bool|i:bool|j:bool
			false|false|true|false|false|true|false|true|false|false`},
		// https://learn.microsoft.com/kusto/query/parse-json-function: a dynamic
		// argument is used as it is, so a JSON string inside JSON needs
		// tostring() before the second parse_json.
		{"parse_json of nested JSON", `let d='{"a":123, "b":"{\\"c\\":456}"}';
			print d_b_c=parse_json(tostring(parse_json(d).b)).c, as_is = gettype(parse_json(parse_json(d).b))`, `
			d_b_c:dynamic|as_is:string
			456|string`},
		{"parse_json of text that is not JSON", `print a = parse_json("not json"), b = gettype(parse_json("not json"))`, `
			a:dynamic|b:string
			not json|string`},
	})
}
