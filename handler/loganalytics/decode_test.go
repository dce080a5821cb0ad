package loganalytics

import (
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/huntwatch/huntwatch/handler/hunt"
)

const answer = `{"tables":[{"name":"PrimaryResult","columns":[{"name":"T","type":"datetime"},{"name":"S","type":"string"},{"name":"D","type":"dynamic"}],
"rows":[["2026-11-01T12:00:00Z","caf\u00e9","[1,2]"],[null,"x","{\"a\":\"b\"}"]]}],"error":{"code":"PartialError"}}`

// decodeAll collects what decode hands over, as Query does.
func decodeAll(r io.Reader) (*hunt.Result, error) {
	res := &hunt.Result{}
	partial, err := decode(r, func(cols []hunt.Column, row []any) error {
		if row == nil {
			res.Columns = cols
		} else {
			res.Rows = append(res.Rows, row)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	res.Partial = partial
	return res, nil
}

// The columns come first, with a nil row, then each row as it is read; an error from each stops
// the decode there and is returned as it is.
func TestDecodeHandsOverRowByRow(t *testing.T) {
	var calls []string
	stop := errors.New("enough")
	_, err := decode(strings.NewReader(answer), func(cols []hunt.Column, row []any) error {
		if row == nil {
			calls = append(calls, fmt.Sprintf("columns %d", len(cols)))
			return nil
		}
		calls = append(calls, fmt.Sprint("row ", row[1]))
		return stop
	})
	if err != stop || !slices.Equal(calls, []string{"columns 3", "row café"}) {
		t.Fatalf("calls %q, err %v: want the columns, then the first row, then the stop", calls, err)
	}
}

// Reads of any size give the same result, and a failing read fails the decode with its error.
func TestDecodeReads(t *testing.T) {
	want, err := decodeAll(strings.NewReader(answer))
	if err != nil || len(want.Rows) != 2 || want.Partial == nil {
		t.Fatalf("%+v %v", want, err)
	}
	got, err := decodeAll(iotest.OneByteReader(strings.NewReader(answer)))
	if err != nil || !reflect.DeepEqual(got.Rows, want.Rows) || !reflect.DeepEqual(got.Columns, want.Columns) || got.Partial.Error() != want.Partial.Error() {
		t.Fatalf("one byte at a time: %+v %v", got, err)
	}
	boom := errors.New("connection reset")
	_, err = decodeAll(io.MultiReader(strings.NewReader(answer[:len(answer)/2]), iotest.ErrReader(boom)))
	var de *decodeError
	if !errors.Is(err, boom) || !errors.As(err, &de) {
		t.Fatalf("err %v", err)
	}
	_, err = decodeAll(strings.NewReader(answer[:len(answer)/2]))
	if !errors.Is(err, io.ErrUnexpectedEOF) || !errors.As(err, &de) {
		t.Fatalf("truncated: err %v", err)
	}
	// An empty body is an empty answer, as azcore's UnmarshalAsJSON has it.
	if _, err := decodeAll(strings.NewReader("")); err == nil || err.Error() != "answer has no result table" {
		t.Fatalf("empty: %v", err)
	}
}
