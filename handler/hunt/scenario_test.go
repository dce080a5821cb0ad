package hunt_test

// Scenario tests: small log folders (testdata/scenarios/<name>/) run through the embedded KQL
// engine exactly as the pipeline runs a hunt (Window.Declare, the Log Analytics timespan
// [Start-ClockSkew, End], Findings), for the corrected hunt and for the seed it was corrected from.
// docs/hunts.md ("Scenarios") tells the same story in prose.
//
// The folders hold AzureActivity as current workspaces log it (upper-case OperationNameValue,
// Start/Accept/Success/Failure). Each scenario also runs over a copy rewritten to the legacy
// format (canonical-case operation, Started/Accepted/Succeeded/Failed): the corrected hunt must
// find the same, and the seed, which returns nothing on current data, shows its other defects there.

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/huntwatch/huntwatch/handler/hunt"
	"github.com/huntwatch/huntwatch/handler/logdir"
)

const (
	scenarioRoot    = "../../testdata/scenarios"
	sampleLogsDir   = "../../testdata/logs"
	tableSchemasDir = "../../testdata/schemas"

	// Every scenario happens on 2026-11-20 in this subscription; alice runs the commands unless
	// a finding says otherwise.
	scenarioSub    = "7c1e2f3a-4b5d-4e6f-8a9b-0c1d2e3f4a5b"
	scenarioCaller = "alice.admin@contoso.com"
	runCommandOp   = "microsoft.compute/virtualmachines/runcommand/action"
)

// at is 2026-11-20 at hh:mm UTC.
func at(hhmm string) time.Time {
	t, err := time.Parse(time.RFC3339, "2026-11-20T"+hhmm+":00Z")
	if err != nil {
		panic(err)
	}
	return t
}

func window(from, to string) hunt.Window { return hunt.Window{Start: at(from), End: at(to)} }

// wantFinding is one finding of the corrected hunt.
type wantFinding struct {
	run      int    // the run's CorrelationId is scenarioCorr(scenario, run); 0: not checked
	rg, vm   string // the VM's resource group and Azure name
	caller   string // "" is scenarioCaller
	status   string // ActivityStatus
	commands []string
	// commands are the sorted distinct commands (fingerprint: their hash); nil: none, so the
	// fingerprint is "no-mde:" and a hash of caller, VM and operation.
	size int64 // PowershellFileSize, when there are commands
}

// seedRow is one row of the seed's result: the VM and the command list it hashed.
type seedRow struct {
	vm       string
	commands []string
}

type scenarioWindow struct {
	w    hunt.Window
	want []wantFinding // the corrected hunt, in result order (run start)
	seed []seedRow     // the seed over the legacy-format copy; over the data as logged it returns nothing
}

type scenario struct {
	name    string // folder under testdata/scenarios
	n       int    // scenario number, the first group of its CorrelationIds
	windows []scenarioWindow
}

// scenarioCorr is the CorrelationId of run r of scenario n in testdata/scenarios.
func scenarioCorr(n, r int) string { return fmt.Sprintf("%08x-0000-4000-8000-%012x", n, r) }

var (
	// The same inventory script (fingerprint-stability), and two others.
	scriptX = []string{"Get-HotFix", "Get-LocalGroupMember", "Get-Service"}
	scriptP = []string{"Get-ChildItem", "Remove-Item"}
	scriptQ = []string{"Invoke-WebRequest", "Start-Process"}
	// What the seed makes of them: make_list in time order, merged across every process that ran
	// a script of the same file name.
	seedX   = []string{"Get-Service", "Get-HotFix", "Get-LocalGroupMember"}
	seedPX  = slices.Concat([]string{"Get-ChildItem", "Remove-Item"}, seedX)
	seedXQ  = slices.Concat(seedX, []string{"Invoke-WebRequest", "Start-Process"})
	hourW   = window("10:00", "11:00")
	webProd = "RG-WEB-PROD"
)

var scenarios = []scenario{
	{name: "current-format", n: 1, windows: []scenarioWindow{{w: hourW,
		want: []wantFinding{{run: 1, rg: "RG-APP-PROD", vm: "app-prod-03", status: "Success", commands: []string{"Get-Service", "Stop-Service"}, size: 318}},
		// Legacy format: found, but the list keeps the repeat and an empty "command" from the
		// process's DnsQueryResponse event (defect 4).
		seed: []seedRow{{"app-prod-03", []string{"Get-Service", "Stop-Service", "", "Get-Service"}}},
	}}},
	{name: "mixed-case-vm", n: 2, windows: []scenarioWindow{{w: hourW,
		want: []wantFinding{{run: 1, rg: webProd, vm: "Web-Prod-01", status: "Success", commands: []string{"Get-ComputerInfo", "Get-HotFix"}, size: 205}},
		seed: nil, // "Web-Prod-01" joined case-sensitively with "web-prod-01": no match, and the run is dropped
	}}},
	{name: "script0-two-vms", n: 3, windows: []scenarioWindow{{w: hourW,
		want: []wantFinding{
			{run: 1, rg: webProd, vm: "web-prod-01", status: "Success", commands: []string{"Get-Service", "Restart-Service"}, size: 240},
			{run: 2, rg: "RG-DATA", vm: "sql-prod-02", status: "Success", commands: []string{"Get-ChildItem", "Remove-Item"}, size: 198},
		},
		// Both runs get both VMs' commands, and one fingerprint.
		seed: []seedRow{
			{"web-prod-01", []string{"Get-Service", "Get-ChildItem", "Restart-Service", "Remove-Item"}},
			{"sql-prod-02", []string{"Get-Service", "Get-ChildItem", "Restart-Service", "Remove-Item"}},
		},
	}}},
	{name: "one-vm-two-scripts", n: 4, windows: []scenarioWindow{{w: hourW,
		want: []wantFinding{
			{run: 1, rg: webProd, vm: "web-prod-01", status: "Success", commands: []string{"Get-Process", "Get-Service"}, size: 150},
			{run: 2, rg: webProd, vm: "web-prod-01", status: "Success", commands: []string{"Clear-EventLog", "Get-EventLog"}, size: 176},
		},
		seed: []seedRow{
			{"web-prod-01", []string{"Get-Service", "Get-Process"}},
			{"web-prod-01", []string{"Get-EventLog", "Clear-EventLog"}},
		},
	}}},
	{name: "no-mde", n: 5, windows: []scenarioWindow{{w: hourW,
		want: []wantFinding{{run: 1, rg: "RG-LEGACY", vm: "legacy-win-05", caller: "carol.ops@contoso.com", status: "Success"}},
		seed: nil, // the filter after its leftouter join drops runs without file events
	}}},
	{name: "failed", n: 6, windows: []scenarioWindow{{w: hourW,
		want: []wantFinding{
			{run: 1, rg: "RG-BUILD", vm: "build-win-04", caller: "m.jones@contoso.com", status: "Failure"},
			{run: 2, rg: webProd, vm: "web-prod-01", status: "Failure", commands: []string{"Get-Service", "Stop-Service"}, size: 96},
		},
		seed: nil, // successful runs only
	}}},
	{name: "window-edges", n: 7, windows: []scenarioWindow{
		{w: window("09:00", "10:00"),
			// A started at 09:59:50: this window's, still going at its end, MDE events not yet in.
			want: []wantFinding{{run: 1, rg: "RG-APP-PROD", vm: "app-prod-03", status: "Accept"}},
			seed: nil,
		},
		{w: hourW,
			want: []wantFinding{
				// B started at 10:00:05; guest clock 8 min behind: its commands are before HuntStart.
				{run: 2, rg: webProd, vm: "web-prod-01", status: "Success", commands: []string{"Get-LocalUser"}, size: 130},
				// D: the commands came 10 min 20 s after the run's end, beyond ClockSkew: not attached.
				{run: 4, rg: "RG-APP-PROD", vm: "app-prod-04", status: "Success"},
				// C: commands 9 min after the run's end (guest clock ahead): attached.
				{run: 3, rg: "RG-DATA", vm: "sql-prod-02", status: "Success", commands: []string{"Get-NetTCPConnection"}, size: 140},
				// E started at 10:58 and ends after HuntEnd: the commands seen so far.
				{run: 5, rg: webProd, vm: "web-prod-02", status: "Accept", commands: []string{"Get-WindowsFeature"}, size: 160},
			},
			// The seed reports A (started before the window) and misses B, C and D (guest clocks).
			seed: []seedRow{{"app-prod-03", []string{"Get-Process"}}},
		},
		{w: window("10:30", "11:30"),
			want: []wantFinding{
				{run: 3, rg: "RG-DATA", vm: "sql-prod-02", status: "Success", commands: []string{"Get-NetTCPConnection"}, size: 140},
				// E complete: a second finding with the same CorrelationId.
				{run: 5, rg: webProd, vm: "web-prod-02", status: "Success", commands: []string{"Get-WindowsFeature", "Install-WindowsFeature"}, size: 160},
			},
			seed: []seedRow{{"web-prod-02", []string{"Get-WindowsFeature", "Install-WindowsFeature"}}},
		},
	}},
	// Two runs on one VM three minutes apart, the first started at 09:58: the first run's script
	// process is within ClockSkew of the second run but belongs to the first, another window's.
	{name: "runs-across-window-start", n: 10, windows: []scenarioWindow{
		{w: window("09:00", "10:00"),
			want: []wantFinding{{run: 1, rg: webProd, vm: "web-prod-01", status: "Success", commands: []string{"Get-Process", "Get-Service"}, size: 150}},
			seed: []seedRow{{"web-prod-01", []string{"Get-Service", "Get-Process"}}},
		},
		{w: hourW,
			want: []wantFinding{{run: 2, rg: webProd, vm: "web-prod-01", status: "Success", commands: []string{"Clear-EventLog", "Get-EventLog"}, size: 176}},
			// No window of its own for the seed: both runs are in the timespan.
			seed: []seedRow{{"web-prod-01", []string{"Get-Service", "Get-Process"}}, {"web-prod-01", []string{"Get-EventLog", "Clear-EventLog"}}},
		},
	}},
	{name: "linux", n: 8, windows: []scenarioWindow{{w: hourW,
		want: []wantFinding{{run: 1, rg: "RG-LINUX", vm: "lnx-batch-01", caller: "dave.linux@contoso.com", status: "Success"}},
		seed: nil,
	}}},
	// X (run 2 on web-prod-01 at 10:20) in four windows; P (sql-prod-02, 09:20) and Q
	// (app-prod-03, 12:10) are other scripts also named script0.ps1; run 4 is X again on
	// sql-prod-02 at 12:40, as script1.ps1.
	{name: "fingerprint-stability", n: 9, windows: []scenarioWindow{
		{w: hourW,
			want: []wantFinding{{run: 2, rg: webProd, vm: "web-prod-01", status: "Success", commands: scriptX, size: 412}},
			seed: []seedRow{{"web-prod-01", seedX}},
		},
		{w: window("10:15", "10:45"),
			want: []wantFinding{{run: 2, rg: webProd, vm: "web-prod-01", status: "Success", commands: scriptX, size: 412}},
			seed: []seedRow{{"web-prod-01", seedX}},
		},
		{w: window("09:00", "11:00"),
			want: []wantFinding{
				{run: 1, rg: "RG-DATA", vm: "sql-prod-02", status: "Success", commands: scriptP, size: 198},
				{run: 2, rg: webProd, vm: "web-prod-01", status: "Success", commands: scriptX, size: 412},
			},
			seed: []seedRow{{"sql-prod-02", seedPX}, {"web-prod-01", seedPX}},
		},
		{w: window("10:00", "13:00"),
			want: []wantFinding{
				{run: 2, rg: webProd, vm: "web-prod-01", status: "Success", commands: scriptX, size: 412},
				{run: 3, rg: "RG-APP-PROD", vm: "app-prod-03", status: "Success", commands: scriptQ, size: 301},
				{run: 4, rg: "RG-DATA", vm: "sql-prod-02", status: "Success", commands: scriptX, size: 412},
			},
			seed: []seedRow{{"web-prod-01", seedXQ}, {"app-prod-03", seedXQ}, {"sql-prod-02", seedX}},
		},
	}},
}

func TestScenarios(t *testing.T) {
	corrected, seed := loadScenarioHunt(t, hunt.DefaultHunt), loadScenarioHunt(t, "seed-runcommand-mde")
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			logged := filepath.Join(scenarioRoot, sc.name)
			legacy := legacyCopy(t, logged)
			for _, sw := range sc.windows {
				t.Run(sw.w.String(), func(t *testing.T) {
					for _, data := range []struct{ name, dir string }{{"as logged", logged}, {"legacy format", legacy}} {
						fs, err := hunt.Findings(corrected, queryScenario(t, corrected, data.dir, sw.w))
						if err != nil {
							t.Fatalf("corrected hunt, %s: %v", data.name, err)
						}
						checkFindings(t, "corrected hunt, "+data.name, sc.n, fs, sw.want)
					}

					res := queryScenario(t, seed, logged, sw.w)
					if len(res.Rows) != 0 {
						t.Errorf("seed, as logged: %d rows, want none (defect 1): %v", len(res.Rows), resultRows(res))
					}
					if _, err := hunt.Findings(seed, res); err == nil || !strings.Contains(err.Error(), `no column "AccountCustomEntity"`) {
						t.Errorf("seed: the pipeline should refuse its result for a missing entity column (defect 5), got %v", err)
					}
					checkSeed(t, queryScenario(t, seed, legacy, sw.w), sw.seed)
				})
			}
		})
	}
}

// TestFingerprintStability spells out the key property of defect 3 over the fingerprint-stability
// scenario: a script's fingerprint does not depend on the window, on other VMs' scripts of the same
// file name, or on its own file name; the seed's does.
func TestFingerprintStability(t *testing.T) {
	corrected, seed := loadScenarioHunt(t, hunt.DefaultHunt), loadScenarioHunt(t, "seed-runcommand-mde")
	dir := filepath.Join(scenarioRoot, "fingerprint-stability")
	legacy := legacyCopy(t, dir)
	want := commandsFingerprint(scriptX)
	seedHashes := map[string]bool{}
	for _, w := range []hunt.Window{hourW, window("10:15", "10:45"), window("09:00", "11:00"), window("10:00", "13:00")} {
		fs, err := hunt.Findings(corrected, queryScenario(t, corrected, dir, w))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range fs {
			if f.Occurrence == scenarioCorr(9, 2) || f.Occurrence == scenarioCorr(9, 4) {
				if f.Fingerprint != want {
					t.Errorf("window %s: %s on %s has fingerprint %s, want %s", w, f.Occurrence, f.Value("VirtualMachineName"), f.Fingerprint, want)
				}
			} else if f.Fingerprint == want {
				t.Errorf("window %s: %s (another script) shares X's fingerprint", w, f.Occurrence)
			}
		}
		for _, r := range resultRows(queryScenario(t, seed, legacy, w)) {
			if r["VirtualMachineName"] == "web-prod-01" {
				seedHashes[fmt.Sprint(r["ScriptFingerprintHash"])] = true
			}
		}
	}
	if len(seedHashes) != 3 {
		t.Errorf("the seed's hash of X on web-prod-01 took %d values over the four windows, want 3 (it varies with the window)", len(seedHashes))
	}
}

// sampleFindings are what testdata/logs/README.md promises, in result order.
var sampleFindings = []wantFinding{
	{rg: webProd, vm: "Web-Prod-01", status: "Success", size: 412,
		commands: []string{"Get-ComputerInfo", "Get-HotFix", "Get-LocalGroupMember", "Get-Service"}},
	{rg: "RG-BUILD", vm: "build-win-04", caller: "m.jones@contoso.com", status: "Failure"},
	{rg: "RG-APP-PROD", vm: "app-prod-03", caller: "m.jones@contoso.com", status: "Success", size: 734,
		commands: []string{"Add-LocalGroupMember", "Invoke-WebRequest", "New-LocalUser", "Set-MpPreference"}},
	{rg: "RG-LEGACY", vm: "legacy-win-05", caller: "carol.ops@contoso.com", status: "Success"},
	{rg: "RG-DATA", vm: "sql-prod-02", status: "Success", size: 412,
		commands: []string{"Get-ComputerInfo", "Get-HotFix", "Get-LocalGroupMember", "Get-Service"}},
	{rg: "RG-LINUX", vm: "lnx-batch-01", caller: "dave.linux@contoso.com", status: "Success"},
}

func TestSampleLogs(t *testing.T) {
	h := loadScenarioHunt(t, hunt.DefaultHunt)
	day := hunt.Window{Start: at("00:00"), End: at("00:00").Add(24 * time.Hour)}
	fs, err := hunt.Findings(h, queryScenario(t, h, sampleLogsDir, day))
	if err != nil {
		t.Fatal(err)
	}
	checkFindings(t, "sample logs", 0, fs, sampleFindings)
	fps, occ := map[string]bool{}, map[string]bool{}
	for _, f := range fs {
		fps[f.Fingerprint], occ[f.Occurrence] = true, true
	}
	if len(fs) != 6 || len(fps) != 5 || len(occ) != 6 {
		t.Errorf("sample: %d findings, %d fingerprints, %d runs; README promises 6, 5, 6", len(fs), len(fps), len(occ))
	}
	if fs[0].Fingerprint != fs[4].Fingerprint {
		t.Error("sample: the inventory script on Web-Prod-01 and sql-prod-02 should share a fingerprint")
	}

	seed := loadScenarioHunt(t, "seed-runcommand-mde")
	if res := queryScenario(t, seed, sampleLogsDir, day); len(res.Rows) != 0 {
		t.Errorf("seed over the sample: %d rows, README says none", len(res.Rows))
	}
}

func loadScenarioHunt(t *testing.T, name string) *hunt.Hunt {
	t.Helper()
	h, err := hunt.Load(name)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// queryScenario runs h over the logs in dir exactly as the pipeline would for window w.
func queryScenario(t *testing.T, h *hunt.Hunt, dir string, w hunt.Window) *hunt.Result {
	t.Helper()
	res, err := logdir.New(dir, tableSchemasDir).Query(context.Background(), w.Declare(h.Query), hunt.Window{Start: w.Start.Add(-hunt.ClockSkew), End: w.End})
	if err != nil {
		t.Fatalf("%s over %s, window %s: %v", h.Name, dir, w, err)
	}
	return res
}

func checkFindings(t *testing.T, what string, scen int, got []hunt.Finding, want []wantFinding) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d findings, want %d:\n%s", what, len(got), len(want), describeFindings(got))
		return
	}
	for i, w := range want {
		f := &got[i]
		caller := cmp.Or(w.caller, scenarioCaller)
		vmID := fmt.Sprintf("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/virtualMachines/%s", scenarioSub, w.rg, w.vm)
		fp, device, size := noMDEFingerprint(caller, vmID), "", ""
		if w.commands != nil {
			fp, device, size = commandsFingerprint(w.commands), strings.ToLower(w.vm)+".contoso.local", strconv.FormatInt(w.size, 10)
		}
		cmds, _ := f.Field("PowershellScriptCommands")
		for _, c := range []struct{ name, got, want string }{
			{"VirtualMachineName", f.Value("VirtualMachineName"), w.vm},
			{"ResourceId", f.Value("ResourceId"), vmID},
			{"Caller", f.Value("Caller"), caller},
			{"ActivityStatus", f.Value("ActivityStatus"), w.status},
			{"PowershellScriptCommands", strings.Join(cmds.List, ", "), strings.Join(w.commands, ", ")},
			{"CommandCount", f.Value("CommandCount"), strconv.Itoa(len(w.commands))},
			{"DeviceName", f.Value("DeviceName"), device},
			{"PowershellFileSize", f.Value("PowershellFileSize"), size},
			{"fingerprint", f.Fingerprint, fp},
		} {
			if c.got != c.want {
				t.Errorf("%s: finding %d (%s): %s = %q, want %q", what, i, w.vm, c.name, c.got, c.want)
			}
		}
		if w.run != 0 && f.Occurrence != scenarioCorr(scen, w.run) {
			t.Errorf("%s: finding %d (%s): occurrence %s, want %s", what, i, w.vm, f.Occurrence, scenarioCorr(scen, w.run))
		}
	}
}

func checkSeed(t *testing.T, res *hunt.Result, want []seedRow) {
	t.Helper()
	rows := resultRows(res)
	if len(rows) != len(want) {
		t.Errorf("seed, legacy format: %d rows, want %d: %v", len(rows), len(want), rows)
		return
	}
	for i, w := range want {
		r := rows[i]
		var cmds []string
		list, _ := r["PowershellScriptCommands"].([]any)
		for _, c := range list {
			cmds = append(cmds, fmt.Sprint(c))
		}
		text, _ := json.Marshal(w.commands) // the seed hashes tostring(list)
		if r["VirtualMachineName"] != w.vm || !slices.Equal(cmds, w.commands) || r["ScriptFingerprintHash"] != sha256Hex(string(text)) {
			t.Errorf("seed, legacy format: row %d = %v %q %v, want %s %q %s", i, r["VirtualMachineName"], cmds, r["ScriptFingerprintHash"], w.vm, w.commands, sha256Hex(string(text)))
		}
	}
}

// commandsFingerprint is the corrected hunt's fingerprint of a script: the hash of its sorted
// distinct commands, one a line.
func commandsFingerprint(commands []string) string {
	c := slices.Clone(commands)
	sort.Strings(c)
	return sha256Hex(strings.Join(slices.Compact(c), "\n"))
}

// noMDEFingerprint is the corrected hunt's fingerprint of a run without commands.
func noMDEFingerprint(caller, vmID string) string {
	return "no-mde:" + sha256Hex(strings.ToLower(caller)+"|"+strings.ToLower(vmID)+"|"+runCommandOp)
}

func sha256Hex(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// resultRows returns the rows of res as column-name maps.
func resultRows(res *hunt.Result) []map[string]any {
	out := make([]map[string]any, len(res.Rows))
	for i, row := range res.Rows {
		out[i] = map[string]any{}
		for j, c := range res.Columns {
			out[i][c.Name] = row[j]
		}
	}
	return out
}

func describeFindings(fs []hunt.Finding) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "  %s %s %s %s %s fp=%.16s\n", f.Value("StartTime"), f.Occurrence, f.Value("VirtualMachineName"),
			f.Value("ActivityStatus"), f.Value("PowershellScriptCommands"), f.Fingerprint)
	}
	return b.String()
}

// legacyCopy copies a logs folder's tables with AzureActivity rewritten as older workspaces
// logged it: OperationNameValue in its canonical case (packOps), statuses Started/Accepted/
// Succeeded/Failed. An operation or status without a legacy form fails the test, so that no row
// is left in today's shape by mistake.
func legacyCopy(t *testing.T, dir string) string {
	t.Helper()
	ops := map[string]string{}
	for _, op := range packOps {
		ops[strings.ToUpper(op)] = op
	}
	statuses := map[string]string{"Start": "Started", "Accept": "Accepted", "Success": "Succeeded", "Failure": "Failed"}
	out := t.TempDir()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if e.Name() == "AzureActivity.json" {
			var rows []map[string]any
			if err := json.Unmarshal(data, &rows); err != nil {
				t.Fatal(err)
			}
			for _, r := range rows {
				op, ok := ops[fmt.Sprint(r["OperationNameValue"])]
				st, ok2 := statuses[fmt.Sprint(r["ActivityStatusValue"])]
				if !ok || !ok2 {
					t.Fatalf("%s: no legacy form for %v / %v", dir, r["OperationNameValue"], r["ActivityStatusValue"])
				}
				r["OperationNameValue"], r["ActivityStatusValue"] = op, st
			}
			if data, err = json.Marshal(rows); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(filepath.Join(out, e.Name()), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return out
}
