package hunt_test

// Scenario tests of the corrected Run Command hunt (runcommand-mde) on the shapes the first
// scenarios (scenario_test.go) do not hold: the managed Run Command (runCommands/write) and
// scale-set instances, in today's AzureActivity and the legacy one. docs/hunts.md ("Scenarios")
// tells the same story; testdata/scenarios/README.md what each folder holds.

import (
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/huntwatch/huntwatch/handler/hunt"
)

const (
	pkManagedOp      = "Microsoft.Compute/virtualMachines/runCommands/write"
	pkClassicSSOp    = "Microsoft.Compute/virtualMachineScaleSets/virtualMachines/runCommand/action"
	pkManagedSSOp    = "Microsoft.Compute/virtualMachineScaleSets/virtualMachines/runCommands/write"
	pkDeployPipeline = "5e8d2b1a-3c4f-4a6b-9d7e-1f2a3b4c5d6e" // a service principal's object id, as AzureActivity names it
)

func pkVMResource(rg, vm string) string {
	return fmt.Sprintf("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/virtualMachines/%s", scenarioSub, rg, vm)
}

func pkScaleSetResource(rg, ss string) string {
	return fmt.Sprintf("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/virtualMachineScaleSets/%s", scenarioSub, rg, ss)
}

// packRunWant is one finding of the corrected hunt in the managed and scale-set scenarios.
type packRunWant struct {
	run        int    // CorrelationId: scenarioCorr(scenario, run)
	runSuffix  string // RunId is the CorrelationId followed by this ("" when the CorrelationId holds one run)
	vmID       string // ResourceId: the VM or the scale-set instance
	vm         string // VirtualMachineName
	runCommand string // RunCommandName: the managed run command's name; "" for the classic Run Command
	op         string // OperationNameValue, compared case-insensitively
	caller     string // "" is scenarioCaller
	status     string
	commands   []string // sorted distinct commands; nil: none, and the fingerprint is "no-mde:"
	file       string   // PowershellFileName, when there are commands
	size       int64    // PowershellFileSize, when there are commands
	// fpTarget is the resource a run without commands is fingerprinted on: the VM, or the scale
	// set for a scale-set instance ("" is vmID).
	fpTarget string
}

func (w packRunWant) fingerprint() string {
	if w.commands != nil {
		return commandsFingerprint(w.commands)
	}
	target := w.fpTarget
	if target == "" {
		target = w.vmID
	}
	caller := w.caller
	if caller == "" {
		caller = scenarioCaller
	}
	return "no-mde:" + sha256Hex(strings.ToLower(caller)+"|"+strings.ToLower(target)+"|"+strings.ToLower(w.op))
}

type packRunScenario struct {
	name string
	n    int
	w    hunt.Window
	want []packRunWant
}

var (
	pkApp5  = pkVMResource("RG-APP-PROD", "app-prod-05")
	pkWeb2  = pkVMResource("RG-WEB-PROD", "web-prod-02")
	pkWeb1  = pkVMResource("RG-WEB-PROD", "web-prod-01")
	pkSQL2  = pkVMResource("RG-DATA", "sql-prod-02")
	pkBuild = pkVMResource("RG-BUILD", "build-win-04")
	pkVMSS  = pkScaleSetResource("RG-WEB-PROD", "web-vmss")
)

var packRunScenarios = []packRunScenario{
	// The managed Run Command on two Windows VMs with MDE: the script under the handler's folder
	// (its parent process named like nothing in particular), and a script named by a relative path
	// whose parent process is named *RunCommand* (PowerShell 7); a managed run on a deallocated VM
	// that fails; deleting a run command resource, which runs nothing.
	{name: "managed-runcommand", n: 11, w: hourW, want: []packRunWant{
		{run: 1, vmID: pkApp5, vm: "app-prod-05", runCommand: "inventory", op: pkManagedOp, status: "Success",
			commands: []string{"Get-CimInstance", "Get-LocalUser"}, file: "inventory-0.ps1", size: 388},
		{run: 2, vmID: pkWeb2, vm: "web-prod-02", runCommand: "inventory", op: pkManagedOp, status: "Success",
			commands: []string{"Get-Service", "Set-Service"}, file: "inventory-0.ps1", size: 254},
		{run: 3, vmID: pkBuild, vm: "build-win-04", runCommand: "fix", op: pkManagedOp, caller: "m.jones@contoso.com", status: "Failure"},
	}},
	// One ARM deployment (one CorrelationId, also on the deployment's own events) writes two run
	// commands on web-prod-01, which run in parallel, and one on sql-prod-02: three runs, each with
	// its own script; the same script on two VMs is one fingerprint with two occurrences.
	{name: "managed-deployment", n: 12, w: hourW, want: []packRunWant{
		{run: 1, runSuffix: "/web-prod-01/firstRunCommand", vmID: pkWeb1, vm: "web-prod-01", runCommand: "firstRunCommand", op: pkManagedOp,
			caller: pkDeployPipeline, status: "Success", commands: []string{"Get-HotFix", "Get-Service"}, file: "firstRunCommand-0.ps1", size: 180},
		{run: 1, runSuffix: "/web-prod-01/secondRunCommand", vmID: pkWeb1, vm: "web-prod-01", runCommand: "secondRunCommand", op: pkManagedOp,
			caller: pkDeployPipeline, status: "Success", commands: []string{"Get-Process", "Stop-Process"}, file: "secondRunCommand-0.ps1", size: 150},
		{run: 1, runSuffix: "/sql-prod-02/firstRunCommand", vmID: pkSQL2, vm: "sql-prod-02", runCommand: "firstRunCommand", op: pkManagedOp,
			caller: pkDeployPipeline, status: "Success", commands: []string{"Get-HotFix", "Get-Service"}, file: "firstRunCommand-0.ps1", size: 180},
	}},
	// A uniform scale set: one CLI command runs the classic Run Command on instances 0 and 3 (one
	// CorrelationId), then a managed run command on instance 3. The instances' computer names
	// (webvmss000000...) cannot be derived from AzureActivity: no commands; the runs without
	// commands are fingerprinted on the scale set, so the CLI command is one finding on two instances.
	{name: "scale-set", n: 13, w: hourW, want: []packRunWant{
		{run: 1, runSuffix: "/web-vmss_0", vmID: pkVMSS + "/virtualMachines/0", vm: "web-vmss_0", op: pkClassicSSOp,
			caller: "bob.ops@contoso.com", status: "Success", fpTarget: pkVMSS},
		{run: 1, runSuffix: "/web-vmss_3", vmID: pkVMSS + "/virtualMachines/3", vm: "web-vmss_3", op: pkClassicSSOp,
			caller: "bob.ops@contoso.com", status: "Success", fpTarget: pkVMSS},
		{run: 2, vmID: pkVMSS + "/virtualMachines/3", vm: "web-vmss_3", runCommand: "patch", op: pkManagedSSOp,
			caller: "bob.ops@contoso.com", status: "Success", fpTarget: pkVMSS},
	}},
}

func TestManagedAndScaleSetScenarios(t *testing.T) {
	h := loadScenarioHunt(t, hunt.DefaultHunt)
	if h.Occurrence != "RunId" {
		t.Fatalf("runcommand-mde: occurrence %q, want RunId", h.Occurrence)
	}
	for _, sc := range packRunScenarios {
		t.Run(sc.name, func(t *testing.T) {
			bothShapes(t, filepath.Join(scenarioRoot, sc.name), func(t *testing.T, dir string) {
				checkPackRuns(t, sc, packFindings(t, h, dir, sc.w))
			})
		})
	}
}

func checkPackRuns(t *testing.T, sc packRunScenario, fs []hunt.Finding) {
	t.Helper()
	cols := []string{"RunId", "VirtualMachineName", "RunCommandName", "ActivityStatus", "PowershellScriptCommands"}
	if len(fs) != len(sc.want) {
		t.Fatalf("%d findings, want %d:\n%s", len(fs), len(sc.want), describePack(fs, cols...))
	}
	for i, w := range sc.want {
		f := &fs[i]
		what := fmt.Sprintf("finding %d (%s)", i, w.vm)
		corrID := scenarioCorr(sc.n, w.run)
		if f.Occurrence != corrID+w.runSuffix {
			t.Errorf("%s: occurrence %q, want %q", what, f.Occurrence, corrID+w.runSuffix)
		}
		if f.Fingerprint != w.fingerprint() {
			t.Errorf("%s: fingerprint %s, want %s", what, f.Fingerprint, w.fingerprint())
		}
		if got := f.Value("OperationNameValue"); !strings.EqualFold(got, w.op) {
			t.Errorf("%s: OperationNameValue %q, want %q in any case", what, got, w.op)
		}
		caller := w.caller
		if caller == "" {
			caller = scenarioCaller
		}
		device, file, size := "", "", ""
		if w.commands != nil {
			device, file, size = w.vm+".contoso.local", w.file, strconv.FormatInt(w.size, 10)
		}
		cmds, _ := f.Field("PowershellScriptCommands")
		checkPackFields(t, what, f,
			packField{"CorrelationId", corrID},
			packField{"RunId", corrID + w.runSuffix},
			packField{"ResourceId", w.vmID},
			packField{"VirtualMachineName", w.vm},
			packField{"RunCommandName", w.runCommand},
			packField{"Caller", caller},
			packField{"ActivityStatus", w.status},
			packField{"DeviceName", device},
			packField{"PowershellFileName", file},
			packField{"PowershellFileSize", size},
			packField{"CommandCount", strconv.Itoa(len(w.commands))},
		)
		if !slices.Equal(cmds.List, w.commands) {
			t.Errorf("%s: commands %q, want %q", what, cmds.List, w.commands)
		}
	}
}

// TestRunsOfOneCorrelation: what the RunId is for. A CorrelationId that holds several runs (one
// deployment, one CLI command on several machines) gives each run its own occurrence, so that the
// pipeline tells every VM that ran the script; a CorrelationId that holds one run keeps it as is.
func TestRunsOfOneCorrelation(t *testing.T) {
	h := loadScenarioHunt(t, hunt.DefaultHunt)
	for _, sc := range packRunScenarios {
		fs := packFindings(t, h, filepath.Join(scenarioRoot, sc.name), sc.w)
		occ := map[string]bool{}
		byCorr := map[string]int{}
		for _, f := range fs {
			if occ[f.Occurrence] {
				t.Errorf("%s: occurrence %s twice", sc.name, f.Occurrence)
			}
			occ[f.Occurrence] = true
			byCorr[f.Value("CorrelationId")]++
		}
		for _, f := range fs {
			shared := byCorr[f.Value("CorrelationId")] > 1
			if shared == (f.Occurrence == f.Value("CorrelationId")) {
				t.Errorf("%s: run %s of a CorrelationId shared by %d runs", sc.name, f.Occurrence, byCorr[f.Value("CorrelationId")])
			}
		}
	}
	// The deployment's first run command: one script on two VMs, one fingerprint.
	fs := packFindings(t, h, filepath.Join(scenarioRoot, "managed-deployment"), hourW)
	if len(fs) == 3 && (fs[0].Fingerprint != fs[2].Fingerprint || fs[0].Fingerprint == fs[1].Fingerprint) {
		t.Errorf("managed-deployment: fingerprints %.12s %.12s %.12s, want the first and last equal, the second apart",
			fs[0].Fingerprint, fs[1].Fingerprint, fs[2].Fingerprint)
	}
}

// TestSampleManagedHistory: the sample logs' history (testdata/logs, 9 to 17 November, the
// baseline of the pack's scheduled rules) holds managed Run Commands on VMs without MDE. The
// corrected hunt over the sample day does not see them (TestSampleLogs pins what it finds); over
// those days it finds each, without commands, its CorrelationId its occurrence.
func TestSampleManagedHistory(t *testing.T) {
	h := loadScenarioHunt(t, hunt.DefaultHunt)
	before := hunt.Window{Start: onNov(9, "00:00"), End: onNov(18, "00:00")}
	fs := packFindings(t, h, sampleLogsDir, before)
	var got []string
	for _, f := range fs {
		if !strings.EqualFold(f.Value("OperationNameValue"), pkManagedOp) || f.Occurrence != f.Value("CorrelationId") || f.Value("CommandCount") != "0" {
			t.Errorf("sample, %s: %s %s %s commands", before, f.Value("OperationNameValue"), f.Occurrence, f.Value("CommandCount"))
		}
		got = append(got, f.Value("VirtualMachineName")+"/"+f.Value("RunCommandName")+" by "+f.Value("Caller"))
	}
	want := []string{"Web-Prod-01/inventory by alice.admin@contoso.com", "sql-prod-02/inventory by alice.admin@contoso.com",
		"legacy-win-05/diag by carol.ops@contoso.com", "Web-Prod-01/inventory by alice.admin@contoso.com"}
	if !slices.Equal(got, want) {
		t.Errorf("sample, %s: managed runs %q, want %q (testdata/logs/README.md)", before, got, want)
	}
}
