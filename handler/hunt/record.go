package hunt

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"
)

// State is a hunt's stored state.
type State struct {
	Status
	Records map[string]*Record // by fingerprint
}

// Status is what a hunt remembers about its runs.
type Status struct {
	WindowEnd time.Time // end of the last successful window
	Health    Health
	// SuppressedUntil keeps a rule with suppression silent (not run) until then, after an alert.
	SuppressedUntil time.Time
	// Told lists the occurrences the latest messages of their own told, oldest first, at most
	// MaxTold: where a run finds the message that a late finding of one of them updates (see
	// told) without reading every record of the hunt.
	Told []Told
	// Settled is set by a run that ended with no record pending and cleared before a run writes
	// a claim: while it holds, a run does without the listing of pending records (a filtered
	// query, which the service answers by scanning the partition). A hunt's first run of a UTC
	// day lists them all the same, should overlapping runs have left it wrong.
	Settled bool
	// Stored counts the hunt's records as last known: a run that reads them all sets it, runs
	// add the records they insert and subtract those they prune. It tells a run whether looking
	// its answer's fingerprints up one by one costs less than reading every record.
	Stored int
}

// Told is one occurrence told by the message of a fingerprint, delivered At.
type Told struct {
	Occurrence  string    `json:"o"`
	Fingerprint string    `json:"f"`
	At          time.Time `json:"t"`
}

// Bounds of Status.Told: entries, the length of one (occurrence and fingerprint) worth
// remembering, and of all as JSON (a store keeps them in the status row: Azure Table Storage's
// row is 1 MB at most); an occurrence of a message older than toldFor is forgotten.
const (
	MaxTold     = 256
	maxToldSize = 512
	maxToldJSON = 64 << 10
	toldFor     = 7 * 24 * time.Hour
)

// remember adds the occurrences rec's message told, dropping the oldest entries and those past
// toldFor. It builds a new slice: the old one may be shared with the store's copy.
func (s *Status) remember(rec *Record, now time.Time) {
	out := make([]Told, 0, min(MaxTold, len(s.Told)+len(rec.Recent)))
	for _, t := range s.Told {
		if now.Sub(t.At) <= toldFor && t.Fingerprint != rec.Fingerprint {
			out = append(out, t)
		}
	}
	for _, x := range rec.Recent {
		_, id, ok := strings.Cut(x, "|")
		if !ok {
			id = x
		}
		if id != "" && len(id)+len(rec.Fingerprint) <= maxToldSize {
			out = append(out, Told{Occurrence: id, Fingerprint: rec.Fingerprint, At: rec.NotifiedAt})
		}
	}
	out = out[max(0, len(out)-MaxTold):]
	for len(out) > 0 {
		if b, err := json.Marshal(out); err == nil && len(b) <= maxToldJSON {
			break
		}
		out = out[max(1, len(out)/8):] // the oldest eighth
	}
	s.Told = out
}

// Health counts failed runs, so an outage is announced once, and the day's work, for the heartbeat.
type Health struct {
	Failures      int       `json:"failures,omitempty"`   // consecutive failed scheduled ticks (or runs)
	FailedTick    string    `json:"failedTick,omitempty"` // the tick of the last failed run (see Runner.RunTick)
	FailingSince  time.Time `json:"failingSince,omitzero"`
	LastError     string    `json:"lastError,omitempty"`
	Alerted       bool      `json:"alerted,omitempty"` // the failure message of this outage was posted
	Today         DayCounts `json:"today,omitzero"`
	LastHeartbeat string    `json:"lastHeartbeat,omitempty"` // the day (2006-01-02) of the last heartbeat
}

// DayCounts sums one UTC day's runs.
type DayCounts struct {
	Day     string `json:"day,omitempty"` // 2006-01-02
	Runs    int    `json:"runs,omitempty"`
	Failed  int    `json:"failed,omitempty"`
	Rows    int    `json:"rows,omitempty"`
	New     int    `json:"new,omitempty"`
	Repeats int    `json:"repeats,omitempty"`
	Posted  int    `json:"posted,omitempty"`
}

// Delivery states of a record.
const (
	Pending   = "pending"   // claimed or queued, not yet accepted by the notifier
	Delivered = "delivered" // the notifier accepted the message
)

// Record is what the store keeps for one fingerprint.
type Record struct {
	Fingerprint string    `json:"fingerprint"`
	State       string    `json:"state"`
	FirstSeen   time.Time `json:"firstSeen"`
	LastSeen    time.Time `json:"lastSeen"`
	Occurrences int       `json:"occurrences"`
	// Recent holds the latest occurrences counted, at most MaxRecent, each "<time>|<id>" (the time
	// in base-36 Unix nanoseconds, empty when the row had none). When older ones are dropped, SeenThrough moves up to their
	// time: an occurrence at or before it counts as seen, so a fingerprint that occurs more often
	// than MaxRecent in one window is never told twice.
	Recent      []string  `json:"recent,omitempty"`
	SeenThrough time.Time `json:"seenThrough,omitzero"`
	// Entities holds the distinct entity values seen (by entity type, such as Host or Account),
	// at most MaxEntityValues each, for the summary line of repeats.
	Entities   map[string][]string `json:"entities,omitempty"`
	NotifiedAt time.Time           `json:"notifiedAt,omitzero"`
	Message    MessageRef          `json:"message,omitzero"`
	// ClaimedUntil is the lease of the run that is posting this record; after it, a crashed
	// run's claim lapses and another run may take the record.
	ClaimedUntil time.Time `json:"claimedUntil,omitzero"`
	Attempts     int       `json:"attempts,omitempty"`
	LastError    string    `json:"lastError,omitempty"`
	// Finding is what was posted, or is to be posted while the record is pending, so a later
	// run can deliver it even when the query no longer returns its row, and so the original
	// message can be rebuilt with an updated summary when the fingerprint repeats.
	Finding *Finding `json:"finding,omitempty"`
	// Version is the store's concurrency token (an ETag); empty for a record not yet stored.
	Version string `json:"-"`
	// Remove asks Put to delete the record.
	Remove bool `json:"-"`
	// Sparse marks a record loaded without its Finding and Entities (see Store.Load).
	Sparse bool `json:"-"`
}

// Prunable tells whether Store.Prune may delete r: a delivered record notified before
// notifiedBefore and last seen before seenBefore. A record without a NotifiedAt or a LastSeen
// (its occurrences had no time) is never prunable: nothing tells that its finding has stopped,
// and pruning a finding that still occurs would tell it again as new.
func (r *Record) Prunable(notifiedBefore, seenBefore time.Time) bool {
	return r.State == Delivered &&
		!r.NotifiedAt.IsZero() && r.NotifiedAt.Before(notifiedBefore) &&
		!r.LastSeen.IsZero() && r.LastSeen.Before(seenBefore)
}

// Bounds of a record's lists.
const (
	MaxRecent       = 50
	MaxEntityValues = 20
)

// seen reports whether the record already counted f's occurrence (by its id, or by its time when
// that is at or before SeenThrough).
func (r *Record) seen(f *Finding) bool {
	if !r.SeenThrough.IsZero() && !f.Time.IsZero() && !f.Time.After(r.SeenThrough) {
		return true
	}
	for _, x := range r.Recent {
		if _, id, ok := strings.Cut(x, "|"); ok && id == f.Occurrence || !ok && x == f.Occurrence {
			return true
		}
	}
	return false
}

// recentTime reads the time of a Recent entry; zero for an entry without one.
func recentTime(x string) time.Time {
	t, _, ok := strings.Cut(x, "|")
	if !ok {
		return time.Time{}
	}
	n, err := strconv.ParseInt(t, 36, 64)
	if err != nil {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// count adds occurrence f of hunt h.
func (r *Record) count(h *Hunt, f *Finding) {
	id, t := f.Occurrence, f.Time
	for _, e := range h.Entities {
		for _, m := range e.FieldMappings {
			if v := f.Value(m.ColumnName); v != "" {
				r.addEntity(e.EntityType, v)
			}
		}
	}
	r.Occurrences++
	stamp := "" // no time: the entry is never dropped for its age before timed ones
	if !t.IsZero() {
		stamp = strconv.FormatInt(t.UnixNano(), 36)
	}
	r.Recent = append(r.Recent, stamp+"|"+id)
	if len(r.Recent) > MaxRecent {
		// Keep the newest; the dropped ones are remembered by their latest time.
		slices.SortStableFunc(r.Recent, func(a, b string) int { return recentTime(a).Compare(recentTime(b)) })
		drop := len(r.Recent) - MaxRecent
		for _, x := range r.Recent[:drop] {
			if dt := recentTime(x); dt.After(r.SeenThrough) {
				r.SeenThrough = dt
			}
		}
		r.Recent = append(r.Recent[:0], r.Recent[drop:]...)
	}
	if !t.IsZero() && (r.FirstSeen.IsZero() || t.Before(r.FirstSeen)) {
		r.FirstSeen = t
	}
	if t.After(r.LastSeen) {
		r.LastSeen = t
	}
}

func (r *Record) addEntity(typ, v string) {
	vals := r.Entities[typ]
	if len(vals) >= MaxEntityValues || slices.Contains(vals, v) {
		return
	}
	if r.Entities == nil {
		r.Entities = map[string][]string{}
	}
	r.Entities[typ] = append(vals, v)
}

// Clone returns a deep enough copy for a store to keep without aliasing the caller's slices.
func (r *Record) Clone() *Record {
	c := *r
	c.Recent = append([]string(nil), r.Recent...)
	if r.Entities != nil {
		c.Entities = make(map[string][]string, len(r.Entities))
		for k, v := range r.Entities {
			c.Entities[k] = append([]string(nil), v...)
		}
	}
	if r.Finding != nil {
		f := *r.Finding
		f.Fields = append([]Field(nil), r.Finding.Fields...)
		c.Finding = &f
	}
	return &c
}
