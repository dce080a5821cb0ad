// Package logging builds huntwatch's logger: JSON lines, Information and below to stdout and
// errors to stderr (the Functions host records them at those levels), with every known secret
// value replaced by [REDACTED] wherever it appears, in messages, attributes and errors alike, and
// durations written as Go prints them ("20s"), not as integers of nanoseconds.
package logging

import (
	"context"
	"io"
	"log/slog"
	"strings"
)

// New returns a logger at level writing to out and errOut, redacting secrets.
func New(out, errOut io.Writer, level slog.Level, secrets []string) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level, ReplaceAttr: readableDuration}
	return slog.New(&handler{
		out:     slog.NewJSONHandler(out, opts),
		err:     slog.NewJSONHandler(errOut, opts),
		redact:  Redactor(secrets),
		minimum: level,
	})
}

// readableDuration writes a time.Duration as Go prints it ("20s", "1m30s") instead of the JSON
// handler's integer of nanoseconds. The JSON handler calls it for attributes inside groups too.
func readableDuration(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindDuration {
		return slog.String(a.Key, a.Value.Duration().String())
	}
	return a
}

// Redactor returns a function that replaces each non-empty secret in s by [REDACTED].
func Redactor(secrets []string) func(string) string {
	var pairs []string
	for _, s := range secrets {
		if len(s) >= 4 { // shorter values would redact ordinary words
			pairs = append(pairs, s, "[REDACTED]")
		}
	}
	if len(pairs) == 0 {
		return func(s string) string { return s }
	}
	return strings.NewReplacer(pairs...).Replace
}

type handler struct {
	out, err slog.Handler
	redact   func(string) string
	minimum  slog.Level
}

func (h *handler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.minimum }

func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	clean := slog.NewRecord(r.Time, r.Level, h.redact(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		clean.AddAttrs(h.attr(a))
		return true
	})
	if r.Level >= slog.LevelError {
		return h.err.Handle(ctx, clean)
	}
	return h.out.Handle(ctx, clean)
}

func (h *handler) attr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, h.redact(v.String()))
	case slog.KindGroup:
		attrs := v.Group()
		clean := make([]any, len(attrs))
		for i, g := range attrs {
			clean[i] = h.attr(g)
		}
		return slog.Group(a.Key, clean...)
	case slog.KindAny:
		if err, ok := v.Any().(error); ok {
			return slog.String(a.Key, h.redact(err.Error()))
		}
		return slog.String(a.Key, h.redact(v.String()))
	default:
		return slog.Attr{Key: a.Key, Value: v}
	}
}

func (h *handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	clean := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		clean[i] = h.attr(a)
	}
	return &handler{out: h.out.WithAttrs(clean), err: h.err.WithAttrs(clean), redact: h.redact, minimum: h.minimum}
}

func (h *handler) WithGroup(name string) slog.Handler {
	return &handler{out: h.out.WithGroup(name), err: h.err.WithGroup(name), redact: h.redact, minimum: h.minimum}
}
