package main

import (
	"context"
	"flag"
	"fmt"
)

// runCommand runs the hunt once now and prints the summary: with the settings, as the timer
// would; without them, in local sample mode.
var runCommand = command{
	name: "run",
	summary: `run the hunt once now and print a summary. Without LOG_ANALYTICS_WORKSPACE_ID it runs
over the sample logs with the embedded KQL engine; without DEDUP_TABLE_* it keeps
state in a local file; without SLACK_* it prints the messages here.`,
	setup: setupRun,
}

func setupRun(fs *flag.FlagSet, e env) func(context.Context, []string) error {
	var local localFlags
	local.define(fs)
	dry := fs.Bool("dry-run", false, "query and print the messages, but write no state (create no file) and post nothing")
	huntRef := fs.String("hunt", "", "`NAME|FILE` of the hunt to run: a bundled hunt, or a hunting-query YAML file (overrides HUNT_FILE)")
	state := fs.String("state", defaultState, "dedup state `FILE` when no DEDUP_TABLE_* setting is set")
	return func(ctx context.Context, _ []string) error {
		cfg, log, err := loadConfig(e.getenv, e.stderr, e.stderr)
		if err != nil {
			return err
		}
		if *huntRef != "" {
			cfg.HuntFile = *huntRef
		}
		a, err := wire(wiring{cfg: cfg, log: log, local: local, state: *state, stdout: e.stdout, dryRun: *dry})
		if err != nil {
			return err
		}
		sum, err := a.runner.Run(ctx, a.hunt)
		fmt.Fprintln(e.stdout, a.runner.Redact(sum.String()))
		return err
	}
}
