package kql

import "testing"

func TestParsingStringFunctions(t *testing.T) {
	runTable(t, nil, []queryTest{
		// https://learn.microsoft.com/kusto/query/parse-url-function: every
		// field but Path, which the docs show without its leading slash (the
		// engine keeps it: see parseURL).
		{"parse_url", `print Result=parse_url("scheme://username:password@host:1234/this/is/a/path?k1=v1&k2=v2#fragment")
			| project Scheme = Result.Scheme, Host = Result.Host, Port = Result.Port, Username = Result.Username, Password = Result.Password,
			  Query = Result["Query Parameters"], Fragment = Result.Fragment`, `
			Scheme:dynamic|Host:dynamic|Port:dynamic|Username:dynamic|Password:dynamic|Query:dynamic|Fragment:dynamic
			scheme|host|1234|username|password|{"k1":"v1","k2":"v2"}|fragment`},
		// https://learn.microsoft.com/kusto/query/parse-url-query-function
		{"parse_urlquery", `print Result=parse_urlquery("k1=v1&k2=v2&k3=v3")`, `
			Result:dynamic
			{"Query Parameters":{"k1":"v1","k2":"v2","k3":"v3"}}`},
		// https://learn.microsoft.com/kusto/query/parse-command-line-function
		{"parse_command_line", `print Result = parse_command_line("echo \"hello world!\"", "windows")`, `
			Result:dynamic
			["echo","hello world!"]`},
		// https://learn.microsoft.com/kusto/query/parse-csv-function
		{"parse_csv", `print result=parse_csv('aa,"b,b,b",cc,"Escaping quotes: ""Title""","line1\nline2"'), result_multi_record=parse_csv('record1,a,b,c\nrecord2,x,y,z')`, `
			result:dynamic|result_multi_record:dynamic
			["aa","b,b,b","cc","Escaping quotes: \"Title\"","line1\nline2"]|["record1","a","b","c"]`},
		// https://learn.microsoft.com/kusto/query/strrep-function
		{"strrep", `print from_str = strrep('ABC', 2), from_int = strrep(123,3,'.'), from_time = strrep(3s,2,' ')`, `
			from_str:string|from_int:string|from_time:string
			ABCABC|123.123.123|00:00:03 00:00:03`},
		// https://learn.microsoft.com/kusto/query/translate-function
		{"translate", `print a = translate("abc", "x", "abc"), b = translate("abc", "", "ab"), c = translate("krasp", "otsku", "spark")`, `
			a:string|b:string|c:string
			xxx||kusto`},
		// https://learn.microsoft.com/kusto/query/replace-strings-function
		{"replace_strings", `print Message="A magic trick can turn a cat into a dog"
			| extend Outcome = replace_strings(Message, dynamic(['cat', 'dog']), dynamic(['dog', 'pigeon'])),
			  Outcome2 = replace_strings(Message, dynamic(['turn', ' into a dog']), dynamic(['disappear', '']))`, `
			Message:string|Outcome:string|Outcome2:string
			A magic trick can turn a cat into a dog|A magic trick can turn a dog into a pigeon|A magic trick can disappear a cat`},
		{"replace_strings order", `print Message="This is an example of using replace_strings()"
			| extend Outcome1 = replace_strings(Message, dynamic(['This', 'is']), dynamic(['This', 'was'])),
			  Outcome2 = replace_strings(Message, dynamic(['is', 'This']), dynamic(['was', 'This'])),
			  Outcome3 = replace_strings(Message, dynamic(['This', 'is']), dynamic([12345, 'was']))
			| project-away Message`, `
			Outcome1:string|Outcome2:string|Outcome3:string
			This was an example of using replace_strings()|Thwas was an example of using replace_strings()|This was an example of using replace_strings()`},
		// https://learn.microsoft.com/kusto/query/has-any-index-function
		{"has_any_index", `print
			 idx1 = has_any_index("this is an example", dynamic(['this', 'example'])),
			 idx2 = has_any_index("this is an example", dynamic(['not', 'example'])),
			 idx3 = has_any_index("this is an example", dynamic(['not', 'found'])),
			 idx4 = has_any_index("Example number 2", range(1, 3, 1)),
			 idx5 = has_any_index("this is an example", dynamic([]))`, `
			idx1:long|idx2:long|idx3:long|idx4:long|idx5:long
			0|1|-1|1|-1`},
		// https://learn.microsoft.com/kusto/query/indexof-function
		{"indexof", `print
			 idx1 = indexof("abcdefg","cde"),
			 idx2 = indexof("abcdefg","cde",1,4),
			 idx3 = indexof("abcdefg","cde",1,2),
			 idx4 = indexof("abcdefg","cde",3,4),
			 idx5 = indexof("abcdefg","cde",-5),
			 idx6 = indexof(1234567,5,1,4),
			 idx7 = indexof("abcdefg","cde",2,-1),
			 idx8 = indexof("abcdefgabcdefg", "cde", 1, 10, 2),
			 idx9 = indexof("abcdefgabcdefg", "cde", 1, -1, 3)`, `
			idx1:long|idx2:long|idx3:long|idx4:long|idx5:long|idx6:long|idx7:long|idx8:long|idx9:long
			2|2|-1|-1|2|4|2|9|-1`},
		// https://learn.microsoft.com/kusto/query/base64-decode-toarray-function
		{"base64_decode_toarray", `print Quine=base64_decode_toarray("S3VzdG8=")`, `
			Quine:dynamic
			[75,117,115,116,111]`},
	})
}

func TestDeprecatedAliases(t *testing.T) {
	runTable(t, nil, []queryTest{
		// https://learn.microsoft.com/kusto/query/replacefunction: replace(regex, rewrite, text)
		{"replace", `print replaced=replace(@'is (\d+)', @'was: \1', 'Number is 1')`, `
			replaced:string
			Number was: 1`},
		// "Deprecated aliases:" on the pages of array_length, isnotnull, isnotempty,
		// base64_encode_tostring, base64_decode_tostring and parse_json.
		{"aliases", `print a = arraylength(dynamic([1,2])), b = notnull(1), c = notempty(""), d = base64_decodestring(base64_encodestring("x")), e = parsejson('{"a":1}').a`, `
			a:long|b:bool|c:bool|d:string|e:dynamic
			2|true|false|x|1`},
	})
}

func TestParseXML(t *testing.T) {
	runTable(t, nil, []queryTest{
		// https://learn.microsoft.com/kusto/query/parse-xml-function (the conversion table)
		{"parse_xml", `print a = parse_xml('<e/>'), b = parse_xml('<e>text</e>'), c = parse_xml('<e name="value" />'),
			d = parse_xml('<e name="value">text</e>'), e = parse_xml('<e> <a>text</a> <b>text</b> </e>'),
			f = parse_xml('<e> <a>text</a> <a>text</a> </e>'), g = parse_xml('<e> text <a>text</a> </e>'), h = parse_xml('<e>')`, `
			a:dynamic|b:dynamic|c:dynamic|d:dynamic|e:dynamic|f:dynamic|g:dynamic|h:dynamic
			{"e":null}|{"e":"text"}|{"e":{"@name":"value"}}|{"e":{"#text":"text","@name":"value"}}|{"e":{"a":"text","b":"text"}}|{"e":{"a":["text","text"]}}|{"e":{"#text":"text","a":"text"}}|`},
		{"parse_xml example", `print x = '<?xml version="1.0" encoding="UTF-8"?>\n<duration>\n    <value>118.0</value>\n    <min>100.0</min>\n</duration>'
			| extend d=parse_xml(x) | project duration_value=d.duration.value, duration_min=d["duration"]["min"]`, `
			duration_value:dynamic|duration_min:dynamic
			118.0|100.0`},
	})
}
