// Command huntwatch runs a Microsoft Sentinel hunting query on a timer, remembers what it found in
// Azure Table Storage and posts each new finding to Slack. The Azure Functions host starts it as a
// custom handler ("huntwatch serve"); people run it from a shell ("huntwatch run").
//
// This file only wires: settings -> adapters -> the hunt pipeline (package hunt) -> server or command.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/huntwatch/huntwatch/handler/azfunc"
	"github.com/huntwatch/huntwatch/handler/config"
	"github.com/huntwatch/huntwatch/handler/filestore"
	"github.com/huntwatch/huntwatch/handler/hunt"
	"github.com/huntwatch/huntwatch/handler/kql"
	"github.com/huntwatch/huntwatch/handler/loganalytics"
	"github.com/huntwatch/huntwatch/handler/logdir"
	"github.com/huntwatch/huntwatch/handler/logging"
	"github.com/huntwatch/huntwatch/handler/slack"
	"github.com/huntwatch/huntwatch/handler/tablestore"
)

// functionName is the function folder's name: the host invokes POST /function.
const functionName = "function"

// Local sample mode defaults, relative to the repository root.
const (
	defaultLogs    = "testdata/logs"
	defaultSchemas = "testdata/schemas"
	defaultState   = ".huntwatch/state.json"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(Main(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// Main runs the command line args and returns the exit code.
func Main(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cmd := "help"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	} else if azfunc.IsFunctionsHost(getenv) {
		cmd = "serve"
	}
	var err error
	switch cmd {
	case "serve":
		err = serve(ctx, args, getenv, stdout, stderr)
	case "run":
		err = runOnce(ctx, args, getenv, stdout, stderr)
	case "validate":
		err = validate(ctx, args, stdout)
	case "query":
		err = query(ctx, args, stdout)
	case "preview":
		err = preview(ctx, args, stdout)
	case "hunts":
		for _, name := range hunt.Bundled() {
			fmt.Fprintln(stdout, name)
		}
	case "help", "-h", "-help", "--help":
		usage(stdout)
	default:
		fmt.Fprintf(stderr, "huntwatch: unknown command %q\n\n", cmd)
		usage(stderr)
		return 2
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "huntwatch %s: %v\n", cmd, err)
		return 1
	}
	return 0
}

func usage(w io.Writer) {
	fmt.Fprint(w, `huntwatch runs a Microsoft Sentinel hunting query on a schedule, remembers each finding's
fingerprint in Azure Table Storage, and posts every new finding to Slack.

Usage:
  huntwatch run [--dry-run] [--hunt NAME|FILE] [--logs DIR] [--state FILE]
        run the hunt once now and print a summary. Without LOG_ANALYTICS_WORKSPACE_ID it runs
        over the sample logs in testdata/logs with the embedded KQL engine; without DEDUP_TABLE_*
        it keeps state in a local file; without SLACK_* it prints the messages here.
        --dry-run queries but writes no state and posts nothing, printing what it would send.
  huntwatch serve
        the Azure Functions custom handler: listens on 127.0.0.1:$FUNCTIONS_CUSTOMHANDLER_PORT,
        answers readiness on / and runs the hunt on POST /function (the timer).
  huntwatch validate [FILE|NAME...]
        check hunt files (default: every bundled hunt): YAML shape, fence, and that the entity,
        fingerprint and occurrence columns are in the query's result.
  huntwatch query [--logs DIR] [--schemas DIR] [--from T --to T] HUNT|FILE.kql|'KQL'
        run a hunt or any KQL over a logs folder with the embedded engine and print the table.
  huntwatch preview [--logs DIR] [--hunt NAME|FILE] [--out DIR]
        render the Slack messages for the sample data as Block Kit JSON files (default
        dist/preview), ready to paste into Slack's Block Kit Builder.
  huntwatch hunts
        list the bundled hunts.

Settings (environment variables; Azure Functions app settings):
`)
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	for _, s := range config.Settings {
		def := s.Default
		if def != "" {
			def = "(default " + def + ")"
		}
		fmt.Fprintf(tw, "  %s\t%s %s\n", s.Name, s.Help, def)
	}
	tw.Flush()
	fmt.Fprint(w, `
Local quick start:  go run ./handler run      Tests:  bash .ci/run
`)
}

// app is everything a run needs, wired from settings.
type app struct {
	log    *slog.Logger
	hunt   *hunt.Hunt
	runner *hunt.Runner
}

type localPaths struct{ logs, schemas, state string }

// tuning holds knobs that are flags of serve, not settings: the test and benchmark suites shorten
// them. Zero values keep the defaults.
type tuning struct {
	slackInterval time.Duration // least time between Slack posts (default 1s; negative: none)
	lease         time.Duration // how long a claim keeps other runs off a finding (default 15m)
	queryTimeout  time.Duration // Log Analytics server timeout (default 3m)
}

func wire(ctx context.Context, cfg config.Config, log *slog.Logger, local localPaths, tune tuning, stdout io.Writer, dryRun bool) (*app, error) {
	h, err := hunt.Load(cfg.HuntFile)
	if err != nil {
		return nil, fmt.Errorf("setting HUNT_FILE: %w", err)
	}
	var cred azcore.TokenCredential
	if cfg.WorkspaceID != "" || cfg.TableEndpoint != "" {
		if cred, err = credential(cfg.ClientID); err != nil {
			return nil, err
		}
	}

	var src hunt.Source
	now := time.Now
	if cfg.WorkspaceID != "" {
		if src, err = loganalytics.New(cfg.WorkspaceID, cfg.LogsEndpoint, cred, loganalytics.Options{ServerTimeout: tune.queryTimeout}); err != nil {
			return nil, fmt.Errorf("setting LOG_ANALYTICS_ENDPOINT: %w", err)
		}
	} else {
		logs := logdir.New(local.logs, local.schemas)
		latest, err := logs.Latest()
		if err != nil {
			return nil, err
		}
		// The sample is a recording: run as of just after its last event has settled.
		asOf := latest.Add(cfg.Settle + time.Minute)
		now = func() time.Time { return asOf }
		log.Info("no LOG_ANALYTICS_WORKSPACE_ID: local sample mode", "logs", local.logs, "asOf", asOf)
		src = logs
	}

	var store hunt.Store
	switch {
	case cfg.TableConn != "":
		store, err = tablestore.FromConnectionString(log, cfg.TableConn, cfg.TableName, nil)
	case cfg.TableEndpoint != "":
		store, err = tablestore.FromEndpoint(log, cfg.TableEndpoint, cred, cfg.TableName, nil)
	default:
		log.Info("no DEDUP_TABLE_CONNECTION or DEDUP_TABLE_ENDPOINT: dedup state in a local file", "file", local.state)
		store, err = filestore.Open(local.state)
	}
	if err != nil {
		return nil, err
	}

	var notifier hunt.Notifier
	if cfg.SlackToken != "" || cfg.SlackWebhook != "" {
		opts := slackOptions(cfg)
		opts.MinInterval = tune.slackInterval
		notifier, err = slack.New(log, opts)
		if err != nil {
			return nil, err
		}
	}
	if notifier == nil || dryRun {
		notifier = &slack.Printer{W: stdout, WorkspaceResourceID: cfg.WorkspaceARM}
	}

	return &app{log: log, hunt: h, runner: &hunt.Runner{
		Log: log, Source: src, Store: store, Notifier: notifier, Now: now, Lease: tune.lease,
		Lookback: cfg.Lookback, MaxCatchup: cfg.MaxCatchup, Settle: cfg.Settle, TTL: cfg.TTL, DryRun: dryRun,
		DigestThreshold: cfg.Digest, AlertAfter: cfg.AlertAfter, Heartbeat: cfg.Heartbeat, HeartbeatHour: cfg.HeartbeatHour,
		Redact: logging.Redactor(cfg.Secrets()),
	}}, nil
}

func slackOptions(cfg config.Config) slack.Options {
	return slack.Options{Token: cfg.SlackToken, Channel: cfg.SlackChannel, WebhookURL: cfg.SlackWebhook, APIURL: cfg.SlackAPIURL,
		WorkspaceResourceID: cfg.WorkspaceARM}
}

// credential picks the managed identity in Azure (AZURE_CLIENT_ID selects a user-assigned one) and
// the developer's Azure CLI or environment credentials elsewhere.
func credential(clientID string) (azcore.TokenCredential, error) {
	if clientID != "" || os.Getenv("IDENTITY_ENDPOINT") != "" || os.Getenv("MSI_ENDPOINT") != "" {
		opts := &azidentity.ManagedIdentityCredentialOptions{}
		if clientID != "" {
			opts.ID = azidentity.ClientID(clientID)
		}
		cred, err := azidentity.NewManagedIdentityCredential(opts)
		if err != nil {
			return nil, fmt.Errorf("managed identity (setting AZURE_CLIENT_ID): %w", err)
		}
		return cred, nil
	}
	cred, err := azidentity.NewDefaultAzureCredential(nil)
	if err != nil {
		return nil, fmt.Errorf("azure credential: %w", err)
	}
	return cred, nil
}

func loadConfig(getenv func(string) string, stdout, stderr io.Writer) (config.Config, *slog.Logger, error) {
	cfg, err := config.Load(getenv)
	log := logging.New(stdout, stderr, cfg.LogLevel, cfg.Secrets())
	if err != nil {
		return cfg, log, fmt.Errorf("bad settings:\n%w", err)
	}
	return cfg, log, nil
}

func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	grace := fs.Duration("grace", 20*time.Second, "on SIGTERM, how long a run in flight may finish before it is stopped")
	// Not a setting, and not in the usage text: the benchmarks (handler/bench) use it to time
	// flood runs without Slack's pacing. 0 keeps the default (1 s); negative turns pacing off.
	slackInterval := fs.Duration("slack-min-interval", 0, "least time between Slack posts (benchmarks only)")
	// Not settings either: the reliability suite (handler/reliability_test.go) shortens them to
	// see, within seconds, a killed run's claim lapse and a query outlive its deadline.
	lease := fs.Duration("lease", 0, "how long a run's claim keeps other runs off a finding (default 15m, above the 9-minute run timeout)")
	queryTimeout := fs.Duration("query-timeout", 0, "how long Log Analytics may work on a query (default 3m; the call gets up to twice this, at most a minute more)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, log, err := loadConfig(getenv, stdout, stderr)
	if err != nil {
		return err
	}
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
	if len(missing) > 0 {
		return fmt.Errorf("serve needs settings %s (use \"huntwatch run\" for local sample mode)", strings.Join(missing, ", "))
	}
	a, err := wire(ctx, cfg, log, localPaths{}, tuning{slackInterval: *slackInterval, lease: *lease, queryTimeout: *queryTimeout}, stdout, false)
	if err != nil {
		return err
	}
	run := func(ctx context.Context, inv azfunc.Invocation) (string, error) {
		ctx, cancel := context.WithTimeout(ctx, 9*time.Minute) // below host.json's functionTimeout
		defer cancel()
		pastDue := inv.Timer.IsPastDue
		sum, err := a.runner.Run(ctx, a.hunt)
		a.log.Info("run", "summary", sum, "pastDue", pastDue, "ok", err == nil)
		return a.runner.Redact(sum.String()), err
	}
	return azfunc.Serve(ctx, log, getenv("FUNCTIONS_CUSTOMHANDLER_PORT"), azfunc.Handler(log, functionName, run), *grace)
}

func runOnce(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dry := fs.Bool("dry-run", false, "query, but write no state and post nothing; print the messages instead")
	huntRef := fs.String("hunt", "", "bundled hunt name or hunt YAML file (overrides HUNT_FILE)")
	logs := fs.String("logs", defaultLogs, "logs folder for local sample mode (no LOG_ANALYTICS_WORKSPACE_ID)")
	schemas := fs.String("schemas", defaultSchemas, "table schemas for the logs folder")
	state := fs.String("state", defaultState, "dedup state file when no DEDUP_TABLE_* setting is set")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, log, err := loadConfig(getenv, stderr, stderr)
	if err != nil {
		return err
	}
	if *huntRef != "" {
		cfg.HuntFile = *huntRef
	}
	if cfg.WorkspaceID == "" {
		if _, err := os.Stat(*logs); err != nil {
			return fmt.Errorf("local sample mode needs the logs folder %s (run from the repository root, or pass --logs): %w", *logs, err)
		}
	}
	a, err := wire(ctx, cfg, log, localPaths{logs: *logs, schemas: *schemas, state: *state}, tuning{}, stdout, *dry)
	if err != nil {
		return err
	}
	sum, err := a.runner.Run(ctx, a.hunt)
	fmt.Fprintln(stdout, a.runner.Redact(sum.String()))
	return err
}

func validate(ctx context.Context, args []string, stdout io.Writer) error {
	refs := args
	if len(refs) == 0 {
		refs = hunt.Bundled()
	}
	var errs []error
	for _, ref := range refs {
		h, err := hunt.Load(ref)
		if err == nil {
			err = hunt.Check(ctx, h, func(ctx context.Context, q string) ([]hunt.Column, error) {
				return resultColumns(ctx, q)
			})
		}
		if err != nil {
			errs = append(errs, err)
			fmt.Fprintf(stdout, "FAIL %s\n", ref)
			continue
		}
		fmt.Fprintf(stdout, "ok   %s (%s)\n", ref, h.Name)
	}
	return errors.Join(errs...)
}

// resultColumns runs q over empty tables of the known schemas, to learn its result columns.
func resultColumns(ctx context.Context, q string) ([]hunt.Column, error) {
	schemas, err := kql.LoadSchemas(defaultSchemas)
	if err != nil {
		return nil, err
	}
	db := kql.Database{}
	for name, cols := range schemas {
		db[name] = &kql.Table{Name: name, Columns: cols}
	}
	now := time.Now()
	w := hunt.Window{Start: now.Add(-time.Hour), End: now}
	t, err := kql.Run(ctx, w.Declare(q), db, kql.Options{Now: now})
	if err != nil {
		return nil, err
	}
	return logdir.Result(t).Columns, nil
}

func query(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("query", flag.ContinueOnError)
	logs := fs.String("logs", defaultLogs, "logs folder")
	schemas := fs.String("schemas", defaultSchemas, "table schemas")
	lookback := fs.Duration("lookback", 0, "declare HuntStart/HuntEnd and show only rows of this window ending now (0: all rows)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("query takes one hunt name, hunt file, .kql file or KQL text")
	}
	text := fs.Arg(0)
	if h, err := hunt.Load(text); err == nil {
		text = h.Query
	} else if data, err := os.ReadFile(text); err == nil {
		text = string(data)
	}
	src := logdir.New(*logs, *schemas)
	db, err := src.Tables()
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	w := hunt.Window{Start: time.Unix(0, 0).UTC(), End: now}
	opts := kql.Options{Now: now}
	if *lookback > 0 {
		w.Start = now.Add(-*lookback)
		opts.From, opts.To = w.Start.Add(-hunt.ClockSkew), now
	}
	t, err := kql.Run(ctx, w.Declare(text), db, opts)
	if err != nil {
		return err
	}
	return kql.Format(stdout, t)
}

func preview(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("preview", flag.ContinueOnError)
	logs := fs.String("logs", defaultLogs, "logs folder")
	schemas := fs.String("schemas", defaultSchemas, "table schemas")
	huntRef := fs.String("hunt", "", "bundled hunt name or hunt YAML file (default: the bundled default hunt)")
	out := fs.String("out", "dist/preview", "folder for the JSON files")
	if err := fs.Parse(args); err != nil {
		return err
	}
	h, err := hunt.Load(*huntRef)
	if err != nil {
		return err
	}
	src := logdir.New(*logs, *schemas)
	latest, err := src.Latest()
	if err != nil {
		return err
	}
	w := hunt.Window{Start: latest.Add(-24 * time.Hour), End: latest.Add(time.Minute)}
	res, err := src.Query(ctx, w.Declare(h.Query), hunt.Window{Start: w.Start.Add(-hunt.ClockSkew), End: w.End})
	if err != nil {
		return err
	}
	found, err := hunt.Findings(h, res)
	if err != nil {
		return err
	}
	ptrs := make([]*hunt.Finding, len(found))
	for i := range found {
		ptrs[i] = &found[i]
	}
	paths, err := slack.Preview(h, ptrs, *out)
	for _, p := range paths {
		fmt.Fprintln(stdout, p)
	}
	return err
}
