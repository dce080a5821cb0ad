package hunt

import (
	"slices"
	"sort"
	"strings"
	"time"
)

// plan is what one run does with its findings, decided before anything is posted.
type plan struct {
	claimed []*Record // to post, in order
	writes  []*Record // to store before posting
	repeats []repeat  // notified fingerprints seen again
	digest  bool      // post the claimed records as one digest
	// more holds, for a record to post, its occurrences in this run other than the one its
	// message shows: they are told with it (as thread replies, or in the message itself).
	more map[*Record][]*Finding
	// supersede holds, for a new fingerprint whose occurrence a delivered message already told
	// under another fingerprint, that earlier record: its message is updated instead of a new
	// one posted (see Updater).
	supersede map[*Record]*Record
}

// repeat is a delivered record and its occurrences not yet told.
type repeat struct {
	rec   *Record
	fresh []*Finding
}

func (p *plan) drop(lost []*Record) {
	if len(lost) == 0 {
		return
	}
	p.claimed = slices.DeleteFunc(p.claimed, func(rec *Record) bool { return slices.Contains(lost, rec) })
}

// plan decides what each fingerprint needs: a claim, an occurrence count, a repeat, or nothing.
func (r *Runner) plan(h *Hunt, now time.Time, st *State, findings []Finding, sum *Summary) *plan {
	sort.SliceStable(findings, func(i, j int) bool { return findings[i].Time.Before(findings[j].Time) })
	var order []string
	groups := make(map[string][]*Finding)
	for i := range findings {
		f := &findings[i]
		if groups[f.Fingerprint] == nil {
			order = append(order, f.Fingerprint)
		}
		groups[f.Fingerprint] = append(groups[f.Fingerprint], f)
	}
	sum.Fingerprints = len(order)

	p := &plan{more: map[*Record][]*Finding{}}
	var fresh []*Record      // new fingerprints, which may update an earlier message (see told)
	var candidates []*Record // records that need a message, in order
	free := func(rec *Record) bool { return !rec.ClaimedUntil.After(now) }
	touched := make(map[string]bool)
	for _, fp := range order {
		group := groups[fp]
		old := st.Records[fp]
		if old == nil {
			rec := &Record{Fingerprint: fp, State: Pending, Finding: group[0]}
			countNew(h, rec, group)
			p.more[rec] = others(rec.Finding, group)
			fresh = append(fresh, rec)
			candidates = append(candidates, rec)
			sum.New++
			continue
		}
		if old.State == Pending && !free(old) {
			continue // another run holds it
		}
		rec := old.Clone()
		touched[fp] = true
		switch fresh := unseen(rec, group); {
		case rec.State == Pending:
			countNew(h, rec, group)
			if rec.Finding == nil {
				rec.Finding = group[0]
			}
			p.more[rec] = others(rec.Finding, group)
			candidates = append(candidates, rec)
			sum.Retried++
		case len(fresh) > 0 && r.TTL > 0 && now.Sub(rec.NotifiedAt) > r.TTL:
			countNew(h, rec, group)
			// Alerting again starts afresh: what Load may have left out is not needed.
			rec.State, rec.Finding, rec.Message, rec.Sparse = Pending, fresh[0], MessageRef{}, false
			p.more[rec] = fresh[1:]
			candidates = append(candidates, rec)
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
		if touched[fp] || groups[fp] != nil || old.State != Pending || !free(old) || old.Finding == nil {
			continue
		}
		candidates = append(candidates, old.Clone())
		sum.Retried++
	}

	limit := r.maxPosts()
	if r.DigestThreshold > 0 && len(candidates) > r.DigestThreshold {
		// A flood is one digest, whatever its size: every finding in its CSV, every record
		// claimed and recorded in this run.
		p.digest = true
		limit = len(candidates)
	}
	lease := r.Lease
	if lease <= 0 {
		lease = 15 * time.Minute
	}
	for i, rec := range candidates {
		if i < limit {
			rec.ClaimedUntil = now.Add(lease)
			p.claimed = append(p.claimed, rec)
		}
		if i < limit || st.Records[rec.Fingerprint] == nil {
			p.writes = append(p.writes, rec) // queued new records are stored unclaimed
		}
	}
	if _, ok := r.Notifier.(Updater); ok {
		p.supersede = told(st, fresh)
	}
	return p
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

// countNew counts the group's occurrences the record has not seen.
func countNew(h *Hunt, rec *Record, group []*Finding) {
	for _, f := range unseen(rec, group) {
		rec.count(h, f)
	}
}
