package kql

import (
	"context"
	"testing"
	"time"
)

// BenchmarkSeedHunt runs the seed hunt over 100,000 rows of each table
// (25,000 run commands on 8,333 VMs). It reports ms/query; the goal is under
// 2 s per evaluation.
func BenchmarkSeedHunt(b *testing.B) {
	db := runCommandLogs(loadTestSchemas(b), 100_000)
	query := seedQuery(b)
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
	if rows != 22500 {
		b.Errorf("got %d result rows, want 22500 (one per succeeded run command)", rows)
	}
}
