package hunt_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/huntwatch/huntwatch/handler/hunt"
)

func TestFindings(t *testing.T) {
	entity := []hunt.EntityMapping{{EntityType: "Account", FieldMappings: []hunt.FieldMapping{{Identifier: "FullName", ColumnName: "Caller"}}}}
	base := []hunt.Column{{"TimeGenerated", "datetime"}, {"Caller", "string"}, {"Cmds", "dynamic"}}
	row := []any{t0, "alice", []any{"a", "b"}}
	for _, test := range []struct {
		name      string
		hunt      hunt.Hunt
		cols      []hunt.Column
		row       []any
		wantFP    string // "" = compare with wantSame
		wantOcc   string
		wantErr   string
		sameFPAs  []any // another row whose fingerprint must equal this one's
		otherFPAs []any // another row whose fingerprint must differ
	}{
		{name: "fingerprint column named by the hunt", hunt: hunt.Hunt{Fingerprint: "FP", Occurrence: "Run"},
			cols: []hunt.Column{{"FP", "string"}, {"Run", "string"}}, row: []any{"abc", "r1"}, wantFP: "abc", wantOcc: "r1"},
		{name: "ScriptFingerprintHash and CorrelationId by default",
			cols: []hunt.Column{{"ScriptFingerprintHash", "string"}, {"CorrelationId", "string"}}, row: []any{"h", "c"}, wantFP: "h", wantOcc: "c"},
		{name: "hash of entity columns", hunt: hunt.Hunt{Entities: entity}, cols: base, row: row,
			sameFPAs: []any{t0.Add(time.Hour), "alice", []any{"x"}}, otherFPAs: []any{t0, "bob", []any{"a", "b"}}},
		{name: "entity hash is unambiguous", hunt: hunt.Hunt{Entities: []hunt.EntityMapping{{EntityType: "X", FieldMappings: []hunt.FieldMapping{{"A", "A"}, {"B", "B"}}}}},
			cols: []hunt.Column{{"A", "string"}, {"B", "string"}}, row: []any{"ab", "c"}, otherFPAs: []any{"a", "bc"}},
		{name: "missing named fingerprint column", hunt: hunt.Hunt{Fingerprint: "FP"}, cols: base, row: row, wantErr: `no column "FP"`},
		{name: "missing entity column", hunt: hunt.Hunt{Entities: []hunt.EntityMapping{{EntityType: "IP", FieldMappings: []hunt.FieldMapping{{"Address", "IPCustomEntity"}}}}},
			cols: base, row: row, wantErr: `no column "IPCustomEntity" (named by entityMappings)`},
		{name: "no entities: the row without its times", cols: base, row: row,
			sameFPAs: []any{t0.Add(time.Hour), "alice", []any{"a", "b"}}, otherFPAs: []any{t0, "alice", []any{"a"}}},
		{name: "no entities: a time-typed column of another name is left out too",
			cols: []hunt.Column{{"Caller", "string"}, {"FirstSeen", "datetime"}, {"Count", "long"}}, row: []any{"alice", t0, int64(3)},
			sameFPAs: []any{"alice", t0.Add(48 * time.Hour), int64(3)}, otherFPAs: []any{"alice", t0, int64(4)}},
		{name: "no entities: a time written as text is a value like any other",
			cols: []hunt.Column{{"Caller", "string"}, {"When", "string"}}, row: []any{"alice", "2026-11-20T10:00:00Z"},
			otherFPAs: []any{"alice", "2026-11-20T11:00:00Z"}},
		{name: "short row", hunt: hunt.Hunt{Entities: entity}, cols: base, row: []any{t0}, wantErr: "has 1 values for 3 columns"},
	} {
		t.Run(test.name, func(t *testing.T) {
			h := test.hunt
			h.Name = "x"
			rows := [][]any{test.row}
			for _, r := range [][]any{test.sameFPAs, test.otherFPAs} {
				if r != nil {
					rows = append(rows, r)
				}
			}
			fs, err := hunt.Findings(&h, &hunt.Result{Columns: test.cols, Rows: rows})
			if test.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), test.wantErr) {
					t.Fatalf("err %v, want %q", err, test.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			f := fs[0]
			if test.wantFP != "" && f.Fingerprint != test.wantFP {
				t.Errorf("fingerprint %q, want %q", f.Fingerprint, test.wantFP)
			}
			if test.wantOcc != "" && f.Occurrence != test.wantOcc {
				t.Errorf("occurrence %q, want %q", f.Occurrence, test.wantOcc)
			}
			if f.Fingerprint == "" || f.Occurrence == "" {
				t.Errorf("empty identity %+v", f)
			}
			if test.sameFPAs != nil && fs[1].Fingerprint != f.Fingerprint {
				t.Error("fingerprint depends on columns it should leave out")
			}
			if test.sameFPAs != nil && fs[1].Occurrence == f.Occurrence {
				t.Error("two rows of different times share an occurrence")
			}
			if test.otherFPAs != nil && fs[len(fs)-1].Fingerprint == f.Fingerprint {
				t.Error("different entities share a fingerprint")
			}
		})
	}
}

func TestFindingFields(t *testing.T) {
	h := &hunt.Hunt{Name: "x", Fingerprint: "FP"}
	cols := []hunt.Column{{"FP", "string"}, {"T", "datetime"}, {"N", "long"}, {"R", "real"}, {"D", "dynamic"}, {"J", "dynamic"}, {"Big", "string"}, {"Null", "string"}}
	big := strings.Repeat("é", 10000)
	fs, err := hunt.Findings(h, &hunt.Result{Columns: cols, Rows: [][]any{{"fp", t0, int64(42), 1.5, `["x","y"]`, map[string]any{"k": "v"}, big, nil}}})
	if err != nil {
		t.Fatal(err)
	}
	f := fs[0]
	for _, test := range []struct{ col, want string }{
		{"T", "2026-11-01T12:00:00Z"}, {"N", "42"}, {"R", "1.5"}, {"D", "[x, y]"}, {"J", `{"k":"v"}`}, {"Null", ""},
	} {
		if got := f.Value(test.col); got != test.want {
			t.Errorf("%s = %q, want %q", test.col, got, test.want)
		}
	}
	if d, _ := f.Field("D"); len(d.List) != 2 {
		t.Errorf("dynamic JSON text not read as a list: %+v", d)
	}
	b := f.Value("Big")
	if len(b) > 9000 || !strings.Contains(b, "more bytes]") || !strings.HasPrefix(b, "é") || strings.ContainsRune(b, '\uFFFD') {
		t.Errorf("big value not clipped at a rune boundary: %d bytes, ends %q", len(b), b[len(b)-20:])
	}
	if !f.Time.IsZero() {
		t.Error("Time set from a column not called TimeGenerated/StartTime/Timestamp")
	}
}

// A rule without entity mappings passes Check (validate) and its findings are fingerprinted by
// the row without its times.
func TestRuleWithoutEntitiesRuns(t *testing.T) {
	h, err := hunt.Load("../../testdata/hunts/pack/no-entities.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cols := []hunt.Column{{"TimeGenerated", "datetime"}, {"Caller", "string"}, {"VM", "string"}}
	err = hunt.Check(context.Background(), h, func(context.Context, string) ([]hunt.Column, error) { return cols, nil })
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	fs, err := hunt.Findings(h, &hunt.Result{Columns: cols, Rows: [][]any{
		{t0, "alice", "/vm/1"}, {t0.Add(time.Hour), "alice", "/vm/1"}, {t0, "alice", "/vm/2"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if fs[0].Fingerprint != fs[1].Fingerprint || fs[0].Fingerprint == fs[2].Fingerprint {
		t.Errorf("fingerprints %s %s %s: want the first two equal (same row, another time) and the third apart", fs[0].Fingerprint[:8], fs[1].Fingerprint[:8], fs[2].Fingerprint[:8])
	}
}
