package kql

import (
	"context"
	"testing"
)

// requireColumnsHook skips a test until summarize compiles aggregates through
// aggDef.columns (percentile names, several output columns: see aggregate_stats.go).
func requireColumnsHook(t *testing.T) {
	t.Helper()
	res, err := Run(context.Background(), "range x from 1 to 3 step 1 | summarize percentiles(x, 50, 100)", nil, Options{Now: testNow})
	if err != nil || len(res.Columns) != 2 {
		t.Skip("needs tabular_summarize.go to call aggDef.columns (see aggregate_stats.go)")
	}
}

func TestStatisticalAggregates(t *testing.T) {
	runTable(t, nil, []queryTest{
		// https://learn.microsoft.com/kusto/query/stdev-aggregation-function (shown to 14 decimals)
		{"stdev", `range x from 1 to 5 step 1 | summarize make_list(x), stdev(x) | extend stdev_x = round(stdev_x, 14)`, `
			list_x:dynamic|stdev_x:real
			[1,2,3,4,5]|1.58113883008419`},
		// https://learn.microsoft.com/kusto/query/stdevif-aggregation-function
		{"stdevif", `range x from 1 to 100 step 1 | summarize stdevif(x, x % 2 == 0) | extend stdevif_x = round(stdevif_x, 13)`, `
			stdevif_x:real
			29.1547594742265`},
		// https://learn.microsoft.com/kusto/query/stdevp-aggregation-function
		{"stdevp", `range x from 1 to 5 step 1 | summarize make_list(x), stdevp(x) | extend stdevp_x = round(stdevp_x, 13)`, `
			list_x:dynamic|stdevp_x:real
			[1,2,3,4,5]|1.4142135623731`},
		// https://learn.microsoft.com/kusto/query/variance-aggregation-function
		{"variance", `range x from 1 to 5 step 1 | summarize make_list(x), variance(x)`, `
			list_x:dynamic|variance_x:real
			[1,2,3,4,5]|2.5`},
		// https://learn.microsoft.com/kusto/query/variancep-aggfunction (value 2)
		{"variancep", `range x from 1 to 5 step 1 | summarize v = variancep(x)`, `
			v:real
			2`},
		// https://learn.microsoft.com/kusto/query/percentiles-aggregation-function#nearest-rank-percentile:
		// the P-th percentile is the smallest value that P percent of the
		// values are less than or equal to; 0 and 100 are the minimum and the maximum.
		{"percentiles_array", `range x from 1 to 10 step 1 | summarize percentiles_array(x, 0, 50, 55, 100), percentiles_array(x, dynamic([90]))`, `
			percentiles_x:dynamic|percentiles_x1:dynamic
			[1,5,6,10]|[9]`},
		// https://learn.microsoft.com/kusto/query/percentilesw-aggregation-function
		{"percentilesw_array", `let latencyTable = datatable (ReqCount:long, LatencyBucket:long)
			[
			    8, 10,
			    6, 20,
			    3, 30,
			    1, 40
			];
			latencyTable
			| summarize percentilesw_array(LatencyBucket, ReqCount, 50, 75, 99.9)`, `
			percentile_LatencyBucket:dynamic
			[20,20,40]`},
		// https://learn.microsoft.com/kusto/query/binary-all-and-aggregation-function
		{"binary_all_and", `datatable(num:long)
			[
			  0xFFFFFFFF,
			  0xFFFFF00F,
			  0xCFFFFFFD,
			  0xFAFEFFFF,
			]
			| summarize result = toupper(tohex(binary_all_and(num)))`, `
			result:string
			CAFEF00D`},
		// https://learn.microsoft.com/kusto/query/count-distinctif-aggregation-function:
		// the distinct values of expr in the rows where the predicate is true.
		{"count_distinctif", `datatable(T:string, D:long)["a", 1, "a", 2, "b", 0, "c", 3] | summarize n = count_distinctif(T, D > 0)`, `
			n:long
			2`},
		// https://learn.microsoft.com/kusto/query/make-set-aggregation-function ("Set from array column")
		{"make_set of an array column", `datatable (Val: int, Arr1: dynamic)
			[
			    1, dynamic(['A1', 'A2', 'A3']),
			    5, dynamic(['A2', 'C1']),
			    7, dynamic(['C2', 'A3']),
			    5, dynamic(['C2', 'A1'])
			]
			| summarize Val_set=make_set(Val), Arr1_set=make_set(Arr1)`, `
			Val_set:dynamic|Arr1_set:dynamic
			[1,5,7]|["A1","A2","A3","C1","C2"]`},
		// https://learn.microsoft.com/kusto/query/make-set-if-aggregation-function
		{"make_set_if", `let T = datatable(name:string, day_of_birth:long)
			[
			   "John", 9,
			   "Paul", 18,
			   "George", 25,
			   "Ringo", 7
			];
			T
			| summarize make_set_if(name, strlen(name) > 4)`, `
			set_name:dynamic
			["George","Ringo"]`},
	})
}

// Aggregates that name their columns after constant arguments, or give several.
func TestSpreadAggregates(t *testing.T) {
	requireColumnsHook(t)
	runTable(t, nil, []queryTest{
		// https://learn.microsoft.com/kusto/query/percentilesw-aggregation-function:
		// columns percentile_LatencyBucket_50 ... _99_9.
		{"percentilesw", `let latencyTable = datatable (ReqCount:long, LatencyBucket:long)
			[
			    8, 10,
			    6, 20,
			    3, 30,
			    1, 40
			];
			latencyTable
			| summarize percentilesw(LatencyBucket, ReqCount, 50, 75, 99.9)`, `
			percentile_LatencyBucket_50:long|percentile_LatencyBucket_75:long|percentile_LatencyBucket_99_9:long
			20|20|40`},
		// https://learn.microsoft.com/kusto/query/percentiles-aggregation-function:
		// percentile(DamageProperty, 95) is percentile_DamageProperty_95.
		{"percentile and percentiles", `range x from 1 to 10 step 1 | extend y = x * 10 | summarize percentile(x, 95), percentiles(y, 5, 50) by b = x > 5`, `
			b:bool|percentile_x_95:long|percentile_y_5:long|percentile_y_50:long
			false|5|10|30
			true|10|60|80`},
		// https://learn.microsoft.com/kusto/query/take-any-aggregation-function:
		// take_any(State) is named State; take_any(*) gives every column
		// but the group keys, all from one row.
		{"take_any names", `datatable(State:string, Event:string)["TX", "Hail"] | summarize take_any(State), any(Event)`, `
			State:string|any_Event:string
			TX|Hail`},
		{"take_any(*)", `datatable(State:string, StartTime:datetime, EpisodeId:long, EventType:string)
			[
			  "ALASKA", datetime(2007-02-01), 1733, "Flood",
			  "ARIZONA", datetime(2007-12-01 10:40), 11955, "Flash Flood",
			]
			| summarize take_any(*) by State`, `
			State:string|StartTime:datetime|EpisodeId:long|EventType:string
			ALASKA|2007-02-01T00:00:00.0000000Z|1733|Flood
			ARIZONA|2007-12-01T10:40:00.0000000Z|11955|Flash Flood`},
		{"take_any of several values takes one row", `datatable(K:string, A:long, B:string)["k", 1, "x", "k", 2, "y"] | summarize take_any(A, B) by K`, `
			K:string|A:long|B:string
			k|1|x`},
		// https://learn.microsoft.com/kusto/query/take-anyif-aggregation-function: named after expr.
		{"take_anyif", `datatable(EventType:string, N:long)["Hail", 1, "Strong Wind", 2] | summarize take_anyif(EventType, N == 2)`, `
			EventType:string
			Strong Wind`},
	})
}
