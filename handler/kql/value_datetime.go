package kql

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// Datetimes and timespans as text: the forms parsed (ISO 8601, RFC 822,
// [-][d.]hh:mm:ss, 1.5h) and the forms printed, as Kusto's tostring() does.

var datetimeLayouts = []string{
	"2006-01-02T15:04:05Z07:00",
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04",
	"2006-01-02 15:04",
	"2006-01-02",
	"01/02/2006 15:04:05",
	"01/02/2006 15:04",
	"01/02/2006",
	time.RFC1123,
	time.RFC1123Z,
	"Mon, 2 Jan 2006 15:04:05 MST",
	"Mon, 2 Jan 06 15:04:05 MST",
	"2 Jan 06 15:04:05 MST",
	time.RFC850,
}

// parseDatetime accepts the ISO 8601 and RFC 822 forms Kusto documents; times
// without a zone are UTC.
func parseDatetime(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, false
	}
	for _, layout := range datetimeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// parseTimespan accepts [-][d.]hh:mm[:ss[.fffffff]] and literals like 1d or 1.5h.
func parseTimespan(s string) (time.Duration, bool) {
	if s == "" {
		return 0, false
	}
	neg := false
	body := s
	if body[0] == '-' {
		neg, body = true, body[1:]
	}
	if !strings.Contains(body, ":") {
		i := 0
		for i < len(body) && (body[i] >= '0' && body[i] <= '9' || body[i] == '.') {
			i++
		}
		unit, ok := timespanUnits[strings.ToLower(body[i:])]
		f, err := strconv.ParseFloat(body[:i], 64)
		if !ok || err != nil {
			return 0, false
		}
		d := time.Duration(f * float64(unit))
		if neg {
			d = -d
		}
		return d, true
	}
	var days int64
	if dot := strings.IndexByte(body, '.'); dot >= 0 && dot < strings.IndexByte(body, ':') {
		v, err := strconv.ParseInt(body[:dot], 10, 64)
		if err != nil {
			return 0, false
		}
		days, body = v, body[dot+1:]
	}
	parts := strings.Split(body, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return 0, false
	}
	h, err1 := strconv.ParseInt(parts[0], 10, 64)
	m, err2 := strconv.ParseInt(parts[1], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	var sec float64
	if len(parts) == 3 {
		v, err := strconv.ParseFloat(parts[2], 64)
		if err != nil {
			return 0, false
		}
		sec = v
	}
	d := time.Duration(days)*24*time.Hour + time.Duration(h)*time.Hour + time.Duration(m)*time.Minute +
		time.Duration(math.Round(sec*1e7))*tick
	if neg {
		d = -d
	}
	return d, true
}

// formatDatetime prints a datetime as Kusto's tostring() does.
func formatDatetime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.0000000Z")
}

// formatTimespan prints a timespan as Kusto's tostring() does: [-][d.]hh:mm:ss[.fffffff].
func formatTimespan(d time.Duration) string {
	var b strings.Builder
	if d < 0 {
		b.WriteByte('-')
		d = -d
	}
	ticks := int64(d / tick)
	days := ticks / (864e9)
	ticks -= days * 864e9
	if days > 0 {
		b.WriteString(strconv.FormatInt(days, 10))
		b.WriteByte('.')
	}
	h := ticks / 36e9
	ticks -= h * 36e9
	m := ticks / 6e8
	ticks -= m * 6e8
	s := ticks / 1e7
	ticks -= s * 1e7
	b.WriteString(pad2(h) + ":" + pad2(m) + ":" + pad2(s))
	if ticks > 0 {
		frac := strconv.FormatInt(ticks, 10)
		b.WriteString("." + strings.Repeat("0", 7-len(frac)) + frac)
	}
	return b.String()
}

func pad2(v int64) string {
	if v < 10 {
		return "0" + strconv.FormatInt(v, 10)
	}
	return strconv.FormatInt(v, 10)
}
