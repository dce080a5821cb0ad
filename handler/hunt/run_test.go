package hunt_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/huntwatch/huntwatch/handler/hunt"
	"github.com/huntwatch/huntwatch/handler/hunt/hunttest"
	"github.com/huntwatch/huntwatch/handler/hunt/memstore"
)

// recorder is a Notifier that keeps what it was given and fails on demand.
type recorder struct {
	mu      sync.Mutex
	sent    []string // fingerprints, posted alone or in a digest
	fail    func(f *hunt.Finding) error
	calls   int
	digests [][]string // fingerprints of each digest
	repeats []string   // "fingerprint:occurrence" told
	alerts  []string   // kinds
	down    error      // every method fails with it
}

func (n *recorder) Digest(_ context.Context, _ *hunt.Hunt, fs hunt.FindingSeq) (hunt.MessageRef, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.calls++
	if n.down != nil {
		return hunt.MessageRef{}, n.down
	}
	var fps []string
	for f := range fs.All() {
		fps = append(fps, f.Fingerprint)
	}
	n.digests = append(n.digests, fps)
	n.sent = append(n.sent, fps...)
	return hunt.MessageRef{Where: "C1", ID: fmt.Sprint("digest", len(n.digests))}, nil
}

func (n *recorder) Repeat(_ context.Context, _ *hunt.Hunt, rec *hunt.Record, fresh []*hunt.Finding) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.calls++
	if n.down != nil {
		return n.down
	}
	for _, f := range fresh {
		n.repeats = append(n.repeats, rec.Fingerprint+":"+f.Occurrence)
	}
	return nil
}

func (n *recorder) Alert(_ context.Context, _ *hunt.Hunt, a hunt.Alert) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.down != nil {
		return n.down
	}
	n.alerts = append(n.alerts, a.Kind)
	return nil
}

func (n *recorder) Notify(ctx context.Context, _ *hunt.Hunt, rec *hunt.Record, _ []*hunt.Finding) (hunt.MessageRef, error) {
	f := rec.Finding
	n.mu.Lock()
	defer n.mu.Unlock()
	n.calls++
	if n.down != nil {
		return hunt.MessageRef{}, n.down
	}
	if n.fail != nil {
		if err := n.fail(f); err != nil {
			return hunt.MessageRef{}, err
		}
	}
	// As a real notifier's HTTP call would, give up when the context ends before the answer.
	if err := ctx.Err(); err != nil {
		return hunt.MessageRef{}, err
	}
	n.sent = append(n.sent, f.Fingerprint)
	return hunt.MessageRef{Where: "C1", ID: fmt.Sprint(len(n.sent))}, nil
}

var testHunt = &hunt.Hunt{ID: "h1", Name: "Test hunt", Query: "T",
	Entities: []hunt.EntityMapping{{EntityType: "Account", FieldMappings: []hunt.FieldMapping{{Identifier: "FullName", ColumnName: "Caller"}}}}}

var cols = []hunt.Column{{Name: "TimeGenerated", Type: "datetime"}, {Name: "CorrelationId", Type: "string"}, {Name: "Caller", Type: "string"}, {Name: "ScriptFingerprintHash", Type: "string"}}

var t0 = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

func row(min int, corr, caller, fp string) []any {
	return []any{t0.Add(time.Duration(min) * time.Minute), corr, caller, fp}
}

type fixture struct {
	src   *hunttest.Source
	store *memstore.Store
	note  *recorder
	now   time.Time
	r     *hunt.Runner
}

func newFixture(rows ...[]any) *fixture {
	f := &fixture{src: &hunttest.Source{Result: &hunt.Result{Columns: cols, Rows: rows}}, store: memstore.New(), note: &recorder{}, now: t0.Add(time.Hour)}
	f.r = &hunt.Runner{Log: slog.New(slog.DiscardHandler), Source: f.src, Store: f.store, Notifier: f.note,
		Now: func() time.Time { return f.now }, Lookback: 24 * time.Hour, MaxCatchup: 168 * time.Hour, TTL: 720 * time.Hour}
	return f
}

func (f *fixture) run(t *testing.T) (hunt.Summary, error) {
	t.Helper()
	return f.r.Run(context.Background(), testHunt)
}

// status is testHunt's stored status.
func (f *fixture) status(t *testing.T) hunt.Status {
	t.Helper()
	st, err := f.store.Load(context.Background(), testHunt.ID)
	if err != nil {
		t.Fatal(err)
	}
	return st.Status
}

func TestRunPostsEachNewFingerprintOnce(t *testing.T) {
	f := newFixture(row(0, "c1", "alice", "A"), row(5, "c2", "bob", "A"), row(1, "c3", "bob", "B"))
	sum, err := f.run(t)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(f.note.sent); got != "[A B]" {
		t.Errorf("sent %s, want [A B] (earliest first)", got)
	}
	if sum.New != 2 || sum.Posted != 2 || sum.Pending != 0 || sum.Rows != 3 || sum.Fingerprints != 2 {
		t.Errorf("summary %+v", sum)
	}
	st, _ := f.store.Load(context.Background(), "h1")
	a, _ := f.store.Get(context.Background(), "h1", "A")
	if a.State != hunt.Delivered || a.Occurrences != 2 || a.Finding == nil || a.Message.ID != "1" || !a.FirstSeen.Equal(t0) || !a.LastSeen.Equal(t0.Add(5*time.Minute)) {
		t.Errorf("record A = %+v", a)
	}
	if !st.WindowEnd.Equal(f.now) {
		t.Errorf("window end %v, want %v", st.WindowEnd, f.now)
	}

	// The same rows again: nothing posted, nothing counted twice.
	f.now = f.now.Add(time.Hour)
	sum, err = f.run(t)
	if err != nil || len(f.note.sent) != 2 || sum.New != 0 || sum.Repeats != 0 {
		t.Errorf("second run: err %v, sent %v, summary %+v", err, f.note.sent, sum)
	}
	st, _ = f.store.Load(context.Background(), "h1")
	if st.Records["A"].Occurrences != 2 {
		t.Errorf("occurrences counted twice: %d", st.Records["A"].Occurrences)
	}

	// A new occurrence of A is a repeat; a new fingerprint C posts once.
	f.src.Result.Rows = append(f.src.Result.Rows, row(70, "c4", "carol", "A"), row(71, "c5", "dave", "C"))
	sum, err = f.run(t)
	if err != nil || fmt.Sprint(f.note.sent) != "[A B C]" || sum.Repeats != 1 || sum.New != 1 {
		t.Errorf("third run: err %v, sent %v, summary %+v", err, f.note.sent, sum)
	}
}

func TestRunWindow(t *testing.T) {
	f := newFixture()
	if _, err := f.run(t); err != nil {
		t.Fatal(err)
	}
	call := f.src.Calls()[0]
	want := hunt.Window{Start: f.now.Add(-24*time.Hour - hunt.ClockSkew), End: f.now}
	if call.Timespan != want {
		t.Errorf("timespan %v, want %v", call.Timespan, want)
	}
	wantDecl := "let HuntStart = datetime(2026-10-31T13:00:00Z);\nlet HuntEnd = datetime(2026-11-01T13:00:00Z);\nT"
	if call.Query != wantDecl {
		t.Errorf("query %q, want %q", call.Query, wantDecl)
	}
	// Down for three days: the next run catches up from the last window's end.
	last := f.now
	f.now = f.now.Add(72 * time.Hour)
	f.run(t)
	if got := f.src.Calls()[1].Timespan.Start.Add(hunt.ClockSkew); !got.Equal(last) {
		t.Errorf("catch-up starts %v, want %v", got, last)
	}
}

func TestRunSettle(t *testing.T) {
	f := newFixture()
	f.r.Settle = 30 * time.Minute
	if _, err := f.run(t); err != nil {
		t.Fatal(err)
	}
	end := f.now.Add(-30 * time.Minute)
	call := f.src.Calls()[0]
	if ts := call.Timespan; !ts.End.Equal(f.now) || !ts.Start.Equal(end.Add(-24*time.Hour-hunt.ClockSkew)) {
		t.Errorf("timespan %v: want it to reach now, %v", ts, f.now)
	}
	if !strings.Contains(call.Query, "let HuntEnd = datetime("+end.Format(time.RFC3339)+");") {
		t.Errorf("query %q: want HuntEnd %v", call.Query, end)
	}
	if got := f.status(t).WindowEnd; !got.Equal(end) {
		t.Errorf("saved window end %v, want %v", got, end)
	}
}

func TestNextWindow(t *testing.T) {
	now := t0
	for _, test := range []struct {
		name    string
		lastEnd time.Time
		want    time.Time
	}{
		{"first run", time.Time{}, now.Add(-24 * time.Hour)},
		{"recent run overlaps by lookback", now.Add(-time.Hour), now.Add(-24 * time.Hour)},
		{"after downtime from last end", now.Add(-48 * time.Hour), now.Add(-48 * time.Hour)},
		{"capped at max catch-up", now.Add(-400 * time.Hour), now.Add(-168 * time.Hour)},
		{"last end in the future", now.Add(time.Hour), now.Add(-24 * time.Hour)},
	} {
		w := hunt.NextWindow(now, test.lastEnd, 24*time.Hour, 168*time.Hour)
		if !w.Start.Equal(test.want) || !w.End.Equal(now) {
			t.Errorf("%s: %v, want start %v", test.name, w, test.want)
		}
	}
}

func TestRunFailedPostIsDeliveredNextRun(t *testing.T) {
	f := newFixture(row(0, "c1", "alice", "A"), row(1, "c2", "bob", "B"))
	f.note.fail = func(fd *hunt.Finding) error {
		if fd.Fingerprint == "A" {
			return errors.New("invalid_blocks")
		}
		return nil
	}
	sum, err := f.run(t)
	if err == nil || sum.Posted != 1 || sum.Failed != 1 || sum.Pending != 1 {
		t.Fatalf("err %v, summary %+v", err, sum)
	}
	st, _ := f.store.Load(context.Background(), "h1")
	if a := st.Records["A"]; a.State != hunt.Pending || a.Attempts != 1 || a.LastError == "" || !a.ClaimedUntil.IsZero() || a.Finding == nil {
		t.Errorf("record A after failure = %+v", a)
	}
	// The next run no longer sees A's row, yet delivers it from the stored finding.
	f.note.fail = nil
	f.src.Result.Rows = f.src.Result.Rows[1:]
	f.now = f.now.Add(time.Hour)
	sum, err = f.run(t)
	if err != nil || fmt.Sprint(f.note.sent) != "[B A]" || sum.Retried != 1 || sum.Pending != 0 {
		t.Errorf("err %v, sent %v, summary %+v", err, f.note.sent, sum)
	}
}

func TestRunUnavailableNotifierStopsAndReleases(t *testing.T) {
	f := newFixture(row(0, "c1", "a", "A"), row(1, "c2", "b", "B"), row(2, "c3", "c", "C"))
	f.note.fail = func(*hunt.Finding) error { return fmt.Errorf("invalid_auth: %w", hunt.ErrUnavailable) }
	sum, err := f.run(t)
	if !errors.Is(err, hunt.ErrUnavailable) || f.note.calls != 1 || sum.Pending != 3 {
		t.Fatalf("err %v, calls %d, summary %+v", err, f.note.calls, sum)
	}
	st, _ := f.store.Load(context.Background(), "h1")
	for fp, r := range st.Records {
		if !r.ClaimedUntil.IsZero() {
			t.Errorf("%s still claimed until %v", fp, r.ClaimedUntil)
		}
	}
	f.note.fail = nil
	if _, err := f.run(t); err != nil || len(f.note.sent) != 3 {
		t.Errorf("recovery: err %v, sent %v", err, f.note.sent)
	}
}

func TestRunStoreDownPostsNothing(t *testing.T) {
	f := newFixture(row(0, "c1", "a", "A"))
	flaky(f).failFromNext(1)
	if _, err := f.run(t); err == nil || f.note.calls != 0 {
		t.Fatalf("err %v, calls %d", err, f.note.calls)
	}
	if !f.status(t).WindowEnd.IsZero() {
		t.Error("window advanced")
	}
}

func TestRunPartialResultDoesNotAdvance(t *testing.T) {
	f := newFixture(row(0, "c1", "a", "A"))
	f.src.Result.Partial = errors.New("PartialError: query exceeded limits")
	_, err := f.run(t)
	if err == nil || len(f.note.sent) != 1 {
		t.Fatalf("err %v, sent %v: partial rows are processed and the run fails", err, f.note.sent)
	}
	if !f.status(t).WindowEnd.IsZero() {
		t.Error("window advanced on a partial result")
	}
}

func TestRunMissingColumnPostsNothing(t *testing.T) {
	f := newFixture(row(0, "c1", "a", "A"))
	f.src.Result = &hunt.Result{Columns: cols[:2], Rows: [][]any{{t0, "c1"}}}
	_, err := f.run(t)
	if err == nil || f.note.calls != 0 || !contains(err.Error(), `"Caller"`) {
		t.Fatalf("err %v, calls %d", err, f.note.calls)
	}
}

func TestRunCapQueuesTheRest(t *testing.T) {
	var rows [][]any
	for i := range 7 {
		rows = append(rows, row(i, fmt.Sprint("c", i), "a", fmt.Sprint("F", i)))
	}
	f := newFixture(rows...)
	f.r.MaxPosts = 3
	sum, err := f.run(t)
	if err != nil || sum.Posted != 3 || sum.Pending != 4 {
		t.Fatalf("err %v summary %+v", err, sum)
	}
	f.run(t)
	f.run(t)
	if len(f.note.sent) != 7 {
		t.Errorf("after three runs sent %v", f.note.sent)
	}
}

func TestRunTTL(t *testing.T) {
	f := newFixture(row(0, "c1", "a", "A"))
	f.run(t)
	f.now = f.now.Add(800 * time.Hour)
	f.src.Result.Rows = [][]any{row(800*60, "c9", "a", "A")}
	sum, _ := f.run(t)
	if len(f.note.sent) != 2 || sum.New != 1 {
		t.Errorf("after TTL: sent %v, summary %+v", f.note.sent, sum)
	}
}

func TestRunConcurrentRunsPostOnce(t *testing.T) {
	f := newFixture(row(0, "c1", "a", "A"), row(1, "c2", "b", "B"))
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() { f.run(t) })
	}
	wg.Wait()
	if len(f.note.sent) != 2 {
		t.Errorf("sent %v, want each fingerprint once", f.note.sent)
	}
}

func TestRunRecordsDeliveryAfterConflict(t *testing.T) {
	f := newFixture(row(0, "c1", "a", "A"))
	// Someone else touches the record while we post (our lease lapsed): the delivery still sticks.
	f.note.fail = func(fd *hunt.Finding) error {
		st, _ := f.store.Load(context.Background(), "h1")
		rec := st.Records["A"]
		rec.Attempts = 9
		f.store.Put(context.Background(), "h1", []*hunt.Record{rec})
		return nil
	}
	if _, err := f.run(t); err != nil {
		t.Fatal(err)
	}
	st, _ := f.store.Load(context.Background(), "h1")
	if rec := st.Records["A"]; rec.State != hunt.Delivered || rec.Message.ID == "" {
		t.Errorf("record %+v", rec)
	}
	f.note.fail = nil
	f.run(t)
	if len(f.note.sent) != 1 {
		t.Errorf("re-posted after a conflict: %v", f.note.sent)
	}
}

func TestRunDryRunWritesNothing(t *testing.T) {
	f := newFixture(row(0, "c1", "a", "A"))
	f.r.Store = hunt.DryRun(f.store)
	if _, err := f.run(t); err != nil || len(f.note.sent) != 1 {
		t.Fatalf("err %v sent %v", err, f.note.sent)
	}
	if st, _ := f.store.Load(context.Background(), "h1"); len(st.Records) != 0 || !st.WindowEnd.IsZero() {
		t.Error("dry run wrote state")
	}
}

func TestRunCancelledReleasesClaims(t *testing.T) {
	f := newFixture(row(0, "c1", "a", "A"), row(1, "c2", "b", "B"))
	ctx, cancel := context.WithCancel(context.Background())
	f.note.fail = func(*hunt.Finding) error { cancel(); return nil }
	_, err := f.r.Run(ctx, testHunt)
	if !errors.Is(err, context.Canceled) || len(f.note.sent) != 1 {
		t.Fatalf("err %v sent %v", err, f.note.sent)
	}
	st, _ := f.store.Load(context.Background(), "h1")
	if a, b := st.Records["A"], st.Records["B"]; a.State != hunt.Delivered || b.State != hunt.Pending || !b.ClaimedUntil.IsZero() {
		t.Errorf("A %+v B %+v", a, b)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func TestRunTellsEveryOccurrenceOfANewFingerprint(t *testing.T) {
	// One script (A) run by two callers in one window: the message shows the first, the second
	// is told as a repeat under it in the same run, and the record counts both.
	f := newFixture(row(0, "c1", "alice", "A"), row(5, "c2", "bob", "A"))
	sum, err := f.run(t)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprint(f.note.sent, f.note.repeats), "[A] [A:c2]"; got != want {
		t.Errorf("sent and repeats %s, want %s", got, want)
	}
	if sum.Posted != 1 || sum.Repeats != 1 {
		t.Errorf("summary %+v", sum)
	}
	a, _ := f.store.Get(context.Background(), "h1", "A")
	if a.Occurrences != 2 || fmt.Sprint(a.Entities["Account"]) != "[alice bob]" {
		t.Errorf("record A = %+v", a)
	}
	// Nothing is told twice.
	f.now = f.now.Add(time.Hour)
	if _, err := f.run(t); err != nil || len(f.note.sent) != 1 || len(f.note.repeats) != 1 {
		t.Errorf("second run: err %v sent %v repeats %v", err, f.note.sent, f.note.repeats)
	}
}

func TestRunRetriedPostTellsEveryOccurrence(t *testing.T) {
	f := newFixture(row(0, "c1", "alice", "A"), row(5, "c2", "bob", "A"))
	f.note.fail = func(*hunt.Finding) error { return errors.New("invalid_blocks") }
	if _, err := f.run(t); err == nil || len(f.note.repeats) != 0 {
		t.Fatalf("err %v repeats %v", err, f.note.repeats)
	}
	f.note.fail = nil
	f.now = f.now.Add(time.Hour)
	if _, err := f.run(t); err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprint(f.note.sent, f.note.repeats), "[A] [A:c2]"; got != want {
		t.Errorf("sent and repeats %s, want %s", got, want)
	}
}

func TestRunDigestListsEveryOccurrence(t *testing.T) {
	f := newFixture(row(0, "c1", "alice", "A"), row(1, "c2", "bob", "A"), row(2, "c3", "carol", "B"))
	f.r.DigestThreshold = 1
	sum, err := f.run(t)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(f.note.digests); got != "[[A A B]]" {
		t.Errorf("digests %s, want [[A A B]]: every occurrence listed", got)
	}
	if sum.Digest != 2 || len(f.note.repeats) != 0 {
		t.Errorf("summary %+v repeats %v", sum, f.note.repeats)
	}
}

func TestRunCancelledDuringPostRecordsIt(t *testing.T) {
	// Ctrl-C while a message is being sent: that message completes and is recorded as delivered,
	// so the next run does not post it again; no further message starts.
	f := newFixture(row(0, "c1", "a", "A"), row(1, "c2", "b", "B"))
	ctx, cancel := context.WithCancel(context.Background())
	f.note.fail = func(*hunt.Finding) error { cancel(); return nil }
	sum, err := f.r.Run(ctx, testHunt)
	if !errors.Is(err, context.Canceled) || fmt.Sprint(f.note.sent) != "[A]" || !sum.Interrupted {
		t.Fatalf("err %v sent %v summary %+v", err, f.note.sent, sum)
	}
	f.note.fail = nil
	f.now = f.now.Add(time.Hour)
	if _, err := f.run(t); err != nil || fmt.Sprint(f.note.sent) != "[A B]" {
		t.Errorf("next run: err %v sent %v, want [A B]", err, f.note.sent)
	}
}

func TestRunInterruptedIsNotAFailure(t *testing.T) {
	f := newFixture(row(0, "c1", "a", "A"))
	f.r.AlertAfter = 1
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := f.r.Run(ctx, testHunt); !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
	if len(f.note.alerts) != 0 || f.status(t).Health.Failures != 0 {
		t.Errorf("an interrupted run counted as failed: alerts %v health %+v", f.note.alerts, f.status(t).Health)
	}
}

func TestRunTickRetriesCountOnce(t *testing.T) {
	f := newFixture()
	f.src.Err = errors.New("503")
	f.r.AlertAfter = 3
	tick := func(name string) {
		t.Helper()
		if _, err := f.r.RunTick(context.Background(), testHunt, name); err == nil {
			t.Fatal("want the run to fail")
		}
	}
	// One tick and its three retries by the host: one failure, no alert.
	for range 4 {
		tick("t1")
	}
	if h := f.status(t).Health; h.Failures != 1 || len(f.note.alerts) != 0 {
		t.Fatalf("after one tick and 3 retries: failures %d alerts %v", h.Failures, f.note.alerts)
	}
	tick("t2")
	tick("t3")
	if fmt.Sprint(f.note.alerts) != "[failing]" {
		t.Errorf("after three failed ticks: alerts %v", f.note.alerts)
	}
	// A retry that succeeds clears it.
	f.src.Err = nil
	if _, err := f.r.RunTick(context.Background(), testHunt, "t3"); err != nil {
		t.Fatal(err)
	}
	if h := f.status(t).Health; h.Failures != 0 || fmt.Sprint(f.note.alerts) != "[failing recovered]" {
		t.Errorf("after a successful retry: health %+v alerts %v", h, f.note.alerts)
	}
}

func TestSummaryOfARunWithoutWindow(t *testing.T) {
	// A run whose state could not be read has no window: it must not print the zero time.
	sum := hunt.Summary{Hunt: "h"}
	if s := sum.String(); strings.Contains(s, "0001-01-01") || !strings.Contains(s, "no window") {
		t.Errorf("summary %q", s)
	}
}
