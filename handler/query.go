package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/huntwatch/huntwatch/handler/hunt"
	"github.com/huntwatch/huntwatch/handler/kql"
	"github.com/huntwatch/huntwatch/handler/logdir"
)

// queryCommand runs a hunt or any KQL over a logs folder with the embedded engine and prints the
// table.
var queryCommand = command{
	name: "query",
	args: "HUNT|FILE|'KQL'",
	summary: `run a bundled hunt, a hunt file (.yaml, .yml), a KQL file or KQL text over a logs
folder with the embedded engine and print the table, on the same clock as run.
HuntStart and HuntEnd are declared; with --lookback only the rows of that window are
visible, as in a run.`,
	minArgs: 1, maxArgs: 1,
	setup: setupQuery,
}

func setupQuery(fs *flag.FlagSet, e env) func(context.Context, []string) error {
	var local localFlags
	local.define(fs)
	lookback := fs.Duration("lookback", 0, "show the rows a run with HUNT_LOOKBACK=`DURATION` would see (its window ends HUNT_SETTLE before\nnow), such as 24h; 0: every row, with the window from 1970 to now")
	return func(ctx context.Context, args []string) error {
		cfg, _, err := loadConfig(e.getenv, e.stderr, e.stderr)
		if err != nil {
			return err
		}
		src, now, err := local.source(cfg.Settle)
		if err != nil {
			return err
		}
		db, err := src.Tables()
		if err != nil {
			return err
		}
		schemas, err := logdir.Schemas(local.schemas)
		if err != nil {
			return err
		}
		text, err := queryText(args[0], func(table string) bool { return db[table] != nil || schemas[table] != nil })
		if err != nil {
			return err
		}
		w := hunt.Window{Start: time.Unix(0, 0).UTC(), End: now}
		opts := kql.Options{Now: now, ExternalDataDir: src.ExternalData(), ExternalData: src.ExternalFiles}
		if *lookback > 0 {
			// What a first run asks of its source (see hunt.Runner).
			w = hunt.NextWindow(now.Add(-cfg.Settle), time.Time{}, *lookback, *lookback)
			var span hunt.Window
			text, span = w.Request(text, now)
			opts.From, opts.To = span.Start, span.End
		} else {
			text = w.Declare(text)
		}
		fmt.Fprintf(e.stderr, "huntwatch query: as of %s, window %s\n", now.Format(time.RFC3339), w)
		t, err := kql.Run(ctx, text, db, opts)
		if err != nil {
			return err
		}
		return kql.Format(e.stdout, t)
	}
}

// word is a bare word: a KQL table name or a bundled hunt's name, not KQL with an operator.
var word = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]*$`)

// queryText returns the KQL that query's argument stands for:
//   - a name ending in .yaml or .yml is a hunt file, and .kql or .csl a KQL file: the file's
//     load error is the error;
//   - a bundled hunt's name is that hunt, and an existing file is KQL;
//   - anything but a bare word (spaces, '|', parentheses...) is KQL text;
//   - a bare word is KQL (a table alone) when isTable knows it, and otherwise a hunt's name
//     misspelt: "no bundled hunt named X".
func queryText(arg string, isTable func(string) bool) (string, error) {
	switch strings.ToLower(filepath.Ext(arg)) {
	case ".yaml", ".yml":
		h, err := hunt.Load(arg)
		if err != nil {
			return "", err
		}
		return h.Query, nil
	case ".kql", ".csl":
		data, err := os.ReadFile(arg)
		if err != nil {
			return "", fmt.Errorf("KQL file: %w", err)
		}
		return string(data), nil
	}
	if slices.Contains(hunt.Bundled(), arg) {
		h, err := hunt.Load(arg)
		if err != nil {
			return "", err
		}
		return h.Query, nil
	}
	if fi, err := os.Stat(arg); err == nil && !fi.IsDir() {
		data, err := os.ReadFile(arg)
		if err != nil {
			return "", fmt.Errorf("KQL file: %w", err)
		}
		return string(data), nil
	}
	if !word.MatchString(arg) || isTable(arg) {
		return arg, nil
	}
	return "", fmt.Errorf("no bundled hunt named %q (bundled: %s), and no file or table of that name", arg, strings.Join(hunt.Bundled(), ", "))
}
