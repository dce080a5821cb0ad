package slack

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	slackapi "github.com/slack-go/slack"

	"github.com/huntwatch/huntwatch/handler/hunt"
)

// Bounds of a digest.
const (
	digestFull      = 3    // findings shown with their lists
	digestTop       = 10   // values counted per entity column
	digestValueMax  = 60   // one counted value
	digestListMax   = 2500 // the lists of one finding shown in full
	digestCountCols = maxFields
	digestCountsMax = 4000 // the counts stop growing past this many units
	digestMinimal   = 1000
)

// BuildDigest lays out one message for many findings of h: a header with their number; the
// hunt's MITRE line; for each entity column (the VM, the caller, the IP...) its most frequent
// values and how many findings have each; then the first findings in compact form with their
// lists, and a note that all of them are attached as CSV. With o.Inline (a webhook, which cannot
// attach files) it lists instead as many findings as fit, one line each. Like Build, it is pure,
// escapes everything and stays within Slack's limits whatever the findings hold.
//
// It reads fs twice (the tallies, then the findings shown) and keeps only what it shows, so a
// flood is never held in memory; the caller checks fs.Err before sending the message.
func BuildDigest(h *hunt.Hunt, fs hunt.FindingSeq, o BuildOptions) Message {
	if h == nil {
		h = &hunt.Hunt{}
	}
	d := h.DigestView(fs, hunt.ViewOptions{WorkspaceResourceID: o.WorkspaceResourceID})
	var b builder
	total := fs.Len()
	what := count(total) + " new findings"
	if total == 1 {
		what = "1 new finding"
	}
	prefix := ""
	if e := emojiFor(d.Severity); e != "" {
		prefix = e + " "
	}
	suffix := ": " + plain(what, 40)
	head := prefix + plain(d.Name, maxHeaderText-textLen(prefix)-textLen(suffix)) + suffix
	b.add(slackapi.NewHeaderBlock(plainObj(head, true)), head)
	b.mitre(d.Name, false, d.Severity, d.Tactics, d.Techniques)
	b.digestCounts(d.Tallies)
	b.links(d.Links)
	b.add(slackapi.NewDividerBlock())

	var note string
	if o.Inline {
		note = "Webhooks cannot attach files: with a bot token (chat:write, files:write) the digest gets all findings as CSV in its thread."
	} else {
		note = ":paperclip: All " + count(total) + " findings are attached as CSV in the thread."
		if total == 1 {
			note = ":paperclip: The finding is attached as CSV in the thread."
		}
	}
	noteLen := textLen(note) + 100 // and the "… and N more findings" line
	if o.Inline {
		b.digestLines(h, fs, total, MaxMessageText-b.used-noteLen)
	} else {
		b.digestFull(h, fs, total, MaxMessageText-b.used-noteLen)
	}
	b.add(slackapi.NewContextBlock("", mrkdwn(note)), note)

	fallback := md(d.Name, 150) + ": " + what
	if d.Severity != "" {
		fallback = md(d.Severity, 40) + " · " + fallback
	}
	return Message{Text: cutEscaped(fallback, fallbackMax), Blocks: b.blocks}
}

// digestCounts adds, for each tally (an entity column), its digestTop most frequent values with
// the number of findings having each, as the fields of sections.
func (b *builder) digestCounts(tallies []hunt.Tally) {
	var fields []string
	used := 0
	for _, t := range tallies {
		if len(fields) == 2*digestCountCols || used > digestCountsMax {
			break
		}
		distinct := count(len(t.Values))
		if t.More {
			distinct += "+"
		}
		lines := []string{fmt.Sprintf("*%s* (%s distinct)", md(t.Label, 60), distinct)}
		for i, c := range t.Values {
			if i == digestTop {
				lines = append(lines, fmt.Sprintf("_… and %s more_", count(len(t.Values)-i)))
				break
			}
			lines = append(lines, code(c.Value, digestValueMax)+" × "+count(c.N))
		}
		field := cutEscaped(strings.Join(lines, "\n"), maxFieldText)
		fields = append(fields, field)
		used += textLen(field)
	}
	for len(fields) > 0 {
		k := min(len(fields), maxFields)
		objs := make([]*slackapi.TextBlockObject, k)
		for i, t := range fields[:k] {
			objs[i] = mrkdwn(t)
		}
		b.add(slackapi.NewSectionBlock(nil, objs, nil), fields[:k]...)
		fields = fields[k:]
	}
}

// compactLine is one finding on one line: its number, time, entity values and the size of its
// lists, each part bounded so the whole is.
func compactLine(v hunt.View, i int) string {
	var parts []string
	if !v.Time.IsZero() {
		parts = append(parts, dateToken(v.Time))
	}
	parts = append(parts, entityFacts(v)...)
	for j, l := range v.Lists {
		if j == 3 {
			break
		}
		noun := l.Noun
		if noun == "items" {
			noun = md(l.Label, 40) + " items"
		} else if l.Label != l.Column {
			noun = l.Label
		}
		parts = append(parts, count(len(l.Items))+" "+noun)
	}
	return fmt.Sprintf("*%d.* ", i) + strings.Join(parts, " · ")
}

// digestFull shows the first digestFull of the total findings, each with its lists, within
// budget units.
func (b *builder) digestFull(h *hunt.Hunt, fs hunt.FindingSeq, total, budget int) {
	first := make([]*hunt.Finding, 0, digestFull)
	for f := range fs.All() {
		if first = append(first, f); len(first) == digestFull {
			break
		}
	}
	n := len(first)
	used := 0
	for i, f := range first {
		v := h.View(f, hunt.ViewOptions{})
		line := compactLine(v, i+1)
		ids := "Fingerprint " + code(v.Fingerprint, 80)
		if v.Occurrence != "" {
			ids += " · Occurrence " + code(v.Occurrence, 80)
		}
		fixed := textLen(line) + textLen(ids)
		if used+fixed > budget {
			n = i
			break
		}
		b.add(slackapi.NewSectionBlock(mrkdwn(line), nil, nil), line)
		used += fixed
		share := min(digestListMax, (budget-used)/(n-i))
		for _, l := range v.Lists {
			if share <= 0 {
				continue
			}
			blks, u := listBlocks(l, share)
			// Keep blocks for this finding's ids, the next findings' lines and ids, and the
			// closing "more" and note.
			if len(b.blocks)+len(blks) > maxBlocks-1-2*(n-i-1)-2 {
				break
			}
			b.blocks = append(b.blocks, blks...)
			b.used += u
			used += u
			share -= u
		}
		b.add(slackapi.NewContextBlock("", mrkdwn(ids)), ids)
	}
	if rest := total - n; rest > 0 {
		more := fmt.Sprintf("_… and %s more findings_", count(rest))
		b.add(slackapi.NewContextBlock("", mrkdwn(more)), more)
	}
}

// digestLines lists findings one line each, in sections, as many of the total as budget units
// allow.
func (b *builder) digestLines(h *hunt.Hunt, fs hunt.FindingSeq, total, budget int) {
	used, shown := 0, 0
	var cur []string
	curLen := 0
	flush := func() {
		if len(cur) > 0 {
			text := strings.Join(cur, "\n")
			b.add(slackapi.NewSectionBlock(mrkdwn(text), nil, nil), text)
			cur, curLen = nil, 0
		}
	}
	for f := range fs.All() {
		line := compactLine(h.View(f, hunt.ViewOptions{}), shown+1)
		ll := textLen(line) + 1
		if used+ll > budget {
			break
		}
		if curLen+ll > sectionBudget {
			if len(b.blocks)+3 > maxBlocks {
				break
			}
			flush()
		}
		cur = append(cur, line)
		curLen += ll
		used += ll
		shown++
	}
	flush()
	if rest := total - shown; rest > 0 {
		more := fmt.Sprintf("_… and %s more findings not shown_", count(rest))
		b.add(slackapi.NewContextBlock("", mrkdwn(more)), more)
	}
}

// DigestMinimal is the plain-text message posted when Slack refuses a digest's blocks.
func DigestMinimal(h *hunt.Hunt, fs hunt.FindingSeq, reason string, inline bool) string {
	if h == nil {
		h = &hunt.Hunt{}
	}
	s := fmt.Sprintf("*%s*: %s new findings. Slack refused the digest's layout (%s); ", md(h.DisplayName(), 150), count(fs.Len()), code(reason, 60))
	if inline {
		s += "the findings are in huntwatch's store."
	} else {
		s += "all of them are attached as CSV in the thread."
	}
	return cutEscaped(s, digestMinimal)
}

// CSV writes the findings as one CSV file (RFC 4180, CRLF line ends): a header row, then one row
// per finding. The columns are the findings' columns in the order they first appear, then
// Fingerprint and Occurrence (named "… (huntwatch)" when a column of that name exists). List
// values are joined with "; ". Text is cleaned as in messages (invalid UTF-8, bidirectional
// overrides, control characters), and a cell that a spreadsheet would read as a formula (one
// starting with = + - @, a tab or a carriage return) gets a leading single quote.
//
// CSV holds the whole file in memory; a flood's goes through WriteCSV, which also reports
// findings that could not be read.
func CSV(fs hunt.FindingSeq) []byte {
	var buf bytes.Buffer
	WriteCSV(&buf, fs) // a bytes.Buffer does not fail
	return buf.Bytes()
}

// WriteCSV writes CSV(fs) to w row by row, holding one row at a time: it reads fs twice, for
// the columns, then for the rows. It returns the first write error, or fs.Err when the findings
// could not all be read.
func WriteCSV(w io.Writer, fs hunt.FindingSeq) error {
	var cols []string
	index := map[string]int{}
	for f := range fs.All() {
		if f == nil {
			continue
		}
		for _, c := range f.Fields {
			if _, ok := index[c.Name]; !ok {
				index[c.Name] = len(cols)
				cols = append(cols, c.Name)
			}
		}
	}
	extra := func(name string) string {
		if _, ok := index[name]; ok {
			return name + " (huntwatch)"
		}
		return name
	}
	if err := readErr(fs); err != nil {
		return err
	}
	header := append(append([]string(nil), cols...), extra("Fingerprint"), extra("Occurrence"))
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	row := make([]string, len(header))
	for i, c := range header {
		row[i] = cell(c)
	}
	if err := cw.Write(row); err != nil {
		return err
	}
	for f := range fs.All() {
		if f == nil {
			continue
		}
		clear(row)
		for _, c := range f.Fields {
			v := c.Text
			if c.Text == "" && len(c.List) > 0 {
				v = strings.Join(c.List, "; ")
			}
			row[index[c.Name]] = cell(v)
		}
		row[len(cols)], row[len(cols)+1] = cell(f.Fingerprint), cell(f.Occurrence)
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	if err := readErr(fs); err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

// errUnreadable marks the failure to read a digest's findings (see readErr).
var errUnreadable = errors.New("read the findings")

// readErr is fs.Err, marked with errUnreadable.
func readErr(fs hunt.FindingSeq) error {
	if err := fs.Err(); err != nil {
		return fmt.Errorf("%w: %w", errUnreadable, err)
	}
	return nil
}

// cell cleans a CSV value and neutralises formula injection (OWASP's advice).
func cell(s string) string {
	s = clean(s)
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// csvName is the file name of a digest's CSV: the hunt id (or "huntwatch") and the time.
func csvName(h *hunt.Hunt, at time.Time) string {
	id := strings.Map(func(r rune) rune {
		if 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '-' || r == '_' || r == '.' {
			return r
		}
		return '-'
	}, strings.TrimSpace(h.ID))
	id = strings.Trim(id, "-.")
	if id == "" {
		id = "huntwatch"
	}
	if len(id) > 80 {
		id = id[:80]
	}
	return id + "-" + at.UTC().Format("20060102T150405") + ".csv"
}

// uploadRetries bounds the retries of the CSV upload.
const uploadRetries = 2

// Digest posts one message for the findings (see BuildDigest) and, as a bot, uploads all of them
// as one CSV file into the digest's thread; it returns where the digest went, of kind
// hunt.KindDigest. Through a webhook, which cannot upload files, the digest lists what fits.
//
// Once the digest is posted the findings count as delivered, whatever happens to the CSV: an error
// would make the Runner post the digest again next run, a duplicate. So the upload is retried
// (up to uploadRetries times, after any error but those that mean Slack is unavailable) and if it
// still fails, Digest posts a short reply in the digest's thread ("CSV upload failed: <code>; the
// findings are in the store"), logs a warning and returns the ref with no error. Findings that
// cannot be read (fs.Err) while the CSV is written are such a failure; while the message is
// built, they fail the digest, and nothing is posted.
func (n *Notifier) Digest(ctx context.Context, h *hunt.Hunt, fs hunt.FindingSeq) (hunt.MessageRef, error) {
	if h == nil {
		h = &hunt.Hunt{}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	inline := n.api == nil
	m := BuildDigest(h, fs, BuildOptions{WorkspaceResourceID: n.opts.WorkspaceResourceID, Inline: inline})
	if err := readErr(fs); err != nil {
		return hunt.MessageRef{}, fmt.Errorf("digest: %w", err)
	}
	out := n.route(h, h.Severity)
	out.text, out.blocks = m.Text, m.Blocks
	ref, err := n.postOrPlain(ctx, out,
		func(code string) string { return DigestMinimal(h, fs, code, inline) }, "digest", fs.Len())
	if err != nil {
		return ref, err
	}
	ref.Kind = hunt.KindDigest
	if inline {
		return ref, nil
	}
	if err := n.upload(ctx, h, fs, ref); err != nil {
		reason := shortReason(err)
		n.log.Warn("slack: the digest's CSV could not be uploaded; the findings are in the store", "hunt", h.ID, "ts", ref.ID, "findings", fs.Len(), "err", err)
		note := "CSV upload failed: " + code(reason, 80) + "; the findings are in the store."
		if _, err := n.post(ctx, outgoing{text: note, channel: ref.Where, threadTS: ref.ID}); err != nil {
			n.log.Warn("slack: could not tell the digest's thread that the CSV is missing", "ts", ref.ID, "err", err)
		}
	}
	return ref, nil
}

// upload shares the findings' CSV in the thread of the digest at ref. The CSV is written to a
// temporary file and sent from there (each attempt reads the file again), so a flood's CSV is
// never held whole in memory; should no temporary file be possible, it is built in memory.
// Findings that cannot be read fail the upload.
func (n *Notifier) upload(ctx context.Context, h *hunt.Hunt, fs hunt.FindingSeq, ref hunt.MessageRef) error {
	body, size, done, err := csvFile(fs)
	if err != nil && fs.Err() == nil {
		n.log.Warn("slack: no temporary file for the digest's CSV; building it in memory", "err", err)
		var buf bytes.Buffer
		err = WriteCSV(&buf, fs)
		body, size, done = bytes.NewReader(buf.Bytes()), int64(buf.Len()), func() {}
	}
	if err != nil {
		return err
	}
	defer done()
	title, _ := fit(h.DisplayName(), 150, func(_, r rune) string { return string(r) })
	params := slackapi.UploadFileParameters{
		Filename:        csvName(h, n.opts.Now()),
		Title:           fmt.Sprintf("%s: %s findings", title, count(fs.Len())),
		FileSize:        int(size),
		Channel:         ref.Where,
		ThreadTimestamp: ref.ID,
	}
	return n.do(ctx, "upload the digest's CSV to", min(n.opts.MaxRetries, uploadRetries), true, func() (string, error) {
		p := params
		p.Reader = io.NewSectionReader(body, 0, size)
		_, err := n.api.UploadFileContext(ctx, p)
		return "", err
	})
}

// csvFile writes the findings' CSV to a temporary file; done closes and removes it.
func csvFile(fs hunt.FindingSeq) (body io.ReaderAt, size int64, done func(), err error) {
	f, err := os.CreateTemp("", "huntwatch-digest-*.csv")
	if err != nil {
		return nil, 0, nil, err
	}
	done = func() { f.Close(); os.Remove(f.Name()) }
	w := bufio.NewWriterSize(f, 64<<10)
	if err = WriteCSV(w, fs); err == nil {
		err = w.Flush()
	}
	if err == nil {
		size, err = f.Seek(0, io.SeekCurrent)
	}
	if err != nil {
		done()
		return nil, 0, nil, err
	}
	return f, size, done, nil
}

// shortReason names why a call failed, for a message: Slack's error code, the HTTP status, or
// the kind of failure; never an error's text, which may hold addresses.
func shortReason(err error) string {
	var se *Error
	switch {
	case errors.Is(err, errUnreadable):
		return "findings unreadable"
	case !errors.As(err, &se):
		return "error"
	case se.Code != "":
		return se.Code
	case se.Status != 0:
		return fmt.Sprintf("HTTP %d", se.Status)
	case se.ctxErr != nil:
		return "timeout"
	}
	return "network error"
}
