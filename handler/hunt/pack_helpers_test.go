package hunt_test

// Helpers of the bundled pack's scenario tests (pack_*_test.go), beside those of scenario_test.go,
// which they reuse as they are.

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/huntwatch/huntwatch/handler/hunt"
	"gopkg.in/yaml.v3"
)

// packOps are the operations the scenarios and sample logs hold, in their canonical case: the
// legacy form of OperationNameValue (see legacyCopy). AzureActivity logs them in upper case today.
var packOps = []string{
	"Microsoft.Compute/virtualMachines/runCommand/action",
	"Microsoft.Compute/virtualMachines/runCommands/write",
	"Microsoft.Compute/virtualMachines/runCommands/delete",
	"Microsoft.Compute/virtualMachineScaleSets/virtualMachines/runCommand/action",
	"Microsoft.Compute/virtualMachineScaleSets/virtualMachines/runCommands/write",
	"Microsoft.Compute/virtualMachines/restart/action",
	"Microsoft.Compute/virtualMachines/deallocate/action",
	"Microsoft.Compute/virtualMachines/write",
	"Microsoft.Compute/virtualMachines/extensions/write",
	"Microsoft.Compute/virtualMachines/extensions/delete",
	"Microsoft.Compute/virtualMachineScaleSets/extensions/write",
	"Microsoft.Compute/virtualMachines/retrieveBootDiagnosticsData/action",
	"Microsoft.Compute/virtualMachineScaleSets/virtualMachines/retrieveBootDiagnosticsData/action",
	"Microsoft.SerialConsole/serialPorts/connect/action",
	"Microsoft.SerialConsole/consoleServices/enableConsole/action",
	"Microsoft.SerialConsole/consoleServices/disableConsole/action",
	"Microsoft.Resources/deployments/write",
	"Microsoft.Authorization/roleAssignments/write",
	"Microsoft.Storage/storageAccounts/listKeys/action",
}

// bothShapes runs check over a logs folder as logged (today's AzureActivity) and over its legacy copy.
func bothShapes(t *testing.T, dir string, check func(t *testing.T, dir string)) {
	t.Helper()
	legacy := legacyCopy(t, dir)
	for _, data := range []struct{ name, dir string }{{"as logged", dir}, {"legacy format", legacy}} {
		t.Run(data.name, func(t *testing.T) { check(t, data.dir) })
	}
}

// on is hh:mm UTC on the given day of November 2026.
func onNov(day int, hhmm string) time.Time {
	t, err := time.Parse(time.RFC3339, fmt.Sprintf("2026-11-%02dT%s:00Z", day, hhmm))
	if err != nil {
		panic(err)
	}
	return t
}

// ruleSchedule reads a bundled scheduled rule's queryFrequency and queryPeriod (Sentinel's short
// durations: 5m, 1h, 14d).
func ruleSchedule(t *testing.T, name string) (frequency, period time.Duration) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("bundled", name+".yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		Kind      string `yaml:"kind"`
		Frequency string `yaml:"queryFrequency"`
		Period    string `yaml:"queryPeriod"`
	}
	if err := yaml.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	if r.Kind != "Scheduled" {
		t.Fatalf("%s: kind %q, want Scheduled", name, r.Kind)
	}
	parse := func(s string) time.Duration {
		n, err := strconv.Atoi(s[:len(s)-1])
		unit := map[byte]time.Duration{'m': time.Minute, 'h': time.Hour, 'd': 24 * time.Hour}[s[len(s)-1]]
		if err != nil || unit == 0 || n <= 0 {
			t.Fatalf("%s: duration %q", name, s)
		}
		return time.Duration(n) * unit
	}
	return parse(r.Frequency), parse(r.Period)
}

// ruleWindow is the window of a run of a scheduled rule that ends at end: its query period, which
// the rule splits into the part it reports (the last queryFrequency) and its baseline.
func ruleWindow(period time.Duration, end time.Time) hunt.Window {
	return hunt.Window{Start: end.Add(-period), End: end}
}

// packFindings runs h over the logs in dir for window w exactly as the pipeline would, and turns
// the result into findings.
func packFindings(t *testing.T, h *hunt.Hunt, dir string, w hunt.Window) []hunt.Finding {
	t.Helper()
	fs, err := hunt.Findings(h, queryScenario(t, h, dir, w))
	if err != nil {
		t.Fatalf("%s over %s, window %s: %v", h.Name, dir, w, err)
	}
	return fs
}

// packHash is the rules' fingerprint: the SHA-256 of the parts joined by "|".
func packHash(parts ...string) string { return sha256Hex(strings.Join(parts, "|")) }

// field is one column a test expects of a finding.
type packField struct{ name, want string }

// checkPackFields compares the named columns of a finding.
func checkPackFields(t *testing.T, what string, f *hunt.Finding, fields ...packField) {
	t.Helper()
	for _, c := range fields {
		if got := f.Value(c.name); got != c.want {
			t.Errorf("%s: %s = %q, want %q", what, c.name, got, c.want)
		}
	}
}

// describePack lists findings, one a line, for failure messages.
func describePack(fs []hunt.Finding, cols ...string) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "  occ=%s fp=%.12s", f.Occurrence, f.Fingerprint)
		for _, c := range cols {
			fmt.Fprintf(&b, " %s=%s", c, f.Value(c))
		}
		b.WriteByte('\n')
	}
	return b.String()
}
