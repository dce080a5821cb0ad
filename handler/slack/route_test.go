package slack

import (
	"context"
	"log/slog"
	"testing"

	"github.com/huntwatch/huntwatch/handler/hunt"
	"github.com/huntwatch/huntwatch/handler/internal/fakeslack"
)

// Findings go to the hunt's own channel, else to the channel of their severity, else to the
// default; health alerts to the default.
func TestRouteBySeverityAndHunt(t *testing.T) {
	fs := fakeslack.New(t, fakeslack.WithChannels(fakeslack.DefaultChannel, "C0HIGH", "C0VMABUSE"))
	n, err := New(slog.New(slog.DiscardHandler), Options{APIURL: fs.URL(), Token: fs.Token(), Channel: fakeslack.DefaultChannel,
		MinInterval: -1, Channels: map[string]string{"high": "C0HIGH"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, test := range []struct {
		severity, own, want string
	}{
		{"High", "", "C0HIGH"},
		{" high ", "", "C0HIGH"},
		{"Medium", "", fakeslack.DefaultChannel},
		{"High", "C0VMABUSE", "C0VMABUSE"},
	} {
		h := runCommandHunt()
		h.Severity, h.Channel = test.severity, test.own
		ref, err := n.Notify(context.Background(), h, &hunt.Record{Finding: runCommandFinding(nil)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if ref.Where != test.want {
			t.Errorf("severity %q, hunt channel %q: posted to %s, want %s", test.severity, test.own, ref.Where, test.want)
		}
		ref, err = n.Digest(context.Background(), h, hunt.FindingList{runCommandFinding(nil)})
		if err != nil || ref.Where != test.want {
			t.Errorf("digest: severity %q, hunt channel %q: posted to %s (%v), want %s", test.severity, test.own, ref.Where, err, test.want)
		}
	}
	h := runCommandHunt()
	h.Severity = "High"
	if err := n.Alert(context.Background(), h, hunt.Alert{Kind: hunt.AlertFailing, Health: hunt.Health{Failures: 3}}); err != nil {
		t.Fatal(err)
	}
	msgs := fs.Messages()
	if last := msgs[len(msgs)-1]; last.Channel != fakeslack.DefaultChannel {
		t.Errorf("the health alert went to %s, want the default channel", last.Channel)
	}
}

// In webhook mode, a severity with its own webhook posts there; the others to the default one.
func TestRouteWebhooksBySeverity(t *testing.T) {
	def, high := fakeslack.New(t), fakeslack.New(t)
	n, err := New(slog.New(slog.DiscardHandler), Options{WebhookURL: def.WebhookURL(), MinInterval: -1,
		Webhooks: map[string]string{"high": high.WebhookURL()}})
	if err != nil {
		t.Fatal(err)
	}
	for _, sev := range []string{"High", "Low"} {
		h := runCommandHunt()
		h.Severity = sev
		if _, err := n.Notify(context.Background(), h, &hunt.Record{Finding: runCommandFinding(nil)}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if len(high.Messages()) != 1 || len(def.Messages()) != 1 {
		t.Errorf("high webhook got %d, default %d; want 1 each", len(high.Messages()), len(def.Messages()))
	}
	if got := n.sanitize("posting to " + high.WebhookURL() + " failed"); got == "posting to "+high.WebhookURL()+" failed" {
		t.Errorf("a severity webhook is not redacted: %q", got)
	}
}
