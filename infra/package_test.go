package infra_test

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startupLimit is Flex Consumption's time-out for app initialization: the handler must answer on
// its port well within it.
const startupLimit = 30 * time.Second

// zipEntry is one file of a test package.
type zipEntry struct {
	name    string
	mode    fs.FileMode
	data    []byte
	windows bool // written as a Windows zipper does: no unix mode at all
}

// elfAMD64 is the start of a linux/amd64 executable: what check-package.sh reads of huntwatch.
func elfHeader(machine uint16) []byte {
	h := make([]byte, 64)
	copy(h, "\x7fELF")
	h[4], h[5], h[6] = 2, 1, 1 // 64-bit, little-endian, version 1
	h[16] = 2                  // ET_EXEC
	h[18], h[19] = byte(machine), byte(machine>>8)
	return h
}

const (
	goodHost     = `{"version":"2.0","customHandler":{"description":{"defaultExecutablePath":"huntwatch","arguments":["serve"]}}}`
	goodFunction = `{"bindings":[{"name":"timer","type":"timerTrigger","direction":"in","schedule":"%HUNT_SCHEDULE%"}]}`
)

func goodPackage() []zipEntry {
	return []zipEntry{
		{name: "host.json", mode: 0o644, data: []byte(goodHost)},
		{name: "function/function.json", mode: 0o644, data: []byte(goodFunction)},
		{name: "huntwatch", mode: 0o755, data: elfHeader(0x3E)},
	}
}

func writeZip(t *testing.T, path string, entries []zipEntry) {
	t.Helper()
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		if e.windows {
			h.CreatorVersion = 20 // FAT (0) in the high byte: no unix mode
		} else {
			h.SetMode(e.mode)
		}
		f, err := w.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		f.Write(e.data)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func needTools(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed: %v", tool, err)
		}
	}
}

// TestCheckPackage runs infra/check-package.sh on a good package and on packages broken the ways
// a hand-made or Windows-made zip breaks.
func TestCheckPackage(t *testing.T) {
	needTools(t, "bash", "python3")
	replace := func(name string, e zipEntry) []zipEntry {
		var out []zipEntry
		for _, g := range goodPackage() {
			if g.name == name {
				if e.name != "" {
					out = append(out, e)
				}
				continue
			}
			out = append(out, g)
		}
		return out
	}
	for _, test := range []struct {
		name    string
		entries []zipEntry
		want    string // "" = accepted
	}{
		{"good", goodPackage(), ""},
		{"no exec bit", replace("huntwatch", zipEntry{name: "huntwatch", mode: 0o644, data: elfHeader(0x3E)}), "huntwatch has mode 0644 in the archive, want 0755"},
		{"zipped on Windows", replace("huntwatch", zipEntry{name: "huntwatch", windows: true, data: elfHeader(0x3E)}), "no unix mode in the archive"},
		{"group-writable", replace("huntwatch", zipEntry{name: "huntwatch", mode: 0o775, data: elfHeader(0x3E)}), "mode 0775"},
		{"not an executable", replace("huntwatch", zipEntry{name: "huntwatch", mode: 0o755, data: []byte("#!/bin/sh\nexec ./other\n")}), "not an ELF executable"},
		{"built for arm64", replace("huntwatch", zipEntry{name: "huntwatch", mode: 0o755, data: elfHeader(0xB7)}), "not a 64-bit little-endian x86-64 ELF"},
		{"no function.json", replace("function/function.json", zipEntry{}), "missing function/function.json"},
		{"a folder around everything", []zipEntry{
			{name: "huntwatch-pkg/host.json", mode: 0o644, data: []byte(goodHost)},
			{name: "huntwatch-pkg/function/function.json", mode: 0o644, data: []byte(goodFunction)},
			{name: "huntwatch-pkg/huntwatch", mode: 0o755, data: elfHeader(0x3E)},
		}, "zip the folder's contents, not the folder"},
		{"local settings shipped", append(goodPackage(), zipEntry{name: "local.settings.json", mode: 0o644, data: []byte(`{"Values":{}}`)}), "unexpected entries local.settings.json"},
		{"host.json names another executable", replace("host.json", zipEntry{name: "host.json", mode: 0o644, data: []byte(strings.Replace(goodHost, `"huntwatch"`, `"handler"`, 1))}), "defaultExecutablePath is 'handler'"},
		{"host.json without serve", replace("host.json", zipEntry{name: "host.json", mode: 0o644, data: []byte(strings.Replace(goodHost, `["serve"]`, `[]`, 1))}), "want 'serve' first"},
		{"host.json broken", replace("host.json", zipEntry{name: "host.json", mode: 0o644, data: []byte(`{"version":`)}), "host.json is not valid JSON"},
		{"no timer", replace("function/function.json", zipEntry{name: "function/function.json", mode: 0o644, data: []byte(`{"bindings":[{"type":"httpTrigger"}]}`)}), "no timerTrigger binding"},
		{"own hunts", append(goodPackage(),
			zipEntry{name: "hunts/", mode: fs.ModeDir | 0o755},
			zipEntry{name: "hunts/extensions.yaml", mode: 0o644, data: []byte("name: a\n")},
			zipEntry{name: "hunts/team/nested/rule.YML", mode: 0o644, data: []byte("name: b\n")},
		), ""},
		{"a stray file under hunts", append(goodPackage(),
			zipEntry{name: "hunts/extensions.yaml", mode: 0o644, data: []byte("name: a\n")},
			zipEntry{name: "hunts/README.md", mode: 0o644, data: []byte("# notes\n")},
		), "unexpected entries hunts/README.md"},
		{"a dot-file under hunts", append(goodPackage(), zipEntry{name: "hunts/.draft.yaml", mode: 0o644, data: []byte("name: a\n")}), "unexpected entries hunts/.draft.yaml"},
		{"a hidden folder under hunts", append(goodPackage(), zipEntry{name: "hunts/.git/x.yaml", mode: 0o644, data: []byte("name: a\n")}), "unexpected entries hunts/.git/x.yaml"},
		{"a path out of hunts", append(goodPackage(), zipEntry{name: "hunts/../x.yaml", mode: 0o644, data: []byte("name: a\n")}), "unexpected entries hunts/../x.yaml"},
		{"a hunt outside hunts/", append(goodPackage(), zipEntry{name: "my-hunt.yaml", mode: 0o644, data: []byte("name: a\n")}), "unexpected entries my-hunt.yaml"},
		{"a hunt only its owner can read", append(goodPackage(), zipEntry{name: "hunts/a.yaml", mode: 0o600, data: []byte("name: a\n")}), "hunts/a.yaml has mode 0600 in the archive, want 0644"},
		{"a hunt zipped on Windows", append(goodPackage(), zipEntry{name: "hunts/a.yaml", windows: true, data: []byte("name: a\n")}), "hunts/a.yaml has no unix mode"},
		{"a hunts folder only its owner can read", append(goodPackage(),
			zipEntry{name: "hunts/", mode: fs.ModeDir | 0o700},
			zipEntry{name: "hunts/a.yaml", mode: 0o644, data: []byte("name: a\n")},
		), "folder hunts/ has mode 0700 in the archive, want 0755"},
		{"runOnStartup", replace("function/function.json", zipEntry{name: "function/function.json", mode: 0o644, data: []byte(strings.Replace(goodFunction, `"in",`, `"in","runOnStartup":true,`, 1))}), "sets runOnStartup"},
	} {
		t.Run(test.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "huntwatch.zip")
			writeZip(t, path, test.entries)
			out, err := exec.Command("bash", "check-package.sh", path).CombinedOutput()
			switch {
			case test.want == "" && err != nil:
				t.Errorf("check-package.sh refused a good package: %v\n%s", err, out)
			case test.want != "" && err == nil:
				t.Errorf("check-package.sh accepted it; want %q\n%s", test.want, out)
			case test.want != "" && !strings.Contains(string(out), test.want):
				t.Errorf("check-package.sh output lacks %q:\n%s", test.want, out)
			}
		})
	}
	t.Run("not a zip", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "huntwatch.zip")
		os.WriteFile(path, []byte("not a zip"), 0o644)
		if out, err := exec.Command("bash", "check-package.sh", path).CombinedOutput(); err == nil || !strings.Contains(string(out), "not a zip archive") {
			t.Errorf("want 'not a zip archive', got %v\n%s", err, out)
		}
	})
}

// fakeAz is an `az` that records its arguments, one call a line, and answers the few queries
// deploy.sh makes. FAKE_AZ_TIER is the plan's sku tier it reports.
const fakeAz = `#!/usr/bin/env bash
printf '%s\n' "$*" >>"$FAKE_AZ_LOG"
case "$*" in
"deployment group show"*) echo func-huntwatch-fromdeployment ;;
"functionapp show"*) echo /subscriptions/s/resourceGroups/rg/providers/Microsoft.Web/serverfarms/plan ;;
"resource show"*) echo "$FAKE_AZ_TIER" ;;
"functionapp deployment source config-zip"*) echo '{"status": 4}' ;;
"functionapp function list"*) echo "$FAKE_AZ_APP/function" ;;
*) echo "fake az: unexpected call: $*" >&2; exit 3 ;;
esac
`

// TestDeployScript runs infra/deploy.sh against a fake az: a good package is checked and then
// uploaded with config-zip; a broken package, or an app on another plan, is never uploaded.
func TestDeployScript(t *testing.T) {
	needTools(t, "bash", "python3")
	bin := t.TempDir()
	if err := os.WriteFile(filepath.Join(bin, "az"), []byte(fakeAz), 0o755); err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(t.TempDir(), "good.zip")
	writeZip(t, good, goodPackage())
	noExec := filepath.Join(t.TempDir(), "noexec.zip")
	entries := goodPackage()
	entries[2].mode = 0o644
	writeZip(t, noExec, entries)

	run := func(t *testing.T, tier string, args ...string) (string, []string, error) {
		t.Helper()
		log := filepath.Join(t.TempDir(), "az.log")
		cmd := exec.Command("bash", append([]string{"deploy.sh"}, args...)...)
		cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
			"FAKE_AZ_LOG="+log, "FAKE_AZ_TIER="+tier, "FAKE_AZ_APP=func-x",
			"AZURE_RESOURCE_GROUP=", "AZURE_FUNCTION_APP_NAME=")
		out, err := cmd.CombinedOutput()
		calls, _ := os.ReadFile(log)
		return string(out), strings.Split(strings.TrimSpace(string(calls)), "\n"), err
	}
	uploaded := func(calls []string) bool {
		for _, c := range calls {
			if strings.HasPrefix(c, "functionapp deployment source config-zip") {
				return true
			}
		}
		return false
	}

	t.Run("good package", func(t *testing.T) {
		t.Parallel()
		out, calls, err := run(t, "FlexConsumption", "-g", "rg-x", "-n", "func-x", "--zip", good)
		if err != nil {
			t.Fatalf("deploy.sh failed: %v\n%s", err, out)
		}
		want := "functionapp deployment source config-zip -g rg-x -n func-x --src " + good
		if !strings.Contains(strings.Join(calls, "\n"), want) {
			t.Errorf("az calls lack %q:\n%s", want, strings.Join(calls, "\n"))
		}
		if !strings.Contains(out, "check-package: "+good+" ok") || !strings.Contains(out, "the host lists the timer function") {
			t.Errorf("output:\n%s", out)
		}
	})
	t.Run("app name from the deployment output", func(t *testing.T) {
		t.Parallel()
		_, calls, err := run(t, "FlexConsumption", "-g", "rg-x", "--zip", good)
		if err != nil || !strings.Contains(strings.Join(calls, "\n"), "config-zip -g rg-x -n func-huntwatch-fromdeployment") {
			t.Errorf("err %v, calls:\n%s", err, strings.Join(calls, "\n"))
		}
	})
	t.Run("package without exec bit", func(t *testing.T) {
		t.Parallel()
		out, calls, err := run(t, "FlexConsumption", "-g", "rg-x", "-n", "func-x", "--zip", noExec)
		if err == nil || uploaded(calls) {
			t.Errorf("deploy.sh uploaded a package without the exec bit (err %v):\n%s", err, out)
		}
		if !strings.Contains(out, "want 0755") {
			t.Errorf("output does not say why:\n%s", out)
		}
	})
	t.Run("not a Flex Consumption app", func(t *testing.T) {
		t.Parallel()
		out, calls, err := run(t, "Dynamic", "-g", "rg-x", "-n", "func-x", "--zip", good)
		if err == nil || uploaded(calls) {
			t.Errorf("deploy.sh uploaded to a Dynamic plan (err %v):\n%s", err, out)
		}
		if !strings.Contains(out, "not FlexConsumption") {
			t.Errorf("output does not say why:\n%s", out)
		}
	})
	t.Run("no resource group", func(t *testing.T) {
		t.Parallel()
		out, calls, err := run(t, "FlexConsumption", "--zip", good)
		if err == nil || uploaded(calls) || !strings.Contains(out, "no resource group") {
			t.Errorf("err %v, output:\n%s", err, out)
		}
	})
}

// TestPackageStartsWithinLimit builds the real package with infra/package.sh, unpacks it the way
// Flex Consumption mounts it (read-only, modes from the zip), starts the executable host.json names
// with its arguments and Azure-shaped settings whose endpoints lead nowhere, and requires an answer
// on FUNCTIONS_CUSTOMHANDLER_PORT within the platform's 30-second start-up limit. Start-up must not
// wait on the network: Log Analytics, the table, Slack and the identity endpoint are all unreachable
// here. The same binary without its exec bit cannot be started at all.
func TestPackageStartsWithinLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the package (-short)")
	}
	needTools(t, "bash", "python3")
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Skipf("the package is linux/amd64; this is %s/%s", runtime.GOOS, runtime.GOARCH)
	}
	zipPath := filepath.Join(t.TempDir(), "huntwatch.zip")
	build := exec.Command("bash", "package.sh", zipPath)
	build.Env = append(os.Environ(), "HUNTS_DIR=") // the default package, whatever this shell exports
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("package.sh: %v\n%s", err, out)
	}
	if got, want := zipFiles(t, zipPath), []string{"function/function.json", "host.json", "huntwatch"}; !slices.Equal(got, want) {
		t.Errorf("the default package holds %q, want %q (no hunts/ without HUNTS_DIR)", got, want)
	}
	app := unpack(t, zipPath, false)
	desc := hostDescription(t, app)

	took := startHandler(t, app, desc, azureSettings(t))
	t.Logf("ready after %s, from the read-only package with Azure settings (limit %s)", took.Round(time.Millisecond), startupLimit)
	if took > startupLimit/3 {
		t.Errorf("ready after %s: within the limit, but with little margin left for a cold instance", took)
	}

	t.Run("without the exec bit", func(t *testing.T) {
		app := unpack(t, zipPath, true)
		err := exec.Command(filepath.Join(app, desc.DefaultExecutablePath), desc.Arguments...).Start()
		if !errors.Is(err, fs.ErrPermission) {
			t.Errorf("starting a binary stored without its exec bit: got %v, want permission denied (and a read-only mount allows no chmod)", err)
		}
	})
}

// handlerDescription is host.json's customHandler.description: what the host starts.
type handlerDescription struct {
	DefaultExecutablePath string   `json:"defaultExecutablePath"`
	Arguments             []string `json:"arguments"`
	WorkingDirectory      string   `json:"workingDirectory"`
}

func hostDescription(t *testing.T, app string) handlerDescription {
	t.Helper()
	var host struct {
		CustomHandler struct {
			Description handlerDescription `json:"description"`
		} `json:"customHandler"`
	}
	data, err := os.ReadFile(filepath.Join(app, "host.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &host); err != nil {
		t.Fatal(err)
	}
	return host.CustomHandler.Description
}

// startHandler starts the executable host.json names, with its arguments and the given environment
// (plus FUNCTIONS_CUSTOMHANDLER_PORT), from the app root as the host does when workingDirectory is
// empty, and waits for 200 on / within startupLimit; it returns how long that took. The process is
// stopped with SIGTERM when the test ends.
func startHandler(t *testing.T, app string, desc handlerDescription, env []string) time.Duration {
	t.Helper()
	if desc.WorkingDirectory != "" {
		t.Fatalf("host.json sets workingDirectory %q; this test starts the handler from the app root", desc.WorkingDirectory)
	}
	port := freePort(t)
	cmd := exec.Command(filepath.Join(app, desc.DefaultExecutablePath), desc.Arguments...)
	cmd.Dir = app // the host runs it from the app root
	cmd.Env = append(env, "FUNCTIONS_CUSTOMHANDLER_PORT="+port)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	started := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", desc.DefaultExecutablePath, err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})

	client := &http.Client{Timeout: time.Second}
	for {
		resp, err := client.Get("http://127.0.0.1:" + port + "/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Since(started)
			}
		}
		select {
		case <-done:
			t.Fatalf("the handler exited before answering:\nstdout:\n%s\nstderr:\n%s", &stdout, &stderr)
		default:
		}
		if time.Since(started) > startupLimit {
			t.Fatalf("no answer on the port within %s (Flex Consumption's start-up limit):\nstdout:\n%s\nstderr:\n%s", startupLimit, &stdout, &stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// unpack extracts the zip into a new folder with the modes stored in it (or 0644 for every file
// with stripExec), then makes the folder tree read-only, as the platform mounts the package.
func unpack(t *testing.T, zipPath string, stripExec bool) string {
	t.Helper()
	dir := t.TempDir()
	z, err := zip.OpenReader(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	defer z.Close()
	var dirs []string
	for _, f := range z.File {
		path := filepath.Join(dir, filepath.FromSlash(f.Name))
		if f.FileInfo().IsDir() {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, filepath.Dir(path))
		mode := f.Mode().Perm()
		if stripExec {
			mode = 0o644
		}
		r, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(r)
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, data, mode); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range append(dirs, dir) {
		os.Chmod(d, 0o555)
	}
	t.Cleanup(func() { // let t.TempDir remove it
		for _, d := range append(dirs, dir) {
			os.Chmod(d, 0o755)
		}
	})
	return dir
}

// azureSettings are the app settings main.bicep sets, shaped as in Azure, every endpoint pointing
// at a closed local port. Nothing else of this process's environment is passed on.
func azureSettings(t *testing.T) []string {
	closed := "127.0.0.1:" + freePort(t) // nothing listens there
	return []string{
		"PATH=/usr/bin:/bin",
		"LOG_ANALYTICS_WORKSPACE_ID=00000000-0000-0000-0000-000000000001",
		"LOG_ANALYTICS_ENDPOINT=https://" + closed + "/v1",
		"LOG_ANALYTICS_WORKSPACE_RESOURCE_ID=/subscriptions/00000000-0000-0000-0000-000000000003/resourceGroups/rg-sentinel/providers/Microsoft.OperationalInsights/workspaces/sentinel",
		"HUNT_FILE=",
		"HUNT_SCHEDULE=0 0 * * * *",
		"HUNT_LOOKBACK=24h",
		"HUNT_MAX_CATCHUP=168h",
		"HUNT_SETTLE=30m",
		"DEDUP_TABLE_CONNECTION=",
		"DEDUP_TABLE_ENDPOINT=https://" + closed,
		"DEDUP_TABLE_NAME=HuntFindings",
		"DEDUP_TTL=720h",
		"SLACK_BOT_TOKEN=xoxb-0-0-startuptest",
		"SLACK_CHANNEL=C0123456789",
		"SLACK_WEBHOOK_URL=",
		"SLACK_API_URL=https://" + closed + "/api/",
		"SLACK_DIGEST_THRESHOLD=10",
		"HEALTH_ALERT_AFTER=3",
		"HEALTH_HEARTBEAT_HOUR=",
		"AZURE_CLIENT_ID=00000000-0000-0000-0000-000000000002",
		"IDENTITY_ENDPOINT=http://" + closed + "/msi/token",
		"IDENTITY_HEADER=startuptest",
		"LOG_LEVEL=info",
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
}
