package loganalytics

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/monitor/azquery"

	"github.com/huntwatch/huntwatch/handler/hunt"
)

// The query answer (8.9 MB at 10,000 rows) is not left to azquery, which reads the whole body and
// decodes it through two json.RawMessage copies into [][]any: streamPolicy, a per-call policy,
// tells the pipeline not to download a successful answer's body and takes that body for Query,
// leaving azquery an empty one (which it decodes as an empty result); decode then reads it as a
// stream, converting each row as it arrives. Everything before the body is still the SDK's: the
// bearer token, retries of 429 and 5xx (the retry policy sees the status; error bodies are still
// downloaded, and answers other than 200 still become *azcore.ResponseError), timeouts.

// answerKey is the context key under which Query leaves an *answerBody for streamPolicy.
type answerKey struct{}

// answerBody receives the body of a 200 answer.
type answerBody struct{ body io.ReadCloser }

func (a *answerBody) close() {
	if a.body != nil {
		a.body.Close()
		a.body = nil
	}
}

// streamPolicy runs once per call, outside the retry policy, so it sees the final answer.
type streamPolicy struct{}

func (streamPolicy) Do(req *policy.Request) (*http.Response, error) {
	answer, _ := req.Raw().Context().Value(answerKey{}).(*answerBody)
	if answer == nil {
		return req.Next()
	}
	runtime.SkipBodyDownload(req)
	resp, err := req.Next()
	if err == nil && resp != nil && resp.StatusCode == http.StatusOK && resp.Body != nil {
		answer.close()
		answer.body = resp.Body
		resp.Body = http.NoBody
	}
	return resp, err
}

// decodeError is an answer that could not be read or is not the JSON it should be (as opposed to
// a well-formed answer whose values do not fit their columns).
type decodeError struct{ err error }

func (e *decodeError) Error() string { return e.err.Error() }
func (e *decodeError) Unwrap() error { return e.err }

func malformed(err error) error {
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return &decodeError{fmt.Errorf("reading the answer: %w", err)}
}

func unexpected(tok json.Token, want string) error {
	return &decodeError{fmt.Errorf("reading the answer: %v where %s was expected", tok, want)}
}

// rowFunc receives the first table's columns with a nil row once they are known, then its rows,
// each with the columns, as they are read.
type rowFunc func(cols []hunt.Column, row []any) error

// decode reads a query answer, {"tables": [{"name", "columns", "rows"}, ...], "error": {...}},
// handing each row of the first table to each as it is read (nothing of the answer is kept), and
// returns a top-level error as partial. Its conversions and errors are those of the buffered
// decode it replaces (azquery.Results then value).
func decode(body io.Reader, each rowFunc) (partial error, err error) {
	br := bufio.NewReaderSize(body, 64<<10)
	if b, err := br.Peek(3); err == nil && bytes.Equal(b, []byte("\xef\xbb\xbf")) {
		br.Discard(3)
	}
	dec := json.NewDecoder(br)
	var (
		found bool // the answer has a first table
		info  *azquery.ErrorInfo
	)
	tok, err := dec.Token()
	switch {
	case err == io.EOF: // an empty body is an empty answer
		return finish(false, nil)
	case err != nil:
		return nil, malformed(err)
	case tok == nil:
	case tok == json.Delim('{'):
		for dec.More() {
			key, err := dec.Token()
			if err != nil {
				return nil, malformed(err)
			}
			switch key {
			case "tables":
				if found, err = decodeTables(dec, each); err != nil {
					return nil, err
				}
			case "error":
				// ErrorInfo keeps the bytes it is given, and a Decoder's are its buffer's.
				var raw json.RawMessage
				if err := dec.Decode(&raw); err != nil {
					return nil, malformed(err)
				}
				info = nil
				if err := json.Unmarshal(raw, &info); err != nil {
					return nil, malformed(err)
				}
			default:
				if err := skip(dec); err != nil {
					return nil, err
				}
			}
		}
		if _, err := dec.Token(); err != nil {
			return nil, malformed(err)
		}
	default:
		return nil, unexpected(tok, "an object")
	}
	if tok, err := dec.Token(); err != io.EOF {
		if err != nil {
			return nil, malformed(err)
		}
		return nil, unexpected(tok, "the end of the answer")
	}
	return finish(found, info)
}

func finish(found bool, info *azquery.ErrorInfo) (partial error, err error) {
	switch {
	case !found && info != nil:
		return nil, fmt.Errorf("query failed: %w", info)
	case !found:
		return nil, errors.New("answer has no result table")
	case info != nil:
		return info, nil
	}
	return nil, nil
}

func skip(dec *json.Decoder) error {
	var v json.RawMessage
	if err := dec.Decode(&v); err != nil {
		return malformed(err)
	}
	return nil
}

// decodeTables converts the first table and checks the others' shape; found reports a first table.
func decodeTables(dec *json.Decoder, each rowFunc) (found bool, err error) {
	tok, err := dec.Token()
	if err != nil {
		return false, malformed(err)
	}
	if tok == nil {
		return false, nil
	}
	if tok != json.Delim('[') {
		return false, unexpected(tok, "an array of tables")
	}
	for n := 0; dec.More(); n++ {
		if n > 0 {
			var t *azquery.Table
			if err := dec.Decode(&t); err != nil {
				return false, malformed(err)
			}
			continue
		}
		if found, err = decodeTable(dec, each); err != nil {
			return false, err
		}
	}
	if _, err := dec.Token(); err != nil {
		return false, malformed(err)
	}
	return found, nil
}

// table converts rows and hands them on.
type table struct {
	cols    []hunt.Column
	columns bool // cols is known
	rows    int
	each    rowFunc
}

func (t *table) setColumns(cols []*azquery.Column) error {
	t.columns = true
	t.cols = make([]hunt.Column, len(cols))
	for i, c := range cols {
		if c == nil || c.Name == nil {
			return fmt.Errorf("result column %d has no name", i)
		}
		t.cols[i].Name = *c.Name
		if c.Type != nil {
			t.cols[i].Type = string(*c.Type)
		}
	}
	return nil
}

func (t *table) add(row []any) error {
	r, cols := t.rows, t.cols
	if len(row) != len(cols) {
		return fmt.Errorf("result row %d has %d values for %d columns", r, len(row), len(cols))
	}
	out := make([]any, len(row))
	for i, v := range row {
		x, err := value(cols[i].Type, v)
		if err != nil {
			return fmt.Errorf("result row %d column %s: %w", r, cols[i].Name, err)
		}
		out[i] = x
	}
	t.rows++
	return t.each(cols, out)
}

func decodeTable(dec *json.Decoder, each rowFunc) (found bool, err error) {
	tok, err := dec.Token()
	if err != nil {
		return false, malformed(err)
	}
	if tok == nil {
		return false, nil
	}
	if tok != json.Delim('{') {
		return false, unexpected(tok, "a table")
	}
	t := &table{each: each}
	var early [][]any // rows that came before the columns, kept until they are known
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return false, malformed(err)
		}
		switch key {
		case "columns":
			var cols []*azquery.Column
			if err := dec.Decode(&cols); err != nil {
				return false, malformed(err)
			}
			if err := t.setColumns(cols); err != nil {
				return false, err
			}
			if err := t.each(t.cols, nil); err != nil {
				return false, err
			}
			for _, row := range early {
				if err := t.add(row); err != nil {
					return false, err
				}
			}
			early = nil
		case "name":
			var name *string
			if err := dec.Decode(&name); err != nil {
				return false, malformed(err)
			}
		case "rows":
			if !t.columns {
				if err := dec.Decode(&early); err != nil {
					return false, malformed(err)
				}
				continue
			}
			if err := decodeRows(dec, t); err != nil {
				return false, err
			}
		default:
			if err := skip(dec); err != nil {
				return false, err
			}
		}
	}
	if _, err := dec.Token(); err != nil {
		return false, malformed(err)
	}
	if !t.columns {
		if err := t.setColumns(nil); err != nil {
			return false, err
		}
		if err := t.each(t.cols, nil); err != nil {
			return false, err
		}
		for _, row := range early {
			if err := t.add(row); err != nil {
				return false, err
			}
		}
	}
	return true, nil
}

// decodeRows converts the rows array one row at a time, decoding each into a reused slice.
func decodeRows(dec *json.Decoder, t *table) error {
	tok, err := dec.Token()
	if err != nil {
		return malformed(err)
	}
	if tok == nil {
		return nil
	}
	if tok != json.Delim('[') {
		return unexpected(tok, "an array of rows")
	}
	var row []any
	for dec.More() {
		clear(row[:cap(row)])
		row = row[:0]
		if err := dec.Decode(&row); err != nil {
			return malformed(err)
		}
		if err := t.add(row); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil {
		return malformed(err)
	}
	return nil
}
