package kql

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Reading JSON exports: a JSON array of objects, or one object a line
// (NDJSON), keeping each object's keys in order and placing errors at their
// line and column.

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
