package hunt

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
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
	// Read says how the run read its records: ReadStatus (none needed), ReadLookup (its
	// answer's fingerprints, one by one) or ReadList (every record of the hunt).
	Read string
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
		slog.String("read", s.Read),
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
	read := ""
	if s.Read != "" {
		read = ", records read: " + s.Read
	}
	return fmt.Sprintf("hunt %q window %s: %d rows%s, %d fingerprints (%d new, %d already notified), %d repeats, %d retried, %d posted (%d in a digest%s), %d failed, %d pending%s (%s)",
		s.Hunt, s.Window, s.Rows, truncated, s.Fingerprints, s.New, s.Known, s.Repeats, s.Retried, s.Posted, s.Digest, updated, s.Failed, s.Pending, read, s.Duration.Round(time.Millisecond))
}

// How a run read its records (Summary.Read).
const (
	ReadStatus = "status" // the status row alone (and the pending records, when they may exist)
	ReadLookup = "lookup" // the answer's fingerprints, one by one
	ReadList   = "list"   // every record of the hunt
)

// DefaultMaxRows is Runner.MaxRows when unset (HUNT_MAX_ROWS' default).
const DefaultMaxRows = 100_000

func (r *Runner) maxRows() int {
	if r.MaxRows <= 0 {
		return DefaultMaxRows
	}
	return r.MaxRows
}

// truncate tells that the answer had rows past MaxRows (counted in sum.Truncated), which the run
// did not process, in an AlertTruncated, whose failure fails the run so the window does not move
// on unannounced.
func (r *Runner) truncate(ctx context.Context, h *Hunt, w Window, sum *Summary) error {
	if sum.Truncated == 0 {
		return nil
	}
	limit := r.maxRows()
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
	// The status: what the window needs (records follows, once the answer is known).
	st, err := r.Store.Lookup(ctx, h.ID, nil, false)
	if err != nil {
		err = fmt.Errorf("load state of hunt %s: %w", h.ID, err)
		r.finish(ctx, h, now, nil, &sum, err)
		return sum, err
	}
	lookback := r.lookback(h)
	w := NextWindow(now.Add(-r.Settle), st.WindowEnd, lookback, max(r.MaxCatchup, lookback))
	sum.Window = w
	if err = r.hunt(ctx, h, now, st, w, &sum); err == nil {
		st.Stored -= r.prune(ctx, h, now, st)
	}
	return sum, r.finish(ctx, h, now, st, &sum, err)
}

// hunt does the work of a run whose state loaded.
func (r *Runner) hunt(ctx context.Context, h *Hunt, now time.Time, st *State, w Window, sum *Summary) error {
	sp := &spill{}
	defer sp.close()
	status := &st.Status // the run's own: finish saves it
	findings, partial, err := r.query(ctx, h, w, now, sp, sum)
	if err != nil {
		return err
	}
	truncErr := r.truncate(ctx, h, w, sum)
	switch {
	case !h.Trigger.Fires(sum.Rows):
		sum.Quiet = true // below the rule's threshold: no alert, and the window moves on
		findings = nil
	case h.Grouping == GroupSingle && len(findings) > 0:
		f, err := single(h, findings, sp)
		if err != nil {
			return errors.Join(truncErr, err)
		}
		findings = []Finding{f}
	}

	if st, err = r.records(ctx, h, now, st, findings, sum); err != nil {
		return errors.Join(truncErr, fmt.Errorf("load state of hunt %s: %w", h.ID, err))
	}
	p, err := r.plan(h, now, st, findings, sp, sum)
	if err != nil {
		return errors.Join(truncErr, err)
	}
	if status.Settled && len(p.cands) > 0 {
		// Claims are about to be written: until a run ends with none pending, runs list them.
		status.Settled = false
		if err := r.Store.SaveStatus(ctx, h.ID, *status); err != nil {
			return errors.Join(truncErr, fmt.Errorf("save status of hunt %s: %w", h.ID, err))
		}
	}
	err = r.claim(ctx, h, p, now)
	status.Stored += p.inserted()
	if err != nil {
		return errors.Join(truncErr, err)
	}
	errs := []error{truncErr}
	if p.digest {
		errs = append(errs, r.postDigest(ctx, h, p, sum))
	} else {
		errs = append(errs, r.post(ctx, h, p, sum))
	}
	errs = append(errs, r.tellRepeats(ctx, h, p, r.maxPosts()-sum.Posted-sum.Failed, sum))
	sum.Pending = p.stillPending()
	for _, rec := range p.told {
		status.remember(rec, now)
	}
	if partial != nil {
		errs = append(errs, fmt.Errorf("query hunt %s over %s returned a partial result: %w", h.Name, w, partial))
	}
	return errors.Join(errs...)
}

// lookupMax bounds the fingerprints a run looks up one by one (Store.Lookup); with more, it reads
// the hunt's records whole (Store.Load, a listing of 1,000 records a request).
const lookupMax = 1000

// lookupCost is what one fingerprint looked up costs against a record listed, about: a point
// read takes as long as a page of 1,000 listed records, and a run makes 8 at once.
const lookupCost = 1000 / 8

// records reads the records the plan needs, to st's status: for a small answer its own
// fingerprints' and those whose messages told its occurrences (Status.Told: a late finding
// updates such a message, see told), one by one when that costs less than reading every record
// of the hunt (Status.Stored); else every record. The pending records too, unless the status
// says there are none (Status.Settled), but at the hunt's first run of a UTC day. A run's cost
// then does not grow with the hunt's history unless its answer does. A run that reads every
// record counts them in st.Stored.
func (r *Runner) records(ctx context.Context, h *Hunt, now time.Time, st *State, findings []Finding, sum *Summary) (*State, error) {
	toldBy := make(map[string]string, len(st.Told))
	for _, t := range st.Told {
		toldBy[t.Occurrence] = t.Fingerprint
	}
	seen := make(map[string]bool)
	var fps []string
	add := func(fp string) {
		if fp != "" && !seen[fp] {
			seen[fp] = true
			fps = append(fps, fp)
		}
	}
	for i := range findings {
		add(findings[i].Fingerprint)
		add(toldBy[findings[i].Occurrence])
	}
	pending := !st.Settled || st.Health.Today.Day != now.Format(time.DateOnly)
	switch {
	case len(fps) == 0 && !pending:
		sum.Read = ReadStatus
		return st, nil
	case len(fps) == 0:
		sum.Read = ReadStatus
		return r.Store.Lookup(ctx, h.ID, nil, true)
	case len(fps) <= lookupMax && len(fps)*lookupCost < st.Stored:
		sum.Read = ReadLookup
		return r.Store.Lookup(ctx, h.ID, fps, pending)
	}
	sum.Read = ReadList
	all, err := r.Store.Load(ctx, h.ID)
	if err == nil {
		st.Stored = len(all.Records)
	}
	return all, err
}

// query runs h's query over w and turns its answer into findings as it streams in (see Streamer):
// the first MaxRows rows (the others are counted in sum.Truncated), each kept by sp.
func (r *Runner) query(ctx context.Context, h *Hunt, w Window, now time.Time, sp *spill, sum *Summary) (findings []Finding, partial error, err error) {
	limit := r.maxRows()
	var conv *converter
	var stop error // why the conversion stopped the stream
	each := func(cols []Column, row []any) error {
		if conv == nil {
			if conv, stop = newConverter(h, cols); stop != nil {
				return stop
			}
		}
		if row == nil {
			return nil // the columns
		}
		if sum.Rows++; sum.Rows > limit {
			sum.Truncated++
			return nil
		}
		f, err := conv.finding(row)
		if err == nil {
			f, err = sp.keep(f)
		}
		if err != nil {
			stop = err
			return err
		}
		findings = append(findings, f)
		return nil
	}
	query, timespan := w.Request(h.Query, now)
	if s, ok := r.Source.(Streamer); ok {
		partial, err = s.Stream(ctx, query, timespan, each)
	} else {
		var res *Result
		if res, err = r.Source.Query(ctx, query, timespan); err == nil {
			partial, err = res.Partial, each(res.Columns, nil)
			for _, row := range res.Rows {
				if err != nil {
					break
				}
				err = each(res.Columns, row)
			}
		}
	}
	switch {
	case stop != nil:
		return nil, nil, stop
	case err != nil:
		return nil, nil, fmt.Errorf("query hunt %s over %s: %w", h.Name, w, h.QueryError(err))
	}
	return findings, partial, nil
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
