package tablestore_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/huntwatch/huntwatch/handler/hunt"
	"github.com/huntwatch/huntwatch/handler/internal/azurite"
	"github.com/huntwatch/huntwatch/handler/tablestore"
)

// beforeBatch calls the hook it is given once, before the next $batch it sends, which waits
// for it.
type beforeBatch struct {
	mu   sync.Mutex
	hook func()
	next interface {
		Do(*http.Request) (*http.Response, error)
	}
}

func (b *beforeBatch) Do(req *http.Request) (*http.Response, error) {
	if strings.HasSuffix(req.URL.Path, "$batch") {
		b.mu.Lock()
		hook := b.hook
		b.hook = nil
		if hook != nil {
			hook()
		}
		b.mu.Unlock()
	}
	return b.next.Do(req)
}

// TestPrune: a record written between Prune's listing and its delete stays, though its times
// still qualify; the delete's transaction fails whole, as on Azure, and the others in it are
// deleted one by one (one transaction at a time, as against Azurite, and eight). And the service
// compares the stored times (strings) itself: Prune reads the rows it deletes, not the partition.
func TestPrune(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Azurite: skipped with -short")
	}
	srv := azurite.Start(t)
	old := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, parallel := range []int{1, 8} {
		t.Run(fmt.Sprint("KeepsChanged/parallel=", parallel), func(t *testing.T) {
			ctx := context.Background()
			tr := &beforeBatch{next: &oneBatchAtATime{}}
			s := newStore(t, srv, &tablestore.Options{Parallel: parallel, Transport: tr})
			recs := delivered("prune", 250, old)
			if lost, err := s.Put(ctx, "h", recs); err != nil || len(lost) != 0 {
				t.Fatalf("Put: lost %d, %v", len(lost), err)
			}
			changed := recs[7]
			tr.mu.Lock()
			tr.hook = func() {
				changed.LastError = "written meanwhile"
				if lost, err := s.Put(ctx, "h", []*hunt.Record{changed}); err != nil || len(lost) != 0 {
					t.Errorf("the other writer's Put: lost %d, %v", len(lost), err)
				}
			}
			tr.mu.Unlock()
			n, err := s.Prune(ctx, "h", old.Add(time.Hour), old.Add(time.Hour), 1000)
			if err != nil || n != 249 {
				t.Fatalf("Prune = %d, %v; want 249, nil", n, err)
			}
			st, err := s.Load(ctx, "h")
			if err != nil {
				t.Fatal(err)
			}
			if got := st.Records[changed.Fingerprint]; len(st.Records) != 1 || got == nil || got.Version != changed.Version {
				t.Errorf("after Prune: %d records (%v), want only the changed one at Version %q", len(st.Records), got, changed.Version)
			}
		})
	}
	t.Run("ListsCandidatesOnly", func(t *testing.T) {
		tr := &rowCounter{match: "NotifiedAt lt"}
		s := newStore(t, srv, &tablestore.Options{Transport: tr})
		ctx := context.Background()
		bound := time.Date(2026, 3, 1, 12, 0, 0, 500_000_000, time.UTC)
		recent := delivered("recent", 1000, bound.Add(time.Second))
		old := delivered("old", 10, bound.Add(-time.Hour))
		if lost, err := s.Put(ctx, "h", append(recent, old...)); err != nil || len(lost) != 0 {
			t.Fatalf("Put: lost %d, %v", len(lost), err)
		}
		if n, err := s.Prune(ctx, "h", bound, bound, 1000); n != 10 || err != nil {
			t.Fatalf("Prune = %d, %v; want 10, nil", n, err)
		}
		if rows := tr.rows.Load(); rows != 10 {
			t.Errorf("Prune listed %d rows, want the 10 it deletes", rows)
		}
	})
}

// rowCounter counts the rows of the listings whose filter contains match.
type rowCounter struct {
	match string
	rows  atomic.Int64
}

func (c *rowCounter) Do(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultClient.Do(req)
	if err != nil || !strings.Contains(req.URL.Query().Get("$filter"), c.match) {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	c.rows.Add(int64(strings.Count(string(body), `"RowKey"`)))
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}
