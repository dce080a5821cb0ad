package tablestore

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/huntwatch/huntwatch/handler/hunt"
	"github.com/huntwatch/huntwatch/handler/internal/azurite"
)

// Bodies as Azurite 3.35 sends them (Azure's have the same shape).
const (
	okBatch = "--batchresponse_b1\r\n" +
		"Content-Type: multipart/mixed; boundary=changesetresponse_c1\r\n\r\n" +
		"--changesetresponse_c1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n" +
		"HTTP/1.1 204 No Content\r\nDataServiceVersion: 3.0;\r\nETag: W/\"datetime'2026-11-27T13%3A18%3A00.0295004Z'\"\r\n\r\n\r\n" +
		"--changesetresponse_c1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n" +
		"HTTP/1.1 204 No Content\r\nDataServiceVersion: 3.0;\r\nETag: W/\"datetime'2026-11-27T13%3A18%3A00.0295010Z'\"\r\n\r\n\r\n" +
		"--changesetresponse_c1--\r\n--batchresponse_b1--\r\n"
	failedBatch = "--batchresponse_b2\r\n" +
		"Content-Type: multipart/mixed; boundary=changesetresponse_c2\r\n\r\n" +
		"--changesetresponse_c2\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n" +
		"HTTP/1.1 %d %s\r\nContent-ID: 2\r\nContent-Type: application/json;odata=minimalmetadata;charset=utf-8\r\n\r\n" +
		`{"odata.error":{"code":"%s","message":{"lang":"en-US","value":"1:%s\nRequestId:x"}}}` + "\r\n" +
		"--changesetresponse_c2--\r\n--batchresponse_b2--\r\n"
)

func TestParseBatchResponse(t *testing.T) {
	h := http.Header{"Content-Type": {"multipart/mixed; boundary=batchresponse_b1"}}
	subs, err := parseBatchResponse(h, []byte(okBatch))
	if err != nil {
		t.Fatal(err)
	}
	if len(subs) != 2 || subs[0].Status != 204 || subs[1].ETag != `W/"datetime'2026-11-27T13%3A18%3A00.0295010Z'"` {
		t.Errorf("parsed %+v", subs)
	}
	// Without a Content-Type the boundary comes from the body.
	if subs, err := parseBatchResponse(http.Header{}, []byte(okBatch)); err != nil || len(subs) != 2 {
		t.Errorf("without Content-Type: %+v, %v", subs, err)
	}

	body := fmt.Sprintf(failedBatch, 409, "Conflict", "EntityAlreadyExists", "The specified entity already exists.")
	subs, err = parseBatchResponse(http.Header{}, []byte(body))
	f, ok := failure(subs)
	if err != nil || !ok || f.Status != 409 || f.Code != "EntityAlreadyExists" || !strings.HasPrefix(f.Message, "1:The specified") {
		t.Errorf("failed batch: %+v, %v", subs, err)
	}
	if _, err := parseBatchResponse(http.Header{}, []byte("not multipart")); err == nil {
		t.Error("garbage parsed")
	}
}

// TestPutStopsAtOtherErrors: a transaction failing for another reason than a conflict is an
// error, not a loss, and is not retried one by one; earlier transactions keep their Versions.
func TestPutStopsAtOtherErrors(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Azurite: skipped with -short")
	}
	srv := azurite.Start(t)
	s, err := FromConnectionString(nil, srv.ConnectionString(), "errors", nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := s.Open(ctx); err != nil {
		t.Fatal(err)
	}
	var ops []op
	for i := range 150 {
		o, err := newOp("pk", &hunt.Record{Fingerprint: fmt.Sprintf("fp-%03d", i), State: hunt.Pending})
		if err != nil {
			t.Fatal(err)
		}
		ops = append(ops, o)
	}
	// The service rejects a nested object: 400 InvalidInput inside a 202.
	ops[120].body = []byte(`{"PartitionKey":"pk","RowKey":"fp-120","Bad":{"x":1}}`)
	lost, err := s.put(ctx, ops)
	if err == nil || !strings.Contains(err.Error(), "400 InvalidInput") {
		t.Fatalf("put = %v, want the 400 InvalidInput of the second transaction", err)
	}
	if oe := (*opError)(nil); !errors.As(err, &oe) {
		t.Errorf("error %T does not carry the operation's failure", err)
	}
	if len(lost) != 0 {
		t.Errorf("lost %d records; an error is not a loss", len(lost))
	}
	for i, o := range ops {
		if got := o.rec.Version != ""; got != (i < 100) {
			t.Errorf("record %d: Version %q; want one only for the first transaction's records", i, o.rec.Version)
		}
	}
	st, err := s.Load(ctx, "pk")
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Records) != 100 {
		t.Errorf("%d records stored, want the first transaction's 100", len(st.Records))
	}
}

func TestBatches(t *testing.T) {
	mk := func(fp string, kind opKind, size int) op {
		return op{rec: &hunt.Record{Fingerprint: fp}, kind: kind, pk: "pk", rk: key(fp), body: make([]byte, size)}
	}
	var ops []op
	for i := range 250 {
		ops = append(ops, mk(fmt.Sprint(i), opAdd, 10))
	}
	if got := sizes(batches(ops)); got != "[100 100 50]" {
		t.Errorf("250 ops: batches %s", got)
	}
	dup := []op{mk("a", opAdd, 10), mk("b", opAdd, 10), mk("a", opReplace, 10), mk("c", opAdd, 10)}
	if got := sizes(batches(dup)); got != "[2 2]" {
		t.Errorf("repeated row: batches %s, want a new batch at the repeat", got)
	}
	absent := []op{mk("a", opAdd, 10), mk("b", opDeleteAbsent, 10), mk("c", opAdd, 10)}
	if got := sizes(batches(absent)); got != "[1 1 1]" {
		t.Errorf("delete-absent: batches %s, want it alone", got)
	}
	var big []op
	for i := range 10 {
		big = append(big, mk(fmt.Sprint(i), opAdd, 900<<10))
	}
	for _, b := range batches(big) {
		n := 0
		for _, o := range b {
			n += len(o.body) + opOverhead
		}
		if n > maxBatchBytes {
			t.Errorf("batch of %d bytes", n)
		}
	}
	other := mk("z", opAdd, 10)
	other.pk = "other"
	if got := sizes(batches([]op{mk("a", opAdd, 10), other})); got != "[1 1]" {
		t.Errorf("two partitions: batches %s", got)
	}
}

func sizes(bs [][]op) string {
	var n []int
	for _, b := range bs {
		n = append(n, len(b))
	}
	return fmt.Sprint(n)
}
