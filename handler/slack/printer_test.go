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
		ref, err := p.Notify(context.Background(), h, f)
		if err != nil {
			t.Fatal(err)
		}
		if ref != (hunt.MessageRef{Channel: "stdout", TS: want}) {
			t.Errorf("message %d: ref %+v", i, ref)
		}
	}
	got := out.String()
	for _, want := range []string{
		"──── message 1 ────", "──── message 2 ────",
		"[HIGH] Azure VM Run Command linked with MDE",
		"Account:        <@U123> *mallory*@contoso.com", // data shown as it is, not as markup
		"When:           2025-03-14 09:26 UTC",
		"Script:         script3.ps1 (1,284 bytes)",
		"View VM in Azure portal (https://portal.azure.com/#@/resource" + testVM + ")",
		"Lateral Movement (https://attack.mitre.org/tactics/TA0008/)",
		"PowerShell commands (400 commands)",
		"      2. Write-Output '<!channel> ```' *bold* _x_",
		"    166. Write-Output",
		"… and 232 more commands",
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

func TestPrinterPayload(t *testing.T) {
	var out bytes.Buffer
	p := &Printer{W: &out, Payload: true}
	if _, err := p.Notify(context.Background(), runCommandHunt(), runCommandFinding(typicalCommands)); err != nil {
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
	if _, err := NewPrinter(&out).Notify(ctx, runCommandHunt(), runCommandFinding(nil)); err == nil || out.Len() != 0 {
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
