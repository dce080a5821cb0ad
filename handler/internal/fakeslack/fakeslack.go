// Package fakeslack is a local Slack for tests: an HTTP server on 127.0.0.1 that speaks the
// published wire format of the Web API methods huntwatch uses (chat.postMessage, chat.update,
// auth.test, the three-step file upload) and of incoming webhooks, checks tokens, channels and
// the limits real Slack enforces on blocks, records what it accepts, and fails on demand
// (rate limits, server errors, error codes, calls held in flight) so that the real slack-go
// client can be tested against it.
package fakeslack

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Defaults of a new Server.
const (
	DefaultToken   = "xoxb-1111-2222-fakeslacktoken"
	DefaultChannel = "C0HUNTWATCH"
	webhookPrefix  = "/webhook/"
	defaultHook    = "T0FAKE/B0FAKE/fakewebhooksecret"
	uploadPrefix   = "/upload/"
)

// Message is a message Slack accepted (and possibly updated since).
type Message struct {
	Method   string // "chat.postMessage" or "webhook"
	Channel  string
	TS       string
	Text     string
	Blocks   json.RawMessage // as sent; nil without blocks
	ThreadTS string
	Received time.Time // the server's clock when the request arrived
	Updates  int       // chat.update calls applied
}

// Call is one request the server answered, accepted or not.
type Call struct {
	Method   string // API method ("chat.postMessage"), "webhook" or "upload"
	Status   int    // HTTP status answered
	Error    string // Slack error code answered, if any
	Received time.Time
}

// Upload is a file shared with files.completeUploadExternal.
type Upload struct {
	ID, Title, Filename string
	Content             []byte
	Channel, ThreadTS   string
	InitialComment      string
}

// Server is a fake Slack. Its methods are safe for concurrent use.
type Server struct {
	srv      *httptest.Server
	token    string
	channels map[string]bool
	hookPath string
	hookChan string

	tls bool

	mu       sync.Mutex
	seq      int
	messages []Message
	calls    []Call
	faults   []*fault
	refusals []refusal
	holds    []*Hold
	files    map[string]*pendingFile
	uploads  []Upload
}

type pendingFile struct {
	name    string
	length  int
	content []byte
	done    bool
}

// Option configures a Server.
type Option func(*Server)

// WithToken sets the only bot token accepted (default DefaultToken).
func WithToken(token string) Option { return func(s *Server) { s.token = token } }

// WithChannels sets the channels that exist (default DefaultChannel); the first one is where the
// webhook posts.
func WithChannels(ids ...string) Option {
	return func(s *Server) {
		s.channels = map[string]bool{}
		for _, id := range ids {
			s.channels[id] = true
		}
		if len(ids) > 0 {
			s.hookChan = ids[0]
		}
	}
}

// WithTLS serves HTTPS instead of HTTP (incoming webhook URLs are https). The certificate is
// net/http/httptest's, the same for every httptest TLS server, so a client that trusts one
// (such as a child process with SSL_CERT_FILE set to fakeazure's CertFile) trusts this one too.
func WithTLS() Option { return func(s *Server) { s.tls = true } }

// New starts a fake Slack on 127.0.0.1, closed when the test ends.
func New(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := &Server{
		token:    DefaultToken,
		channels: map[string]bool{DefaultChannel: true},
		hookPath: webhookPrefix + defaultHook,
		hookChan: DefaultChannel,
		files:    map[string]*pendingFile{},
	}
	for _, o := range opts {
		o(s)
	}
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("fakeslack: listen: %v", err)
	}
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.srv.Listener.Close()
	s.srv.Listener = l
	if s.tls {
		s.srv.StartTLS()
	} else {
		s.srv.Start()
	}
	t.Cleanup(s.srv.Close)
	t.Cleanup(s.releaseHolds) // before Close, which waits for held calls
	return s
}

// Client is an HTTP client that trusts the server (for WithTLS).
func (s *Server) Client() *http.Client { return s.srv.Client() }

// URL is the Web API base, ending with "/api/", for slack.OptionAPIURL.
func (s *Server) URL() string { return s.srv.URL + "/api/" }

// WebhookURL is the address of the one incoming webhook that exists.
func (s *Server) WebhookURL() string { return s.srv.URL + s.hookPath }

// Token is the bot token the server accepts.
func (s *Server) Token() string { return s.token }

// Messages returns the accepted messages, oldest first.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Message, len(s.messages))
	copy(out, s.messages)
	return out
}

// Calls returns every request answered, oldest first.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Call, len(s.calls))
	copy(out, s.calls)
	return out
}

// Uploads returns the files shared so far.
func (s *Server) Uploads() []Upload {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Upload, len(s.uploads))
	copy(out, s.uploads)
	return out
}

// Faults. Queued faults answer the next calls in order, whatever their method (or, when queued
// with FailNextOn or ErrorNextOn, the next calls of one method); each answers n calls before the
// next fault takes over.
type fault struct {
	n          int
	status     int    // HTTP status; 0 for an ok:false answer with code
	retryAfter string // for 429
	code       string
	method     string // only calls of this method ("" for all): an API method, "webhook" or "upload"
}

// RateLimitNext makes the next n calls answer 429 with "Retry-After: seconds".
func (s *Server) RateLimitNext(n, seconds int) {
	s.queue(&fault{n: n, status: http.StatusTooManyRequests, retryAfter: strconv.Itoa(seconds)})
}

// FailNext makes the next n calls answer HTTP status (500, 502, 503...) with an HTML body.
func (s *Server) FailNext(n, status int) { s.queue(&fault{n: n, status: status}) }

// ErrorNext makes the next n calls answer with Slack error code: {"ok":false,"error":code} from
// the Web API; from the webhook, the code as text with the status Slack uses for it.
func (s *Server) ErrorNext(n int, code string) { s.queue(&fault{n: n, code: code}) }

// FailNextOn is FailNext for the calls of one method only ("files.getUploadURLExternal",
// "upload", "chat.update"...); calls of other methods pass it by.
func (s *Server) FailNextOn(method string, n, status int) {
	s.queue(&fault{n: n, status: status, method: method})
}

// ErrorNextOn is ErrorNext for the calls of one method only.
func (s *Server) ErrorNextOn(method string, n int, code string) {
	s.queue(&fault{n: n, code: code, method: method})
}

func (s *Server) queue(f *fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, f)
}

// Heal drops the queued faults and the refusals (RefuseIf): from now on every call is answered
// normally. Calls already held stay held until released.
func (s *Server) Heal() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults, s.refusals = nil, nil
}

// Hold keeps one call in flight until the test releases it: the way to act (kill the client,
// stop a store) at a known point of a post.
type Hold struct {
	accept   bool
	arrived  chan struct{}
	release  chan struct{}
	gone     chan struct{}
	once     sync.Once
	goneOnce sync.Once
}

// HoldNext holds the next call that HoldNext has not already claimed, whatever its method.
// With accept false the call waits before Slack looks at it: if the client goes away meanwhile,
// nothing is accepted (a crash before Slack accepted the message). With accept true the call is
// processed first (a message is accepted and recorded) and only the answer waits: a client that
// goes away meanwhile never learns that Slack accepted it.
func (s *Server) HoldNext(accept bool) *Hold {
	h := &Hold{accept: accept, arrived: make(chan struct{}), release: make(chan struct{}), gone: make(chan struct{})}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.holds = append(s.holds, h)
	return h
}

// Arrived is closed when the held call arrived (with accept, once it was processed).
func (h *Hold) Arrived() <-chan struct{} { return h.arrived }

// Gone is closed when the client of the held call went away while it was held.
func (h *Hold) Gone() <-chan struct{} { return h.gone }

// Release lets the held call go on. Releasing twice does nothing.
func (h *Hold) Release() { h.once.Do(func() { close(h.release) }) }

func (s *Server) nextHold() *Hold {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.holds) == 0 {
		return nil
	}
	h := s.holds[0]
	s.holds = s.holds[1:]
	return h
}

func (s *Server) releaseHolds() {
	s.mu.Lock()
	hs := s.holds
	s.holds = nil
	s.mu.Unlock()
	for _, h := range hs {
		h.Release()
	}
}

// wait blocks until h is released or the client goes away; it reports whether the client is
// still there.
func (h *Hold) wait(r *http.Request) bool {
	select {
	case <-h.release:
		if r.Context().Err() == nil {
			return true
		}
	case <-r.Context().Done():
	}
	h.goneOnce.Do(func() { close(h.gone) })
	return false
}

// holdCall answers a call under hold h.
func (s *Server) holdCall(h *Hold, w http.ResponseWriter, r *http.Request, method string, at time.Time) {
	// Read the whole request first: only then does net/http watch the connection and cancel
	// r.Context() when the client goes away.
	body, _ := io.ReadAll(io.LimitReader(r.Body, 100<<20))
	r.Body = io.NopCloser(bytes.NewReader(body))
	if !h.accept {
		close(h.arrived)
		if !h.wait(r) {
			s.record(method, StatusClientGone, "", at)
			return
		}
		s.dispatch(w, r, method, at)
		return
	}
	rec := httptest.NewRecorder()
	s.dispatch(rec, r, method, at)
	close(h.arrived)
	if !h.wait(r) {
		return // processed; the client never hears of it
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	w.Write(rec.Body.Bytes())
}

// StatusClientGone is the status recorded for a held call whose client went away before Slack
// looked at it (nginx's 499).
const StatusClientGone = 499

type refusal struct {
	code  string
	match func(Message) bool
}

// RefuseIf makes every message (posted or updated, API or webhook) for which match is true
// answer with error code, from now on.
func (s *Server) RefuseIf(code string, match func(Message) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refusals = append(s.refusals, refusal{code, match})
}

// nextFault takes one call's worth of the first queued fault that applies to method.
func (s *Server) nextFault(method string) *fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	live := s.faults[:0]
	for _, f := range s.faults {
		if f.n > 0 {
			live = append(live, f)
		}
	}
	s.faults = live
	for _, f := range s.faults {
		if f.method == "" || f.method == method {
			f.n--
			return f
		}
	}
	return nil
}

func (s *Server) refused(m Message) string {
	s.mu.Lock()
	rs := append([]refusal(nil), s.refusals...)
	s.mu.Unlock()
	for _, r := range rs {
		if r.match(m) {
			return r.code
		}
	}
	return ""
}

func (s *Server) record(method string, status int, code string, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, Call{Method: method, Status: status, Error: code, Received: at})
}

// webhookStatus is the HTTP status incoming webhooks answer an error code with.
func webhookStatus(code string) int {
	switch code {
	case "invalid_token", "action_prohibited", "posting_to_general_channel_denied", "invalid_auth":
		return http.StatusForbidden
	case "no_service", "no_active_hooks", "no_team", "team_disabled", "channel_not_found", "user_not_found":
		return http.StatusNotFound
	case "channel_is_archived":
		return http.StatusGone
	case "rollup_error", "internal_error":
		return http.StatusInternalServerError
	}
	return http.StatusBadRequest
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	at := time.Now()
	var method string
	switch {
	case strings.HasPrefix(r.URL.Path, "/api/"):
		method = strings.TrimPrefix(r.URL.Path, "/api/")
	case strings.HasPrefix(r.URL.Path, webhookPrefix):
		method = "webhook"
	case strings.HasPrefix(r.URL.Path, uploadPrefix):
		method = "upload"
	default:
		s.record(r.URL.Path, http.StatusNotFound, "", at)
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPost {
		s.record(method, http.StatusMethodNotAllowed, "", at)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if h := s.nextHold(); h != nil {
		s.holdCall(h, w, r, method, at)
		return
	}
	s.dispatch(w, r, method, at)
}

// dispatch answers a call: the next queued fault, or the method.
func (s *Server) dispatch(w http.ResponseWriter, r *http.Request, method string, at time.Time) {
	if f := s.nextFault(method); f != nil {
		switch {
		case f.status == http.StatusTooManyRequests:
			w.Header().Set("Retry-After", f.retryAfter)
			w.WriteHeader(f.status)
			s.record(method, f.status, "ratelimited", at)
		case f.status != 0:
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(f.status)
			io.WriteString(w, "<html><body>Slack is having trouble</body></html>")
			s.record(method, f.status, "", at)
		case method == "webhook":
			s.webhookError(w, method, f.code, at)
		default:
			s.apiError(w, method, f.code, at)
		}
		return
	}
	switch method {
	case "webhook":
		s.webhook(w, r, at)
	case "upload":
		s.upload(w, r, at)
	default:
		s.api(w, r, method, at)
	}
}

func (s *Server) apiError(w http.ResponseWriter, method, code string, at time.Time) {
	s.record(method, http.StatusOK, code, at)
	writeJSON(w, map[string]any{"ok": false, "error": code})
}

func (s *Server) webhookError(w http.ResponseWriter, method, code string, at time.Time) {
	status := webhookStatus(code)
	s.record(method, status, code, at)
	w.Header().Set("Content-Type", "text/plain")
	w.WriteHeader(status)
	io.WriteString(w, code)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	json.NewEncoder(w).Encode(v)
}

// params reads a Web API call's arguments: a form (what slack-go sends) or a JSON object, and
// the token from the form or an Authorization: Bearer header.
func params(w http.ResponseWriter, r *http.Request) (url.Values, string, error) {
	vals := url.Values{}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/json":
		var m map[string]any
		if err := json.NewDecoder(io.LimitReader(r.Body, 10<<20)).Decode(&m); err != nil {
			return nil, "", err
		}
		for k, v := range m {
			switch x := v.(type) {
			case string:
				vals.Set(k, x)
			default:
				b, _ := json.Marshal(x)
				vals.Set(k, string(b))
			}
		}
	default:
		r.Body = http.MaxBytesReader(w, r.Body, 10<<20)
		if err := r.ParseForm(); err != nil {
			return nil, "", err
		}
		vals = r.PostForm
	}
	tok := vals.Get("token")
	if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") {
		tok = strings.TrimPrefix(h, "Bearer ")
	}
	return vals, tok, nil
}

func (s *Server) api(w http.ResponseWriter, r *http.Request, method string, at time.Time) {
	vals, tok, err := params(w, r)
	if err != nil {
		s.apiError(w, method, "invalid_form_data", at)
		return
	}
	switch {
	case tok == "":
		s.apiError(w, method, "not_authed", at)
		return
	case tok != s.token:
		s.apiError(w, method, "invalid_auth", at)
		return
	}
	switch method {
	case "auth.test":
		s.record(method, http.StatusOK, "", at)
		writeJSON(w, map[string]any{"ok": true, "url": "https://huntwatch-fake.slack.com/", "team": "huntwatch",
			"user": "huntwatch", "team_id": "T0FAKE", "user_id": "U0FAKE", "bot_id": "B0FAKE"})
	case "chat.postMessage":
		s.postMessage(w, vals, at)
	case "chat.update":
		s.update(w, vals, at)
	case "files.getUploadURLExternal":
		s.getUploadURL(w, vals, at)
	case "files.completeUploadExternal":
		s.completeUpload(w, vals, at)
	default:
		s.apiError(w, method, "unknown_method", at)
	}
}

// checkMessage applies Slack's rules to a message's text and blocks.
func checkMessage(text, blocks string) string {
	if blocks != "" {
		if code, _ := Check([]byte(blocks)); code != "" {
			return code
		}
	}
	if strings.TrimSpace(text) == "" && (blocks == "" || blocks == "[]") {
		return "no_text"
	}
	if TextLen(text) > MaxText {
		return "msg_too_long"
	}
	return ""
}

func (s *Server) postMessage(w http.ResponseWriter, vals url.Values, at time.Time) {
	const method = "chat.postMessage"
	ch := vals.Get("channel")
	if !s.channels[ch] {
		s.apiError(w, method, "channel_not_found", at)
		return
	}
	m := Message{Method: method, Channel: ch, Text: vals.Get("text"), ThreadTS: vals.Get("thread_ts"), Received: at}
	if b := vals.Get("blocks"); b != "" {
		m.Blocks = json.RawMessage(b)
	}
	if code := checkMessage(m.Text, vals.Get("blocks")); code != "" {
		s.apiError(w, method, code, at)
		return
	}
	if code := s.refused(m); code != "" {
		s.apiError(w, method, code, at)
		return
	}
	s.mu.Lock()
	if m.ThreadTS != "" && s.find(ch, m.ThreadTS) < 0 {
		s.mu.Unlock()
		s.apiError(w, method, "thread_not_found", at)
		return
	}
	s.seq++
	m.TS = fmt.Sprintf("%d.%06d", 1700000000+s.seq/10000, (s.seq%10000)*100)
	s.messages = append(s.messages, m)
	s.mu.Unlock()
	s.record(method, http.StatusOK, "", at)
	writeJSON(w, map[string]any{"ok": true, "channel": ch, "ts": m.TS, "message": wireMessage(m)})
}

func wireMessage(m Message) map[string]any {
	out := map[string]any{"type": "message", "subtype": "bot_message", "text": m.Text, "ts": m.TS,
		"bot_id": "B0FAKE", "user": "U0FAKE"}
	if m.Blocks != nil {
		out["blocks"] = m.Blocks
	}
	if m.ThreadTS != "" {
		out["thread_ts"] = m.ThreadTS
	}
	return out
}

// find returns the index of the message at ts in channel, or -1. s.mu must be held.
func (s *Server) find(channel, ts string) int {
	for i, m := range s.messages {
		if m.Channel == channel && m.TS == ts {
			return i
		}
	}
	return -1
}

func (s *Server) update(w http.ResponseWriter, vals url.Values, at time.Time) {
	const method = "chat.update"
	ch, ts := vals.Get("channel"), vals.Get("ts")
	if !s.channels[ch] {
		s.apiError(w, method, "channel_not_found", at)
		return
	}
	if code := checkMessage(vals.Get("text"), vals.Get("blocks")); code != "" {
		s.apiError(w, method, code, at)
		return
	}
	s.mu.Lock()
	i := s.find(ch, ts)
	if i < 0 {
		s.mu.Unlock()
		s.apiError(w, method, "message_not_found", at)
		return
	}
	m := s.messages[i]
	s.mu.Unlock()
	m.Text = vals.Get("text")
	if b := vals.Get("blocks"); b != "" {
		m.Blocks = json.RawMessage(b)
	}
	if code := s.refused(m); code != "" {
		s.apiError(w, method, code, at)
		return
	}
	m.Updates++
	s.mu.Lock()
	s.messages[i] = m
	s.mu.Unlock()
	s.record(method, http.StatusOK, "", at)
	writeJSON(w, map[string]any{"ok": true, "channel": ch, "ts": ts, "text": m.Text, "message": wireMessage(m)})
}

func (s *Server) webhook(w http.ResponseWriter, r *http.Request, at time.Time) {
	if r.URL.Path != s.hookPath {
		s.webhookError(w, "webhook", "no_service", at)
		return
	}
	var body struct {
		Text     string          `json:"text"`
		Blocks   json.RawMessage `json:"blocks"`
		ThreadTS string          `json:"thread_ts"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 10<<20)).Decode(&body); err != nil {
		s.webhookError(w, "webhook", "invalid_payload", at)
		return
	}
	m := Message{Method: "webhook", Channel: s.hookChan, Text: body.Text, Blocks: body.Blocks, ThreadTS: body.ThreadTS, Received: at}
	if string(m.Blocks) == "null" {
		m.Blocks = nil
	}
	if code := checkMessage(m.Text, string(m.Blocks)); code != "" {
		s.webhookError(w, "webhook", code, at)
		return
	}
	if code := s.refused(m); code != "" {
		s.webhookError(w, "webhook", code, at)
		return
	}
	s.mu.Lock()
	s.seq++
	m.TS = fmt.Sprintf("%d.%06d", 1700000000+s.seq/10000, (s.seq%10000)*100)
	s.messages = append(s.messages, m)
	s.mu.Unlock()
	s.record("webhook", http.StatusOK, "", at)
	w.Header().Set("Content-Type", "text/html")
	io.WriteString(w, "ok")
}

func (s *Server) getUploadURL(w http.ResponseWriter, vals url.Values, at time.Time) {
	const method = "files.getUploadURLExternal"
	name := vals.Get("filename")
	length, err := strconv.Atoi(vals.Get("length"))
	if name == "" || err != nil || length <= 0 {
		s.apiError(w, method, "invalid_arguments", at)
		return
	}
	s.mu.Lock()
	s.seq++
	id := fmt.Sprintf("F%08d", s.seq)
	s.files[id] = &pendingFile{name: name, length: length}
	s.mu.Unlock()
	s.record(method, http.StatusOK, "", at)
	writeJSON(w, map[string]any{"ok": true, "upload_url": s.srv.URL + uploadPrefix + id, "file_id": id})
}

func (s *Server) upload(w http.ResponseWriter, r *http.Request, at time.Time) {
	id := strings.TrimPrefix(r.URL.Path, uploadPrefix)
	content, err := uploadedBytes(r)
	s.mu.Lock()
	f := s.files[id]
	if f != nil && err == nil {
		f.content = content
	}
	s.mu.Unlock()
	switch {
	case f == nil:
		s.record("upload", http.StatusNotFound, "", at)
		http.NotFound(w, r)
	case err != nil:
		s.record("upload", http.StatusBadRequest, "", at)
		http.Error(w, err.Error(), http.StatusBadRequest)
	default:
		s.record("upload", http.StatusOK, "", at)
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintf(w, "OK - %d", len(content))
	}
}

// uploadedBytes reads an upload: the "file" part of a multipart form (what slack-go sends), or
// the raw body.
func uploadedBytes(r *http.Request) ([]byte, error) {
	body := io.LimitReader(r.Body, 100<<20)
	ct, p, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "multipart/form-data" {
		return io.ReadAll(body)
	}
	mr := multipart.NewReader(body, p["boundary"])
	for {
		part, err := mr.NextPart()
		if err != nil {
			return nil, fmt.Errorf("no file part: %w", err)
		}
		if part.FormName() == "file" {
			return io.ReadAll(part)
		}
	}
}

func (s *Server) completeUpload(w http.ResponseWriter, vals url.Values, at time.Time) {
	const method = "files.completeUploadExternal"
	var files []struct {
		ID    string `json:"id"`
		Title string `json:"title"`
	}
	if err := json.Unmarshal([]byte(vals.Get("files")), &files); err != nil || len(files) == 0 {
		s.apiError(w, method, "invalid_arguments", at)
		return
	}
	ch := vals.Get("channel_id")
	if ch == "" {
		ch, _, _ = strings.Cut(vals.Get("channels"), ",")
	}
	if ch != "" && !s.channels[ch] {
		s.apiError(w, method, "channel_not_found", at)
		return
	}
	s.mu.Lock()
	var ups []Upload
	var out []map[string]string
	code := ""
	for _, f := range files {
		p := s.files[f.ID]
		if p == nil || p.content == nil || p.done {
			code = "file_not_found"
			break
		}
		if len(p.content) != p.length {
			code = "file_size_mismatch"
			break
		}
		title := f.Title
		if title == "" {
			title = p.name
		}
		ups = append(ups, Upload{ID: f.ID, Title: title, Filename: p.name, Content: p.content,
			Channel: ch, ThreadTS: vals.Get("thread_ts"), InitialComment: vals.Get("initial_comment")})
		out = append(out, map[string]string{"id": f.ID, "title": title})
	}
	if code == "" {
		for _, u := range ups {
			s.files[u.ID].done = true
		}
		s.uploads = append(s.uploads, ups...)
	}
	s.mu.Unlock()
	if code != "" {
		s.apiError(w, method, code, at)
		return
	}
	s.record(method, http.StatusOK, "", at)
	writeJSON(w, map[string]any{"ok": true, "files": out})
}
