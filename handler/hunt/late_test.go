package hunt_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/huntwatch/huntwatch/handler/hunt"
	"github.com/huntwatch/huntwatch/handler/hunt/memstore"
	"github.com/huntwatch/huntwatch/handler/logdir"
)

// updater is a Notifier that can edit what it posted (hunt.Updater), and counts both.
type updater struct {
	mu      sync.Mutex
	posted  []string // fingerprints posted
	updated []string // "new<-old" fingerprints of updated messages
	seq     int
}

func (n *updater) Notify(_ context.Context, _ *hunt.Hunt, rec *hunt.Record, _ []*hunt.Finding) (hunt.MessageRef, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.seq++
	n.posted = append(n.posted, rec.Fingerprint)
	return hunt.MessageRef{Where: "C1", ID: time.Unix(int64(n.seq), 0).Format("1")}, nil
}

func (n *updater) Update(_ context.Context, _ *hunt.Hunt, prior, rec *hunt.Record) (hunt.MessageRef, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.updated = append(n.updated, rec.Fingerprint+"<-"+prior.Fingerprint)
	return prior.Message, nil
}

func (n *updater) Digest(context.Context, *hunt.Hunt, hunt.FindingSeq) (hunt.MessageRef, error) {
	panic("no digest in this test")
}
func (n *updater) Repeat(context.Context, *hunt.Hunt, *hunt.Record, []*hunt.Finding) error {
	return nil
}
func (n *updater) Alert(context.Context, *hunt.Hunt, hunt.Alert) error { return nil }

// Defender events that arrive after the hour's run: the Run Command is first told without its
// commands (a no-mde: fingerprint), and the next run, which sees the commands under another
// fingerprint for the same occurrence, updates that message instead of alerting again.
func TestLateDefenderEventsUpdateTheMessage(t *testing.T) {
	early := t.TempDir() // the Run Commands are in; their Defender events are not yet
	data, err := os.ReadFile("../../testdata/logs/AzureActivity.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(early, "AzureActivity.json"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	defender, _ := filepath.Glob("../../testdata/logs/Device*.json")
	for _, table := range defender { // the Defender tables, empty for now
		if err := os.WriteFile(filepath.Join(early, filepath.Base(table)), []byte("[]"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	h, err := hunt.Load(hunt.DefaultHunt)
	if err != nil {
		t.Fatal(err)
	}
	full := logdir.New("../../testdata/logs", "")
	latest, err := full.Latest()
	if err != nil {
		t.Fatal(err)
	}
	now := latest.Add(31 * time.Minute)
	note := &updater{}
	r := &hunt.Runner{Log: slog.New(slog.DiscardHandler), Source: logdir.New(early, ""), Store: memstore.New(), Notifier: note,
		Now: func() time.Time { return now }, Lookback: 24 * time.Hour, MaxCatchup: 168 * time.Hour, Settle: 30 * time.Minute}
	if _, err := r.Run(context.Background(), h); err != nil {
		t.Fatal(err)
	}
	first := len(note.posted)
	for _, fp := range note.posted {
		if !strings.HasPrefix(fp, "no-mde:") {
			t.Fatalf("without Defender events every finding is no-mde:, got %s", fp)
		}
	}
	// An hour later the Defender events are in.
	r.Source, now = full, now.Add(time.Hour)
	sum, err := r.Run(context.Background(), h)
	if err != nil {
		t.Fatal(err)
	}
	if len(note.posted) != first {
		t.Errorf("the second run posted %v anew; want the earlier messages updated", note.posted[first:])
	}
	if len(note.updated) == 0 || sum.Updated != len(note.updated) {
		t.Fatalf("updated %v (summary %d), want the runs whose commands arrived", note.updated, sum.Updated)
	}
	for _, u := range note.updated {
		if newFP, oldFP, _ := strings.Cut(u, "<-"); strings.HasPrefix(newFP, "no-mde:") || !strings.HasPrefix(oldFP, "no-mde:") {
			t.Errorf("update %s: want a fingerprint with commands over a no-mde: one", u)
		}
	}
	// Once updated, nothing more: a third run tells nothing.
	now = now.Add(time.Hour)
	if _, err := r.Run(context.Background(), h); err != nil || len(note.posted) != first || sum.Updated != len(note.updated) {
		t.Errorf("third run: err %v, posted %d (want %d), updated %v", err, len(note.posted), first, note.updated)
	}
}
