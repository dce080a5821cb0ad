package tablestore

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
)

// subResponse is one operation's answer inside a $batch response.
type subResponse struct {
	Status  int
	ETag    string
	Code    string // OData error code, for failures
	Message string
}

// parseBatchResponse reads the operations' answers from a raw $batch response: a multipart
// batch holding one multipart changeset, each part of which is an HTTP response. aztables
// reads these and keeps nothing (TransactionResponse is empty), so we read them again from
// the buffered body: this is where each written entity's new ETag is.
func parseBatchResponse(header http.Header, body []byte) ([]subResponse, error) {
	boundary := boundaryOf(header.Get("Content-Type"), body)
	if boundary == "" {
		return nil, errors.New("batch response: no multipart boundary")
	}
	outer := multipart.NewReader(bytes.NewReader(body), boundary)
	changeset, err := outer.NextPart()
	if err != nil {
		return nil, fmt.Errorf("batch response: %w", err)
	}
	inner, err := io.ReadAll(changeset)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, fmt.Errorf("batch response: %w", err)
	}
	innerBoundary := boundaryOf(changeset.Header.Get("Content-Type"), inner)
	if innerBoundary == "" {
		return nil, errors.New("batch response: no changeset boundary")
	}
	parts := multipart.NewReader(bytes.NewReader(inner), innerBoundary)
	var out []subResponse
	for {
		p, err := parts.NextPart()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, fmt.Errorf("batch response part %d: %w", len(out), err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(p), nil)
		if err != nil {
			return out, fmt.Errorf("batch response part %d: %w", len(out), err)
		}
		sub := subResponse{Status: resp.StatusCode, ETag: resp.Header.Get("ETag"), Code: resp.Header.Get("x-ms-error-code")}
		if resp.StatusCode >= 400 {
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
			var oe struct {
				Err struct {
					Code    string `json:"code"`
					Message struct {
						Value string `json:"value"`
					} `json:"message"`
				} `json:"odata.error"`
			}
			if json.Unmarshal(b, &oe) == nil {
				if oe.Err.Code != "" {
					sub.Code = oe.Err.Code
				}
				sub.Message = oe.Err.Message.Value
			}
		}
		resp.Body.Close()
		out = append(out, sub)
	}
}

// boundaryOf takes a multipart boundary from a Content-Type, or else from the first line of
// the body ("--boundary").
func boundaryOf(contentType string, body []byte) string {
	if _, params, err := mime.ParseMediaType(contentType); err == nil && params["boundary"] != "" {
		return params["boundary"]
	}
	line, _, _ := bytes.Cut(body, []byte("\n"))
	s := strings.TrimSpace(string(line))
	if b, ok := strings.CutPrefix(s, "--"); ok {
		return b
	}
	return ""
}

// failure returns the first failed operation of a batch response.
func failure(subs []subResponse) (subResponse, bool) {
	for _, s := range subs {
		if s.Status >= 400 {
			return s, true
		}
	}
	return subResponse{}, false
}
