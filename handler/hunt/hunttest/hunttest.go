// Package hunttest holds the query source the pipeline's tests run hunts over: a hunt.Source that
// answers from memory, fails on demand, and records what it was asked. (The store the tests use
// is memstore; the notifier each test records in its own way.)
package hunttest

import (
	"context"
	"sync"

	"github.com/huntwatch/huntwatch/handler/hunt"
)

// Source is a hunt.Source that answers every query with Result, or fails it with Err. Set the
// fields between runs, not during one. Like a remote source, it fails a query whose context has
// ended. It is safe for concurrent queries.
type Source struct {
	Result *hunt.Result // the answer to every query; nil answers no columns and no rows
	Err    error        // when set, every query fails with it
	// Answer, when set, answers each query instead of Result and Err: a pack of hunts, each
	// with its own rows.
	Answer func(query string) (*hunt.Result, error)

	mu    sync.Mutex
	calls []Call
}

var _ hunt.Source = (*Source)(nil)

// Call is one query the Source was asked.
type Call struct {
	Query    string
	Timespan hunt.Window
}

// Query records the call and answers it.
func (s *Source) Query(ctx context.Context, query string, timespan hunt.Window) (*hunt.Result, error) {
	s.mu.Lock()
	s.calls = append(s.calls, Call{Query: query, Timespan: timespan})
	s.mu.Unlock()
	switch {
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case s.Answer != nil:
		return s.Answer(query)
	case s.Err != nil:
		return nil, s.Err
	case s.Result == nil:
		return &hunt.Result{}, nil
	}
	res := *s.Result
	return &res, nil
}

// Calls returns the queries asked so far, oldest first.
func (s *Source) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}
