package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/huntwatch/huntwatch/handler/internal/loopback"
)

// TimerPayload is the host's timer invocation, as it POSTs it to /function.
const TimerPayload = `{"Data":{"timer":{"Schedule":{"AdjustForDST":true},"ScheduleStatus":{"Last":"0001-01-01T00:00:00","Next":"2026-11-27T14:00:00+00:00","LastUpdated":"0001-01-01T00:00:00"},"IsPastDue":false}},"Metadata":{"sys":{"MethodName":"function","UtcNow":"2026-11-27T13:00:00Z"}}}`

const (
	readyLimit  = 20 * time.Second // from exec to the first 200 on /
	invokeLimit = 15 * time.Minute // of Invoke: beyond the host's 10-minute function timeout
	stopLimit   = 30 * time.Second // from SIGTERM to exit
)

// Process is one running custom handler.
type Process struct {
	URL            string // http://127.0.0.1:port
	Stdout, Stderr *loopback.Buffer
	Ready          time.Duration // from exec to the first 200 on /
	// Cmd is the running command, to signal it; Done, not Cmd.Wait, tells when it has exited.
	Cmd  *exec.Cmd
	done chan struct{}
}

// Serve runs "huntwatch serve args..." in dir ("": the test's folder) with env; see Exec.
func Serve(tb testing.TB, dir string, args, env []string) *Process {
	tb.Helper()
	return Exec(tb, Build(tb), dir, append([]string{"serve"}, args...), env)
}

// Exec runs bin with args in dir ("": the test's folder) as the Functions host runs a custom
// handler: env plus a free FUNCTIONS_CUSTOMHANDLER_PORT. It returns once the process answers 200
// on /, and kills it when the test ends.
func Exec(tb testing.TB, bin, dir string, args, env []string) *Process {
	tb.Helper()
	port := loopback.Port(tb)
	p := &Process{URL: "http://127.0.0.1:" + port, Stdout: &loopback.Buffer{}, Stderr: &loopback.Buffer{}, done: make(chan struct{})}
	p.Cmd = exec.Command(bin, args...)
	p.Cmd.Dir = dir
	p.Cmd.Env = append(append([]string{}, env...), "FUNCTIONS_CUSTOMHANDLER_PORT="+port)
	p.Cmd.Stdout, p.Cmd.Stderr = p.Stdout, p.Stderr
	started := time.Now()
	if err := p.Cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	go func() { p.Cmd.Wait(); close(p.done) }()
	tb.Cleanup(p.Kill)
	for {
		resp, err := readyClient.Get(p.URL + "/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				p.Ready = time.Since(started)
				return p
			}
		}
		if p.Exited() {
			tb.Fatalf("%s exited before ready:\n%s\n%s", bin, p.Stdout, p.Stderr)
		}
		waited := time.Since(started)
		if waited > readyLimit {
			tb.Fatalf("%s not ready after %s:\n%s\n%s", bin, readyLimit, p.Stdout, p.Stderr)
		}
		// Finely at first, so that a cold start is timed to a fraction of a millisecond
		// (handler/bench), then as the host polls.
		if waited < 100*time.Millisecond {
			time.Sleep(200 * time.Microsecond)
		} else {
			time.Sleep(20 * time.Millisecond)
		}
	}
}

var readyClient = &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

// Result is one invocation's answer.
type Result struct {
	Status int
	Logs   []string
	Err    error // no answer (a transport error or the limit), or not one of the host protocol
	Took   time.Duration
}

func (r Result) String() string {
	if r.Err != nil {
		return fmt.Sprintf("no answer after %s: %v", r.Took.Round(time.Millisecond), r.Err)
	}
	return fmt.Sprintf("status %d after %s, logs %q", r.Status, r.Took.Round(time.Millisecond), r.Logs)
}

// Invoke POSTs TimerPayload to /function, as the host does; see InvokeWith.
func (p *Process) Invoke(tb testing.TB) Result {
	tb.Helper()
	return p.InvokeWith(tb, TimerPayload)
}

// InvokeWith POSTs one payload to /function and fails tb unless the answer is the host protocol's.
func (p *Process) InvokeWith(tb testing.TB, payload string) Result {
	tb.Helper()
	res := p.Call(invokeLimit, payload)
	if res.Err != nil {
		tb.Fatalf("invoke: %v\nstderr:\n%s", res.Err, p.Stderr)
	}
	return res
}

// Call POSTs payload to /function, bounded by limit, and decodes the host protocol's answer; what
// went wrong is in the Result's Err.
func (p *Process) Call(limit time.Duration, payload string) Result {
	c := &http.Client{Timeout: limit}
	start := time.Now()
	res := Result{}
	resp, err := c.Post(p.URL+"/function", "application/json", strings.NewReader(payload))
	if err == nil {
		var body []byte
		body, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		res.Status = resp.StatusCode
		var reply struct {
			Outputs     map[string]any
			Logs        []string
			ReturnValue any
		}
		switch ct := resp.Header.Get("Content-Type"); {
		case err != nil:
		case ct != "application/json":
			err = fmt.Errorf("content type %q", ct)
		default:
			if err = json.Unmarshal(body, &reply); err != nil {
				err = fmt.Errorf("reply %.200q: %w", body, err)
			}
		}
		res.Logs = reply.Logs
	}
	res.Err, res.Took = err, time.Since(start)
	return res
}

// Done is closed once the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Exited tells whether the process has exited.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Stop sends SIGTERM by pid and wants a clean exit (code 0) within 30 s.
func (p *Process) Stop(tb testing.TB) {
	tb.Helper()
	p.Cmd.Process.Signal(syscall.SIGTERM)
	p.WaitExit(tb, stopLimit)
}

// WaitExit waits up to limit for the process to exit, after the test signalled it, and wants
// exit code 0.
func (p *Process) WaitExit(tb testing.TB, limit time.Duration) {
	tb.Helper()
	select {
	case <-p.done:
	case <-time.After(limit):
		tb.Fatalf("still running %s after SIGTERM:\n%s", limit, p.Stderr)
	}
	if code := p.Cmd.ProcessState.ExitCode(); code != 0 {
		tb.Errorf("exit code %d after SIGTERM:\n%s", code, p.Stderr)
	}
}

// Kill sends SIGKILL and waits for the process to be gone.
func (p *Process) Kill() {
	if p.Cmd.Process != nil {
		p.Cmd.Process.Kill()
		<-p.done
	}
}
