// Package memstore is a hunt.Store in memory: the store of the pipeline's own tests, of the
// benchmarks' seeding, and of `huntwatch preview`, which runs the pipeline on an empty state.
//
// It keeps the Store contract as the table store does, and passes the same conformance suite
// (storetest): Load leaves out the Finding and Entities of delivered records and marks them
// Sparse, Get returns a record whole, every write gets a new Version, Put inserts, replaces and
// removes only on the Version it is given and returns the writes that lost, a Sparse record is
// refused unless removed, Lookup reads what Load would of the fingerprints asked and the pending
// records, Prune deletes only delivered records past both times, times come back in UTC, and no
// slice is shared between the store and its callers. Like a remote store, it fails a call whose
// context has ended.
package memstore

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/huntwatch/huntwatch/handler/hunt"
)

// Store is a hunt.Store in memory. It is safe for concurrent use. The zero value is not ready:
// use New.
type Store struct {
	mu    sync.Mutex
	seq   uint64 // the last Version handed out, over all hunts
	hunts map[string]*huntState
}

type huntState struct {
	status    hunt.Status
	hasStatus bool
	records   map[string]*hunt.Record // by fingerprint; each the store's own copy
}

var _ hunt.Store = (*Store)(nil)

// New returns an empty store.
func New() *Store {
	return &Store{hunts: map[string]*huntState{}}
}

// Load returns the hunt's status and records, delivered records Sparse.
func (s *Store) Load(ctx context.Context, huntID string) (*hunt.State, error) {
	return s.read(ctx, "load", huntID, func(*hunt.Record) bool { return true })
}

// Lookup returns the hunt's status, the records of fps (delivered ones Sparse, as Load gives
// them) and, with pending, every pending record.
func (s *Store) Lookup(ctx context.Context, huntID string, fps []string, pending bool) (*hunt.State, error) {
	asked := make(map[string]bool, len(fps))
	for _, fp := range fps {
		asked[fp] = true
	}
	return s.read(ctx, "look up", huntID, func(r *hunt.Record) bool { return asked[r.Fingerprint] || pending && r.State == hunt.Pending })
}

// read returns the hunt's status and the records that keep selects, as Load returns them.
func (s *Store) read(ctx context.Context, verb, huntID string, keep func(*hunt.Record) bool) (*hunt.State, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("memstore: %s hunt %q: %w", verb, huntID, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st := &hunt.State{Records: map[string]*hunt.Record{}}
	h := s.hunts[huntID]
	if h == nil {
		return st, nil
	}
	st.Status = h.status
	for fp, r := range h.records {
		if keep(r) {
			st.Records[fp] = loaded(r)
		}
	}
	return st, nil
}

// loaded is the caller's copy of r as Load returns it: Sparse when delivered.
func loaded(r *hunt.Record) *hunt.Record {
	c := copyOf(r)
	if c.State == hunt.Delivered {
		c.Finding, c.Entities, c.Sparse = nil, nil, true
	}
	return c
}

// Get returns the record of fingerprint fp whole, or nil.
func (s *Store) Get(ctx context.Context, huntID, fp string) (*hunt.Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("memstore: get fingerprint %.80q of hunt %q: %w", fp, huntID, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if h := s.hunts[huntID]; h != nil && h.records[fp] != nil {
		return copyOf(h.records[fp]), nil
	}
	return nil, nil
}

// Put writes recs in order, each on the condition of its Version (see hunt.Store). A Sparse
// record not to be removed fails the whole call before anything is written.
func (s *Store) Put(ctx context.Context, huntID string, recs []*hunt.Record) (lost []*hunt.Record, err error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("memstore: put hunt %q: %w", huntID, err)
	}
	for _, r := range recs {
		if r.Sparse && !r.Remove {
			return nil, fmt.Errorf("memstore: refusing to write sparse record %.80q: it would lose its finding", r.Fingerprint)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.hunt(huntID)
	for _, r := range recs {
		cur := h.records[r.Fingerprint]
		if current := version(cur); r.Version != current {
			lost = append(lost, r)
			continue
		}
		if r.Remove {
			delete(h.records, r.Fingerprint)
			r.Version = ""
			continue
		}
		s.seq++
		r.Version = strconv.FormatUint(s.seq, 10)
		kept := copyOf(r)
		kept.Remove = false
		h.records[r.Fingerprint] = kept
	}
	return lost, nil
}

// Prune deletes up to max of the hunt's prunable records (see hunt.Record.Prunable). Under the
// store's lock nothing changes between reading a record and deleting it.
func (s *Store) Prune(ctx context.Context, huntID string, notifiedBefore, seenBefore time.Time, max int) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("memstore: prune hunt %q: %w", huntID, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	if h := s.hunts[huntID]; h != nil {
		for fp, r := range h.records {
			if n >= max {
				break
			}
			if r.Prunable(notifiedBefore, seenBefore) {
				delete(h.records, fp)
				n++
			}
		}
	}
	return n, nil
}

// SaveStatus records the hunt's status.
func (s *Store) SaveStatus(ctx context.Context, huntID string, st hunt.Status) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memstore: save status of hunt %q: %w", huntID, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st.WindowEnd = st.WindowEnd.UTC()
	st.Health.FailingSince = st.Health.FailingSince.UTC()
	st.SuppressedUntil = st.SuppressedUntil.UTC()
	h := s.hunt(huntID)
	h.status, h.hasStatus = st, true
	return nil
}

// Statuses returns the status of every hunt that has one.
func (s *Store) Statuses(ctx context.Context) (map[string]hunt.Status, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("memstore: list statuses: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]hunt.Status{}
	for id, h := range s.hunts {
		if h.hasStatus {
			out[id] = h.status
		}
	}
	return out, nil
}

// hunt returns the hunt's state, creating it; s.mu is held.
func (s *Store) hunt(id string) *huntState {
	h := s.hunts[id]
	if h == nil {
		h = &huntState{records: map[string]*hunt.Record{}}
		s.hunts[id] = h
	}
	return h
}

// version is the stored Version of r; "" when nothing is stored.
func version(r *hunt.Record) string {
	if r == nil {
		return ""
	}
	return r.Version
}

// copyOf returns a copy of r that shares nothing with it, times in UTC.
func copyOf(r *hunt.Record) *hunt.Record {
	c := r.Clone()
	for _, t := range []*time.Time{&c.FirstSeen, &c.LastSeen, &c.NotifiedAt, &c.ClaimedUntil, &c.SeenThrough} {
		*t = t.UTC()
	}
	if c.Finding != nil {
		c.Finding.Time = c.Finding.Time.UTC()
		for i := range c.Finding.Fields {
			c.Finding.Fields[i].List = append([]string(nil), c.Finding.Fields[i].List...)
		}
	}
	return c
}
