package config_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/huntwatch/huntwatch/handler/config"
)

// The three places that name app settings, relative to this package's directory.
var (
	samplePath = filepath.Join("..", "..", "local.settings.sample.json")
	bicepPath  = filepath.Join("..", "..", "infra", "main.bicep")
)

const (
	srcCode   = "config.Settings in handler/config/config.go"
	srcSample = "the Values of local.settings.sample.json"
	srcBicep  = "var appSettings in infra/main.bicep"
)

// hostOnly lists the settings that belong to the Functions host or the platform, not to huntwatch:
// the comparison ignores them wherever they appear. An entry ending in "*" is a prefix.
var hostOnly = []string{
	"AzureWebJobsStorage*",  // host storage: a connection string locally, identity-based in Azure
	"FUNCTIONS_*",           // FUNCTIONS_WORKER_RUNTIME locally; Flex Consumption sets the runtime itself
	"APPLICATIONINSIGHTS_*", // connection and Entra authentication strings for the host's telemetry
	"GOMEMLIMIT",            // the Go runtime's soft memory limit, from the instance size
}

// omitFromBicep lists settings of config.Settings that infra/main.bicep may leave out, with the
// reason: only a setting whose default is right in Azure belongs here. Prefer setting them all.
var omitFromBicep = map[string]string{}

func isHostOnly(name string) bool {
	for _, p := range hostOnly {
		if prefix, ok := strings.CutSuffix(p, "*"); ok {
			if strings.HasPrefix(name, prefix) {
				return true
			}
		} else if name == p {
			return true
		}
	}
	return false
}

// TestSettingsInSync fails when a setting is named in one of config.Settings,
// local.settings.sample.json and infra/main.bicep but not in the others.
func TestSettingsInSync(t *testing.T) {
	code := map[string]bool{}
	for _, s := range config.Settings {
		if code[s.Name] {
			t.Errorf("setting %s is listed twice in %s", s.Name, srcCode)
		}
		code[s.Name] = true
	}
	sample := sampleValues(t)
	bicep := bicepAppSettings(t)

	sources := []struct {
		name string
		has  func(string) bool
	}{
		{srcCode, func(n string) bool { return code[n] }},
		{srcSample, func(n string) bool { _, ok := sample[n]; return ok }},
		{srcBicep, func(n string) bool { _, ok := bicep[n]; return ok || omitFromBicep[n] != "" }},
	}

	all := map[string]bool{}
	for n := range code {
		all[n] = true
	}
	for n := range sample {
		all[n] = true
	}
	for n := range bicep {
		all[n] = true
	}
	for _, name := range sortedKeys(all) {
		if isHostOnly(name) {
			continue
		}
		var in, missing []string
		for _, src := range sources {
			if src.has(name) {
				in = append(in, src.name)
			} else {
				missing = append(missing, src.name)
			}
		}
		for _, m := range missing {
			t.Errorf("setting %s is missing from %s; it is in %s", name, m, strings.Join(in, " and "))
		}
	}

	for name, why := range omitFromBicep {
		if !code[name] {
			t.Errorf("omitFromBicep names %s (%s), which is not in %s", name, why, srcCode)
		}
	}
}

// TestBicepSecretsComeFromKeyVault checks that infra/main.bicep gives every secret setting either
// an empty value or a Key Vault reference, never a literal or a parameter passed straight through.
func TestBicepSecretsComeFromKeyVault(t *testing.T) {
	bicep := bicepAppSettings(t)
	for _, s := range config.Settings {
		if !s.Secret {
			continue
		}
		value, ok := bicep[s.Name]
		if !ok {
			continue // TestSettingsInSync reports it
		}
		if value != "''" && !strings.Contains(strings.ToLower(value), "keyvault") {
			t.Errorf("secret setting %s in %s is %q; want '' or a Key Vault reference", s.Name, srcBicep, value)
		}
	}
}

// TestSampleSettingsLoad checks that local.settings.sample.json is a valid configuration as it stands.
func TestSampleSettingsLoad(t *testing.T) {
	sample := sampleValues(t)
	if _, err := config.Load(func(name string) string { return sample[name] }); err != nil {
		t.Errorf("%s does not pass config.Load:\n%v", samplePath, err)
	}
	for _, want := range []string{"AzureWebJobsStorage", "FUNCTIONS_WORKER_RUNTIME"} {
		if _, ok := sample[want]; !ok {
			t.Errorf("%s lacks %s, which func start needs", samplePath, want)
		}
	}
}

func TestBicepAppSettingsParser(t *testing.T) {
	src := `
var other = {
  NOT_THIS: 'x'
}

// Every setting.
var appSettings = {
  // a comment
  PLAIN: 'value' // trailing comment
  AzureWebJobsStorage__accountName: storage.name
  'QUOTED': ''
  WITH_BRACES: '@Microsoft.KeyVault(SecretUri=${secret.properties.secretUri})'
  NESTED: {
    INNER: 1
  }
  LAST: a == 'b' ? c : ''
}

var after = {
  NOR_THIS: 1
}
`
	got, err := parseBicepObject(src, "appSettings")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"PLAIN":                            "'value'",
		"AzureWebJobsStorage__accountName": "storage.name",
		"QUOTED":                           "''",
		"WITH_BRACES":                      "'@Microsoft.KeyVault(SecretUri=${secret.properties.secretUri})'",
		"NESTED":                           "{",
		"LAST":                             "a == 'b' ? c : ''",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("parseBicepObject:\n got %v\nwant %v", got, want)
	}
	if _, err := parseBicepObject(src, "missing"); err == nil {
		t.Error("parseBicepObject found a variable that is not there")
	}
}

func sampleValues(t *testing.T) map[string]string {
	t.Helper()
	data, err := os.ReadFile(samplePath)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		IsEncrypted bool
		Values      map[string]string
	}
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatalf("%s: %v", samplePath, err)
	}
	if f.Values == nil {
		t.Fatalf("%s has no Values object", samplePath)
	}
	return f.Values
}

func bicepAppSettings(t *testing.T) map[string]string {
	t.Helper()
	data, err := os.ReadFile(bicepPath)
	if err != nil {
		t.Fatal(err)
	}
	settings, err := parseBicepObject(string(data), "appSettings")
	if err != nil {
		t.Fatalf("%s: %v", bicepPath, err)
	}
	if len(settings) == 0 {
		t.Fatalf("%s: var appSettings has no keys", bicepPath)
	}
	return settings
}

var bicepKey = regexp.MustCompile(`^\s*([A-Za-z_][A-Za-z0-9_]*|'[^']*')\s*:\s*(.*)$`)

// parseBicepObject returns the top-level keys of the object literal assigned to `var <name> = {`,
// each with the text of its value (comments dropped). It understands line comments and
// single-quoted strings, including ${...} interpolation, which is enough for one key per line.
func parseBicepObject(src, name string) (map[string]string, error) {
	start := regexp.MustCompile(`(?m)^var\s+` + regexp.QuoteMeta(name) + `\s*=\s*\{\s*(//.*)?$`)
	loc := start.FindStringIndex(src)
	if loc == nil {
		return nil, fmt.Errorf("no line `var %s = {`", name)
	}
	keys := map[string]string{}
	depth := 1
	for _, line := range strings.Split(src[loc[1]:], "\n") {
		code, opens, closes := stripBicepLine(line)
		if depth == 1 {
			if m := bicepKey.FindStringSubmatch(code); m != nil {
				keys[strings.Trim(m[1], "'")] = strings.TrimSpace(m[2])
			}
		}
		depth += opens - closes
		if depth <= 0 {
			return keys, nil
		}
	}
	return nil, fmt.Errorf("var %s: no closing brace", name)
}

// stripBicepLine drops a trailing line comment and counts the braces outside string literals.
func stripBicepLine(line string) (code string, opens, closes int) {
	inString := false
	interp := 0 // depth of ${...} inside the current string
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case inString && interp == 0:
			switch {
			case c == '\\':
				i++
			case c == '\'':
				inString = false
			case c == '$' && i+1 < len(line) && line[i+1] == '{':
				interp++
				i++
			}
		case inString: // inside ${...}
			switch c {
			case '{':
				interp++
			case '}':
				interp--
			}
		default:
			switch {
			case c == '\'':
				inString = true
			case c == '/' && i+1 < len(line) && line[i+1] == '/':
				return strings.TrimRight(line[:i], " \t"), opens, closes
			case c == '{':
				opens++
			case c == '}':
				closes++
			}
		}
	}
	return strings.TrimRight(line, " \t"), opens, closes
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// TestReadmeNamesEverySetting: the README's settings table names every setting by its full name.
func TestReadmeNamesEverySetting(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var table []string
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "| ") {
			table = append(table, strings.SplitN(line, "|", 3)[1])
		}
	}
	rows := strings.Join(table, "\n")
	for _, s := range config.Settings {
		if !regexp.MustCompile(`\b` + s.Name + `\b`).MatchString(rows) {
			t.Errorf("setting %s is not in the first column of README's settings table", s.Name)
		}
	}
}
