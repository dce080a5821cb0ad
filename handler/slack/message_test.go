package slack

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/huntwatch/huntwatch/handler/hunt"
	"github.com/huntwatch/huntwatch/handler/internal/fakeslack"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/slack")

// textObject is one text object of a message, found by walking its JSON.
type textObject struct {
	typ, text, block string
}

func textObjects(t *testing.T, m Message) []textObject {
	t.Helper()
	js, err := JSON(m)
	if err != nil {
		t.Fatal(err)
	}
	var payload struct {
		Blocks []map[string]any `json:"blocks"`
	}
	if err := json.Unmarshal(js, &payload); err != nil {
		t.Fatal(err)
	}
	var out []textObject
	var walk func(block string, v any)
	walk = func(block string, v any) {
		switch x := v.(type) {
		case map[string]any:
			typ, _ := x["type"].(string)
			if s, ok := x["text"].(string); ok && (typ == "plain_text" || typ == "mrkdwn") {
				out = append(out, textObject{typ, s, block})
			}
			for _, e := range x {
				walk(block, e)
			}
		case []any:
			for _, e := range x {
				walk(block, e)
			}
		}
	}
	for _, b := range payload.Blocks {
		walk(b["type"].(string), b)
	}
	return out
}

// Our own markup: the only <...> a message may hold.
var (
	anyToken   = regexp.MustCompile(`<[^>]*>?`)
	ourTokens  = regexp.MustCompile(`^(<https://attack\.mitre\.org/(tactics/TA[0-9]{4}|techniques/T[0-9]{4}(/[0-9]{3})?)/\|[A-Za-z .0-9]+>|<https://portal\.azure\.com/#@/resource/subscriptions/[^\s|<>]+\|View VM in Azure portal>|<!date\^-?[0-9]+\^\{date_short_pretty\} \{time\}\|[0-9: -]+UTC>|<https://portal\.azure\.com/#blade/Microsoft_Azure_Monitoring_Logs/LogsBlade/resourceId/[A-Za-z0-9%._~-]+/source/LogsBlade\.AnalyticsShareLinkToQuery/q/[A-Za-z0-9%._~-]+(/timespan/[A-Za-z0-9%._~-]+)?\|View (in|its events in) Log Analytics>)$`)
	codeSpans  = regexp.MustCompile("(?s)```.*?```|`[^`\n]*`")
	forbidden  = []string{"<!channel>", "<!here>", "<!everyone>", "<@U123>", "<https://evil", "<!subteam"}
	emphasized = []string{"*bold*", "_x_", "~x~"}
)

// checkMessage fails unless m is within Slack's limits and holds no markup but ours.
func checkMessage(t *testing.T, m Message) {
	t.Helper()
	js, err := JSON(m)
	if err != nil {
		t.Fatal(err)
	}
	var payload struct{ Blocks json.RawMessage }
	if err := json.Unmarshal(js, &payload); err != nil {
		t.Fatal(err)
	}
	if code, detail := fakeslack.Check(payload.Blocks); code != "" {
		t.Fatalf("Slack would refuse the blocks: %s: %s", code, detail)
	}
	if len(m.Blocks) > maxBlocks {
		t.Errorf("%d blocks", len(m.Blocks))
	}
	total := 0
	for _, o := range textObjects(t, m) {
		total += textLen(o.text)
		if o.typ == "mrkdwn" && strings.Count(o.text, "```")%2 != 0 {
			t.Errorf("unbalanced code fence in %s text %q", o.block, o.text)
		}
		rest := anyToken.ReplaceAllStringFunc(o.text, func(tok string) string {
			if !ourTokens.MatchString(tok) {
				t.Errorf("%s text holds markup %q: %q", o.block, tok, o.text)
			}
			return ""
		})
		checkEscaped(t, o.block, rest)
		for _, f := range forbidden {
			if strings.Contains(o.text, f) {
				t.Errorf("%s text holds %q", o.block, f)
			}
		}
		if o.typ == "mrkdwn" {
			outside := anyToken.ReplaceAllString(codeSpans.ReplaceAllString(o.text, ""), "")
			for _, e := range emphasized {
				if strings.Contains(outside, e) {
					t.Errorf("%s text holds emphasis %q outside code: %q", o.block, e, o.text)
				}
			}
		}
	}
	if total > MaxMessageText {
		t.Errorf("%d units of text in blocks, more than %d", total, MaxMessageText)
	}
	checkEscaped(t, "fallback text", m.Text)
	if textLen(m.Text) > fallbackMax {
		t.Errorf("fallback text has %d units", textLen(m.Text))
	}
}

// everywhere puts s in every string of a hunt and a finding.
func everywhere(s string) (*hunt.Hunt, *hunt.Finding) {
	h := &hunt.Hunt{
		ID: s, Name: s, Severity: s, Tactics: []string{s, "LateralMovement"}, Techniques: []string{s, "T1078.004"},
		Entities: []hunt.EntityMapping{
			{EntityType: s, FieldMappings: []hunt.FieldMapping{{Identifier: s, ColumnName: "Caller"}}},
			{EntityType: "IP", FieldMappings: []hunt.FieldMapping{{Identifier: "Address", ColumnName: s}}},
		},
	}
	f := &hunt.Finding{Fingerprint: s, Occurrence: s + "occ", Time: testTime, Fields: []hunt.Field{
		{Name: "Caller", Text: s},
		{Name: s, Text: s},
		{Name: "SubscriptionId", Text: s},
		{Name: "ResourceGroup", Text: s},
		{Name: "ResourceId", Text: "/subscriptions/0/resourceGroups/x/providers/Microsoft.Compute/" + s},
		{Name: "PowershellFileName", Text: s},
		{Name: "PowershellFileSize", Text: s},
		{Name: "Other", Text: s},
		{Name: "PowershellScriptCommands", List: []string{s, s + s, "Write-Host " + s}},
		{Name: "Tags", List: []string{s}},
	}}
	return h, f
}

func TestBuildHostile(t *testing.T) {
	for _, test := range hostile {
		t.Run(test.name, func(t *testing.T) {
			checkMessage(t, Build(everywhere(test.in)))
		})
	}
}

func TestBuildEmpty(t *testing.T) {
	for _, test := range []struct {
		name string
		h    *hunt.Hunt
		f    *hunt.Finding
	}{
		{"nil", nil, nil},
		{"no fields", &hunt.Hunt{Name: "x"}, &hunt.Finding{}},
		{"empty values", runCommandHunt(), &hunt.Finding{Fields: []hunt.Field{{Name: "Caller"}, {Name: "PowershellScriptCommands", List: []string{}}, {Name: "X", Text: "  "}}}},
		{"empty list items", runCommandHunt(), runCommandFinding([]string{"", "", ""})},
		{"nil list", runCommandHunt(), runCommandFinding(nil)},
	} {
		t.Run(test.name, func(t *testing.T) {
			m := Build(test.h, test.f)
			checkMessage(t, m)
			if len(m.Blocks) < 2 || m.Text == "" {
				t.Errorf("got %d blocks and text %q; want a header, a footer and a text", len(m.Blocks), m.Text)
			}
		})
	}
}

var moreRE = regexp.MustCompile(`… and ([0-9,]+) more commands`)

// shownCommands counts the numbered lines in a message's code blocks and the number the
// "… and N more" note gives.
func shownCommands(t *testing.T, m Message) (shown, more int) {
	t.Helper()
	line := regexp.MustCompile(`(?m)^ *[0-9]+\. `)
	for _, o := range textObjects(t, m) {
		for _, c := range regexp.MustCompile("(?s)```.*?```").FindAllString(o.text, -1) {
			shown += len(line.FindAllString(c, -1))
		}
		if g := moreRE.FindStringSubmatch(o.text); g != nil {
			n, err := strconv.Atoi(strings.ReplaceAll(g[1], ",", ""))
			if err != nil {
				t.Fatal(err)
			}
			more += n
		}
	}
	return shown, more
}

func repeat(n int, f func(i int) string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = f(i)
	}
	return out
}

func TestBuildLimits(t *testing.T) {
	big := strings.Repeat("&<>`*", 20000) // 100 KB, every character expanding when escaped
	for _, test := range []struct {
		name     string
		edit     func(h *hunt.Hunt, f *hunt.Finding)
		commands []string
		cut      bool // the commands must be cut
	}{
		{"typical", nil, typicalCommands, false},
		{"long hunt name", func(h *hunt.Hunt, f *hunt.Finding) { h.Name = strings.Repeat("Run Command & more ", 100) }, typicalCommands, false},
		{"10,000 commands", nil, repeat(10000, func(i int) string { return fmt.Sprintf("Get-Item C:\\path\\%d", i) }), true},
		{"100 KB of commands", nil, repeat(1000, func(i int) string { return strings.Repeat("x", 100) }), true},
		{"one 100 KB command", nil, []string{big}, false},
		{"commands of entities", nil, repeat(500, func(i int) string { return strings.Repeat("&", 200) }), true},
		{"astral commands", nil, repeat(800, func(i int) string { return strings.Repeat("𝕏", 150) }), true},
		{"multi-line commands", nil, repeat(600, func(i int) string { return "line\nline\nline" }), true},
		{"huge values everywhere", func(h *hunt.Hunt, f *hunt.Finding) {
			for i := range f.Fields {
				if f.Fields[i].List == nil {
					f.Fields[i].Text = big
				}
			}
			f.Fingerprint, f.Occurrence, h.ID = big, big, big
		}, repeat(2000, func(i int) string { return big[:3000] }), true},
		{"300 columns", func(h *hunt.Hunt, f *hunt.Finding) {
			for i := range 300 {
				f.Fields = append(f.Fields, hunt.Field{Name: fmt.Sprintf("Column%d", i), Text: strings.Repeat("v&", 2000)})
			}
		}, typicalCommands, false},
		{"40 entity mappings", func(h *hunt.Hunt, f *hunt.Finding) {
			for i := range 40 {
				col := fmt.Sprintf("Entity%d", i)
				h.Entities = append(h.Entities, hunt.EntityMapping{EntityType: "Account", FieldMappings: []hunt.FieldMapping{{Identifier: "Name", ColumnName: col}, {Identifier: "UPNSuffix", ColumnName: col + "b"}}})
				f.Fields = append(f.Fields, hunt.Field{Name: col, Text: strings.Repeat("<&>", 500)}, hunt.Field{Name: col + "b", Text: "x"})
			}
		}, repeat(5000, func(i int) string { return "Get-Process" }), true},
		{"1000 tactics and techniques", func(h *hunt.Hunt, f *hunt.Finding) {
			h.Tactics = repeat(1000, func(int) string { return "LateralMovement" })
			h.Techniques = repeat(1000, func(int) string { return "T1078.004" })
		}, typicalCommands, false},
		{"many list columns", func(h *hunt.Hunt, f *hunt.Finding) {
			for i := range 60 {
				f.Fields = append(f.Fields, hunt.Field{Name: fmt.Sprintf("List%d", i), List: repeat(100, func(int) string { return "item" })})
			}
		}, typicalCommands, false},
	} {
		t.Run(test.name, func(t *testing.T) {
			h, f := runCommandHunt(), runCommandFinding(test.commands)
			if test.edit != nil {
				test.edit(h, f)
			}
			m := Build(h, f)
			checkMessage(t, m)
			for _, o := range textObjects(t, m) {
				if o.block == "header" && textLen(o.text) > maxHeaderText {
					t.Errorf("header has %d units", textLen(o.text))
				}
			}
			shown, more := shownCommands(t, m)
			if test.cut && (more == 0 || shown == 0) {
				t.Errorf("%d commands shown and %d more announced; want a visible cut", shown, more)
			}
			if test.name != "many list columns" && shown+more != len(test.commands) {
				t.Errorf("%d commands shown + %d announced, want %d", shown, more, len(test.commands))
			}
		})
	}
}

// TestBuildRandom builds messages of random findings and checks every one against the limits.
func TestBuildRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	pieces := []string{"a", "Get-Item ", "&", "<", ">", "`", "```", "*", "_", "~", "\n", "\x00", "\xff", "é", "𝕏", "<!here>", "<@U1>", " ", "|"}
	str := func(n int) string {
		var b strings.Builder
		for range r.IntN(n) {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
		return b.String()
	}
	for i := range 150 {
		h := &hunt.Hunt{ID: str(50), Name: str(300), Severity: str(10), Tactics: []string{str(20)}, Techniques: []string{str(10), "T1570"}}
		f := &hunt.Finding{Fingerprint: str(100), Occurrence: str(100), Time: time.Unix(r.Int64N(2e9), 0)}
		for j := range r.IntN(40) {
			col := fmt.Sprintf("c%d", j)
			if r.IntN(4) == 0 {
				h.Entities = append(h.Entities, hunt.EntityMapping{EntityType: str(15), FieldMappings: []hunt.FieldMapping{{Identifier: "x", ColumnName: col}}})
			}
			if r.IntN(5) == 0 {
				f.Fields = append(f.Fields, hunt.Field{Name: col, List: repeat(r.IntN(1500), func(int) string { return str(r.IntN(100) + 1) })})
			} else {
				f.Fields = append(f.Fields, hunt.Field{Name: col, Text: str(r.IntN(1500) + 1)})
			}
		}
		m := Build(h, f)
		checkMessage(t, m)
		if t.Failed() {
			t.Fatalf("random finding #%d", i)
		}
	}
}

func TestBuildLinks(t *testing.T) {
	h := runCommandHunt()
	h.Techniques = []string{"T1570", "T1078.004", "T1078.4", "<https://evil|x>"}
	h.Tactics = []string{"LateralMovement", "Made_Up"}
	m := Build(h, runCommandFinding(typicalCommands))
	checkMessage(t, m)
	var all strings.Builder
	for _, o := range textObjects(t, m) {
		all.WriteString(o.text + "\n")
	}
	for _, want := range []string{
		"<https://attack.mitre.org/techniques/T1570/|T1570>",
		"<https://attack.mitre.org/techniques/T1078/004/|T1078.004>",
		"T1078.4", // not a technique id: text, no link
		"<https://attack.mitre.org/tactics/TA0008/|Lateral Movement>",
		"MadeˍUp",
		"<https://portal.azure.com/#@/resource" + testVM + "|View VM in Azure portal>",
		"<!date^1741944413^{date_short_pretty} {time}|2025-03-14 09:26 UTC>",
	} {
		if !strings.Contains(all.String(), want) {
			t.Errorf("message lacks %q:\n%s", want, all.String())
		}
	}
	f := runCommandFinding(typicalCommands)
	f.Fields[9].Text = "/subscriptions/x/resourceGroups/rg/providers/Microsoft.Compute/vm|evil"
	m = Build(h, f)
	for _, o := range textObjects(t, m) {
		if strings.Contains(o.text, "portal.azure.com") {
			t.Errorf("link from a malformed resource id: %q", o.text)
		}
	}
}

func TestMinimal(t *testing.T) {
	for _, test := range hostile {
		h, f := everywhere(test.in)
		got := Minimal(h, f, "invalid_blocks")
		checkEscaped(t, test.name, got)
		if textLen(got) > minimalMax {
			t.Errorf("%s: %d units", test.name, textLen(got))
		}
	}
	got := Minimal(runCommandHunt(), runCommandFinding(repeat(10000, func(int) string { return "x" })), "msg_too_long")
	for _, want := range []string{"Azure VM Run Command linked with MDE", "alice.admin@contoso.com", "10,000 items", "msg_too_long", "2025-03-14 09:26:53 UTC"} {
		if !strings.Contains(got, want) {
			t.Errorf("Minimal lacks %q:\n%s", want, got)
		}
	}
}

func hostileLongFinding() (*hunt.Hunt, *hunt.Finding) {
	h := runCommandHunt()
	h.Severity = "High"
	cmds := repeat(400, func(i int) string {
		switch i % 4 {
		case 0:
			return fmt.Sprintf("Invoke-Command -ScriptBlock { Get-ChildItem C:\\Users\\*\\Desktop -Recurse } # %d", i)
		case 1:
			return "Write-Output '<!channel> ```' *bold* _x_"
		case 2:
			return "$p = \"a`tb\"; & cmd.exe /c \"net user svc_backup /add\""
		}
		return "Get-Process | Where-Object { $_.CPU -gt 100 }"
	})
	f := runCommandFinding(cmds)
	f.Fields[4].Text = "<@U123> *mallory*@contoso.com"
	f.Fields[12].Text = "evil\u202Egnp.exe\x1b[31m"
	return h, f
}

func TestGolden(t *testing.T) {
	rec := &hunt.Record{Occurrences: 3, LastSeen: testTime.Add(26 * time.Hour), Entities: map[string][]string{
		"Host": {"vm-web-01", "vm-web-02"}, "Account": {"alice.admin@contoso.com"}, "IP": {"203.0.113.47", "198.51.100.7"}}}
	for _, test := range []struct {
		name  string
		build func() Message
		text  string
	}{
		{"runcommand", func() Message { return Build(runCommandHunt(), runCommandFinding(typicalCommands)) },
			"Medium · Azure VM Run Command linked with MDE on vm-web-01 by alice.admin@contoso.com — IP: 203.0.113.47, AzureResource: vm-web-01 (rg-prod-web)"},
		{"runcommand-hostile-long", func() Message { return Build(hostileLongFinding()) },
			"High · Azure VM Run Command linked with MDE on vm-web-01 by &lt;@U123&gt; ∗mallory∗@contoso.com — IP: 203.0.113.47, AzureResource: vm-web-01 (rg-prod-web)"},
		{"runcommand-update", func() Message {
			return BuildWith(runCommandHunt(), runCommandFinding(typicalCommands), BuildOptions{Record: rec})
		}, "Medium · Azure VM Run Command linked with MDE on vm-web-01 by alice.admin@contoso.com — IP: 203.0.113.47, AzureResource: vm-web-01 (rg-prod-web)"},
		{"runcommand-digest", func() Message {
			return BuildDigest(runCommandHunt(), hunt.FindingList(manyFindings(40)), BuildOptions{})
		},
			"Medium · Azure VM Run Command linked with MDE: 40 new findings"},
		{"runcommand-repeat", func() Message { return BuildRepeat(runCommandHunt(), manyFindings(2)[1]) },
			"New occurrence: Azure VM Run Command linked with MDE on vm-web-02 by bob.ops@contoso.com — IP: 10.0.0.1, AzureResource: vm-web-02 (rg-prod-web)"},
	} {
		t.Run(test.name, func(t *testing.T) {
			m := test.build()
			checkMessage(t, m)
			if m.Text != test.text {
				t.Errorf("text = %q, want %q", m.Text, test.text)
			}
			checkGolden(t, test.name, m)
		})
	}
}

// checkGolden compares m's Block Kit payload with testdata/slack/<name>.golden.json, which
// go test -update rewrites.
func checkGolden(t *testing.T, name string, m Message) {
	t.Helper()
	got, err := JSON(m)
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("..", "..", "testdata", "slack", name+".golden.json")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the message built now (go test -update rewrites it):\n%s", path, got)
	}
}

// ruleFindings loads the scheduled rule with custom details and an alert details override
// (testdata/hunts/rule-runcommand-details.yaml) and makes findings of two rows of its result: a
// failed run, whose row gives a valid severity and tactics, and a successful one from no IP,
// whose severity (Critical) and tactics (empty) are not valid, so the rule's own stay.
func ruleFindings(t *testing.T) (*hunt.Hunt, []hunt.Finding) {
	t.Helper()
	h, err := hunt.Load(filepath.Join("..", "..", "testdata", "hunts", "rule-runcommand-details.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cols := []hunt.Column{
		{Name: "TimeGenerated", Type: "datetime"}, {Name: "CorrelationId", Type: "string"}, {Name: "Caller", Type: "string"},
		{Name: "CallerIpAddress", Type: "string"}, {Name: "VirtualMachineName", Type: "string"}, {Name: "ResourceGroup", Type: "string"},
		{Name: "_ResourceId", Type: "string"}, {Name: "OperationNameValue", Type: "string"}, {Name: "ActivityStatusValue", Type: "string"}, {Name: "AlertSeverity", Type: "string"},
		{Name: "AlertTactics", Type: "string"},
	}
	fs, err := hunt.Findings(h, &hunt.Result{Columns: cols, Rows: [][]any{
		{testTime, "c1f0a6de-7b1c-4e4f-9a55-2d0c8e7b1a33", "<@U123> mallory@contoso.com", "203.0.113.47", "vm-web-01", "rg-prod-web",
			testVM, "MICROSOFT.COMPUTE/VIRTUALMACHINES/RUNCOMMAND/ACTION", "Failure", "High", "Execution, PrivilegeEscalation"},
		{testTime.Add(time.Hour), "5e1d2c3b-4a59-4687-9a0b-1c2d3e4f5a6b", "bob.ops@contoso.com", "", "vm-web-02", "rg-prod-web",
			strings.TrimSuffix(testVM, "01") + "02", "MICROSOFT.COMPUTE/VIRTUALMACHINES/RUNCOMMAND/ACTION", "Success", "Critical", ""},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return h, fs
}

// TestGoldenRule: a scheduled rule's message is titled and described by its alert details
// override, takes the row's severity and tactics when valid, and shows its custom details; where
// the row cannot fill the description or give a valid severity, the rule's own are shown.
func TestGoldenRule(t *testing.T) {
	h, fs := ruleFindings(t)
	for _, test := range []struct {
		name  string
		build func() Message
		text  string
		want  []string
	}{
		{"rule-details", func() Message { return BuildWith(h, &fs[0], BuildOptions{WorkspaceResourceID: testWorkspace}) },
			"High · Run Command on vm-web-01 by &lt;@U123&gt; mallory@contoso.com — IP: 203.0.113.47, AzureResource: vm-web-01 (rg-prod-web)",
			[]string{":red_circle: Run Command on vm-web-01 by &lt;@U123&gt; mallory@contoso.com",
				"*Hunt:* Azure VM Run Command executed (rule with details)", "*Severity:* High",
				"<https://attack.mitre.org/tactics/TA0002/|Execution>, <https://attack.mitre.org/tactics/TA0004/|Privilege Escalation>",
				"&lt;@U123&gt; mallory@contoso.com ran a script on vm-web-01 from 203.0.113.47.\nCheck that the change was planned.",
				"*Status*\n`Failure`", "*Operation*\n`MICROSOFT.COMPUTE/VIRTUALMACHINES/RUNCOMMAND/ACTION`", "*Correlation*\n`c1f0a6de-7b1c-4e4f-9a55-2d0c8e7b1a33`",
				"|View in Log Analytics>"}},
		{"rule-details-fallback", func() Message { return Build(h, &fs[1]) },
			"Medium · Run Command on vm-web-02 by bob.ops@contoso.com — AzureResource: vm-web-02 (rg-prod-web)",
			[]string{":large_orange_circle: Run Command on vm-web-02 by bob.ops@contoso.com", "*Severity:* Medium",
				"*Tactics:* <https://attack.mitre.org/tactics/TA0002/|Execution>\n", "A Run Command was executed on an Azure virtual machine. huntwatch test fixture: a scheduled analytics rule",
				"*Status*\n`Success`", "AlertSeverity: Critical"}},
		{"rule-details-repeat", func() Message { return BuildRepeat(h, &fs[1]) },
			"New occurrence: Run Command on vm-web-02 by bob.ops@contoso.com — AzureResource: vm-web-02 (rg-prod-web)", nil},
	} {
		t.Run(test.name, func(t *testing.T) {
			m := test.build()
			checkMessage(t, m)
			if m.Text != test.text {
				t.Errorf("text = %q, want %q", m.Text, test.text)
			}
			all := blockTextsOf(t, m)
			for _, want := range test.want {
				if !strings.Contains(all, want) {
					t.Errorf("message lacks %q:\n%s", want, all)
				}
			}
			checkGolden(t, test.name, m)
		})
	}
}
