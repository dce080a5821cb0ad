package kql

import "time"

// Aggregation functions for summarize. Each call gets one aggState per group;
// rows are added one by one and the result is read at the end. Nulls are
// skipped by every aggregate except count() and make_list_with_nulls().

type aggState interface {
	add(row []any)
	result() any
}

// aggDef describes an aggregation function. The default output column is
// prefix + the argument's column name (max_X), or name when set (count_).
type aggDef struct {
	minArgs, maxArgs int
	prefix           string
	name             string
	typ              func(args []compiled) (string, error)
	new              func(args []compiled) aggState
	// columns, when set, compiles the call itself, naming its output columns
	// (several for percentiles() and take_any(*)): see aggregate_stats.go.
	columns func(s *scope, a assign, c *call, nm *namer, byNames map[string]bool) (*aggColumn, []Column, error)
}

var aggs map[string]*aggDef

func fixed(t string) func([]compiled) (string, error) {
	return func([]compiled) (string, error) { return t, nil }
}

func sameAsArg(args []compiled) (string, error) { return args[0].typ, nil }

func sumType(args []compiled) (string, error) {
	switch t := args[0].typ; {
	case isIntType(t):
		return "long", nil
	case t == "real" || t == "decimal" || t == "timespan" || dynamicLike(t):
		if dynamicLike(t) {
			return "real", nil
		}
		return t, nil
	default:
		return "", &literalError{typ: "argument", text: "sum of " + t}
	}
}

func init() {
	aggs = map[string]*aggDef{
		"count":                {maxArgs: 0, name: "count_", typ: fixed("long"), new: func([]compiled) aggState { return &countAgg{} }},
		"countif":              {minArgs: 1, maxArgs: 1, name: "countif_", typ: fixed("long"), new: func(a []compiled) aggState { return &countAgg{pred: a[0].fn} }},
		"dcount":               {minArgs: 1, maxArgs: 2, prefix: "dcount_", typ: fixed("long"), new: newDcount(false)},
		"dcountif":             {minArgs: 2, maxArgs: 3, prefix: "dcountif_", typ: fixed("long"), new: newDcount(true)},
		"count_distinct":       {minArgs: 1, maxArgs: 1, prefix: "count_distinct_", typ: fixed("long"), new: newDcount(false)},
		"sum":                  {minArgs: 1, maxArgs: 1, prefix: "sum_", typ: sumType, new: newSum(false)},
		"sumif":                {minArgs: 2, maxArgs: 2, prefix: "sumif_", typ: sumType, new: newSum(true)},
		"avg":                  {minArgs: 1, maxArgs: 1, prefix: "avg_", typ: fixed("real"), new: newAvg(false)},
		"avgif":                {minArgs: 2, maxArgs: 2, prefix: "avgif_", typ: fixed("real"), new: newAvg(true)},
		"min":                  {minArgs: 1, maxArgs: 1, prefix: "min_", typ: sameAsArg, new: newExtreme(-1, false)},
		"max":                  {minArgs: 1, maxArgs: 1, prefix: "max_", typ: sameAsArg, new: newExtreme(1, false)},
		"minif":                {minArgs: 2, maxArgs: 2, prefix: "minif_", typ: sameAsArg, new: newExtreme(-1, true)},
		"maxif":                {minArgs: 2, maxArgs: 2, prefix: "maxif_", typ: sameAsArg, new: newExtreme(1, true)},
		"make_list":            {minArgs: 1, maxArgs: 2, prefix: "list_", typ: fixed("dynamic"), new: newList(false, false, false)},
		"make_list_if":         {minArgs: 2, maxArgs: 3, prefix: "list_", typ: fixed("dynamic"), new: newList(true, false, false)},
		"make_list_with_nulls": {minArgs: 1, maxArgs: 1, prefix: "list_", typ: fixed("dynamic"), new: newList(false, false, true)},
		"make_set":             {minArgs: 1, maxArgs: 2, prefix: "set_", typ: fixed("dynamic"), new: newList(false, true, false)},
		"make_set_if":          {minArgs: 2, maxArgs: 3, prefix: "set_", typ: fixed("dynamic"), new: newList(true, true, false)},
		"take_any":             {minArgs: 1, maxArgs: 1, prefix: "any_", typ: sameAsArg, new: newAny(false)},
		"any":                  {minArgs: 1, maxArgs: 1, prefix: "any_", typ: sameAsArg, new: newAny(false)},
		"take_anyif":           {minArgs: 2, maxArgs: 2, prefix: "anyif_", typ: sameAsArg, new: newAny(true)},
		"anyif":                {minArgs: 2, maxArgs: 2, prefix: "anyif_", typ: sameAsArg, new: newAny(true)},
		"make_bag":             {minArgs: 1, maxArgs: 2, prefix: "bag_", typ: fixed("dynamic"), new: newBag(false)},
		"make_bag_if":          {minArgs: 2, maxArgs: 3, prefix: "bag_", typ: fixed("dynamic"), new: newBag(true)},
		// arg_max and arg_min produce several columns; tabular_summarize.go handles them.
		"arg_max": {minArgs: 2, maxArgs: -1},
		"arg_min": {minArgs: 2, maxArgs: -1},
		"argmax":  {minArgs: 2, maxArgs: -1},
		"argmin":  {minArgs: 2, maxArgs: -1},
	}
}

func truthy(v any) bool { b, _ := v.(bool); return b }

type countAgg struct {
	pred evalFn
	n    int64
}

func (a *countAgg) add(r []any) {
	if a.pred == nil || truthy(a.pred(r)) {
		a.n++
	}
}
func (a *countAgg) result() any { return a.n }

// hashKey makes a value usable as a map key (dynamic values by their JSON).
func hashKey(v any) any {
	switch v.(type) {
	case []any, map[string]any:
		return "\x00json:" + jsonText(v)
	}
	return v
}

type dcountAgg struct {
	x, pred evalFn
	seen    map[any]struct{}
}

func newDcount(cond bool) func([]compiled) aggState {
	return func(a []compiled) aggState {
		s := &dcountAgg{x: a[0].fn, seen: map[any]struct{}{}}
		if cond {
			s.pred = a[1].fn
		}
		return s
	}
}

func (a *dcountAgg) add(r []any) {
	if a.pred != nil && !truthy(a.pred(r)) {
		return
	}
	if v := a.x(r); v != nil {
		a.seen[hashKey(v)] = struct{}{}
	}
}
func (a *dcountAgg) result() any { return int64(len(a.seen)) }

type sumAgg struct {
	x, pred evalFn
	i       int64
	f       float64
	d       time.Duration
	kind    int // 0 none, 1 long, 2 real, 3 timespan
}

func newSum(cond bool) func([]compiled) aggState {
	return func(a []compiled) aggState {
		s := &sumAgg{x: a[0].fn}
		if cond {
			s.pred = a[1].fn
		}
		return s
	}
}

func (a *sumAgg) add(r []any) {
	if a.pred != nil && !truthy(a.pred(r)) {
		return
	}
	switch v := a.x(r).(type) {
	case int64:
		if a.kind == 2 {
			a.f += float64(v)
		} else {
			a.i += v
			a.kind = 1
		}
	case float64:
		if a.kind == 1 {
			a.f = float64(a.i)
		}
		a.f += v
		a.kind = 2
	case time.Duration:
		a.d += v
		a.kind = 3
	}
}

func (a *sumAgg) result() any {
	switch a.kind {
	case 1:
		return a.i
	case 2:
		return a.f
	case 3:
		return a.d
	}
	return nil
}

type avgAgg struct {
	x, pred evalFn
	sum     float64
	n       int64
}

func newAvg(cond bool) func([]compiled) aggState {
	return func(a []compiled) aggState {
		s := &avgAgg{x: a[0].fn}
		if cond {
			s.pred = a[1].fn
		}
		return s
	}
}

func (a *avgAgg) add(r []any) {
	if a.pred != nil && !truthy(a.pred(r)) {
		return
	}
	if f, ok := toReal(a.x(r)); ok {
		a.sum += f
		a.n++
	}
}

func (a *avgAgg) result() any {
	if a.n == 0 {
		return nil
	}
	return a.sum / float64(a.n)
}

type extremeAgg struct {
	x, pred evalFn
	sign    int
	best    any
}

func newExtreme(sign int, cond bool) func([]compiled) aggState {
	return func(a []compiled) aggState {
		s := &extremeAgg{x: a[0].fn, sign: sign}
		if cond {
			s.pred = a[1].fn
		}
		return s
	}
}

func (a *extremeAgg) add(r []any) {
	if a.pred != nil && !truthy(a.pred(r)) {
		return
	}
	v := a.x(r)
	if v == nil {
		return
	}
	if a.best == nil {
		a.best = v
		return
	}
	if c, ok := compareValues(v, a.best); ok && c*a.sign > 0 {
		a.best = v
	}
}
func (a *extremeAgg) result() any { return a.best }

type listAgg struct {
	x, pred   evalFn
	limit     int
	set       bool
	keepNulls bool
	seen      map[any]struct{}
	out       []any
}

func newList(cond, set, keepNulls bool) func([]compiled) aggState {
	return func(a []compiled) aggState {
		s := &listAgg{x: a[0].fn, set: set, keepNulls: keepNulls, limit: 1048576, out: []any{}}
		rest := a[1:]
		if cond {
			s.pred = a[1].fn
			rest = a[2:]
		}
		if len(rest) > 0 {
			if n, ok := toLong(rest[0].fn(nil)); ok && n > 0 {
				s.limit = int(n)
			}
		}
		if set {
			s.seen = map[any]struct{}{}
		}
		return s
	}
}

func (a *listAgg) add(r []any) {
	if len(a.out) >= a.limit || a.pred != nil && !truthy(a.pred(r)) {
		return
	}
	v := a.x(r)
	if v == nil && !a.keepNulls {
		return
	}
	if a.set {
		// make_set of a dynamic array adds its elements
		// (https://learn.microsoft.com/kusto/query/make-set-aggregation-function,
		// "Set from array column").
		if arr, ok := v.([]any); ok {
			for _, e := range arr {
				if len(a.out) >= a.limit {
					return
				}
				if e != nil {
					a.addDistinct(e)
				}
			}
			return
		}
		a.addDistinct(v)
		return
	}
	a.out = append(a.out, v)
}

func (a *listAgg) addDistinct(v any) {
	k := hashKey(v)
	if _, dup := a.seen[k]; dup {
		return
	}
	a.seen[k] = struct{}{}
	a.out = append(a.out, v)
}
func (a *listAgg) result() any { return a.out }

type anyAgg struct {
	x, pred evalFn
	v       any
	done    bool
}

func newAny(cond bool) func([]compiled) aggState {
	return func(a []compiled) aggState {
		s := &anyAgg{x: a[0].fn}
		if cond {
			s.pred = a[1].fn
		}
		return s
	}
}

// add keeps the first non-empty value.
func (a *anyAgg) add(r []any) {
	if a.done || a.pred != nil && !truthy(a.pred(r)) {
		return
	}
	a.v = a.x(r)
	a.done = !isEmpty(a.v)
}
func (a *anyAgg) result() any { return a.v }

// argExtremeAgg keeps the row where x is largest (sign 1) or smallest (-1);
// when every x is null it keeps the first row.
type argExtremeAgg struct {
	x    evalFn
	sign int
	best any
	row  []any
}

func (a *argExtremeAgg) add(r []any) {
	v := a.x(r)
	if a.row == nil {
		a.row, a.best = r, v
		return
	}
	if v == nil {
		return
	}
	if a.best == nil {
		a.row, a.best = r, v
		return
	}
	if c, ok := compareValues(v, a.best); ok && c*a.sign > 0 {
		a.row, a.best = r, v
	}
}
func (a *argExtremeAgg) result() any { return a.row }

// bagAgg merges the property bags of a group (make_bag); the first value of a key wins.
type bagAgg struct {
	x, pred evalFn
	out     map[string]any
}

func newBag(cond bool) func([]compiled) aggState {
	return func(a []compiled) aggState {
		s := &bagAgg{x: a[0].fn, out: map[string]any{}}
		if cond {
			s.pred = a[1].fn
		}
		return s
	}
}

func (a *bagAgg) add(r []any) {
	if a.pred != nil && !truthy(a.pred(r)) {
		return
	}
	if m, ok := a.x(r).(map[string]any); ok {
		for k, v := range m {
			if _, dup := a.out[k]; !dup {
				a.out[k] = v
			}
		}
	}
}
func (a *bagAgg) result() any { return a.out }
