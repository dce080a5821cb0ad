package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/huntwatch/huntwatch/handler/hunt"
)

// huntsCommand lists the pack with each hunt's schedule and state.
var huntsCommand = command{
	name: "hunts",
	summary: `list the hunt pack (HUNTS, else the bundled pack): each hunt's kind, cadence, severity,
channel, and its state from the dedup store (last window end, next due, failing); files
that could not be loaded are listed as broken.`,
	setup: setupHunts,
}

func setupHunts(fs *flag.FlagSet, e env) func(context.Context, []string) error {
	var local localFlags
	local.define(fs)
	state := fs.String("state", defaultState, "dedup state `FILE` when no DEDUP_TABLE_* setting is set")
	return func(ctx context.Context, _ []string) error {
		cfg, log, err := loadConfig(e.getenv, e.stderr, e.stderr)
		if err != nil {
			return err
		}
		a, err := wire(wiring{cfg: cfg, log: log, local: local, state: *state, stdout: e.stdout, dryRun: true})
		if err != nil {
			return err
		}
		statuses, err := a.runner.Store.Statuses(ctx)
		if err != nil {
			return fmt.Errorf("read the hunts' state: %w", err)
		}
		now := a.runner.Now().UTC()
		tw := tabwriter.NewWriter(e.stdout, 2, 8, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tKIND\tCADENCE\tSEVERITY\tCHANNEL\tLAST WINDOW END\tNEXT DUE\tSTATE")
		for _, h := range a.pack.Hunts {
			st, known := statuses[h.ID]
			last, next, health := "never run", "now", "ok"
			if known && !st.WindowEnd.IsZero() {
				last = st.WindowEnd.Format(time.DateTime)
			}
			if due := a.runner.NextDue(h, st); due.After(now) {
				next = due.Format(time.DateTime)
			}
			switch {
			case h.Disabled:
				next, health = "-", "disabled"
			case st.Health.Failures > 0:
				health = fmt.Sprintf("failing (%d): %s", st.Health.Failures, clip(st.Health.LastError, 80))
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", h.Name, cmp.Or(h.Kind, hunt.KindHunting), a.runner.Cadence(h),
				cmp.Or(h.Severity, "-"), cmp.Or(h.Channel, "by severity"), last, next, health)
		}
		for _, b := range a.pack.Broken {
			fmt.Fprintf(tw, "%s\tbroken\t\t\t\t\t\t%s\n", b.Source, clip(b.Err.Error(), 120))
		}
		return tw.Flush()
	}
}

// clip shortens s to n runes for a table cell.
func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
