package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tableRows is the number of rows of a table printed by query (a header and a rule above them).
func tableRows(t *testing.T, out string) int {
	t.Helper()
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) < 2 || !strings.HasPrefix(lines[1], "--") {
		t.Fatalf("not a table:\n%s", out)
	}
	return len(lines) - 2
}

// agoHunt is a hunt whose query asks for the last day by now() (ago), as many hunts do.
const agoHunt = `id: 0d7f9c55-0000-4000-8000-000000000001
name: Latest Run Command of the last day
query: |
  AzureActivity
  | where TimeGenerated > ago(1d)
  | where OperationNameValue =~ "MICROSOFT.COMPUTE/VIRTUALMACHINES/RUNCOMMAND/ACTION"
  | summarize arg_max(TimeGenerated, Caller) by CorrelationId
  | top 1 by TimeGenerated desc
entityMappings:
  - entityType: Account
    fieldMappings:
      - identifier: FullName
        columnName: Caller
fingerprint: CorrelationId
occurrence: CorrelationId
`

// run, query and preview share one clock in local sample mode: as of the logs' newest row (+
// HUNT_SETTLE + 1m), whatever today's date, unless --now pins it.
func TestRunQueryAndPreviewShareOneClock(t *testing.T) {
	chdirRoot(t)
	hunt := filepath.Join(t.TempDir(), "ago.yaml")
	if err := os.WriteFile(hunt, []byte(agoHunt), 0o600); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(t.TempDir(), "state.json")

	code, out, errOut := runMain(t, nil, "run", "--dry-run", "--state", state, "--hunt", hunt)
	if code != 0 || !strings.Contains(out, ": 1 rows, 1 fingerprints") {
		t.Fatalf("run of a hunt with ago(1d): exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = runMain(t, nil, "query", hunt)
	if code != 0 || tableRows(t, out) != 1 {
		t.Errorf("query of the same hunt: exit %d, want the row run found\n%s%s", code, out, errOut)
	}
	// The bundled hunt over the window a run queries: the 6 rows run reports.
	code, out, errOut = runMain(t, nil, "query", "--lookback", "24h", "runcommand-mde")
	if code != 0 || tableRows(t, out) != 6 {
		t.Errorf("query --lookback 24h runcommand-mde: exit %d, want 6 rows\n%s%s", code, out, errOut)
	}
	code, out, _ = runMain(t, nil, "run", "--dry-run", "--state", state)
	if code != 0 || !strings.Contains(out, ": 6 rows,") {
		t.Errorf("run: exit %d, want 6 rows\n%s", code, out)
	}

	// --now pins the clock of all three: ten days after the sample, nothing is found.
	const later = "2026-12-01T12:00:00Z"
	code, out, errOut = runMain(t, nil, "run", "--dry-run", "--state", state, "--now", later)
	if code != 0 || !strings.Contains(out, "window 2026-11-30T11:30:00Z..2026-12-01T11:30:00Z: 0 rows") {
		t.Errorf("run --now %s: exit %d\n%s%s", later, code, out, errOut)
	}
	code, out, errOut = runMain(t, nil, "query", "--now", later, hunt)
	if code != 0 || tableRows(t, out) != 0 {
		t.Errorf("query --now %s: exit %d\n%s%s", later, code, out, errOut)
	}
	dir := t.TempDir()
	code, _, errOut = runMain(t, nil, "preview", "--now", later, "--out", dir)
	if messages, _ := filepath.Glob(filepath.Join(dir, "message-*.json")); code != 0 || len(messages) != 0 {
		t.Errorf("preview --now %s: exit %d, %d messages\n%s", later, code, len(messages), errOut)
	}
	if code, _, errOut := runMain(t, nil, "query", "--now", "yesterday", "AzureActivity"); code != 2 || !strings.Contains(errOut, "RFC 3339") {
		t.Errorf("query --now yesterday: exit %d\n%s", code, errOut)
	}
}
