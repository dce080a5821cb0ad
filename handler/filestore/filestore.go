// Package filestore keeps the hunt pipeline's memory (hunt.Store) in a local JSON file, for
// local sample mode: `handler run` without Azure settings keeps its dedup state in, for
// example, .huntwatch/state.json, so a second run does not report the same findings again.
//
// Every call reads the file and every Put or SaveStatus rewrites it whole (a temporary file,
// then a rename), under a mutex within the process and an advisory lock (flock on
// <path>.lock) across processes. A Version is a counter kept in the file. That is plenty
// for local use; it is not meant for thousands of hunts.
package filestore

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/huntwatch/huntwatch/handler/hunt"
)

const format = 1

// Store is a hunt.Store in one JSON file. It is safe for concurrent use, also by several
// processes sharing the file.
type Store struct {
	path     string
	readOnly bool // see OpenReadOnly
	mu       sync.Mutex
}

var _ hunt.Store = (*Store)(nil)

// file is the JSON document.
type file struct {
	Format int                   `json:"format"`
	Seq    uint64                `json:"seq"` // the last Version handed out
	Hunts  map[string]*huntState `json:"hunts"`
}

type huntState struct {
	WindowEnd       time.Time   `json:"windowEnd,omitzero"`
	SuppressedUntil time.Time   `json:"suppressedUntil,omitzero"`
	Health          hunt.Health `json:"health,omitzero"`
	Told            []hunt.Told `json:"told,omitempty"`
	Settled         bool        `json:"settled,omitempty"`
	Stored          int         `json:"stored,omitempty"`
	Records         []*stored   `json:"records"`
}

type stored struct {
	hunt.Record
	// FingerprintB64 holds a fingerprint that is not valid UTF-8 (JSON would alter it).
	FingerprintB64 string `json:"fingerprintB64,omitempty"`
	Rev            uint64 `json:"version"`
}

// Open returns the store kept at path, creating its directory if needed. The file itself is
// created by the first write; an existing file must be readable.
func Open(path string) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("filestore: %w", err)
	}
	s := &Store{path: path}
	if err := s.with(false, func(*file) (bool, error) { return false, nil }); err != nil {
		return nil, err
	}
	return s, nil
}

// OpenReadOnly returns the store kept at path for reading only, as a dry run needs it: it creates
// nothing (no directory, no file, no lock file), a missing file reads as a store with no hunts,
// and every write fails. It reads under the shared lock when the lock file exists; without one,
// no writer has used the file (a writer replaces it whole, by a rename, in any case).
func OpenReadOnly(path string) (*Store, error) {
	s := &Store{path: path, readOnly: true}
	if err := s.with(false, func(*file) (bool, error) { return false, nil }); err != nil {
		return nil, err
	}
	return s, nil
}

// Load returns the hunt's window end and records.
func (s *Store) Load(_ context.Context, huntID string) (*hunt.State, error) {
	return s.read(huntID, func(string, *stored) bool { return true })
}

// Lookup returns the hunt's status, the records of fps and, with pending, every pending record,
// all whole. It reads the whole file, as every call does.
func (s *Store) Lookup(_ context.Context, huntID string, fps []string, pending bool) (*hunt.State, error) {
	asked := make(map[string]bool, len(fps))
	for _, fp := range fps {
		asked[fp] = true
	}
	return s.read(huntID, func(fp string, r *stored) bool { return asked[fp] || pending && r.State == hunt.Pending })
}

// read returns the hunt's status and the records that keep selects.
func (s *Store) read(huntID string, keep func(fp string, r *stored) bool) (*hunt.State, error) {
	st := &hunt.State{Records: map[string]*hunt.Record{}}
	err := s.with(false, func(f *file) (bool, error) {
		h := f.Hunts[huntID]
		if h == nil {
			return false, nil
		}
		st.Status = h.status()
		for _, r := range h.Records {
			if fp := r.fingerprint(); keep(fp, r) {
				st.Records[fp] = r.record()
			}
		}
		return false, nil
	})
	if err != nil {
		return nil, err
	}
	return st, nil
}

// Get returns the record of fingerprint fp, or nil. The file store never loads sparse records.
func (s *Store) Get(_ context.Context, huntID, fp string) (*hunt.Record, error) {
	var rec *hunt.Record
	err := s.with(false, func(f *file) (bool, error) {
		if h := f.Hunts[huntID]; h != nil {
			for _, r := range h.Records {
				if r.fingerprint() == fp {
					rec = r.record()
				}
			}
		}
		return false, nil
	})
	return rec, err
}

// SaveStatus records the end of the hunt's last successful window, its suppression and its health.
func (s *Store) SaveStatus(_ context.Context, huntID string, st hunt.Status) error {
	return s.with(true, func(f *file) (bool, error) {
		h := f.hunt(huntID)
		h.WindowEnd, h.SuppressedUntil, h.Health, h.Told = st.WindowEnd.UTC(), st.SuppressedUntil.UTC(), st.Health, st.Told
		h.Settled, h.Stored = st.Settled, st.Stored
		return true, nil
	})
}

// Statuses returns the status of every hunt in the file.
func (s *Store) Statuses(_ context.Context) (map[string]hunt.Status, error) {
	out := map[string]hunt.Status{}
	err := s.with(false, func(f *file) (bool, error) {
		for id, h := range f.Hunts {
			out[id] = h.status()
		}
		return false, nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (h *huntState) status() hunt.Status {
	return hunt.Status{WindowEnd: h.WindowEnd.UTC(), SuppressedUntil: h.SuppressedUntil.UTC(), Health: h.Health, Told: h.Told,
		Settled: h.Settled, Stored: h.Stored}
}

// Put applies recs in order, then writes the file once: on an error nothing is written and no
// record changes.
func (s *Store) Put(_ context.Context, huntID string, recs []*hunt.Record) (lost []*hunt.Record, err error) {
	if len(recs) == 0 {
		return nil, nil
	}
	type win struct {
		rec     *hunt.Record
		version string
	}
	var wins []win
	err = s.with(true, func(f *file) (bool, error) {
		h := f.hunt(huntID)
		byFP := make(map[string]int, len(h.Records))
		for i, r := range h.Records {
			byFP[r.fingerprint()] = i
		}
		for _, rec := range recs {
			if rec.Sparse && !rec.Remove {
				return false, fmt.Errorf("filestore: refusing to write sparse record %.80q", rec.Fingerprint)
			}
			i, exists := byFP[rec.Fingerprint]
			current := ""
			if exists {
				current = version(h.Records[i].Rev)
			}
			if current != rec.Version {
				lost = append(lost, rec)
				continue
			}
			switch {
			case rec.Remove && exists:
				last := len(h.Records) - 1
				h.Records[i] = h.Records[last]
				byFP[h.Records[i].fingerprint()] = i
				h.Records = h.Records[:last]
				delete(byFP, rec.Fingerprint)
				wins = append(wins, win{rec, ""})
			case rec.Remove: // nothing stored, nothing to remove
				wins = append(wins, win{rec, ""})
			default:
				f.Seq++
				r := newStored(rec, f.Seq)
				if exists {
					h.Records[i] = r
				} else {
					byFP[rec.Fingerprint] = len(h.Records)
					h.Records = append(h.Records, r)
				}
				wins = append(wins, win{rec, version(f.Seq)})
			}
		}
		return len(wins) > 0, nil
	})
	if err != nil {
		return nil, err
	}
	for _, w := range wins {
		w.rec.Version = w.version
	}
	return lost, nil
}

// Prune deletes up to max of the hunt's prunable records (see hunt.Record.Prunable), in one
// rewrite of the file under its exclusive lock: nothing changes between reading and deleting.
func (s *Store) Prune(_ context.Context, huntID string, notifiedBefore, seenBefore time.Time, max int) (int, error) {
	n := 0
	err := s.with(true, func(f *file) (bool, error) {
		h := f.Hunts[huntID]
		if h == nil {
			return false, nil
		}
		kept := h.Records[:0]
		for _, r := range h.Records {
			if n < max && r.Prunable(notifiedBefore, seenBefore) {
				n++
				continue
			}
			kept = append(kept, r)
		}
		clear(h.Records[len(kept):])
		h.Records = kept
		return n > 0, nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

func version(rev uint64) string { return strconv.FormatUint(rev, 10) }

func newStored(rec *hunt.Record, rev uint64) *stored {
	r := &stored{Record: *rec.Clone(), Rev: rev}
	r.Version, r.Remove = "", false
	for _, t := range []*time.Time{&r.FirstSeen, &r.LastSeen, &r.NotifiedAt, &r.ClaimedUntil, &r.SeenThrough} {
		*t = t.UTC()
	}
	if !utf8.ValidString(rec.Fingerprint) {
		r.FingerprintB64 = base64.StdEncoding.EncodeToString([]byte(rec.Fingerprint))
		r.Fingerprint = ""
	}
	return r
}

func (r *stored) fingerprint() string {
	if r.FingerprintB64 != "" {
		if b, err := base64.StdEncoding.DecodeString(r.FingerprintB64); err == nil {
			return string(b)
		}
	}
	return r.Fingerprint
}

// record returns the caller's copy of r, times in UTC.
func (r *stored) record() *hunt.Record {
	rec := r.Record.Clone()
	rec.Fingerprint = r.fingerprint()
	rec.Version = version(r.Rev)
	for _, t := range []*time.Time{&rec.FirstSeen, &rec.LastSeen, &rec.NotifiedAt, &rec.ClaimedUntil, &rec.SeenThrough} {
		*t = t.UTC()
	}
	if rec.Finding != nil {
		rec.Finding.Time = rec.Finding.Time.UTC()
	}
	return rec
}

func (f *file) hunt(id string) *huntState {
	if f.Hunts == nil {
		f.Hunts = map[string]*huntState{}
	}
	h := f.Hunts[id]
	if h == nil {
		h = &huntState{}
		f.Hunts[id] = h
	}
	return h
}

// with runs fn on the file's contents under the locks, and writes them back if fn says they
// changed (write must then be true: it takes the exclusive lock).
func (s *Store) with(write bool, fn func(*file) (changed bool, err error)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if write && s.readOnly {
		return fmt.Errorf("filestore: %s is open read-only", s.path)
	}

	flags, how := os.O_RDWR|os.O_CREATE, syscall.LOCK_SH
	if write {
		how = syscall.LOCK_EX
	}
	if s.readOnly {
		flags = os.O_RDONLY
	}
	switch lock, err := os.OpenFile(s.path+".lock", flags, 0o600); {
	case s.readOnly && errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return fmt.Errorf("filestore: %w", err)
	default:
		defer lock.Close() // releases the flock
		if err := flock(lock, how); err != nil {
			return fmt.Errorf("filestore: lock %s: %w", lock.Name(), err)
		}
	}

	f := &file{Format: format}
	switch b, err := os.ReadFile(s.path); {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return fmt.Errorf("filestore: %w", err)
	default:
		if err := json.Unmarshal(b, f); err != nil {
			return fmt.Errorf("filestore: %s is damaged (delete it to start over): %w", s.path, err)
		}
		if f.Format != format {
			return fmt.Errorf("filestore: %s has format %d, want %d", s.path, f.Format, format)
		}
	}
	changed, err := fn(f)
	if err != nil || !changed {
		return err
	}
	if !write {
		return errors.New("filestore: write under a shared lock")
	}
	return s.write(f)
}

// write replaces the file atomically: a temporary file in the same directory, synced, renamed.
func (s *Store) write(f *file) error {
	b, err := json.MarshalIndent(f, "", " ")
	if err != nil {
		return fmt.Errorf("filestore: %w", err)
	}
	dir := filepath.Dir(s.path)
	tmp, err := os.CreateTemp(dir, filepath.Base(s.path)+".tmp*")
	if err != nil {
		return fmt.Errorf("filestore: %w", err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing left to remove
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("filestore: write %s: %w", tmp.Name(), err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("filestore: sync %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("filestore: %w", err)
	}
	if err := os.Rename(tmp.Name(), s.path); err != nil {
		return fmt.Errorf("filestore: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync() // make the rename durable; not all file systems support it
		d.Close()
	}
	return nil
}

func flock(f *os.File, how int) error {
	for {
		err := syscall.Flock(int(f.Fd()), how)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}
