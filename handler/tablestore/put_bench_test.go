package tablestore_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/huntwatch/huntwatch/handler/hunt"
	"github.com/huntwatch/huntwatch/handler/internal/azurite"
	"github.com/huntwatch/huntwatch/handler/tablestore"
)

// BenchmarkPut: a flood's claims, 10,000 new records of about 1 KB (100 transactions), then their
// delivery (100 replacing transactions), at Parallel 1 and 8. Azurite takes one transaction at a
// time (see oneBatchAtATime), so against it alone parallelism gains nothing; rtt adds a round
// trip outside that gate to each request, as the network and Azure's front end add one:
//
//	go test -run '^$' -bench Put -benchtime 1x ./handler/tablestore/
func BenchmarkPut(b *testing.B) {
	srv := azurite.Start(b)
	seq := 0
	for _, rtt := range []time.Duration{0, 20 * time.Millisecond} {
		for _, par := range []int{1, 8} {
			b.Run(fmt.Sprintf("rtt=%s/parallel=%d", rtt, par), func(b *testing.B) {
				for range b.N {
					seq++
					tr := &latency{rtt: rtt, next: &oneBatchAtATime{}}
					s, err := tablestore.FromConnectionString(nil, srv.ConnectionString(), fmt.Sprintf("bench%d", seq), &tablestore.Options{Parallel: par, Transport: tr})
					if err != nil {
						b.Fatal(err)
					}
					ctx := context.Background()
					if err := s.Open(ctx); err != nil {
						b.Fatal(err)
					}
					recs := records("bench", 10_000)
					for _, r := range recs {
						r.Finding.Fields[0].Text = strings.Repeat("x", 900)
					}
					start := time.Now()
					if lost, err := s.Put(ctx, "h", recs); err != nil || len(lost) != 0 {
						b.Fatalf("claims: lost %d, %v", len(lost), err)
					}
					claims := time.Since(start)
					for _, r := range recs {
						r.State = hunt.Delivered
					}
					start = time.Now()
					if lost, err := s.Put(ctx, "h", recs); err != nil || len(lost) != 0 {
						b.Fatalf("delivery: lost %d, %v", len(lost), err)
					}
					delivery := time.Since(start)
					b.ReportMetric(float64(claims.Milliseconds()), "claims-ms")
					b.ReportMetric(float64(delivery.Milliseconds()), "delivery-ms")
				}
			})
		}
	}
}

// latency adds rtt to each request before sending it on.
type latency struct {
	rtt  time.Duration
	next interface {
		Do(*http.Request) (*http.Response, error)
	}
}

func (l *latency) Do(req *http.Request) (*http.Response, error) {
	time.Sleep(l.rtt)
	return l.next.Do(req)
}
