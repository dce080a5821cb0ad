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

	Lookback   time.Duration // each run queries at least this far back, unless the hunt says (Hunt.Period)
	MaxCatchup time.Duration // and never further back than this (or the hunt's Period)
	// Frequency is the cadence of a hunt that names none (Hunt.Frequency); 0 means
	// DefaultFrequency, and a negative value every tick.
	Frequency time.Duration
	// Concurrency is how many hunts of a tick run at once; default DefaultConcurrency.
	Concurrency int
	// Reserve is the time a tick keeps for the hunts it started; default DefaultReserve.
	Reserve time.Duration
	// Settle holds the window's end this far behind now, so that what happened just before a
	// run is reported by a later run, once every table has caught up (AzureActivity and Defender
	// rows arrive minutes late): a Run Command seen before its script's events would otherwise
	// be reported twice, once without and once with its commands. Rows up to now stay visible
	// to the query (its timespan ends at now).
	Settle          time.Duration
	TTL             time.Duration       // a fingerprint notified longer ago than this alerts again; 0: never
	Lease           time.Duration       // how long a claim keeps other runs off a record; default 15m
	MaxPosts        int                 // messages per run; the rest wait in the store for the next run; default 50
	DigestThreshold int                 // more new fingerprints than this in one run make a digest (of all of them); 0: never
	AlertAfter      int                 // consecutive failed runs before the failure alert; 0: never alert
	Heartbeat       bool                // post a daily heartbeat with the day's counts
	HeartbeatHour   int                 // at the first successful run at or after this UTC hour
	Redact          func(string) string // cleans error text kept in the store or posted in alerts
	// Grace is how long a message already being sent may finish once the run is cancelled
	// (Ctrl-C, SIGTERM): cancelling stops new posts, and the one in flight is recorded. Default 10s.
	Grace time.Duration
	// MaxRows is how many rows of a query's answer a run processes; default DefaultMaxRows. A run
	// whose answer has more processes the first MaxRows, counts the rest in Summary.Truncated and
	// posts an AlertTruncated (the run fails if that alert cannot be posted).
	MaxRows int

	mu     sync.Mutex
	health map[string]Health // by hunt id: the last health this process knew, for runs that cannot reach the store

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
	Updated      int // new fingerprints of an occurrence already told, told by updating its message
	Retried      int // pending records taken up again
	Posted       int // findings delivered (one message each, or in a digest)
	Digest       int // findings delivered in a digest
	Failed       int
	Pending      int // records left pending for a later run
	Truncated    int // result rows past MaxRows, not processed (Rows counts them)
	Duration     time.Duration
	// Quiet is set when the rule's trigger (triggerOperator, triggerThreshold) did not fire.
	Quiet bool
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
		slog.Int("updated", s.Updated),
		slog.Int("retried", s.Retried),
		slog.Int("posted", s.Posted),
		slog.Int("digest", s.Digest),
		slog.Int("failed", s.Failed),
		slog.Int("pending", s.Pending),
		slog.Int("truncated", s.Truncated),
		slog.Duration("duration", s.Duration),
	)
}

func (s Summary) String() string {
	if s.Window.End.IsZero() {
		// The run failed before it had a window (its state could not be read).
		return fmt.Sprintf("hunt %q: no window (%s)", s.Hunt, s.Duration.Round(time.Millisecond))
	}
	truncated := ""
	if s.Truncated > 0 {
		truncated = fmt.Sprintf(" (%d past the row limit, not processed)", s.Truncated)
	}
	updated := ""
	if s.Updated > 0 {
		updated = fmt.Sprintf(", %d by updating an earlier message", s.Updated)
	}
	return fmt.Sprintf("hunt %q window %s: %d rows%s, %d fingerprints (%d new, %d already notified), %d repeats, %d retried, %d posted (%d in a digest%s), %d failed, %d pending (%s)",
		s.Hunt, s.Window, s.Rows, truncated, s.Fingerprints, s.New, s.Known, s.Repeats, s.Retried, s.Posted, s.Digest, updated, s.Failed, s.Pending, s.Duration.Round(time.Millisecond))
}

// DefaultMaxRows is Runner.MaxRows when unset (HUNT_MAX_ROWS' default).
const DefaultMaxRows = 100_000

func (r *Runner) maxRows() int {
	if r.MaxRows <= 0 {
		return DefaultMaxRows
	}
	return r.MaxRows
}

// truncate keeps the first MaxRows rows of res; the others are counted in sum.Truncated and told
// in an AlertTruncated, whose failure fails the run so the window does not move on unannounced.
func (r *Runner) truncate(ctx context.Context, h *Hunt, w Window, res *Result, sum *Summary) error {
	limit := r.maxRows()
	if len(res.Rows) <= limit {
		return nil
	}
	sum.Truncated = len(res.Rows) - limit
	res.Rows = res.Rows[:limit:limit] // the source's rows are not ours to change
	r.Log.Warn("query answer over the row limit: processing the first rows only", "hunt", h.ID, "window", w.String(),
		"rows", sum.Rows, "maxRows", limit, "notProcessed", sum.Truncated)
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := r.Notifier.Alert(actx, h, Alert{Kind: AlertTruncated, Rows: sum.Rows, MaxRows: limit, Window: w}); err != nil {
		return fmt.Errorf("post %s alert (%d of %d rows of hunt %s not processed): %w", AlertTruncated, sum.Truncated, sum.Rows, h.ID, err)
	}
	return nil
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
	lookback := r.lookback(h)
	w := NextWindow(now.Add(-r.Settle), st.WindowEnd, lookback, max(r.MaxCatchup, lookback))
	sum.Window = w
	err = r.hunt(ctx, h, now, st, w, &sum)
	return sum, r.finish(ctx, h, now, st, &sum, err)
}

// hunt does the work of a run whose state loaded.
func (r *Runner) hunt(ctx context.Context, h *Hunt, now time.Time, st *State, w Window, sum *Summary) error {
	query, timespan := w.Request(h.Query, now)
	res, err := r.Source.Query(ctx, query, timespan)
	if err != nil {
		return fmt.Errorf("query hunt %s over %s: %w", h.Name, w, h.QueryError(err))
	}
	sum.Rows = len(res.Rows)
	truncErr := r.truncate(ctx, h, w, res, sum)
	findings, err := Findings(h, res)
	if err != nil {
		return errors.Join(truncErr, err)
	}
	switch {
	case !h.Trigger.Fires(sum.Rows):
		sum.Quiet = true // below the rule's threshold: no alert, and the window moves on
		findings = nil
	case h.Grouping == GroupSingle && len(findings) > 0:
		findings = []Finding{single(h, findings)}
	}

	p := r.plan(h, now, st, findings, sum)
	final := make(map[string]*Record, len(st.Records)+len(p.writes))
	for fp, rec := range st.Records {
		final[fp] = rec
	}
	if len(p.writes) > 0 {
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
	errs := []error{truncErr}
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

func (r *Runner) maxPosts() int {
	if r.MaxPosts <= 0 {
		return 50
	}
	return r.MaxPosts
}

func (r *Runner) redact(s string) string {
	if r.Redact != nil {
		return r.Redact(s)
	}
	return s
}

func sortedKeys(m map[string]*Record) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
