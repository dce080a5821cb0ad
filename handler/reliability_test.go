package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/huntwatch/huntwatch/handler/hunt"
	"github.com/huntwatch/huntwatch/handler/internal/azurite"
	"github.com/huntwatch/huntwatch/handler/internal/e2e"
	"github.com/huntwatch/huntwatch/handler/internal/fakeazure"
	"github.com/huntwatch/huntwatch/handler/internal/fakeslack"
	"github.com/huntwatch/huntwatch/handler/internal/loopback"
	"github.com/huntwatch/huntwatch/handler/tablestore"
)

// The reliability suite (docs/reliability.md): every dependency of the handler fails in each way
// the promises name, against the built binary, real Azurite and the real SDK clients. Each fault
// case runs in its own world: findings fp-1..fp-3 wait in Log Analytics, the fault is set up,
// the handler is invoked (each invocation bounded, as the host bounds it), the fault is cleared,
// a healthy run follows, and then every fingerprint must have reached Slack exactly once (the
// documented crash window aside) and be recorded as delivered, with nothing left pending or
// claimed that a later run could post again. Each case logs one RESULT line: the rows of the
// table in docs/reliability.md.

// bundledHuntID is the id of the default hunt (handler/hunt/bundled/runcommand-mde.yaml).
const bundledHuntID = "64a9df89-b0f2-442d-a0dd-9fdf8b7051f2"

// suiteFlags go to every process: no pacing between Slack posts (pacing is tested in
// handler/slack; here it would only add seconds).
var suiteFlags = []string{"--slack-min-interval=-1ms"}

// invocationLimit bounds every invocation: far below the host's 10 minutes, far above the
// slowest failing run of the suite (a store outage with the SDK's retries, about 25 s).
const invocationLimit = 90 * time.Second

// rig is one case: its world, its handler process, and the findings Log Analytics returns.
type rig struct {
	t    *testing.T
	w    *e2e.World
	p    *e2e.Process
	args []string
	fps  []string
}

func newRig(t *testing.T, args ...string) *rig {
	t.Helper()
	r := &rig{t: t, w: e2e.NewWorld(t), args: append(append([]string{}, suiteFlags...), args...)}
	var rows [][]any
	for i := 1; i <= 3; i++ {
		fp := fmt.Sprintf("fp-%d", i)
		r.fps = append(r.fps, fp)
		rows = append(rows, finding(i, fmt.Sprintf("corr-%d", i), fmt.Sprintf("vm-%d", i), fp, fmt.Sprintf(`Get-Item C:\data\%d`, i)))
	}
	r.w.LA.SetTable(fakeazure.Table{Columns: e2e.Columns, Rows: rows})
	return r
}

// ownWorld starts a world of the test's own and the handler in it with suiteFlags, for the tests
// that are not fault cases, and runs the test in parallel; like the suite, it is skipped with -short.
func ownWorld(t *testing.T) (*e2e.World, *e2e.Process) {
	t.Helper()
	if testing.Short() {
		t.Skip("slow end-to-end test: skipped with -short")
	}
	t.Parallel()
	w := e2e.NewWorld(t)
	return w, w.StartArgs(t, suiteFlags)
}

// start starts (or restarts) the handler with the rig's flags.
func (r *rig) start(extraEnv ...string) *e2e.Process {
	r.t.Helper()
	r.p = r.w.StartArgs(r.t, r.args, extraEnv...)
	return r.p
}

// invoke runs one timer invocation and wants status.
func (r *rig) invoke(status int) e2e.Result {
	r.t.Helper()
	res := r.p.Call(invocationLimit, e2e.TimerPayload)
	if res.Err != nil || res.Status != status {
		r.t.Fatalf("invocation: %s, want status %d\nstderr:\n%s", res, status, r.p.Stderr)
	}
	return res
}

// async starts an invocation and returns its result later.
func (r *rig) async() <-chan e2e.Result {
	ch := make(chan e2e.Result, 1)
	p := r.p
	go func() { ch <- p.Call(invocationLimit, e2e.TimerPayload) }()
	return ch
}

// asyncHeld is async, returning once the invocation's first Slack call has arrived and is held
// there (processed first when accept is set; either way the handler waits for the answer).
func (r *rig) asyncHeld(accept bool) (*fakeslack.Hold, <-chan e2e.Result) {
	r.t.Helper()
	h := r.w.Slack.HoldNext(accept)
	ch := r.async()
	waitHold(r.t, h)
	return h, ch
}

// await waits for an async invocation and wants status.
func (r *rig) await(ch <-chan e2e.Result, status int) e2e.Result {
	r.t.Helper()
	res := <-ch
	if res.Err != nil || res.Status != status {
		r.t.Fatalf("invocation: %s, want status %d\nstderr:\n%s", res, status, r.p.Stderr)
	}
	return res
}

// waitHold waits until the held Slack call arrived.
func waitHold(t *testing.T, h *fakeslack.Hold) {
	t.Helper()
	select {
	case <-h.Arrived():
	case <-time.After(30 * time.Second):
		t.Fatal("the held Slack call never arrived")
	}
}

// posts counts the top-level messages about fingerprint fp: a Block Kit message (its footer
// shows "Fingerprint `fp`") or the plain-text fallback ("Fingerprint: fp").
func posts(s *fakeslack.Server, fp string) int {
	n := 0
	for _, m := range s.Messages() {
		if m.ThreadTS == "" && (strings.Contains(string(m.Blocks), "Fingerprint `"+fp+"`") || strings.Contains(m.Text, "Fingerprint: "+fp)) {
			n++
		}
	}
	return n
}

// store opens the world's table as the handler does.
func store(t *testing.T, w *e2e.World) *tablestore.Store {
	t.Helper()
	s, err := tablestore.FromConnectionString(nil, w.Tables.ConnectionString(), "HuntFindings", nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// state loads the bundled hunt's stored state.
func state(t *testing.T, w *e2e.World) *hunt.State {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := store(t, w).Load(ctx, bundledHuntID)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// outcome counts what the promises are about, after the healthy run.
type outcome struct {
	lost, dups int
	problems   []string
}

// check compares Slack and the store with the promise: each fingerprint posted once (plus
// want[fp] documented repeats) and recorded delivered; no record pending or claimed.
func (r *rig) check(want map[string]int) outcome {
	r.t.Helper()
	var o outcome
	st := state(r.t, r.w)
	for _, fp := range r.fps {
		n := posts(r.w.Slack, fp)
		switch {
		case n == 0:
			o.lost++
			o.problems = append(o.problems, fp+" never posted")
		case n > 1:
			o.dups += n - 1
			if n-1 != want[fp] {
				o.problems = append(o.problems, fmt.Sprintf("%s posted %d times", fp, n))
			}
		}
		if rec := st.Records[fp]; rec == nil || rec.State != hunt.Delivered {
			o.problems = append(o.problems, fmt.Sprintf("%s not recorded as delivered: %+v", fp, rec))
		}
	}
	for fp, rec := range st.Records {
		if rec.State == hunt.Pending || !rec.ClaimedUntil.IsZero() {
			o.problems = append(o.problems, fmt.Sprintf("%s left %s, claimed until %v", fp, rec.State, rec.ClaimedUntil))
		}
	}
	return o
}

// faultCase is one row of the table.
type faultCase struct {
	name string
	args []string // serve flags besides suiteFlags
	// run sets up the fault, invokes, checks the behaviour under the fault and clears the fault;
	// it returns what was observed. It starts the handler (r.start) unless it needs otherwise.
	run func(t *testing.T, r *rig) string
	// dups are the documented repeats: the crash window only.
	dups map[string]int
}

// report collects the RESULT lines of a test and prints them sorted at its end.
type report struct {
	mu    sync.Mutex
	lines []string
}

func (rp *report) add(format string, args ...any) {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	rp.lines = append(rp.lines, fmt.Sprintf(format, args...))
}

func (rp *report) print(t *testing.T) {
	sort.Strings(rp.lines)
	for _, l := range rp.lines {
		t.Log(l)
	}
}

// runFaultCases runs each case in parallel, in a world of its own, and logs the RESULT lines of
// group. Like the rest of the suite, it is skipped with -short.
func runFaultCases(t *testing.T, group string, cases []faultCase) {
	if testing.Short() {
		t.Skip("slow end-to-end test: skipped with -short")
	}
	rp := &report{}
	t.Cleanup(func() { rp.print(t) })
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := newRig(t, c.args...)
			observed := c.run(t, r)
			if r.p == nil || r.p.Exited() {
				r.start()
			}
			// The healthy run: everything pending is delivered, and nothing twice.
			r.invoke(http.StatusOK)
			o := r.check(c.dups)
			for _, p := range o.problems {
				t.Error(p)
			}
			rp.add("RESULT %s | %s | %s | lost %d | duplicates %d", group, c.name, observed, o.lost, o.dups)
		})
	}
}

// nothingPosted is the common expectation of a run that failed before posting.
func nothingPosted(t *testing.T, r *rig) {
	t.Helper()
	if n := len(r.w.Slack.Messages()); n != 0 {
		t.Errorf("%d messages posted by a run that failed before posting", n)
	}
}

func TestReliabilityLogAnalytics(t *testing.T) {
	runFaultCases(t, "Log Analytics", []faultCase{
		{name: "429 with Retry-After once", run: func(t *testing.T, r *rig) string {
			r.start()
			r.w.LA.Fail(fakeazure.Fault{Status: 429, RetryAfter: "1"})
			res := r.invoke(http.StatusOK)
			reqs := r.w.LA.Requests()
			if len(reqs) != 2 || res.Took < time.Second {
				t.Errorf("%d requests in %s: want the SDK to retry once after Retry-After", len(reqs), res.Took)
			}
			return fmt.Sprintf("SDK waits Retry-After (1 s) and retries; run succeeds in %s", res.Took.Round(100*time.Millisecond))
		}},
		{name: "429 with Retry-After beyond the retries", run: queryFailsAlways(fakeazure.Fault{Status: 429, RetryAfter: "1"},
			"3 retries, then the run fails in %s (HTTP 500 to the host), window kept")},
		{name: "500 on every attempt", run: queryFailsAlways(fakeazure.Fault{Status: 500}, "retried with backoff, run fails in %s, nothing posted")},
		{name: "503 on every attempt", run: queryFailsAlways(fakeazure.Fault{Status: 503}, "retried with backoff, run fails in %s, nothing posted")},
		{name: "answer slower than the query deadline", args: []string{"--query-timeout=1s"}, run: func(t *testing.T, r *rig) string {
			r.start()
			for range 4 {
				r.w.LA.Fail(fakeazure.Fault{Delay: time.Hour})
			}
			res := r.invoke(http.StatusInternalServerError)
			if res.Took > 10*time.Second {
				t.Errorf("run took %s with a 2 s query deadline", res.Took)
			}
			nothingPosted(t, r)
			r.w.LA.Heal()
			return fmt.Sprintf("query deadline (2 s with --query-timeout=1s) ends the call; run fails in %s", res.Took.Round(100*time.Millisecond))
		}},
		{name: "partial result", run: func(t *testing.T, r *rig) string {
			r.start()
			r.w.LA.Fail(fakeazure.Fault{Partial: "Query result set has exceeded the internal data size limit"})
			r.invoke(http.StatusInternalServerError)
			for _, fp := range r.fps {
				if posts(r.w.Slack, fp) != 1 {
					t.Errorf("%s: the rows of a partial result are delivered", fp)
				}
			}
			return "its rows are delivered; the run reports failure and the window does not advance"
		}},
		{name: "malformed body", run: func(t *testing.T, r *rig) string {
			r.start()
			r.w.LA.Fail(fakeazure.Fault{Body: `{"tables":[{"name":"PrimaryResult","columns":[{"name":"Caller","type":"str`})
			r.invoke(http.StatusInternalServerError)
			nothingPosted(t, r)
			return "decode error; run fails, nothing posted"
		}},
		{name: "column missing", run: func(t *testing.T, r *rig) string {
			r.start()
			cols := slices.DeleteFunc(slices.Clone(e2e.Columns), func(c fakeazure.Column) bool { return c.Name == "ScriptFingerprintHash" })
			r.w.LA.Fail(fakeazure.Fault{Body: answer(cols, nil)})
			res := r.invoke(http.StatusInternalServerError)
			nothingPosted(t, r)
			if !strings.Contains(strings.Join(res.Logs, " "), "ScriptFingerprintHash") {
				t.Errorf("the error does not name the missing column: %q", res.Logs)
			}
			return "run fails naming the column, nothing posted"
		}},
		{name: "column of another type", run: func(t *testing.T, r *rig) string {
			r.start()
			cols := append([]fakeazure.Column(nil), e2e.Columns...)
			cols[0].Type = "long" // TimeGenerated, with RFC 3339 strings in it
			r.w.LA.Fail(fakeazure.Fault{Body: answer(cols, [][]any{finding(1, "corr-1", "vm-1", "fp-1", "x")})})
			r.invoke(http.StatusInternalServerError)
			nothingPosted(t, r)
			return "run fails naming row and column, nothing posted"
		}},
		{name: "empty result", run: func(t *testing.T, r *rig) string {
			r.start()
			r.w.LA.Fail(fakeazure.Fault{Body: answer(e2e.Columns, nil)})
			r.invoke(http.StatusOK)
			nothingPosted(t, r)
			return "run succeeds with nothing to post"
		}},
	})
}

// queryFailsAlways is a case whose query meets fault at every attempt (the first and the SDK's
// three retries): the run fails and posts nothing. observed is its RESULT text, %s the run's time.
func queryFailsAlways(fault fakeazure.Fault, observed string) func(t *testing.T, r *rig) string {
	return func(t *testing.T, r *rig) string {
		r.start()
		for range 4 {
			r.w.LA.Fail(fault)
		}
		res := r.invoke(http.StatusInternalServerError)
		nothingPosted(t, r)
		return fmt.Sprintf(observed, res.Took.Round(100*time.Millisecond))
	}
}

// answer is a query API answer body with one table.
func answer(cols []fakeazure.Column, rows [][]any) string {
	if rows == nil {
		rows = [][]any{}
	}
	b, _ := json.Marshal(map[string]any{"tables": []any{map[string]any{"name": "PrimaryResult", "columns": cols, "rows": rows}}})
	return string(b)
}

func TestReliabilityIdentity(t *testing.T) {
	runFaultCases(t, "Managed identity", []faultCase{
		{name: "endpoint unavailable, then back", run: func(t *testing.T, r *rig) string {
			r.w.Identity.Unavailable(1000)
			r.start()
			res := r.invoke(http.StatusInternalServerError)
			nothingPosted(t, r)
			r.w.Identity.Unavailable(0)
			return fmt.Sprintf("token request retried, run fails in %s; the next run gets a token", res.Took.Round(100*time.Millisecond))
		}},
	})
}

func TestReliabilityTableStorage(t *testing.T) {
	runFaultCases(t, "Table Storage", []faultCase{
		{name: "Azurite stopped before a run", run: func(t *testing.T, r *rig) string {
			r.start()
			r.w.Tables.Stop()
			res := r.invoke(http.StatusInternalServerError)
			nothingPosted(t, r)
			r.w.Tables.Restart()
			return fmt.Sprintf("load fails after the SDK's retries (%s), nothing posted", res.Took.Round(100*time.Millisecond))
		}},
		{name: "endpoint accepts connections and never answers", run: func(t *testing.T, r *rig) string {
			hole := blackHole(t)
			conn := strings.Replace(r.w.Tables.ConnectionString(), r.w.Tables.Addr(), hole, 1)
			r.start("DEDUP_TABLE_CONNECTION=" + conn)
			res := r.invoke(http.StatusInternalServerError)
			nothingPosted(t, r)
			r.p.Kill()
			return fmt.Sprintf("each store call is bounded (30 s): the run fails in %s, nothing posted", res.Took.Round(100*time.Millisecond))
		}},
		{name: "Azurite stopped while posting, back before the run ends", run: func(t *testing.T, r *rig) string {
			r.start()
			h, ch := r.asyncHeld(false)
			r.w.Tables.Stop()
			h.Release()
			e2e.WaitFor(t, "Slack accepted the held post", 10*time.Second, func() bool { return len(r.w.Slack.Messages()) == 1 })
			r.w.Tables.Restart() // with its data; the SDK is still retrying the delivery record
			res := <-ch
			if res.Err != nil {
				t.Fatalf("invocation: %s", res)
			}
			return fmt.Sprintf("status %d; the delivery record is retried until Azurite is back, nothing posted twice", res.Status)
		}},
		{name: "Azurite stopped while posting, down for the rest of the run", run: func(t *testing.T, r *rig) string {
			r.start()
			h, ch := r.asyncHeld(false)
			r.w.Tables.Stop()
			h.Release()
			res := r.await(ch, http.StatusInternalServerError)
			if n := len(r.w.Slack.Messages()); n != 1 {
				t.Errorf("%d messages: posting must stop once a delivery cannot be recorded", n)
			}
			r.w.Tables.Restart()
			return fmt.Sprintf("run fails in %s after one post; the process keeps the unrecorded delivery and the unreleased claims and writes them first in the next run", res.Took.Round(100*time.Millisecond))
		}},
		{name: "conflict on the claim (another invocation won)", run: func(t *testing.T, r *rig) string {
			r.start()
			other := r.w.StartArgs(t, r.args)
			gate := make(chan struct{})
			t.Cleanup(func() { closeOnce(gate) })
			r.w.LA.Fail(fakeazure.Fault{Until: gate}) // our query waits, after our state was loaded
			ch := r.async()
			e2e.WaitFor(t, "our query reached Log Analytics", 10*time.Second, func() bool { return len(r.w.LA.Requests()) == 1 })
			if res := other.Call(invocationLimit, e2e.TimerPayload); res.Err != nil || res.Status != 200 {
				t.Fatalf("the other invocation: %s", res)
			}
			closeOnce(gate)
			res := r.await(ch, http.StatusOK)
			if !strings.Contains(strings.Join(res.Logs, " "), " 0 posted") {
				t.Errorf("the losing invocation posted: %q", res.Logs)
			}
			return "the other invocation posts all; ours loses each claim (insert conflict) and posts nothing"
		}},
		{name: "ETag mismatch on the delivery update", run: func(t *testing.T, r *rig) string {
			r.start()
			h, ch := r.asyncHeld(false)
			// Someone else updates fp-1's row while we post it.
			ctx := context.Background()
			s := store(t, r.w)
			st, err := s.Load(ctx, bundledHuntID)
			if err != nil {
				t.Fatal(err)
			}
			rec := st.Records["fp-1"]
			rec.Attempts = 7
			if lost, err := s.Put(ctx, bundledHuntID, []*hunt.Record{rec}); err != nil || len(lost) != 0 {
				t.Fatalf("update fp-1: lost %v, %v", lost, err)
			}
			h.Release()
			r.await(ch, http.StatusOK)
			if got := state(t, r.w).Records["fp-1"]; got.State != hunt.Delivered || got.Attempts != 8 {
				t.Errorf("fp-1 after the conflict: %+v, want delivered on top of the other update", got)
			}
			return "412 on the update; reloaded and the delivery applied to the newer row"
		}},
	})
}

// blackHole listens on loopback, accepts connections and never answers; it returns its address.
func blackHole(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return l.Addr().String()
}

func closeOnce(ch chan struct{}) {
	select {
	case <-ch:
	default:
		close(ch)
	}
}

func TestReliabilitySlack(t *testing.T) {
	runFaultCases(t, "Slack", []faultCase{
		{name: "429 with Retry-After for several calls", run: func(t *testing.T, r *rig) string {
			r.start()
			r.w.Slack.RateLimitNext(5, 1)
			res := r.invoke(http.StatusInternalServerError)
			if n := len(r.w.Slack.Messages()); n != 0 {
				t.Errorf("%d messages", n)
			}
			return fmt.Sprintf("waits Retry-After 1 s between 4 attempts, gives up (unavailable) in %s; the next run waits out the last 429 and posts", res.Took.Round(100*time.Millisecond))
		}},
		{name: "500 for a whole run", run: func(t *testing.T, r *rig) string {
			r.start()
			r.w.Slack.FailNext(1000, 500)
			res := r.invoke(http.StatusInternalServerError)
			r.w.Slack.Heal()
			return fmt.Sprintf("one post retried with backoff, then the run stops posting and releases its claims (%s)", res.Took.Round(100*time.Millisecond))
		}},
		{name: "invalid_auth", run: slackRefusesAlways("invalid_auth", "stops at the first refusal, claims released, error names the cause")},
		{name: "channel_not_found", run: slackRefusesAlways("channel_not_found", "stops at the first refusal, claims released")},
		{name: "invalid_blocks for one message", run: func(t *testing.T, r *rig) string {
			r.start()
			r.w.Slack.RefuseIf("invalid_blocks", func(m fakeslack.Message) bool { return strings.Contains(string(m.Blocks), "`fp-2`") })
			r.invoke(http.StatusOK)
			if posts(r.w.Slack, "fp-1") != 1 || posts(r.w.Slack, "fp-3") != 1 {
				t.Error("the refused message blocked the others")
			}
			return "that finding goes out as plain text; the others are unaffected"
		}},
		{name: "invalid_blocks, plain text refused too", run: func(t *testing.T, r *rig) string {
			r.start()
			r.w.Slack.RefuseIf("invalid_blocks", func(m fakeslack.Message) bool {
				return strings.Contains(string(m.Blocks), "`fp-2`") || strings.Contains(m.Text, "fp-2")
			})
			r.invoke(http.StatusInternalServerError)
			if posts(r.w.Slack, "fp-1") != 1 || posts(r.w.Slack, "fp-3") != 1 {
				t.Error("the refused message blocked the others")
			}
			r.w.Slack.Heal()
			return "that finding stays pending with its error; the others are posted; the run reports failure"
		}},
		{name: "webhook answering 404", run: func(t *testing.T, r *rig) string {
			r.w.UseWebhook(t)
			return slackRefusesAlways("no_service", "404 no_service: unavailable, stops, claims released")(t, r)
		}},
	})
}

// slackRefusesAlways is a case whose every Slack call is refused with code, until the healthy run:
// the run stops at the first refusal. observed is its RESULT text.
func slackRefusesAlways(code, observed string) func(t *testing.T, r *rig) string {
	return func(t *testing.T, r *rig) string {
		r.start()
		r.w.Slack.ErrorNext(1000, code)
		r.invoke(http.StatusInternalServerError)
		if calls := len(r.w.Slack.Calls()); calls != 1 {
			t.Errorf("%d calls: the run must stop at the first %s", calls, code)
		}
		r.w.Slack.Heal()
		return observed
	}
}

func TestReliabilityProcess(t *testing.T) {
	runFaultCases(t, "Process", []faultCase{
		{name: "SIGKILL while posting, before Slack accepted", args: []string{"--lease=2s"}, run: func(t *testing.T, r *rig) string {
			r.start()
			h, ch := r.asyncHeld(false)
			r.p.Kill()
			<-h.Gone()
			<-ch
			r.start()
			n := untilSettled(t, r)
			return fmt.Sprintf("after restart the claims lapse (--lease=2s) and run %d delivers each finding once", n)
		}},
		{name: "SIGKILL after Slack accepted, before the delivery was recorded", args: []string{"--lease=2s"}, run: func(t *testing.T, r *rig) string {
			r.start()
			_, ch := r.asyncHeld(true) // Slack has fp-1; the handler has not heard back
			r.p.Kill()
			<-ch
			r.start()
			n := untilSettled(t, r)
			return fmt.Sprintf("the documented window: fp-1 is posted again once the claim lapses (run %d after restart)", n)
		}, dups: map[string]int{"fp-1": 1}},
		{name: "SIGTERM during a run that finishes within the grace", args: []string{"--grace=20s"}, run: func(t *testing.T, r *rig) string {
			r.start()
			h, ch := r.asyncHeld(false)
			r.p.Cmd.Process.Signal(syscall.SIGTERM)
			// New work is refused at once (the listener closes), the run in flight goes on.
			e2e.WaitFor(t, "the listener closed after SIGTERM", 10*time.Second, func() bool {
				c, err := net.DialTimeout("tcp", strings.TrimPrefix(r.p.URL, "http://"), time.Second)
				if err == nil {
					c.Close()
				}
				return err != nil
			})
			h.Release()
			r.await(ch, http.StatusOK)
			r.p.WaitExit(t, 10*time.Second)
			return "stops listening, finishes the run (all delivered and recorded), exits 0"
		}},
		{name: "SIGTERM during a run that outlasts the grace", args: []string{"--grace=1s"}, run: func(t *testing.T, r *rig) string {
			r.start()
			_, ch := r.asyncHeld(false) // never released: Slack hangs
			sent := time.Now()
			r.p.Cmd.Process.Signal(syscall.SIGTERM)
			r.p.WaitExit(t, 15*time.Second)
			took := time.Since(sent)
			if res := <-ch; res.Err == nil && res.Status == 200 {
				t.Errorf("the stopped run reported success: %s", res)
			}
			for fp, rec := range state(t, r.w).Records {
				if rec.State != hunt.Pending || !rec.ClaimedUntil.IsZero() || rec.Finding == nil {
					t.Errorf("%s half-recorded after SIGTERM: %+v", fp, rec)
				}
			}
			return fmt.Sprintf("after the 1 s grace the run is cancelled, releases its claims (all pending with their findings) and the process exits 0 in %s", took.Round(100*time.Millisecond))
		}},
		{name: "two invocations at once, one process", run: func(t *testing.T, r *rig) string {
			r.start()
			twoAtOnce(t, r, r)
			return "both load the same state; the conditional insert gives each finding to one of them"
		}},
		{name: "two invocations at once, two processes", run: func(t *testing.T, r *rig) string {
			r.start()
			other := &rig{t: t, w: r.w, args: r.args}
			other.start()
			twoAtOnce(t, r, other)
			return "as with one process: one claim wins per finding"
		}},
	})
}

// twoAtOnce invokes r's handler and other's (the same or another process of the same world) at
// once: both queries wait in Log Analytics until both have arrived. Both runs must succeed.
func twoAtOnce(t *testing.T, r, other *rig) {
	t.Helper()
	gate := make(chan struct{})
	t.Cleanup(func() { closeOnce(gate) })
	r.w.LA.Fail(fakeazure.Fault{Until: gate}, fakeazure.Fault{Until: gate})
	a, b := r.async(), other.async()
	e2e.WaitFor(t, "both queries reached Log Analytics", 30*time.Second, func() bool { return len(r.w.LA.Requests()) == 2 })
	closeOnce(gate)
	r.await(a, http.StatusOK)
	other.await(b, http.StatusOK)
}

// untilSettled invokes the restarted handler until the store holds nothing pending (a killed run's
// claims lapse after --lease) and returns how many runs that took.
func untilSettled(t *testing.T, r *rig) int {
	t.Helper()
	n := 0
	e2e.WaitEvery(t, "the killed run's findings were delivered", 30*time.Second, 100*time.Millisecond, func() bool {
		n++
		if res := r.p.Call(invocationLimit, e2e.TimerPayload); res.Err != nil || res.Status != http.StatusOK {
			t.Fatalf("run %d after restart: %s\n%s", n, res, r.p.Stderr)
		}
		for _, rec := range state(t, r.w).Records {
			if rec.State != hunt.Delivered {
				return false
			}
		}
		return true
	})
	return n
}

// hostileMentions are Slack's special tokens: data holding them must reach Slack escaped.
var hostileMentions = []string{"<!channel>", "<!here>", "<!everyone>", "<@U123>", "<#C123>", "<https://evil.example|click>", "<!subteam^S123>"}

func TestReliabilityBadInputs(t *testing.T) {
	w, p := ownWorld(t)
	ctl := "ctl\x00\x07\x1b[31m\u202e\u2028end"
	commands := func(n, size int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("%06d %s", i, strings.Repeat("x", max(0, size-7)))
		}
		return out
	}
	rows := [][]any{
		// Markup and mentions in every field people see.
		withFields(finding(1, "corr-markup", "<!here>", "fp-markup", "<!channel> run", "```", "*bold* _it_ ~st~ `tick`", "<https://evil.example|click>"),
			map[int]any{2: "<!channel> <@U123> *bold*", 3: "<https://evil.example|click>", 6: "/subscriptions/<!everyone>/x"}),
		// Control characters and bidi overrides.
		withFields(finding(2, "corr-ctl", "vm-"+ctl, "fp-ctl", ctl), map[int]any{2: ctl}),
		// A 100 KB command and 1,000 commands of 100 bytes (100 KB), then 10,000 commands.
		finding(3, "corr-100k", "vm-big", "fp-100k", strings.Repeat("A", 100<<10)),
		finding(4, "corr-100k-list", "vm-big", "fp-100k-list", commands(1000, 100)...),
		finding(5, "corr-10k", "vm-big", "fp-10k", commands(10000, 12)...),
		// Non-ASCII names.
		finding(6, "corr-utf", "сервер-01-サーバー-😀", "fp-utf", "Write-Host 'naïve café'"),
		// Invalid UTF-8 (put in the raw answer below: encoding/json would repair it here).
		withFields(finding(7, "corr-bad-utf8", "vm-INVALID", "fp-bad-utf8", "INVALID"), map[int]any{2: "INVALID"}),
	}
	// Null and empty values everywhere (the fingerprint too: it then comes from the entities).
	nulls := make([]any, len(e2e.Columns))
	empties := make([]any, len(e2e.Columns))
	for i, c := range e2e.Columns {
		if c.Type == "string" || c.Type == "dynamic" {
			empties[i] = ""
		}
	}
	rows = append(rows, nulls, empties)
	w.LA.SetTable(fakeazure.Table{Columns: e2e.Columns, Rows: rows})
	raw := strings.ReplaceAll(answer(e2e.Columns, rows), "INVALID", "bad-\xff\xfe-\xc3(-\xed\xa0\x80")
	if utf8.ValidString(raw) {
		t.Fatal("the answer is valid UTF-8")
	}
	w.LA.Fail(fakeazure.Fault{Body: raw})
	res := p.Call(invocationLimit, e2e.TimerPayload)
	if res.Err != nil || res.Status != 200 {
		t.Fatalf("hostile rows: %s\n%s", res, p.Stderr)
	}
	msgs := w.Slack.Messages()
	fps := []string{"fp-markup", "fp-ctl", "fp-100k", "fp-100k-list", "fp-10k", "fp-utf", "fp-bad-utf8"}
	for _, fp := range fps {
		if n := posts(w.Slack, fp); n != 1 {
			t.Errorf("%s posted %d times", fp, n)
		}
	}
	if len(msgs) != len(fps)+1 { // + one for the null/empty rows, which share a fingerprint
		t.Errorf("%d messages, want %d", len(msgs), len(fps)+1)
	}
	all := ""
	for _, m := range msgs {
		for _, s := range messageTexts(t, m) {
			all += s + "\n"
			checkInert(t, s)
		}
	}
	for _, want := range []string{"&lt;!channel&gt;", "&lt;!here&gt;", "&lt;@U123&gt;", "∗bold∗", "сервер-01-サーバー-😀"} {
		if !strings.Contains(all, want) {
			t.Errorf("no message shows %q", want)
		}
	}
	// The second run finds the same rows and posts nothing.
	if res := p.Call(invocationLimit, e2e.TimerPayload); res.Err != nil || res.Status != 200 || len(w.Slack.Messages()) != len(msgs) {
		t.Errorf("second run: %s, %d messages", res, len(w.Slack.Messages()))
	}
	t.Logf("RESULT Bad inputs | mentions, links, markup, control characters, invalid UTF-8, 100 KB and 10,000-command lists, non-ASCII names, nulls and empties | each posted once, escaped and within Slack's limits | lost 0 | duplicates 0")
}

// withFields replaces some values of a row (by column index).
func withFields(row []any, set map[int]any) []any {
	for i, v := range set {
		row[i] = v
	}
	return row
}

// messageTexts returns every text of a message: the top-level text and each "text" in its blocks.
func messageTexts(t *testing.T, m fakeslack.Message) []string {
	t.Helper()
	texts := []string{m.Text}
	if m.Blocks == nil {
		return texts
	}
	var v any
	if err := json.Unmarshal(m.Blocks, &v); err != nil {
		t.Fatalf("blocks: %v", err)
	}
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if s, ok := e.(string); ok && k == "text" {
					texts = append(texts, s)
				}
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
	return texts
}

// ownMarkup is what the message builder itself writes between < and >: links to MITRE ATT&CK and
// the Azure portal, and Slack's date formatting.
var ownMarkup = regexp.MustCompile(`^<(https://attack\.mitre\.org/|https://portal\.azure\.com/|!date\^[0-9]+\^)`)

// checkInert fails if s holds markup that data could have made act: a mention, a link not built
// by the message itself, a control character, or invalid UTF-8.
func checkInert(t *testing.T, s string) {
	t.Helper()
	if !utf8.ValidString(s) {
		t.Errorf("invalid UTF-8 in %q", s)
	}
	for _, bad := range hostileMentions {
		if strings.Contains(s, bad) {
			t.Errorf("%q reached Slack unescaped in %.200q", bad, s)
		}
	}
	for rest := s; ; {
		i := strings.Index(rest, "<")
		if i < 0 {
			break
		}
		rest = rest[i:]
		if !ownMarkup.MatchString(rest) {
			t.Errorf("raw < in %.200q", rest)
			break
		}
		rest = rest[1:]
	}
	for _, r := range s {
		if unicode.IsControl(r) && r != '\n' && r != '\t' || r >= '\u202a' && r <= '\u202e' {
			t.Errorf("control character %U in %.200q", r, s)
			break
		}
	}
}

func TestReliabilityStorageKeys(t *testing.T) {
	w, p := ownWorld(t)
	fps := []string{"a/b", `c\d`, "e#f", "g?h", "tab\there", "ü-指紋", strings.Repeat("k", 2000), "~window", "h~deadbeef"}
	var rows [][]any
	for i, fp := range fps {
		rows = append(rows, finding(i, fmt.Sprintf("corr-key-%d", i), fmt.Sprintf("vm-%d", i), fp, "whoami"))
	}
	w.LA.SetTable(fakeazure.Table{Columns: e2e.Columns, Rows: rows})
	for run := 1; run <= 2; run++ {
		if res := p.Call(invocationLimit, e2e.TimerPayload); res.Err != nil || res.Status != 200 {
			t.Fatalf("run %d: %s\n%s", run, res, p.Stderr)
		}
		if n := len(w.Slack.Messages()); n != len(fps) {
			t.Fatalf("after run %d: %d messages, want %d", run, n, len(fps))
		}
	}
	st := state(t, w)
	for _, fp := range fps {
		if rec := st.Records[fp]; rec == nil || rec.State != hunt.Delivered {
			t.Errorf("fingerprint %.40q: %+v", fp, rec)
		}
	}
	t.Logf("RESULT Bad inputs | fingerprints with / \\ # ?, a tab, non-ASCII, 2,000 characters, and look-alikes of the store's own keys | stored under hashed row keys in Azurite; each posted once, none again on the next run | lost 0 | duplicates 0")
}

func TestReliabilityRequests(t *testing.T) {
	w, p := ownWorld(t)
	w.LA.SetTable(fakeazure.Table{Columns: e2e.Columns, Rows: [][]any{finding(1, "corr-1", "vm-1", "fp-1", "whoami")}})
	for _, body := range []string{"\x00garbage{{", e2e.TimerPayload[:60], `{"Data":{"timer":{"ScheduleStatus":{"Last":"yesterday"}}}}`, strings.Repeat("[", 2<<20)} {
		res := p.Call(10*time.Second, body)
		if res.Err != nil || res.Status != http.StatusBadRequest {
			t.Errorf("body %.30q: %s, want 400", body, res)
		}
	}
	if n := len(w.Slack.Messages()); n != 0 {
		t.Errorf("%d messages from bad invocations", n)
	}
	if res := p.Call(invocationLimit, e2e.TimerPayload); res.Err != nil || res.Status != 200 || posts(w.Slack, "fp-1") != 1 {
		t.Errorf("healthy invocation after bad ones: %s, %d posts\n%s", res, posts(w.Slack, "fp-1"), p.Stderr)
	}
	t.Logf("RESULT Bad inputs | garbage body, truncated timer payload, bad timestamp, 2 MB body | 400 with a JSON answer, nothing run, the process stays up; the next invocation delivers | lost 0 | duplicates 0")
}

func TestReliabilityStartup(t *testing.T) {
	if testing.Short() {
		t.Skip("slow end-to-end test: skipped with -short")
	}
	t.Parallel()
	dir := t.TempDir()
	notHunt := filepath.Join(dir, "not-a-hunt.yaml")
	os.WriteFile(notHunt, []byte("just: some\nyaml: [1, 2]\n"), 0o600)
	binaryFile := filepath.Join(dir, "binary.yaml")
	os.WriteFile(binaryFile, []byte("\x00\x01\xff\xfe{{{"), 0o600)
	const webhookSecret = "https://hooks.slack.com/services/T0/B0/startupsecretvalue"
	base := []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "FUNCTIONS_CUSTOMHANDLER_PORT=" + loopback.Port(t),
		"LOG_ANALYTICS_WORKSPACE_ID=11111111-2222-3333-4444-555555555555",
		"DEDUP_TABLE_CONNECTION=DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=" + azurite.Key + ";TableEndpoint=http://127.0.0.1:1/devstoreaccount1;",
		"SLACK_WEBHOOK_URL=" + webhookSecret,
	}
	for _, c := range []struct {
		name string
		env  []string
		want []string
	}{
		{"hunt YAML that is not a hunt", []string{"HUNT_FILE=" + notHunt}, []string{"HUNT_FILE", "missing id, name, query"}},
		{"hunt file that is not YAML", []string{"HUNT_FILE=" + binaryFile}, []string{"HUNT_FILE"}},
		{"settings with wrong types", []string{
			"HUNT_LOOKBACK=1d", "HUNT_MAX_CATCHUP=-5h", "DEDUP_TTL=forever", "LOG_LEVEL=loud", "DEDUP_TABLE_NAME=1-bad",
			"SLACK_DIGEST_THRESHOLD=many", "HEALTH_ALERT_AFTER=-1", "HEALTH_HEARTBEAT_HOUR=25", "LOG_ANALYTICS_ENDPOINT=ftp://x",
		}, []string{"HUNT_LOOKBACK", "HUNT_MAX_CATCHUP", "DEDUP_TTL", "LOG_LEVEL", "DEDUP_TABLE_NAME", "SLACK_DIGEST_THRESHOLD", "HEALTH_ALERT_AFTER", "HEALTH_HEARTBEAT_HOUR", "LOG_ANALYTICS_ENDPOINT"}},
		{"secret setting with a wrong value", []string{"SLACK_WEBHOOK_URL=http://hooks.example/services/T0/B0/plainhttpsecret"}, []string{"SLACK_WEBHOOK_URL"}},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		cmd := exec.CommandContext(ctx, e2e.Build(t), "serve")
		cmd.Env = append(append([]string{}, base...), c.env...)
		out, err := cmd.CombinedOutput()
		timedOut := ctx.Err() != nil
		cancel()
		if err == nil || timedOut {
			t.Errorf("%s: serve did not refuse to start (err %v)", c.name, err)
		}
		for _, want := range c.want {
			if !strings.Contains(string(out), want) {
				t.Errorf("%s: output lacks %q:\n%s", c.name, want, out)
			}
		}
		for _, secret := range []string{"startupsecretvalue", "plainhttpsecret", azurite.Key} {
			if strings.Contains(string(out), secret) {
				t.Errorf("%s: secret %.8s… echoed:\n%s", c.name, secret, out)
			}
		}
	}
	t.Logf("RESULT Bad inputs | hunt YAML that is not a hunt, a binary hunt file, settings of the wrong type (all at once), a secret setting with a bad value | start-up refused with exit 1, every bad setting named, no secret echoed | lost 0 | duplicates 0")
}
