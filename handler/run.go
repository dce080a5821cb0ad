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
	summary: `run every hunt of the pack once now, due or not, and print a summary. Without LOG_ANALYTICS_WORKSPACE_ID it runs
over the sample logs with the embedded KQL engine; without DEDUP_TABLE_* it keeps
state in a local file; without SLACK_* it prints the messages here.`,
	setup: setupRun,
}

func setupRun(fs *flag.FlagSet, e env) func(context.Context, []string) error {
	var local localFlags
	local.define(fs)
	dry := fs.Bool("dry-run", false, "query and print the messages, but write no state (create no file) and post nothing")
	huntRef := fs.String("hunt", "", "run only this hunt: `NAME|FILE`, a hunt of the pack by name or id, a bundled hunt, or a Sentinel YAML file")
	state := fs.String("state", defaultState, "dedup state `FILE` when no DEDUP_TABLE_* setting is set")
	return func(ctx context.Context, _ []string) error {
		cfg, log, err := loadConfig(e.getenv, e.stderr, e.stderr)
		if err != nil {
			return err
		}
		a, err := wire(wiring{cfg: cfg, log: log, local: local, state: *state, stdout: e.stdout, dryRun: *dry, only: *huntRef})
		if err != nil {
			return err
		}
		sum, err := a.runner.RunPack(ctx, a.pack)
		fmt.Fprintln(e.stdout, a.runner.Redact(sum.String()))
		return err
	}
}
