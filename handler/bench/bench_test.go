// Package bench measures what huntwatch costs: the built binary, driven as the Functions host
// drives it, against Azurite (behind a counting proxy), the TLS Log Analytics fake and the local
// Slack, for 100, 1,000 and 10,000 result rows. Run it with
//
//	make bench   # go test -run '^$' -bench 'AllNew|Flood|SteadyState|ColdStart|Package' -benchtime 1x ./handler/bench/ -reps 5
//
// Every figure is the median of -reps runs (the machines are shared and noisy); baselines are
// measured in the same run, interleaved with the handler. The tables are printed at the end, and
// written to the file named by -report. See docs/performance.md.
package bench

import (
	"archive/zip"
	"bytes"
	"context"
	"debug/elf"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"

	"github.com/huntwatch/huntwatch/handler/internal/e2e"
	"github.com/huntwatch/huntwatch/handler/internal/fakeazure"
)

var (
	reps       = flag.Int("reps", 5, "runs per figure; figures are medians")
	reportFile = flag.String("report", "", "also write the report (markdown) to this file")
	sizes      = []int{100, 1_000, 10_000}
)

// ---- report ---------------------------------------------------------------------------------

type section struct {
	title, header string
	rows          []string
	notes         []string
}

var (
	reportMu sync.Mutex
	sections = map[string]*section{}
	order    []string
)

func addRow(key, title, header, row string) {
	reportMu.Lock()
	defer reportMu.Unlock()
	s := sections[key]
	if s == nil {
		s = &section{title: title, header: header}
		sections[key] = s
		order = append(order, key)
	}
	s.rows = append(s.rows, row)
}

func addNote(key, note string) {
	reportMu.Lock()
	defer reportMu.Unlock()
	if s := sections[key]; s != nil {
		s.notes = append(s.notes, note)
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	e2e.RemoveBinaries()
	if len(order) > 0 {
		var b strings.Builder
		host, _ := os.Hostname()
		fmt.Fprintf(&b, "huntwatch benchmarks, %s, %s, %d CPUs (GOMAXPROCS %d), %s %s/%s, %d runs per figure (medians)\n",
			time.Now().UTC().Format("2006-01-02"), host, runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.Version(), runtime.GOOS, runtime.GOARCH, *reps)
		for _, k := range order {
			s := sections[k]
			fmt.Fprintf(&b, "\n%s\n\n%s\n|%s\n", s.title, s.header, strings.Repeat("---|", strings.Count(s.header, "|")-1))
			for _, r := range s.rows {
				b.WriteString(r + "\n")
			}
			for _, n := range s.notes {
				b.WriteString("\n" + n + "\n")
			}
		}
		fmt.Print("\n" + b.String())
		if *reportFile != "" {
			if err := os.WriteFile(*reportFile, []byte(b.String()), 0o644); err != nil {
				fmt.Fprintln(os.Stderr, err)
				code = 1
			}
		}
	}
	os.Exit(code)
}

// ---- all new --------------------------------------------------------------------------------

// BenchmarkAllNew: every row is a new fingerprint, default settings (so more than 10 new
// findings make one digest). Each run is a fresh process and a fresh table; Slack pacing is off
// (serve --slack-min-interval=-1ns) so that the wall time is the handler's and not the pacing's
// (BenchmarkFlood measures the pacing).
func BenchmarkAllNew(b *testing.B) {
	w := newWorld(b)
	for _, n := range sizes {
		b.Run(fmt.Sprintf("rows=%d", n), func(b *testing.B) {
			w.LA.SetTable(fakeazure.Table{Columns: e2e.Columns, Rows: rowsOf(n, time.Now().UTC())})
			var walls []time.Duration
			var rss, totals, calls []int64
			var tr trips
			var summary string
			for rep := range *reps {
				table := fmt.Sprintf("BenchNew%dr%d", n, rep)
				p := w.start(b, table, "--slack-min-interval=-1ns")
				w.proxy.take()
				before := len(w.Slack.Calls())
				d, sum := invoke(b, p)
				tr = w.proxy.take()
				calls = append(calls, int64(len(w.Slack.Calls())-before))
				rss = append(rss, stop(b, p))
				walls = append(walls, d)
				totals = append(totals, int64(tr.total))
				summary = sum
				if got := summaryCount(b, sum, "new"); got != n {
					b.Fatalf("summary %q: want %d new", sum, n)
				}
				w.deleteTable(b, table)
			}
			b.ReportMetric(float64(median(walls))/1e6, "wall-ms")
			b.ReportMetric(float64(median(totals)), "ts-trips")
			b.ReportMetric(float64(median(calls)), "slack-calls")
			b.ReportMetric(float64(median(rss))/(1<<20), "peak-rss-MB")
			addRow("allnew", "### All new (every row a new fingerprint; default settings, Slack pacing off)",
				"| rows | wall (median) | Table Storage round trips | max ops / transaction, partitions | Slack calls | posted / pending | peak RSS (median, max) |",
				fmt.Sprintf("| %d | %s | %s | %d, %d | %d | %d / %d | %s, %s |", n, ms(median(walls)), tr, tr.maxOps, tr.maxPKs,
					median(calls), summaryCount(b, summary, "posted"), summaryCount(b, summary, "pending"), mb(median(rss)), mb(slicesMax(rss))))
		})
	}
	addNote("allnew", "Each run: a fresh process and a fresh table (so the round trips include creating it, and Load lists an empty partition). Single-entity writes: the status row, and one per message when findings are posted one by one (none in a digest, whose deliveries are written in transactions).")
}

// ---- flood, paced ---------------------------------------------------------------------------

// BenchmarkFlood: 10,000 new fingerprints with Slack's default pacing, the way a deployment runs:
// first with the default digest threshold (a flood becomes one digest of at most 5,000
// findings, the rest pending for the next run), then with SLACK_DIGEST_THRESHOLD=0 (no digest:
// MaxPosts = 50 messages a run, paced at about one a second, the rest pending).
func BenchmarkFlood(b *testing.B) {
	w := newWorld(b)
	const n = 10_000
	w.LA.SetTable(fakeazure.Table{Columns: e2e.Columns, Rows: rowsOf(n, time.Now().UTC())})
	hdr := "| run | wall | Slack calls | messages posted | min gap between messages | most messages in any 1 s | findings delivered / pending | Table Storage round trips | peak RSS |"
	title := "### Flood: 10,000 new fingerprints, default pacing"
	run := func(label, table string, extra ...string) {
		p := w.StartArgs(b, nil, append(w.settings(table), extra...)...)
		w.proxy.take()
		before := len(w.Slack.Calls())
		d, sum := invoke(b, p)
		tr := w.proxy.take()
		calls := w.Slack.Calls()[before:]
		var posts []time.Time
		for _, c := range calls {
			if c.Method == "chat.postMessage" || c.Method == "webhook" {
				posts = append(posts, c.Received)
			}
		}
		minGap, most := time.Duration(0), 0
		for i := range posts {
			if i > 0 {
				if g := posts[i].Sub(posts[i-1]); minGap == 0 || g < minGap {
					minGap = g
				}
			}
			k := 0
			for j := i; j < len(posts) && posts[j].Sub(posts[i]) < time.Second; j++ {
				k++
			}
			most = max(most, k)
		}
		gap := "-"
		if len(posts) > 1 {
			gap = ms(minGap)
		}
		rss := stop(b, p)
		addRow("flood", title, hdr, fmt.Sprintf("| %s | %s | %d | %d | %s | %d | %d / %d | %s | %s |", label, ms(d), len(calls), len(posts), gap, most,
			summaryCount(b, sum, "posted"), summaryCount(b, sum, "pending"), tr, mb(rss)))
	}
	run("first run, default digest threshold (10)", "BenchFlood")
	run("next run, same settings", "BenchFlood")
	run("first run, SLACK_DIGEST_THRESHOLD=0 (no digest)", "BenchFloodNoDigest", "SLACK_DIGEST_THRESHOLD=0")
	addNote("flood", "Most messages in any 1 s counts chat.postMessage calls (the digest's CSV goes up through the file upload calls, counted in Slack calls).")
}

// ---- steady state ---------------------------------------------------------------------------

// BenchmarkSteadyState: every row is already known and delivered (the usual run). One process
// per size; after a warm-up run, each handler run alternates with the baseline: the least work
// that answers "which of these are new" — the same query answer fetched with a plain HTTP client
// and decoded once with encoding/json, plus the dedup partition listed with aztables.
func BenchmarkSteadyState(b *testing.B) {
	w := newWorld(b)
	for _, n := range sizes {
		b.Run(fmt.Sprintf("rows=%d", n), func(b *testing.B) {
			rows := rowsOf(n, time.Now().UTC())
			w.LA.SetTable(fakeazure.Table{Columns: e2e.Columns, Rows: rows})
			table := fmt.Sprintf("BenchKnown%d", n)
			w.seedKnown(b, table, n)
			base := newBaseline(b, w, table)
			p := w.start(b, table)
			before := len(w.Slack.Calls())
			_, sum := invoke(b, p) // warm-up: token, table check, connections
			if summaryCount(b, sum, "new") != 0 || summaryCount(b, sum, "posted") != 0 || summaryCount(b, sum, "rows") != n {
				b.Fatalf("steady state is not steady: %s", sum)
			}
			base.run(b) // warm-up
			w.proxy.take()
			var hw, bw []time.Duration
			var ht, bt []int64
			var htr, btr trips
			for rep := range *reps {
				for _, first := range []bool{rep%2 == 0, rep%2 != 0} {
					if first {
						d, _ := invoke(b, p)
						htr = w.proxy.take()
						hw, ht = append(hw, d), append(ht, int64(htr.total))
					} else {
						bw = append(bw, base.run(b))
						btr = w.proxy.take()
						bt = append(bt, int64(btr.total))
					}
				}
			}
			calls := len(w.Slack.Calls()) - before
			rss := stop(b, p)
			w.deleteTable(b, table)
			ratio := float64(median(hw)) / float64(median(bw))
			b.ReportMetric(float64(median(hw))/1e6, "wall-ms")
			b.ReportMetric(float64(median(bw))/1e6, "baseline-ms")
			b.ReportMetric(ratio, "x-baseline")
			b.ReportMetric(float64(median(ht)), "ts-trips")
			b.ReportMetric(float64(rss)/(1<<20), "peak-rss-MB")
			addRow("steady", "### Steady state (every row already known)",
				"| rows | answer size | handler wall (median) | baseline (median) | ratio | handler Table Storage round trips | baseline round trips | Slack calls | peak RSS |",
				fmt.Sprintf("| %d | %s | %s | %s | %.2fx | %s | %s | %d | %s |", n, mb(int64(base.bytes)), ms(median(hw)), ms(median(bw)), ratio, htr, btr, calls, mb(rss)))
		})
	}
	addNote("steady", "Handler round trips: the partition listing (1,000 rows a page) and the status row. Baseline: POST the same query with net/http, io.ReadAll + one json.Unmarshal into plain structs, then list the dedup partition with aztables (entities left as raw JSON). Handler: POST /function to the warm process, answer included.")
}

type baseline struct {
	w      *world
	client *aztables.Client
	filter string
	body   []byte
	http   *http.Client
	bytes  int
}

func newBaseline(b testing.TB, w *world, table string) *baseline {
	svc, err := aztables.NewServiceClientFromConnectionString(w.conn(true), nil)
	if err != nil {
		b.Fatal(err)
	}
	if !regexp.MustCompile(`^[A-Za-z0-9._-]{1,200}$`).MatchString(w.hunt.ID) {
		b.Fatalf("hunt id %q is not its own partition key", w.hunt.ID)
	}
	now := time.Now().UTC()
	body, _ := json.Marshal(map[string]string{"query": w.hunt.Query,
		"timespan": now.Add(-24*time.Hour).Format(time.RFC3339) + "/" + now.Format(time.RFC3339)})
	return &baseline{w: w, client: svc.NewClient(table), filter: fmt.Sprintf("PartitionKey eq '%s'", w.hunt.ID), body: body, http: w.LA.Client()}
}

func (x *baseline) run(b testing.TB) time.Duration {
	ctx := context.Background()
	t0 := time.Now()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, x.w.LA.Endpoint()+"/workspaces/"+e2e.Workspace+"/query", bytes.NewReader(x.body))
	req.Header.Set("Authorization", "Bearer "+e2e.AccessToken)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Prefer", "wait=180")
	resp, err := x.http.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		b.Fatalf("baseline query: %d %v", resp.StatusCode, err)
	}
	var doc struct {
		Tables []struct {
			Name    string
			Columns []struct{ Name, Type string }
			Rows    [][]any
		}
	}
	if err := json.Unmarshal(raw, &doc); err != nil || len(doc.Tables) != 1 {
		b.Fatalf("baseline decode: %v", err)
	}
	entities := 0
	pager := x.client.NewListEntitiesPager(&aztables.ListEntitiesOptions{Filter: &x.filter})
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			b.Fatal(err)
		}
		entities += len(page.Entities)
	}
	d := time.Since(t0)
	if entities < len(doc.Tables[0].Rows) {
		b.Fatalf("baseline listed %d entities for %d rows", entities, len(doc.Tables[0].Rows))
	}
	x.bytes = len(raw)
	return d
}

// ---- cold start -----------------------------------------------------------------------------

// BenchmarkColdStart: exec until ready on /, and until the first invocation is answered, for
// the handler (100 known rows: its first run fetches a token, checks the table, loads, queries
// and saves the window) and for a minimal net/http server, alternating.
func BenchmarkColdStart(b *testing.B) {
	e2e.Build(b) // before any clock starts
	minimal := e2e.BuildPackage(b, "./testdata/minserver")
	w := newWorld(b)
	const n = 100
	w.LA.SetTable(fakeazure.Table{Columns: e2e.Columns, Rows: rowsOf(n, time.Now().UTC())})
	table := "BenchCold"
	w.seedKnown(b, table, n)
	handler := func() *e2e.Process { return w.start(b, table) }
	minimalServer := func() *e2e.Process {
		return e2e.Exec(b, minimal, "", nil, append(slices.Clone(w.Env), w.settings(table)...))
	}
	var hr, hf, mr, mf []time.Duration
	for range 3 * *reps { // cheap, and the noisiest figure
		for _, c := range []struct {
			start       func() *e2e.Process
			ready, firs *[]time.Duration
		}{{handler, &hr, &hf}, {minimalServer, &mr, &mf}} {
			t0 := time.Now()
			p := c.start()
			invoke(b, p)
			first := time.Since(t0)
			stop(b, p)
			*c.ready, *c.firs = append(*c.ready, p.Ready), append(*c.firs, first)
		}
	}
	rr, fr := float64(median(hr))/float64(median(mr)), float64(median(hf))/float64(median(mf))
	b.ReportMetric(float64(median(hr))/1e6, "ready-ms")
	b.ReportMetric(float64(median(mr))/1e6, "minimal-ready-ms")
	b.ReportMetric(rr, "x-minimal")
	hdr := "| | huntwatch (median) | minimal net/http server (median) | ratio |"
	addRow("cold", "### Cold start (exec of the packaged binary)", hdr, fmt.Sprintf("| exec → 200 on / | %s | %s | %.2fx |", ms(median(hr)), ms(median(mr)), rr))
	addRow("cold", "", hdr, fmt.Sprintf("| exec → first invocation answered | %s | %s | %.2fx |", ms(median(hf)), ms(median(mf)), fr))
	addNote("cold", "The handler's first invocation is a real run over 100 known rows (token, table check, Load, query, SaveStatus); the minimal server answers at once.")
}

// ---- package --------------------------------------------------------------------------------

// BenchmarkPackage: the binary as infra/package.sh builds it, and the zip it ships in.
func BenchmarkPackage(b *testing.B) {
	bin := e2e.Build(b)
	fi, err := os.Stat(bin)
	if err != nil {
		b.Fatal(err)
	}
	static := "static"
	f, err := elf.Open(bin)
	if err != nil {
		b.Fatal(err)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			static = "dynamic (has an interpreter)"
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		static = "dynamic: " + strings.Join(libs, ", ")
	}
	f.Close()
	var zbuf bytes.Buffer
	zw := zip.NewWriter(&zbuf)
	for _, e := range []struct{ name, path string }{{"host.json", filepath.Join(repoRoot, "host.json")},
		{"function/function.json", filepath.Join(repoRoot, "function", "function.json")}, {"huntwatch", bin}} {
		data, err := os.ReadFile(e.path)
		if err != nil {
			b.Fatal(err)
		}
		hw, err := zw.CreateHeader(&zip.FileHeader{Name: e.name, Method: zip.Deflate})
		if err != nil {
			b.Fatal(err)
		}
		hw.Write(data)
	}
	zw.Close()
	b.ReportMetric(float64(fi.Size())/(1<<20), "binary-MB")
	b.ReportMetric(float64(zbuf.Len())/(1<<20), "zip-MB")
	addRow("package", "### Package (CGO_ENABLED=0, -trimpath -ldflags \"-s -w\", as infra/package.sh)",
		"| binary | zip (deflate) | linking |", fmt.Sprintf("| %s (%d bytes) | %s (%d bytes) | %s |", mb(fi.Size()), fi.Size(), mb(int64(zbuf.Len())), zbuf.Len(), static))
}

func slicesMax[T int64 | int](xs []T) T {
	var m T
	for _, x := range xs {
		m = max(m, x)
	}
	return m
}
