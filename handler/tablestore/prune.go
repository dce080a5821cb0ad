package tablestore

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/huntwatch/huntwatch/handler/hunt"
)

// Prune lists the hunt's delivered rows notified and last seen before the bounds (one filtered
// listing of their keys, ETags and those two times, stopped once it has max of them), then deletes
// them as Put removes records: in transactions of up to 100 deletes, each on the condition of
// the ETag listed, Options.Parallel transactions at once (one at a time against Azurite). A
// transaction with a delete that lost its condition is redone one delete at a time, so a row
// changed since the listing stays and the others go. The listing filters on properties other
// than the keys, which the service answers with a scan of the partition: prune once in a while
// (daily, say), not on every run.
//
// Times are stored as RFC 3339 strings (see putTime), which sort as their times only to the
// second: a fraction is written only when nonzero ("…:05Z" sorts after "…:05.5Z"). The listing
// compares to the second (see secondAfter), and the rows it returns are checked on their decoded
// times (hunt.Record.Prunable).
func (s *Store) Prune(ctx context.Context, huntID string, notifiedBefore, seenBefore time.Time, max int) (int, error) {
	if max <= 0 {
		return 0, nil
	}
	if err := s.Open(ctx); err != nil {
		return 0, err
	}
	pk := key(huntID)
	ops, err := s.prunable(ctx, pk, notifiedBefore, seenBefore, max)
	if err != nil {
		return 0, s.fail(err, "prune hunt %q", huntID)
	}
	groups := slices.Collect(slices.Chunk(ops, maxBatchOps))
	_, err = s.write(ctx, len(groups), s.parallel, func(i int) ([]op, error) { return groups[i], nil })
	n := 0
	for _, o := range ops {
		if o.rec.Version == "" { // deleted: see applyETags and runOne
			n++
		}
	}
	if err != nil {
		return n, s.fail(err, "prune hunt %q", huntID)
	}
	return n, nil
}

// prunable lists up to max of partition pk's prunable rows, as deletes on the condition of their
// ETag.
func (s *Store) prunable(ctx context.Context, pk string, notifiedBefore, seenBefore time.Time, max int) ([]op, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops the listing once it has max rows
	filter := partitionFilter(pk) + " and " + pState + " eq " + quote(hunt.Delivered) +
		" and " + pNotifiedAt + " lt " + quote(secondAfter(notifiedBefore)) +
		" and " + pLastSeen + " lt " + quote(secondAfter(seenBefore))
	var ops []op
	for page := range s.pages(ctx, filter, strings.Join([]string{"RowKey", pNotifiedAt, pLastSeen}, ",")) {
		if page.err != nil {
			return nil, page.err
		}
		for _, raw := range page.entities {
			var e entity
			if err := json.Unmarshal(raw, &e); err != nil {
				return nil, err
			}
			rec := &hunt.Record{State: hunt.Delivered, Remove: true}
			rec.NotifiedAt, _ = e.getTime(pNotifiedAt)
			rec.LastSeen, _ = e.getTime(pLastSeen)
			rec.Version, _ = e[etagProperty].(string)
			rk, _ := e["RowKey"].(string)
			if !rec.Prunable(notifiedBefore, seenBefore) || rec.Version == "" {
				continue // within the bounds' second, not before them; or unreadable
			}
			o, err := deleteOp(pk, rk, rec)
			if err != nil {
				return nil, err
			}
			if ops = append(ops, o); len(ops) == max {
				return ops, nil
			}
		}
	}
	return ops, ctx.Err()
}

// secondAfter is the first second after t's, in the stored times' format up to the seconds
// ("2006-01-02T15:04:05", fixed width for the years 1 to 9999): a stored time sorts below it
// exactly when it falls in t's second or before.
func secondAfter(t time.Time) string {
	return t.UTC().Truncate(time.Second).Add(time.Second).Format("2006-01-02T15:04:05")
}
