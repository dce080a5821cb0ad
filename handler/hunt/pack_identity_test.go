package hunt_test

// Scenario tests of how the corrected Run Command hunt (runcommand-mde) tells which VM a Defender
// device is (issue 17, section 1): by the VM's resource id where DeviceInfo has the device's
// (AzureResourceId), else by name, and never silently when a name is ambiguous (MatchedBy).
// docs/hunts.md ("Matching" and "Scenarios") tells the same story; testdata/scenarios/README.md
// what the folders hold.

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/huntwatch/huntwatch/handler/hunt"
)

// Two VMs named iis-01, in RG-WEB-PROD and RG-WEB-DR, both with Defender (computer names
// iis-01.prod.contoso.local and iis-01.dr.contoso.local), each running a different script in the
// same minute. Run 1 (prod, 10:20:00-10:20:20) ran scriptP, whose first command is logged at
// 10:20:25; run 2 (DR, 10:20:10-10:21:10) ran scriptQ, logged from 10:20:05 (the DR guest clock
// is behind). By name and time alone each script is nearer the other VM's run.
const (
	idProdDevice = "iis-01.prod.contoso.local"
	idDRDevice   = "iis-01.dr.contoso.local"
	idDRDeviceID = "c4e8b2d6f0a1937e5b7d9f1a3c5e7b9d0f2a4c6e"
)

var (
	idProdVM = pkVMResource("RG-WEB-PROD", "iis-01")
	idDRVM   = pkVMResource("RG-WEB-DR", "iis-01")
)

// identityWant is one finding of the identity scenarios.
type identityWant struct {
	run       int    // CorrelationId: scenarioCorr(scenario, run)
	vmID      string // ResourceId
	device    string // DeviceName of the script attached; "" when none
	commands  []string
	size      int64
	matchedBy string // MatchedBy
}

var (
	idProdP = identityWant{run: 1, vmID: idProdVM, device: idProdDevice, commands: scriptP, size: 198}
	idDRQ   = identityWant{run: 2, vmID: idDRVM, device: idDRDevice, commands: scriptQ, size: 301}
	// The swap that matching by name alone makes here.
	idProdQ = identityWant{run: 1, vmID: idProdVM, device: idDRDevice, commands: scriptQ, size: 301}
	idDRP   = identityWant{run: 2, vmID: idDRVM, device: idProdDevice, commands: scriptP, size: 198}
)

func (w identityWant) by(m string) identityWant { w.matchedBy = m; return w }

func TestVMIdentity(t *testing.T) {
	h := loadScenarioHunt(t, hunt.DefaultHunt)
	byID := filepath.Join(scenarioRoot, "same-name-vms")
	noID := filepath.Join(scenarioRoot, "same-name-vms-no-id")
	for _, test := range []struct {
		name string
		n    int    // scenario number of the folder
		dir  string // the logs
		want []identityWant
	}{
		// DeviceInfo has both devices' AzureResourceId (in lower case, one row of each device
		// without it): each script goes to its own VM's run, whatever the times say.
		{"resource id", 14, byID, []identityWant{idProdP.by("resource id"), idDRQ.by("resource id")}},
		// DeviceInfo without AzureResourceId: by name each script goes to the nearest run, here the
		// other VM's; both findings say name-ambiguous.
		{"no resource id", 15, noID, []identityWant{idProdQ.by("name-ambiguous"), idDRP.by("name-ambiguous")}},
		// A workspace that does not stream DeviceInfo: the same, and the query still runs.
		{"no DeviceInfo", 15, withoutTable(t, noID, "DeviceInfo"), []identityWant{idProdQ.by("name-ambiguous"), idDRP.by("name-ambiguous")}},
		// Only the prod device is known by id: its script goes to its VM, and the DR script, by
		// name, cannot go to a VM that another device is known as: no ambiguity left.
		{"one device known by id", 14, withoutDevice(t, byID, "DeviceInfo", idDRDeviceID),
			[]identityWant{idProdP.by("resource id"), idDRQ.by("name")}},
		// The DR VM without Defender, no ids: prod's script may be either run's; it goes to the
		// nearest (DR's), and both findings say name-ambiguous, also the one left without commands.
		{"one VM without Defender", 15, withoutDevice(t, withoutDevice(t, noID, "DeviceEvents", idDRDeviceID), "DeviceFileEvents", idDRDeviceID),
			[]identityWant{{run: 1, vmID: idProdVM, matchedBy: "name-ambiguous"}, idDRP.by("name-ambiguous")}},
	} {
		t.Run(test.name, func(t *testing.T) {
			bothShapes(t, test.dir, func(t *testing.T, dir string) {
				checkIdentity(t, h, test.n, packFindings(t, h, dir, hourW), test.want)
			})
		})
	}
}

func checkIdentity(t *testing.T, h *hunt.Hunt, n int, fs []hunt.Finding, want []identityWant) {
	t.Helper()
	cols := []string{"VirtualMachineName", "ResourceGroup", "DeviceName", "MatchedBy", "PowershellScriptCommands"}
	if len(fs) != len(want) {
		t.Fatalf("%d findings, want %d:\n%s", len(fs), len(want), describePack(fs, cols...))
	}
	for i, w := range want {
		f := &fs[i]
		what := fmt.Sprintf("finding %d (run %d)", i, w.run)
		fp, size := noMDEFingerprint(scenarioCaller, w.vmID), ""
		if w.commands != nil {
			fp, size = commandsFingerprint(w.commands), strconv.FormatInt(w.size, 10)
		}
		if f.Occurrence != scenarioCorr(n, w.run) || f.Fingerprint != fp {
			t.Errorf("%s: occurrence %s fingerprint %.16s, want %s %.16s", what, f.Occurrence, f.Fingerprint, scenarioCorr(n, w.run), fp)
		}
		checkPackFields(t, what, f,
			packField{"ResourceId", w.vmID},
			packField{"VirtualMachineName", "iis-01"},
			packField{"DeviceName", w.device},
			packField{"PowershellFileSize", size},
			packField{"MatchedBy", w.matchedBy},
		)
		if cmds, _ := f.Field("PowershellScriptCommands"); !slices.Equal(cmds.List, w.commands) {
			t.Errorf("%s: commands %q, want %q", what, cmds.List, w.commands)
		}
		// The message says how the VM was matched: MatchedBy is in its small print.
		others := h.View(f, hunt.ViewOptions{}).Others
		shown := slices.ContainsFunc(others, func(o hunt.Fact) bool { return o.Label == "MatchedBy" && o.Value == w.matchedBy })
		if shown != (w.matchedBy != "") {
			t.Errorf("%s: MatchedBy %q in the message's small print: %v (%v)", what, w.matchedBy, shown, others)
		}
	}
}

// TestMatchedByName: in the scenarios without DeviceInfo, every VM name is unique, so every
// script is matched by name, unambiguously, and a run without one says nothing.
func TestMatchedByName(t *testing.T) {
	h := loadScenarioHunt(t, hunt.DefaultHunt)
	check := func(name string, w hunt.Window) {
		for _, f := range packFindings(t, h, filepath.Join(scenarioRoot, name), w) {
			want := ""
			if f.Value("CommandCount") != "0" {
				want = "name"
			}
			if got := f.Value("MatchedBy"); got != want {
				t.Errorf("%s %s: %s on %s: MatchedBy %q, want %q", name, w, f.Occurrence, f.Value("VirtualMachineName"), got, want)
			}
		}
	}
	for _, sc := range scenarios {
		for _, sw := range sc.windows {
			check(sc.name, sw.w)
		}
	}
	for _, sc := range packRunScenarios {
		check(sc.name, sc.w)
	}
}

// TestScaleSetByResourceId: the instances of a uniform scale set are named webvmss000000... in
// Defender, which no name in AzureActivity gives (scenario scale-set: no commands). Where
// DeviceInfo has their resource ids (assumed here in the form AzureActivity gives:
// .../virtualMachineScaleSets/<set>/virtualMachines/<instance>), their scripts are attached.
func TestScaleSetByResourceId(t *testing.T) {
	h := loadScenarioHunt(t, hunt.DefaultHunt)
	dir := copyLogs(t, filepath.Join(scenarioRoot, "scale-set"))
	var rows []map[string]any
	for i, dev := range map[string]string{"0": "90eda09dbb5d914f2e188b560f0545e1d2becb5e", "3": "f9c7cce9b3f3b21643d89c26c40e34fdc3b0a910"} {
		rows = append(rows, map[string]any{"TimeGenerated": "2026-11-20T10:05:00.0000000Z", "DeviceId": dev,
			"DeviceName": "webvmss00000" + i + ".contoso.local", "AzureResourceId": pkVMSS + "/virtualMachines/" + i})
	}
	writeRows(t, filepath.Join(dir, "DeviceInfo.json"), rows)
	bothShapes(t, dir, func(t *testing.T, dir string) {
		fs := packFindings(t, h, dir, hourW)
		want := []struct{ vm, device, matchedBy string }{
			{"web-vmss_0", "webvmss000000.contoso.local", "resource id"},
			{"web-vmss_3", "webvmss000003.contoso.local", "resource id"},
			{"web-vmss_3", "", ""}, // the managed "patch" run: no script process in its time
		}
		if len(fs) != len(want) {
			t.Fatalf("%d findings, want %d:\n%s", len(fs), len(want), describePack(fs, "VirtualMachineName", "DeviceName", "MatchedBy"))
		}
		for i, w := range want {
			f := &fs[i]
			checkPackFields(t, fmt.Sprintf("finding %d", i), f, packField{"VirtualMachineName", w.vm}, packField{"DeviceName", w.device}, packField{"MatchedBy", w.matchedBy})
			if w.device != "" && f.Fingerprint != commandsFingerprint([]string{"Get-Service"}) {
				t.Errorf("finding %d: fingerprint %.16s, want Get-Service's", i, f.Fingerprint)
			}
		}
	})
}

// TestSampleMatchedBy: in the sample logs (testdata/logs/README.md), DeviceInfo gives the Azure
// resource ids of web-prod-01 and app-prod-03, not sql-prod-02's; the findings TestSampleLogs pins
// say how each was matched.
func TestSampleMatchedBy(t *testing.T) {
	h := loadScenarioHunt(t, hunt.DefaultHunt)
	day := hunt.Window{Start: at("00:00"), End: at("00:00").Add(24 * time.Hour)}
	var got []string
	for _, f := range packFindings(t, h, sampleLogsDir, day) {
		got = append(got, f.Value("VirtualMachineName")+":"+f.Value("MatchedBy"))
	}
	want := []string{"Web-Prod-01:resource id", "build-win-04:", "app-prod-03:resource id", "legacy-win-05:", "sql-prod-02:name", "lnx-batch-01:"}
	if !slices.Equal(got, want) {
		t.Errorf("sample: %q, want %q", got, want)
	}
}

// copyLogs copies the table files of a logs folder into a temporary one.
func copyLogs(t *testing.T, dir string) string {
	t.Helper()
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
		if err := os.WriteFile(filepath.Join(out, e.Name()), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// withoutTable is a copy of a logs folder without one table.
func withoutTable(t *testing.T, dir, table string) string {
	t.Helper()
	out := copyLogs(t, dir)
	if err := os.Remove(filepath.Join(out, table+".json")); err != nil {
		t.Fatal(err)
	}
	return out
}

// withoutDevice is a copy of a logs folder whose table holds no row of the device deviceID.
func withoutDevice(t *testing.T, dir, table, deviceID string) string {
	t.Helper()
	out := copyLogs(t, dir)
	path := filepath.Join(out, table+".json")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rows []map[string]any
	if err := json.Unmarshal(data, &rows); err != nil {
		t.Fatal(err)
	}
	n := len(rows)
	rows = slices.DeleteFunc(rows, func(r map[string]any) bool { return r["DeviceId"] == deviceID })
	if len(rows) == n {
		t.Fatalf("%s has no row of device %s", path, deviceID)
	}
	writeRows(t, path, rows)
	return out
}

func writeRows(t *testing.T, path string, rows []map[string]any) {
	t.Helper()
	data, err := json.Marshal(rows)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
