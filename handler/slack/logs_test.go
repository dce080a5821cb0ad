package slack

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"io"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/huntwatch/huntwatch/handler/hunt"
)

const testWorkspace = "/subscriptions/" + testSub + "/resourceGroups/rg-soc/providers/Microsoft.OperationalInsights/workspaces/la-soc"

// decodeLogsURL takes a link LogsURL made apart again: the resource id, the query and the
// timespan, undoing each encoding the portal expects.
func decodeLogsURL(t *testing.T, u string) (id, query, timespan string) {
	t.Helper()
	const prefix = "https://portal.azure.com/#blade/Microsoft_Azure_Monitoring_Logs/LogsBlade/resourceId/"
	rest, ok := strings.CutPrefix(u, prefix)
	if !ok {
		t.Fatalf("%s does not start with %s", u, prefix)
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 5 && len(parts) != 7 || parts[1] != "source" || parts[2] != "LogsBlade.AnalyticsShareLinkToQuery" || parts[3] != "q" {
		t.Fatalf("unexpected path %q", rest)
	}
	unescape := func(s string) string {
		t.Helper()
		v, err := url.PathUnescape(s)
		if err != nil {
			t.Fatalf("unescape %q: %v", s, err)
		}
		return v
	}
	id = unescape(parts[0])
	q := unescape(unescape(parts[4]))
	gz, err := base64.StdEncoding.DecodeString(q)
	if err != nil {
		t.Fatalf("base64 %q: %v", q, err)
	}
	r, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	text, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if len(parts) == 7 {
		if parts[5] != "timespan" {
			t.Fatalf("unexpected path %q", rest)
		}
		timespan = unescape(parts[6])
	}
	return id, string(text), timespan
}

var linkChars = regexp.MustCompile(`^[A-Za-z0-9%._~/#:-]+$`)

func TestLogsURL(t *testing.T) {
	start := time.Date(2025, 3, 14, 8, 26, 53, 0, time.UTC)
	end := start.Add(2 * time.Hour)
	for _, query := range []string{
		"AzureActivity | take 1",
		"let x = \"a/b+c=d&e|f<g>h`i*j_k~l\";\nAzureActivity\n| where Caller == 'é𝕏' // comment\n| take 10",
		strings.Repeat("Heartbeat | where Computer startswith 'vm-' | summarize count() by Computer\n", 50),
	} {
		u := LogsURL(testWorkspace, query, start, end)
		if !linkChars.MatchString(u) {
			t.Errorf("link holds characters a Slack link could read: %s", u)
		}
		id, got, timespan := decodeLogsURL(t, u)
		if id != testWorkspace || got != query || timespan != "2025-03-14T08:26:53.000Z/2025-03-14T10:26:53.000Z" {
			t.Errorf("decoded id %q query %q timespan %q", id, got, timespan)
		}
		// The parts that do not depend on the compressor are fixed.
		wantStart := "https://portal.azure.com/#blade/Microsoft_Azure_Monitoring_Logs/LogsBlade/resourceId/%2Fsubscriptions%2F" + testSub +
			"%2FresourceGroups%2Frg-soc%2Fproviders%2FMicrosoft.OperationalInsights%2Fworkspaces%2Fla-soc/source/LogsBlade.AnalyticsShareLinkToQuery/q/H4sI"
		wantEnd := "/timespan/2025-03-14T08%3A26%3A53.000Z%2F2025-03-14T10%3A26%3A53.000Z"
		if !strings.HasPrefix(u, wantStart) || !strings.HasSuffix(u, wantEnd) {
			t.Errorf("LogsURL = %s\nwant %s…%s", u, wantStart, wantEnd)
		}
		if strings.Contains(u, "%2F%2F") || regexp.MustCompile(`/q/[^/]*%2[FB]`).MatchString(u) {
			t.Errorf("the query's base64 is not encoded twice: %s", u)
		}
	}
	if u := LogsURL(testWorkspace, "T", time.Time{}, end); strings.Contains(u, "timespan") || u == "" {
		t.Errorf("without a start: %s", u)
	}
	for _, id := range []string{
		"",
		testVM,
		"/subscriptions/xyz/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/la",
		"/subscriptions/" + testSub + "/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/la/extra",
		"/subscriptions/" + testSub + "/resourceGroups/a/b/providers/Microsoft.OperationalInsights/workspaces/la",
		"https://evil.example" + testWorkspace,
		testWorkspace + "/",
	} {
		if u := LogsURL(id, "T", start, end); u != "" {
			t.Errorf("LogsURL(%q) = %s, want none", id, u)
		}
	}
	if u := LogsURL(testWorkspace, "  ", start, end); u != "" {
		t.Errorf("a link for an empty query: %s", u)
	}
	// Odd but valid names are escaped, never passed through.
	odd := "/subscriptions/" + testSub + "/resourceGroups/rg (prod)|<x>&/providers/Microsoft.OperationalInsights/workspaces/la*_~"
	u := LogsURL(odd, "T", start, end)
	if !linkChars.MatchString(u) {
		t.Errorf("link %s", u)
	}
	if id, _, _ := decodeLogsURL(t, u); id != odd {
		t.Errorf("decoded id %q", id)
	}
}

func TestLinkQuery(t *testing.T) {
	in := "// header comment\nAzureActivity   \n\n  // indented comment\n| where A == \"//not a comment\" // trailing kept\n| take 1\r\n"
	want := "AzureActivity\n| where A == \"//not a comment\" // trailing kept\n| take 1"
	if got := linkQuery(in); got != want {
		t.Errorf("linkQuery = %q, want %q", got, want)
	}
	multi := "print ```\n// data\n```"
	if got := linkQuery(multi); got != multi {
		t.Errorf("a multi-line literal was changed: %q", got)
	}
}

// TestBuildLogsLink: with a workspace, a finding's message links to the hunt's query, declared
// over the hour either side of the finding, and the bundled hunt's link fits.
func TestBuildLogsLink(t *testing.T) {
	h, err := hunt.Load(hunt.DefaultHunt)
	if err != nil {
		t.Fatal(err)
	}
	f := runCommandFinding(typicalCommands)
	for _, test := range []struct {
		name, workspace string
		want            bool
	}{
		{"workspace", testWorkspace, true},
		{"none", "", false},
		{"not a workspace", testVM, false},
	} {
		t.Run(test.name, func(t *testing.T) {
			m := BuildWith(h, f, BuildOptions{WorkspaceResourceID: test.workspace})
			checkMessage(t, m)
			var link string
			for _, o := range textObjects(t, m) {
				if i := strings.Index(o.text, "<https://portal.azure.com/#blade/"); i >= 0 {
					link = strings.TrimSuffix(o.text[i+1:], "|View in Log Analytics>")
				}
			}
			if (link != "") != test.want {
				t.Fatalf("link %q, want one: %v", link, test.want)
			}
			if link == "" {
				return
			}
			_, query, timespan := decodeLogsURL(t, link)
			w := hunt.Window{Start: testTime.Add(-time.Hour), End: testTime.Add(time.Hour)}
			if query != w.Declare(linkQuery(h.Query)) || !strings.HasPrefix(query, "let HuntStart = datetime(2025-03-14T08:26:53Z);") {
				t.Errorf("query in the link:\n%s", query)
			}
			if timespan != "2025-03-14T08:11:53.000Z/2025-03-14T10:26:53.000Z" {
				t.Errorf("timespan %q", timespan)
			}
		})
	}
	f.Time = time.Time{}
	for _, o := range textObjects(t, BuildWith(h, f, BuildOptions{WorkspaceResourceID: testWorkspace})) {
		if strings.Contains(o.text, "View in Log Analytics") {
			t.Errorf("a link without the finding's time")
		}
	}
}

// TestNotifyLogsLink: the notifier's WorkspaceResourceID reaches the messages it posts.
func TestNotifyLogsLink(t *testing.T) {
	s := newSetup(t, false, func(o *Options) { o.WorkspaceResourceID = testWorkspace })
	if _, err := s.notify(t); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(blockTexts(t, s.fs.Messages()[0].Blocks), "View in Log Analytics") {
		t.Errorf("no Log Analytics link in %s", s.fs.Messages()[0].Blocks)
	}
	s = newSetup(t, false, func(o *Options) { o.WorkspaceResourceID = "la-soc" })
	if !strings.Contains(s.logs.String(), "will not link to Log Analytics") {
		t.Errorf("no warning about a malformed workspace id:\n%s", s.logs)
	}
}
