package kql

import (
	"strings"
	"testing"
)

// mv-apply: the examples of https://learn.microsoft.com/kusto/query/mv-apply-operator
// with the outputs the page shows.
func TestMvApplyDocs(t *testing.T) {
	runTable(t, nil, []queryTest{
		{"internal mv-expand", `let data = datatable (index: int, Arr: dynamic)
			[
			    0, dynamic([7]),
			    1, dynamic([6, 11, 7])
			];
			data
			| mv-apply Arr2=Arr to typeof(long) on 
			    (
			       take 100
			    )`, `
			index:int|Arr:dynamic|Arr2:long
			0|[7]|7
			1|[6,11,7]|6
			1|[6,11,7]|11
			1|[6,11,7]|7`},
		{"largest element", `let data = datatable (index: int, Arr: dynamic)
			[
			    0, dynamic([1, 5, 3]),
			    1, dynamic([10, 2, 5, 7])
			];
			data
			| mv-apply topElem=Arr to typeof(long) on 
			    (
			    top 1 by topElem
			    )`, `
			index:int|Arr:dynamic|topElem:long
			0|[1,5,3]|5
			1|[10,2,5,7]|10`},
		{"top two elements", `let data = datatable (index: int, Arr: dynamic)
			[
			    0, dynamic([5, 1, 3]),
			    1, dynamic([4, 10, 8, 7])
			];
			data
			| mv-apply Arr2=Arr to typeof(long) on 
			    (
			    top 2 by Arr2
			    | summarize Top2=make_list(Arr2)
			    )`, `
			index:int|Arr:dynamic|Top2:dynamic
			0|[5,1,3]|[5,3]
			1|[4,10,8,7]|[10,8]`},
		{"select elements in arrays", `datatable (Val:int, Arr1:dynamic, Arr2:dynamic)
			[ 1, dynamic(['A1', 'A2', 'A3']),       dynamic([10, 30, 7]), 
			  7, dynamic(['B1', 'B2', 'B5']),       dynamic([15, 11, 50]),
			  3, dynamic(['C1', 'C2', 'C3', 'C4']), dynamic([6, 40, 20, 8])
			] 
			| mv-apply NewArr1=Arr1, NewArr2=Arr2 to typeof(long) on (
			 top 2 by NewArr2
			 | summarize NewArr1=make_list(NewArr1), NewArr2=make_list(NewArr2)
			)`, `
			Val:int|Arr1:dynamic|Arr2:dynamic|NewArr1:dynamic|NewArr2:dynamic
			1|["A1","A2","A3"]|[10,30,7]|["A2","A1"]|[30,10]
			7|["B1","B2","B5"]|[15,11,50]|["B5","B1"]|[50,15]
			3|["C1","C2","C3","C4"]|[6,40,20,8]|["C2","C3"]|[40,20]`},
		{"with_itemindex", `let data = datatable (row: int, Arr: dynamic)
			[
			    0, dynamic([5, 1, 3]),
			    1, dynamic([4, 10, 8, 7])
			];
			data
			| mv-apply with_itemindex=index value=Arr to typeof(long) on 
			  (
			    // here you have 'index' column
			    where index >= 2
			  )`, `
			row:int|Arr:dynamic|value:long|index:long
			0|[5,1,3]|3|2
			1|[4,10,8,7]|8|2
			1|[4,10,8,7]|7|3`},
		{"two arrays of different lengths", `datatable (Val: int, Arr1: dynamic, Arr2: dynamic)
			[
			    1, dynamic(['A1', 'A2']), dynamic(['B1', 'B2', 'B3']), 
			    5, dynamic(['C1', 'C2']), dynamic(['D1'])
			] 
			| mv-apply T1=Arr1, T2=Arr2 on (
			    extend Out = strcat(T1, "_", T2)
			    | summarize Out= make_list(Out)
			  )`, `
			Val:int|Arr1:dynamic|Arr2:dynamic|Out:dynamic
			1|["A1","A2"]|["B1","B2","B3"]|["A1_B1","A2_B2","_B3"]
			5|["C1","C2"]|["D1"]|["C1_D1","C2_"]`},
		// "If the expression is the name of a column in the input, the input
		// column is removed from the input and a new column of the same name
		// ... appears in the output."
		{"a column expanded in place", `datatable(k:string, a:dynamic)["r1", dynamic([1,2]), "r2", dynamic([3])]
			| mv-apply a to typeof(long) on (top 1 by a)`, `
			k:string|a:long
			r1|2
			r2|3`},
	})
}

// partition: https://learn.microsoft.com/kusto/query/partition-operator - the
// subquery runs on the rows of each value of the key; the results are unioned.
func TestPartition(t *testing.T) {
	runTable(t, eventsDB(), []queryTest{
		{"top per partition", `Events | partition by Computer (top 1 by TimeGenerated | project Computer, Msg)`, `
			Computer:string|Msg:string
			web1|Disk slow
			web2|login ok
			db1|restart`},
		{"hint.strategy and summarize", `Events | partition hint.strategy=native by Computer (summarize n = count())`, `
			n:long
			2
			1
			1`},
	})
}

// render is accepted and ignored (https://learn.microsoft.com/kusto/query/render-operator
// describes a visualization, which a terminal has no use for); as binds the
// table to a name for the rest of the query
// (https://learn.microsoft.com/kusto/query/as-operator); sample returns that
// many rows (https://learn.microsoft.com/kusto/query/sample-operator).
func TestRenderAsSample(t *testing.T) {
	runTable(t, eventsDB(), []queryTest{
		{"render", `Events | summarize count() by Computer | render barchart with (title="x", ysplit=axes)`, `
			Computer:string|count_:long
			web1|2
			web2|1
			db1|1`},
		{"render legacy properties", "Events | count | render timechart kind=stacked title='t'\n", `
			Count:long
			4`},
		{"as", `Events | where Level > 2 | as Hot | join kind=inner (Hot | project Computer) on Computer | project Computer, Msg`, `
			Computer:string|Msg:string
			web2|login ok
			web1|Disk slow`},
		{"sample", `Events | sample 2 | count`, `
			Count:long
			2`},
		{"sample more than there are", `Events | sample 10 | count`, `
			Count:long
			4`},
	})
}

// mvexpand is the older spelling of mv-expand
// (https://learn.microsoft.com/kusto/query/mv-expand-operator), which
// Kusto.Language still accepts and older Sentinel rules use.
func TestMvexpandOldSpelling(t *testing.T) {
	runTable(t, eventsDB(), []queryTest{
		{"mvexpand", `Events | where Msg == "disk full" | mvexpand tag = Data.tags to typeof(string) | project tag`, `
			tag:string
			a
			b`},
	})
}

func TestTupleAssignment(t *testing.T) {
	// summarize (Time, Id) = arg_max(...): the names go to arg_max's columns
	// in order (Kusto.Language gives Computer, T:datetime, C:string for
	// summarize (T, C) = arg_max(TimeGenerated, Category) by Computer).
	runTable(t, eventsDB(), []queryTest{
		{"arg_max", `Events | summarize (Last, Message) = arg_max(TimeGenerated, Msg) by Computer`, `
			Computer:string|Last:datetime|Message:string
			web1|2024-01-01T02:00:00.0000000Z|Disk slow
			web2|2024-01-01T01:00:00.0000000Z|login ok
			db1|2024-01-01T03:00:00.0000000Z|restart`},
	})
	for _, q := range []string{
		"Events | summarize (a, b) = count()",
		"Events | extend (a, b) = strcat(Msg, 'x')",
		"Events | project (a, b) = Msg",
	} {
		if _, err := Run(t.Context(), q, eventsDB(), Options{Now: testNow}); err == nil || !strings.Contains(err.Error(), "tuple") && !strings.Contains(err.Error(), "names") {
			t.Errorf("%s: got %v, want an error about the tuple", q, err)
		}
	}
}
