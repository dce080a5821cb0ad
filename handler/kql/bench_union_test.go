package kql

import (
	"context"
	"testing"
	"time"
)

// The benchmarks of queries over every table of a logs folder: the seed
// hunt's three tables with 100,000 rows each (runCommandLogs) and the other
// tables of the test schemas, empty. They report ms/query; like the seed hunt
// they should stay well under 2 s.

func allTablesDB(tb testing.TB, rows int) Database {
	schemas := loadTestSchemas(tb)
	db := runCommandLogs(schemas, rows)
	for name, cols := range schemas {
		if _, ok := db[name]; !ok {
			db[name] = &Table{Name: name, Columns: cols}
		}
	}
	return db
}

func benchQuery(b *testing.B, query string, wantRows int) {
	db := allTablesDB(b, 100_000)
	b.ResetTimer()
	start := time.Now()
	var rows int
	for i := 0; i < b.N; i++ {
		res, err := Run(context.Background(), query, db, Options{Now: testNow})
		if err != nil {
			b.Fatal(err)
		}
		rows = len(res.Rows)
	}
	b.ReportMetric(float64(time.Since(start).Milliseconds())/float64(b.N), "ms/query")
	b.ReportMetric(float64(rows), "rows")
	if wantRows >= 0 && rows != wantRows {
		b.Errorf("got %d result rows, want %d", rows, wantRows)
	}
}

// BenchmarkSearchAllTables looks for a term in every column of every table.
// 25,000 run commands each run Invoke-WebRequest once (DeviceEvents).
func BenchmarkSearchAllTables(b *testing.B) {
	benchQuery(b, `search "Invoke-WebRequest" | summarize n = count() by $table`, 1)
}

// BenchmarkUnionAllTables counts rows per table over union withsource=T *.
func BenchmarkUnionAllTables(b *testing.B) {
	benchQuery(b, `union withsource=T * | where TimeGenerated > datetime(2024-03-01) | summarize n = count() by T`, 3)
}
