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

func (n *scaleNotifier) Digest(_ context.Context, _ *hunt.Hunt, fs []*hunt.Finding) (hunt.MessageRef, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.digests = append(n.digests, fs)
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
