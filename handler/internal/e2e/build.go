// Package e2e runs the built huntwatch binary as the Functions host runs it (settings in the
// environment, FUNCTIONS_CUSTOMHANDLER_PORT, readiness on /, timer payloads POSTed to /function)
// against local stand-ins for everything outside it: Azurite, the TLS Log Analytics and managed
// identity fakes (fakeazure) and the local Slack (fakeslack).
//
// How it fits: Build compiles the binary once per test binary; a World starts the fakes and holds
// the settings that point a deployment at them; World.Start runs "huntwatch serve" in that world
// and returns a Process to invoke, signal and read the output of. The end-to-end and reliability
// tests of package main and the benchmarks in handler/bench share it.
package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sync"
	"testing"
)

// handlerPkg is huntwatch's main package.
const handlerPkg = "github.com/huntwatch/huntwatch/handler"

type build struct {
	once sync.Once
	path string
	err  error
}

var (
	buildsMu sync.Mutex
	builds   = map[string]*build{} // by package
	binDir   string                // holds every binary built, until RemoveBinaries
)

// Build returns the huntwatch binary, built once per test binary as infra/package.sh builds it
// (CGO_ENABLED=0, -trimpath, -ldflags "-s -w"): what the tests run and measure is what is deployed.
func Build(tb testing.TB) string {
	tb.Helper()
	return buildAs(tb, handlerPkg, "huntwatch")
}

// BuildPackage is Build for another main package: an import path, or a path relative to the
// test's folder ("./testdata/minserver").
func BuildPackage(tb testing.TB, pkg string) string {
	tb.Helper()
	return buildAs(tb, pkg, path.Base(pkg))
}

func buildAs(tb testing.TB, pkg, name string) string {
	tb.Helper()
	buildsMu.Lock()
	b := builds[pkg]
	if b == nil {
		b = &build{}
		builds[pkg] = b
	}
	buildsMu.Unlock()
	b.once.Do(func() { b.path, b.err = goBuild(pkg, name) })
	if b.err != nil {
		tb.Fatal(b.err)
	}
	return b.path
}

func goBuild(pkg, name string) (string, error) {
	buildsMu.Lock()
	if binDir == "" {
		dir, err := os.MkdirTemp("", "huntwatch-e2e")
		if err != nil {
			buildsMu.Unlock()
			return "", err
		}
		binDir = dir
	}
	out := filepath.Join(binDir, name)
	buildsMu.Unlock()
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %v\n%s", pkg, err, msg)
	}
	return out, nil
}

// RemoveBinaries deletes what Build made; call it from TestMain once m.Run returns.
func RemoveBinaries() {
	buildsMu.Lock()
	defer buildsMu.Unlock()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
}
