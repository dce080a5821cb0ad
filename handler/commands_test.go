package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// These tests run the command line in process, with no Azure setting: local sample mode.

func runMain(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = Main(context.Background(), args, func(k string) string { return env[k] }, &out, &errOut)
	return code, out.String(), errOut.String()
}

func chdirRoot(t *testing.T) {
	t.Helper()
	t.Chdir("..") // the repository root: local mode reads testdata/ from there
}

func TestHelpDocumentsCommandsAndSettings(t *testing.T) {
	code, out, _ := runMain(t, nil, "--help")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"huntwatch run", "--dry-run", "huntwatch serve", "huntwatch validate", "huntwatch query", "huntwatch preview",
		"LOG_ANALYTICS_WORKSPACE_ID", "DEDUP_TTL", "SLACK_WEBHOOK_URL", "HEALTH_ALERT_AFTER", "(default 24h)"} {
		if !strings.Contains(out, want) {
			t.Errorf("help lacks %q", want)
		}
	}
	if code, _, errOut := runMain(t, nil, "frobnicate"); code != 2 || !strings.Contains(errOut, `unknown command "frobnicate"`) {
		t.Errorf("unknown command: exit %d, %q", code, errOut)
	}
}

func TestLocalSampleModeRunsThenRemembers(t *testing.T) {
	chdirRoot(t)
	state := filepath.Join(t.TempDir(), "state.json")
	code, out, errOut := runMain(t, nil, "run", "--state", state)
	if code != 0 || !strings.Contains(out, "5 fingerprints (5 new, 0 already notified)") || !strings.Contains(out, "5 posted") {
		t.Fatalf("first run: exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "Invoke-WebRequest") && !strings.Contains(out, "Set-MpPreference") {
		t.Errorf("messages lack the commands:\n%s", out)
	}
	code, out, _ = runMain(t, nil, "run", "--state", state)
	if code != 0 || !strings.Contains(out, "(0 new, 5 already notified)") || !strings.Contains(out, " 0 posted") {
		t.Fatalf("second run: exit %d\n%s", code, out)
	}
}

func TestRunRejectsBadSettings(t *testing.T) {
	code, _, errOut := runMain(t, map[string]string{"HUNT_LOOKBACK": "yesterday", "DEDUP_TTL": "-5h"}, "run")
	if code != 1 || !strings.Contains(errOut, "HUNT_LOOKBACK") || !strings.Contains(errOut, "DEDUP_TTL") {
		t.Errorf("exit %d: %s", code, errOut)
	}
	code, _, errOut = runMain(t, map[string]string{"HUNT_FILE": "no-such-hunt"}, "run", "--logs", "../testdata/logs", "--schemas", "../testdata/schemas", "--state", filepath.Join(t.TempDir(), "s.json"))
	if code != 1 || !strings.Contains(errOut, "HUNT_FILE") || !strings.Contains(errOut, "runcommand-mde") {
		t.Errorf("unknown hunt: exit %d: %s", code, errOut)
	}
}

func TestValidate(t *testing.T) {
	chdirRoot(t)
	for _, test := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"runcommand-mde"}, 0, "ok   runcommand-mde"},
		{[]string{"seed-runcommand-mde"}, 1, `no column "AccountCustomEntity"`},
		{[]string{"testdata/hunts/vm-extension-changes.yaml"}, 0, "ok"},
		{[]string{"testdata/hunts/not-a-hunt.yaml"}, 1, "not a hunting query"},
		{[]string{"testdata/hunts/broken-syntax.yaml"}, 1, "not a hunting-query YAML"},
	} {
		code, out, errOut := runMain(t, nil, append([]string{"validate"}, test.args...)...)
		if code != test.code || !strings.Contains(out+errOut, test.want) {
			t.Errorf("validate %v: exit %d, want %d with %q:\n%s%s", test.args, code, test.code, test.want, out, errOut)
		}
	}
}

func TestQueryAndPreview(t *testing.T) {
	chdirRoot(t)
	code, out, errOut := runMain(t, nil, "query", "AzureActivity | where OperationNameValue =~ 'microsoft.compute/virtualmachines/runcommand/action' | summarize Runs = dcount(CorrelationId)")
	// testdata/logs/README.md: six Run Command executions.
	if lines := strings.Fields(out); code != 0 || len(lines) != 3 || lines[0] != "Runs" || lines[2] != "6" {
		t.Errorf("query: exit %d\n%s%s", code, out, errOut)
	}
	code, _, errOut = runMain(t, nil, "query", "AzureActivity | frobnicate")
	if code != 1 || !strings.Contains(errOut, "frobnicate") {
		t.Errorf("bad query: exit %d %s", code, errOut)
	}
	dir := t.TempDir()
	code, out, errOut = runMain(t, nil, "preview", "--out", dir)
	if code != 0 || !strings.Contains(out, "digest.json") {
		t.Fatalf("preview: exit %d\n%s%s", code, out, errOut)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(files) < 8 {
		t.Errorf("preview wrote %d files", len(files))
	}
}
