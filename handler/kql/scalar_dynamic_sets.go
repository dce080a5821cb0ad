package kql

import (
	"sort"
	"strconv"
	"strings"
)

// Sets, array reshaping, property-bag editing (with JSONPath keys), pack_all
// and extract_json.

func init() {
	register(map[string]*fnDef{
		"set_union":          {minArgs: 2, maxArgs: 64, ret: "dynamic", eval: setOp("union")},
		"set_intersect":      {minArgs: 2, maxArgs: 64, ret: "dynamic", eval: setOp("intersect")},
		"set_difference":     {minArgs: 2, maxArgs: 64, ret: "dynamic", eval: setOp("difference")},
		"jaccard_index":      {minArgs: 2, maxArgs: 2, ret: "real", eval: jaccardIndex},
		"array_reverse":      {minArgs: 1, maxArgs: 1, ret: "dynamic", eval: arrayReverse},
		"array_rotate_left":  {minArgs: 2, maxArgs: 2, ret: "dynamic", eval: arrayRotate(1)},
		"array_rotate_right": {minArgs: 2, maxArgs: 2, ret: "dynamic", eval: arrayRotate(-1)},
		"array_shift_left":   {minArgs: 2, maxArgs: 3, ret: "dynamic", eval: arrayShift(1)},
		"array_shift_right":  {minArgs: 2, maxArgs: 3, ret: "dynamic", eval: arrayShift(-1)},
		"array_split":        {minArgs: 2, maxArgs: 2, ret: "dynamic", eval: arraySplit},
		"array_iff":          {minArgs: 3, maxArgs: 3, ret: "dynamic", eval: arrayIff},
		"array_iif":          {minArgs: 3, maxArgs: 3, ret: "dynamic", eval: arrayIff},
		"zip":                {minArgs: 2, maxArgs: 16, ret: "dynamic", eval: zipArrays},
		"repeat":             {minArgs: 2, maxArgs: 2, ret: "dynamic", eval: repeatValue},
		"bag_remove_keys":    {minArgs: 2, maxArgs: 2, ret: "dynamic", eval: bagRemoveKeys},
		"bag_set_key":        {minArgs: 3, maxArgs: 3, ret: "dynamic", eval: bagSetKey},
		"pack_all":           {minArgs: 0, maxArgs: 1, build: buildPackAll},
		"bag_pack_columns":   {minArgs: 1, maxArgs: 128, build: buildPackColumns},
		"extract_json":       {minArgs: 2, maxArgs: 3, build: buildExtractJSON, typeArgs: true},
		"extractjson":        {minArgs: 2, maxArgs: 3, build: buildExtractJSON, typeArgs: true},
		"dynamic_to_json":    {minArgs: 1, maxArgs: 1, ret: "string", eval: func(a []any) any { return jsonText(a[0]) }},
		"array_sort_asc":     {minArgs: 1, maxArgs: 64, build: buildArraySort(true)},
		"array_sort_desc":    {minArgs: 1, maxArgs: 64, build: buildArraySort(false)},
	})
}

// setKey is the identity of a value in a set: 1 and 1.0 are the same.
func setKey(v any) string { return string(appendKey(nil, v)) }

// setOp implements set_union, set_intersect and set_difference: distinct
// values in order of first appearance
// (https://learn.microsoft.com/kusto/query/set-union-function and siblings).
func setOp(op string) func(a []any) any {
	return func(a []any) any {
		arrays := make([][]any, len(a))
		for i, v := range a {
			arr, ok := v.([]any)
			if !ok {
				return nil
			}
			arrays[i] = arr
		}
		out := []any{}
		seen := map[string]bool{}
		add := func(v any) {
			if k := setKey(v); !seen[k] {
				seen[k] = true
				out = append(out, v)
			}
		}
		if op == "union" {
			for _, arr := range arrays {
				for _, v := range arr {
					add(v)
				}
			}
			return out
		}
		others := make([]map[string]bool, len(arrays)-1)
		for i, arr := range arrays[1:] {
			others[i] = map[string]bool{}
			for _, v := range arr {
				others[i][setKey(v)] = true
			}
		}
		for _, v := range arrays[0] {
			k := setKey(v)
			keep := true
			for _, o := range others {
				if o[k] != (op == "intersect") {
					keep = false
					break
				}
			}
			if keep {
				add(v)
			}
		}
		return out
	}
}

// jaccardIndex is |A ∩ B| / |A ∪ B| over the distinct values of two arrays.
func jaccardIndex(a []any) any {
	x, ok1 := a[0].([]any)
	y, ok2 := a[1].([]any)
	if !ok1 || !ok2 {
		return nil
	}
	inter := setOp("intersect")([]any{x, y}).([]any)
	union := setOp("union")([]any{x, y}).([]any)
	if len(union) == 0 {
		return nil
	}
	return float64(len(inter)) / float64(len(union))
}

func arrayReverse(a []any) any {
	arr, ok := a[0].([]any)
	if !ok {
		return nil
	}
	out := make([]any, len(arr))
	for i, v := range arr {
		out[len(arr)-1-i] = v
	}
	return out
}

// arrayRotate rotates left (dir 1) or right (-1); a negative count goes the other way.
func arrayRotate(dir int64) func(a []any) any {
	return func(a []any) any {
		arr, ok := a[0].([]any)
		n, ok2 := toLong(a[1])
		if !ok || !ok2 {
			return nil
		}
		out := make([]any, len(arr))
		if len(arr) == 0 {
			return out
		}
		k := ((n*dir)%int64(len(arr)) + int64(len(arr))) % int64(len(arr))
		for i := range arr {
			out[i] = arr[(int64(i)+k)%int64(len(arr))]
		}
		return out
	}
}

// arrayShift shifts left (dir 1) or right (-1), filling with the default
// (null) (https://learn.microsoft.com/kusto/query/array-shift-left-function).
func arrayShift(dir int64) func(a []any) any {
	return func(a []any) any {
		arr, ok := a[0].([]any)
		n, ok2 := toLong(a[1])
		if !ok || !ok2 {
			return nil
		}
		var fill any
		if len(a) > 2 {
			fill = a[2]
		}
		k := n * dir
		out := make([]any, len(arr))
		for i := range out {
			j := int64(i) + k
			if j >= 0 && j < int64(len(arr)) {
				out[i] = arr[j]
			} else {
				out[i] = fill
			}
		}
		return out
	}
}

// arraySplit splits at the given indexes (negative ones count from the end)
// (https://learn.microsoft.com/kusto/query/array-split-function).
func arraySplit(a []any) any {
	arr, ok := a[0].([]any)
	if !ok {
		return nil
	}
	n := int64(len(arr))
	var cuts []int64
	for _, v := range appendFlat(nil, a[1]) {
		i, ok := toLong(v)
		if !ok {
			return nil
		}
		if i < 0 {
			i += n
		}
		cuts = append(cuts, min(max(i, 0), n))
	}
	out := []any{}
	prev := int64(0)
	for _, c := range append(cuts, n) {
		c = max(c, prev)
		out = append(out, append([]any{}, arr[prev:c]...))
		prev = c
	}
	return out
}

// arrayIff is an element-wise iff over a condition array; the branches are
// arrays (missing elements are null) or scalars
// (https://learn.microsoft.com/kusto/query/array-iff-function).
func arrayIff(a []any) any {
	conds, ok := a[0].([]any)
	if !ok {
		return nil
	}
	pick := func(v any, i int) any {
		if arr, ok := v.([]any); ok {
			if i < len(arr) {
				return arr[i]
			}
			return nil
		}
		return v
	}
	out := make([]any, len(conds))
	for i, c := range conds {
		var b, known bool
		switch x := c.(type) {
		case bool:
			b, known = x, true
		case int64:
			b, known = x != 0, true
		case float64:
			b, known = x != 0, true
		}
		switch {
		case !known:
			out[i] = nil
		case b:
			out[i] = pick(a[1], i)
		default:
			out[i] = pick(a[2], i)
		}
	}
	return out
}

// zipArrays pairs the elements of arrays by index, padding with null.
func zipArrays(a []any) any {
	longest := 0
	arrays := make([][]any, len(a))
	for i, v := range a {
		arr, ok := v.([]any)
		if !ok {
			return nil
		}
		arrays[i] = arr
		longest = max(longest, len(arr))
	}
	out := make([]any, longest)
	for i := range out {
		row := make([]any, len(arrays))
		for j, arr := range arrays {
			if i < len(arr) {
				row[j] = arr[i]
			}
		}
		out[i] = row
	}
	return out
}

func repeatValue(a []any) any {
	n, ok := toLong(a[1])
	if !ok || n < 0 {
		return nil
	}
	out := make([]any, min(n, 1048576))
	for i := range out {
		out[i] = a[0]
	}
	return out
}

// jsonPathKeys reads a key or a JSONPath like $.a.b or $['a']['b'] into
// property names; array indexes are not supported.
func jsonPathKeys(p string) ([]string, bool) {
	p = strings.TrimSpace(p)
	if !strings.HasPrefix(p, "$") {
		return []string{p}, p != ""
	}
	steps, ok := jsonPathSteps(p)
	if !ok || len(steps) == 0 {
		return nil, false
	}
	keys := make([]string, len(steps))
	for i, step := range steps {
		key, isKey := step.(string)
		if !isKey {
			return nil, false // an array index
		}
		keys[i] = key
	}
	return keys, true
}

// copyBag copies a property bag one level deep.
func copyBag(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// bagRemoveKeys removes keys (or JSONPaths) from a bag
// (https://learn.microsoft.com/kusto/query/bag-remove-keys-function).
func bagRemoveKeys(a []any) any {
	m, ok := a[0].(map[string]any)
	if !ok {
		return nil
	}
	out := copyBag(m)
	for _, k := range appendFlat(nil, a[1]) {
		path, ok := jsonPathKeys(text(k))
		if !ok {
			continue
		}
		removePath(out, path)
	}
	return out
}

// removePath deletes path from m, copying the nested bags it changes.
func removePath(m map[string]any, path []string) {
	if len(path) == 1 {
		delete(m, path[0])
		return
	}
	inner, ok := m[path[0]].(map[string]any)
	if !ok {
		return
	}
	inner = copyBag(inner)
	m[path[0]] = inner
	removePath(inner, path[1:])
}

// bagSetKey sets a key (or JSONPath, creating the bags on the way) to a value
// (https://learn.microsoft.com/kusto/query/bag-set-key-function).
func bagSetKey(a []any) any {
	m, ok := a[0].(map[string]any)
	if !ok {
		return nil
	}
	path, ok := jsonPathKeys(text(a[1]))
	if !ok {
		return nil
	}
	out := copyBag(m)
	cur := out
	for _, k := range path[:len(path)-1] {
		next, ok := cur[k].(map[string]any)
		if ok {
			next = copyBag(next)
		} else {
			next = map[string]any{}
		}
		cur[k] = next
		cur = next
	}
	cur[path[len(path)-1]] = a[2]
	return out
}

// pack_all([ignore_null_empty]) packs every column of the operator's input
// into a bag: in extend P1 = pack_all(), P2 = pack_all(true), P2 does not hold
// P1 (https://learn.microsoft.com/kusto/query/pack-all-function). Without the
// input (scope.withInput), it packs every column the expression can see.
func buildPackAll(s *scope, c *call, args []compiled) (compiled, error) {
	cols := s.cols
	if s.input != nil {
		cols = s.input.Columns
	}
	var skipEmpty evalFn
	if len(args) == 1 {
		skipEmpty = args[0].fn
	}
	return compiled{typ: "dynamic", fn: func(r []any) any {
		skip := skipEmpty != nil && truthy(skipEmpty(r))
		m := make(map[string]any, len(cols))
		for i, col := range cols {
			if i >= len(r) {
				break
			}
			if skip && isEmpty(r[i]) {
				continue
			}
			m[col.Name] = r[i]
		}
		return m
	}}, nil
}

// bag_pack_columns(c1, c2...) packs the named columns
// (https://learn.microsoft.com/kusto/query/bag-pack-columns-function).
func buildPackColumns(s *scope, c *call, args []compiled) (compiled, error) {
	names := make([]string, len(args))
	for i, e := range c.args {
		if names[i] = exprName(e); names[i] == "" {
			return compiled{}, errorf(e.exprPos(), "bag_pack_columns() takes columns")
		}
	}
	return compiled{typ: "dynamic", fn: func(r []any) any {
		m := make(map[string]any, len(args))
		for i, a := range args {
			m[names[i]] = a.fn(r)
		}
		return m
	}}, nil
}

// extract_json(jsonPath, json [, typeof(t)]): the element at the path as a
// string, or converted to t (https://learn.microsoft.com/kusto/query/extract-json-function).
func buildExtractJSON(s *scope, c *call, args []compiled) (compiled, error) {
	typ := "string"
	if len(args) == 3 {
		if args[2].typ != "type" {
			return compiled{}, errorf(c.args[2].exprPos(), "%s() takes typeof(type) as its third argument", c.name)
		}
		typ = args[2].fn(nil).(string)
	}
	path, src := args[0], args[1]
	return fold(compiled{typ: typ, fn: func(r []any) any {
		v := src.fn(r)
		if s, ok := v.(string); ok {
			j, ok := parseJSON(s)
			if !ok {
				return nil
			}
			v = j
		}
		steps, ok := jsonPathSteps(text(path.fn(r)))
		if !ok {
			return nil
		}
		for _, st := range steps {
			v = getIndex(v, st)
		}
		if v == nil {
			if typ == "string" {
				return ""
			}
			return nil
		}
		if typ == "string" {
			return toStr(v)
		}
		return convertTo(typ, v)
	}}, args...), nil
}

// jsonPathSteps reads $.a.b[0]['c'] into property names (strings) and indexes (longs).
func jsonPathSteps(p string) ([]any, bool) {
	p = strings.TrimSpace(p)
	if !strings.HasPrefix(p, "$") {
		return nil, false
	}
	var steps []any
	rest := p[1:]
	for rest != "" {
		switch {
		case rest[0] == '.':
			rest = rest[1:]
			end := strings.IndexAny(rest, ".[")
			if end < 0 {
				end = len(rest)
			}
			if end == 0 {
				return nil, false
			}
			steps = append(steps, rest[:end])
			rest = rest[end:]
		case strings.HasPrefix(rest, "['") || strings.HasPrefix(rest, `["`):
			q := rest[1]
			end := strings.IndexByte(rest[2:], q)
			if end < 0 || !strings.HasPrefix(rest[2+end+1:], "]") {
				return nil, false
			}
			steps = append(steps, rest[2:2+end])
			rest = rest[2+end+2:]
		case rest[0] == '[':
			end := strings.IndexByte(rest, ']')
			if end < 0 {
				return nil, false
			}
			n, err := strconv.ParseInt(strings.TrimSpace(rest[1:end]), 10, 64)
			if err != nil {
				return nil, false
			}
			steps = append(steps, n)
			rest = rest[end+1:]
		default:
			return nil, false
		}
	}
	return steps, true
}

// array_sort_asc/desc(array1 [, array2...] [, nulls_last]) sorts the first
// array and reorders the others to match; an array whose length differs from
// the first gives null. With several arrays the value is an array holding
// each sorted array, which tuple assignment and indexing ([1]) read
// (https://learn.microsoft.com/kusto/query/array-sort-asc-function).
func buildArraySort(asc bool) func(*scope, *call, []compiled) (compiled, error) {
	return func(s *scope, c *call, args []compiled) (compiled, error) {
		arrays := args
		var nullsLast evalFn
		if last := args[len(args)-1]; len(args) > 1 && last.typ == "bool" {
			arrays, nullsLast = args[:len(args)-1], last.fn
		}
		for i, a := range arrays {
			if !dynamicLike(a.typ) {
				return compiled{}, errorf(c.args[i].exprPos(), "%s() sorts dynamic arrays, got %s", c.name, a.typ)
			}
		}
		return fold(compiled{typ: "dynamic", fn: func(r []any) any {
			last := true
			if nullsLast != nil {
				if b, ok := nullsLast(r).(bool); ok {
					last = b
				}
			}
			first, ok := arrays[0].fn(r).([]any)
			if !ok {
				return nil
			}
			order := make([]int, len(first))
			for i := range order {
				order[i] = i
			}
			sort.SliceStable(order, func(i, j int) bool {
				return arraySortLess(first[order[i]], first[order[j]], asc, last)
			})
			sorted := make([]any, len(arrays))
			for k, a := range arrays {
				arr, ok := a.fn(r).([]any)
				if !ok || len(arr) != len(first) {
					continue
				}
				out := make([]any, len(arr))
				for i, j := range order {
					out[i] = arr[j]
				}
				sorted[k] = out
			}
			if len(arrays) == 1 {
				return sorted[0]
			}
			return sorted
		}}, args...), nil
	}
}

// arraySortLess orders array elements: nulls first or last; then numbers,
// datetimes and timespans, then strings, then everything else (the order the
// array_sort_asc() docs give for mixed types).
func arraySortLess(x, y any, asc, nullsLast bool) bool {
	if x == nil || y == nil {
		if x == nil && y == nil {
			return false
		}
		return (x == nil) != nullsLast
	}
	rx, ry := arraySortRank(x), arraySortRank(y)
	if rx != ry {
		return rx < ry
	}
	c := sortCompare(x, y)
	if asc {
		return c < 0
	}
	return c > 0
}

func arraySortRank(v any) int {
	switch v.(type) {
	case int64, float64:
		return 0
	case string:
		return 2
	}
	switch kindOf(v) {
	case "datetime", "timespan":
		return 1
	}
	return 3
}

// multiValueNames gives the default output column names of a call that
// returns several values (array_sort_asc(a, b) gives a_sorted and b_sorted),
// for the tabular layer to spread such a value over columns; ok is false for
// every other expression.
func multiValueNames(e expr) ([]string, bool) {
	c, isCall := e.(*call)
	if !isCall || c.name != "array_sort_asc" && c.name != "array_sort_desc" {
		return nil, false
	}
	arrays := c.args
	if n := len(arrays); n > 1 {
		if lit, ok := arrays[n-1].(*literal); ok && lit.typ == "bool" {
			arrays = arrays[:n-1]
		}
	}
	if len(arrays) < 2 {
		return nil, false
	}
	names := make([]string, len(arrays))
	for i, a := range arrays {
		names[i] = exprName(a) + "_sorted"
		if exprName(a) == "" {
			names[i] = "array" + itoa(i+1) + "_sorted"
		}
	}
	return names, true
}
