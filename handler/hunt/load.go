package hunt

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// loader reads one YAML document into a Hunt field by field, so that a bad field is a warning
// or an error about that field and the others still load. Errors are collected, not returned at
// the first, so that one read of a file lists all that is wrong with it.
type loader struct {
	src      string
	h        *Hunt
	errs     []error
	warnings []warning
}

// warning is one of Hunt.Warnings and the line it is about (0: the whole file).
type warning struct {
	line int
	text string
}

// The fields Parse reads, by their canonical spelling; keys are matched case-insensitively.
var (
	topFields = fieldSet{
		read: []string{"id", "name", "description", "severity", "query", "tactics", "relevantTechniques",
			"entityMappings", "fingerprint", "occurrence", "kind", "queryFrequency", "queryPeriod",
			"triggerOperator", "triggerThreshold", "eventGroupingSettings", "suppressionEnabled",
			"suppressionDuration", "status", "enabled", "customDetails", "alertDetailsOverride", "huntwatch"},
		// Sentinel fields huntwatch has no use for, named so that none is taken for a misspelling.
		known: []string{"requiredDataConnectors", "version", "tags", "metadata", "incidentConfiguration",
			"description_detailed", "description-detailed", "subTechniques", "sentinelEntitiesMappings",
			"alertRuleTemplateName", "templateVersion", "lastUpdatedDateUTC", "createdDateUTC",
			"author", "support", "source", "categories", "threatAnalysisTactics", "threatAnalysisTechniques",
			"queryDefinitions", "dataTypes", "connectorId", "severityLevel"},
		// Fields that other formats name so, and what Parse reads instead.
		hints: map[string]string{"techniques": "relevantTechniques", "displayname": "name",
			"frequency": "queryFrequency or huntwatch.frequency", "period": "queryPeriod or huntwatch.lookback",
			"lookback": "huntwatch.lookback", "channel": "huntwatch.channel", "entities": "entityMappings"},
	}
	huntwatchFields = fieldSet{
		read:  []string{"frequency", "lookback", "channel", "fingerprint", "occurrence", "reference"},
		known: []string{"derivedFrom", "window", "note"},
		hints: map[string]string{"queryfrequency": "frequency", "queryperiod": "lookback", "period": "lookback"},
	}
	entityFields    = fieldSet{read: []string{"entityType", "fieldMappings"}}
	fieldMapFields  = fieldSet{read: []string{"identifier", "columnName"}}
	groupingFields  = fieldSet{read: []string{"aggregationKind"}}
	overrideFields  = fieldSet{read: []string{"alertDisplayNameFormat", "alertDescriptionFormat", "alertSeverityColumnName", "alertTacticsColumnName"}, known: []string{"alertDynamicProperties"}}
	scheduleFields  = []string{"queryFrequency", "queryPeriod", "triggerOperator", "triggerThreshold"}
	allowedStatuses = map[string]bool{"available": true, "preview": true, "production": true, "enabled": true}
	offStatuses     = map[string]bool{"disabled": true, "deprecated": true}
)

// fieldSet is what a mapping may hold: fields read, fields known and ignored, and hints for
// fields other formats spell differently (lower-cased key → what to write).
type fieldSet struct {
	read, known []string
	hints       map[string]string
}

// yfield is a value of a mapping and where it is.
type yfield struct {
	key  string // as written
	val  *yaml.Node
	path string // "entityMappings[0].fieldMappings[1].columnName"
}

func (l *loader) warn(n *yaml.Node, path, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	l.warnAt(line, path, format, args...)
}

func (l *loader) warnAt(line int, path, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if line > 0 {
		l.warnings = append(l.warnings, warning{line, fmt.Sprintf("%s:%d: %s: %s", l.src, line, path, msg)})
		return
	}
	l.warnings = append(l.warnings, warning{1 << 30, fmt.Sprintf("%s: %s: %s", l.src, path, msg)})
}

// done sets the hunt's warnings, in the file's order.
func (l *loader) done() {
	sort.SliceStable(l.warnings, func(i, j int) bool { return l.warnings[i].line < l.warnings[j].line })
	for _, w := range l.warnings {
		l.h.Warnings = append(l.h.Warnings, w.text)
	}
}

func (l *loader) fail(n *yaml.Node, path, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if n != nil && n.Line > 0 {
		l.errs = append(l.errs, fmt.Errorf("hunt %s:%d: %s: %s", l.src, n.Line, path, msg))
		return
	}
	l.errs = append(l.errs, fmt.Errorf("hunt %s: %s: %s", l.src, path, msg))
}

// mapping returns the fields of n that set reads, by canonical name, warning about keys in the
// wrong case, keys given twice and keys that look like a misspelt field. A null value is absent.
func (l *loader) mapping(n *yaml.Node, prefix string, set fieldSet) map[string]yfield {
	out, _ := l.fields(n, prefix, set, true)
	return out
}

// fields is mapping, also returning the keys that look like misspellings of a field (field →
// key as written); warnNear false leaves warning about them to the caller.
func (l *loader) fields(n *yaml.Node, prefix string, set fieldSet, warnNear bool) (map[string]yfield, map[string]string) {
	out := map[string]yfield{}
	misspelt := map[string]string{}
	if n == nil || n.Kind != yaml.MappingNode {
		return out, misspelt
	}
	join := func(k string) string {
		if prefix == "" {
			return k
		}
		return prefix + "." + k
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		key := strings.TrimSpace(k.Value)
		canon, exact := lookupField(key, set.read)
		switch {
		case canon != "":
			if !exact || key != k.Value {
				l.warn(k, join(canon), "key %q read as %q", k.Value, canon)
			}
			if prev, ok := out[canon]; ok {
				l.warn(k, join(canon), "given twice (line %d and here); the last is used", prev.val.Line)
			}
			if isNull(v) {
				delete(out, canon)
				continue
			}
			out[canon] = yfield{key: k.Value, val: v, path: join(canon)}
		case lookupKnown(key, set.known):
		case set.hints[strings.ToLower(key)] != "":
			l.warn(k, join(key), "not a field huntwatch reads, ignored: write %s", set.hints[strings.ToLower(key)])
		default:
			if near := nearest(key, set.read); near != "" {
				misspelt[near] = k.Value
				if warnNear {
					l.warn(k, join(key), "unknown key ignored: did you mean %q?", near)
				}
			}
		}
	}
	return out, misspelt
}

// lookupField finds key among names, exactly or ignoring case.
func lookupField(key string, names []string) (canon string, exact bool) {
	for _, n := range names {
		if n == key {
			return n, true
		}
	}
	for _, n := range names {
		if strings.EqualFold(n, key) {
			return n, false
		}
	}
	return "", false
}

func lookupKnown(key string, names []string) bool {
	c, _ := lookupField(key, names)
	return c != ""
}

// nearest returns the name key looks like a misspelling of: within one edit for short names,
// two for longer ones; "" when none is that close.
func nearest(key string, names []string) string {
	best, bestD := "", 3
	for _, n := range names {
		limit := 2
		if len(n) <= 5 {
			limit = 1
		}
		if d := editDistance(strings.ToLower(key), strings.ToLower(n)); d <= limit && d < bestD {
			best, bestD = n, d
		}
	}
	return best
}

// editDistance is the optimal string alignment distance: insertions, deletions, substitutions
// and transpositions of adjacent characters.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}

func isNull(n *yaml.Node) bool {
	return n == nil || n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

func nodeKind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	case yaml.ScalarNode:
		return fmt.Sprintf("the text %q", short(n.Value))
	}
	return "not a mapping"
}

func short(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) > 60 {
		return string([]rune(s)[:57]) + "..."
	}
	return s
}

// text returns a scalar field's text, trimmed; a field that is not a scalar is a warning and "".
func (l *loader) text(f yfield) string {
	if f.val == nil {
		return ""
	}
	if f.val.Kind != yaml.ScalarNode {
		l.warn(f.val, f.path, "is %s, not a value; ignored", nodeKind(f.val))
		return ""
	}
	return strings.TrimSpace(f.val.Value)
}

// word returns a field that holds one word (a kind, a status, an operator, a duration): the
// text, with the spaces a quoted value keeps around it and a comment written without a space
// before its # taken off, each a warning.
func (l *loader) word(f yfield) string {
	if f.val == nil {
		return ""
	}
	raw := f.val.Value
	v := l.text(f)
	if v != raw && f.val.Kind == yaml.ScalarNode {
		l.warn(f.val, f.path, "%q has spaces around it; read as %q", raw, v)
	}
	if i := strings.Index(v, "#"); i > 0 {
		l.warn(f.val, f.path, "%q: a comment needs a space before its #; read as %q", v, strings.TrimSpace(v[:i]))
		v = strings.TrimSpace(v[:i])
	}
	return v
}

// list reads a list of text values; a single value is taken as a list of one.
func (l *loader) list(f yfield) []string {
	if f.val == nil {
		return nil
	}
	switch f.val.Kind {
	case yaml.ScalarNode:
		if v := strings.TrimSpace(f.val.Value); v != "" {
			l.warn(f.val, f.path, "is one value, not a list; read as a list of one")
			return []string{v}
		}
		return nil
	case yaml.SequenceNode:
		var out []string
		for i, e := range f.val.Content {
			if e.Kind != yaml.ScalarNode {
				l.warn(e, fmt.Sprintf("%s[%d]", f.path, i), "is %s, not a value; left out", nodeKind(e))
				continue
			}
			if v := strings.TrimSpace(e.Value); v != "" {
				out = append(out, v)
			}
		}
		return out
	}
	l.warn(f.val, f.path, "is %s, not a list; ignored", nodeKind(f.val))
	return nil
}

// duration reads a duration field; a value that is not one is an error.
func (l *loader) duration(f yfield) (time.Duration, bool) {
	v := l.word(f)
	if v == "" {
		return 0, false
	}
	d, err := ParseDuration(v)
	if err != nil {
		l.fail(f.val, f.path, "%v", err)
		return 0, false
	}
	return d, true
}

// boolean reads true/false (and YAML 1.1's yes/no, on/off); anything else is an error.
func (l *loader) boolean(f yfield) (bool, bool) {
	v := strings.ToLower(l.word(f))
	switch v {
	case "":
		return false, false
	case "true", "yes", "on":
		return true, true
	case "false", "no", "off":
		return false, true
	}
	l.fail(f.val, f.path, "%q is not true or false", f.val.Value)
	return false, false
}

// load reads the document's fields into l.h.
func (l *loader) load(data []byte, root *yaml.Node) {
	h := l.h
	f := l.mapping(root, "", topFields)

	h.ID = l.text(f["id"])
	h.Name = l.text(f["name"])
	h.Description = f["description"].scalar()
	l.query(data, f["query"])
	var missing []string
	for _, m := range []struct{ name, v string }{{"id", h.ID}, {"name", h.Name}, {"query", strings.TrimSpace(h.Query)}} {
		if m.v == "" {
			missing = append(missing, m.name)
		}
	}
	if len(missing) > 0 {
		l.errs = append([]error{fmt.Errorf("hunt %s: not a hunting query: missing %s", l.src, strings.Join(missing, ", "))}, l.errs...)
		return
	}

	l.kind(f)
	l.severity(f["severity"])
	h.Tactics = l.list(f["tactics"])
	h.Techniques = l.list(f["relevantTechniques"])
	l.entities(f["entityMappings"])
	hw := l.mapping(f["huntwatch"].val, "huntwatch", huntwatchFields)
	if v := f["huntwatch"].val; v != nil && v.Kind != yaml.MappingNode {
		l.warn(v, "huntwatch", "is %s, not a mapping of huntwatch fields; ignored", nodeKind(v))
	}
	l.identity(f, hw)
	l.schedule(f, hw)
	l.trigger(f)
	l.grouping(f["eventGroupingSettings"])
	l.suppression(f)
	l.status(f)
	l.details(f["customDetails"])
	l.override(f["alertDetailsOverride"])
	h.Channel = l.text(hw["channel"])
	if strings.ContainsAny(h.Channel, " \t") {
		l.warn(hw["channel"].val, "huntwatch.channel", "%q has a space; Slack channel names have none", h.Channel)
	}
	h.Reference = l.text(hw["reference"])
	if name, ok := strings.CutPrefix(l.src, "bundled:"); ok && h.Reference == "" {
		h.Reference = references[name]
	}
}

// scalar returns a field's text as written (descriptions keep their lines).
func (f yfield) scalar() string {
	if f.val == nil || f.val.Kind != yaml.ScalarNode {
		return ""
	}
	return f.val.Value
}

// query reads the query: fence stripped, placed in the file, placeholders replaced.
func (l *loader) query(data []byte, f yfield) {
	h := l.h
	if f.val == nil {
		return
	}
	if f.val.Kind != yaml.ScalarNode {
		l.fail(f.val, "query", "is %s, not the text of a query", nodeKind(f.val))
		return
	}
	raw := f.val.Value
	q, start := stripFence(raw)
	h.Query = q
	h.placeQuery(data, f.val, raw, start)
	h.Query, h.edits = replacePlaceholders(h.Query)
	for i, line := range strings.Split(h.Query, "\n") {
		for _, m := range placeholderRE.FindAllString(line, -1) {
			at := f.val.Line
			if h.QueryLine > 0 {
				at = h.QueryLine + i
			}
			l.warnAt(at, "query", "placeholder %s is not replaced (huntwatch replaces '{{StartTimeISO}}' and '{{EndTimeISO}}' written as quoted strings)", m)
		}
	}
}

// kind sets Kind: the YAML's kind, in any case; without one, a file with a schedule is a
// scheduled rule and any other a hunting query.
func (l *loader) kind(f map[string]yfield) {
	h := l.h
	k := l.word(f["kind"])
	switch strings.ToLower(k) {
	case "":
		h.Kind = KindHunting
		for _, name := range scheduleFields {
			if g, ok := f[name]; ok {
				h.Kind = KindScheduled
				l.warn(g.val, "kind", "no kind; read as Scheduled, since it has %s", name)
				break
			}
		}
		return
	case "scheduled":
		h.Kind = KindScheduled
	case "nrt":
		h.Kind = KindNRT
	case "hunting", "huntingquery":
		h.Kind = KindHunting
	default:
		l.fail(f["kind"].val, "kind", "%q: huntwatch runs hunting queries (no kind), Scheduled and NRT rules", k)
		return
	}
	if k != h.Kind && h.Kind != KindHunting {
		l.warn(f["kind"].val, "kind", "%q read as %q", k, h.Kind)
	}
}

func (l *loader) severity(f yfield) {
	v := l.word(f)
	if v == "" {
		if l.h.Kind != KindHunting {
			l.warn(nil, "severity", "none given (Sentinel requires it for %s rules); messages go to the default channel", l.h.Kind)
		}
		return
	}
	s, ok := severities[strings.ToLower(v)]
	switch {
	case !ok:
		l.warn(f.val, "severity", "%q is not one of Informational, Low, Medium, High; ignored", v)
	case s != v:
		l.warn(f.val, "severity", "%q read as %q", v, s)
	}
	l.h.Severity = s
}

// entities reads entityMappings; a mapping that cannot be used is left out with a warning.
func (l *loader) entities(f yfield) {
	if f.val == nil {
		return
	}
	if f.val.Kind != yaml.SequenceNode {
		l.warn(f.val, "entityMappings", "is %s, not a list of mappings; ignored", nodeKind(f.val))
		return
	}
	for i, e := range f.val.Content {
		path := fmt.Sprintf("entityMappings[%d]", i)
		if e.Kind != yaml.MappingNode {
			l.warn(e, path, "is %s, not a mapping (a missing colon?); left out", nodeKind(e))
			continue
		}
		ef := l.mapping(e, path, entityFields)
		typ := l.word(ef["entityType"])
		if typ == "" {
			l.warn(e, path, "has no entityType; left out")
			continue
		}
		if canon, ok := entityTypes[strings.ToLower(typ)]; !ok {
			l.warn(ef["entityType"].val, path+".entityType", "%q is not a Sentinel entity type", typ)
		} else if canon != typ {
			l.warn(ef["entityType"].val, path+".entityType", "%q read as %q", typ, canon)
			typ = canon
		}
		m := EntityMapping{EntityType: typ}
		fm := ef["fieldMappings"].val
		if fm == nil || fm.Kind != yaml.SequenceNode {
			l.warn(e, path, "has no list of fieldMappings; left out")
			continue
		}
		var dropped []string
		for j, x := range fm.Content {
			fpath := fmt.Sprintf("%s.fieldMappings[%d]", path, j)
			if x.Kind != yaml.MappingNode {
				dropped = append(dropped, fmt.Sprintf("fieldMappings[%d] is %s, not a mapping (a missing colon?)", j, nodeKind(x)))
				continue
			}
			xf, misspelt := l.fields(x, fpath, fieldMapFields, false)
			id, col := l.text(xf["identifier"]), l.text(xf["columnName"])
			var lack []string
			for _, need := range []struct{ name, v string }{{"identifier", id}, {"columnName", col}} {
				switch {
				case need.v != "":
				case misspelt[need.name] != "":
					lack = append(lack, fmt.Sprintf("%s, only %q", need.name, misspelt[need.name]))
				default:
					lack = append(lack, need.name)
				}
			}
			if len(lack) > 0 {
				dropped = append(dropped, fmt.Sprintf("fieldMappings[%d] (line %d) has no %s", j, x.Line, strings.Join(lack, " and no ")))
				continue
			}
			m.FieldMappings = append(m.FieldMappings, FieldMapping{Identifier: id, ColumnName: col})
		}
		if len(m.FieldMappings) == 0 {
			why := "it has no field mappings"
			if len(dropped) > 0 {
				why = strings.Join(dropped, "; ")
			}
			l.warn(e, path, "%s entity left out: %s", typ, why)
			continue
		}
		for _, d := range dropped {
			l.warn(e, path, "%s entity: %s; that field mapping is left out", typ, d)
		}
		l.h.Entities = append(l.h.Entities, m)
	}
}

// identity reads the fingerprint and occurrence columns, top level or under huntwatch.
func (l *loader) identity(top, hw map[string]yfield) {
	pick := func(name string) string {
		t, w := l.text(top[name]), l.text(hw[name])
		if t != "" && w != "" && t != w {
			l.warn(hw[name].val, "huntwatch."+name, "%q differs from the top-level %s %q; huntwatch's is used", w, name, t)
		}
		if w != "" {
			return w
		}
		return t
	}
	l.h.Fingerprint = pick("fingerprint")
	l.h.Occurrence = pick("occurrence")
}

// schedule sets Frequency and Period, and warns where Sentinel would refuse them.
func (l *loader) schedule(f, hw map[string]yfield) {
	h := l.h
	type setting struct {
		d     time.Duration
		field string // where d came from; "" when not given
		node  *yaml.Node
	}
	var freq, period setting
	read := func(s *setting, g yfield, name string) {
		if d, ok := l.duration(g); ok {
			if d == 0 {
				l.fail(g.val, name, "must be longer than 0")
				return
			}
			*s = setting{d, name, g.val}
		}
	}
	if h.Kind == KindScheduled {
		read(&freq, f["queryFrequency"], "queryFrequency")
		read(&period, f["queryPeriod"], "queryPeriod")
	} else {
		for name, over := range map[string]string{"queryFrequency": "frequency", "queryPeriod": "lookback"} {
			if g, ok := f[name]; ok {
				l.warn(g.val, name, "%s rules have no %s; ignored (huntwatch.%s sets it)", h.Kind, name, over)
			}
		}
	}
	if g, ok := hw["frequency"]; ok && h.Kind == KindNRT {
		l.warn(g.val, "huntwatch.frequency", "NRT rules run on every tick; ignored")
	} else {
		read(&freq, hw["frequency"], "huntwatch.frequency")
	}
	read(&period, hw["lookback"], "huntwatch.lookback")
	if h.Kind == KindScheduled {
		if _, given := f["queryFrequency"]; !given && freq.field == "" {
			l.warn(nil, "queryFrequency", "none given (Sentinel requires it); runs hourly")
		}
		if _, given := f["queryPeriod"]; !given && period.field == "" {
			l.warn(nil, "queryPeriod", "none given (Sentinel requires it); looks back HUNT_LOOKBACK")
		}
	}
	h.Frequency, h.Period = freq.d, period.d

	for _, c := range []struct {
		setting
		least, most time.Duration
	}{{freq, minFrequency, maxFrequency}, {period, minPeriod, maxPeriod}} {
		switch {
		case c.field == "":
		case c.d < c.least:
			l.warn(c.node, c.field, "%s is under Sentinel's minimum of %s", FormatDuration(c.d), FormatDuration(c.least))
		case c.d > c.most:
			l.warn(c.node, c.field, "%s is over Sentinel's maximum of %s", FormatDuration(c.d), FormatDuration(c.most))
		}
	}
	if freq.field == "" || period.field == "" {
		return
	}
	if freq.d > period.d {
		l.warn(freq.node, freq.field, "%s is longer than %s %s: Sentinel requires the period to cover the frequency", FormatDuration(freq.d), period.field, FormatDuration(period.d))
	}
	if period.d >= longPeriod && freq.d < longPeriodFrequency {
		l.warn(freq.node, freq.field, "%s with %s %s: Sentinel requires at least %s when the period is %s or more", FormatDuration(freq.d), period.field, FormatDuration(period.d), FormatDuration(longPeriodFrequency), FormatDuration(longPeriod))
	}
}

// trigger reads triggerOperator and triggerThreshold.
func (l *loader) trigger(f map[string]yfield) {
	h := l.h
	opF, thF := f["triggerOperator"], f["triggerThreshold"]
	if opF.val == nil && thF.val == nil {
		if h.Kind == KindScheduled {
			l.warn(nil, "triggerOperator", "none given (Sentinel requires triggerOperator and triggerThreshold); alerts on any row")
		}
		return
	}
	t := Trigger{Operator: "gt"}
	if v := l.word(opF); v != "" {
		op, ok := triggerOperators[strings.ToLower(v)]
		if !ok {
			l.fail(opF.val, "triggerOperator", "%q is not an operator (gt, ge, lt, le, eq, ne, or GreaterThan, LessThan, Equal, NotEqual)", v)
			return
		}
		t.Operator = op
	} else {
		l.warn(thF.val, "triggerOperator", "none given with triggerThreshold; read as gt")
	}
	if v := l.word(thF); v != "" {
		n, err := strconv.Atoi(v)
		switch {
		case err != nil:
			l.fail(thF.val, "triggerThreshold", "%q is not a whole number", v)
			return
		case n < 0:
			l.fail(thF.val, "triggerThreshold", "%d is negative", n)
			return
		case n > maxTriggerThreshold:
			l.warn(thF.val, "triggerThreshold", "%d is over Sentinel's maximum of %d", n, maxTriggerThreshold)
		}
		t.Threshold = n
	} else {
		l.warn(opF.val, "triggerThreshold", "none given with triggerOperator; read as 0")
	}
	switch {
	case t.Operator == "lt" && t.Threshold == 0:
		l.warn(opF.val, "triggerOperator", "%s never fires", t)
	case t.Fires(0):
		l.warn(opF.val, "triggerOperator", "%s also fires when the query returns no rows", t)
	}
	h.Trigger = t
}

func (l *loader) grouping(f yfield) {
	l.h.Grouping = GroupPerResult
	if f.val == nil {
		return
	}
	if f.val.Kind != yaml.MappingNode {
		l.warn(f.val, "eventGroupingSettings", "is %s, not a mapping; ignored", nodeKind(f.val))
		return
	}
	g := l.mapping(f.val, "eventGroupingSettings", groupingFields)
	v := l.word(g["aggregationKind"])
	switch {
	case v == "":
	case strings.EqualFold(v, GroupPerResult):
		l.h.Grouping = GroupPerResult
	case strings.EqualFold(v, GroupSingle):
		l.h.Grouping = GroupSingle
	default:
		l.fail(g["aggregationKind"].val, "eventGroupingSettings.aggregationKind", "%q is not AlertPerResult or SingleAlert", v)
		return
	}
	if v != "" && v != l.h.Grouping {
		l.warn(g["aggregationKind"].val, "eventGroupingSettings.aggregationKind", "%q read as %q", v, l.h.Grouping)
	}
}

func (l *loader) suppression(f map[string]yfield) {
	on, given := l.boolean(f["suppressionEnabled"])
	d, hasD := l.duration(f["suppressionDuration"])
	switch {
	case on && !hasD:
		l.warn(f["suppressionEnabled"].val, "suppressionDuration", "none given with suppressionEnabled; read as Sentinel's default, %s", FormatDuration(defaultSuppression))
		d = defaultSuppression
	case !on && hasD && !given:
		l.warn(f["suppressionDuration"].val, "suppressionEnabled", "not given: suppressionDuration %s is not applied", FormatDuration(d))
	}
	if !on {
		return
	}
	if d > maxSuppression {
		l.warn(f["suppressionDuration"].val, "suppressionDuration", "%s is over Sentinel's maximum of %s", FormatDuration(d), FormatDuration(maxSuppression))
	}
	if d == 0 {
		l.fail(f["suppressionDuration"].val, "suppressionDuration", "must be longer than 0 when suppressionEnabled is true")
	}
	l.h.Suppression = d
}

func (l *loader) status(f map[string]yfield) {
	if on, given := l.boolean(f["enabled"]); given && !on {
		l.h.Disabled = true
	}
	s := l.word(f["status"])
	switch ls := strings.ToLower(s); {
	case s == "", allowedStatuses[ls]:
	case offStatuses[ls]:
		l.h.Disabled = true
		l.warn(f["status"].val, "status", "%q: loaded and listed, not run", s)
	default:
		l.warn(f["status"].val, "status", "%q is not a status huntwatch knows (Available, Disabled, Deprecated); the hunt runs", s)
	}
}

// details reads customDetails, in file order.
func (l *loader) details(f yfield) {
	if f.val == nil {
		return
	}
	if f.val.Kind != yaml.MappingNode {
		l.warn(f.val, "customDetails", "is %s, not a mapping of detail to column; ignored", nodeKind(f.val))
		return
	}
	n := f.val.Content
	for i := 0; i+1 < len(n); i += 2 {
		key, col := strings.TrimSpace(n[i].Value), n[i+1]
		path := "customDetails." + key
		if col.Kind != yaml.ScalarNode || strings.TrimSpace(col.Value) == "" || isNull(col) {
			l.warn(n[i], path, "names no column; left out")
			continue
		}
		c := strings.TrimSpace(col.Value)
		if !customDetailKeyRE.MatchString(key) || len(key) > maxCustomDetailKey {
			l.warn(n[i], path, "Sentinel wants a key of letters, digits and _ that starts with a letter, at most %d characters", maxCustomDetailKey)
		}
		if !customDetailColumnRE.MatchString(c) {
			l.warn(col, path, "%q is not a plain column name", c)
		}
		l.h.Details = append(l.h.Details, Detail{Name: key, Column: c})
	}
	if len(l.h.Details) > maxCustomDetails {
		l.warn(f.val, "customDetails", "%d details; Sentinel allows %d", len(l.h.Details), maxCustomDetails)
	}
}

func (l *loader) override(f yfield) {
	if f.val == nil {
		return
	}
	if f.val.Kind != yaml.MappingNode {
		l.warn(f.val, "alertDetailsOverride", "is %s, not a mapping; ignored", nodeKind(f.val))
		return
	}
	o := l.mapping(f.val, "alertDetailsOverride", overrideFields)
	l.h.Override = AlertOverride{
		TitleFormat:       strings.TrimSpace(o["alertDisplayNameFormat"].scalar()),
		DescriptionFormat: strings.TrimSpace(o["alertDescriptionFormat"].scalar()),
		SeverityColumn:    l.text(o["alertSeverityColumnName"]),
		TacticsColumn:     l.text(o["alertTacticsColumnName"]),
	}
	for _, name := range []string{"alertDisplayNameFormat", "alertDescriptionFormat"} {
		if n := len(placeholderRE.FindAllString(o[name].scalar(), -1)); n > maxPlaceholders {
			l.warn(o[name].val, "alertDetailsOverride."+name, "%d placeholders; Sentinel allows %d", n, maxPlaceholders)
		}
	}
}

// queryEdit is a placeholder replaced in a query: on line Line, the replacement starts at
// character column Col (1-based) and is New characters long; the placeholder was Old.
type queryEdit struct{ Line, Col, Old, New int }

// windowPlaceholderRE matches the Sentinel hunting page's time-range placeholders written as a
// KQL string literal, as hunting queries write them: todatetime('{{StartTimeISO}}').
var windowPlaceholderRE = regexp.MustCompile(`@?(['"])\{\{\s*(StartTimeISO|EndTimeISO)\s*\}\}(['"])`)

// replacePlaceholders replaces '{{StartTimeISO}}' and '{{EndTimeISO}}' with HuntStart and
// HuntEnd, and says where, line by line.
func replacePlaceholders(q string) (string, []queryEdit) {
	if !strings.Contains(q, "{{") {
		return q, nil
	}
	lines := strings.Split(q, "\n")
	var edits []queryEdit
	for i, line := range lines {
		var b strings.Builder
		last := 0
		for _, m := range windowPlaceholderRE.FindAllStringSubmatchIndex(line, -1) {
			if line[m[2]:m[3]] != line[m[6]:m[7]] {
				continue // mismatched quotes: not a string literal
			}
			repl := map[string]string{"StartTimeISO": "HuntStart", "EndTimeISO": "HuntEnd"}[line[m[4]:m[5]]]
			b.WriteString(line[last:m[0]])
			col := utf8.RuneCountInString(b.String()) + 1
			b.WriteString(repl)
			edits = append(edits, queryEdit{Line: i + 1, Col: col, Old: utf8.RuneCountInString(line[m[0]:m[1]]), New: len(repl)})
			last = m[1]
		}
		if last > 0 {
			b.WriteString(line[last:])
			lines[i] = b.String()
		}
	}
	return strings.Join(lines, "\n"), edits
}

// unedit maps a column of Query's line to the column in the text before placeholders were
// replaced; a column inside a replacement maps to the placeholder's start.
func (h *Hunt) unedit(line, col int) int {
	shift := 0
	for _, e := range h.edits {
		if e.Line != line || col < e.Col {
			continue
		}
		if col < e.Col+e.New {
			return e.Col + shift
		}
		shift += e.Old - e.New
	}
	return col + shift
}
