package hunt_test

import (
	"context"
	"testing"
	"time"

	"github.com/huntwatch/huntwatch/handler/hunt"
	"github.com/huntwatch/huntwatch/handler/hunt/memstore"
)

// TestDryRunStore: reads pass through to the wrapped store, Lookup included; Put, SaveStatus and
// Prune change nothing.
func TestDryRunStore(t *testing.T) {
	ctx := context.Background()
	mem := memstore.New()
	old := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	rec := &hunt.Record{Fingerprint: "fp", State: hunt.Delivered, NotifiedAt: old, LastSeen: old}
	if lost, err := mem.Put(ctx, "h", []*hunt.Record{rec}); err != nil || len(lost) != 0 {
		t.Fatalf("Put: %v, %v", lost, err)
	}
	dry := hunt.DryRun(mem)
	if n, err := dry.Prune(ctx, "h", old.AddDate(1, 0, 0), old.AddDate(1, 0, 0), 10); n != 0 || err != nil {
		t.Errorf("dry Prune = %d, %v; want 0, nil", n, err)
	}
	if lost, err := dry.Put(ctx, "h", []*hunt.Record{{Fingerprint: "new", State: hunt.Pending}}); err != nil || len(lost) != 0 {
		t.Errorf("dry Put = %v, %v", lost, err)
	}
	st, err := dry.Lookup(ctx, "h", []string{"fp", "new"}, true)
	if err != nil {
		t.Fatal(err)
	}
	if got := st.Records["fp"]; got == nil || got.Version != rec.Version || len(st.Records) != 1 {
		t.Errorf("dry Lookup after a dry Prune and Put: %v, want only fp at Version %q", st.Records, rec.Version)
	}
}
