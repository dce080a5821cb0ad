package kql

import (
	"math"
	"sort"
	"strings"
)

// Statistical aggregates (stdev, variance, percentiles), bitwise ones, and the
// aggregates that name or spread their own output columns.
//
// aggDef.columns compiles a call whose output columns depend on constant
// arguments (percentile(x, 95) is percentile_x_95) or that has several
// (percentiles(x, 50, 95), take_any(a, b), take_any(*)). Such a column is
// returned with argSign spreadColumns: its state's result is a []any, and
// outputs read its elements (or, for take_any, evaluate the expressions on
// the chosen row), as for arg_max. tabular_summarize.go calls columns in
// place of its default compilation when it is set.

// spreadColumns marks an aggColumn whose result spreads over outputs.
const spreadColumns = 2

func init() {
	stats := map[string]*aggDef{
		// https://learn.microsoft.com/kusto/query/stdev-aggregation-function and its siblings
		"stdev":      {minArgs: 1, maxArgs: 1, prefix: "stdev_", typ: numericReal, new: newMoments(false, true, true)},
		"stdevif":    {minArgs: 2, maxArgs: 2, prefix: "stdevif_", typ: numericReal, new: newMoments(true, true, true)},
		"stdevp":     {minArgs: 1, maxArgs: 1, prefix: "stdevp_", typ: numericReal, new: newMoments(false, true, false)},
		"variance":   {minArgs: 1, maxArgs: 1, prefix: "variance_", typ: numericReal, new: newMoments(false, false, true)},
		"varianceif": {minArgs: 2, maxArgs: 2, prefix: "varianceif_", typ: numericReal, new: newMoments(true, false, true)},
		"variancep":  {minArgs: 1, maxArgs: 1, prefix: "variancep_", typ: numericReal, new: newMoments(false, false, false)},
		// https://learn.microsoft.com/kusto/query/percentiles-aggregation-function
		"percentile":         {minArgs: 2, maxArgs: 2, prefix: "percentile_", typ: sameAsArg, new: newPercentiles(false, false), columns: percentileColumns(false, false)},
		"percentiles":        {minArgs: 2, maxArgs: -1, typ: needsSpread, new: newPercentiles(false, false), columns: percentileColumns(false, false)},
		"percentiles_array":  {minArgs: 2, maxArgs: -1, prefix: "percentiles_", typ: fixed("dynamic"), new: newPercentiles(false, true)},
		"percentilew":        {minArgs: 3, maxArgs: 3, prefix: "percentile_", typ: sameAsArg, new: newPercentiles(true, false), columns: percentileColumns(true, false)},
		"percentilesw":       {minArgs: 3, maxArgs: -1, typ: needsSpread, new: newPercentiles(true, false), columns: percentileColumns(true, false)},
		"percentilesw_array": {minArgs: 3, maxArgs: -1, prefix: "percentile_", typ: fixed("dynamic"), new: newPercentiles(true, true)},
		// https://learn.microsoft.com/kusto/query/binary-all-and-aggregation-function and its siblings
		"binary_all_and": {minArgs: 1, maxArgs: 1, prefix: "binary_all_and_", typ: fixed("long"), new: newBitwise("and")},
		"binary_all_or":  {minArgs: 1, maxArgs: 1, prefix: "binary_all_or_", typ: fixed("long"), new: newBitwise("or")},
		"binary_all_xor": {minArgs: 1, maxArgs: 1, prefix: "binary_all_xor_", typ: fixed("long"), new: newBitwise("xor")},
		// https://learn.microsoft.com/kusto/query/count-distinctif-aggregation-function
		"count_distinctif": {minArgs: 2, maxArgs: 2, prefix: "count_distinctif_", typ: fixed("long"), new: newDcount(true)},
		// The deprecated makelist() and makeset() keep at most 128 elements by default
		// (https://learn.microsoft.com/kusto/query/make-list-aggregation-function).
		"makelist": {minArgs: 1, maxArgs: 2, prefix: "list_", typ: fixed("dynamic"), new: withDefaultLimit(128, newList(false, false, false))},
		"makeset":  {minArgs: 1, maxArgs: 2, prefix: "set_", typ: fixed("dynamic"), new: withDefaultLimit(128, newList(false, true, false))},
	}
	for name, d := range stats {
		aggs[name] = d
	}
	// take_any(a, b...) and take_any(*) pick one row; with one argument
	// take_any keeps the first non-empty value. The columns keep the names of
	// the expressions; only the deprecated any() adds any_
	// (https://learn.microsoft.com/kusto/query/take-any-aggregation-function).
	for _, name := range []string{"take_any", "any"} {
		d := aggs[name]
		d.maxArgs = -1
		d.typ = takeAnyType
		d.columns = takeAnyColumns(map[bool]string{true: "any_"}[name == "any"])
	}
	for _, name := range []string{"take_anyif", "anyif"} {
		d := aggs[name]
		d.columns = takeAnyIfColumns(map[bool]string{true: "any_"}[name == "anyif"])
	}
}

func numericReal(args []compiled) (string, error) {
	if t := args[0].typ; !isNumericType(t) && !dynamicLike(t) && t != "bool" {
		return "", &literalError{typ: "argument", text: "of type " + t + " for a numeric aggregate"}
	}
	return "real", nil
}

// needsSpread is the type check of the multi-column aggregates on the
// default path, which can give one column only.
func needsSpread(args []compiled) (string, error) {
	return "", errorText("several output columns need the aggregate's own compilation (aggDef.columns), which this summarize does not call")
}

type errorText string

func (e errorText) Error() string { return string(e) }

func takeAnyType(args []compiled) (string, error) {
	if len(args) != 1 {
		return needsSpread(args)
	}
	return args[0].typ, nil
}

// momentsAgg accumulates count, mean and squared deviations (Welford).
type momentsAgg struct {
	x, pred      evalFn
	n            float64
	mean, m2     float64
	root, sample bool
}

func newMoments(cond, root, sample bool) func([]compiled) aggState {
	return func(a []compiled) aggState {
		s := &momentsAgg{x: a[0].fn, root: root, sample: sample}
		if cond {
			s.pred = a[1].fn
		}
		return s
	}
}

func (a *momentsAgg) add(r []any) {
	if a.pred != nil && !truthy(a.pred(r)) {
		return
	}
	f, ok := toReal(a.x(r))
	if !ok {
		return
	}
	a.n++
	d := f - a.mean
	a.mean += d / a.n
	a.m2 += d * (f - a.mean)
}

// result is the variance (or its root) with Bessel's correction for a sample.
func (a *momentsAgg) result() any {
	if a.n == 0 {
		return nil
	}
	div := a.n
	if a.sample {
		div = a.n - 1
	}
	if div == 0 {
		return 0.0
	}
	v := a.m2 / div
	if a.root {
		return math.Sqrt(v)
	}
	return v
}

// percentileAgg keeps every value (and weight) of the group and computes
// nearest-rank percentiles: the P-th percentile is the smallest value that at
// least P percent of the values are less than or equal to; the 0th is the
// minimum. Kusto estimates them with T-Digest; the exact value is within its
// documented error bounds.
type percentileAgg struct {
	x, w    evalFn
	pcts    []float64
	asArray bool
	vals    []any
	weights []int64
	total   int64
}

func newPercentiles(weighted, asArray bool) func([]compiled) aggState {
	return func(a []compiled) aggState {
		s := &percentileAgg{x: a[0].fn, asArray: asArray}
		rest := a[1:]
		if weighted {
			s.w = a[1].fn
			rest = a[2:]
		}
		for _, p := range rest {
			s.pcts = appendPercents(s.pcts, p.fn(nil))
		}
		return s
	}
}

// appendPercents adds a percentile constant, or each element of an array of them.
func appendPercents(out []float64, v any) []float64 {
	if arr, ok := v.([]any); ok {
		for _, e := range arr {
			out = appendPercents(out, e)
		}
		return out
	}
	if f, ok := toReal(v); ok {
		return append(out, f)
	}
	return append(out, math.NaN())
}

func (a *percentileAgg) add(r []any) {
	v := a.x(r)
	if v == nil {
		return
	}
	w := int64(1)
	if a.w != nil {
		n, ok := toLong(a.w(r))
		if !ok || n <= 0 {
			return
		}
		w = n
		a.weights = append(a.weights, w)
	}
	a.vals = append(a.vals, v)
	a.total += w
}

func (a *percentileAgg) result() any {
	out := make([]any, len(a.pcts))
	if len(a.vals) > 0 {
		idx := make([]int, len(a.vals))
		for i := range idx {
			idx[i] = i
		}
		sort.SliceStable(idx, func(i, j int) bool { return sortCompare(a.vals[idx[i]], a.vals[idx[j]]) < 0 })
		for k, p := range a.pcts {
			if math.IsNaN(p) || p < 0 || p > 100 {
				continue
			}
			rank := int64(math.Ceil(p*float64(a.total)/100 - 1e-9))
			rank = max(rank, 1)
			var seen int64
			for _, i := range idx {
				if a.weights != nil {
					seen += a.weights[i]
				} else {
					seen++
				}
				if seen >= rank {
					out[k] = a.vals[i]
					break
				}
			}
		}
	}
	if a.asArray {
		return out
	}
	if len(out) == 1 && !a.asArray {
		return out[0]
	}
	return out
}

// percentileColumns names percentile(x, 95) percentile_x_95 (99.9 gives
// 99_9, as in the percentilesw() docs); percentiles gives one such column per
// percentile.
func percentileColumns(weighted, _ bool) func(*scope, assign, *call, *namer, map[string]bool) (*aggColumn, []Column, error) {
	return func(s *scope, a assign, c *call, nm *namer, byNames map[string]bool) (*aggColumn, []Column, error) {
		def := aggs[c.name]
		args := make([]compiled, len(c.args))
		for i, e := range c.args {
			arg, err := s.scalar(e)
			if err != nil {
				return nil, nil, err
			}
			args[i] = arg
		}
		first := 1
		if weighted {
			first = 2
		}
		var pcts []float64
		for i := first; i < len(args); i++ {
			if !args[i].konst {
				return nil, nil, errorf(c.args[i].exprPos(), "%s(): the percentiles must be constants", c.name)
			}
			pcts = appendPercents(pcts, args[i].fn(nil))
			if math.IsNaN(pcts[len(pcts)-1]) {
				return nil, nil, errorf(c.args[i].exprPos(), "%s(): a percentile must be a number", c.name)
			}
		}
		base := exprName(c.args[0])
		if base == "" {
			base = nm.name(c, "")
		}
		var cols []Column
		for _, p := range pcts {
			cols = append(cols, Column{Name: "percentile_" + base + "_" + strings.ReplaceAll(formatReal(p), ".", "_"), Type: args[0].typ})
		}
		ac := &aggColumn{def: def, args: args}
		if len(cols) == 1 {
			if a.name != "" {
				cols[0].Name = a.name
			}
			return ac, cols, nil
		}
		if a.name != "" {
			return nil, nil, errorf(c.pos, "%s() returns %d columns: name them with (a, b, ...) = %s(...)", c.name, len(cols), c.name)
		}
		ac.argSign = spreadColumns
		for i := range cols {
			ac.outputs = append(ac.outputs, elementReader(i))
		}
		return ac, cols, nil
	}
}

func elementReader(i int) evalFn { return func(r []any) any { return r[i] } }

// takeAnyColumns compiles take_any(expr...) and take_any(*). One expression
// keeps the first non-empty value; several, or *, take every value from the
// group's first row.
func takeAnyColumns(prefix string) func(*scope, assign, *call, *namer, map[string]bool) (*aggColumn, []Column, error) {
	return func(s *scope, a assign, c *call, nm *namer, byNames map[string]bool) (*aggColumn, []Column, error) {
		def := aggs[c.name]
		if len(c.args) == 1 {
			if _, isStar := c.args[0].(*star); !isStar {
				x, err := s.scalar(c.args[0])
				if err != nil {
					return nil, nil, err
				}
				name := a.name
				if name == "" {
					name = exprName(c.args[0])
					if name == "" {
						name = nm.name(c, "")
					} else {
						name = prefix + name
					}
				}
				return &aggColumn{def: def, args: []compiled{x}}, []Column{{Name: name, Type: x.typ}}, nil
			}
		}
		if a.name != "" {
			return nil, nil, errorf(c.pos, "%s() with several values returns several columns: name them with (a, b, ...) = %s(...)", c.name, c.name)
		}
		ac := &aggColumn{def: &aggDef{new: func([]compiled) aggState { return &firstRowAgg{} }}, argSign: spreadColumns}
		var cols []Column
		for _, e := range c.args {
			if _, ok := e.(*star); ok {
				for i, col := range s.cols {
					if byNames[col.Name] {
						continue
					}
					cols = append(cols, Column{Name: prefix + col.Name, Type: col.Type})
					ac.outputs = append(ac.outputs, elementReader(i))
				}
				continue
			}
			x, err := s.scalar(e)
			if err != nil {
				return nil, nil, err
			}
			name := exprName(e)
			if name == "" {
				name = nm.name(e, "")
			} else {
				name = prefix + name
			}
			cols = append(cols, Column{Name: name, Type: x.typ})
			ac.outputs = append(ac.outputs, x.fn)
		}
		return ac, cols, nil
	}
}

// takeAnyIfColumns names take_anyif(expr, pred) after expr (anyif adds any_).
func takeAnyIfColumns(prefix string) func(*scope, assign, *call, *namer, map[string]bool) (*aggColumn, []Column, error) {
	return func(s *scope, a assign, c *call, nm *namer, byNames map[string]bool) (*aggColumn, []Column, error) {
		args := make([]compiled, len(c.args))
		for i, e := range c.args {
			arg, err := s.scalar(e)
			if err != nil {
				return nil, nil, err
			}
			args[i] = arg
		}
		name := a.name
		if name == "" {
			if n := exprName(c.args[0]); n != "" {
				name = prefix + n
			} else {
				name = nm.name(c, "")
			}
		}
		return &aggColumn{def: aggs[c.name], args: args}, []Column{{Name: name, Type: args[0].typ}}, nil
	}
}

// firstRowAgg keeps the group's first row.
type firstRowAgg struct{ row []any }

func (a *firstRowAgg) add(r []any) {
	if a.row == nil {
		a.row = r
	}
}
func (a *firstRowAgg) result() any { return a.row }

type bitwiseAgg struct {
	x    evalFn
	op   string
	acc  int64
	seen bool
}

func newBitwise(op string) func([]compiled) aggState {
	return func(a []compiled) aggState { return &bitwiseAgg{x: a[0].fn, op: op} }
}

func (a *bitwiseAgg) add(r []any) {
	v, ok := toLong(a.x(r))
	if !ok {
		return
	}
	if !a.seen {
		a.acc, a.seen = v, true
		return
	}
	switch a.op {
	case "and":
		a.acc &= v
	case "or":
		a.acc |= v
	default:
		a.acc ^= v
	}
}

func (a *bitwiseAgg) result() any {
	if !a.seen {
		return nil
	}
	return a.acc
}

// withDefaultLimit gives a list aggregate a smaller default maxSize.
func withDefaultLimit(n int, f func([]compiled) aggState) func([]compiled) aggState {
	return func(a []compiled) aggState {
		s := f(a).(*listAgg)
		if len(a) < 2 {
			s.limit = n
		}
		return s
	}
}
