package slack

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"

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
	otherMax      = 200                  // one value in the list of other columns
	itemMax       = 1000                 // one element of a list (one PowerShell command)
	otherBudget   = 2500                 // all other columns together, at most
	maxOtherBlks  = 3                    // context blocks for other columns (10 elements each)
	maxLinkURL    = 600                  // a portal link longer than this is left out
	maxLogsLink   = maxSectionText       // a Log Analytics link (its section's text) longer than this is left out
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
	// is one (see LogsURL), messages link to the hunt's query in the Azure portal.
	WorkspaceResourceID string
	// Record, when set, adds its summary line (see Summary): how often and where the finding's
	// fingerprint was seen. Set it when rebuilding a message to update it.
	Record *hunt.Record
	// Also lists further occurrences of the finding in the message itself, one line each: for a
	// notifier without threads to tell them in.
	Also []*hunt.Finding
	// Inline is for digests that cannot carry the CSV (a webhook): they list as many findings as
	// fit instead. Build ignores it.
	Inline bool
}

// Build lays out one finding of h as a Slack message. It is pure: the same hunt and finding
// always give the same message, within Slack's limits whatever the data holds.
//
// Layout: a header with the severity and hunt name; MITRE ATT&CK tactics and techniques; the
// entity columns labelled by entity type, then subscription, resource group, time and script;
// a link to the VM in the Azure portal; each list column (the PowerShell commands) as a numbered
// code block, cut visibly to fit; the remaining non-empty columns in small print; and the
// fingerprint and occurrence.
func Build(h *hunt.Hunt, f *hunt.Finding) Message {
	return BuildWith(h, f, BuildOptions{})
}

// BuildWith is Build with options: a link to the query in Log Analytics below the portal link,
// and the record's summary line below the MITRE line.
func BuildWith(h *hunt.Hunt, f *hunt.Finding, o BuildOptions) Message {
	if h == nil {
		h = &hunt.Hunt{}
	}
	if f == nil {
		f = &hunt.Finding{}
	}
	b := builder{h: h, f: f, shown: map[string]bool{}}
	titled := b.header()
	b.mitre(titled)
	if o.Record != nil {
		text := Summary(h, o.Record)
		b.add(slackapi.NewContextBlock("", mrkdwn(text)), text)
	}
	b.facts()
	b.portalLink()
	b.logsLink(o.WorkspaceResourceID)
	b.also(o.Also)
	// The parts above are bounded; what is left goes to the other columns (a share) and then
	// to the lists, which are cut to fit. The footer's size is known before it is placed.
	footer, footerLen := b.footer()
	left := MaxMessageText - b.used - footerLen
	others, othersLen := b.others(min(otherBudget, left/4))
	lists, _ := b.lists(left - othersLen)
	b.blocks = append(b.blocks, lists...)
	b.blocks = append(b.blocks, others...)
	b.blocks = append(b.blocks, footer)
	if len(b.blocks) > maxBlocks { // cannot happen with the caps above; kept as a guard
		b.blocks = append(b.blocks[:maxBlocks-1], footer)
	}
	return Message{Text: fallbackText(h, f), Blocks: b.blocks}
}

type builder struct {
	h      *hunt.Hunt
	f      *hunt.Finding
	blocks []slackapi.Block
	used   int             // text units in blocks so far
	shown  map[string]bool // columns already shown
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

func huntName(h *hunt.Hunt) string {
	if strings.TrimSpace(h.Name) == "" {
		return "Hunting query finding"
	}
	return h.Name
}

// header says what happened and where (see headlineOf), after the severity's emoji. It reports
// whether that is more than the hunt's name, which the MITRE line then names.
func (b *builder) header() bool {
	prefix := ""
	if e := emojiFor(b.h.Severity); e != "" {
		prefix = e + " "
	}
	hl := headlineOf(b.h, b.f)
	if hl.statusCol != "" {
		b.shown[hl.statusCol] = true
	}
	text := prefix + hl.render(plain, maxHeaderText-textLen(prefix))
	b.add(slackapi.NewHeaderBlock(plainObj(text, true)), text)
	return hl.host != "" || hl.account != "" || hl.status != ""
}

// Sentinel's tactic names and their MITRE ATT&CK ids.
var tacticIDs = map[string]string{
	"Reconnaissance": "TA0043", "ResourceDevelopment": "TA0042", "InitialAccess": "TA0001",
	"Execution": "TA0002", "Persistence": "TA0003", "PrivilegeEscalation": "TA0004",
	"DefenseEvasion": "TA0005", "CredentialAccess": "TA0006", "Discovery": "TA0007",
	"LateralMovement": "TA0008", "Collection": "TA0009", "CommandAndControl": "TA0011",
	"Exfiltration": "TA0010", "Impact": "TA0040",
}

var techniqueID = regexp.MustCompile(`^T[0-9]{4}(\.[0-9]{3})?$`)

// spaced turns "LateralMovement" into "Lateral Movement".
func spaced(s string) string {
	var b strings.Builder
	prev := rune(-1)
	for _, r := range s {
		if unicode.IsUpper(r) && prev != -1 && unicode.IsLower(prev) {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
		prev = r
	}
	return b.String()
}

const maxMitre = 12

// mitre adds a context line with the severity and the hunt's MITRE ATT&CK tactics and
// techniques, after the hunt's name when withName is set.
func (b *builder) mitre(withName bool) {
	var elems []slackapi.MixedElement
	var texts []string
	addElem := func(s string) {
		elems = append(elems, mrkdwn(s))
		texts = append(texts, s)
	}
	if withName {
		addElem("*Hunt:* " + md(huntName(b.h), 150))
	}
	if s := strings.TrimSpace(b.h.Severity); s != "" {
		addElem("*Severity:* " + md(s, 40))
	}
	if parts := listOf(b.h.Tactics, func(t string) string {
		t = strings.TrimSpace(t)
		if id, ok := tacticIDs[t]; ok {
			return "<https://attack.mitre.org/tactics/" + id + "/|" + spaced(t) + ">"
		}
		return md(t, 60)
	}); parts != "" {
		addElem("*Tactics:* " + parts)
	}
	if parts := listOf(b.h.Techniques, func(t string) string {
		t = strings.TrimSpace(t)
		if techniqueID.MatchString(t) {
			return "<https://attack.mitre.org/techniques/" + strings.ReplaceAll(t, ".", "/") + "/|" + t + ">"
		}
		return md(t, 60)
	}); parts != "" {
		addElem("*Techniques:* " + parts)
	}
	if len(elems) > 0 {
		b.add(slackapi.NewContextBlock("", elems...), texts...)
	}
}

func listOf(items []string, render func(string) string) string {
	var parts []string
	for _, it := range items {
		if strings.TrimSpace(it) == "" {
			continue
		}
		if len(parts) == maxMitre {
			parts = append(parts, fmt.Sprintf("and %d more", len(items)-maxMitre))
			break
		}
		parts = append(parts, render(it))
	}
	return strings.Join(parts, ", ")
}

// value returns the first non-empty text among cols, and marks them all shown.
func (b *builder) value(cols ...string) string {
	v := ""
	for _, c := range cols {
		if _, ok := b.f.Field(c); ok {
			b.shown[c] = true
		}
		if v == "" {
			v = strings.TrimSpace(b.f.Value(c))
		}
	}
	return v
}

func (b *builder) facts() {
	var fields []string
	fact := func(label, val string) {
		if val != "" && len(fields) < maxFactFields {
			fields = append(fields, cutEscaped("*"+md(label, 60)+"*\n"+val, maxFieldText))
		}
	}
	for _, e := range b.h.Entities {
		for _, m := range e.FieldMappings {
			label := e.EntityType
			if len(e.FieldMappings) > 1 {
				label += " " + m.Identifier
			}
			if v := b.value(m.ColumnName); v != "" {
				fact(label, code(entityText(v), valueMax))
			}
		}
	}
	if v := b.value("SubscriptionId", "Subscription"); v != "" {
		fact("Subscription", code(v, valueMax))
	}
	if v := b.value("ResourceGroup"); v != "" {
		fact("Resource group", code(v, valueMax))
	}
	if !b.f.Time.IsZero() {
		t := b.f.Time.UTC()
		fact("When", dateToken(t))
		for _, c := range b.f.Fields {
			if c.Type == "datetime" && c.Text != "" {
				if ct, err := time.Parse(time.RFC3339Nano, c.Text); err == nil && ct.Equal(b.f.Time) {
					b.shown[c.Name] = true // shown as When
				}
			}
		}
	}
	file, size := b.value("PowershellFileName"), b.value("PowershellFileSize")
	switch {
	case file != "" && size != "":
		fact("Script", code(file, valueMax)+" ("+md(bytesText(size), 40)+")")
	case file != "":
		fact("Script", code(file, valueMax))
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

// dateToken writes t as a Slack date, shown in the reader's time zone, with its UTC text as fallback.
func dateToken(t time.Time) string {
	t = t.UTC()
	return fmt.Sprintf("<!date^%d^{date_short_pretty} {time}|%s>", t.Unix(), t.Format("2006-01-02 15:04 UTC"))
}

// bytesText writes a byte count with thousands separators: "12,345 bytes".
func bytesText(s string) string {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return s
	}
	d := strconv.FormatInt(n, 10)
	var out []byte
	for i := range len(d) {
		if i > 0 && (len(d)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, d[i])
	}
	if n == 1 {
		return "1 byte"
	}
	return string(out) + " bytes"
}

// armID is the shape of a compute resource id that may be linked to the portal.
var (
	armID    = regexp.MustCompile(`^/subscriptions/[0-9a-fA-F-]+/resourceGroups/[^/]+/providers/Microsoft\.Compute/.+$`)
	armChars = regexp.MustCompile(`^[A-Za-z0-9._()/-]+$`)
)

// PortalURL returns the Azure portal address of an ARM resource id of a compute resource, or ""
// when id is not one. Only the characters Azure allows in such ids pass, none of which can end
// a Slack link or start markup, so data cannot forge a link, only point at a portal resource.
func PortalURL(id string) string {
	if !armID.MatchString(id) || !armChars.MatchString(id) {
		return ""
	}
	return "https://portal.azure.com/#@/resource" + id
}

func (b *builder) portalLink() {
	id := strings.TrimSpace(b.f.Value("ResourceId"))
	u := PortalURL(id)
	if u == "" || len(u) > maxLinkURL {
		return
	}
	b.shown["ResourceId"] = true
	text := ":link: <" + u + "|View VM in Azure portal>"
	b.add(slackapi.NewSectionBlock(mrkdwn(text), nil, nil), text)
}

// logsLink links to the hunt's query in Log Analytics for this finding (see occurrenceLogsURL).
func (b *builder) logsLink(workspace string) {
	if workspace == "" || b.f.Time.IsZero() {
		return
	}
	u := occurrenceLogsURL(workspace, b.h, b.f)
	if u == "" {
		return
	}
	text := ":mag: <" + u + "|View in Log Analytics>"
	if textLen(text) > maxLogsLink {
		return
	}
	b.add(slackapi.NewSectionBlock(mrkdwn(text), nil, nil), text)
}

// lists renders each list column to show (see displayLists) as numbered code blocks within
// budget units.
func (b *builder) lists(budget int) ([]slackapi.Block, int) {
	var blocks []slackapi.Block
	total := 0
	for _, c := range displayLists(b.f) {
		if b.shown[c.Name] {
			continue
		}
		b.shown[c.Name] = true
		blks, used := listBlocks(c.Name, c.List, budget-total)
		blocks = append(blocks, blks...)
		total += used
	}
	return blocks, total
}

// listBlocks lays out a list as numbered lines in code blocks, in as many sections of at most
// sectionBudget units as budget allows; a list cut short ends with "… and N more".
func listBlocks(name string, list []string, budget int) ([]slackapi.Block, int) {
	label, noun := listNames(name)
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

// listNames returns how a list column is titled and what its elements are called: a column of
// PowerShell commands is "PowerShell commands" of "commands".
func listNames(name string) (label, noun string) {
	noun, label = "items", name
	if lower := strings.ToLower(name); strings.Contains(lower, "command") {
		noun = "commands"
		if strings.Contains(lower, "powershell") {
			label = "PowerShell commands"
		}
	}
	return label, noun
}

// count writes n with thousands separators.
func count(n int) string {
	return strings.TrimSuffix(strings.TrimSuffix(bytesText(strconv.Itoa(n)), " bytes"), " byte")
}

// others lists the non-empty columns shown nowhere else that belong in the small print (see
// inFooter), as plain_text context elements, within budget units and three context blocks.
func (b *builder) others(budget int) ([]slackapi.Block, int) {
	var rest []hunt.Field
	for _, c := range b.f.Fields {
		if b.shown[c.Name] || len(c.List) > 0 || strings.TrimSpace(c.Text) == "" || !inFooter(c) {
			continue
		}
		if c.Text == b.f.Fingerprint || c.Text == b.f.Occurrence {
			continue // in the footer
		}
		rest = append(rest, c)
	}
	var texts []string
	used := 0
	for i, c := range rest {
		text := plain(c.Name, 60) + ": " + plain(c.Text, otherMax)
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
func (b *builder) footer() (slackapi.Block, int) {
	var texts []string
	if b.f.Fingerprint != "" {
		texts = append(texts, "Fingerprint "+code(b.f.Fingerprint, 80))
	}
	if b.f.Occurrence != "" {
		texts = append(texts, "Occurrence "+code(b.f.Occurrence, 80))
	}
	t := "huntwatch"
	if b.h.ID != "" {
		t += " · hunt " + code(b.h.ID, 60)
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

// entityValues returns "label: value" for each non-empty entity column (see entityText), but
// for the values the headline already gives.
func entityValues(h *hunt.Hunt, f *hunt.Finding, hl headline) []string {
	var out []string
	for _, e := range h.Entities {
		for _, m := range e.FieldMappings {
			v := strings.TrimSpace(f.Value(m.ColumnName))
			if v == "" || (strings.EqualFold(e.EntityType, "Host") && v == hl.host) || (strings.EqualFold(e.EntityType, "Account") && v == hl.account) {
				continue
			}
			out = append(out, md(e.EntityType, 40)+": "+md(entityText(v), 120))
		}
	}
	return out
}

// fallbackText is the notification text: severity, headline and the other entities, on one line.
func fallbackText(h *hunt.Hunt, f *hunt.Finding) string {
	hl := headlineOf(h, f)
	s := hl.render(md, 200)
	if sev := strings.TrimSpace(h.Severity); sev != "" {
		s = md(sev, 40) + " · " + s
	}
	if ents := entityValues(h, f, hl); len(ents) > 0 {
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
// error code): the hunt, the entities, the time, the size of each list and the fingerprint.
func Minimal(h *hunt.Hunt, f *hunt.Finding, reason string) string {
	if h == nil {
		h = &hunt.Hunt{}
	}
	if f == nil {
		f = &hunt.Finding{}
	}
	hl := headlineOf(h, f)
	lines := []string{"*" + hl.render(md, 200) + "*"}
	if sev := strings.TrimSpace(h.Severity); sev != "" {
		lines[0] += " (" + md(sev, 40) + ")"
	}
	if ents := entityValues(h, f, hl); len(ents) > 0 {
		lines = append(lines, strings.Join(ents, " · "))
	}
	if !f.Time.IsZero() {
		lines = append(lines, "When: "+f.Time.UTC().Format("2006-01-02 15:04:05 UTC"))
	}
	for _, c := range displayLists(f) {
		lines = append(lines, fmt.Sprintf("%s: %s items (not shown)", md(c.Name, 80), count(len(c.List))))
	}
	if f.Fingerprint != "" {
		lines = append(lines, "Fingerprint: "+md(f.Fingerprint, 100))
	}
	lines = append(lines, "Slack refused the detailed message ("+code(reason, 60)+"); see the hunt's results for the rest.")
	return cutEscaped(strings.Join(lines, "\n"), minimalMax)
}
