package hunt

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"time"
)

// claimChunk is how many records a run builds and writes at a time: a flood's records are never
// all in memory at once.
const claimChunk = 800

// claim stores the plan's records before anything is posted: the first limit cands claimed for
// this run (so of two overlapping runs only one posts them), new fingerprints past the limit
// queued, unclaimed, for later runs. A cand someone else wrote first is dropped.
func (r *Runner) claim(ctx context.Context, h *Hunt, p *plan, now time.Time) error {
	lease := r.Lease
	if lease <= 0 {
		lease = 15 * time.Minute
	}
	lost := func(c *cand, _ *Record) { c.lost = true }
	claim := func(rec *Record) { rec.ClaimedUntil = now.Add(lease) }
	if _, err := r.store(ctx, h, p, p.cands[:p.limit], claim, !p.digest, lost); err != nil {
		return fmt.Errorf("claim findings of hunt %s: %w", h.ID, err)
	}
	for _, c := range p.cands[:p.limit] {
		if !c.lost {
			p.claimed = append(p.claimed, c)
		}
	}
	var queued []*cand
	for _, c := range p.cands[p.limit:] {
		if c.isNew() {
			queued = append(queued, c)
		}
	}
	if _, err := r.store(ctx, h, p, queued, func(*Record) {}, false, lost); err != nil {
		return fmt.Errorf("queue findings of hunt %s: %w", h.ID, err)
	}
	if _, ok := r.Notifier.(Updater); ok && !p.digest {
		var fresh []*Record
		for _, c := range p.claimed {
			if c.isNew() {
				fresh = append(fresh, c.rec)
			}
		}
		p.supersede = told(p.st, fresh)
	}
	return nil
}

// store writes the records of cs, each built as needed (plan.record) and changed by change,
// claimChunk at a time. Each cand keeps the Version and state its record got; a record that lost
// (someone else wrote it first) goes to lost. A new fingerprint's record is dropped after its
// chunk unless keepBuilt. When the store fails, store returns the error and the records it did
// not write, built.
func (r *Runner) store(ctx context.Context, h *Hunt, p *plan, cs []*cand, change func(*Record), keepBuilt bool, lost func(*cand, *Record)) ([]*Record, error) {
	chunk := make([]*Record, 0, min(len(cs), claimChunk))
	owners := make([]*cand, 0, cap(chunk))
	flush := func() error {
		if len(chunk) == 0 {
			return nil
		}
		losers, err := r.Store.Put(ctx, h.ID, chunk)
		if err != nil {
			return err
		}
		for i, rec := range chunk {
			c := owners[i]
			if slices.Contains(losers, rec) {
				lost(c, rec)
				continue
			}
			c.version, c.stored, c.rec = rec.Version, rec.State, rec
			if c.isNew() && !keepBuilt {
				c.rec = nil
			}
		}
		chunk, owners = chunk[:0], owners[:0]
		return nil
	}
	for i, c := range cs {
		rec, err := p.record(h, c)
		if err == nil {
			change(rec)
			chunk, owners = append(chunk, rec), append(owners, c)
			if len(chunk) < claimChunk && i < len(cs)-1 {
				continue
			}
			if err = flush(); err == nil {
				continue
			}
		}
		// What is not written: this chunk and the cands after it.
		rest := chunk
		for _, c := range cs[i+1:] {
			if rec, berr := p.record(h, c); berr == nil {
				change(rec)
				rest = append(rest, rec)
			}
		}
		return rest, err
	}
	return nil, nil
}

// post delivers the claimed records in order and records each result as soon as it is known.
// A record's further occurrences in this run follow its message as repeats.
func (r *Runner) post(ctx context.Context, h *Hunt, p *plan, sum *Summary) error {
	claimed := p.claimed
	var errs []error
	var release []*cand
	for i, c := range claimed {
		rec := c.rec
		if err := ctx.Err(); err != nil {
			errs = append(errs, fmt.Errorf("stopped before posting %d findings: %w", len(claimed)-i, err))
			release = append(release, claimed[i:]...)
			break
		}
		more, err := p.wholes(c.others())
		if err != nil {
			errs = append(errs, err)
			release = append(release, claimed[i:]...)
			break
		}
		sctx, done := r.sending(ctx)
		var ref MessageRef
		if prior := p.supersede[rec]; prior != nil {
			ref, err = r.Notifier.(Updater).Update(sctx, h, prior, rec)
			if err == nil {
				sum.Updated++
			}
		} else {
			ref, err = r.Notifier.Notify(sctx, h, rec, more)
		}
		done()
		if err != nil {
			sum.Failed++
			r.failed(h, rec, err)
			release = append(release, c)
			errs = append(errs, fmt.Errorf("notify fingerprint %s: %w", rec.Fingerprint, err))
			if errors.Is(err, ErrUnavailable) {
				release = append(release, claimed[i+1:]...)
				break
			}
			continue
		}
		sum.Posted++
		delivered(rec, ref, r.Now())
		if err := r.record(context.WithoutCancel(ctx), h, rec); err != nil {
			errs = append(errs, err)
			r.keep(h, rec)
			// The store takes no writes: every further post would widen the window for repeats.
			release = append(release, claimed[i+1:]...)
			break
		}
		c.stored = Delivered
		if ref.Kind == KindMessage {
			p.told = append(p.told, rec)
		}
		// The record counts the further occurrences already, and its message's summary names
		// them: if a reply fails, nothing is told twice and the summary still tells it.
		if len(more) > 0 && ctx.Err() == nil {
			sctx, done := r.sending(ctx)
			err := r.Notifier.Repeat(sctx, h, rec, more)
			done()
			if err != nil {
				errs = append(errs, fmt.Errorf("tell further occurrences of fingerprint %s: %w", rec.Fingerprint, err))
				if errors.Is(err, ErrUnavailable) {
					release = append(release, claimed[i+1:]...)
					break
				}
				continue
			}
			sum.Repeats += len(more)
		}
	}
	errs = append(errs, r.release(ctx, h, p, release, nil, 30*time.Second))
	return errors.Join(errs...)
}

// sending returns the context of a notifier call that has begun. Cancelling ctx stops new posts,
// not one in flight, which Slack may already have accepted: that call gets Grace more to finish,
// so that its delivery is recorded instead of posted again by the next run.
func (r *Runner) sending(ctx context.Context) (context.Context, context.CancelFunc) {
	grace := r.Grace
	if grace <= 0 {
		grace = 10 * time.Second
	}
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, func() { time.AfterFunc(grace, cancel) })
	return sctx, func() { stop(); cancel() }
}

// postDigest delivers the claimed records, every occurrence of each, as one digest message. The
// records are built again (plan.record) to be recorded, claimChunk at a time.
func (r *Runner) postDigest(ctx context.Context, h *Hunt, p *plan, sum *Summary) error {
	claimed := p.claimed
	fs := &digestSeq{p: p, cands: claimed}
	sctx, done := r.sending(ctx)
	ref, err := r.Notifier.Digest(sctx, h, fs)
	done()
	if err == nil {
		err = fs.Err() // a digest without some of its findings is not their delivery
	}
	if err != nil {
		sum.Failed += len(claimed)
		r.Log.Warn("notify failed", "hunt", h.ID, "digestOf", len(claimed), "err", err)
		why := r.redact(err.Error())
		failed := func(rec *Record) { rec.Attempts, rec.LastError = rec.Attempts+1, why }
		return errors.Join(fmt.Errorf("notify digest of %d findings: %w", len(claimed), err),
			r.release(ctx, h, p, claimed, failed, floodTime(len(claimed))))
	}
	sum.Posted += len(claimed)
	sum.Digest = len(claimed)
	at := r.Now()
	// The digest is out: record it even if the run is cancelled, with time for a flood of any size.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), floodTime(len(claimed)))
	defer cancel()
	var lost []*Record
	rest, err := r.store(ctx, h, p, claimed, func(rec *Record) { delivered(rec, ref, at) }, false,
		func(_ *cand, rec *Record) { lost = append(lost, rec) })
	if err != nil {
		r.keep(h, rest...)
		return fmt.Errorf("record digest delivery (posted as %s): %w", ref.ID, err)
	}
	var errs []error
	for _, rec := range lost {
		if err := r.record(ctx, h, rec); err != nil {
			r.keep(h, rec)
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// floodTime is how long the writes of n records of a digest may take, whatever the run's context.
func floodTime(n int) time.Duration { return time.Minute + time.Duration(n)*10*time.Millisecond }

// digestSeq is the findings of a digest's cands, read back whole from the run's spill as they
// are yielded: each cand's shown finding, then its further occurrences.
type digestSeq struct {
	p     *plan
	cands []*cand
	n     int
	err   error
}

func (d *digestSeq) Len() int {
	if d.n == 0 {
		for _, c := range d.cands {
			d.n += 1 + len(c.others())
		}
	}
	return d.n
}

func (d *digestSeq) All() iter.Seq[*Finding] {
	return func(yield func(*Finding) bool) {
		for _, c := range d.cands {
			var shown *Finding
			if c.rec != nil {
				shown = c.rec.Finding
			} else {
				shown = c.group[0]
			}
			for _, f := range append([]*Finding{shown}, c.others()...) {
				w, err := d.p.sp.whole(f)
				if err != nil {
					d.err = err
					return
				}
				if !yield(w) {
					return
				}
			}
		}
	}
}

func (d *digestSeq) Err() error { return d.err }

// tellRepeats tells new occurrences of notified fingerprints, at most budget messages in all,
// and counts an occurrence only once it was told: each occurrence is told once.
func (r *Runner) tellRepeats(ctx context.Context, h *Hunt, p *plan, budget int, sum *Summary) error {
	var told []*Record
	var errs []error
	for _, rp := range p.repeats {
		if budget <= 0 || ctx.Err() != nil {
			break
		}
		rec := rp.rec
		if rec.Sparse {
			// The summary needs what Load left out, and writing a sparse record would lose it.
			full, err := r.Store.Get(ctx, h.ID, rec.Fingerprint)
			if err != nil {
				errs = append(errs, fmt.Errorf("read fingerprint %s for its repeat: %w", rec.Fingerprint, err))
				continue
			}
			if full == nil || full.Sparse {
				continue // removed meanwhile
			}
			rec = full
		}
		fresh := slices.DeleteFunc(slices.Clone(rp.fresh), rec.seen)
		fresh, err := p.count(h, rec, fresh[:min(len(fresh), budget)])
		if err != nil {
			errs = append(errs, err)
			break
		}
		if len(fresh) == 0 {
			continue
		}
		sctx, done := r.sending(ctx)
		err = r.Notifier.Repeat(sctx, h, rec, fresh)
		done()
		if err != nil {
			errs = append(errs, fmt.Errorf("tell repeat of fingerprint %s: %w", rec.Fingerprint, err))
			if errors.Is(err, ErrUnavailable) {
				break
			}
			continue
		}
		budget -= len(fresh)
		sum.Repeats += len(fresh)
		told = append(told, rec)
	}
	if len(told) > 0 {
		// A lost record was changed by another run meanwhile; its occurrences are told again at
		// worst, never lost.
		if _, err := r.Store.Put(context.WithoutCancel(ctx), h.ID, told); err != nil {
			r.keep(h, told...)
			errs = append(errs, fmt.Errorf("record repeats of hunt %s: %w", h.ID, err))
		}
	}
	return errors.Join(errs...)
}

func delivered(rec *Record, ref MessageRef, at time.Time) {
	rec.State, rec.Message, rec.NotifiedAt = Delivered, ref, at.UTC()
	rec.ClaimedUntil, rec.LastError = time.Time{}, ""
	rec.Attempts++
}

func (r *Runner) failed(h *Hunt, rec *Record, err error) {
	rec.Attempts++
	rec.LastError = r.redact(err.Error())
	r.Log.Warn("notify failed", "hunt", h.ID, "fingerprint", rec.Fingerprint, "attempts", rec.Attempts, "err", err)
}

// release gives claims back so the next run retries at once instead of waiting for the lease to
// lapse; it must happen even when ctx was cancelled, within limit. mark, when set, changes each
// record too (the failure a digest's records keep).
func (r *Runner) release(ctx context.Context, h *Hunt, p *plan, cs []*cand, mark func(*Record), limit time.Duration) error {
	if len(cs) == 0 {
		return nil
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), limit)
	defer cancel()
	rest, err := r.store(rctx, h, p, cs, func(rec *Record) {
		if mark != nil {
			mark(rec)
		}
		rec.ClaimedUntil = time.Time{}
	}, false, func(*cand, *Record) {})
	if err != nil {
		r.keep(h, rest...)
		return fmt.Errorf("release %d claims: %w", len(rest), err)
	}
	return nil
}

// record stores a delivered record. If someone changed it meanwhile (only possible once our lease
// lapsed), it reloads and applies the delivery to the current version, so the message is never
// posted again.
func (r *Runner) record(ctx context.Context, h *Hunt, rec *Record) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for attempt := 0; attempt < 3; attempt++ {
		lost, err := r.Store.Put(ctx, h.ID, []*Record{rec})
		if err != nil {
			return fmt.Errorf("record delivery of fingerprint %s (posted as %s): %w", rec.Fingerprint, rec.Message.ID, err)
		}
		if len(lost) == 0 {
			return nil
		}
		cur, err := r.Store.Get(ctx, h.ID, rec.Fingerprint)
		if err != nil {
			return fmt.Errorf("reload fingerprint %s after a conflict: %w", rec.Fingerprint, err)
		}
		if cur == nil {
			rec.Version = ""
			continue
		}
		if cur.State == Delivered {
			return nil // another run delivered it too; nothing more to record
		}
		merged := cur.Clone()
		merged.Finding, merged.Entities, merged.Sparse = rec.Finding, rec.Entities, false
		delivered(merged, rec.Message, rec.NotifiedAt)
		*rec = *merged
	}
	return fmt.Errorf("record delivery of fingerprint %s: still conflicting after 3 attempts", rec.Fingerprint)
}
