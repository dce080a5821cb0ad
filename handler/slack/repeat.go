package slack

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	slackapi "github.com/slack-go/slack"

	"github.com/huntwatch/huntwatch/handler/hunt"
)

// Bounds of the repeat messages.
const (
	maxFacts        = 8 // entity values in a reply or a digest line
	factMax         = 120
	summaryTypes    = 8 // entity types in a summary line
	summaryValues   = 5 // values of each
	summaryValueMax = 60
)

// BuildRepeat lays out the thread reply that tells of a new occurrence f of a notified finding:
// its time, its entity values (the VM, the caller, the IP...) and its occurrence id (the
// correlation id). Like Build, it is pure and escapes everything.
func BuildRepeat(h *hunt.Hunt, f *hunt.Finding) Message {
	if h == nil {
		h = &hunt.Hunt{}
	}
	v := h.View(f, hunt.ViewOptions{})
	head := "↳ *New occurrence*"
	if !v.Time.IsZero() {
		head += " · " + dateToken(v.Time)
	}
	text := head
	if facts := entityFacts(v); len(facts) > 0 {
		text += "\n" + strings.Join(facts, " · ")
	}
	blocks := []slackapi.Block{slackapi.NewSectionBlock(mrkdwn(text), nil, nil)}
	var ids []slackapi.MixedElement
	if v.Occurrence != "" {
		ids = append(ids, mrkdwn("Occurrence "+code(v.Occurrence, 80)))
	}
	if v.Fingerprint != "" {
		ids = append(ids, mrkdwn("Fingerprint "+code(v.Fingerprint, 80)))
	}
	if len(ids) > 0 {
		blocks = append(blocks, slackapi.NewContextBlock("", ids...))
	}
	fallback := "New occurrence: " + headline(v.Title, md, 200)
	if ents := entityValues(v); len(ents) > 0 {
		fallback += " — " + strings.Join(ents, ", ")
	}
	return Message{Text: cutEscaped(fallback, fallbackMax), Blocks: blocks}
}

// maxAlso bounds the further occurrences listed in one message.
const maxAlso = 10

// also lists further occurrences of h's finding, one line each (time and entity values), for a
// message that cannot have thread replies.
func (b *builder) also(h *hunt.Hunt, fs []*hunt.Finding) {
	if len(fs) == 0 {
		return
	}
	lines := []string{"*Also seen in this run* (" + count(len(fs)) + " more)"}
	for i, f := range fs {
		if i == maxAlso {
			lines = append(lines, "… and "+count(len(fs)-maxAlso)+" more")
			break
		}
		v := h.View(f, hunt.ViewOptions{})
		line := "• "
		if !v.Time.IsZero() {
			line += dateToken(v.Time) + " · "
		}
		line += strings.Join(entityFacts(v), " · ")
		lines = append(lines, line)
	}
	text := cutEscaped(strings.Join(lines, "\n"), sectionBudget)
	b.add(slackapi.NewSectionBlock(mrkdwn(text), nil, nil), text)
}

// entityFacts returns "*Label* `value`" for the view's first maxFacts entity values.
func entityFacts(v hunt.View) []string {
	var out []string
	for _, f := range v.Facts {
		if f.Entity == "" {
			continue
		}
		if len(out) == maxFacts {
			break
		}
		out = append(out, "*"+md(f.Label, 60)+"* "+code(f.Value, factMax))
	}
	return out
}

// Summary is the line a repeated finding's message gets: "Seen 3 times · hosts: `a`, `b` ·
// accounts: `x` · last seen <date>", from what the record tells (see hunt.Hunt.Seen), escaped
// for mrkdwn.
func Summary(h *hunt.Hunt, rec *hunt.Record) string {
	if h == nil {
		h = &hunt.Hunt{}
	}
	s := h.Seen(rec)
	var parts []string
	switch n := s.Occurrences; {
	case n == 1:
		parts = append(parts, "Seen once")
	case n > 1:
		parts = append(parts, "Seen *"+count(n)+"* times")
	default:
		parts = append(parts, "Seen again")
	}
	for i, e := range s.Entities {
		if i == summaryTypes {
			break
		}
		var shown []string
		for j, v := range e.Values {
			if j == summaryValues {
				shown = append(shown, fmt.Sprintf("+%d more", len(e.Values)-j))
				break
			}
			shown = append(shown, code(v, summaryValueMax))
		}
		parts = append(parts, md(e.Label, 40)+": "+strings.Join(shown, ", "))
	}
	if !s.LastSeen.IsZero() {
		parts = append(parts, "last seen "+dateToken(s.LastSeen))
	}
	return ":repeat: " + strings.Join(parts, " · ")
}

// channelID is the shape of the Slack channel ids a bot's post returns; refs of other notifiers
// ("webhook", "stdout") do not match.
var channelID = regexp.MustCompile(`^[CGD][A-Z0-9]{2,}$`)

// threadGone are the codes of a reply whose parent is no longer there.
var threadGone = set("thread_not_found", "invalid_thread_ts", "message_not_found")

// Repeat tells of new occurrences of a notified finding: one thread reply each under its message
// (rec.Message), then that message rebuilt from rec.Finding with rec's summary line (chat.update).
//
// Without a thread to reply in (no ts, a ref of another notifier, or a parent since deleted) the
// replies go to the channel and nothing is updated. Under a digest (hunt.KindDigest) the replies go
// in the digest's thread and the digest is left as it is: it is not one finding's message. When
// rec.Finding is nil the message cannot be rebuilt, and an update with the summary alone would
// wipe it, so it is left too. The update is best effort: its failure is logged, not returned,
// because the replies already told the news and an error makes the Runner tell it again.
//
// Webhooks have no threads and cannot edit: Repeat posts nothing and returns nil. Errors are
// classified as Notify's (hunt.ErrUnavailable when no message can get through).
func (n *Notifier) Repeat(ctx context.Context, h *hunt.Hunt, rec *hunt.Record, fresh []*hunt.Finding) error {
	if n.api == nil || rec == nil || len(fresh) == 0 {
		return nil
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	ts, digest := rec.Message.ID, rec.Message.Kind == hunt.KindDigest
	channel := rec.Message.Where
	threaded := ts != "" && channelID.MatchString(channel)
	if !threaded {
		channel, ts = "", ""
	}
	for i, f := range fresh {
		m := BuildRepeat(h, f)
		out := outgoing{text: m.Text, blocks: m.Blocks, channel: channel, threadTS: ts}
		plain := func(string) string { return m.Text }
		_, err := n.postOrPlain(ctx, out, plain, "fingerprint", rec.Fingerprint)
		var se *Error
		if err != nil && threaded && errors.As(err, &se) && threadGone[se.Code] {
			n.log.Warn("slack: the message of a repeated finding is gone; replying in the channel", "fingerprint", rec.Fingerprint, "ts", ts)
			threaded, channel, ts = false, "", ""
			out.channel, out.threadTS = "", ""
			_, err = n.postOrPlain(ctx, out, plain, "fingerprint", rec.Fingerprint)
		}
		if err != nil {
			return fmt.Errorf("reply %d of %d: %w", i+1, len(fresh), err)
		}
	}
	switch {
	case !threaded || digest:
		return nil
	case rec.Finding == nil:
		n.log.Debug("slack: no finding kept for a repeated fingerprint; its message keeps its summary", "fingerprint", rec.Fingerprint)
		return nil
	}
	m := BuildWith(h, rec.Finding, BuildOptions{WorkspaceResourceID: n.opts.WorkspaceResourceID, Record: rec})
	if _, err := n.post(ctx, outgoing{text: m.Text, blocks: m.Blocks, channel: channel, updateTS: ts}); err != nil {
		n.log.Warn("slack: could not update the summary of a repeated finding's message", "fingerprint", rec.Fingerprint, "ts", ts, "err", err)
	}
	return nil
}
