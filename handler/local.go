package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/huntwatch/huntwatch/handler/logdir"
)

// Local sample mode defaults, relative to the repository root.
const (
	defaultLogs  = "testdata/logs"
	defaultState = ".huntwatch/state.json"
)

// localFlags are the flags of local sample mode (no LOG_ANALYTICS_WORKSPACE_ID), the same for
// every command that reads a logs folder: run, serve, query and preview.
type localFlags struct {
	logs    string
	schemas string    // "": the built-in table schemas only
	now     time.Time // zero: as of the logs' newest row (see localNow)
	// external maps externaldata URLs to local files (--externaldata URL=FILE); others are read
	// from <logs>/externaldata.
	external map[string]string
}

func (l *localFlags) define(fs *flag.FlagSet) {
	fs.StringVar(&l.logs, "logs", defaultLogs, "`DIR` of exported logs for local sample mode: <Table>.json, .ndjson or .csv")
	fs.Func("externaldata", "read an externaldata `URL=FILE` from FILE (repeatable); other URLs are read from the\nfile named after them in <logs>/externaldata", func(s string) error {
		url, file, ok := strings.Cut(s, "=")
		if !ok || url == "" || file == "" {
			return fmt.Errorf("want URL=FILE")
		}
		if l.external == nil {
			l.external = map[string]string{}
		}
		l.external[url] = file
		return nil
	})
	fs.StringVar(&l.schemas, "schemas", "", "`DIR` of <Table>.txt schemas (one Column:type a line) adding tables to the built-in ones,\nor replacing one")
	fs.Func("now", "evaluate as of `T` (RFC 3339, such as 2026-11-20T17:00:00Z) instead of the logs' newest\nrow + HUNT_SETTLE + 1m", func(s string) error {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return fmt.Errorf("want an RFC 3339 time such as 2026-11-20T17:00:00Z")
		}
		l.now = t.UTC()
		return nil
	})
}

// source opens the logs folder and returns it with the time local sample mode runs as of.
func (l localFlags) source(settle time.Duration) (*logdir.Source, time.Time, error) {
	if _, err := os.Stat(l.logs); err != nil {
		return nil, time.Time{}, fmt.Errorf("local sample mode needs the logs folder %s (run from the repository root, or pass --logs): %w", l.logs, err)
	}
	src := logdir.New(l.logs, l.schemas)
	src.ExternalFiles = l.external
	now, err := localNow(src, settle, l.now)
	if err != nil {
		return nil, time.Time{}, err
	}
	return src, now, nil
}

// localNow is the clock of local sample mode, one rule for run, serve, query and preview: the logs
// are a recording, so "now" is just after their newest row has settled, its TimeGenerated +
// settle + 1m (the window ends settle before now, so that row is inside it), whatever today's
// date is; pinned (--now), when set, is "now" instead.
func localNow(src *logdir.Source, settle time.Duration, pinned time.Time) (time.Time, error) {
	if !pinned.IsZero() {
		return pinned.UTC(), nil
	}
	latest, err := src.Latest()
	if err != nil {
		return time.Time{}, err
	}
	return latest.Add(settle + time.Minute).UTC(), nil
}
