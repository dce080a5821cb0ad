package hunt_test

// Scenario tests of the bundled scheduled rules of the "Azure VM abuse" pack, each over its own
// folder of testdata/scenarios, in today's AzureActivity and the legacy one. A rule's run queries
// its query period (the window, HuntStart to HuntEnd); the rules with a baseline report the last
// queryFrequency of it and compare with the rest. docs/hunts.md tells what each is based on.

import (
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/huntwatch/huntwatch/handler/hunt"
)

const (
	pkAlice  = "alice.admin@contoso.com"
	pkCarol  = "carol.ops@contoso.com"
	pkMJones = "m.jones@contoso.com"
	pkEve    = "eve.contractor@contoso.com"
	pkBob    = "bob.ops@contoso.com"
	pkDave   = "dave.linux@contoso.com"
)

// packOccurrences lists the findings' occurrences.
func packOccurrences(fs []hunt.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Occurrence)
	}
	return out
}

// packCorrs lists the CorrelationIds of runs rs of scenario n.
func packCorrs(n int, rs ...int) []string {
	var out []string
	for _, r := range rs {
		out = append(out, scenarioCorr(n, r))
	}
	return out
}

// ---- vm-serial-console-access --------------------------------------------------------------

type packConsoleWant struct {
	run              int
	activity, status string
	caller, ip       string
	vm, resourceID   string // resourceID as the operation's scope names it
	target, port     string
}

func (w packConsoleWant) fingerprint() string {
	on := w.resourceID
	if on == "" {
		on = scenarioSub
	}
	return packHash(strings.ToLower(w.caller), strings.ToLower(on), w.activity)
}

func TestSerialConsoleRule(t *testing.T) {
	const name, n = "vm-serial-console-access", 21
	h := loadScenarioHunt(t, name)
	freq, period := ruleSchedule(t, name)
	if freq != 5*time.Minute || period != 10*time.Minute {
		t.Errorf("%s: every %s over %s, want every 5m over 10m (docs/hunts.md)", name, freq, period)
	}
	lnx := pkVMResource("RG-LINUX", "lnx-batch-01")
	// The first connection's scope names the resource group "resourcegroups", as the portal does.
	lnxLower := strings.Replace(lnx, "/resourceGroups/", "/resourcegroups/", 1)
	inst3 := pkVMSS + "/virtualMachines/3"
	sub := "subscription " + scenarioSub
	conn, boot, enabled := "Serial console connection", "Boot diagnostics retrieved", "Serial console enabled"
	all := map[int]packConsoleWant{
		1: {1, conn, "Success", pkAlice, "203.0.113.10", "lnx-batch-01", lnxLower, "lnx-batch-01", "0"},
		2: {2, boot, "Success", pkAlice, "203.0.113.10", "lnx-batch-01", lnx, "lnx-batch-01", ""},
		3: {3, conn, "Failure", pkEve, "45.33.10.20", "web-vmss_3", inst3, "web-vmss_3", "0"},
		4: {4, enabled, "Success", pkMJones, "192.0.2.77", "", "", sub, ""},
		5: {5, boot, "Success", pkEve, "45.33.10.20", "web-vmss_3", inst3, "web-vmss_3", ""},
		6: {6, conn, "Success", pkAlice, "203.0.113.10", "lnx-batch-01", lnx, "lnx-batch-01", "0"},
	}
	for _, test := range []struct {
		end  time.Time
		runs []int
	}{
		{at("10:10"), []int{1, 2, 3, 4, 5}},
		{at("10:15"), []int{3, 4, 5, 6}},
		// Restarting the VM, enabling boot diagnostics (a VM write) and disabling the console are
		// not reported.
		{at("10:25"), nil},
	} {
		w := ruleWindow(period, test.end)
		t.Run(w.String(), func(t *testing.T) {
			bothShapes(t, filepath.Join(scenarioRoot, "serial-console"), func(t *testing.T, dir string) {
				fs := packFindings(t, h, dir, w)
				if got, want := packOccurrences(fs), packCorrs(n, test.runs...); !slices.Equal(got, want) {
					t.Fatalf("packOccurrences %q, want %q:\n%s", got, want, describePack(fs, "Activity", "Caller", "Target"))
				}
				for i, r := range test.runs {
					want, f := all[r], &fs[i]
					what := fmt.Sprintf("run %d", r)
					checkPackFields(t, what, f,
						packField{"Activity", want.activity}, packField{"ActivityStatus", want.status},
						packField{"Caller", want.caller}, packField{"CallerIpAddress", want.ip},
						packField{"VirtualMachineName", want.vm}, packField{"ResourceId", want.resourceID},
						packField{"Target", want.target}, packField{"SerialPort", want.port})
					if f.Fingerprint != want.fingerprint() {
						t.Errorf("%s: fingerprint %s, want %s", what, f.Fingerprint, want.fingerprint())
					}
				}
			})
		})
	}
	// alice's second connection to lnx-batch-01 is a repeat of her first, whatever the case of the
	// resource group in its scope.
	if all[1].fingerprint() != all[6].fingerprint() {
		t.Error("the two connections of pkAlice to lnx-batch-01 should share a fingerprint")
	}
}

// ---- vm-extension-unusual-caller -----------------------------------------------------------

type packExtensionWant struct {
	run                       int
	caller, ip                string
	vm, resourceID            string
	extension, typ, name, pub string
	settings                  string // a part of Settings; "" for none
	status                    string
}

func (w packExtensionWant) fingerprint() string {
	return packHash(strings.ToLower(w.caller), strings.ToLower(w.resourceID), strings.ToLower(w.extension))
}

func TestExtensionRule(t *testing.T) {
	const name, n = "vm-extension-unusual-caller", 22
	h := loadScenarioHunt(t, name)
	freq, period := ruleSchedule(t, name)
	if freq != time.Hour || period != 14*24*time.Hour {
		t.Errorf("%s: every %s over %s, want every 1h over 14d (docs/hunts.md)", name, freq, period)
	}
	app3, lnx, leg5 := pkVMResource("RG-APP-PROD", "app-prod-03"), pkVMResource("RG-LINUX", "lnx-batch-01"), pkVMResource("RG-LEGACY", "legacy-win-05")
	all := map[int]packExtensionWant{
		// Known: the deployment pipeline's Custom Script, alice's VMAccess.
		10: {10, pkDeployPipeline, "20.50.1.10", "web-prod-01", pkWeb1, "CustomScriptExtension", "CustomScriptExtension", "configure-iis", "Microsoft.Compute", "configure-iis.ps1", "Success"},
		11: {11, pkAlice, "203.0.113.10", "legacy-win-05", leg5, "VMAccessAgent", "VMAccessAgent", "enablevmaccess", "Microsoft.Compute", "localadmin", "Success"},
		// New: m.jones resets a password with VMAccess (the extension named after the VM), then
		// sets a Custom Script from a paste site (his only earlier try failed: no baseline).
		12: {12, pkMJones, "192.0.2.77", "app-prod-03", app3, "VMAccessAgent", "VMAccessAgent", "app-prod-03", "Microsoft.Compute", `"UserName":"svc-backup"`, "Success"},
		13: {13, pkMJones, "192.0.2.77", "app-prod-03", app3, "CustomScriptExtension", "CustomScriptExtension", "config-app", "Microsoft.Compute", "paste.example.net", "Success"},
		// New: alice, who resets passwords, had never set the Linux Custom Script.
		14: {14, pkAlice, "203.0.113.10", "lnx-batch-01", lnx, "CustomScript", "CustomScript", "setup", "Microsoft.Azure.Extensions", "", "Success"},
		// New: VMAccess for Linux on a scale set's model (all its instances).
		16: {16, pkEve, "45.33.10.20", "web-vmss", pkVMSS, "VMAccessForLinux", "VMAccessForLinux", "VMAccessForLinux", "Microsoft.OSTCExtensions", "", "Success"},
		// New: an extension write logged without a body, known by its name only.
		17: {17, pkCarol, "198.51.100.23", "legacy-win-05", leg5, "CustomScriptExtension", "", "CustomScriptExtension", "", "", "Success"},
	}
	for _, test := range []struct {
		w    hunt.Window
		runs []int
	}{
		// The hour reported is 10:00-11:00; Defender for Servers' extension (bob, 10:45) is not
		// watched, and deleting an extension (10:58) is not setting one.
		{ruleWindow(period, at("11:00")), []int{12, 13, 14, 16, 17}},
		// The hour ends at 10:30: the Custom Script written at 10:30 is the next hour's.
		{ruleWindow(period, at("10:30")), []int{12}},
		// Without the baseline (a window of one hour), the usual callers are new too: the
		// query period is what keeps them quiet.
		{hunt.Window{Start: at("10:00"), End: at("11:00")}, []int{10, 11, 12, 13, 14, 16, 17}},
	} {
		t.Run(test.w.String(), func(t *testing.T) {
			bothShapes(t, filepath.Join(scenarioRoot, "vm-extensions"), func(t *testing.T, dir string) {
				fs := packFindings(t, h, dir, test.w)
				if got, want := packOccurrences(fs), packCorrs(n, test.runs...); !slices.Equal(got, want) {
					t.Fatalf("packOccurrences %q, want %q:\n%s", got, want, describePack(fs, "Extension", "Caller", "VirtualMachineName"))
				}
				for i, r := range test.runs {
					want, f := all[r], &fs[i]
					what := fmt.Sprintf("run %d", r)
					checkPackFields(t, what, f,
						packField{"Caller", want.caller}, packField{"CallerIpAddress", want.ip},
						packField{"VirtualMachineName", want.vm}, packField{"ResourceId", want.resourceID},
						packField{"Extension", want.extension}, packField{"ExtensionType", want.typ},
						packField{"ExtensionName", want.name}, packField{"Publisher", want.pub},
						packField{"ActivityStatus", want.status})
					if s := f.Value("Settings"); want.settings == "" && s != "" || !strings.Contains(s, want.settings) {
						t.Errorf("%s: Settings %q, want %q in it", what, s, want.settings)
					}
					if f.Fingerprint != want.fingerprint() {
						t.Errorf("%s: fingerprint %s, want %s", what, f.Fingerprint, want.fingerprint())
					}
				}
			})
		})
	}
}

// ---- runcommand-new-caller-or-ip -------------------------------------------------------------

type packNewCallerWant struct {
	runs          []int // the runs of the row, first first: the occurrence is the first's CorrelationId
	caller, ip    string
	vm, machineID string
	reason        string
	statuses      []string
	knownCallers  []string
}

func (w packNewCallerWant) fingerprint() string {
	return packHash(strings.ToLower(w.caller), strings.ToLower(w.machineID), w.ip)
}

func TestNewCallerRule(t *testing.T) {
	const name, n = "runcommand-new-caller-or-ip", 23
	h := loadScenarioHunt(t, name)
	freq, period := ruleSchedule(t, name)
	if freq != 24*time.Hour || period != 14*24*time.Hour {
		t.Errorf("%s: every %s over %s, want every 1d over 14d (docs/hunts.md)", name, freq, period)
	}
	b4, app3, lnx := pkVMResource("RG-BUILD", "build-win-04"), pkVMResource("RG-APP-PROD", "app-prod-03"), pkVMResource("RG-LINUX", "lnx-batch-01")
	first := "first Run Command on this machine in the period"
	for _, test := range []struct {
		end  time.Time
		want []packNewCallerWant
	}{
		// The day reported: 19 November 12:00 to 20 November 12:00. Not reported: alice from her
		// usual address (run 10), carol on legacy-win-05 (14), alice on sql-prod-02 with the
		// classic Run Command where she had used the managed one (16), the deployment pipeline on
		// instance 3 of the scale set it used on instance 0 (19), eve on web-prod-02 the day
		// before (21, outside the day), a restart (99).
		{onNov(20, "12:00"), []packNewCallerWant{
			{[]int{20}, pkEve, "45.33.10.20", "web-vmss", pkVMSS, "new caller, new IP address", []string{"Success"}, []string{pkDeployPipeline}},
			{[]int{11, 17, 18}, pkAlice, "198.18.0.66", "web-prod-01", pkWeb1, "new IP address", []string{"Success", "Failure"}, []string{pkAlice}},
			// m.jones's earlier try on build-win-04 failed: a failure is no baseline.
			{[]int{12}, pkMJones, "192.0.2.77", "build-win-04", b4, first, []string{"Success"}, nil},
			{[]int{13}, pkCarol, "198.51.100.23", "web-prod-01", pkWeb1, "new caller, new IP address", []string{"Success"}, []string{pkAlice}},
			{[]int{15}, pkBob, "198.51.100.7", "app-prod-03", app3, first, []string{"Success"}, nil},
		}},
		// The next day: what was new the day before is known (alice's address, eve on
		// web-prod-02); dave's first Run Command on lnx-batch-01 is new.
		{onNov(21, "12:00"), []packNewCallerWant{
			{[]int{32}, pkDave, "198.51.100.41", "lnx-batch-01", lnx, first, []string{"Success"}, nil},
		}},
	} {
		w := ruleWindow(period, test.end)
		t.Run(w.String(), func(t *testing.T) {
			bothShapes(t, filepath.Join(scenarioRoot, "runcommand-new-caller"), func(t *testing.T, dir string) {
				fs := packFindings(t, h, dir, w)
				if len(fs) != len(test.want) {
					t.Fatalf("%d findings, want %d:\n%s", len(fs), len(test.want), describePack(fs, "Caller", "CallerIpAddress", "VirtualMachineName", "Reason"))
				}
				for i, want := range test.want {
					f := &fs[i]
					what := fmt.Sprintf("finding %d (%s on %s)", i, want.caller, want.vm)
					if f.Occurrence != scenarioCorr(n, want.runs[0]) {
						t.Errorf("%s: occurrence %s, want %s", what, f.Occurrence, scenarioCorr(n, want.runs[0]))
					}
					if f.Fingerprint != want.fingerprint() {
						t.Errorf("%s: fingerprint %s, want %s", what, f.Fingerprint, want.fingerprint())
					}
					checkPackFields(t, what, f,
						packField{"Caller", want.caller}, packField{"CallerIpAddress", want.ip},
						packField{"VirtualMachineName", want.vm}, packField{"ResourceId", want.machineID},
						packField{"Reason", want.reason}, packField{"Runs", strconv.Itoa(len(want.runs))})
					for _, l := range []struct {
						col  string
						want []string
						set  bool // compared as sets (make_set)
					}{{"CorrelationIds", packCorrs(n, want.runs...), false}, {"ActivityStatuses", want.statuses, true}, {"KnownCallers", want.knownCallers, true}} {
						got, _ := f.Field(l.col)
						g, w := slices.Clone(got.List), slices.Clone(l.want)
						if l.set {
							slices.Sort(g)
							slices.Sort(w)
						}
						if !slices.Equal(g, w) {
							t.Errorf("%s: %s %q, want %q", what, l.col, got.List, l.want)
						}
					}
				}
			})
		})
	}
}
