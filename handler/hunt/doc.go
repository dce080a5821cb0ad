// Package hunt is huntwatch's domain: what a hunt is and what one run of it does. It imports no
// SDK; the adapters (loganalytics, logdir, tablestore, filestore, slack) implement its ports.
//
// One run (Runner.Run), file by file:
//
//	window.go   the window: since the last successful run, ending Settle before now
//	ports.go    Source.Query runs the hunt's query (hunt.go) declared over that window
//	finding.go  each result row becomes a Finding: a fingerprint (what) and an occurrence (one time it happened)
//	plan.go     against the stored Records (record.go): new fingerprints to claim, repeats to tell
//	deliver.go  claim (a conditional Put), Notifier.Notify each claim, record the delivery at once
//	carry.go    writes the Store refused, kept in the process and made first by the next run
//	health.go   count failed ticks, post failing/recovered/heartbeat alerts, advance the window
//
// Delivery is at least once, exactly once in normal operation (see Runner).
package hunt
