package logdir_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/huntwatch/huntwatch/handler/hunt"
	"github.com/huntwatch/huntwatch/handler/logdir"
)

func write(t *testing.T, dir, name, body string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestQueryHidesRowsOutsideTheTimespan(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "Events.ndjson", `{"TimeGenerated":"2026-11-20T09:59:59Z","Name":"before"}
{"TimeGenerated":"2026-11-20T10:00:00Z","Name":"first"}
{"TimeGenerated":"2026-11-20T10:30:00Z","Name":"inside"}
{"TimeGenerated":"2026-11-20T11:00:01Z","Name":"after"}
`)
	src := logdir.New(dir, "")
	latest, err := src.Latest()
	if err != nil || !latest.Equal(time.Date(2026, 11, 20, 11, 0, 1, 0, time.UTC)) {
		t.Fatalf("Latest = %v, %v", latest, err)
	}
	w := hunt.Window{Start: time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC), End: time.Date(2026, 11, 20, 11, 0, 0, 0, time.UTC)}
	res, err := src.Query(context.Background(), w.Declare("Events | order by TimeGenerated asc | extend Start = HuntStart, Now = now()"), w)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range res.Rows {
		names = append(names, r[1].(string))
	}
	if strings.Join(names, ",") != "first,inside" {
		t.Errorf("rows %v, want first,inside", names)
	}
	if res.Columns[0] != (hunt.Column{Name: "TimeGenerated", Type: "datetime"}) || !res.Rows[0][2].(time.Time).Equal(w.Start) || !res.Rows[0][3].(time.Time).Equal(w.End) {
		t.Errorf("columns %v row %v", res.Columns, res.Rows[0])
	}
}

func TestErrorsNameTheFolder(t *testing.T) {
	src := logdir.New(filepath.Join(t.TempDir(), "missing"), "")
	_, err := src.Query(context.Background(), "T", hunt.Window{})
	if err == nil || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("err %v", err)
	}
	dir := t.TempDir()
	write(t, dir, "T.json", `[{"TimeGenerated": "not a time"}]`)
	schemas := t.TempDir()
	write(t, schemas, "T.txt", "TimeGenerated:datetime\n")
	if _, err := logdir.New(dir, schemas).Tables(); err == nil || !strings.Contains(err.Error(), "T.json") {
		t.Errorf("bad value: %v", err)
	}
}
