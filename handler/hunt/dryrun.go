package hunt

import (
	"context"
	"time"
)

// DryRun wraps a Store for a run that must change nothing (run --dry-run, preview): reads (Load,
// Lookup, Get, Statuses) pass through, and every write is accepted and dropped, none lost, so the
// pipeline runs as it would and the store stays as it was. Prune deletes nothing and says so (0).
func DryRun(s Store) Store { return dryStore{s} }

type dryStore struct{ Store }

func (dryStore) Put(context.Context, string, []*Record) ([]*Record, error) { return nil, nil }

func (dryStore) SaveStatus(context.Context, string, Status) error { return nil }

func (dryStore) Prune(context.Context, string, time.Time, time.Time, int) (int, error) { return 0, nil }
