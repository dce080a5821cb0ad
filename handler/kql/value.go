package kql

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// Values are plain Go values (see Table). This file converts between them and
// text, following Kusto's formatting: datetimes as 2024-01-01T00:00:00.0000000Z,
// timespans as [-][d.]hh:mm:ss[.fffffff], dynamic values as compact JSON. The
// datetime and timespan text forms are in value_datetime.go, JSON in
// value_dynamic.go, ordering and equality in value_compare.go.

// isNumericType reports whether t is int, long, real or decimal.
func isNumericType(t string) bool {
	return t == "int" || t == "long" || t == "real" || t == "decimal"
}

func isIntType(t string) bool { return t == "int" || t == "long" }

// convertString parses text into a value of type typ (used by literals, loaders
// and the to*() functions). ok is false when the text is not a valid typ.
func convertString(typ, s string) (any, bool) {
	switch typ {
	case "string", "guid":
		return s, true
	case "dynamic":
		if v, ok := parseJSON(s); ok {
			return v, true
		}
		return s, true
	}
	s = strings.TrimSpace(s)
	switch typ {
	case "bool":
		switch strings.ToLower(s) {
		case "true", "1":
			return true, true
		case "false", "0":
			return false, true
		}
	case "int", "long":
		if v, err := strconv.ParseInt(s, 10, 64); err == nil {
			return v, true
		}
		if strings.HasPrefix(s, "0x") {
			if v, err := strconv.ParseInt(s[2:], 16, 64); err == nil {
				return v, true
			}
		}
	case "real", "decimal":
		if v, err := strconv.ParseFloat(s, 64); err == nil {
			return v, true
		}
	case "datetime":
		if t, ok := parseDatetime(s); ok {
			return t, true
		}
	case "timespan":
		if d, ok := parseTimespan(s); ok {
			return d, true
		}
	}
	return nil, false
}

// formatReal prints a real the way Kusto does: shortest round-trip form.
func formatReal(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	if a := math.Abs(f); a != 0 && (a < 1e-5 || a >= 1e15) {
		return strconv.FormatFloat(f, 'E', -1, 64)
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// toStr is Kusto's tostring(): null gives "", dynamic values give compact JSON
// (a dynamic string gives the string itself).
func toStr(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		if x {
			return "true"
		}
		return "false"
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return formatReal(x)
	case time.Time:
		return formatDatetime(x)
	case time.Duration:
		return formatTimespan(x)
	}
	return jsonText(v)
}

// toLong converts to a long; ok is false for null or unconvertible values.
func toLong(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return 0, false
		}
		return int64(x), true
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	case string:
		if i, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64); err == nil {
			return i, true
		}
		if f, err := strconv.ParseFloat(strings.TrimSpace(x), 64); err == nil {
			return int64(f), true
		}
	case time.Time:
		return ticksOf(x) - ticksOf(epoch), true
	case time.Duration:
		return int64(x / tick), true
	}
	return 0, false
}

// toReal converts to a real; ok is false for null or unconvertible values.
func toReal(v any) (float64, bool) {
	switch x := v.(type) {
	case int64:
		return float64(x), true
	case float64:
		return x, true
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		return f, err == nil
	case time.Duration:
		return float64(x / tick), true
	}
	return 0, false
}

func toBool(v any) (bool, bool) {
	switch x := v.(type) {
	case bool:
		return x, true
	case int64:
		return x != 0, true
	case float64:
		return x != 0, true
	case string:
		b, ok := convertString("bool", x)
		if ok {
			return b.(bool), true
		}
	}
	return false, false
}

func toDatetime(v any) (time.Time, bool) {
	switch x := v.(type) {
	case time.Time:
		return x, true
	case string:
		return parseDatetime(strings.TrimSpace(x))
	case int64: // ticks since 0001-01-01, as todatetime(long) in Kusto
		return fromTicks(x + ticksOf(epoch)), true
	}
	return time.Time{}, false
}

func toTimespan(v any) (time.Duration, bool) {
	switch x := v.(type) {
	case time.Duration:
		return x, true
	case string:
		return parseTimespan(strings.TrimSpace(x))
	case int64: // ticks
		return time.Duration(x) * tick, true
	case float64:
		return time.Duration(x) * tick, true
	}
	return 0, false
}

// convertTo converts v to the Go representation of type typ, or nil when it
// cannot (the behaviour of Kusto's to*() functions).
func convertTo(typ string, v any) any {
	if v == nil {
		return nil
	}
	var out any
	var ok bool
	switch typ {
	case "string", "guid":
		return toStr(v)
	case "bool":
		out, ok = toBool(v)
	case "int", "long":
		out, ok = toLong(v)
	case "real", "decimal":
		out, ok = toReal(v)
	case "datetime":
		out, ok = toDatetime(v)
	case "timespan":
		out, ok = toTimespan(v)
	case "dynamic":
		if s, isStr := v.(string); isStr {
			if j, valid := parseJSON(s); valid {
				return j
			}
		}
		return v
	default:
		return v
	}
	if !ok {
		return nil
	}
	return out
}

// castTo keeps v only when it already has type typ (mv-expand ... to typeof(t)),
// widening integers to reals.
func castTo(typ string, v any) any {
	switch x := v.(type) {
	case string:
		if typ == "string" || typ == "guid" {
			return x
		}
		if typ == "datetime" || typ == "timespan" {
			return convertTo(typ, x)
		}
	case int64:
		if isIntType(typ) {
			return x
		}
		if typ == "real" || typ == "decimal" {
			return float64(x)
		}
		if typ == "string" {
			return toStr(x)
		}
	case float64:
		if typ == "real" || typ == "decimal" {
			return x
		}
		if isIntType(typ) && x == math.Trunc(x) {
			return int64(x)
		}
	case bool:
		if typ == "bool" {
			return x
		}
	case time.Time:
		if typ == "datetime" {
			return x
		}
	case time.Duration:
		if typ == "timespan" {
			return x
		}
	}
	if typ == "dynamic" {
		return v
	}
	if typ == "string" && v != nil {
		return toStr(v)
	}
	return nil
}
