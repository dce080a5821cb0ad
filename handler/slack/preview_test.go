package slack

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/huntwatch/huntwatch/handler/hunt"
	"github.com/huntwatch/huntwatch/handler/internal/fakeslack"
)

func TestPreview(t *testing.T) {
	hostileH, hostileF := everywhere("<!channel> ```*x*``` & \u202E")
	for _, test := range []struct {
		name  string
		h     *hunt.Hunt
		fs    []*hunt.Finding
		files []string
	}{
		{"three", runCommandHunt(), manyFindings(3), []string{"finding-01.json", "finding-02.json", "finding-03.json", "digest.json",
			"repeat-reply.json", "repeat-update.json", "alert-failing.json", "alert-recovered.json", "alert-heartbeat.json"}},
		{"one hostile", hostileH, []*hunt.Finding{hostileF}, []string{"finding-01.json", "digest.json",
			"repeat-reply.json", "repeat-update.json", "alert-failing.json", "alert-recovered.json", "alert-heartbeat.json"}},
		{"none", nil, nil, []string{"alert-failing.json", "alert-recovered.json", "alert-heartbeat.json"}},
	} {
		t.Run(test.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "preview")
			paths, err := Preview(test.h, test.fs, dir)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, p := range paths {
				names = append(names, filepath.Base(p))
			}
			if strings.Join(names, " ") != strings.Join(test.files, " ") {
				t.Errorf("wrote %v, want %v", names, test.files)
			}
			for _, p := range paths {
				data, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				var payload map[string]json.RawMessage
				if err := json.Unmarshal(data, &payload); err != nil || len(payload) != 1 || payload["blocks"] == nil {
					t.Fatalf("%s is not {\"blocks\":[...]}: %v", p, err)
				}
				if code, detail := fakeslack.Check(payload["blocks"]); code != "" {
					t.Errorf("%s: Slack would refuse it: %s %s", p, code, detail)
				}
			}
		})
	}
	if _, err := Preview(runCommandHunt(), manyFindings(1), filepath.Join(t.TempDir(), "file", "x")); err != nil {
		t.Errorf("nested dir: %v", err)
	}
	blocker := filepath.Join(t.TempDir(), "blocker")
	os.WriteFile(blocker, nil, 0o644)
	if _, err := Preview(runCommandHunt(), manyFindings(1), blocker); err == nil {
		t.Errorf("no error writing into a file")
	}
}
