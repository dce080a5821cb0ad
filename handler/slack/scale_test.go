package slack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/huntwatch/huntwatch/handler/hunt"
)

// TestWriteCSVIsCSV: the streamed CSV is byte for byte the CSV, and a write error is returned.
func TestWriteCSVIsCSV(t *testing.T) {
	fs := hunt.FindingList(append(manyFindings(300), nil))
	var buf bytes.Buffer
	if err := WriteCSV(&buf, fs); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), CSV(fs)) {
		t.Errorf("WriteCSV and CSV differ")
	}
	if rows := readCSV(t, buf.Bytes()); len(rows) != 301 {
		t.Errorf("%d rows, want a header and 300", len(rows))
	}
	if err := WriteCSV(failingWriter{}, fs); err == nil {
		t.Errorf("a failing writer: no error")
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

// TestDigestCSVThroughATemporaryFile: the digest's CSV goes up from a temporary file, which is
// gone afterwards, and the upload holds every finding.
func TestDigestCSVThroughATemporaryFile(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	s := newSetup(t, false, fixedClock)
	fs := hunt.FindingList(manyFindings(2000))
	if _, err := s.n.Digest(context.Background(), runCommandHunt(), fs); err != nil {
		t.Fatal(err)
	}
	ups := s.fs.Uploads()
	if len(ups) != 1 {
		t.Fatalf("%d uploads", len(ups))
	}
	if !bytes.Equal(ups[0].Content, CSV(fs)) {
		t.Errorf("uploaded CSV differs from CSV(findings)")
	}
	left, _ := filepath.Glob(filepath.Join(tmp, "huntwatch-digest-*"))
	if len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// TestDigestCSVWithoutTemporaryFiles: with no writable temporary folder the CSV is built in
// memory and still uploaded.
func TestDigestCSVWithoutTemporaryFiles(t *testing.T) {
	t.Setenv("TMPDIR", filepath.Join(t.TempDir(), "missing"))
	if _, err := os.CreateTemp("", "x"); err == nil {
		t.Skip("temporary files still possible")
	}
	s := newSetup(t, false, fixedClock)
	fs := hunt.FindingList(manyFindings(50))
	if _, err := s.n.Digest(context.Background(), runCommandHunt(), fs); err != nil {
		t.Fatal(err)
	}
	if ups := s.fs.Uploads(); len(ups) != 1 || !bytes.Equal(ups[0].Content, CSV(fs)) {
		t.Errorf("uploads %d", len(ups))
	}
}

// TestBuildAlertTruncated: the row-limit alert names the rows, the limit, the window and what to do.
func TestBuildAlertTruncated(t *testing.T) {
	w := hunt.Window{Start: testTime.Add(-24 * time.Hour), End: testTime}
	m, err := BuildAlert(runCommandHunt(), hunt.Alert{Kind: hunt.AlertTruncated, Rows: 123456, MaxRows: 100000, Window: w})
	if err != nil {
		t.Fatal(err)
	}
	checkMessage(t, m)
	body := textObjects(t, m)[0].text
	for _, want := range []string{"answered 123,456 rows; huntwatch processed the first 100,000* (HUNT_MAX_ROWS)", "The other 23,456 rows were not checked", "raise HUNT_MAX_ROWS", "<!date^"} {
		if !strings.Contains(body, want) {
			t.Errorf("alert %q lacks %q", body, want)
		}
	}
	if want := "Azure VM Run Command linked with MDE: 23,456 of 123,456 rows not processed (HUNT_MAX_ROWS 100,000)"; m.Text != want {
		t.Errorf("text %q, want %q", m.Text, want)
	}
}

// streamed is a flood of n findings (see manyFinding) that builds each finding as All yields it,
// as the Runner reads a flood back from its temporary file: nothing holds them all. When
// failPass is set, reading finding failAt (from 0) of that pass (from 1) fails with errTorn and
// ends All. each, when set, is called with each finding's index before it is yielded.
type streamed struct {
	n                int
	failPass, failAt int
	each             func(i int)
	passes           int
	err              error
}

var errTorn = errors.New("findings file: unexpected EOF")

func (s *streamed) Len() int   { return s.n }
func (s *streamed) Err() error { return s.err }

func (s *streamed) All() iter.Seq[*hunt.Finding] {
	return func(yield func(*hunt.Finding) bool) {
		s.passes++
		for i := range s.n {
			if s.passes == s.failPass && i == s.failAt {
				s.err = errTorn
				return
			}
			if s.each != nil {
				s.each(i)
			}
			if !yield(manyFinding(i)) {
				return
			}
		}
	}
}

// TestDigestStreamed: a digest of 20,000 findings read afresh on each pass counts them all in
// its tallies and uploads every one of them, exactly as a digest of the same findings in memory.
func TestDigestStreamed(t *testing.T) {
	const n = 20_000
	s := newSetup(t, false, nil)
	h := runCommandHunt()
	ref, err := s.n.Digest(context.Background(), h, &streamed{n: n})
	if err != nil {
		t.Fatal(err)
	}
	msgs := s.fs.Messages()
	if len(msgs) != 1 || ref.ID != msgs[0].TS || ref.Kind != hunt.KindDigest {
		t.Fatalf("ref %+v, messages %+v", ref, msgs)
	}
	texts := blockTexts(t, msgs[0].Blocks)
	for _, want := range []string{
		"20,000 new findings", "All 20,000 findings are attached as CSV",
		"*Host* (5 distinct)", "`vm-build-07 (rg-prod-web)` × 4,000", "*Account* (3 distinct)", "`alice.admin@contoso.com` × 6,667",
		"`svc-deploy@contoso.com` × 6,666", "*IP* (10,000+ distinct)", "_… and 9,990 more_", "_… and 19,997 more findings_",
	} {
		if !strings.Contains(texts, want) {
			t.Errorf("digest lacks %q:\n%s", want, texts)
		}
	}
	ups := s.fs.Uploads()
	if len(ups) != 1 {
		t.Fatalf("%d uploads", len(ups))
	}
	rows := readCSV(t, ups[0].Content)
	if len(rows) != n+1 {
		t.Fatalf("%d CSV rows, want a header and %d", len(rows), n)
	}
	if fp := rows[n][len(rows[n])-2]; fp != fmt.Sprintf("%064x", n) {
		t.Errorf("last row's fingerprint %s", fp)
	}
	inMemory := hunt.FindingList(manyFindings(n))
	if !bytes.Equal(ups[0].Content, CSV(inMemory)) {
		t.Errorf("the streamed CSV differs from the CSV of the findings in memory")
	}
	if !sameBlocks(t, BuildDigest(h, inMemory, BuildOptions{}), msgs[0].Blocks) {
		t.Errorf("the streamed digest differs from the digest of the findings in memory")
	}
}

// TestDigestUnreadable: findings that cannot be read while the digest is built fail it, and
// nothing is posted or printed; when they cannot be read while its CSV is written, the digest
// stands and its thread says the CSV is missing, as for a failed upload.
func TestDigestUnreadable(t *testing.T) {
	for _, test := range []struct {
		name             string
		failPass, failAt int
		posted           bool
	}{
		{"tallies", 1, 5000, false},
		{"findings shown", 2, 1, false},
		{"CSV columns", 3, 0, true},
		{"CSV rows", 4, 5000, true},
	} {
		t.Run(test.name, func(t *testing.T) {
			s := newSetup(t, false, nil)
			fs := &streamed{n: 10_000, failPass: test.failPass, failAt: test.failAt}
			ref, err := s.n.Digest(context.Background(), runCommandHunt(), fs)
			msgs := s.fs.Messages()
			if !test.posted {
				if !errors.Is(err, errTorn) || ref != (hunt.MessageRef{}) || len(s.fs.Calls()) != 0 {
					t.Errorf("got %+v, %v and %d calls; want errTorn and nothing sent", ref, err, len(s.fs.Calls()))
				}
				var out bytes.Buffer
				fs = &streamed{n: 10_000, failPass: test.failPass, failAt: test.failAt}
				if _, err := NewPrinter(&out).Digest(context.Background(), runCommandHunt(), fs); !errors.Is(err, errTorn) || out.Len() != 0 {
					t.Errorf("Printer: %v, printed %q", err, out.String())
				}
				return
			}
			if err != nil || ref.Kind != hunt.KindDigest || len(msgs) == 0 || msgs[0].TS != ref.ID {
				t.Fatalf("got %+v, %v; want the digest's ref and no error", ref, err)
			}
			note := "CSV upload failed: `findings unreadable`; the findings are in the store."
			if len(msgs) != 2 || msgs[1].ThreadTS != ref.ID || msgs[1].Text != note {
				t.Errorf("messages %+v, want %q in the digest's thread", msgs, note)
			}
			if len(s.fs.Uploads()) != 0 || !strings.Contains(s.logs.String(), "CSV could not be uploaded") || !strings.Contains(s.logs.String(), errTorn.Error()) {
				t.Errorf("%d uploads; logs:\n%s", len(s.fs.Uploads()), s.logs)
			}
		})
	}
}

// TestDigestMemory: building the digest of 100,000 findings and writing their CSV keeps what the
// digest shows and its tallies (bounded by the distinct values), not the findings: the live heap,
// sampled while the findings are read, grows by less than a tenth of what holding them all takes.
func TestDigestMemory(t *testing.T) {
	const n, sample = 100_000, 1000
	liveHeap := func() int64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return int64(ms.HeapAlloc)
	}
	base := liveHeap()
	some := manyFindings(sample)
	all := (liveHeap() - base) * n / sample
	runtime.KeepAlive(some)
	some = nil

	var peak int64
	fs := &streamed{n: n, each: func(i int) {
		if i%10_000 == 0 {
			peak = max(peak, liveHeap())
		}
	}}
	base = liveHeap()
	m := BuildDigest(runCommandHunt(), fs, BuildOptions{})
	if err := WriteCSV(io.Discard, fs); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(m.Text, "100,000 new findings") {
		t.Errorf("text %q", m.Text)
	}
	grew := peak - base
	t.Logf("%d findings: %.1f MB held at most while reading them %d times; holding them all takes %.1f MB", n, float64(grew)/1e6, fs.passes, float64(all)/1e6)
	if grew > all/10 {
		t.Errorf("the live heap grew by %d bytes, holding the findings takes %d", grew, all)
	}
}
