package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/huntwatch/huntwatch/handler/internal/e2e"
	"github.com/huntwatch/huntwatch/handler/internal/fakeazure"
	"github.com/huntwatch/huntwatch/handler/internal/fakeslack"
)

// packRule is a Sentinel scheduled rule whose query names its marker; the local Log Analytics
// answers each rule by its marker (see packAnswer).
func packRule(i int, name, marker, extra string) string {
	return fmt.Sprintf(`id: 6d2b0000-0000-4000-8000-%012d
name: %s
kind: Scheduled
description: a rule of the pack test
%s
entityMappings:
  - entityType: Account
    fieldMappings:
      - identifier: FullName
        columnName: Caller
query: |
  let rule = %q;
  AzureActivity
  | where TimeGenerated between (HuntStart .. HuntEnd)
  | project TimeGenerated, Caller
`, i, name, extra, marker)
}

// packAnswer answers a rule's query by its marker: one row (its own caller) for most, three for
// "daily", and for "bad" a table without the entity column, so that its run fails.
func packAnswer(at time.Time) func(query string) fakeazure.Table {
	cols := []fakeazure.Column{{Name: "TimeGenerated", Type: "datetime"}, {Name: "Caller", Type: "string"}}
	return func(q string) fakeazure.Table {
		i := strings.Index(q, `let rule = "`)
		if i < 0 {
			return fakeazure.Table{Columns: cols}
		}
		marker, _, _ := strings.Cut(q[i+len(`let rule = "`):], `"`)
		ts := at.Format(time.RFC3339)
		switch marker {
		case "bad":
			return fakeazure.Table{Columns: cols[:1], Rows: [][]any{{ts}}}
		case "daily":
			return fakeazure.Table{Columns: cols, Rows: [][]any{{ts, "u1@contoso.com"}, {ts, "u2@contoso.com"}, {ts, "u3@contoso.com"}}}
		}
		return fakeazure.Table{Columns: cols, Rows: [][]any{{ts, marker + "@contoso.com"}}}
	}
}

// tickPayload is the host's timer invocation at now, on a 5-minute schedule.
func tickPayload(now time.Time) string {
	iso := func(t time.Time) string { return t.UTC().Format(time.RFC3339) }
	return fmt.Sprintf(`{"Data":{"timer":{"Schedule":{"AdjustForDST":true},"ScheduleStatus":{"Last":%q,"Next":%q,"LastUpdated":%q},"IsPastDue":false}},"Metadata":{"sys":{"MethodName":"function","UtcNow":%q}}}`,
		iso(now.Add(-5*time.Minute)), iso(now), iso(now.Add(-5*time.Minute)), iso(now))
}

// runsOf counts the runs of each hunt in the handler's log.
func runsOf(t *testing.T, out string) map[string]int {
	runs := map[string]int{}
	for _, line := range strings.Split(out, "\n") {
		var rec struct {
			Msg     string
			Summary struct{ Hunt string }
		}
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "run" {
			runs[rec.Summary.Hunt]++
		}
	}
	return runs
}

// A pack over a simulated day, driven through the real process as the host drives it, against
// Azurite, the local Log Analytics and the local Slack: each hunt runs exactly when due; the
// failing one does not stop the others and alerts once; the host's retry of a tick reruns only
// it; a trigger threshold keeps a rule quiet; a single-alert rule alerts once; suppression holds
// a rule back; findings reach the channel of their severity.
func TestPackOverASimulatedDay(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end (-short)")
	}
	dir := t.TempDir()
	rules := map[string]string{
		"five.yaml":   packRule(1, "Five", "five", "severity: High\nqueryFrequency: 5m\nqueryPeriod: 10m\neventGroupingSettings:\n  aggregationKind: SingleAlert"),
		"hourly.yaml": packRule(2, "Hourly", "hourly", "severity: Low\nqueryFrequency: 1h\nqueryPeriod: 1h\nsuppressionEnabled: true\nsuppressionDuration: 3h"),
		"daily.yaml":  packRule(3, "Daily", "daily", "severity: Medium\nqueryFrequency: 1d\nqueryPeriod: 1d\ntriggerOperator: gt\ntriggerThreshold: 100"),
		"bad.yaml":    packRule(4, "Bad", "bad", "severity: Medium\nqueryFrequency: 5m\nqueryPeriod: 5m"),
	}
	for name, text := range rules {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	t0 := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	w := e2e.NewWorld(t)
	w.Slack = fakeslack.New(t, fakeslack.WithChannels(fakeslack.DefaultChannel, "C0HIGH"))
	w.LA.Answer(packAnswer(t0))
	p := w.StartArgs(t, []string{"--host-clock", "--slack-min-interval=-1ns"}, "HUNTS="+dir, "HEALTH_ALERT_AFTER=2",
		"SLACK_API_URL="+w.Slack.URL(), "SLACK_BOT_TOKEN="+w.Slack.Token(), "SLACK_CHANNEL_HIGH=C0HIGH")

	started := time.Now()
	for i := range 288 {
		now := t0.Add(time.Duration(i) * 5 * time.Minute).Add(time.Duration(i%5) * time.Second)
		r := p.InvokeWith(t, tickPayload(now))
		if want := 500; r.Status != want {
			t.Fatalf("tick %d: status %d, want %d (the bad rule fails)\n%s", i, r.Status, want, p.Stderr)
		}
		if i == 10 {
			// The host retries the failed tick, half a minute later: only the bad rule runs again.
			retry := p.InvokeWith(t, strings.Replace(tickPayload(now), `"UtcNow":"`+now.Format(time.RFC3339), `"UtcNow":"`+now.Add(30*time.Second).Format(time.RFC3339), 1))
			if logs := strings.Join(retry.Logs, "\n"); !strings.Contains(logs, "4 hunts, 1 due, 1 run, 1 failed") || !strings.Contains(logs, `hunt "Bad"`) {
				t.Errorf("the retry ran more than the failed rule: %s", logs)
			}
		}
	}
	t.Logf("a simulated day: 288 ticks and one retry through the handler in %s", time.Since(started).Round(time.Millisecond))
	p.Stop(t)

	runs := runsOf(t, p.Stdout.String())
	// Five: every tick. Hourly: at 0h, then suppressed for 3h, then hourly (nothing new to alert):
	// 0h, 3h, 4h ... 23h. Daily: once. Bad: every tick, and its retry.
	want := map[string]int{"Five": 288, "Hourly": 22, "Daily": 1, "Bad": 289}
	if fmt.Sprint(runs) != fmt.Sprint(want) {
		t.Errorf("runs %v, want %v", runs, want)
	}
	var high, other, failing []string
	for _, m := range w.Slack.Messages() {
		text := m.Text + string(m.Blocks)
		switch {
		case strings.Contains(text, "huntwatch is failing"):
			failing = append(failing, m.Channel)
		case m.Channel == "C0HIGH":
			high = append(high, m.Text)
		default:
			other = append(other, m.Text)
		}
	}
	if len(high) != 1 || !strings.Contains(high[0], "five@contoso.com") {
		t.Errorf("the High rule (single alert, identical every tick) posted %q to its channel, want one alert", high)
	}
	if len(other) != 1 || !strings.Contains(other[0], "hourly@contoso.com") {
		t.Errorf("the default channel got %q, want the Low rule's one alert (the daily rule stays under its threshold)", other)
	}
	if len(failing) != 1 || failing[0] != fakeslack.DefaultChannel {
		t.Errorf("failure alerts %v, want one, for the bad rule, in the default channel", failing)
	}
}

// A pack of 50 rules, all due at once, completes one tick well within the function timeout.
func TestPackOfFiftyInOneTick(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end (-short)")
	}
	dir := t.TempDir()
	for i := range 50 {
		text := packRule(100+i, fmt.Sprintf("Rule %02d", i), fmt.Sprintf("r%02d", i), "severity: Medium\nqueryFrequency: 1h\nqueryPeriod: 1h")
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("r%02d.yaml", i)), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	t0 := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	w := e2e.NewWorld(t)
	w.LA.Answer(packAnswer(t0))
	p := w.StartArgs(t, []string{"--host-clock", "--slack-min-interval=-1ns"}, "HUNTS="+dir)
	started := time.Now()
	r := p.InvokeWith(t, tickPayload(t0))
	took := time.Since(started)
	if r.Status != 200 || !strings.Contains(strings.Join(r.Logs, "\n"), "50 hunts, 50 due, 50 run, 0 failed") {
		t.Fatalf("status %d, logs %q\n%s", r.Status, r.Logs, p.Stderr)
	}
	if n := len(w.Slack.Messages()); n != 50 {
		t.Errorf("%d messages, want one per rule", n)
	}
	t.Logf("a pack of 50 rules, all due: one tick in %s (function timeout: 10 min; the tick stops starting hunts %s before it)", took.Round(time.Millisecond), "2m")
	if took > 5*time.Minute {
		t.Errorf("one tick of 50 rules took %s", took)
	}
}
