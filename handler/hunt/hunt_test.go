package hunt_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/huntwatch/huntwatch/handler/hunt"
)

// testHunts holds hunting-query YAMLs in the Azure-Sentinel format, written for these tests.
const testHunts = "../../testdata/hunts"

const seedID = "55fbc363-6cc9-4201-bd68-d980b612082b"

func TestLoad(t *testing.T) {
	for _, test := range []struct {
		name string
		ref  string // as given to Load: a bundled name or a path
		// What the loaded hunt must have; empty fields are not checked.
		id, huntName, source     string
		queryPrefix, querySuffix string
		queryHas, queryHasNot    []string
		fingerprint, occurrence  string
		entities                 []string
		wantErr                  []string // substrings of the error; nil: no error
	}{
		{
			name:        "seed: quoted string with a kusto fence, stripped",
			ref:         "seed-runcommand-mde",
			id:          seedID,
			huntName:    "Azure VM Run Command linked with MDE",
			source:      "bundled:seed-runcommand-mde",
			queryPrefix: "AzureActivity\n// Isolate run command actions\n| where OperationNameValue == \"Microsoft.Compute/virtualMachines/runCommand/action\"\n",
			querySuffix: "| extend ScriptFingerprintHash = hash_sha256(tostring(PowershellScriptCommands))",
			queryHas:    []string{`extract(@"\-File\s(script[0-9]{1,9}\.ps1)", 1, InitiatingProcessCommandLine)`},
			queryHasNot: []string{"```"},
			entities:    []string{"AccountCustomEntity", "IPCustomEntity"},
		},
		{
			name:        "corrected hunt, by name",
			ref:         "runcommand-mde",
			id:          "64a9df89-b0f2-442d-a0dd-9fdf8b7051f2",
			source:      "bundled:runcommand-mde",
			queryPrefix: "// HuntStart and HuntEnd are declared by huntwatch",
			querySuffix: "| order by TimeGenerated asc",
			queryHas: []string{
				"let ClockSkew = 10m;", "TimeGenerated >= HuntStart and TimeGenerated < HuntEnd",
				`ActionType == "PowerShellCommand"`, "join kind=leftouter (Matched) on RunId",
				"Microsoft.Compute/virtualMachines/runCommands/write",
				"Microsoft.Compute/virtualMachineScaleSets/virtualMachines/runCommand/action",
			},
			// The pipeline declares the window; the hunt never reads the clock.
			queryHasNot: []string{"let HuntStart", "let HuntEnd", "ago(", "now(", "```"},
			fingerprint: "ScriptFingerprintHash",
			occurrence:  "RunId",
			entities:    []string{"Caller", "CallerIpAddress", "VirtualMachineName", "ResourceId"},
		},
		{
			name:   "no name: the default hunt is the corrected one",
			ref:    "",
			id:     "64a9df89-b0f2-442d-a0dd-9fdf8b7051f2",
			source: "bundled:" + hunt.DefaultHunt,
		},
		{
			name:        "corrected hunt, by path",
			ref:         "bundled/runcommand-mde.yaml",
			id:          "64a9df89-b0f2-442d-a0dd-9fdf8b7051f2",
			source:      "bundled/runcommand-mde.yaml",
			fingerprint: "ScriptFingerprintHash",
		},
		{
			name:        "block scalar, no fence, unknown fields (version, metadata)",
			ref:         filepath.Join(testHunts, "vm-extension-changes.yaml"),
			id:          "3f0b6a52-8f0e-4d43-9a51-0f6f4b1c2d7e",
			huntName:    "Azure VM extensions installed or removed",
			queryPrefix: "AzureActivity\n| where TimeGenerated >= HuntStart and TimeGenerated < HuntEnd\n",
			querySuffix: `tolower(Extension)))`,
			fingerprint: "Fingerprint",
			entities:    []string{"Caller", "CallerIpAddress", "VirtualMachineName"},
		},
		{
			name:        "quoted string with a kusto fence, unknown fields (tags, customDetails, kind)",
			ref:         filepath.Join(testHunts, "powershell-download-cradle.yaml"),
			id:          "9d2c41e7-5b6a-4c1f-8e3d-2a7b0c9f6e15",
			huntName:    "PowerShell download cradle (MDE)",
			queryPrefix: "DeviceEvents\n| where TimeGenerated between (HuntStart .. HuntEnd)\n",
			querySuffix: `| where array_length(Commands) > 1 and Commands has "Invoke-Expression"`,
			queryHasNot: []string{"```"},
			entities:    []string{"DeviceName", "AccountName"},
		},
		{
			name:        "KQL multi-line string literals inside a fence are not taken for the fence",
			ref:         filepath.Join(testHunts, "kql-multiline-literal.yaml"),
			id:          "5e8f0a3b-1c2d-4e5f-9a6b-7c8d9e0f1a2b",
			queryPrefix: "let Watched = split(```\nInvoke-Mimikatz\nInvoke-Expression\n```, \"\\n\");\nDeviceEvents\n",
			querySuffix: "| project TimeGenerated, DeviceName, Command, Note = ```\nmatched a watched command\n```",
			entities:    []string{"DeviceName"},
		},
		{
			name:    "valid YAML that is not a hunt: the error names what is missing",
			ref:     filepath.Join(testHunts, "not-a-hunt.yaml"),
			wantErr: []string{"not-a-hunt.yaml", "not a hunting query: missing id, query"},
		},
		{
			name:    "YAML syntax error",
			ref:     filepath.Join(testHunts, "broken-syntax.yaml"),
			wantErr: []string{"broken-syntax.yaml", "not a hunting-query YAML", "line 3"},
		},
		{
			name:    "unknown name: the error lists the bundled hunts",
			ref:     "runcommand",
			wantErr: []string{`hunt "runcommand": no such file and no bundled hunt of that name`, "(bundled: runcommand-mde, runcommand-new-caller-or-ip, seed-runcommand-mde, vm-extension-unusual-caller, vm-serial-console-access)"},
		},
	} {
		t.Run(test.name, func(t *testing.T) {
			h, err := hunt.Load(test.ref)
			if test.wantErr != nil {
				if err == nil {
					t.Fatalf("Load(%q) = %q, want an error", test.ref, h.Name)
				}
				for _, s := range test.wantErr {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("Load(%q) error %q does not contain %q", test.ref, err, s)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("Load(%q): %v", test.ref, err)
			}
			check := func(what, got, want string) {
				t.Helper()
				if want != "" && got != want {
					t.Errorf("%s = %q, want %q", what, got, want)
				}
			}
			check("ID", h.ID, test.id)
			check("Name", h.Name, test.huntName)
			check("Source", h.Source, test.source)
			check("Fingerprint", h.Fingerprint, test.fingerprint)
			check("Occurrence", h.Occurrence, test.occurrence)
			if !strings.HasPrefix(h.Query, test.queryPrefix) {
				t.Errorf("query starts %q, want %q", head(h.Query, len(test.queryPrefix)), test.queryPrefix)
			}
			if !strings.HasSuffix(h.Query, test.querySuffix) {
				t.Errorf("query ends %q, want %q", tail(h.Query, len(test.querySuffix)), test.querySuffix)
			}
			for _, s := range test.queryHas {
				if !strings.Contains(h.Query, s) {
					t.Errorf("query lacks %q", s)
				}
			}
			for _, s := range test.queryHasNot {
				if strings.Contains(h.Query, s) {
					t.Errorf("query contains %q", s)
				}
			}
			if test.entities != nil && !reflect.DeepEqual(h.EntityColumns(), test.entities) {
				t.Errorf("EntityColumns() = %q, want %q", h.EntityColumns(), test.entities)
			}
		})
	}
}

func head(s string, n int) string { return s[:min(n, len(s))] }
func tail(s string, n int) string { return s[max(0, len(s)-n):] }

// A field mapping without a column is left out with a warning; the hunt still loads.
func TestParseEntityMappingNeedsColumn(t *testing.T) {
	doc := "id: x\nname: n\nquery: T\nentityMappings:\n  - entityType: Account\n    fieldMappings:\n      - identifier: FullName\n  - entityType: IP\n    fieldMappings:\n      - identifier: Address\n        columnName: Ip\n"
	h, err := hunt.Parse([]byte(doc), "inline")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if got := h.EntityColumns(); !reflect.DeepEqual(got, []string{"Ip"}) {
		t.Errorf("EntityColumns() = %q, want only the IP mapping's column", got)
	}
	want := "inline:5: entityMappings[0]: Account entity left out: fieldMappings[0] (line 7) has no columnName"
	if len(h.Warnings) != 1 || h.Warnings[0] != want {
		t.Errorf("Warnings = %q, want [%q]", h.Warnings, want)
	}
}

// The cases are shared with .ci/kqlcheck.test.js, so that the checker strips fences as the loader does.
func TestStripFence(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(testHunts, "stripfence-cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct{ Name, In, Want string }
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) == 0 {
		t.Fatal("no cases")
	}
	for _, c := range cases {
		if got := hunt.StripFence(c.In); got != c.Want {
			t.Errorf("%s: StripFence(%q) = %q, want %q", c.Name, c.In, got, c.Want)
		}
	}
}

func TestBundled(t *testing.T) {
	got := hunt.Bundled()
	if !sort.StringsAreSorted(got) || !slices.Contains(got, "runcommand-mde") || !slices.Contains(got, "seed-runcommand-mde") {
		t.Errorf("Bundled() = %q, want a sorted list holding runcommand-mde and seed-runcommand-mde", got)
	}
	if hunt.DefaultHunt != "runcommand-mde" {
		t.Errorf("DefaultHunt = %q, want the corrected hunt", hunt.DefaultHunt)
	}
}

// The seed stays byte for byte the query it was handed (sha256 of the original file).
func TestSeedIsVerbatim(t *testing.T) {
	data, err := os.ReadFile("bundled/seed-runcommand-mde.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	if got, want := hex.EncodeToString(sum[:]), "8073d1c76aa4dde31e505163ea4923ce58807e1b8ed98259e1e1d963952ecbe2"; got != want {
		t.Errorf("seed sha256 = %s, want %s: the seed must stay verbatim", got, want)
	}
}

func TestCorrectedHuntNamesItsSeed(t *testing.T) {
	data, err := os.ReadFile("bundled/runcommand-mde.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "derivedFrom: "+seedID) {
		t.Errorf("runcommand-mde.yaml does not name the seed %s as derivedFrom", seedID)
	}
}
