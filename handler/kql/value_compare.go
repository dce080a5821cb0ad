package kql

import (
	"strings"
	"time"
)

// Ordering and equality of values, across int, long and real.

// compareValues orders two non-null values of comparable kinds.
// ok is false when they cannot be compared (different kinds).
func compareValues(a, b any) (int, bool) {
	switch x := a.(type) {
	case int64:
		switch y := b.(type) {
		case int64:
			return cmp3(x < y, x > y), true
		case float64:
			return cmp3(float64(x) < y, float64(x) > y), true
		}
	case float64:
		switch y := b.(type) {
		case int64:
			return cmp3(x < float64(y), x > float64(y)), true
		case float64:
			return cmp3(x < y, x > y), true
		}
	case string:
		if y, ok := b.(string); ok {
			return strings.Compare(x, y), true
		}
	case time.Time:
		if y, ok := b.(time.Time); ok {
			return x.Compare(y), true
		}
	case time.Duration:
		if y, ok := b.(time.Duration); ok {
			return cmp3(x < y, x > y), true
		}
	case bool:
		if y, ok := b.(bool); ok {
			return cmp3(!x && y, x && !y), true
		}
	case []any, map[string]any:
		switch b.(type) {
		case []any, map[string]any:
			return strings.Compare(jsonText(a), jsonText(b)), true
		}
	}
	return 0, false
}

func cmp3(less, greater bool) int {
	switch {
	case less:
		return -1
	case greater:
		return 1
	}
	return 0
}

// sortCompare orders any two values for order by: nulls are handled by the
// caller; values of different kinds order by kind so sorting stays total.
func sortCompare(a, b any) int {
	if c, ok := compareValues(a, b); ok {
		return c
	}
	return strings.Compare(kindOf(a), kindOf(b))
}

// kindOf names the runtime kind of a value (getschema-like names).
func kindOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "bool"
	case int64:
		return "long"
	case float64:
		return "real"
	case string:
		return "string"
	case time.Time:
		return "datetime"
	case time.Duration:
		return "timespan"
	case []any:
		return "array"
	case map[string]any:
		return "dictionary"
	}
	return "dynamic"
}

// valuesEqual is == on two non-null values (strings case-sensitive).
func valuesEqual(a, b any) bool {
	if c, ok := compareValues(a, b); ok {
		return c == 0
	}
	// dynamic value against a scalar of another kind: compare as text.
	switch a.(type) {
	case []any, map[string]any:
		return jsonText(a) == toStr(b)
	}
	switch b.(type) {
	case []any, map[string]any:
		return toStr(a) == jsonText(b)
	}
	return false
}
