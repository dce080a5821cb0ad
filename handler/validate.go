package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/huntwatch/huntwatch/handler/config"
	"github.com/huntwatch/huntwatch/handler/hunt"
	"github.com/huntwatch/huntwatch/handler/kql"
	"github.com/huntwatch/huntwatch/handler/logdir"
)

// validateCommand checks hunt files without data: YAML shape, and that the columns the pipeline
// needs are in the query's result.
var validateCommand = command{
	name: "validate",
	args: "[FILE|NAME...]",
	summary: `check hunts (default: every bundled hunt): YAML shape, fence, and that the query runs
over the table schemas and returns the entity, fingerprint and occurrence columns. A
bundled reference hunt kept as it is upstream is reported as "ref", not as a failure,
unless named.`,
	minArgs: 0, maxArgs: -1,
	setup: setupValidate,
}

func setupValidate(fs *flag.FlagSet, e env) func(context.Context, []string) error {
	schemaDir := fs.String("schemas", "", "`DIR` of <Table>.txt schemas (one Column:type a line) adding tables to the built-in ones,\nor replacing one")
	return func(ctx context.Context, refs []string) error {
		schemas, err := logdir.Schemas(*schemaDir)
		if err != nil {
			return err
		}
		named := len(refs) > 0
		if !named {
			if refs = config.SplitList(e.getenv("HUNTS")); len(refs) == 0 {
				refs = hunt.Bundled()
			}
		}
		pack := hunt.LoadPack(refs)
		cfg, _ := config.Load(e.getenv) // for HUNT_LOOKBACK, the default lookback; its defaults if unset
		runner := &hunt.Runner{Lookback: cfg.Lookback}
		var errs []error
		for _, b := range pack.Broken {
			errs = append(errs, b)
			fmt.Fprintf(e.stdout, "FAIL %s: %v\n", b.Source, b.Err)
		}
		for _, h := range pack.Hunts {
			name := strings.TrimPrefix(h.Source, "bundled:")
			var cols []hunt.Column
			err := hunt.Check(ctx, h, func(ctx context.Context, q string) ([]hunt.Column, error) {
				c, err := resultColumns(ctx, schemas, q)
				cols = c
				return c, err
			})
			warnings := h.Warnings
			switch {
			case unknownName(err):
				// A custom table or a function (an ASIM parser, a watchlist) the offline schemas
				// cannot know: the hunt may well run in the workspace, and its result columns
				// cannot be known here.
				warnings = append(warnings, fmt.Sprintf("%v (add its schema with --schemas to check the rest)", err))
				err = nil
			case err == nil:
				for _, m := range hunt.MissingColumns(h, cols) {
					err = errors.Join(err, fmt.Errorf("hunt %s: %s names column %q, which the query does not return", h.Name, m.Field, m.Column))
				}
			}
			switch {
			case err != nil && h.Reference != "" && !named:
				fmt.Fprintf(e.stdout, "ref  %s (%s)\n", name, h.Reference)
			case err != nil:
				errs = append(errs, err)
				fmt.Fprintf(e.stdout, "FAIL %s: %v\n", name, err)
			default:
				fmt.Fprintf(e.stdout, "ok   %s (%s; %s)\n", name, h.Name, runner.Cadence(h))
			}
			for _, w := range warnings {
				fmt.Fprintf(e.stdout, "warn %s: %s\n", name, w)
			}
		}
		return errors.Join(errs...)
	}
}

// unknownName reports whether err is the engine not knowing a table or function.
func unknownName(err error) bool {
	var kerr *kql.Error
	return errors.As(err, &kerr) && kerr.UnknownName()
}

// resultColumns runs q over empty tables of the given schemas, to learn its result columns.
func resultColumns(ctx context.Context, schemas map[string][]kql.Column, q string) ([]hunt.Column, error) {
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
