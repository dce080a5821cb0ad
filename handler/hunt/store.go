package hunt

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Source runs a query: Log Analytics in Azure, the embedded KQL engine over a logs folder locally.
// The query already declares its window (see Window.Declare); timespan is the wider range the
// source must make visible to it, as Log Analytics' timespan parameter does.
type Source interface {
	Query(ctx context.Context, query string, timespan Window) (*Result, error)
}

// Notifier tells people about findings: Slack in Azure, the terminal locally.
//
// An error wrapping ErrUnavailable means no message can get through now (bad credentials, unknown
// channel, service down): the run stops posting. Any other error concerns that message only.
type Notifier interface {
	// Notify posts one message for a new fingerprint, showing rec.Finding, and returns where it
	// went. rec already counts every occurrence the run found (its summary names them all); more
	// are the occurrences other than rec.Finding's. A notifier with threads tells those afterwards
	// as replies (the Runner calls Repeat); one without threads lists them in this message.
	Notify(ctx context.Context, h *Hunt, rec *Record, more []*Finding) (MessageRef, error)
	// Digest posts one message for many new fingerprints at once (a flood), with every finding
	// (every occurrence of each) attached, and returns where it went: later repeats of each
	// finding thread under it.
	Digest(ctx context.Context, h *Hunt, fs []*Finding) (MessageRef, error)
	// Repeat tells of new occurrences of a notified fingerprint: one thread reply each under
	// rec.Message, then the original message's summary updated from rec (which already counts
	// them). A notifier without threads (a webhook) does nothing and returns nil.
	Repeat(ctx context.Context, h *Hunt, rec *Record, fresh []*Finding) error
	// Alert posts a message about huntwatch itself: failing, recovered, or the daily heartbeat.
	Alert(ctx context.Context, h *Hunt, a Alert) error
}

// Alert kinds.
const (
	AlertFailing   = "failing"
	AlertRecovered = "recovered"
	AlertHeartbeat = "heartbeat"
)

// Alert is a message about the pipeline's own health.
type Alert struct {
	Kind   string
	Health Health
}

// ErrUnavailable marks a notifier error that no later message of the same run would escape.
var ErrUnavailable = errors.New("notifier unavailable")

// MessageRef locates a posted message, for threading and updates.
type MessageRef struct {
	Channel string `json:"channel,omitempty"`
	TS      string `json:"ts,omitempty"`
}

// Store keeps what the pipeline must remember between runs: one Record per fingerprint and the
// end of the last successful window, per hunt. Implementations: tablestore (Azure Table Storage)
// and filestore (a local JSON file); both pass tablestore's conformance suite.
type Store interface {
	// Load returns the hunt's state. A hunt never seen has a zero WindowEnd and no records.
	// To keep the usual run cheap, a store may leave out the Finding and Entities of delivered
	// records and mark them Sparse; Get returns a record whole.
	Load(ctx context.Context, hunt string) (*State, error)
	// Get returns one record whole, or nil if there is none.
	Get(ctx context.Context, hunt, fingerprint string) (*Record, error)
	// Put writes records atomically one by one: a record whose Version is empty is inserted only
	// if no record of its fingerprint exists; otherwise it replaces the stored one only if that
	// still has the same Version, and a record with Remove set is deleted on the same condition.
	// Records that lose (someone else wrote first) are returned and left unchanged; the others
	// get their new Version. A Sparse record is refused with an error: writing it would lose
	// what Load left out.
	Put(ctx context.Context, hunt string, recs []*Record) (lost []*Record, err error)
	// SaveStatus records the hunt's status: the end of its last successful window and its health.
	SaveStatus(ctx context.Context, hunt string, st Status) error
}

// State is a hunt's stored state.
type State struct {
	Status
	Records map[string]*Record // by fingerprint
}

// Status is what a hunt remembers about its runs.
type Status struct {
	WindowEnd time.Time // end of the last successful window
	Health    Health
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

// Bounds of a record's lists.
const (
	MaxRecent       = 50
	MaxEntityValues = 20
)

// seen reports whether occurrence id was already counted.
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
