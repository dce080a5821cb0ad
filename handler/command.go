package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/huntwatch/huntwatch/handler/config"
)

// A command is one subcommand. Its flag.FlagSet is the one source of its flags: Main parses
// with it, and its --help and the top-level usage are written from it.
type command struct {
	name string
	// args names the positional arguments in the usage line; minArgs and maxArgs bound their
	// number (maxArgs -1: no bound). Any other number is a usage error.
	args             string
	minArgs, maxArgs int
	summary          string   // what it does, for the usage text: lines of at most 86 columns
	hidden           []string // flags left out of the usage text: knobs of the test and benchmark suites
	// setup defines the command's flags on fs and returns its body, which runs once they are
	// parsed, with the positional arguments.
	setup func(fs *flag.FlagSet, e env) func(ctx context.Context, args []string) error
}

// env is what a command gets from the process besides its arguments.
type env struct {
	getenv         func(string) string
	stdout, stderr io.Writer
}

// main runs c with args and returns the exit code: 0; 1 when the command failed; 2 on a usage
// error (an unknown flag, a bad flag value, a wrong number of arguments), after the usage.
func (c command) main(ctx context.Context, args []string, e env) int {
	fs, body := c.flagSet(e)
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		c.usage(e.stdout, fs)
		return 0
	}
	if err == nil {
		err = c.checkArgs(fs.Args())
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "huntwatch %s: %v\n\n", c.name, err)
		c.usage(e.stderr, fs)
		return 2
	}
	if err := body(ctx, fs.Args()); err != nil {
		fmt.Fprintf(e.stderr, "huntwatch %s: %v\n", c.name, err)
		return 1
	}
	return 0
}

func (c command) flagSet(e env) (*flag.FlagSet, func(context.Context, []string) error) {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors and usage are written by main
	fs.Usage = func() {}
	return fs, c.setup(fs, e)
}

func (c command) checkArgs(args []string) error {
	n := len(args)
	if n >= c.minArgs && (c.maxArgs < 0 || n <= c.maxArgs) {
		return nil
	}
	if n < c.minArgs {
		return fmt.Errorf("missing argument %s", c.args)
	}
	extra := args[c.maxArgs]
	hint := ""
	if strings.HasPrefix(extra, "-") {
		hint = " (flags go before arguments)"
	}
	if c.maxArgs == 0 {
		return fmt.Errorf("unexpected argument %q: %s takes none%s", extra, c.name, hint)
	}
	return fmt.Errorf("unexpected argument %q: %s takes %s%s", extra, c.name, c.args, hint)
}

// visible calls fn for each flag of the usage text, in lexical order.
func (c command) visible(fs *flag.FlagSet, fn func(f *flag.Flag)) {
	fs.VisitAll(func(f *flag.Flag) {
		if !slices.Contains(c.hidden, f.Name) {
			fn(f)
		}
	})
}

// synopsis is the command's usage line: huntwatch NAME [--flag VALUE]... ARGS.
func (c command) synopsis(fs *flag.FlagSet) string {
	var b strings.Builder
	b.WriteString("huntwatch " + c.name)
	c.visible(fs, func(f *flag.Flag) { fmt.Fprintf(&b, " [%s]", flagName(f)) })
	if c.args != "" {
		b.WriteString(" " + c.args)
	}
	return b.String()
}

// flagName is --name, followed by the flag's value name when it takes one: the backquoted word
// of its usage, or its type.
func flagName(f *flag.Flag) string {
	name, _ := flag.UnquoteUsage(f)
	if name == "" {
		return "--" + f.Name
	}
	return "--" + f.Name + " " + name
}

// usage writes the command's help: its usage line, what it does, and each flag.
func (c command) usage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: %s\n\n%s\n", c.synopsis(fs), c.summary)
	first := true
	c.visible(fs, func(f *flag.Flag) {
		if first {
			fmt.Fprint(w, "\nFlags:\n")
			first = false
		}
		_, text := flag.UnquoteUsage(f)
		if def := f.DefValue; def != "" && def != "false" && def != "0" && def != "0s" {
			text += " (default " + def + ")"
		}
		fmt.Fprintf(w, "  %s\n        %s\n", flagName(f), strings.ReplaceAll(text, "\n", "\n        "))
	})
}

// usage writes the top-level help: every command's usage line and summary, then the settings.
func usage(w io.Writer) {
	fmt.Fprint(w, `huntwatch runs a pack of Microsoft Sentinel hunts and analytics rules on a schedule, remembers
each finding's fingerprint in Azure Table Storage, and posts every new finding to Slack.

Usage:
`)
	for _, c := range commands {
		fs, _ := c.flagSet(env{})
		fmt.Fprintf(w, "  %s\n        %s\n", c.synopsis(fs), strings.ReplaceAll(c.summary, "\n", "\n        "))
	}
	fmt.Fprint(w, `  huntwatch help [COMMAND]
        this text, or one command's flags in full (as huntwatch COMMAND --help).

Local sample mode: without LOG_ANALYTICS_WORKSPACE_ID, run, serve, query and preview read the
exported logs in --logs (default `+defaultLogs+`) with the embedded KQL engine, typed by the table
schemas built into the binary (--schemas DIR adds tables or overrides them). The logs are a
recording, so their newest row sets the clock: "now" is its TimeGenerated + HUNT_SETTLE + 1m,
which puts that row inside the window (the window ends HUNT_SETTLE before now), whatever today's
date is; --now T pins the clock instead.

Settings (environment variables; Azure Functions app settings):
`)
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	for _, s := range config.Settings {
		def := s.Default
		if def != "" {
			def = "(default " + def + ")"
		}
		fmt.Fprintf(tw, "  %s\t%s %s\n", s.Name, s.Help, def)
	}
	tw.Flush()
	fmt.Fprint(w, `
Local quick start:  go run ./handler run      Tests:  make test
`)
}
