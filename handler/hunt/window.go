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

func (w Window) String() string {
	return w.Start.UTC().Format(time.RFC3339) + ".." + w.End.UTC().Format(time.RFC3339)
}
