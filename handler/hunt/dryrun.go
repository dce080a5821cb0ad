package hunt

import "context"

// DryRun wraps a Store for a run that must change nothing (run --dry-run, preview): reads pass
// through, and every write is accepted and dropped, none lost, so the pipeline runs as it would
// and the store stays as it was.
func DryRun(s Store) Store { return dryStore{s} }

type dryStore struct{ Store }

func (dryStore) Put(context.Context, string, []*Record) ([]*Record, error) { return nil, nil }

func (dryStore) SaveStatus(context.Context, string, Status) error { return nil }
