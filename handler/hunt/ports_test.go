package hunt_test

import (
	"encoding/json"
	"testing"

	"github.com/huntwatch/huntwatch/handler/hunt"
)

// TestMessageRefJSON: a record file written before the reference was neutral ({"channel","ts"},
// a digest's ts prefixed with "digest:") still reads; today's form round-trips.
func TestMessageRefJSON(t *testing.T) {
	for _, test := range []struct {
		in   string
		want hunt.MessageRef
	}{
		{`{"channel":"C0HUNT","ts":"1700000000.000100"}`, hunt.MessageRef{Where: "C0HUNT", ID: "1700000000.000100"}},
		{`{"channel":"C0HUNT","ts":"digest:1700000000.000200"}`, hunt.MessageRef{Where: "C0HUNT", ID: "1700000000.000200", Kind: hunt.KindDigest}},
		{`{"where":"C1","id":"17.1","kind":"digest"}`, hunt.MessageRef{Where: "C1", ID: "17.1", Kind: hunt.KindDigest}},
		{`{}`, hunt.MessageRef{}},
	} {
		var got hunt.MessageRef
		if err := json.Unmarshal([]byte(test.in), &got); err != nil || got != test.want {
			t.Errorf("%s read as %+v (%v), want %+v", test.in, got, err, test.want)
		}
		b, _ := json.Marshal(got)
		var again hunt.MessageRef
		if err := json.Unmarshal(b, &again); err != nil || again != got {
			t.Errorf("%s does not round-trip: %s", test.in, b)
		}
	}
}
