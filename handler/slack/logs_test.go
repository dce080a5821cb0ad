package slack

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/huntwatch/huntwatch/handler/hunt"
	"github.com/huntwatch/huntwatch/handler/logdir"
)

// The links themselves (query, filter, time range) are the domain's and tested in package hunt
// (view_test.go); these tests check that Slack shows them.

const testWorkspace = "/subscriptions/" + testSub + "/resourceGroups/rg-soc/providers/Microsoft.OperationalInsights/workspaces/la-soc"

// TestBuildLogsLink: with a workspace, a finding's message links to the finding in Log
// Analytics, exactly as the finding's view says, below the portal link; without one, or for a
// finding without a time, it does not.
func TestBuildLogsLink(t *testing.T) {
	h := runCommandHunt()
	h.Query = "AzureActivity\n| where OperationNameValue has 'runCommand'"
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
			all := blockTextsOf(t, m)
			if got := strings.Contains(all, "|View in Log Analytics>"); got != test.want {
				t.Fatalf("link shown: %v, want %v:\n%s", got, test.want, all)
			}
			if !test.want {
				return
			}
			v := h.View(f, hunt.ViewOptions{WorkspaceResourceID: test.workspace})
			want := ":mag: <" + v.Links[1].URL + "|View in Log Analytics>"
			if i, j := strings.Index(all, "|View VM in Azure portal>"), strings.Index(all, want); i < 0 || j < i {
				t.Errorf("want the portal link, then %s:\n%s", want, all)
			}
		})
	}
	f.Time = time.Time{}
	if all := blockTextsOf(t, BuildWith(h, f, BuildOptions{WorkspaceResourceID: testWorkspace})); strings.Contains(all, "View in Log Analytics") {
		t.Errorf("a link without the finding's time")
	}
}

// TestLogsLinkFits: the link of each finding of the sample logs fits in Slack, so none is left out.
func TestLogsLinkFits(t *testing.T) {
	h, err := hunt.Load(hunt.DefaultHunt)
	if err != nil {
		t.Fatal(err)
	}
	src := logdir.New("../../testdata/logs", "../../testdata/schemas")
	day := hunt.Window{Start: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)}
	res, err := src.Query(context.Background(), day.Declare(h.Query), hunt.Window{Start: day.Start.Add(-hunt.ClockSkew), End: day.End})
	if err != nil {
		t.Fatal(err)
	}
	fs, err := hunt.Findings(h, res)
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) == 0 {
		t.Fatal("no findings in the sample")
	}
	for _, f := range fs {
		m := BuildWith(h, &f, BuildOptions{WorkspaceResourceID: testWorkspace})
		checkMessage(t, m)
		if texts := blockTextsOf(t, m); !strings.Contains(texts, "|View in Log Analytics>") && !strings.Contains(texts, "|View its events in Log Analytics>") {
			v := h.View(&f, hunt.ViewOptions{WorkspaceResourceID: testWorkspace})
			t.Errorf("%s: no Log Analytics link: %d characters, Slack takes %d", f.Occurrence, textLen(":mag: <"+v.Links[len(v.Links)-1].URL+"|View in Log Analytics>"), maxLogsLink)
		}
	}
	fs2 := hunt.FindingList{&fs[0], &fs[len(fs)-1]}
	// A digest links the hunt's whole query, or nothing when that is longer than a link carries.
	links := h.DigestView(fs2, hunt.ViewOptions{WorkspaceResourceID: testWorkspace}).Links
	if m := BuildDigest(h, fs2, BuildOptions{WorkspaceResourceID: testWorkspace}); len(links) > 0 && !strings.Contains(blockTextsOf(t, m), "|View in Log Analytics>") {
		t.Errorf("the digest's Log Analytics link was left out: %d characters, Slack takes %d", textLen(":mag: <"+links[0].URL+"|View in Log Analytics>"), maxLogsLink)
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
