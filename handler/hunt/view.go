package hunt

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"encoding/base64"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// What a message about a finding says, decided once for every notifier: its title, which columns
// become which facts, lists and small print, and where it links. A notifier only renders a View
// (escaping, cutting to its own limits, laying it out); it never looks at column names itself.

// ViewOptions add to a view what the hunt and the finding alone cannot tell.
type ViewOptions struct {
	// WorkspaceResourceID is the ARM id of the Log Analytics workspace the hunt runs in. When it
	// is one (see ValidWorkspaceID), views link to the finding's rows there (see LogsURL).
	WorkspaceResourceID string
}

// View is what a message about one finding says. Text is as the data holds it, unescaped and
// uncut: each notifier escapes and bounds it for its medium.
type View struct {
	Name   string // the hunt's name (see DisplayName)
	HuntID string
	// Title says what happened and where (see Hunt.View for the rules).
	Title Headline
	// Text is what the rule's alert description format (Override.DescriptionFormat) says of this
	// row, or the hunt's description when a column the format names has no value (Sentinel's
	// fallback); "" when the rule has no format: the hunt's description is the same for every
	// finding and is not repeated in each message.
	Text       string
	Severity   string // the row's severity column when it holds a valid one, else the hunt's
	Tactics    []Link // MITRE ATT&CK tactics (the row's tactics column when valid), linked when known
	Techniques []Link // MITRE ATT&CK techniques, linked when their id is well formed
	// Facts are the entity values (Entity set, in the order of the hunt's mappings), then the
	// subscription, the resource group, the finding's time and the script, each when present.
	Facts []Fact
	// Details are the rule's custom details with a value, labelled by their names, in the rule's order.
	Details []Fact
	// Lists are the list columns shown, in order: a list holding the same elements as one before
	// it (the sorted set a hunt fingerprints, after the same commands in the order they ran) and
	// a list already shown as a fact are left out.
	Lists []List
	// Others are the non-empty columns shown nowhere else that belong in the small print,
	// labelled by their names, in the row's order (see inSmallPrint).
	Others []Fact
	// Links are the resource in the Azure portal and the finding's rows in Log Analytics, when
	// there are such links.
	Links       []Link
	Time        time.Time
	Fingerprint string
	Occurrence  string
}

// Headline says what happened and where: "What on Host by Account Status". Only What is always set.
type Headline struct {
	What    string
	Host    string
	Account string
	Status  string // how a run ended when it did not succeed (see statusWord)
}

func (hl Headline) String() string {
	s := hl.What
	if hl.Host != "" {
		s += " on " + hl.Host
	}
	if hl.Account != "" {
		s += " by " + hl.Account
	}
	if hl.Status != "" {
		s += " " + hl.Status
	}
	return s
}

// Fact is one labelled value of a finding.
type Fact struct {
	Label string
	Value string // as people read it: an ARM resource id as its name and resource group (see EntityText)
	Note  string // said after the value, such as a script's size ("1,284 bytes")
	// Time is set when the fact is a time (Value then holds it in RFC 3339), for a notifier to
	// show in its reader's time zone.
	Time time.Time
	// Entity is the entity type of an entity's value, and InTitle reports that the Title already
	// names that value (its Host or Account, or a column its alert name format names), so a
	// one-line text need not repeat it.
	Entity  string
	InTitle bool
}

// List is a list column of a finding, such as the PowerShell commands a script ran.
type List struct {
	Column string
	Label  string // how the list is titled: "PowerShell commands", or the column's name
	Noun   string // what its items are: "commands", or "items"
	Items  []string
}

// Link kinds.
const (
	LinkResource = "resource" // the finding's resource in the Azure portal
	LinkLogs     = "logs"     // the finding's rows (or the findings') in Log Analytics
)

// Link is a titled address. Kind is one of the Link kinds for a view's Links, "" for a tactic or
// technique. URL is "" for a tactic or technique without a page, which is shown as text.
type Link struct {
	Kind string
	Text string
	URL  string
}

// DisplayName is the hunt's name, or "Hunting query finding" when it has none.
func (h *Hunt) DisplayName() string {
	if strings.TrimSpace(h.Name) == "" {
		return "Hunting query finding"
	}
	return h.Name
}

// View says what a message about finding f of h shows.
//
// The title is the rule's alert name format (Override.TitleFormat) filled from the row, when it
// has one and every column it names has a value; otherwise what happened and where: the hunt's
// name without a trailing "(...)" tag, on the first Host entity value, by the first Account entity
// value, and how the run ended when it did not succeed ("… on Web-Prod-01 by alice@contoso.com
// failed", from the first column named Status or ending in Status, such as ActivityStatus).
// Without a host or an account, what happened is the hunt's whole name.
func (h *Hunt) View(f *Finding, o ViewOptions) View {
	if f == nil {
		f = &Finding{}
	}
	b := viewer{h: h, f: f, shown: map[string]bool{}}
	v := View{
		Name:        h.DisplayName(),
		HuntID:      h.ID,
		Severity:    strings.TrimSpace(h.Severity),
		Tactics:     tacticLinks(h.Tactics),
		Techniques:  techniqueLinks(h.Techniques),
		Time:        f.Time,
		Fingerprint: f.Fingerprint,
		Occurrence:  f.Occurrence,
	}
	v.Title = b.title()
	v.Text = b.text()
	if sev, ok := b.severity(); ok {
		v.Severity = sev
	}
	if tactics, ok := b.tactics(); ok {
		v.Tactics = tacticLinks(tactics)
	}
	v.Facts = b.facts(v.Title)
	v.Details = b.details()
	v.Links = b.links(o.WorkspaceResourceID)
	v.Lists = b.lists()
	v.Others = b.others()
	return v
}

// viewer builds one View, remembering which columns it has shown.
type viewer struct {
	h         *Hunt
	f         *Finding
	shown     map[string]bool
	titleCols []string // the columns the rule's alert name format filled the title with
}

// value returns the first non-empty text among cols, trimmed, and marks them all shown.
func (b *viewer) value(cols ...string) string {
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

func (b *viewer) title() Headline {
	if t, cols, ok := fill(b.h.Override.TitleFormat, b.f); ok {
		b.show(cols)
		b.titleCols = cols
		return Headline{What: t}
	}
	hl := Headline{Host: entityOfType(b.h, b.f, "Host"), Account: entityOfType(b.h, b.f, "Account")}
	hl.What = b.h.DisplayName()
	if hl.Host != "" || hl.Account != "" {
		if i := strings.LastIndex(hl.What, " ("); i > 0 && strings.HasSuffix(hl.What, ")") {
			hl.What = hl.What[:i]
		}
	}
	for _, c := range b.f.Fields {
		name := strings.ToLower(c.Name)
		if len(c.List) > 0 || strings.TrimSpace(c.Text) == "" || !strings.HasSuffix(name, "status") {
			continue
		}
		if hl.Status = statusWord(c.Text); hl.Status != "" {
			b.shown[c.Name] = true
		}
		break
	}
	return hl
}

// text is the rule's alert description format filled from the row; the hunt's description (its
// lines joined as the file wrapped them) when a column the format names has no value, Sentinel's
// documented fallback; "" without a format.
func (b *viewer) text() string {
	format := b.h.Override.DescriptionFormat
	if strings.TrimSpace(format) == "" {
		return ""
	}
	if t, cols, ok := fill(format, b.f); ok {
		b.show(cols)
		return t
	}
	return unwrap(strings.Trim(strings.TrimSpace(b.h.Description), "'"))
}

// unwrap joins the lines a YAML file wrapped a text into, keeping its paragraphs.
func unwrap(s string) string {
	paras := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n\n")
	for i, p := range paras {
		paras[i] = strings.Join(strings.Fields(p), " ")
	}
	return strings.Join(paras, "\n\n")
}

func (b *viewer) show(cols []string) {
	for _, c := range cols {
		b.shown[c] = true
	}
}

// fill writes format with each {{Column}} placeholder (see Placeholders) replaced by that column's value (trimmed; a list as
// "[a, b]"), and returns the columns it named. It reports false when format is blank or a column
// it names is absent or empty: Sentinel then keeps the rule's own name or description. Sentinel
// accepts at most three placeholders in a format; a file with more is still filled whole here.
func fill(format string, f *Finding) (string, []string, bool) {
	if strings.TrimSpace(format) == "" {
		return "", nil, false
	}
	var cols []string
	ok := true
	out := placeholderRE.ReplaceAllStringFunc(format, func(m string) string {
		col := placeholderRE.FindStringSubmatch(m)[1]
		v := strings.TrimSpace(f.Value(col))
		if v == "" {
			ok = false
		}
		cols = append(cols, col)
		return v
	})
	return strings.TrimSpace(out), cols, ok
}

// severity is the row's alert severity column (Override.SeverityColumn) when it holds one of
// Sentinel's severities, in any case, written as Sentinel writes it.
func (b *viewer) severity() (string, bool) {
	col := b.h.Override.SeverityColumn
	if col == "" {
		return "", false
	}
	s, ok := severities[strings.ToLower(strings.TrimSpace(b.f.Value(col)))]
	if ok {
		b.shown[col] = true
	}
	return s, ok
}

// tactics are the row's alert tactics column (Override.TacticsColumn) when every tactic it holds
// (a list, or text separated by commas) is one of Sentinel's, in any case; Sentinel keeps the
// rule's tactics when the column is empty or holds anything else.
func (b *viewer) tactics() ([]string, bool) {
	col := b.h.Override.TacticsColumn
	c, ok := b.f.Field(col)
	if col == "" || !ok {
		return nil, false
	}
	items := c.List
	if len(items) == 0 {
		items = strings.Split(c.Text, ",")
	}
	var out []string
	for _, it := range items {
		it = strings.TrimSpace(it)
		if it == "" {
			continue
		}
		name, ok := sentinelTactic(it)
		if !ok {
			return nil, false
		}
		out = append(out, name)
	}
	if len(out) == 0 {
		return nil, false
	}
	b.shown[col] = true
	return out, true
}

// tacticIDs are Sentinel's tactic names and their MITRE ATT&CK ids; "" for those without a page
// linked here (PreAttack, which MITRE does not have, and the ICS tactics).
var tacticIDs = map[string]string{
	"Reconnaissance": "TA0043", "ResourceDevelopment": "TA0042", "InitialAccess": "TA0001",
	"Execution": "TA0002", "Persistence": "TA0003", "PrivilegeEscalation": "TA0004",
	"DefenseEvasion": "TA0005", "CredentialAccess": "TA0006", "Discovery": "TA0007",
	"LateralMovement": "TA0008", "Collection": "TA0009", "CommandAndControl": "TA0011",
	"Exfiltration": "TA0010", "Impact": "TA0040",
	"PreAttack": "", "ImpairProcessControl": "", "InhibitResponseFunction": "",
}

// sentinelTactic returns Sentinel's name of tactic t, given in any case and with or without spaces.
func sentinelTactic(t string) (string, bool) {
	key := strings.ReplaceAll(t, " ", "")
	for name := range tacticIDs {
		if strings.EqualFold(name, key) {
			return name, true
		}
	}
	return "", false
}

var techniqueID = regexp.MustCompile(`^T[0-9]{4}(\.[0-9]{3})?$`)

// tacticLinks links each known tactic to its MITRE ATT&CK page, named with spaces ("Lateral
// Movement"); other tactics are text as written. Blank ones are left out.
func tacticLinks(tactics []string) []Link {
	var out []Link
	for _, t := range tactics {
		t = strings.TrimSpace(t)
		switch id, ok := tacticIDs[t]; {
		case t == "":
		case ok && id != "":
			out = append(out, Link{Text: spaced(t), URL: "https://attack.mitre.org/tactics/" + id + "/"})
		default:
			out = append(out, Link{Text: t})
		}
	}
	return out
}

// techniqueLinks links each technique id (T1078, T1078.004) to its MITRE ATT&CK page; other
// values are text as written. Blank ones are left out.
func techniqueLinks(techniques []string) []Link {
	var out []Link
	for _, t := range techniques {
		t = strings.TrimSpace(t)
		switch {
		case t == "":
		case techniqueID.MatchString(t):
			out = append(out, Link{Text: t, URL: "https://attack.mitre.org/techniques/" + strings.ReplaceAll(t, ".", "/") + "/"})
		default:
			out = append(out, Link{Text: t})
		}
	}
	return out
}

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

// statusWord says how a run ended when it did not succeed: "failed", "timed out", "still running"
// (no end logged yet: a script that hangs looks like this), "canceled", or the value itself in
// brackets when it is not a known status; "" for a success.
func statusWord(v string) string {
	switch strings.ToLower(strings.NewReplacer(" ", "", "_", "", "-", "").Replace(strings.TrimSpace(v))) {
	case "success", "succeeded", "completed", "ok":
		return ""
	case "failure", "failed", "fail", "error":
		return "failed"
	case "timeout", "timedout":
		return "timed out"
	case "start", "started", "accept", "accepted", "running", "inprogress":
		return "still running"
	case "canceled", "cancelled":
		return "canceled"
	}
	return "(" + strings.TrimSpace(v) + ")"
}

// entityOfType returns the first non-empty value of the hunt's entities of type typ.
func entityOfType(h *Hunt, f *Finding, typ string) string {
	for _, e := range h.Entities {
		if !strings.EqualFold(e.EntityType, typ) {
			continue
		}
		for _, m := range e.FieldMappings {
			if v := strings.TrimSpace(f.Value(m.ColumnName)); v != "" {
				return v
			}
		}
	}
	return ""
}

// EntityLabel names an entity column: its entity type, and the identifier when the type maps
// several columns ("Account Name").
func EntityLabel(e EntityMapping, m FieldMapping) string {
	if len(e.FieldMappings) > 1 {
		return e.EntityType + " " + m.Identifier
	}
	return e.EntityType
}

// facts are the entity values, then the Azure context (subscription, resource group), the
// finding's time and the script a Run Command ran (file name and size), each when present.
func (b *viewer) facts(title Headline) []Fact {
	var out []Fact
	for _, e := range b.h.Entities {
		for _, m := range e.FieldMappings {
			v := b.value(m.ColumnName)
			if v == "" {
				continue
			}
			inTitle := strings.EqualFold(e.EntityType, "Host") && v == title.Host ||
				strings.EqualFold(e.EntityType, "Account") && v == title.Account ||
				slices.Contains(b.titleCols, m.ColumnName)
			out = append(out, Fact{Label: EntityLabel(e, m), Value: EntityText(v), Entity: e.EntityType, InTitle: inTitle})
		}
	}
	if v := b.value("SubscriptionId", "Subscription"); v != "" {
		out = append(out, Fact{Label: "Subscription", Value: v})
	}
	if v := b.value("ResourceGroup"); v != "" {
		out = append(out, Fact{Label: "Resource group", Value: v})
	}
	if t := b.f.Time; !t.IsZero() {
		out = append(out, Fact{Label: "When", Value: t.UTC().Format(time.RFC3339Nano), Time: t.UTC()})
		for _, c := range b.f.Fields {
			if c.Type == "datetime" && c.Text != "" {
				if ct, err := time.Parse(time.RFC3339Nano, c.Text); err == nil && ct.Equal(t) {
					b.shown[c.Name] = true // the same time
				}
			}
		}
	}
	if file, size := b.value("PowershellFileName"), b.value("PowershellFileSize"); file != "" {
		fact := Fact{Label: "Script", Value: file}
		if size != "" {
			fact.Note = bytesText(size)
		}
		out = append(out, fact)
	}
	return out
}

// details are the rule's custom details that have a value in the row.
func (b *viewer) details() []Fact {
	var out []Fact
	for _, d := range b.h.Details {
		if v := b.value(d.Column); v != "" {
			out = append(out, Fact{Label: d.Name, Value: v})
		}
	}
	return out
}

// bytesText writes a byte count with thousands separators: "12,345 bytes".
func bytesText(s string) string {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return s
	}
	if n == 1 {
		return "1 byte"
	}
	d := strconv.FormatInt(n, 10)
	var out []byte
	for i := range len(d) {
		if i > 0 && (len(d)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, d[i])
	}
	return string(out) + " bytes"
}

// resourceID is an ARM resource id: its resource group, and the rest of the path after the
// provider namespace (type/name pairs).
var resourceID = regexp.MustCompile(`(?i)^/subscriptions/[^/]+/resourceGroups/([^/]+)/providers/[^/]+/([^/]+/[^/]+(?:/[^/]+/[^/]+)*)$`)

// EntityText is how people read an entity value: an ARM resource id, whose distinguishing part
// is at its end, as its name and resource group ("Web-Prod-01 (RG-WEB-PROD)"; a child resource
// "vmss/3 (RG)"); the whole id is only in the portal link. Other values as they are.
func EntityText(v string) string {
	m := resourceID.FindStringSubmatch(strings.TrimSpace(v))
	if m == nil {
		return v
	}
	var names []string
	for i, part := range strings.Split(m[2], "/") {
		if i%2 == 1 {
			names = append(names, part)
		}
	}
	return strings.Join(names, "/") + " (" + m[1] + ")"
}

// links are the finding's resource in the Azure portal (see PortalURL) and, with a workspace,
// its rows in Log Analytics (see occurrenceLogsURL).
func (b *viewer) links(workspace string) []Link {
	var out []Link
	for _, col := range resourceColumns(b.h) {
		if u := PortalURL(strings.TrimSpace(b.f.Value(col))); u != "" {
			b.shown[col] = true
			out = append(out, Link{Kind: LinkResource, Text: "View VM in Azure portal", URL: u})
			break
		}
	}
	if workspace != "" && !b.f.Time.IsZero() {
		if u := occurrenceLogsURL(workspace, b.h, b.f); u != "" && len(u) <= MaxLinkURL {
			out = append(out, Link{Kind: LinkLogs, Text: "View in Log Analytics", URL: u})
		} else if u := searchLogsURL(workspace, b.f); u != "" && len(u) <= MaxLinkURL {
			out = append(out, Link{Kind: LinkLogs, Text: "View its events in Log Analytics", URL: u})
		}
	}
	return out
}

// resourceColumns are the columns that may hold the finding's ARM resource id: those the hunt
// maps to an AzureResource's ResourceId or a Host's AzureID, then a column named ResourceId.
func resourceColumns(h *Hunt) []string {
	var cols []string
	for _, e := range h.Entities {
		for _, m := range e.FieldMappings {
			if strings.EqualFold(m.Identifier, "ResourceId") || strings.EqualFold(m.Identifier, "AzureID") {
				cols = append(cols, m.ColumnName)
			}
		}
	}
	return append(cols, "ResourceId")
}

// armID is the shape of a compute resource id that may be linked to the portal.
var (
	armID    = regexp.MustCompile(`^/subscriptions/[0-9a-fA-F-]+/resourceGroups/[^/]+/providers/Microsoft\.Compute/.+$`)
	armChars = regexp.MustCompile(`^[A-Za-z0-9._()/-]+$`)
)

// PortalURL returns the Azure portal address of an ARM resource id of a compute resource, or ""
// when id is not one. Only the characters Azure allows in such ids pass, none of which can end
// a link in a chat message or start markup, so data cannot forge a link, only point at a portal
// resource.
func PortalURL(id string) string {
	if !armID.MatchString(id) || !armChars.MatchString(id) {
		return ""
	}
	return "https://portal.azure.com/#@/resource" + id
}

// lists are the list columns to show (see View.Lists).
func (b *viewer) lists() []List {
	var out []List
	var seen [][]string
	for _, c := range b.f.Fields {
		if len(c.List) == 0 || b.shown[c.Name] {
			continue
		}
		set := slices.Compact(slices.Sorted(slices.Values(c.List)))
		if slices.ContainsFunc(seen, func(s []string) bool { return slices.Equal(s, set) }) {
			continue
		}
		seen = append(seen, set)
		b.shown[c.Name] = true
		label, noun := listNames(c.Name)
		out = append(out, List{Column: c.Name, Label: label, Noun: noun, Items: c.List})
	}
	return out
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

// others are the columns for the small print: non-empty, not lists, shown nowhere else, not
// holding the fingerprint or the occurrence, and meant for people (see inSmallPrint).
func (b *viewer) others() []Fact {
	var out []Fact
	for _, c := range b.f.Fields {
		if b.shown[c.Name] || len(c.List) > 0 || strings.TrimSpace(c.Text) == "" || !inSmallPrint(c) {
			continue
		}
		if c.Text == b.f.Fingerprint || c.Text == b.f.Occurrence {
			continue // the view has them
		}
		out = append(out, Fact{Label: c.Name, Value: c.Text})
	}
	return out
}

// inSmallPrint reports whether a column that no other part of a view shows belongs in its small
// print. Identifiers (a name ending in Id or ID, such as DeviceId) and timestamps other than the
// finding's time (EndTime, PowershellExecEnd) are for machines and stay in the CSV, the store
// and the Log Analytics link; what the hunt computes to tell people (a status, a count, a
// device name) stays.
func inSmallPrint(c Field) bool {
	return c.Type != "datetime" && !strings.HasSuffix(c.Name, "Id") && !strings.HasSuffix(c.Name, "ID")
}

// DigestView is what one message about many new findings of a hunt says.
type DigestView struct {
	Name       string // the hunt's name (see DisplayName)
	Severity   string // the hunt's: rows may differ
	Tactics    []Link
	Techniques []Link
	// Tallies count, for each entity column (hosts, accounts and IPs first, then as the hunt maps
	// them), how many findings have each value, most frequent first.
	Tallies []Tally
	// Links holds the hunt's query in Log Analytics over the findings' times, with a workspace.
	Links []Link
}

// Tally counts the values of one entity column among findings.
type Tally struct {
	Label  string // see EntityLabel
	Values []Count
	// More is set when the findings had more distinct values than a digest counts
	// (maxTallyValues): Values counts the first ones met, each exactly.
	More bool
}

// maxTallyValues bounds the distinct values a digest counts per column, so that a flood of
// distinct values (100,000 VMs or IPs) does not hold them all: its message shows ten.
const maxTallyValues = 10_000

// Count is one value (see EntityText) and how many findings have it.
type Count struct {
	Value string
	N     int
}

// DigestView says what one message about the findings fs of h shows; each finding in it is told
// by its own View. It reads fs once, keeping only the counts of each entity column's values; the
// caller checks fs.Err.
func (h *Hunt) DigestView(fs FindingSeq, o ViewOptions) DigestView {
	d := DigestView{
		Name:       h.DisplayName(),
		Severity:   strings.TrimSpace(h.Severity),
		Tactics:    tacticLinks(h.Tactics),
		Techniques: techniqueLinks(h.Techniques),
	}
	type column struct {
		label, name string
		counts      map[string]int
		more        bool // values past maxTallyValues went uncounted
	}
	var cols []*column
	for _, e := range byPreference(h.Entities) {
		for _, m := range e.FieldMappings {
			cols = append(cols, &column{label: EntityLabel(e, m), name: m.ColumnName, counts: map[string]int{}})
		}
	}
	var span timeSpan
	for f := range fs.All() {
		if f == nil {
			continue
		}
		for _, c := range cols {
			v := strings.TrimSpace(f.Value(c.name))
			switch _, known := c.counts[v]; {
			case v == "":
			case known || len(c.counts) < maxTallyValues:
				c.counts[v]++
			default:
				c.more = true
			}
		}
		span.add(f.Time)
	}
	for _, c := range cols {
		if t, ok := tally(c.counts); ok {
			t.Label, t.More = c.label, c.more
			d.Tallies = append(d.Tallies, t)
		}
	}
	if o.WorkspaceResourceID != "" && !span.first.IsZero() {
		if u := findingLogsURL(o.WorkspaceResourceID, h, span.first, span.last); u != "" && len(u) <= MaxLinkURL {
			d.Links = append(d.Links, Link{Kind: LinkLogs, Text: "View in Log Analytics", URL: u})
		}
	}
	return d
}

// tally orders the counts of one column's non-empty values: most frequent first, then by how
// they read, then by value.
func tally(counts map[string]int) (Tally, bool) {
	if len(counts) == 0 {
		return Tally{}, false
	}
	t := Tally{Values: make([]Count, 0, len(counts))}
	raw := make(map[string]string, len(counts)) // by text, the value it shows (EntityText once each)
	for v, n := range counts {
		text := EntityText(v)
		raw[text] = v
		t.Values = append(t.Values, Count{Value: text, N: n})
	}
	slices.SortFunc(t.Values, func(a, b Count) int {
		if c := cmp.Compare(b.N, a.N); c != 0 {
			return c
		}
		if c := strings.Compare(a.Value, b.Value); c != 0 {
			return c
		}
		return strings.Compare(raw[a.Value], raw[b.Value])
	})
	return t, true
}

// timeSpan is the earliest and latest of the non-zero times added to it.
type timeSpan struct{ first, last time.Time }

func (s *timeSpan) add(t time.Time) {
	if t.IsZero() {
		return
	}
	if s.first.IsZero() || t.Before(s.first) {
		s.first = t
	}
	if t.After(s.last) {
		s.last = t
	}
}

// preferred are the entity types summaries and digests show first: the VM, the caller, the IP.
var preferred = []string{"Host", "Account", "IP"}

// byPreference orders entity mappings with the preferred types first, keeping the hunt's order
// otherwise.
func byPreference(es []EntityMapping) []EntityMapping {
	rank := func(typ string) int {
		if i := slices.Index(preferred, typ); i >= 0 {
			return i
		}
		return len(preferred)
	}
	out := slices.Clone(es)
	slices.SortStableFunc(out, func(a, b EntityMapping) int { return rank(a.EntityType) - rank(b.EntityType) })
	return out
}

// Seen is what a notified fingerprint's record tells of it: how often, where, and when last.
type Seen struct {
	Occurrences int // 0 when not counted
	// Entities are the values seen of each entity type: hosts, accounts and IPs first, then as
	// the hunt maps them, then any others by type.
	Entities []SeenValues
	LastSeen time.Time
}

// SeenValues is the values seen of one entity type.
type SeenValues struct {
	Type   string
	Label  string   // the type in the plural: "hosts", "IPs"
	Values []string // see EntityText
}

// Seen says what rec tells of a fingerprint of h.
func (h *Hunt) Seen(rec *Record) Seen {
	if rec == nil {
		return Seen{}
	}
	s := Seen{Occurrences: rec.Occurrences, LastSeen: rec.LastSeen}
	for _, typ := range seenTypes(h, rec) {
		vals := make([]string, len(rec.Entities[typ]))
		for i, v := range rec.Entities[typ] {
			vals[i] = EntityText(v)
		}
		s.Entities = append(s.Entities, SeenValues{Type: typ, Label: plural(typ), Values: vals})
	}
	return s
}

// seenTypes orders the record's entity types (see Seen.Entities).
func seenTypes(h *Hunt, rec *Record) []string {
	var out []string
	for _, e := range byPreference(h.Entities) {
		if len(rec.Entities[e.EntityType]) > 0 && !slices.Contains(out, e.EntityType) {
			out = append(out, e.EntityType)
		}
	}
	var rest []string
	for typ, vals := range rec.Entities {
		if len(vals) > 0 && !slices.Contains(out, typ) {
			rest = append(rest, typ)
		}
	}
	slices.Sort(rest)
	return append(out, rest...)
}

var plurals = map[string]string{
	"Host": "hosts", "Account": "accounts", "IP": "IPs", "File": "files", "Process": "processes",
	"URL": "URLs", "DNS": "domains", "FileHash": "file hashes", "Mailbox": "mailboxes",
	"AzureResource": "Azure resources", "CloudApplication": "cloud apps", "RegistryKey": "registry keys",
}

func plural(typ string) string {
	if p, ok := plurals[typ]; ok {
		return p
	}
	return typ
}

// Links to Log Analytics.

// workspaceID is the shape of a Log Analytics workspace's ARM resource id.
var workspaceID = regexp.MustCompile(`^/subscriptions/[0-9a-fA-F-]+/resourceGroups/[^/]+/providers/Microsoft\.OperationalInsights/workspaces/[^/]+$`)

// ValidWorkspaceID reports whether id is a Log Analytics workspace's ARM resource id, which
// LogsURL can link to.
func ValidWorkspaceID(id string) bool { return workspaceID.MatchString(id) }

// LogsURL returns an Azure portal address that opens the Logs blade of the workspace with query in
// the editor and the time range start..end (left to the portal when either is zero), or "" when
// workspaceResourceID is not a workspace's ARM id or query is empty.
//
// It is the portal's own "share link to query" form, as the portal's "Copy link" writes it:
//
//	https://portal.azure.com/#blade/Microsoft_Azure_Monitoring_Logs/LogsBlade
//	  /resourceId/<the resource id, URI-component encoded>
//	  /source/LogsBlade.AnalyticsShareLinkToQuery
//	  /q/<base64 of the gzipped query, URI-component encoded twice>
//	  /timespan/<ISO 8601 interval start/end, URI-component encoded>
//
// Microsoft does not document the format; this follows links the portal generated that are
// published in Microsoft's own docs and in public repositories (q/H4sI…%252F…%253D/timespan/P1D
// and timespan/2024-09-19T14%3A00%3A55.000Z%2F…). Every character of the result is one of
// [A-Za-z0-9%._~/#:-], so it can sit inside a chat message's link whatever the id or query hold.
func LogsURL(workspaceResourceID, query string, start, end time.Time) string {
	if !workspaceID.MatchString(workspaceResourceID) || strings.TrimSpace(query) == "" {
		return ""
	}
	var gz bytes.Buffer
	w, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression) // the level is valid: no error
	w.Write([]byte(query))                                 // a bytes.Buffer does not fail
	w.Close()
	q := base64.StdEncoding.EncodeToString(gz.Bytes())
	u := "https://portal.azure.com/#blade/Microsoft_Azure_Monitoring_Logs/LogsBlade/resourceId/" +
		component(workspaceResourceID) +
		"/source/LogsBlade.AnalyticsShareLinkToQuery/q/" + component(component(q))
	if !start.IsZero() && !end.IsZero() && end.After(start) {
		const iso = "2006-01-02T15:04:05.000Z"
		u += "/timespan/" + component(start.UTC().Format(iso)+"/"+end.UTC().Format(iso))
	}
	return u
}

// component escapes s as JavaScript's encodeURIComponent does, except that it also escapes
// ! ' ( ) and *, which a chat link or markup could read.
func component(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// logsMargin is how far around the findings' times a Log Analytics link looks.
const logsMargin = time.Hour

// findingLogsURL links to h's query over [first-1h, last+1h]: the window is declared the way the
// Runner declares it (so queries using HuntStart and HuntEnd run as they do in huntwatch), and
// the portal's time range is the Runner's timespan for that window (see Window.Request).
func findingLogsURL(workspace string, h *Hunt, first, last time.Time) string {
	if first.IsZero() || last.IsZero() {
		return ""
	}
	w := Window{Start: first.Add(-logsMargin).UTC(), End: last.Add(logsMargin).UTC()}
	q, ts := w.Request(linkQuery(h.Query), w.End)
	return LogsURL(workspace, q, ts.Start, ts.End)
}

// logsNear is how far around a finding's own times the link to its occurrence looks.
const logsNear = 10 * time.Minute

// occurrenceLogsURL links to the finding f of h in Log Analytics. When f's occurrence comes from
// a column (see occurrenceColumn), the query keeps only that occurrence (h's query, then
// `| where <column> == "<value>"`) over the finding's own times (see timeExtent) widened by
// logsNear and out to whole minutes; otherwise it is h's whole query over the hour either side
// of f.Time, as findingLogsURL makes it.
func occurrenceLogsURL(workspace string, h *Hunt, f *Finding) string {
	col := occurrenceColumn(h, f)
	filter, ok := kqlEquals(col, f.Value(col))
	if !ok || f.Time.IsZero() {
		return findingLogsURL(workspace, h, f.Time, f.Time)
	}
	first, last := timeExtent(f, logsMargin)
	w := Window{
		Start: first.Add(-logsNear).UTC().Truncate(time.Minute),
		End:   last.Add(logsNear + time.Minute - 1).UTC().Truncate(time.Minute),
	}
	q := strings.TrimRight(linkQuery(h.Query), " \t\r\n;") + "\n| where " + filter
	q, ts := w.Request(q, w.End)
	return LogsURL(workspace, q, ts.Start, ts.End)
}

// MaxLinkURL bounds the URL of a link: a chat message carries about 3,000 characters in one text
// (Slack), the link's own markup included. The hunt's query travels in the Log Analytics link, so a
// long hunt makes a long link.
const MaxLinkURL = 2900

// searchLogsURL links to every event of the finding's operation, for a hunt whose own query is too
// long to link: a search for its correlation id (the default occurrence column), or else its
// occurrence, over the finding's own times as occurrenceLogsURL takes them.
func searchLogsURL(workspace string, f *Finding) string {
	term := f.Value(defaultOccurrenceColumn)
	if term == "" {
		term = f.Occurrence
	}
	lit, ok := kqlString(term)
	if term == "" || !ok || f.Time.IsZero() {
		return ""
	}
	first, last := timeExtent(f, logsMargin)
	w := Window{
		Start: first.Add(-logsNear).UTC().Truncate(time.Minute),
		End:   last.Add(logsNear + time.Minute - 1).UTC().Truncate(time.Minute),
	}
	q, ts := w.Request("search "+lit, w.End)
	return LogsURL(workspace, q, ts.Start, ts.End)
}

// occurrenceColumn names the column f's occurrence comes from: the hunt's occurrence column, or
// else the column holding f.Occurrence (the pipeline's default, CorrelationId); "" when f's
// occurrence is a hash of its row, which no column holds.
func occurrenceColumn(h *Hunt, f *Finding) string {
	if h.Occurrence != "" {
		return h.Occurrence
	}
	for _, c := range f.Fields {
		if f.Occurrence != "" && len(c.List) == 0 && c.Text == f.Occurrence {
			return c.Name
		}
	}
	return ""
}

// timeExtent returns the earliest and latest of f.Time and those of f's datetime columns that are
// within margin of it (a column may hold another time, such as when an account was created).
func timeExtent(f *Finding, margin time.Duration) (first, last time.Time) {
	first, last = f.Time, f.Time
	for _, c := range f.Fields {
		t, err := time.Parse(time.RFC3339Nano, c.Text)
		if c.Type != "datetime" || err != nil || t.Before(f.Time.Add(-margin)) || t.After(f.Time.Add(margin)) {
			continue
		}
		if t.Before(first) {
			first = t
		}
		if t.After(last) {
			last = t
		}
	}
	return first, last
}

// kqlIdent is a column name KQL reads as it is.
var kqlIdent = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// kqlEquals writes `col == "value"` in KQL: col bracketed (["..."]) unless it is a plain
// identifier, value a double-quoted string literal with the escapes the Kusto documentation
// gives (\\ \" \n \r \t). It reports false, and writes nothing, for an empty value or one
// holding other control characters or invalid UTF-8, which no documented literal can hold.
func kqlEquals(col, value string) (string, bool) {
	v, ok := kqlString(value)
	if col == "" || value == "" || !ok {
		return "", false
	}
	if !kqlIdent.MatchString(col) {
		if col, ok = kqlString(col); !ok {
			return "", false
		}
		col = "[" + col + "]"
	}
	return col + " == " + v, true
}

// kqlString writes s as a double-quoted KQL string literal.
func kqlString(s string) (string, bool) {
	if !utf8.ValidString(s) {
		return "", false
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '\\', '"':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if unicode.IsControl(r) {
				return "", false
			}
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String(), true
}

// linkQuery shortens a query for a link, which chat messages bound: it drops blank lines, lines
// holding only a comment, and the blanks that indent or end a line. A query with a multi-line
// string literal (```) is left as it is, since its lines may be data; elsewhere a line break
// never falls inside a string, so no data changes.
func linkQuery(q string) string {
	if strings.Contains(q, "```") {
		return q
	}
	var keep []string
	for _, line := range strings.Split(q, "\n") {
		if t := strings.TrimSpace(line); t != "" && !strings.HasPrefix(t, "//") {
			keep = append(keep, t)
		}
	}
	return strings.Join(keep, "\n")
}
