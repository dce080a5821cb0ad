// Command huntwatch runs a Microsoft Sentinel hunting query on a timer, remembers what it found in
// Azure Table Storage and posts each new finding to Slack. The Azure Functions host starts it as a
// custom handler ("huntwatch serve"); people run it from a shell ("huntwatch run").
//
// This file dispatches and wires: the command table (each command lives in its own file: run.go,
// serve.go, validate.go, query.go, preview.go; command.go parses and writes the usage text), then
// settings -> adapters -> the hunt pipeline (package hunt) for the commands that run it.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/huntwatch/huntwatch/handler/azfunc"
	"github.com/huntwatch/huntwatch/handler/config"
	"github.com/huntwatch/huntwatch/handler/filestore"
	"github.com/huntwatch/huntwatch/handler/hunt"
	"github.com/huntwatch/huntwatch/handler/loganalytics"
	"github.com/huntwatch/huntwatch/handler/logging"
	"github.com/huntwatch/huntwatch/handler/slack"
	"github.com/huntwatch/huntwatch/handler/tablestore"
)

// functionName is the function folder's name: the host invokes POST /function.
const functionName = "function"

// commands is every subcommand, in the order the usage text lists them.
var commands = []command{runCommand, serveCommand, validateCommand, queryCommand, previewCommand, huntsCommand}

func main() {
	// The first Ctrl-C or SIGTERM stops the run gently: no new post starts, and one in flight
	// finishes and is recorded (hunt.Runner.Grace). A second one ends the process at once.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	context.AfterFunc(ctx, func() {
		stop()
		fmt.Fprintln(os.Stderr, "huntwatch: stopping: no new message is sent, one in flight may finish (again to quit at once)")
	})
	os.Exit(Main(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// Main runs the command line args and returns the exit code: 0, 1 when the command failed, 2 on
// a usage error.
func Main(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	name := "help"
	if len(args) > 0 {
		name, args = args[0], args[1:]
	} else if azfunc.IsFunctionsHost(getenv) {
		name = "serve"
	}
	switch name {
	case "help", "-h", "-help", "--help":
		if len(args) == 0 {
			usage(stdout)
			return 0
		}
		name, args = args[0], []string{"--help"} // help COMMAND
	}
	for _, c := range commands {
		if c.name == name {
			return c.main(ctx, args, env{getenv: getenv, stdout: stdout, stderr: stderr})
		}
	}
	fmt.Fprintf(stderr, "huntwatch: unknown command %q\n\n", name)
	usage(stderr)
	return 2
}

// app is everything a run needs, wired from settings.
type app struct {
	log    *slog.Logger
	pack   *hunt.Pack
	runner *hunt.Runner
}

// tuning holds knobs that are flags of serve, not settings: the test and benchmark suites shorten
// them. Zero values keep the defaults.
type tuning struct {
	slackInterval time.Duration // least time between Slack posts (default 1s; negative: none)
	lease         time.Duration // how long a claim keeps other runs off a finding (default 15m)
	queryTimeout  time.Duration // Log Analytics server timeout (default 3m)
}

// wiring is what wire builds an app from.
type wiring struct {
	cfg config.Config
	log *slog.Logger
	// Local sample mode: the logs folder, its schemas and its clock for want of
	// LOG_ANALYTICS_WORKSPACE_ID, and the state file for want of DEDUP_TABLE_*.
	local localFlags
	state string
	// store and notifier, when set, stand in for those the settings name (preview's).
	store    hunt.Store
	notifier hunt.Notifier
	tune     tuning
	stdout   io.Writer // where messages are printed without SLACK_* settings, or in a dry run
	dryRun   bool      // query and notify, but write no state (and create no file) and post nothing
	// only, when set, narrows the pack to one hunt: its name or ID in the pack, or a bundled
	// name or YAML file (run --hunt, preview --hunt).
	only string
}

// wire builds the adapters the settings name, local ones for those absent, and the Runner over them.
func wire(w wiring) (*app, error) {
	cfg, log := w.cfg, w.log
	setting := "HUNTS"
	if cfg.HuntFile != "" {
		setting = "HUNT_FILE"
	}
	pack, err := loadPack(log, setting, cfg.Hunts, w.only)
	if err != nil {
		return nil, err
	}
	var cred azcore.TokenCredential
	if cfg.WorkspaceID != "" || w.store == nil && cfg.TableEndpoint != "" {
		if cred, err = credential(cfg.ClientID); err != nil {
			return nil, err
		}
	}

	var src hunt.Source
	now := time.Now
	if cfg.WorkspaceID != "" {
		if !w.local.now.IsZero() {
			return nil, errors.New("--now is for local sample mode: with LOG_ANALYTICS_WORKSPACE_ID the clock is the wall clock")
		}
		if src, err = loganalytics.New(cfg.WorkspaceID, cfg.LogsEndpoint, cred, loganalytics.Options{ServerTimeout: w.tune.queryTimeout}); err != nil {
			return nil, fmt.Errorf("setting LOG_ANALYTICS_ENDPOINT: %w", err)
		}
	} else {
		logs, asOf, err := w.local.source(cfg.Settle)
		if err != nil {
			return nil, err
		}
		now = func() time.Time { return asOf }
		log.Info("no LOG_ANALYTICS_WORKSPACE_ID: local sample mode", "logs", w.local.logs, "asOf", asOf)
		src = logs
	}

	store := w.store
	switch {
	case store != nil:
	case cfg.TableConn != "":
		store, err = tablestore.FromConnectionString(log, cfg.TableConn, cfg.TableName, nil)
	case cfg.TableEndpoint != "":
		store, err = tablestore.FromEndpoint(log, cfg.TableEndpoint, cred, cfg.TableName, nil)
	case w.dryRun:
		store, err = filestore.OpenReadOnly(w.state)
	default:
		log.Info("no DEDUP_TABLE_CONNECTION or DEDUP_TABLE_ENDPOINT: dedup state in a local file", "file", w.state)
		store, err = filestore.Open(w.state)
	}
	if err != nil {
		return nil, err
	}
	if w.dryRun {
		store = hunt.DryRun(store)
	}

	notifier := w.notifier
	if notifier == nil && (cfg.SlackToken != "" || cfg.SlackWebhook != "") {
		opts := slackOptions(cfg)
		opts.MinInterval = w.tune.slackInterval
		if notifier, err = slack.New(log, opts); err != nil {
			return nil, err
		}
		if w.dryRun {
			notifier = nil // the settings are checked; the messages are printed
		}
	}
	if notifier == nil {
		notifier = &slack.Printer{W: w.stdout, WorkspaceResourceID: cfg.WorkspaceARM}
	}

	return &app{log: log, pack: pack, runner: &hunt.Runner{
		Log: log, Source: src, Store: store, Notifier: notifier, Now: now, Lease: w.tune.lease,
		Lookback: cfg.Lookback, MaxCatchup: cfg.MaxCatchup, Settle: cfg.Settle, TTL: cfg.TTL,
		Frequency: everyTickIfZero(cfg.Frequency), Concurrency: cfg.Concurrency, MaxRows: cfg.MaxRows, DigestThreshold: cfg.Digest, AlertAfter: cfg.AlertAfter, Heartbeat: cfg.Heartbeat, HeartbeatHour: cfg.HeartbeatHour,
		Redact: logging.Redactor(cfg.Secrets()),
	}}, nil
}

// everyTickIfZero maps HUNT_FREQUENCY to hunt.Runner.Frequency, where 0 is the default and a
// negative value every tick.
func everyTickIfZero(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}

// loadPack loads the hunts refs name (the bundled pack when none), logging what loading tolerated
// and every file it could not load: those are left out, and the others run. With only, the pack
// is that one hunt: the pack's hunt of that name or ID, else a bundled name or a file.
func loadPack(log *slog.Logger, setting string, refs []string, only string) (*hunt.Pack, error) {
	if len(refs) == 0 {
		refs, setting = hunt.BundledPack(), "the bundled pack"
	}
	pack := hunt.LoadPack(refs)
	if only != "" {
		if h := pack.Hunt(only); h != nil {
			pack = &hunt.Pack{Hunts: []*hunt.Hunt{h}}
		} else if pack, setting = hunt.LoadPack([]string{only}), "--hunt"; len(pack.Broken) > 0 {
			return nil, fmt.Errorf("--hunt %s: %w", only, pack.Broken[0].Err)
		}
	}
	for _, h := range pack.Hunts {
		for _, w := range h.Warnings {
			log.Warn("hunt loaded with a warning", "hunt", h.Name, "warning", w)
		}
	}
	for _, b := range pack.Broken {
		log.Error("hunt not loaded: it will not run", "source", b.Source, "err", b.Err)
	}
	if len(pack.Hunts) == 0 {
		var errs []error
		for _, b := range pack.Broken {
			errs = append(errs, b)
		}
		return nil, fmt.Errorf("%s: no hunt could be loaded: %w", setting, errors.Join(errs...))
	}
	return pack, nil
}

func slackOptions(cfg config.Config) slack.Options {
	return slack.Options{Token: cfg.SlackToken, Channel: cfg.SlackChannel, WebhookURL: cfg.SlackWebhook, APIURL: cfg.SlackAPIURL,
		WorkspaceResourceID: cfg.WorkspaceARM, Channels: cfg.SlackChannels, Webhooks: cfg.SlackWebhooks}
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
