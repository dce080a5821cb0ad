// Package loganalytics is the hunt pipeline's query source in Azure: it runs a hunt's KQL against
// a Log Analytics workspace through the Azure SDK's azquery client and turns the answer into a
// hunt.Result, typed by the result's own column types.
package loganalytics

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/monitor/azquery"

	"github.com/huntwatch/huntwatch/handler/hunt"
)

// DefaultEndpoint is the public cloud's query API.
const DefaultEndpoint = "https://api.loganalytics.io/v1"

// Options tune the source; the zero value is right for production.
type Options struct {
	// ServerTimeout is how long Log Analytics may work on a query (the Prefer: wait header);
	// one attempt gets this plus half of it (at most 30 s more), and the whole call, retries
	// included, this plus as much again (at most a minute more). Default 3 minutes: attempts of
	// 3.5 minutes, 4 minutes in all, well under the 10-minute function timeout.
	ServerTimeout time.Duration
	// Transport replaces the HTTP transport (tests).
	Transport policy.Transporter
	// MaxRetries of 429 and 5xx answers, which honour Retry-After. Default 3.
	MaxRetries int32
}

// Source runs queries against one workspace.
type Source struct {
	client    *azquery.LogsClient
	workspace string
	wait      time.Duration
	deadline  time.Duration // of the whole call, retries included
}

var (
	_ hunt.Source   = (*Source)(nil)
	_ hunt.Streamer = (*Source)(nil)
)

// New returns a source for workspace at endpoint (DefaultEndpoint when empty), authenticated by cred.
func New(workspace, endpoint string, cred azcore.TokenCredential, opts Options) (*Source, error) {
	if endpoint == "" {
		endpoint = DefaultEndpoint
	}
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("log analytics endpoint %q is not a URL", endpoint)
	}
	if opts.ServerTimeout <= 0 {
		opts.ServerTimeout = 3 * time.Minute
	}
	if opts.MaxRetries == 0 {
		opts.MaxRetries = 3
	}
	co := &azquery.LogsClientOptions{}
	co.Cloud = cloud.Configuration{Services: map[cloud.ServiceName]cloud.ServiceConfiguration{
		azquery.ServiceNameLogs: {Audience: u.Scheme + "://" + u.Host, Endpoint: endpoint},
	}}
	co.Retry = policy.RetryOptions{MaxRetries: opts.MaxRetries, TryTimeout: opts.ServerTimeout + min(30*time.Second, opts.ServerTimeout/2), MaxRetryDelay: time.Minute}
	co.Telemetry.Disabled = true
	co.PerCallPolicies = append(co.PerCallPolicies, streamPolicy{})
	if opts.Transport != nil {
		co.Transport = opts.Transport
	}
	client, err := azquery.NewLogsClient(cred, co)
	if err != nil {
		return nil, fmt.Errorf("log analytics client: %w", err)
	}
	return &Source{client: client, workspace: workspace, wait: opts.ServerTimeout, deadline: opts.ServerTimeout + min(time.Minute, opts.ServerTimeout)}, nil
}

// Query runs query over timespan. A 200 answer that carries an error is a partial result: its rows
// are returned with Result.Partial set.
func (s *Source) Query(ctx context.Context, query string, timespan hunt.Window) (*hunt.Result, error) {
	res := &hunt.Result{Rows: [][]any{}}
	partial, err := s.Stream(ctx, query, timespan, func(cols []hunt.Column, row []any) error {
		if row == nil {
			res.Columns = cols
		} else {
			res.Rows = append(res.Rows, row) // decode gives each row a slice of its own
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	res.Partial = partial
	return res, nil
}

// Stream runs query over timespan and hands each row of the answer to each as it is read (see
// hunt.Streamer): first the columns with a nil row, then the rows. A 200 answer that carries an
// error is a partial result, returned as partial.
func (s *Source) Stream(ctx context.Context, query string, timespan hunt.Window, each func(cols []hunt.Column, row []any) error) (partial error, err error) {
	ctx, cancel := context.WithTimeout(ctx, s.deadline)
	defer cancel()
	wait := max(1, int(s.wait/time.Second))
	ts := azquery.NewTimeInterval(timespan.Start, timespan.End)
	// The answer's body is not downloaded by the pipeline: streamPolicy hands it to us and azquery
	// decodes an empty body; we decode the real one as a stream (decode.go).
	answer := &answerBody{}
	defer answer.close()
	_, err = s.client.QueryWorkspace(context.WithValue(ctx, answerKey{}, answer), s.workspace, azquery.Body{Query: &query, Timespan: &ts},
		&azquery.LogsClientQueryWorkspaceOptions{Options: &azquery.LogsQueryOptions{Wait: &wait}})
	if err != nil {
		return nil, fmt.Errorf("workspace %s: %w", s.workspace, describe(err))
	}
	if answer.body == nil {
		return nil, fmt.Errorf("workspace %s: the answer's body was not captured", s.workspace)
	}
	partial, err = decode(answer.body, each)
	var de *decodeError
	if errors.As(err, &de) {
		return nil, fmt.Errorf("workspace %s: %w", s.workspace, de.err)
	}
	return partial, err
}

// describe shortens SDK errors to their status and service message.
func describe(err error) error {
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		return fmt.Errorf("HTTP %d %s: %w", re.StatusCode, http.StatusText(re.StatusCode), err)
	}
	return err
}

// value converts one JSON cell to the Go value hunt.Result expects for the column's type.
func value(typ string, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	mismatch := func() error { return fmt.Errorf("%s value %v has JSON type %T", typ, v, v) }
	switch typ {
	case "datetime":
		s, ok := v.(string)
		if !ok {
			return nil, mismatch()
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return nil, fmt.Errorf("datetime %q: %w", s, err)
		}
		return t.UTC(), nil
	case "int", "long":
		f, ok := v.(float64)
		if !ok {
			return nil, mismatch()
		}
		return int64(f), nil
	case "real", "decimal":
		switch x := v.(type) {
		case float64:
			return x, nil
		case string: // NaN and infinities arrive as strings
			return x, nil
		}
		return nil, mismatch()
	case "bool":
		b, ok := v.(bool)
		if !ok {
			return nil, mismatch()
		}
		return b, nil
	case "dynamic":
		s, ok := v.(string)
		if !ok {
			return v, nil
		}
		var d any
		if json.Unmarshal([]byte(s), &d) != nil {
			return s, nil // a dynamic string value
		}
		return d, nil
	default: // string, guid, timespan
		s, ok := v.(string)
		if !ok {
			return nil, mismatch()
		}
		return s, nil
	}
}
