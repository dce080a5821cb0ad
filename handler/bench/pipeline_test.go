package bench

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/huntwatch/huntwatch/handler/hunt"
	"github.com/huntwatch/huntwatch/handler/internal/fakeslack"
	"github.com/huntwatch/huntwatch/handler/slack"
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
			w.LA.SetTable(answer(n, 0, time.Now().UTC(), row))
			table := fmt.Sprintf("BenchPipe%d", n)
			w.seedKnown(b, w.az, table, n)
			store, err := tablestore.FromConnectionString(log, w.az.conn(true), table, nil)
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
				base := newBaseline(b, w, w.az, table)
				base.run(b)
				b.ReportAllocs()
				b.ResetTimer()
				for range b.N {
					base.run(b)
				}
			})
			w.az.deleteTable(b, table)
		})
	}
}

// BenchmarkAllNewPipeline runs the all-new hunt in this process (the adapters main wires, the fake
// Table service, the local Slack), for profiling:
//
//	go test -run '^$' -bench AllNewPipeline/rows=100000 -benchtime 1x -cpuprofile cpu.out ./handler/bench/
func BenchmarkAllNewPipeline(b *testing.B) {
	w := newWorld(b)
	src := w.source(b)
	log := slog.New(slog.DiscardHandler)
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("rows=%d", n), func(b *testing.B) {
			w.LA.SetTable(answer(n, 0, time.Now().UTC(), row))
			note, err := slack.New(log, slack.Options{Token: w.Slack.Token(), Channel: fakeslack.DefaultChannel, APIURL: w.Slack.URL(), MinInterval: -1})
			if err != nil {
				b.Fatal(err)
			}
			for i := range b.N {
				table := fmt.Sprintf("BenchAllNewPipe%dr%d", n, i)
				store, err := tablestore.FromConnectionString(log, w.fake.direct, table, nil)
				if err != nil {
					b.Fatal(err)
				}
				r := &hunt.Runner{Log: log, Source: src, Store: store, Notifier: note, Now: time.Now,
					Lookback: 24 * time.Hour, MaxCatchup: 168 * time.Hour, DigestThreshold: 10}
				sum, err := r.Run(context.Background(), w.hunt)
				if err != nil || sum.New != n {
					b.Fatalf("%v: %s", err, sum)
				}
			}
		})
	}
}
