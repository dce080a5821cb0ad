package tablestore_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"
	"github.com/huntwatch/huntwatch/handler/hunt"
	"github.com/huntwatch/huntwatch/handler/hunt/storetest"
	"github.com/huntwatch/huntwatch/handler/internal/azurite"
	"github.com/huntwatch/huntwatch/handler/tablestore"
)

var tableSeq atomic.Int64

// newStore opens a fresh table on srv.
func newStore(t *testing.T, srv *azurite.Server, opts *tablestore.Options) *tablestore.Store {
	t.Helper()
	table := fmt.Sprintf("hunts%d", tableSeq.Add(1))
	s, err := tablestore.FromConnectionString(slog.New(slog.NewTextHandler(testWriter{t}, nil)), srv.ConnectionString(), table, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Azurite: skipped with -short")
	}
	srv := azurite.Start(t)
	storetest.Run(t, func(t *testing.T) hunt.Store { return newStore(t, srv, nil) })
}

// TestConformanceParallel runs the conformance suite with Put's transactions in flight eight at
// a time, as against Azure Table Storage. Azurite keeps one transaction's state for the whole
// service (a second one at once fails with "Transaction Overlap!"), so the transport lets one
// transaction at a time through to it: the store's side runs concurrently, Azurite's does not.
func TestConformanceParallel(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Azurite: skipped with -short")
	}
	srv := azurite.Start(t)
	storetest.Run(t, func(t *testing.T) hunt.Store {
		return newStore(t, srv, &tablestore.Options{Parallel: 8, Transport: &oneBatchAtATime{}})
	})
}

// oneBatchAtATime sends requests, one $batch at a time, and counts the $batch requests that
// wanted to be in flight together.
type oneBatchAtATime struct {
	mu       sync.Mutex
	waiting  atomic.Int64
	overlaps atomic.Int64
}

func (o *oneBatchAtATime) Do(req *http.Request) (*http.Response, error) {
	if !strings.HasSuffix(req.URL.Path, "$batch") {
		return http.DefaultClient.Do(req)
	}
	if o.waiting.Add(1) > 1 {
		o.overlaps.Add(1)
	}
	defer o.waiting.Add(-1)
	o.mu.Lock()
	defer o.mu.Unlock()
	return http.DefaultClient.Do(req)
}

// TestPutParallel: a Put of many groups runs its transactions concurrently (up to Parallel),
// returns losers in input order, and sets every winner's Version; a fingerprint written twice
// makes it write the groups in order.
func TestPutParallel(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Azurite: skipped with -short")
	}
	srv := azurite.Start(t)
	tr := &oneBatchAtATime{}
	s := newStore(t, srv, &tablestore.Options{Parallel: 8, Transport: tr})
	ctx := context.Background()
	taken := records("par", 1000)
	var conflicts []int
	for i := 50; i < 1000; i += 97 {
		conflicts = append(conflicts, i)
		if lost, err := s.Put(ctx, "par", []*hunt.Record{taken[i].Clone()}); err != nil || len(lost) != 0 {
			t.Fatalf("Put %d: lost %d, %v", i, len(lost), err)
		}
	}
	recs := records("par", 1000)
	lost, err := s.Put(ctx, "par", recs)
	if err != nil {
		t.Fatal(err)
	}
	if tr.overlaps.Load() == 0 {
		t.Errorf("no two transactions were in flight together")
	}
	if len(lost) != len(conflicts) {
		t.Fatalf("lost %d, want %d", len(lost), len(conflicts))
	}
	for j, i := range conflicts {
		if lost[j] != recs[i] {
			t.Errorf("lost[%d] = %s, want %s (input order)", j, lost[j].Fingerprint, recs[i].Fingerprint)
		}
	}
	for i, r := range recs {
		if (r.Version == "") != slices.Contains(conflicts, i) {
			t.Errorf("%s: Version %q", r.Fingerprint, r.Version)
		}
	}

	// The same fingerprint twice: groups in order, so the second write sees the first's Version.
	tr.overlaps.Store(0)
	first := records("twice", 150)
	second := records("twice", 150)
	both := append(append([]*hunt.Record{}, first...), second...)
	lost, err = s.Put(ctx, "par", both)
	if err != nil {
		t.Fatal(err)
	}
	if tr.overlaps.Load() != 0 {
		t.Errorf("%d overlapping transactions with a repeated fingerprint", tr.overlaps.Load())
	}
	if len(lost) != 150 || lost[0] != second[0] {
		t.Errorf("lost %d (want the 150 second inserts, in order)", len(lost))
	}
}

// TestEmulatorOneTransactionAtATime: with Azurite's connection string and no Parallel, Put never
// has two transactions in flight.
func TestEmulatorOneTransactionAtATime(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Azurite: skipped with -short")
	}
	srv := azurite.Start(t)
	tr := &oneBatchAtATime{}
	s := newStore(t, srv, &tablestore.Options{Transport: tr})
	if lost, err := s.Put(context.Background(), "emu", records("emu", 500)); err != nil || len(lost) != 0 {
		t.Fatalf("Put: lost %d, %v", len(lost), err)
	}
	if n := tr.overlaps.Load(); n != 0 {
		t.Errorf("%d transactions overlapped against Azurite", n)
	}
}

// countingTransport keeps each request's method, path suffix and query, if any (unescaped).
type countingTransport struct {
	mu    sync.Mutex
	calls []string
}

func (c *countingTransport) Do(req *http.Request) (*http.Response, error) {
	c.mu.Lock()
	path := req.URL.Path
	call := req.Method + " " + path[strings.LastIndex(path, "/")+1:]
	if q, err := url.QueryUnescape(req.URL.RawQuery); err == nil && q != "" {
		call += "?" + q
	}
	c.calls = append(c.calls, call)
	c.mu.Unlock()
	return http.DefaultClient.Do(req)
}

func (c *countingTransport) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.calls
	c.calls = nil
	return out
}

func TestRoundTrips(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Azurite: skipped with -short")
	}
	srv := azurite.Start(t)
	tr := &countingTransport{}
	s := newStore(t, srv, &tablestore.Options{Transport: tr})
	ctx := context.Background()
	if err := s.Open(ctx); err != nil {
		t.Fatal(err)
	}
	tr.take()

	// 250 new records: three transactions, ETags read from their responses.
	recs := records("rt", 250)
	if lost, err := s.Put(ctx, "rt", recs); err != nil || len(lost) != 0 {
		t.Fatalf("Put: lost %d, %v", len(lost), err)
	}
	if calls := tr.take(); len(calls) != 3 || calls[0] != "POST $batch" {
		t.Errorf("Put of 250 new records: %d requests %v, want 3 transactions", len(calls), calls)
	}
	for _, r := range recs {
		if r.Version == "" {
			t.Fatalf("%s has no Version", r.Fingerprint)
		}
	}

	// 2,500 records and the window: three pages of the sparse listing, and three of the pending
	// rows whole (all of them are pending here).
	more := records("rt-more", 2250)
	if lost, err := s.Put(ctx, "rt", more); err != nil || len(lost) != 0 {
		t.Fatalf("Put: lost %d, %v", len(lost), err)
	}
	if err := s.SaveStatus(ctx, "rt", hunt.Status{WindowEnd: time.Now()}); err != nil {
		t.Fatal(err)
	}
	tr.take()
	st, err := s.Load(ctx, "rt")
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Records) != 2500 || st.WindowEnd.IsZero() {
		t.Fatalf("Load: %d records, window %v", len(st.Records), st.WindowEnd)
	}
	if calls := tr.take(); len(calls) != 6 {
		t.Errorf("Load of 2,500 records: %d requests %v, want 3 + 3 pages", len(calls), calls)
	}
	for _, r := range append(recs, more...) {
		if got := st.Records[r.Fingerprint]; got == nil || got.Version != r.Version {
			t.Fatalf("%s: loaded %+v, want Version %q from Put", r.Fingerprint, got, r.Version)
		}
	}

	// A conflict costs the failed transaction and one request per operation of that batch only.
	next := make([]*hunt.Record, 0, 250)
	for _, r := range recs {
		next = append(next, st.Records[r.Fingerprint])
	}
	stale := next[120].Clone()
	stale.Version = recs[0].Version
	next[120] = stale
	lost, err := s.Put(ctx, "rt", next)
	if err != nil || len(lost) != 1 || lost[0] != stale {
		t.Fatalf("Put with one stale record: lost %v, %v", lost, err)
	}
	if calls := tr.take(); len(calls) != 3+100 {
		t.Errorf("Put with one conflict: %d requests, want 3 transactions + 100 single writes", len(calls))
	}

	// Lookup of 40 fingerprints in a hunt of 2,500 delivered records and 3 pending ones: a point
	// query (a GET of the entity, selecting what Load's sparse listing does) a row asked, the
	// window row's too, and one listing of the pending rows; no request scans the partition.
	old := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	history := delivered("lr", 2500, old)
	pending := records("pending", 3)
	if lost, err := s.Put(ctx, "lookup", append(history, pending...)); err != nil || len(lost) != 0 {
		t.Fatalf("Put: lost %d, %v", len(lost), err)
	}
	if err := s.SaveStatus(ctx, "lookup", hunt.Status{WindowEnd: old}); err != nil {
		t.Fatal(err)
	}
	tr.take()
	var asked []string
	for i := range 20 {
		asked = append(asked, history[i*100].Fingerprint, fmt.Sprint("missing-", i))
	}
	st, err = s.Lookup(ctx, "lookup", asked, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Records) != 20+3 || !st.WindowEnd.Equal(old) {
		t.Errorf("Lookup: %d records, window %v; want 23, %v", len(st.Records), st.WindowEnd, old)
	}
	for _, r := range pending {
		if got := st.Records[r.Fingerprint]; got == nil || got.Finding == nil {
			t.Errorf("pending %s = %+v, want it whole", r.Fingerprint, got)
		}
	}
	calls := tr.take()
	if len(calls) != 41+1 {
		t.Errorf("Lookup of 40 fingerprints: %d requests, want 41 point queries and the pending rows: %q", len(calls), calls)
	}
	for _, c := range calls {
		point := strings.Contains(c, ",RowKey='") && strings.Contains(c, "$select=RowKey,Fingerprint,")
		if !point && !strings.Contains(c, "$filter=PartitionKey eq 'lookup' and State eq 'pending'") {
			t.Errorf("neither a point query selecting the sparse properties nor the pending rows' listing: %s", c)
		}
	}
}

func records(prefix string, n int) []*hunt.Record {
	out := make([]*hunt.Record, n)
	for i := range out {
		out[i] = &hunt.Record{
			Fingerprint: fmt.Sprintf("%s-%05d", prefix, i), State: hunt.Pending, Occurrences: 1,
			FirstSeen: time.Date(2026, 1, 1, 0, 0, i, 0, time.UTC),
			Finding:   &hunt.Finding{Fingerprint: fmt.Sprintf("%s-%05d", prefix, i), Fields: []hunt.Field{{Name: "A", Text: "b"}}},
		}
	}
	return out
}

// delivered returns n delivered records, notified and last seen at t.
func delivered(prefix string, n int, t time.Time) []*hunt.Record {
	recs := records(prefix, n)
	for _, r := range recs {
		r.State, r.NotifiedAt, r.LastSeen = hunt.Delivered, t, t
	}
	return recs
}

func TestUnreachable(t *testing.T) {
	if testing.Short() {
		t.Skip("retries until its 2 s timeout: skipped with -short")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now

	conn := fmt.Sprintf("DefaultEndpointsProtocol=http;AccountName=%s;AccountKey=%s;TableEndpoint=http://%s/%s;",
		azurite.Account, azurite.Key, addr, azurite.Account)
	const timeout = 2 * time.Second
	s, err := tablestore.FromConnectionString(nil, conn, "unreachable", &tablestore.Options{Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = s.Load(context.Background(), "hunt")
	elapsed := time.Since(start)
	if err == nil {
		t.Fatal("Load from a closed port succeeded")
	}
	if elapsed > timeout+2*time.Second {
		t.Errorf("Load took %v, want about the %v timeout", elapsed, timeout)
	}
	msg := err.Error()
	for _, secret := range []string{azurite.Key, conn, "AccountKey"} {
		if strings.Contains(msg, secret) {
			t.Errorf("error shows a secret: %s", msg)
		}
	}
	for _, want := range []string{"unreachable", addr} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not name %q", msg, want)
		}
	}
}

func TestServerRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Azurite: skipped with -short")
	}
	srv := azurite.Start(t)
	s := newStore(t, srv, &tablestore.Options{Timeout: 2 * time.Second, Retry: policy.RetryOptions{MaxRetries: -1}})
	ctx := context.Background()
	r := records("restart", 1)[0]
	if _, err := s.Put(ctx, "h", []*hunt.Record{r}); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	if _, err := s.Load(ctx, "h"); err == nil {
		t.Fatal("Load with Azurite stopped succeeded")
	}
	srv.Restart()
	st, err := s.Load(ctx, "h")
	if err != nil {
		t.Fatalf("Load after restart: %v", err)
	}
	if got := st.Records[r.Fingerprint]; got == nil || got.Version != r.Version {
		t.Fatalf("after restart: %+v, want Version %q", got, r.Version)
	}
}

func TestBadSettings(t *testing.T) {
	for _, test := range []struct{ conn, table string }{
		{"AccountName=a;AccountKey=c2VjcmV0LWtleS12YWx1ZQ==;TableEndpoint=http://127.0.0.1:1/a", "x"},
		{"AccountName=a;AccountKey=c2VjcmV0LWtleS12YWx1ZQ==;TableEndpoint=http://127.0.0.1:1/a", "bad-name"},
		{"AccountName=a;AccountKey=not base64 secret-key-value", "table"},
		{"garbage secret-key-value", "table"},
	} {
		_, err := tablestore.FromConnectionString(nil, test.conn, test.table, nil)
		if err == nil {
			t.Errorf("FromConnectionString(%q, %q) succeeded", test.conn, test.table)
			continue
		}
		if strings.Contains(err.Error(), "secret-key-value") || strings.Contains(err.Error(), "c2VjcmV0") {
			t.Errorf("error shows the key: %v", err)
		}
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// TestTableGone: a missing table is an error, not a lost race (both answer 404).
func TestTableGone(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Azurite: skipped with -short")
	}
	srv := azurite.Start(t)
	ctx := context.Background()
	s, err := tablestore.FromConnectionString(nil, srv.ConnectionString(), "gone", nil)
	if err != nil {
		t.Fatal(err)
	}
	recs := records("gone", 3)
	if lost, err := s.Put(ctx, "h", recs); err != nil || len(lost) != 0 {
		t.Fatalf("Put: %v, %v", lost, err)
	}
	svc, err := aztables.NewServiceClientFromConnectionString(srv.ConnectionString(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.DeleteTable(ctx, "gone", nil); err != nil {
		t.Fatal(err)
	}
	for _, batch := range [][]*hunt.Record{recs[:1], recs} {
		lost, err := s.Put(ctx, "h", batch)
		if err == nil {
			t.Errorf("Put of %d records to a deleted table: lost %d, no error", len(batch), len(lost))
		} else {
			t.Logf("Put of %d records: %.300s", len(batch), err)
		}
	}
}

// pageTransport calls after on every partition listing answered (one per page).
type pageTransport struct {
	mu    sync.Mutex
	pages int
	after func(pages int)
}

func (p *pageTransport) Do(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultClient.Do(req)
	if err == nil && req.Method == http.MethodGet && strings.Contains(req.URL.RawQuery, "filter") {
		p.mu.Lock()
		p.pages++
		n := p.pages
		p.mu.Unlock()
		p.after(n)
	}
	return resp, err
}

// Load fetches a page while it decodes the one before; stopped halfway, it fails rather than
// return part of the partition.
func TestLoadStoppedHalfwayFails(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Azurite: skipped with -short")
	}
	srv := azurite.Start(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tr := &pageTransport{after: func(int) {}}
	s := newStore(t, srv, &tablestore.Options{Transport: tr})
	if lost, err := s.Put(ctx, "half", records("half", 2500)); err != nil || len(lost) != 0 {
		t.Fatalf("Put: lost %d, %v", len(lost), err)
	}
	if st, err := s.Load(ctx, "half"); err != nil || len(st.Records) != 2500 {
		t.Fatalf("Load: %v", err)
	}
	tr.after = func(pages int) {
		if pages == 8 { // the second page of the second Load (the first took 3 + 3)
			cancel()
		}
	}
	if st, err := s.Load(ctx, "half"); !errors.Is(err, context.Canceled) {
		n := -1
		if st != nil {
			n = len(st.Records)
		}
		t.Fatalf("Load cancelled after its second page: %d records, err %v", n, err)
	}
}

// TestPutParallelError: a transaction failing for another reason than a conflict fails Put; no
// group starts after it, and a record of a failed group has no Version.
func TestPutParallelError(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Azurite: skipped with -short")
	}
	srv := azurite.Start(t)
	tr := &failBatches{after: 2, next: &oneBatchAtATime{}}
	s := newStore(t, srv, &tablestore.Options{Parallel: 4, Transport: tr, Retry: policy.RetryOptions{MaxRetries: -1}})
	recs := records("perr", 2000)
	lost, err := s.Put(context.Background(), "perr", recs)
	if err == nil || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("Put = %v, want the transport's error", err)
	}
	if len(lost) != 0 {
		t.Errorf("lost %d: an error is not a loss", len(lost))
	}
	written := 0
	for _, r := range recs {
		if r.Version != "" {
			written++
		}
	}
	if written != 200 {
		t.Errorf("%d records written, want the first two transactions' 200", written)
	}
	if n := tr.batches.Load(); n > 2+4 {
		t.Errorf("%d transactions tried: groups kept starting after the failure", n)
	}
}

// failBatches fails every $batch after the first after.
type failBatches struct {
	after   int64
	batches atomic.Int64
	next    interface {
		Do(*http.Request) (*http.Response, error)
	}
}

func (f *failBatches) Do(req *http.Request) (*http.Response, error) {
	if strings.HasSuffix(req.URL.Path, "$batch") && f.batches.Add(1) > f.after {
		return nil, errors.New("refused")
	}
	return f.next.Do(req)
}
