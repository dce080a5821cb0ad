package kql

import "testing"

const salesTable = `let Sales = datatable(Region:string, Rep:string, Amount:long, Price:real, At:datetime, Dur:timespan)
[
    "east", "ann", 10, 1.5, datetime(2024-01-01 10:05), 1m,
    "east", "bob", 20, 2.5, datetime(2024-01-01 10:50), 2m,
    "west", "ann", 5, 4.0, datetime(2024-01-01 11:10), 3m,
    "east", "ann", long(null), real(null), datetime(2024-01-01 12:00), timespan(null),
];
`

func TestSummarize(t *testing.T) {
	runTable(t, nil, []queryTest{
		// take_any(Region) keeps the name Region (Region1 beside the key), and
		// take_anyif(Rep, ...) the name Rep, as Kusto.Language names them; only the
		// deprecated any() adds any_ (https://learn.microsoft.com/kusto/query/take-any-aggregation-function).
		{"default names and types", salesTable + `Sales | summarize count(), countif(Amount > 5), dcount(Rep), sum(Amount), avg(Amount), min(At), max(Price), make_list(Rep), make_set(Rep), take_any(Region) by Region`, `
			Region:string|count_:long|countif_:long|dcount_Rep:long|sum_Amount:long|avg_Amount:real|min_At:datetime|max_Price:real|list_Rep:dynamic|set_Rep:dynamic|Region1:string
			east|3|2|2|30|15|2024-01-01T10:05:00.0000000Z|2.5|["ann","bob","ann"]|["ann","bob"]|east
			west|1|0|1|5|5|2024-01-01T11:10:00.0000000Z|4|["ann"]|["ann"]|west`},
		{"named aggregates and several keys", salesTable + `Sales | summarize Total = sum(Amount), First = min(At), Last = max(At) by Region, Rep`, `
			Region:string|Rep:string|Total:long|First:datetime|Last:datetime
			east|ann|10|2024-01-01T10:05:00.0000000Z|2024-01-01T12:00:00.0000000Z
			east|bob|20|2024-01-01T10:50:00.0000000Z|2024-01-01T10:50:00.0000000Z
			west|ann|5|2024-01-01T11:10:00.0000000Z|2024-01-01T11:10:00.0000000Z`},
		{"by bin()", salesTable + `Sales | summarize n = count() by bin(At, 1h)`, `
			At:datetime|n:long
			2024-01-01T10:00:00.0000000Z|2
			2024-01-01T11:00:00.0000000Z|1
			2024-01-01T12:00:00.0000000Z|1`},
		{"by a named expression", salesTable + `Sales | summarize n = count() by Upper = toupper(Rep)`, `
			Upper:string|n:long
			ANN|3
			BOB|1`},
		{"sums of reals and timespans", salesTable + `Sales | summarize sum(Price), sum(Dur), avg(Price)`, `
			sum_Price:real|sum_Dur:timespan|avg_Price:real
			8|00:06:00|2.6666666666666665`},
		{"no rows and no keys gives one row", salesTable + `Sales | where Amount > 100 | summarize count(), make_list(Rep), max(At), sum(Amount)`, `
			count_:long|list_Rep:dynamic|max_At:datetime|sum_Amount:long
			0|[]||`},
		{"no rows with keys gives no rows", salesTable + `Sales | where Amount > 100 | summarize count() by Region`, `
			Region:string|count_:long`},
		{"conditional aggregates", salesTable + `Sales | summarize sumif(Amount, Rep == "ann"), make_list_if(Rep, Amount > 5), make_set_if(Region, Amount < 20), maxif(Amount, Rep == "ann"), minif(At, Region == "west"), dcountif(Rep, Amount >= 10), take_anyif(Rep, Amount == 20), avgif(Amount, Amount > 5)`, `
			sumif_Amount:long|list_Rep:dynamic|set_Region:dynamic|maxif_Amount:long|minif_At:datetime|dcountif_Rep:long|Rep:string|avgif_Amount:real
			15|["ann","bob"]|["east","west"]|10|2024-01-01T11:10:00.0000000Z|2|bob|15`},
		{"make_list limit and with nulls", salesTable + `Sales | summarize make_list(Rep, 2), make_list_with_nulls(Amount)`, `
			list_Rep:dynamic|list_Amount:dynamic
			["ann","bob"]|[10,20,5,null]`},
		{"arg_max with star", salesTable + `Sales | summarize arg_max(At, *) by Rep`, `
			Rep:string|At:datetime|Region:string|Amount:long|Price:real|Dur:timespan
			ann|2024-01-01T12:00:00.0000000Z|east|||
			bob|2024-01-01T10:50:00.0000000Z|east|20|2.5|00:02:00`},
		{"arg_min with columns", salesTable + `Sales | summarize arg_min(Amount, Rep, At) by Region`, `
			Region:string|Amount:long|Rep:string|At:datetime
			east|10|ann|2024-01-01T10:05:00.0000000Z
			west|5|ann|2024-01-01T11:10:00.0000000Z`},
		{"summarize by without aggregates", salesTable + `Sales | summarize by Region`, `
			Region:string
			east
			west`},
		{"expressions over aggregates", salesTable + `Sales | summarize n = count() * 2, r = round(avg(Price), 1), tostring(max(Amount)), Label = strcat(Region, ":", count()), span = max(At) - min(At) by Region`, `
			Region:string|n:long|r:real|Column1:string|Label:string|span:timespan
			east|6|2|20|east:3|01:55:00
			west|2|4|5|west:1|00:00:00`},
		{"make_bag", `datatable(k:string, v:long)["a", 1, "b", 2, "a", 3] | summarize b = make_bag(bag_pack(k, v))`, `
			b:dynamic
			{"a":1,"b":2}`},
		// An array's elements join the set (https://learn.microsoft.com/kusto/query/make-set-aggregation-function,
		// "Set from array column"); other dynamic values join it whole.
		{"make_set of dynamic values", `datatable(d:dynamic)[dynamic([1]), dynamic([1]), dynamic({"a":1})] | summarize make_set(d)`, `
			set_d:dynamic
			[1,{"a":1}]`},
	})
}
