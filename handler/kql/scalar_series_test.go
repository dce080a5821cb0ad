package kql

import (
	"math"
	"testing"
)

// https://learn.microsoft.com/kusto/query/series-fit-line-function: the
// page's example and its output, which it prints with three decimals
// (truncated: its rsquare 0.982 is 0.98290...).
func TestSeriesFitLineDocs(t *testing.T) {
	res := runQuery(t, `print id = ' ', y = dynamic([2, 5, 6, 8, 11, 15, 17, 18, 25, 26, 30, 30])
		| extend (RSquare, Slope, Variance, RVariance, Interception, LineFit) = series_fit_line(y)`, nil)
	want := map[string]float64{"RSquare": 0.982, "Slope": 2.730, "Variance": 98.628, "RVariance": 1.686, "Interception": -1.666}
	wantFit := []float64{1.064, 3.7945, 6.526, 9.256, 11.987, 14.718, 17.449, 20.180, 22.910, 25.641, 28.371, 31.102}
	row := res.Rows[0]
	for i, c := range res.Columns {
		if w, ok := want[c.Name]; ok {
			got, _ := row[i].(float64)
			if c.Type != "real" || math.Abs(got-w) > 0.001 {
				t.Errorf("%s = %v (%s), want %v (real)", c.Name, row[i], c.Type, w)
			}
		}
		if c.Name == "LineFit" {
			arr, _ := row[i].([]any)
			if len(arr) != len(wantFit) {
				t.Fatalf("LineFit = %v, want %d values", row[i], len(wantFit))
			}
			for k, w := range wantFit {
				if got, _ := arr[k].(float64); math.Abs(got-w) > 0.001 {
					t.Errorf("LineFit[%d] = %v, want %v", k, arr[k], w)
				}
			}
		}
	}
}

// The series of the examples of
// https://learn.microsoft.com/kusto/query/series-decompose-anomalies-function
// (weekly seasonality over hourly bins, with dips at 150, 200 and 780 and
// spikes at 300, 400 and 600), without the page's 2*rand() noise so that
// the result is exact. The page says the seasonality is detected and that
// the outliers added stand out in ad_score; with threshold 2.5 (its last
// example) only they are flagged. Without noise the residual is 0 elsewhere,
// so the default threshold flags exactly them too.
const weeklySeries = `let ts = range t from 1 to 24*7*5 step 1
	| extend Timestamp = datetime(2018-03-01 05:00) + 1h * t
	| extend y = iff((t/24)%7>=5, 10.0, 15.0) - (((t%24)/10)*((t%24)/10))
	| extend y = iff(t==150 or t==200 or t==780, y-8.0, y)
	| extend y = iff(t==300 or t==400 or t==600, y+8.0, y)
	| summarize Timestamp = make_list(Timestamp, 10000), y = make_list(y, 10000);
`

func TestSeriesDecomposeAnomaliesDocsSeries(t *testing.T) {
	for _, args := range []string{"y", "y, 2.5", "y, 1.5, -1, 'linefit'", "y, 1.5, 168", "y, 1.5, -1, 'avg', 0, 'tukey'"} {
		res := runQuery(t, weeklySeries+`ts
			| extend (flag, score, baseline) = series_decompose_anomalies(`+args+`)
			| mv-expand with_itemindex = i flag to typeof(int), score to typeof(double), y to typeof(double), baseline to typeof(double)
			| where flag != 0
			| project t = i + 1, flag, up = score > 0, resid = round(y - baseline, 1)`, nil)
		want := `t:long|flag:int|up:bool|resid:real
			150|-1|false|-8
			200|-1|false|-8
			300|1|true|8
			400|1|true|8
			600|1|true|8
			780|-1|false|-8`
		if got := render(res); got != dedent(want) {
			t.Errorf("series_decompose_anomalies(%s):\n%s\nwant:\n%s", args, got, dedent(want))
		}
	}
}

// The series of https://learn.microsoft.com/kusto/query/series-periods-detect-function,
// whose period the page gives as 14 bins (score 0.84).
func TestDetectPeriodDocs(t *testing.T) {
	ys := []float64{80, 139, 87, 110, 68, 54, 50, 51, 53, 133, 86, 141, 97, 156, 94, 149, 95, 140, 77, 61, 50, 54, 47, 133, 72, 152, 94, 148, 105, 162, 101, 160, 87, 63, 53, 55, 54, 151, 103, 189, 108, 183, 113, 175, 113, 178, 90, 71, 62, 62, 65, 165, 109, 181, 115, 182, 121, 178, 114, 170}
	use := make([]bool, len(ys))
	for i := range use {
		use[i] = true
	}
	if p := detectPeriod(ys, use, 0.6); p != 14 {
		t.Errorf("detectPeriod = %d, want 14", p)
	}
	// a series without a period: no seasonality
	flat := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	if p := detectPeriod(flat, use[:len(flat)], 0.6); p != 0 {
		t.Errorf("detectPeriod(trend) = %d, want 0", p)
	}
}

// The shape of the corpus's hunting queries (make-series of counts, then
// the anomalies): a sparse count series with one spike gets one flag, and
// its score leads.
func TestSeriesDecomposeAnomaliesCounts(t *testing.T) {
	runTable(t, nil, []queryTest{
		{"spike in sparse counts", `print s = dynamic([0, 1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 12, 0, 0, 1, 0])
			| extend (flag, score, baseline) = series_decompose_anomalies(s)
			| mv-expand with_itemindex = i flag to typeof(int), score to typeof(double)
			| where flag == 1
			| project i, flag, high = score > 10`, `
			i:long|flag:int|high:bool
			19|1|true`},
		{"flat series has no anomalies", `print s = dynamic([3, 3, 3, 3, 3, 3, 3, 3, 3, 3])
			| extend (flag, score, baseline) = series_decompose_anomalies(s)
			| project flag, score, baseline`, `
			flag:dynamic|score:dynamic|baseline:dynamic
			[0,0,0,0,0,0,0,0,0,0]|[0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0]|[3.0,3.0,3.0,3.0,3.0,3.0,3.0,3.0,3.0,3.0]`},
		{"empty series", `print s = dynamic([])
			| extend (flag, score, baseline) = series_decompose_anomalies(s)
			| project flag, score, baseline`, `
			flag:dynamic|score:dynamic|baseline:dynamic
			[]|[]|[]`},
		{"not an array", `print s = 1
			| extend (flag, score, baseline) = series_decompose_anomalies(dynamic(null))
			| project n = isnull(flag)`, `
			n:bool
			true`},
	})
}

// == and != between a string and a bool, number, timespan or datetime, which
// Kusto.Language accepts (its == takes any two scalars): the string converts
// to the other operand's type (a string that does not convert is null, and
// null == null is null). The orderings stay errors, as there.
func TestEqualityAcrossTypes(t *testing.T) {
	runTable(t, nil, []queryTest{
		{"bool and string", `datatable(IsLocalAdmin:bool)[true, false, bool(null)]
			| extend a = IsLocalAdmin == "True", b = IsLocalAdmin != "true", c = "false" == IsLocalAdmin, d = IsLocalAdmin == "yes"`, `
			IsLocalAdmin:bool|a:bool|b:bool|c:bool|d:bool
			true|true|false|false|false
			false|false|true|true|false
			|false|true|false|`},
		{"long and string", `datatable(ProcessId:long, Crash:string)[4242, "4242", 7, "8", 9, ""]
			| extend eq = Crash == ProcessId, ne = ProcessId != Crash`, `
			ProcessId:long|Crash:string|eq:bool|ne:bool
			4242|4242|true|false
			7|8|false|true
			9||false|true`},
		{"timespan and string", `range d from 0 to 2 step 1
			| extend Day = dayofweek(datetime(2024-01-07) + d * 1d)
			| project Name = case(Day == "00:00:00", "Sunday", Day == "1.00:00:00", "Monday", Day == "2.00:00:00", "Tuesday", "other")`, `
			Name:string
			Sunday
			Monday
			Tuesday`},
		{"real and datetime", `print a = 1.5 == "1.5", b = datetime(2024-01-01) == "2024-01-01", c = 2 == "2.0"`, `
			a:bool|b:bool|c:bool
			true|true|true`},
	})
}

// https://learn.microsoft.com/kusto/query/ingestion-time-function: without
// ingestion times (the table had no IngestionTime policy), null.
func TestIngestionTimeNull(t *testing.T) {
	runTable(t, nil, []queryTest{
		{"no _IngestionTime column", `datatable(a:long)[1, 2] | extend t = ingestion_time() | extend n = isnull(t)`, `
			a:long|t:datetime|n:bool
			1||true
			2||true`},
		{"_IngestionTime column", `datatable(a:long, _IngestionTime:datetime)[1, datetime(2024-01-01)] | project t = ingestion_time()`, `
			t:datetime
			2024-01-01T00:00:00.0000000Z`},
	})
}
