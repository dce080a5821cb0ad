package main

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/huntwatch/huntwatch/handler/internal/e2e"
	"github.com/huntwatch/huntwatch/handler/internal/fakeazure"
	"github.com/huntwatch/huntwatch/handler/internal/loopback"
)

// Security checks of issue 5 (docs/reliability.md): no secret in any output, loopback only, TLS
// verification never disabled and a timeout on every outbound call in production code.

// closedPort is a loopback port nothing listens on.
func closedPort(t *testing.T) string { return loopback.Port(t) }

// secretsOf lists every secret a world's handler knows, in the forms they could leak in.
func secretsOf(w *e2e.World, webhook string) []string {
	s := w.Secrets()
	if webhook != "" {
		u, _ := url.Parse(webhook)
		s = append(s, webhook, strings.TrimPrefix(u.Path, "/webhook/"), u.Path[strings.LastIndex(u.Path, "/")+1:])
	}
	return s
}

// transcript gathers everything a world's handler said: its processes' output, the host protocol
// answers, and every message and file Slack received.
type transcript struct{ b strings.Builder }

func (tr *transcript) add(s ...string) {
	for _, x := range s {
		tr.b.WriteString(x)
		tr.b.WriteByte('\n')
	}
}

func (tr *transcript) world(w *e2e.World) {
	for _, p := range w.Procs {
		tr.add(p.Stdout.String(), p.Stderr.String())
	}
	for _, m := range w.Slack.Messages() {
		tr.add(m.Text, string(m.Blocks))
	}
	for _, u := range w.Slack.Uploads() {
		tr.add(u.Title, u.Filename, u.InitialComment, string(u.Content))
	}
}

func (tr *transcript) call(p *e2e.Process) e2e.Result {
	res := p.Call(invocationLimit, e2e.TimerPayload)
	tr.add(res.Logs...)
	if res.Err != nil {
		tr.add(res.Err.Error())
	}
	return res
}

func (tr *transcript) check(t *testing.T, secrets []string, mustSay ...string) {
	t.Helper()
	all := tr.b.String()
	for _, s := range secrets {
		if s != "" && strings.Contains(all, s) {
			i := strings.Index(all, s)
			t.Errorf("secret %.6s… appears in the output: …%s…", s, all[max(0, i-200):min(len(all), i+len(s)+50)])
		}
	}
	for _, want := range mustSay {
		if !strings.Contains(all, want) {
			t.Errorf("the output never says %q: the runs did not fail as intended", want)
		}
	}
}

// Runs with a bot token: healthy, then Slack refusing the token, Slack unreachable, the store down,
// Log Analytics failing and the identity endpoint down, with failure alerts posted after every
// failed run (HEALTH_ALERT_AFTER=1), so error texts reach Slack too.
func TestNoSecretInOutputBot(t *testing.T) {
	if testing.Short() {
		t.Skip("slow end-to-end test: skipped with -short")
	}
	t.Parallel()
	w := e2e.NewWorld(t)
	w.Env = append(w.Env, "HEALTH_ALERT_AFTER=1")
	w.LA.SetTable(fakeazure.Table{Columns: e2e.Columns, Rows: [][]any{finding(1, "corr-1", "vm-1", "fp-1", "whoami")}})
	tr := &transcript{}
	p := w.StartArgs(t, suiteFlags)
	if res := tr.call(p); res.Status != 200 {
		t.Fatalf("healthy run: %s", res)
	}
	w.LA.SetTable(fakeazure.Table{Columns: e2e.Columns, Rows: [][]any{finding(2, "corr-2", "vm-2", "fp-2", "whoami")}})
	w.Slack.ErrorNext(1, "invalid_auth")
	tr.call(p)
	w.LA.Fail(fakeazure.Fault{Status: 401}, fakeazure.Fault{Status: 500}, fakeazure.Fault{Status: 500}, fakeazure.Fault{Status: 500}, fakeazure.Fault{Status: 500})
	tr.call(p)
	w.Tables.Stop()
	tr.call(p)
	w.Tables.Restart()
	// A new process: Slack unreachable, and the identity endpoint down for its first token.
	p.Kill()
	w.Identity.Unavailable(1000)
	p2 := w.StartArgs(t, suiteFlags, "SLACK_API_URL=http://127.0.0.1:"+closedPort(t)+"/api/")
	tr.call(p2)
	w.Identity.Unavailable(0)
	tr.call(p2)
	p2.Kill()
	tr.world(w)
	tr.check(t, secretsOf(w, ""), "invalid_auth", "HTTP 500", "connection refused", "posted")
}

// Runs with an incoming webhook, whose URL is the secret: healthy, answering 404, unreachable.
func TestNoSecretInOutputWebhook(t *testing.T) {
	if testing.Short() {
		t.Skip("slow end-to-end test: skipped with -short")
	}
	t.Parallel()
	w := e2e.NewWorld(t)
	w.UseWebhook(t)
	w.Env = append(w.Env, "HEALTH_ALERT_AFTER=1")
	w.LA.SetTable(fakeazure.Table{Columns: e2e.Columns, Rows: [][]any{finding(1, "corr-1", "vm-1", "fp-1", "whoami")}})
	tr := &transcript{}
	p := w.StartArgs(t, suiteFlags)
	if res := tr.call(p); res.Status != 200 {
		t.Fatalf("healthy run: %s\n%s", res, p.Stderr)
	}
	w.LA.SetTable(fakeazure.Table{Columns: e2e.Columns, Rows: [][]any{finding(2, "corr-2", "vm-2", "fp-2", "whoami")}})
	w.Slack.ErrorNext(2, "no_service")
	tr.call(p)
	p.Kill()
	// The same secret path on a port where nothing listens: the transport's error holds the URL.
	dead := strings.Replace(w.Slack.WebhookURL(), w.Slack.WebhookURL()[:strings.Index(w.Slack.WebhookURL(), "/webhook/")], "https://127.0.0.1:"+closedPort(t), 1)
	p2 := w.StartArgs(t, suiteFlags, "SLACK_WEBHOOK_URL="+dead)
	tr.call(p2)
	p2.Kill()
	tr.world(w)
	tr.check(t, append(secretsOf(w, w.Slack.WebhookURL()), dead), "no_service", "posted")
}

// The handler listens on 127.0.0.1 only: its log says so, and this machine's other addresses
// refuse the port.
func TestListensOnLoopbackOnly(t *testing.T) {
	_, p := ownWorld(t)
	var addr string
	e2e.WaitFor(t, "the listening line in the log", 10*time.Second, func() bool {
		for _, line := range strings.Split(p.Stdout.String(), "\n") {
			var rec struct{ Msg, Addr string }
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "listening" {
				addr = rec.Addr
				return true
			}
		}
		return false
	})
	host, port, err := net.SplitHostPort(addr)
	if err != nil || host != "127.0.0.1" {
		t.Fatalf("listening on %q", addr)
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	tried := 0
	for _, a := range addrs {
		ipnet, ok := a.(*net.IPNet)
		if !ok || ipnet.IP.IsLoopback() || ipnet.IP.IsLinkLocalUnicast() {
			continue
		}
		tried++
		// This machine's own address: the traffic never leaves it.
		c, err := net.DialTimeout("tcp", net.JoinHostPort(ipnet.IP.String(), port), 2*time.Second)
		if err == nil {
			c.Close()
			t.Errorf("the handler answers on %s", ipnet.IP)
		}
	}
	if resp, err := http.Get(p.URL + "/"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("not serving on loopback: %v", err)
	} else {
		resp.Body.Close()
	}
	t.Logf("listening on %s; %d non-loopback addresses of this machine refuse the port", addr, tried)
}

// productionFiles lists the Go files compiled into the binary from this module.
func productionFiles(t *testing.T) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", "-f", `{{if not .Standard}}{{$d := .Dir}}{{range .GoFiles}}{{$d}}/{{.}}{{"\n"}}{{end}}{{end}}`, ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	root, _ := filepath.Abs("..")
	var files []string
	for _, f := range strings.Fields(string(out)) {
		if strings.HasPrefix(f, root+string(filepath.Separator)) {
			files = append(files, f)
		}
	}
	if len(files) < 10 {
		t.Fatalf("only %d production files found: %v", len(files), files)
	}
	return files
}

// No production file disables TLS verification, builds an http.Client without a Timeout, or uses
// net/http's default client (which has none). The SDK clients (azquery, aztables, azidentity) get
// their bounds from contexts instead; docs/reliability.md lists where.
func TestProductionCodeTLSAndTimeouts(t *testing.T) {
	t.Parallel()
	fset := token.NewFileSet()
	for _, path := range productionFiles(t) {
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		http := "http"
		for _, imp := range f.Imports {
			if imp.Path.Value == `"net/http"` && imp.Name != nil {
				http = imp.Name.Name
			}
		}
		isHTTP := func(e ast.Expr, name string) bool {
			sel, ok := e.(*ast.SelectorExpr)
			if !ok || sel.Sel.Name != name {
				return false
			}
			id, ok := sel.X.(*ast.Ident)
			return ok && id.Name == http
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch x := n.(type) {
			case *ast.Ident:
				if x.Name == "InsecureSkipVerify" {
					t.Errorf("%s: InsecureSkipVerify", fset.Position(x.Pos()))
				}
			case *ast.CompositeLit:
				if isHTTP(x.Type, "Client") {
					hasTimeout := false
					for _, el := range x.Elts {
						if kv, ok := el.(*ast.KeyValueExpr); ok {
							if k, ok := kv.Key.(*ast.Ident); ok && k.Name == "Timeout" {
								hasTimeout = true
							}
						}
					}
					if !hasTimeout {
						t.Errorf("%s: http.Client without a Timeout", fset.Position(x.Pos()))
					}
				}
			case *ast.SelectorExpr:
				for _, name := range []string{"DefaultClient", "Get", "Post", "PostForm", "Head"} {
					if isHTTP(x, name) {
						t.Errorf("%s: http.%s has no timeout", fset.Position(x.Pos()), name)
					}
				}
			}
			return true
		})
	}
}
