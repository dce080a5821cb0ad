package slack

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"regexp"
	"strings"
	"time"

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
// the portal's time range reaches ClockSkew further back, as the Runner's timespan does.
func findingLogsURL(workspace string, h *hunt.Hunt, first, last time.Time) string {
	if first.IsZero() || last.IsZero() {
		return ""
	}
	w := hunt.Window{Start: first.Add(-logsMargin).UTC(), End: last.Add(logsMargin).UTC()}
	return LogsURL(workspace, w.Declare(linkQuery(h.Query)), w.Start.Add(-hunt.ClockSkew), w.End)
}

// linkQuery shortens a query for a link: it drops blank lines and lines holding only a comment,
// and trailing blanks. A query with a multi-line string literal (```) is left as it is, since its
// lines may be data.
func linkQuery(q string) string {
	if strings.Contains(q, "```") {
		return q
	}
	var keep []string
	for _, line := range strings.Split(q, "\n") {
		line = strings.TrimRight(line, " \t\r")
		if t := strings.TrimSpace(line); t == "" || strings.HasPrefix(t, "//") {
			continue
		}
		keep = append(keep, line)
	}
	return strings.Join(keep, "\n")
}
