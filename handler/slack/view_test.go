package slack

import (
	"strings"
	"testing"
	"time"

	"github.com/huntwatch/huntwatch/handler/hunt"
)

// headerText returns the text of a message's header block.
func headerText(t *testing.T, m Message) string {
	t.Helper()
	for _, o := range textObjects(t, m) {
		if o.block == "header" {
			return o.text
		}
	}
	t.Fatal("no header")
	return ""
}

// footerTexts returns the plain_text context elements of a message: the columns in small print.
func footerTexts(t *testing.T, m Message) string {
	t.Helper()
	var out []string
	for _, o := range textObjects(t, m) {
		if o.block == "context" && o.typ == "plain_text" {
			out = append(out, o.text)
		}
	}
	return strings.Join(out, "\n")
}

// TestHeadline: the header is the view's title (whose rules hunt.TestViewTitle tests) after the
// severity's emoji, within Slack's limit, never cutting the status; a status in the title is not
// repeated in the small print, and the hunt's name is still in the message.
func TestHeadline(t *testing.T) {
	const what = ":large_orange_circle: Azure VM Run Command linked with MDE"
	for _, test := range []struct {
		name string
		edit func(h *hunt.Hunt, f *hunt.Finding)
		want string
	}{
		{"success", nil, what + " on vm-web-01 by alice.admin@contoso.com"},
		{"failure", status("Failure"), what + " on vm-web-01 by alice.admin@contoso.com failed"},
		{"neither, failed", func(h *hunt.Hunt, f *hunt.Finding) {
			h.Entities = nil
			setField(f, "ActivityStatus", "Failure")
		}, what + " failed"},
		{"no severity", func(h *hunt.Hunt, f *hunt.Finding) { h.Severity = "" },
			"Azure VM Run Command linked with MDE on vm-web-01 by alice.admin@contoso.com"},
		{"long values: the status is never cut", func(h *hunt.Hunt, f *hunt.Finding) {
			setField(f, "Caller", strings.Repeat("a&", 200))
			setField(f, "VirtualMachineName", strings.Repeat("v", 200))
			setField(f, "ActivityStatus", "Failure")
			h.Name = strings.Repeat("Run Command ", 30)
		}, ""},
	} {
		t.Run(test.name, func(t *testing.T) {
			h, f := runCommandHunt(), runCommandFinding(typicalCommands)
			if test.edit != nil {
				test.edit(h, f)
			}
			m := Build(h, f)
			checkMessage(t, m)
			got := headerText(t, m)
			if test.want != "" && got != test.want {
				t.Errorf("header %q, want %q", got, test.want)
			}
			if textLen(got) > maxHeaderText {
				t.Errorf("header has %d units", textLen(got))
			}
			failed := f.Value("ActivityStatus") == "Failure"
			if failed && !strings.HasSuffix(got, " failed") {
				t.Errorf("header %q does not end with the status", got)
			}
			// A status in the title is not repeated in the small print; a success stays there.
			inTitle := h.View(f, hunt.ViewOptions{}).Title.Status != ""
			if inFooter := strings.Contains(footerTexts(t, m), "ActivityStatus: "); inFooter == inTitle {
				t.Errorf("ActivityStatus in the small print: %v, in the header: %v (%q)", inFooter, inTitle, got)
			}
			// The hunt's name is still in the message, next to the MITRE line.
			if !strings.Contains(blockTextsOf(t, m), h.DisplayName()[:20]) {
				t.Errorf("the message does not name the hunt")
			}
		})
	}
}

func blockTextsOf(t *testing.T, m Message) string {
	t.Helper()
	var all []string
	for _, o := range textObjects(t, m) {
		all = append(all, o.text)
	}
	return strings.Join(all, "\n")
}

func status(v string) func(*hunt.Hunt, *hunt.Finding) {
	return func(_ *hunt.Hunt, f *hunt.Finding) { setField(f, "ActivityStatus", v) }
}

func setField(f *hunt.Finding, name, v string) {
	for i := range f.Fields {
		if f.Fields[i].Name == name {
			f.Fields[i].Text = v
			return
		}
	}
	panic("no field " + name)
}

// TestHeadlineText: notifications, thread replies and the plain-text fallback say the same, and
// do not repeat the host and account after it.
func TestHeadlineText(t *testing.T) {
	h, f := runCommandHunt(), runCommandFinding(typicalCommands)
	setField(f, "ActivityStatus", "Failure")
	want := "Medium · Azure VM Run Command linked with MDE on vm-web-01 by alice.admin@contoso.com failed — IP: 203.0.113.47, AzureResource: vm-web-01 (rg-prod-web)"
	if got := Build(h, f).Text; got != want {
		t.Errorf("text %q, want %q", got, want)
	}
	if got := BuildRepeat(h, f).Text; got != "New occurrence: "+strings.TrimPrefix(want, "Medium · ") {
		t.Errorf("reply text %q", got)
	}
	if got := Minimal(h, f, "invalid_blocks"); !strings.HasPrefix(got, "*Azure VM Run Command linked with MDE on vm-web-01 by alice.admin@contoso.com failed* (Medium)\nIP: 203.0.113.47 · ") {
		t.Errorf("minimal text %q", got)
	}
}

// TestEntityText: a resource id shows as the name and the resource group (hunt.EntityText)
// wherever a message shows an entity value; the whole id is only in the portal link.
func TestEntityText(t *testing.T) {
	h, fs := runCommandHunt(), manyFindings(25)
	rec := &hunt.Record{Occurrences: 2, Entities: map[string][]string{"AzureResource": {testVM}}}
	for name, m := range map[string]Message{
		"message": BuildWith(h, fs[0], BuildOptions{Record: rec}),
		"digest":  BuildDigest(h, hunt.FindingList(fs), BuildOptions{}),
		"inline":  BuildDigest(h, hunt.FindingList(fs), BuildOptions{Inline: true}),
		"reply":   BuildRepeat(h, fs[1]),
	} {
		all := blockTextsOf(t, m) + "\n" + m.Text
		if rest := anyToken.ReplaceAllString(all, ""); strings.Contains(rest, "/subscriptions/") {
			t.Errorf("%s shows a resource id outside a link:\n%s", name, all)
		}
		if !strings.Contains(all, " (rg-prod-web)") {
			t.Errorf("%s lacks the VM and its resource group:\n%s", name, all)
		}
	}
	// The digest counts each VM once, by name.
	digest := blockTextsOf(t, BuildDigest(h, hunt.FindingList(fs), BuildOptions{}))
	for _, vm := range testVMs {
		if !strings.Contains(digest, "`"+vm+" (rg-prod-web)` × 5") {
			t.Errorf("digest does not count %s:\n%s", vm, digest)
		}
	}
}

// TestFooter: the small print keeps what helps an analyst, not identifiers and timestamps other
// than the finding's.
func TestFooter(t *testing.T) {
	h, f := runCommandHunt(), runCommandFinding(typicalCommands)
	f.Fields = append(f.Fields,
		hunt.Field{Name: "TenantID", Type: "string", Text: "t-1"},
		hunt.Field{Name: "AccountCreated", Type: "datetime", Text: testTime.Add(-400 * 24 * time.Hour).Format(time.RFC3339)},
		hunt.Field{Name: "RiskScore", Type: "real", Text: "0.93"})
	got := footerTexts(t, Build(h, f))
	for _, want := range []string{"OperationNameValue: MICROSOFT.COMPUTE/VIRTUALMACHINES/RUNCOMMAND/ACTION", "ActivityStatus: Success", "DeviceName: vm-web-01.contoso.internal", "CommandCount: 6", "RiskScore: 0.93"} {
		if !strings.Contains(got, want) {
			t.Errorf("small print lacks %q:\n%s", want, got)
		}
	}
	for _, not := range []string{"DeviceId", "TenantID", "EndTime", "PowershellExecStart", "PowershellExecEnd", "AccountCreated", "TimeGenerated", "StartTime", "CorrelationId", "ScriptFingerprintHash"} {
		if strings.Contains(got, not+":") {
			t.Errorf("small print holds %s:\n%s", not, got)
		}
	}
}

// TestCommandsInOrder: the commands are listed once, numbered in the order they ran; the sorted
// set the hunt fingerprints, holding the same commands, is not shown again.
func TestCommandsInOrder(t *testing.T) {
	h := runCommandHunt()
	f := runCommandFinding(typicalCommands)
	for _, test := range []struct {
		name   string
		m      Message
		counts int // "6 commands" in the list's title, and in the digest's line of the finding
	}{
		{"message", Build(h, f), 1},
		{"digest", BuildDigest(h, hunt.FindingList{f}, BuildOptions{}), 2},
	} {
		name, m := test.name, test.m
		shown, _ := shownCommands(t, m)
		if shown != len(typicalCommands) {
			t.Errorf("%s: %d commands shown, want %d, once each", name, shown, len(typicalCommands))
		}
		all := blockTextsOf(t, m)
		if i, j := strings.Index(all, "1. Get-LocalUser"), strings.Index(all, "2. Get-LocalGroupMember"); i < 0 || j < i {
			t.Errorf("%s: commands not in the order they ran:\n%s", name, all)
		}
		if n := strings.Count(all, "6 PowerShell commands") + strings.Count(all, "(6 commands)"); n != test.counts {
			t.Errorf("%s: the commands are counted %d times, want %d", name, n, test.counts)
		}
	}
	if got := Minimal(h, f, "x"); strings.Count(got, "items (not shown)") != 1 {
		t.Errorf("minimal text names both lists:\n%s", got)
	}
	// Lists that are not the same commands are all shown.
	f.Fields = append(f.Fields, hunt.Field{Name: "Tags", List: []string{"Get-LocalUser"}})
	if shown, _ := shownCommands(t, Build(h, f)); shown != len(typicalCommands)+1 {
		t.Errorf("%d lines shown, want the commands and the tag", shown)
	}
}

// TestUnsafeLinks: a link whose URL could end Slack's <url|label> or is not https is left out
// (a view's link) or shown as its text alone (a tactic), whatever the domain gives.
func TestUnsafeLinks(t *testing.T) {
	var b builder
	b.links([]hunt.Link{
		{Kind: hunt.LinkLogs, Text: "a", URL: "https://portal.azure.com/#x|<!channel>"},
		{Kind: hunt.LinkResource, Text: "b", URL: "javascript:alert(1)"},
		{Kind: hunt.LinkLogs, Text: "c", URL: "https://portal.azure.com/#x>y"},
		{Kind: hunt.LinkLogs, Text: "<ok>", URL: "https://portal.azure.com/#blade/x%2Fy"},
	})
	m := Message{Text: "x", Blocks: b.blocks}
	if got := blockTextsOf(t, m); got != ":mag: <https://portal.azure.com/#blade/x%2Fy|&lt;ok&gt;>" {
		t.Errorf("links %q", got)
	}
	if got := listOf([]hunt.Link{{Text: "T1", URL: "https://x|y"}, {Text: "T2", URL: "https://attack.mitre.org/techniques/T1570/"}}); got != "T1, <https://attack.mitre.org/techniques/T1570/|T2>" {
		t.Errorf("tags %q", got)
	}
}
