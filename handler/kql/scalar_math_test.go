package kql

import "testing"

func TestMathAndHashFunctions(t *testing.T) {
	runTable(t, nil, []queryTest{
		// https://learn.microsoft.com/kusto/query/hash-function
		{"hash", `print a = hash("World"), b = hash("World", 100), c = hash(datetime("2015-01-01"))`, `
			a:long|b:long|c:long
			1846988464401551951|51|1380966698541616202`},
		// https://learn.microsoft.com/kusto/query/hash-combine-function (its h1 and h2)
		{"hash of Hello", `print value1 = "Hello", value2 = "World" | extend h1 = hash(value1), h2 = hash(value2)`, `
			value1:string|value2:string|h1:long|h2:long
			Hello|World|753694413698530628|1846988464401551951`},
		// https://learn.microsoft.com/kusto/query/hash-xxhash64-function
		{"hash_xxhash64", `print a = hash_xxhash64("World"), b = hash_xxhash64("World", 100)`, `
			a:long|b:long
			1846988464401551951|51`},
		// https://learn.microsoft.com/kusto/query/tohex-function
		{"tohex", `print a = tohex(256) == '100', b = tohex(-256) == 'ffffffffffffff00', c = tohex(toint(-256), 8) == 'ffffff00', d = tohex(256, 8) == '00000100', e = tohex(256, 2) == '100'`, `
			a:bool|b:bool|c:bool|d:bool|e:bool
			true|true|true|true|true`},
	})
}

func TestMoreScalarFunctions(t *testing.T) {
	runTable(t, nil, []queryTest{
		// https://learn.microsoft.com/kusto/query/bitset-count-ones-function
		{"bitset_count_ones", `print ones = bitset_count_ones(42)`, `
			ones:long
			3`},
		// https://learn.microsoft.com/kusto/query/jaccard-index-function
		{"jaccard_index", `print set1=dynamic([1,2,3]), set2=dynamic([1,2,3,4]) | extend jaccard=jaccard_index(set1, set2)`, `
			set1:dynamic|set2:dynamic|jaccard:real
			[1,2,3]|[1,2,3,4]|0.75`},
		// https://learn.microsoft.com/kusto/query/array-rotate-left-function
		{"array_rotate_left", `print arr=dynamic([1,2,3,4,5]) | extend a = array_rotate_left(arr, 2), b = array_rotate_left(arr, -2)`, `
			arr:dynamic|a:dynamic|b:dynamic
			[1,2,3,4,5]|[3,4,5,1,2]|[4,5,1,2,3]`},
		// https://learn.microsoft.com/kusto/query/repeat-function: empty for 0, null below.
		{"repeat", `print a = repeat(1, 3), b = repeat("x", 0), c = isnull(repeat(1, -1))`, `
			a:dynamic|b:dynamic|c:bool
			[1,1,1]|[]|true`},
		// https://learn.microsoft.com/kusto/query/strcmp-function
		{"strcmp", `datatable(string1:string, string2:string) [
			    "ABC","ABC",
			    "abc","ABC",
			    "ABC","abc",
			    "abcde","abc"
			]
			| extend result = strcmp(string1,string2)`, `
			string1:string|string2:string|result:int
			ABC|ABC|0
			abc|ABC|1
			ABC|abc|-1
			abcde|abc|1`},
		// https://learn.microsoft.com/kusto/query/unicode-codepoints-from-string-function
		{"unicode code points", `print a = unicode_codepoints_from_string("⒦⒰⒮⒯⒪"), b = unicode_codepoints_from_string("קוסטו - Kusto"), c = unicode_codepoints_to_string(unicode_codepoints_from_string("Kusto"))`, `
			a:dynamic|b:dynamic|c:string
			[9382,9392,9390,9391,9386]|[1511,1493,1505,1496,1493,32,45,32,75,117,115,116,111]|Kusto`},
		// https://learn.microsoft.com/kusto/query/base64-encode-fromguid-function
		{"base64_encode_fromguid", `print Quine = base64_encode_fromguid(toguid("ae3133f2-6e22-49ae-b06a-16e6a9b212eb")), Back = base64_decode_toguid("8jMxriJurkmwahbmqbIS6w==")`, `
			Quine:string|Back:guid
			8jMxriJurkmwahbmqbIS6w==|ae3133f2-6e22-49ae-b06a-16e6a9b212eb`},
	})
}
