package kql

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestLoadSchemas(t *testing.T) {
	schemas := loadTestSchemas(t)
	for table, n := range map[string]int{"AzureActivity": 37, "DeviceFileEvents": 60, "DeviceEvents": 63} {
		if len(schemas[table]) != n {
			t.Errorf("%s: %d columns, want %d", table, len(schemas[table]), n)
		}
	}
	if c := schemas["DeviceEvents"][colIndex(schemas["DeviceEvents"], "AdditionalFields")]; c.Type != "dynamic" {
		t.Errorf("DeviceEvents.AdditionalFields is %s, want dynamic", c.Type)
	}

	dir := writeFiles(t, map[string]string{"T.txt": "# comment\n\nA:string\nB: long\n"})
	got, err := LoadSchemas(dir)
	if err != nil || len(got["T"]) != 2 || got["T"][1] != (Column{"B", "long"}) {
		t.Errorf("LoadSchemas = %v, %v", got, err)
	}
	dir = writeFiles(t, map[string]string{"T.txt": "A:string\nB:number\n"})
	if _, err := LoadSchemas(dir); err == nil || !strings.Contains(err.Error(), "T.txt:2") {
		t.Errorf("bad type: got %v, want an error naming T.txt:2", err)
	}
}

func TestLoadDir(t *testing.T) {
	schemas := map[string][]Column{"Logs": {{"TimeGenerated", "datetime"}, {"Host", "string"}, {"Count", "long"}, {"Extra", "dynamic"}, {"Ok", "bool"}}}
	dir := writeFiles(t, map[string]string{
		"Logs.json": `[
  {"TimeGenerated": "2024-01-01T00:00:00Z", "Host": "a", "Count": 1, "Extra": {"k": [1, 2]}, "Ok": true, "New": 1.5},
  {"TimeGenerated": "2024-01-01T01:00:00.5Z", "Host": "b", "Count": "2", "Extra": "{\"k\": 3}", "Ok": "false"}
]`,
		"Logs.part2.ndjson": `{"Host": "c", "Count": null, "New": 2}

{"TimeGenerated": "2024-01-02 00:00:00", "Host": 7, "Extra": [1]}
`,
		"Other.csv": "Name,When,N,Score,Flag,Blob\nx,2024-01-01T00:00:00Z,1,1.5,true,\"{\"\"a\"\":1}\"\ny,,,2,false,\n",
		"notes.md":  "ignored",
	})
	db, err := LoadDir(dir, schemas)
	if err != nil {
		t.Fatal(err)
	}
	got := render(db["Logs"])
	want := strings.TrimSpace(dedent(`
		TimeGenerated:datetime|Host:string|Count:long|Extra:dynamic|Ok:bool|New:real
		2024-01-01T00:00:00.0000000Z|a|1|{"k":[1,2]}|true|1.5
		2024-01-01T01:00:00.5000000Z|b|2|{"k":3}|false|
		|c||||2
		2024-01-02T00:00:00.0000000Z|7||[1]||`))
	if got != want {
		t.Errorf("Logs:\n%s\nwant:\n%s", got, want)
	}
	got = render(db["Other"])
	want = strings.TrimSpace(dedent(`
		Name:string|When:datetime|N:long|Score:real|Flag:bool|Blob:dynamic
		x|2024-01-01T00:00:00.0000000Z|1|1.5|true|{"a":1}
		y|||2|false|`))
	if got != want {
		t.Errorf("Other (inferred):\n%s\nwant:\n%s", got, want)
	}
	if db["Logs"].Rows[0][0] != time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC) {
		t.Errorf("datetime is not a UTC time.Time: %#v", db["Logs"].Rows[0][0])
	}
	if _, ok := db["notes"]; ok {
		t.Error("a .md file was loaded as a table")
	}
}

// Bad values are reported with the file, row, line and column.
func TestLoadDirErrors(t *testing.T) {
	schemas := map[string][]Column{"T": {{"When", "datetime"}, {"N", "long"}}}
	for _, test := range []struct {
		files map[string]string
		want  string
	}{
		{map[string]string{"T.json": "[\n{\"N\": 1},\n{\"N\": \"many\"}\n]"}, "T.json: row 2 (line 3): column N: cannot read \"many\" as long"},
		{map[string]string{"T.ndjson": "{\"When\": \"2024-01-01T00:00:00Z\"}\n\n{\"When\": \"yesterday\"}\n"}, "T.ndjson: row 2 (line 3): column When: cannot read \"yesterday\" as datetime"},
		{map[string]string{"T.csv": "When,N\n2024-01-01T00:00:00Z,1\n2024-01-01T00:00:00Z,1.5\n"}, "T.csv: row 2 (line 3): column N: cannot read \"1.5\" as long"},
		{map[string]string{"T.json": `[{"N": {"a": 1}}]`}, "T.json: row 1 (line 1): column N: cannot read a JSON object as long"},
		{map[string]string{"T.json": `{"N": 1}`}, "T.json: want a JSON array of objects"},
		{map[string]string{"T.ndjson": "{\"N\": 1}\n{\"N\": \n"}, "T.ndjson: row 2 (line 2, column 6): unexpected end of JSON input"},
		{map[string]string{"T.csv": "When,N\n1\n"}, "T.csv: row 1 (line 2): 1 fields, header has 2"},
		// JSON syntax errors are placed where they are, not where their row starts.
		{map[string]string{"T.json": "[\n{\"N\": 1},\n{\n" + strings.Repeat("  \"A\": 1,\n", 26) + "  \"When\": 2024-01-01\n}\n]"}, "T.json: row 2 (line 30, column 15): invalid character '-' after object key:value pair"},
		{map[string]string{"T.json": "[\n  {\"N\": 1}\n  {\"N\": 2}\n]"}, "T.json: row 2 (line 3, column 3): invalid character '{' after array element"},
		{map[string]string{"T.json": "[\n{\"N\": \"é\", \"When\": tru}]"}, "T.json: row 1 (line 2, column 23): invalid character '}' in literal true"},
		{map[string]string{"T.json": "[\n{\"N\": 1},\n"}, "T.json: row 2 (line 2, column 10): unexpected end of JSON input"},
		{map[string]string{"T.json": "[\n{\"N\": 1}] [{\"N\": 2}]"}, "T.json: after row 1 (line 2, column 11): more text after the array"},
		{map[string]string{"T.json": "[{\"N\": 1}, 5, {bad}]"}, "T.json: row 2 (line 1, column 12): want a JSON object"},
		{map[string]string{"T.ndjson": "{\"N\": 1}\n\t{\"N\": x}\n"}, "T.ndjson: row 2 (line 2, column 8): invalid character 'x'"},
	} {
		_, err := LoadDir(writeFiles(t, test.files), schemas)
		if err == nil || !strings.Contains(err.Error(), test.want) {
			t.Errorf("got %v, want an error containing %q", err, test.want)
		}
	}
}

// A CSV exported from the Azure portal names datetime columns "Name [UTC]" and writes their
// values as 12/4/2026, 3:04:05.123 PM.
func TestLoadDirPortalCSV(t *testing.T) {
	schemas := map[string][]Column{"Events": {{"TimeGenerated", "datetime"}, {"Computer", "string"}}}
	dir := writeFiles(t, map[string]string{
		"Events.csv": "\ufeffTimeGenerated [UTC],Computer,Seen [UTC]\n" +
			"\"12/4/2026, 3:04:05.123 PM\",vm-1,\"1/2/2026, 12:00:00 AM\"\n" +
			"2026-12-04T16:00:00Z,vm-2,\n",
	})
	db, err := LoadDir(dir, schemas)
	if err != nil {
		t.Fatal(err)
	}
	got := render(db["Events"])
	want := strings.TrimSpace(dedent(`
		TimeGenerated:datetime|Computer:string|Seen:datetime
		2026-12-04T15:04:05.1230000Z|vm-1|2026-01-02T00:00:00.0000000Z
		2026-12-04T16:00:00.0000000Z|vm-2|`))
	if got != want {
		t.Errorf("Events:\n%s\nwant:\n%s", got, want)
	}
	// The portal's form is the loader's, not the language's: datetime() does not read it.
	if _, ok := convertString("datetime", "12/4/2026, 3:04:05.123 PM"); ok {
		t.Error("datetime() reads the portal's form")
	}
}

// A folder with no table files is an error that says what files it wants.
func TestLoadDirWithoutTables(t *testing.T) {
	for _, test := range []struct {
		files map[string]string
		found string
	}{
		{nil, "it is empty"},
		{map[string]string{"README.md": "x", "Events.xlsx": "x"}, "it has only Events.xlsx, README.md"},
	} {
		_, err := LoadDir(writeFiles(t, test.files), nil)
		if err == nil || !strings.Contains(err.Error(), "no tables ("+test.found+")") ||
			!strings.Contains(err.Error(), "<Table>.json (a JSON array of objects), <Table>.ndjson") || !strings.Contains(err.Error(), "<Table>.csv") {
			t.Errorf("%v: got %v", test.files, err)
		}
	}
}
