// Package config reads huntwatch's settings from the environment (Azure Functions app settings are
// environment variables) and checks them once, at start-up, so that a bad setting fails fast with a
// message that names it.
//
// Settings is the public contract: README's settings table, local.settings.sample.json and
// infra/main.bicep list the same names, and a test keeps the three in step with this file.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Setting describes one app setting.
type Setting struct {
	Name    string
	Default string
	Help    string
	Secret  bool // never printed, logged or echoed back in an error
	Host    bool // read by the Functions host, not by the handler
}

// Settings lists every app setting huntwatch knows, in the order --help shows them.
var Settings = []Setting{
	{Name: "LOG_ANALYTICS_WORKSPACE_ID", Help: "Log Analytics workspace (customer) id to query; absent: local sample mode over testdata/logs"},
	{Name: "LOG_ANALYTICS_ENDPOINT", Default: "https://api.loganalytics.io/v1", Help: "Log Analytics query API base URL (sovereign clouds, tests)"},
	{Name: "LOG_ANALYTICS_WORKSPACE_RESOURCE_ID", Help: "the workspace's ARM resource id, for \"View in Log Analytics\" links in messages; absent: no link"},
	{Name: "HUNTS", Help: "the hunt pack: comma-separated bundled hunt names, Sentinel YAML files (hunting queries, scheduled and NRT rules) and folders (every *.yaml below); absent: HUNT_FILE, else the bundled pack"},
	{Name: "HUNT_FILE", Help: "one Sentinel YAML file or bundled hunt name, a pack of one (kept for compatibility; prefer HUNTS)"},
	{Name: "HUNT_SCHEDULE", Default: "0 */5 * * * *", Help: "NCRONTAB schedule of the timer, six fields: seconds minutes hours day-of-month month day-of-week", Host: true},
	{Name: "HUNT_LOOKBACK", Default: "24h", Help: "window each run of a hunting query (or a rule without queryPeriod) queries (Go duration)"},
	{Name: "HUNT_FREQUENCY", Default: "1h", Help: "how often a hunting query without a frequency of its own runs; 0 = at every tick (Go duration)"},
	{Name: "HUNT_MAX_CATCHUP", Default: "168h", Help: "longest window after downtime (Go duration)"},
	{Name: "HUNT_CONCURRENCY", Default: "3", Help: "hunts of one tick that run at once (1-5: Log Analytics allows 5 concurrent queries per user)"},
	{Name: "HUNT_MAX_ROWS", Default: "100000", Help: "rows of one query's answer a run processes (1-500000); a larger answer is processed up to this and an alert says how many rows were not"},
	{Name: "HUNT_SETTLE", Default: "30m", Help: "the window ends this long before now, so late-arriving rows (AzureActivity, Defender) are in before a run is reported; 0 = none (Go duration)"},
	{Name: "DEDUP_TABLE_CONNECTION", Help: "Table Storage connection string (shared key, e.g. Azurite)", Secret: true},
	{Name: "DEDUP_TABLE_ENDPOINT", Help: "Table Storage endpoint https://ACCOUNT.table.core.windows.net (managed identity)"},
	{Name: "DEDUP_TABLE_NAME", Default: "HuntFindings", Help: "dedup table name"},
	{Name: "DEDUP_TTL", Default: "720h", Help: "after this a known fingerprint alerts again; 0 = never (Go duration)"},
	{Name: "SLACK_BOT_TOKEN", Help: "Slack bot token (xoxb-...), posts with chat.postMessage; needs SLACK_CHANNEL", Secret: true},
	{Name: "SLACK_CHANNEL", Help: "Slack channel id or name for the bot token"},
	{Name: "SLACK_CHANNEL_HIGH", Help: "channel for High severity findings (bot token); absent: SLACK_CHANNEL"},
	{Name: "SLACK_CHANNEL_MEDIUM", Help: "channel for Medium severity findings (bot token); absent: SLACK_CHANNEL"},
	{Name: "SLACK_CHANNEL_LOW", Help: "channel for Low severity findings (bot token); absent: SLACK_CHANNEL"},
	{Name: "SLACK_CHANNEL_INFORMATIONAL", Help: "channel for Informational findings (bot token); absent: SLACK_CHANNEL"},
	{Name: "SLACK_WEBHOOK_URL", Help: "Slack incoming webhook URL, instead of a bot token", Secret: true},
	{Name: "SLACK_WEBHOOK_URL_HIGH", Help: "webhook for High severity findings; absent: SLACK_WEBHOOK_URL", Secret: true},
	{Name: "SLACK_WEBHOOK_URL_MEDIUM", Help: "webhook for Medium severity findings; absent: SLACK_WEBHOOK_URL", Secret: true},
	{Name: "SLACK_WEBHOOK_URL_LOW", Help: "webhook for Low severity findings; absent: SLACK_WEBHOOK_URL", Secret: true},
	{Name: "SLACK_WEBHOOK_URL_INFORMATIONAL", Help: "webhook for Informational findings; absent: SLACK_WEBHOOK_URL", Secret: true},
	{Name: "SLACK_API_URL", Default: "https://slack.com/api/", Help: "Slack Web API base URL"},
	{Name: "SLACK_DIGEST_THRESHOLD", Default: "10", Help: "a run with more new findings than this posts one digest with a CSV of all; 0 = never"},
	{Name: "HEALTH_ALERT_AFTER", Default: "3", Help: "consecutive failed runs before one \"huntwatch is failing\" message; 0 = never"},
	{Name: "HEALTH_HEARTBEAT_HOUR", Help: "UTC hour (0-23) after which a daily heartbeat with the day's counts is posted; absent: no heartbeat"},
	{Name: "AZURE_CLIENT_ID", Help: "client id of the user-assigned managed identity; absent: system-assigned or developer credentials"},
	{Name: "LOG_LEVEL", Default: "info", Help: "debug, info, warn or error"},
}

// Config is the checked settings.
type Config struct {
	WorkspaceID   string
	LogsEndpoint  string
	WorkspaceARM  string
	Hunts         []string // the pack's references (HUNTS, else HUNT_FILE); empty: the bundled pack
	HuntFile      string
	Concurrency   int
	MaxRows       int    // rows of one answer a run processes (hunt.Runner.MaxRows)
	Schedule      string // the timer's NCRONTAB; the host reads it, huntwatch only checks it
	Lookback      time.Duration
	Frequency     time.Duration // 0: at every tick
	MaxCatchup    time.Duration
	Settle        time.Duration
	TableConn     string
	TableEndpoint string
	TableName     string
	TTL           time.Duration
	SlackToken    string
	SlackChannel  string
	SlackWebhook  string
	// SlackChannels and SlackWebhooks route findings by severity (lower case: high, medium, low,
	// informational); a hunt's own channel comes first, the default last.
	SlackChannels map[string]string
	SlackWebhooks map[string]string
	SlackAPIURL   string
	Digest        int
	AlertAfter    int
	Heartbeat     bool
	HeartbeatHour int
	ClientID      string
	LogLevel      slog.Level
}

// Secrets returns the values of the secret settings that are set, for redaction.
func (c Config) Secrets() []string {
	var s []string
	for _, v := range []string{c.TableConn, c.SlackToken, c.SlackWebhook} {
		if v != "" {
			s = append(s, v)
		}
	}
	for _, sev := range Severities {
		if v := c.SlackWebhooks[sev]; v != "" {
			s = append(s, v)
		}
	}
	if key := accountKey(c.TableConn); key != "" {
		s = append(s, key)
	}
	return s
}

func accountKey(conn string) string {
	for _, part := range strings.Split(conn, ";") {
		if k, v, ok := strings.Cut(part, "="); ok && strings.EqualFold(strings.TrimSpace(k), "AccountKey") {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// Load reads and checks the settings with getenv (os.Getenv in production). It reports every bad
// setting at once, each error naming the setting and what it expects; secret values are never quoted.
func Load(getenv func(string) string) (Config, error) {
	r := reader{getenv: getenv}
	for _, st := range Settings {
		// App Service resolves @Microsoft.KeyVault(...) references before the process starts;
		// one that could not be resolved arrives as its own text.
		if v := strings.TrimSpace(getenv(st.Name)); strings.HasPrefix(v, "@Microsoft.KeyVault(") {
			r.fail(st.Name, "is a Key Vault reference the platform could not resolve: check that the app's identity has the Key Vault Secrets User role and that the secret exists (the app's Environment variables page shows the reference's status)")
		}
	}
	c := Config{
		WorkspaceID:   r.str("LOG_ANALYTICS_WORKSPACE_ID"),
		LogsEndpoint:  r.url("LOG_ANALYTICS_ENDPOINT", "https"),
		WorkspaceARM:  r.str("LOG_ANALYTICS_WORKSPACE_RESOURCE_ID"),
		HuntFile:      r.str("HUNT_FILE"),
		Concurrency:   r.count("HUNT_CONCURRENCY", 1, 5),
		MaxRows:       r.count("HUNT_MAX_ROWS", 1, 500_000),
		Schedule:      r.schedule("HUNT_SCHEDULE"),
		Lookback:      r.duration("HUNT_LOOKBACK", false),
		Frequency:     r.duration("HUNT_FREQUENCY", true),
		MaxCatchup:    r.duration("HUNT_MAX_CATCHUP", false),
		Settle:        r.duration("HUNT_SETTLE", true),
		TableConn:     r.str("DEDUP_TABLE_CONNECTION"),
		TableEndpoint: r.url("DEDUP_TABLE_ENDPOINT", "https"),
		TableName:     r.tableName("DEDUP_TABLE_NAME"),
		TTL:           r.duration("DEDUP_TTL", true),
		SlackToken:    r.str("SLACK_BOT_TOKEN"),
		SlackChannel:  r.str("SLACK_CHANNEL"),
		SlackWebhook:  r.url("SLACK_WEBHOOK_URL", "https"),
		SlackAPIURL:   r.url("SLACK_API_URL", "http", "https"),
		Digest:        r.count("SLACK_DIGEST_THRESHOLD", 0, 1000),
		AlertAfter:    r.count("HEALTH_ALERT_AFTER", 0, 1000),
		ClientID:      r.str("AZURE_CLIENT_ID"),
		LogLevel:      r.level("LOG_LEVEL"),
	}
	c.Hunts = SplitList(r.str("HUNTS"))
	if len(c.Hunts) > 0 && c.HuntFile != "" {
		r.fail("HUNT_FILE", "set HUNTS or HUNT_FILE, not both (HUNTS takes files too)")
	} else if len(c.Hunts) == 0 && c.HuntFile != "" {
		c.Hunts = []string{c.HuntFile}
	}
	c.SlackChannels, c.SlackWebhooks = map[string]string{}, map[string]string{}
	for _, sev := range Severities {
		upper := strings.ToUpper(sev)
		if v := r.str("SLACK_CHANNEL_" + upper); v != "" {
			c.SlackChannels[sev] = v
			if c.SlackToken == "" {
				r.fail("SLACK_CHANNEL_"+upper, "needs SLACK_BOT_TOKEN (a webhook posts to its own channel: use SLACK_WEBHOOK_URL_%s)", upper)
			}
		}
		if v := r.url("SLACK_WEBHOOK_URL_"+upper, "https"); v != "" {
			c.SlackWebhooks[sev] = v
			if c.SlackWebhook == "" {
				r.fail("SLACK_WEBHOOK_URL_"+upper, "needs SLACK_WEBHOOK_URL, the default webhook")
			}
		}
	}
	if v := r.str("HEALTH_HEARTBEAT_HOUR"); v != "" {
		c.Heartbeat, c.HeartbeatHour = true, r.count("HEALTH_HEARTBEAT_HOUR", 0, 23)
	}
	if v := c.WorkspaceARM; v != "" && !workspaceARM.MatchString(v) {
		r.fail("LOG_ANALYTICS_WORKSPACE_RESOURCE_ID", "expects /subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.OperationalInsights/workspaces/<name>, got %q", v)
	}
	if c.Settle >= c.Lookback && c.Lookback > 0 {
		r.fail("HUNT_SETTLE", "must be shorter than HUNT_LOOKBACK (%s), got %s", c.Lookback, c.Settle)
	}
	if c.MaxCatchup > 0 && c.Lookback > c.MaxCatchup {
		r.fail("HUNT_MAX_CATCHUP", "must be at least HUNT_LOOKBACK (%s)", c.Lookback)
	}
	if c.TableConn != "" && c.TableEndpoint != "" {
		r.fail("DEDUP_TABLE_ENDPOINT", "set DEDUP_TABLE_CONNECTION or DEDUP_TABLE_ENDPOINT, not both")
	}
	if c.TableConn != "" && !strings.Contains(strings.ToLower(c.TableConn), "tableendpoint=") && !strings.Contains(strings.ToLower(c.TableConn), "accountname=") {
		r.fail("DEDUP_TABLE_CONNECTION", "expects a connection string with AccountName=...;AccountKey=... (and TableEndpoint=... for Azurite)")
	}
	switch {
	case c.SlackToken != "" && c.SlackWebhook != "":
		r.fail("SLACK_WEBHOOK_URL", "set SLACK_BOT_TOKEN (with SLACK_CHANNEL) or SLACK_WEBHOOK_URL, not both")
	case c.SlackToken != "" && c.SlackChannel == "":
		r.fail("SLACK_CHANNEL", "is required with SLACK_BOT_TOKEN")
	case c.SlackToken == "" && c.SlackChannel != "":
		r.fail("SLACK_BOT_TOKEN", "is required with SLACK_CHANNEL")
	}
	if c.SlackAPIURL != "" && !strings.HasSuffix(c.SlackAPIURL, "/") {
		c.SlackAPIURL += "/"
	}
	return c, errors.Join(r.errs...)
}

// Severities are Sentinel's severity levels, lower case, as routing settings name them.
var Severities = []string{"high", "medium", "low", "informational"}

// SplitList splits a comma-separated list (HUNTS), dropping empty items and spaces around each.
func SplitList(v string) []string {
	var out []string
	for _, item := range strings.Split(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

type reader struct {
	getenv func(string) string
	errs   []error
}

func (r *reader) fail(name, format string, args ...any) {
	r.errs = append(r.errs, fmt.Errorf("setting %s %s", name, fmt.Sprintf(format, args...)))
}

func (r *reader) str(name string) string {
	if v := strings.TrimSpace(r.getenv(name)); v != "" {
		return v
	}
	return defaultOf(name)
}

func (r *reader) duration(name string, zeroOK bool) time.Duration {
	v := r.str(name)
	d, err := time.ParseDuration(v)
	switch {
	case err != nil:
		r.fail(name, "expects a Go duration such as 24h or 90m, got %q", v)
	case d < 0 || (d == 0 && !zeroOK):
		r.fail(name, "must be positive, got %q", v)
	}
	return d
}

// schedule checks the value as the host will see it: untrimmed, since the host splits on spaces only.
func (r *reader) schedule(name string) string {
	v := r.getenv(name)
	if strings.TrimSpace(v) == "" {
		return defaultOf(name)
	}
	if err := checkSchedule(v); err != nil {
		r.fail(name, "%q: %v", v, err)
	}
	return strings.TrimSpace(v)
}

func (r *reader) count(name string, lo, hi int) int {
	v := r.str(name)
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		r.fail(name, "expects a whole number from %d to %d, got %q", lo, hi, v)
	}
	return n
}

var workspaceARM = regexp.MustCompile(`^/subscriptions/[0-9a-fA-F-]+/resourceGroups/[^/]+/providers/Microsoft\.OperationalInsights/workspaces/[^/]+$`)

func (r *reader) url(name string, schemes ...string) string {
	v := r.str(name)
	if v == "" {
		return ""
	}
	u, err := url.Parse(v)
	if err != nil || u.Host == "" || !contains(schemes, u.Scheme) {
		shown := fmt.Sprintf("%q", v)
		if isSecret(name) {
			shown = "a value that is not one (not shown: secret)"
		}
		r.fail(name, "expects an absolute %s URL, got %s", strings.Join(schemes, " or "), shown)
		return ""
	}
	return v
}

func (r *reader) tableName(name string) string {
	v := r.str(name)
	ok := len(v) >= 3 && len(v) <= 63 && v[0] >= 'A' && (v[0] <= 'Z' || v[0] >= 'a') && v[0] <= 'z'
	for _, c := range v {
		ok = ok && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9')
	}
	if !ok {
		r.fail(name, "expects 3-63 letters and digits starting with a letter, got %q", v)
	}
	return v
}

func (r *reader) level(name string) slog.Level {
	v := r.str(name)
	var l slog.Level
	if err := l.UnmarshalText([]byte(v)); err != nil {
		r.fail(name, "expects debug, info, warn or error, got %q", v)
	}
	return l
}

func defaultOf(name string) string {
	for _, s := range Settings {
		if s.Name == name {
			return s.Default
		}
	}
	panic("config: unknown setting " + name)
}

func isSecret(name string) bool {
	for _, s := range Settings {
		if s.Name == name {
			return s.Secret
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
