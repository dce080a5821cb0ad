package hunt

import (
	"context"
	"time"
)

// pruneMax bounds the records one hunt's daily pruning deletes (100 transactions); a backlog
// goes over the following days.
const pruneMax = 10_000

// pruneSlack widens the horizon past the furthest window a run can query, for rows whose time lies
// before their window (a query's own baseline, late-arriving data).
const pruneSlack = 24 * time.Hour

// prune deletes, at a hunt's first successful run of a UTC day, the delivered records that can no
// longer matter (Store.Prune): notified longer than the TTL ago, so that a new occurrence would
// alert again anyway, and last seen before any window a run could query. The partition then holds
// about TTL × the rate of new fingerprints, not the hunt's whole history. What a pruned
// fingerprint loses, should it occur again, is its thread and its counts, which the TTL gives up
// already. Without a TTL (dedup forever) nothing is pruned. A failure is logged, never the run's.
// It returns how many records it deleted.
func (r *Runner) prune(ctx context.Context, h *Hunt, now time.Time, st *State) (pruned int) {
	if r.TTL <= 0 || st == nil || st.Health.Today.Day == now.Format(time.DateOnly) {
		return 0
	}
	horizon := max(r.lookback(h), r.MaxCatchup) + r.Settle + pruneSlack
	n, err := r.Store.Prune(ctx, h.ID, now.Add(-r.TTL), now.Add(-horizon), pruneMax)
	if err != nil {
		r.Log.Warn("prune failed", "hunt", h.ID, "pruned", n, "err", err)
	} else if n > 0 {
		r.Log.Info("pruned records past the TTL and every window", "hunt", h.ID, "pruned", n,
			"notifiedBefore", now.Add(-r.TTL).Format(time.RFC3339), "seenBefore", now.Add(-horizon).Format(time.RFC3339))
	}
	return n
}
