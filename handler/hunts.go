package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/huntwatch/huntwatch/handler/hunt"
)

// huntsCommand lists the bundled hunts.
var huntsCommand = command{
	name:    "hunts",
	summary: "list the bundled hunts.",
	setup: func(_ *flag.FlagSet, e env) func(context.Context, []string) error {
		return func(context.Context, []string) error {
			for _, name := range hunt.Bundled() {
				fmt.Fprintln(e.stdout, name)
			}
			return nil
		}
	},
}
