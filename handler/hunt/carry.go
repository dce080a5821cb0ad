package hunt

import (
	"context"
	"slices"
)

// keep remembers writes the store refused, so that the next run of this process makes them
// before it loads the state (flushCarry): a delivery Slack accepted is then recorded before a run
// could take the record, still pending, for new (once the claim lapsed), and claims this process
// could not release stop keeping the next run off their findings. Only the end of the process
// loses them: that is the documented window for a repeat.
func (r *Runner) keep(h *Hunt, recs ...*Record) {
	if len(recs) == 0 {
		return
	}
	r.carryMu.Lock()
	defer r.carryMu.Unlock()
	if r.carry == nil {
		r.carry = map[string][]*Record{}
	}
	kept := r.carry[h.ID]
	for _, rec := range recs {
		kept = slices.DeleteFunc(kept, func(k *Record) bool { return k.Fingerprint == rec.Fingerprint })
		kept = append(kept, rec)
	}
	r.carry[h.ID] = kept
	r.Log.Warn("store refused writes; keeping them for the next run", "hunt", h.ID, "records", len(recs))
}

// flushCarry makes the writes kept by earlier runs of this process: deliveries with record (which
// applies them to a newer version if the record changed meanwhile), other writes as they are (if
// another run wrote the record meanwhile, its version stands). What fails stays kept.
func (r *Runner) flushCarry(ctx context.Context, h *Hunt) error {
	r.carryMu.Lock()
	recs := r.carry[h.ID]
	delete(r.carry, h.ID)
	r.carryMu.Unlock()
	for i, rec := range recs {
		var err error
		if rec.State == Delivered {
			err = r.record(ctx, h, rec)
		} else {
			_, err = r.Store.Put(ctx, h.ID, []*Record{rec})
		}
		if err != nil {
			r.keep(h, recs[i:]...)
			return err
		}
	}
	if len(recs) > 0 {
		r.Log.Info("wrote what an earlier run could not store", "hunt", h.ID, "records", len(recs))
	}
	return nil
}
