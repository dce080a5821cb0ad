package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// customHunt queries a table no built-in schema knows.
const customHunt = `id: 0d7f9c55-0000-4000-8000-000000000002
name: Custom table hunt
query: |
  ContosoAudit
  | where TimeGenerated between (HuntStart .. HuntEnd)
  | project TimeGenerated, Actor, Action
entityMappings:
  - entityType: Account
    fieldMappings:
      - identifier: FullName
        columnName: Actor
`

// validate and query need no repository: the table schemas are built in, --schemas adds a custom
// table, and a plain validate passes on what is shipped, the seed being a known-broken reference.
func TestValidateAndQueryFromAnyFolder(t *testing.T) {
	t.Chdir(t.TempDir())
	code, out, errOut := runMain(t, nil, "validate")
	if code != 0 || !strings.Contains(out, "ok   runcommand-mde") || !strings.Contains(out, "ref  seed-runcommand-mde (known broken upstream") {
		t.Errorf("validate in an empty folder: exit %d\n%s%s", code, out, errOut)
	}
	if strings.Contains(out, "FAIL") {
		t.Errorf("plain validate reports a failure:\n%s", out)
	}
	// Named, the seed fails: asked about, the answer is that it is broken.
	if code, out, errOut := runMain(t, nil, "validate", "seed-runcommand-mde"); code != 1 || !strings.Contains(out, "FAIL seed-runcommand-mde") || !strings.Contains(errOut, `no column "AccountCustomEntity"`) {
		t.Errorf("validate seed-runcommand-mde: exit %d\n%s%s", code, out, errOut)
	}

	schemas, logs := filepath.Join(t.TempDir(), "schemas"), filepath.Join(t.TempDir(), "logs")
	os.MkdirAll(schemas, 0o755)
	os.MkdirAll(logs, 0o755)
	write := func(path, body string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(schemas, "ContosoAudit.txt"), "TimeGenerated:datetime\nActor:string\nAction:string\nCount:long\n")
	write(filepath.Join(logs, "ContosoAudit.json"), `[{"TimeGenerated":"2026-11-20T10:00:00Z","Actor":"alice","Action":"login","Count":"7"},
{"TimeGenerated":"2026-11-20T11:00:00Z","Actor":"bob","Action":"logout","Count":"2"}]`)
	hunt := filepath.Join(t.TempDir(), "custom.yaml")
	write(hunt, customHunt)

	// A table the offline schemas do not know is a warning, not a failure: the hunt may well run in
	// the workspace. A syntax error still fails.
	if code, out, errOut := runMain(t, nil, "validate", hunt); code != 0 || !strings.Contains(out, "warn "+hunt+":") || !strings.Contains(out, "ContosoAudit") || !strings.Contains(out, "--schemas") {
		t.Errorf("validate of a custom table without --schemas: exit %d\n%s%s", code, out, errOut)
	}
	broken := filepath.Join(t.TempDir(), "broken.yaml")
	write(broken, strings.Replace(customHunt, "| project TimeGenerated", "| project (TimeGenerated", 1))
	if code, out, errOut := runMain(t, nil, "validate", broken); code != 1 || !strings.Contains(out, "FAIL "+broken) {
		t.Errorf("validate of a syntax error: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut := runMain(t, nil, "validate", "--schemas", schemas, hunt); code != 0 || !strings.Contains(out, "ok   "+hunt) {
		t.Errorf("validate --schemas: exit %d\n%s%s", code, out, errOut)
	}
	// The schema types the column: a long sums as a number, where the JSON has strings.
	code, out, errOut = runMain(t, nil, "query", "--logs", logs, "--schemas", schemas, "ContosoAudit | summarize Total = sum(Count)")
	if lines := strings.Fields(out); code != 0 || len(lines) != 3 || lines[2] != "9" {
		t.Errorf("query --schemas: exit %d\n%s%s", code, out, errOut)
	}
	state := filepath.Join(t.TempDir(), "state.json")
	code, out, errOut = runMain(t, nil, "run", "--dry-run", "--logs", logs, "--schemas", schemas, "--state", state, "--hunt", hunt)
	if code != 0 || !strings.Contains(out, ": 2 rows, 2 fingerprints") {
		t.Errorf("run --schemas: exit %d\n%s%s", code, out, errOut)
	}
}
