// Package azfunc speaks the Azure Functions custom handler protocol: the host starts the handler,
// waits until it answers on /, and invokes a function by POSTing its bindings to /<function>.
// The handler answers 2xx JSON with Logs for a successful run and a non-2xx status for a failed
// one; the host drops the body of a failure, so failures are also written to stderr.
package azfunc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Invocation is what the host sent for one timer run.
type Invocation struct {
	Function string
	Timer    Timer
	// UtcNow is the host's time of the invocation (Metadata.sys.UtcNow); zero when absent.
	UtcNow time.Time
}

// Timer is the timer binding's data. Every field may be absent.
type Timer struct {
	IsPastDue      bool
	ScheduleStatus *ScheduleStatus
}

// ScheduleStatus is the timer monitor's record as it stood when the invocation began: for a
// scheduled tick, Next is the occurrence now running and Last the one before it (the zero time
// before the first run).
type ScheduleStatus struct {
	Last, Next, LastUpdated Time
}

// Tick returns a stable identity of the scheduled tick this invocation belongs to, such as
// "next=2026-11-01T13:00:00Z last=2026-11-01T12:00:00Z", or "" when it is unknown (no
// ScheduleStatus, as when function.json turns useMonitor off, or a zero Next). Compare it for
// equality only.
//
// The host retries a failed invocation (function.json's retry policy) with the same timer
// payload, so a retry has the Tick of the run that failed, while the next tick has a new one: the
// host moves the status on (Last to this tick, Next to the following occurrence) only once the
// invocation is done, retries included. A host that died mid-tick never moved it, so the past-due
// run it starts with has that tick's Tick too. Next alone is not enough: a run on start-up
// (runOnStartup) has the same Next as the scheduled tick after it, but not the same Last.
func (t Timer) Tick() string {
	s := t.ScheduleStatus
	if s == nil || s.Next.IsZero() {
		return ""
	}
	last := "none"
	if !s.Last.IsZero() {
		last = s.Last.UTC().Format(time.RFC3339Nano)
	}
	return "next=" + s.Next.UTC().Format(time.RFC3339Nano) + " last=" + last
}

// Time decodes the host's timestamps, which may lack a zone offset ("0001-01-01T00:00:00").
type Time struct{ time.Time }

// UnmarshalJSON accepts RFC 3339 with or without an offset, and null.
func (t *Time) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999"} {
		if v, err := time.Parse(layout, s); err == nil {
			t.Time = v
			return nil
		}
	}
	return fmt.Errorf("timestamp %q is not RFC 3339", s)
}

// RunFunc runs one invocation and returns a one-line summary for the host's logs.
type RunFunc func(ctx context.Context, inv Invocation) (summary string, err error)

// response is the body the host expects.
type response struct {
	Outputs     map[string]any `json:"Outputs"`
	Logs        []string       `json:"Logs"`
	ReturnValue any            `json:"ReturnValue"`
}

// Handler serves readiness on / and the named function on POST /<function>.
func Handler(log *slog.Logger, function string, run RunFunc) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /"+function, func(w http.ResponseWriter, r *http.Request) {
		inv, err := decode(r, function)
		if err != nil {
			log.Error("bad invocation payload", "function", function, "err", err)
			reply(w, http.StatusBadRequest, []string{"bad invocation payload: " + err.Error()})
			return
		}
		summary, err := run(r.Context(), inv)
		if err != nil {
			log.Error("run failed", "function", function, "err", err)
			reply(w, http.StatusInternalServerError, []string{summary, "run failed: " + err.Error()})
			return
		}
		reply(w, http.StatusOK, []string{summary})
	})
	// ServeMux answers 405 by itself only when no pattern matches the request; the catch-all "/"
	// below matches every path with every method, so the function's other methods get their own.
	mux.HandleFunc("/"+function, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", http.MethodPost)
		reply(w, http.StatusMethodNotAllowed, []string{r.Method + " /" + function + ": the host invokes a function with POST"})
	})
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) {
		reply(w, http.StatusOK, []string{"ready"})
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		reply(w, http.StatusNotFound, []string{"no function at " + r.URL.Path + "; this handler serves POST /" + function})
	})
	return mux
}

// maxBody bounds an invocation payload; a timer's is a few hundred bytes.
const maxBody = 1 << 20

func decode(r *http.Request, function string) (Invocation, error) {
	inv := Invocation{Function: function}
	var body struct {
		Data     map[string]json.RawMessage `json:"Data"`
		Metadata struct {
			Sys struct {
				UtcNow Time `json:"UtcNow"`
			} `json:"sys"`
		} `json:"Metadata"`
	}
	raw, err := readAll(r, maxBody)
	if err != nil {
		return inv, err
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return inv, nil // tolerate an empty body: a manual trigger
	}
	if err := json.Unmarshal(raw, &body); err != nil {
		return inv, fmt.Errorf("not an invocation: %w", err)
	}
	inv.UtcNow = body.Metadata.Sys.UtcNow.UTC()
	if t, ok := body.Data["timer"]; ok && string(t) != "null" {
		// The timer binding's data may arrive as an object or as a JSON string holding one.
		var s string
		if json.Unmarshal(t, &s) == nil {
			t = json.RawMessage(s)
		}
		if err := json.Unmarshal(t, &inv.Timer); err != nil {
			return inv, fmt.Errorf("timer binding: %w", err)
		}
	}
	return inv, nil
}

func readAll(r *http.Request, limit int64) ([]byte, error) {
	var buf bytes.Buffer
	n, err := buf.ReadFrom(http.MaxBytesReader(nil, r.Body, limit))
	if err != nil {
		return nil, fmt.Errorf("read body after %d bytes: %w", n, err)
	}
	return buf.Bytes(), nil
}

func reply(w http.ResponseWriter, status int, logs []string) {
	var kept []string
	for _, l := range logs {
		if l != "" {
			kept = append(kept, l)
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(response{Outputs: map[string]any{}, Logs: kept})
}

// Serve listens on 127.0.0.1:port (never on other interfaces) and serves h until ctx is done; it
// then stops accepting work and gives runs in flight up to grace to finish before their contexts
// are cancelled.
func Serve(ctx context.Context, log *slog.Logger, port string, h http.Handler, grace time.Duration) error {
	if p, err := strconv.Atoi(port); err != nil || p <= 0 || p > 65535 {
		return fmt.Errorf("setting FUNCTIONS_CUSTOMHANDLER_PORT expects a TCP port, got %q", port)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", port))
	if err != nil {
		return fmt.Errorf("listen on 127.0.0.1:%s: %w", port, err)
	}
	runCtx, cancelRuns := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelRuns()
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return runCtx },
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	log.Info("listening", "addr", ln.Addr().String())
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down", "grace", grace)
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		// Runs still going: cancel them; the pipeline releases its claims and stops.
		cancelRuns()
		ctx2, cancel2 := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel2()
		err = srv.Shutdown(ctx2)
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			return err
		}
	}
	return nil
}

// IsFunctionsHost reports whether the process was started by the Functions host.
func IsFunctionsHost(getenv func(string) string) bool {
	return strings.TrimSpace(getenv("FUNCTIONS_CUSTOMHANDLER_PORT")) != ""
}
