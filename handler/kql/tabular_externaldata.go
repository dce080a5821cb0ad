package kql

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	neturl "net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// externaldata (https://learn.microsoft.com/kusto/query/externaldata-operator)
// reads a table from URLs. Offline there is no download: each URL is mapped to
// a local file (Options.ExternalData, or Options.ExternalDataDir and
// ExternalDataFile), read with the format the query declares (with
// (format="csv"), or guessed from the URL: csv, tsv, psv, scsv, sohsv, txt,
// raw, json, multijson) and typed by the declared columns. A URL without a
// local copy fails the query, naming the URL and the file to provide.

// externalFileName names the local copy of url in the externaldata folder.
func externalFileName(url string) string {
	if u, err := neturl.Parse(url); err == nil {
		p := strings.TrimRight(u.Path, "/")
		if base := path.Base(p); p != "" && base != "." && base != "/" {
			if un, err := neturl.PathUnescape(base); err == nil {
				base = un
			}
			if base != ".." && !strings.ContainsAny(base, `/\:*?"<>|`+"\x00") {
				return base
			}
		}
	}
	return externalHashName(url)
}

func externalHashName(url string) string {
	h := sha256.Sum256([]byte(url))
	return "externaldata-" + hex.EncodeToString(h[:])[:12]
}

// externalPath finds the local file of url.
func (x *exec) externalPath(url string, pos Pos) (string, error) {
	if p, ok := x.opts.ExternalData[url]; ok {
		if _, err := os.Stat(p); err != nil {
			return "", errorf(pos, "externaldata: the local copy of %s (Options.ExternalData) cannot be read: %v", url, err)
		}
		return p, nil
	}
	name := externalFileName(url)
	dir := x.opts.ExternalDataDir
	if dir == "" {
		return "", errorf(pos, "externaldata: no local copy of %s: the query runs offline; save the file as %s in the externaldata folder next to the logs (<logs>/externaldata/%s)", url, name, name)
	}
	for _, cand := range []string{name, externalHashName(url)} {
		p := filepath.Join(dir, cand)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p, nil
		}
	}
	return "", errorf(pos, "externaldata: no local copy of %s: the query runs offline; download it and save it as %s", url, filepath.Join(dir, name))
}

func (x *exec) externalData(src *externalSrc) (*Table, error) {
	if t, ok := x.shared.external[src]; ok {
		return t, nil
	}
	format := strings.ToLower(strings.Trim(src.props["format"], `"'`))
	skipFirst := strings.EqualFold(src.props["ignorefirstrecord"], "true")
	out := &Table{Columns: src.cols}
	for _, url := range src.urls {
		p, err := x.externalPath(url, src.pos)
		if err != nil {
			return nil, err
		}
		f := format
		if f == "" {
			f = formatFromName(url)
		}
		rows, err := readExternal(p, f, src.cols, skipFirst)
		if err != nil {
			var perr *Error
			if errors.As(err, &perr) {
				return nil, perr
			}
			return nil, errorf(src.pos, "externaldata: %s (the local copy of %s): %v", p, url, err)
		}
		out.Rows = append(out.Rows, rows...)
	}
	x.shared.external[src] = out
	return out, nil
}

func formatFromName(url string) string {
	if u, err := neturl.Parse(url); err == nil {
		url = u.Path
	}
	switch strings.ToLower(path.Ext(url)) {
	case ".tsv":
		return "tsv"
	case ".psv":
		return "psv"
	case ".json":
		return "multijson"
	case ".txt":
		return "txt"
	}
	return "csv"
}

var externalSeparators = map[string]rune{"csv": ',', "tsv": '\t', "tsve": '\t', "psv": '|', "scsv": ';', "sohsv": '\x01'}

// readExternal reads a file in a Kusto ingestion format into rows of cols.
func readExternal(p, format string, cols []Column, skipFirst bool) ([][]any, error) {
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	field := func(i int, s string) any {
		if i >= len(cols) {
			return nil
		}
		if s == "" && cols[i].Type != "string" {
			return nil
		}
		v, ok := convertString(cols[i].Type, s)
		if !ok {
			return nil
		}
		return v
	}
	var rows [][]any
	switch format {
	case "csv", "tsv", "tsve", "psv", "scsv", "sohsv":
		r := csv.NewReader(bytes.NewReader(data))
		r.Comma = externalSeparators[format]
		r.FieldsPerRecord = -1
		r.LazyQuotes = true
		for n := 0; ; n++ {
			rec, err := r.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, err
			}
			if n == 0 && skipFirst {
				continue
			}
			row := make([]any, len(cols))
			for i := range cols {
				if i < len(rec) {
					row[i] = field(i, rec[i])
				} else if cols[i].Type == "string" {
					row[i] = ""
				}
			}
			rows = append(rows, row)
		}
	case "txt":
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(make([]byte, 1<<20), 64<<20)
		for n := 0; sc.Scan(); n++ {
			if n == 0 && skipFirst {
				continue
			}
			row := make([]any, len(cols))
			row[0] = field(0, strings.TrimSuffix(sc.Text(), "\r"))
			for i := 1; i < len(cols); i++ {
				if cols[i].Type == "string" {
					row[i] = ""
				}
			}
			rows = append(rows, row)
		}
		if err := sc.Err(); err != nil {
			return nil, err
		}
	case "raw":
		row := make([]any, len(cols))
		row[0] = field(0, string(data))
		rows = append(rows, row)
	case "json", "multijson", "singlejson":
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		add := func(v any) error {
			obj, ok := v.(map[string]any)
			if !ok {
				return fmt.Errorf("want JSON objects, found %s", jsonKind(v))
			}
			row := make([]any, len(cols))
			for i, c := range cols {
				val, present := obj[c.Name]
				switch {
				case !present || val == nil:
					if c.Type == "string" {
						row[i] = ""
					}
				case c.Type == "dynamic":
					row[i] = normalizeJSON(val)
				case c.Type == "string":
					if s, isStr := val.(string); isStr {
						row[i] = s
					} else {
						row[i] = jsonText(normalizeJSON(val))
					}
				default:
					row[i] = convertTo(c.Type, normalizeJSON(val))
				}
			}
			rows = append(rows, row)
			return nil
		}
		for {
			var v any
			if err := dec.Decode(&v); err == io.EOF {
				break
			} else if err != nil {
				return nil, err
			}
			if arr, ok := v.([]any); ok {
				for _, it := range arr {
					if err := add(it); err != nil {
						return nil, err
					}
				}
				continue
			}
			if err := add(v); err != nil {
				return nil, err
			}
		}
	default:
		return nil, fmt.Errorf("unsupported externaldata format %q (supported: csv, tsv, psv, scsv, sohsv, txt, raw, json, multijson)", format)
	}
	return rows, nil
}

func jsonKind(v any) string {
	switch v.(type) {
	case []any:
		return "an array"
	case string:
		return "a string"
	case nil:
		return "null"
	case bool:
		return "a bool"
	}
	return "a number"
}
