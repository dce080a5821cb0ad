package tablestore

import (
	"testing"
	"time"
)

func TestQuote(t *testing.T) {
	for in, want := range map[string]string{"": "''", "abc": "'abc'", "it's": "'it''s'", "''": "''''''"} {
		if got := quote(in); got != want {
			t.Errorf("quote(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestSecondAfter(t *testing.T) {
	for _, test := range []struct{ in, want string }{
		{"2026-03-14T15:09:26.6Z", "2026-03-14T15:09:27"},
		{"2026-03-14T15:09:26Z", "2026-03-14T15:09:27"},
		{"2026-12-31T23:59:59.999999999+02:00", "2026-12-31T22:00:00"},
	} {
		in, err := time.Parse(time.RFC3339Nano, test.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := secondAfter(in); got != test.want {
			t.Errorf("secondAfter(%s) = %s, want %s", test.in, got, test.want)
		}
	}
}
