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
		// https://learn.microsoft.com/kusto/query/parse-operator, "Relaxed mode": totalSlices of the
		// second row does not convert and is null; the columns after it still parse.
		{"parse relaxed keeps parsing after a value that does not convert", `datatable(EventText:string)[
			"Event: NotifySliceRelease (resourceName=PipelineScheduler, totalSlices=27, sliceNumber=23, lockTime=02/17/2016 08:40:01)",
			"Event: NotifySliceRelease (resourceName=PipelineScheduler, totalSlices=invalid_number, sliceNumber=15, lockTime=02/17/2016 08:40:00)"]
			| parse kind=relaxed EventText with * "resourceName=" resourceName ", totalSlices=" totalSlices:long * "sliceNumber=" sliceNumber:long * "lockTime=" lockTime ")" *
			| project resourceName, totalSlices, sliceNumber, lockTime`, `
			resourceName:string|totalSlices:long|sliceNumber:long|lockTime:string
			PipelineScheduler|27|23|02/17/2016 08:40:01
			PipelineScheduler||15|02/17/2016 08:40:00`},
	})
}
