// Package hunt is huntwatch's domain: what a hunt is, what a pack of hunts is, and what one tick
// and one run do. It imports no SDK; the adapters (loganalytics, logdir, tablestore, filestore,
// slack) implement its ports.
//
// What a hunt is, file by file:
//
//	hunt.go      Hunt: a Sentinel hunting query, scheduled or NRT rule; the bundled hunts
//	load.go      reading the YAML field by field: what is tolerated becomes a warning, naming file and line
//	rule.go      the analytics-rule fields: kinds, trigger, grouping, custom details, alert overrides
//	duration.go  Sentinel's durations (5m, 14d, PT1H)
//	pack.go      Pack: the hunts HUNTS names (names, files, folders); files that fail are Broken, not fatal
//	check.go     what validate checks without data
//
// One tick (Runner.Tick) and one run of a hunt (Runner.RunTick):
//
//	schedule.go  which hunts are due (one Store.Statuses read), run at most Concurrency at a time
//	window.go    the window: since the last successful run, ending Settle before now; Window.Request
//	ports.go     Source.Query (or Streamer.Stream, row by row) runs the query declared over that window
//	finding.go   each result row becomes a Finding: a fingerprint (what) and an occurrence (one time it happened)
//	plan.go      against the stored Records (record.go), read whole or looked up by fingerprint:
//	             new fingerprints to claim, repeats to tell
//	deliver.go   claim (a conditional Put), Notifier.Notify each claim, record the delivery at once
//	spill.go     a large answer's findings in a temporary file, read back whole when posted or stored
//	carry.go     writes the Store refused, kept in the process and made first by the next run
//	prune.go     once a day, delete delivered records past the TTL and every window
//	health.go    count failed ticks, post failing/recovered/heartbeat alerts, advance the window
//	view.go      what a message about a finding says (title, facts, lists, links): notifiers render it
//	dryrun.go    a Store that keeps nothing, for dry runs and previews
//
// Delivery is at least once, exactly once in normal operation (see Runner).
package hunt
