package slack

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/huntwatch/huntwatch/handler/hunt"
)

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
// [A-Za-z0-9%._~/#:-], so it can sit inside a Slack link whatever the id or query hold.
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
// ! ' ( ) and *, which a Slack link or mrkdwn could read.
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
// the portal's time range is the Runner's timespan for that window (see hunt.Window.Request).
func findingLogsURL(workspace string, h *hunt.Hunt, first, last time.Time) string {
	if first.IsZero() || last.IsZero() {
		return ""
	}
	w := hunt.Window{Start: first.Add(-logsMargin).UTC(), End: last.Add(logsMargin).UTC()}
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
func occurrenceLogsURL(workspace string, h *hunt.Hunt, f *hunt.Finding) string {
	col := occurrenceColumn(h, f)
	filter, ok := kqlEquals(col, f.Value(col))
	if !ok || f.Time.IsZero() {
		return findingLogsURL(workspace, h, f.Time, f.Time)
	}
	first, last := timeExtent(f, logsMargin)
	w := hunt.Window{
		Start: first.Add(-logsNear).UTC().Truncate(time.Minute),
		End:   last.Add(logsNear + time.Minute - 1).UTC().Truncate(time.Minute),
	}
	q := strings.TrimRight(linkQuery(h.Query), " \t\r\n;") + "\n| where " + filter
	q, ts := w.Request(q, w.End)
	return LogsURL(workspace, q, ts.Start, ts.End)
}

// occurrenceColumn names the column f's occurrence comes from: the hunt's occurrence column, or
// else the column holding f.Occurrence (the pipeline's default, CorrelationId); "" when f's
// occurrence is a hash of its row, which no column holds.
func occurrenceColumn(h *hunt.Hunt, f *hunt.Finding) string {
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
func timeExtent(f *hunt.Finding, margin time.Duration) (first, last time.Time) {
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

// linkQuery shortens a query for a link, which Slack bounds (see maxLogsLink): it drops blank
// lines, lines holding only a comment, and the blanks that indent or end a line. A query with a
// multi-line string literal (```) is left as it is, since its lines may be data; elsewhere a
// line break never falls inside a string, so no data changes.
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
