package hunt_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/huntwatch/huntwatch/handler/hunt"
	"github.com/huntwatch/huntwatch/handler/kql"
)

var loaderPackDir = filepath.Join(testHunts, "pack")

// A folder loads recursively: what loads is sorted by name, what does not is Broken with its
// reason, and nothing stops the rest (testdata/hunts/pack/README.md lists the files).
func TestLoadPack(t *testing.T) {
	p := hunt.LoadPack([]string{loaderPackDir})
	var names []string
	for _, h := range p.Hunts {
		names = append(names, h.Name)
	}
	wantNames := []string{"Boot diagnostics read", "Disabled rule", "NRT serial console access", "Run Command from a new IP", "VM extension installed by an unusual caller"}
	if !reflect.DeepEqual(names, wantNames) {
		t.Errorf("hunts %q, want %q", names, wantNames)
	}
	broken := map[string]string{}
	for _, b := range p.Broken {
		broken[filepath.ToSlash(b.Source)] = b.Error()
	}
	src := func(name string) string { return filepath.ToSlash(filepath.Join(loaderPackDir, name)) }
	wantBroken := map[string][]string{
		src("bad-duration.yaml"):          {src("bad-duration.yaml") + ":5: queryFrequency:", `"1x": unknown unit`},
		src("not-yaml.yaml"):              {"not a hunting-query YAML"},
		src("nested/deeper/same-id.yaml"): {"id 0A6B1F2E-1111-4C3D-9E8F-000000000001 is already the id of " + filepath.Join(loaderPackDir, "messy-rule.yaml"), src("nested/deeper/same-id.yaml")},
	}
	if len(broken) != len(wantBroken) {
		t.Errorf("broken %q, want %d", broken, len(wantBroken))
	}
	for source, subs := range wantBroken {
		for _, s := range subs {
			if !strings.Contains(broken[source], s) {
				t.Errorf("broken %s: %q lacks %q", source, broken[source], s)
			}
		}
	}

	byName := map[string]*hunt.Hunt{}
	for _, h := range p.Hunts {
		byName[h.Name] = h
	}
	messy := byName["VM extension installed by an unusual caller"]
	got := fmt.Sprintf("%s %s %v %v %s %s %v %s entities=%q details=%v",
		messy.Kind, messy.Severity, messy.Frequency, messy.Period, messy.Trigger, messy.Grouping, messy.Suppression, messy.Channel, messy.EntityColumns(), messy.Details)
	want := `Scheduled High 1h0m0s 24h0m0s rows > 2 SingleAlert 2h0m0s #vm-abuse entities=["CallerIpAddress" "VM"] details=[{Extension Extension} {Ip CallerIpAddress}]`
	if got != want {
		t.Errorf("messy rule:\n got %s\nwant %s", got, want)
	}
	for _, w := range []string{`:4: severity: "high" read as "High"`, `:5: kind: "scheduled"`, `:6: status: "Available "`, `:11: tactis: unknown key ignored: did you mean "tactics"?`,
		`:20: entityMappings[0]: Account entity left out: fieldMappings[0] (line 22) has no columnName, only "columName"`,
		`:24: entityMappings[1].entityType: "ip" read as "IP"`, ":37: alertDetailsOverride.alertDescriptionFormat: 4 placeholders"} {
		if !slices.ContainsFunc(messy.Warnings, func(s string) bool { return strings.Contains(s, w) }) {
			t.Errorf("messy rule's warnings %q lack %q", messy.Warnings, w)
		}
	}
	if len(messy.Warnings) != 7 {
		t.Errorf("messy rule: %d warnings, want 7: %q", len(messy.Warnings), messy.Warnings)
	}
	if h := byName["Disabled rule"]; !h.Disabled || len(h.Warnings) != 0 {
		t.Errorf("disabled rule: Disabled %v, warnings %q", h.Disabled, h.Warnings)
	}
	if h := byName["NRT serial console access"]; h.Kind != hunt.KindNRT || h.Frequency != 0 || !strings.HasSuffix(h.Source, "nrt-rule.yml") {
		t.Errorf("NRT rule: kind %s, frequency %v, source %s", h.Kind, h.Frequency, h.Source)
	}
	if h := byName["Run Command from a new IP"]; h.Kind != hunt.KindHunting || h.Frequency != 30*time.Minute || h.Period != 24*time.Hour {
		t.Errorf("hunting query: kind %s, frequency %v, period %v", h.Kind, h.Frequency, h.Period)
	}
	for _, h := range p.Hunts {
		if strings.Contains(h.Source, ".hidden") {
			t.Errorf("a dot file was loaded: %s", h.Source)
		}
	}
}

func TestLoadPackReferences(t *testing.T) {
	empty := t.TempDir()
	if err := os.WriteFile(filepath.Join(empty, "notes.md"), []byte("no hunts here"), 0o644); err != nil {
		t.Fatal(err)
	}
	messy := filepath.Join(loaderPackDir, "messy-rule.yaml")
	p := hunt.LoadPack([]string{" runcommand-mde ", "", messy, loaderPackDir, "runcommand-mde", "no-such-hunt", empty})
	count := map[string]int{}
	for _, h := range p.Hunts {
		count[h.Source]++
	}
	if count["bundled:runcommand-mde"] != 1 || count[messy] != 1 {
		t.Errorf("a hunt named twice must load once: %v", count)
	}
	var reasons []string
	for _, b := range p.Broken {
		reasons = append(reasons, b.Error())
	}
	for _, w := range []string{`hunt "no-such-hunt": no such file or folder, and no bundled hunt of that name (bundled: runcommand-mde`, "hunts folder " + empty + " holds no *.yaml or *.yml file"} {
		if !slices.ContainsFunc(reasons, func(s string) bool { return strings.Contains(s, w) }) {
			t.Errorf("broken %q lack %q", reasons, w)
		}
	}
	if got := hunt.LoadPack(nil); len(got.Hunts)+len(got.Broken) != 0 {
		t.Errorf("LoadPack(nil) = %+v, want an empty pack", got)
	}
	var le hunt.LoadError
	if !errors.As(error(p.Broken[0]), &le) || le.Source == "" {
		t.Errorf("Broken entries are errors with a source: %+v", p.Broken[0])
	}
}

// The default pack is every bundled hunt but the references; a reference loads with its reason.
func TestBundledPack(t *testing.T) {
	names := hunt.BundledPack()
	if slices.Contains(names, "seed-runcommand-mde") || !slices.Contains(names, hunt.DefaultHunt) {
		t.Errorf("BundledPack() = %q, want the default hunt and not the seed", names)
	}
	if len(names) != len(hunt.Bundled())-1 {
		t.Errorf("BundledPack() = %q, want every bundled hunt but the seed (%q)", names, hunt.Bundled())
	}
	seed, err := hunt.Load("seed-runcommand-mde")
	if err != nil || !strings.Contains(seed.Reference, "known broken upstream") {
		t.Errorf("seed: %v, Reference %q", err, seed.Reference)
	}
	p := hunt.LoadPack(names)
	if len(p.Broken) != 0 || len(p.Hunts) != len(names) {
		t.Errorf("the bundled pack does not load whole: %d hunts, broken %v", len(p.Hunts), p.Broken)
	}
	for _, h := range p.Hunts {
		if h.Reference != "" {
			t.Errorf("%s in the default pack is a reference", h.Source)
		}
	}
	// A file can mark itself as a reference.
	h, err := hunt.Parse([]byte("id: x\nname: n\nquery: T\nhuntwatch:\n  reference: kept to compare\n"), "x.yaml")
	if err != nil || h.Reference != "kept to compare" {
		t.Errorf("huntwatch.reference: %v, %q", err, h.Reference)
	}
}

// The hunting page's time placeholders become the window huntwatch declares, and a fault in
// the query is still placed in the file's text.
func TestPlaceholders(t *testing.T) {
	h, err := hunt.Load(filepath.Join(loaderPackDir, "hunting-placeholders.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"let starttime = todatetime(HuntStart);", "let endtime = todatetime(HuntEnd);", "let range = '{{TimeRange}}';"} {
		if !strings.Contains(h.Query, s) {
			t.Errorf("query lacks %q:\n%s", s, h.Query)
		}
	}
	if len(h.Warnings) != 1 || !strings.Contains(h.Warnings[0], "hunting-placeholders.yaml:7: query: placeholder {{TimeRange}} is not replaced") {
		t.Errorf("warnings %q, want one about {{TimeRange}} on line 7", h.Warnings)
	}

	// The replaced query runs: the window bounds the rows.
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	w := hunt.Window{Start: now.Add(-time.Hour), End: now}
	db := kql.Database{"AzureActivity": &kql.Table{Name: "AzureActivity",
		Columns: []kql.Column{{Name: "TimeGenerated", Type: "datetime"}, {Name: "Caller", Type: "string"}, {Name: "CallerIpAddress", Type: "string"}},
		Rows:    [][]any{{now.Add(-30 * time.Minute), "alice", "10.0.0.1"}, {now.Add(-3 * time.Hour), "bob", "10.0.0.2"}}}}
	res, err := kql.Run(context.Background(), w.Declare(h.Query), db, kql.Options{Now: now})
	if err != nil {
		t.Fatalf("the replaced query does not run: %v", err)
	}
	if len(res.Rows) != 1 || res.Rows[0][0] != "alice" {
		t.Errorf("rows %v, want alice's only", res.Rows)
	}

	// A fault after replacements on its line is placed in the file's text, not in the shorter
	// replaced one.
	for _, test := range []struct {
		query string
		want  string
	}{
		{"print s = todatetime('{{StartTimeISO}}'), n = nosuch(1)", "bad.yaml:4:49: unknown function 'nosuch'"},
		{"print s = todatetime('{{StartTimeISO}}'), e = todatetime(\"{{EndTimeISO}}\") | where Nope", "bad.yaml:4:86: unknown column or name 'Nope'"},
	} {
		doc := "id: x\nname: Bad\nquery: |\n  " + test.query + "\n"
		h, err := hunt.Parse([]byte(doc), "bad.yaml")
		if err != nil {
			t.Fatal(err)
		}
		_, err = kql.Run(context.Background(), w.Declare(h.Query), kql.Database{}, kql.Options{Now: now})
		if got := fmt.Sprint(h.QueryError(err)); got != test.want {
			t.Errorf("%q: error %q, want %q", test.query, got, test.want)
		}
	}
}

// sentinelContentDir holds rules and hunting queries from the Azure-Sentinel repository, each as it is
// there (the README lists the source paths).
var sentinelContentDir = filepath.Join(testHunts, "sentinel")

// Real content loads, with the warnings and refusals it deserves. The figures are the measure the
// issue asks for; a change in them is a change in what the loader accepts.
func TestSentinelContent(t *testing.T) {
	p := hunt.LoadPack([]string{sentinelContentDir})
	kinds := map[string]int{}
	warned, warnings := 0, 0
	for _, h := range p.Hunts {
		kinds[h.Kind]++
		if len(h.Warnings) > 0 {
			warned++
			warnings += len(h.Warnings)
		}
		for _, w := range h.Warnings {
			t.Logf("warning: %s", strings.TrimPrefix(w, sentinelContentDir+string(filepath.Separator)))
		}
	}
	var reasons []string
	for _, b := range p.Broken {
		reasons = append(reasons, strings.ReplaceAll(b.Error(), sentinelContentDir+string(filepath.Separator), ""))
		t.Logf("not loaded: %s", reasons[len(reasons)-1])
	}
	files, _ := filepath.Glob(filepath.Join(sentinelContentDir, "*", "*.y*ml"))
	t.Logf("%d files: %d load (%d Scheduled, %d NRT, %d hunting queries), %d of them with %d warnings; %d do not load",
		len(files), len(p.Hunts), kinds[hunt.KindScheduled], kinds[hunt.KindNRT], kinds[hunt.KindHunting], warned, warnings, len(p.Broken))

	if len(files) != 39 || len(p.Hunts)+len(p.Broken) != len(files) {
		t.Errorf("%d files, %d hunts + %d broken: every file is one or the other", len(files), len(p.Hunts), len(p.Broken))
	}
	if got, want := fmt.Sprint(len(p.Hunts), kinds, warned, warnings), fmt.Sprint(37, map[string]int{hunt.KindScheduled: 17, hunt.KindNRT: 8, hunt.KindHunting: 12}, 4, 6); got != want {
		t.Errorf("loaded, kinds, hunts warned, warnings = %s, want %s", got, want)
	}
	sort.Strings(reasons)
	wantReasons := []string{
		"hunt hunting/AzureResourceAssignedPublicIP.yaml: not a hunting query: missing query",
		"hunt rules/ASimAuthentication-new.yaml: not a hunting-query YAML: yaml: line 26: did not find expected comment or line break",
	}
	if !reflect.DeepEqual(reasons, wantReasons) {
		t.Errorf("not loaded:\n%s\nwant:\n%s", strings.Join(reasons, "\n"), strings.Join(wantReasons, "\n"))
	}
	// Hunting queries with the hunting page's placeholders load with the window in their place.
	for _, h := range p.Hunts {
		if strings.Contains(h.Query, "{{StartTimeISO}}") || strings.Contains(h.Query, "{{EndTimeISO}}") {
			t.Errorf("%s: a time placeholder is left in the query", h.Source)
		}
	}
}
