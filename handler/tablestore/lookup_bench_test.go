package tablestore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/huntwatch/huntwatch/handler/hunt"
	"github.com/huntwatch/huntwatch/handler/internal/azurite"
	"github.com/huntwatch/huntwatch/handler/tablestore"
)

// BenchmarkLookup: a hunt with a long history, 20,000 delivered records and 20 pending ones, read
// as a run of a small answer needs it: Load of the whole partition, or Lookup of the answer's
// 1,000 fingerprints (900 of them stored). rtt adds a round trip to each request, as the network
// and Azure's front end do. Azurite has no index: it scans the partition for every request, point
// queries included (about 6 ms each at 20,000 rows), so its times grow with the partition either
// way; the requests an operation sends, and what each reads on Azure, are what carry over:
//
//	go test -run '^$' -bench Lookup -benchtime 3x ./handler/tablestore/
func BenchmarkLookup(b *testing.B) {
	srv := azurite.Start(b)
	ctx := context.Background()
	requests := &countingTransport{}
	tr := &latency{next: requests}
	s, err := tablestore.FromConnectionString(nil, srv.ConnectionString(), "benchlookup", &tablestore.Options{Transport: tr})
	if err != nil {
		b.Fatal(err)
	}
	history := delivered("history", 20_000, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	if lost, err := s.Put(ctx, "h", append(history, records("pending", 20)...)); err != nil || len(lost) != 0 {
		b.Fatalf("Put: lost %d, %v", len(lost), err)
	}
	if err := s.SaveStatus(ctx, "h", hunt.Status{WindowEnd: time.Now()}); err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var answer []string
	for _, i := range rng.Perm(len(history))[:900] {
		answer = append(answer, history[i].Fingerprint)
	}
	for i := range 100 {
		answer = append(answer, fmt.Sprint("new-", i))
	}
	for _, rtt := range []time.Duration{0, 20 * time.Millisecond} {
		tr.rtt = rtt
		b.Run(fmt.Sprintf("rtt=%s/Load", rtt), func(b *testing.B) {
			requests.take()
			for range b.N {
				if st, err := s.Load(ctx, "h"); err != nil || len(st.Records) != 20_020 {
					b.Fatalf("Load: %v", err)
				}
			}
			b.ReportMetric(float64(len(requests.take()))/float64(b.N), "requests/op")
		})
		b.Run(fmt.Sprintf("rtt=%s/Lookup1000", rtt), func(b *testing.B) {
			requests.take()
			for range b.N {
				if st, err := s.Lookup(ctx, "h", answer, true); err != nil || len(st.Records) != 920 {
					b.Fatalf("Lookup: %v", err)
				}
			}
			b.ReportMetric(float64(len(requests.take()))/float64(b.N), "requests/op")
		})
	}
}
