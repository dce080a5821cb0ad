package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	slackapi "github.com/slack-go/slack"

	"github.com/huntwatch/huntwatch/handler/hunt"
)

func TestPrinter(t *testing.T) {
	var out bytes.Buffer
	p := NewPrinter(&out)
	h, f := hostileLongFinding()
	for i, want := range []string{"1", "2"} {
		ref, err := p.Notify(context.Background(), h, &hunt.Record{Finding: f}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if ref != (hunt.MessageRef{Where: "stdout", ID: want}) {
			t.Errorf("message %d: ref %+v", i, ref)
		}
	}
	got := out.String()
	for _, want := range []string{
		"──── message 1 ────", "──── message 2 ────",
		// data shown as it is, not as markup, in the notification text, the header and the facts
		"High · Azure VM Run Command linked with MDE on vm-web-01 by <@U123> *mallory*@contoso.com — IP: 203.0.113.47",
		"[HIGH] Azure VM Run Command linked with MDE on vm-web-01 by <@U123> *mallory*@contoso.com\n=====",
		"Account:        <@U123> *mallory*@contoso.com",
		"When:           2025-03-14 09:26 UTC",
		"Script:         script3.ps1 (1,284 bytes)",
		"View VM in Azure portal (https://portal.azure.com/#@/resource" + testVM + ")",
		"Lateral Movement (https://attack.mitre.org/tactics/TA0008/)",
		"PowerShell commands (400 commands)",
		"      2. Write-Output '<!channel> ```' *bold* _x_",
		"    166. Write-Output",
		"… and 231 more commands",
		"Fingerprint 9f86d081",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if strings.ContainsAny(got, "\x1b\u202e") || strings.Contains(got, "&amp;") || strings.Contains(got, "&lt;") {
		t.Errorf("output holds escapes or control characters:\n%s", got)
	}
}

// TestReadable: the terminal shows data as it came, whatever markup characters it holds, and
// turns only Slack's markup, ours, into text.
func TestReadable(t *testing.T) {
	const data = "*b* `c` _u_ ~t~ a_b :link: <x|y> &amp; > q"
	h := &hunt.Hunt{Name: "Hunt " + data, Severity: "High", Tactics: []string{"Made_Up"},
		Entities: []hunt.EntityMapping{{EntityType: "Host", FieldMappings: []hunt.FieldMapping{{Identifier: "HostName", ColumnName: "Host"}}}}}
	f := &hunt.Finding{Fingerprint: "fp " + data, Occurrence: "occ", Time: testTime, Fields: []hunt.Field{
		{Name: "Host", Text: "vm " + data},
		{Name: "Other", Text: data},
		{Name: "Commands", List: []string{data, "```" + data}},
	}}
	m := Build(h, f)
	got := Readable(m.Text) + "\n" + Render(m)
	for _, want := range []string{
		"High · Hunt " + data + " on vm " + data,     // the notification text (mrkdwn)
		"[HIGH] Hunt " + data + " on vm " + data[:9], // the header (plain_text), cut to fit
		"Hunt: Hunt " + data + " · Severity: High · Tactics: Made_Up",
		"Host:           vm " + data, // a fact (inline code)
		"1. " + data,                 // a code block
		"2. ```" + data,
		"Other: " + data, // small print (plain_text)
		"Fingerprint fp " + data + " · Occurrence occ",
		"When:           2025-03-14 09:26 UTC",
		"Commands (2 commands)",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	for _, test := range []struct{ in, want string }{
		{"*bold* _… and 3 more_ `code`", "bold … and 3 more code"},
		{":link: <https://portal.azure.com/#blade/Microsoft_Azure_Monitoring_Logs/x|View in Log Analytics>", "View in Log Analytics (https://portal.azure.com/#blade/Microsoft_Azure_Monitoring_Logs/x)"},
		{"<!date^1741944413^{date_short_pretty} {time}|2025-03-14 09:26 UTC> · ∗x∗ ˍ ∼ ˋ", "2025-03-14 09:26 UTC · *x* _ ~ `"},
		{"\u00ad&gt; quote &lt;!here&gt; &amp;amp;", "> quote <!here> &amp;"},
		{"a :link: b", "a :link: b"}, // an emoji code of data's, not at the start
		{"```\nx`\u200b`\u200b`\n```", "    x```"},
	} {
		if got := Readable(test.in); got != test.want {
			t.Errorf("Readable(%q) = %q, want %q", test.in, got, test.want)
		}
	}
}

func TestPrinterPayload(t *testing.T) {
	var out bytes.Buffer
	p := &Printer{W: &out, Payload: true}
	if _, err := p.Notify(context.Background(), runCommandHunt(), &hunt.Record{Finding: runCommandFinding(typicalCommands)}, nil); err != nil {
		t.Fatal(err)
	}
	_, js, ok := strings.Cut(out.String(), "block-kit-builder):\n")
	if !ok {
		t.Fatalf("no payload in:\n%s", out.String())
	}
	var payload map[string]any
	if err := json.NewDecoder(strings.NewReader(js)).Decode(&payload); err != nil || payload["blocks"] == nil {
		t.Errorf("payload %q: %v", js, err)
	}
}

func TestPrinterCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out bytes.Buffer
	if _, err := NewPrinter(&out).Notify(ctx, runCommandHunt(), &hunt.Record{Finding: runCommandFinding(nil)}, nil); err == nil || out.Len() != 0 {
		t.Errorf("got %v and %q, want an error and no output", err, out.String())
	}
}

// TestJSON: the payload is {"blocks":[...]} and slack-go reads the same blocks back.
func TestJSON(t *testing.T) {
	m := Build(runCommandHunt(), runCommandFinding(typicalCommands))
	js, err := JSON(m)
	if err != nil {
		t.Fatal(err)
	}
	var payload struct {
		Blocks slackapi.Blocks `json:"blocks"`
	}
	if err := json.Unmarshal(js, &payload); err != nil {
		t.Fatal(err)
	}
	if len(payload.Blocks.BlockSet) != len(m.Blocks) {
		t.Errorf("%d blocks read back, want %d", len(payload.Blocks.BlockSet), len(m.Blocks))
	}
	back, err := JSON(Message{Blocks: payload.Blocks.BlockSet})
	if err != nil || !bytes.Equal(back, js) {
		t.Errorf("round trip differs:\n%s\nwant\n%s", back, js)
	}
	if empty, _ := JSON(Message{}); string(empty) != "{\n  \"blocks\": []\n}" {
		t.Errorf("JSON(Message{}) = %s", empty)
	}
}

func TestPrinterDigest(t *testing.T) {
	var out bytes.Buffer
	p := NewPrinter(&out)
	fs := manyFindings(500)
	fs[0].Fields[4].Text = "=HYPERLINK(\"http://evil\")"
	ref, err := p.Digest(context.Background(), runCommandHunt(), hunt.FindingList(fs))
	if err != nil {
		t.Fatal(err)
	}
	if ref != (hunt.MessageRef{Where: "stdout", Kind: hunt.KindDigest, ID: "1"}) || !(ref.Kind == hunt.KindDigest) {
		t.Errorf("ref %+v", ref)
	}
	got := out.String()
	for _, want := range []string{
		"──── digest 1 ────",
		"[MEDIUM] Azure VM Run Command linked with MDE: 500 new findings",
		"Host (5 distinct): vm-build-07 × 100",
		"1. 2025-03-14 09:26 UTC · Account =HYPERLINK(\"http://evil\") · IP 10.0.0.0 · Host vm-web-01",
		"All 500 findings are attached as CSV in the thread.",
		"CSV in the thread (500 rows), first lines:\n    TimeGenerated,StartTime,EndTime,CorrelationId,Caller,",
		`,"'=HYPERLINK(""http://evil"")",`,
		"\n…\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if n := strings.Count(got, "\n    2025-03-14T"); n != csvPreviewLines-1 {
		t.Errorf("%d CSV rows shown, want %d", n, csvPreviewLines-1)
	}
}

func TestPrinterRepeat(t *testing.T) {
	h, fs := runCommandHunt(), manyFindings(3)
	rec := &hunt.Record{Fingerprint: fs[0].Fingerprint, Occurrences: 3, Finding: fs[0], LastSeen: fs[2].Time,
		Message: hunt.MessageRef{Where: "stdout", ID: "4"}, Entities: map[string][]string{"Host": {"vm-web-01", "vm-web-02"}}}
	for _, test := range []struct {
		name string
		edit func(*hunt.Record)
		want []string
	}{
		{"update", nil, []string{
			"↳ thread reply to message 4: New occurrence · 2025-03-14 09:27 UTC\n    Account bob.ops@contoso.com · IP 10.0.0.1 · Host vm-web-02 · AzureResource vm-web-02 (rg-prod-web)\n    Occurrence 00000000-0000-4000-8000-000000000002",
			"↳ thread reply to message 4: New occurrence · 2025-03-14 09:28 UTC",
			"✎ update of message 4: Seen 3 times · hosts: vm-web-01, vm-web-02 · last seen 2025-03-14 09:28 UTC\n",
		}},
		{"digest", func(r *hunt.Record) { r.Message.ID, r.Message.Kind = "2", hunt.KindDigest }, []string{"↳ thread reply to message 2: ", "✎ no update: the finding was told in a digest"}},
		{"unknown", func(r *hunt.Record) { r.Message = hunt.MessageRef{} }, []string{"↳ thread reply: New occurrence", "✎ no update: the finding's message is not known"}},
		{"not kept", func(r *hunt.Record) { r.Finding = nil }, []string{"✎ no update: the finding was not kept"}},
	} {
		t.Run(test.name, func(t *testing.T) {
			var out bytes.Buffer
			r := *rec
			if test.edit != nil {
				test.edit(&r)
			}
			if err := NewPrinter(&out).Repeat(context.Background(), h, &r, fs[1:]); err != nil {
				t.Fatal(err)
			}
			for _, want := range test.want {
				if !strings.Contains(out.String(), want) {
					t.Errorf("output lacks %q:\n%s", want, out.String())
				}
			}
		})
	}
}

func TestPrinterAlert(t *testing.T) {
	var out bytes.Buffer
	p := NewPrinter(&out)
	for _, kind := range []string{hunt.AlertFailing, hunt.AlertRecovered, hunt.AlertHeartbeat} {
		if err := p.Alert(context.Background(), runCommandHunt(), hunt.Alert{Kind: kind, Health: testHealth}); err != nil {
			t.Fatal(err)
		}
	}
	got := out.String()
	for _, want := range []string{
		"──── alert ────\nhuntwatch is failing: Azure VM Run Command linked with MDE\n4 failed runs in a row, since 2025-03-14 09:26 UTC\nLast error:\n    query hunt x: <!channel> ```rm -rf``` *boom* & [31mred",
		"huntwatch recovered: Azure VM Run Command linked with MDE — after 4 failed runs since 2025-03-14 09:26 UTC",
		"Azure VM Run Command linked with MDE: today 96 runs, 4 failed, 12,345 rows, 7 new, 3 repeats, 10 posted",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if err := p.Alert(context.Background(), nil, hunt.Alert{Kind: "x"}); err == nil {
		t.Errorf("no error for an unknown kind")
	}
}
