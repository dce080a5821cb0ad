package hunt_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/huntwatch/huntwatch/handler/hunt"
	"github.com/huntwatch/huntwatch/handler/hunt/hunttest"
	"github.com/huntwatch/huntwatch/handler/hunt/memstore"
)

// packFixture runs packs of hunts whose Query is their id: each hunt's query is answered with
// its own rows, or fails with its own error.
type packFixture struct {
	src   *hunttest.Source
	rows  map[string][][]any // by hunt id
	fail  map[string]error   // by hunt id
	store *memstore.Store
	note  *recorder
	now   time.Time
	r     *hunt.Runner
}

func newPackFixture() *packFixture {
	f := &packFixture{rows: map[string][][]any{}, fail: map[string]error{}, store: memstore.New(), note: &recorder{}, now: t0}
	f.src = &hunttest.Source{Answer: func(q string) (*hunt.Result, error) {
		id := huntOf(q)
		if err := f.fail[id]; err != nil {
			return nil, err
		}
		return &hunt.Result{Columns: cols, Rows: f.rows[id]}, nil
	}}
	f.r = &hunt.Runner{Log: slog.New(slog.DiscardHandler), Source: f.src, Store: f.store, Notifier: f.note,
		Now: func() time.Time { return f.now }, Lookback: 24 * time.Hour, MaxCatchup: 168 * time.Hour, AlertAfter: 2}
	return f
}

// huntOf is the id of the packHunt whose query q is: its last line, after the window's declarations.
func huntOf(q string) string { return q[strings.LastIndex(q, "\n")+1:] }

// runs counts the queries of each hunt so far.
func (f *packFixture) runs() map[string]int {
	runs := map[string]int{}
	for _, c := range f.src.Calls() {
		runs[huntOf(c.Query)]++
	}
	return runs
}

func packHunt(id string, freq time.Duration) *hunt.Hunt {
	return &hunt.Hunt{ID: id, Name: id, Query: id, Kind: hunt.KindScheduled, Frequency: freq, Entities: testHunt.Entities}
}

func (f *packFixture) tick(t *testing.T, pack []*hunt.Hunt, tick string) (hunt.TickSummary, error) {
	t.Helper()
	return f.r.Tick(context.Background(), &hunt.Pack{Hunts: pack}, tick)
}

// Over a simulated day of 5-minute ticks, each hunt runs exactly when due: a 5-minute rule at every
// tick, an hourly one 24 times, a daily one once, an NRT rule at every tick; a disabled one never.
func TestTickRunsEachHuntWhenDue(t *testing.T) {
	for _, settle := range []time.Duration{0, 30 * time.Minute} {
		t.Run(fmt.Sprint("settle ", settle), func(t *testing.T) {
			f := newPackFixture()
			f.r.Settle = settle
			nrt := packHunt("nrt", 0)
			nrt.Kind = hunt.KindNRT
			off := packHunt("off", 5*time.Minute)
			off.Disabled = true
			pack := []*hunt.Hunt{packHunt("five", 5*time.Minute), packHunt("hourly", time.Hour), packHunt("daily", 24*time.Hour), nrt, off}
			for i := range 288 {
				// Ticks start a few seconds late, more or less each time, as timers do.
				f.now = t0.Add(time.Duration(i)*5*time.Minute + time.Duration(i%7)*time.Second)
				if _, err := f.tick(t, pack, fmt.Sprint("tick-", i)); err != nil {
					t.Fatal(err)
				}
			}
			want := map[string]int{"five": 288, "hourly": 24, "daily": 1, "nrt": 288}
			if fmt.Sprint(f.runs()) != fmt.Sprint(want) {
				t.Errorf("runs %v, want %v", f.runs(), want)
			}
		})
	}
}

// A failing hunt does not stop the others, alerts once for itself, and the host's retry of the
// tick reruns only it.
func TestTickIsolatesAFailingHunt(t *testing.T) {
	f := newPackFixture()
	pack := []*hunt.Hunt{packHunt("a", time.Hour), packHunt("bad", time.Hour), packHunt("c", time.Hour)}
	f.rows["a"] = [][]any{row(0, "c1", "alice", "A")}
	f.rows["c"] = [][]any{row(0, "c2", "carol", "C")}
	f.fail["bad"] = errors.New("kql 1:5: unknown table")
	sum, err := f.tick(t, pack, "t1")
	if err == nil || !strings.Contains(err.Error(), "bad") || strings.Contains(err.Error(), "hunt a:") {
		t.Fatalf("err %v, want one naming bad only", err)
	}
	if sent := slices.Sorted(slices.Values(f.note.sent)); fmt.Sprint(sum.Failed) != "[bad]" || len(sum.Runs) != 3 || fmt.Sprint(sent) != "[A C]" {
		t.Errorf("summary %+v, sent %v", sum, f.note.sent)
	}
	// The host retries the tick: only the failed hunt is still due.
	f.now = f.now.Add(30 * time.Second)
	if _, err := f.tick(t, pack, "t1"); err == nil {
		t.Fatal("the retry should fail again")
	}
	if want := "map[a:1 bad:2 c:1]"; fmt.Sprint(f.runs()) != want {
		t.Errorf("runs after the retry %v, want %v", f.runs(), want)
	}
	if len(f.note.alerts) != 0 {
		t.Errorf("alerts after one failed tick and its retry: %v", f.note.alerts)
	}
	// The next tick fails it again: its second failed tick alerts (AlertAfter 2), once.
	f.now = f.now.Add(5 * time.Minute)
	f.tick(t, pack, "t2")
	f.now = f.now.Add(5 * time.Minute)
	f.tick(t, pack, "t3")
	if fmt.Sprint(f.note.alerts) != "[failing]" {
		t.Errorf("alerts %v, want one failing alert", f.note.alerts)
	}
	// It recovers: one recovery, and the others were never touched.
	delete(f.fail, "bad")
	f.now = f.now.Add(5 * time.Minute)
	if _, err := f.tick(t, pack, "t4"); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(f.note.alerts) != "[failing recovered]" || f.runs()["a"] != 1 {
		t.Errorf("alerts %v runs %v", f.note.alerts, f.runs())
	}
}

// A tick with nothing due reads the statuses once and runs nothing.
func TestTickNothingDue(t *testing.T) {
	f := newPackFixture()
	pack := []*hunt.Hunt{packHunt("a", time.Hour), packHunt("b", 24*time.Hour)}
	f.tick(t, pack, "t1")
	f.now = f.now.Add(5 * time.Minute)
	sum, err := f.tick(t, pack, "t2")
	if err != nil || sum.Due != 0 || len(sum.Runs) != 0 || fmt.Sprint(f.runs()) != "map[a:1 b:1]" {
		t.Errorf("err %v summary %+v runs %v", err, sum, f.runs())
	}
}

// No more than Concurrency hunts query at once, and 50 hunts all due complete one tick.
func TestTickBoundsConcurrency(t *testing.T) {
	f := newPackFixture()
	f.r.Concurrency = 3
	var pack []*hunt.Hunt
	for i := range 50 {
		id := fmt.Sprintf("h%02d", i)
		pack = append(pack, packHunt(id, time.Hour))
		f.rows[id] = [][]any{row(i, "c"+id, "alice", "fp-"+id)}
	}
	held := &heldSource{Source: f.src, gate: make(chan struct{}), entered: make(chan struct{}, 50)}
	f.r.Source = held
	done := make(chan error)
	go func() { _, err := f.tick(t, pack, "t1"); done <- err }()
	for range 3 {
		<-held.entered // three queries in flight, all held at the gate
	}
	for range 47 {
		held.gate <- struct{}{} // one through; the next one arrives in its place
		<-held.entered
	}
	for range 3 {
		held.gate <- struct{}{}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if held.max != 3 || len(f.runs()) != 50 || len(f.note.sent) != 50 {
		t.Errorf("at most %d at once (want 3), %d hunts run, %d posted", held.max, len(f.runs()), len(f.note.sent))
	}
}

// heldSource holds each query at gate, after telling entered, and keeps the most queries in
// flight at once.
type heldSource struct {
	hunt.Source
	gate, entered chan struct{}

	mu       sync.Mutex
	now, max int
}

func (s *heldSource) Query(ctx context.Context, q string, w hunt.Window) (*hunt.Result, error) {
	s.mu.Lock()
	s.now++
	s.max = max(s.max, s.now)
	s.mu.Unlock()
	defer func() { s.mu.Lock(); s.now--; s.mu.Unlock() }()
	s.entered <- struct{}{}
	select {
	case <-s.gate:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return s.Source.Query(ctx, q, w)
}

// A tick that is out of time starts no hunt; they stay due.
func TestTickKeepsItsReserve(t *testing.T) {
	f := newPackFixture()
	f.r.Reserve = time.Hour
	pack := []*hunt.Hunt{packHunt("a", time.Hour), packHunt("b", time.Hour)}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sum, err := f.r.Tick(ctx, &hunt.Pack{Hunts: pack}, "t1")
	if err != nil || len(sum.Runs) != 0 || fmt.Sprint(sum.Skipped) != "[a b]" || len(f.runs()) != 0 {
		t.Fatalf("err %v summary %+v", err, sum)
	}
	f.r.Reserve = time.Second
	if sum, _ := f.r.Tick(ctx, &hunt.Pack{Hunts: pack}, "t1"); len(sum.Runs) != 2 {
		t.Errorf("the skipped hunts did not run at the next tick: %+v", sum)
	}
}

// triggerOperator/triggerThreshold: a run whose row count does not satisfy the rule alerts
// nothing, and its window still moves on.
func TestTickTriggerThreshold(t *testing.T) {
	f := newPackFixture()
	h := packHunt("r", time.Hour)
	h.Trigger = hunt.Trigger{Operator: "gt", Threshold: 2}
	f.rows["r"] = [][]any{row(0, "c1", "alice", "A"), row(1, "c2", "bob", "B")}
	sum, err := f.tick(t, []*hunt.Hunt{h}, "t1")
	if err != nil || len(f.note.sent) != 0 || !sum.Runs[0].Quiet {
		t.Fatalf("err %v sent %v summary %+v", err, f.note.sent, sum)
	}
	f.rows["r"] = append(f.rows["r"], row(2, "c3", "carol", "C"))
	f.now = f.now.Add(time.Hour)
	if _, err := f.tick(t, []*hunt.Hunt{h}, "t2"); err != nil || fmt.Sprint(f.note.sent) != "[A B C]" {
		t.Errorf("err %v sent %v, want all three once the threshold is passed", err, f.note.sent)
	}
}

// SingleAlert: one finding per run listing the rows; an identical rerun stays silent, a new row
// makes a new alert.
func TestTickSingleAlert(t *testing.T) {
	f := newPackFixture()
	h := packHunt("s", time.Hour)
	h.Grouping = hunt.GroupSingle
	f.rows["s"] = [][]any{row(0, "c1", "alice", "A"), row(1, "c2", "bob", "B")}
	f.tick(t, []*hunt.Hunt{h}, "t1")
	f.now = f.now.Add(time.Hour)
	f.tick(t, []*hunt.Hunt{h}, "t2")
	if len(f.note.sent) != 1 {
		t.Fatalf("sent %v, want one alert for two identical runs", f.note.sent)
	}
	st, _ := f.store.Load(context.Background(), "s")
	rec := st.Records[f.note.sent[0]]
	got, _ := f.store.Get(context.Background(), "s", rec.Fingerprint)
	if results, _ := got.Finding.Field("Results"); len(results.List) != 2 || got.Finding.Value("ResultCount") != "2" {
		t.Errorf("the alert lists %v (%s results)", results.List, got.Finding.Value("ResultCount"))
	}
	f.rows["s"] = append(f.rows["s"], row(2, "c3", "carol", "C"))
	f.now = f.now.Add(time.Hour)
	f.tick(t, []*hunt.Hunt{h}, "t3")
	if len(f.note.sent) != 2 {
		t.Errorf("sent %v, want a second alert for a new set of rows", f.note.sent)
	}
}

// suppressionEnabled/suppressionDuration: after an alert the rule is not run for that long.
func TestTickSuppression(t *testing.T) {
	f := newPackFixture()
	h := packHunt("q", time.Hour)
	h.Suppression = 5 * time.Hour
	f.rows["q"] = [][]any{row(0, "c1", "alice", "A")}
	f.tick(t, []*hunt.Hunt{h}, "t0")
	for i := 1; i <= 6; i++ {
		f.rows["q"] = append(f.rows["q"], row(i, fmt.Sprint("c", i+1), "bob", fmt.Sprint("N", i)))
		f.now = t0.Add(time.Duration(i) * time.Hour)
		f.tick(t, []*hunt.Hunt{h}, fmt.Sprint("t", i))
	}
	// Runs at 0h (alert), suppressed until 5h, runs at 5h (alert: suppressed until 10h).
	if f.runs()["q"] != 2 || len(f.note.sent) != 1+5 {
		t.Errorf("runs %d sent %v", f.runs()["q"], f.note.sent)
	}
}

// Files of the pack that cannot be loaded are told once per set, not at every tick; the rest of the
// pack runs.
func TestTickTellsBrokenFilesOnce(t *testing.T) {
	f := newPackFixture()
	pack := &hunt.Pack{Hunts: []*hunt.Hunt{packHunt("a", time.Hour)},
		Broken: []hunt.LoadError{{Source: "rules/bad.yaml", Err: errors.New("rules/bad.yaml:3: queryFrequency: not a duration")}}}
	for i := range 3 {
		f.now = t0.Add(time.Duration(i) * 5 * time.Minute)
		if _, err := f.r.Tick(context.Background(), pack, fmt.Sprint("t", i)); err != nil {
			t.Fatal(err)
		}
	}
	if fmt.Sprint(f.note.alerts) != "[broken]" || f.runs()["a"] != 1 {
		t.Fatalf("alerts %v runs %v: want one broken-files alert and the good hunt run", f.note.alerts, f.runs())
	}
	pack.Broken = append(pack.Broken, hunt.LoadError{Source: "rules/worse.yaml", Err: errors.New("no query")})
	f.r.Tick(context.Background(), pack, "t3")
	pack.Broken = nil
	f.r.Tick(context.Background(), pack, "t4")
	pack.Broken = []hunt.LoadError{{Source: "rules/bad.yaml", Err: errors.New("rules/bad.yaml:3: queryFrequency: not a duration")}}
	f.r.Tick(context.Background(), pack, "t5")
	if fmt.Sprint(f.note.alerts) != "[broken broken broken]" {
		t.Errorf("alerts %v: want one for each new set of broken files", f.note.alerts)
	}
}
