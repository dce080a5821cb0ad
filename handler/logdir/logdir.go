// Package logdir is the hunt pipeline's offline query source: it runs a hunt's KQL with the
// embedded engine (package kql) over tables exported to a folder (Log Analytics or Defender
// exports as JSON, NDJSON or CSV), typed by the table schemas. Local sample mode uses it over
// testdata/logs, and users test their own hunts with it before deploying them.
package logdir

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/huntwatch/huntwatch/handler/hunt"
	"github.com/huntwatch/huntwatch/handler/kql"
)

// Source runs queries over the tables of one folder, loaded once on first use.
type Source struct {
	dir, schemaDir string

	once sync.Once
	db   kql.Database
	err  error
}

var _ hunt.Source = (*Source)(nil)

// New returns a source over the tables in dir, typed by the schemas in schemaDir (may be empty).
func New(dir, schemaDir string) *Source {
	return &Source{dir: dir, schemaDir: schemaDir}
}

// Tables loads (once) and returns the folder's tables.
func (s *Source) Tables() (kql.Database, error) {
	s.once.Do(func() {
		var schemas map[string][]kql.Column
		if s.schemaDir != "" {
			if schemas, s.err = kql.LoadSchemas(s.schemaDir); s.err != nil {
				s.err = fmt.Errorf("table schemas in %s: %w", s.schemaDir, s.err)
				return
			}
		}
		if s.db, s.err = kql.LoadDir(s.dir, schemas); s.err != nil {
			s.err = fmt.Errorf("logs folder %s: %w", s.dir, s.err)
		}
	})
	return s.db, s.err
}

// Query runs query with the rows outside timespan hidden, as Log Analytics does, and now() at
// timespan's end.
func (s *Source) Query(ctx context.Context, query string, timespan hunt.Window) (*hunt.Result, error) {
	db, err := s.Tables()
	if err != nil {
		return nil, err
	}
	t, err := kql.Run(ctx, query, db, kql.Options{Now: timespan.End, From: timespan.Start, To: timespan.End})
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
