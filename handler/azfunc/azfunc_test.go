package azfunc_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/huntwatch/huntwatch/handler/azfunc"
	"github.com/huntwatch/huntwatch/handler/internal/loopback"
)

type hostReply struct {
	Outputs     map[string]any
	Logs        []string
	ReturnValue any
}

func TestHandler(t *testing.T) {
	var got azfunc.Invocation
	var fail error
	h := azfunc.Handler(slog.New(slog.DiscardHandler), "function", func(_ context.Context, inv azfunc.Invocation) (string, error) {
		got = inv
		return "2 new", fail
	})
	for _, test := range []struct {
		name, method, path, body string
		fail                     error
		status                   int
		logs                     string
		allow                    string // the Allow header wanted
		check                    func(t *testing.T)
	}{
		{name: "readiness", method: "GET", path: "/", status: 200, logs: "ready"},
		{name: "readiness, any method", method: "POST", path: "/", status: 200, logs: "ready"},
		{name: "unknown path", method: "POST", path: "/api/function", body: "{}", status: 404, logs: "no function at /api/function"},
		{name: "unknown path, GET", method: "GET", path: "/functions", status: 404},
		{name: "function path with a slash", method: "POST", path: "/function/", status: 404},
		{name: "GET the function", method: "GET", path: "/function", status: 405, allow: "POST", logs: "GET /function: the host invokes a function with POST"},
		{name: "PUT the function", method: "PUT", path: "/function", body: "{}", status: 405, allow: "POST"},
		{name: "HEAD the function", method: "HEAD", path: "/function", status: 405, allow: "POST"},
		{name: "timer", method: "POST", path: "/function", status: 200, logs: "2 new",
			body: `{"Data":{"timer":{"Schedule":{"AdjustForDST":true},"ScheduleStatus":{"Last":"2026-11-01T11:00:00.0000000+00:00","Next":"2026-11-01T13:00:00+00:00","LastUpdated":"2026-11-01T12:00:00+00:00"},"IsPastDue":true}},"Metadata":{"sys":{"MethodName":"function"}}}`,
			check: func(t *testing.T) {
				if !got.Timer.IsPastDue || got.Timer.ScheduleStatus == nil || got.Timer.ScheduleStatus.Last.Hour() != 11 {
					t.Errorf("timer %+v", got.Timer)
				}
			}},
		{name: "first run: Last without offset, null ScheduleStatus fields", method: "POST", path: "/function", status: 200,
			body: `{"Data":{"timer":{"ScheduleStatus":{"Last":"0001-01-01T00:00:00","Next":null},"IsPastDue":false}},"Metadata":{}}`},
		{name: "null ScheduleStatus", method: "POST", path: "/function", status: 200, body: `{"Data":{"timer":{"ScheduleStatus":null,"IsPastDue":false}}}`,
			check: func(t *testing.T) {
				if got.Timer.ScheduleStatus != nil {
					t.Errorf("ScheduleStatus %+v", got.Timer.ScheduleStatus)
				}
			}},
		{name: "timer as a JSON string", method: "POST", path: "/function", status: 200, body: `{"Data":{"timer":"{\"IsPastDue\":true}"}}`,
			check: func(t *testing.T) {
				if !got.Timer.IsPastDue {
					t.Error("IsPastDue lost")
				}
			}},
		{name: "empty body", method: "POST", path: "/function", status: 200},
		{name: "garbage body", method: "POST", path: "/function", body: "\x00\xffnot json", status: 400, logs: "bad invocation payload"},
		{name: "truncated timer", method: "POST", path: "/function", body: `{"Data":{"timer":{"IsPastDue":tr`, status: 400},
		{name: "bad timestamp", method: "POST", path: "/function", body: `{"Data":{"timer":{"ScheduleStatus":{"Last":"yesterday"}}}}`, status: 400},
		{name: "failed run", method: "POST", path: "/function", body: `{}`, fail: errors.New("store down"), status: 500, logs: "run failed: store down"},
	} {
		t.Run(test.name, func(t *testing.T) {
			fail = test.fail
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(test.method, test.path, strings.NewReader(test.body)))
			if rec.Code != test.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, test.status, rec.Body)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("content type %q", ct)
			}
			if allow := rec.Header().Get("Allow"); allow != test.allow {
				t.Errorf("Allow %q, want %q", allow, test.allow)
			}
			var reply hostReply
			if err := json.Unmarshal(rec.Body.Bytes(), &reply); err != nil || reply.Outputs == nil {
				t.Fatalf("body %s: %v", rec.Body, err)
			}
			if test.logs != "" && !strings.Contains(strings.Join(reply.Logs, "\n"), test.logs) {
				t.Errorf("logs %q, want %q", reply.Logs, test.logs)
			}
			if test.check != nil {
				test.check(t)
			}
		})
	}
}

func TestServeLoopbackOnlyAndShutdown(t *testing.T) {
	ln := loopback.Port(t)
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan struct{})
	release := make(chan struct{})
	var runErr error
	h := azfunc.Handler(slog.New(slog.DiscardHandler), "function", func(ctx context.Context, _ azfunc.Invocation) (string, error) {
		close(started)
		select {
		case <-release:
			return "done", nil
		case <-ctx.Done():
			runErr = ctx.Err()
			return "", ctx.Err()
		}
	})
	done := make(chan error, 1)
	go func() { done <- azfunc.Serve(ctx, slog.New(slog.DiscardHandler), ln, h, 50*time.Millisecond) }()
	url := "http://127.0.0.1:" + ln
	waitReady(t, url)

	reply := make(chan int, 1)
	go func() {
		resp, err := http.Post(url+"/function", "application/json", strings.NewReader("{}"))
		if err != nil {
			reply <- 0
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		reply <- resp.StatusCode
	}()
	<-started
	cancel() // SIGTERM: the run in flight gets the grace period, then its context is cancelled
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: %v", err)
		}
	case <-time.After(35 * time.Second):
		t.Fatal("serve did not stop")
	}
	if code := <-reply; code != http.StatusInternalServerError || !errors.Is(runErr, context.Canceled) {
		t.Errorf("in-flight run: status %d, ctx err %v", code, runErr)
	}
	close(release)
}

func TestServeRejectsBadPort(t *testing.T) {
	err := azfunc.Serve(context.Background(), slog.New(slog.DiscardHandler), "http", nil, time.Second)
	if err == nil || !strings.Contains(err.Error(), "FUNCTIONS_CUSTOMHANDLER_PORT") {
		t.Fatalf("err %v", err)
	}
}

func waitReady(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(url + "/"); err == nil {
			resp.Body.Close()
			return
		}
		time.Sleep(10 * time.Millisecond) // polling a condition, not synchronising on time
	}
	t.Fatal("server never became ready")
}

func TestTick(t *testing.T) {
	at := func(s string) azfunc.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return azfunc.Time{Time: v}
	}
	for _, test := range []struct {
		name  string
		timer azfunc.Timer
		want  string
	}{
		{"no schedule status", azfunc.Timer{IsPastDue: true}, ""},
		{"zero status", azfunc.Timer{ScheduleStatus: &azfunc.ScheduleStatus{}}, ""},
		{"Last but no Next", azfunc.Timer{ScheduleStatus: &azfunc.ScheduleStatus{Last: at("2026-11-01T12:00:00Z")}}, ""},
		{"first run", azfunc.Timer{ScheduleStatus: &azfunc.ScheduleStatus{Next: at("2026-11-01T13:00:00Z")}},
			"next=2026-11-01T13:00:00Z last=none"},
		{"a tick", azfunc.Timer{ScheduleStatus: &azfunc.ScheduleStatus{Last: at("2026-11-01T12:00:00Z"), Next: at("2026-11-01T13:00:00Z"), LastUpdated: at("2026-11-01T12:00:01Z")}},
			"next=2026-11-01T13:00:00Z last=2026-11-01T12:00:00Z"},
		{"offsets become UTC", azfunc.Timer{ScheduleStatus: &azfunc.ScheduleStatus{Last: at("2026-11-01T14:00:00+02:00"), Next: at("2026-11-01T15:00:00+02:00")}},
			"next=2026-11-01T13:00:00Z last=2026-11-01T12:00:00Z"},
	} {
		t.Run(test.name, func(t *testing.T) {
			if got := test.timer.Tick(); got != test.want {
				t.Errorf("Tick() = %q, want %q", got, test.want)
			}
		})
	}
}

// TestTickTellsRetriesFromTicks decodes payloads as the host sends them: a retry repeats the
// timer payload of the run that failed; the next tick carries the status the host moved on.
func TestTickTellsRetriesFromTicks(t *testing.T) {
	var got azfunc.Invocation
	h := azfunc.Handler(slog.New(slog.DiscardHandler), "function", func(_ context.Context, inv azfunc.Invocation) (string, error) {
		got = inv
		return "", nil
	})
	tick := func(body string) string {
		t.Helper()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("POST", "/function", strings.NewReader(body)))
		if rec.Code != http.StatusOK {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		return got.Timer.Tick()
	}
	const (
		first    = `{"Data":{"timer":{"ScheduleStatus":{"Last":"0001-01-01T00:00:00","Next":"2026-11-01T12:00:00+00:00","LastUpdated":"0001-01-01T00:00:00"},"IsPastDue":false}}}`
		run      = `{"Data":{"timer":{"ScheduleStatus":{"Last":"2026-11-01T12:00:00.0000000+00:00","Next":"2026-11-01T13:00:00+00:00","LastUpdated":"2026-11-01T12:00:00+00:00"},"IsPastDue":false}}}`
		next     = `{"Data":{"timer":{"ScheduleStatus":{"Last":"2026-11-01T13:00:00.0000000+00:00","Next":"2026-11-01T14:00:00+00:00","LastUpdated":"2026-11-01T13:00:00+00:00"},"IsPastDue":false}}}`
		asString = `{"Data":{"timer":"{\"ScheduleStatus\":{\"Last\":\"2026-11-01T12:00:00\",\"Next\":\"2026-11-01T13:00:00\"},\"IsPastDue\":false}"}}`
		// A run on start-up at 12:20 gets run's status; after it the host keeps Next (13:00) and
		// sets Last to 12:20, so the scheduled tick at 13:00 shares Next with it but not Last.
		afterStartup = `{"Data":{"timer":{"ScheduleStatus":{"Last":"2026-11-01T12:20:00+00:00","Next":"2026-11-01T13:00:00+00:00","LastUpdated":"2026-11-01T12:20:00+00:00"},"IsPastDue":false}}}`
	)
	firstTick, runTick, retryTick, nextTick := tick(first), tick(run), tick(run), tick(next)
	if runTick == "" || runTick != retryTick {
		t.Errorf("a retry has Tick %q, the run it retries %q; want the same, not empty", retryTick, runTick)
	}
	if nextTick == "" || nextTick == runTick || firstTick == "" || firstTick == runTick {
		t.Errorf("ticks %q, %q, %q; want three different ones", firstTick, runTick, nextTick)
	}
	if s := tick(asString); s != runTick {
		t.Errorf("the same status without offsets, as a JSON string: Tick %q, want %q", s, runTick)
	}
	if s := tick(afterStartup); s == runTick {
		t.Errorf("the tick after a run on start-up shares Next with it; Tick %q must still differ", s)
	}
	if s := tick(`{}`); s != "" {
		t.Errorf("no timer data: Tick %q, want \"\"", s)
	}
}

// The host's Metadata.sys.UtcNow reaches the run, with or without a zone offset; absent, it is zero.
func TestInvocationUtcNow(t *testing.T) {
	var got azfunc.Invocation
	h := azfunc.Handler(slog.New(slog.DiscardHandler), "function", func(_ context.Context, inv azfunc.Invocation) (string, error) {
		got = inv
		return "", nil
	})
	for _, test := range []struct {
		body string
		want time.Time
	}{
		{`{"Data":{"timer":{}},"Metadata":{"sys":{"UtcNow":"2026-11-27T13:00:05.5Z"}}}`, time.Date(2026, 11, 27, 13, 0, 5, 5e8, time.UTC)},
		{`{"Data":{"timer":{}},"Metadata":{"sys":{"UtcNow":"2026-11-27T13:00:05"}}}`, time.Date(2026, 11, 27, 13, 0, 5, 0, time.UTC)},
		{`{"Data":{"timer":{}},"Metadata":{}}`, time.Time{}},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("POST", "/function", strings.NewReader(test.body)))
		if rec.Code != 200 || !got.UtcNow.Equal(test.want) {
			t.Errorf("%s: status %d, UtcNow %v, want %v", test.body, rec.Code, got.UtcNow, test.want)
		}
	}
}
