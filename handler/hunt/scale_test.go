package hunt_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/huntwatch/huntwatch/handler/hunt"
	"github.com/huntwatch/huntwatch/handler/hunt/hunttest"
	"github.com/huntwatch/huntwatch/handler/hunt/memstore"
)

// This file: the row limit (Runner.MaxRows, HUNT_MAX_ROWS) and floods of any size (one digest,
// every finding in it, every record delivered in the same run). Its helpers are its own.

var scaleHunt = &hunt.Hunt{ID: "scale", Name: "Scale hunt", Query: "T"}

var scaleCols = []hunt.Column{{Name: "TimeGenerated", Type: "datetime"}, {Name: "CorrelationId", Type: "string"}, {Name: "ScriptFingerprintHash", Type: "string"}}

var scaleT0 = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

// scaleRows returns n rows, each a new fingerprint fp-<i>.
func scaleRows(n int) [][]any {
	rows := make([][]any, n)
	for i := range rows {
		rows[i] = []any{scaleT0.Add(time.Duration(i) * time.Second), fmt.Sprintf("c%d", i), fmt.Sprintf("fp-%06d", i)}
	}
	return rows
}

// scaleNotifier keeps what it was given; alertErr fails alerts.
type scaleNotifier struct {
	mu       sync.Mutex
	posted   []string
	digests  [][]*hunt.Finding
	alerts   []hunt.Alert
	alertErr error
}

func (n *scaleNotifier) Notify(_ context.Context, _ *hunt.Hunt, rec *hunt.Record, _ []*hunt.Finding) (hunt.MessageRef, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.posted = append(n.posted, rec.Fingerprint)
	return hunt.MessageRef{Where: "C1", ID: fmt.Sprint(len(n.posted))}, nil
}

func (n *scaleNotifier) Digest(_ context.Context, _ *hunt.Hunt, fs hunt.FindingSeq) (hunt.MessageRef, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.digests = append(n.digests, slices.Collect(fs.All()))
	return hunt.MessageRef{Where: "C1", ID: fmt.Sprint("d", len(n.digests)), Kind: hunt.KindDigest}, nil
}

func (n *scaleNotifier) Repeat(context.Context, *hunt.Hunt, *hunt.Record, []*hunt.Finding) error {
	return nil
}

func (n *scaleNotifier) Alert(_ context.Context, _ *hunt.Hunt, a hunt.Alert) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.alertErr != nil {
		return n.alertErr
	}
	n.alerts = append(n.alerts, a)
	return nil
}

func scaleRunner(rows [][]any, note hunt.Notifier, store hunt.Store) *hunt.Runner {
	return &hunt.Runner{Log: slog.New(slog.DiscardHandler), Source: &hunttest.Source{Result: &hunt.Result{Columns: scaleCols, Rows: rows}},
		Store: store, Notifier: note, Now: func() time.Time { return scaleT0.Add(time.Hour) },
		Lookback: 24 * time.Hour, MaxCatchup: 168 * time.Hour}
}

// TestMaxRowsProcessesUpToTheLimitAndSaysSo: an answer over the limit is processed up to it;
// the summary counts the rest and an alert names both numbers; the window moves on.
func TestMaxRowsProcessesUpToTheLimitAndSaysSo(t *testing.T) {
	rows := scaleRows(25)
	note, store := &scaleNotifier{}, memstore.New()
	r := scaleRunner(rows, note, store)
	r.MaxRows = 20
	sum, err := r.Run(context.Background(), scaleHunt)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Rows != 25 || sum.Truncated != 5 || sum.New != 20 || sum.Posted != 20 || sum.Pending != 0 {
		t.Errorf("summary %+v: want 25 rows, 5 truncated, 20 new and posted", sum)
	}
	if !strings.Contains(sum.String(), "25 rows (5 past the row limit, not processed)") {
		t.Errorf("summary text %q does not tell the rows left out", sum.String())
	}
	if len(note.alerts) != 1 || note.alerts[0].Kind != hunt.AlertTruncated || note.alerts[0].Rows != 25 || note.alerts[0].MaxRows != 20 || note.alerts[0].Window != sum.Window {
		t.Fatalf("alerts %+v, want one %s of 25 rows, limit 20, over the run's window", note.alerts, hunt.AlertTruncated)
	}
	if len(rows) != 25 || rows[24] == nil {
		t.Errorf("the source's rows were changed")
	}
	st, _ := store.Load(context.Background(), scaleHunt.ID)
	if len(st.Records) != 20 || st.Records["fp-000020"] != nil {
		t.Errorf("%d records stored, want the first 20 rows'", len(st.Records))
	}
	if !st.WindowEnd.Equal(sum.Window.End) {
		t.Errorf("window end %v, want %v: the run succeeded", st.WindowEnd, sum.Window.End)
	}
}

// TestMaxRowsAlertFailureFailsTheRun: rows past the limit are never left out unannounced: when
// the alert cannot be posted the run fails and its window stays.
func TestMaxRowsAlertFailureFailsTheRun(t *testing.T) {
	note, store := &scaleNotifier{alertErr: errors.New("slack down")}, memstore.New()
	r := scaleRunner(scaleRows(5), note, store)
	r.MaxRows = 3
	sum, err := r.Run(context.Background(), scaleHunt)
	if err == nil || !strings.Contains(err.Error(), "2 of 5 rows") {
		t.Fatalf("err %v, want the alert's failure naming the rows not processed", err)
	}
	if sum.Truncated != 2 {
		t.Errorf("summary %+v", sum)
	}
	st, _ := store.Load(context.Background(), scaleHunt.ID)
	if !st.WindowEnd.IsZero() {
		t.Errorf("window moved on to %v after a failed run", st.WindowEnd)
	}
}

// TestMaxRowsDefault: unset, the limit is DefaultMaxRows, and an answer within it says nothing.
func TestMaxRowsDefault(t *testing.T) {
	note := &scaleNotifier{}
	r := scaleRunner(scaleRows(30), note, memstore.New())
	sum, err := r.Run(context.Background(), scaleHunt)
	if err != nil || sum.Truncated != 0 || len(note.alerts) != 0 || strings.Contains(sum.String(), "row limit") {
		t.Fatalf("err %v summary %v alerts %v", err, sum, note.alerts)
	}
	if hunt.DefaultMaxRows != 100_000 {
		t.Errorf("DefaultMaxRows %d", hunt.DefaultMaxRows)
	}
}

// TestFloodIsOneDigestOfAll: a flood far larger than any former cap is one digest holding every
// finding, and every record is delivered in that run: nothing pending for the next.
func TestFloodIsOneDigestOfAll(t *testing.T) {
	const n = 12_000
	note, store := &scaleNotifier{}, memstore.New()
	r := scaleRunner(scaleRows(n), note, store)
	r.DigestThreshold = 10
	sum, err := r.Run(context.Background(), scaleHunt)
	if err != nil {
		t.Fatal(err)
	}
	if len(note.digests) != 1 || len(note.digests[0]) != n || len(note.posted) != 0 {
		t.Fatalf("%d digests (first of %d findings), %d single posts: want one digest of %d", len(note.digests), len(note.digests[0]), len(note.posted), n)
	}
	if sum.Digest != n || sum.Posted != n || sum.Pending != 0 {
		t.Errorf("summary %+v: want %d in the digest, none pending", sum, n)
	}
	st, _ := store.Load(context.Background(), scaleHunt.ID)
	delivered := 0
	for _, rec := range st.Records {
		if rec.State == hunt.Delivered && rec.Message.ID == "d1" {
			delivered++
		}
	}
	if delivered != n {
		t.Errorf("%d records delivered in the digest, want %d", delivered, n)
	}
	// The next run posts nothing.
	sum, err = r.Run(context.Background(), scaleHunt)
	if err != nil || len(note.digests) != 1 || sum.Posted != 0 || sum.Known != n {
		t.Errorf("next run: err %v, %d digests, summary %+v", err, len(note.digests), sum)
	}
}

// spillHunt maps an entity, so that records count entity values read back from the spill.
var spillHunt = &hunt.Hunt{ID: "spill", Name: "Spill hunt", Query: "T",
	Entities: []hunt.EntityMapping{{EntityType: "Host", FieldMappings: []hunt.FieldMapping{{Identifier: "HostName", ColumnName: "Computer"}}}}}

var spillCols = append(slices.Clone(scaleCols), hunt.Column{Name: "Computer", Type: "string"}, hunt.Column{Name: "Commands", Type: "dynamic"})

// spillRows returns n rows, each a new fingerprint, with text and a list of their own.
func spillRows(n int) [][]any {
	rows := scaleRows(n)
	for i := range rows {
		rows[i] = append(rows[i], fmt.Sprintf("vm-%d", i), []any{fmt.Sprintf("whoami %d", i), "ipconfig /all"})
	}
	return rows
}

// streamSource answers through hunt.Streamer, reusing one row slice for every row as a decoder
// may: the Runner must keep nothing of it.
type streamSource struct{ res *hunt.Result }

func (s streamSource) Query(context.Context, string, hunt.Window) (*hunt.Result, error) {
	return nil, errors.New("Query called on a Streamer")
}

func (s streamSource) Stream(_ context.Context, _ string, _ hunt.Window, each func([]hunt.Column, []any) error) (error, error) {
	if err := each(s.res.Columns, nil); err != nil {
		return nil, err
	}
	row := make([]any, len(s.res.Columns))
	for _, r := range s.res.Rows {
		copy(row, r)
		if err := each(s.res.Columns, row); err != nil {
			return nil, err
		}
		clear(row)
	}
	return nil, nil
}

// wantWhole fails unless f is row i of spillRows, every field there.
func wantWhole(t *testing.T, what string, f *hunt.Finding, i int) {
	t.Helper()
	if f == nil || len(f.Fields) != len(spillCols) || f.Value("Computer") != fmt.Sprintf("vm-%d", i) ||
		f.Value("Commands") != fmt.Sprintf("[whoami %d, ipconfig /all]", i) || f.Value("CorrelationId") != fmt.Sprintf("c%d", i) {
		t.Fatalf("%s: finding %+v, want row %d whole", what, f, i)
	}
}

// TestSpilledFindingsLeaveWhole: past the first findings a run keeps only their headers in memory
// and the rest in a temporary file; what reaches the notifier and the store is whole all the same
// (every field, entity values counted), for a digest and for posts with a queue, and the file is
// gone after the run.
func TestSpilledFindingsLeaveWhole(t *testing.T) {
	const n = 2500 // more than the findings kept in memory
	for _, digest := range []bool{true, false} {
		t.Run(fmt.Sprintf("digest=%v", digest), func(t *testing.T) {
			tmp := t.TempDir()
			t.Setenv("TMPDIR", tmp)
			note, store := &spillNotifier{tmp: tmp}, memstore.New()
			r := scaleRunner(nil, note, store)
			r.Source = streamSource{&hunt.Result{Columns: spillCols, Rows: spillRows(n)}}
			r.MaxPosts = 5
			if digest {
				r.DigestThreshold = 10
			}
			sum, err := r.Run(context.Background(), spillHunt)
			if err != nil {
				t.Fatal(err)
			}
			if !note.sawSpill {
				t.Errorf("no findings file while the run was posting: the spill was not used")
			}
			if left, _ := os.ReadDir(tmp); len(left) != 0 {
				t.Errorf("left behind: %v", left)
			}
			if digest {
				if len(note.digests) != 1 || len(note.digests[0]) != n {
					t.Fatalf("digests %d, want one of %d", len(note.digests), n)
				}
				for i, f := range note.digests[0] {
					wantWhole(t, "digest", f, i)
				}
			} else {
				if sum.Posted != 5 || sum.Pending != n-5 {
					t.Fatalf("summary %+v, want 5 posted and the rest queued", sum)
				}
				for i, f := range note.shown {
					wantWhole(t, "message", f, i)
				}
			}
			st, _ := store.Load(context.Background(), spillHunt.ID)
			if len(st.Records) != n {
				t.Fatalf("%d records stored, want %d", len(st.Records), n)
			}
			for _, i := range []int{0, 999, 1000, n - 1} {
				rec, _ := store.Get(context.Background(), spillHunt.ID, fmt.Sprintf("fp-%06d", i))
				wantWhole(t, "stored record", rec.Finding, i)
				if got := rec.Entities["Host"]; !slices.Equal(got, []string{fmt.Sprintf("vm-%d", i)}) || rec.Occurrences != 1 {
					t.Errorf("record %d: entities %v, %d occurrences", i, got, rec.Occurrences)
				}
			}
		})
	}
}

// spillNotifier keeps whole copies of what it is given and looks for the run's findings file.
type spillNotifier struct {
	scaleNotifier
	tmp      string
	sawSpill bool
	shown    []*hunt.Finding
}

func (n *spillNotifier) look() {
	files, _ := os.ReadDir(n.tmp)
	for _, f := range files {
		n.sawSpill = n.sawSpill || strings.HasPrefix(f.Name(), "huntwatch-findings-")
	}
}

func (n *spillNotifier) Notify(ctx context.Context, h *hunt.Hunt, rec *hunt.Record, more []*hunt.Finding) (hunt.MessageRef, error) {
	n.look()
	n.shown = append(n.shown, rec.Finding)
	return n.scaleNotifier.Notify(ctx, h, rec, more)
}

func (n *spillNotifier) Digest(ctx context.Context, h *hunt.Hunt, fs hunt.FindingSeq) (hunt.MessageRef, error) {
	n.look()
	return n.scaleNotifier.Digest(ctx, h, fs)
}

// TestStreamedRowsPastTheLimitAreCounted: through a Streamer too, rows past MaxRows are counted,
// not processed.
func TestStreamedRowsPastTheLimitAreCounted(t *testing.T) {
	note := &scaleNotifier{}
	r := scaleRunner(nil, note, memstore.New())
	r.Source = streamSource{&hunt.Result{Columns: spillCols, Rows: spillRows(40)}}
	r.MaxRows = 25
	sum, err := r.Run(context.Background(), spillHunt)
	if err != nil || sum.Rows != 40 || sum.Truncated != 15 || sum.New != 25 {
		t.Fatalf("err %v, summary %+v: want 40 rows, 15 past the limit, 25 new", err, sum)
	}
}

// TestStreamedAnswerMissingColumnFails: a streamed answer without the hunt's columns fails with
// the column's name, even when it has no rows.
func TestStreamedAnswerMissingColumnFails(t *testing.T) {
	r := scaleRunner(nil, &scaleNotifier{}, memstore.New())
	r.Source = streamSource{&hunt.Result{Columns: scaleCols}}
	_, err := r.Run(context.Background(), spillHunt)
	if err == nil || !strings.Contains(err.Error(), `no column "Computer"`) {
		t.Fatalf("err %v, want the missing entity column named", err)
	}
}
