package kql

import (
	"sort"
	"strings"
	"time"
)

// Dynamic values: property access (.name, ["name"]), indexing ([i], negative
// counts from the end), JSON parsing and the array and property-bag functions.

func init() {
	register(map[string]*fnDef{
		"parse_json":      {minArgs: 1, maxArgs: 1, build: buildParseJSON},
		"todynamic":       {minArgs: 1, maxArgs: 1, build: buildParseJSON},
		"toobject":        {minArgs: 1, maxArgs: 1, build: buildParseJSON},
		"array_length":    {minArgs: 1, maxArgs: 1, ret: "long", eval: arrayLength},
		"pack_array":      {minArgs: 1, maxArgs: 64, ret: "dynamic", eval: func(a []any) any { return append([]any{}, a...) }},
		"bag_keys":        {minArgs: 1, maxArgs: 1, ret: "dynamic", eval: bagKeys},
		"bag_pack":        {minArgs: 2, maxArgs: 128, ret: "dynamic", eval: bagPack},
		"pack":            {minArgs: 2, maxArgs: 128, ret: "dynamic", eval: bagPack},
		"bag_has_key":     {minArgs: 2, maxArgs: 2, ret: "bool", eval: bagHasKey},
		"array_concat":    {minArgs: 1, maxArgs: 64, ret: "dynamic", eval: arrayConcat},
		"array_slice":     {minArgs: 3, maxArgs: 3, ret: "dynamic", eval: arraySlice},
		"array_index_of":  {minArgs: 2, maxArgs: 2, ret: "long", eval: arrayIndexOf},
		"set_has_element": {minArgs: 2, maxArgs: 2, ret: "bool", eval: func(a []any) any { i := arrayIndexOf(a); return i != nil && i.(int64) >= 0 }},
		"array_sum":       {minArgs: 1, maxArgs: 1, ret: "real", eval: arraySum},
		"bag_merge":       {minArgs: 1, maxArgs: 64, ret: "dynamic", eval: bagMerge},
		"range":           {minArgs: 2, maxArgs: 3, ret: "dynamic", eval: rangeArray},
	})
}

// getMember reads a property of a bag; a JSON string is parsed first, as
// Kusto does for dynamic values holding JSON text.
func getMember(v any, name string) any {
	switch x := v.(type) {
	case map[string]any:
		return x[name]
	case string:
		if j, ok := parseJSON(x); ok {
			if m, ok := j.(map[string]any); ok {
				return m[name]
			}
		}
	}
	return nil
}

// getIndex reads an array element (negative indexes count from the end) or,
// with a string index, a bag property.
func getIndex(v, idx any) any {
	if s, ok := idx.(string); ok {
		return getMember(v, s)
	}
	arr, ok := v.([]any)
	if !ok {
		return nil
	}
	i, ok := toLong(idx)
	if !ok {
		return nil
	}
	if i < 0 {
		i += int64(len(arr))
	}
	if i < 0 || i >= int64(len(arr)) {
		return nil
	}
	return arr[i]
}

// parse_json(json): a dynamic argument is returned as it is; a string is
// parsed, and kept as a dynamic string when it is not JSON; the empty string
// gives null (isnull(parse_json("")) is true in the isnull() docs).
func buildParseJSON(s *scope, c *call, args []compiled) (compiled, error) {
	if args[0].typ == "dynamic" {
		return args[0], nil
	}
	x := args[0].fn
	return fold(compiled{typ: "dynamic", fn: func(r []any) any { return parseJSONFn(x(r)) }}, args[0]), nil
}

func parseJSONFn(v any) any {
	s, ok := v.(string)
	if !ok {
		return v
	}
	if j, ok := parseJSON(s); ok {
		return j
	}
	if strings.TrimSpace(s) == "" {
		return nil
	}
	return s
}

func arrayLength(a []any) any {
	arr, ok := a[0].([]any)
	if !ok {
		return nil
	}
	return int64(len(arr))
}

func bagKeys(a []any) any {
	m, ok := a[0].(map[string]any)
	if !ok {
		return nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]any, len(keys))
	for i, k := range keys {
		out[i] = k
	}
	return out
}

func bagPack(a []any) any {
	if len(a)%2 != 0 {
		return nil
	}
	m := make(map[string]any, len(a)/2)
	for i := 0; i < len(a); i += 2 {
		m[text(a[i])] = a[i+1]
	}
	return m
}

func bagHasKey(a []any) any {
	m, ok := a[0].(map[string]any)
	if !ok {
		return false
	}
	_, has := m[text(a[1])]
	return has
}

func arrayConcat(a []any) any {
	out := []any{}
	for _, v := range a {
		arr, ok := v.([]any)
		if !ok {
			return nil
		}
		out = append(out, arr...)
	}
	return out
}

func arraySlice(a []any) any {
	arr, ok := a[0].([]any)
	start, ok1 := toLong(a[1])
	end, ok2 := toLong(a[2])
	if !ok || !ok1 || !ok2 {
		return nil
	}
	n := int64(len(arr))
	if start < 0 {
		start += n
	}
	if end < 0 {
		end += n
	}
	start, end = max(start, 0), min(end, n-1)
	if start > end {
		return []any{}
	}
	return append([]any{}, arr[start:end+1]...)
}

func arrayIndexOf(a []any) any {
	arr, ok := a[0].([]any)
	if !ok {
		return nil
	}
	for i, v := range arr {
		if v != nil && a[1] != nil && valuesEqual(v, a[1]) {
			return int64(i)
		}
	}
	return int64(-1)
}

func arraySum(a []any) any {
	arr, ok := a[0].([]any)
	if !ok {
		return nil
	}
	sum := 0.0
	for _, v := range arr {
		f, ok := toReal(v)
		if !ok {
			return nil
		}
		sum += f
	}
	return sum
}

// bagMerge merges property bags; the first bag holding a key wins.
func bagMerge(a []any) any {
	out := map[string]any{}
	for _, v := range a {
		m, ok := v.(map[string]any)
		if !ok {
			continue
		}
		for k, e := range m {
			if _, dup := out[k]; !dup {
				out[k] = e
			}
		}
	}
	return out
}

// rangeArray is the range(start, stop [, step]) function: an array of values.
func rangeArray(a []any) any {
	step := a[len(a)-1]
	if len(a) == 2 {
		step = int64(1)
		if _, isTime := a[0].(time.Time); isTime {
			step = time.Hour
		}
	}
	zero := arith("-", step, step)
	sign, ok := compareValues(step, zero)
	if !ok || sign == 0 {
		return nil
	}
	out := []any{}
	for v := a[0]; len(out) < 1048576; v = arith("+", v, step) {
		c, ok := compareValues(v, a[1])
		if !ok || c*sign > 0 {
			break
		}
		out = append(out, v)
	}
	return out
}
