package infra_test

// Users' own hunts in the package: `HUNTS_DIR=DIR bash infra/package.sh` validates DIR with the
// project's validator, then puts its hunt files into the zip under hunts/, and HUNTS=hunts loads them
// from the app root, the working directory the Functions host gives the handler (docs/deploy.md,
// "Your own hunts"). The checker's side (what may sit under hunts/) is in TestCheckPackage.

import (
	"archive/zip"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"
)

// huntsDir writes a HUNTS_DIR: the given files (path relative to the folder: source in testdata),
// each with mode 0600 so that the package's 0644 is package.sh's doing.
func huntsDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for rel, src := range files {
		data := []byte("not a hunt\n")
		if src != "" {
			var err error
			if data, err = os.ReadFile(filepath.Join("..", "testdata", "hunts", src)); err != nil {
				t.Fatal(err)
			}
		}
		path := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// packageWith runs infra/package.sh with HUNTS_DIR=dir, writing zipPath.
func packageWith(t *testing.T, dir, zipPath string) (string, error) {
	t.Helper()
	cmd := exec.Command("bash", "package.sh", zipPath)
	cmd.Env = append(os.Environ(), "HUNTS_DIR="+dir)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// zipFiles lists the zip's files (not its folder entries), sorted.
func zipFiles(t *testing.T, zipPath string) []string {
	t.Helper()
	z, err := zip.OpenReader(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	defer z.Close()
	var names []string
	for _, f := range z.File {
		if !f.FileInfo().IsDir() {
			names = append(names, f.Name)
		}
	}
	sort.Strings(names)
	return names
}

func needPackageBuild(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the package (-short)")
	}
	needTools(t, "bash", "python3")
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Skipf("the package is linux/amd64; this is %s/%s", runtime.GOOS, runtime.GOARCH)
	}
}

// TestPackageWithOwnHunts builds one package from a HUNTS_DIR holding two valid hunts (one in a
// subfolder, one *.yml) beside files package.sh must leave out: a broken hunt in a dot-file and in a
// dot-folder (validation would fail if they were read) and a README. The zip holds exactly the two
// hunts under hunts/, relative paths kept, mode 0644, contents unchanged; the checker accepts it;
// and the packaged binary, started from the unpacked read-only app root with HUNTS=hunts, validates
// both and serves with them.
func TestPackageWithOwnHunts(t *testing.T) {
	needPackageBuild(t)
	dir := huntsDir(t, map[string]string{
		"azure/vm-extension-changes.yaml": "vm-extension-changes.yaml",
		"powershell-cradle.yml":           "powershell-download-cradle.yaml",
		".draft.yaml":                     "broken-syntax.yaml",
		".wip/broken.yaml":                "broken-syntax.yaml",
		"README.md":                       "",
	})
	zipPath := filepath.Join(t.TempDir(), "huntwatch.zip")
	out, err := packageWith(t, dir, zipPath)
	if err != nil {
		t.Fatalf("package.sh with HUNTS_DIR: %v\n%s", err, out)
	}
	for _, want := range []string{"ok   " + filepath.Join(dir, "azure", "vm-extension-changes.yaml"), "ok   " + filepath.Join(dir, "powershell-cradle.yml"), "2 hunt file(s)"} {
		if !strings.Contains(out, want) {
			t.Errorf("package.sh output lacks %q:\n%s", want, out)
		}
	}

	t.Run("hunts under hunts/ with mode 0644", func(t *testing.T) {
		want := []string{"function/function.json", "host.json", "hunts/azure/vm-extension-changes.yaml", "hunts/powershell-cradle.yml", "huntwatch"} // sorted
		if got := zipFiles(t, zipPath); !slices.Equal(got, want) {
			t.Errorf("the package holds %q, want %q", got, want)
		}
		z, err := zip.OpenReader(zipPath)
		if err != nil {
			t.Fatal(err)
		}
		defer z.Close()
		for _, f := range z.File {
			if !strings.HasPrefix(f.Name, "hunts/") {
				continue
			}
			if f.FileInfo().IsDir() {
				if f.Mode().Perm() != 0o755 {
					t.Errorf("folder %s has mode %04o, want 0755", f.Name, f.Mode().Perm())
				}
				continue
			}
			if !f.Mode().IsRegular() || f.Mode().Perm() != 0o644 {
				t.Errorf("%s has mode %v, want a regular file with 0644", f.Name, f.Mode())
			}
			r, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(r)
			r.Close()
			src, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(strings.TrimPrefix(f.Name, "hunts/"))))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(src) {
				t.Errorf("%s differs from the file in HUNTS_DIR", f.Name)
			}
		}
	})

	t.Run("the checker accepts it", func(t *testing.T) {
		out, err := exec.Command("bash", "check-package.sh", zipPath).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "2 hunt file(s) under hunts/") {
			t.Errorf("check-package.sh: %v\n%s", err, out)
		}
	})

	app := unpack(t, zipPath, false)
	desc := hostDescription(t, app)
	validate := func(t *testing.T, cwd string) (string, error) {
		t.Helper()
		cmd := exec.Command(filepath.Join(app, desc.DefaultExecutablePath), "validate")
		cmd.Dir = cwd
		cmd.Env = []string{"PATH=/usr/bin:/bin", "HUNTS=hunts"}
		out, err := cmd.CombinedOutput()
		return string(out), err
	}

	t.Run("HUNTS=hunts from the app root", func(t *testing.T) {
		out, err := validate(t, app)
		if err != nil {
			t.Fatalf("huntwatch validate with HUNTS=hunts in the app root: %v\n%s", err, out)
		}
		for _, file := range []string{"hunts/azure/vm-extension-changes.yaml", "hunts/powershell-cradle.yml"} {
			if !regexp.MustCompile(`(?m)^ok\s+` + regexp.QuoteMeta(file) + `\b`).MatchString(out) {
				t.Errorf("validate does not report %s ok:\n%s", file, out)
			}
		}
	})

	t.Run("HUNTS=hunts from another folder finds nothing", func(t *testing.T) {
		// The control: the relative name resolves against the working directory, so the app root is
		// what makes the previous subtest pass.
		out, err := validate(t, t.TempDir())
		if err == nil || !strings.Contains(out, "FAIL") {
			t.Errorf("validate outside the app root: err %v, want a FAIL for the missing hunts folder:\n%s", err, out)
		}
	})

	t.Run("serve with HUNTS=hunts", func(t *testing.T) {
		// serve refuses to start when no hunt of the pack loads, so an answer means hunts/ was read.
		took := startHandler(t, app, desc, append(azureSettings(t), "HUNTS=hunts"))
		t.Logf("ready after %s with HUNTS=hunts", took)
	})
}

// TestPackageRefusesBrokenHunt: a HUNTS_DIR holding a hunt the validator FAILs stops package.sh
// before the build, with the validator's FAIL line naming the file, and leaves no zip behind (not
// even the one a previous build wrote there). A HUNTS_DIR that is not a folder stops it too.
func TestPackageRefusesBrokenHunt(t *testing.T) {
	needPackageBuild(t)
	t.Run("a hunt that does not validate", func(t *testing.T) {
		dir := huntsDir(t, map[string]string{
			"good.yaml":       "vm-extension-changes.yaml",
			"team/broken.yml": "broken-syntax.yaml",
		})
		zipPath := filepath.Join(t.TempDir(), "huntwatch.zip")
		writeZip(t, zipPath, goodPackage()) // a stale package from an earlier build
		out, err := packageWith(t, dir, zipPath)
		if err == nil {
			t.Fatalf("package.sh accepted a broken hunt:\n%s", out)
		}
		if want := "FAIL " + filepath.Join(dir, "team", "broken.yml"); !strings.Contains(out, want) {
			t.Errorf("output lacks the validator's %q:\n%s", want, out)
		}
		if !strings.Contains(out, "no package written") {
			t.Errorf("output does not say that no package was written:\n%s", out)
		}
		if strings.Contains(out, "building linux/amd64 binary") {
			t.Errorf("package.sh built the binary before refusing the hunts:\n%s", out)
		}
		if _, err := os.Stat(zipPath); !os.IsNotExist(err) {
			t.Errorf("a zip is left at %s (stat: %v)", zipPath, err)
		}
	})
	t.Run("HUNTS_DIR is not a folder", func(t *testing.T) {
		zipPath := filepath.Join(t.TempDir(), "huntwatch.zip")
		writeZip(t, zipPath, goodPackage())
		out, err := packageWith(t, filepath.Join(t.TempDir(), "missing"), zipPath)
		if err == nil || !strings.Contains(out, "is not a folder") {
			t.Errorf("err %v, output:\n%s", err, out)
		}
		if _, err := os.Stat(zipPath); !os.IsNotExist(err) {
			t.Errorf("a zip is left at %s (stat: %v)", zipPath, err)
		}
	})
}
