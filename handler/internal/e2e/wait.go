package e2e

import (
	"testing"
	"time"
)

// Eventually polls cond for up to 10 s and tells whether it came to hold (a child's output is
// copied from a pipe: wait for a line rather than read it at once).
func Eventually(cond func() bool) bool {
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}

// WaitFor polls cond every 10 ms until it holds, failing tb after limit with what it waited for.
func WaitFor(tb testing.TB, what string, limit time.Duration, cond func() bool) {
	tb.Helper()
	WaitEvery(tb, what, limit, 10*time.Millisecond, cond)
}

// WaitEvery is WaitFor polling every interval.
func WaitEvery(tb testing.TB, what string, limit, interval time.Duration, cond func() bool) {
	tb.Helper()
	for deadline := time.Now().Add(limit); !cond(); time.Sleep(interval) {
		if time.Now().After(deadline) {
			tb.Fatalf("after %s: %s", limit, what)
		}
	}
}
