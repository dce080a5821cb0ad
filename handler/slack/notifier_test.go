package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/huntwatch/huntwatch/handler/hunt"
	"github.com/huntwatch/huntwatch/handler/internal/fakeslack"
)

// waits records what the notifier asks Sleep for, and returns at once.
type waits struct {
	mu sync.Mutex
	d  []time.Duration
}

func (w *waits) sleep(ctx context.Context, d time.Duration) error {
	w.mu.Lock()
	w.d = append(w.d, d)
	w.mu.Unlock()
	return ctx.Err()
}

func (w *waits) got() []time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]time.Duration(nil), w.d...)
}

type setup struct {
	fs   *fakeslack.Server
	n    *Notifier
	w    *waits
	logs *bytes.Buffer
}

// newSetup starts a fake Slack and a notifier posting to it as a bot (or through the webhook),
// with no pacing and waits recorded instead of slept; edit adjusts the options.
func newSetup(t *testing.T, webhook bool, edit func(*Options)) *setup {
	t.Helper()
	s := &setup{fs: fakeslack.New(t), w: &waits{}, logs: &bytes.Buffer{}}
	opts := Options{APIURL: s.fs.URL(), MinInterval: -1, Sleep: s.w.sleep}
	if webhook {
		opts.WebhookURL = s.fs.WebhookURL()
	} else {
		opts.Token, opts.Channel = s.fs.Token(), fakeslack.DefaultChannel
	}
	if edit != nil {
		edit(&opts)
	}
	n, err := New(slog.New(slog.NewTextHandler(&lockedWriter{w: s.logs}, &slog.HandlerOptions{Level: slog.LevelDebug})), opts)
	if err != nil {
		t.Fatal(err)
	}
	s.n = n
	return s
}

type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (s *setup) notify(t *testing.T) (hunt.MessageRef, error) {
	t.Helper()
	return s.n.Notify(context.Background(), runCommandHunt(), &hunt.Record{Finding: runCommandFinding(typicalCommands)}, nil)
}

var modes = []struct {
	name    string
	webhook bool
}{{"bot", false}, {"webhook", true}}

func TestPost(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			s := newSetup(t, mode.webhook, nil)
			ref, err := s.notify(t)
			if err != nil {
				t.Fatal(err)
			}
			msgs := s.fs.Messages()
			if len(msgs) != 1 {
				t.Fatalf("%d messages", len(msgs))
			}
			want := Build(runCommandHunt(), runCommandFinding(typicalCommands))
			if msgs[0].Text != want.Text {
				t.Errorf("text %q, want %q", msgs[0].Text, want.Text)
			}
			js, _ := JSON(want)
			var payload struct{ Blocks any }
			var sent any
			if err := json.Unmarshal(js, &payload); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(msgs[0].Blocks, &sent); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(sent, payload.Blocks) {
				t.Errorf("blocks sent:\n%s\nwant:\n%s", msgs[0].Blocks, js)
			}
			if mode.webhook {
				if ref.Where != "webhook" || ref.ID != "" {
					t.Errorf("ref %+v", ref)
				}
			} else if ref.Where != fakeslack.DefaultChannel || ref.ID != msgs[0].TS {
				t.Errorf("ref %+v, message ts %s", ref, msgs[0].TS)
			}
			if w := s.w.got(); len(w) != 0 {
				t.Errorf("waited %v", w)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	s := newSetup(t, false, nil)
	if err := s.n.Check(context.Background()); err != nil {
		t.Errorf("Check: %v", err)
	}
	s = newSetup(t, false, func(o *Options) { o.Token = "xoxb-9-wrong" })
	if err := s.n.Check(context.Background()); !errors.Is(err, hunt.ErrUnavailable) {
		t.Errorf("Check with a wrong token: %v, want ErrUnavailable", err)
	}
}

// TestRetryAfter: a 429 is waited out for exactly the time its Retry-After asks.
func TestRetryAfter(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			s := newSetup(t, mode.webhook, nil)
			s.fs.RateLimitNext(1, 2)
			if _, err := s.notify(t); err != nil {
				t.Fatal(err)
			}
			if w := s.w.got(); len(w) != 1 || w[0] != 2*time.Second {
				t.Errorf("waited %v, want [2s] from Retry-After", w)
			}
			if n := len(s.fs.Messages()); n != 1 {
				t.Errorf("%d messages", n)
			}
			if c := s.fs.Calls(); len(c) != 2 || c[0].Status != http.StatusTooManyRequests {
				t.Errorf("calls %+v", c)
			}
		})
	}
}

func TestRetryAfterTooLong(t *testing.T) {
	s := newSetup(t, false, func(o *Options) { o.MaxRetryWait = 30 * time.Second })
	s.fs.RateLimitNext(1, 120)
	_, err := s.notify(t)
	if !errors.Is(err, hunt.ErrUnavailable) {
		t.Fatalf("got %v, want ErrUnavailable", err)
	}
	if w := s.w.got(); len(w) != 0 {
		t.Errorf("waited %v", w)
	}
	if c := s.fs.Calls(); len(c) != 1 {
		t.Errorf("%d calls, want 1", len(c))
	}
}

func TestRateLimitedThroughout(t *testing.T) {
	s := newSetup(t, false, nil)
	s.fs.RateLimitNext(100, 1)
	_, err := s.notify(t)
	if !errors.Is(err, hunt.ErrUnavailable) {
		t.Fatalf("got %v, want ErrUnavailable", err)
	}
	if c := s.fs.Calls(); len(c) != 1+DefaultMaxRetries {
		t.Errorf("%d calls, want %d", len(c), 1+DefaultMaxRetries)
	}
	if w := s.w.got(); len(w) != DefaultMaxRetries || w[0] != time.Second {
		t.Errorf("waited %v", w)
	}
}

func TestServerErrorsRetried(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			s := newSetup(t, mode.webhook, nil)
			s.fs.FailNext(2, http.StatusInternalServerError)
			if _, err := s.notify(t); err != nil {
				t.Fatal(err)
			}
			if w := s.w.got(); len(w) != 2 || w[0] != 500*time.Millisecond || w[1] != time.Second {
				t.Errorf("waited %v, want [500ms 1s]", w)
			}
			if c := s.fs.Calls(); len(c) != 3 || len(s.fs.Messages()) != 1 {
				t.Errorf("%d calls, %d messages", len(c), len(s.fs.Messages()))
			}
		})
	}
}

func TestServerErrorsThroughout(t *testing.T) {
	for _, test := range []struct {
		name    string
		retries int
		calls   int
	}{
		{"default budget", 0, 1 + DefaultMaxRetries},
		{"one retry", 1, 2},
		{"no retries", -1, 1},
	} {
		t.Run(test.name, func(t *testing.T) {
			s := newSetup(t, false, func(o *Options) { o.MaxRetries = test.retries })
			s.fs.FailNext(100, http.StatusServiceUnavailable)
			_, err := s.notify(t)
			if !errors.Is(err, hunt.ErrUnavailable) {
				t.Errorf("got %v, want ErrUnavailable", err)
			}
			var se *Error
			if !errors.As(err, &se) || se.Status != http.StatusServiceUnavailable {
				t.Errorf("got %#v, want an *Error with status 503", err)
			}
			if c := s.fs.Calls(); len(c) != test.calls {
				t.Errorf("%d calls, want %d", len(c), test.calls)
			}
		})
	}
}

func TestUnavailable(t *testing.T) {
	for _, test := range []struct {
		name    string
		webhook bool
		edit    func(*Options)
		fault   string
		code    string
	}{
		{"wrong token", false, func(o *Options) { o.Token = "xoxb-0-wrong" }, "", "invalid_auth"},
		{"unknown channel", false, func(o *Options) { o.Channel = "C404" }, "", "channel_not_found"},
		{"not in channel", false, nil, "not_in_channel", "not_in_channel"},
		{"archived", false, nil, "is_archived", "is_archived"},
		{"revoked", false, nil, "token_revoked", "token_revoked"},
		{"inactive", false, nil, "account_inactive", "account_inactive"},
		{"not authed", false, nil, "not_authed", "not_authed"},
		{"webhook gone", true, func(o *Options) { o.WebhookURL = strings.Replace(o.WebhookURL, "fakewebhooksecret", "removed", 1) }, "", "no_service"},
		{"webhook channel archived", true, nil, "channel_is_archived", "channel_is_archived"},
		{"webhook token", true, nil, "invalid_token", "invalid_token"},
		{"webhook channel gone", true, nil, "channel_not_found", "channel_not_found"},
	} {
		t.Run(test.name, func(t *testing.T) {
			s := newSetup(t, test.webhook, test.edit)
			if test.fault != "" {
				s.fs.ErrorNext(1, test.fault)
			}
			_, err := s.notify(t)
			if !errors.Is(err, hunt.ErrUnavailable) {
				t.Fatalf("got %v, want ErrUnavailable", err)
			}
			var se *Error
			if !errors.As(err, &se) || se.Code != test.code {
				t.Errorf("got %v, want code %s", err, test.code)
			}
			if c := s.fs.Calls(); len(c) != 1 {
				t.Errorf("%d calls, want 1 (no retry)", len(c))
			}
		})
	}
}

// TestContentRefused: a message whose blocks Slack refuses goes again as plain text, once.
func TestContentRefused(t *testing.T) {
	for _, mode := range modes {
		for _, code := range []string{"invalid_blocks", "msg_too_long", "msg_blocks_too_long", "invalid_blocks_format"} {
			t.Run(mode.name+"/"+code, func(t *testing.T) {
				s := newSetup(t, mode.webhook, nil)
				s.fs.RefuseIf(code, func(m fakeslack.Message) bool { return m.Blocks != nil })
				h, f := runCommandHunt(), runCommandFinding(typicalCommands)
				f.Fields[4].Text = "<!channel> *eve*"
				if _, err := s.n.Notify(context.Background(), h, &hunt.Record{Finding: f}, nil); err != nil {
					t.Fatal(err)
				}
				msgs := s.fs.Messages()
				if len(msgs) != 1 || msgs[0].Blocks != nil {
					t.Fatalf("messages %+v, want one without blocks", msgs)
				}
				if want := Minimal(h, f, code); msgs[0].Text != want {
					t.Errorf("text %q, want %q", msgs[0].Text, want)
				}
				checkEscaped(t, "fallback", msgs[0].Text)
				if !strings.Contains(msgs[0].Text, "&lt;!channel&gt; ∗eve∗") {
					t.Errorf("fallback text %q does not hold the escaped caller", msgs[0].Text)
				}
				if c := s.fs.Calls(); len(c) != 2 {
					t.Errorf("%d calls, want 2", len(c))
				}
			})
		}
	}
}

func TestContentRefusedTwice(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			s := newSetup(t, mode.webhook, nil)
			s.fs.RefuseIf("invalid_blocks", func(fakeslack.Message) bool { return true })
			_, err := s.notify(t)
			if err == nil || errors.Is(err, hunt.ErrUnavailable) {
				t.Fatalf("got %v, want an error about this message only", err)
			}
			var se *Error
			if !errors.As(err, &se) || se.Code != "invalid_blocks" || !strings.Contains(err.Error(), "fallback was refused too") {
				t.Errorf("got %v", err)
			}
			if c := s.fs.Calls(); len(c) != 2 {
				t.Errorf("%d calls, want 2", len(c))
			}
		})
	}
}

// TestHugeFinding posts 10,000 commands through a Slack that enforces its limits.
func TestHugeFinding(t *testing.T) {
	s := newSetup(t, false, nil)
	cmds := repeat(10000, func(int) string { return "Get-ChildItem -Recurse C:\\ & <!here>" })
	if _, err := s.n.Notify(context.Background(), runCommandHunt(), &hunt.Record{Finding: runCommandFinding(cmds)}, nil); err != nil {
		t.Fatal(err)
	}
	if m := s.fs.Messages(); len(m) != 1 || m[0].Blocks == nil {
		t.Errorf("want the block message accepted as is")
	}
}

// TestPacing: posts to one channel start at least MinInterval apart, by the server's clock.
func TestPacing(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			const interval = 50 * time.Millisecond
			s := newSetup(t, mode.webhook, func(o *Options) { o.MinInterval, o.Sleep = interval, nil })
			for range 3 {
				if _, err := s.notify(t); err != nil {
					t.Fatal(err)
				}
			}
			msgs := s.fs.Messages()
			if len(msgs) != 3 {
				t.Fatalf("%d messages", len(msgs))
			}
			for i := 1; i < len(msgs); i++ {
				if gap := msgs[i].Received.Sub(msgs[i-1].Received); gap < interval {
					t.Errorf("message %d arrived %v after the one before, want at least %v", i, gap, interval)
				}
			}
		})
	}
}

// TestPacingWait: the wait asked for is what is left of MinInterval since the last post.
func TestPacingWait(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	s := newSetup(t, false, func(o *Options) {
		o.MinInterval = time.Second
		o.Now = func() time.Time { return now }
	})
	if _, err := s.notify(t); err != nil {
		t.Fatal(err)
	}
	now = now.Add(300 * time.Millisecond)
	if _, err := s.notify(t); err != nil {
		t.Fatal(err)
	}
	now = now.Add(5 * time.Second)
	if _, err := s.notify(t); err != nil {
		t.Fatal(err)
	}
	if w := s.w.got(); len(w) != 1 || w[0] != 700*time.Millisecond {
		t.Errorf("waited %v, want [700ms]", w)
	}
}

func TestConcurrentNotify(t *testing.T) {
	s := newSetup(t, false, nil)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if _, err := s.notify(t); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := len(s.fs.Messages()); n != 8 {
		t.Errorf("%d messages, want 8", n)
	}
}

func TestCanceled(t *testing.T) {
	s := newSetup(t, false, nil)
	ctx, cancel := context.WithCancel(context.Background())
	s.n.opts.Sleep = func(ctx context.Context, d time.Duration) error {
		cancel()
		return ctx.Err()
	}
	s.fs.FailNext(5, http.StatusInternalServerError)
	_, err := s.n.Notify(ctx, runCommandHunt(), &hunt.Record{Finding: runCommandFinding(typicalCommands)}, nil)
	if !errors.Is(err, context.Canceled) || !errors.Is(err, hunt.ErrUnavailable) {
		t.Errorf("got %v, want context.Canceled and ErrUnavailable", err)
	}
}

// closedAddr is a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// errorTexts returns the text of err and of every error it wraps.
func errorTexts(err error) []string {
	if err == nil {
		return nil
	}
	out := []string{err.Error()}
	switch x := err.(type) {
	case interface{ Unwrap() error }:
		out = append(out, errorTexts(x.Unwrap())...)
	case interface{ Unwrap() []error }:
		for _, e := range x.Unwrap() {
			out = append(out, errorTexts(e)...)
		}
	}
	return out
}

// TestNoSecretsInErrors: neither the token nor the webhook URL appears in any error or log line,
// whatever goes wrong.
func TestNoSecretsInErrors(t *testing.T) {
	const secretPath = "fakewebhooksecret"
	for _, test := range []struct {
		name    string
		webhook bool
		edit    func(*Options)
		fault   func(*fakeslack.Server)
	}{
		{"bot network error", false, func(o *Options) { o.APIURL = "http://" + closedAddr(t) + "/api/" }, nil},
		{"bot 500s", false, nil, func(s *fakeslack.Server) { s.FailNext(100, 500) }},
		{"bot invalid_auth", false, func(o *Options) { o.Token = "xoxb-1111-2222-wrongtoken" }, nil},
		{"bot 429 too long", false, nil, func(s *fakeslack.Server) { s.RateLimitNext(1, 999) }},
		{"webhook network error", true, func(o *Options) { o.WebhookURL = "http://" + closedAddr(t) + "/webhook/T0FAKE/B0FAKE/" + secretPath }, nil},
		{"webhook timeout", true, func(o *Options) {
			o.WebhookURL = "http://" + closedAddr(t) + "/webhook/T0FAKE/B0FAKE/" + secretPath
			o.HTTPClient = &http.Client{Timeout: time.Nanosecond}
		}, nil},
		{"webhook 404", true, nil, func(s *fakeslack.Server) { s.ErrorNext(1, "no_service") }},
		{"webhook 500s", true, nil, func(s *fakeslack.Server) { s.FailNext(100, 500) }},
		{"webhook refused twice", true, nil, func(s *fakeslack.Server) { s.RefuseIf("invalid_blocks", func(fakeslack.Message) bool { return true }) }},
		{"webhook canceled", true, func(o *Options) {
			o.Sleep = func(context.Context, time.Duration) error { return context.Canceled }
		}, func(s *fakeslack.Server) { s.FailNext(1, 502) }},
	} {
		t.Run(test.name, func(t *testing.T) {
			s := newSetup(t, test.webhook, test.edit)
			if test.fault != nil {
				test.fault(s.fs)
			}
			_, err := s.notify(t)
			if err == nil {
				t.Fatal("no error")
			}
			secrets := []string{s.n.opts.Token, secretPath}
			if s.n.opts.WebhookURL != "" {
				secrets = append(secrets, s.n.opts.WebhookURL)
			}
			texts := append(errorTexts(err), s.logs.String())
			for _, text := range texts {
				for _, sec := range secrets {
					if sec != "" && strings.Contains(text, sec) {
						t.Errorf("%q holds a secret", text)
					}
				}
			}
			t.Logf("error: %v", err)
		})
	}
}

func TestNewOptions(t *testing.T) {
	for _, test := range []struct {
		name string
		opts Options
		want string
	}{
		{"nothing", Options{}, "set a bot token and channel, or a webhook URL"},
		{"both", Options{Token: "xoxb-1", Channel: "C1", WebhookURL: "https://hooks.slack.com/services/T/B/secret"}, "not both"},
		{"no channel", Options{Token: "xoxb-1"}, "no channel"},
		{"no token", Options{Channel: "C1"}, "no bot token"},
		{"bad webhook", Options{WebhookURL: "hooks.slack.com/services/T/B/secret"}, "not an http(s) URL"},
		{"bad API URL", Options{Token: "xoxb-1", Channel: "C1", APIURL: "ftp://x/"}, "not an http(s) URL"},
	} {
		t.Run(test.name, func(t *testing.T) {
			_, err := New(nil, test.opts)
			if err == nil || !strings.Contains(err.Error(), test.want) {
				t.Errorf("got %v, want %q", err, test.want)
			}
			if err != nil && strings.Contains(err.Error(), "secret") {
				t.Errorf("%v echoes the webhook URL", err)
			}
		})
	}
	n, err := New(nil, Options{Token: "xoxb-1", Channel: "C1"})
	if err != nil {
		t.Fatal(err)
	}
	if n.opts.APIURL != DefaultAPIURL || n.opts.MinInterval != DefaultMinInterval || n.opts.MaxRetries != DefaultMaxRetries ||
		n.opts.MaxRetryWait != DefaultMaxRetryWait || n.opts.HTTPClient.Timeout == 0 {
		t.Errorf("defaults not applied: %+v", n.opts)
	}
}
