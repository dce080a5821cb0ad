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

// decode reads a query answer, {"tables": [{"name", "columns", "rows"}, ...], "error": {...}},
// into the first table's hunt.Result, with Partial set from a top-level error. Its conversions and
// errors are those of the buffered decode it replaces (azquery.Results then value).
func decode(body io.Reader) (*hunt.Result, error) {
	br := bufio.NewReaderSize(body, 64<<10)
	if b, err := br.Peek(3); err == nil && bytes.Equal(b, []byte("\xef\xbb\xbf")) {
		br.Discard(3)
	}
	dec := json.NewDecoder(br)
	var (
		first   *hunt.Result
		partial *azquery.ErrorInfo
	)
	tok, err := dec.Token()
	switch {
	case err == io.EOF: // an empty body is an empty answer
		return finish(nil, nil)
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
				if first, err = decodeTables(dec); err != nil {
					return nil, err
				}
			case "error":
				// ErrorInfo keeps the bytes it is given, and a Decoder's are its buffer's.
				var raw json.RawMessage
				if err := dec.Decode(&raw); err != nil {
					return nil, malformed(err)
				}
				partial = nil
				if err := json.Unmarshal(raw, &partial); err != nil {
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
	return finish(first, partial)
}

func finish(res *hunt.Result, partial *azquery.ErrorInfo) (*hunt.Result, error) {
	if res == nil {
		if partial != nil {
			return nil, fmt.Errorf("query failed: %w", partial)
		}
		return nil, errors.New("answer has no result table")
	}
	if partial != nil {
		res.Partial = partial
	}
	return res, nil
}

func skip(dec *json.Decoder) error {
	var v json.RawMessage
	if err := dec.Decode(&v); err != nil {
		return malformed(err)
	}
	return nil
}

// decodeTables converts the first table and checks the others' shape.
func decodeTables(dec *json.Decoder) (*hunt.Result, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, malformed(err)
	}
	if tok == nil {
		return nil, nil
	}
	if tok != json.Delim('[') {
		return nil, unexpected(tok, "an array of tables")
	}
	var first *hunt.Result
	for n := 0; dec.More(); n++ {
		if n > 0 {
			var t *azquery.Table
			if err := dec.Decode(&t); err != nil {
				return nil, malformed(err)
			}
			continue
		}
		if first, err = decodeTable(dec); err != nil {
			return nil, err
		}
	}
	if _, err := dec.Token(); err != nil {
		return nil, malformed(err)
	}
	return first, nil
}

// table builds a hunt.Result row by row.
type table struct {
	res     *hunt.Result
	columns bool
}

func (t *table) setColumns(cols []*azquery.Column) error {
	t.columns = true
	t.res.Columns = make([]hunt.Column, len(cols))
	for i, c := range cols {
		if c == nil || c.Name == nil {
			return fmt.Errorf("result column %d has no name", i)
		}
		t.res.Columns[i].Name = *c.Name
		if c.Type != nil {
			t.res.Columns[i].Type = string(*c.Type)
		}
	}
	return nil
}

func (t *table) add(row []any) error {
	r, cols := len(t.res.Rows), t.res.Columns
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
	t.res.Rows = append(t.res.Rows, out)
	return nil
}

func decodeTable(dec *json.Decoder) (*hunt.Result, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, malformed(err)
	}
	if tok == nil {
		return nil, nil
	}
	if tok != json.Delim('{') {
		return nil, unexpected(tok, "a table")
	}
	t := &table{res: &hunt.Result{Rows: [][]any{}}}
	var early [][]any // rows that came before the columns, kept until they are known
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return nil, malformed(err)
		}
		switch key {
		case "columns":
			var cols []*azquery.Column
			if err := dec.Decode(&cols); err != nil {
				return nil, malformed(err)
			}
			if err := t.setColumns(cols); err != nil {
				return nil, err
			}
			for _, row := range early {
				if err := t.add(row); err != nil {
					return nil, err
				}
			}
			early = nil
		case "name":
			var name *string
			if err := dec.Decode(&name); err != nil {
				return nil, malformed(err)
			}
		case "rows":
			if !t.columns {
				if err := dec.Decode(&early); err != nil {
					return nil, malformed(err)
				}
				continue
			}
			if err := decodeRows(dec, t); err != nil {
				return nil, err
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
	if !t.columns {
		if err := t.setColumns(nil); err != nil {
			return nil, err
		}
		for _, row := range early {
			if err := t.add(row); err != nil {
				return nil, err
			}
		}
	}
	return t.res, nil
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
