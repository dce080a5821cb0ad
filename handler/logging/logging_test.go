package logging_test

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"

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
