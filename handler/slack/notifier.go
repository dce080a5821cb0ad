// Package slack is huntwatch's notifier for Slack: it lays a finding out as a Block Kit message
// (Build), rendering what the domain decided the message says (hunt.View: title, facts, lists,
// links), escaping everything the data holds and staying inside Slack's limits, and posts it
// with slack-go, either as a bot (chat.postMessage) or through an incoming webhook, pacing posts,
// honouring rate limits and telling the pipeline (hunt.Notifier) when Slack cannot be reached at
// all (hunt.ErrUnavailable) rather than refusing one message. Printer is the same message written
// to a terminal, for local runs and dry runs.
//
// Beside one message per finding (Notify), it posts a digest when a run finds too many at once
// (Digest: counts, the first findings, and every finding as a CSV file in the digest's thread),
// tells of new occurrences of a known finding as thread replies under its message and updates that
// message's summary line (Repeat), and posts alerts about huntwatch itself (Alert); `huntwatch
// preview` writes all of these as Block Kit JSON files. The builders (Build, BuildWith,
// BuildDigest, BuildRepeat, BuildAlert, CSV) are pure; the Notifier only sends what they make.
package slack

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	slackapi "github.com/slack-go/slack"

	"github.com/huntwatch/huntwatch/handler/hunt"
)

// Options configure a Notifier: Token and Channel for a bot, or WebhookURL for an incoming webhook.
type Options struct {
	Token   string // bot token (xoxb-...); needs chat:write and the bot in Channel
	Channel string // channel id (C...) or name the bot posts to
	// WebhookURL is an incoming webhook (https://hooks.slack.com/services/...), which posts to
	// the channel chosen when it was created. It is a secret, like Token.
	WebhookURL string
	APIURL     string       // Web API base, ending with "/"; default https://slack.com/api/
	HTTPClient *http.Client // default: a client with a 30 s timeout
	// MinInterval is the least time between the end of one post and the start of the next
	// (Slack allows about one message a second per channel). 0 means 1 s; negative, no pacing.
	MinInterval time.Duration
	// MaxRetries bounds the retries of one post after 429 or 5xx answers or network errors.
	// 0 means 3; negative, none.
	MaxRetries int
	// MaxRetryWait bounds one wait: a 429 asking for longer gives up with ErrUnavailable.
	// 0 means 30 s.
	MaxRetryWait time.Duration
	// Sleep waits d or until ctx is done; tests replace it to observe waits. Default: a timer.
	Sleep func(ctx context.Context, d time.Duration) error
	// Now is the clock used for pacing and for the names of CSV files. Default time.Now.
	Now func() time.Time
	// WorkspaceResourceID is the ARM resource id of the Log Analytics workspace the hunt runs in
	// (/subscriptions/…/resourceGroups/…/providers/Microsoft.OperationalInsights/workspaces/…).
	// When set, messages link to the findings in Log Analytics (see hunt.LogsURL).
	WorkspaceResourceID string
	// Channels routes findings by severity (keys lower case: high, medium, low, informational) in
	// bot mode; a hunt's own Channel comes first, Channel last. Webhooks does so in webhook mode,
	// WebhookURL last. The webhooks are secrets.
	Channels map[string]string
	Webhooks map[string]string
}

// Defaults.
const (
	DefaultAPIURL       = "https://slack.com/api/"
	DefaultMinInterval  = time.Second
	DefaultMaxRetries   = 3
	DefaultMaxRetryWait = 30 * time.Second
	defaultTimeout      = 30 * time.Second
	firstBackoff        = 500 * time.Millisecond
)

// Notifier posts findings to Slack. It is safe for concurrent use; posts go out one at a time.
type Notifier struct {
	log      *slog.Logger
	opts     Options
	api      *slackapi.Client // bot mode
	webhook  *http.Client     // webhook mode
	channel  string           // where messages go, for refs and errors
	secrets  []string
	mu       sync.Mutex
	lastPost time.Time
}

var _ hunt.Notifier = (*Notifier)(nil)

// New returns a Notifier for opts. Settings are checked; nothing is sent.
func New(log *slog.Logger, opts Options) (*Notifier, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	bot := opts.Token != "" || opts.Channel != ""
	switch {
	case bot && opts.WebhookURL != "":
		return nil, errors.New("slack: set either a bot token and channel or a webhook URL, not both")
	case !bot && opts.WebhookURL == "":
		return nil, errors.New("slack: set a bot token and channel, or a webhook URL")
	case bot && opts.Token == "":
		return nil, errors.New("slack: a channel is set but no bot token")
	case bot && opts.Channel == "":
		return nil, errors.New("slack: a bot token is set but no channel")
	}
	if opts.APIURL == "" {
		opts.APIURL = DefaultAPIURL
	}
	if !strings.HasSuffix(opts.APIURL, "/") {
		opts.APIURL += "/"
	}
	if u, err := url.Parse(opts.APIURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("slack: API URL %q is not an http(s) URL", opts.APIURL)
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: defaultTimeout}
	}
	if opts.MinInterval == 0 {
		opts.MinInterval = DefaultMinInterval
	}
	if opts.MaxRetries == 0 {
		opts.MaxRetries = DefaultMaxRetries
	}
	if opts.MaxRetries < 0 {
		opts.MaxRetries = 0
	}
	if opts.MaxRetryWait <= 0 {
		opts.MaxRetryWait = DefaultMaxRetryWait
	}
	if opts.Sleep == nil {
		opts.Sleep = sleep
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.WorkspaceResourceID != "" && !hunt.ValidWorkspaceID(opts.WorkspaceResourceID) {
		log.Warn("slack: the workspace resource id is not a Log Analytics workspace's ARM id; messages will not link to Log Analytics",
			"workspaceResourceID", opts.WorkspaceResourceID)
	}
	n := &Notifier{log: log, opts: opts}
	if bot {
		n.channel = opts.Channel
		n.secrets = []string{opts.Token}
		n.api = slackapi.New(opts.Token, slackapi.OptionAPIURL(opts.APIURL), slackapi.OptionHTTPClient(opts.HTTPClient))
		return n, nil
	}
	n.channel = "webhook"
	for _, hook := range append([]string{opts.WebhookURL}, slices.Sorted(maps.Values(opts.Webhooks))...) {
		u, err := url.Parse(hook)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
			return nil, errors.New("slack: a webhook URL is not an http(s) URL") // never echo the secret
		}
		n.secrets = append(n.secrets, u.EscapedPath(), u.Path)
		if u.RawQuery != "" {
			n.secrets = append(n.secrets, u.RawQuery)
		}
	}
	hc := *opts.HTTPClient
	base := hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	hc.Transport = reasonTransport{base}
	n.webhook = &hc
	return n, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Check asks Slack whether the bot token works (auth.test). Webhooks cannot be checked without
// posting, so for them it returns nil.
func (n *Notifier) Check(ctx context.Context) error {
	if n.api == nil {
		return nil
	}
	if _, err := n.api.AuthTestContext(ctx); err != nil {
		v := classify(err, false)
		if ctx.Err() != nil {
			v = verdict{unavailable: true, ctx: true}
			err = ctx.Err()
		}
		return n.fail("check the token for", "", err, v)
	}
	return nil
}

// Notify posts the message of rec.Finding; when the run found more occurrences, with rec's
// summary line, and in webhook mode (no threads to reply in) with a line for each of more. When
// Slack refuses the blocks (invalid_blocks, msg_too_long...), it posts a short plain-text message
// instead, once.
func (n *Notifier) Notify(ctx context.Context, h *hunt.Hunt, rec *hunt.Record, more []*hunt.Finding) (hunt.MessageRef, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	f := rec.Finding
	m := BuildWith(h, f, n.newOptions(rec, more))
	out := n.route(h, h.View(f, hunt.ViewOptions{}).Severity)
	out.text, out.blocks = m.Text, m.Blocks
	return n.postOrPlain(ctx, out, func(code string) string { return Minimal(h, f, code) },
		"fingerprint", fp(f))
}

var _ hunt.Updater = (*Notifier)(nil)

// Update replaces the message of prior, an earlier finding of the same occurrence, with rec's
// finding (chat.update), noting that it was updated, and returns prior's message: rec now lives
// there. A webhook cannot edit: it posts the new finding as a follow-up that names the earlier
// alert. When the earlier message is gone, or is not a channel message, the new one is posted.
func (n *Notifier) Update(ctx context.Context, h *hunt.Hunt, prior, rec *hunt.Record) (hunt.MessageRef, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	f := rec.Finding
	o := n.newOptions(rec, nil)
	o.Supersedes = prior.Fingerprint
	m := BuildWith(h, f, o)
	at := prior.Message
	if n.api != nil && at.ID != "" && channelID.MatchString(at.Where) {
		_, err := n.post(ctx, outgoing{text: m.Text, blocks: m.Blocks, channel: at.Where, updateTS: at.ID})
		var se *Error
		switch {
		case err == nil:
			return at, nil
		case !errors.As(err, &se) || !threadGone[se.Code]:
			return hunt.MessageRef{}, err
		}
		n.log.Warn("slack: the message to update is gone; posting the update anew", "fingerprint", rec.Fingerprint, "ts", at.ID)
	}
	out := n.route(h, h.View(f, hunt.ViewOptions{}).Severity)
	out.text, out.blocks = m.Text, m.Blocks
	return n.postOrPlain(ctx, out, func(code string) string { return Minimal(h, f, code) }, "fingerprint", fp(f))
}

// route addresses a message about hunt h whose finding has severity sev: the hunt's own channel,
// else the channel (or webhook) of that severity, else the default.
func (n *Notifier) route(h *hunt.Hunt, sev string) outgoing {
	sev = strings.ToLower(strings.TrimSpace(sev))
	if n.api != nil {
		if h != nil && h.Channel != "" {
			return outgoing{channel: h.Channel}
		}
		return outgoing{channel: n.opts.Channels[sev]}
	}
	return outgoing{webhook: n.opts.Webhooks[sev]}
}

// newOptions are the build options of a new fingerprint's message.
func (n *Notifier) newOptions(rec *hunt.Record, more []*hunt.Finding) BuildOptions {
	o := BuildOptions{WorkspaceResourceID: n.opts.WorkspaceResourceID}
	if len(more) > 0 {
		o.Record = rec
		if n.api == nil {
			o.Also = more
		}
	}
	return o
}

func fp(f *hunt.Finding) string {
	if f == nil {
		return ""
	}
	return f.Fingerprint
}

// outgoing is one message to send: a new one (a thread reply when threadTS is set) or, when
// updateTS is set, the new content of the message at updateTS.
type outgoing struct {
	text     string
	blocks   []slackapi.Block // nil for a text-only message
	channel  string           // default: the configured channel
	webhook  string           // default: the configured webhook
	threadTS string
	updateTS string
}

// postOrPlain sends out; when Slack refuses its blocks, it sends plain(code) as text instead, once.
// logArgs describe the message in the log line of the fallback.
func (n *Notifier) postOrPlain(ctx context.Context, out outgoing, plain func(code string) string, logArgs ...any) (hunt.MessageRef, error) {
	ref, err := n.post(ctx, out)
	var se *Error
	if err == nil || !errors.As(err, &se) || !se.content {
		return ref, err
	}
	n.log.Warn("slack refused the message; posting it as plain text", append([]any{"channel", n.channel, "code", se.Code}, logArgs...)...)
	out.text, out.blocks = plain(se.Code), nil
	ref, err2 := n.post(ctx, out)
	if err2 == nil {
		return ref, nil
	}
	var se2 *Error
	if errors.As(err2, &se2) && se2.content {
		se2.msg = fmt.Sprintf("%s; the plain-text fallback was refused too: %s", se.msg, se2.detail)
		return hunt.MessageRef{}, se2
	}
	return hunt.MessageRef{}, err2
}

// post sends one message, pacing and retrying.
func (n *Notifier) post(ctx context.Context, out outgoing) (hunt.MessageRef, error) {
	op := "post to"
	if out.updateTS != "" {
		op = "update a message in"
	}
	var ref hunt.MessageRef
	err := n.do(ctx, op, n.opts.MaxRetries, false, func() (string, error) {
		var reason string
		var err error
		ref, reason, err = n.send(ctx, out)
		return reason, err
	})
	if err != nil {
		return hunt.MessageRef{}, err
	}
	return ref, nil
}

// do makes one call to Slack (op names it in errors, as in "post to"), paced after the previous
// one and retried up to retries times after 429 or 5xx answers, retryable error codes and network
// errors; with anyCode, after any error that does not mean Slack is unavailable. call returns
// the reason a webhook's error answer gave, if any.
func (n *Notifier) do(ctx context.Context, op string, retries int, anyCode bool, call func() (string, error)) error {
	for attempt := 0; ; attempt++ {
		if err := n.pace(ctx); err != nil {
			return n.fail(op, "", err, verdict{unavailable: true, ctx: true})
		}
		reason, err := call()
		n.lastPost = n.opts.Now()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return n.fail(op, "", ctx.Err(), verdict{unavailable: true, ctx: true})
		}
		v := classify(err, n.webhook != nil)
		if v.code == "" {
			v.code = reason
			if n.webhook != nil {
				v = webhookVerdict(v, reason)
			}
		}
		if anyCode && !v.unavailable {
			v.retry = true
		}
		if !v.retry {
			return n.fail(op, "", err, v)
		}
		wait := v.wait
		if wait == 0 {
			wait = min(firstBackoff<<attempt, n.opts.MaxRetryWait)
		}
		switch {
		case attempt >= retries:
			v.unavailable = true
			return n.fail(op, fmt.Sprintf("gave up after %d retries", attempt), err, v)
		case wait > n.opts.MaxRetryWait:
			v.unavailable = true
			return n.fail(op, fmt.Sprintf("Slack asks to wait %s, more than MaxRetryWait (%s)", wait, n.opts.MaxRetryWait), err, v)
		}
		n.log.Warn("slack call failed; retrying", "op", op, "channel", n.channel, "error", n.sanitize(err.Error()), "wait", wait, "attempt", attempt+1)
		if err := n.opts.Sleep(ctx, wait); err != nil {
			return n.fail(op, "", err, verdict{unavailable: true, ctx: true})
		}
	}
}

// pace waits until MinInterval has passed since the previous post ended.
func (n *Notifier) pace(ctx context.Context) error {
	if n.opts.MinInterval < 0 || n.lastPost.IsZero() {
		return ctx.Err()
	}
	if wait := n.lastPost.Add(n.opts.MinInterval).Sub(n.opts.Now()); wait > 0 {
		return n.opts.Sleep(ctx, wait)
	}
	return ctx.Err()
}

// send makes one request. For webhooks it also returns the reason Slack wrote in an error answer.
func (n *Notifier) send(ctx context.Context, out outgoing) (hunt.MessageRef, string, error) {
	if n.api != nil {
		opts := []slackapi.MsgOption{
			slackapi.MsgOptionText(out.text, false), // already escaped by Build
			slackapi.MsgOptionDisableLinkUnfurl(),
			slackapi.MsgOptionDisableMediaUnfurl(),
		}
		if out.blocks != nil {
			opts = append(opts, slackapi.MsgOptionBlocks(out.blocks...))
		}
		channel := out.channel
		if channel == "" {
			channel = n.opts.Channel
		}
		if out.updateTS != "" {
			ch, ts, _, err := n.api.UpdateMessageContext(ctx, channel, out.updateTS, opts...)
			return hunt.MessageRef{Where: ch, ID: ts}, "", err
		}
		if out.threadTS != "" {
			opts = append(opts, slackapi.MsgOptionTS(out.threadTS))
		}
		ch, ts, err := n.api.PostMessageContext(ctx, channel, opts...)
		return hunt.MessageRef{Where: ch, ID: ts}, "", err
	}
	off := false
	msg := &slackapi.WebhookMessage{Text: out.text, UnfurlLinks: &off, UnfurlMedia: &off}
	if out.blocks != nil {
		msg.Blocks = &slackapi.Blocks{BlockSet: out.blocks}
	}
	var reason string
	hook := cmp.Or(out.webhook, n.opts.WebhookURL)
	err := slackapi.PostWebhookCustomHTTPContext(context.WithValue(ctx, reasonKey{}, &reason), hook, n.webhook, msg)
	return hunt.MessageRef{Where: "webhook"}, reason, err
}

// reasonTransport keeps the start of an error answer's body, where incoming webhooks write their
// error code ("no_service", "invalid_blocks"...), which slack-go discards.
type reasonTransport struct{ base http.RoundTripper }

type reasonKey struct{}

func (t reasonTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil || resp.StatusCode < 300 {
		return resp, err
	}
	if p, ok := req.Context().Value(reasonKey{}).(*string); ok {
		head, _ := io.ReadAll(io.LimitReader(resp.Body, 128))
		if s := strings.TrimSpace(string(head)); errorCode.MatchString(s) {
			*p = s
		}
		resp.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(head), resp.Body), resp.Body}
	}
	return resp, nil
}

var errorCode = regexp.MustCompile(`^[a-z][a-z0-9_]{1,60}$`)

// Slack error codes by what they mean for huntwatch.
var (
	// No message can get through: bad credentials, a channel the bot cannot post to.
	unavailableCodes = set("invalid_auth", "not_authed", "account_inactive", "token_revoked",
		"token_expired", "no_permission", "missing_scope", "not_allowed_token_type",
		"org_login_required", "ekm_access_denied", "team_access_not_granted", "access_denied",
		"enterprise_is_restricted", "two_factor_setup_required", "team_not_found",
		"channel_not_found", "not_in_channel", "is_archived", "restricted_action",
		"restricted_action_read_only_channel", "restricted_action_thread_only_channel",
		"restricted_action_non_threadable_channel", "invalid_token", "no_service",
		"no_active_hooks", "no_team", "team_disabled", "channel_is_archived",
		"action_prohibited", "posting_to_general_channel_denied", "user_not_found")
	// This message's content is refused: retry once as plain text.
	contentCodes = set("invalid_blocks", "invalid_blocks_format", "msg_too_long",
		"msg_blocks_too_long", "no_text", "invalid_attachments", "too_many_attachments",
		"invalid_payload")
	// Slack is struggling: retry.
	retryCodes = set("internal_error", "fatal_error", "service_unavailable", "request_timeout",
		"ratelimited", "rate_limited", "rollup_error")
)

func set(codes ...string) map[string]bool {
	m := make(map[string]bool, len(codes))
	for _, c := range codes {
		m[c] = true
	}
	return m
}

// verdict is what an error means for the post.
type verdict struct {
	code        string
	status      int
	retry       bool
	wait        time.Duration // asked by Retry-After
	unavailable bool
	content     bool
	ctx         bool // the caller's context ended
}

func classify(err error, webhook bool) verdict {
	var rl *slackapi.RateLimitedError
	var sc slackapi.StatusCodeError
	var se slackapi.SlackErrorResponse
	switch {
	case errors.As(err, &rl):
		return verdict{status: http.StatusTooManyRequests, retry: true, wait: max(rl.RetryAfter, 0)}
	case errors.As(err, &sc):
		v := verdict{status: sc.Code}
		switch {
		case sc.Code == http.StatusTooManyRequests:
			v.retry, v.wait = true, time.Second
		case sc.Code >= 500:
			v.retry = true
		case webhook && (sc.Code == http.StatusBadRequest || sc.Code == http.StatusRequestEntityTooLarge):
			v.content = true
		case sc.Code == http.StatusUnauthorized || sc.Code == http.StatusForbidden ||
			sc.Code == http.StatusNotFound || sc.Code == http.StatusGone:
			v.unavailable = true // webhook revoked or channel gone; or a wrong API URL
		}
		return v
	case errors.As(err, &se):
		return codeVerdict(se.Err)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return verdict{retry: true} // network: connection refused, reset, timeout
	}
	return verdict{}
}

func codeVerdict(code string) verdict {
	v := verdict{code: code}
	switch {
	case unavailableCodes[code]:
		v.unavailable = true
	case contentCodes[code]:
		v.content = true
	case retryCodes[code]:
		v.retry = true
	}
	return v
}

// webhookVerdict refines a webhook answer's verdict with the code in its body.
func webhookVerdict(v verdict, reason string) verdict {
	if reason == "" || v.retry {
		return v
	}
	c := codeVerdict(reason)
	if c.unavailable || c.content {
		c.status = v.status
		return c
	}
	return v
}

// Error is a failed post. Its text never holds the token or the webhook URL, and it keeps no
// error from slack-go or net/http, whose texts may (a webhook's URL is in every network error).
// It wraps hunt.ErrUnavailable when no later message would get through either.
type Error struct {
	Code   string // Slack's error code, such as "channel_not_found"; may be empty
	Status int    // HTTP status, when the answer had an unexpected one
	msg    string
	detail string // msg without the "slack: post to CHANNEL: " prefix
	unavailable,
	content bool
	ctxErr error // context.Canceled or DeadlineExceeded, when the caller's context ended
}

func (e *Error) Error() string { return e.msg }

// Unwrap gives hunt.ErrUnavailable and the context's error, when they apply.
func (e *Error) Unwrap() []error {
	var errs []error
	if e.unavailable {
		errs = append(errs, hunt.ErrUnavailable)
	}
	if e.ctxErr != nil {
		errs = append(errs, e.ctxErr)
	}
	return errs
}

var hints = map[string]string{
	"invalid_auth":      "the bot token is not valid",
	"not_authed":        "no bot token was sent",
	"token_revoked":     "the bot token was revoked",
	"account_inactive":  "the bot's account is deactivated",
	"channel_not_found": "the channel does not exist or the bot cannot see it (a private channel needs the bot invited)",
	"not_in_channel":    "the bot is not a member of the channel: /invite it",
	"is_archived":       "the channel is archived",
	"missing_scope":     "the bot token lacks the chat:write scope",
	"no_service":        "the webhook was removed or disabled",
	"invalid_blocks":    "Slack refused the message layout",
}

// fail makes the Error for an operation (such as "post to") that failed with err, judged v;
// why, if set, says why no more attempts were made.
func (n *Notifier) fail(op, why string, err error, v verdict) *Error {
	e := &Error{Code: v.code, Status: v.status, unavailable: v.unavailable, content: v.content}
	switch {
	case v.ctx:
		e.ctxErr = context.Canceled
		if errors.Is(err, context.DeadlineExceeded) {
			e.ctxErr = context.DeadlineExceeded
		}
		e.detail = e.ctxErr.Error()
	case v.code != "":
		e.detail = v.code
		if h := hints[v.code]; h != "" {
			e.detail += " (" + h + ")"
		}
		if v.status != 0 {
			e.detail = fmt.Sprintf("HTTP %d %s", v.status, e.detail)
		}
	default:
		e.detail = n.sanitize(err.Error())
	}
	if why != "" {
		e.detail = why + ": " + e.detail
	}
	e.msg = fmt.Sprintf("slack: %s %s: %s", op, n.channel, e.detail)
	return e
}

var (
	tokenPattern   = regexp.MustCompile(`xox[a-z]-[0-9A-Za-z-]+`)
	webhookPattern = regexp.MustCompile(`https?://hooks\.slack(-gov)?\.com/[^\s"']*`)
)

// sanitize removes the token and the webhook URL (whole or in parts) from an error's text.
func (n *Notifier) sanitize(s string) string {
	if n.opts.WebhookURL != "" {
		s = strings.ReplaceAll(s, n.opts.WebhookURL, "[webhook URL]")
	}
	for _, sec := range n.secrets {
		if len(sec) > 1 {
			s = strings.ReplaceAll(s, sec, "[redacted]")
		}
	}
	s = webhookPattern.ReplaceAllString(s, "[redacted webhook URL]")
	return tokenPattern.ReplaceAllString(s, "[redacted token]")
}
