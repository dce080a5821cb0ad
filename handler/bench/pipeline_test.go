package bench

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/huntwatch/huntwatch/handler/hunt"
	"github.com/huntwatch/huntwatch/handler/internal/e2e"
	"github.com/huntwatch/huntwatch/handler/internal/fakeazure"
	"github.com/huntwatch/huntwatch/handler/tablestore"
)

// BenchmarkPipeline runs the steady-state hunt in this process (the adapters main wires: azquery
// source, aztables store; a notifier that has nothing to post), one run per iteration, so that
// -cpuprofile and -memprofile see the handler's own work:
//
//	go test -run '^$' -bench Pipeline/rows=10000 -benchtime 10x -cpuprofile cpu.out ./handler/bench/
func BenchmarkPipeline(b *testing.B) {
	w := newWorld(b)
	src := w.source(b)
	log := slog.New(slog.DiscardHandler)
	for _, n := range sizes {
		b.Run(fmt.Sprintf("rows=%d", n), func(b *testing.B) {
			w.LA.SetTable(fakeazure.Table{Columns: e2e.Columns, Rows: rowsOf(n, time.Now().UTC())})
			table := fmt.Sprintf("BenchPipe%d", n)
			w.seedKnown(b, table, n)
			store, err := tablestore.FromConnectionString(log, w.conn(true), table, nil)
			if err != nil {
				b.Fatal(err)
			}
			r := &hunt.Runner{Log: log, Source: src, Store: store, Notifier: &nopNotifier{}, Now: time.Now,
				Lookback: 24 * time.Hour, MaxCatchup: 168 * time.Hour}
			b.Run("handler", func(b *testing.B) {
				run := func() {
					sum, err := r.Run(context.Background(), w.hunt)
					if err != nil || sum.New != 0 || sum.Rows != n {
						b.Fatalf("%v: %s", err, sum)
					}
				}
				run() // warm-up
				b.ReportAllocs()
				b.ResetTimer()
				for range b.N {
					run()
				}
			})
			b.Run("baseline", func(b *testing.B) {
				base := newBaseline(b, w, table)
				base.run(b)
				b.ReportAllocs()
				b.ResetTimer()
				for range b.N {
					base.run(b)
				}
			})
			w.deleteTable(b, table)
		})
	}
}
