package config_test

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/huntwatch/huntwatch/handler/config"
)

func env(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

func TestDefaults(t *testing.T) {
	c, err := config.Load(env())
	if err != nil {
		t.Fatal(err)
	}
	if c.Lookback != 24*time.Hour || c.MaxCatchup != 168*time.Hour || c.TTL != 720*time.Hour || c.TableName != "HuntFindings" ||
		c.LogsEndpoint != "https://api.loganalytics.io/v1" || c.SlackAPIURL != "https://slack.com/api/" || c.LogLevel != slog.LevelInfo ||
		c.Digest != 10 || c.AlertAfter != 3 || c.Heartbeat || c.WorkspaceID != "" || c.Settle != 30*time.Minute {
		t.Errorf("defaults %+v", c)
	}
}

func TestLoad(t *testing.T) {
	const secretConn = "DefaultEndpointsProtocol=http;AccountName=a;AccountKey=c2VjcmV0a2V5;TableEndpoint=http://127.0.0.1:1/a;"
	for _, test := range []struct {
		name    string
		env     func(string) string
		wantErr []string // substrings; none: must load
		check   func(t *testing.T, c config.Config)
	}{
		{name: "durations", env: env("HUNT_LOOKBACK", "90m", "HUNT_MAX_CATCHUP", "48h", "DEDUP_TTL", "0"),
			check: func(t *testing.T, c config.Config) {
				if c.Lookback != 90*time.Minute || c.MaxCatchup != 48*time.Hour || c.TTL != 0 {
					t.Errorf("%+v", c)
				}
			}},
		{name: "bad duration names the setting", env: env("HUNT_LOOKBACK", "often"), wantErr: []string{"HUNT_LOOKBACK", `"often"`, "Go duration"}},
		{name: "negative duration", env: env("HUNT_MAX_CATCHUP", "-1h"), wantErr: []string{"HUNT_MAX_CATCHUP", "positive"}},
		{name: "zero lookback", env: env("HUNT_LOOKBACK", "0s"), wantErr: []string{"HUNT_LOOKBACK"}},
		{name: "settle not shorter than lookback", env: env("HUNT_SETTLE", "24h"), wantErr: []string{"HUNT_SETTLE", "shorter than HUNT_LOOKBACK"}},
		{name: "catch-up shorter than lookback", env: env("HUNT_LOOKBACK", "48h", "HUNT_MAX_CATCHUP", "24h"), wantErr: []string{"HUNT_MAX_CATCHUP", "at least HUNT_LOOKBACK"}},
		{name: "every bad setting at once", env: env("HUNT_LOOKBACK", "x", "DEDUP_TTL", "y", "LOG_LEVEL", "loud"), wantErr: []string{"HUNT_LOOKBACK", "DEDUP_TTL", "LOG_LEVEL"}},
		{name: "table name", env: env("DEDUP_TABLE_NAME", "bad-name"), wantErr: []string{"DEDUP_TABLE_NAME"}},
		{name: "endpoint must be https", env: env("LOG_ANALYTICS_ENDPOINT", "http://api.loganalytics.io/v1"), wantErr: []string{"LOG_ANALYTICS_ENDPOINT", "https"}},
		{name: "both table settings", env: env("DEDUP_TABLE_CONNECTION", secretConn, "DEDUP_TABLE_ENDPOINT", "https://a.table.core.windows.net"), wantErr: []string{"not both"}},
		{name: "bot token needs a channel", env: env("SLACK_BOT_TOKEN", "xoxb-1"), wantErr: []string{"SLACK_CHANNEL"}},
		{name: "channel needs a bot token", env: env("SLACK_CHANNEL", "C1"), wantErr: []string{"SLACK_BOT_TOKEN"}},
		{name: "token and webhook", env: env("SLACK_BOT_TOKEN", "xoxb-1", "SLACK_CHANNEL", "C1", "SLACK_WEBHOOK_URL", "https://hooks.slack.com/services/T/B/x"), wantErr: []string{"not both"}},
		{name: "a pack", env: env("HUNTS", " runcommand-mde, rules/ ,,my.yaml", "HUNT_CONCURRENCY", "5"),
			check: func(t *testing.T, c config.Config) {
				if strings.Join(c.Hunts, "|") != "runcommand-mde|rules/|my.yaml" || c.Concurrency != 5 {
					t.Errorf("hunts %q concurrency %d", c.Hunts, c.Concurrency)
				}
			}},
		{name: "HUNT_FILE is a pack of one", env: env("HUNT_FILE", "mine.yaml"),
			check: func(t *testing.T, c config.Config) {
				if strings.Join(c.Hunts, "|") != "mine.yaml" {
					t.Errorf("hunts %q", c.Hunts)
				}
			}},
		{name: "HUNTS and HUNT_FILE", env: env("HUNTS", "a", "HUNT_FILE", "b"), wantErr: []string{"HUNT_FILE", "not both"}},
		{name: "concurrency above the API's limit", env: env("HUNT_CONCURRENCY", "6"), wantErr: []string{"HUNT_CONCURRENCY"}},
		{name: "severity channels", env: env("SLACK_BOT_TOKEN", "xoxb-1", "SLACK_CHANNEL", "C1", "SLACK_CHANNEL_HIGH", "C9"),
			check: func(t *testing.T, c config.Config) {
				if c.SlackChannels["high"] != "C9" || len(c.SlackChannels) != 1 {
					t.Errorf("channels %v", c.SlackChannels)
				}
			}},
		{name: "severity channel needs a bot token", env: env("SLACK_WEBHOOK_URL", "https://hooks.slack.com/services/T/B/x", "SLACK_CHANNEL_LOW", "C2"), wantErr: []string{"SLACK_CHANNEL_LOW", "SLACK_BOT_TOKEN"}},
		{name: "severity webhook needs the default", env: env("SLACK_BOT_TOKEN", "xoxb-1", "SLACK_CHANNEL", "C1", "SLACK_WEBHOOK_URL_HIGH", "https://hooks.slack.com/services/T/B/y"), wantErr: []string{"SLACK_WEBHOOK_URL_HIGH", "needs SLACK_WEBHOOK_URL"}},
		{name: "webhook secret not echoed", env: env("SLACK_WEBHOOK_URL", "not a url at all, secret123"), wantErr: []string{"SLACK_WEBHOOK_URL", "not shown"}},
		{name: "API URL gets its slash", env: env("SLACK_API_URL", "http://127.0.0.1:9/api"),
			check: func(t *testing.T, c config.Config) {
				if c.SlackAPIURL != "http://127.0.0.1:9/api/" {
					t.Errorf("%q", c.SlackAPIURL)
				}
			}},
		{name: "counts", env: env("SLACK_DIGEST_THRESHOLD", "0", "HEALTH_ALERT_AFTER", "5", "HEALTH_HEARTBEAT_HOUR", "9"),
			check: func(t *testing.T, c config.Config) {
				if c.Digest != 0 || c.AlertAfter != 5 || !c.Heartbeat || c.HeartbeatHour != 9 {
					t.Errorf("%+v", c)
				}
			}},
		{name: "bad count", env: env("SLACK_DIGEST_THRESHOLD", "ten"), wantErr: []string{"SLACK_DIGEST_THRESHOLD", "whole number"}},
		{name: "bad hour", env: env("HEALTH_HEARTBEAT_HOUR", "24"), wantErr: []string{"HEALTH_HEARTBEAT_HOUR", "0 to 23"}},
		{name: "bad workspace resource id", env: env("LOG_ANALYTICS_WORKSPACE_RESOURCE_ID", "law-sentinel"), wantErr: []string{"LOG_ANALYTICS_WORKSPACE_RESOURCE_ID"}},
		{name: "log level", env: env("LOG_LEVEL", "debug"),
			check: func(t *testing.T, c config.Config) {
				if c.LogLevel != slog.LevelDebug {
					t.Errorf("%v", c.LogLevel)
				}
			}},
	} {
		t.Run(test.name, func(t *testing.T) {
			c, err := config.Load(test.env)
			if len(test.wantErr) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				if test.check != nil {
					test.check(t, c)
				}
				return
			}
			if err == nil {
				t.Fatal("loaded")
			}
			for _, w := range test.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "secret123") {
				t.Error("secret echoed")
			}
		})
	}
}

func TestSecrets(t *testing.T) {
	c, _ := config.Load(env("DEDUP_TABLE_CONNECTION", "AccountName=a;AccountKey=c2VjcmV0a2V5;TableEndpoint=http://127.0.0.1:1/a", "SLACK_BOT_TOKEN", "xoxb-t", "SLACK_CHANNEL", "C"))
	got := strings.Join(c.Secrets(), "|")
	for _, want := range []string{"c2VjcmV0a2V5", "xoxb-t", "AccountName=a"} {
		if !strings.Contains(got, want) {
			t.Errorf("secrets %q lack %q", got, want)
		}
	}
}

func TestSeverityWebhooksAreSecrets(t *testing.T) {
	c, err := config.Load(env("SLACK_WEBHOOK_URL", "https://hooks.slack.com/services/T/B/default", "SLACK_WEBHOOK_URL_HIGH", "https://hooks.slack.com/services/T/B/urgent"))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(c.Secrets(), "|"); !strings.Contains(got, "/T/B/urgent") || c.SlackWebhooks["high"] == "" {
		t.Errorf("secrets %q, webhooks %v", got, c.SlackWebhooks)
	}
}

// A Key Vault reference the platform could not resolve arrives as its own text: start-up says so,
// naming the setting, instead of Slack's invalid_auth an hour later.
func TestUnresolvedKeyVaultReference(t *testing.T) {
	ref := "@Microsoft.KeyVault(SecretUri=https://kv-huntwatch.vault.azure.net/secrets/slack-token/)"
	_, err := config.Load(env("SLACK_BOT_TOKEN", ref, "SLACK_CHANNEL", "C1"))
	if err == nil || !strings.Contains(err.Error(), "SLACK_BOT_TOKEN") || !strings.Contains(err.Error(), "Key Vault reference") {
		t.Fatalf("err %v", err)
	}
	_, err = config.Load(env("SLACK_WEBHOOK_URL", ref))
	if err == nil || !strings.Contains(err.Error(), "SLACK_WEBHOOK_URL is a Key Vault reference") {
		t.Errorf("webhook: err %v", err)
	}
}
