package kql

import "testing"

// Examples from the Kusto documentation (learn.microsoft.com/kusto/query),
// with the results the documentation shows.

const docXY = `let X = datatable(Key:string, Value1:long)
[
    'a',1,
    'b',2,
    'b',3,
    'c',4
];
let Y = datatable(Key:string, Value2:long)
[
    'b',10,
    'c',20,
    'c',30,
    'd',40
];
`

func TestDocJoinFlavors(t *testing.T) {
	runTable(t, nil, []queryTest{
		{"innerunique default", docXY + "X | join Y on Key", `
			Key:string|Value1:long|Key1:string|Value2:long
			b|2|b|10
			c|4|c|20
			c|4|c|30`},
		{"leftouter", docXY + "X | join kind=leftouter Y on Key", `
			Key:string|Value1:long|Key1:string|Value2:long
			a|1||
			b|2|b|10
			b|3|b|10
			c|4|c|20
			c|4|c|30`},
		{"inner", docXY + "X | join kind=inner Y on Key", `
			Key:string|Value1:long|Key1:string|Value2:long
			b|2|b|10
			b|3|b|10
			c|4|c|20
			c|4|c|30`},
		{"rightouter", docXY + "X | join kind=rightouter Y on Key", `
			Key:string|Value1:long|Key1:string|Value2:long
			b|2|b|10
			b|3|b|10
			c|4|c|20
			c|4|c|30
			||d|40`},
		{"fullouter", docXY + "X | join kind=fullouter Y on Key", `
			Key:string|Value1:long|Key1:string|Value2:long
			a|1||
			b|2|b|10
			b|3|b|10
			c|4|c|20
			c|4|c|30
			||d|40`},
		{"leftanti", docXY + "X | join kind=leftanti Y on Key", `
			Key:string|Value1:long
			a|1`},
		{"leftsemi", docXY + "X | join kind=leftsemi Y on Key", `
			Key:string|Value1:long
			b|2
			b|3
			c|4`},
		{"rightanti", docXY + "X | join kind=rightanti Y on Key", `
			Key:string|Value2:long
			d|40`},
		{"rightsemi", docXY + "X | join kind=rightsemi Y on Key", `
			Key:string|Value2:long
			b|10
			c|20
			c|30`},
	})
}

func TestDocMvExpand(t *testing.T) {
	runTable(t, nil, []queryTest{
		{"array", `datatable (a: int, b: dynamic)
			[
			    1, dynamic([10, 20]),
			    2, dynamic(['a', 'b'])
			]
			| mv-expand b`, `
			a:int|b:dynamic
			1|10
			1|20
			2|a
			2|b`},
		{"bag", `datatable (a: int, b: dynamic)
			[
			    1, dynamic({"prop1": "a1", "prop2": "b1"}),
			    2, dynamic({"prop1": "a2", "prop2": "b2"})
			]
			| mv-expand b`, `
			a:int|b:dynamic
			1|{"prop1":"a1"}
			1|{"prop2":"b1"}
			2|{"prop1":"a2"}
			2|{"prop2":"b2"}`},
		{"bag to key-value pairs", `datatable (a: int, b: dynamic)
			[
			    1, dynamic({"prop1": "a1", "prop2": "b1"}),
			    2, dynamic({"prop1": "a2", "prop2": "b2"})
			]
			| mv-expand kind=array b 
			| extend key = b[0], val=b[1]`, `
			a:int|b:dynamic|key:dynamic|val:dynamic
			1|["prop1","a1"]|prop1|a1
			1|["prop2","b1"]|prop2|b1
			2|["prop1","a2"]|prop1|a2
			2|["prop2","b2"]|prop2|b2`},
		{"zipped", `datatable (a: int, b: dynamic, c: dynamic)[
			    1, dynamic({"prop1": "a", "prop2": "b"}), dynamic([5, 4, 3])
			]
			| mv-expand b, c`, `
			a:int|b:dynamic|c:dynamic
			1|{"prop1":"a"}|5
			1|{"prop2":"b"}|4
			1||3`},
		{"cartesian", `datatable (a: int, b: dynamic, c: dynamic)
			[
			    1, dynamic({"prop1": "a", "prop2": "b"}), dynamic([5, 6])
			]
			| mv-expand b
			| mv-expand c`, `
			a:int|b:dynamic|c:dynamic
			1|{"prop1":"a"}|5
			1|{"prop1":"a"}|6
			1|{"prop2":"b"}|5
			1|{"prop2":"b"}|6`},
		{"to typeof", `datatable (a: string, b: dynamic, c: dynamic)[
			    "Constant", dynamic([1, 2, 3, 4]), dynamic([6, 7, 8, 9])
			]
			| mv-expand b, c to typeof(int)
			| getschema`, `
			ColumnName:string|ColumnOrdinal:int|DataType:string|ColumnType:string
			a|0|System.String|string
			b|1|System.Object|dynamic
			c|2|System.Int32|int`},
		{"with_itemindex", `range x from 1 to 4 step 1
			| summarize x = make_list(x)
			| mv-expand with_itemindex=Index x`, `
			x:dynamic|Index:long
			1|0
			2|1
			3|2
			4|3`},
	})
}

func TestDocArgMaxNulls(t *testing.T) {
	runTable(t, nil, []queryTest{
		{"arg_max with nulls", `datatable(Fruit: string, Color: string, Version: int) [
			    "Apple", "Red", 1,
			    "Apple", "Green", int(null),
			    "Banana", "Yellow", int(null),
			    "Banana", "Green", int(null),
			    "Pear", "Brown", 1,
			    "Pear", "Green", 2,
			]
			| summarize arg_max(Version, *) by Fruit`, `
			Fruit:string|Version:int|Color:string
			Apple|1|Red
			Banana||Yellow
			Pear|2|Green`},
	})
}

func TestDocParse(t *testing.T) {
	runTable(t, nil, []queryTest{
		{"simple with types", `let Traces = datatable(EventText: string)
			    [
			    "Event: NotifySliceRelease (resourceName=PipelineScheduler, totalSlices=27, sliceNumber=23, lockTime=02/17/2016 08:40:01, releaseTime=02/17/2016 08:40:01, previousLockTime=02/17/2016 08:39:01)",
			    "Event: NotifySliceRelease (resourceName=PipelineScheduler, totalSlices=27, sliceNumber=15, lockTime=02/17/2016 08:40:00, releaseTime=02/17/2016 08:40:00, previousLockTime=02/17/2016 08:39:00)"
			];
			Traces  
			| parse EventText with * "resourceName=" resourceName ", totalSlices=" totalSlices: long * "sliceNumber=" sliceNumber: long * "lockTime=" lockTime ", releaseTime=" releaseTime: date "," * "previousLockTime=" previousLockTime: date ")" *  
			| project resourceName, totalSlices, sliceNumber, lockTime, releaseTime, previousLockTime`, `
			resourceName:string|totalSlices:long|sliceNumber:long|lockTime:string|releaseTime:datetime|previousLockTime:datetime
			PipelineScheduler|27|23|02/17/2016 08:40:01|2016-02-17T08:40:01.0000000Z|2016-02-17T08:39:01.0000000Z
			PipelineScheduler|27|15|02/17/2016 08:40:00|2016-02-17T08:40:00.0000000Z|2016-02-17T08:39:00.0000000Z`},
		{"email alias and domain", `let Leads=datatable(Contacts: string)
			    [
			    "Event: LeadContact (email=john@contosohotel.com, Website=https:contosohotel.com)",
			    "Event: LeadContact (email=abi@fourthcoffee.com, Website=https:www.fourthcoffee.com)",
			];
			Leads
			| parse Contacts with * "email=" alias:string "@" domain: string ", Website=https:" WebsiteDomain: string ")"
			| project EmailAddress=strcat(alias, "@", domain), EmailAlias=alias, WebsiteDomain`, `
			EmailAddress:string|EmailAlias:string|WebsiteDomain:string
			john@contosohotel.com|john|contosohotel.com
			abi@fourthcoffee.com|abi|www.fourthcoffee.com`},
		{"regex mode is greedy", `datatable(EventText: string)
			["Event: NotifySliceRelease (resourceName=PipelineScheduler, totalSlices=27, sliceNumber=23, lockTime=02/17/2016 08:40:01, releaseTime=02/17/2016 08:40:01, previousLockTime=02/17/2016 08:39:01)"]
			| parse kind=regex EventText with * "resourceName=" resourceName ',' *
			| project resourceName`, `
			resourceName:string
			PipelineScheduler, totalSlices=27, sliceNumber=23, lockTime=02/17/2016 08:40:01, releaseTime=02/17/2016 08:40:01`},
		{"regex mode with U flag", `datatable(EventText: string)
			["Event: NotifySliceRelease (resourceName=PipelineScheduler, totalSlices=27, sliceNumber=23)"]
			| parse kind=regex flags=Ui EventText with * "RESOURCENAME=" resourceName ',' *
			| project resourceName`, `
			resourceName:string
			PipelineScheduler`},
	})
}

func TestDocStringOperators(t *testing.T) {
	// Every example of the string operators table yields true.
	for _, example := range []string{
		`"aBc" == "aBc"`, `"abc" != "ABC"`, `"abc" =~ "ABC"`, `"aBc" !~ "xyz"`,
		`"North America" has "america"`, `"North America" !has "amer"`,
		`"North America" has_cs "America"`, `"North America" !has_cs "amer"`,
		`"North America" hasprefix "ame"`, `"North America" !hasprefix "mer"`,
		`"North America" hasprefix_cs "Ame"`, `"North America" !hasprefix_cs "CA"`,
		`"North America" hassuffix "ica"`, `"North America" !hassuffix "americ"`,
		`"North America" hassuffix_cs "ica"`, `"North America" !hassuffix_cs "icA"`,
		`"FabriKam" contains "BRik"`, `"Fabrikam" !contains "xyz"`,
		`"FabriKam" contains_cs "Kam"`, `"Fabrikam" !contains_cs "Kam"`,
		`"Fabrikam" startswith "fab"`, `"Fabrikam" !startswith "kam"`,
		`"Fabrikam" startswith_cs "Fab"`, `"Fabrikam" !startswith_cs "fab"`,
		`"Fabrikam" endswith "Kam"`, `"Fabrikam" !endswith "brik"`,
		`"Fabrikam" endswith_cs "kam"`, `"Fabrikam" !endswith_cs "brik"`,
		`"Fabrikam" matches regex "b.*k"`,
		`"abc" in ("123", "345", "abc")`, `"bca" !in ("123", "345", "abc")`,
		`"abc" in~ ("123", "345", "ABC")`, `"bca" !in~ ("123", "345", "ABC")`,
		`"North America" has_any("south", "north")`,
		// "What is a term?": Explorer is inside a term, not a term.
		`"KustoExplorerQueryRun" !has "Explorer"`, `"KustoExplorerQueryRun" contains "Explorer"`,
		`"Kusto: ad67d136-c1db-4f9f-88ef-d94f3b6b0b5a;KustoExplorerQueryRun" has "c1db"`,
	} {
		t.Run(example, func(t *testing.T) {
			got := render(runQuery(t, "print r = "+example, nil))
			if got != "r:bool\ntrue" {
				t.Errorf("%s: got %s, want true", example, got)
			}
		})
	}
}

func TestDocScalarExamples(t *testing.T) {
	runTable(t, nil, []queryTest{
		{"split", `print
			    split("aa_bb", "_"),           // ["aa","bb"]
			    split("aaa_bbb_ccc", "_", 1),  // ["bbb"]
			    split("", "_"),                // [""]
			    split("a__b", "_"),            // ["a","","b"]
			    split("aabbcc", "bb")          // ["aa","cc"]`, `
			print_0:dynamic|print_1:dynamic|print_2:dynamic|print_3:dynamic|print_4:dynamic
			["aa","bb"]|["bbb"]|[""]|["a","","b"]|["aa","cc"]`},
		{"format_datetime", `let dt = datetime(2017-01-29 09:00:05);
			print v1=format_datetime(dt,'yy-MM-dd [HH:mm:ss]'), v2=format_datetime(dt, 'yyyy-M-dd [H:mm:ss]'), v3=format_datetime(dt, 'yy-MM-dd [hh:mm:ss tt]')`, `
			v1:string|v2:string|v3:string
			17-01-29 [09:00:05]|2017-1-29 [9:00:05]|17-01-29 [09:00:05 AM]`},
		{"bin", `print bin(4.5, 1), bin(time(16d), 7d), bin(datetime(1970-05-11 13:45:07), 1d)`, `
			print_0:real|print_1:timespan|print_2:datetime
			4|14.00:00:00|1970-05-11T00:00:00.0000000Z`},
		{"tostring", `print tostring(123)`, `
			print_0:string
			123`},
	})
}
