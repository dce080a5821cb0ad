package kql

import (
	"strings"
	"testing"
)

const docMetricData = `let data=datatable(timestamp:datetime, metric: real)
[
  datetime(2016-12-31T06:00), 50,
  datetime(2017-01-01), 4,
  datetime(2017-01-02), 3,
  datetime(2017-01-03), 4,
  datetime(2017-01-03T03:00), 6,
  datetime(2017-01-05), 8,
  datetime(2017-01-05T13:40), 13,
  datetime(2017-01-06), 4,
  datetime(2017-01-07), 3,
  datetime(2017-01-08), 8,
  datetime(2017-01-08T21:00), 8,
  datetime(2017-01-09), 2,
  datetime(2017-01-09T12:00), 11,
  datetime(2017-01-10T05:00), 5,
];
let interval = 1d;
let stime = datetime(2017-01-01);
let etime = datetime(2017-01-10);
`

// make-series: the examples of https://learn.microsoft.com/kusto/query/make-series-operator
// with the outputs the page shows: bins from start (inclusive) to end
// (exclusive), 0 (or the default) for bins without rows, and the axis as
// the last column; an empty input gives no row, or with kind=nonempty one
// row of defaults.
func TestMakeSeriesDocs(t *testing.T) {
	days := `["2017-01-01T00:00:00.0000000Z","2017-01-02T00:00:00.0000000Z","2017-01-03T00:00:00.0000000Z","2017-01-04T00:00:00.0000000Z","2017-01-05T00:00:00.0000000Z","2017-01-06T00:00:00.0000000Z","2017-01-07T00:00:00.0000000Z","2017-01-08T00:00:00.0000000Z","2017-01-09T00:00:00.0000000Z"]`
	runTable(t, nil, []queryTest{
		{"avg over days", docMetricData + `data
			| make-series avg(metric) on timestamp from stime to etime step interval `, `
			avg_metric:dynamic|timestamp:dynamic
			[4.0,3.0,5.0,0.0,10.5,4.0,3.0,8.0,6.5]|` + days},
		{"empty input", docMetricData + `data
			| take 0
			| make-series avg(metric) default=1.0 on timestamp from stime to etime step interval 
			| count `, `
			Count:long
			0`},
		{"kind=nonempty", docMetricData + `data
			| take 0
			| make-series kind=nonempty avg(metric) default=1.0 on timestamp from stime to etime step interval `, `
			avg_metric:dynamic|timestamp:dynamic
			[1.0,1.0,1.0,1.0,1.0,1.0,1.0,1.0,1.0]|` + days},
	})
}

func TestMakeSeries(t *testing.T) {
	runTable(t, eventsDB(), []queryTest{
		// Without from and to, each series spans its own bins with data.
		{"by a column, without from and to", `Events | make-series n = count() on TimeGenerated step 1h by Computer`, `
			Computer:string|n:dynamic|TimeGenerated:dynamic
			web1|[1,0,1]|["2024-01-01T00:00:00.0000000Z","2024-01-01T01:00:00.0000000Z","2024-01-01T02:00:00.0000000Z"]
			web2|[1]|["2024-01-01T01:00:00.0000000Z"]
			db1|[1]|["2024-01-01T03:00:00.0000000Z"]`},
		// A conversion keeps the name of its column, as in summarize
		// (Kusto.Language names make-series ... by tostring(Level) Level).
		{"by a conversion", `Events | make-series n = count() on TimeGenerated from datetime(2024-01-01) to datetime(2024-01-01 04:00) step 4h by tostring(Level) | project Level, n`, `
			Level:string|n:dynamic
			2|[1]
			4|[1]
			3|[1]
			|[1]`},
		{"several aggregates, a default", `Events | make-series c = count(), m = max(Level) default = -1 on TimeGenerated from datetime(2024-01-01) to datetime(2024-01-01 04:00) step 2h`, `
			c:dynamic|m:dynamic|TimeGenerated:dynamic
			[2,2]|[4,3]|["2024-01-01T00:00:00.0000000Z","2024-01-01T02:00:00.0000000Z"]`},
		{"numeric axis", `range x from 1 to 10 step 1 | make-series s = sum(x) on x from 0 to 10 step 5`, `
			s:dynamic|x:dynamic
			[10,35]|[0,5]`},
		// The alternate syntax: "The stop value is inclusive", and bins come
		// from bin(), so the start need not be a bin's start.
		{"in range()", `range x from 1 to 10 step 1 | make-series s = sum(x) on x in range(2, 10, 5)`, `
			s:dynamic|x:dynamic
			[10,35,10]|[0,5,10]`},
		{"the result expands with mv-expand", `Events | make-series n = count() default = 0 on TimeGenerated from datetime(2024-01-01) to datetime(2024-01-01 03:00) step 1h
			| mv-expand n to typeof(long), TimeGenerated to typeof(datetime)`, `
			n:long|TimeGenerated:datetime
			1|2024-01-01T00:00:00.0000000Z
			1|2024-01-01T01:00:00.0000000Z
			1|2024-01-01T02:00:00.0000000Z`},
	})
	if _, err := Run(t.Context(), "Events | make-series count() on Computer step 1", eventsDB(), Options{Now: testNow}); err == nil || !strings.Contains(err.Error(), "axis must be a datetime") {
		t.Errorf("a string axis: got %v", err)
	}
}
