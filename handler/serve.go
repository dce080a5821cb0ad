package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/huntwatch/huntwatch/handler/azfunc"
)

// serveCommand is the Azure Functions custom handler: the host starts it, waits for readiness on /,
// and its timer POSTs to /function.
var serveCommand = command{
	name: "serve",
	summary: `the Azure Functions custom handler: listens on
127.0.0.1:$FUNCTIONS_CUSTOMHANDLER_PORT, answers readiness on / and runs the hunt on
POST /function (the timer). With the Log Analytics, DEDUP_TABLE_* and SLACK_* settings
it runs in Azure; with none of them, in local sample mode as run does (messages
printed to stdout); with only some, it refuses to start.`,
	// Not settings, and not in the usage text: the benchmarks (handler/bench) time flood runs
	// without Slack's pacing, and the reliability suite (handler/reliability_test.go) shortens the
	// lease and the query timeout to see, within seconds, a killed run's claim lapse and a query
	// outlive its deadline. The pack's binary-level tests take each run's clock from the
	// invocation (host-clock), to drive a simulated day of ticks through the real process.
	hidden: []string{"slack-min-interval", "lease", "query-timeout", "host-clock"},
	setup:  setupServe,
}

func setupServe(fs *flag.FlagSet, e env) func(context.Context, []string) error {
	var local localFlags
	local.define(fs)
	state := fs.String("state", defaultState, "dedup state `FILE` in local sample mode")
	grace := fs.Duration("grace", 20*time.Second, "on SIGTERM, how long (a `DURATION` such as 20s) a run in flight may finish before it is stopped")
	var tune tuning
	fs.DurationVar(&tune.slackInterval, "slack-min-interval", 0, "least time between Slack posts (0: the default, 1s; negative: none)")
	fs.DurationVar(&tune.lease, "lease", 0, "how long a run's claim keeps other runs off a finding (default 15m, above the 9-minute run timeout)")
	hostClock := fs.Bool("host-clock", false, "run each invocation as of its Metadata.sys.UtcNow (tests)")
	fs.DurationVar(&tune.queryTimeout, "query-timeout", 0, "how long Log Analytics may work on a query (default 3m; the call gets up to twice this, at most a minute more)")
	return func(ctx context.Context, _ []string) error {
		cfg, log, err := loadConfig(e.getenv, e.stdout, e.stderr)
		if err != nil {
			return err
		}
		// All three or none: a deployment missing one would quietly keep its state in the
		// instance's file system or print its messages to the log.
		var missing []string
		if cfg.WorkspaceID == "" {
			missing = append(missing, "LOG_ANALYTICS_WORKSPACE_ID")
		}
		if cfg.TableConn == "" && cfg.TableEndpoint == "" {
			missing = append(missing, "DEDUP_TABLE_CONNECTION or DEDUP_TABLE_ENDPOINT")
		}
		if cfg.SlackToken == "" && cfg.SlackWebhook == "" {
			missing = append(missing, "SLACK_BOT_TOKEN (with SLACK_CHANNEL) or SLACK_WEBHOOK_URL")
		}
		if len(missing) > 0 && len(missing) < 3 {
			return fmt.Errorf("serve needs settings %s (with none of these settings it runs in local sample mode)", strings.Join(missing, ", "))
		}
		a, err := wire(wiring{cfg: cfg, log: log, local: local, state: *state, tune: tune, stdout: e.stdout})
		if err != nil {
			return err
		}
		var invokedAt atomic.Pointer[time.Time]
		if *hostClock {
			a.runner.Now = func() time.Time { return *invokedAt.Load() }
		}
		run := func(ctx context.Context, inv azfunc.Invocation) (string, error) {
			if *hostClock {
				if inv.UtcNow.IsZero() {
					return "", fmt.Errorf("--host-clock: the invocation has no Metadata.sys.UtcNow")
				}
				invokedAt.Store(&inv.UtcNow)
			}
			ctx, cancel := context.WithTimeout(ctx, 9*time.Minute) // below host.json's functionTimeout
			defer cancel()
			sum, err := a.runner.Tick(ctx, a.pack, inv.Timer.Tick())
			for _, run := range sum.Runs {
				a.log.Info("run", "summary", run)
			}
			a.log.Info("tick", "hunts", sum.Hunts, "due", sum.Due, "failed", sum.Failed, "skipped", sum.Skipped, "pastDue", inv.Timer.IsPastDue, "ok", err == nil)
			return a.runner.Redact(sum.String()), err
		}
		return azfunc.Serve(ctx, log, e.getenv("FUNCTIONS_CUSTOMHANDLER_PORT"), azfunc.Handler(log, functionName, run), *grace)
	}
}
