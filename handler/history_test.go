package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/huntwatch/huntwatch/handler/internal/e2e"
	"github.com/huntwatch/huntwatch/handler/internal/fakeazure"
)

// A hunt with a history reads what each answer needs, through the binary and Azurite: the first
// run counts the records it lists; then a small answer is looked up by fingerprint (the known one
// stays quiet, the new one is posted), a late finding of an occurrence told under another
// fingerprint updates that message instead of posting again, and an empty answer reads the status
// row alone.
func TestSmallAnswerOverHistoryIsLookedUp(t *testing.T) {
	if testing.Short() {
		t.Skip("slow end-to-end test: skipped with -short")
	}
	w := e2e.NewWorld(t)
	var history [][]any
	for i := range 300 {
		history = append(history, finding(i%80, fmt.Sprintf("corr-%03d", i), "vm-old", fmt.Sprintf("fp-%03d", i), "whoami"))
	}
	w.LA.SetTable(fakeazure.Table{Columns: e2e.Columns, Rows: history})
	p := w.Start(t)
	// The run's summary, in the invocation's logs, says how it read its records (Summary.Read).
	invoke := func(what, read string) {
		t.Helper()
		r := p.Invoke(t)
		if logs := strings.Join(r.Logs, "\n"); r.Status != 200 || !strings.Contains(logs, "records read: "+read+" (") {
			t.Fatalf("%s: status %d, want 200 and a run that read %q; logs:\n%s\nstderr:\n%s", what, r.Status, read, logs, p.Stderr)
		}
	}
	invoke("history", "list") // the hunt's records were never counted: the run lists them
	top := func() int {
		n := 0
		for _, m := range w.Slack.Messages() {
			if m.ThreadTS == "" {
				n++
			}
		}
		return n
	}
	before := top()

	w.LA.SetTable(fakeazure.Table{Columns: e2e.Columns, Rows: [][]any{
		finding(50, "corr-005", "vm-old", "fp-005", "whoami"), // known
		finding(60, "corr-new", "vm-new", "fp-new", "whoami"), // new
	}})
	invoke("small answer", "lookup")
	msgs := w.Slack.Messages()
	if top() != before+1 || !strings.Contains(string(msgs[len(msgs)-1].Blocks), "vm-new") {
		t.Fatalf("after the small answer %d top-level messages (was %d), want one more, about vm-new", top(), before)
	}
	told := len(msgs) - 1

	w.LA.SetTable(fakeazure.Table{Columns: e2e.Columns, Rows: [][]any{
		finding(60, "corr-new", "vm-new", "fp-late", "whoami", "net user"), // the same Run Command, its script seen now
	}})
	invoke("late finding", "lookup")
	msgs = w.Slack.Messages()
	if top() != before+1 || msgs[told].Updates != 1 {
		t.Fatalf("late finding: %d top-level messages (want %d), the earlier message updated %d times (want 1)", top(), before+1, msgs[told].Updates)
	}

	w.LA.SetTable(fakeazure.Table{Columns: e2e.Columns})
	invoke("empty answer", "status")
}
