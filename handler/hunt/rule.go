package hunt

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Kinds of hunt: what the YAML's `kind` says, normalised.
const (
	// KindHunting is a Sentinel hunting query (no `kind` in its YAML): huntwatch runs it hourly
	// over HUNT_LOOKBACK unless its huntwatch fields say otherwise.
	KindHunting = "hunting"
	// KindScheduled is a scheduled analytics rule: queryFrequency, queryPeriod, trigger, grouping.
	KindScheduled = "Scheduled"
	// KindNRT is a near-real-time rule: it runs on every tick over the time since its last run.
	KindNRT = "NRT"
)

// Event grouping (eventGroupingSettings.aggregationKind).
const (
	// GroupPerResult makes one finding per result row (Sentinel's default).
	GroupPerResult = "AlertPerResult"
	// GroupSingle makes one finding per run that lists the rows.
	GroupSingle = "SingleAlert"
)

// Sentinel's documented limits for scheduled rules; past them loading warns, it does not refuse.
const (
	minFrequency        = 5 * time.Minute
	maxFrequency        = 14 * 24 * time.Hour
	minPeriod           = 5 * time.Minute
	maxPeriod           = 14 * 24 * time.Hour
	longPeriod          = 2 * 24 * time.Hour // from here on, queryFrequency must be at least an hour
	longPeriodFrequency = time.Hour
	maxTriggerThreshold = 10000
	maxSuppression      = 24 * time.Hour
	defaultSuppression  = 5 * time.Hour // Sentinel's default when suppressionEnabled names none
	maxCustomDetails    = 20
	maxCustomDetailKey  = 20
	maxPlaceholders     = 3
)

// Trigger is when a scheduled rule's result raises an alert: Sentinel's triggerOperator and
// triggerThreshold. The zero value fires on any row (rows > 0), as hunting queries do.
type Trigger struct {
	// Operator is gt, ge, lt, le, eq or ne (Sentinel writes GreaterThan, LessThan, Equal,
	// NotEqual or gt, lt, eq, ne; ge and le are huntwatch's). "" is the zero value.
	Operator  string
	Threshold int
}

// Fires reports whether a result of rows rows raises an alert.
func (t Trigger) Fires(rows int) bool {
	switch t.Operator {
	case "gt":
		return rows > t.Threshold
	case "ge":
		return rows >= t.Threshold
	case "lt":
		return rows < t.Threshold
	case "le":
		return rows <= t.Threshold
	case "eq":
		return rows == t.Threshold
	case "ne":
		return rows != t.Threshold
	}
	return rows > 0
}

// String is the trigger as people read it: "rows > 0".
func (t Trigger) String() string {
	op, ok := triggerSymbols[t.Operator]
	if !ok {
		return "rows > 0"
	}
	return fmt.Sprintf("rows %s %d", op, t.Threshold)
}

var triggerSymbols = map[string]string{"gt": ">", "ge": ">=", "lt": "<", "le": "<=", "eq": "==", "ne": "!="}

// triggerOperators maps what the YAML may say (lower-cased) to the normalised operator.
var triggerOperators = map[string]string{
	"gt": "gt", "greaterthan": "gt", ">": "gt",
	"ge": "ge", "greaterthanorequal": "ge", ">=": "ge",
	"lt": "lt", "lessthan": "lt", "<": "lt",
	"le": "le", "lessthanorequal": "le", "<=": "le",
	"eq": "eq", "equal": "eq", "equals": "eq", "==": "eq",
	"ne": "ne", "notequal": "ne", "!=": "ne",
}

// Detail is one custom detail (customDetails): a field shown with the finding, taken from a
// result column.
type Detail struct {
	Name   string // the detail's key, as the message shows it
	Column string // the result column it takes its value from
}

// AlertOverride is Sentinel's alertDetailsOverride: a title and text built from the row with
// {{Column}} placeholders, and columns that give the severity or tactics of each finding.
type AlertOverride struct {
	TitleFormat       string // alertDisplayNameFormat
	DescriptionFormat string // alertDescriptionFormat
	SeverityColumn    string // alertSeverityColumnName
	TacticsColumn     string // alertTacticsColumnName
}

// Placeholders returns the columns that format's {{Column}} placeholders name, in order, without
// repeats.
func Placeholders(format string) []string {
	var cols []string
	seen := map[string]bool{}
	for _, m := range placeholderRE.FindAllStringSubmatch(format, -1) {
		if !seen[m[1]] {
			seen[m[1]] = true
			cols = append(cols, m[1])
		}
	}
	return cols
}

var placeholderRE = regexp.MustCompile(`\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}`)

// ColumnUse is a result column that a hunt's YAML names, and the field that names it.
type ColumnUse struct {
	Column string
	Field  string // e.g. "entityMappings[0].fieldMappings[1]", "customDetails.Country"
}

// Columns returns every result column the hunt's fields name: entity mappings, the fingerprint
// and occurrence columns, custom details and the alert override (placeholders and columns).
// `validate` checks them against the query's result columns.
func (h *Hunt) Columns() []ColumnUse {
	var uses []ColumnUse
	for i, e := range h.Entities {
		for j, f := range e.FieldMappings {
			uses = append(uses, ColumnUse{f.ColumnName, fmt.Sprintf("entityMappings[%d].fieldMappings[%d]", i, j)})
		}
	}
	if h.Fingerprint != "" {
		uses = append(uses, ColumnUse{h.Fingerprint, "fingerprint"})
	}
	if h.Occurrence != "" {
		uses = append(uses, ColumnUse{h.Occurrence, "occurrence"})
	}
	for _, d := range h.Details {
		uses = append(uses, ColumnUse{d.Column, "customDetails." + d.Name})
	}
	for _, c := range Placeholders(h.Override.TitleFormat) {
		uses = append(uses, ColumnUse{c, "alertDetailsOverride.alertDisplayNameFormat"})
	}
	for _, c := range Placeholders(h.Override.DescriptionFormat) {
		uses = append(uses, ColumnUse{c, "alertDetailsOverride.alertDescriptionFormat"})
	}
	if c := h.Override.SeverityColumn; c != "" {
		uses = append(uses, ColumnUse{c, "alertDetailsOverride.alertSeverityColumnName"})
	}
	if c := h.Override.TacticsColumn; c != "" {
		uses = append(uses, ColumnUse{c, "alertDetailsOverride.alertTacticsColumnName"})
	}
	return uses
}

// MissingColumns returns the uses of columns (Hunt.Columns) that cols, a query's result
// columns, lacks.
func MissingColumns(h *Hunt, cols []Column) []ColumnUse {
	have := make(map[string]bool, len(cols))
	for _, c := range cols {
		have[c.Name] = true
	}
	var missing []ColumnUse
	for _, u := range h.Columns() {
		if !have[u.Column] {
			missing = append(missing, u)
		}
	}
	return missing
}

// severities are Sentinel's, by their lower-case spelling.
var severities = map[string]string{
	"informational": "Informational", "low": "Low", "medium": "Medium", "high": "High",
}

// entityTypes are Sentinel's entity types, by their lower-case spelling.
var entityTypes = func() map[string]string {
	m := map[string]string{}
	for _, t := range []string{"Account", "Host", "IP", "Malware", "File", "Process", "CloudApplication",
		"DNS", "AzureResource", "FileHash", "RegistryKey", "RegistryValue", "SecurityGroup", "URL",
		"Mailbox", "MailCluster", "MailMessage", "SubmissionMail", "IoTDevice"} {
		m[strings.ToLower(t)] = t
	}
	return m
}()

// customDetailKeyRE and customDetailColumnRE are what Sentinel's template checker accepts.
var (
	customDetailKeyRE    = regexp.MustCompile(`^[a-zA-Z]+\w*$`)
	customDetailColumnRE = regexp.MustCompile(`^[a-zA-Z_]+\w*$`)
)
