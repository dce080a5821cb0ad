package hunt_test

import (
	"strings"
	"testing"
	"time"

	"github.com/huntwatch/huntwatch/handler/hunt"
)

func TestParseDuration(t *testing.T) {
	const day = 24 * time.Hour
	for _, test := range []struct {
		in      string
		want    time.Duration
		wantErr string // substring; "" = no error
	}{
		// Sentinel's short form, and combinations of it.
		{in: "5m", want: 5 * time.Minute},
		{in: "1h", want: time.Hour},
		{in: "14d", want: 14 * day},
		{in: " 1d ", want: day},
		{in: "1d12h", want: 36 * time.Hour},
		{in: "1h30m", want: 90 * time.Minute},
		{in: "90s", want: 90 * time.Second},
		{in: "1H", want: time.Hour},
		{in: "0m", want: 0},
		// ISO 8601.
		{in: "PT5M", want: 5 * time.Minute},
		{in: "PT1H", want: time.Hour},
		{in: "P1D", want: day},
		{in: "P14D", want: 14 * day},
		{in: "P1DT12H", want: 36 * time.Hour},
		{in: "PT1H30M", want: 90 * time.Minute},
		{in: "P2W", want: 14 * day},
		{in: "PT0.5H", want: 30 * time.Minute},
		{in: "pt5m", want: 5 * time.Minute},
		// .NET TimeSpan, which Sentinel's own checker tries first.
		{in: "01:00:00", want: time.Hour},
		{in: "1.00:00:00", want: day},
		{in: "00:05", want: 5 * time.Minute},
		// Refused, saying why.
		{in: "", wantErr: "empty"},
		{in: "1x", wantErr: `unknown unit "x"`},
		{in: "10", wantErr: "has no unit"},
		{in: "h", wantErr: "not a duration"},
		{in: "-5m", wantErr: "negative"},
		{in: "P1M", wantErr: "no fixed length"},
		{in: "P1Y", wantErr: "no fixed length"},
		{in: "PT", wantErr: "not an ISO 8601 duration"},
		{in: "P1H", wantErr: "unexpected"},
		{in: "PT5", wantErr: "not an ISO 8601 duration"},
		{in: "25:00:00", wantErr: "not a duration"},
		{in: "1d 2h", wantErr: "unknown unit"},
		{in: "99999999999999d", wantErr: "too long"},
	} {
		got, err := hunt.ParseDuration(test.in)
		switch {
		case test.wantErr != "" && (err == nil || !strings.Contains(err.Error(), test.wantErr)):
			t.Errorf("ParseDuration(%q) = %v, %v; want an error with %q", test.in, got, err, test.wantErr)
		case test.wantErr == "" && err != nil:
			t.Errorf("ParseDuration(%q): %v", test.in, err)
		case test.wantErr == "" && got != test.want:
			t.Errorf("ParseDuration(%q) = %v, want %v", test.in, got, test.want)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	for _, test := range []struct {
		in   time.Duration
		want string
	}{
		{0, "0"},
		{5 * time.Minute, "5m"},
		{time.Hour, "1h"},
		{14 * 24 * time.Hour, "14d"},
		{36 * time.Hour, "1d12h"},
		{90 * time.Second, "1m30s"},
		{1500 * time.Millisecond, "1s500ms"},
	} {
		if got := hunt.FormatDuration(test.in); got != test.want {
			t.Errorf("FormatDuration(%v) = %q, want %q", test.in, got, test.want)
		}
		if back, err := hunt.ParseDuration(test.want); test.in%time.Second == 0 && (err != nil || back != test.in) {
			t.Errorf("ParseDuration(FormatDuration(%v)) = %v, %v", test.in, back, err)
		}
	}
}
