package slack

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/huntwatch/huntwatch/handler/hunt"
)

// TestWriteCSVIsCSV: the streamed CSV is byte for byte the CSV, and a write error is returned.
func TestWriteCSVIsCSV(t *testing.T) {
	fs := manyFindings(300)
	fs = append(fs, nil)
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
	fs := manyFindings(2000)
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
	fs := manyFindings(50)
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
