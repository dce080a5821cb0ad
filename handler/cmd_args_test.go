package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// query's argument: a .yaml/.yml name is a hunt file, whose load error is the error; a bare word
// that names no bundled hunt, file or table is a misspelt hunt; KQL text and a table alone are KQL.
func TestQueryArgument(t *testing.T) {
	chdirRoot(t)
	kqlFile := filepath.Join(t.TempDir(), "runs.kql")
	if err := os.WriteFile(kqlFile, []byte("AzureActivity | take 2"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, test := range []struct {
		arg    string
		code   int
		rows   int    // when code is 0
		want   string // in stderr when code is not 0
		reject string // never in stderr: the KQL engine's view of a file name or a hunt name
	}{
		{arg: "testdata/hunts/broken-syntax.yaml", code: 1, want: "not a hunting-query YAML", reject: "unknown"},
		{arg: "testdata/hunts/not-a-hunt.yaml", code: 1, want: "not a hunting query: missing", reject: "unknown"},
		{arg: "no-such-hunt.yml", code: 1, want: "no such file", reject: "unknown"},
		{arg: "runcomand-mde", code: 1, want: `no bundled hunt named "runcomand-mde" (bundled: runcommand-mde, runcommand-new-caller-or-ip, seed-runcommand-mde, vm-extension-unusual-caller, vm-serial-console-access)`, reject: "unknown"},
		{arg: "AzureActivty", code: 1, want: `no bundled hunt named "AzureActivty"`, reject: "unknown"},
		{arg: "missing.kql", code: 1, want: "no such file", reject: "unknown"},
		{arg: kqlFile, rows: 2},
		{arg: "AzureActivity | take 3", rows: 3},
		{arg: "AzureActivity", rows: 60}, // testdata/logs/README.md: 60 rows
		{arg: "testdata/hunts/vm-extension-changes.yaml", rows: -1},
		{arg: "runcommand-mde", rows: -1},
	} {
		code, out, errOut := runMain(t, nil, "query", test.arg)
		switch {
		case code != test.code:
			t.Errorf("query %q: exit %d, want %d\n%s%s", test.arg, code, test.code, out, errOut)
		case code != 0 && (!strings.Contains(errOut, test.want) || strings.Contains(errOut, test.reject)):
			t.Errorf("query %q: stderr %q, want %q and not %q", test.arg, errOut, test.want, test.reject)
		case code == 0 && test.rows >= 0 && tableRows(t, out) != test.rows:
			t.Errorf("query %q: %d rows, want %d", test.arg, tableRows(t, out), test.rows)
		}
	}
}

// Every command refuses positional arguments it does not take: a usage error (exit 2), not a run
// that ignores them.
func TestCommandsRejectUnknownArguments(t *testing.T) {
	chdirRoot(t)
	state := filepath.Join(t.TempDir(), "state.json")
	for _, args := range [][]string{
		{"run", "--state", state, "extra-arg"},
		{"run", "--dry-run", "--state", state, "runcommand-mde"},
		{"serve", "extra"},
		{"preview", "--out", t.TempDir(), "extra"},
		{"hunts", "extra"},
		{"query", "AzureActivity", "take 3"},
		{"query"},
		{"run", "--no-such-flag"},
	} {
		code, out, errOut := runMain(t, nil, args...)
		if code != 2 || !strings.Contains(errOut, "Usage: huntwatch "+args[0]) {
			t.Errorf("%q: exit %d, want 2 with the usage\n%s%s", args, code, out, errOut)
		}
		if out != "" {
			t.Errorf("%q: something ran:\n%s", args, out)
		}
	}
	if _, err := os.Stat(state); err == nil {
		t.Error("a rejected run wrote state")
	}
	code, _, errOut := runMain(t, nil, "run", "--state", state, "extra-arg")
	if code != 2 || !strings.Contains(errOut, `unexpected argument "extra-arg"`) {
		t.Errorf("run extra-arg: exit %d, %q", code, errOut)
	}
}

// A dry run touches no state: no state file, no lock file, not even the state's folder.
func TestDryRunCreatesNothing(t *testing.T) {
	chdirRoot(t)
	dir := t.TempDir()
	code, out, errOut := runMain(t, nil, "run", "--dry-run", "--state", filepath.Join(dir, ".huntwatch", "state.json"))
	if code != 0 || !strings.Contains(out, "5 new") {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("the dry run created %v", entries)
	}
	// Over an existing state it reads what is known.
	state := filepath.Join(dir, "state.json")
	if code, out, _ := runMain(t, nil, "run", "--state", state); code != 0 || !strings.Contains(out, "5 new") {
		t.Fatalf("run: exit %d\n%s", code, out)
	}
	before, _ := os.ReadFile(state)
	if code, out, _ := runMain(t, nil, "run", "--dry-run", "--state", state); code != 0 || !strings.Contains(out, "(0 new, 5 already notified)") {
		t.Errorf("dry run over a state: exit %d\n%s", code, out)
	}
	if after, _ := os.ReadFile(state); string(after) != string(before) {
		t.Error("the dry run changed the state file")
	}
}
