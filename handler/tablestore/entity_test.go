package tablestore

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/huntwatch/huntwatch/handler/hunt"
)

func TestChunk(t *testing.T) {
	for _, test := range []struct {
		name  string
		in    string
		units int
		want  []int // UTF-16 units of each chunk
	}{
		{"empty", "", 4, nil},
		{"fits", "abcd", 4, []int{4}},
		{"ascii", "abcdefghij", 4, []int{4, 4, 2}},
		{"two-byte runes", "üüüüü", 4, []int{4, 1}},
		{"surrogate pair never split", "a🔥🔥", 4, []int{3, 2}},
		{"property sized", strings.Repeat("x", 70_000), chunkUnits, []int{chunkUnits, chunkUnits, 10_000}},
		{"emoji property sized", strings.Repeat("🔥", 20_000), chunkUnits, []int{chunkUnits, 10_000}},
	} {
		t.Run(test.name, func(t *testing.T) {
			got := chunk(test.in, test.units)
			var units []int
			for _, c := range got {
				units = append(units, utf16Len(c))
				if !utf8.ValidString(c) {
					t.Errorf("chunk %.20q is not valid UTF-8", c)
				}
			}
			if fmt.Sprint(units) != fmt.Sprint(test.want) {
				t.Errorf("chunk sizes %v, want %v", units, test.want)
			}
			if strings.Join(got, "") != test.in {
				t.Error("chunks do not join back to the input")
			}
		})
	}
	// Invalid UTF-8 bytes survive the split.
	bad := strings.Repeat("a\xff", 10)
	if strings.Join(chunk(bad, 3), "") != bad {
		t.Error("invalid UTF-8 not kept")
	}
}

func TestStringProperties(t *testing.T) {
	for _, n := range []int{0, 1, chunkUnits, chunkUnits + 1, 3*chunkUnits + 7} {
		s := strings.Repeat("ü", n)
		e := entity{}
		putString(e, "P", s)
		got, ok := e.getString("P")
		if got != s || ok != (n > 0) {
			t.Errorf("%d runes: got %d runes, ok %v", n, utf8.RuneCountInString(got), ok)
		}
		for name, v := range e {
			if u := utf16Len(v.(string)); u > 32<<10 {
				t.Errorf("%d runes: property %s holds %d code units", n, name, u)
			}
		}
		if want := (n + chunkUnits - 1) / chunkUnits; n > chunkUnits && len(e) != want {
			t.Errorf("%d runes: %d properties, want %d", n, len(e), want)
		}
	}
}

func TestEntitySize(t *testing.T) {
	// Table Storage's formula: 4 + 2·len(PK+RK) + Σ(8 + 2·len(name) + value), string value 4 + 2·len, Int64 8.
	e := entity{"PartitionKey": "pk", "RowKey": "rk", "S": "ab🔥"}
	putInt(e, "N", 5)
	want := 4 + 2*4 + (8 + 2 + 4 + 2*4) + (8 + 2 + 8)
	if got := e.size(); got != want {
		t.Errorf("size = %d, want %d", got, want)
	}
	if got := e.properties(); got != 2 {
		t.Errorf("properties = %d, want 2", got)
	}
}

func bigFinding(fp string) *hunt.Finding {
	f := &hunt.Finding{Fingerprint: fp, Occurrence: "occ", Time: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)}
	text := strings.Repeat("x", 8<<10)
	for i := range 250 { // 2 MB
		f.Fields = append(f.Fields, hunt.Field{Name: fmt.Sprintf("F%d", i), Text: text})
	}
	list := make([]string, 2000)
	for i := range list {
		list[i] = strings.Repeat("l", 100)
	}
	f.Fields = append(f.Fields, hunt.Field{Name: "L", List: list})
	return f
}

func TestRecordEntityLimits(t *testing.T) {
	recent := make([]string, hunt.MaxRecent)
	for i := range recent {
		recent[i] = fmt.Sprintf("%d-%s", i, strings.Repeat("r", 8<<10)) // 400 KB of occurrence ids
	}
	for _, test := range []struct {
		name string
		rec  *hunt.Record
	}{
		{"2 MB finding", &hunt.Record{Fingerprint: "fp", State: hunt.Pending, Finding: bigFinding("fp")}},
		{"2 MB finding, long recent", &hunt.Record{Fingerprint: "fp", Recent: recent, Finding: bigFinding("fp")}},
		{"2 MB finding, 70 KB fingerprint", &hunt.Record{Fingerprint: strings.Repeat("f", 70_000), Finding: bigFinding("fp")}},
		{"many fields", &hunt.Record{Fingerprint: "fp", Finding: manyFields(100_000)}},
		{"2 MB error", &hunt.Record{Fingerprint: "fp", LastError: strings.Repeat("e", 2<<20)}},
	} {
		t.Run(test.name, func(t *testing.T) {
			e, err := recordEntity("pk", test.rec)
			if err != nil {
				t.Fatal(err)
			}
			if e.size() > maxEntitySize || e.properties() > maxProperties {
				t.Errorf("entity: %d bytes, %d properties; limits %d, %d", e.size(), e.properties(), maxEntitySize, maxProperties)
			}
			for name, v := range e {
				if s, ok := v.(string); ok && utf16Len(s) > 32<<10 {
					t.Errorf("property %s: %d code units", name, utf16Len(s))
				}
			}
			// What a service would return.
			b, _ := json.Marshal(e)
			var back entity
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatal(err)
			}
			back[etagProperty] = "W/\"x\""
			rec, err := decodeRecord(back)
			if err != nil {
				t.Fatal(err)
			}
			if rec.Fingerprint != test.rec.Fingerprint || rec.Version != "W/\"x\"" {
				t.Errorf("decoded fingerprint %.20q version %q", rec.Fingerprint, rec.Version)
			}
			if test.rec.Finding != nil {
				f := rec.Finding
				if f == nil || f.Fingerprint != test.rec.Finding.Fingerprint || !f.Time.Equal(test.rec.Finding.Time) || len(f.Fields) == 0 {
					t.Fatalf("finding header lost: %+v", f)
				}
				if !strings.Contains(string(b), truncated) {
					t.Error("no visible truncation marker")
				}
			}
			if len(test.rec.Recent) > 0 && (len(rec.Recent) == 0 || rec.Recent[len(rec.Recent)-1] != test.rec.Recent[len(test.rec.Recent)-1]) {
				t.Errorf("the newest occurrence id was dropped")
			}
		})
	}
}

func manyFields(n int) *hunt.Finding {
	f := &hunt.Finding{Fingerprint: "fp"}
	for i := range n {
		f.Fields = append(f.Fields, hunt.Field{Name: fmt.Sprintf("column-%06d", i)})
	}
	return f
}

func TestShrinkFindingKeepsSmallOnesWhole(t *testing.T) {
	f := &hunt.Finding{Fingerprint: "fp", Fields: []hunt.Field{{Name: "a", Text: "b", List: []string{"c"}}}}
	js, ok := shrinkFinding(f, maxEntitySize, maxProperties)
	want, _ := json.Marshal(f)
	if !ok || js != string(want) {
		t.Errorf("shrinkFinding = %s, %v; want %s", js, ok, want)
	}
}

// TestDecodeLegacyMessage: records written before the message reference was neutral kept a Slack
// channel and timestamp, a digest's timestamp prefixed with "digest:"; they still read right.
func TestDecodeLegacyMessage(t *testing.T) {
	for _, test := range []struct {
		channel, ts string
		want        hunt.MessageRef
	}{
		{"C0HUNT", "1700000000.000100", hunt.MessageRef{Where: "C0HUNT", ID: "1700000000.000100"}},
		{"C0HUNT", "digest:1700000000.000200", hunt.MessageRef{Where: "C0HUNT", ID: "1700000000.000200", Kind: hunt.KindDigest}},
		{"", "", hunt.MessageRef{}},
	} {
		rec := &hunt.Record{Fingerprint: "fp", State: hunt.Delivered, Occurrences: 1}
		e, err := recordEntity("pk", rec)
		if err != nil {
			t.Fatal(err)
		}
		// As the previous version wrote it: no MessageWhere/MessageID/MessageKind.
		delete(e, pWhere)
		delete(e, pMessageID)
		delete(e, pKind)
		if test.channel != "" {
			e[pChannel], e[pTS] = test.channel, test.ts
		}
		got, err := decodeRecord(e)
		if err != nil {
			t.Fatal(err)
		}
		if got.Message != test.want {
			t.Errorf("legacy %q/%q read as %+v, want %+v", test.channel, test.ts, got.Message, test.want)
		}
	}
	// Today's form round-trips, the kind included.
	rec := &hunt.Record{Fingerprint: "fp", State: hunt.Delivered, Message: hunt.MessageRef{Where: "C1", ID: "17.1", Kind: hunt.KindDigest}}
	e, err := recordEntity("pk", rec)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := decodeRecord(e); err != nil || got.Message != rec.Message {
		t.Errorf("round trip: %+v, %v", got.Message, err)
	}
}
