package kql

import (
	"path/filepath"
	"strings"
)

// Loading tables from files: schemas (<Table>.txt, one Column:type a line) and
// rows exported from Log Analytics or Defender as JSON arrays, NDJSON or CSV.
// LoadDir, LoadSchemas and ParseSchema are in api.go; this file names the
// kinds of file and holds the records they are read into; load_json.go and
// load_csv.go read them; load_types.go types the columns and converts values.

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
