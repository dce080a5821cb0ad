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
// Repeat) and returns MessageRef{Channel: "stdout", TS: "<n>"}, n counting from 1.
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
	return hunt.MessageRef{Channel: "stdout", TS: strconv.Itoa(p.seq)}, nil
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
// MessageRef{Channel: "stdout", TS: "digest:<n>"}.
func (p *Printer) Digest(ctx context.Context, h *hunt.Hunt, fs []*hunt.Finding) (hunt.MessageRef, error) {
	if err := ctx.Err(); err != nil {
		return hunt.MessageRef{}, err
	}
	m := BuildDigest(h, fs, BuildOptions{WorkspaceResourceID: p.WorkspaceResourceID})
	data := CSV(fs)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seq++
	var b strings.Builder
	fmt.Fprintf(&b, "──── digest %d ────\n%s\n\n%s", p.seq, Readable(m.Text), Render(m))
	lines := strings.SplitAfter(string(data), "\r\n")
	fmt.Fprintf(&b, "\nCSV in the thread (%s rows), first lines:\n", count(len(nonNil(fs))))
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
	return hunt.MessageRef{Channel: "stdout", TS: digestMark + strconv.Itoa(p.seq)}, nil
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
	ts, digest := SplitTS(rec.Message.TS)
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
			title := Readable(x.Text.Text)
			fmt.Fprintf(&b, "%s\n%s\n", title, strings.Repeat("=", min(textLen(title), 80)))
		case *slackapi.SectionBlock:
			if x.Text != nil {
				b.WriteString(Readable(x.Text.Text) + "\n")
			}
			for _, f := range x.Fields {
				label, value, ok := strings.Cut(Readable(f.Text), "\n")
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
					parts = append(parts, Readable(t.Text))
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

var (
	token  = regexp.MustCompile(`<([^<>|]+)\|([^<>]*)>`)
	bold   = regexp.MustCompile(`\*([^*\n]+)\*`)
	inline = regexp.MustCompile("`[^`\n]*`")
	emoji  = strings.NewReplacer(
		":red_circle: ", "[HIGH] ", ":large_orange_circle: ", "[MEDIUM] ",
		":large_yellow_circle: ", "[LOW] ", ":large_blue_circle: ", "[INFO] ", ":white_circle: ", "",
		":link: ", "", ":mag: ", "", ":repeat: ", "", ":paperclip: ", "", ":rotating_light: ", "",
		":white_check_mark: ", "", ":large_green_circle: ", "", "\u00ad", "",
	)
)

// Readable turns message text into terminal text: links become "label (url)", dates their
// fallback, entities the characters they stand for; outside code blocks, bold and inline-code
// markers and emoji codes go. Data never holds raw markers there (see escape.go), so only ours do.
func Readable(s string) string {
	parts := strings.Split(s, "```")
	for i, p := range parts {
		if i%2 == 1 && i < len(parts)-1 { // inside a code block: indent it
			lines := strings.Split(strings.Trim(strings.ReplaceAll(p, "\u200b", ""), "\n"), "\n")
			parts[i] = "    " + strings.Join(lines, "\n    ")
			continue
		}
		// Inline code holds data as it is; only the text between spans is our markup.
		var b strings.Builder
		last := 0
		for _, loc := range inline.FindAllStringIndex(p, -1) {
			b.WriteString(readableMarkup(p[last:loc[0]]))
			b.WriteString(p[loc[0]+1 : loc[1]-1])
			last = loc[1]
		}
		b.WriteString(readableMarkup(p[last:]))
		parts[i] = b.String()
	}
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(strings.Join(parts, ""))
}

// readableMarkup rewrites our markup outside code: links, dates, bold and emoji codes.
func readableMarkup(s string) string {
	s = token.ReplaceAllStringFunc(s, func(t string) string {
		m := token.FindStringSubmatch(t)
		if strings.HasPrefix(m[1], "http") {
			return m[2] + " (" + m[1] + ")"
		}
		return m[2] // a date's fallback
	})
	return emoji.Replace(bold.ReplaceAllString(s, "$1"))
}
