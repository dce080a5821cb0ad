package hunt_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/huntwatch/huntwatch/handler/hunt"
	"github.com/huntwatch/huntwatch/handler/hunt/memstore"
)

// This file: a run's cost does not grow with the hunt's history. A small answer looks up its own
// fingerprints instead of reading every record, and records past the TTL and every window are
// pruned once a day.

// readCounter counts how a run reads its state.
type readCounter struct {
	hunt.Store
	mu       sync.Mutex
	loads    int
	lookups  [][]string
	pendings []bool      // each Lookup's pending
	prunes   []time.Time // notifiedBefore of each Prune
}

func (s *readCounter) Load(ctx context.Context, h string) (*hunt.State, error) {
	s.mu.Lock()
	s.loads++
	s.mu.Unlock()
	return s.Store.Load(ctx, h)
}

func (s *readCounter) Lookup(ctx context.Context, h string, fps []string, pending bool) (*hunt.State, error) {
	s.mu.Lock()
	s.lookups = append(s.lookups, slices.Clone(fps))
	s.pendings = append(s.pendings, pending)
	s.mu.Unlock()
	return s.Store.Lookup(ctx, h, fps, pending)
}

func (s *readCounter) Prune(ctx context.Context, h string, notifiedBefore, seenBefore time.Time, max int) (int, error) {
	s.mu.Lock()
	s.prunes = append(s.prunes, notifiedBefore)
	s.mu.Unlock()
	return s.Store.Prune(ctx, h, notifiedBefore, seenBefore, max)
}

// updatingNotifier is a scaleNotifier that can update messages (a hunt.Updater), as Slack does.
type updatingNotifier struct{ scaleNotifier }

func (n *updatingNotifier) Update(_ context.Context, _ *hunt.Hunt, prior, _ *hunt.Record) (hunt.MessageRef, error) {
	return prior.Message, nil
}

// seedDelivered stores n delivered records fp-<i>, notified and last seen at the given times.
func seedDelivered(t *testing.T, s hunt.Store, id string, from, n int, notified, seen time.Time) {
	t.Helper()
	var recs []*hunt.Record
	for i := from; i < from+n; i++ {
		recs = append(recs, &hunt.Record{Fingerprint: fmt.Sprintf("fp-%06d", i), State: hunt.Delivered, Occurrences: 1,
			Recent: []string{"|old" + fmt.Sprint(i)}, FirstSeen: seen, LastSeen: seen, NotifiedAt: notified,
			Message: hunt.MessageRef{Where: "C1", ID: fmt.Sprint(i)}, Finding: &hunt.Finding{Fingerprint: fmt.Sprintf("fp-%06d", i)}})
	}
	if lost, err := s.Put(context.Background(), id, recs); err != nil || len(lost) > 0 {
		t.Fatal(err, lost)
	}
}

// TestRunReadsWhatItsAnswerNeeds: a run reads its hunt's status, then the records its answer
// needs: one by one when that costs less than listing the hunt's records (a few fingerprints, a
// large partition, as Status.Stored counts it), else every record; the pending records only
// when the status does not say there are none, and at the first run of a day.
func TestRunReadsWhatItsAnswerNeeds(t *testing.T) {
	noOcc := []hunt.Column{{Name: "TimeGenerated", Type: "datetime"}, {Name: "ScriptFingerprintHash", Type: "string"}}
	rows := func(cols []hunt.Column, fps ...int) [][]any {
		var out [][]any
		for _, i := range fps {
			row := []any{scaleT0, fmt.Sprintf("fp-%06d", i)}
			if len(cols) == 3 {
				row = []any{scaleT0, fmt.Sprintf("new-c%d", i), fmt.Sprintf("fp-%06d", i)}
			}
			out = append(out, row)
		}
		return out
	}
	many := make([]int, 1500)
	for i := range many {
		many[i] = i
	}
	today := scaleT0.Add(time.Hour).Format(time.DateOnly)
	for _, test := range []struct {
		name        string
		cols        []hunt.Column
		fps         []int
		status      hunt.Status
		wantLoad    bool
		wantPending bool
	}{
		{"empty answer, settled: the status only", scaleCols, nil, hunt.Status{Stored: 2000, Settled: true, Health: hunt.Health{Today: hunt.DayCounts{Day: today}}}, false, false},
		{"empty answer, not settled: the pending records", scaleCols, nil, hunt.Status{Stored: 2000, Health: hunt.Health{Today: hunt.DayCounts{Day: today}}}, false, true},
		{"empty answer, first run of the day: the pending records", scaleCols, nil, hunt.Status{Stored: 2000, Settled: true}, false, true},
		{"known fingerprints: looked up", scaleCols, []int{1, 2, 3}, hunt.Status{Stored: 2000, Settled: true, Health: hunt.Health{Today: hunt.DayCounts{Day: today}}}, false, false},
		{"a new fingerprint: looked up", scaleCols, []int{1, 5000}, hunt.Status{Stored: 2000}, false, true},
		{"occurrences not by column: looked up", noOcc, []int{1, 5000}, hunt.Status{Stored: 2000}, false, true},
		{"too many to look up for the records stored: every record", scaleCols, []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17}, hunt.Status{Stored: 2000}, true, true},
		{"records not counted yet: every record", scaleCols, []int{1, 2, 3}, hunt.Status{}, true, true},
		{"more fingerprints than are looked up one by one: every record", scaleCols, many, hunt.Status{Stored: 1 << 30}, true, true},
	} {
		t.Run(test.name, func(t *testing.T) {
			store := &readCounter{Store: memstore.New()}
			seedDelivered(t, store.Store, scaleHunt.ID, 0, 2000, scaleT0.Add(-time.Hour), scaleT0)
			seedPending(t, store.Store, scaleHunt.ID, "left-pending")
			if err := store.Store.SaveStatus(context.Background(), scaleHunt.ID, test.status); err != nil {
				t.Fatal(err)
			}
			r := scaleRunner(nil, &updatingNotifier{}, store)
			r.Source = streamSource{&hunt.Result{Columns: test.cols, Rows: rows(test.cols, test.fps...)}}
			sum, err := r.Run(context.Background(), scaleHunt)
			if err != nil {
				t.Fatal(err)
			}
			if got := store.loads > 0; got != test.wantLoad {
				t.Errorf("%d Loads, want a Load: %v", store.loads, test.wantLoad)
			}
			if len(store.lookups) == 0 || store.lookups[0] != nil || store.pendings[0] {
				t.Fatalf("lookups %v (pending %v): the first reads the status only", store.lookups, store.pendings)
			}
			switch {
			case test.wantLoad:
			case len(test.fps) > 0 && (len(store.lookups) != 2 || len(store.lookups[1]) != len(test.fps)):
				t.Errorf("lookups %d, want the answer's %d fingerprints looked up", len(store.lookups), len(test.fps))
			case len(test.fps) == 0 && len(store.lookups) != 1+b2i(test.wantPending):
				t.Errorf("%d lookups, want %d", len(store.lookups), 1+b2i(test.wantPending))
			}
			listed := test.wantLoad || slices.Contains(store.pendings[1:], true)
			if listed != test.wantPending {
				t.Errorf("pending records listed: %v, want %v (lookups %v)", listed, test.wantPending, store.pendings)
			}
			if test.wantPending && sum.Retried != 1 {
				t.Errorf("summary %+v: the pending record listed is retried", sum)
			}
			// Whatever was read, the plan saw the same: known ones known, new ones new.
			known := 0
			for _, i := range test.fps {
				if i < 2000 {
					known++
				}
			}
			if sum.Known != known || sum.New != len(test.fps)-known {
				t.Errorf("summary %+v, want %d known and %d new", sum, known, len(test.fps)-known)
			}
			st, _ := store.Store.Lookup(context.Background(), scaleHunt.ID, nil, false)
			if want := 2001 + sum.New; test.wantLoad && st.Stored != want || !test.wantLoad && st.Stored != test.status.Stored+sum.New {
				t.Errorf("Stored %d after the run (was %d, %d new, loaded: %v)", st.Stored, test.status.Stored, sum.New, test.wantLoad)
			}
			if !st.Settled {
				t.Errorf("not settled after a run that left nothing pending")
			}
		})
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// seedPending stores a pending record the next run's answer does not have.
func seedPending(t *testing.T, s hunt.Store, id, fp string) {
	t.Helper()
	rec := &hunt.Record{Fingerprint: fp, State: hunt.Pending, Occurrences: 1, Recent: []string{"|" + fp},
		Finding: &hunt.Finding{Fingerprint: fp, Occurrence: fp, Fields: []hunt.Field{{Name: "ScriptFingerprintHash", Text: fp}}}}
	if lost, err := s.Put(context.Background(), id, []*hunt.Record{rec}); err != nil || len(lost) > 0 {
		t.Fatal(err, lost)
	}
}

// TestClaimUnsettlesFirst: a settled hunt's status says it is not settled before the run writes a
// claim, so that a run that dies after claiming leaves the next run listing the pending records.
func TestClaimUnsettlesFirst(t *testing.T) {
	store := &statusOrder{Store: memstore.New()}
	if err := store.Store.SaveStatus(context.Background(), scaleHunt.ID, hunt.Status{Settled: true, Stored: 5}); err != nil {
		t.Fatal(err)
	}
	r := scaleRunner(scaleRows(3), &scaleNotifier{}, store)
	if _, err := r.Run(context.Background(), scaleHunt); err != nil {
		t.Fatal(err)
	}
	if len(store.events) < 3 || store.events[0] != "status settled=false" || store.events[1] != "put" || store.events[len(store.events)-1] != "status settled=true" {
		t.Fatalf("events %v: want the status unsettled before the first put, settled at the end", store.events)
	}
}

// statusOrder records the order of status writes and puts.
type statusOrder struct {
	hunt.Store
	events []string
}

func (s *statusOrder) SaveStatus(ctx context.Context, h string, st hunt.Status) error {
	s.events = append(s.events, fmt.Sprint("status settled=", st.Settled))
	return s.Store.SaveStatus(ctx, h, st)
}

func (s *statusOrder) Put(ctx context.Context, h string, recs []*hunt.Record) ([]*hunt.Record, error) {
	s.events = append(s.events, "put")
	return s.Store.Put(ctx, h, recs)
}

// TestRunPrunesOnceADay: the first run of a UTC day deletes delivered records notified longer than
// the TTL ago and last seen before any window; later runs that day do not prune; without a TTL
// nothing is.
func TestRunPrunesOnceADay(t *testing.T) {
	for _, ttl := range []time.Duration{720 * time.Hour, 0} {
		t.Run(fmt.Sprint("ttl=", ttl), func(t *testing.T) {
			store := &readCounter{Store: memstore.New()}
			now := scaleT0.Add(time.Hour)
			seedDelivered(t, store.Store, scaleHunt.ID, 0, 30, now.AddDate(0, 0, -40), now.AddDate(0, 0, -40))  // prunable
			seedDelivered(t, store.Store, scaleHunt.ID, 30, 20, now.AddDate(0, 0, -40), now.AddDate(0, 0, -2))  // seen lately
			seedDelivered(t, store.Store, scaleHunt.ID, 50, 10, now.AddDate(0, 0, -10), now.AddDate(0, 0, -10)) // within the TTL
			r := scaleRunner(nil, &scaleNotifier{}, store)
			r.TTL = ttl
			for range 2 {
				if _, err := r.Run(context.Background(), scaleHunt); err != nil {
					t.Fatal(err)
				}
			}
			st, _ := store.Store.Load(context.Background(), scaleHunt.ID)
			wantLeft, wantPrunes := 30, 1
			if ttl == 0 {
				wantLeft, wantPrunes = 60, 0
			}
			if len(st.Records) != wantLeft || len(store.prunes) != wantPrunes {
				t.Fatalf("%d records left after %d prunes, want %d after %d", len(st.Records), len(store.prunes), wantLeft, wantPrunes)
			}
			for fp := range st.Records {
				if ttl > 0 && fp < "fp-000030" {
					t.Errorf("%s left: notified and last seen 40 days ago", fp)
				}
			}
			if ttl > 0 && !store.prunes[0].Equal(now.Add(-ttl)) {
				t.Errorf("pruned records notified before %v, want now - TTL", store.prunes[0])
			}
		})
	}
}

// TestLateFindingFindsTheMessageToUpdate: a new fingerprint whose occurrence an earlier message told
// under another fingerprint updates that message, though the answer no longer has the other
// fingerprint and the run reads no more than its answer's records: the status remembers which
// fingerprint's message told the occurrence.
func TestLateFindingFindsTheMessageToUpdate(t *testing.T) {
	store := &readCounter{Store: memstore.New()}
	seedDelivered(t, store.Store, scaleHunt.ID, 0, 3000, scaleT0.Add(-time.Hour), scaleT0)
	note := &updates{}
	r := scaleRunner(nil, note, store)
	first := [][]any{{scaleT0, "run-7", "fp-early"}} // the Run Command seen without its script
	r.Source = streamSource{&hunt.Result{Columns: scaleCols, Rows: first}}
	if sum, err := r.Run(context.Background(), scaleHunt); err != nil || sum.Posted != 1 {
		t.Fatalf("first run: %v %+v", err, sum)
	}
	store.loads = 0 // the first run counted the records (Status.Stored)
	r.Now = func() time.Time { return scaleT0.Add(2 * time.Hour) }
	late := [][]any{{scaleT0, "run-7", "fp-full"}} // the same Run Command with its script's commands
	r.Source = streamSource{&hunt.Result{Columns: scaleCols, Rows: late}}
	sum, err := r.Run(context.Background(), scaleHunt)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Updated != 1 || len(note.updated) != 1 || note.updated[0] != "fp-early" || len(note.posted) != 1 {
		t.Fatalf("summary %+v, updated %v, posted %v: want fp-early's message updated, nothing new posted", sum, note.updated, note.posted)
	}
	if store.loads != 0 {
		t.Errorf("%d Loads of 3,001 records: the run should read only what its answer needs", store.loads)
	}
}

// updates is an updatingNotifier that records whose message it updated.
type updates struct {
	updatingNotifier
	updated []string
}

func (n *updates) Update(ctx context.Context, h *hunt.Hunt, prior, rec *hunt.Record) (hunt.MessageRef, error) {
	n.updated = append(n.updated, prior.Fingerprint)
	return n.updatingNotifier.Update(ctx, h, prior, rec)
}

// TestToldStaysBounded: the status remembers at most MaxTold occurrences, the newest, and no more
// than a status row can hold whatever their length.
func TestToldStaysBounded(t *testing.T) {
	store := memstore.New()
	note := &scaleNotifier{}
	r := scaleRunner(nil, note, store)
	r.MaxPosts = 400
	var rows [][]any
	for i := range 300 {
		rows = append(rows, []any{scaleT0.Add(time.Duration(i) * time.Second), fmt.Sprintf("%03d-%s", i, strings.Repeat("<", 400)), fmt.Sprintf("fp-%03d", i)})
	}
	r.Source = streamSource{&hunt.Result{Columns: scaleCols, Rows: rows}}
	if _, err := r.Run(context.Background(), scaleHunt); err != nil {
		t.Fatal(err)
	}
	st, _ := store.Lookup(context.Background(), scaleHunt.ID, nil, false)
	b, _ := json.Marshal(st.Told)
	if len(st.Told) == 0 || len(st.Told) > hunt.MaxTold || len(b) > 64<<10 {
		t.Fatalf("%d told occurrences in %d bytes of JSON", len(st.Told), len(b))
	}
	if last := st.Told[len(st.Told)-1]; last.Fingerprint != "fp-299" {
		t.Errorf("newest told %q, want fp-299", last.Fingerprint)
	}
}
