package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"sync"

	slackapi "github.com/slack-go/slack"

	"github.com/huntwatch/huntwatch/handler/hunt"
)

// Printer is a hunt.Notifier that writes each message to W as readable text instead of posting
// it: for local runs and dry runs. With Payload set it also writes the Block Kit JSON.
type Printer struct {
	W       io.Writer
	Payload bool
	// WorkspaceResourceID adds the Log Analytics link to messages, as Options.WorkspaceResourceID does.
	WorkspaceResourceID string

	mu  sync.Mutex
	seq int
}

var _ hunt.Notifier = (*Printer)(nil)

// NewPrinter returns a Printer writing to w.
func NewPrinter(w io.Writer) *Printer { return &Printer{W: w} }

// Notify writes the message as the bot would post it (further occurrences follow as replies, see
// Repeat) and returns MessageRef{Where: "stdout", ID: "<n>"}, n counting from 1.
func (p *Printer) Notify(ctx context.Context, h *hunt.Hunt, rec *hunt.Record, more []*hunt.Finding) (hunt.MessageRef, error) {
	if err := ctx.Err(); err != nil {
		return hunt.MessageRef{}, err
	}
	o := BuildOptions{WorkspaceResourceID: p.WorkspaceResourceID}
	if len(more) > 0 {
		o.Record = rec
	}
	m := BuildWith(h, rec.Finding, o)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seq++
	var b strings.Builder
	fmt.Fprintf(&b, "──── message %d ────\n%s\n\n%s", p.seq, Readable(m.Text), Render(m))
	if err := p.payload(&b, m); err != nil {
		return hunt.MessageRef{}, err
	}
	if err := p.write(b.String()); err != nil {
		return hunt.MessageRef{}, err
	}
	return hunt.MessageRef{Where: "stdout", ID: strconv.Itoa(p.seq)}, nil
}

var _ hunt.Updater = (*Printer)(nil)

// Update writes the message that replaces prior's ("✎ update of message N") and returns prior's
// message, as the bot's chat.update would.
func (p *Printer) Update(ctx context.Context, h *hunt.Hunt, prior, rec *hunt.Record) (hunt.MessageRef, error) {
	if err := ctx.Err(); err != nil {
		return hunt.MessageRef{}, err
	}
	m := BuildWith(h, rec.Finding, BuildOptions{WorkspaceResourceID: p.WorkspaceResourceID, Supersedes: prior.Fingerprint})
	p.mu.Lock()
	defer p.mu.Unlock()
	var b strings.Builder
	fmt.Fprintf(&b, "✎ update of message %s (the same occurrence, seen more fully) ────\n%s\n\n%s", prior.Message.ID, Readable(m.Text), Render(m))
	if err := p.payload(&b, m); err != nil {
		return hunt.MessageRef{}, err
	}
	if err := p.write(b.String()); err != nil {
		return hunt.MessageRef{}, err
	}
	return prior.Message, nil
}

func (p *Printer) payload(b *strings.Builder, m Message) error {
	if !p.Payload {
		return nil
	}
	js, err := JSON(m)
	if err != nil {
		return err
	}
	fmt.Fprintf(b, "\nBlock Kit payload (paste into https://app.slack.com/block-kit-builder):\n%s\n", js)
	return nil
}

func (p *Printer) write(s string) error {
	if _, err := io.WriteString(p.W, s+"\n"); err != nil {
		return fmt.Errorf("print message: %w", err)
	}
	return nil
}

// csvPreviewLines is how many lines of a digest's CSV the Printer shows.
const csvPreviewLines = 6

// Digest writes the digest and the first lines of its CSV, and returns
// MessageRef{Where: "stdout", ID: "<n>", Kind: hunt.KindDigest}. It writes nothing when the
// findings cannot be read (fs.Err).
func (p *Printer) Digest(ctx context.Context, h *hunt.Hunt, fs hunt.FindingSeq) (hunt.MessageRef, error) {
	if err := ctx.Err(); err != nil {
		return hunt.MessageRef{}, err
	}
	m := BuildDigest(h, fs, BuildOptions{WorkspaceResourceID: p.WorkspaceResourceID})
	var head csvHead
	err := readErr(fs)
	if err == nil {
		err = WriteCSV(&head, fs) // head does not fail: an error is one of reading
	}
	if err != nil {
		return hunt.MessageRef{}, fmt.Errorf("print digest: %w", err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seq++
	var b strings.Builder
	fmt.Fprintf(&b, "──── digest %d ────\n%s\n\n%s", p.seq, Readable(m.Text), Render(m))
	lines := strings.SplitAfter(string(head.data), "\r\n")
	fmt.Fprintf(&b, "\nCSV in the thread (%s rows), first lines:\n", count(fs.Len()))
	for i, l := range lines {
		if i == csvPreviewLines {
			b.WriteString("…\n")
			break
		}
		if l != "" {
			b.WriteString("    " + strings.TrimSuffix(l, "\r\n") + "\n")
		}
	}
	if err := p.payload(&b, m); err != nil {
		return hunt.MessageRef{}, err
	}
	if err := p.write(b.String()); err != nil {
		return hunt.MessageRef{}, err
	}
	return hunt.MessageRef{Where: "stdout", ID: strconv.Itoa(p.seq), Kind: hunt.KindDigest}, nil
}

// csvHead keeps what is written to it up to the line after the csvPreviewLines the Printer
// shows (so it can tell that more follow), and drops the rest.
type csvHead struct {
	data []byte
	full bool
}

func (w *csvHead) Write(p []byte) (int, error) {
	if !w.full {
		w.data = append(w.data, p...)
		w.full = bytes.Count(w.data, []byte("\r\n")) > csvPreviewLines
	}
	return len(p), nil
}

// Repeat writes each thread reply ("↳ thread reply: ...") and the update of the original
// message's summary ("✎ update: ..."), or why there is none.
func (p *Printer) Repeat(ctx context.Context, h *hunt.Hunt, rec *hunt.Record, fresh []*hunt.Finding) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if rec == nil || len(fresh) == 0 {
		return nil
	}
	ts, digest := rec.Message.ID, rec.Message.Kind == hunt.KindDigest
	to := ""
	if ts != "" {
		to = " to message " + ts
	}
	var b strings.Builder
	for _, f := range fresh {
		m := BuildRepeat(h, f)
		text := strings.TrimSpace(Render(m))
		text = strings.ReplaceAll(strings.TrimPrefix(text, "↳ "), "\n\n", "\n")
		fmt.Fprintf(&b, "↳ thread reply%s: %s\n", to, strings.ReplaceAll(text, "\n", "\n    "))
	}
	switch {
	case ts == "":
		b.WriteString("✎ no update: the finding's message is not known\n")
	case digest:
		b.WriteString("✎ no update: the finding was told in a digest\n")
	case rec.Finding == nil:
		b.WriteString("✎ no update: the finding was not kept\n")
	default:
		fmt.Fprintf(&b, "✎ update of message %s: %s\n", ts, Readable(Summary(h, rec)))
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.write(b.String())
}

// Alert writes the alert's text.
func (p *Printer) Alert(ctx context.Context, h *hunt.Hunt, a hunt.Alert) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m, err := BuildAlert(h, a)
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.write("──── alert ────\n" + Render(m))
}

// JSON returns the message's Block Kit payload, {"blocks":[...]}, indented.
func JSON(m Message) ([]byte, error) {
	blocks := m.Blocks
	if blocks == nil {
		blocks = []slackapi.Block{}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // keep <url|label> readable; it is valid JSON either way
	enc.SetIndent("", "  ")
	if err := enc.Encode(struct {
		Blocks []slackapi.Block `json:"blocks"`
	}{blocks}); err != nil {
		return nil, fmt.Errorf("encode blocks: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// Render writes the blocks as text, one block after another.
func Render(m Message) string {
	var b strings.Builder
	for _, blk := range m.Blocks {
		switch x := blk.(type) {
		case *slackapi.HeaderBlock:
			title := readableObj(x.Text)
			fmt.Fprintf(&b, "%s\n%s\n", title, strings.Repeat("=", min(textLen(title), 80)))
		case *slackapi.SectionBlock:
			if x.Text != nil {
				b.WriteString(readableObj(x.Text) + "\n")
			}
			for _, f := range x.Fields {
				label, value, ok := strings.Cut(readableObj(f), "\n")
				value = strings.ReplaceAll(value, "\n", "\n"+strings.Repeat(" ", 18))
				if ok {
					fmt.Fprintf(&b, "  %-15s %s\n", label+":", value)
				} else {
					fmt.Fprintf(&b, "  %s\n", label)
				}
			}
		case *slackapi.ContextBlock:
			var parts []string
			for _, e := range x.ContextElements.Elements {
				if t, ok := e.(*slackapi.TextBlockObject); ok {
					parts = append(parts, readableObj(t))
				}
			}
			b.WriteString(strings.Join(parts, " · ") + "\n")
		case *slackapi.DividerBlock:
			b.WriteString("----\n")
		}
		b.WriteString("\n")
	}
	return strings.TrimRight(b.String(), "\n") + "\n"
}

// readableObj turns a text object into terminal text: mrkdwn as Readable does, plain_text (which
// has no markup) with only its entities decoded and, where Slack shows emoji codes, the one of
// ours that starts it.
func readableObj(t *slackapi.TextBlockObject) string {
	if t == nil {
		return ""
	}
	if t.Type != slackapi.PlainTextType {
		return Readable(t.Text)
	}
	s := t.Text
	if t.Emoji != nil && *t.Emoji {
		s = leadingEmoji(s)
	}
	return entities.Replace(s)
}

var (
	token  = regexp.MustCompile(`<([^<>|]+)\|([^<>]*)>`)
	bold   = regexp.MustCompile(`\*([^*\n]+)\*`)
	italic = regexp.MustCompile(`_([^_\n]+)_`)
	inline = regexp.MustCompile("`[^`\n]*`")
	// entities are the three Slack reads as markup (see escape.go).
	entities = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&")
	// lookAlikes undoes what mrkdwnText and inlineCode write for data's own *, _, ~ and `.
	lookAlikes = strings.NewReplacer("∗", "*", "ˍ", "_", "∼", "~", "ˋ", "`", "\u00ad&gt;", "&gt;")
	// emojiTexts are the emoji codes our texts start with, and what a terminal shows for them.
	emojiTexts = []struct{ code, text string }{
		{":red_circle: ", "[HIGH] "}, {":large_orange_circle: ", "[MEDIUM] "}, {":large_yellow_circle: ", "[LOW] "},
		{":large_blue_circle: ", "[INFO] "}, {":white_circle: ", ""}, {":link: ", ""}, {":mag: ", ""},
		{":repeat: ", ""}, {":paperclip: ", ""}, {":rotating_light: ", ""}, {":white_check_mark: ", ""},
		{":large_green_circle: ", ""},
	}
)

// leadingEmoji replaces the emoji code of ours that starts s, if any: we put them nowhere else,
// so one anywhere else is data's.
func leadingEmoji(s string) string {
	for _, e := range emojiTexts {
		if rest, ok := strings.CutPrefix(s, e.code); ok {
			return e.text + rest
		}
	}
	return s
}

// Readable turns mrkdwn message text into terminal text: links become "label (url)", dates their
// fallback, entities the characters they stand for, code blocks indented lines; outside code
// blocks, bold and italic markers and a leading emoji code go. Data is printed as it came: the
// look-alikes that stand for its own markup characters (see escape.go) are turned back.
func Readable(s string) string {
	parts := strings.Split(leadingEmoji(s), "```")
	for i, p := range parts {
		if i%2 == 1 && i < len(parts)-1 { // inside a code block: indent it
			p = strings.ReplaceAll(p, "\u200b`", "`") // see codeBlock
			lines := strings.Split(strings.Trim(p, "\n"), "\n")
			parts[i] = "    " + strings.Join(lines, "\n    ")
			continue
		}
		// Inline code holds data as it is but for its backticks; only the text between spans
		// is our markup.
		var b strings.Builder
		last := 0
		for _, loc := range inline.FindAllStringIndex(p, -1) {
			b.WriteString(readableMarkup(p[last:loc[0]]))
			b.WriteString(strings.ReplaceAll(p[loc[0]+1:loc[1]-1], "ˋ", "`"))
			last = loc[1]
		}
		b.WriteString(readableMarkup(p[last:]))
		parts[i] = b.String()
	}
	return entities.Replace(strings.Join(parts, ""))
}

// readableMarkup rewrites our markup in mrkdwn outside code: links and dates, then bold and
// italics between them, where any *, _, ~ or ` is ours, data's being look-alikes.
func readableMarkup(s string) string {
	text := func(s string) string {
		return lookAlikes.Replace(italic.ReplaceAllString(bold.ReplaceAllString(s, "$1"), "$1"))
	}
	var b strings.Builder
	last := 0
	for _, m := range token.FindAllStringSubmatchIndex(s, -1) {
		b.WriteString(text(s[last:m[0]]))
		url, label := s[m[2]:m[3]], text(s[m[4]:m[5]])
		if strings.HasPrefix(url, "http") {
			b.WriteString(label + " (" + url + ")")
		} else {
			b.WriteString(label) // a date's fallback
		}
		last = m[1]
	}
	b.WriteString(text(s[last:]))
	return b.String()
}
