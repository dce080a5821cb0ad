package kql

import (
	"context"
	"strings"
	"testing"
	"time"
)

// testNow is the clock of every test query.
var testNow = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

func runQuery(t *testing.T, query string, db Database) *Table {
	t.Helper()
	res, err := Run(context.Background(), query, db, Options{Now: testNow})
	if err != nil {
		t.Fatalf("Run(%q): %v", query, err)
	}
	return res
}

// render prints a table compactly for comparisons: a header of name:type,
// then one line per row with values as tostring() gives them.
func render(t *Table) string {
	var b strings.Builder
	for i, c := range t.Columns {
		if i > 0 {
			b.WriteString("|")
		}
		b.WriteString(c.Name + ":" + c.Type)
	}
	for _, r := range t.Rows {
		b.WriteString("\n")
		for i, v := range r {
			if i > 0 {
				b.WriteString("|")
			}
			b.WriteString(toStr(v))
		}
	}
	return b.String()
}

// queryTest is one query and its rendered result.
type queryTest struct {
	name  string
	query string
	want  string
}

func runTable(t *testing.T, db Database, tests []queryTest) {
	t.Helper()
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			got := render(runQuery(t, test.query, db))
			want := strings.TrimSpace(dedent(test.want))
			if got != want {
				t.Errorf("query:\n%s\ngot:\n%s\nwant:\n%s", test.query, got, want)
			}
		})
	}
}

// dedent strips leading tabs so expected tables can be indented in the source.
func dedent(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimLeft(l, "\t")
	}
	return strings.Join(lines, "\n")
}

// events is a small table used by the operator tests.
func eventsDB() Database {
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	return Database{"Events": {
		Name:    "Events",
		Columns: []Column{{"TimeGenerated", "datetime"}, {"Computer", "string"}, {"Level", "long"}, {"Msg", "string"}, {"Data", "dynamic"}},
		Rows: [][]any{
			{t0, "web1", int64(2), "disk full", map[string]any{"tags": []any{"a", "b"}}},
			{t0.Add(time.Hour), "web2", int64(4), "login ok", map[string]any{"tags": []any{"c"}}},
			{t0.Add(2 * time.Hour), "web1", int64(3), "Disk slow", nil},
			{t0.Add(3 * time.Hour), "db1", nil, "restart", map[string]any{"tags": []any{}}},
		},
	}}
}
