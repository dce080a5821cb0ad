package logdir_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/huntwatch/huntwatch/handler/hunt"
	"github.com/huntwatch/huntwatch/handler/kql"
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

// The built-in schemas type tables wherever huntwatch runs from; a folder overlays them table by
// table.
func TestSchemas(t *testing.T) {
	builtin, err := logdir.Schemas("")
	if err != nil {
		t.Fatal(err)
	}
	for table, col := range map[string]kql.Column{
		"AzureActivity":    {Name: "CorrelationId", Type: "string"},
		"DeviceEvents":     {Name: "AdditionalFields", Type: "dynamic"},
		"DeviceFileEvents": {Name: "TimeGenerated", Type: "datetime"},
	} {
		if !slices.Contains(builtin[table], col) {
			t.Errorf("built-in %s lacks %v: %v", table, col, builtin[table])
		}
	}

	dir := t.TempDir()
	write(t, dir, "AzureActivity.txt", "# mine\nTimeGenerated:datetime\nCaller:string\n")
	write(t, dir, "Custom.txt", "When:datetime\nN:long\n")
	got, err := logdir.Schemas(dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := []kql.Column{{Name: "TimeGenerated", Type: "datetime"}, {Name: "Caller", Type: "string"}}; !slices.Equal(got["AzureActivity"], want) {
		t.Errorf("overlaid AzureActivity = %v, want %v", got["AzureActivity"], want)
	}
	if len(got["Custom"]) != 2 || !slices.Equal(got["DeviceEvents"], builtin["DeviceEvents"]) || len(got) != len(builtin)+1 {
		t.Errorf("overlay: Custom %v, DeviceEvents kept: %v, %d tables (built in %d)", got["Custom"], slices.Equal(got["DeviceEvents"], builtin["DeviceEvents"]), len(got), len(builtin))
	}

	write(t, dir, "Bad.txt", "A:string\nB number\n")
	if _, err := logdir.Schemas(dir); err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "Bad.txt")+":2:") {
		t.Errorf("bad line: got %v, want the file and line named", err)
	}
	missing := filepath.Join(t.TempDir(), "nope")
	if _, err := logdir.Schemas(missing); err == nil || !strings.Contains(err.Error(), "table schemas folder "+missing) {
		t.Errorf("missing folder: got %v", err)
	}
}

// A source with no schemas folder types the known tables by the built-in schemas: a column the
// file lacks is there, typed, and a value is read as the schema's type, not inferred.
func TestSourceUsesBuiltinSchemas(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "AzureActivity.ndjson", `{"TimeGenerated":"2026-11-20T10:00:00Z","CorrelationId":42}`+"\n")
	db, err := logdir.New(dir, "").Tables()
	if err != nil {
		t.Fatal(err)
	}
	cols := db["AzureActivity"].Columns
	builtin, _ := logdir.Schemas("")
	if !slices.Equal(cols, builtin["AzureActivity"]) {
		t.Errorf("columns %v, want the built-in schema", cols)
	}
	i := slices.IndexFunc(cols, func(c kql.Column) bool { return c.Name == "CorrelationId" })
	if v := db["AzureActivity"].Rows[0][i]; v != "42" {
		t.Errorf("CorrelationId = %#v, want the string \"42\" (inferred, it would be a long)", v)
	}
}

func TestEmptyFolderSaysSo(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "notes.md", "exports go here")
	_, err := logdir.New(dir, "").Query(context.Background(), "AzureActivity | take 1", hunt.Window{})
	if err == nil {
		t.Fatal("a query over an empty folder ran")
	}
	for _, want := range []string{"logs folder " + dir, "no tables (it has only notes.md)", "<Table>.json", "<Table>.ndjson", "<Table>.csv"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

// A query's error, as the Source returns it, is placed back in the hunt by hunt.QueryError.
func TestQueryErrorsArePlaceable(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "Events.ndjson", `{"TimeGenerated":"2026-11-20T10:00:00Z"}`+"\n")
	h := &hunt.Hunt{Query: "Events\n| where Nope > 0", Source: "mine.yaml"}
	w := hunt.Window{Start: time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC), End: time.Date(2026, 11, 20, 11, 0, 0, 0, time.UTC)}
	_, err := logdir.New(dir, "").Query(context.Background(), w.Declare(h.Query), w)
	if got, want := fmt.Sprint(h.QueryError(err)), "mine.yaml: query 2:9: unknown column or name 'Nope'"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// externaldata reads a URL's rows from the folder externaldata beside the tables, by the file
// name the URL takes (kql.ExternalDataFile); without the file the error says which file to add.
func TestExternalDataBesideTheLogs(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "AzureActivity.json"), []byte(`[{"TimeGenerated":"2026-11-20T10:00:00Z","CallerIpAddress":"203.0.113.9"}]`), 0o600); err != nil {
		t.Fatal(err)
	}
	const url = "https://127.0.0.1/lists/bad-ips.csv"
	src := logdir.New(dir, "")
	q := `externaldata(Ip:string)["` + url + `"] with (format="csv") | join kind=inner (AzureActivity) on $left.Ip == $right.CallerIpAddress | count`
	w := hunt.Window{Start: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)}
	if _, err := src.Query(context.Background(), q, w); err == nil || !strings.Contains(err.Error(), kql.ExternalDataFile(url)) {
		t.Fatalf("without the file: err %v, want one naming %s", err, kql.ExternalDataFile(url))
	}
	if err := os.MkdirAll(src.ExternalData(), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src.ExternalData(), kql.ExternalDataFile(url)), []byte("203.0.113.9\n198.51.100.1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	res, err := src.Query(context.Background(), q, w)
	if err != nil || len(res.Rows) != 1 || fmt.Sprint(res.Rows[0][0]) != "1" {
		t.Fatalf("err %v rows %v, want a count of 1", err, res)
	}
}
