package loganalytics

import (
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

const answer = `{"tables":[{"name":"PrimaryResult","columns":[{"name":"T","type":"datetime"},{"name":"S","type":"string"},{"name":"D","type":"dynamic"}],
"rows":[["2026-11-01T12:00:00Z","caf\u00e9","[1,2]"],[null,"x","{\"a\":\"b\"}"]]}],"error":{"code":"PartialError"}}`

// Reads of any size give the same result, and a failing read fails the decode with its error.
func TestDecodeReads(t *testing.T) {
	want, err := decode(strings.NewReader(answer))
	if err != nil || len(want.Rows) != 2 || want.Partial == nil {
		t.Fatalf("%+v %v", want, err)
	}
	got, err := decode(iotest.OneByteReader(strings.NewReader(answer)))
	if err != nil || !reflect.DeepEqual(got.Rows, want.Rows) || !reflect.DeepEqual(got.Columns, want.Columns) || got.Partial.Error() != want.Partial.Error() {
		t.Fatalf("one byte at a time: %+v %v", got, err)
	}
	boom := errors.New("connection reset")
	_, err = decode(io.MultiReader(strings.NewReader(answer[:len(answer)/2]), iotest.ErrReader(boom)))
	var de *decodeError
	if !errors.Is(err, boom) || !errors.As(err, &de) {
		t.Fatalf("err %v", err)
	}
	_, err = decode(strings.NewReader(answer[:len(answer)/2]))
	if !errors.Is(err, io.ErrUnexpectedEOF) || !errors.As(err, &de) {
		t.Fatalf("truncated: err %v", err)
	}
	// An empty body is an empty answer, as azcore's UnmarshalAsJSON has it.
	if _, err := decode(strings.NewReader("")); err == nil || err.Error() != "answer has no result table" {
		t.Fatalf("empty: %v", err)
	}
}
