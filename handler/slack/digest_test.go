package slack

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/huntwatch/huntwatch/handler/hunt"
	"github.com/huntwatch/huntwatch/handler/internal/fakeslack"
)

// readCSV parses a digest's CSV as any CSV reader would.
func readCSV(t *testing.T, data []byte) [][]string {
	t.Helper()
	if !bytes.HasSuffix(data, []byte("\r\n")) {
		t.Errorf("CSV does not end with CRLF")
	}
	rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatalf("CSV does not parse: %v", err)
	}
	return rows
}

// fixedClock makes the notifier's clock stand still, so every paced post asks for a full
// MinInterval wait, which the waits recorder keeps.
func fixedClock(o *Options) {
	now := testTime.Add(48 * time.Hour)
	o.MinInterval = time.Second
	o.Now = func() time.Time { return now }
}

// TestDigest500: a flood of 500 findings is one message and one CSV upload in its thread, with
// one row per finding, paced and within Slack's limits.
func TestDigest500(t *testing.T) {
	s := newSetup(t, false, fixedClock)
	h, fs := runCommandHunt(), manyFindings(500)
	ref, err := s.n.Digest(context.Background(), h, hunt.FindingList(fs))
	if err != nil {
		t.Fatal(err)
	}
	msgs := s.fs.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages, want 1", len(msgs))
	}
	if ref.Kind != hunt.KindDigest || ref.ID != msgs[0].TS || ref.Where != fakeslack.DefaultChannel {
		t.Errorf("ref %+v, message ts %s", ref, msgs[0].TS)
	}
	if code, detail := fakeslack.Check(msgs[0].Blocks); code != "" {
		t.Errorf("digest over the limits: %s %s", code, detail)
	}
	for _, want := range []string{"500 new findings", "All 500 findings are attached as CSV in the thread", "vm-web-01", "× 100"} {
		if !strings.Contains(blockTexts(t, msgs[0].Blocks), want) {
			t.Errorf("digest lacks %q", want)
		}
	}
	ups := s.fs.Uploads()
	if len(ups) != 1 {
		t.Fatalf("%d uploads, want 1", len(ups))
	}
	up := ups[0]
	if up.Channel != fakeslack.DefaultChannel || up.ThreadTS != msgs[0].TS {
		t.Errorf("upload in channel %q thread %q, want the digest's thread %q", up.Channel, up.ThreadTS, msgs[0].TS)
	}
	if want := "55fbc363-6cc9-4201-bd68-d980b612082b-20250316T092653.csv"; up.Filename != want {
		t.Errorf("file name %q, want %q", up.Filename, want)
	}
	rows := readCSV(t, up.Content)
	if len(rows) != 501 {
		t.Fatalf("%d CSV rows, want a header and 500", len(rows))
	}
	header := rows[0]
	if header[0] != "TimeGenerated" || header[len(header)-2] != "Fingerprint" || header[len(header)-1] != "Occurrence" {
		t.Errorf("header %q", header)
	}
	seen := map[string]bool{}
	for i, row := range rows[1:] {
		if len(row) != len(header) {
			t.Fatalf("row %d has %d cells, header %d", i, len(row), len(header))
		}
		seen[row[len(row)-2]] = true
	}
	if len(seen) != 500 {
		t.Errorf("%d distinct fingerprints in the CSV, want 500", len(seen))
	}
	var methods []string
	for _, c := range s.fs.Calls() {
		methods = append(methods, c.Method)
	}
	if want := "chat.postMessage files.getUploadURLExternal upload files.completeUploadExternal"; strings.Join(methods, " ") != want {
		t.Errorf("calls %v, want %s", methods, want)
	}
	if w := s.w.got(); len(w) != 1 || w[0] != time.Second {
		t.Errorf("waited %v, want one MinInterval between the digest and the upload", w)
	}
}

func TestDigestWebhook(t *testing.T) {
	s := newSetup(t, true, nil)
	ref, err := s.n.Digest(context.Background(), runCommandHunt(), hunt.FindingList(manyFindings(500)))
	if err != nil {
		t.Fatal(err)
	}
	if ref.Where != "webhook" || ref.Kind != hunt.KindDigest {
		t.Errorf("ref %+v", ref)
	}
	msgs := s.fs.Messages()
	if len(msgs) != 1 || len(s.fs.Uploads()) != 0 {
		t.Fatalf("%d messages and %d uploads, want the digest alone", len(msgs), len(s.fs.Uploads()))
	}
	blocks := blockTexts(t, msgs[0].Blocks)
	for _, want := range []string{"Webhooks cannot attach files", "bot token", "*1.* ", "*20.* ", "more findings not shown"} {
		if !strings.Contains(blocks, want) {
			t.Errorf("webhook digest lacks %q", want)
		}
	}
}

// TestDigestUpload: the CSV upload is retried; when it keeps failing, the digest still counts
// as delivered and its thread says the CSV is missing.
func TestDigestUpload(t *testing.T) {
	for _, test := range []struct {
		name    string
		fault   func(*fakeslack.Server)
		uploads int
		note    string // the reply in the digest's thread, if any
		tries   int    // files.getUploadURLExternal calls
	}{
		{"upload step fails once", func(s *fakeslack.Server) { s.FailNextOn("upload", 1, http.StatusBadGateway) }, 1, "", 2},
		{"complete fails once", func(s *fakeslack.Server) { s.FailNextOn("files.completeUploadExternal", 1, 503) }, 1, "", 2},
		{"complete keeps failing", func(s *fakeslack.Server) { s.FailNextOn("files.completeUploadExternal", 100, 503) }, 0, "CSV upload failed: `HTTP 503`", 3},
		{"unknown code retried", func(s *fakeslack.Server) { s.ErrorNextOn("files.completeUploadExternal", 100, "file_not_found") }, 0, "CSV upload failed: `file_not_found`", 3},
		{"missing scope not retried", func(s *fakeslack.Server) { s.ErrorNextOn("files.getUploadURLExternal", 100, "missing_scope") }, 0, "CSV upload failed: `missing_scope`; the findings are in the store.", 1},
	} {
		t.Run(test.name, func(t *testing.T) {
			s := newSetup(t, false, nil)
			test.fault(s.fs)
			ref, err := s.n.Digest(context.Background(), runCommandHunt(), hunt.FindingList(manyFindings(20)))
			if err != nil {
				t.Fatalf("Digest: %v, want no error once the digest is posted", err)
			}
			msgs := s.fs.Messages()
			if ref.Kind != hunt.KindDigest || len(msgs) == 0 || msgs[0].TS != ref.ID {
				t.Fatalf("ref %+v, messages %+v", ref, msgs)
			}
			if len(s.fs.Uploads()) != test.uploads {
				t.Errorf("%d uploads, want %d", len(s.fs.Uploads()), test.uploads)
			}
			tries := 0
			for _, c := range s.fs.Calls() {
				if c.Method == "files.getUploadURLExternal" {
					tries++
				}
			}
			if tries != test.tries {
				t.Errorf("%d upload attempts, want %d", tries, test.tries)
			}
			if test.note == "" {
				if len(msgs) != 1 {
					t.Errorf("%d messages, want the digest alone", len(msgs))
				}
				return
			}
			if len(msgs) != 2 || msgs[1].ThreadTS != msgs[0].TS || !strings.Contains(msgs[1].Text, test.note) {
				t.Errorf("messages %+v, want a reply %q in the digest's thread", msgs, test.note)
			}
			if !strings.Contains(s.logs.String(), "CSV could not be uploaded") {
				t.Errorf("no warning logged:\n%s", s.logs)
			}
		})
	}
}

func TestDigestErrors(t *testing.T) {
	s := newSetup(t, false, nil)
	s.fs.ErrorNext(1, "not_in_channel")
	ref, err := s.n.Digest(context.Background(), runCommandHunt(), hunt.FindingList(manyFindings(20)))
	if !errors.Is(err, hunt.ErrUnavailable) || ref != (hunt.MessageRef{}) {
		t.Errorf("got %+v, %v; want ErrUnavailable and no ref", ref, err)
	}
	if len(s.fs.Uploads()) != 0 {
		t.Errorf("uploaded without a digest")
	}

	// Blocks refused: the plain-text digest is posted, and the CSV still goes in its thread.
	s = newSetup(t, false, nil)
	s.fs.RefuseIf("invalid_blocks", func(m fakeslack.Message) bool { return m.Blocks != nil })
	ref, err = s.n.Digest(context.Background(), runCommandHunt(), hunt.FindingList(manyFindings(20)))
	if err != nil {
		t.Fatal(err)
	}
	msgs := s.fs.Messages()
	if len(msgs) != 1 || msgs[0].Blocks != nil || !strings.Contains(msgs[0].Text, "20 new findings") || !strings.Contains(msgs[0].Text, "invalid_blocks") {
		t.Errorf("messages %+v", msgs)
	}
	if ups := s.fs.Uploads(); len(ups) != 1 || ups[0].ThreadTS != ref.ID {
		t.Errorf("uploads %+v, ref %+v", ups, ref)
	}
}

// TestDigestHostile: data that tries markup, mentions or spreadsheet formulas stays inert in the
// digest and in its CSV.
func TestDigestHostile(t *testing.T) {
	for _, test := range hostile {
		t.Run(test.name, func(t *testing.T) {
			h, f := everywhere(test.in)
			fs := hunt.FindingList{f, f, f, f}
			for _, inline := range []bool{false, true} {
				checkMessage(t, BuildDigest(h, fs, BuildOptions{Inline: inline}))
			}
			checkEscaped(t, "minimal digest", DigestMinimal(h, fs, test.in, false))
			rows := readCSV(t, CSV(fs))
			if len(rows) != 5 {
				t.Fatalf("%d rows", len(rows))
			}
		})
	}
	formulas := []string{"=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1:A9)", "\t=1", "\r=1", "=HYPERLINK(\"http://evil\",\"x\")"}
	f := &hunt.Finding{Fingerprint: "=fp", Occurrence: "@occ"}
	for i, v := range formulas {
		f.Fields = append(f.Fields, hunt.Field{Name: fmt.Sprintf("c%d", i), Text: v})
	}
	f.Fields = append(f.Fields,
		hunt.Field{Name: "=Name", Text: "a,b"},
		hunt.Field{Name: "quoted", Text: "say \"hi\"\nnext line"},
		hunt.Field{Name: "list", List: []string{"=1", "two; three", "x"}},
		hunt.Field{Name: "mention", Text: "<!channel> \u202Eexe.txt\x00"},
	)
	rows := readCSV(t, CSV(hunt.FindingList{f}))
	if len(rows) != 2 {
		t.Fatalf("%d rows", len(rows))
	}
	header, row := rows[0], rows[1]
	for i, v := range formulas {
		if want := "'" + clean(v); row[i] != want {
			t.Errorf("cell %q, want %q", row[i], want)
		}
	}
	for i, c := range append(append([]string(nil), header...), row...) {
		if c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
			t.Errorf("cell %d %q starts a formula", i, c)
		}
	}
	n := len(formulas)
	for _, want := range []struct{ got, want string }{
		{header[n], "'=Name"}, {row[n], "a,b"}, {row[n+1], "say \"hi\"\nnext line"},
		{row[n+2], "'=1; two; three; x"}, {row[n+3], "<!channel> \uFFFDexe.txt"},
		{row[n+4], "'=fp"}, {row[n+5], "'@occ"},
	} {
		if want.got != want.want {
			t.Errorf("cell %q, want %q", want.got, want.want)
		}
	}
}

func TestCSVColumns(t *testing.T) {
	fs := hunt.FindingList{
		{Fingerprint: "f1", Occurrence: "o1", Fields: []hunt.Field{{Name: "A", Text: "1"}, {Name: "B", Text: "2"}}},
		nil,
		{Fingerprint: "f2", Occurrence: "o2", Fields: []hunt.Field{{Name: "C", Text: "3"}, {Name: "A", Text: "4"}, {Name: "Fingerprint", Text: "theirs"}}},
	}
	rows := readCSV(t, CSV(fs))
	want := [][]string{
		{"A", "B", "C", "Fingerprint", "Fingerprint (huntwatch)", "Occurrence"},
		{"1", "2", "", "", "f1", "o1"},
		{"4", "", "3", "theirs", "f2", "o2"},
	}
	if fmt.Sprint(rows) != fmt.Sprint(want) {
		t.Errorf("CSV\n%q\nwant\n%q", rows, want)
	}
	if got := string(CSV(hunt.FindingList(nil))); got != "Fingerprint,Occurrence\r\n" {
		t.Errorf("CSV(nil) = %q", got)
	}
}

func TestCSVName(t *testing.T) {
	at := time.Date(2025, 3, 14, 9, 26, 53, 0, time.FixedZone("x", 3600))
	for _, test := range []struct{ id, want string }{
		{"55fbc363-6cc9", "55fbc363-6cc9-20250314T082653.csv"},
		{"", "huntwatch-20250314T082653.csv"},
		{"../../etc/passwd", "etc-passwd-20250314T082653.csv"},
		{"a b/c\x00é", "a-b-c-20250314T082653.csv"},
	} {
		if got := csvName(&hunt.Hunt{ID: test.id}, at); got != test.want {
			t.Errorf("csvName(%q) = %q, want %q", test.id, got, test.want)
		}
	}
}

// TestBuildDigestLimits builds digests of extreme findings and checks each against Slack's limits.
func TestBuildDigestLimits(t *testing.T) {
	big := strings.Repeat("&<>`*", 2000)
	huge := func() []*hunt.Finding {
		fs := manyFindings(50)
		for _, f := range fs {
			for i := range f.Fields {
				if f.Fields[i].List == nil {
					f.Fields[i].Text = big + f.Fingerprint
				} else {
					f.Fields[i].List = repeat(3000, func(int) string { return big[:500] })
				}
			}
			f.Fingerprint, f.Occurrence = big, big
		}
		return fs
	}
	for _, test := range []struct {
		name string
		h    func() *hunt.Hunt
		fs   func() []*hunt.Finding
	}{
		{"none", runCommandHunt, func() []*hunt.Finding { return nil }},
		{"one", runCommandHunt, func() []*hunt.Finding { return manyFindings(1) }},
		{"5,000", runCommandHunt, func() []*hunt.Finding { return manyFindings(5000) }},
		{"huge values", runCommandHunt, huge},
		{"many list columns", runCommandHunt, func() []*hunt.Finding {
			fs := manyFindings(5)
			for _, f := range fs {
				for i := range 60 {
					f.Fields = append(f.Fields, hunt.Field{Name: fmt.Sprintf("List%d", i), List: repeat(100, func(int) string { return "item" })})
				}
			}
			return fs
		}},
		{"40 entity mappings", func() *hunt.Hunt {
			h := runCommandHunt()
			for i := range 40 {
				h.Entities = append(h.Entities, hunt.EntityMapping{EntityType: "Account", FieldMappings: []hunt.FieldMapping{{Identifier: "Name", ColumnName: fmt.Sprintf("E%d", i)}}})
			}
			return h
		}, func() []*hunt.Finding {
			fs := manyFindings(300)
			for j, f := range fs {
				for i := range 40 {
					f.Fields = append(f.Fields, hunt.Field{Name: fmt.Sprintf("E%d", i), Text: fmt.Sprintf("%s%d", strings.Repeat("<&>", 40), j)})
				}
			}
			return fs
		}},
	} {
		for _, inline := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/inline=%v", test.name, inline), func(t *testing.T) {
				fs := test.fs()
				m := BuildDigest(test.h(), hunt.FindingList(fs), BuildOptions{Inline: inline, WorkspaceResourceID: testWorkspace})
				checkMessage(t, m)
				if len(fs) > 0 && !strings.Contains(m.Text, count(len(fs))) {
					t.Errorf("text %q does not count %d findings", m.Text, len(fs))
				}
			})
		}
	}
}

// TestDigestPayload: the digest's payload is what fakeslack received.
func TestDigestPayload(t *testing.T) {
	s := newSetup(t, false, nil)
	h, fs := runCommandHunt(), hunt.FindingList(manyFindings(30))
	if _, err := s.n.Digest(context.Background(), h, fs); err != nil {
		t.Fatal(err)
	}
	if !sameBlocks(t, BuildDigest(h, fs, BuildOptions{}), s.fs.Messages()[0].Blocks) {
		t.Errorf("sent blocks differ from BuildDigest's")
	}
}

// sameBlocks reports whether Slack received m's blocks as sent.
func sameBlocks(t *testing.T, m Message, sent json.RawMessage) bool {
	t.Helper()
	js, err := JSON(m)
	if err != nil {
		t.Fatal(err)
	}
	var want struct{ Blocks json.RawMessage }
	if err := json.Unmarshal(js, &want); err != nil {
		t.Fatal(err)
	}
	var a, b any
	json.Unmarshal(want.Blocks, &a)
	json.Unmarshal(sent, &b)
	return fmt.Sprint(a) == fmt.Sprint(b)
}
