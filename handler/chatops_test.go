package main

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/huntwatch/huntwatch/handler/hunt"
	"github.com/huntwatch/huntwatch/handler/hunt/hunttest"
	"github.com/huntwatch/huntwatch/handler/internal/azurite"
	"github.com/huntwatch/huntwatch/handler/internal/fakeslack"
	"github.com/huntwatch/huntwatch/handler/slack"
	"github.com/huntwatch/huntwatch/handler/tablestore"
)

// The chat-ops tests run the pipeline with the real Table Storage store (on Azurite) and the real
// Slack notifier (slack-go against the local Slack); only the query source is a stand-in.

var chatopsColumns = []hunt.Column{{Name: "TimeGenerated", Type: "datetime"}, {Name: "CorrelationId", Type: "string"},
	{Name: "Caller", Type: "string"}, {Name: "VirtualMachineName", Type: "string"}, {Name: "ScriptFingerprintHash", Type: "string"},
	{Name: "PowershellScriptCommands", Type: "dynamic"}}

var chatopsHunt = &hunt.Hunt{ID: "chatops", Name: "Run Command", Query: "AzureActivity", Tactics: []string{"Execution"},
	Entities: []hunt.EntityMapping{
		{EntityType: "Account", FieldMappings: []hunt.FieldMapping{{Identifier: "FullName", ColumnName: "Caller"}}},
		{EntityType: "Host", FieldMappings: []hunt.FieldMapping{{Identifier: "HostName", ColumnName: "VirtualMachineName"}}},
	}}

var chatopsT0 = time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)

func chatopsRow(min int, corr, caller, vm, fp string) []any {
	return []any{chatopsT0.Add(time.Duration(min) * time.Minute), corr, caller, vm, fp, []any{"Get-Process", "whoami /all"}}
}

func newChatops(t *testing.T, huntID string) (*hunt.Runner, *hunttest.Source, *fakeslack.Server, *time.Time) {
	t.Helper()
	sl := fakeslack.New(t)
	n, err := slack.New(slog.New(slog.DiscardHandler), slack.Options{Token: sl.Token(), Channel: fakeslack.DefaultChannel, APIURL: sl.URL(), MinInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	store, err := tablestore.FromConnectionString(slog.New(slog.DiscardHandler), azurite.Start(t).ConnectionString(), "ChatOps", nil)
	if err != nil {
		t.Fatal(err)
	}
	src := &hunttest.Source{Result: &hunt.Result{Columns: chatopsColumns}}
	now := chatopsT0.Add(2 * time.Hour)
	r := &hunt.Runner{Log: slog.New(slog.DiscardHandler), Source: src, Store: store, Notifier: n, Now: func() time.Time { return now },
		Lookback: 24 * time.Hour, MaxCatchup: 168 * time.Hour, TTL: 720 * time.Hour, DigestThreshold: 10, AlertAfter: 3}
	return r, src, sl, &now
}

func postsOf(sl *fakeslack.Server) (posts []fakeslack.Message) {
	for _, m := range sl.Messages() {
		if m.Method == "chat.postMessage" {
			posts = append(posts, m)
		}
	}
	return posts
}

func TestFloodBecomesOneDigestWithEveryFindingInItsCSV(t *testing.T) {
	if testing.Short() {
		t.Skip("slow end-to-end test: skipped with -short")
	}
	r, src, sl, _ := newChatops(t, "flood")
	for i := range 500 {
		src.Result.Rows = append(src.Result.Rows, chatopsRow(i%90, fmt.Sprint("corr-", i), fmt.Sprint("user", i%7, "@contoso.com"), fmt.Sprint("vm-", i%13), fmt.Sprintf("fp-%03d", i)))
	}
	sum, err := r.Run(context.Background(), chatopsHunt)
	if err != nil || sum.Digest != 500 {
		t.Fatalf("err %v, summary %+v", err, sum)
	}
	posts := postsOf(sl)
	if len(posts) != 1 || !strings.Contains(posts[0].Text+string(posts[0].Blocks), "500") {
		t.Fatalf("%d messages, want one digest: %+v", len(posts), posts)
	}
	ups := sl.Uploads()
	if len(ups) != 1 || ups[0].ThreadTS != posts[0].TS {
		t.Fatalf("uploads %+v, want one CSV in the digest's thread %s", ups, posts[0].TS)
	}
	rows, err := csv.NewReader(strings.NewReader(string(ups[0].Content))).ReadAll()
	if err != nil || len(rows) != 501 {
		t.Fatalf("CSV: %d rows (with header), %v", len(rows), err)
	}
	calls := sl.Calls()
	for i := 1; i < len(calls); i++ {
		if calls[i].Method == "chat.postMessage" && calls[i].Received.Sub(calls[i-1].Received) < 50*time.Millisecond {
			t.Errorf("posts %v apart", calls[i].Received.Sub(calls[i-1].Received))
		}
	}
	// The next run finds all 500 known and posts nothing.
	if sum, err := r.Run(context.Background(), chatopsHunt); err != nil || sum.Known != 500 || len(postsOf(sl)) != 1 {
		t.Errorf("second run: err %v, summary %+v, %d posts", err, sum, len(postsOf(sl)))
	}
}

func TestRepeatsThreadUnderTheOriginalAndUpdateIt(t *testing.T) {
	if testing.Short() {
		t.Skip("slow end-to-end test: skipped with -short")
	}
	r, src, sl, now := newChatops(t, "repeats")
	src.Result.Rows = [][]any{chatopsRow(0, "corr-1", "alice@contoso.com", "web-01", "fp-A")}
	if _, err := r.Run(context.Background(), chatopsHunt); err != nil {
		t.Fatal(err)
	}
	parent := postsOf(sl)[0]
	src.Result.Rows = append(src.Result.Rows, chatopsRow(30, "corr-2", "bob@contoso.com", "web-02", "fp-A"), chatopsRow(31, "corr-3", "carol@contoso.com", "web-03", "fp-A"))
	*now = now.Add(time.Hour)
	sum, err := r.Run(context.Background(), chatopsHunt)
	if err != nil || sum.Repeats != 2 {
		t.Fatalf("err %v, summary %+v", err, sum)
	}
	posts := postsOf(sl)
	if len(posts) != 3 || posts[1].ThreadTS != parent.TS || posts[2].ThreadTS != parent.TS {
		t.Fatalf("posts %+v, want two replies in the thread of %s", posts, parent.TS)
	}
	if !strings.Contains(string(posts[1].Blocks)+posts[1].Text, "web-02") || !strings.Contains(string(posts[2].Blocks)+posts[2].Text, "web-03") {
		t.Errorf("replies do not say what is new: %s / %s", posts[1].Text, posts[2].Text)
	}
	if p := sl.Messages()[0]; p.Updates != 1 || !strings.Contains(string(p.Blocks), "Seen *3* times") || !strings.Contains(string(p.Blocks), "web-03") {
		t.Errorf("parent: %d updates, blocks %s", p.Updates, p.Blocks)
	}
	// Each occurrence is told once.
	*now = now.Add(time.Hour)
	if _, err := r.Run(context.Background(), chatopsHunt); err != nil || len(postsOf(sl)) != 3 || sl.Messages()[0].Updates != 1 {
		t.Errorf("third run: err %v, %d posts, %d updates", err, len(postsOf(sl)), sl.Messages()[0].Updates)
	}
}

func TestThreeFailedRunsPostOneFailureAndOneRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("slow end-to-end test: skipped with -short")
	}
	r, src, sl, now := newChatops(t, "health")
	src.Err = errors.New("HTTP 503 Service Unavailable from the workspace")
	for i := range 5 {
		*now = now.Add(time.Hour)
		if _, err := r.Run(context.Background(), chatopsHunt); err == nil {
			t.Fatalf("run %d succeeded", i)
		}
		if want := min(1, max(0, i-1)); len(postsOf(sl)) != want {
			t.Fatalf("after %d failed runs: %d messages, want %d", i+1, len(postsOf(sl)), want)
		}
	}
	failing := postsOf(sl)[0]
	if text := failing.Text + string(failing.Blocks); !strings.Contains(strings.ToLower(text), "failing") || !strings.Contains(text, "503") {
		t.Errorf("failure message: %s", text)
	}
	src.Err = nil
	for range 2 {
		*now = now.Add(time.Hour)
		if _, err := r.Run(context.Background(), chatopsHunt); err != nil {
			t.Fatal(err)
		}
	}
	posts := postsOf(sl)
	if len(posts) != 2 || !strings.Contains(strings.ToLower(posts[1].Text+string(posts[1].Blocks)), "recovered") {
		t.Errorf("messages after recovery: %+v", posts)
	}
}
