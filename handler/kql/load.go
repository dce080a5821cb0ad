package kql

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Loading tables from files: schemas (<Table>.txt, one Column:type a line) and
// rows exported from Log Analytics or Defender as JSON arrays, NDJSON or CSV.

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

// tableName is the file name up to its first dot.
func tableName(path string) string {
	base := filepath.Base(path)
	if i := strings.IndexByte(base, '.'); i >= 0 {
		return base[:i]
	}
	return base
}

// tableFile is a kind of file LoadDir reads, known by the end of its name.
type tableFile struct {
	ext, what string
	read      func(path string) ([]record, error)
}

var tableFiles = []tableFile{
	{".json", "a JSON array of objects", readJSONArray},
	{".ndjson", "one JSON object a line", readNDJSON},
	{".jsonl", "one JSON object a line", readNDJSON},
	{".csv", "a header row, then one row a line", readCSV},
}

// tableFileKinds describes the files LoadDir reads, for messages.
func tableFileKinds() string {
	var kinds []string
	for _, k := range tableFiles {
		kinds = append(kinds, "<Table>"+k.ext+" ("+k.what+")")
	}
	return strings.Join(kinds, ", ")
}

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

// record is one row as read from a file: fields in file order.
type record struct {
	file   string
	row    int // 1-based
	line   int
	fields []field
}

type field struct {
	name  string
	value any // from JSON: string, json.Number, bool, nil, map, slice; from CSV: csvText
}

// csvText marks a CSV cell: text whose type is still to be decided.
type csvText string

func readJSONArray(path string) ([]record, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
		return nil, fmt.Errorf("%s: want a JSON array of objects", path)
	}
	var recs []record
	line, counted := 1, 0 // line number of data[counted]
	for dec.More() {
		off := int(dec.InputOffset())
		for off < len(data) && strings.IndexByte(" \t\r\n,", data[off]) >= 0 {
			off++
		}
		line += bytes.Count(data[counted:off], []byte("\n"))
		counted = off
		rec, err := readObject(dec)
		if err != nil {
			at, err := jsonError(data, off, err)
			return nil, fmt.Errorf("%s: row %d (%s): %v", path, len(recs)+1, place(data, at), err)
		}
		rec.file, rec.row, rec.line = path, len(recs)+1, line
		recs = append(recs, rec)
	}
	_, err = dec.Token() // the closing ]
	end := int(dec.InputOffset())
	if err == nil && len(bytes.TrimSpace(data[end:])) > 0 {
		err = errors.New("more text after the array")
		end += leadingSpace(data[end:])
	}
	if err != nil {
		at, err := jsonError(data, end, err)
		return nil, fmt.Errorf("%s: after row %d (%s): %v", path, len(recs), place(data, at), err)
	}
	return recs, nil
}

// jsonError places err, met reading the JSON value that starts at data[start]. A syntax error,
// or data cut short, is placed by checking the whole of data (a decoder's offsets are not all
// from the start of its input): at the offending character, or after the last one. Any other
// error (a value that is not an object) is placed at start.
func jsonError(data []byte, start int, err error) (int, error) {
	var raw json.RawMessage
	var se *json.SyntaxError
	syntax := errors.As(err, &se) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
	if syntax && errors.As(json.Unmarshal(data, &raw), &se) {
		if se.Error() == "unexpected end of JSON input" {
			return len(bytes.TrimRightFunc(data, unicode.IsSpace)), se
		}
		return int(se.Offset) - 1, se
	}
	return start, err
}

func leadingSpace(b []byte) int { return len(b) - len(bytes.TrimLeftFunc(b, unicode.IsSpace)) }

// place gives byte offset at of data as "line L, column C" (1-based, columns in characters).
func place(data []byte, at int) string {
	before := data[:max(0, min(at, len(data)))]
	lineStart := bytes.LastIndexByte(before, '\n') + 1
	return fmt.Sprintf("line %d, column %d", bytes.Count(before, []byte("\n"))+1, utf8.RuneCount(before[lineStart:])+1)
}

// readObject reads one JSON object keeping its keys in order.
func readObject(dec *json.Decoder) (record, error) {
	tok, err := dec.Token()
	if err != nil {
		return record{}, err
	}
	if tok != json.Delim('{') {
		return record{}, errors.New("want a JSON object")
	}
	var rec record
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return rec, err
		}
		var v any
		if err := dec.Decode(&v); err != nil {
			return rec, err
		}
		rec.fields = append(rec.fields, field{name: key.(string), value: v})
	}
	_, err = dec.Token()
	return rec, err
}

func readNDJSON(path string) ([]record, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	var recs []record
	for line := 1; sc.Scan(); line++ {
		text := bytes.TrimSpace(sc.Bytes())
		if len(text) == 0 {
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(text))
		dec.UseNumber()
		rec, err := readObject(dec)
		if err != nil {
			lead := leadingSpace(sc.Bytes())
			at, err := jsonError(text, 0, err)
			return nil, fmt.Errorf("%s: row %d (line %d, column %d): %v", path, len(recs)+1, line, utf8.RuneCount(sc.Bytes()[:lead+at])+1, err)
		}
		rec.file, rec.row, rec.line = path, len(recs)+1, line
		recs = append(recs, rec)
	}
	return recs, sc.Err()
}

func readCSV(path string) ([]record, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err == io.EOF {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: header: %v", path, err)
	}
	if len(header) > 0 {
		header[0] = strings.TrimPrefix(header[0], "\ufeff")
	}
	for i, h := range header {
		// The Azure portal's export names datetime columns "TimeGenerated [UTC]".
		header[i] = strings.TrimSuffix(h, " [UTC]")
	}
	var recs []record
	for {
		cells, err := r.Read()
		if err == io.EOF {
			return recs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: row %d: %v", path, len(recs)+1, err)
		}
		line, _ := r.FieldPos(0)
		if len(cells) != len(header) {
			return nil, fmt.Errorf("%s: row %d (line %d): %d fields, header has %d", path, len(recs)+1, line, len(cells), len(header))
		}
		rec := record{file: path, row: len(recs) + 1, line: line}
		for i, c := range cells {
			var v any = csvText(c)
			if c == "" {
				v = nil
			}
			rec.fields = append(rec.fields, field{name: header[i], value: v})
		}
		recs = append(recs, rec)
	}
}

// buildTable types the columns (schema first, then inference) and converts every value.
func buildTable(name string, schema []Column, recs []record) (*Table, error) {
	cols := append([]Column(nil), schema...)
	var extra []string
	seen := map[string]bool{}
	for _, c := range schema {
		seen[c.Name] = true
	}
	for _, r := range recs {
		for _, f := range r.fields {
			if !seen[f.name] {
				seen[f.name] = true
				extra = append(extra, f.name)
			}
		}
	}
	for _, n := range extra {
		cols = append(cols, Column{Name: n, Type: inferType(n, recs)})
	}
	t := &Table{Name: name, Columns: cols, Rows: make([][]any, 0, len(recs))}
	index := map[string]int{}
	for i, c := range cols {
		index[c.Name] = i
	}
	for _, r := range recs {
		row := make([]any, len(cols))
		for i, c := range cols {
			if c.Type == "string" || c.Type == "guid" {
				row[i] = ""
			}
		}
		for _, f := range r.fields {
			i := index[f.name]
			v, err := convertLoaded(cols[i].Type, f.value)
			if err != nil {
				return nil, fmt.Errorf("%s: row %d (line %d): column %s: %v", r.file, r.row, r.line, f.name, err)
			}
			row[i] = v
		}
		t.Rows = append(t.Rows, row)
	}
	return t, nil
}

// convertLoaded converts a value read from a file to the column's type.
func convertLoaded(typ string, v any) (any, error) {
	switch x := v.(type) {
	case nil:
		if typ == "string" || typ == "guid" {
			return "", nil
		}
		return nil, nil
	case csvText:
		return convertText(typ, string(x))
	case string:
		if typ == "dynamic" {
			if j, ok := parseJSON(x); ok {
				return j, nil
			}
			return x, nil
		}
		return convertText(typ, x)
	case json.Number:
		switch {
		case typ == "string" || typ == "guid":
			return x.String(), nil
		case typ == "dynamic":
			return normalizeJSON(x), nil
		case typ == "real" || typ == "decimal" || isIntType(typ):
			return convertText(typ, x.String())
		}
	case bool:
		switch typ {
		case "bool", "dynamic":
			return x, nil
		case "string":
			return toStr(x), nil
		}
	case map[string]any, []any:
		switch typ {
		case "dynamic":
			return normalizeJSON(x), nil
		case "string":
			return jsonText(normalizeJSON(x)), nil
		}
	}
	return nil, fmt.Errorf("cannot read %s as %s", describeValue(v), typ)
}

func convertText(typ, s string) (any, error) {
	if s == "" && typ != "string" && typ != "guid" {
		return nil, nil
	}
	v, ok := convertString(typ, s)
	if !ok && typ == "datetime" {
		v, ok = parsePortalDatetime(s)
	}
	if !ok {
		if typ == "real" || typ == "decimal" || isIntType(typ) {
			// long columns accept numbers written as reals when they are whole.
			if f, fok := convertString("real", s); fok && f.(float64) == float64(int64(f.(float64))) && isIntType(typ) {
				return int64(f.(float64)), nil
			}
		}
		return nil, fmt.Errorf("cannot read %q as %s", s, typ)
	}
	return v, nil
}

func describeValue(v any) string {
	switch x := v.(type) {
	case map[string]any:
		return "a JSON object"
	case []any:
		return "a JSON array"
	case bool:
		return fmt.Sprintf("boolean %v", x)
	case json.Number:
		return "number " + x.String()
	}
	return fmt.Sprintf("%q", fmt.Sprint(v))
}

// inferType picks a column type from its values: the narrowest type all
// non-empty values fit (bool, long, real, datetime, dynamic), else string.
func inferType(name string, recs []record) string {
	kinds := map[string]bool{}
	for _, r := range recs {
		for _, f := range r.fields {
			if f.name == name {
				if k := valueKind(f.value); k != "" {
					kinds[k] = true
				}
			}
		}
	}
	switch {
	case len(kinds) == 0:
		return "string"
	case len(kinds) == 1:
		for k := range kinds {
			return k
		}
	case len(kinds) == 2 && kinds["long"] && kinds["real"]:
		return "real"
	case kinds["dynamic"]:
		return "dynamic"
	}
	return "string"
}

func valueKind(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case bool:
		return "bool"
	case json.Number:
		if _, err := x.Int64(); err == nil {
			return "long"
		}
		return "real"
	case map[string]any, []any:
		return "dynamic"
	case string:
		if x == "" {
			return ""
		}
		if looksLikeDatetime(x) {
			return "datetime"
		}
		return "string"
	case csvText:
		s := string(x)
		for _, typ := range []string{"long", "real", "bool"} {
			if _, ok := convertString(typ, s); ok && (typ != "bool" || strings.EqualFold(s, "true") || strings.EqualFold(s, "false")) {
				return typ
			}
		}
		if looksLikeDatetime(s) {
			return "datetime"
		}
		if s[0] == '{' || s[0] == '[' {
			if _, ok := parseJSON(s); ok {
				return "dynamic"
			}
		}
		return "string"
	}
	return "string"
}

// looksLikeDatetime accepts ISO 8601 timestamps such as 2024-01-01T10:00:00Z, and the Azure
// portal's (see parsePortalDatetime).
func looksLikeDatetime(s string) bool {
	if _, ok := parsePortalDatetime(s); ok {
		return true
	}
	if len(s) < 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' ') {
		return false
	}
	_, ok := parseDatetime(s)
	return ok
}

// portalLayouts are how the Azure portal's CSV export writes datetimes in its "[UTC]" columns
// (US English: month first, a 12-hour clock; fractions of a second are optional).
var portalLayouts = []string{"1/2/2006, 3:04:05 PM", "1/2/2006 3:04:05 PM"}

func parsePortalDatetime(s string) (time.Time, bool) {
	for _, layout := range portalLayouts {
		if t, err := time.Parse(layout, strings.TrimSpace(s)); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}
