package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// previewed counts the files of a preview: messages (and digests), thread replies, updates.
func previewed(t *testing.T, dir string) (messages, replies, updates int) {
	t.Helper()
	for _, pat := range []string{"message-[0-9][0-9].json", "digest-[0-9][0-9].json"} {
		m, _ := filepath.Glob(filepath.Join(dir, pat))
		messages += len(m)
	}
	r, _ := filepath.Glob(filepath.Join(dir, "*-reply-*.json"))
	u, _ := filepath.Glob(filepath.Join(dir, "*-update.json"))
	all, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	for _, f := range all {
		data, _ := os.ReadFile(f)
		var payload struct{ Blocks []json.RawMessage }
		if err := json.Unmarshal(data, &payload); err != nil || len(payload.Blocks) == 0 {
			t.Errorf("%s is no Block Kit payload: %v\n%s", f, err, data)
		}
	}
	return messages, len(r), len(u)
}

// printed counts what run prints: messages (and digests), thread replies, updates.
func printed(out string) (messages, replies, updates int) {
	return strings.Count(out, "──── message ") + strings.Count(out, "──── digest "),
		strings.Count(out, "↳ thread reply"), strings.Count(out, "✎ update of message")
}

// preview runs run's pipeline: over the sample it writes exactly the messages, thread replies and
// updates that run prints, one file each, with one message per fingerprint or one digest.
func TestPreviewWritesWhatRunSends(t *testing.T) {
	chdirRoot(t)
	for _, env := range []map[string]string{
		nil,                         // the bundled pack
		{"HUNTS": "runcommand-mde"}, // five messages, one with a further occurrence
		{"HUNTS": "runcommand-mde", "SLACK_DIGEST_THRESHOLD": "2"}, // a flood: one digest
		{"HUNT_FILE": "seed-runcommand-mde"},                       // a hunt that fails: no message
	} {
		state := filepath.Join(t.TempDir(), "state.json")
		runCode, out, errOut := runMain(t, env, "run", "--dry-run", "--state", state)
		dir := t.TempDir()
		code, paths, perr := runMain(t, env, "preview", "--out", dir)
		if code != runCode {
			t.Errorf("%v: preview exit %d, run exit %d\n%s\n%s", env, code, runCode, perr, errOut)
		}
		rm, rr, ru := printed(out)
		pm, pr, pu := previewed(t, dir)
		if rm != pm || rr != pr || ru != pu {
			t.Errorf("%v: run printed %d messages, %d replies, %d updates; preview wrote %d, %d, %d:\n%s",
				env, rm, rr, ru, pm, pr, pu, paths)
		}
		if env["HUNTS"] != "" && env["SLACK_DIGEST_THRESHOLD"] == "" && (pm != 5 || pr != 1 || pu != 1) {
			t.Errorf("over the sample: %d messages, %d replies, %d updates; want 5, 1, 1:\n%s", pm, pr, pu, paths)
		}
		if env["SLACK_DIGEST_THRESHOLD"] != "" {
			if _, err := os.Stat(filepath.Join(dir, "digest-01.csv")); pm != 1 || err != nil {
				t.Errorf("flood: %d messages, CSV %v:\n%s", pm, err, paths)
			}
		}
		for _, alert := range []string{"alert-failing.json", "alert-recovered.json", "alert-heartbeat.json"} {
			if code == 0 && !strings.Contains(paths, alert) {
				t.Errorf("%v: no %s:\n%s", env, alert, paths)
			}
		}
	}
}

// preview honours HUNT_FILE as run does (and --hunt over it), and replaces an earlier preview.
func TestPreviewHonoursHuntFile(t *testing.T) {
	chdirRoot(t)
	hunt := filepath.Join(t.TempDir(), "ago.yaml")
	if err := os.WriteFile(hunt, []byte(agoHunt), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if code, _, errOut := runMain(t, nil, "preview", "--out", dir); code != 0 {
		t.Fatalf("preview: exit %d\n%s", code, errOut)
	}
	code, _, errOut := runMain(t, map[string]string{"HUNT_FILE": hunt}, "preview", "--out", dir)
	if m, _, _ := previewed(t, dir); code != 0 || m != 1 {
		t.Fatalf("preview with HUNT_FILE: exit %d, %d messages (want the 1 of its hunt)\n%s", code, m, errOut)
	}
	data, _ := os.ReadFile(filepath.Join(dir, "message-01.json"))
	if !strings.Contains(string(data), "Latest Run Command of the last day") {
		t.Errorf("message-01.json is not of HUNT_FILE's hunt:\n%s", data)
	}
	code, _, _ = runMain(t, map[string]string{"HUNT_FILE": hunt}, "preview", "--hunt", "runcommand-mde", "--out", dir)
	if m, _, _ := previewed(t, dir); code != 0 || m != 5 {
		t.Errorf("--hunt over HUNT_FILE: exit %d, %d messages, want 5", code, m)
	}
}
