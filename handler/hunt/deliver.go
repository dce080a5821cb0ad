package hunt

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// post delivers the claimed records in order and records each result as soon as it is known.
// A record's further occurrences in this run follow its message as repeats.
func (r *Runner) post(ctx context.Context, h *Hunt, p *plan, sum *Summary) error {
	claimed := p.claimed
	var errs []error
	var release []*Record
	for i, rec := range claimed {
		if err := ctx.Err(); err != nil {
			errs = append(errs, fmt.Errorf("stopped before posting %d findings: %w", len(claimed)-i, err))
			release = append(release, claimed[i:]...)
			break
		}
		sctx, done := r.sending(ctx)
		var ref MessageRef
		var err error
		if prior := p.supersede[rec]; prior != nil {
			ref, err = r.Notifier.(Updater).Update(sctx, h, prior, rec)
			if err == nil {
				sum.Updated++
			}
		} else {
			ref, err = r.Notifier.Notify(sctx, h, rec, p.more[rec])
		}
		done()
		if err != nil {
			sum.Failed++
			r.failed(h, rec, err)
			release = append(release, rec)
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
		// The record counts the further occurrences already, and its message's summary names
		// them: if a reply fails, nothing is told twice and the summary still tells it.
		if more := p.more[rec]; len(more) > 0 && ctx.Err() == nil {
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
	errs = append(errs, r.release(ctx, h, release))
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

// postDigest delivers the claimed records, every occurrence of each, as one digest message.
func (r *Runner) postDigest(ctx context.Context, h *Hunt, p *plan, sum *Summary) error {
	claimed := p.claimed
	fs := make([]*Finding, 0, len(claimed))
	for _, rec := range claimed {
		fs = append(fs, rec.Finding)
		fs = append(fs, p.more[rec]...)
	}
	sctx, done := r.sending(ctx)
	ref, err := r.Notifier.Digest(sctx, h, fs)
	done()
	if err != nil {
		sum.Failed += len(claimed)
		for _, rec := range claimed {
			r.failed(h, rec, err)
		}
		return errors.Join(fmt.Errorf("notify digest of %d findings: %w", len(claimed), err), r.release(ctx, h, claimed))
	}
	sum.Posted += len(claimed)
	sum.Digest = len(claimed)
	at := r.Now()
	for _, rec := range claimed {
		delivered(rec, ref, at)
	}
	// The digest is out: record it even if the run is cancelled, with time for a flood of any size.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute+time.Duration(len(claimed))*10*time.Millisecond)
	defer cancel()
	lost, err := r.Store.Put(ctx, h.ID, claimed)
	if err != nil {
		r.keep(h, claimed...)
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

// tellRepeats tells new occurrences of notified fingerprints, at most budget messages in all,
// and counts an occurrence only once it was told: each occurrence is told once.
func (r *Runner) tellRepeats(ctx context.Context, h *Hunt, repeats []repeat, budget int, sum *Summary) error {
	var told []*Record
	var errs []error
	for _, rp := range repeats {
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
		fresh = fresh[:min(len(fresh), budget)]
		if len(fresh) == 0 {
			continue
		}
		for _, f := range fresh {
			rec.count(h, f)
		}
		sctx, done := r.sending(ctx)
		err := r.Notifier.Repeat(sctx, h, rec, fresh)
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
// lapse; it must happen even when ctx was cancelled.
func (r *Runner) release(ctx context.Context, h *Hunt, recs []*Record) error {
	if len(recs) == 0 {
		return nil
	}
	for _, rec := range recs {
		rec.ClaimedUntil = time.Time{}
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if _, err := r.Store.Put(rctx, h.ID, recs); err != nil {
		r.keep(h, recs...)
		return fmt.Errorf("release %d claims: %w", len(recs), err)
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
