// Package storetest is the conformance suite of hunt.Store. Every store runs it from its own
// tests (tablestore over Azurite, filestore over a temporary file, memstore in memory), so a
// test double obeys the same contract as the stores it stands for.
package storetest

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/huntwatch/huntwatch/handler/hunt"
)

// Run runs the suite. open returns an empty store (or one whose hunts the suite has not used);
// it is called once per subtest.
func Run(t *testing.T, open func(t *testing.T) hunt.Store) {
	for _, test := range []struct {
		name string
		fn   func(t *testing.T, s hunt.Store)
	}{
		{"EmptyLoad", testEmptyLoad},
		{"RoundTrip", testRoundTrip},
		{"InsertConflict", testInsertConflict},
		{"Replace", testReplace},
		{"Remove", testRemove},
		{"Window", testWindow},
		{"Statuses", testStatuses},
		{"Sparse", testSparse},
		{"HuntsIsolated", testHuntsIsolated},
		{"ManyRecords", testManyRecords},
		{"OddFingerprints", testOddFingerprints},
		{"LargeFinding", testLargeFinding},
		{"NoAliasing", testNoAliasing},
		{"ConcurrentInsert", testConcurrentInsert},
		{"Lookup", testLookup},
		{"LookupMany", testLookupMany},
		{"Prune", testPrune},
		{"PruneMax", testPruneMax},
	} {
		t.Run(test.name, func(t *testing.T) { test.fn(t, open(t)) })
	}
}

var zone = time.FixedZone("UTC+2", 2*60*60)

// at is a time with nanoseconds, in a zone other than UTC: stores must return it in UTC.
func at(i int) time.Time {
	return time.Date(2026, 3, 14, 15, 9, 26, 535897932, zone).Add(time.Duration(i) * time.Minute)
}

func newRecord(fp string, i int) *hunt.Record {
	return &hunt.Record{
		Fingerprint: fp,
		State:       hunt.Pending,
		FirstSeen:   at(i),
		LastSeen:    at(i + 1),
		Occurrences: i + 1,
		Recent:      []string{fmt.Sprintf("occ-%d", i)},
		Finding: &hunt.Finding{
			Fingerprint: fp,
			Occurrence:  fmt.Sprintf("occ-%d", i),
			Time:        at(i),
			Fields:      []hunt.Field{{Name: "Caller", Type: "string", Text: fmt.Sprintf("user%d@example.com", i)}},
		},
	}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return c
}

func load(t *testing.T, s hunt.Store, h string) *hunt.State {
	t.Helper()
	st, err := s.Load(ctx(t), h)
	return whole(t, s, h, st, err, "Load")
}

// lookup is load for Lookup, pending records included.
func lookup(t *testing.T, s hunt.Store, h string, fps ...string) *hunt.State {
	t.Helper()
	st, err := s.Lookup(ctx(t), h, fps, true)
	return whole(t, s, h, st, err, "Lookup")
}

// whole checks the state that call (Load or Lookup) returned and replaces its sparse records by
// their whole selves.
func whole(t *testing.T, s hunt.Store, h string, st *hunt.State, err error, call string) *hunt.State {
	t.Helper()
	if err != nil {
		t.Fatalf("%s(%q): %v", call, h, err)
	}
	if st == nil || st.Records == nil {
		t.Fatalf("%s(%q) = %+v: want a state with a non-nil Records map", call, h, st)
	}
	// A sparse record is a delivered one without its Finding and Entities; Get gives it whole,
	// at the same Version. The tests below compare whole records.
	for fp, rec := range st.Records {
		if !rec.Sparse {
			continue
		}
		if rec.State != hunt.Delivered || rec.Finding != nil || rec.Entities != nil {
			t.Errorf("%s(%q): sparse record %.60q = %+v: want a delivered record without Finding and Entities", call, h, fp, rec)
		}
		full, err := s.Get(ctx(t), h, fp)
		if err != nil || full == nil || full.Sparse || full.Version != rec.Version {
			t.Fatalf("Get(%q, %.60q) = %+v, %v: want the whole record at Version %q", h, fp, full, err, rec.Version)
		}
		st.Records[fp] = full
	}
	return st
}

// put writes recs and fails the test on an error; it returns the losers.
func put(t *testing.T, s hunt.Store, h string, recs ...*hunt.Record) []*hunt.Record {
	t.Helper()
	lost, err := s.Put(ctx(t), h, recs)
	if err != nil {
		t.Fatalf("Put(%q, %d records): %v", h, len(recs), err)
	}
	return lost
}

// mustWin writes recs and fails unless every one wins and gets a Version.
func mustWin(t *testing.T, s hunt.Store, h string, recs ...*hunt.Record) {
	t.Helper()
	if lost := put(t, s, h, recs...); len(lost) != 0 {
		t.Fatalf("Put(%q): %d records lost, want none (first: %.60q)", h, len(lost), lost[0].Fingerprint)
	}
	for _, r := range recs {
		if r.Version == "" && !r.Remove {
			t.Fatalf("Put(%q): record %.60q won but has no Version", h, r.Fingerprint)
		}
	}
}

// sameRecord compares every stored field: times with Equal and in UTC, the rest exactly.
func sameRecord(t *testing.T, got, want *hunt.Record) {
	t.Helper()
	if got == nil {
		t.Fatalf("record %.60q missing", want.Fingerprint)
	}
	times := func(r *hunt.Record) []*time.Time {
		ts := []*time.Time{&r.FirstSeen, &r.LastSeen, &r.NotifiedAt, &r.ClaimedUntil, &r.SeenThrough}
		if r.Finding != nil {
			ts = append(ts, &r.Finding.Time)
		}
		return ts
	}
	g, w := got.Clone(), want.Clone()
	gt, wt := times(g), times(w)
	if len(gt) != len(wt) {
		t.Fatalf("record %.60q: Finding = %v, want %v", want.Fingerprint, got.Finding, want.Finding)
	}
	for i := range gt {
		if !gt[i].Equal(*wt[i]) {
			t.Errorf("record %.60q: time %d = %v, want %v", want.Fingerprint, i, *gt[i], *wt[i])
		}
		if !gt[i].IsZero() && gt[i].Location() != time.UTC {
			t.Errorf("record %.60q: time %d = %v, want UTC", want.Fingerprint, i, *gt[i])
		}
		*gt[i], *wt[i] = time.Time{}, time.Time{}
	}
	g.Remove, w.Remove = false, false
	if len(g.Recent) == 0 && len(w.Recent) == 0 {
		g.Recent, w.Recent = nil, nil
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("record %.60q:\n got %+v\nwant %+v", want.Fingerprint, g, w)
	}
}

func testEmptyLoad(t *testing.T, s hunt.Store) {
	st := load(t, s, "never-seen")
	if !st.WindowEnd.IsZero() || len(st.Records) != 0 {
		t.Errorf("Load of a new hunt = window %v, %d records; want zero, none", st.WindowEnd, len(st.Records))
	}
	if lost, err := s.Put(ctx(t), "never-seen", nil); err != nil || len(lost) != 0 {
		t.Errorf("Put of nothing = %v, %v", lost, err)
	}
}

func testRoundTrip(t *testing.T, s hunt.Store) {
	full := newRecord("fp-full", 1)
	full.State = hunt.Delivered
	full.Recent = []string{"a", "b", "c"}
	full.NotifiedAt = at(3)
	full.Message = hunt.MessageRef{Where: "C0123", ID: "1700000000.000100"}
	full.ClaimedUntil = at(4)
	full.Attempts = 2
	full.LastError = "slack: rate limited\nretry later"
	full.Entities = map[string][]string{"Host": {"vm-1", "VM-ünï"}, "Account": {"alice@contoso.com"}}
	full.SeenThrough = at(2)
	full.Finding.Fields = append(full.Finding.Fields,
		hunt.Field{Name: "Script", Type: "string", Text: "Get-Process | ? {$_.CPU -gt 10} # ünïcödé\t\"quoted\""},
		hunt.Field{Name: "Hosts", Type: "dynamic", List: []string{"vm-1", "vm-2", ""}},
		hunt.Field{Name: "Empty"})
	bare := &hunt.Record{Fingerprint: "fp-bare", State: hunt.Pending}
	mustWin(t, s, "roundtrip", full, bare)

	st := load(t, s, "roundtrip")
	if len(st.Records) != 2 {
		t.Fatalf("Load: %d records, want 2", len(st.Records))
	}
	for _, want := range []*hunt.Record{full, bare} {
		got := st.Records[want.Fingerprint]
		sameRecord(t, got, want)
		if got != nil && got.Version != want.Version {
			t.Errorf("record %s: loaded Version %q, Put gave %q", want.Fingerprint, got.Version, want.Version)
		}
	}
}

func testInsertConflict(t *testing.T, s hunt.Store) {
	first := newRecord("fp", 1)
	mustWin(t, s, "conflict", first)
	second := newRecord("fp", 2)
	before := second.Clone()
	lost := put(t, s, "conflict", second)
	if len(lost) != 1 || lost[0] != second {
		t.Fatalf("second insert: lost = %v, want exactly the second record", lost)
	}
	if second.Version != "" {
		t.Errorf("lost record got Version %q, want it unchanged", second.Version)
	}
	if !reflect.DeepEqual(second, before) {
		t.Errorf("lost record changed: %+v, was %+v", second, before)
	}
	got := load(t, s, "conflict").Records["fp"]
	sameRecord(t, got, first)
	if got.Version != first.Version {
		t.Errorf("Version = %q, want the first insert's %q", got.Version, first.Version)
	}
}

func testReplace(t *testing.T, s hunt.Store) {
	r := newRecord("fp", 1)
	mustWin(t, s, "replace", r)
	v1 := r.Version

	mine := load(t, s, "replace").Records["fp"]
	mine.Occurrences = 7
	mine.State = hunt.Delivered
	mine.Finding = nil
	mustWin(t, s, "replace", mine)
	if mine.Version == v1 {
		t.Fatalf("replace kept Version %q, want a new one", v1)
	}

	stale := newRecord("fp", 2)
	stale.Version = v1
	lost := put(t, s, "replace", stale)
	if len(lost) != 1 || lost[0] != stale || stale.Version != v1 {
		t.Fatalf("replace with a stale Version: lost %v, Version %q; want it lost and unchanged", lost, stale.Version)
	}
	got := load(t, s, "replace").Records["fp"]
	sameRecord(t, got, mine)
	if got.Version != mine.Version {
		t.Errorf("Version = %q, want %q", got.Version, mine.Version)
	}

	// A replace of a record someone removed loses too.
	gone := newRecord("gone", 1)
	mustWin(t, s, "replace", gone)
	del := gone.Clone()
	del.Remove = true
	mustWin(t, s, "replace", del)
	gone.Occurrences++
	if lost := put(t, s, "replace", gone); len(lost) != 1 {
		t.Errorf("replace of a removed record: lost %v, want it lost", lost)
	}
}

func testRemove(t *testing.T, s hunt.Store) {
	a, b := newRecord("a", 1), newRecord("b", 2)
	mustWin(t, s, "remove", a, b)
	staleA := a.Clone()
	a.Occurrences = 10
	mustWin(t, s, "remove", a)

	staleA.Remove = true
	if lost := put(t, s, "remove", staleA); len(lost) != 1 || lost[0] != staleA {
		t.Fatalf("remove with a stale Version: lost %v, want it lost", lost)
	}
	a.Remove = true
	mustWin(t, s, "remove", a)
	if a.Version != "" {
		t.Errorf("removed record keeps Version %q, want \"\"", a.Version)
	}
	st := load(t, s, "remove")
	if _, ok := st.Records["a"]; ok || len(st.Records) != 1 {
		t.Fatalf("after remove: records %v, want only b", keys(st))
	}
	sameRecord(t, st.Records["b"], b)

	// Removing again (nothing stored, no Version) wins and changes nothing; removing b without
	// its Version loses, since b is stored.
	again := &hunt.Record{Fingerprint: "a", Remove: true}
	noVersion := &hunt.Record{Fingerprint: "b", Remove: true}
	lost := put(t, s, "remove", again, noVersion)
	if len(lost) != 1 || lost[0] != noVersion {
		t.Fatalf("remove without Version: lost %v, want only b's", lost)
	}
	if st := load(t, s, "remove"); len(st.Records) != 1 {
		t.Fatalf("records %v, want only b", keys(st))
	}
	// Insert after remove works, with a Version unlike any before.
	reinsert := newRecord("a", 5)
	mustWin(t, s, "remove", reinsert)
	if reinsert.Version == staleA.Version {
		t.Errorf("re-inserted record reuses the old Version %q", reinsert.Version)
	}
}

func testWindow(t *testing.T, s hunt.Store) {
	r := newRecord("fp", 1)
	mustWin(t, s, "window", r)
	for i, end := range []time.Time{at(10), at(5), time.Date(2030, 1, 1, 0, 0, 0, 1, time.UTC)} {
		health := hunt.Health{Failures: i, FailingSince: at(i), LastError: fmt.Sprintf("error %d: <&> ünï", i), Alerted: i%2 == 1,
			Today: hunt.DayCounts{Day: "2026-11-27", Runs: 10 + i, Failed: i, Rows: 1000, New: 3, Repeats: 4, Posted: 5}, LastHeartbeat: "2026-11-26"}
		told := toldList(i * 120) // none, then enough to need several chunks of a table property
		if err := s.SaveStatus(ctx(t), "window", hunt.Status{WindowEnd: end, Health: health, Told: told, Settled: i == 1, Stored: 1000 * i}); err != nil {
			t.Fatalf("SaveStatus %d: %v", i, err)
		}
		st := load(t, s, "window")
		if st.Settled != (i == 1) || st.Stored != 1000*i {
			t.Errorf("Settled %v, Stored %d, want %v and %d", st.Settled, st.Stored, i == 1, 1000*i)
		}
		sameTold(t, "Load", st.Told, told)
		sameTold(t, "Lookup", lookup(t, s, "window").Told, told)
		if !st.WindowEnd.Equal(end) || st.WindowEnd.Location() != time.UTC {
			t.Errorf("WindowEnd = %v, want %v in UTC", st.WindowEnd, end)
		}
		if got := st.Health; got.Failures != health.Failures || !got.FailingSince.Equal(health.FailingSince) || got.LastError != health.LastError ||
			got.Alerted != health.Alerted || got.Today != health.Today || got.LastHeartbeat != health.LastHeartbeat {
			t.Errorf("Health = %+v, want %+v", got, health)
		}
		if len(st.Records) != 1 || st.Records["fp"] == nil {
			t.Errorf("records %v, want only fp", keys(st))
		}
	}
}

// toldList returns n entries of Status.Told, long and odd.
func toldList(n int) []hunt.Told {
	var out []hunt.Told
	for i := range n {
		out = append(out, hunt.Told{Occurrence: fmt.Sprintf("run-%d-<&>'ü-%s", i, strings.Repeat("x", 200)), Fingerprint: fmt.Sprintf("fp/%d#?", i), At: at(i)})
	}
	return out
}

func sameTold(t *testing.T, how string, got, want []hunt.Told) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d told occurrences, want %d", how, len(got), len(want))
	}
	for i := range want {
		if got[i].Occurrence != want[i].Occurrence || got[i].Fingerprint != want[i].Fingerprint || !got[i].At.Equal(want[i].At) {
			t.Fatalf("%s: told[%d] = %+v, want %+v", how, i, got[i], want[i])
		}
	}
}

// testStatuses: one read returns every hunt's status, suppression and health included, and only
// the hunts that have one.
func testStatuses(t *testing.T, s hunt.Store) {
	hunts := []string{"status-a", "status b/2", "ünï 猎"}
	for i, h := range hunts {
		st := hunt.Status{WindowEnd: at(10 + i), SuppressedUntil: at(20 + i), Health: hunt.Health{Failures: i, FailedTick: fmt.Sprint("tick-", i)}}
		if err := s.SaveStatus(ctx(t), h, st); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Statuses(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	for i, h := range hunts {
		st, ok := got[h]
		if !ok {
			t.Errorf("no status for %q in %v", h, got)
			continue
		}
		if !st.WindowEnd.Equal(at(10+i)) || !st.SuppressedUntil.Equal(at(20+i)) || st.SuppressedUntil.Location() != time.UTC ||
			st.Health.Failures != i || st.Health.FailedTick != fmt.Sprint("tick-", i) {
			t.Errorf("status of %q = %+v", h, st)
		}
	}
	if st := load(t, s, hunts[0]); !st.SuppressedUntil.Equal(at(20)) {
		t.Errorf("Load's SuppressedUntil = %v, want %v", st.SuppressedUntil, at(20))
	}
}

func testHuntsIsolated(t *testing.T, s hunt.Store) {
	hunts := []string{"hunt-a", "hunt-b", "Hunt A/B #1?", "h~" + strings.Repeat("0", 64), "ünï 猎"}
	for i, h := range hunts {
		r := newRecord("shared-fp", i)
		mustWin(t, s, h, r, newRecord(fmt.Sprintf("own-%d", i), i))
		if err := s.SaveStatus(ctx(t), h, hunt.Status{WindowEnd: at(100 + i)}); err != nil {
			t.Fatal(err)
		}
	}
	for i, h := range hunts {
		st := load(t, s, h)
		if len(st.Records) != 2 || st.Records[fmt.Sprintf("own-%d", i)] == nil {
			t.Errorf("hunt %q: records %v", h, keys(st))
		}
		if got := st.Records["shared-fp"]; got == nil || got.Occurrences != i+1 {
			t.Errorf("hunt %q: shared-fp = %+v, want its own", h, got)
		}
		if !st.WindowEnd.Equal(at(100 + i)) {
			t.Errorf("hunt %q: window %v, want %v", h, st.WindowEnd, at(100+i))
		}
	}
}

func testManyRecords(t *testing.T, s hunt.Store) {
	const n = 250
	conflicts := []int{0, 99, 100, 101, 199, 249}
	taken := map[int]*hunt.Record{}
	for _, i := range conflicts {
		taken[i] = newRecord(fmt.Sprintf("fp-%03d", i), 1000+i)
		mustWin(t, s, "many", taken[i])
	}
	recs := make([]*hunt.Record, n)
	for i := range recs {
		recs[i] = newRecord(fmt.Sprintf("fp-%03d", i), i)
	}
	lost := put(t, s, "many", recs...)
	if len(lost) != len(conflicts) {
		t.Fatalf("lost %d records, want %d", len(lost), len(conflicts))
	}
	for j, i := range conflicts {
		if lost[j] != recs[i] {
			t.Errorf("lost[%d] = %s, want %s (losers in input order)", j, lost[j].Fingerprint, recs[i].Fingerprint)
		}
		if recs[i].Version != "" {
			t.Errorf("loser %s got Version %q", recs[i].Fingerprint, recs[i].Version)
		}
	}
	st := load(t, s, "many")
	if len(st.Records) != n {
		t.Fatalf("Load: %d records, want %d", len(st.Records), n)
	}
	for i, r := range recs {
		want := r
		if taken[i] != nil {
			want = taken[i]
		}
		got := st.Records[r.Fingerprint]
		sameRecord(t, got, want)
		if got != nil && got.Version != want.Version {
			t.Errorf("%s: loaded Version %q, Put gave %q", r.Fingerprint, got.Version, want.Version)
		}
	}

	// Replace all from the loaded state, with a few made stale by another writer first.
	next := make([]*hunt.Record, 0, n)
	for _, r := range recs {
		c := st.Records[r.Fingerprint].Clone()
		c.Occurrences++
		next = append(next, c)
	}
	stale := []int{5, 150, 248}
	for _, i := range stale {
		other := st.Records[recs[i].Fingerprint].Clone()
		other.LastError = "someone else"
		mustWin(t, s, "many", other)
	}
	lost = put(t, s, "many", next...)
	if len(lost) != len(stale) {
		t.Fatalf("replace: lost %d, want %d", len(lost), len(stale))
	}
	for j, i := range stale {
		if lost[j] != next[i] {
			t.Errorf("replace: lost[%d] = %s, want %s", j, lost[j].Fingerprint, next[i].Fingerprint)
		}
	}
	st2 := load(t, s, "many")
	for i, r := range next {
		got := st2.Records[r.Fingerprint]
		if isIn(i, stale) {
			if got.LastError != "someone else" {
				t.Errorf("%s: the other writer's change was overwritten", r.Fingerprint)
			}
			continue
		}
		if got.Version != r.Version || got.Occurrences != r.Occurrences {
			t.Errorf("%s: stored (%q, %d), want (%q, %d)", r.Fingerprint, got.Version, got.Occurrences, r.Version, r.Occurrences)
		}
	}
}

// oddFingerprints are fingerprints a store must keep apart and intact: characters keys may not
// hold, quotes, control characters, invalid UTF-8, long ones, the empty one, names a store might
// use itself, and near twins.
var oddFingerprints = []string{
	"a/b\\c#d?e",
	"'quoted' \"double\" & <tag> %41 +",
	"it's",
	"\x00\x01\t\n\x1f\x7f\u0085",
	"ünïcödé-指纹-🔥",
	"\xff\xfe invalid UTF-8",
	strings.Repeat("x", 5000),
	strings.Repeat("ü🔥", 3000),
	strings.Repeat("z", 70_000), // more than one string property holds
	"",
	" ",
	"~window",
	"h~" + strings.Repeat("ab", 32),
	"Case", "case",
	strings.Repeat("y", 200), strings.Repeat("y", 201),
}

func testOddFingerprints(t *testing.T, s hunt.Store) {
	fps := oddFingerprints
	recs := make([]*hunt.Record, len(fps))
	for i, fp := range fps {
		recs[i] = newRecord(fp, i)
		// A finding is JSON: its text is valid UTF-8 (query results always are).
		recs[i].Finding.Fingerprint = strings.ToValidUTF8(fp, "\uFFFD")
	}
	mustWin(t, s, "odd", recs...)
	st := load(t, s, "odd")
	if len(st.Records) != len(fps) {
		t.Fatalf("Load: %d records, want %d", len(st.Records), len(fps))
	}
	for _, r := range recs {
		sameRecord(t, st.Records[r.Fingerprint], r)
	}
	if !st.WindowEnd.IsZero() {
		t.Errorf("a fingerprint %q set the window", "~window")
	}
	// Each is its own row: a second insert of each loses.
	again := make([]*hunt.Record, len(fps))
	for i, fp := range fps {
		again[i] = newRecord(fp, 100+i)
	}
	if lost := put(t, s, "odd", again...); len(lost) != len(fps) {
		t.Errorf("re-insert: lost %d, want %d", len(lost), len(fps))
	}
}

func testLargeFinding(t *testing.T, s hunt.Store) {
	r := newRecord("large", 1)
	big := strings.Repeat("0123456789abcdef", 8<<10/16)
	r.Finding.Fields = nil
	for i := range 200 { // 200 × 8 KiB = 1.6 MB of text
		r.Finding.Fields = append(r.Finding.Fields, hunt.Field{Name: fmt.Sprintf("F%03d", i), Type: "string", Text: big})
	}
	list := make([]string, 25_000) // ~400 KB more
	for i := range list {
		list[i] = fmt.Sprintf("element-%07d", i)
	}
	r.Finding.Fields = append(r.Finding.Fields, hunt.Field{Name: "List", Type: "dynamic", List: list})
	mustWin(t, s, "large", r)

	got := load(t, s, "large").Records["large"]
	if got == nil || got.Finding == nil {
		t.Fatalf("large finding not stored: %+v", got)
	}
	f := got.Finding
	if f.Fingerprint != r.Finding.Fingerprint || f.Occurrence != r.Finding.Occurrence || !f.Time.Equal(r.Finding.Time) {
		t.Errorf("finding header = %q %q %v, want %q %q %v", f.Fingerprint, f.Occurrence, f.Time, r.Finding.Fingerprint, r.Finding.Occurrence, r.Finding.Time)
	}
	if len(f.Fields) == 0 || f.Fields[0].Name != "F000" {
		t.Fatalf("finding lost its first field: %d fields", len(f.Fields))
	}
	if !reflect.DeepEqual(f.Fields, r.Finding.Fields) && !strings.Contains(fmt.Sprint(f.Fields), "[truncated]") {
		t.Errorf("finding changed without a visible truncation marker")
	}
	// It can be replaced, and the shrunk copy round-trips as is.
	got.State = hunt.Delivered
	mustWin(t, s, "large", got)
	sameRecord(t, load(t, s, "large").Records["large"], got)
}

func testNoAliasing(t *testing.T, s hunt.Store) {
	r := newRecord("fp", 1)
	r.Recent = []string{"x", "y"}
	mustWin(t, s, "alias", r)
	r.Recent[0] = "changed"
	r.Finding.Fields[0].Text = "changed"
	got := load(t, s, "alias").Records["fp"]
	if got.Recent[0] != "x" || got.Finding.Fields[0].Text == "changed" {
		t.Fatalf("store kept the caller's slices: %+v", got)
	}
	got.Recent[0] = "changed again"
	if again := load(t, s, "alias").Records["fp"]; again.Recent[0] != "x" {
		t.Fatalf("Load returned the store's own slices")
	}
}

func testConcurrentInsert(t *testing.T, s hunt.Store) {
	const n = 8
	recs := make([]*hunt.Record, n)
	losts := make([][]*hunt.Record, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		recs[i] = newRecord("contended", i)
		wg.Go(func() { losts[i], errs[i] = s.Put(ctx(t), "concurrent", []*hunt.Record{recs[i]}) })
	}
	wg.Wait()
	winner := -1
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("Put %d: %v", i, errs[i])
		}
		switch len(losts[i]) {
		case 0:
			if winner >= 0 {
				t.Fatalf("both %d and %d won", winner, i)
			}
			winner = i
		case 1:
			if recs[i].Version != "" {
				t.Errorf("loser %d got Version %q", i, recs[i].Version)
			}
		}
	}
	if winner < 0 {
		t.Fatal("no Put won")
	}
	got := load(t, s, "concurrent").Records["contended"]
	sameRecord(t, got, recs[winner])
	if got.Version != recs[winner].Version {
		t.Errorf("Version %q, want the winner's %q", got.Version, recs[winner].Version)
	}
}

func keys(st *hunt.State) []string {
	var out []string
	for k := range st.Records {
		out = append(out, fmt.Sprintf("%.40q", k))
	}
	return out
}

func isIn(i int, list []int) bool {
	for _, x := range list {
		if x == i {
			return true
		}
	}
	return false
}

func testSparse(t *testing.T, s hunt.Store) {
	if rec, err := s.Get(ctx(t), "sparse", "nothing"); err != nil || rec != nil {
		t.Fatalf("Get of a missing record = %+v, %v; want nil, nil", rec, err)
	}
	r := newRecord("fp", 1)
	r.State = hunt.Delivered
	r.Entities = map[string][]string{"Host": {"vm-1"}}
	mustWin(t, s, "sparse", r)
	got, err := s.Get(ctx(t), "sparse", "fp")
	if err != nil {
		t.Fatal(err)
	}
	sameRecord(t, got, r)
	raw, err := s.Load(ctx(t), "sparse")
	if err != nil {
		t.Fatal(err)
	}
	if loaded := raw.Records["fp"]; loaded.Sparse {
		if _, err := s.Put(ctx(t), "sparse", []*hunt.Record{loaded}); err == nil {
			t.Error("Put of a sparse record succeeded: it would lose the finding")
		}
		if again, _ := s.Get(ctx(t), "sparse", "fp"); again == nil || again.Finding == nil || again.Version != r.Version {
			t.Errorf("after the refused Put: %+v", again)
		}
	}
	// Removing a record loses nothing, sparse or not.
	loaded := raw.Records["fp"]
	loaded.Remove = true
	mustWin(t, s, "sparse", loaded)
	if again, err := s.Get(ctx(t), "sparse", "fp"); err != nil || again != nil {
		t.Errorf("after removing the loaded record: Get = %+v, %v; want nil", again, err)
	}
}

// testLookup: the status, the records asked for (delivered ones possibly sparse), every pending
// record whole, and nothing else.
func testLookup(t *testing.T, s hunt.Store) {
	if st := lookup(t, s, "lookup", "d1"); !st.WindowEnd.IsZero() || len(st.Records) != 0 {
		t.Errorf("Lookup of a new hunt = window %v, %d records; want zero, none", st.WindowEnd, len(st.Records))
	}
	var recs []*hunt.Record
	for i, fp := range []string{"d1", "d2", "d3", "p1", "p2"} {
		r := newRecord(fp, i)
		if fp[0] == 'd' {
			r.State, r.NotifiedAt = hunt.Delivered, at(i+2)
			r.Entities = map[string][]string{"Host": {fmt.Sprint("vm-", i)}}
		}
		recs = append(recs, r)
	}
	mustWin(t, s, "lookup", recs...)
	mustWin(t, s, "lookup-other", newRecord("elsewhere", 1))
	status := hunt.Status{WindowEnd: at(50), SuppressedUntil: at(60), Health: hunt.Health{Failures: 2, LastError: "boom"}}
	if err := s.SaveStatus(ctx(t), "lookup", status); err != nil {
		t.Fatal(err)
	}

	raw, err := s.Lookup(ctx(t), "lookup", []string{"d1", "p1", "absent", "d1", "elsewhere"}, true)
	if err != nil {
		t.Fatal(err)
	}
	// Without pending, only what was asked, and the status.
	only, err := s.Lookup(ctx(t), "lookup", []string{"d1", "p1"}, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(only.Records) != 2 || only.Records["d1"] == nil || only.Records["p1"] == nil || !only.WindowEnd.Equal(status.WindowEnd) {
		t.Errorf("Lookup without pending: records %v, window end %v: want d1 and p1 only, and the status", keys(only), only.WindowEnd)
	}
	for _, fp := range []string{"p1", "p2"} {
		if r := raw.Records[fp]; r == nil || r.Sparse || r.Finding == nil {
			t.Errorf("pending record %s = %+v: want it whole", fp, r)
		}
	}
	for _, test := range []struct {
		asked []string
		want  []*hunt.Record
	}{
		{[]string{"d1", "p1", "absent", "d1", "elsewhere"}, []*hunt.Record{recs[0], recs[3], recs[4]}},
		{[]string{"d2", "d3"}, []*hunt.Record{recs[1], recs[2], recs[3], recs[4]}},
		{nil, []*hunt.Record{recs[3], recs[4]}},
	} {
		st := lookup(t, s, "lookup", test.asked...)
		if len(st.Records) != len(test.want) {
			t.Errorf("Lookup(%q): records %v, want %d", test.asked, keys(st), len(test.want))
		}
		for _, want := range test.want {
			got := st.Records[want.Fingerprint]
			sameRecord(t, got, want)
			if got != nil && got.Version != want.Version {
				t.Errorf("Lookup(%q): %s at Version %q, Put gave %q", test.asked, want.Fingerprint, got.Version, want.Version)
			}
		}
		if !st.WindowEnd.Equal(status.WindowEnd) || !st.SuppressedUntil.Equal(status.SuppressedUntil) ||
			st.WindowEnd.Location() != time.UTC || st.Health.Failures != 2 || st.Health.LastError != "boom" {
			t.Errorf("Lookup(%q): status %+v, want %+v", test.asked, st.Status, status)
		}
	}
}

// testLookupMany: hundreds of fingerprints, odd ones among them, some stored, others not, and
// stored records not asked for.
func testLookupMany(t *testing.T, s hunt.Store) {
	var asked []string
	var stored []*hunt.Record
	for i := range 250 {
		fp := fmt.Sprintf("fp-%03d", i)
		asked = append(asked, fp)
		if i%3 == 0 {
			stored = append(stored, newRecord(fp, i))
		}
	}
	for i, fp := range oddFingerprints {
		asked = append(asked, fp, "not stored "+fp)
		r := newRecord(fp, i)
		r.Finding.Fingerprint = strings.ToValidUTF8(fp, "\uFFFD")
		stored = append(stored, r)
	}
	for _, r := range stored {
		r.State, r.NotifiedAt = hunt.Delivered, at(300)
	}
	var unasked []*hunt.Record
	for i := range 40 {
		r := newRecord(fmt.Sprintf("other-%02d", i), i)
		r.State = hunt.Delivered
		unasked = append(unasked, r)
	}
	mustWin(t, s, "lookup-many", append(stored, unasked...)...)
	if err := s.SaveStatus(ctx(t), "lookup-many", hunt.Status{WindowEnd: at(400)}); err != nil {
		t.Fatal(err)
	}

	st := lookup(t, s, "lookup-many", asked...)
	if len(st.Records) != len(stored) {
		t.Errorf("Lookup: %d records, want %d", len(st.Records), len(stored))
	}
	for _, want := range stored {
		got := st.Records[want.Fingerprint]
		sameRecord(t, got, want)
		if got != nil && got.Version != want.Version {
			t.Errorf("%.60q: Version %q, Put gave %q", want.Fingerprint, got.Version, want.Version)
		}
	}
	if !st.WindowEnd.Equal(at(400)) {
		t.Errorf("Lookup: window %v, want %v", st.WindowEnd, at(400))
	}
}

// testPrune: only delivered records notified and last seen before the bounds go, to the
// nanosecond (the bounds fall inside a second, where stored times may differ only in their
// fractions), and only in the hunt named.
func testPrune(t *testing.T, s hunt.Store) {
	notified := time.Date(2026, 3, 14, 15, 9, 26, 600_000_000, time.UTC)
	seen := notified.Add(time.Hour)
	old := notified.Add(-24 * time.Hour).In(zone)
	second := func(t time.Time) time.Time { return t.Truncate(time.Second) }
	var recs []*hunt.Record
	pruned := map[string]bool{}
	for _, test := range []struct {
		fp               string
		state            string
		notifiedAt, last time.Time
		pruned           bool
	}{
		{"old", hunt.Delivered, old, old, true},
		{"pending", hunt.Pending, old, old, false},
		{"seen since", hunt.Delivered, old, seen.Add(time.Minute), false},
		{"notified since", hunt.Delivered, notified.Add(time.Minute), old, false},
		{"seen at the bound", hunt.Delivered, old, seen, false},
		{"notified at the bound", hunt.Delivered, notified, old, false},
		{"no time seen", hunt.Delivered, old, time.Time{}, false},
		{"never notified", hunt.Delivered, time.Time{}, old, false},
		{"notified earlier in the second", hunt.Delivered, notified.Add(-100 * time.Millisecond), old, true},
		{"notified at the second", hunt.Delivered, second(notified), old, true},
		{"notified later in the second", hunt.Delivered, notified.Add(time.Nanosecond), old, false},
		{"notified the next second", hunt.Delivered, second(notified).Add(time.Second), old, false},
		{"seen earlier in the second", hunt.Delivered, old, seen.Add(-time.Nanosecond), true},
		{"seen at the second", hunt.Delivered, old, second(seen), true},
		{"seen later in the second", hunt.Delivered, old, seen.Add(100 * time.Millisecond), false},
		{"seen the second before", hunt.Delivered, old, second(seen).Add(-time.Second), true},
	} {
		r := newRecord(test.fp, len(recs))
		r.State, r.NotifiedAt, r.LastSeen = test.state, test.notifiedAt, test.last
		recs = append(recs, r)
		pruned[test.fp] = test.pruned
	}
	mustWin(t, s, "prune", recs...)
	other := newRecord("old", 0)
	other.State, other.NotifiedAt, other.LastSeen = hunt.Delivered, old, old
	mustWin(t, s, "prune-other", other)

	for _, max := range []int{0, -1} {
		if n, err := s.Prune(ctx(t), "prune", notified, seen, max); n != 0 || err != nil {
			t.Errorf("Prune with max %d = %d, %v; want 0, nil", max, n, err)
		}
	}
	want := 0
	for _, p := range pruned {
		if p {
			want++
		}
	}
	if n, err := s.Prune(ctx(t), "prune", notified, seen, 100); n != want || err != nil {
		t.Errorf("Prune = %d, %v; want %d, nil", n, err, want)
	}
	st := load(t, s, "prune")
	for _, r := range recs {
		got, ok := st.Records[r.Fingerprint]
		switch {
		case pruned[r.Fingerprint] && ok:
			t.Errorf("%q was not pruned", r.Fingerprint)
		case !pruned[r.Fingerprint] && !ok:
			t.Errorf("%q was pruned", r.Fingerprint)
		case ok:
			sameRecord(t, got, r)
		}
	}
	if st := load(t, s, "prune-other"); st.Records["old"] == nil {
		t.Errorf("Prune of one hunt deleted another's record")
	}
	if n, err := s.Prune(ctx(t), "prune", notified, seen, 100); n != 0 || err != nil {
		t.Errorf("Prune again = %d, %v; want 0, nil", n, err)
	}
	if n, err := s.Prune(ctx(t), "never-seen", notified, seen, 100); n != 0 || err != nil {
		t.Errorf("Prune of a new hunt = %d, %v; want 0, nil", n, err)
	}
}

// testPruneMax: Prune deletes at most max records a call, across several transactions' worth.
func testPruneMax(t *testing.T, s hunt.Store) {
	now := at(10_000)
	var recs []*hunt.Record
	for i := range 250 {
		r := newRecord(fmt.Sprintf("fp-%03d", i), i)
		r.State, r.NotifiedAt = hunt.Delivered, at(i+1)
		if i%10 == 0 {
			r.LastSeen = now // seen lately: stays
		}
		recs = append(recs, r)
	}
	mustWin(t, s, "prune-max", recs...)
	for _, step := range []struct{ max, want, left int }{{150, 150, 100}, {1000, 75, 25}, {1000, 0, 25}} {
		n, err := s.Prune(ctx(t), "prune-max", now, now, step.max)
		if n != step.want || err != nil {
			t.Errorf("Prune(max %d) = %d, %v; want %d, nil", step.max, n, err, step.want)
		}
		if st := load(t, s, "prune-max"); len(st.Records) != step.left {
			t.Errorf("after Prune(max %d): %d records, want %d", step.max, len(st.Records), step.left)
		}
	}
}
