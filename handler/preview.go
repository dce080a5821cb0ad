package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/huntwatch/huntwatch/handler/hunt"
	"github.com/huntwatch/huntwatch/handler/hunt/memstore"
	"github.com/huntwatch/huntwatch/handler/slack"
)

// previewCommand writes, as Block Kit JSON files, the Slack messages a first run over the sample
// logs sends: the same pipeline as run (hunt.Runner, in a dry run, from an empty in-memory store),
// with a notifier that writes files instead of posting.
var previewCommand = command{
	name: "preview",
	summary: `write the Slack messages a first run over the logs would send (run's local sample
mode, from an empty state, writing no state) as Block Kit JSON files, ready to paste
into Slack's Block Kit Builder; with samples of a digest and of the health alerts.`,
	setup: setupPreview,
}

func setupPreview(fs *flag.FlagSet, e env) func(context.Context, []string) error {
	var local localFlags
	local.define(fs)
	huntRef := fs.String("hunt", "", "preview only this hunt: `NAME|FILE`, a hunt of the pack by name or id, a bundled hunt, or a Sentinel YAML file")
	out := fs.String("out", "dist/preview", "`DIR` for the JSON files; the files of an earlier preview there are replaced")
	return func(ctx context.Context, _ []string) error {
		cfg, log, err := loadConfig(e.getenv, e.stderr, e.stderr)
		if err != nil {
			return err
		}
		cfg.WorkspaceID = "" // the sample logs, whatever the settings say
		files := &previewFiles{dir: *out, workspace: cfg.WorkspaceARM}
		if err := files.clear(); err != nil {
			return err
		}
		a, err := wire(wiring{cfg: cfg, log: log, local: local, store: memstore.New(), notifier: files, dryRun: true, only: *huntRef})
		if err != nil {
			return err
		}
		sum, runErr := a.runner.RunPack(ctx, a.pack)
		fmt.Fprintln(e.stderr, a.runner.Redact(sum.String()))
		err = errors.Join(runErr, files.samples(a.pack.Hunts[0], sum))
		for _, p := range files.paths {
			fmt.Fprintln(e.stdout, p)
		}
		return err
	}
}

// previewFiles is a hunt.Notifier that writes each message as a Block Kit JSON file in dir, named
// in the order a run sends them: message-01.json (a new fingerprint), message-01-reply-1.json (a
// thread reply telling of a further occurrence), message-01-update.json (the message updated with
// its summary line), digest-02.json and its CSV, digest-02.csv (a flood).
type previewFiles struct {
	dir       string
	workspace string // LOG_ANALYTICS_WORKSPACE_RESOURCE_ID, for the "View in Log Analytics" link

	mu       sync.Mutex
	seq      int
	replies  map[string]int // replies written, by the name of the message they answer
	findings []*hunt.Finding
	digested bool
	paths    []string
}

var _ hunt.Notifier = (*previewFiles)(nil)

// previewPatterns match the files a preview writes, for clear.
var previewPatterns = []string{"message-*.json", "digest-*.json", "digest-*.csv", "sample-digest.json", "alert-*.json"}

// clear removes the files of an earlier preview, so that dir holds this one's only.
func (p *previewFiles) clear() error {
	for _, pat := range previewPatterns {
		old, _ := filepath.Glob(filepath.Join(p.dir, pat))
		for _, f := range old {
			if err := os.Remove(f); err != nil {
				return fmt.Errorf("preview: %w", err)
			}
		}
	}
	return nil
}

// write creates the file name in the preview's folder with what fill writes to it; on an error
// the file is removed.
func (p *previewFiles) write(name string, fill func(io.Writer) error) error {
	if err := os.MkdirAll(p.dir, 0o755); err != nil {
		return fmt.Errorf("preview: %w", err)
	}
	path := filepath.Join(p.dir, name)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("preview: %w", err)
	}
	w := bufio.NewWriter(f)
	if err = fill(w); err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("preview %s: %w", name, err)
	}
	p.paths = append(p.paths, path)
	return nil
}

func (p *previewFiles) writeJSON(name string, m slack.Message) error {
	js, err := slack.JSON(m)
	if err != nil {
		return fmt.Errorf("preview %s: %w", name, err)
	}
	return p.write(name, func(w io.Writer) error {
		_, err := w.Write(append(js, '\n'))
		return err
	})
}

// Notify writes the message of a new fingerprint, as the bot posts it: with the record's summary
// line when more occurrences follow as replies.
func (p *previewFiles) Notify(ctx context.Context, h *hunt.Hunt, rec *hunt.Record, more []*hunt.Finding) (hunt.MessageRef, error) {
	o := slack.BuildOptions{WorkspaceResourceID: p.workspace}
	if len(more) > 0 {
		o.Record = rec
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seq++
	name := fmt.Sprintf("message-%02d", p.seq)
	if err := p.writeJSON(name+".json", slack.BuildWith(h, rec.Finding, o)); err != nil {
		return hunt.MessageRef{}, err
	}
	p.findings = append(append(p.findings, rec.Finding), more...)
	return hunt.MessageRef{Where: p.dir, ID: name}, nil
}

// Digest writes the digest and the CSV its thread gets, the CSV row by row as the bot uploads it.
func (p *previewFiles) Digest(ctx context.Context, h *hunt.Hunt, fs hunt.FindingSeq) (hunt.MessageRef, error) {
	m := slack.BuildDigest(h, fs, slack.BuildOptions{WorkspaceResourceID: p.workspace})
	if err := fs.Err(); err != nil {
		return hunt.MessageRef{}, fmt.Errorf("preview digest: %w", err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seq++
	name := fmt.Sprintf("digest-%02d", p.seq)
	if err := p.writeJSON(name+".json", m); err != nil {
		return hunt.MessageRef{}, err
	}
	if err := p.write(name+".csv", func(w io.Writer) error { return slack.WriteCSV(w, fs) }); err != nil {
		return hunt.MessageRef{}, err
	}
	p.digested = true // samples writes no sample digest then, so fs is not kept
	return hunt.MessageRef{Where: p.dir, ID: name, Kind: hunt.KindDigest}, nil
}

// Repeat writes one thread reply per occurrence and, under a message (not a digest), the message
// updated with the record's summary, as the bot does.
func (p *previewFiles) Repeat(ctx context.Context, h *hunt.Hunt, rec *hunt.Record, fresh []*hunt.Finding) error {
	if rec == nil || len(fresh) == 0 {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	under := rec.Message.ID
	if under == "" {
		under = "message"
	}
	if p.replies == nil {
		p.replies = map[string]int{}
	}
	for _, f := range fresh {
		p.replies[under]++
		if err := p.writeJSON(under+"-reply-"+strconv.Itoa(p.replies[under])+".json", slack.BuildRepeat(h, f)); err != nil {
			return err
		}
	}
	if rec.Finding == nil || rec.Message.ID == "" || rec.Message.Kind == hunt.KindDigest {
		return nil // a digest is left as it is
	}
	return p.writeJSON(under+"-update.json", slack.BuildWith(h, rec.Finding, slack.BuildOptions{WorkspaceResourceID: p.workspace, Record: rec}))
}

// Alert writes a health alert (a dry run sends none: see samples).
func (p *previewFiles) Alert(ctx context.Context, h *hunt.Hunt, a hunt.Alert) error {
	m, err := slack.BuildAlert(h, a)
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.writeJSON("alert-"+a.Kind+".json", m)
}

// samples writes the messages the run did not send, with its findings and figures: the digest a
// flood would post (sample-digest.json), and the failure, recovery and heartbeat alerts.
func (p *previewFiles) samples(h *hunt.Hunt, tick hunt.TickSummary) error {
	var sum hunt.Summary // the figures of the run, summed over the pack's hunts
	for _, r := range tick.Runs {
		sum.Rows, sum.New, sum.Repeats, sum.Posted = sum.Rows+r.Rows, sum.New+r.New, sum.Repeats+r.Repeats, sum.Posted+r.Posted
		if r.Window.End.After(sum.Window.End) {
			sum.Window = r.Window
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.findings) > 0 && !p.digested {
		if err := p.writeJSON("sample-digest.json", slack.BuildDigest(h, hunt.FindingList(p.findings), slack.BuildOptions{WorkspaceResourceID: p.workspace})); err != nil {
			return err
		}
	}
	at := sum.Window.End
	if at.IsZero() {
		at = time.Now().UTC()
	}
	health := hunt.Health{
		Failures: 3, FailingSince: at.Add(-3 * time.Hour),
		LastError: "query hunt " + h.Name + ": POST https://api.loganalytics.io/v1/workspaces/…/query: 503 Service Unavailable",
		Today: hunt.DayCounts{Day: at.Format(time.DateOnly), Runs: 24, Failed: 3, Rows: sum.Rows,
			New: sum.New, Repeats: sum.Repeats, Posted: sum.Posted},
	}
	for _, kind := range []string{hunt.AlertFailing, hunt.AlertRecovered, hunt.AlertHeartbeat} {
		m, err := slack.BuildAlert(h, hunt.Alert{Kind: kind, Health: health})
		if err != nil {
			return err
		}
		if err := p.writeJSON("alert-"+kind+".json", m); err != nil {
			return err
		}
	}
	return nil
}
