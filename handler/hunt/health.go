package hunt

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// finish records a run in the hunt's health, posts the alerts it calls for, advances the window
// after a successful run, saves the status, and returns the run's error (with any of its own).
// st is nil when the state could not be loaded: then the health this process remembers stands in
// for the stored one, so an outage of the store itself is still announced.
func (r *Runner) finish(ctx context.Context, h *Hunt, now time.Time, st *State, sum *Summary, runErr error) error {
	if runErr != nil && errors.Is(context.Cause(ctx), context.Canceled) {
		// Interrupted, not failed: the window stays, the health is untouched, and what was
		// pending waits for the next run.
		sum.Interrupted = true
		r.Log.Warn("run interrupted", "hunt", h.ID, "err", runErr)
		return runErr
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var status Status
	if st != nil {
		status = st.Status
	}
	hl := status.Health
	if known, ok := r.health[h.ID]; ok && (st == nil || known.Failures > hl.Failures) {
		hl = known
	}
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()

	day := now.Format(time.DateOnly)
	if hl.Today.Day != day {
		hl.Today = DayCounts{Day: day}
	}
	hl.Today.Runs++
	hl.Today.Rows += sum.Rows
	hl.Today.New += sum.New
	hl.Today.Repeats += sum.Repeats
	hl.Today.Posted += sum.Posted

	errs := []error{runErr}
	alert := func(kind string) bool {
		err := r.Notifier.Alert(actx, h, Alert{Kind: kind, Health: hl})
		if err != nil {
			r.Log.Warn("alert failed", "hunt", h.ID, "kind", kind, "err", err)
			errs = append(errs, fmt.Errorf("post %s alert: %w", kind, err))
		}
		return err == nil
	}
	if runErr != nil {
		// A retry of a failed tick (the host's retry policy) is the same failure again.
		if sum.tick == "" || sum.tick != hl.FailedTick {
			hl.Today.Failed++
			if hl.Failures == 0 {
				hl.FailingSince = now
			}
			hl.Failures++
		}
		hl.FailedTick = sum.tick
		hl.LastError = clip(r.redact(runErr.Error()))
		if r.AlertAfter > 0 && hl.Failures >= r.AlertAfter && !hl.Alerted {
			hl.Alerted = alert(AlertFailing)
		}
	} else {
		if hl.Alerted && alert(AlertRecovered) {
			hl.Alerted = false
		}
		if !hl.Alerted {
			hl.Failures, hl.FailingSince, hl.LastError = 0, time.Time{}, ""
		}
		hl.FailedTick = ""
		status.WindowEnd = sum.Window.End
		if h.Suppression > 0 && sum.Posted > 0 {
			status.SuppressedUntil = now.Add(h.Suppression)
		}
		if r.Heartbeat && now.Hour() >= r.HeartbeatHour && hl.LastHeartbeat != day && alert(AlertHeartbeat) {
			hl.LastHeartbeat = day
		}
	}
	status.Health = hl
	status.Settled = runErr == nil && sum.Pending == 0
	if r.health == nil {
		r.health = map[string]Health{}
	}
	r.health[h.ID] = hl
	if st != nil {
		if err := r.Store.SaveStatus(actx, h.ID, status); err != nil {
			errs = append(errs, fmt.Errorf("save status of hunt %s: %w", h.ID, err))
		}
	}
	return errors.Join(errs...)
}
