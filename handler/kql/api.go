package kql

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// The public API. Every exported name of the package is declared in this
// file: the table model (Column, Table, Database), running and checking a
// query (Options, Run, Query, Parse), its errors (Error, Pos), loading tables
// from files (LoadDir, LoadSchemas, ParseSchema), naming externaldata files
// (ExternalDataFile) and printing tables (Format).
// What they call is unexported and lives in the layer files doc.go lists.

// Column is a named, typed column. Type is a Kusto type name: bool, int, long,
// real, decimal, string, datetime, timespan, guid, dynamic.
type Column struct{ Name, Type string }

// Table is an in-memory table, and the result of a query.
//
// Values in Rows: nil for null; bool; int64 (int, long); float64 (real,
// decimal); string (string, guid); time.Time in UTC (datetime); time.Duration
// (timespan); dynamic: decoded JSON values (map[string]any, []any, string,
// float64 or int64, bool, nil), plus time.Time and time.Duration inside values
// built by the query (make_list of datetimes).
type Table struct {
	Name    string
	Columns []Column
	Rows    [][]any
}

// Database holds the tables a query can read, by name.
type Database map[string]*Table

// Options tune one evaluation.
type Options struct {
	// Now is the value of now() and the base of ago(); zero means time.Now().
	Now time.Time
	// From and To, when set, work like Log Analytics' query timespan: rows of
	// any table with a TimeGenerated column outside [From, To] are invisible.
	From, To time.Time
	// ExternalData maps the URLs of externaldata sources to local files:
	// queries run offline, so what externaldata [url] would download must be
	// saved beforehand. A URL not in the map is looked for in ExternalDataDir
	// (see ExternalDataFile); a URL found in neither fails the query with an
	// error naming the URL and the file to provide.
	ExternalData map[string]string
	// ExternalDataDir is the folder of downloaded externaldata files, by
	// convention <logs folder>/externaldata.
	ExternalDataDir string
}

// ExternalDataFile is the name under which Options.ExternalDataDir holds the
// content of an externaldata URL: the last segment of the URL's path
// (https://host/feeds/iocs.csv?x=1 -> iocs.csv), or, when the path has none,
// "externaldata-" and the first 12 hex digits of the URL's SHA-256. A file
// named by the hash is accepted in either case, for URLs whose last segments
// clash.
func ExternalDataFile(url string) string { return externalFileName(url) }

// Run parses and evaluates query over db.
func Run(ctx context.Context, query string, db Database, opts Options) (res *Table, err error) {
	q, err := Parse(query)
	if err != nil {
		return nil, err
	}
	defer func() {
		if r := recover(); r != nil {
			res, err = nil, fmt.Errorf("kql: internal error (a bug in the engine): %v", r)
		}
	}()
	return q.run(ctx, db, opts)
}

// Query is a parsed query. It is opaque: use it to check syntax (Parse) or
// hand the text to Run.
type Query struct {
	lets []*letStmt
	body *pipeline
}

// Parse checks the syntax of a query and returns its tree. Function names and
// column names are checked only when the query runs.
func Parse(query string) (*Query, error) {
	toks, err := lex(query)
	if err != nil {
		return nil, err
	}
	if strings.HasPrefix(strings.TrimSpace(query), "```") && len(toks) == 2 && toks[0].kind == tString {
		return nil, errorf(toks[0].pos, "the whole query is one ``` multi-line string literal: strip the markdown ```kusto fence first")
	}
	p := &parser{toks: toks}
	return p.query()
}

// Error is a syntax or evaluation error tied to a place in the query.
type Error struct {
	Pos Pos
	Msg string
	// unknownTable marks a reference to a table or function that does not
	// exist: union isfuzzy=true skips the legs that fail so.
	unknownTable bool
	// unknownFunc marks a call of a scalar function the engine does not know.
	unknownFunc bool
}

func (e *Error) Error() string { return fmt.Sprintf("kql %s: %s", e.Pos, e.Msg) }

// UnknownName reports whether the error is a table, or a tabular or scalar function, that the
// database or the engine does not know: a query that may run where that name exists (a custom
// table, an ASIM parser), as opposed to one that is wrong.
func (e *Error) UnknownName() bool { return e.unknownTable || e.unknownFunc }

// QueryPosition returns the error's line and column and its message without them, for callers
// that show the error at another place (the query's place in a file, say).
func (e *Error) QueryPosition() (line, col int, msg string) { return e.Pos.Line, e.Pos.Col, e.Msg }

// Pos is a position in the query text: 1-based line and column (in runes).
type Pos struct{ Line, Col int }

func (p Pos) String() string { return fmt.Sprintf("%d:%d", p.Line, p.Col) }

// LoadDir reads every <Table>.json (a JSON array of objects), <Table>.ndjson
// or .jsonl (one object a line) and <Table>.csv (with a header row) in dir. The
// table name is the file name up to its first dot, so several files of one
// table are concatenated. Values are converted to the schema's column types;
// columns missing from a file are null (empty for strings), and columns
// missing from the schema, or tables without one, are typed by inference. A
// folder with no such file is an error: the path is likely wrong.
func LoadDir(dir string, schemas map[string][]Column) (Database, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	raw := map[string][]record{}
	var order, ignored []string
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() {
			continue
		}
		i := slices.IndexFunc(tableFiles, func(k tableFile) bool { return strings.HasSuffix(name, k.ext) })
		if i < 0 {
			ignored = append(ignored, name)
			continue
		}
		recs, err := tableFiles[i].read(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		t := tableName(name)
		if _, ok := raw[t]; !ok {
			order = append(order, t)
		}
		raw[t] = append(raw[t], recs...)
	}
	if len(order) == 0 {
		found := "it is empty"
		if len(ignored) > 0 {
			found = "it has only " + strings.Join(ignored[:min(len(ignored), 5)], ", ")
			if len(ignored) > 5 {
				found += fmt.Sprintf(" and %d more", len(ignored)-5)
			}
		}
		return nil, fmt.Errorf("no tables (%s): want files named %s", found, tableFileKinds())
	}
	db := Database{}
	for _, name := range order {
		t, err := buildTable(name, schemas[name], raw[name])
		if err != nil {
			return nil, err
		}
		db[name] = t
	}
	return db, nil
}

// LoadSchemas reads every <Table>.txt in dir (see ParseSchema).
func LoadSchemas(dir string) (map[string][]Column, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.txt"))
	if err != nil {
		return nil, err
	}
	out := map[string][]Column{}
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		cols, err := ParseSchema(path, data)
		if err != nil {
			return nil, err
		}
		out[tableName(path)] = cols
	}
	return out, nil
}

// ParseSchema reads a table schema: one "Column:type" a line, with a Kusto type; blank lines
// and lines starting with # are ignored. Errors name path and the line.
func ParseSchema(path string, data []byte) ([]Column, error) {
	var cols []Column
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, typ, ok := strings.Cut(line, ":")
		name, typ = strings.TrimSpace(name), strings.TrimSpace(typ)
		ct, known := canonicalType(typ)
		if !ok || name == "" || !known {
			return nil, fmt.Errorf("%s:%d: want Column:type with a Kusto type, got %q", path, i+1, line)
		}
		if colIndex(cols, name) >= 0 {
			return nil, fmt.Errorf("%s:%d: column %s listed twice", path, i+1, name)
		}
		cols = append(cols, Column{Name: name, Type: ct})
	}
	return cols, nil
}

// Format writes a table as aligned text for a terminal: a header, a rule, one
// line per row. Values print as tostring() would; long values are truncated.
func Format(w io.Writer, t *Table) error {
	cells := make([][]string, 0, len(t.Rows)+1)
	header := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		header[i] = cellText(c.Name)
	}
	cells = append(cells, header)
	for _, r := range t.Rows {
		line := make([]string, len(t.Columns))
		for i := range t.Columns {
			if i < len(r) {
				line[i] = cellText(toStr(r[i]))
			}
		}
		cells = append(cells, line)
	}
	widths := make([]int, len(t.Columns))
	for _, line := range cells {
		for i, c := range line {
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	bw := bufio.NewWriter(w)
	for n, line := range cells {
		writeLine(bw, line, widths)
		if n == 0 {
			rule := make([]string, len(widths))
			for i, wd := range widths {
				rule[i] = strings.Repeat("-", wd)
			}
			writeLine(bw, rule, widths)
		}
	}
	return bw.Flush()
}
