package fakeazure

import (
	"bytes"
	"encoding/json"
	"slices"
	"testing"
)

// The answer written row by row is the document encoding/json writes whole, with or without a
// partial-results error, from Rows, from Stream, or from both.
func TestWriteAnswerIsEncodingJSONs(t *testing.T) {
	cols := []Column{{Name: "TimeGenerated", Type: "datetime"}, {Name: "N", Type: "long"}, {Name: "D", Type: "dynamic"}}
	rows := [][]any{{"2026-11-27T13:00:00Z", 1, `{"a":"<b>"}`}, {nil, 2.5, "[1,2]"}, {"x", -3, ""}}
	partial := map[string]any{"code": "PartialError", "message": "m"}
	for _, c := range []struct {
		name  string
		table Table
		err   map[string]any
	}{
		{"rows", Table{Columns: cols, Rows: rows}, nil},
		{"stream", Table{Columns: cols, Stream: slices.Values(rows)}, nil},
		{"rows then stream", Table{Columns: cols, Rows: rows[:1], Stream: slices.Values(rows[1:])}, partial},
		{"empty", Table{Columns: cols}, nil},
		{"nothing", Table{}, partial},
	} {
		t.Run(c.name, func(t *testing.T) {
			want := map[string]any{"tables": []any{map[string]any{"name": "PrimaryResult", "columns": c.table.Columns, "rows": rowsOf(c.table)}}}
			if c.err != nil {
				want["error"] = c.err
			}
			var wb, got bytes.Buffer
			json.NewEncoder(&wb).Encode(want)
			writeAnswer(&got, c.table, c.err)
			if got.String() != wb.String() {
				t.Errorf("writeAnswer:\n%s\nencoding/json:\n%s", &got, &wb)
			}
		})
	}
}

func rowsOf(t Table) [][]any {
	all := slices.Clone(t.Rows)
	if t.Stream != nil {
		all = slices.AppendSeq(all, t.Stream)
	}
	if all == nil {
		return [][]any{}
	}
	return all
}
