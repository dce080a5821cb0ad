package hunt

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"sync"
	"time"
)

// Runner runs hunts: window -> query -> findings -> claim -> notify -> record.
//
// Delivery is at least once, and exactly once in normal operation: a new fingerprint is first
// claimed in the store with a conditional insert (so of two overlapping runs only one posts it),
// then posted, then marked delivered right after the notifier accepted it. A failed post leaves
// the record pending with its finding, and a later run delivers it even if the query no longer
// returns the row. The one window for a repeat is a crash between the notifier accepting a message
// and the store recording it. When the store refuses that record (an outage), the run stops
// posting and the process keeps the record, with any claims it could not release, and writes them
// before anything else in its next run (see keep): the window then lasts until that run.
//
// A run with more new fingerprints than DigestThreshold posts one digest instead of a flood. New
// occurrences of notified fingerprints become thread replies (Notifier.Repeat). After AlertAfter
// failed runs in a row the Runner posts one failure alert, and one recovery alert when a run
// succeeds again.
type Runner struct {
	Log      *slog.Logger
	Source   Source
	Store    Store
	Notifier Notifier
	Now      func() time.Time

	Lookback   time.Duration // each run queries at least this far back
	MaxCatchup time.Duration // and never further back than this
	// Settle holds the window's end this far behind now, so that what happened just before a
	// run is reported by a later run, once every table has caught up (AzureActivity and Defender
	// rows arrive minutes late): a Run Command seen before its script's events would otherwise
	// be reported twice, once without and once with its commands. Rows up to now stay visible
	// to the query (its timespan ends at now).
	Settle          time.Duration
	TTL             time.Duration       // a fingerprint notified longer ago than this alerts again; 0: never
	Lease           time.Duration       // how long a claim keeps other runs off a record; default 15m
	MaxPosts        int                 // messages per run; the rest wait in the store for the next run; default 50
	DigestThreshold int                 // more new fingerprints than this in one run make a digest; 0: never
	MaxDigest       int                 // findings in one digest; default 5,000
	AlertAfter      int                 // consecutive failed runs before the failure alert; 0: never alert
	Heartbeat       bool                // post a daily heartbeat with the day's counts
	HeartbeatHour   int                 // at the first successful run at or after this UTC hour
	Redact          func(string) string // cleans error text kept in the store or posted in alerts
	// Grace is how long a message already being sent may finish once the run is cancelled
	// (Ctrl-C, SIGTERM): cancelling stops new posts, and the one in flight is recorded. Default 10s.
	Grace  time.Duration
	DryRun bool // query and notify, but write nothing to the store

	mu     sync.Mutex
	health *Health // last health this process knew, for runs that cannot reach the store

	carryMu sync.Mutex
	carry   map[string][]*Record // by hunt id: writes the store refused, made first by the next run
}

// Summary describes one run.
type Summary struct {
	Hunt         string
	Window       Window
	Rows         int // result rows
	Fingerprints int // distinct fingerprints in the result
	New          int // fingerprints never notified (or past the TTL)
	Known        int // fingerprints already notified
	Repeats      int // new occurrences of notified fingerprints, told in threads
	Retried      int // pending records taken up again
	Posted       int // findings delivered (one message each, or in a digest)
	Digest       int // findings delivered in a digest
	Failed       int
	Pending      int // records left pending for a later run
	Duration     time.Duration
	// Interrupted is set when the run was cancelled (Ctrl-C, SIGTERM, the host going away):
	// it did not fail, and it does not count towards the failure alert.
	Interrupted bool

	tick string // the schedule's tick the run belongs to, if known
}

// LogValue makes a Summary one structured log record.
func (s Summary) LogValue() slog.Value {
	window := "none"
	if !s.Window.End.IsZero() {
		window = s.Window.String()
	}
	return slog.GroupValue(
		slog.String("hunt", s.Hunt),
		slog.String("window", window),
		slog.Int("rows", s.Rows),
		slog.Int("fingerprints", s.Fingerprints),
		slog.Int("new", s.New),
		slog.Int("known", s.Known),
		slog.Int("repeats", s.Repeats),
		slog.Int("retried", s.Retried),
		slog.Int("posted", s.Posted),
		slog.Int("digest", s.Digest),
		slog.Int("failed", s.Failed),
		slog.Int("pending", s.Pending),
		slog.Duration("duration", s.Duration),
	)
}

func (s Summary) String() string {
	if s.Window.End.IsZero() {
		// The run failed before it had a window (its state could not be read).
		return fmt.Sprintf("hunt %q: no window (%s)", s.Hunt, s.Duration.Round(time.Millisecond))
	}
	return fmt.Sprintf("hunt %q window %s: %d rows, %d fingerprints (%d new, %d already notified), %d repeats, %d retried, %d posted (%d in a digest), %d failed, %d pending (%s)",
		s.Hunt, s.Window, s.Rows, s.Fingerprints, s.New, s.Known, s.Repeats, s.Retried, s.Posted, s.Digest, s.Failed, s.Pending, s.Duration.Round(time.Millisecond))
}

// Run runs hunt h once. It returns an error when anything kept the run from completing: then the
// window does not advance, and whatever is pending is left for the next run.
func (r *Runner) Run(ctx context.Context, h *Hunt) (Summary, error) {
	return r.RunTick(ctx, h, "")
}

// RunTick is Run for one tick of a schedule: tick names the tick (see azfunc.Timer.Tick), so that
// the host's retries of a failed tick count as one failure for the failure alert, not one each.
// An empty tick is a tick of its own.
func (r *Runner) RunTick(ctx context.Context, h *Hunt, tick string) (sum Summary, err error) {
	now, started := r.Now().UTC(), time.Now()
	sum = Summary{Hunt: h.Name, tick: tick}
	defer func() { sum.Duration = time.Since(started) }()

	if err := r.flushCarry(ctx, h); err != nil {
		err = fmt.Errorf("write what an earlier run could not store: %w", err)
		r.finish(ctx, h, now, nil, &sum, err)
		return sum, err
	}
	st, err := r.Store.Load(ctx, h.ID)
	if err != nil {
		err = fmt.Errorf("load state of hunt %s: %w", h.ID, err)
		r.finish(ctx, h, now, nil, &sum, err)
		return sum, err
	}
	w := NextWindow(now.Add(-r.Settle), st.WindowEnd, r.Lookback, r.MaxCatchup)
	sum.Window = w
	err = r.hunt(ctx, h, now, st, w, &sum)
	return sum, r.finish(ctx, h, now, st, &sum, err)
}

// hunt does the work of a run whose state loaded.
func (r *Runner) hunt(ctx context.Context, h *Hunt, now time.Time, st *State, w Window, sum *Summary) error {
	res, err := r.Source.Query(ctx, w.Declare(h.Query), Window{Start: w.Start.Add(-ClockSkew), End: now})
	if err != nil {
		return fmt.Errorf("query hunt %s over %s: %w", h.Name, w, err)
	}
	sum.Rows = len(res.Rows)
	findings, err := Findings(h, res)
	if err != nil {
		return err
	}

	p := r.plan(h, now, st, findings, sum)
	final := make(map[string]*Record, len(st.Records)+len(p.writes))
	for fp, rec := range st.Records {
		final[fp] = rec
	}
	if !r.DryRun && len(p.writes) > 0 {
		lost, err := r.Store.Put(ctx, h.ID, p.writes)
		if err != nil {
			return fmt.Errorf("claim findings of hunt %s: %w", h.ID, err)
		}
		p.drop(lost)
		for _, rec := range p.writes {
			if !slices.Contains(lost, rec) {
				final[rec.Fingerprint] = rec
			}
		}
	}
	var errs []error
	if p.digest {
		errs = append(errs, r.postDigest(ctx, h, p, sum))
	} else {
		errs = append(errs, r.post(ctx, h, p, sum))
	}
	errs = append(errs, r.tellRepeats(ctx, h, p.repeats, r.maxPosts()-sum.Posted-sum.Failed, sum))
	for _, rec := range final {
		if rec.State == Pending {
			sum.Pending++
		}
	}
	if res.Partial != nil {
		errs = append(errs, fmt.Errorf("query hunt %s over %s returned a partial result: %w", h.Name, w, res.Partial))
	}
	return errors.Join(errs...)
}

type plan struct {
	claimed []*Record // to post, in order
	writes  []*Record // to store before posting
	repeats []repeat  // notified fingerprints seen again
	digest  bool      // post the claimed records as one digest
	// more holds, for a record to post, its occurrences in this run other than the one its
	// message shows: they are told with it (as thread replies, or in the message itself).
	more map[*Record][]*Finding
}

// repeat is a delivered record and its occurrences not yet told.
type repeat struct {
	rec   *Record
	fresh []*Finding
}

func (p *plan) drop(lost []*Record) {
	if len(lost) == 0 {
		return
	}
	p.claimed = slices.DeleteFunc(p.claimed, func(rec *Record) bool { return slices.Contains(lost, rec) })
}

func (r *Runner) maxPosts() int {
	if r.MaxPosts <= 0 {
		return 50
	}
	return r.MaxPosts
}

// plan decides what each fingerprint needs: a claim, an occurrence count, a repeat, or nothing.
func (r *Runner) plan(h *Hunt, now time.Time, st *State, findings []Finding, sum *Summary) *plan {
	sort.SliceStable(findings, func(i, j int) bool { return findings[i].Time.Before(findings[j].Time) })
	var order []string
	groups := make(map[string][]*Finding)
	for i := range findings {
		f := &findings[i]
		if groups[f.Fingerprint] == nil {
			order = append(order, f.Fingerprint)
		}
		groups[f.Fingerprint] = append(groups[f.Fingerprint], f)
	}
	sum.Fingerprints = len(order)

	p := &plan{more: map[*Record][]*Finding{}}
	var candidates []*Record // records that need a message, in order
	free := func(rec *Record) bool { return !rec.ClaimedUntil.After(now) }
	touched := make(map[string]bool)
	for _, fp := range order {
		group := groups[fp]
		old := st.Records[fp]
		if old == nil {
			rec := &Record{Fingerprint: fp, State: Pending, Finding: group[0]}
			countNew(h, rec, group)
			p.more[rec] = others(rec.Finding, group)
			candidates = append(candidates, rec)
			sum.New++
			continue
		}
		if old.State == Pending && !free(old) {
			continue // another run holds it
		}
		rec := old.Clone()
		touched[fp] = true
		switch fresh := unseen(rec, group); {
		case rec.State == Pending:
			countNew(h, rec, group)
			if rec.Finding == nil {
				rec.Finding = group[0]
			}
			p.more[rec] = others(rec.Finding, group)
			candidates = append(candidates, rec)
			sum.Retried++
		case len(fresh) > 0 && r.TTL > 0 && now.Sub(rec.NotifiedAt) > r.TTL:
			countNew(h, rec, group)
			// Alerting again starts afresh: what Load may have left out is not needed.
			rec.State, rec.Finding, rec.Message, rec.Sparse = Pending, fresh[0], MessageRef{}, false
			p.more[rec] = fresh[1:]
			candidates = append(candidates, rec)
			sum.New++
		case len(fresh) > 0:
			p.repeats = append(p.repeats, repeat{rec: rec, fresh: fresh})
			sum.Known++
		default:
			sum.Known++
		}
	}
	// Pending records the query no longer returns still get delivered.
	for _, fp := range sortedKeys(st.Records) {
		old := st.Records[fp]
		if touched[fp] || groups[fp] != nil || old.State != Pending || !free(old) || old.Finding == nil {
			continue
		}
		candidates = append(candidates, old.Clone())
		sum.Retried++
	}

	limit := r.maxPosts()
	if r.DigestThreshold > 0 && len(candidates) > r.DigestThreshold {
		p.digest = true
		limit = r.MaxDigest
		if limit <= 0 {
			limit = 5000
		}
	}
	lease := r.Lease
	if lease <= 0 {
		lease = 15 * time.Minute
	}
	for i, rec := range candidates {
		if i < limit {
			rec.ClaimedUntil = now.Add(lease)
			p.claimed = append(p.claimed, rec)
		}
		if i < limit || st.Records[rec.Fingerprint] == nil {
			p.writes = append(p.writes, rec) // queued new records are stored unclaimed
		}
	}
	return p
}

// unseen returns the group's findings whose occurrences rec has not counted, one per occurrence.
func unseen(rec *Record, group []*Finding) []*Finding {
	var fresh []*Finding
	for _, f := range group {
		if !rec.seen(f) && !slices.ContainsFunc(fresh, func(x *Finding) bool { return x.Occurrence == f.Occurrence }) {
			fresh = append(fresh, f)
		}
	}
	return fresh
}

// others returns the group's occurrences other than shown's, one finding per occurrence.
func others(shown *Finding, group []*Finding) []*Finding {
	var out []*Finding
	for _, f := range group {
		if f.Occurrence != shown.Occurrence && !slices.ContainsFunc(out, func(x *Finding) bool { return x.Occurrence == f.Occurrence }) {
			out = append(out, f)
		}
	}
	return out
}

// countNew counts the group's occurrences the record has not seen.
func countNew(h *Hunt, rec *Record, group []*Finding) {
	for _, f := range unseen(rec, group) {
		rec.count(h, f)
	}
}

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
		ref, err := r.Notifier.Notify(sctx, h, rec, p.more[rec])
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
		if !r.DryRun {
			if err := r.record(context.WithoutCancel(ctx), h, rec); err != nil {
				errs = append(errs, err)
				r.keep(h, rec)
				// The store takes no writes: every further post would widen the window for repeats.
				release = append(release, claimed[i+1:]...)
				break
			}
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
	if r.DryRun {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	lost, err := r.Store.Put(ctx, h.ID, claimed)
	if err != nil {
		r.keep(h, claimed...)
		return fmt.Errorf("record digest delivery (posted as %s): %w", ref.TS, err)
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
	if len(told) > 0 && !r.DryRun {
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

func (r *Runner) redact(s string) string {
	if r.Redact != nil {
		return r.Redact(s)
	}
	return s
}

// release gives claims back so the next run retries at once instead of waiting for the lease to
// lapse; it must happen even when ctx was cancelled.
func (r *Runner) release(ctx context.Context, h *Hunt, recs []*Record) error {
	if len(recs) == 0 || r.DryRun {
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

// keep remembers writes the store refused, so that the next run of this process makes them
// before it loads the state (flushCarry): a delivery Slack accepted is then recorded before a run
// could take the record, still pending, for new (once the claim lapsed), and claims this process
// could not release stop keeping the next run off their findings. Only the end of the process
// loses them: that is the documented window for a repeat.
func (r *Runner) keep(h *Hunt, recs ...*Record) {
	if r.DryRun || len(recs) == 0 {
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

// record stores a delivered record. If someone changed it meanwhile (only possible once our lease
// lapsed), it reloads and applies the delivery to the current version, so the message is never
// posted again.
func (r *Runner) record(ctx context.Context, h *Hunt, rec *Record) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for attempt := 0; attempt < 3; attempt++ {
		lost, err := r.Store.Put(ctx, h.ID, []*Record{rec})
		if err != nil {
			return fmt.Errorf("record delivery of fingerprint %s (posted as %s): %w", rec.Fingerprint, rec.Message.TS, err)
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

func sortedKeys(m map[string]*Record) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
