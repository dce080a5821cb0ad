package main

import (
	"flag"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// visibleFlags returns, by command, the flags its usage text shows.
func visibleFlags() map[string][]string {
	all := map[string][]string{}
	for _, c := range commands {
		fs, _ := c.flagSet(env{})
		all[c.name] = []string{}
		c.visible(fs, func(f *flag.Flag) { all[c.name] = append(all[c.name], "--"+f.Name) })
	}
	return all
}

// --help, -h and "help COMMAND" print that command's usage, with each of its flags, to stdout and
// exit 0, for every command.
func TestEveryCommandHasHelp(t *testing.T) {
	for name, flags := range visibleFlags() {
		for _, args := range [][]string{{name, "--help"}, {name, "-h"}, {"help", name}} {
			code, out, errOut := runMain(t, nil, args...)
			if code != 0 || !strings.HasPrefix(out, "Usage: huntwatch "+name) || errOut != "" {
				t.Errorf("%q: exit %d\nstdout:\n%s\nstderr:\n%s", args, code, out, errOut)
				continue
			}
			for _, f := range flags {
				if !strings.Contains(out, "\n  "+f) {
					t.Errorf("%q does not document %s:\n%s", args, f, out)
				}
			}
		}
	}
}

// flagToken is a flag as the docs write it.
var flagToken = regexp.MustCompile(`--[a-z][a-z-]*[a-z]`)

// The top-level usage, the README's command list and the flag sets agree: the README lists each
// command's usage line as --help prints it (so every flag of every command), and neither names a
// flag no command has.
func TestUsageAndReadmeNameEveryFlag(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## Commands\n")
	if !ok {
		t.Fatal(`README has no "## Commands" section`)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	_, help, _ := runMain(t, nil, "--help")

	known := []string{"--help"}
	for _, c := range commands {
		fs, _ := c.flagSet(env{})
		line := c.synopsis(fs)
		if !strings.Contains(section, "\n"+line+"\n") {
			t.Errorf("README's command list lacks the line\n%s", line)
		}
		if !strings.Contains(help, "\n  "+line+"\n") {
			t.Errorf("--help lacks the line\n%s", line)
		}
		c.visible(fs, func(f *flag.Flag) {
			known = append(known, "--"+f.Name)
			if !strings.Contains(line, "[--"+f.Name) {
				t.Errorf("the usage line of %s lacks --%s: %s", c.name, f.Name, line)
			}
		})
	}
	for doc, text := range map[string]string{"README": section, "--help": help} {
		for _, f := range flagToken.FindAllString(text, -1) {
			if !slices.Contains(known, f) {
				t.Errorf("%s names %s, which no command has", doc, f)
			}
		}
	}
	// The test command the help suggests is the README's.
	if !strings.Contains(help, "Tests:  make test") || !strings.Contains(string(readme), "make test ") {
		t.Error("the help and the README do not name the same test command")
	}
}

// The README's Go requirement is go.mod's: the go line and the toolchain a fresh machine fetches.
func TestReadmeStatesTheGoToolchain(t *testing.T) {
	mod, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	goLine := regexp.MustCompile(`(?m)^go (\S+)$`).FindSubmatch(mod)
	toolchain := regexp.MustCompile(`(?m)^toolchain (\S+)$`).FindSubmatch(mod)
	if goLine == nil || toolchain == nil {
		t.Fatalf("go.mod has no go or toolchain line:\n%s", mod)
	}
	for _, want := range []string{"Go " + string(goLine[1]), string(toolchain[1]), "GOTOOLCHAIN"} {
		if !strings.Contains(string(readme), want) {
			t.Errorf("README does not say %q (go.mod: go %s, toolchain %s)", want, goLine[1], toolchain[1])
		}
	}
}
