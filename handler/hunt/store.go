package hunt

import (
	"context"
	"errors"
	"time"
)

// Source runs a query: Log Analytics in Azure, the embedded KQL engine over a logs folder locally.
// The query already declares its window (see Window.Declare); timespan is the wider range the
// source must make visible to it, as Log Analytics' timespan parameter does.
type Source interface {
	Query(ctx context.Context, query string, timespan Window) (*Result, error)
}

// Notifier tells people about a finding: Slack in Azure, the terminal locally.
type Notifier interface {
	// Notify posts one message for a new fingerprint and returns where it went.
	// An error wrapping ErrUnavailable means no message can get through now (bad credentials,
	// unknown channel, service down): the run stops posting. Any other error concerns this
	// message only.
	Notify(ctx context.Context, h *Hunt, f *Finding) (MessageRef, error)
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
	Load(ctx context.Context, hunt string) (*State, error)
	// Put writes records atomically one by one: a record whose Version is empty is inserted only
	// if no record of its fingerprint exists; otherwise it replaces the stored one only if that
	// still has the same Version, and a record with Remove set is deleted on the same condition.
	// Records that lose (someone else wrote first) are returned and left unchanged; the others
	// get their new Version.
	Put(ctx context.Context, hunt string, recs []*Record) (lost []*Record, err error)
	// SaveWindow records the end of the hunt's last successful window.
	SaveWindow(ctx context.Context, hunt string, end time.Time) error
}

// State is a hunt's stored state.
type State struct {
	WindowEnd time.Time
	Records   map[string]*Record // by fingerprint
}

// Delivery states of a record.
const (
	Pending   = "pending"   // claimed or queued, not yet accepted by the notifier
	Delivered = "delivered" // the notifier accepted the message
)

// Record is what the store keeps for one fingerprint.
type Record struct {
	Fingerprint string     `json:"fingerprint"`
	State       string     `json:"state"`
	FirstSeen   time.Time  `json:"firstSeen"`
	LastSeen    time.Time  `json:"lastSeen"`
	Occurrences int        `json:"occurrences"`
	Recent      []string   `json:"recent,omitempty"` // latest occurrence ids, newest last, at most MaxRecent
	NotifiedAt  time.Time  `json:"notifiedAt,omitzero"`
	Message     MessageRef `json:"message,omitzero"`
	// ClaimedUntil is the lease of the run that is posting this record; after it, a crashed
	// run's claim lapses and another run may take the record.
	ClaimedUntil time.Time `json:"claimedUntil,omitzero"`
	Attempts     int       `json:"attempts,omitempty"`
	LastError    string    `json:"lastError,omitempty"`
	// Finding is what to post, kept while the record is pending so a later run can deliver it
	// even when the query no longer returns its row.
	Finding *Finding `json:"finding,omitempty"`
	// Version is the store's concurrency token (an ETag); empty for a record not yet stored.
	Version string `json:"-"`
	// Remove asks Put to delete the record.
	Remove bool `json:"-"`
}

// MaxRecent bounds Record.Recent.
const MaxRecent = 50

// seen reports whether occurrence id was already counted.
func (r *Record) seen(id string) bool {
	for _, x := range r.Recent {
		if x == id {
			return true
		}
	}
	return false
}

// count adds an occurrence at time t.
func (r *Record) count(id string, t time.Time) {
	r.Occurrences++
	r.Recent = append(r.Recent, id)
	if len(r.Recent) > MaxRecent {
		r.Recent = append(r.Recent[:0], r.Recent[len(r.Recent)-MaxRecent:]...)
	}
	if !t.IsZero() && (r.FirstSeen.IsZero() || t.Before(r.FirstSeen)) {
		r.FirstSeen = t
	}
	if t.After(r.LastSeen) {
		r.LastSeen = t
	}
}

// Clone returns a deep enough copy for a store to keep without aliasing the caller's slices.
func (r *Record) Clone() *Record {
	c := *r
	c.Recent = append([]string(nil), r.Recent...)
	if r.Finding != nil {
		f := *r.Finding
		f.Fields = append([]Field(nil), r.Finding.Fields...)
		c.Finding = &f
	}
	return &c
}
