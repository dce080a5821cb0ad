package logging_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/huntwatch/huntwatch/handler/logging"
)

func TestRedactsEverywhereAndSplitsByLevel(t *testing.T) {
	var out, errOut bytes.Buffer
	const token, key = "xoxb-123-secret", "c2VjcmV0a2V5"
	log := logging.New(&out, &errOut, slog.LevelInfo, []string{token, key, "Acc"})
	log = log.With("conn", "AccountKey="+key)
	log.Info("posting with "+token, "err", errors.New("401 for "+token), slog.Group("g", slog.String("k", key)), "n", 3)
	log.Error("failed", "err", errors.New("key "+key))
	log.Debug("hidden " + token)
	all := out.String() + errOut.String()
	if strings.Contains(all, token) || strings.Contains(all, key) {
		t.Fatalf("secret leaked:\n%s", all)
	}
	if !strings.Contains(out.String(), "posting with [REDACTED]") || !strings.Contains(out.String(), `"n":3`) || strings.Contains(out.String(), "failed") {
		t.Errorf("stdout:\n%s", out.String())
	}
	if !strings.Contains(errOut.String(), "key [REDACTED]") || strings.Contains(errOut.String(), "posting") {
		t.Errorf("stderr:\n%s", errOut.String())
	}
	if strings.Contains(all, "hidden") {
		t.Error("debug line logged at info level")
	}
	if !strings.Contains(all, "AccountKey=[REDACTED]") {
		t.Error("a secret shorter than 4 characters redacted ordinary text")
	}
}

// summary stands for a LogValuer such as hunt.Summary, which logs a group holding a duration.
type summary struct{ took time.Duration }

func (s summary) LogValue() slog.Value {
	return slog.GroupValue(slog.Int("rows", 3), slog.Duration("duration", s.took))
}

func TestDurationsReadable(t *testing.T) {
	var out, errOut bytes.Buffer
	log := logging.New(&out, &errOut, slog.LevelInfo, nil).With("lease", 15*time.Minute)
	log.Info("shutting down", "grace", 20*time.Second, "n", 7,
		slog.Group("g", slog.Duration("wait", 1500*time.Millisecond), slog.Group("inner", "d", 90*time.Second)),
		"summary", summary{took: 2*time.Second + 345*time.Millisecond})
	log.WithGroup("run").Error("failed", "after", time.Duration(0))

	var line map[string]any
	if err := json.Unmarshal(out.Bytes(), &line); err != nil {
		t.Fatalf("stdout %q: %v", out.String(), err)
	}
	for _, test := range []struct {
		path []string
		want any
	}{
		{[]string{"grace"}, "20s"},
		{[]string{"lease"}, "15m0s"},
		{[]string{"g", "wait"}, "1.5s"},
		{[]string{"g", "inner", "d"}, "1m30s"},
		{[]string{"summary", "duration"}, "2.345s"},
		{[]string{"summary", "rows"}, 3.0}, // other kinds keep their JSON type
		{[]string{"n"}, 7.0},
	} {
		if got := lookup(line, test.path); got != test.want {
			t.Errorf("%v = %#v, want %#v in\n%s", test.path, got, test.want, out.String())
		}
	}
	if err := json.Unmarshal(errOut.Bytes(), &line); err != nil {
		t.Fatalf("stderr %q: %v", errOut.String(), err)
	}
	if got := lookup(line, []string{"run", "after"}); got != "0s" {
		t.Errorf("run.after = %#v in\n%s", got, errOut.String())
	}
}

func lookup(m map[string]any, path []string) any {
	var v any = m
	for _, k := range path {
		obj, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = obj[k]
	}
	return v
}
