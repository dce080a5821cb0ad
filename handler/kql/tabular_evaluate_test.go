package kql

import (
	"strings"
	"testing"
)

// bag_unpack: the examples of https://learn.microsoft.com/kusto/query/bag-unpack-plugin.
// Properties become columns sorted by name, after the input's other columns:
// the page's Returns section says the input schema "is extended" with them
// (its keep_source example lists Age before Name; this engine keeps the
// input's Name first).
func TestBagUnpackDocs(t *testing.T) {
	const people = `datatable(d:dynamic)
		[
		    dynamic({"Name": "John", "Age":20}),
		    dynamic({"Name": "Dave", "Age":40}),
		    dynamic({"Name": "Jasmine", "Age":30}),
		]`
	const named = `datatable(Name:string, d:dynamic)
		[
		    'Old_name', dynamic({"Name": "John", "Age":20}),
		    'Old_name', dynamic({"Name": "Dave", "Age":40}),
		    'Old_name', dynamic({"Name": "Jasmine", "Age":30}),
		]`
	runTable(t, nil, []queryTest{
		{"expand a bag", people + `| evaluate bag_unpack(d)`, `
			Age:long|Name:string
			20|John
			40|Dave
			30|Jasmine`},
		{"prefix", people + `| evaluate bag_unpack(d, 'Property_')`, `
			Property_Age:long|Property_Name:string
			20|John
			40|Dave
			30|Jasmine`},
		{"replace_source", named + `| evaluate bag_unpack(d, columnsConflict='replace_source')`, `
			Age:long|Name:string
			20|John
			40|Dave
			30|Jasmine`},
		{"keep_source", named + `| evaluate bag_unpack(d, columnsConflict='keep_source')`, `
			Name:string|Age:long
			Old_name|20
			Old_name|40
			Old_name|30`},
		{"ignoredProperties", `datatable(d:dynamic)
			[
			    dynamic({"Name": "John", "Age":20, "Address": "Address-1" }),
			    dynamic({"Name": "Dave", "Age":40, "Address": "Address-2"}),
			    dynamic({"Name": "Jasmine", "Age":30, "Address": "Address-3"}),
			]
			| evaluate bag_unpack(d, ignoredProperties=dynamic(['Address', 'Age']))`, `
			Name:string
			John
			Dave
			Jasmine`},
		{"properties some rows lack", `datatable(d:dynamic)
			[
			    dynamic({"Name": "John", "Age":20}),
			    dynamic({ "Name": "Dave", "Height": 170, "Age":40}),
			    dynamic({"Name": "Jasmine", "Age":30}),
			]
			| evaluate bag_unpack(d)`, `
			Age:long|Height:long|Name:string
			20||John
			40|170|Dave
			30||Jasmine`},
		{"output schema with *", `datatable(d:dynamic, Description: string)
			[
			    dynamic({"Name": "John", "Age":20, "height":180}), "Student",
			    dynamic({"Name": "Dave", "Age":40, "height":160}), "Teacher",
			    dynamic({"Name": "Jasmine", "Age":30, "height":172}), "Student",
			]
			| evaluate bag_unpack(d) : (*, Name:string, Age:long)`, `
			Description:string|Name:string|Age:long
			Student|John|20
			Teacher|Dave|40
			Student|Jasmine|30`},
	})
	if _, err := Run(t.Context(), named+`| evaluate bag_unpack(d)`, nil, Options{Now: testNow}); err == nil || !strings.Contains(err.Error(), "clashes with column 'Name'") {
		t.Errorf("a clash without columnsConflict: got %v, want an error (the page: error is the default)", err)
	}
}

// pivot: https://learn.microsoft.com/kusto/query/pivot-plugin - one column per
// value of the pivot column holding the aggregate (count() by default) of
// the rows grouped by the other columns (or those listed); 0 where a group
// has no rows for a value, as the page's outputs show for count and sum.
func TestPivot(t *testing.T) {
	const storms = `datatable(State:string, EventType:string, DeathsDirect:long, Source:string)
		[
		    "ARKANSAS", "Heat", 3, "Newspaper",
		    "ARIZONA", "Flash Flood", 2, "Trained Spotter",
		    "ARIZONA", "Flash Flood", 1, "Newspaper",
		    "ARKANSAS", "Heavy Rain", 1, "Emergency Manager",
		]`
	runTable(t, nil, []queryTest{
		{"count by default", storms + `| project State, EventType | evaluate pivot(State)`, `
			EventType:string|ARKANSAS:long|ARIZONA:long
			Heat|1|0
			Flash Flood|0|2
			Heavy Rain|1|0`},
		{"with an aggregation", storms + `| project State, EventType, DeathsDirect | evaluate pivot(State, sum(DeathsDirect))`, `
			EventType:string|ARKANSAS:long|ARIZONA:long
			Heat|3|0
			Flash Flood|0|3
			Heavy Rain|1|0`},
		{"with the columns to keep", storms + `| evaluate pivot(State, sum(DeathsDirect), EventType, Source)`, `
			EventType:string|Source:string|ARKANSAS:long|ARIZONA:long
			Heat|Newspaper|3|0
			Flash Flood|Trained Spotter|0|2
			Flash Flood|Newspaper|0|1
			Heavy Rain|Emergency Manager|1|0`},
		{"with an output schema", storms + `| project State, EventType | evaluate pivot(State) : (EventType:string, ALABAMA:long, ARIZONA:long)`, `
			EventType:string|ALABAMA:long|ARIZONA:long
			Heat|0|0
			Flash Flood|0|2
			Heavy Rain|0|0`},
	})
}
