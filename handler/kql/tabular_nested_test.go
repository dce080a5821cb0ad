package kql

import (
	"sort"
	"strings"
	"testing"
)

// top-nested: the example of https://learn.microsoft.com/kusto/query/top-nested-operator
// "Latest records per identity with other column data", with its output
// (the page lists the rows in another order; Kusto does not order them).
func TestTopNestedDocs(t *testing.T) {
	res := runQuery(t, `datatable(id: string, timestamp: datetime, otherInformation: string) // Create a source datatable.
		[
		    "Barak", datetime(2015-01-01), "1",
		    "Barak", datetime(2016-01-01), "2",
		    "Barak", datetime(2017-01-20), "3",
		    "Donald", datetime(2017-01-20), "4",
		    "Donald", datetime(2017-01-18), "5",
		    "Donald", datetime(2017-01-19), "6"
		]
		| top-nested of id by Ignore0=max(1),                     // Partition the data by each unique value of id.
		  top-nested 2 of timestamp by Ignore1=max(timestamp),    // Get the 2 most recent events for each state.
		  top-nested of otherInformation by Ignore2=max(1)        // Append otherInformation for each event.
		| project-away Ignore0, Ignore1, Ignore2                  // Remove the unnecessary aggregation columns.`, nil)
	lines := strings.Split(render(res), "\n")
	sort.Strings(lines[1:])
	want := []string{
		"id:string|timestamp:datetime|otherInformation:string",
		"Barak|2016-01-01T00:00:00.0000000Z|2",
		"Barak|2017-01-20T00:00:00.0000000Z|3",
		"Donald|2017-01-19T00:00:00.0000000Z|6",
		"Donald|2017-01-20T00:00:00.0000000Z|4",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

func TestTopNested(t *testing.T) {
	runTable(t, eventsDB(), []queryTest{
		// Unnamed aggregates are named aggregated_<Expr> (as Kusto.Language names them).
		{"two levels", `Events | top-nested 1 of Computer by count(), top-nested of Msg by max(TimeGenerated) asc`, `
			Computer:string|aggregated_Computer:long|Msg:string|aggregated_Msg:datetime
			web1|2|disk full|2024-01-01T00:00:00.0000000Z
			web1|2|Disk slow|2024-01-01T02:00:00.0000000Z`},
		{"with others", `Events | top-nested 1 of Computer with others = "Other" by n = count()`, `
			Computer:string|n:long
			web1|2
			Other|2`},
	})
}
