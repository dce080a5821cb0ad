// Package bench measures what huntwatch costs: the built binary, driven as the Functions host
// drives it, against Table Storage (Azurite, or the fake Table service of fakeazure for the sizes
// Azurite cannot carry), behind a counting proxy, the TLS Log Analytics fake and the local Slack,
// from 100 to 500,000 result rows, and a history of 365,000 stored records. Run it with
//
//	make bench   # go test -run '^$' -bench 'AllNew|Flood|SteadyState|ColdStart|Package|History' -benchtime 1x ./handler/bench/ -reps 5
//
// Every figure is the median of -reps runs (-big-reps for 100,000 rows and more; the machines are
// shared and noisy); baselines are measured in the same run, interleaved with the handler. The
// tables, and the targets with the figure that decides each, are printed at the end and
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

	"github.com/huntwatch/huntwatch/handler/hunt"
	"github.com/huntwatch/huntwatch/handler/internal/e2e"
)

var (
	reps           = flag.Int("reps", 5, "runs per figure; figures are medians")
	bigReps        = flag.Int("big-reps", 1, "runs per figure at 100,000 rows and more")
	historyRecords = flag.Int("history", 365_000, "records stored before BenchmarkHistory's runs")
	reportFile     = flag.String("report", "", "also write the report (markdown) to this file")
	sizes          = []int{100, 1_000, 10_000} // on Azurite
)

// repsFor is how many runs a figure of n rows takes.
func repsFor(n int) int {
	if n >= 100_000 {
		return *bigReps
	}
	return *reps
}

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

// addTarget adds one of issue 15's targets to the report's first table: the figure that decides
// it, what it is compared with, and whether it holds.
func addTarget(what, figure, reference string, holds bool) {
	verdict := "**does not hold**"
	if holds {
		verdict = "holds"
	}
	addRow("targets", "### Issue 15 targets", "| target | figure | baseline / reference | |",
		fmt.Sprintf("| %s | %s | %s | %s |", what, figure, reference, verdict))
}

func TestMain(m *testing.M) {
	code := m.Run()
	e2e.RemoveBinaries()
	if i := slices.Index(order, "targets"); i > 0 { // the targets first
		order = slices.Insert(slices.Delete(order, i, i+1), 0, "targets")
	}
	if len(order) > 0 {
		var b strings.Builder
		host, _ := os.Hostname()
		fmt.Fprintf(&b, "huntwatch benchmarks, %s, %s, %d CPUs (GOMAXPROCS %d), %s %s/%s, %d runs per figure (%d at 100,000 rows and more; medians)\n",
			time.Now().UTC().Format("2006-01-02"), host, runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.Version(), runtime.GOOS, runtime.GOARCH, *reps, *bigReps)
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

// allNewCase is one size of BenchmarkAllNew.
type allNewCase struct {
	tables string // azurite or fake
	n      int
	small  bool     // rows of about 210 bytes (smallRow) instead of about 900 (row)
	env    []string // added to the handler's settings
}

// BenchmarkAllNew: every row is a new fingerprint, default settings (so more than 10 new
// findings make one digest; HUNT_MAX_ROWS 100,000). Each run is a fresh process and a fresh
// table; Slack pacing is off (serve --slack-min-interval=-1ns) so that the wall time is the
// handler's and not the pacing's (BenchmarkFlood measures the pacing). On Azurite up to 10,000
// rows (one transaction at a time, each scanning the partition), on the fake Table service from
// 10,000 rows on (eight at once, as against Azure); the 500,000-row answer is Log Analytics'
// largest (about 100 MB, so rows of about 210 bytes), run with GOMEMLIMIT=112MiB as on a 512 MB
// instance.
func BenchmarkAllNew(b *testing.B) {
	w := newWorld(b)
	var cases []allNewCase
	for _, n := range sizes {
		cases = append(cases, allNewCase{tables: "azurite", n: n})
	}
	cases = append(cases, allNewCase{tables: "fake", n: 10_000}, allNewCase{tables: "fake", n: 100_000},
		allNewCase{tables: "fake", n: 500_000, small: true, env: []string{"GOMEMLIMIT=112MiB"}})
	wallOf, rssOf := map[string]time.Duration{}, map[string]int64{}
	for _, c := range cases {
		bk := w.backend(c.tables)
		b.Run(fmt.Sprintf("%s/rows=%d", c.tables, c.n), func(b *testing.B) {
			rowOf := row
			if c.small {
				rowOf = smallRow
			}
			w.LA.SetTable(answer(c.n, 0, time.Now().UTC(), rowOf))
			processed := min(c.n, hunt.DefaultMaxRows)
			var ws, cpus []time.Duration
			var rss, totals, calls []int64
			var tr trips
			var summary string
			var size int64
			for rep := range repsFor(c.n) {
				table := fmt.Sprintf("BenchNew%s%dr%d", c.tables, c.n, rep)
				p := w.start(b, bk, table, c.env, "--slack-min-interval=-1ns")
				bk.proxy.take()
				before := len(w.Slack.Calls())
				d, sum := invoke(b, p)
				tr = bk.proxy.take()
				calls = append(calls, int64(len(w.Slack.Calls())-before))
				cpus = append(cpus, cpuTime(b, p))
				rss = append(rss, stop(b, p))
				ws = append(ws, d)
				totals = append(totals, int64(tr.total))
				summary = sum
				size = w.lastAnswer(b)
				if got := summaryCount(b, sum, "new"); got != processed || truncatedOf(sum) != c.n-processed {
					b.Fatalf("summary %q: want %d new, %d past the row limit", sum, processed, c.n-processed)
				}
				bk.deleteTable(b, table)
			}
			wall, peak := median(ws), median(rss)
			wallOf[fmt.Sprintf("%s/%d", c.tables, c.n)], rssOf[fmt.Sprintf("%s/%d", c.tables, c.n)] = wall, peak
			b.ReportMetric(float64(wall)/1e6, "wall-ms")
			b.ReportMetric(float64(median(totals)), "ts-trips")
			b.ReportMetric(float64(median(calls)), "slack-calls")
			b.ReportMetric(float64(peak)/(1<<20), "peak-rss-MB")
			settings := "default"
			if len(c.env) > 0 {
				settings = strings.Join(c.env, " ")
			}
			addRow("allnew", "### All new (every row a new fingerprint; default settings, Slack pacing off)",
				"| Table Storage | rows | answer | settings | wall (median) | handler CPU (median) | processed / past the row limit | Table Storage round trips | max ops / transaction, partitions | Slack calls | posted / pending | peak RSS (median, max) |",
				fmt.Sprintf("| %s | %d | %s (%d bytes a row) | %s | %s | %s | %d / %d | %s | %d, %d | %d | %d / %d | %s, %s |", c.tables, c.n, mb(size), size/int64(c.n), settings,
					ms(wall), ms(median(cpus)), processed, truncatedOf(summary), tr, tr.maxOps, tr.maxPKs,
					median(calls), summaryCount(b, summary, "posted"), summaryCount(b, summary, "pending"), mb(peak), mb(slicesMax(rss))))
			switch {
			case c.tables == "fake" && c.n == 10_000:
				wallRef, rssRef := "Azurite not run", "Azurite not run"
				if az, ok := wallOf["azurite/10000"]; ok {
					wallRef, rssRef = ms(az)+" on Azurite (1 transaction at a time)", mb(rssOf["azurite/10000"])+" on Azurite"
				}
				addTarget("all new, 10,000 rows: wall ≤ 4 s (Slack pacing off)", ms(wall)+" (fake Table service, 8 transactions at once)", wallRef, wall <= 4*time.Second)
				addTarget("all new, 10,000 rows: peak RSS ≤ 64 MB", mb(peak)+" (fake Table service)", rssRef, peak <= 64<<20)
			case c.tables == "fake" && c.n == 100_000:
				addTarget("all new, 100,000 rows: peak RSS ≤ 96 MB", mb(peak), "", peak <= 96<<20)
			case c.n == 500_000:
				addTarget("all new, 500,000 rows (~100 MB): completes, peak RSS ≤ 128 MB with GOMEMLIMIT=112MiB (a 512 MB instance)",
					fmt.Sprintf("%s; %s, %d rows processed, %d past the row limit", mb(peak), ms(wall), processed, truncatedOf(summary)),
					fmt.Sprintf("answer %s", mb(size)), peak <= 128<<20)
			}
		})
	}
	addNote("allnew", "Each run: a fresh process and a fresh table (so the round trips include creating it, and Load lists an empty partition). Single-entity writes: the status row, and one per message when findings are posted one by one (none in a digest, whose deliveries are written in transactions). "+
		"Azurite: "+w.az.parallelLabel+"; each of its inserts and updates scans the partition, so its transactions slow down as the partition grows (docs/performance.md). Fake: the fake Table service of handler/internal/fakeazure, "+w.fake.parallelLabel+", no per-request latency.")
}

// truncatedOf reads "<n> past the row limit" from a run summary (0 when absent).
func truncatedOf(summary string) int {
	m := regexp.MustCompile(`(\d+) past the row limit`).FindStringSubmatch(summary)
	if m == nil {
		return 0
	}
	var n int
	fmt.Sscan(m[1], &n)
	return n
}

// ---- flood, paced ---------------------------------------------------------------------------

// BenchmarkFlood: 10,000 new fingerprints with Slack's default pacing, the way a deployment runs:
// first with the default digest threshold (a flood becomes one digest of at most 5,000
// findings, the rest pending for the next run), then with SLACK_DIGEST_THRESHOLD=0 (no digest:
// MaxPosts = 50 messages a run, paced at about one a second, the rest pending).
func BenchmarkFlood(b *testing.B) {
	w := newWorld(b)
	const n = 10_000
	bk := w.az
	w.LA.SetTable(answer(n, 0, time.Now().UTC(), row))
	hdr := "| run | wall | Slack calls | messages posted | min gap between messages | most messages in any 1 s | findings delivered / pending | Table Storage round trips | peak RSS |"
	title := "### Flood: 10,000 new fingerprints, default pacing"
	run := func(label, table string, extra ...string) {
		p := w.start(b, bk, table, extra)
		bk.proxy.take()
		before := len(w.Slack.Calls())
		d, sum := invoke(b, p)
		tr := bk.proxy.take()
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
// and decoded once with encoding/json, plus the dedup partition listed with aztables, selecting
// only PartitionKey and RowKey. On Azurite up to 10,000 rows, on the fake Table service at 10,000
// and 100,000.
func BenchmarkSteadyState(b *testing.B) {
	w := newWorld(b)
	type steadyCase struct {
		tables string
		n      int
	}
	var cases []steadyCase
	for _, n := range sizes {
		cases = append(cases, steadyCase{"azurite", n})
	}
	cases = append(cases, steadyCase{"fake", 10_000}, steadyCase{"fake", 100_000})
	for _, c := range cases {
		n, bk := c.n, w.backend(c.tables)
		b.Run(fmt.Sprintf("%s/rows=%d", c.tables, n), func(b *testing.B) {
			w.LA.SetTable(answer(n, 0, time.Now().UTC(), row))
			table := fmt.Sprintf("BenchKnown%s%d", c.tables, n)
			w.seedKnown(b, bk, table, n)
			base := newBaseline(b, w, bk, table)
			p := w.start(b, bk, table, nil)
			before := len(w.Slack.Calls())
			_, sum := invoke(b, p) // warm-up: token, table check, connections
			if summaryCount(b, sum, "new") != 0 || summaryCount(b, sum, "posted") != 0 || summaryCount(b, sum, "rows") != n {
				b.Fatalf("steady state is not steady: %s", sum)
			}
			base.run(b) // warm-up
			bk.proxy.take()
			var hw, bw []time.Duration
			var ht, bt []int64
			var htr, btr trips
			for rep := range repsFor(n) {
				for _, first := range []bool{rep%2 == 0, rep%2 != 0} {
					if first {
						d, _ := invoke(b, p)
						htr = bk.proxy.take()
						hw, ht = append(hw, d), append(ht, int64(htr.total))
					} else {
						bw = append(bw, base.run(b))
						btr = bk.proxy.take()
						bt = append(bt, int64(btr.total))
					}
				}
			}
			calls := len(w.Slack.Calls()) - before
			rss := stop(b, p)
			bk.deleteTable(b, table)
			ratio := float64(median(hw)) / float64(median(bw))
			b.ReportMetric(float64(median(hw))/1e6, "wall-ms")
			b.ReportMetric(float64(median(bw))/1e6, "baseline-ms")
			b.ReportMetric(ratio, "x-baseline")
			b.ReportMetric(float64(median(ht)), "ts-trips")
			b.ReportMetric(float64(rss)/(1<<20), "peak-rss-MB")
			addRow("steady", "### Steady state (every row already known)",
				"| Table Storage | rows | answer size | handler wall (median) | baseline (median) | ratio | handler Table Storage round trips | baseline round trips | Slack calls | peak RSS |",
				fmt.Sprintf("| %s | %d | %s | %s | %s | %.2fx | %s | %s | %d | %s |", c.tables, n, mb(int64(base.bytes)), ms(median(hw)), ms(median(bw)), ratio, htr, btr, calls, mb(rss)))
			if n >= 10_000 {
				addTarget(fmt.Sprintf("steady state, %s rows: ≤ 1.5x the baseline (%s)", thousands(n), tableLabel(c.tables)),
					fmt.Sprintf("%.2fx (%s)", ratio, ms(median(hw))), ms(median(bw)), ratio <= 1.5)
			}
			if n == 10_000 {
				addTarget(fmt.Sprintf("steady state, 10,000 rows: peak RSS ≤ 48 MB (%s)", tableLabel(c.tables)), mb(rss), "", rss <= 48<<20)
			}
		})
	}
	addNote("steady", "Handler round trips: the partition listing (1,000 rows a page) and the status row. Baseline: POST the same query with net/http, io.ReadAll + one json.Unmarshal into plain structs, then list the dedup partition with aztables selecting only PartitionKey and RowKey. Handler: POST /function to the warm process, answer included.")
}

func tableLabel(tables string) string {
	if tables == "fake" {
		return "fake Table service"
	}
	return "Azurite"
}

type baseline struct {
	w      *world
	client *aztables.Client
	filter string
	body   []byte
	http   *http.Client
	bytes  int
}

func newBaseline(b testing.TB, w *world, bk *backend, table string) *baseline {
	svc, err := aztables.NewServiceClientFromConnectionString(bk.conn(true), nil)
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

var keysOnly = "PartitionKey,RowKey"

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
	pager := x.client.NewListEntitiesPager(&aztables.ListEntitiesOptions{Filter: &x.filter, Select: &keysOnly})
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
	w.LA.SetTable(answer(n, 0, time.Now().UTC(), row))
	table := "BenchCold"
	w.seedKnown(b, w.az, table, n)
	handler := func() *e2e.Process { return w.start(b, w.az, table, nil) }
	minimalServer := func() *e2e.Process {
		return e2e.Exec(b, minimal, "", nil, append(slices.Clone(w.Env), w.settings(w.az, table)...))
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

// ---- history --------------------------------------------------------------------------------

// Row numbers of BenchmarkHistory's answers: the stored history, then answers never seen.
const (
	historyFirst = 1_000_000
	freshFirst   = 3_000_000
)

// BenchmarkHistory: a hunt that found 1,000 new fingerprints a day for a year, -history records
// (365,000) stored in its partition, and a 1,000-row answer: the run against the same run on an
// empty table (new: 1,000 fingerprints never seen, a fresh process and table for each run on
// either side) and, for an answer of fingerprints it already told (known: the newest day's 1,000),
// against a table that holds only those 1,000. On the fake Table service: Azurite scans the
// partition on every write, so 365,000 records would take it hours to store.
//
// The history is seeded once per benchmark process, straight into the table in transactions:
// one in-process run of the real Runner and source per day (1,000 rows, the oldest a year ago,
// each record stored as a run stores it), its records copied with tablestore.Put.
func BenchmarkHistory(b *testing.B) {
	w := newWorld(b)
	bk := w.fake
	const perDay, n = 1000, 1000
	stored := *historyRecords
	days := (stored + perDay - 1) / perDay
	table := "BenchHistory"
	now := time.Now().UTC()
	dayOf := func(d int) time.Time { return now.Add(-time.Duration(days-1-d) * 24 * time.Hour) }
	t0 := time.Now()
	for d := range days {
		k := min(perDay, stored-d*perDay)
		w.LA.SetTable(answer(k, historyFirst+d*perDay, dayOf(d), row))
		w.seed(b, bk, table, k, dayOf(d), false)
	}
	seeding := time.Since(t0)
	if got := bk.fakeTables.Rows(table, w.hunt.ID); got != stored {
		b.Fatalf("history: %d records stored, want %d", got, stored)
	}

	one := func(table string, first int, base time.Time) (time.Duration, trips, int64, string) {
		w.LA.SetTable(answer(n, first, base, row))
		p := w.start(b, bk, table, nil, "--slack-min-interval=-1ns")
		bk.proxy.take()
		d, sum := invoke(b, p)
		tr := bk.proxy.take()
		return d, tr, stop(b, p), sum
	}
	for _, known := range []bool{false, true} {
		name := "new"
		if known {
			name = "known"
		}
		b.Run("answer="+name, func(b *testing.B) {
			ref := "BenchHistoryKnownOnly"
			if known {
				w.LA.SetTable(answer(n, historyFirst+(days-1)*perDay, dayOf(days-1), row))
				w.seed(b, bk, ref, n, dayOf(days-1), false)
			}
			var hw, ew []time.Duration
			var hr, er []int64
			var htr, etr trips
			var hsum string
			before := bk.fakeTables.Rows(table, w.hunt.ID)
			for rep := range *reps {
				first, base, want := freshFirst+rep*n, now, n // new: never seen
				if known {
					first, base, want = historyFirst+(days-1)*perDay, dayOf(days-1), 0
				} else {
					ref = fmt.Sprintf("BenchHistoryEmpty%d", rep)
				}
				for _, onHistory := range []bool{rep%2 == 0, rep%2 != 0} {
					if onHistory {
						d, tr, rss, sum := one(table, first, base)
						hw, hr, htr, hsum = append(hw, d), append(hr, rss), tr, sum
						if got := summaryCount(b, sum, "new"); got != want {
							b.Fatalf("history run: %q, want %d new", sum, want)
						}
					} else {
						d, tr, rss, sum := one(ref, first, base)
						ew, er, etr = append(ew, d), append(er, rss), tr
						if got := summaryCount(b, sum, "new"); got != want {
							b.Fatalf("reference run: %q, want %d new", sum, want)
						}
					}
				}
				if !known {
					bk.deleteTable(b, ref)
				}
			}
			if known {
				bk.deleteTable(b, ref)
			}
			after := bk.fakeTables.Rows(table, w.hunt.ID)
			ratio := float64(median(hw)) / float64(median(ew))
			b.ReportMetric(float64(median(hw))/1e6, "wall-ms")
			b.ReportMetric(float64(median(ew))/1e6, "reference-ms")
			b.ReportMetric(ratio, "x-reference")
			refLabel := "empty table"
			if known {
				refLabel = "table of those 1,000"
			}
			addRow("history", fmt.Sprintf("### History (%s stored records, a 1,000-row answer; fake Table service)", thousands(stored)),
				"| answer | rows in the partition before → after (records; the status row once written) | run on the history (median) | same run on the reference (median) | reference | ratio | round trips on the history | on the reference | peak RSS history / reference | summary of the last run on the history |",
				fmt.Sprintf("| %s | %d → %d | %s | %s | %s | %.2fx | %s | %s | %s / %s | %s |", name, before, after, ms(median(hw)), ms(median(ew)), refLabel, ratio,
					htr, etr, mb(median(hr)), mb(median(er)), strings.NewReplacer("|", "/", "\n", " ").Replace(hsum)))
			addTarget(fmt.Sprintf("history: %s stored records, 1,000-row answer (%s): ≤ 2x the same run on the %s", thousands(stored), name, refLabel),
				fmt.Sprintf("%.2fx (%s)", ratio, ms(median(hw))), ms(median(ew)), ratio <= 2)
		})
	}
	addNote("history", fmt.Sprintf("The history: %s records seeded in %s, once for this benchmark (%d in-process runs of 1,000 rows, one a day, the oldest %d days ago, each run's records copied with tablestore.Put: %s transactions of ≤ 100 records, 8 at once). "+
		"Each run is a fresh process (so it fetches a token and checks the table). New: 1,000 fingerprints never seen, a fresh reference table for each run. Known: the answer is the newest day's 1,000 rows, known and already counted; its reference table holds only those 1,000 records.",
		thousands(stored), ms(seeding), days, days-1, thousands((stored+99)/100)))
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

// thousands writes n with thousands separators: 365,000.
func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func slicesMax[T int64 | int](xs []T) T {
	var m T
	for _, x := range xs {
		m = max(m, x)
	}
	return m
}
