// Package fakeazure serves, on loopback, the two Azure wire protocols huntwatch's Log Analytics
// source speaks: the Log Analytics query API (over TLS, since the SDK refuses to send a token over
// plain HTTP) and App Service's managed identity endpoint (IDENTITY_ENDPOINT + IDENTITY_HEADER).
// Tests point the real azquery and azidentity clients, or the built binary, at them and program
// faults: status codes, Retry-After, delays, partial results, malformed bodies.
package fakeazure

import (
	"bufio"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Column is a result column of the query API.
type Column struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// Table is a result table: values as the API sends them (datetimes as RFC 3339 strings,
// numbers, dynamic values as JSON text).
type Table struct {
	Columns []Column `json:"columns"`
	Rows    [][]any  `json:"rows"`
	// Stream, when set, gives the rows after Rows, one at a time as the answer is written: an
	// answer of any size (the API's largest is 500,000 rows, about 100 MB) without holding it.
	// It is called once per answer; a row it yields is not kept.
	Stream iter.Seq[[]any] `json:"-"`
}

// Fault replaces one answer.
type Fault struct {
	Status     int           // HTTP status; 0 with Body set answers 200
	RetryAfter string        // Retry-After header
	Body       string        // raw body; default an API error document
	Delay      time.Duration // wait before answering (or until the client goes away)
	Partial    string        // answer 200 with the table and this error message
	// Until, when set, holds the answer until the channel is closed (or the client goes away);
	// Requests shows the request meanwhile. With no other field set the answer is then normal.
	Until <-chan struct{}
}

// Request is what the query API received.
type Request struct {
	Workspace, Query, Timespan, Prefer, Authorization string
	Bytes                                             int64 // of the answer's body, once written
}

// LogAnalytics is a fake query API.
type LogAnalytics struct {
	srv   *httptest.Server
	token string

	mu       sync.Mutex
	table    Table
	answer   func(query string) Table // when set, the table of each query
	faults   []Fault
	requests []Request
}

// NewLogAnalytics starts a query API over TLS that accepts only "Bearer "+token.
func NewLogAnalytics(t testing.TB, token string) *LogAnalytics {
	la := &LogAnalytics{token: token}
	la.srv = httptest.NewTLSServer(http.HandlerFunc(la.serve))
	t.Cleanup(la.srv.Close)
	return la
}

// Endpoint is the API base URL, as LOG_ANALYTICS_ENDPOINT takes it.
func (la *LogAnalytics) Endpoint() string { return la.srv.URL + "/v1" }

// Client trusts the server's certificate, for in-process SDK clients.
func (la *LogAnalytics) Client() *http.Client { return la.srv.Client() }

// CertFile writes the server's certificate as PEM, for SSL_CERT_FILE of a child process.
func (la *LogAnalytics) CertFile(t testing.TB) string {
	path := filepath.Join(t.TempDir(), "fake-loganalytics.pem")
	data := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: la.srv.Certificate().Raw})
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// SetTable sets the answer to every query.
func (la *LogAnalytics) SetTable(t Table) {
	la.mu.Lock()
	defer la.mu.Unlock()
	la.table = t
}

// Answer makes the table of each query answer(query): a pack of hunts, each its own answer.
func (la *LogAnalytics) Answer(answer func(query string) Table) {
	la.mu.Lock()
	defer la.mu.Unlock()
	la.answer = answer
}

// Fail queues faults for the next requests, one each.
func (la *LogAnalytics) Fail(faults ...Fault) {
	la.mu.Lock()
	defer la.mu.Unlock()
	la.faults = append(la.faults, faults...)
}

// Heal drops the faults still queued: from now on every request is answered normally.
func (la *LogAnalytics) Heal() {
	la.mu.Lock()
	defer la.mu.Unlock()
	la.faults = nil
}

// Requests returns what the API received so far.
func (la *LogAnalytics) Requests() []Request {
	la.mu.Lock()
	defer la.mu.Unlock()
	return append([]Request(nil), la.requests...)
}

func (la *LogAnalytics) serve(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/v1/workspaces/")
	workspace, tail, _ := strings.Cut(rest, "/")
	if !ok || tail != "query" || r.Method != http.MethodPost {
		apiError(w, http.StatusNotFound, "PathNotFoundError", "The requested path does not exist")
		return
	}
	var body struct {
		Query    string `json:"query"`
		Timespan string `json:"timespan"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		apiError(w, http.StatusBadRequest, "BadArgumentError", "body is not JSON")
		return
	}
	// Read to the end: only then does net/http notice a client that goes away during a delay.
	io.Copy(io.Discard, r.Body)
	la.mu.Lock()
	la.requests = append(la.requests, Request{Workspace: workspace, Query: body.Query, Timespan: body.Timespan,
		Prefer: r.Header.Get("Prefer"), Authorization: r.Header.Get("Authorization")})
	idx := len(la.requests) - 1
	var fault *Fault
	if len(la.faults) > 0 {
		fault = &la.faults[0]
		la.faults = la.faults[1:]
	}
	table, answer := la.table, la.answer
	la.mu.Unlock()
	if answer != nil {
		table = answer(body.Query)
	}

	if r.Header.Get("Authorization") != "Bearer "+la.token {
		apiError(w, http.StatusUnauthorized, "InvalidTokenError", "The provided authentication is not valid for this resource")
		return
	}
	if body.Query == "" {
		apiError(w, http.StatusBadRequest, "BadArgumentError", "The request had some invalid properties")
		return
	}
	var apiErr map[string]any // the error member of a 200 answer (partial results)
	if fault != nil {
		if fault.Until != nil {
			select {
			case <-fault.Until:
			case <-r.Context().Done():
				return
			}
		}
		if fault.Delay > 0 {
			select {
			case <-time.After(fault.Delay):
			case <-r.Context().Done():
				return
			}
		}
		if fault.RetryAfter != "" {
			w.Header().Set("Retry-After", fault.RetryAfter)
		}
		switch {
		case fault.Partial != "":
			apiErr = map[string]any{"code": "PartialError", "message": "There were some errors when processing your query.",
				"details": []any{map[string]any{"code": "EngineError", "message": fault.Partial}}}
		case fault.Body != "":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(max(fault.Status, http.StatusOK))
			fmt.Fprint(w, fault.Body)
			return
		case fault.Status != 0:
			apiError(w, fault.Status, "ServiceError", http.StatusText(fault.Status))
			return
		}
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	cw := &countingWriter{w: w}
	writeAnswer(cw, table, apiErr)
	la.mu.Lock()
	la.requests[idx].Bytes = cw.n
	la.mu.Unlock()
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// writeAnswer writes the answer document row by row, as encoding/json would write it whole
// (members in the order of its map encoding: error, tables; columns, name, rows).
func writeAnswer(w io.Writer, table Table, apiErr map[string]any) {
	bw := bufio.NewWriterSize(w, 64<<10)
	defer bw.Flush()
	bw.WriteString("{")
	if apiErr != nil {
		bw.WriteString(`"error":`)
		writeJSON(bw, apiErr)
		bw.WriteString(",")
	}
	bw.WriteString(`"tables":[{"columns":`)
	writeJSON(bw, table.Columns)
	bw.WriteString(`,"name":"PrimaryResult","rows":[`)
	first := true
	row := func(r []any) bool {
		if !first {
			bw.WriteString(",")
		}
		first = false
		return writeJSON(bw, r) == nil
	}
	for _, r := range table.Rows {
		if !row(r) {
			return
		}
	}
	if table.Stream != nil {
		for r := range table.Stream {
			if !row(r) {
				return
			}
		}
	}
	bw.WriteString("]}]}\n")
}

// writeJSON writes v as json.Marshal does; a write error (the client went away) stops the answer.
func writeJSON(w *bufio.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("fakeazure: answer value: %v", err)) // a test's table, not the handler's doing
	}
	_, err = w.Write(b)
	return err
}

func apiError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"code": code, "message": msg, "correlationId": "00000000-0000-0000-0000-000000000000"}})
}

// Identity is a fake App Service managed identity endpoint.
type Identity struct {
	srv           *httptest.Server
	secret, token string

	mu          sync.Mutex
	unavailable int
	calls       []TokenRequest
}

// TokenRequest is one token request the identity endpoint received.
type TokenRequest struct{ Resource, ClientID string }

// NewIdentity starts an identity endpoint that hands out token.
func NewIdentity(t testing.TB, token string) *Identity {
	id := &Identity{secret: "identity-header-" + strconv.FormatInt(time.Now().UnixNano(), 36), token: token}
	id.srv = httptest.NewServer(http.HandlerFunc(id.serve))
	t.Cleanup(id.srv.Close)
	return id
}

// Env returns the variables App Service sets for its identity endpoint.
func (id *Identity) Env() map[string]string {
	return map[string]string{"IDENTITY_ENDPOINT": id.srv.URL + "/msi/token", "IDENTITY_HEADER": id.secret}
}

// Unavailable makes the next n requests answer 503.
func (id *Identity) Unavailable(n int) {
	id.mu.Lock()
	defer id.mu.Unlock()
	id.unavailable = n
}

// Calls returns the resource and client id of each token request.
func (id *Identity) Calls() []TokenRequest {
	id.mu.Lock()
	defer id.mu.Unlock()
	return append([]TokenRequest(nil), id.calls...)
}

func (id *Identity) serve(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	id.mu.Lock()
	id.calls = append(id.calls, TokenRequest{Resource: q.Get("resource"), ClientID: q.Get("client_id")})
	down := id.unavailable > 0
	if down {
		id.unavailable--
	}
	id.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	switch {
	case down:
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, `{"error":"service_unavailable","error_description":"identity endpoint down"}`)
	case r.URL.Path != "/msi/token" || r.Header.Get("X-IDENTITY-HEADER") != id.secret:
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"error":"invalid_request","error_description":"bad identity header or path"}`)
	case q.Get("api-version") == "" || q.Get("resource") == "":
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"error":"invalid_request","error_description":"api-version and resource are required"}`)
	default:
		json.NewEncoder(w).Encode(map[string]any{
			"access_token": id.token, "expires_on": strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10),
			"resource": q.Get("resource"), "token_type": "Bearer", "client_id": q.Get("client_id"),
		})
	}
}
