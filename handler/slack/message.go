package slack

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	slackapi "github.com/slack-go/slack"

	"github.com/huntwatch/huntwatch/handler/hunt"
)

// Slack's limits (https://docs.slack.dev/reference/block-kit/blocks) and the margins kept below them.
const (
	maxBlocks      = 50
	maxHeaderText  = 150
	maxSectionText = 3000
	maxFields      = 10
	maxFieldText   = 2000
	// MaxMessageText bounds the text of all blocks of a message together. Slack refuses more than
	// about 13,200 characters with msg_blocks_too_long (undocumented, slackapi/bolt-js#2509).
	MaxMessageText = 12000

	sectionBudget = maxSectionText - 100 // room for fences and the "… and N more" line
	valueMax      = 200                  // one value in a fact field
	textMax       = 1000                 // the rule's alert description
	otherMax      = 200                  // one value in the list of other columns
	itemMax       = 1000                 // one element of a list (one PowerShell command)
	otherBudget   = 2500                 // all other columns together, at most
	maxOtherBlks  = 3                    // context blocks for other columns (10 elements each)
	maxLinkURL    = 600                  // a portal link longer than this is left out
	maxLogsLink   = maxSectionText       // a link (its section's text) longer than this is left out
	maxFactFields = 2 * maxFields        // fact fields, in at most two sections
	fallbackMax   = 500                  // the notification text
	minimalMax    = 3000                 // the plain-text message sent when Slack refuses the blocks
)

// Message is what Build makes of a finding: Block Kit blocks and the text Slack shows in
// notifications and where blocks cannot be shown. All data in it is escaped.
type Message struct {
	Text   string
	Blocks []slackapi.Block
}

// BuildOptions add to a message what the hunt and the finding alone cannot tell.
type BuildOptions struct {
	// WorkspaceResourceID is the ARM id of the Log Analytics workspace the hunt runs in. When it
	// is one (see hunt.ValidWorkspaceID), messages link to the finding's rows there.
	WorkspaceResourceID string
	// Record, when set, adds its summary line (see Summary): how often and where the finding's
	// fingerprint was seen. Set it when rebuilding a message to update it.
	Record *hunt.Record
	// Also lists further occurrences of the finding in the message itself, one line each: for a
	// notifier without threads to tell them in.
	Also []*hunt.Finding
	// Supersedes, when set, is the fingerprint this message was first posted under: the message
	// is an update of an earlier alert of the same occurrence, seen more fully now.
	Supersedes string
	// Inline is for digests that cannot carry the CSV (a webhook): they list as many findings as
	// fit instead. Build ignores it.
	Inline bool
}

// Build lays out one finding of h as a Slack message. It is pure: the same hunt and finding
// always give the same message, within Slack's limits whatever the data holds.
//
// It renders the finding's hunt.View: a header with the severity and the title; the hunt's name
// when the title says more, the severity and the MITRE ATT&CK tactics and techniques; the
// rule's alert description; the facts (entity values labelled by entity type, subscription,
// resource group, time, script) and the rule's custom details; a link to the resource in the
// Azure portal; each list (the PowerShell commands) as a numbered code block, cut visibly to fit;
// the other columns in small print; and the fingerprint and occurrence.
func Build(h *hunt.Hunt, f *hunt.Finding) Message {
	return BuildWith(h, f, BuildOptions{})
}

// BuildWith is Build with options: a link to the query in Log Analytics below the portal link,
// and the record's summary line below the MITRE line.
func BuildWith(h *hunt.Hunt, f *hunt.Finding, o BuildOptions) Message {
	if h == nil {
		h = &hunt.Hunt{}
	}
	v := h.View(f, hunt.ViewOptions{WorkspaceResourceID: o.WorkspaceResourceID})
	var b builder
	b.header(v)
	b.mitre(v.Name, v.Title.String() != v.Name, v.Severity, v.Tactics, v.Techniques)
	if o.Record != nil {
		text := Summary(h, o.Record)
		b.add(slackapi.NewContextBlock("", mrkdwn(text)), text)
	}
	if o.Supersedes != "" {
		text := ":arrows_counterclockwise: *Updated*: the same occurrence, seen more fully since it was first told (then fingerprint " + code(o.Supersedes, 80) + ")"
		b.add(slackapi.NewContextBlock("", mrkdwn(text)), text)
	}
	b.text(v.Text)
	b.facts(v.Facts)
	b.facts(v.Details)
	b.links(v.Links)
	b.also(h, o.Also)
	// The parts above are bounded; what is left goes to the other columns (a share) and then
	// to the lists, which are cut to fit. The footer's size is known before it is placed.
	footer, footerLen := b.footer(v)
	left := MaxMessageText - b.used - footerLen
	others, othersLen := b.others(v.Others, min(otherBudget, left/4))
	lists, _ := b.lists(v.Lists, left-othersLen)
	b.blocks = append(b.blocks, lists...)
	b.blocks = append(b.blocks, others...)
	b.blocks = append(b.blocks, footer)
	if len(b.blocks) > maxBlocks { // cannot happen with the caps above; kept as a guard
		b.blocks = append(b.blocks[:maxBlocks-1], footer)
	}
	return Message{Text: fallbackText(v), Blocks: b.blocks}
}

type builder struct {
	blocks []slackapi.Block
	used   int // text units in blocks so far
}

func (b *builder) add(blk slackapi.Block, texts ...string) {
	b.blocks = append(b.blocks, blk)
	for _, t := range texts {
		b.used += textLen(t)
	}
}

func mrkdwn(s string) *slackapi.TextBlockObject {
	return &slackapi.TextBlockObject{Type: slackapi.MarkdownType, Text: s, Verbatim: true}
}

func plainObj(s string, emoji bool) *slackapi.TextBlockObject {
	return slackapi.NewTextBlockObject(slackapi.PlainTextType, s, emoji, false)
}

var severityEmoji = map[string]string{
	"high":          ":red_circle:",
	"medium":        ":large_orange_circle:",
	"low":           ":large_yellow_circle:",
	"informational": ":large_blue_circle:",
}

func emojiFor(severity string) string {
	if strings.TrimSpace(severity) == "" {
		return ""
	}
	if e, ok := severityEmoji[strings.ToLower(strings.TrimSpace(severity))]; ok {
		return e
	}
	return ":white_circle:"
}

// headline writes a title within max units, escaped by esc: the status is never cut, the host
// and the account are cut to a third of max each, and what happened takes the rest.
func headline(hl hunt.Headline, esc func(string, int) string, max int) string {
	var tail string
	if hl.Host != "" {
		tail += " on " + esc(hl.Host, max/3)
	}
	if hl.Account != "" {
		tail += " by " + esc(hl.Account, max/3)
	}
	if hl.Status != "" {
		tail += " " + esc(hl.Status, 40)
	}
	return esc(hl.What, max-textLen(tail)) + tail
}

// header says what happened and where, after the severity's emoji.
func (b *builder) header(v hunt.View) {
	prefix := ""
	if e := emojiFor(v.Severity); e != "" {
		prefix = e + " "
	}
	text := prefix + headline(v.Title, plain, maxHeaderText-textLen(prefix))
	b.add(slackapi.NewHeaderBlock(plainObj(text, true)), text)
}

const maxMitre = 12

// mitre adds a context line with the severity and the MITRE ATT&CK tactics and techniques,
// after the hunt's name when withName is set.
func (b *builder) mitre(name string, withName bool, severity string, tactics, techniques []hunt.Link) {
	var elems []slackapi.MixedElement
	var texts []string
	addElem := func(s string) {
		elems = append(elems, mrkdwn(s))
		texts = append(texts, s)
	}
	if withName {
		addElem("*Hunt:* " + md(name, 150))
	}
	if severity != "" {
		addElem("*Severity:* " + md(severity, 40))
	}
	if parts := listOf(tactics); parts != "" {
		addElem("*Tactics:* " + parts)
	}
	if parts := listOf(techniques); parts != "" {
		addElem("*Techniques:* " + parts)
	}
	if len(elems) > 0 {
		b.add(slackapi.NewContextBlock("", elems...), texts...)
	}
}

// listOf writes up to maxMitre tags, each linked to its page when it has one.
func listOf(tags []hunt.Link) string {
	var parts []string
	for i, t := range tags {
		if i == maxMitre {
			parts = append(parts, fmt.Sprintf("and %d more", len(tags)-maxMitre))
			break
		}
		parts = append(parts, link(t.URL, md(t.Text, 60)))
	}
	return strings.Join(parts, ", ")
}

// linkURL is what a URL may hold to be written in a link: none of its characters can end the
// link or start markup. The domain's links are made so; this keeps it true whatever they become.
var linkURL = regexp.MustCompile(`^https://[A-Za-z0-9%._~/#:@()-]+$`)

// link writes <url|label>, or the label alone when url is not one Slack can link safely.
func link(url, label string) string {
	if !linkURL.MatchString(url) {
		return label
	}
	return "<" + url + "|" + label + ">"
}

// text adds the rule's alert description, when there is one.
func (b *builder) text(s string) {
	if strings.TrimSpace(s) == "" {
		return
	}
	text, _ := fit(s, textMax, mrkdwnText(false))
	b.add(slackapi.NewSectionBlock(mrkdwn(text), nil, nil), text)
}

// facts adds labelled values as the fields of sections, at most maxFactFields.
func (b *builder) facts(facts []hunt.Fact) {
	var fields []string
	for _, f := range facts {
		if len(fields) == maxFactFields {
			break
		}
		fields = append(fields, cutEscaped("*"+md(f.Label, 60)+"*\n"+factValue(f, valueMax), maxFieldText))
	}
	for len(fields) > 0 {
		n := min(len(fields), maxFields)
		objs := make([]*slackapi.TextBlockObject, n)
		for i, t := range fields[:n] {
			objs[i] = mrkdwn(t)
		}
		b.add(slackapi.NewSectionBlock(nil, objs, nil), fields[:n]...)
		fields = fields[n:]
	}
}

// factValue writes a fact's value: a time as a Slack date, anything else as code of at most max
// units, followed by its note.
func factValue(f hunt.Fact, max int) string {
	if !f.Time.IsZero() {
		return dateToken(f.Time)
	}
	s := code(f.Value, max)
	if f.Note != "" {
		s += " (" + md(f.Note, 40) + ")"
	}
	return s
}

// dateToken writes t as a Slack date, shown in the reader's time zone, with its UTC text as fallback.
func dateToken(t time.Time) string {
	t = t.UTC()
	return fmt.Sprintf("<!date^%d^{date_short_pretty} {time}|%s>", t.Unix(), t.Format("2006-01-02 15:04 UTC"))
}

// links adds the view's links, each in its own section after its kind's emoji: the resource in
// the Azure portal and the rows in Log Analytics. One too long for Slack, or whose URL Slack
// could not link safely, is left out.
func (b *builder) links(links []hunt.Link) {
	for _, l := range links {
		text := link(l.URL, md(l.Text, 60))
		switch l.Kind {
		case hunt.LinkResource:
			text = ":link: " + text
			if len(l.URL) > maxLinkURL {
				continue
			}
		case hunt.LinkLogs:
			text = ":mag: " + text
		}
		if !linkURL.MatchString(l.URL) || textLen(text) > maxLogsLink {
			continue
		}
		b.add(slackapi.NewSectionBlock(mrkdwn(text), nil, nil), text)
	}
}

// lists renders each list as numbered code blocks within budget units.
func (b *builder) lists(lists []hunt.List, budget int) ([]slackapi.Block, int) {
	var blocks []slackapi.Block
	total := 0
	for _, l := range lists {
		blks, used := listBlocks(l, budget-total)
		blocks = append(blocks, blks...)
		total += used
	}
	return blocks, total
}

// listBlocks lays out a list as numbered lines in code blocks, in as many sections of at most
// sectionBudget units as budget allows; a list cut short ends with "… and N more".
func listBlocks(l hunt.List, budget int) ([]slackapi.Block, int) {
	label, noun, list := l.Label, l.Noun, l.Items
	head := fmt.Sprintf("*%s* (%s %s)\n", md(label, 80), count(len(list)), noun)
	note := func(n int) string { return fmt.Sprintf("\n_… and %s more %s_", count(n), noun) }
	reserve := textLen(note(len(list)))
	const open, closing = "```\n", "\n```"
	closeLen := textLen(closing)
	width := len(strconv.Itoa(len(list)))
	indent := strings.Repeat(" ", width+2)
	lineAt := func(i int) string {
		item, _ := fit(list[i], itemMax, codeBlock(indent))
		return fmt.Sprintf("%*d. %s", width, i+1, item)
	}

	var blocks []slackapi.Block
	used := 0
	emit := func(text string) {
		blocks = append(blocks, slackapi.NewSectionBlock(mrkdwn(text), nil, nil))
		used += textLen(text)
	}
	i := 0
	for first := true; ; first = false {
		prefix := open
		if first {
			prefix = head + open
		}
		var cur strings.Builder
		cur.WriteString(prefix)
		curLen, n := textLen(prefix), 0
		for ; i < len(list); i++ {
			line := lineAt(i)
			ll := textLen(line)
			if n > 0 {
				ll++
			}
			end := curLen + ll + closeLen + reserve
			if end > sectionBudget || used+end > budget {
				break
			}
			if n > 0 {
				cur.WriteByte('\n')
			}
			cur.WriteString(line)
			curLen += ll
			n++
		}
		if i == len(list) {
			emit(cur.String() + closing)
			return blocks, used
		}
		if n == 0 { // not even one line fits: only say what is missing
			text := strings.TrimSuffix(head, "\n") + note(len(list)-i)
			if !first {
				text = strings.TrimPrefix(note(len(list)-i), "\n")
			}
			if used+textLen(text) <= budget {
				emit(text)
			}
			return blocks, used
		}
		text := cur.String() + closing
		if next := textLen(open) + textLen(lineAt(i)) + closeLen + reserve; used+textLen(text)+next > budget {
			emit(text + note(len(list)-i))
			return blocks, used
		}
		emit(text)
	}
}

// count writes n with thousands separators.
func count(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// others lists the columns for the small print as plain_text context elements, within budget
// units and three context blocks.
func (b *builder) others(rest []hunt.Fact, budget int) ([]slackapi.Block, int) {
	var texts []string
	used := 0
	for i, c := range rest {
		text := plain(c.Label, 60) + ": " + plain(c.Value, otherMax)
		remaining := len(rest) - i
		moreText := fmt.Sprintf("… and %d more columns", remaining)
		reserve := 0
		if remaining > 1 {
			reserve = textLen(moreText)
		}
		slotsLeft := maxOtherBlks*maxFields - len(texts)
		if (slotsLeft > 1 || remaining == 1) && used+textLen(text)+reserve <= budget {
			texts = append(texts, text)
			used += textLen(text)
			continue
		}
		if used+textLen(moreText) <= budget {
			texts = append(texts, moreText)
			used += textLen(moreText)
		}
		break
	}
	var blocks []slackapi.Block
	for len(texts) > 0 {
		n := min(len(texts), maxFields)
		elems := make([]slackapi.MixedElement, n)
		for i, t := range texts[:n] {
			elems[i] = plainObj(t, false)
		}
		blocks = append(blocks, slackapi.NewContextBlock("", elems...))
		texts = texts[n:]
	}
	return blocks, used
}

// footer names the finding: fingerprint, occurrence and hunt id.
func (b *builder) footer(v hunt.View) (slackapi.Block, int) {
	var texts []string
	if v.Fingerprint != "" {
		texts = append(texts, "Fingerprint "+code(v.Fingerprint, 80))
	}
	if v.Occurrence != "" {
		texts = append(texts, "Occurrence "+code(v.Occurrence, 80))
	}
	t := "huntwatch"
	if v.HuntID != "" {
		t += " · hunt " + code(v.HuntID, 60)
	}
	texts = append(texts, t)
	elems := make([]slackapi.MixedElement, len(texts))
	used := 0
	for i, t := range texts {
		elems[i] = mrkdwn(t)
		used += textLen(t)
	}
	return slackapi.NewContextBlock("", elems...), used
}

// entityValues returns "type: value" for each entity value but those the title already gives.
func entityValues(v hunt.View) []string {
	var out []string
	for _, f := range v.Facts {
		if f.Entity != "" && !f.InTitle {
			out = append(out, md(f.Entity, 40)+": "+md(f.Value, 120))
		}
	}
	return out
}

// fallbackText is the notification text: severity, title and the other entities, on one line.
func fallbackText(v hunt.View) string {
	s := headline(v.Title, md, 200)
	if v.Severity != "" {
		s = md(v.Severity, 40) + " · " + s
	}
	if ents := entityValues(v); len(ents) > 0 {
		s += " — " + strings.Join(ents, ", ")
	}
	return cutEscaped(s, fallbackMax)
}

// cutEscaped cuts already escaped text to max units at a rune boundary outside any entity.
func cutEscaped(s string, max int) string {
	if textLen(s) <= max {
		return s
	}
	n, cut, inEntity := 0, 0, false
	for i, r := range s {
		if !inEntity && n <= max-1 {
			cut = i
		}
		switch r {
		case '&':
			inEntity = true
		case ';':
			inEntity = false
		}
		n += textLen(string(r))
	}
	return s[:cut] + ellipsis
}

// Minimal is the plain-text message posted when Slack refuses a finding's blocks (reason is its
// error code): the title, the entities, the time, the size of each list and the fingerprint.
func Minimal(h *hunt.Hunt, f *hunt.Finding, reason string) string {
	if h == nil {
		h = &hunt.Hunt{}
	}
	v := h.View(f, hunt.ViewOptions{})
	lines := []string{"*" + headline(v.Title, md, 200) + "*"}
	if v.Severity != "" {
		lines[0] += " (" + md(v.Severity, 40) + ")"
	}
	if ents := entityValues(v); len(ents) > 0 {
		lines = append(lines, strings.Join(ents, " · "))
	}
	if !v.Time.IsZero() {
		lines = append(lines, "When: "+v.Time.UTC().Format("2006-01-02 15:04:05 UTC"))
	}
	for _, l := range v.Lists {
		lines = append(lines, fmt.Sprintf("%s: %s items (not shown)", md(l.Column, 80), count(len(l.Items))))
	}
	if v.Fingerprint != "" {
		lines = append(lines, "Fingerprint: "+md(v.Fingerprint, 100))
	}
	lines = append(lines, "Slack refused the detailed message ("+code(reason, 60)+"); see the hunt's results for the rest.")
	return cutEscaped(strings.Join(lines, "\n"), minimalMax)
}
