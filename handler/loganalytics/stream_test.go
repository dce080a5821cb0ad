package loganalytics_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/huntwatch/huntwatch/handler/internal/fakeazure"
)

// A large answer is decoded as a stream, row by row, to the same values.
func TestQueryLargeAnswer(t *testing.T) {
	const n = 20_000
	big := fakeazure.Table{Columns: table.Columns}
	for i := range n {
		big.Rows = append(big.Rows, []any{"2026-11-01T12:00:00Z", fmt.Sprintf("user%d@contoso.com", i), i, float64(i) / 4, i%2 == 0,
			`["Get-Process","whoami"]`, fmt.Sprintf(`{"i":%d}`, i), "6f1b0c1e-0000-0000-0000-000000000001"})
	}
	la := fakeazure.NewLogAnalytics(t, token)
	la.SetTable(big)
	src, _ := newSource(t, la)
	res, err := src.Query(context.Background(), "T", window)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != n || res.Partial != nil {
		t.Fatalf("%d rows, partial %v", len(res.Rows), res.Partial)
	}
	for _, i := range []int{0, 1, n / 2, n - 1} {
		r := res.Rows[i]
		if r[1] != fmt.Sprintf("user%d@contoso.com", i) || r[2] != int64(i) || r[3] != float64(i)/4 || r[4] != (i%2 == 0) {
			t.Errorf("row %d: %#v", i, r)
		}
		if m, ok := r[6].(map[string]any); !ok || m["i"] != float64(i) {
			t.Errorf("row %d bag %#v", i, r[6])
		}
		if tm, ok := r[0].(time.Time); !ok || !tm.Equal(time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)) {
			t.Errorf("row %d time %#v", i, r[0])
		}
	}
}

func TestQueryAnswerShapes(t *testing.T) {
	const cols = `"columns":[{"name":"Name","type":"string"},{"name":"N","type":"long"},{"name":"D","type":"dynamic"}]`
	for _, test := range []struct {
		name, body string
		wantErr    string // "" = success
		rows       int
		partial    string // in Partial's text
		check      func(t *testing.T, rows [][]any)
	}{
		{name: "truncated mid-row", body: `{"tables":[{"name":"PrimaryResult",` + cols + `,"rows":[["a",1,null],["b",2`, wantErr: "ws-1"},
		{name: "truncated mid-string", body: `{"tables":[{"name":"PrimaryResult",` + cols + `,"rows":[["a",1,null],["caf\u00e9`, wantErr: "ws-1"},
		{name: "truncated after the tables", body: `{"tables":[{"name":"PrimaryResult",` + cols + `,"rows":[["a",1,null]]}]`, wantErr: "ws-1"},
		{name: "trailing data", body: `{"tables":[]} {}`, wantErr: "ws-1"},
		{name: "not an object", body: `[1,2]`, wantErr: "ws-1"},
		{name: "tables not an array", body: `{"tables":{}}`, wantErr: "ws-1"},
		{name: "row not an array", body: `{"tables":[{"name":"PrimaryResult",` + cols + `,"rows":[5]}]}`, wantErr: "ws-1"},
		{name: "short row", body: `{"tables":[{"name":"PrimaryResult",` + cols + `,"rows":[["a",1]]}]}`, wantErr: "result row 0 has 2 values for 3 columns"},
		{name: "wrong type in a later row", body: `{"tables":[{"name":"PrimaryResult",` + cols + `,"rows":[["a",1,null],["b",true,null]]}]}`, wantErr: "result row 1 column N"},
		{name: "column without a name", body: `{"tables":[{"name":"PrimaryResult","columns":[{"type":"long"}],"rows":[]}]}`, wantErr: "result column 0 has no name"},
		{name: "error without tables", body: `{"error":{"code":"BadQuery","message":"no such table"}}`, wantErr: "query failed"},
		{name: "null tables", body: `{"tables":null}`, wantErr: "no result table"},
		{name: "null table", body: `{"tables":[null]}`, wantErr: "no result table"},
		{name: "partial, error after the tables", rows: 1, partial: "EngineError",
			body: `{"tables":[{"name":"PrimaryResult",` + cols + `,"rows":[["a",1,null]]}],"error":{"code":"PartialError","details":[{"code":"EngineError"}]}}`},
		{name: "null error", rows: 1, body: `{"error":null,"tables":[{"name":"PrimaryResult",` + cols + `,"rows":[["a",1,null]]}]}`},
		{name: "unicode", rows: 2,
			body: "\ufeff" + `{"statistics":{"query":{"executionTime":0.1}},"tables":[{"name":"PrimaryResult",` + cols + `,"rows":[["caf\u00e9 \ud83d\ude00 ` + "日本語" + `",1,"[\"\u00fcber\",\"\\u00e9\"]"],["\"quoted\"\\\\",-2,"{\"k\":\"\u2028\"}"]]}],"render":{}}`,
			check: func(t *testing.T, rows [][]any) {
				if rows[0][0] != "café 😀 日本語" || rows[1][0] != `"quoted"\\` || rows[1][1] != int64(-2) {
					t.Errorf("strings %#v", rows)
				}
				if l, ok := rows[0][2].([]any); !ok || len(l) != 2 || l[0] != "über" || l[1] != "é" {
					t.Errorf("dynamic %#v", rows[0][2])
				}
				if m, ok := rows[1][2].(map[string]any); !ok || m["k"] != "\u2028" {
					t.Errorf("dynamic %#v", rows[1][2])
				}
			}},
		{name: "rows before columns", rows: 2, body: `{"tables":[{"rows":[["a",1,null],["b",2,"x"]],"name":"PrimaryResult",` + cols + `}]}`,
			check: func(t *testing.T, rows [][]any) {
				if rows[1][1] != int64(2) || rows[1][2] != "x" {
					t.Errorf("rows %#v", rows)
				}
			}},
		{name: "second table ignored", rows: 1, body: `{"tables":[{"name":"PrimaryResult",` + cols + `,"rows":[["a",1,null]]},{"name":"Other","columns":[],"rows":[[1,2,3]]}]}`},
		{name: "dynamic JSON values", rows: 1, body: `{"tables":[{"name":"PrimaryResult",` + cols + `,"rows":[["a",1,{"x":[1,{"y":null}]}]]}]}`,
			check: func(t *testing.T, rows [][]any) {
				if m, ok := rows[0][2].(map[string]any); !ok || len(m["x"].([]any)) != 2 {
					t.Errorf("dynamic %#v", rows[0][2])
				}
			}},
	} {
		t.Run(test.name, func(t *testing.T) {
			la := fakeazure.NewLogAnalytics(t, token)
			la.Fail(fakeazure.Fault{Body: test.body})
			src, _ := newSource(t, la)
			res, err := src.Query(context.Background(), "T", window)
			if got := len(la.Requests()); got != 1 {
				t.Errorf("%d calls", got)
			}
			if test.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), test.wantErr) {
					t.Fatalf("err %v, want one containing %q", err, test.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Rows) != test.rows || len(res.Columns) != 3 {
				t.Fatalf("result %+v", res)
			}
			if (res.Partial != nil) != (test.partial != "") || res.Partial != nil && !strings.Contains(res.Partial.Error(), test.partial) {
				t.Errorf("partial %v", res.Partial)
			}
			if test.check != nil {
				test.check(t, res.Rows)
			}
		})
	}
}
