package hunt

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// ParseDuration reads a duration as Sentinel content writes them:
//
//   - short: a whole number and a unit, s, m, h or d (`5m`, `1h`, `14d`), or several of them
//     (`1d12h`, `1h30m`), which also covers Go durations without fractions;
//   - ISO 8601: `PT5M`, `PT1H`, `P1D`, `P1DT12H`, `P2W` (weeks and days are exact: 7 and 1 × 24h;
//     years and months have no fixed length and are refused);
//   - .NET TimeSpan, which Sentinel's template checker accepts first: `01:00:00`, `1.00:00:00`.
//
// A negative or empty value is an error; zero (`0`, `0m`) is allowed: the caller decides what it
// means.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return 0, fmt.Errorf("empty duration")
	case s == "0":
		return 0, nil
	case strings.HasPrefix(s, "-"):
		return 0, fmt.Errorf("%q is negative", s)
	case s[0] == 'P' || s[0] == 'p':
		return parseISODuration(s)
	case strings.Contains(s, ":"):
		return parseTimeSpan(s)
	}
	return parseShortDuration(s)
}

// parseShortDuration reads `5m`, `14d`, `1d12h`: whole numbers, each followed by a unit.
func parseShortDuration(s string) (time.Duration, error) {
	var total time.Duration
	rest := s
	for rest != "" {
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 0 {
			return 0, fmt.Errorf("%q is not a duration (write 5m, 1h, 14d or PT1H)", s)
		}
		n, err := strconv.ParseInt(rest[:i], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%q is not a duration: %v", s, err)
		}
		rest = rest[i:]
		j := 0
		for j < len(rest) && (rest[j] < '0' || rest[j] > '9') {
			j++
		}
		unit, ok := shortUnits[strings.ToLower(rest[:j])]
		if !ok {
			if j == 0 {
				return 0, fmt.Errorf("%q has no unit (write 5m, 1h, 14d or PT1H)", s)
			}
			return 0, fmt.Errorf("%q: unknown unit %q (use s, m, h or d)", s, rest[:j])
		}
		rest = rest[j:]
		if n > math.MaxInt64/int64(unit) || total > math.MaxInt64-time.Duration(n)*unit {
			return 0, fmt.Errorf("%q is too long", s)
		}
		total += time.Duration(n) * unit
	}
	return total, nil
}

var shortUnits = map[string]time.Duration{
	"s": time.Second, "m": time.Minute, "h": time.Hour, "d": 24 * time.Hour,
}

// parseISODuration reads an ISO 8601 duration of weeks, days, hours, minutes and seconds.
func parseISODuration(s string) (time.Duration, error) {
	up := strings.ToUpper(s)
	body := up[1:]
	if body == "" || body == "T" {
		return 0, fmt.Errorf("%q is not an ISO 8601 duration (PT1H, P1D)", s)
	}
	var total time.Duration
	inTime := false
	for body != "" {
		if body[0] == 'T' {
			if inTime {
				return 0, fmt.Errorf("%q is not an ISO 8601 duration: two T", s)
			}
			inTime = true
			body = body[1:]
			if body == "" {
				return 0, fmt.Errorf("%q is not an ISO 8601 duration: nothing after T", s)
			}
			continue
		}
		i := 0
		for i < len(body) && (body[i] >= '0' && body[i] <= '9' || body[i] == '.' || body[i] == ',') {
			i++
		}
		if i == 0 || i == len(body) {
			return 0, fmt.Errorf("%q is not an ISO 8601 duration (PT1H, P1D)", s)
		}
		n, err := strconv.ParseFloat(strings.ReplaceAll(body[:i], ",", "."), 64)
		if err != nil {
			return 0, fmt.Errorf("%q is not an ISO 8601 duration: %v", s, err)
		}
		var unit time.Duration
		switch d := body[i]; {
		case !inTime && d == 'W':
			unit = 7 * 24 * time.Hour
		case !inTime && d == 'D':
			unit = 24 * time.Hour
		case !inTime && (d == 'Y' || d == 'M'):
			return 0, fmt.Errorf("%q: years and months have no fixed length; write days (P30D)", s)
		case inTime && d == 'H':
			unit = time.Hour
		case inTime && d == 'M':
			unit = time.Minute
		case inTime && d == 'S':
			unit = time.Second
		default:
			return 0, fmt.Errorf("%q is not an ISO 8601 duration: unexpected %q", s, string(d))
		}
		v := n * float64(unit)
		if v > float64(math.MaxInt64-total) {
			return 0, fmt.Errorf("%q is too long", s)
		}
		total += time.Duration(math.Round(v))
		body = body[i+1:]
	}
	return total, nil
}

// parseTimeSpan reads .NET's TimeSpan text: [d.]hh:mm[:ss[.fff]].
func parseTimeSpan(s string) (time.Duration, error) {
	bad := fmt.Errorf("%q is not a duration (write 5m, 1h, 14d, PT1H or 01:00:00)", s)
	var days int64
	rest := s
	if dot, colon := strings.IndexByte(rest, '.'), strings.IndexByte(rest, ':'); dot >= 0 && dot < colon {
		d, err := strconv.ParseInt(rest[:dot], 10, 64)
		if err != nil {
			return 0, bad
		}
		days, rest = d, rest[dot+1:]
	}
	parts := strings.Split(rest, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return 0, bad
	}
	h, err1 := strconv.ParseInt(parts[0], 10, 64)
	m, err2 := strconv.ParseInt(parts[1], 10, 64)
	if err1 != nil || err2 != nil || h > 23 || m > 59 {
		return 0, bad
	}
	var sec float64
	if len(parts) == 3 {
		v, err := strconv.ParseFloat(parts[2], 64)
		if err != nil || v >= 60 {
			return 0, bad
		}
		sec = v
	}
	return time.Duration(days)*24*time.Hour + time.Duration(h)*time.Hour + time.Duration(m)*time.Minute +
		time.Duration(math.Round(sec*float64(time.Second))), nil
}

// FormatDuration writes d the short way Sentinel content does: `5m`, `1h`, `14d`, `1d12h`,
// `90s`; zero is `0`.
func FormatDuration(d time.Duration) string {
	if d == 0 {
		return "0"
	}
	var b strings.Builder
	if d < 0 {
		b.WriteByte('-')
		d = -d
	}
	for _, u := range []struct {
		unit time.Duration
		name string
	}{{24 * time.Hour, "d"}, {time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}} {
		if n := d / u.unit; n > 0 {
			fmt.Fprintf(&b, "%d%s", n, u.name)
			d -= n * u.unit
		}
	}
	if d > 0 {
		b.WriteString(d.String())
	}
	return b.String()
}
