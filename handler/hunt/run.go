package hunt

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"time"
)

// Runner runs hunts: window -> query -> findings -> claim -> notify -> record.
//
// Delivery is at least once, and exactly once in normal operation: a new fingerprint is first
// claimed in the store with a conditional insert (so of two overlapping runs only one posts it),
// then posted, then marked delivered right after the notifier accepted it. A failed post leaves
// the record pending with its finding, and a later run delivers it even if the query no longer
// returns the row. The one window for a repeat is a crash between the notifier accepting a message
// and the store recording it.
type Runner struct {
	Log      *slog.Logger
	Source   Source
	Store    Store
	Notifier Notifier
	Now      func() time.Time

	Lookback   time.Duration // each run queries at least this far back
	MaxCatchup time.Duration // and never further back than this
	TTL        time.Duration // a fingerprint notified longer ago than this alerts again; 0: never
	Lease      time.Duration // how long a claim keeps other runs off a record; default 15m
	MaxPosts   int           // messages per run; the rest wait in the store for the next run; default 50
	DryRun     bool          // query and notify, but write nothing to the store
}

// Summary describes one run.
type Summary struct {
	Hunt         string
	Window       Window
	Rows         int // result rows
	Fingerprints int // distinct fingerprints in the result
	New          int // fingerprints never notified (or past the TTL)
	Repeats      int // new occurrences of fingerprints already notified
	Retried      int // pending records taken up again
	Posted       int
	Failed       int
	Pending      int // records left pending for a later run
	Duration     time.Duration
}

// LogValue makes a Summary one structured log record.
func (s Summary) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("hunt", s.Hunt),
		slog.String("window", s.Window.String()),
		slog.Int("rows", s.Rows),
		slog.Int("fingerprints", s.Fingerprints),
		slog.Int("new", s.New),
		slog.Int("repeats", s.Repeats),
		slog.Int("retried", s.Retried),
		slog.Int("posted", s.Posted),
		slog.Int("failed", s.Failed),
		slog.Int("pending", s.Pending),
		slog.Duration("duration", s.Duration),
	)
}

func (s Summary) String() string {
	return fmt.Sprintf("hunt %q window %s: %d rows, %d fingerprints, %d new, %d repeats, %d retried, %d posted, %d failed, %d pending (%s)",
		s.Hunt, s.Window, s.Rows, s.Fingerprints, s.New, s.Repeats, s.Retried, s.Posted, s.Failed, s.Pending, s.Duration.Round(time.Millisecond))
}

// Run runs hunt h once. It returns an error when anything kept the run from completing: then the
// window does not advance, and whatever is pending is left for the next run.
func (r *Runner) Run(ctx context.Context, h *Hunt) (sum Summary, err error) {
	now, started := r.Now().UTC(), time.Now()
	sum = Summary{Hunt: h.Name}
	defer func() { sum.Duration = time.Since(started) }()

	st, err := r.Store.Load(ctx, h.ID)
	if err != nil {
		return sum, fmt.Errorf("load state of hunt %s: %w", h.ID, err)
	}
	w := NextWindow(now, st.WindowEnd, r.Lookback, r.MaxCatchup)
	sum.Window = w
	res, err := r.Source.Query(ctx, w.Declare(h.Query), Window{Start: w.Start.Add(-ClockSkew), End: w.End})
	if err != nil {
		return sum, fmt.Errorf("query hunt %s over %s: %w", h.Name, w, err)
	}
	sum.Rows = len(res.Rows)
	findings, err := Findings(h, res)
	if err != nil {
		return sum, err
	}

	p := r.plan(now, st, findings, &sum)
	final := make(map[string]*Record, len(st.Records)+len(p.writes))
	for fp, rec := range st.Records {
		final[fp] = rec
	}
	if !r.DryRun && len(p.writes) > 0 {
		lost, err := r.Store.Put(ctx, h.ID, p.writes)
		if err != nil {
			return sum, fmt.Errorf("claim findings of hunt %s: %w", h.ID, err)
		}
		p.drop(lost)
		for _, rec := range p.writes {
			if !slices.Contains(lost, rec) {
				final[rec.Fingerprint] = rec
			}
		}
	}
	postErr := r.post(ctx, h, p.claimed, &sum)
	for _, rec := range final {
		if rec.State == Pending {
			sum.Pending++
		}
	}
	var errs []error
	if postErr != nil {
		errs = append(errs, postErr)
	}
	if res.Partial != nil {
		errs = append(errs, fmt.Errorf("query hunt %s over %s returned a partial result: %w", h.Name, w, res.Partial))
	}
	if len(errs) == 0 && !r.DryRun {
		if err := r.Store.SaveWindow(ctx, h.ID, w.End); err != nil {
			errs = append(errs, fmt.Errorf("save window of hunt %s: %w", h.ID, err))
		}
	}
	return sum, errors.Join(errs...)
}

type plan struct {
	claimed []*Record // to post, in order
	writes  []*Record // to store before posting
}

func (p *plan) drop(lost []*Record) {
	if len(lost) == 0 {
		return
	}
	gone := make(map[*Record]bool, len(lost))
	for _, rec := range lost {
		gone[rec] = true
	}
	keep := p.claimed[:0]
	for _, rec := range p.claimed {
		if !gone[rec] {
			keep = append(keep, rec)
		}
	}
	p.claimed = keep
}

// plan decides what each fingerprint needs: a claim, an occurrence count, or nothing.
func (r *Runner) plan(now time.Time, st *State, findings []Finding, sum *Summary) *plan {
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

	p := &plan{}
	maxPosts := r.MaxPosts
	if maxPosts <= 0 {
		maxPosts = 50
	}
	lease := r.Lease
	if lease <= 0 {
		lease = 15 * time.Minute
	}
	claim := func(rec *Record) {
		if len(p.claimed) < maxPosts {
			rec.ClaimedUntil = now.Add(lease)
			p.claimed = append(p.claimed, rec)
		}
	}
	free := func(rec *Record) bool { return !rec.ClaimedUntil.After(now) }
	touched := make(map[string]bool)

	for _, fp := range order {
		group := groups[fp]
		old := st.Records[fp]
		if old == nil {
			rec := &Record{Fingerprint: fp, State: Pending, Finding: group[0]}
			countNew(rec, group)
			claim(rec)
			p.writes = append(p.writes, rec)
			sum.New++
			continue
		}
		if old.State == Pending && !free(old) {
			continue // another run holds it
		}
		rec := old.Clone()
		fresh := countNew(rec, group)
		switch {
		case rec.State == Pending:
			if rec.Finding == nil {
				rec.Finding = group[0]
			}
			claim(rec)
			sum.Retried++
		case fresh != nil && r.TTL > 0 && now.Sub(rec.NotifiedAt) > r.TTL:
			rec.State, rec.Finding, rec.Message = Pending, fresh, MessageRef{}
			claim(rec)
			sum.New++
		case fresh != nil:
			sum.Repeats += rec.Occurrences - old.Occurrences
		default:
			continue
		}
		touched[fp] = true
		p.writes = append(p.writes, rec)
	}
	// Pending records the query no longer returns still get delivered.
	for _, fp := range sortedKeys(st.Records) {
		old := st.Records[fp]
		if touched[fp] || groups[fp] != nil || old.State != Pending || !free(old) || old.Finding == nil || len(p.claimed) >= maxPosts {
			continue
		}
		rec := old.Clone()
		claim(rec)
		sum.Retried++
		p.writes = append(p.writes, rec)
	}
	return p
}

// countNew counts the group's occurrences the record has not seen and returns the first of them.
func countNew(rec *Record, group []*Finding) *Finding {
	var first *Finding
	for _, f := range group {
		if rec.seen(f.Occurrence) {
			continue
		}
		rec.count(f.Occurrence, f.Time)
		if first == nil {
			first = f
		}
	}
	return first
}

// post delivers the claimed records in order and records each result as soon as it is known.
func (r *Runner) post(ctx context.Context, h *Hunt, claimed []*Record, sum *Summary) error {
	var errs []error
	var release []*Record
	for i, rec := range claimed {
		if err := ctx.Err(); err != nil {
			errs = append(errs, fmt.Errorf("stopped before posting %d findings: %w", len(claimed)-i, err))
			release = append(release, claimed[i:]...)
			break
		}
		ref, err := r.Notifier.Notify(ctx, h, rec.Finding)
		if err != nil {
			sum.Failed++
			rec.Attempts++
			rec.LastError = err.Error()
			release = append(release, rec)
			r.Log.Warn("notify failed", "hunt", h.ID, "fingerprint", rec.Fingerprint, "attempts", rec.Attempts, "err", err)
			errs = append(errs, fmt.Errorf("notify fingerprint %s: %w", rec.Fingerprint, err))
			if errors.Is(err, ErrUnavailable) {
				release = append(release, claimed[i+1:]...)
				break
			}
			continue
		}
		sum.Posted++
		rec.State, rec.Message, rec.NotifiedAt = Delivered, ref, r.Now().UTC()
		rec.ClaimedUntil, rec.Finding, rec.LastError = time.Time{}, nil, ""
		rec.Attempts++
		if r.DryRun {
			continue
		}
		if err := r.record(context.WithoutCancel(ctx), h, rec); err != nil {
			errs = append(errs, err)
		}
	}
	if len(release) > 0 && !r.DryRun {
		// Releasing lets the next run retry at once instead of waiting for the lease to lapse;
		// it must happen even when ctx was cancelled.
		for _, rec := range release {
			rec.ClaimedUntil = time.Time{}
		}
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if _, err := r.Store.Put(rctx, h.ID, release); err != nil {
			errs = append(errs, fmt.Errorf("release %d claims: %w", len(release), err))
		}
	}
	return errors.Join(errs...)
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
		st, err := r.Store.Load(ctx, h.ID)
		if err != nil {
			return fmt.Errorf("reload fingerprint %s after a conflict: %w", rec.Fingerprint, err)
		}
		cur := st.Records[rec.Fingerprint]
		if cur == nil {
			rec.Version = ""
			continue
		}
		if cur.State == Delivered {
			return nil // another run delivered it too; nothing more to record
		}
		merged := cur.Clone()
		merged.State, merged.Message, merged.NotifiedAt = Delivered, rec.Message, rec.NotifiedAt
		merged.ClaimedUntil, merged.Finding, merged.LastError = time.Time{}, nil, ""
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
