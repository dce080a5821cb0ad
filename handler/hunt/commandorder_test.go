package hunt_test

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/huntwatch/huntwatch/handler/hunt"
)

// TestCommandOrder: the corrected hunt returns a script's commands twice, as the sorted set it
// fingerprints (PowershellScriptCommands, pinned by TestScenarios) and, for people, in the order
// the script first ran them (PowershellCommandsInOrder): the same commands, each once.
func TestCommandOrder(t *testing.T) {
	h := loadScenarioHunt(t, hunt.DefaultHunt)
	for _, test := range []struct {
		dir  string
		w    hunt.Window
		want map[string][]string // VM -> commands in the order they first ran
	}{
		{filepath.Join(scenarioRoot, "fingerprint-stability"), hourW,
			map[string][]string{"web-prod-01": {"Get-Service", "Get-HotFix", "Get-LocalGroupMember"}}},
		// A repeated command is listed once, where it first ran.
		{filepath.Join(scenarioRoot, "current-format"), hourW,
			map[string][]string{"app-prod-03": {"Get-Service", "Stop-Service"}}},
		{sampleLogsDir, hunt.Window{Start: at("00:00"), End: at("00:00").Add(24 * time.Hour)}, map[string][]string{
			"app-prod-03":  {"Set-MpPreference", "Invoke-WebRequest", "New-LocalUser", "Add-LocalGroupMember"},
			"Web-Prod-01":  {"Get-ComputerInfo", "Get-Service", "Get-HotFix", "Get-LocalGroupMember"},
			"build-win-04": nil,
		}},
	} {
		fs, err := hunt.Findings(h, queryScenario(t, h, test.dir, test.w))
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, f := range fs {
			vm := f.Value("VirtualMachineName")
			inOrder, ok := f.Field("PowershellCommandsInOrder")
			if !ok {
				t.Fatalf("%s: no column PowershellCommandsInOrder", test.dir)
			}
			sorted, _ := f.Field("PowershellScriptCommands")
			if want, ok := test.want[vm]; ok {
				seen[vm] = true
				if !slices.Equal(inOrder.List, want) {
					t.Errorf("%s, %s: commands in order %q, want %q", test.dir, vm, inOrder.List, want)
				}
			}
			// Every finding: the ordered list holds exactly the fingerprinted set.
			again := slices.Clone(inOrder.List)
			slices.Sort(again)
			if !slices.Equal(again, sorted.List) {
				t.Errorf("%s, %s: in order %q, sorted %q: not the same commands", test.dir, vm, inOrder.List, sorted.List)
			}
		}
		for vm := range test.want {
			if !seen[vm] {
				t.Errorf("%s: no finding on %s; findings:\n%s", test.dir, vm, describeFindings(fs))
			}
		}
	}
}

// TestCommandOrderAllScenarios: in every scenario and window, the ordered list is a permutation
// of the fingerprinted set, so showing one and hashing the other describe the same script.
func TestCommandOrderAllScenarios(t *testing.T) {
	h := loadScenarioHunt(t, hunt.DefaultHunt)
	for _, sc := range scenarios {
		for _, sw := range sc.windows {
			fs, err := hunt.Findings(h, queryScenario(t, h, filepath.Join(scenarioRoot, sc.name), sw.w))
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range fs {
				inOrder, _ := f.Field("PowershellCommandsInOrder")
				sorted, _ := f.Field("PowershellScriptCommands")
				again := slices.Clone(inOrder.List)
				slices.Sort(again)
				if !slices.Equal(again, sorted.List) {
					t.Errorf("%s %s, %s: in order [%s], sorted [%s]", sc.name, sw.w, f.Value("VirtualMachineName"),
						strings.Join(inOrder.List, ", "), strings.Join(sorted.List, ", "))
				}
			}
		}
	}
}
