package fakeslack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"
)

func client(s *Server, token string) *slack.Client {
	return slack.New(token, slack.OptionAPIURL(s.URL()))
}

func TestLoopback(t *testing.T) {
	s := New(t)
	for _, raw := range []string{s.URL(), s.WebhookURL()} {
		u, err := url.Parse(raw)
		if err != nil || u.Hostname() != "127.0.0.1" {
			t.Errorf("%s is not on 127.0.0.1", raw)
		}
	}
	if !strings.HasSuffix(s.URL(), "/api/") {
		t.Errorf("URL() = %s, want it to end with /api/", s.URL())
	}
}

func TestPostMessage(t *testing.T) {
	s := New(t)
	blocks := []slack.Block{slack.NewSectionBlock(slack.NewTextBlockObject("mrkdwn", "*hi*", false, false), nil, nil)}
	ch, ts, err := client(s, DefaultToken).PostMessageContext(context.Background(), DefaultChannel,
		slack.MsgOptionText("hello &amp; bye", false), slack.MsgOptionBlocks(blocks...))
	if err != nil {
		t.Fatal(err)
	}
	if ch != DefaultChannel || ts != "1700000000.000100" {
		t.Errorf("got channel %q ts %q", ch, ts)
	}
	msgs := s.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	m := msgs[0]
	if m.Text != "hello &amp; bye" || m.Channel != DefaultChannel || m.TS != ts || m.Received.IsZero() {
		t.Errorf("recorded %+v", m)
	}
	var got []map[string]any
	if err := json.Unmarshal(m.Blocks, &got); err != nil || len(got) != 1 || got[0]["type"] != "section" {
		t.Errorf("blocks %s (%v)", m.Blocks, err)
	}
	if calls := s.Calls(); len(calls) != 1 || calls[0].Method != "chat.postMessage" || calls[0].Status != 200 {
		t.Errorf("calls %+v", calls)
	}
	// A reply in the thread.
	if _, _, err := client(s, DefaultToken).PostMessage(DefaultChannel, slack.MsgOptionText("reply", false), slack.MsgOptionTS(ts)); err != nil {
		t.Fatal(err)
	}
	if m := s.Messages()[1]; m.ThreadTS != ts {
		t.Errorf("thread_ts %q, want %q", m.ThreadTS, ts)
	}
	_, _, err = client(s, DefaultToken).PostMessage(DefaultChannel, slack.MsgOptionText("reply", false), slack.MsgOptionTS("1.2"))
	wantCode(t, err, "thread_not_found")
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	var se slack.SlackErrorResponse
	if !errors.As(err, &se) || se.Err != code {
		t.Errorf("error %v, want Slack error %q", err, code)
	}
}

func TestAuth(t *testing.T) {
	s := New(t, WithToken("xoxb-right"), WithChannels("C1", "C2"))
	if _, err := client(s, "xoxb-right").AuthTest(); err != nil {
		t.Errorf("auth.test: %v", err)
	}
	_, err := client(s, "xoxb-wrong").AuthTest()
	wantCode(t, err, "invalid_auth")
	_, _, err = client(s, "").PostMessage("C1", slack.MsgOptionText("x", false))
	wantCode(t, err, "not_authed")
	_, _, err = client(s, "xoxb-right").PostMessage("C3", slack.MsgOptionText("x", false))
	wantCode(t, err, "channel_not_found")
	if _, _, err := client(s, "xoxb-right").PostMessage("C2", slack.MsgOptionText("x", false)); err != nil {
		t.Error(err)
	}
	if n := len(s.Messages()); n != 1 {
		t.Errorf("%d messages accepted, want 1", n)
	}
}

func text(typ, s string) map[string]any { return map[string]any{"type": typ, "text": s} }

func section(s string) map[string]any {
	return map[string]any{"type": "section", "text": text("mrkdwn", s)}
}

func TestCheck(t *testing.T) {
	x := strings.Repeat
	fields := func(n, size int) map[string]any {
		var fs []any
		for range n {
			fs = append(fs, text("mrkdwn", x("f", size)))
		}
		return map[string]any{"type": "section", "fields": fs}
	}
	many := func(n int, b map[string]any) []any {
		out := make([]any, n)
		for i := range out {
			out[i] = b
		}
		return out
	}
	for _, test := range []struct {
		name   string
		blocks any
		code   string
	}{
		{"ok", []any{section("hi"), map[string]any{"type": "divider"}}, ""},
		{"header 150", []any{map[string]any{"type": "header", "text": text("plain_text", x("h", 150))}}, ""},
		{"header 151", []any{map[string]any{"type": "header", "text": text("plain_text", x("h", 151))}}, "invalid_blocks"},
		{"header 150 astral", []any{map[string]any{"type": "header", "text": text("plain_text", x("𝕏", 76))}}, "invalid_blocks"},
		{"mrkdwn header", []any{map[string]any{"type": "header", "text": text("mrkdwn", "h")}}, "invalid_blocks"},
		{"section 3000", []any{section(x("s", 3000))}, ""},
		{"section 3001", []any{section(x("s", 3001))}, "invalid_blocks"},
		{"empty text", []any{section("")}, "invalid_blocks"},
		{"10 fields", []any{fields(10, 1300)}, ""},
		{"field 2000", []any{fields(1, 2000)}, ""},
		{"11 fields", []any{fields(11, 5)}, "invalid_blocks"},
		{"field 2001", []any{fields(1, 2001)}, "invalid_blocks"},
		{"50 blocks", many(50, section("s")), ""},
		{"51 blocks", many(51, section("s")), "invalid_blocks"},
		{"emoji on mrkdwn", []any{map[string]any{"type": "section", "text": map[string]any{"type": "mrkdwn", "text": "x", "emoji": true}}}, "invalid_blocks"},
		{"11 context elements", []any{map[string]any{"type": "context", "elements": many(11, text("plain_text", "c"))}}, "invalid_blocks"},
		{"repeated block_id", []any{map[string]any{"type": "divider", "block_id": "a"}, map[string]any{"type": "divider", "block_id": "a"}}, "invalid_blocks"},
		{"unknown type", []any{map[string]any{"type": "banner"}}, "invalid_blocks"},
		{"13,200 in total", many(5, section(x("t", 2640))), ""},
		{"13,201 in total", append(many(5, section(x("t", 2640))), section("t")), "msg_blocks_too_long"},
		{"not an array", map[string]any{"type": "section"}, "invalid_blocks_format"},
	} {
		t.Run(test.name, func(t *testing.T) {
			js, _ := json.Marshal(test.blocks)
			if code, detail := Check(js); code != test.code {
				t.Errorf("Check = %q (%s), want %q", code, detail, test.code)
			}
		})
	}
}

// TestLimitsOverTheWire checks that the limits apply to chat.postMessage, chat.update and webhooks.
func TestLimitsOverTheWire(t *testing.T) {
	s := New(t)
	c := client(s, DefaultToken)
	long := slack.NewHeaderBlock(slack.NewTextBlockObject("plain_text", strings.Repeat("h", 151), false, false))
	_, _, err := c.PostMessage(DefaultChannel, slack.MsgOptionBlocks(long))
	wantCode(t, err, "invalid_blocks")
	_, _, err = c.PostMessage(DefaultChannel, slack.MsgOptionText(strings.Repeat("t", MaxText+1), false))
	wantCode(t, err, "msg_too_long")
	_, _, err = c.PostMessage(DefaultChannel)
	wantCode(t, err, "no_text")
	_, ts, err := c.PostMessage(DefaultChannel, slack.MsgOptionText("ok", false))
	if err != nil {
		t.Fatal(err)
	}
	_, _, _, err = c.UpdateMessage(DefaultChannel, ts, slack.MsgOptionBlocks(long))
	wantCode(t, err, "invalid_blocks")
	err = slack.PostWebhook(s.WebhookURL(), &slack.WebhookMessage{Text: "x", Blocks: &slack.Blocks{BlockSet: []slack.Block{long}}})
	var sc slack.StatusCodeError
	if !errors.As(err, &sc) || sc.Code != http.StatusBadRequest {
		t.Errorf("webhook: %v, want 400", err)
	}
	if n := len(s.Messages()); n != 1 {
		t.Errorf("%d messages accepted, want 1", n)
	}
}

func TestFaults(t *testing.T) {
	s := New(t)
	c := client(s, DefaultToken)
	post := func() error {
		_, _, err := c.PostMessage(DefaultChannel, slack.MsgOptionText("x", false))
		return err
	}
	s.RateLimitNext(2, 7)
	s.FailNext(1, http.StatusBadGateway)
	s.ErrorNext(1, "fatal_error")
	for range 2 {
		var rl *slack.RateLimitedError
		if err := post(); !errors.As(err, &rl) || rl.RetryAfter != 7*time.Second {
			t.Errorf("got %v, want a rate limit of 7s", err)
		}
	}
	var sc slack.StatusCodeError
	if err := post(); !errors.As(err, &sc) || sc.Code != http.StatusBadGateway {
		t.Errorf("got %v, want 502", err)
	}
	wantCode(t, post(), "fatal_error")
	if err := post(); err != nil {
		t.Errorf("faults used up, got %v", err)
	}
	s.RefuseIf("invalid_blocks", func(m Message) bool { return strings.Contains(m.Text, "bad") })
	_, _, err := c.PostMessage(DefaultChannel, slack.MsgOptionText("a bad one", false))
	wantCode(t, err, "invalid_blocks")
	if err := post(); err != nil {
		t.Errorf("a message the predicate does not match: %v", err)
	}
	calls := s.Calls()
	if len(calls) != 7 || calls[0].Status != 429 || calls[2].Status != 502 || calls[3].Error != "fatal_error" || calls[5].Error != "invalid_blocks" {
		t.Errorf("calls %+v", calls)
	}
	if n := len(s.Messages()); n != 2 {
		t.Errorf("%d messages accepted, want 2", n)
	}
}

// TestFaultsOn: a fault for one method lets the calls of other methods pass.
func TestFaultsOn(t *testing.T) {
	s := New(t)
	c := client(s, DefaultToken)
	s.ErrorNextOn("chat.update", 1, "cant_update_message")
	s.FailNextOn("upload", 2, http.StatusServiceUnavailable)
	_, ts, err := c.PostMessage(DefaultChannel, slack.MsgOptionText("x", false))
	if err != nil {
		t.Fatal(err)
	}
	upload := func() error {
		_, err := c.UploadFileContext(context.Background(), slack.UploadFileParameters{
			Filename: "a.csv", FileSize: 3, Content: "a,b", Channel: DefaultChannel, ThreadTimestamp: ts})
		return err
	}
	for range 2 {
		var sc slack.StatusCodeError
		if err := upload(); !errors.As(err, &sc) || sc.Code != http.StatusServiceUnavailable {
			t.Errorf("upload: %v, want 503", err)
		}
	}
	if err := upload(); err != nil {
		t.Errorf("upload after its faults: %v", err)
	}
	_, _, _, err = c.UpdateMessage(DefaultChannel, ts, slack.MsgOptionText("y", false))
	wantCode(t, err, "cant_update_message")
	if _, _, _, err := c.UpdateMessage(DefaultChannel, ts, slack.MsgOptionText("y", false)); err != nil {
		t.Errorf("update after its fault: %v", err)
	}
	if ups := s.Uploads(); len(ups) != 1 || ups[0].ThreadTS != ts {
		t.Errorf("uploads %+v", ups)
	}
	if m := s.Messages()[0]; m.Updates != 1 || m.Text != "y" {
		t.Errorf("message %+v", m)
	}
}

func TestUpdate(t *testing.T) {
	s := New(t)
	c := client(s, DefaultToken)
	_, ts, err := c.PostMessage(DefaultChannel, slack.MsgOptionText("first", false))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := c.UpdateMessage(DefaultChannel, ts, slack.MsgOptionText("second", false)); err != nil {
		t.Fatal(err)
	}
	if m := s.Messages()[0]; m.Text != "second" || m.Updates != 1 {
		t.Errorf("after update: %+v", m)
	}
	_, _, _, err = c.UpdateMessage(DefaultChannel, "1.1", slack.MsgOptionText("x", false))
	wantCode(t, err, "message_not_found")
}

func TestUpload(t *testing.T) {
	s := New(t)
	c := client(s, DefaultToken)
	content := "Get-LocalUser\nGet-Process\n"
	f, err := c.UploadFileContext(context.Background(), slack.UploadFileParameters{
		Filename: "commands.txt", FileSize: len(content), Content: content, Title: "Commands",
		Channel: DefaultChannel, ThreadTimestamp: "1700000000.000100", InitialComment: "all commands",
	})
	if err != nil {
		t.Fatal(err)
	}
	ups := s.Uploads()
	if len(ups) != 1 || ups[0].ID != f.ID || string(ups[0].Content) != content || ups[0].Channel != DefaultChannel ||
		ups[0].Title != "Commands" || ups[0].ThreadTS != "1700000000.000100" || ups[0].InitialComment != "all commands" {
		t.Errorf("uploads %+v, file %+v", ups, f)
	}
	_, err = c.UploadFileContext(context.Background(), slack.UploadFileParameters{
		Filename: "x.txt", FileSize: 99, Content: "short", Channel: DefaultChannel,
	})
	if err == nil || !strings.Contains(err.Error(), "file_size_mismatch") {
		t.Errorf("size mismatch: %v", err)
	}
}

func TestWebhook(t *testing.T) {
	s := New(t, WithChannels("C9"))
	msg := &slack.WebhookMessage{Text: "hello", Blocks: &slack.Blocks{BlockSet: []slack.Block{
		slack.NewSectionBlock(slack.NewTextBlockObject("mrkdwn", "hi", false, false), nil, nil)}}}
	if err := slack.PostWebhook(s.WebhookURL(), msg); err != nil {
		t.Fatal(err)
	}
	if m := s.Messages(); len(m) != 1 || m[0].Method != "webhook" || m[0].Channel != "C9" || m[0].Text != "hello" || m[0].Blocks == nil {
		t.Errorf("messages %+v", m)
	}
	for _, test := range []struct {
		url    string
		fault  string
		status int
	}{
		{strings.Replace(s.WebhookURL(), "fakewebhooksecret", "other", 1), "", http.StatusNotFound},
		{s.WebhookURL(), "channel_is_archived", http.StatusGone},
		{s.WebhookURL(), "invalid_token", http.StatusForbidden},
		{s.WebhookURL(), "invalid_blocks", http.StatusBadRequest},
	} {
		if test.fault != "" {
			s.ErrorNext(1, test.fault)
		}
		var sc slack.StatusCodeError
		if err := slack.PostWebhook(test.url, msg); !errors.As(err, &sc) || sc.Code != test.status {
			t.Errorf("%s: %v, want HTTP %d", test.fault, err, test.status)
		}
	}
}

func TestConcurrent(t *testing.T) {
	s := New(t)
	c := client(s, DefaultToken)
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			if _, _, err := c.PostMessage(DefaultChannel, slack.MsgOptionText(fmt.Sprint(i), false)); err != nil {
				t.Error(err)
			}
			_ = s.Messages()
			_ = s.Calls()
		})
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, m := range s.Messages() {
		seen[m.TS] = true
	}
	if len(seen) != 20 {
		t.Errorf("%d distinct ts for 20 messages", len(seen))
	}
}

func TestHoldBeforeAccepting(t *testing.T) {
	s := New(t)
	h := s.HoldNext(false)
	done := make(chan error, 1)
	go func() {
		_, _, err := client(s, DefaultToken).PostMessage(DefaultChannel, slack.MsgOptionText("held", false))
		done <- err
	}()
	<-h.Arrived()
	if n := len(s.Messages()); n != 0 {
		t.Fatalf("%d messages accepted while held before accepting", n)
	}
	h.Release()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := len(s.Messages()); n != 1 {
		t.Errorf("%d messages after release", n)
	}
}

func TestHoldClientGoneBeforeAccepting(t *testing.T) {
	s := New(t)
	h := s.HoldNext(false)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, _, err := client(s, DefaultToken).PostMessageContext(ctx, DefaultChannel, slack.MsgOptionText("held", false))
		done <- err
	}()
	<-h.Arrived()
	cancel()
	<-h.Gone()
	if err := <-done; err == nil {
		t.Fatal("cancelled post succeeded")
	}
	if n := len(s.Messages()); n != 0 {
		t.Errorf("%d messages accepted from a client that went away", n)
	}
	if c := s.Calls(); len(c) != 1 || c[0].Status != StatusClientGone {
		t.Errorf("calls %+v", c)
	}
}

func TestHoldAcceptedThenClientGone(t *testing.T) {
	s := New(t)
	h := s.HoldNext(true)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, _, err := client(s, DefaultToken).PostMessageContext(ctx, DefaultChannel, slack.MsgOptionText("held", false))
		done <- err
	}()
	<-h.Arrived()
	if n := len(s.Messages()); n != 1 {
		t.Fatalf("%d messages accepted before the answer", n)
	}
	cancel()
	<-h.Gone()
	if err := <-done; err == nil {
		t.Fatal("the client heard of the acceptance")
	}
	// An accepted hold that is released answers normally.
	h2 := s.HoldNext(true)
	go func() {
		_, _, err := client(s, DefaultToken).PostMessage(DefaultChannel, slack.MsgOptionText("second", false))
		done <- err
	}()
	<-h2.Arrived()
	h2.Release()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestHeal(t *testing.T) {
	s := New(t)
	s.FailNext(5, http.StatusInternalServerError)
	s.RefuseIf("invalid_blocks", func(Message) bool { return true })
	s.Heal()
	if _, _, err := client(s, DefaultToken).PostMessage(DefaultChannel, slack.MsgOptionText("after heal", false)); err != nil {
		t.Fatal(err)
	}
}

func TestTLS(t *testing.T) {
	s := New(t, WithTLS())
	if !strings.HasPrefix(s.WebhookURL(), "https://127.0.0.1:") {
		t.Fatalf("webhook URL %s", s.WebhookURL())
	}
	if err := slack.PostWebhookCustomHTTP(s.WebhookURL(), s.Client(), &slack.WebhookMessage{Text: "over TLS"}); err != nil {
		t.Fatal(err)
	}
	if n := len(s.Messages()); n != 1 {
		t.Errorf("%d messages", n)
	}
}
