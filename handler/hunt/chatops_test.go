package hunt_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/huntwatch/huntwatch/handler/hunt"
)

func TestRunDigestForFloods(t *testing.T) {
	var rows [][]any
	for i := range 500 {
		rows = append(rows, row(i%60, fmt.Sprint("c", i), fmt.Sprint("user", i%7), fmt.Sprintf("F%03d", i)))
	}
	f := newFixture(rows...)
	f.r.DigestThreshold = 10
	sum, err := f.run(t)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.note.digests) != 1 || len(f.note.digests[0]) != 500 || f.note.calls != 1 {
		t.Fatalf("digests %d (sizes %v), calls %d", len(f.note.digests), len(f.note.sent), f.note.calls)
	}
	if sum.Posted != 500 || sum.Digest != 500 || sum.Pending != 0 {
		t.Errorf("summary %+v", sum)
	}
	st, _ := f.store.Load(t.Context(), "h1")
	for fp, rec := range st.Records {
		if rec.State != hunt.Delivered || rec.Message.ID != "digest1" {
			t.Fatalf("%s: %+v", fp, rec)
		}
	}
	// A repeat of a digested finding threads under the digest.
	f.src.Result.Rows = append(f.src.Result.Rows, row(90, "c-new", "mallory", "F007"))
	f.now = f.now.Add(time.Hour)
	if _, err := f.run(t); err != nil || strings.Join(f.note.repeats, ",") != "F007:c-new" || len(f.note.digests) != 1 {
		t.Errorf("err %v, repeats %v, digests %d", err, f.note.repeats, len(f.note.digests))
	}
}

func TestRunSmallBatchIsNotDigested(t *testing.T) {
	f := newFixture(row(0, "c1", "a", "A"), row(1, "c2", "b", "B"))
	f.r.DigestThreshold = 2
	f.run(t)
	if len(f.note.digests) != 0 || len(f.note.sent) != 2 {
		t.Errorf("digests %v, sent %v", f.note.digests, f.note.sent)
	}
}

func TestRunFailedDigestIsRetried(t *testing.T) {
	var rows [][]any
	for i := range 20 {
		rows = append(rows, row(i, fmt.Sprint("c", i), "a", fmt.Sprint("F", i)))
	}
	f := newFixture(rows...)
	f.r.DigestThreshold = 10
	f.note.down = fmt.Errorf("500: %w", hunt.ErrUnavailable)
	if sum, err := f.run(t); err == nil || sum.Pending != 20 {
		t.Fatalf("err %v, summary %+v", err, sum)
	}
	f.note.down = nil
	if _, err := f.run(t); err != nil || len(f.note.digests) != 1 || len(f.note.digests[0]) != 20 {
		t.Errorf("err %v, digests %v", err, f.note.digests)
	}
}

func TestRunRepeatsEachOccurrenceOnce(t *testing.T) {
	f := newFixture(row(0, "c1", "alice", "A"))
	f.run(t)
	f.src.Result.Rows = append(f.src.Result.Rows, row(10, "c2", "bob", "A"), row(11, "c3", "carol", "A"), row(11, "c3", "carol", "A"))
	sum, err := f.run(t)
	if err != nil || strings.Join(f.note.repeats, ",") != "A:c2,A:c3" || sum.Repeats != 2 || len(f.note.sent) != 1 {
		t.Fatalf("err %v, repeats %v, summary %+v, sent %v", err, f.note.repeats, sum, f.note.sent)
	}
	a, _ := f.store.Get(t.Context(), "h1", "A")
	if a.Occurrences != 3 || strings.Join(a.Entities["Account"], ",") != "alice,bob,carol" || !a.LastSeen.Equal(t0.Add(11*time.Minute)) {
		t.Errorf("record %+v", a)
	}
	// Told once: the same rows again tell nothing.
	f.run(t)
	if len(f.note.repeats) != 2 {
		t.Errorf("repeats told again: %v", f.note.repeats)
	}
}

func TestRunFailedRepeatIsToldLater(t *testing.T) {
	f := newFixture(row(0, "c1", "alice", "A"))
	f.run(t)
	f.src.Result.Rows = append(f.src.Result.Rows, row(10, "c2", "bob", "A"))
	f.note.down = fmt.Errorf("channel_not_found: %w", hunt.ErrUnavailable)
	if _, err := f.run(t); err == nil {
		t.Fatal("no error")
	}
	st, _ := f.store.Load(t.Context(), "h1")
	if st.Records["A"].Occurrences != 1 {
		t.Errorf("untold occurrence counted: %+v", st.Records["A"])
	}
	f.note.down = nil
	if _, err := f.run(t); err != nil || strings.Join(f.note.repeats, ",") != "A:c2" {
		t.Errorf("err %v, repeats %v", err, f.note.repeats)
	}
}

func TestRunHealthAlerts(t *testing.T) {
	f := newFixture(row(0, "c1", "alice", "A"))
	f.r.AlertAfter = 3
	f.r.Redact = strings.NewReplacer("s3cret", "[REDACTED]").Replace
	f.src.Err = errors.New("HTTP 503 from workspace; key s3cret")
	for i := range 5 {
		f.now = f.now.Add(time.Hour)
		if _, err := f.run(t); err == nil {
			t.Fatalf("run %d succeeded", i)
		}
	}
	if strings.Join(f.note.alerts, ",") != "failing" {
		t.Fatalf("alerts after 5 failures: %v", f.note.alerts)
	}
	h := f.status(t).Health
	if h.Failures != 5 || !strings.Contains(h.LastError, "[REDACTED]") || strings.Contains(h.LastError, "s3cret") || !h.Alerted {
		t.Errorf("health %+v", h)
	}
	f.src.Err = nil
	f.now = f.now.Add(time.Hour)
	if _, err := f.run(t); err != nil {
		t.Fatal(err)
	}
	f.run(t)
	if strings.Join(f.note.alerts, ",") != "failing,recovered" {
		t.Errorf("alerts %v", f.note.alerts)
	}
	if h := f.status(t).Health; h.Failures != 0 || h.Alerted || h.LastError != "" {
		t.Errorf("health after recovery %+v", h)
	}
}

func TestRunStoreOutageIsAnnounced(t *testing.T) {
	f := newFixture(row(0, "c1", "alice", "A"))
	f.r.AlertAfter = 2
	fs := &failingLoad{Store: f.store}
	f.r.Store = fs
	fs.err = errors.New("dial tcp 127.0.0.1:1: connection refused")
	f.run(t)
	f.run(t)
	f.run(t)
	if strings.Join(f.note.alerts, ",") != "failing" {
		t.Fatalf("alerts %v", f.note.alerts)
	}
	fs.err = nil
	if _, err := f.run(t); err != nil || strings.Join(f.note.alerts, ",") != "failing,recovered" {
		t.Errorf("err %v alerts %v", err, f.note.alerts)
	}
}

// failingLoad is a store whose reads of a hunt's state (Load, Lookup) fail with err while err is set.
type failingLoad struct {
	hunt.Store
	err error
}

func (s *failingLoad) Load(ctx context.Context, h string) (*hunt.State, error) {
	if s.err != nil {
		return nil, s.err
	}
	return s.Store.Load(ctx, h)
}

func (s *failingLoad) Lookup(ctx context.Context, h string, fps []string, pending bool) (*hunt.State, error) {
	if s.err != nil {
		return nil, s.err
	}
	return s.Store.Lookup(ctx, h, fps, pending)
}

func TestRunHeartbeat(t *testing.T) {
	f := newFixture(row(0, "c1", "alice", "A"))
	f.r.Heartbeat, f.r.HeartbeatHour = true, 9
	f.now = time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC)
	f.run(t)
	if len(f.note.alerts) != 0 {
		t.Fatalf("heartbeat before the hour: %v", f.note.alerts)
	}
	for _, h := range []int{9, 10, 23} {
		f.now = time.Date(2026, 11, 2, h, 0, 0, 0, time.UTC)
		f.run(t)
	}
	f.now = time.Date(2026, 11, 3, 9, 30, 0, 0, time.UTC)
	f.run(t)
	if strings.Join(f.note.alerts, ",") != "heartbeat,heartbeat" {
		t.Errorf("alerts %v, want one heartbeat a day", f.note.alerts)
	}
	if d := f.status(t).Health.Today; d.Day != "2026-11-03" || d.Runs != 1 {
		t.Errorf("today %+v", d)
	}
}

func TestRunManyOccurrencesAreToldOnce(t *testing.T) {
	// 200 runs of one script in a window, more than a record keeps ids for: the next runs see
	// the same rows and must neither count nor tell any of them again.
	var rows [][]any
	for i := range 200 {
		rows = append(rows, row(i%60, fmt.Sprint("c", i), fmt.Sprint("user", i), "A"))
	}
	f := newFixture(rows[:1]...)
	f.run(t)
	f.src.Result.Rows = rows
	f.now = f.now.Add(time.Hour)
	if sum, err := f.run(t); err != nil || sum.Repeats != 50 {
		t.Fatalf("err %v, summary %+v (50 told: the run's message budget)", err, sum)
	}
	for range 5 {
		f.now = f.now.Add(time.Hour)
		f.run(t)
	}
	a, _ := f.store.Get(t.Context(), "h1", "A")
	if len(f.note.repeats) != 199 || a.Occurrences != 200 || len(a.Recent) != hunt.MaxRecent || a.SeenThrough.IsZero() {
		t.Errorf("told %d, occurrences %d, recent %d, seen through %v", len(f.note.repeats), a.Occurrences, len(a.Recent), a.SeenThrough)
	}
	told := map[string]int{}
	for _, r := range f.note.repeats {
		told[r]++
		if told[r] > 1 {
			t.Fatalf("%s told twice", r)
		}
	}
}

func TestRunHealthIsPerHunt(t *testing.T) {
	// While the store is down, the process remembers each hunt's failures apart: two failures of
	// one hunt do not make the other hunt's first failure its third.
	f := newFixture(row(0, "c1", "alice", "A"))
	f.r.AlertAfter = 3
	fs := &failingLoad{Store: f.store, err: errors.New("connection refused")}
	f.r.Store = fs
	other := &hunt.Hunt{ID: "h2", Name: "Other hunt", Query: "T", Entities: testHunt.Entities}
	f.run(t)
	f.run(t)
	f.r.Run(context.Background(), other)
	if len(f.note.alerts) != 0 {
		t.Fatalf("alerts %v after two failures of one hunt and one of another", f.note.alerts)
	}
	f.run(t)
	if strings.Join(f.note.alerts, ",") != "failing" {
		t.Errorf("alerts %v after three failures of one hunt", f.note.alerts)
	}
}
