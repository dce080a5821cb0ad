package hunt

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Defaults of a pack's schedule.
const (
	// DefaultFrequency is the cadence of a hunting query that names none.
	DefaultFrequency = time.Hour
	// DefaultConcurrency is how many hunts of a tick run at once: the Log Analytics query API
	// allows five concurrent queries per user.
	DefaultConcurrency = 3
	// DefaultReserve is how much of the invocation's time a tick keeps: it starts no hunt when
	// less is left, and those hunts stay due for the next tick.
	DefaultReserve = 2 * time.Minute
	// nrtLookback is how far back a near-real-time rule's first run looks.
	nrtLookback = 5 * time.Minute
)

// TickSummary describes one tick of a pack.
type TickSummary struct {
	Hunts   int       // hunts in the pack
	Due     int       // hunts due at this tick
	Runs    []Summary // one per hunt run, in the pack's order
	Failed  []string  // hunts whose run failed (or was interrupted)
	Skipped []string  // due hunts not started for lack of time: still due at the next tick
}

func (s TickSummary) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "tick: %d hunts, %d due, %d run, %d failed", s.Hunts, s.Due, len(s.Runs), len(s.Failed))
	if len(s.Skipped) > 0 {
		fmt.Fprintf(&b, ", %d left for the next tick (%s)", len(s.Skipped), strings.Join(s.Skipped, ", "))
	}
	for _, r := range s.Runs {
		b.WriteString("\n")
		b.WriteString(r.String())
	}
	return b.String()
}

// Tick runs the hunts of pack that are due, at most Concurrency at a time. tick names the
// schedule's tick (see RunTick). Which hunts are due comes from one read of every hunt's status
// (Store.Statuses); a hunt is due when it never ran, when its cadence has passed since the end of
// its last successful window, or at every tick for a near-real-time rule, and never while it is
// suppressed or disabled. A hunt that fails keeps its window, so it stays due: the host's retry of
// the tick, or the next tick, reruns only what failed. The error names every hunt that failed.
func (r *Runner) Tick(ctx context.Context, pack *Pack, tick string) (TickSummary, error) {
	now := r.Now().UTC()
	sum := TickSummary{Hunts: len(pack.Hunts)}
	statuses, err := r.Store.Statuses(ctx)
	if err != nil {
		// Each hunt's own run meets the outage too, and its health announces it.
		r.Log.Warn("cannot read the hunts' statuses; every hunt is due", "err", err)
	} else {
		r.tellBroken(ctx, pack, statuses[packStatus])
	}
	var due []*Hunt
	for _, h := range pack.Hunts {
		st, known := statuses[h.ID]
		if !h.Disabled && (err != nil || !known || r.Due(h, st, now)) {
			due = append(due, h)
		}
	}
	sum.Due = len(due)
	return sum, r.runHunts(ctx, due, tick, &sum)
}

// RunPack runs every hunt of pack that is not disabled, now, whether due or not (huntwatch run):
// as Tick does, at most Concurrency at a time, each hunt's window following from its status.
func (r *Runner) RunPack(ctx context.Context, pack *Pack) (TickSummary, error) {
	sum := TickSummary{Hunts: len(pack.Hunts)}
	var hunts []*Hunt
	for _, h := range pack.Hunts {
		if !h.Disabled {
			hunts = append(hunts, h)
		}
	}
	sum.Due = len(hunts)
	return sum, r.runHunts(ctx, hunts, "", &sum)
}

// runHunts runs hunts, at most Concurrency at a time, starting none once out of time, and adds
// their summaries to sum. The error names every hunt that failed.
func (r *Runner) runHunts(ctx context.Context, hunts []*Hunt, tick string, sum *TickSummary) error {
	conc := r.Concurrency
	if conc <= 0 {
		conc = DefaultConcurrency
	}
	sem := make(chan struct{}, conc)
	runs := make([]*Summary, len(hunts))
	errs := make([]error, len(hunts))
	var wg sync.WaitGroup
	for i, h := range hunts {
		if r.outOfTime(ctx) {
			for _, left := range hunts[i:] {
				sum.Skipped = append(sum.Skipped, left.Name)
			}
			break
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			s, err := r.RunTick(ctx, h, tick)
			runs[i], errs[i] = &s, err
		})
	}
	wg.Wait()

	var failed []error
	for i, s := range runs {
		if s == nil {
			continue
		}
		sum.Runs = append(sum.Runs, *s)
		if errs[i] != nil {
			sum.Failed = append(sum.Failed, hunts[i].Name)
			failed = append(failed, fmt.Errorf("hunt %s: %w", hunts[i].Name, errs[i]))
		}
	}
	if len(failed) == 0 {
		return nil
	}
	if len(hunts) == 1 {
		return errs[0]
	}
	return fmt.Errorf("%d of %d hunts failed (%s): %w", len(failed), len(hunts), strings.Join(sum.Failed, ", "), errors.Join(failed...))
}

// packStatus is the status row of the pack itself: its Health.LastError remembers which broken
// files were last told, so that each set of them is told once, not at every tick.
const packStatus = "~pack"

// tellBroken posts one AlertBroken when the pack's broken files differ from those last told.
func (r *Runner) tellBroken(ctx context.Context, pack *Pack, st Status) {
	var lines []string
	for _, b := range pack.Broken {
		lines = append(lines, b.Source+": "+b.Err.Error())
	}
	text := r.redact(strings.Join(lines, "\n"))
	mark := ""
	if text != "" {
		sum := sha256.Sum256([]byte(text))
		mark = "broken:" + hex.EncodeToString(sum[:8])
	}
	if st.Health.LastError == mark {
		return
	}
	if text != "" {
		pseudo := &Hunt{ID: packStatus, Name: "hunt pack"}
		if err := r.Notifier.Alert(ctx, pseudo, Alert{Kind: AlertBroken, Health: Health{LastError: text}}); err != nil {
			r.Log.Warn("could not tell of the pack's broken files; the next tick tries again", "err", err)
			return
		}
	}
	st.Health.LastError = mark
	if err := r.Store.SaveStatus(ctx, packStatus, st); err != nil {
		r.Log.Warn("could not record the pack's broken files as told", "err", err)
	}
}

// outOfTime reports whether ctx leaves less than the reserve: a hunt started now could not finish.
func (r *Runner) outOfTime(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	deadline, ok := ctx.Deadline()
	reserve := cmp.Or(r.Reserve, DefaultReserve)
	return ok && time.Until(deadline) < reserve
}

// Due reports whether hunt h, whose stored status is st, is due at now (see NextDue).
func (r *Runner) Due(h *Hunt, st Status, now time.Time) bool {
	if h.Disabled {
		return false
	}
	next := r.NextDue(h, st)
	// A run's window ends at its own start less Settle; the next tick may start a few seconds
	// earlier in its minute than the last did. Allow for that, up to a tenth of the cadence.
	jitter := min(r.frequency(h)/10, 2*time.Minute)
	return !now.Add(jitter).Before(next)
}

// NextDue is when hunt h, whose stored status is st, is next due: its cadence after the end of its
// last successful window (which ended Settle before that run), and not before its suppression
// ends. The zero time means at the next tick: a hunt that never ran, or a near-real-time rule.
func (r *Runner) NextDue(h *Hunt, st Status) time.Time {
	var next time.Time
	if freq := r.frequency(h); !st.WindowEnd.IsZero() && freq > 0 {
		next = st.WindowEnd.Add(freq + r.Settle)
	}
	if st.SuppressedUntil.After(next) {
		next = st.SuppressedUntil
	}
	return next
}

// Cadence describes how often h runs and how far back it looks, for people ("every 1h over 14d").
func (r *Runner) Cadence(h *Hunt) string {
	every := "every tick"
	if freq := r.frequency(h); freq > 0 {
		every = "every " + FormatDuration(freq)
	}
	return every + " over " + FormatDuration(r.lookback(h))
}

// frequency is h's cadence; 0 means every tick.
func (r *Runner) frequency(h *Hunt) time.Duration {
	switch {
	case h.Kind == KindNRT:
		return 0
	case h.Frequency > 0:
		return h.Frequency
	case r.Frequency < 0:
		return 0
	}
	return cmp.Or(r.Frequency, DefaultFrequency)
}

// lookback is how far back each run of h looks at least.
func (r *Runner) lookback(h *Hunt) time.Duration {
	switch {
	case h.Period > 0:
		return h.Period
	case h.Kind == KindNRT:
		return nrtLookback
	}
	return r.Lookback
}

// single makes one finding of a run's findings, for a rule that alerts once per run
// (eventGroupingSettings SingleAlert). It is fingerprinted by the set of the rows' fingerprints,
// so a later run that finds the same rows stays silent, and it is one occurrence of itself. It
// shows the earliest row and lists every row by its entities.
func single(h *Hunt, fs []Finding, sp *spill) (Finding, error) {
	fps := make([]string, 0, len(fs))
	first := &fs[0]
	for i := range fs {
		fps = append(fps, fs[i].Fingerprint)
		if fs[i].Time.Before(first.Time) {
			first = &fs[i]
		}
	}
	slices.Sort(fps)
	fps = slices.Compact(fps)
	sum := sha256.Sum256([]byte(strings.Join(fps, "\n")))
	shown, err := sp.whole(first)
	if err != nil {
		return Finding{}, err
	}
	lines, err := resultLines(h, fs, sp)
	if err != nil {
		return Finding{}, err
	}
	out := *shown
	out.Fingerprint = hex.EncodeToString(sum[:])
	out.Occurrence = out.Fingerprint
	out.Fields = append(slices.Clone(shown.Fields),
		Field{Name: "ResultCount", Type: "long", Text: strconv.Itoa(len(fs))},
		Field{Name: "Results", Type: "dynamic", List: lines})
	return out, nil
}

// maxResultLines bounds the rows a single alert lists; the count says how many there were.
const maxResultLines = 100

// resultLines describes each finding in one line: its time and entity values, or its fingerprint
// when it has no entity values.
func resultLines(h *Hunt, fs []Finding, sp *spill) ([]string, error) {
	var lines []string
	for i := range fs {
		if len(lines) == maxResultLines {
			lines = append(lines, fmt.Sprintf("… and %d more", len(fs)-maxResultLines))
			break
		}
		f, err := sp.whole(&fs[i])
		if err != nil {
			return nil, err
		}
		var parts []string
		if !f.Time.IsZero() {
			parts = append(parts, f.Time.UTC().Format(time.DateTime))
		}
		for _, col := range h.EntityColumns() {
			if v := f.Value(col); v != "" {
				parts = append(parts, v)
			}
		}
		if len(parts) < 2 {
			parts = append(parts, f.Fingerprint)
		}
		lines = append(lines, strings.Join(parts, " · "))
	}
	return lines, nil
}
