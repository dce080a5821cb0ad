package hunt_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/huntwatch/huntwatch/handler/hunt"
)

func TestTriggerFires(t *testing.T) {
	for _, test := range []struct {
		trigger hunt.Trigger
		fires   []int // row counts that fire, among 0..4
	}{
		{hunt.Trigger{}, []int{1, 2, 3, 4}},
		{hunt.Trigger{Operator: "gt", Threshold: 0}, []int{1, 2, 3, 4}},
		{hunt.Trigger{Operator: "gt", Threshold: 2}, []int{3, 4}},
		{hunt.Trigger{Operator: "ge", Threshold: 2}, []int{2, 3, 4}},
		{hunt.Trigger{Operator: "lt", Threshold: 2}, []int{0, 1}},
		{hunt.Trigger{Operator: "le", Threshold: 2}, []int{0, 1, 2}},
		{hunt.Trigger{Operator: "eq", Threshold: 2}, []int{2}},
		{hunt.Trigger{Operator: "ne", Threshold: 2}, []int{0, 1, 3, 4}},
		{hunt.Trigger{Operator: "lt", Threshold: 0}, nil},
	} {
		var got []int
		for rows := 0; rows <= 4; rows++ {
			if test.trigger.Fires(rows) {
				got = append(got, rows)
			}
		}
		if !reflect.DeepEqual(got, test.fires) {
			t.Errorf("%+v (%s) fires at %v rows, want %v", test.trigger, test.trigger, got, test.fires)
		}
	}
}

// sampleRule is a scheduled rule with every field set the canonical way; tests replace lines of it.
const sampleRule = `id: 11111111-2222-3333-4444-555555555555
name: A rule
severity: Medium
kind: Scheduled
queryFrequency: 1h
queryPeriod: 1d
triggerOperator: gt
triggerThreshold: 0
query: |
  AzureActivity
  | project TimeGenerated, Caller
entityMappings:
  - entityType: Account
    fieldMappings:
      - identifier: FullName
        columnName: Caller
`

// withLines returns sampleRule with each "key: value" text of repl replacing the line of that
// key and the indented lines under it, or added at the end when sampleRule has no such key; a
// value of "-" removes the key.
func withLines(repl ...string) string {
	lines := strings.Split(strings.TrimSuffix(sampleRule, "\n"), "\n")
	for _, r := range repl {
		key, _, _ := strings.Cut(r, ":")
		found := false
		for i, l := range lines {
			if !strings.HasPrefix(l, key+":") {
				continue
			}
			found = true
			end := i + 1
			for end < len(lines) && (strings.HasPrefix(lines[end], " ") || strings.HasPrefix(lines[end], "-")) {
				end++
			}
			var with []string
			if strings.TrimSpace(strings.TrimPrefix(r, key+":")) != "-" {
				with = []string{r}
			}
			lines = append(lines[:i], append(with, lines[end:]...)...)
			break
		}
		if !found {
			lines = append(lines, r)
		}
	}
	return strings.Join(lines, "\n") + "\n"
}

// TestParseRuleFields reads one field at a time, the canonical way and the messy ways real files
// write it, and the ways that are refused.
func TestParseRuleFields(t *testing.T) {
	const day = 24 * time.Hour
	for _, test := range []struct {
		name  string
		doc   string
		check func(h *hunt.Hunt) string // "" when the hunt is right; else what is wrong
		warn  []string                  // substrings, one per warning, in order; nil: no warning
		err   []string                  // substrings of the error; nil: it loads
	}{
		{name: "canonical scheduled rule", doc: sampleRule, check: func(h *hunt.Hunt) string {
			want := hunt.Hunt{Kind: hunt.KindScheduled, Severity: "Medium", Frequency: time.Hour, Period: day,
				Trigger: hunt.Trigger{Operator: "gt"}, Grouping: hunt.GroupPerResult}
			got := hunt.Hunt{Kind: h.Kind, Severity: h.Severity, Frequency: h.Frequency, Period: h.Period, Trigger: h.Trigger, Grouping: h.Grouping}
			return mismatch(got, want)
		}},
		// kind
		{name: "kind in lower case", doc: withLines("kind: scheduled"), check: kindIs(hunt.KindScheduled), warn: []string{`:4: kind: "scheduled" read as "Scheduled"`}},
		{name: "kind missing, with a schedule", doc: withLines("kind: -"), check: kindIs(hunt.KindScheduled), warn: []string{"kind: no kind; read as Scheduled, since it has queryFrequency"}},
		{name: "NRT", doc: withLines("kind: NRT", "queryFrequency: -", "queryPeriod: -"), check: func(h *hunt.Hunt) string {
			return mismatch([]any{h.Kind, h.Frequency, h.Period}, []any{hunt.KindNRT, time.Duration(0), time.Duration(0)})
		}},
		{name: "NRT with a schedule: ignored", doc: withLines("kind: nrt"), check: kindIs(hunt.KindNRT),
			warn: []string{`kind: "nrt" read as "NRT"`, "queryFrequency: NRT rules have no queryFrequency; ignored", "queryPeriod: NRT rules have no queryPeriod; ignored"}},
		{name: "hunting query: no kind, no schedule, no severity", doc: "id: x\nname: h\nquery: T\n", check: func(h *hunt.Hunt) string {
			return mismatch([]any{h.Kind, h.Frequency, h.Period, h.Trigger, h.Grouping}, []any{hunt.KindHunting, time.Duration(0), time.Duration(0), hunt.Trigger{}, hunt.GroupPerResult})
		}},
		{name: "kind huntwatch does not run", doc: withLines("kind: Fusion"), err: []string{":4: kind: \"Fusion\": huntwatch runs hunting queries"}},
		// durations
		{name: "ISO durations", doc: withLines("queryFrequency: PT5M", "queryPeriod: P1D"), check: func(h *hunt.Hunt) string {
			return mismatch([]any{h.Frequency, h.Period}, []any{5 * time.Minute, day})
		}},
		{name: "inline comment", doc: withLines("queryFrequency: 2h   # every two hours"), check: func(h *hunt.Hunt) string { return mismatch(h.Frequency, 2*time.Hour) }},
		{name: "comment without a space", doc: withLines("queryFrequency: 2h# every two hours"), check: func(h *hunt.Hunt) string { return mismatch(h.Frequency, 2*time.Hour) },
			warn: []string{`queryFrequency: "2h# every two hours": a comment needs a space before its #; read as "2h"`}},
		{name: "bad duration: refused, naming file, line and field", doc: withLines("queryPeriod: 1x"), err: []string{"hunt inline.yaml:6: queryPeriod:", `"1x": unknown unit`}},
		{name: "zero frequency", doc: withLines("queryFrequency: 0m"), err: []string{"queryFrequency: must be longer than 0"}},
		{name: "two bad fields: both named", doc: withLines("queryFrequency: soon", "triggerOperator: about"), err: []string{"queryFrequency:", "triggerOperator:"}},
		{name: "frequency under 5 minutes: a warning", doc: withLines("queryFrequency: 1m"), check: func(h *hunt.Hunt) string { return mismatch(h.Frequency, time.Minute) },
			warn: []string{":5: queryFrequency: 1m is under Sentinel's minimum of 5m"}},
		{name: "period over 14 days: a warning", doc: withLines("queryPeriod: 30d"), check: func(h *hunt.Hunt) string { return mismatch(h.Period, 30*day) },
			warn: []string{"queryPeriod: 30d is over Sentinel's maximum of 14d"}},
		{name: "frequency over period", doc: withLines("queryFrequency: 2d", "queryPeriod: 1d"),
			warn: []string{"queryFrequency: 2d is longer than queryPeriod 1d"}},
		{name: "long period, frequent runs", doc: withLines("queryFrequency: 30m", "queryPeriod: 2d"),
			warn: []string{"queryFrequency: 30m with queryPeriod 2d: Sentinel requires at least 1h"}},
		{name: "no schedule on a Scheduled rule", doc: withLines("queryFrequency: -", "queryPeriod: -"), check: func(h *hunt.Hunt) string {
			return mismatch([]any{h.Frequency, h.Period}, []any{time.Duration(0), time.Duration(0)})
		}, warn: []string{"queryFrequency: none given", "queryPeriod: none given"}},
		// huntwatch extensions
		{name: "huntwatch cadence and routing", doc: "id: x\nname: h\nquery: T\nhuntwatch:\n  frequency: 30m\n  lookback: PT6H\n  channel: \"#vm-abuse\"\n  fingerprint: Caller\n  occurrence: CorrelationId\n",
			check: func(h *hunt.Hunt) string {
				return mismatch([]any{h.Frequency, h.Period, h.Channel, h.Fingerprint, h.Occurrence}, []any{30 * time.Minute, 6 * time.Hour, "#vm-abuse", "Caller", "CorrelationId"})
			}},
		{name: "huntwatch cadence wins over Sentinel's", doc: withLines("huntwatch:\n  frequency: 15m\n  lookback: 2h"), check: func(h *hunt.Hunt) string {
			return mismatch([]any{h.Frequency, h.Period}, []any{15 * time.Minute, 2 * time.Hour})
		}},
		{name: "top-level fingerprint and occurrence still work", doc: "id: x\nname: h\nquery: T\nfingerprint: F\noccurrence: O\n", check: func(h *hunt.Hunt) string {
			return mismatch([]any{h.Fingerprint, h.Occurrence}, []any{"F", "O"})
		}},
		{name: "huntwatch fingerprint differing from the top level one", doc: "id: x\nname: h\nquery: T\nfingerprint: F\nhuntwatch:\n  fingerprint: G\n",
			check: func(h *hunt.Hunt) string { return mismatch(h.Fingerprint, "G") }, warn: []string{`huntwatch.fingerprint: "G" differs from the top-level fingerprint "F"`}},
		{name: "empty huntwatch fields are absent", doc: "id: x\nname: h\nquery: T\nhuntwatch:\n  fingerprint:\n  occurrence:\n", check: func(h *hunt.Hunt) string {
			return mismatch([]any{h.Fingerprint, h.Occurrence}, []any{"", ""})
		}},
		{name: "misspelt huntwatch key", doc: "id: x\nname: h\nquery: T\nhuntwatch:\n  frequncy: 1h\n", check: func(h *hunt.Hunt) string { return mismatch(h.Frequency, time.Duration(0)) },
			warn: []string{`:5: huntwatch.frequncy: unknown key ignored: did you mean "frequency"?`}},
		{name: "NRT ignores huntwatch.frequency", doc: "id: x\nname: h\nkind: NRT\nseverity: Low\nquery: T\nhuntwatch:\n  frequency: 1h\n", check: func(h *hunt.Hunt) string { return mismatch(h.Frequency, time.Duration(0)) },
			warn: []string{"huntwatch.frequency: NRT rules run on every tick; ignored"}},
		// trigger
		{name: "Sentinel's long operator names, a quoted threshold", doc: withLines("triggerOperator: GreaterThan", `triggerThreshold: "5"`),
			check: func(h *hunt.Hunt) string { return mismatch(h.Trigger, hunt.Trigger{Operator: "gt", Threshold: 5}) }},
		{name: "operators in any case", doc: withLines("triggerOperator: notequal", "triggerThreshold: 3"),
			check: func(h *hunt.Hunt) string { return mismatch(h.Trigger, hunt.Trigger{Operator: "ne", Threshold: 3}) },
			warn:  []string{"triggerOperator: rows != 3 also fires when the query returns no rows"}},
		{name: "unknown operator", doc: withLines("triggerOperator: bigger"), err: []string{":7: triggerOperator: \"bigger\" is not an operator"}},
		{name: "threshold not a number", doc: withLines("triggerThreshold: few"), err: []string{":8: triggerThreshold: \"few\" is not a whole number"}},
		{name: "negative threshold", doc: withLines("triggerThreshold: -1"), err: []string{"triggerThreshold: -1 is negative"}},
		{name: "threshold over Sentinel's maximum", doc: withLines("triggerThreshold: 20000"), warn: []string{"triggerThreshold: 20000 is over Sentinel's maximum of 10000"}},
		{name: "never fires", doc: withLines("triggerOperator: lt"), warn: []string{"triggerOperator: rows < 0 never fires"}},
		{name: "threshold without an operator", doc: withLines("triggerOperator: -", "triggerThreshold: 2"),
			check: func(h *hunt.Hunt) string { return mismatch(h.Trigger, hunt.Trigger{Operator: "gt", Threshold: 2}) },
			warn:  []string{"triggerOperator: none given with triggerThreshold; read as gt"}},
		{name: "no trigger on a scheduled rule", doc: withLines("triggerOperator: -", "triggerThreshold: -"),
			check: func(h *hunt.Hunt) string { return mismatch(h.Trigger, hunt.Trigger{}) }, warn: []string{"triggerOperator: none given"}},
		// grouping, suppression, status
		{name: "SingleAlert", doc: withLines("eventGroupingSettings:\n  aggregationKind: SingleAlert"), check: func(h *hunt.Hunt) string { return mismatch(h.Grouping, hunt.GroupSingle) }},
		{name: "grouping in the wrong case", doc: withLines("eventGroupingSettings:\n  aggregationKind: singlealert"), check: func(h *hunt.Hunt) string { return mismatch(h.Grouping, hunt.GroupSingle) },
			warn: []string{`"singlealert" read as "SingleAlert"`}},
		{name: "unknown grouping", doc: withLines("eventGroupingSettings:\n  aggregationKind: Sometimes"), err: []string{"eventGroupingSettings.aggregationKind: \"Sometimes\" is not AlertPerResult or SingleAlert"}},
		{name: "suppression", doc: withLines("suppressionEnabled: true", "suppressionDuration: PT5H"), check: func(h *hunt.Hunt) string { return mismatch(h.Suppression, 5*time.Hour) }},
		{name: "suppression disabled, duration given (as exports write it)", doc: withLines("suppressionEnabled: false", "suppressionDuration: 5h"), check: func(h *hunt.Hunt) string { return mismatch(h.Suppression, time.Duration(0)) }},
		{name: "suppression enabled without a duration", doc: withLines("suppressionEnabled: true"), check: func(h *hunt.Hunt) string { return mismatch(h.Suppression, 5*time.Hour) },
			warn: []string{"suppressionDuration: none given with suppressionEnabled; read as Sentinel's default, 5h"}},
		{name: "suppression duration without suppressionEnabled", doc: withLines("suppressionDuration: 1h"), check: func(h *hunt.Hunt) string { return mismatch(h.Suppression, time.Duration(0)) },
			warn: []string{"suppressionEnabled: not given: suppressionDuration 1h is not applied"}},
		{name: "suppression over a day", doc: withLines("suppressionEnabled: true", "suppressionDuration: 2d"), warn: []string{"suppressionDuration: 2d is over Sentinel's maximum of 1d"}},
		{name: "suppressionEnabled not a boolean", doc: withLines("suppressionEnabled: maybe"), err: []string{"suppressionEnabled: \"maybe\" is not true or false"}},
		{name: "status Available with a trailing space, quoted", doc: withLines(`status: "Available "`), check: func(h *hunt.Hunt) string { return mismatch(h.Disabled, false) },
			warn: []string{`status: "Available " has spaces around it; read as "Available"`}},
		{name: "status Available with a trailing space, plain (YAML drops it)", doc: withLines("status: Available "), check: func(h *hunt.Hunt) string { return mismatch(h.Disabled, false) }},
		{name: "enabled: false", doc: withLines("enabled: false"), check: func(h *hunt.Hunt) string { return mismatch(h.Disabled, true) }},
		{name: "status Disabled", doc: withLines("status: Disabled"), check: func(h *hunt.Hunt) string { return mismatch(h.Disabled, true) }, warn: []string{`status: "Disabled": loaded and listed, not run`}},
		{name: "unknown status: runs", doc: withLines("status: Sleeping"), check: func(h *hunt.Hunt) string { return mismatch(h.Disabled, false) }, warn: []string{`status: "Sleeping" is not a status huntwatch knows`}},
		// severity
		{name: "severity in lower case", doc: withLines("severity: high"), check: func(h *hunt.Hunt) string { return mismatch(h.Severity, "High") }, warn: []string{`severity: "high" read as "High"`}},
		{name: "unknown severity", doc: withLines("severity: Critical"), check: func(h *hunt.Hunt) string { return mismatch(h.Severity, "") }, warn: []string{`severity: "Critical" is not one of`}},
		{name: "no severity on a rule", doc: withLines("severity: -"), warn: []string{"severity: none given"}},
		// custom details and override
		{name: "custom details in file order", doc: withLines("customDetails:\n  Zeta: Caller\n  Alpha: TimeGenerated"), check: func(h *hunt.Hunt) string {
			return mismatch(h.Details, []hunt.Detail{{Name: "Zeta", Column: "Caller"}, {Name: "Alpha", Column: "TimeGenerated"}})
		}},
		{name: "custom detail key Sentinel refuses", doc: withLines("customDetails:\n  1st: Caller\n  Ok: \n  ThisKeyIsFarTooLongForSentinel: Caller"),
			check: func(h *hunt.Hunt) string { return mismatch(len(h.Details), 2) },
			warn:  []string{"customDetails.1st: Sentinel wants a key", "customDetails.Ok: names no column; left out", "customDetails.ThisKeyIsFarTooLongForSentinel: Sentinel wants a key"}},
		{name: "alert override", doc: withLines("alertDetailsOverride:\n  alertDisplayNameFormat: '{{Caller}} did it'\n  alertDescriptionFormat: |\n    {{Caller}} did it again\n  alertSeverityColumnName: Sev\n  alertTacticsColumnName: null\n  alertDynamicProperties: []"),
			check: func(h *hunt.Hunt) string {
				return mismatch(h.Override, hunt.AlertOverride{TitleFormat: "{{Caller}} did it", DescriptionFormat: "{{Caller}} did it again", SeverityColumn: "Sev"})
			}},
		{name: "override with too many placeholders (repeats count, as in Sentinel)", doc: withLines("alertDetailsOverride:\n  alertDisplayNameFormat: '{{A}} {{A}} {{B}} {{C}}'"),
			warn: []string{"alertDetailsOverride.alertDisplayNameFormat: 4 placeholders; Sentinel allows 3"}},
		// entity mappings
		{name: "misspelt entity mapping key", doc: strings.Replace(sampleRule, "columnName: Caller", "columName: Caller", 1),
			check: func(h *hunt.Hunt) string { return mismatch(len(h.Entities), 0) },
			warn:  []string{`:13: entityMappings[0]: Account entity left out: fieldMappings[0] (line 15) has no columnName, only "columName"`}},
		{name: "entity mapping key in the wrong case", doc: strings.Replace(sampleRule, "columnName: Caller", "ColumnName: Caller", 1),
			check: func(h *hunt.Hunt) string { return mismatch(h.EntityColumns(), []string{"Caller"}) },
			warn:  []string{`entityMappings[0].fieldMappings[0].columnName: key "ColumnName" read as "columnName"`}},
		{name: "entity mapping without colons (a list of text)", doc: withLines("entityMappings:\n  - entityType IP\n    fieldMappings\n      - identifier Address"),
			check: func(h *hunt.Hunt) string { return mismatch(len(h.Entities), 0) },
			warn:  []string{`entityMappings[0]: is the text "entityType IP fieldMappings - identifier Address", not a mapping (a missing colon?); left out`}},
		{name: "entity type in the wrong case, unknown type kept", doc: withLines("entityMappings:\n  - entityType: ip\n    fieldMappings:\n      - identifier: Address\n        columnName: A\n  - entityType: Gadget\n    fieldMappings:\n      - identifier: Name\n        columnName: B"),
			check: func(h *hunt.Hunt) string {
				return mismatch([]string{h.Entities[0].EntityType, h.Entities[1].EntityType}, []string{"IP", "Gadget"})
			},
			warn: []string{`entityMappings[0].entityType: "ip" read as "IP"`, `entityMappings[1].entityType: "Gadget" is not a Sentinel entity type`}},
		{name: "one of two field mappings broken", doc: withLines("entityMappings:\n  - entityType: Account\n    fieldMappings:\n      - identifier: Name\n      - identifier: UPNSuffix\n        columnName: Suffix"),
			check: func(h *hunt.Hunt) string { return mismatch(h.EntityColumns(), []string{"Suffix"}) },
			warn:  []string{"entityMappings[0]: Account entity: fieldMappings[0] (line 15) has no columnName; that field mapping is left out"}},
		// top-level keys
		{name: "misspelt top-level key", doc: withLines("queryFrequncy: 2h"), warn: []string{`queryFrequncy: unknown key ignored: did you mean "queryFrequency"?`}},
		{name: "a field other formats name differently", doc: withLines("techniques:\n  - T1059"), warn: []string{"techniques: not a field huntwatch reads, ignored: write relevantTechniques"}},
		{name: "Sentinel fields huntwatch ignores: no warning", doc: withLines("version: 1.0.0", "tags:\n  - X", "requiredDataConnectors: []", "metadata:\n  source:\n    kind: Community", "incidentConfiguration:\n  createIncident: true")},
		{name: "key given twice", doc: sampleRule + "severity: Low\n", check: func(h *hunt.Hunt) string { return mismatch(h.Severity, "Low") },
			warn: []string{"severity: given twice (line 3 and here); the last is used"}},
		{name: "top-level key in the wrong case", doc: withLines("QueryFrequency: 2h", "queryFrequency: -"), check: func(h *hunt.Hunt) string { return mismatch(h.Frequency, 2*time.Hour) },
			warn: []string{`queryFrequency: key "QueryFrequency" read as "queryFrequency"`}},
		{name: "a single tactic, not a list", doc: withLines("tactics: Execution"), check: func(h *hunt.Hunt) string { return mismatch(h.Tactics, []string{"Execution"}) },
			warn: []string{"tactics: is one value, not a list; read as a list of one"}},
		// not a hunt
		{name: "a list, not a mapping", doc: "- a\n- b\n", err: []string{"not a hunting-query YAML: the document is a list"}},
		{name: "query is a list", doc: "id: x\nname: n\nquery:\n  - T\n", err: []string{"not a hunting query: missing query", "inline.yaml:4: query: is a list"}},
		{name: "empty document", doc: "", err: []string{"not a hunting query: missing id, name, query"}},
	} {
		t.Run(test.name, func(t *testing.T) {
			h, err := hunt.Parse([]byte(test.doc), "inline.yaml")
			if test.err != nil {
				if err == nil {
					t.Fatalf("Parse loaded it, want an error with %q", test.err)
				}
				for _, s := range test.err {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q lacks %q", err, s)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if test.check != nil {
				if d := test.check(h); d != "" {
					t.Error(d)
				}
			}
			if len(h.Warnings) != len(test.warn) {
				t.Fatalf("warnings %q, want %d: %q", h.Warnings, len(test.warn), test.warn)
			}
			for i, w := range test.warn {
				if !strings.Contains(h.Warnings[i], w) || !strings.HasPrefix(h.Warnings[i], "inline.yaml:") {
					t.Errorf("warning %d %q, want one naming the file and with %q", i, h.Warnings[i], w)
				}
			}
		})
	}
}

func kindIs(k string) func(h *hunt.Hunt) string {
	return func(h *hunt.Hunt) string { return mismatch(h.Kind, k) }
}

func mismatch(got, want any) string {
	if reflect.DeepEqual(got, want) {
		return ""
	}
	return "got " + strings.TrimSpace(showValue(got)) + ", want " + strings.TrimSpace(showValue(want))
}

func showValue(v any) string { return strings.ReplaceAll(fmt.Sprintf("%+v", v), "\n", " ") }

// Columns lists every column the hunt's fields name, with the field, for validate.
func TestColumns(t *testing.T) {
	h, err := hunt.Parse([]byte(withLines("customDetails:\n  Where: Ip", "alertDetailsOverride:\n  alertDisplayNameFormat: '{{Caller}} from {{Ip}}'\n  alertSeverityColumnName: Sev", "huntwatch:\n  fingerprint: Fp")), "inline.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := []hunt.ColumnUse{
		{Column: "Caller", Field: "entityMappings[0].fieldMappings[0]"},
		{Column: "Fp", Field: "fingerprint"},
		{Column: "Ip", Field: "customDetails.Where"},
		{Column: "Caller", Field: "alertDetailsOverride.alertDisplayNameFormat"},
		{Column: "Ip", Field: "alertDetailsOverride.alertDisplayNameFormat"},
		{Column: "Sev", Field: "alertDetailsOverride.alertSeverityColumnName"},
	}
	if got := h.Columns(); !reflect.DeepEqual(got, want) {
		t.Errorf("Columns() = %+v\nwant %+v", got, want)
	}
	missing := hunt.MissingColumns(h, []hunt.Column{{Name: "Caller"}, {Name: "Ip"}})
	if d := mismatch(missing, []hunt.ColumnUse{want[1], want[5]}); d != "" {
		t.Errorf("MissingColumns: %s", d)
	}
}
