package slack

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/huntwatch/huntwatch/handler/hunt"
)

// Preview writes the messages huntwatch would post for the findings of h as Block Kit payloads
// ({"blocks":[...]}, ready to paste into Slack's Block Kit Builder) to dir, which it creates:
// finding-01.json… one per finding; digest.json for all of them; repeat-reply.json, the thread
// reply telling of a new occurrence (the second finding, or the first again), and
// repeat-update.json, the first finding's message updated with its summary line; and
// alert-failing.json, alert-recovered.json and alert-heartbeat.json with sample figures. With
// no findings only the alerts are written. It returns the paths written, in that order.
func Preview(h *hunt.Hunt, fs []*hunt.Finding, dir string) ([]string, error) {
	if h == nil {
		h = &hunt.Hunt{}
	}
	fs = nonNil(fs)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("preview: %w", err)
	}
	var paths []string
	write := func(name string, m Message) error {
		js, err := JSON(m)
		if err != nil {
			return fmt.Errorf("preview %s: %w", name, err)
		}
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, append(js, '\n'), 0o644); err != nil {
			return fmt.Errorf("preview: %w", err)
		}
		paths = append(paths, path)
		return nil
	}
	width := max(2, len(fmt.Sprint(len(fs))))
	for i, f := range fs {
		if err := write(fmt.Sprintf("finding-%0*d.json", width, i+1), Build(h, f)); err != nil {
			return paths, err
		}
	}
	at := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	if len(fs) > 0 {
		if err := write("digest.json", BuildDigest(h, fs, BuildOptions{})); err != nil {
			return paths, err
		}
		first, again := fs[0], fs[0]
		if len(fs) > 1 {
			again = fs[1]
		}
		rec := sampleRecord(h, first, again)
		if err := write("repeat-reply.json", BuildRepeat(h, again)); err != nil {
			return paths, err
		}
		if err := write("repeat-update.json", BuildWith(h, first, BuildOptions{Record: rec})); err != nil {
			return paths, err
		}
		if t, _, ok := timeRange(fs); ok {
			at = t
		}
	}
	health := hunt.Health{
		Failures: 3, FailingSince: at.Add(-45 * time.Minute),
		LastError: "query hunt " + h.Name + ": POST https://api.loganalytics.io/v1/workspaces/…/query: 503 Service Unavailable",
		Today:     hunt.DayCounts{Day: at.Format(time.DateOnly), Runs: 96, Failed: 3, Rows: 1234, New: len(fs), Repeats: 7, Posted: len(fs)},
	}
	for _, kind := range []string{hunt.AlertFailing, hunt.AlertRecovered, hunt.AlertHeartbeat} {
		m, err := BuildAlert(h, hunt.Alert{Kind: kind, Health: health})
		if err != nil {
			return paths, err
		}
		if err := write("alert-"+kind+".json", m); err != nil {
			return paths, err
		}
	}
	return paths, nil
}

// sampleRecord is the record of a fingerprint first seen as first and seen again as again.
func sampleRecord(h *hunt.Hunt, first, again *hunt.Finding) *hunt.Record {
	rec := &hunt.Record{Fingerprint: first.Fingerprint, State: hunt.Delivered, Finding: first,
		Message: hunt.MessageRef{Where: "C0PREVIEW", ID: "1700000000.000100"}}
	for _, f := range []*hunt.Finding{first, again} {
		rec.Occurrences++
		for _, e := range h.Entities {
			for _, m := range e.FieldMappings {
				if v := strings.TrimSpace(f.Value(m.ColumnName)); v != "" && !slices.Contains(rec.Entities[e.EntityType], v) {
					if rec.Entities == nil {
						rec.Entities = map[string][]string{}
					}
					rec.Entities[e.EntityType] = append(rec.Entities[e.EntityType], v)
				}
			}
		}
		if rec.FirstSeen.IsZero() || f.Time.Before(rec.FirstSeen) {
			rec.FirstSeen = f.Time
		}
		if f.Time.After(rec.LastSeen) {
			rec.LastSeen = f.Time
		}
	}
	return rec
}
