package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/huntwatch/huntwatch/handler/internal/e2e"
	"github.com/huntwatch/huntwatch/handler/internal/loopback"
)

// localEnv is a process environment with no Azure or Slack setting: local sample mode.
func localEnv(t *testing.T, extra ...string) []string {
	return append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, extra...)
}

// serve without any Azure setting runs local sample mode, as run does, so the handler can be tried
// under the Functions host: the sample's findings are printed once; at the next tick, in the same
// hour of the sample's clock, the hourly hunt is not due.
func TestServeRunsLocalSampleMode(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state.json")
	p := e2e.Serve(t, "..", []string{"--state", state}, localEnv(t, "HUNTS=runcommand-mde"))
	r := p.Invoke(t)
	if logs := strings.Join(r.Logs, " "); r.Status != 200 || !strings.Contains(logs, "(5 new, 0 already notified)") {
		t.Fatalf("first invocation: status %d, logs %q\n%s", r.Status, r.Logs, p.Stderr)
	}
	if r := p.Invoke(t); r.Status != 200 || !strings.Contains(strings.Join(r.Logs, " "), "1 hunts, 0 due, 0 run") {
		t.Fatalf("second invocation: status %d, logs %q\n%s", r.Status, r.Logs, p.Stderr)
	}
	if !e2e.Eventually(func() bool { return strings.Contains(p.Stdout.String(), "──── message 5 ────") }) {
		t.Errorf("the messages are not printed to stdout:\n%s", p.Stdout)
	}
	p.Stop(t)
	if strings.Contains(p.Stdout.String(), "──── message 6 ────") {
		t.Errorf("the second invocation printed messages again:\n%s", p.Stdout)
	}
}

// With only some of the Azure settings, serve still refuses to start, naming what is missing: a
// deployment that lacks one must not quietly keep state on the instance or print its messages.
func TestServeRefusesPartialSettings(t *testing.T) {
	cmd := exec.Command(e2e.Build(t), "serve")
	cmd.Dir = ".."
	cmd.Env = localEnv(t, "FUNCTIONS_CUSTOMHANDLER_PORT="+loopback.Port(t), "SLACK_WEBHOOK_URL=https://hooks.slack.com/services/T0/B0/partialsecret")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatal("serve started with the Slack setting alone")
	}
	for _, want := range []string{"LOG_ANALYTICS_WORKSPACE_ID", "DEDUP_TABLE_CONNECTION or DEDUP_TABLE_ENDPOINT"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), "SLACK_BOT_TOKEN") || strings.Contains(string(out), "partialsecret") {
		t.Errorf("output names a setting that is set, or echoes it:\n%s", out)
	}
}

// The host retries a failed tick with the same timer payload: serve passes the tick to the Runner
// (RunTick), so a retry is the same failure, not a second one. With HEALTH_ALERT_AFTER=2, two
// failed invocations of one tick post no alert; a failed invocation of the next tick does.
func TestServeCountsARetriedTickOnce(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state.json")
	p := e2e.Serve(t, "..", []string{"--state", state}, localEnv(t, "HEALTH_ALERT_AFTER=2", "HUNTS=runcommand-mde"))
	// Every run now fails to read its state.
	if err := os.WriteFile(state, []byte("{damaged"), 0o600); err != nil {
		t.Fatal(err)
	}
	const tickB = `{"Data":{"timer":{"ScheduleStatus":{"Last":"2026-11-27T14:00:00+00:00","Next":"2026-11-27T15:00:00+00:00","LastUpdated":"2026-11-27T14:00:01+00:00"},"IsPastDue":false}},"Metadata":{}}`
	for i, payload := range []string{e2e.TimerPayload, e2e.TimerPayload, tickB} {
		if r := p.InvokeWith(t, payload); r.Status != 500 {
			t.Fatalf("invocation %d: status %d, want 500 (the state is damaged)\n%s", i+1, r.Status, p.Stderr)
		}
	}
	runs := func() int { return strings.Count(p.Stdout.String(), `"msg":"run"`) }
	if !e2e.Eventually(func() bool {
		return runs() == 3 && strings.Contains(p.Stdout.String(), "──── alert ────")
	}) {
		t.Fatalf("want 3 runs and a failure alert on stdout:\n%s", p.Stdout)
	}
	out := p.Stdout.String()
	secondRun := strings.Index(out, `"msg":"run"`) + 1
	secondRun += strings.Index(out[secondRun:], `"msg":"run"`)
	if alert := strings.Index(out, "──── alert ────"); alert < secondRun {
		t.Errorf("the failure alert came with the retry of the first tick, not with the next tick:\n%s", out)
	}
	if n := strings.Count(out, "──── alert ────"); n != 1 {
		t.Errorf("%d alerts, want 1:\n%s", n, out)
	}
}
