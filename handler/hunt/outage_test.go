package hunt_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/huntwatch/huntwatch/handler/hunt"
)

// flakyStore is a store whose writes fail from the failFrom-th Put on (counting from 1), until
// healed: a store that goes down in the middle of a run. Reads keep working.
type flakyStore struct {
	hunt.Store
	mu             sync.Mutex
	puts, failFrom int
}

func (s *flakyStore) Put(ctx context.Context, h string, recs []*hunt.Record) ([]*hunt.Record, error) {
	s.mu.Lock()
	s.puts++
	down := s.failFrom > 0 && s.puts >= s.failFrom
	s.mu.Unlock()
	if down {
		return nil, errors.New("store unavailable")
	}
	return s.Store.Put(ctx, h, recs)
}

// failFromNext makes the store fail from the nth Put from now on (1: the next one).
func (s *flakyStore) failFromNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failFrom = s.puts + n
}

func (s *flakyStore) heal() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failFrom = 0
}

func flaky(f *fixture) *flakyStore {
	s := &flakyStore{Store: f.store}
	f.r.Store = s
	return s
}

// The store goes down after Slack accepted the first message: the run stops posting, and the next
// run of the process records that delivery before anything else, even after the claims lapsed.
func TestRunStoreDownAfterPostKeepsTheDelivery(t *testing.T) {
	f := newFixture(row(0, "c1", "a", "A"), row(1, "c2", "b", "B"), row(2, "c3", "c", "C"))
	s := flaky(f)
	s.failFromNext(2) // the claims are stored; the record of A's delivery is not
	if _, err := f.run(t); err == nil || fmt.Sprint(f.note.sent) != "[A]" {
		t.Fatalf("err %v, sent %v: posting must stop when a delivery cannot be recorded", err, f.note.sent)
	}
	s.heal()
	f.now = f.now.Add(time.Hour) // past the 15-minute lease: only this process knows A went out
	if _, err := f.run(t); err != nil || fmt.Sprint(f.note.sent) != "[A B C]" {
		t.Fatalf("err %v, sent %v: want A once, then B and C", err, f.note.sent)
	}
	st, _ := s.Load(context.Background(), "h1")
	for fp, rec := range st.Records {
		if rec.State != hunt.Delivered || !rec.ClaimedUntil.IsZero() {
			t.Errorf("%s: %+v", fp, rec)
		}
	}
	if a := st.Records["A"]; a.Message.ID != "1" {
		t.Errorf("A recorded as %+v, want the first message", a.Message)
	}
}

// Claims the run could not release do not keep the next run of the process off their findings.
func TestRunStoreDownReleasesClaimsNextRun(t *testing.T) {
	f := newFixture(row(0, "c1", "a", "A"), row(1, "c2", "b", "B"))
	s := flaky(f)
	f.note.fail = func(*hunt.Finding) error {
		s.failFromNext(1) // the store goes down with Slack
		return fmt.Errorf("internal_error: %w", hunt.ErrUnavailable)
	}
	if _, err := f.run(t); err == nil || len(f.note.sent) != 0 {
		t.Fatalf("err %v, sent %v", err, f.note.sent)
	}
	s.heal()
	f.note.fail = nil
	f.now = f.now.Add(time.Minute) // well within the lease
	if _, err := f.run(t); err != nil || fmt.Sprint(f.note.sent) != "[A B]" {
		t.Fatalf("err %v, sent %v: the unreleased claims must not wait for the lease", err, f.note.sent)
	}
}

// While the store stays down the kept writes stay kept, and the run posts nothing.
func TestRunStoreStillDownKeepsWaiting(t *testing.T) {
	f := newFixture(row(0, "c1", "a", "A"), row(1, "c2", "b", "B"))
	s := flaky(f)
	s.failFromNext(2)
	f.run(t)
	f.now = f.now.Add(time.Hour)
	if _, err := f.run(t); err == nil || fmt.Sprint(f.note.sent) != "[A]" {
		t.Fatalf("err %v, sent %v", err, f.note.sent)
	}
	s.heal()
	f.now = f.now.Add(time.Hour)
	if _, err := f.run(t); err != nil || fmt.Sprint(f.note.sent) != "[A B]" {
		t.Fatalf("err %v, sent %v", err, f.note.sent)
	}
}

// A digest whose delivery could not be recorded is not posted again.
func TestRunStoreDownAfterDigest(t *testing.T) {
	var rows [][]any
	for i := range 20 {
		rows = append(rows, row(i, fmt.Sprint("c", i), "a", fmt.Sprint("F", i)))
	}
	f := newFixture(rows...)
	f.r.DigestThreshold = 10
	s := flaky(f)
	s.failFromNext(2)
	if _, err := f.run(t); err == nil || len(f.note.digests) != 1 {
		t.Fatalf("err %v, digests %d", err, len(f.note.digests))
	}
	s.heal()
	f.now = f.now.Add(time.Hour)
	if _, err := f.run(t); err != nil || len(f.note.digests) != 1 || len(f.note.sent) != 20 {
		t.Fatalf("err %v, digests %d, sent %d", err, len(f.note.digests), len(f.note.sent))
	}
	st, _ := s.Load(context.Background(), "h1")
	for fp, rec := range st.Records {
		if rec.State != hunt.Delivered {
			t.Errorf("%s: %+v", fp, rec)
		}
	}
}

// A repeat told while the store was down is not told again.
func TestRunStoreDownAfterRepeat(t *testing.T) {
	f := newFixture(row(0, "c1", "a", "A"))
	s := flaky(f)
	if _, err := f.run(t); err != nil {
		t.Fatal(err)
	}
	f.src.Result.Rows = append(f.src.Result.Rows, row(5, "c2", "b", "A"))
	f.now = f.now.Add(time.Hour)
	s.failFromNext(1)
	if _, err := f.run(t); err == nil || fmt.Sprint(f.note.repeats) != "[A:c2]" {
		t.Fatalf("err %v, repeats %v", err, f.note.repeats)
	}
	s.heal()
	f.now = f.now.Add(time.Hour)
	if _, err := f.run(t); err != nil || fmt.Sprint(f.note.repeats) != "[A:c2]" {
		t.Fatalf("err %v, repeats %v: told twice", err, f.note.repeats)
	}
}
