package hunt

import (
	"cmp"
	"slices"
	"sort"
	"strings"
	"time"
)

// plan is what one run does with its findings, decided before anything is posted.
//
// A flood can be 100,000 new fingerprints, so the plan does not hold a record for each: a new
// fingerprint is a cand with its findings (headers of the run's spill, see spill), and its record
// is built when it is written or posted (see record) and dropped after, unless it is about to be
// posted on its own (at most MaxPosts).
type plan struct {
	st      *State
	sp      *spill
	cands   []*cand  // fingerprints that need a message, in order
	limit   int      // the first limit cands are claimed and posted; the others wait
	claimed []*cand  // set by claim: the first limit cands, less those someone else stored first
	repeats []repeat // notified fingerprints seen again
	digest  bool     // post the claimed cands as one digest
	// supersede holds, for a new fingerprint whose occurrence a delivered message already told
	// under another fingerprint, that earlier record: its message is updated instead of a new
	// one posted (see Updater).
	supersede map[*Record]*Record
	pending   int       // records pending in the store before the run
	told      []*Record // delivered with a message of their own, in order (see Status.Told)
}

// cand is a fingerprint that needs a message: a new one, or a record taken up again.
type cand struct {
	rec   *Record    // the record: one taken up again, or a new one while it is built
	group []*Finding // a new fingerprint's findings in this run, its record built from them
	// more holds a record's occurrences in this run other than the one its message shows: they
	// are told with it (as thread replies, or in the message itself). See others.
	more       []*Finding
	version    string // the Version the record got when it was last written, to build it again
	wasPending bool   // the store had it pending before the run
	stored     string // the state the run last stored it in; "" while not stored by this run
	lost       bool   // someone else stored it first: not this run's to post
}

// inserted counts the new records the run stored.
func (p *plan) inserted() int {
	n := 0
	for _, c := range p.cands {
		if c.isNew() && c.stored != "" {
			n++
		}
	}
	return n
}

// stillPending counts the hunt's records pending after the run: those pending before that the run
// did not store, and those it stored pending.
func (p *plan) stillPending() int {
	n := p.pending
	for _, c := range p.cands {
		if c.wasPending && c.stored != "" {
			n--
		}
		if c.stored == Pending {
			n++
		}
	}
	return n
}

// isNew reports a fingerprint the store had no record of.
func (c *cand) isNew() bool { return c.group != nil }

// others returns c's occurrences in this run other than the one its message shows (for a new
// fingerprint, worked out when asked: most have none, and a flood has many).
func (c *cand) others() []*Finding {
	if c.isNew() {
		return others(c.group[0], c.group)
	}
	return c.more
}

// group returns the findings grouped by fingerprint, each group in time order and the groups in
// the order of their first finding (the fingerprint first seen first). findings is sorted by
// time; the groups are windows of one slice of pointers, with no map.
func group(findings []Finding) [][]*Finding {
	sort.SliceStable(findings, func(i, j int) bool { return findings[i].Time.Before(findings[j].Time) })
	idx := make([]int32, len(findings))
	for i := range idx {
		idx[i] = int32(i)
	}
	// Stable: within a fingerprint, time order stays.
	slices.SortStableFunc(idx, func(a, b int32) int { return strings.Compare(findings[a].Fingerprint, findings[b].Fingerprint) })
	ptrs := make([]*Finding, len(idx))
	for i, j := range idx {
		ptrs[i] = &findings[j]
	}
	type run struct {
		group []*Finding
		first int32 // where its first finding is in time order
	}
	var runs []run
	for start := 0; start < len(ptrs); {
		end := start + 1
		for end < len(ptrs) && ptrs[end].Fingerprint == ptrs[start].Fingerprint {
			end++
		}
		runs = append(runs, run{ptrs[start:end:end], idx[start]})
		start = end
	}
	slices.SortFunc(runs, func(a, b run) int { return cmp.Compare(a.first, b.first) })
	groups := make([][]*Finding, len(runs))
	for i, r := range runs {
		groups[i] = r.group
	}
	return groups
}

// repeat is a delivered record and its occurrences not yet told.
type repeat struct {
	rec   *Record
	fresh []*Finding
}

// record returns c's record, building a new fingerprint's from its findings (read back whole).
func (p *plan) record(h *Hunt, c *cand) (*Record, error) {
	if c.rec != nil {
		return c.rec, nil
	}
	first, err := p.sp.whole(c.group[0])
	if err != nil {
		return nil, err
	}
	rec := &Record{Fingerprint: first.Fingerprint, State: Pending, Finding: first, Version: c.version}
	rec.count(h, first)
	if _, err := p.count(h, rec, unseen(rec, c.group)); err != nil {
		return nil, err
	}
	return rec, nil
}

// count reads fs back whole and counts each as an occurrence of rec; it returns them whole.
func (p *plan) count(h *Hunt, rec *Record, fs []*Finding) ([]*Finding, error) {
	whole, err := p.wholes(fs)
	if err != nil {
		return nil, err
	}
	for _, f := range whole {
		rec.count(h, f)
	}
	return whole, nil
}

// wholes returns fs read back whole.
func (p *plan) wholes(fs []*Finding) ([]*Finding, error) {
	out := make([]*Finding, len(fs))
	for i, f := range fs {
		w, err := p.sp.whole(f)
		if err != nil {
			return nil, err
		}
		out[i] = w
	}
	return out, nil
}

// plan decides what each fingerprint needs: a claim, an occurrence count, a repeat, or nothing.
func (r *Runner) plan(h *Hunt, now time.Time, st *State, findings []Finding, sp *spill, sum *Summary) (*plan, error) {
	groups := group(findings)
	sum.Fingerprints = len(groups)

	p := &plan{st: st, sp: sp}
	free := func(rec *Record) bool { return !rec.ClaimedUntil.After(now) }
	touched := make(map[string]bool) // the stored records the answer has
	for _, group := range groups {
		fp := group[0].Fingerprint
		old := st.Records[fp]
		if old == nil {
			p.cands = append(p.cands, &cand{group: group})
			sum.New++
			continue
		}
		touched[fp] = true
		if old.State == Pending && !free(old) {
			continue // another run holds it
		}
		rec := old.Clone()
		switch fresh := unseen(rec, group); {
		case rec.State == Pending:
			if _, err := p.count(h, rec, fresh); err != nil {
				return nil, err
			}
			if rec.Finding == nil {
				var err error
				if rec.Finding, err = sp.whole(group[0]); err != nil {
					return nil, err
				}
			}
			p.cands = append(p.cands, &cand{rec: rec, more: others(rec.Finding, group), wasPending: true})
			sum.Retried++
		case len(fresh) > 0 && r.TTL > 0 && now.Sub(rec.NotifiedAt) > r.TTL:
			whole, err := p.count(h, rec, fresh)
			if err != nil {
				return nil, err
			}
			// Alerting again starts afresh: what Load may have left out is not needed.
			rec.State, rec.Finding, rec.Message, rec.Sparse = Pending, whole[0], MessageRef{}, false
			p.cands = append(p.cands, &cand{rec: rec, more: fresh[1:]})
			sum.New++
		case len(fresh) > 0:
			p.repeats = append(p.repeats, repeat{rec: rec, fresh: fresh})
			sum.Known++
		default:
			sum.Known++
		}
	}
	// Pending records the query no longer returns still get delivered.
	for _, fp := range sortedKeys(st.Records) {
		old := st.Records[fp]
		if old.State == Pending {
			p.pending++
		}
		if touched[fp] || old.State != Pending || !free(old) || old.Finding == nil {
			continue
		}
		p.cands = append(p.cands, &cand{rec: old.Clone(), wasPending: true})
		sum.Retried++
	}

	p.limit = min(r.maxPosts(), len(p.cands))
	if r.DigestThreshold > 0 && len(p.cands) > r.DigestThreshold {
		// A flood is one digest, whatever its size: every finding in its CSV, every record
		// claimed and recorded in this run.
		p.digest = true
		p.limit = len(p.cands)
	}
	return p, nil
}

// unseen returns the group's findings whose occurrences rec has not counted, one per occurrence.
func unseen(rec *Record, group []*Finding) []*Finding {
	var fresh []*Finding
	for _, f := range group {
		if !rec.seen(f) && !slices.ContainsFunc(fresh, func(x *Finding) bool { return x.Occurrence == f.Occurrence }) {
			fresh = append(fresh, f)
		}
	}
	return fresh
}

// told finds, for each new record, a delivered record with a message of its own (not a digest)
// that counted the new record's occurrence under another fingerprint: the same event, seen more
// fully now. Of several, the one notified last. It scans the records once, looking up only the
// new records' occurrences.
func told(st *State, fresh []*Record) map[*Record]*Record {
	wanted := make(map[string]*Record, len(fresh)) // by occurrence
	for _, rec := range fresh {
		if occ := rec.Finding.Occurrence; occ != "" {
			wanted[occ] = rec
		}
	}
	found := map[*Record]*Record{}
	if len(wanted) == 0 {
		return found
	}
	for _, rec := range st.Records {
		if rec.State != Delivered || rec.Message.ID == "" || rec.Message.Kind != KindMessage {
			continue
		}
		for _, x := range rec.Recent {
			_, id, ok := strings.Cut(x, "|")
			if !ok {
				id = x
			}
			if n := wanted[id]; n != nil && (found[n] == nil || rec.NotifiedAt.After(found[n].NotifiedAt)) {
				found[n] = rec
			}
		}
	}
	return found
}

// others returns the group's occurrences other than shown's, one finding per occurrence.
func others(shown *Finding, group []*Finding) []*Finding {
	var out []*Finding
	for _, f := range group {
		if f.Occurrence != shown.Occurrence && !slices.ContainsFunc(out, func(x *Finding) bool { return x.Occurrence == f.Occurrence }) {
			out = append(out, f)
		}
	}
	return out
}
