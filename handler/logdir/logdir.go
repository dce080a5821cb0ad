// Package logdir is the hunt pipeline's offline query source: it runs a hunt's KQL with the
// embedded engine (package kql) over tables exported to a folder (Log Analytics or Defender
// exports as JSON, NDJSON or CSV), typed by the table schemas (built in, see Schemas). Local
// sample mode uses it over testdata/logs, and users test their own hunts with it before
// deploying them.
package logdir

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/huntwatch/huntwatch/handler/hunt"
	"github.com/huntwatch/huntwatch/handler/kql"
)

// Source runs queries over the tables of one folder, loaded once on first use.
type Source struct {
	dir, schemaDir string
	// ExternalFiles maps externaldata URLs to local files; a URL not in it is read from the
	// folder ExternalData names.
	ExternalFiles map[string]string

	once sync.Once
	db   kql.Database
	err  error
}

var (
	_ hunt.Source          = (*Source)(nil)
	_ hunt.PositionedError = (*kql.Error)(nil)
)

// New returns a source over the tables in dir, typed by the built-in schemas overlaid by those in
// schemaDir ("": the built-in ones only; see Schemas).
func New(dir, schemaDir string) *Source {
	return &Source{dir: dir, schemaDir: schemaDir}
}

// builtin holds the schema of each table huntwatch knows: <Table>.txt, one Column:type a line.
//
//go:embed schemas/*.txt
var builtin embed.FS

// builtinDir is where the built-in schemas are in the repository, for errors.
const builtinDir = "handler/logdir/schemas"

// Schemas returns the table schemas: the built-in ones, each replaced or joined by the
// <Table>.txt files of dir when dir is not "" (one Column:type a line, see kql.ParseSchema).
// Errors name the file and line.
func Schemas(dir string) (map[string][]kql.Column, error) {
	entries, err := fs.ReadDir(builtin, "schemas")
	if err != nil {
		return nil, err
	}
	out := map[string][]kql.Column{}
	for _, e := range entries {
		data, err := fs.ReadFile(builtin, path.Join("schemas", e.Name()))
		if err != nil {
			return nil, err
		}
		cols, err := kql.ParseSchema(path.Join(builtinDir, e.Name()), data)
		if err != nil {
			return nil, fmt.Errorf("built-in table schema: %w", err)
		}
		out[strings.TrimSuffix(e.Name(), ".txt")] = cols
	}
	if dir == "" {
		return out, nil
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		if err == nil {
			err = errors.New("not a folder")
		}
		return nil, fmt.Errorf("table schemas folder %s: %w", dir, err)
	}
	overlay, err := kql.LoadSchemas(dir)
	if err != nil {
		return nil, fmt.Errorf("table schemas folder %s: %w", dir, err)
	}
	for table, cols := range overlay {
		out[table] = cols
	}
	return out, nil
}

// Tables loads (once) and returns the folder's tables.
func (s *Source) Tables() (kql.Database, error) {
	s.once.Do(func() {
		var schemas map[string][]kql.Column
		if schemas, s.err = Schemas(s.schemaDir); s.err != nil {
			return
		}
		if s.db, s.err = kql.LoadDir(s.dir, schemas); s.err != nil {
			s.err = fmt.Errorf("logs folder %s: %w", s.dir, s.err)
		}
	})
	return s.db, s.err
}

// ExternalData is the folder externaldata reads its URLs from: externaldata beside the tables.
func (s *Source) ExternalData() string { return filepath.Join(s.dir, "externaldata") }

// Query runs query with the rows outside timespan hidden, as Log Analytics does, and now() at
// timespan's end. externaldata reads each URL from the folder externaldata beside the tables
// (see kql.ExternalDataFile for the file name a URL takes).
func (s *Source) Query(ctx context.Context, query string, timespan hunt.Window) (*hunt.Result, error) {
	db, err := s.Tables()
	if err != nil {
		return nil, err
	}
	t, err := kql.Run(ctx, query, db, kql.Options{Now: timespan.End, From: timespan.Start, To: timespan.End,
		ExternalDataDir: s.ExternalData(), ExternalData: s.ExternalFiles})
	if err != nil {
		return nil, err
	}
	return Result(t), nil
}

// Result converts an engine table to the pipeline's result.
func Result(t *kql.Table) *hunt.Result {
	res := &hunt.Result{Columns: make([]hunt.Column, len(t.Columns)), Rows: t.Rows}
	for i, c := range t.Columns {
		res.Columns[i] = hunt.Column{Name: c.Name, Type: c.Type}
	}
	return res
}

// Latest returns the newest TimeGenerated in the folder's tables: local sample mode runs "as of"
// just after it, so the bundled sample keeps producing findings whatever today's date is.
func (s *Source) Latest() (time.Time, error) {
	db, err := s.Tables()
	if err != nil {
		return time.Time{}, err
	}
	var latest time.Time
	for _, t := range db {
		for i, c := range t.Columns {
			if c.Name != "TimeGenerated" {
				continue
			}
			for _, row := range t.Rows {
				if v, ok := row[i].(time.Time); ok && v.After(latest) {
					latest = v
				}
			}
		}
	}
	if latest.IsZero() {
		return latest, fmt.Errorf("logs folder %s: no table has TimeGenerated values", s.dir)
	}
	return latest, nil
}
