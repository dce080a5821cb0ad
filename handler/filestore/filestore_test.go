package filestore_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/huntwatch/huntwatch/handler/filestore"
	"github.com/huntwatch/huntwatch/handler/hunt"
	"github.com/huntwatch/huntwatch/handler/hunt/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) hunt.Store {
		s, err := filestore.Open(filepath.Join(t.TempDir(), ".huntwatch", "state.json"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestPersistsAndLeavesNoTempFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	s, err := filestore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	r := &hunt.Record{Fingerprint: "fp", State: hunt.Pending, Occurrences: 1}
	if lost, err := s.Put(ctx, "h", []*hunt.Record{r}); err != nil || len(lost) != 0 {
		t.Fatalf("Put: %v, %v", lost, err)
	}
	end := time.Date(2026, 5, 1, 12, 0, 0, 1, time.UTC)
	if err := s.SaveStatus(ctx, "h", hunt.Status{WindowEnd: end}); err != nil {
		t.Fatal(err)
	}

	again, err := filestore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := again.Load(ctx, "h")
	if err != nil {
		t.Fatal(err)
	}
	if got := st.Records["fp"]; got == nil || got.Version != r.Version || !st.WindowEnd.Equal(end) {
		t.Fatalf("reopened: %+v, window %v", got, st.WindowEnd)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.Name() != "state.json" && e.Name() != "state.json.lock" {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}

func TestDamagedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	if err := os.WriteFile(path, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := filestore.Open(path); err == nil {
		t.Fatal("Open accepted a damaged file")
	}
}

// TestProcesses: two processes (this one and a copy of the test binary) share one file;
// each adds 1 to a counter 100 times with Load then Put, retrying when it loses. Without the
// file lock, updates would be lost.
func TestProcesses(t *testing.T) {
	if path := os.Getenv("FILESTORE_HELPER_PATH"); path != "" {
		increment(t, path, 100)
		return
	}
	path := filepath.Join(t.TempDir(), "state.json")
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^TestProcesses$")
	cmd.Env = append(os.Environ(), "FILESTORE_HELPER_PATH="+path)
	out := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { out <- cmd.Wait() }()
	increment(t, path, 100)
	if err := <-out; err != nil {
		t.Fatalf("helper process: %v", err)
	}

	s, err := filestore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := s.Load(context.Background(), "h")
	if err != nil {
		t.Fatal(err)
	}
	if got := st.Records["counter"]; got == nil || got.Occurrences != 200 {
		t.Fatalf("counter = %+v, want 200 occurrences", got)
	}
}

func increment(t *testing.T, path string, n int) {
	s, err := filestore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := 0; i < n; {
		st, err := s.Load(ctx, "h")
		if err != nil {
			t.Fatal(err)
		}
		r := st.Records["counter"]
		if r == nil {
			r = &hunt.Record{Fingerprint: "counter", State: hunt.Pending}
		}
		r.Occurrences++
		r.Recent = []string{strconv.Itoa(os.Getpid()), fmt.Sprint(i)}
		lost, err := s.Put(ctx, "h", []*hunt.Record{r})
		if err != nil {
			t.Fatal(err)
		}
		if len(lost) == 0 {
			i++
		}
	}
}

// A read-only store (a dry run's) creates nothing, neither for a missing file nor an existing one,
// reads what a writer stored, and refuses every write.
func TestOpenReadOnlyCreatesNothing(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	missing := filepath.Join(root, ".huntwatch", "state.json")
	s, err := filestore.OpenReadOnly(missing)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := s.Load(ctx, "h"); err != nil || len(st.Records) != 0 || !st.WindowEnd.IsZero() {
		t.Fatalf("Load of a missing file: %+v, %v", st, err)
	}
	if rec, err := s.Get(ctx, "h", "fp"); rec != nil || err != nil {
		t.Fatalf("Get of a missing file: %+v, %v", rec, err)
	}
	if _, err := s.Put(ctx, "h", []*hunt.Record{{Fingerprint: "fp", State: hunt.Pending}}); err == nil {
		t.Error("Put on a read-only store succeeded")
	}
	if err := s.SaveStatus(ctx, "h", hunt.Status{WindowEnd: time.Now()}); err == nil {
		t.Error("SaveStatus on a read-only store succeeded")
	}
	if entries, _ := os.ReadDir(root); len(entries) != 0 {
		t.Errorf("a read-only store over a missing file created %v", entries)
	}

	// An existing file, written without its lock file (as a copy of a state file would be).
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	w, err := filestore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Put(ctx, "h", []*hunt.Record{{Fingerprint: "fp", State: hunt.Delivered, Occurrences: 2}}); err != nil {
		t.Fatal(err)
	}
	for _, lock := range []bool{true, false} {
		if !lock {
			os.Remove(path + ".lock")
		}
		r, err := filestore.OpenReadOnly(path)
		if err != nil {
			t.Fatal(err)
		}
		st, err := r.Load(ctx, "h")
		if err != nil || st.Records["fp"] == nil || st.Records["fp"].Occurrences != 2 {
			t.Fatalf("lock file %v: Load = %+v, %v", lock, st, err)
		}
		if _, err := r.Put(ctx, "h", []*hunt.Record{st.Records["fp"]}); err == nil {
			t.Errorf("lock file %v: Put on a read-only store succeeded", lock)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != "state.json" {
		t.Errorf("a read-only store changed the folder: %v", entries)
	}
}
