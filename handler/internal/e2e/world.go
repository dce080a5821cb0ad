package e2e

import (
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/huntwatch/huntwatch/handler/internal/azurite"
	"github.com/huntwatch/huntwatch/handler/internal/fakeazure"
	"github.com/huntwatch/huntwatch/handler/internal/fakeslack"
)

// AccessToken is the token the identity fake hands out and the only one the Log Analytics fake
// accepts.
const AccessToken = "e2e-access-token-9f8e7d"

// Workspace is the Log Analytics workspace of a World's settings.
const Workspace = "11111111-2222-3333-4444-555555555555"

// Columns are the result columns of the bundled Run Command hunt (runcommand-mde), the one hunt a
// World's settings run: give the Log Analytics fake a table of these.
var Columns = []fakeazure.Column{
	{Name: "TimeGenerated", Type: "datetime"}, {Name: "CorrelationId", Type: "string"}, {Name: "Caller", Type: "string"}, {Name: "CallerIpAddress", Type: "string"},
	{Name: "SubscriptionId", Type: "string"}, {Name: "VirtualMachineName", Type: "string"}, {Name: "ResourceId", Type: "string"},
	{Name: "PowershellFileName", Type: "string"}, {Name: "PowershellFileSize", Type: "long"}, {Name: "PowershellScriptCommands", Type: "dynamic"},
	{Name: "ScriptFingerprintHash", Type: "string"}, {Name: "RunId", Type: "string"},
}

// World is everything outside the handler, and the settings of a deployment pointed at it.
type World struct {
	LA       *fakeazure.LogAnalytics // the Log Analytics query API, over TLS
	Identity *fakeazure.Identity     // App Service's managed identity endpoint
	Slack    *fakeslack.Server
	Tables   *azurite.Server
	// Env is the environment of every process the World starts: the bot-token Slack settings,
	// debug logs, HUNTS=runcommand-mde (the fake answers every query with one table, so one hunt
	// reads it) and HUNT_FREQUENCY=0 (every invocation runs it, as the tests expect of each tick).
	// Later entries win: append to change a setting.
	Env   []string
	Procs []*Process // every process started, for checks over all their output
}

// NewWorld starts the fakes and Azurite; all stop when the test ends.
func NewWorld(tb testing.TB) *World {
	tb.Helper()
	w := &World{
		LA:       fakeazure.NewLogAnalytics(tb, AccessToken),
		Identity: fakeazure.NewIdentity(tb, AccessToken),
		Slack:    fakeslack.New(tb),
		Tables:   azurite.Start(tb),
	}
	w.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + tb.TempDir(),
		"SSL_CERT_FILE=" + w.LA.CertFile(tb),
		"LOG_ANALYTICS_WORKSPACE_ID=" + Workspace,
		"LOG_ANALYTICS_ENDPOINT=" + w.LA.Endpoint(),
		"DEDUP_TABLE_CONNECTION=" + w.Tables.ConnectionString(),
		"SLACK_BOT_TOKEN=" + w.Slack.Token(),
		"SLACK_CHANNEL=" + fakeslack.DefaultChannel,
		"SLACK_API_URL=" + w.Slack.URL(),
		"AZURE_CLIENT_ID=33333333-0000-0000-0000-000000000001",
		"LOG_LEVEL=debug",
		"HUNTS=runcommand-mde",
		"HUNT_FREQUENCY=0",
	}
	for k, v := range w.Identity.Env() {
		w.Env = append(w.Env, k+"="+v)
	}
	return w
}

// UseWebhook replaces the Slack settings with an incoming webhook of a new local Slack (over TLS:
// the setting must be https).
func (w *World) UseWebhook(tb testing.TB) {
	tb.Helper()
	w.Slack = fakeslack.New(tb, fakeslack.WithTLS())
	w.Env = slices.DeleteFunc(w.Env, func(kv string) bool { return strings.HasPrefix(kv, "SLACK_") })
	w.Env = append(w.Env, "SLACK_WEBHOOK_URL="+w.Slack.WebhookURL())
}

// Secrets are the values of the World's settings that no output of the handler may contain, in
// the forms they could leak in (a webhook URL is the caller's to add).
func (w *World) Secrets() []string {
	return []string{w.Slack.Token(), azurite.Key, url.QueryEscape(azurite.Key), AccessToken, w.Identity.Env()["IDENTITY_HEADER"]}
}

// Start runs "huntwatch serve" with the World's settings and extraEnv, and returns once it is ready.
func (w *World) Start(tb testing.TB, extraEnv ...string) *Process {
	tb.Helper()
	return w.StartArgs(tb, nil, extraEnv...)
}

// StartArgs is Start with arguments after "serve" (flags such as --lease).
func (w *World) StartArgs(tb testing.TB, args []string, extraEnv ...string) *Process {
	tb.Helper()
	p := Serve(tb, "", args, append(slices.Clone(w.Env), extraEnv...))
	w.Procs = append(w.Procs, p)
	return p
}
