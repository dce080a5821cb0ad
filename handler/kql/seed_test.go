package kql

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The seed hunt of the project: "Azure VM Run Command linked with MDE", its
// query as in the Sentinel YAML with the ```kusto fence stripped.

var seedColumns = []Column{
	{"StartTime", "datetime"}, {"EndTime", "datetime"}, {"PowershellFileCreatedTimestamp", "datetime"},
	{"PowershellExecStart", "datetime"}, {"PowershellExecEnd", "datetime"}, {"PowershellFileName", "string"},
	{"PowershellScriptCommands", "dynamic"}, {"Caller", "string"}, {"CallerIpAddress", "string"},
	{"InitiatingProcessCommandLine", "string"}, {"PowershellFileSize", "long"}, {"VirtualMachineName", "string"},
	{"ScriptFingerprintHash", "string"},
}

func sha256Hex(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func checkSeedColumns(t *testing.T, res *Table) {
	t.Helper()
	if len(res.Columns) != len(seedColumns) {
		t.Fatalf("columns = %v, want %v", res.Columns, seedColumns)
	}
	for i, c := range seedColumns {
		if res.Columns[i] != c {
			t.Errorf("column %d = %v, want %v", i, res.Columns[i], c)
		}
	}
}

func TestSeedHunt(t *testing.T) {
	db := runCommandLogs(loadTestSchemas(t), 40) // 10 run commands on 3 VMs, the 10th failed
	res := runQuery(t, seedQuery(t), db)
	checkSeedColumns(t, res)
	if len(res.Rows) != 9 {
		t.Fatalf("got %d rows, want 9 (one per succeeded run command):\n%s", len(res.Rows), render(res))
	}
	wantList := `["Get-Process","Get-LocalUser","Invoke-WebRequest -Uri http://example.test/a.ps1"]`
	for k, row := range res.Rows {
		start := huntStart.Add(time.Duration(k) * time.Minute)
		want := []any{
			start, start.Add(60 * time.Second), start.Add(10 * time.Second),
			start.Add(16 * time.Second), start.Add(18 * time.Second), "script" + itoa(k) + ".ps1",
			nil, "user" + itoa(k) + "@contoso.com", "10.0." + itoa(k) + "." + itoa(k),
			"powershell -ExecutionPolicy Unrestricted -File script" + itoa(k) + ".ps1", int64(1000 + k),
			"vm-0000" + itoa(k%3), sha256Hex(wantList),
		}
		for i, w := range want {
			if i == 6 {
				if got := toStr(row[i]); got != wantList {
					t.Errorf("row %d PowershellScriptCommands = %s, want %s", k, got, wantList)
				}
				continue
			}
			if !valuesEqual(row[i], w) {
				t.Errorf("row %d %s = %v, want %v", k, seedColumns[i].Name, row[i], w)
			}
		}
	}
}

// TestSeedHuntFromFiles runs the hunt over exported logs: a JSON array, NDJSON
// and CSV, typed by the shared schemas.
func TestSeedHuntFromFiles(t *testing.T) {
	db, err := LoadDir(filepath.Join("..", "..", "testdata", "kql", "logs"), loadTestSchemas(t))
	if err != nil {
		t.Fatal(err)
	}
	res := runQuery(t, seedQuery(t), db)
	checkSeedColumns(t, res)
	got := render(res)
	want := strings.Join([]string{
		"2024-03-01T08:00:00.0000000Z|2024-03-01T08:00:40.0000000Z|2024-03-01T08:00:10.0000000Z",
		"2024-03-01T08:00:16.0000000Z|2024-03-01T08:00:17.0000000Z|script1.ps1",
		`["Get-Process","whoami /all"]|alice@contoso.com|203.0.113.7`,
		"powershell -ExecutionPolicy Unrestricted -File script1.ps1|512|web-01",
		sha256Hex(`["Get-Process","whoami /all"]`),
	}, "|")
	if lines := strings.Split(got, "\n"); len(lines) != 2 || lines[1] != want {
		t.Errorf("got:\n%s\nwant one row:\n%s", got, want)
	}

	// Outside the query timespan the run command is invisible.
	res, err = Run(context.Background(), seedQuery(t), db, Options{
		Now:  testNow,
		From: time.Date(2024, 3, 1, 8, 30, 0, 0, time.UTC),
		To:   time.Date(2024, 3, 2, 0, 0, 0, 0, time.UTC),
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 0 {
		t.Errorf("with From after the command: got %d rows, want 0", len(res.Rows))
	}
}
