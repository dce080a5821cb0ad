package kql

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// The corpus: real hunting queries and analytics rules (Azure/Azure-Sentinel,
// microsoft/Microsoft-365-Defender-Hunting-Queries and the community
// collection Bert-JanP/Hunting-Queries-Detection-Rules), one a file in
// testdata/kql/corpus, each naming its source in a first comment line. A file
// edited for this corpus says how in a "// edited:" line (legs over tables that
// are not among the embedded schemas removed, long lists shortened). A query
// that Microsoft's own parser (Kusto.Language, see .ci/kqlcheck.js) rejects
// against the embedded schemas says so in a "// kusto.language: rejects" line:
// it is run, but left out of the rate, which is the share of the queries
// Kusto.Language accepts that the engine parses and runs over empty tables of
// the embedded schemas (handler/logdir/schemas). externaldata URLs read small
// files from testdata/kql/corpus/externaldata. A query whose columns depend on
// the data (evaluate bag_unpack then a property's column) reads rows from
// <name>.data/<Table>.json instead, as Kusto, too, fails such a query when the
// rows lack the properties.
//
// The test logs the rate and the failures grouped by construct, and fails
// when the rate falls below corpusFloor. The target is 0.99; the engine runs
// every accepted query at the time of writing, so the floor is 1: a query
// that stops running fails the test, and one added that does not run must be
// listed in doc.go with the reason, and the floor lowered to match.

const corpusFloor = 1.0

var corpusDir = filepath.Join("..", "..", "testdata", "kql", "corpus")

type corpusResult struct {
	file     string
	rejected bool // by Kusto.Language
	parsed   bool
	err      error
}

func runCorpus(t testing.TB) []corpusResult {
	schemas, err := LoadSchemas(filepath.Join("..", "logdir", "schemas"))
	if err != nil {
		t.Fatal(err)
	}
	db := Database{}
	for name, cols := range schemas {
		db[name] = &Table{Name: name, Columns: cols}
	}
	files, err := filepath.Glob(filepath.Join(corpusDir, "*.kql"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus in %s: %v", corpusDir, err)
	}
	sort.Strings(files)
	var out []corpusResult
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		text := string(data)
		if !strings.HasPrefix(text, "// source: ") {
			t.Errorf("%s: the first line must name the source (// source: repo path)", f)
		}
		r := corpusResult{file: filepath.Base(f), rejected: strings.Contains(text, "\n// kusto.language: rejects")}
		tables := db
		if dir := strings.TrimSuffix(f, ".kql") + ".data"; isDir(dir) {
			// Rows for a query whose columns come from the data (bag_unpack).
			loaded, err := LoadDir(dir, schemas)
			if err != nil {
				t.Fatal(err)
			}
			tables = Database{}
			for k, v := range db {
				tables[k] = v
			}
			for k, v := range loaded {
				tables[k] = v
			}
		}
		if _, err := Parse(text); err != nil {
			r.err = err
		} else {
			r.parsed = true
			_, r.err = Run(context.Background(), text, tables, Options{Now: testNow, ExternalDataDir: filepath.Join(corpusDir, "externaldata")})
		}
		out = append(out, r)
	}
	return out
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// construct names what a failure is about, for grouping.
func construct(err error) string {
	var kerr *Error
	if !errors.As(err, &kerr) {
		return "other: " + err.Error()
	}
	msg := kerr.Msg
	for _, re := range []*regexp.Regexp{
		regexp.MustCompile(`^unknown function '([^']+)'`),
		regexp.MustCompile(`^unsupported function '([^']+)'`),
		regexp.MustCompile(`^unknown aggregation function '([^']+)'`),
		regexp.MustCompile(`^unsupported aggregation function '([^']+)'`),
		regexp.MustCompile(`^unsupported tabular operator '([^']+)'`),
		regexp.MustCompile(`^unsupported evaluate plugin '([^']+)'`),
		regexp.MustCompile(`^unknown tabular operator '([^']+)'`),
	} {
		if m := re.FindStringSubmatch(msg); m != nil {
			return strings.SplitN(re.String()[1:], " '", 2)[0] + " " + m[1]
		}
	}
	if i := strings.IndexAny(msg, "'\"("); i > 0 {
		return strings.TrimSpace(msg[:i])
	}
	return msg
}

func TestCorpus(t *testing.T) {
	results := runCorpus(t)
	accepted, ok := 0, 0
	parsed := 0
	byConstruct := map[string][]string{}
	for _, r := range results {
		if r.parsed {
			parsed++
		}
		if r.rejected {
			continue
		}
		accepted++
		if r.err == nil {
			ok++
			continue
		}
		c := construct(r.err)
		byConstruct[c] = append(byConstruct[c], fmt.Sprintf("%s: %v", r.file, r.err))
	}
	t.Logf("corpus: %d queries, %d accepted by Kusto.Language; the engine parses %d of all and runs %d of the accepted (%.1f%%)",
		len(results), accepted, parsed, ok, 100*float64(ok)/float64(accepted))
	var keys []string
	for k := range byConstruct {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		return len(byConstruct[keys[i]]) > len(byConstruct[keys[j]]) || len(byConstruct[keys[i]]) == len(byConstruct[keys[j]]) && keys[i] < keys[j]
	})
	for _, k := range keys {
		t.Logf("  %d  %s", len(byConstruct[k]), k)
		for _, f := range byConstruct[k] {
			t.Logf("       %s", f)
		}
	}
	for _, r := range results {
		if r.rejected {
			t.Logf("  (rejected by Kusto.Language) %s: %v", r.file, r.err)
		}
	}
	if rate := float64(ok) / float64(accepted); rate < corpusFloor {
		t.Errorf("the engine runs %.1f%% of the corpus queries Kusto.Language accepts, below the floor of %.0f%%", 100*rate, 100*corpusFloor)
	}
}

// Truncated corpus queries must fail with an *Error or run, never panic.
func TestCorpusTruncated(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(corpusDir, "*.kql"))
	schemas, err := LoadSchemas(filepath.Join("..", "logdir", "schemas"))
	if err != nil {
		t.Fatal(err)
	}
	db := Database{}
	for name, cols := range schemas {
		db[name] = &Table{Name: name, Columns: cols}
	}
	for _, f := range files {
		data, _ := os.ReadFile(f)
		text := string(data)
		for cut := 1; cut < len(text); cut += 1 + len(text)/40 {
			_, err := Run(context.Background(), text[:cut], db, Options{Now: testNow, ExternalDataDir: filepath.Join(corpusDir, "externaldata")})
			var kerr *Error
			if err != nil && !errors.As(err, &kerr) {
				t.Errorf("%s cut at %d: %v", filepath.Base(f), cut, err)
			}
		}
	}
}
