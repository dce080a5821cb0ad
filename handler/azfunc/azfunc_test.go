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
		check                    func(t *testing.T)
	}{
		{name: "readiness", method: "GET", path: "/", status: 200, logs: "ready"},
		{name: "unknown path", method: "POST", path: "/api/function", body: "{}", status: 404},
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
