package hunt

import (
	"fmt"
	"strings"
	"time"
)

// Window is the time range one run queries.
type Window struct {
	Start, End time.Time
}

// ClockSkew widens what Log Analytics is asked for before Start, so events logged by a guest
// whose clock runs behind Azure Resource Manager's still fall in the timespan. The hunt decides,
// with HuntStart and HuntEnd, which rows it reports.
const ClockSkew = 15 * time.Minute

// NextWindow returns the window of a run at now: it ends at now and starts at the earlier of
// now-lookback and the end of the last successful window (so every run overlaps the last and a
// function that was down catches up), but never before now-maxCatchup.
func NextWindow(now, lastEnd time.Time, lookback, maxCatchup time.Duration) Window {
	start := now.Add(-lookback)
	if !lastEnd.IsZero() && lastEnd.Before(start) {
		start = lastEnd
	}
	if floor := now.Add(-maxCatchup); start.Before(floor) {
		start = floor
	}
	return Window{Start: start.UTC(), End: now.UTC()}
}

// declaration is what Declare puts before a query, and declaredLines its number of lines, which
// Hunt.QueryError takes off the positions of errors in the declared query.
const declaration = "let HuntStart = datetime(%s);\nlet HuntEnd = datetime(%s);\n"

var declaredLines = strings.Count(declaration, "\n")

// Declare prefixes query with the window as KQL: `let HuntStart = datetime(...);` and HuntEnd.
// Hunts use them to bound their tables explicitly; a hunt that does not is unaffected.
func (w Window) Declare(query string) string {
	return fmt.Sprintf(declaration, w.Start.UTC().Format(time.RFC3339Nano), w.End.UTC().Format(time.RFC3339Nano)) + query
}

// Request is the one rule for what a query over window w asks of a Source: the query text with
// the window declared (see Declare), and the timespan the source must make visible, from
// ClockSkew before the window's start to until. A run passes its own now as until (rows logged
// since the window's end stay visible, see Runner.Settle); the commands and links that look at
// one window pass its end.
func (w Window) Request(query string, until time.Time) (text string, timespan Window) {
	return w.Declare(query), Window{Start: w.Start.Add(-ClockSkew).UTC(), End: until.UTC()}
}

func (w Window) String() string {
	return w.Start.UTC().Format(time.RFC3339) + ".." + w.End.UTC().Format(time.RFC3339)
}
