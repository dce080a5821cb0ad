package slack

import (
	"context"
	"strings"
	"testing"

	"github.com/huntwatch/huntwatch/handler/hunt"
)

var testHealth = hunt.Health{
	Failures: 4, FailingSince: testTime, Alerted: true,
	LastError: "query hunt x: <!channel> ```rm -rf``` *boom* & \x1b[31mred",
	Today:     hunt.DayCounts{Day: "2025-03-14", Runs: 96, Failed: 4, Rows: 12345, New: 7, Repeats: 3, Posted: 10},
}

func TestBuildAlert(t *testing.T) {
	for _, test := range []struct {
		kind string
		want []string
		text string
	}{
		{hunt.AlertFailing, []string{"*huntwatch is failing*: Azure VM Run Command linked with MDE", "4 failed runs in a row, since <!date^1741944413^",
			"Last error:\n```\nquery hunt x: &lt;!channel&gt; `\u200b`\u200b`rm -rf`\u200b`\u200b` *boom* &amp; [31mred\n```"},
			"huntwatch is failing: Azure VM Run Command linked with MDE (4 failed runs in a row)"},
		{hunt.AlertRecovered, []string{"*huntwatch recovered*: Azure VM Run Command linked with MDE — after 4 failed runs since <!date^1741944413^"},
			"huntwatch recovered: Azure VM Run Command linked with MDE after 4 failed runs"},
		{hunt.AlertHeartbeat, []string{"Azure VM Run Command linked with MDE: today 96 runs, 4 failed, 12,345 rows, 7 new, 3 repeats, 10 posted"},
			"Azure VM Run Command linked with MDE: today 96 runs, 4 failed, 12,345 rows, 7 new, 3 repeats, 10 posted"},
	} {
		t.Run(test.kind, func(t *testing.T) {
			m, err := BuildAlert(runCommandHunt(), hunt.Alert{Kind: test.kind, Health: testHealth})
			if err != nil {
				t.Fatal(err)
			}
			checkMessage(t, m)
			if m.Text != test.text {
				t.Errorf("text %q, want %q", m.Text, test.text)
			}
			body := textObjects(t, m)[0].text
			for _, want := range test.want {
				if !strings.Contains(body, want) {
					t.Errorf("alert lacks %q:\n%s", want, body)
				}
			}
		})
	}
	if _, err := BuildAlert(nil, hunt.Alert{Kind: "bogus"}); err == nil {
		t.Errorf("no error for an unknown kind")
	}
	for _, test := range hostile {
		h, _ := everywhere(test.in)
		for _, kind := range []string{hunt.AlertFailing, hunt.AlertRecovered, hunt.AlertHeartbeat} {
			hl := testHealth
			hl.LastError = strings.Repeat(test.in, 500)
			m, err := BuildAlert(h, hunt.Alert{Kind: kind, Health: hl})
			if err != nil {
				t.Fatal(err)
			}
			checkMessage(t, m)
		}
	}
	m, _ := BuildAlert(&hunt.Hunt{ID: "h1"}, hunt.Alert{Kind: hunt.AlertRecovered, Health: hunt.Health{}})
	if m.Text != "huntwatch recovered: h1" {
		t.Errorf("text %q", m.Text)
	}
}

// TestAlert posts one message an alert, as a bot and through the webhook.
func TestAlert(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			s := newSetup(t, mode.webhook, nil)
			for _, kind := range []string{hunt.AlertFailing, hunt.AlertRecovered, hunt.AlertHeartbeat} {
				if err := s.n.Alert(context.Background(), runCommandHunt(), hunt.Alert{Kind: kind, Health: testHealth}); err != nil {
					t.Fatal(err)
				}
			}
			msgs := s.fs.Messages()
			if len(msgs) != 3 {
				t.Fatalf("%d messages, want 3", len(msgs))
			}
			for i, want := range []string{"huntwatch is failing", "huntwatch recovered", "today 96 runs"} {
				if !strings.Contains(msgs[i].Text, want) || msgs[i].ThreadTS != "" {
					t.Errorf("message %d: %+v, want %q", i, msgs[i], want)
				}
			}
		})
	}
	s := newSetup(t, false, nil)
	if err := s.n.Alert(context.Background(), nil, hunt.Alert{Kind: "bogus"}); err == nil || len(s.fs.Calls()) != 0 {
		t.Errorf("unknown kind: %v, %d calls", err, len(s.fs.Calls()))
	}
}

func TestBuildAlertBroken(t *testing.T) {
	m, err := BuildAlert(&hunt.Hunt{Name: "hunt pack"}, hunt.Alert{Kind: hunt.AlertBroken,
		Health: hunt.Health{LastError: "rules/a.yaml:3: queryFrequency: not a duration\nrules/<!channel>.yaml: no query"}})
	if err != nil {
		t.Fatal(err)
	}
	js, _ := JSON(m)
	for _, want := range []string{"could not load 2 hunt files", "rules/a.yaml:3", "the rest of the pack runs"} {
		if !strings.Contains(string(js)+m.Text, want) {
			t.Errorf("alert lacks %q: %s", want, js)
		}
	}
	if strings.Contains(string(js), "<!channel>") {
		t.Errorf("a file name pings the channel: %s", js)
	}
}
