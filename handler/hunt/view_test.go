package hunt_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/huntwatch/huntwatch/handler/hunt"
	"github.com/huntwatch/huntwatch/handler/kql"
	"github.com/huntwatch/huntwatch/handler/logdir"
)

const (
	viewSub       = "6f3c2f0e-1a2b-4c5d-9e8f-0a1b2c3d4e5f"
	viewVM        = "/subscriptions/" + viewSub + "/resourceGroups/rg-prod-web/providers/Microsoft.Compute/virtualMachines/vm-web-01"
	viewWorkspace = "/subscriptions/" + viewSub + "/resourceGroups/rg-soc/providers/Microsoft.OperationalInsights/workspaces/la-soc"
	viewFP        = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	viewOcc       = "c1f0a6de-7b1c-4e4f-9a55-2d0c8e7b1a33"
)

var viewTime = time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)

// viewHunt is the Run Command hunt, as far as views are concerned.
func viewHunt() *hunt.Hunt {
	return &hunt.Hunt{
		ID:         "55fbc363-6cc9-4201-bd68-d980b612082b",
		Name:       "Azure VM Run Command linked with MDE",
		Severity:   "Medium",
		Query:      "AzureActivity\n| where OperationNameValue has 'runCommand'",
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

var viewCommands = []string{"Get-LocalUser", "Set-MpPreference -DisableRealtimeMonitoring $true", "Get-LocalGroupMember -Group Administrators"}

// viewFinding is one row of the Run Command hunt.
func viewFinding() *hunt.Finding {
	ts := func(d time.Duration) string { return viewTime.Add(d).Format(time.RFC3339Nano) }
	return &hunt.Finding{
		Fingerprint: viewFP,
		Occurrence:  viewOcc,
		Time:        viewTime,
		Fields: []hunt.Field{
			{Name: "TimeGenerated", Type: "datetime", Text: ts(0)},
			{Name: "EndTime", Type: "datetime", Text: ts(41 * time.Second)},
			{Name: "CorrelationId", Type: "string", Text: viewOcc},
			{Name: "Caller", Type: "string", Text: "alice.admin@contoso.com"},
			{Name: "CallerIpAddress", Type: "string", Text: "203.0.113.47"},
			{Name: "SubscriptionId", Type: "string", Text: viewSub},
			{Name: "ResourceGroup", Type: "string", Text: "rg-prod-web"},
			{Name: "VirtualMachineName", Type: "string", Text: "vm-web-01"},
			{Name: "ResourceId", Type: "string", Text: viewVM},
			{Name: "OperationNameValue", Type: "string", Text: "MICROSOFT.COMPUTE/VIRTUALMACHINES/RUNCOMMAND/ACTION"},
			{Name: "ActivityStatus", Type: "string", Text: "Success"},
			{Name: "DeviceId", Type: "string", Text: "4b1c9e0f2a7d"},
			{Name: "PowershellFileName", Type: "string", Text: "script3.ps1"},
			{Name: "PowershellFileSize", Type: "long", Text: "1284"},
			{Name: "PowershellCommandsInOrder", Type: "dynamic", List: viewCommands},
			{Name: "PowershellScriptCommands", Type: "dynamic", List: slices.Sorted(slices.Values(viewCommands))},
			{Name: "CommandCount", Type: "long", Text: "3"},
			{Name: "ScriptFingerprintHash", Type: "string", Text: viewFP},
		},
	}
}

func setValue(f *hunt.Finding, name, v string) {
	for i := range f.Fields {
		if f.Fields[i].Name == name {
			f.Fields[i].Text = v
			return
		}
	}
	f.Fields = append(f.Fields, hunt.Field{Name: name, Type: "string", Text: v})
}

func labels(facts []hunt.Fact) []string {
	var out []string
	for _, f := range facts {
		out = append(out, f.Label+"="+f.Value)
	}
	return out
}

// TestViewTitle: the title says what happened and where, from the entity mappings and a status
// column (the status in the title only when the run did not succeed, and then not in the small
// print); a rule's alert name format replaces it when every column it names has a value.
func TestViewTitle(t *testing.T) {
	const what = "Azure VM Run Command linked with MDE"
	for _, test := range []struct {
		name       string
		edit       func(h *hunt.Hunt, f *hunt.Finding)
		want       string
		statusShow bool // ActivityStatus in the small print
	}{
		{"success", nil, what + " on vm-web-01 by alice.admin@contoso.com", true},
		{"failure", status("Failure"), what + " on vm-web-01 by alice.admin@contoso.com failed", false},
		{"legacy failed", status("Failed"), what + " on vm-web-01 by alice.admin@contoso.com failed", false},
		{"timed out", status("TimedOut"), what + " on vm-web-01 by alice.admin@contoso.com timed out", false},
		{"no end yet", status("Accept"), what + " on vm-web-01 by alice.admin@contoso.com still running", false},
		{"canceled", status("Cancelled"), what + " on vm-web-01 by alice.admin@contoso.com canceled", false},
		{"unknown status", status("Deallocated"), what + " on vm-web-01 by alice.admin@contoso.com (Deallocated)", false},
		{"a tag is not what happened", func(h *hunt.Hunt, _ *hunt.Finding) { h.Name += " (huntwatch)" },
			what + " on vm-web-01 by alice.admin@contoso.com", true},
		{"no account", func(_ *hunt.Hunt, f *hunt.Finding) { setValue(f, "Caller", " ") }, what + " on vm-web-01", true},
		{"no host", func(_ *hunt.Hunt, f *hunt.Finding) { setValue(f, "VirtualMachineName", "") }, what + " by alice.admin@contoso.com", true},
		{"neither: the whole name", func(h *hunt.Hunt, _ *hunt.Finding) {
			h.Name += " (huntwatch)"
			h.Entities = h.Entities[1:2]
		}, what + " (huntwatch)", true},
		{"neither, failed", func(h *hunt.Hunt, f *hunt.Finding) {
			h.Entities = nil
			setValue(f, "ActivityStatus", "Failure")
		}, what + " failed", false},
		{"no name", func(h *hunt.Hunt, _ *hunt.Finding) { h.Name, h.Entities = " ", nil }, "Hunting query finding", true},
		{"name format", func(h *hunt.Hunt, _ *hunt.Finding) {
			h.Override.TitleFormat = "Run Command by {{Caller}} on {{ VirtualMachineName }} ({{CommandCount}} commands)"
		}, "Run Command by alice.admin@contoso.com on vm-web-01 (3 commands)", true},
		{"name format replaces the status", func(h *hunt.Hunt, f *hunt.Finding) {
			h.Override.TitleFormat = "{{Caller}} ran a script"
			setValue(f, "ActivityStatus", "Failure")
		}, "alice.admin@contoso.com ran a script", true},
		{"name format, a list column", func(h *hunt.Hunt, _ *hunt.Finding) {
			h.Override.TitleFormat = "Ran {{PowershellCommandsInOrder}}"
		}, "Ran [Get-LocalUser, Set-MpPreference -DisableRealtimeMonitoring $true, Get-LocalGroupMember -Group Administrators]", true},
		{"name format without placeholders", func(h *hunt.Hunt, _ *hunt.Finding) { h.Override.TitleFormat = "A Run Command" }, "A Run Command", true},
		{"name format, a column missing: the default", func(h *hunt.Hunt, _ *hunt.Finding) {
			h.Override.TitleFormat = "{{Caller}} on {{NoSuchColumn}}"
		}, what + " on vm-web-01 by alice.admin@contoso.com", true},
		{"name format, a column empty: the default", func(h *hunt.Hunt, f *hunt.Finding) {
			h.Override.TitleFormat = "{{Caller}} from {{CallerIpAddress}}"
			setValue(f, "CallerIpAddress", "")
		}, what + " on vm-web-01 by alice.admin@contoso.com", true},
		{"blank name format", func(h *hunt.Hunt, _ *hunt.Finding) { h.Override.TitleFormat = "  " },
			what + " on vm-web-01 by alice.admin@contoso.com", true},
		{"unclosed placeholder is text", func(h *hunt.Hunt, _ *hunt.Finding) { h.Override.TitleFormat = "{{Caller}} {{x" },
			"alice.admin@contoso.com {{x", true},
	} {
		t.Run(test.name, func(t *testing.T) {
			h, f := viewHunt(), viewFinding()
			if test.edit != nil {
				test.edit(h, f)
			}
			v := h.View(f, hunt.ViewOptions{})
			if got := v.Title.String(); got != test.want {
				t.Errorf("title %q, want %q", got, test.want)
			}
			if shown := slices.ContainsFunc(v.Others, func(o hunt.Fact) bool { return o.Label == "ActivityStatus" }); shown != test.statusShow {
				t.Errorf("ActivityStatus in the small print: %v, want %v (%v)", shown, test.statusShow, labels(v.Others))
			}
		})
	}
}

func status(v string) func(*hunt.Hunt, *hunt.Finding) {
	return func(_ *hunt.Hunt, f *hunt.Finding) { setValue(f, "ActivityStatus", v) }
}

// TestViewText: the alert description format filled from the row is the view's text; a column
// without a value gives the hunt's description, as Sentinel does; without a format there is none.
func TestViewText(t *testing.T) {
	for _, test := range []struct {
		name, format, caller, want string
	}{
		{"no format", "", "alice@contoso.com", ""},
		{"filled", "{{Caller}} ran {{CommandCount}} commands\non {{VirtualMachineName}}.", "alice@contoso.com", "alice@contoso.com ran 3 commands\non vm-web-01."},
		{"an empty column: the description", "{{Caller}} ran a script", "", "Identifies Run Command executions."},
	} {
		t.Run(test.name, func(t *testing.T) {
			h, f := viewHunt(), viewFinding()
			h.Description = "'Identifies Run Command\n  executions.'\n"
			h.Override.DescriptionFormat = test.format
			setValue(f, "Caller", test.caller)
			v := h.View(f, hunt.ViewOptions{})
			if v.Text != test.want {
				t.Errorf("text %q, want %q", v.Text, test.want)
			}
			// A column the text names is not repeated in the small print.
			if inOthers := slices.Contains(labels(v.Others), "CommandCount=3"); inOthers == (test.name == "filled") {
				t.Errorf("CommandCount in the small print: %v", inOthers)
			}
		})
	}
}

// TestViewSeverityAndTactics: the alert severity and tactics columns override the hunt's when they
// hold valid values, in any case; otherwise the hunt's stay and the column is small print.
func TestViewSeverityAndTactics(t *testing.T) {
	tactic := func(text string, list ...string) func(*hunt.Finding) {
		return func(f *hunt.Finding) {
			f.Fields = append(f.Fields, hunt.Field{Name: "RowTactics", Type: "dynamic", Text: text, List: list})
		}
	}
	for _, test := range []struct {
		name       string
		edit       func(f *hunt.Finding)
		severity   string
		tactics    string
		notInOther []string
	}{
		{"hunt's", nil, "Medium", "Lateral Movement, Credential Access", nil},
		{"valid", func(f *hunt.Finding) {
			setValue(f, "RowSeverity", "high")
			tactic("", "Execution", "defenseevasion")(f)
		}, "High", "Execution, Defense Evasion", []string{"RowSeverity", "RowTactics"}},
		{"informational, tactics as text", func(f *hunt.Finding) {
			setValue(f, "RowSeverity", " Informational ")
			tactic("Persistence, Privilege Escalation, PreAttack")(f)
		}, "Informational", "Persistence, Privilege Escalation, PreAttack", []string{"RowSeverity", "RowTactics"}},
		{"invalid", func(f *hunt.Finding) {
			setValue(f, "RowSeverity", "Critical")
			tactic("", "Execution", "Lateral-Movement")(f)
		}, "Medium", "Lateral Movement, Credential Access", nil},
		{"empty", func(f *hunt.Finding) {
			setValue(f, "RowSeverity", "")
			tactic(" , ")(f)
		}, "Medium", "Lateral Movement, Credential Access", nil},
	} {
		t.Run(test.name, func(t *testing.T) {
			h, f := viewHunt(), viewFinding()
			h.Override.SeverityColumn, h.Override.TacticsColumn = "RowSeverity", "RowTactics"
			if test.edit != nil {
				test.edit(f)
			}
			v := h.View(f, hunt.ViewOptions{})
			var tactics []string
			for _, l := range v.Tactics {
				tactics = append(tactics, l.Text)
			}
			if v.Severity != test.severity || strings.Join(tactics, ", ") != test.tactics {
				t.Errorf("severity %q tactics %q, want %q and %q", v.Severity, tactics, test.severity, test.tactics)
			}
			for _, o := range v.Others {
				if slices.Contains(test.notInOther, o.Label) {
					t.Errorf("%s is shown and in the small print", o.Label)
				}
			}
		})
	}
}

// TestViewMitre: known tactics and well-formed technique ids link to MITRE ATT&CK; others are
// text; blank ones are left out.
func TestViewMitre(t *testing.T) {
	h := viewHunt()
	h.Tactics = []string{"LateralMovement", " ", "Made_Up", "PreAttack"}
	h.Techniques = []string{"T1570", "T1078.004", "T1078.4", ""}
	v := h.View(viewFinding(), hunt.ViewOptions{})
	want := []hunt.Link{
		{Text: "Lateral Movement", URL: "https://attack.mitre.org/tactics/TA0008/"},
		{Text: "Made_Up"},
		{Text: "PreAttack"},
		{Text: "T1570", URL: "https://attack.mitre.org/techniques/T1570/"},
		{Text: "T1078.004", URL: "https://attack.mitre.org/techniques/T1078/004/"},
		{Text: "T1078.4"},
	}
	if got := append(slices.Clone(v.Tactics), v.Techniques...); !slices.Equal(got, want) {
		t.Errorf("tactics and techniques\n%+v\nwant\n%+v", got, want)
	}
}

// TestViewFacts: entity values in mapping order (labelled by type, and identifier when a type
// maps several columns; resource ids as name and resource group; the title's host and account
// marked), then subscription, resource group, time and script with its size; the rule's custom
// details after, labelled by their names; nothing shown twice in the small print.
func TestViewFacts(t *testing.T) {
	h, f := viewHunt(), viewFinding()
	h.Entities = append(h.Entities, hunt.EntityMapping{EntityType: "Account", FieldMappings: []hunt.FieldMapping{
		{Identifier: "Name", ColumnName: "TargetUser"}, {Identifier: "UPNSuffix", ColumnName: "TargetSuffix"}}})
	setValue(f, "TargetUser", "bob")
	setValue(f, "TargetSuffix", "")
	setValue(f, "RiskScore", "0.93")
	setValue(f, "Empty", " ")
	h.Details = []hunt.Detail{{Name: "Operation", Column: "OperationNameValue"}, {Name: "Nothing", Column: "Empty"}, {Name: "Risk", Column: "RiskScore"}, {Name: "Gone", Column: "NoSuchColumn"}}
	v := h.View(f, hunt.ViewOptions{})
	got := fmt.Sprint(labels(v.Facts))
	want := fmt.Sprint([]string{
		"Account=alice.admin@contoso.com", "IP=203.0.113.47", "Host=vm-web-01", "AzureResource=vm-web-01 (rg-prod-web)",
		"Account Name=bob", "Subscription=" + viewSub, "Resource group=rg-prod-web", "When=2025-03-14T09:26:53Z", "Script=script3.ps1",
	})
	if got != want {
		t.Errorf("facts\n%s\nwant\n%s", got, want)
	}
	var inTitle, entities []string
	for _, fact := range v.Facts {
		if fact.InTitle {
			inTitle = append(inTitle, fact.Entity)
		}
		if fact.Entity != "" {
			entities = append(entities, fact.Entity)
		}
	}
	if fmt.Sprint(inTitle) != "[Account Host]" || fmt.Sprint(entities) != "[Account IP Host AzureResource Account]" {
		t.Errorf("in the title: %v; entities: %v", inTitle, entities)
	}
	if when := v.Facts[7]; !when.Time.Equal(viewTime) {
		t.Errorf("When has time %v", when.Time)
	}
	if script := v.Facts[8]; script.Note != "1,284 bytes" {
		t.Errorf("script note %q", script.Note)
	}
	// With an alert name format, the values of the columns it names are the ones in the title.
	h.Override.TitleFormat = "Run Command from {{CallerIpAddress}}"
	inTitle = nil
	for _, fact := range h.View(f, hunt.ViewOptions{}).Facts {
		if fact.InTitle {
			inTitle = append(inTitle, fact.Entity)
		}
	}
	if fmt.Sprint(inTitle) != "[IP]" {
		t.Errorf("in the formatted title: %v", inTitle)
	}
	if got := fmt.Sprint(labels(v.Details)); got != "[Operation=MICROSOFT.COMPUTE/VIRTUALMACHINES/RUNCOMMAND/ACTION Risk=0.93]" {
		t.Errorf("details %s", got)
	}
	if got := fmt.Sprint(labels(v.Others)); got != "[ActivityStatus=Success CommandCount=3]" {
		t.Errorf("small print %s", got)
	}
}

// TestViewOthers: the small print keeps what helps an analyst, not identifiers, other
// timestamps, lists, the fingerprint and occurrence, or columns shown elsewhere.
func TestViewOthers(t *testing.T) {
	h, f := viewHunt(), viewFinding()
	f.Fields = append(f.Fields,
		hunt.Field{Name: "TenantID", Type: "string", Text: "t-1"},
		hunt.Field{Name: "AccountCreated", Type: "datetime", Text: viewTime.Add(-400 * 24 * time.Hour).Format(time.RFC3339)},
		hunt.Field{Name: "Copy", Type: "string", Text: viewFP},
		hunt.Field{Name: "DeviceName", Type: "string", Text: "vm-web-01.contoso.internal"})
	got := fmt.Sprint(labels(h.View(f, hunt.ViewOptions{}).Others))
	want := fmt.Sprint([]string{"OperationNameValue=MICROSOFT.COMPUTE/VIRTUALMACHINES/RUNCOMMAND/ACTION", "ActivityStatus=Success", "CommandCount=3", "DeviceName=vm-web-01.contoso.internal"})
	if got != want {
		t.Errorf("small print\n%s\nwant\n%s", got, want)
	}
}

// TestViewLists: the commands once, in the order they ran (the sorted set the hunt fingerprints
// holds the same commands and is left out); other lists stay; a list shown as a fact is not
// listed again.
func TestViewLists(t *testing.T) {
	h, f := viewHunt(), viewFinding()
	f.Fields = append(f.Fields,
		hunt.Field{Name: "Tags", List: []string{"Get-LocalUser"}},
		hunt.Field{Name: "Callers", List: []string{"a", "b"}})
	h.Entities = append(h.Entities, hunt.EntityMapping{EntityType: "Account", FieldMappings: []hunt.FieldMapping{{Identifier: "Name", ColumnName: "Callers"}}})
	v := h.View(f, hunt.ViewOptions{})
	want := []hunt.List{
		{Column: "PowershellCommandsInOrder", Label: "PowerShell commands", Noun: "commands", Items: viewCommands},
		{Column: "Tags", Label: "Tags", Noun: "items", Items: []string{"Get-LocalUser"}},
	}
	if fmt.Sprint(v.Lists) != fmt.Sprint(want) {
		t.Errorf("lists\n%+v\nwant\n%+v", v.Lists, want)
	}
	if !slices.Contains(labels(v.Facts), "Account=[a, b]") {
		t.Errorf("the list entity is not a fact: %v", labels(v.Facts))
	}
}

// TestViewLinks: the portal link comes from the hunt's AzureResource (or Host AzureID) mapping or
// a ResourceId column, for compute resources only; the Log Analytics link needs a workspace and
// the finding's time, and keeps the finding's occurrence alone over its own times.
func TestViewLinks(t *testing.T) {
	const portal = "https://portal.azure.com/#@/resource" + viewVM
	for _, test := range []struct {
		name      string
		edit      func(h *hunt.Hunt, f *hunt.Finding)
		workspace string
		want      []string // kind=text
		portal    string
	}{
		{"no workspace", nil, "", []string{"resource=View VM in Azure portal"}, portal},
		{"workspace", nil, viewWorkspace, []string{"resource=View VM in Azure portal", "logs=View in Log Analytics"}, portal},
		{"not a workspace", nil, viewVM, []string{"resource=View VM in Azure portal"}, portal},
		{"no time", func(_ *hunt.Hunt, f *hunt.Finding) { f.Time = time.Time{} }, viewWorkspace, []string{"resource=View VM in Azure portal"}, portal},
		{"not compute", func(_ *hunt.Hunt, f *hunt.Finding) {
			setValue(f, "ResourceId", "/subscriptions/"+viewSub+"/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/x")
		}, "", nil, ""},
		{"a Host's AzureID", func(h *hunt.Hunt, f *hunt.Finding) {
			setValue(f, "ResourceId", "")
			setValue(f, "VmArm", viewVM+"2")
			h.Entities[2].FieldMappings = append(h.Entities[2].FieldMappings, hunt.FieldMapping{Identifier: "AzureID", ColumnName: "VmArm"})
		}, "", []string{"resource=View VM in Azure portal"}, portal + "2"},
	} {
		t.Run(test.name, func(t *testing.T) {
			h, f := viewHunt(), viewFinding()
			if test.edit != nil {
				test.edit(h, f)
			}
			v := h.View(f, hunt.ViewOptions{WorkspaceResourceID: test.workspace})
			var got []string
			var gotPortal string
			for _, l := range v.Links {
				got = append(got, l.Kind+"="+l.Text)
				if l.Kind == hunt.LinkResource {
					gotPortal = l.URL
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(test.want) || gotPortal != test.portal {
				t.Errorf("links %v (portal %s), want %v (%s)", got, gotPortal, test.want, test.portal)
			}
			if len(v.Links) < 2 {
				return
			}
			_, query, timespan := decodeLogsURL(t, v.Links[1].URL)
			// The finding's own times, 09:26:53 to 09:27:34, ten minutes around them in whole minutes.
			w := hunt.Window{Start: time.Date(2025, 3, 14, 9, 16, 0, 0, time.UTC), End: time.Date(2025, 3, 14, 9, 38, 0, 0, time.UTC)}
			if want := w.Declare(h.Query + "\n| where CorrelationId == \"" + viewOcc + "\""); query != want {
				t.Errorf("query in the link:\n%s\nwant\n%s", query, want)
			}
			if timespan != "2025-03-14T09:01:00.000Z/2025-03-14T09:38:00.000Z" {
				t.Errorf("timespan %q", timespan)
			}
		})
	}
}

// TestViewLinkFilter: the filter on the occurrence reads back, through the KQL engine's lexer
// (which follows the Kusto documentation's literals), as the column and value it was written
// for; a value no literal can hold links to the whole query over the hour either side.
func TestViewLinkFilter(t *testing.T) {
	for _, test := range []struct {
		col, value string
		ok         bool
	}{
		{"CorrelationId", "c1f0a6de-7b1c-4e4f-9a55-2d0c8e7b1a33", true},
		{"CorrelationId", `a"b\c'd`, true},
		{"CorrelationId", "line\nbreak\r\ttab", true},
		{"CorrelationId", `\" | take 100000 //`, true},
		{"Occ", "<!here> `x` ``` @'y'", true},
		{"Run id", "x", true},
		{"a'b\"c]", "x", true},
		{"X", "nul\x00", false},
		{"X", "bad\xff", false},
	} {
		h := &hunt.Hunt{Query: "T | project TimeGenerated, X", Occurrence: test.col}
		f := &hunt.Finding{Occurrence: test.value, Time: viewTime, Fields: []hunt.Field{{Name: test.col, Text: test.value}}}
		_, q, timespan := decodeLogsURL(t, h.View(f, hunt.ViewOptions{WorkspaceResourceID: viewWorkspace}).Links[0].URL)
		_, filter, found := strings.Cut(q, "\n| where ")
		if found != test.ok {
			t.Errorf("%q = %q: filtered %v, want %v:\n%s", test.col, test.value, found, test.ok, q)
			continue
		}
		if !found {
			if timespan != "2025-03-14T08:11:53.000Z/2025-03-14T10:26:53.000Z" {
				t.Errorf("%q: timespan %s, want the hour either side", test.value, timespan)
			}
			continue
		}
		// The filter keeps the row holding the value and drops one that does not.
		colExpr, lit, _ := strings.Cut(filter, " == ")
		run := "print " + colExpr + " = " + lit + ", other = 1 | union (print " + colExpr + " = \"other\", other = 2) | where " + filter
		res, err := kql.Run(context.Background(), run, kql.Database{}, kql.Options{})
		if err != nil {
			t.Errorf("%s: %v", run, err)
			continue
		}
		if len(res.Rows) != 1 || res.Columns[0].Name != test.col || res.Rows[0][0] != test.value {
			t.Errorf("%s: columns %v rows %v, want %q = %q", run, res.Columns, res.Rows, test.col, test.value)
		}
	}
	// Text beyond ASCII is written as it is, which Kusto reads as it is (not run through the
	// engine, whose lexer reads such literals wrongly for now).
	h := &hunt.Hunt{Query: "T", Occurrence: "X"}
	f := &hunt.Finding{Time: viewTime, Fields: []hunt.Field{{Name: "X", Text: "é𝕏\u200b"}}}
	if _, q, _ := decodeLogsURL(t, h.View(f, hunt.ViewOptions{WorkspaceResourceID: viewWorkspace}).Links[0].URL); !strings.HasSuffix(q, "\n| where X == \"é𝕏\u200b\"") {
		t.Errorf("query %q", q)
	}
}

// TestViewLinkQuery: the query in a link has no blank lines, comment lines or indentation, but a
// query with a multi-line literal is left as it is; an occurrence that is a hash of the row (no
// column holds it) links to the whole query over the hour either side.
func TestViewLinkQuery(t *testing.T) {
	for _, test := range []struct{ query, want string }{
		{"// header comment\nAzureActivity   \n\n  // indented comment\n| where A == \"//not a comment\" // trailing kept\n    | take 1\r\n",
			"AzureActivity\n| where A == \"//not a comment\" // trailing kept\n| take 1"},
		{"print ```\n// data\n```", "print ```\n// data\n```"},
	} {
		h := &hunt.Hunt{Query: test.query}
		f := &hunt.Finding{Occurrence: strings.Repeat("ab", 32), Time: viewTime, Fields: []hunt.Field{{Name: "X", Text: "x"}}}
		_, q, timespan := decodeLogsURL(t, h.View(f, hunt.ViewOptions{WorkspaceResourceID: viewWorkspace}).Links[0].URL)
		w := hunt.Window{Start: viewTime.Add(-time.Hour), End: viewTime.Add(time.Hour)}
		if q != w.Declare(test.want) || timespan != "2025-03-14T08:11:53.000Z/2025-03-14T10:26:53.000Z" {
			t.Errorf("query %q, timespan %s", q, timespan)
		}
	}
}

// TestViewLinkRuns: the link of each finding of the sample logs runs, as the portal would run it
// (query and timespan), and returns that finding alone; or, where the hunt's query makes the link
// too long (MaxLinkURL), a search for its correlation id returns the operation's events, and
// only those.
func TestViewLinkRuns(t *testing.T) {
	h, err := hunt.Load(hunt.DefaultHunt)
	if err != nil {
		t.Fatal(err)
	}
	src := logdir.New("../../testdata/logs", "../../testdata/schemas")
	day := hunt.Window{Start: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)}
	query := func(q string, timespan hunt.Window) []hunt.Finding {
		t.Helper()
		res, err := src.Query(context.Background(), q, timespan)
		if err != nil {
			t.Fatalf("%v\n%s", err, q)
		}
		fs, err := hunt.Findings(h, res)
		if err != nil {
			t.Fatal(err)
		}
		return fs
	}
	all := query(day.Declare(h.Query), hunt.Window{Start: day.Start.Add(-hunt.ClockSkew), End: day.End})
	if len(all) == 0 {
		t.Fatal("no findings in the sample")
	}
	for _, f := range all {
		v := h.View(&f, hunt.ViewOptions{WorkspaceResourceID: viewWorkspace})
		_, q, timespan := decodeLogsURL(t, v.Links[len(v.Links)-1].URL)
		from, to, _ := strings.Cut(timespan, "/")
		var w hunt.Window
		if w.Start, err = time.Parse(time.RFC3339, from); err != nil {
			t.Fatal(err)
		}
		if w.End, err = time.Parse(time.RFC3339, to); err != nil {
			t.Fatal(err)
		}
		if w.End.Sub(w.Start) > time.Hour {
			t.Errorf("%s: timespan %s, want less than an hour around the run", f.Occurrence, timespan)
		}
		if link := v.Links[len(v.Links)-1]; link.Text == "View its events in Log Analytics" {
			res, err := src.Query(context.Background(), q, w)
			if err != nil {
				t.Fatalf("%v\n%s", err, q)
			}
			col := slices.IndexFunc(res.Columns, func(c hunt.Column) bool { return c.Name == "CorrelationId" })
			if len(res.Rows) == 0 || col < 0 {
				t.Fatalf("%s: the search link finds nothing: %s", f.Occurrence, q)
			}
			for _, r := range res.Rows {
				if r[col] != f.Value("CorrelationId") {
					t.Errorf("%s: the search link finds an event of %v", f.Occurrence, r[col])
				}
			}
			continue
		}
		got := query(q, w)
		if len(got) != 1 || got[0].Occurrence != f.Occurrence || got[0].Fingerprint != f.Fingerprint {
			t.Errorf("%s: the link's query returns %d findings (%+v), want this one", f.Occurrence, len(got), got)
		}
	}
}

// decodeLogsURL takes a link LogsURL made apart again: the resource id, the query and the
// timespan, undoing each encoding the portal expects.
func decodeLogsURL(t *testing.T, u string) (id, query, timespan string) {
	t.Helper()
	const prefix = "https://portal.azure.com/#blade/Microsoft_Azure_Monitoring_Logs/LogsBlade/resourceId/"
	rest, ok := strings.CutPrefix(u, prefix)
	if !ok {
		t.Fatalf("%s does not start with %s", u, prefix)
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 5 && len(parts) != 7 || parts[1] != "source" || parts[2] != "LogsBlade.AnalyticsShareLinkToQuery" || parts[3] != "q" {
		t.Fatalf("unexpected path %q", rest)
	}
	unescape := func(s string) string {
		t.Helper()
		v, err := url.PathUnescape(s)
		if err != nil {
			t.Fatalf("unescape %q: %v", s, err)
		}
		return v
	}
	id = unescape(parts[0])
	q := unescape(unescape(parts[4]))
	gz, err := base64.StdEncoding.DecodeString(q)
	if err != nil {
		t.Fatalf("base64 %q: %v", q, err)
	}
	r, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	text, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if len(parts) == 7 {
		if parts[5] != "timespan" {
			t.Fatalf("unexpected path %q", rest)
		}
		timespan = unescape(parts[6])
	}
	return id, string(text), timespan
}

var linkChars = regexp.MustCompile(`^[A-Za-z0-9%._~/#:-]+$`)

func TestLogsURL(t *testing.T) {
	start := time.Date(2025, 3, 14, 8, 26, 53, 0, time.UTC)
	end := start.Add(2 * time.Hour)
	for _, query := range []string{
		"AzureActivity | take 1",
		"let x = \"a/b+c=d&e|f<g>h`i*j_k~l\";\nAzureActivity\n| where Caller == 'é𝕏' // comment\n| take 10",
		strings.Repeat("Heartbeat | where Computer startswith 'vm-' | summarize count() by Computer\n", 50),
	} {
		u := hunt.LogsURL(viewWorkspace, query, start, end)
		if !linkChars.MatchString(u) {
			t.Errorf("link holds characters a chat link could read: %s", u)
		}
		id, got, timespan := decodeLogsURL(t, u)
		if id != viewWorkspace || got != query || timespan != "2025-03-14T08:26:53.000Z/2025-03-14T10:26:53.000Z" {
			t.Errorf("decoded id %q query %q timespan %q", id, got, timespan)
		}
		// The parts that do not depend on the compressor are fixed.
		wantStart := "https://portal.azure.com/#blade/Microsoft_Azure_Monitoring_Logs/LogsBlade/resourceId/%2Fsubscriptions%2F" + viewSub +
			"%2FresourceGroups%2Frg-soc%2Fproviders%2FMicrosoft.OperationalInsights%2Fworkspaces%2Fla-soc/source/LogsBlade.AnalyticsShareLinkToQuery/q/H4sI"
		wantEnd := "/timespan/2025-03-14T08%3A26%3A53.000Z%2F2025-03-14T10%3A26%3A53.000Z"
		if !strings.HasPrefix(u, wantStart) || !strings.HasSuffix(u, wantEnd) {
			t.Errorf("LogsURL = %s\nwant %s…%s", u, wantStart, wantEnd)
		}
		if strings.Contains(u, "%2F%2F") || regexp.MustCompile(`/q/[^/]*%2[FB]`).MatchString(u) {
			t.Errorf("the query's base64 is not encoded twice: %s", u)
		}
	}
	if u := hunt.LogsURL(viewWorkspace, "T", time.Time{}, end); strings.Contains(u, "timespan") || u == "" {
		t.Errorf("without a start: %s", u)
	}
	for _, id := range []string{
		"",
		viewVM,
		"/subscriptions/xyz/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/la",
		"/subscriptions/" + viewSub + "/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/la/extra",
		"/subscriptions/" + viewSub + "/resourceGroups/a/b/providers/Microsoft.OperationalInsights/workspaces/la",
		"https://evil.example" + viewWorkspace,
		viewWorkspace + "/",
	} {
		if u := hunt.LogsURL(id, "T", start, end); u != "" || hunt.ValidWorkspaceID(id) {
			t.Errorf("LogsURL(%q) = %s, want none", id, u)
		}
	}
	if !hunt.ValidWorkspaceID(viewWorkspace) {
		t.Errorf("%s is not a workspace id", viewWorkspace)
	}
	if u := hunt.LogsURL(viewWorkspace, "  ", start, end); u != "" {
		t.Errorf("a link for an empty query: %s", u)
	}
	// Odd but valid names are escaped, never passed through.
	odd := "/subscriptions/" + viewSub + "/resourceGroups/rg (prod)|<x>&/providers/Microsoft.OperationalInsights/workspaces/la*_~"
	u := hunt.LogsURL(odd, "T", start, end)
	if !linkChars.MatchString(u) {
		t.Errorf("link %s", u)
	}
	if id, _, _ := decodeLogsURL(t, u); id != odd {
		t.Errorf("decoded id %q", id)
	}
}

func TestPortalURL(t *testing.T) {
	for _, test := range []struct {
		id   string
		want bool
	}{
		{viewVM, true},
		{"/subscriptions/6f3c2f0e-1a2b/resourceGroups/rg_(1).x/providers/Microsoft.Compute/virtualMachines/vm-1_a", true},
		{"/subscriptions/6f3c2f0e-1a2b/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm&1", false},
		{"/subscriptions/6f3c2f0e-1a2b/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/*vm*", false},
		{"/subscriptions/6f3c2f0e/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/x", false},
		{"/subscriptions/6f3c2f0e/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm|click", false},
		{"/subscriptions/6f3c2f0e/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm><!channel", false},
		{"/subscriptions/6f3c2f0e/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm 1", false},
		{"/subscriptions/6f3c2f0e/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm\n1", false},
		{"/subscriptions/6f3c2f0e/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vmé", false},
		{"/subscriptions/not-hex-zz/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm", false},
		{"https://evil.example/subscriptions/0/resourceGroups/rg/providers/Microsoft.Compute/x", false},
		{"/subscriptions/0/resourceGroups/a/b/providers/Microsoft.Compute/x", false},
		{"", false},
	} {
		got := hunt.PortalURL(test.id)
		if (got != "") != test.want {
			t.Errorf("PortalURL(%q) = %q, want a link: %v", test.id, got, test.want)
		}
		if got != "" && strings.ContainsAny(got, "&|<> *~`") {
			t.Errorf("PortalURL(%q) = %q holds a character that ends a link", test.id, got)
		}
	}
}

// TestEntityText: a resource id reads as its name and resource group, which tell resources apart.
func TestEntityText(t *testing.T) {
	for _, test := range []struct{ in, want string }{
		{viewVM, "vm-web-01 (rg-prod-web)"},
		{"/subscriptions/" + viewSub + "/resourcegroups/RG-A/providers/Microsoft.Compute/virtualMachineScaleSets/ss/virtualMachines/3", "ss/3 (RG-A)"},
		{"/subscriptions/x/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm/runCommands/rc1", "vm/rc1 (rg)"},
		{"/subscriptions/x/resourceGroups/rg", "/subscriptions/x/resourceGroups/rg"},
		{"alice@contoso.com", "alice@contoso.com"},
		{"", ""},
	} {
		if got := hunt.EntityText(test.in); got != test.want {
			t.Errorf("EntityText(%q) = %q, want %q", test.in, got, test.want)
		}
	}
}

// TestDigestView: each entity column is tallied, hosts, accounts and IPs first, most frequent
// value first (ties by how they read); with a workspace, one link over the findings' times.
func TestDigestView(t *testing.T) {
	h := viewHunt()
	var fs []*hunt.Finding
	for i, vm := range []string{"vm-b", "vm-a", "vm-b", "vm-c", "vm-a", "vm-b"} {
		f := viewFinding()
		f.Time = viewTime.Add(time.Duration(i) * time.Minute)
		setValue(f, "VirtualMachineName", vm)
		setValue(f, "ResourceId", strings.TrimSuffix(viewVM, "vm-web-01")+vm)
		fs = append(fs, f, nil)
	}
	d := h.DigestView(hunt.FindingList(fs), hunt.ViewOptions{WorkspaceResourceID: viewWorkspace})
	var got []string
	for _, tl := range d.Tallies {
		got = append(got, fmt.Sprintf("%s %v", tl.Label, tl.Values))
	}
	want := []string{
		"Host [{vm-b 3} {vm-a 2} {vm-c 1}]",
		"Account [{alice.admin@contoso.com 6}]",
		"IP [{203.0.113.47 6}]",
		"AzureResource [{vm-b (rg-prod-web) 3} {vm-a (rg-prod-web) 2} {vm-c (rg-prod-web) 1}]",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("tallies\n%v\nwant\n%v", got, want)
	}
	if d.Name != h.Name || d.Severity != "Medium" || len(d.Tactics) != 2 || len(d.Techniques) != 2 {
		t.Errorf("digest %+v", d)
	}
	if len(d.Links) != 1 || d.Links[0].Kind != hunt.LinkLogs {
		t.Fatalf("links %+v", d.Links)
	}
	_, q, timespan := decodeLogsURL(t, d.Links[0].URL)
	w := hunt.Window{Start: viewTime.Add(-time.Hour), End: viewTime.Add(5*time.Minute + time.Hour)}
	if q != w.Declare(h.Query) || timespan != "2025-03-14T08:11:53.000Z/2025-03-14T10:31:53.000Z" {
		t.Errorf("query %q, timespan %s", q, timespan)
	}
	if d := h.DigestView(hunt.FindingList(fs), hunt.ViewOptions{}); len(d.Links) != 0 {
		t.Errorf("a link without a workspace")
	}
}

// TestSeen: a record's entity values by type, hosts, accounts and IPs first, then as the hunt
// maps them, then the others by type; resource ids as name and resource group.
func TestSeen(t *testing.T) {
	rec := &hunt.Record{Occurrences: 3, LastSeen: viewTime, Entities: map[string][]string{
		"Zeta": {"z"}, "AzureResource": {viewVM}, "IP": {"203.0.113.47"}, "Host": {"vm-web-01", "vm-web-02"}, "Alpha": {"a"}, "Empty": nil}}
	s := viewHunt().Seen(rec)
	var got []string
	for _, e := range s.Entities {
		got = append(got, fmt.Sprintf("%s:%s:%v", e.Type, e.Label, e.Values))
	}
	want := []string{"Host:hosts:[vm-web-01 vm-web-02]", "IP:IPs:[203.0.113.47]", "AzureResource:Azure resources:[vm-web-01 (rg-prod-web)]", "Alpha:Alpha:[a]", "Zeta:Zeta:[z]"}
	if fmt.Sprint(got) != fmt.Sprint(want) || s.Occurrences != 3 || !s.LastSeen.Equal(viewTime) {
		t.Errorf("seen %v %d %v\nwant %v", got, s.Occurrences, s.LastSeen, want)
	}
	if s := viewHunt().Seen(nil); s.Occurrences != 0 || len(s.Entities) != 0 {
		t.Errorf("seen of no record: %+v", s)
	}
}

// TestViewEmpty: a view of nothing is still a view: the default name, no facts.
func TestViewEmpty(t *testing.T) {
	v := (&hunt.Hunt{}).View(nil, hunt.ViewOptions{WorkspaceResourceID: viewWorkspace})
	if v.Title.String() != "Hunting query finding" || v.Name != "Hunting query finding" || len(v.Facts)+len(v.Links)+len(v.Lists)+len(v.Others) != 0 {
		t.Errorf("view %+v", v)
	}
}
