package config_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/huntwatch/huntwatch/handler/config"
)

func TestScheduleValid(t *testing.T) {
	for _, expr := range []string{
		"0 0 * * * *",      // the default: every hour
		"0 */5 * * * *",    // every five minutes
		"*/30 * * * * *",   // every 30 seconds
		"0 0 */2 * * *",    // every two hours
		"0 0 9-17 * * *",   // hourly, 9 to 17
		"0 0 9-17/2 * * *", // a stepped range
		"0 5/15 * * * *",   // a/n: from 5 to the end, every 15
		"0 0 7,18 * * *",   // a list
		"0 0,30 8-10,16 * * 1-5",
		"0 30 9 * Jan Mon", // the Azure docs' example
		"0 30 9 * jan-MAR sun,SAT",
		"0 0 0 1 January *", // full names
		"0 0 0 * Sept Tues", // any prefix of three letters or more
		"0 0 0 * * 0",       // Sunday
		"0 0 0 * * 6",       // Saturday
		"59 59 23 31 12 *",  // every maximum
		"0 0 0 31 1-12 *",   // the 31st of the months that have one
		"0 0 0 29 2 *",      // a leap day
		"0 0 0 13 * FRI",    // Friday the 13th
		"00 05 * * * *",     // leading zeros
		"  0 0 * * * *  ",   // spaces around the expression (the host drops empty fields)
		"0  0 * * * *",      // two spaces between fields
	} {
		t.Run(expr, func(t *testing.T) {
			c, err := config.Load(env("HUNT_SCHEDULE", expr))
			if err != nil {
				t.Fatal(err)
			}
			if c.Schedule != strings.TrimSpace(expr) {
				t.Errorf("Schedule %q", c.Schedule)
			}
		})
	}
}

func TestScheduleDefault(t *testing.T) {
	for _, v := range []string{"", "   "} {
		c, err := config.Load(env("HUNT_SCHEDULE", v))
		if err != nil || c.Schedule != "0 */5 * * * *" {
			t.Errorf("HUNT_SCHEDULE %q: Schedule %q, err %v", v, c.Schedule, err)
		}
	}
}

func TestScheduleInvalid(t *testing.T) {
	for _, test := range []struct {
		expr string
		want []string // substrings of the error, besides the setting's name and the quoted value
	}{
		{"garbage", []string{"expects six fields", "got 1"}},
		{"0 * * * *", []string{"got 5", `put "0 " in front`}},
		{"0 0 * * * * 2026", []string{"got 7", "no year"}},
		{"99 0 * * * *", []string{`seconds field "99" out of range 0-59`}},
		{"0 60 * * * *", []string{`minutes field "60" out of range 0-59`}},
		{"0 0 24 * * *", []string{`hours field "24" out of range 0-23`}},
		{"0 0 0 0 * *", []string{`day-of-month field "0" out of range 1-31`}},
		{"0 0 0 32 * *", []string{`day-of-month field "32" out of range 1-31`}},
		{"0 0 0 * 13 *", []string{`month field "13" out of range 1-12`}},
		{"0 0 0 * 0 *", []string{`month field "0" out of range 1-12`}},
		{"0 0 0 * * 7", []string{`day-of-week field "7" out of range 0-6`, "Sunday is 0"}},
		{"0 0 0 * * 1-7", []string{`day-of-week field "1-7": "7" out of range 0-6`}},
		{"0 0 9,25 * * *", []string{`hours field "9,25": "25" out of range 0-23`}},
		{"0 0 99999999999999999999 * * *", []string{"out of range 0-23"}},
		{"0 0 22-2 * * *", []string{`hours field "22-2" runs backwards`, "2-22", "22-23,0-2"}},
		{"0 */0 * * * *", []string{`minutes field "*/0" has step 0`}},
		{"0 */-5 * * * *", []string{`has step -5`}},
		{"0 */x * * * *", []string{`minutes field "*/x" has step "x", which is not a whole number`}},
		{"0 0 1-5/ * * *", []string{`has step ""`}},
		{"0 1,,2 * * * *", []string{`minutes field "1,,2": "" is empty`}},
		{"0 1, * * * *", []string{"is empty"}},
		{"0 5a * * * *", []string{`minutes field "5a" is not a number from 0 to 59`}},
		{"0 -5 * * * *", []string{`minutes field "-5" is not a number from 0 to 59`}},
		{"0 0 0 * * MON-FOO", []string{`"FOO" is not a day-of-week`, "SUN-SAT"}},
		{"0 0 0 * Jux *", []string{`month field "Jux" is not a month`, "JAN-DEC"}},
		{"0 0 0 * J *", []string{`month field "J" is not a month`, "three letters"}}, // NCrontab: January
		{"0 0 0 * * S", []string{`day-of-week field "S" is not a day-of-week`}},      // NCrontab: Sunday
		{"0 0 0 * * MON-FRI/x", []string{`has step "x"`}},
		{"0 0 0 * MON *", []string{`month field "MON" is not a month`}},
		{"0 JAN * * * *", []string{`minutes field "JAN" is not a number from 0 to 59`}}, // names only in month and day-of-week
		{"0 0 0 ? * MON", []string{`day-of-month field "?" is Quartz syntax`}},
		{"0 0 0 L * *", []string{`day-of-month field "L" is not a number`}},
		{"0 0 0 * * MON#2", []string{`day-of-week field "MON#2" is not a day-of-week`}},
		{"0 0 0 30 2 *", []string{`day-of-month field "30" falls in no month of month field "2"`, "never fire"}},
		{"0 0 0 31 APR,JUN,SEP,NOV *", []string{"never fire"}},
		{"00:30:00", []string{"TimeSpan", "App Service plan", "0 */30 * * * *"}},
		{"1.00:00:00", []string{"TimeSpan"}},
		{"%OTHER_SCHEDULE%", []string{"%SETTING% reference", "%HUNT_SCHEDULE%"}},
		{"0 0 * * * *\n", []string{"tab or line break"}},
		{"0\t0 * * * * *", []string{"tab or line break"}},
	} {
		t.Run(test.expr, func(t *testing.T) {
			_, err := config.Load(env("HUNT_SCHEDULE", test.expr))
			if err == nil {
				t.Fatal("loaded")
			}
			prefix := fmt.Sprintf("setting HUNT_SCHEDULE %q: ", test.expr)
			if !strings.HasPrefix(err.Error(), prefix) {
				t.Errorf("error %q does not start with %q", err, prefix)
			}
			for _, w := range test.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestScheduleErrorJoinsTheOthers(t *testing.T) {
	_, err := config.Load(env("HUNT_SCHEDULE", "99 0 * * * *", "HUNT_LOOKBACK", "x", "LOG_LEVEL", "loud"))
	if err == nil {
		t.Fatal("loaded")
	}
	for _, w := range []string{`setting HUNT_SCHEDULE "99 0 * * * *": seconds field "99" out of range 0-59`, "HUNT_LOOKBACK", "LOG_LEVEL"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q lacks %q", err, w)
		}
	}
}
