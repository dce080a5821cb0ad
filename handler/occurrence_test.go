package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/huntwatch/huntwatch/handler/internal/e2e"
	"github.com/huntwatch/huntwatch/handler/internal/fakeazure"
	"github.com/huntwatch/huntwatch/handler/internal/fakeslack"
	"github.com/huntwatch/huntwatch/handler/internal/loopback"
)

// Every occurrence of a new fingerprint reaches the channel in the run that found it: one script
// on two VMs in one window names both VMs in Slack, in bot mode (the message and a thread reply)
// and in webhook mode (the one message).
func TestEveryOccurrenceReachesSlack(t *testing.T) {
	if testing.Short() {
		t.Skip("slow end-to-end test: skipped with -short")
	}
	for _, mode := range []string{"bot", "webhook"} {
		t.Run(mode, func(t *testing.T) {
			w := e2e.NewWorld(t)
			if mode == "webhook" {
				w.UseWebhook(t)
			}
			w.LA.SetTable(fakeazure.Table{Columns: e2e.Columns, Rows: [][]any{
				finding(0, "corr-1", "web-01", "fp-A", "Get-Process", "whoami"),
				finding(5, "corr-2", "sql-prod-02", "fp-A", "Get-Process", "whoami"),
			}})
			p := w.Start(t)
			if r := p.Invoke(t); r.Status != 200 {
				t.Fatalf("status %d, logs %q\n%s", r.Status, r.Logs, p.Stderr)
			}
			var all string
			top := 0
			for _, m := range w.Slack.Messages() {
				all += m.Text + string(m.Blocks) + "\n"
				if m.ThreadTS == "" {
					top++
				}
			}
			for _, vm := range []string{"web-01", "sql-prod-02"} {
				if !strings.Contains(all, vm) {
					t.Errorf("%s never reached Slack:\n%s", vm, all)
				}
			}
			if top != 1 {
				t.Errorf("%d top-level messages for one fingerprint, want 1", top)
			}
		})
	}
}

// Ctrl-C while a message is in flight: Slack accepted it, so the run lets the call finish and
// records it; the next run posts nothing twice.
func TestInterruptedRunDoesNotPostTwice(t *testing.T) {
	if testing.Short() {
		t.Skip("slow end-to-end test: skipped with -short")
	}
	sl := fakeslack.New(t)
	state := filepath.Join(t.TempDir(), "state.json")
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(),
		"SLACK_BOT_TOKEN=" + sl.Token(), "SLACK_CHANNEL=" + fakeslack.DefaultChannel, "SLACK_API_URL=" + sl.URL(), "HUNTS=runcommand-mde"}
	args := []string{"run", "--logs", "../testdata/logs", "--schemas", "../testdata/schemas", "--state", state}
	run := func() (*exec.Cmd, *loopback.Buffer) {
		cmd := exec.Command(e2e.Build(t), args...)
		cmd.Env = env
		out := &loopback.Buffer{}
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill() })
		return cmd, out
	}

	hold := sl.HoldNext(true) // Slack accepts the first message; its answer waits
	cmd, out := run()
	waitHold(t, hold)
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if !e2e.Eventually(func() bool { return strings.Contains(out.String(), "stopping") }) {
		t.Fatalf("no word of stopping:\n%s", out)
	}
	hold.Release()
	select {
	case <-hold.Gone():
		t.Fatalf("the run abandoned a message Slack had accepted:\n%s", out)
	default:
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("run did not stop within 30s of Ctrl-C:\n%s", out)
	}
	if n := len(sl.Messages()); n != 1 {
		t.Fatalf("%d messages after Ctrl-C, want the one in flight only:\n%s", n, out)
	}

	cmd, out = run()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("second run: %v\n%s", err, out)
	}
	seen := map[string]int{}
	for _, m := range sl.Messages() {
		if m.ThreadTS != "" {
			continue
		}
		i := strings.Index(string(m.Blocks), "Fingerprint `")
		if i < 0 {
			t.Fatalf("message without a fingerprint: %s", m.Blocks)
		}
		fp := strings.SplitN(string(m.Blocks)[i+len("Fingerprint `"):], "`", 2)[0]
		if seen[fp]++; seen[fp] > 1 {
			t.Errorf("fingerprint %s posted twice", fp)
		}
	}
	if len(seen) != 5 {
		t.Errorf("%d fingerprints posted over both runs, want the sample's 5: %v", len(seen), seen)
	}
}
