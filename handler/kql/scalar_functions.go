package kql

import (
	"math"
	"strconv"
)

// Scalar functions are registered by name from this file (conversions,
// conditionals, null tests, math), scalar_strings.go, scalar_dynamic.go and
// scalar_datetime.go.

// fnDef describes one scalar function. Simple functions give eval, called with
// the evaluated arguments; others give build, which compiles the call itself
// (constant regexes, typeof() arguments, the query clock).
type fnDef struct {
	minArgs, maxArgs int // maxArgs < 0: no limit
	ret              string
	retFn            func(args []compiled) string
	eval             func(args []any) any
	build            func(s *scope, c *call, args []compiled) (compiled, error)
	tableArgs        bool // accepts a tabular argument (toscalar)
	typeArgs         bool // accepts typeof(t)
	volatile         bool // never folded into a constant
}

var funcs = map[string]*fnDef{}

func register(defs map[string]*fnDef) {
	for name, d := range defs {
		funcs[name] = d
	}
}

// unsupportedFuncs are Kusto functions this engine knows it does not implement.
var unsupportedFuncs = map[string]bool{
	"parse_user_agent": true, "ipv4_lookup": true, "series_decompose": true,
	"bag_unpack": true, "materialize": true, "toarray": true, "treepath": true, "weekofyear": true,
	"parse_version": true, "hash_combine": true, "hash_many": true, "ipv4_range_to_cidr_list": true,
	"datetime_utc_to_local": true, "datetime_local_to_utc": true, "series_stats": true,
	"current_cluster_endpoint": true, "current_database": true, "current_principal": true,
	"cursor_after": true, "extent_id": true, "extent_tags": true,
	"estimate_data_size": true, "punycode_from_string": true, "punycode_to_string": true,
	// aggregates
	"tdigest": true, "tdigest_merge": true, "merge_tdigest": true, "percentile_tdigest": true,
	"percentile_array_tdigest": true, "percentrank_tdigest": true, "rank_tdigest": true,
	"hll": true, "hll_if": true, "hll_merge": true, "dcount_hll": true, "buildschema": true,
}

// funcAliases are the deprecated names the docs list for functions
// ("Deprecated aliases:" on each function's page).
var funcAliases = map[string]string{
	"parsejson": "parse_json", "arraylength": "array_length", "notnull": "isnotnull", "notempty": "isnotempty",
	"base64_encodestring": "base64_encode_tostring", "base64_decodestring": "base64_decode_tostring",
}

func argType(i int) func(args []compiled) string {
	return func(args []compiled) string { return args[i].typ }
}

func init() {
	register(map[string]*fnDef{
		"tostring":        {minArgs: 1, maxArgs: 1, ret: "string", eval: func(a []any) any { return toStr(a[0]) }},
		"toint":           {minArgs: 1, maxArgs: 1, ret: "int", eval: func(a []any) any { return convertTo("int", a[0]) }},
		"tolong":          {minArgs: 1, maxArgs: 1, ret: "long", eval: func(a []any) any { return convertTo("long", a[0]) }},
		"todouble":        {minArgs: 1, maxArgs: 1, ret: "real", eval: func(a []any) any { return convertTo("real", a[0]) }},
		"toreal":          {minArgs: 1, maxArgs: 1, ret: "real", eval: func(a []any) any { return convertTo("real", a[0]) }},
		"todecimal":       {minArgs: 1, maxArgs: 1, ret: "decimal", eval: func(a []any) any { return convertTo("real", a[0]) }},
		"tobool":          {minArgs: 1, maxArgs: 1, ret: "bool", eval: func(a []any) any { return convertTo("bool", a[0]) }},
		"toboolean":       {minArgs: 1, maxArgs: 1, ret: "bool", eval: func(a []any) any { return convertTo("bool", a[0]) }},
		"todatetime":      {minArgs: 1, maxArgs: 1, ret: "datetime", eval: func(a []any) any { return convertTo("datetime", a[0]) }},
		"totimespan":      {minArgs: 1, maxArgs: 1, ret: "timespan", eval: func(a []any) any { return convertTo("timespan", a[0]) }},
		"toguid":          {minArgs: 1, maxArgs: 1, ret: "guid", eval: func(a []any) any { return convertTo("guid", a[0]) }},
		"iff":             {minArgs: 3, maxArgs: 3, build: buildIff},
		"iif":             {minArgs: 3, maxArgs: 3, build: buildIff},
		"case":            {minArgs: 3, maxArgs: -1, build: buildCase},
		"coalesce":        {minArgs: 1, maxArgs: 64, build: buildCoalesce},
		"not":             {minArgs: 1, maxArgs: 1, ret: "bool", eval: notFn},
		"isnull":          {minArgs: 1, maxArgs: 1, ret: "bool", eval: func(a []any) any { return a[0] == nil }},
		"isnotnull":       {minArgs: 1, maxArgs: 1, ret: "bool", eval: func(a []any) any { return a[0] != nil }},
		"isempty":         {minArgs: 1, maxArgs: 1, ret: "bool", eval: func(a []any) any { return isEmpty(a[0]) }},
		"isnotempty":      {minArgs: 1, maxArgs: 1, ret: "bool", eval: func(a []any) any { return !isEmpty(a[0]) }},
		"isnan":           {minArgs: 1, maxArgs: 1, ret: "bool", eval: func(a []any) any { f, ok := toReal(a[0]); return ok && math.IsNaN(f) }},
		"gettype":         {minArgs: 1, maxArgs: 1, ret: "string", eval: func(a []any) any { return kindOf(a[0]) }},
		"abs":             {minArgs: 1, maxArgs: 1, retFn: argType(0), eval: absFn},
		"round":           {minArgs: 1, maxArgs: 2, ret: "real", eval: roundFn},
		"ceiling":         {minArgs: 1, maxArgs: 1, ret: "real", eval: mathFn(math.Ceil)},
		"sqrt":            {minArgs: 1, maxArgs: 1, ret: "real", eval: mathFn(math.Sqrt)},
		"log":             {minArgs: 1, maxArgs: 1, ret: "real", eval: mathFn(math.Log)},
		"log10":           {minArgs: 1, maxArgs: 1, ret: "real", eval: mathFn(math.Log10)},
		"exp":             {minArgs: 1, maxArgs: 1, ret: "real", eval: mathFn(math.Exp)},
		"pow":             {minArgs: 2, maxArgs: 2, ret: "real", eval: powFn},
		"toscalar":        {minArgs: 1, maxArgs: 1, build: buildToscalar, tableArgs: true},
		"column_ifexists": {minArgs: 2, maxArgs: 2, build: buildColumnIfExists},
		"ingestion_time":  {minArgs: 0, maxArgs: 0, build: buildIngestionTime},
		"max_of":          {minArgs: 2, maxArgs: 64, retFn: argType(0), eval: func(a []any) any { return extremeOf(a, 1) }},
		"min_of":          {minArgs: 2, maxArgs: 64, retFn: argType(0), eval: func(a []any) any { return extremeOf(a, -1) }},
	})
}

func itoa(i int) string { return strconv.Itoa(i) }

func notFn(a []any) any {
	b, ok := toBool(a[0])
	if !ok {
		return nil
	}
	return !b
}

func isEmpty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	}
	return false
}

// unifyType is the common type of conditional branches: a null literal takes
// the other side's type, int widens to long and to real.
func unifyType(ts ...compiled) string {
	out := ""
	for _, t := range ts {
		switch {
		case t.konst && t.fn(nil) == nil && t.typ != "string":
			continue
		case out == "" || out == t.typ:
			out = t.typ
		case isNumericType(out) && isNumericType(t.typ):
			if out == "real" || t.typ == "real" {
				out = "real"
			} else {
				out = "long"
			}
		default:
			out = "dynamic"
		}
	}
	if out == "" {
		out = ts[0].typ
	}
	return out
}

// coerce converts branch results to the unified type when they differ.
func coerce(typ string, c compiled) evalFn {
	if c.typ == typ || typ == "dynamic" {
		return c.fn
	}
	return func(r []any) any { return convertTo(typ, c.fn(r)) }
}

func buildIff(s *scope, c *call, args []compiled) (compiled, error) {
	if !boolish(args[0].typ) {
		return compiled{}, errorf(c.args[0].exprPos(), "%s() needs a bool condition, got %s", c.name, args[0].typ)
	}
	typ := unifyType(args[1], args[2])
	cond, a, b := args[0].fn, coerce(typ, args[1]), coerce(typ, args[2])
	return fold(compiled{typ: typ, fn: func(r []any) any {
		if v, _ := cond(r).(bool); v {
			return a(r)
		}
		return b(r)
	}}, args...), nil
}

func buildCase(s *scope, c *call, args []compiled) (compiled, error) {
	if len(args)%2 == 0 {
		return compiled{}, errorf(c.pos, "case() needs condition/value pairs and an else value")
	}
	var values []compiled
	for i := 0; i+1 < len(args); i += 2 {
		if !boolish(args[i].typ) {
			return compiled{}, errorf(c.args[i].exprPos(), "case() conditions must be bool, got %s", args[i].typ)
		}
		values = append(values, args[i+1])
	}
	values = append(values, args[len(args)-1])
	typ := unifyType(values...)
	fns := make([]evalFn, len(args))
	for i := range args {
		fns[i] = args[i].fn
		if i%2 == 1 || i == len(args)-1 {
			fns[i] = coerce(typ, args[i])
		}
	}
	return fold(compiled{typ: typ, fn: func(r []any) any {
		for i := 0; i+1 < len(fns); i += 2 {
			if v, _ := fns[i](r).(bool); v {
				return fns[i+1](r)
			}
		}
		return fns[len(fns)-1](r)
	}}, args...), nil
}

// coalesce returns the first argument that is not null (nor an empty string).
func buildCoalesce(s *scope, c *call, args []compiled) (compiled, error) {
	typ := unifyType(args...)
	fns := make([]evalFn, len(args))
	for i, a := range args {
		fns[i] = coerce(typ, a)
	}
	return fold(compiled{typ: typ, fn: func(r []any) any {
		for _, f := range fns {
			if v := f(r); !isEmpty(v) {
				return v
			}
		}
		return nil
	}}, args...), nil
}

// toscalar(T) is the first column of the first row of T.
func buildToscalar(s *scope, c *call, args []compiled) (compiled, error) {
	if args[0].typ != "table" {
		return args[0], nil
	}
	t := args[0].fn(nil).(*Table)
	if len(t.Columns) == 0 {
		return compiled{}, errorf(c.pos, "toscalar() of a table without columns")
	}
	if len(t.Rows) == 0 {
		return konst(nil, t.Columns[0].Type), nil
	}
	return konst(t.Rows[0][0], t.Columns[0].Type), nil
}

func absFn(a []any) any {
	switch x := a[0].(type) {
	case int64:
		if x < 0 {
			return -x
		}
		return x
	case float64:
		return math.Abs(x)
	case nil:
		return nil
	}
	return nil
}

func roundFn(a []any) any {
	f, ok := toReal(a[0])
	if !ok {
		return nil
	}
	p := int64(0)
	if len(a) > 1 {
		if p, ok = toLong(a[1]); !ok {
			return nil
		}
	}
	m := math.Pow(10, float64(p))
	return math.Round(f*m) / m
}

func mathFn(f func(float64) float64) func(a []any) any {
	return func(a []any) any {
		x, ok := toReal(a[0])
		if !ok {
			return nil
		}
		return f(x)
	}
}

func powFn(a []any) any {
	x, ok1 := toReal(a[0])
	y, ok2 := toReal(a[1])
	if !ok1 || !ok2 {
		return nil
	}
	return math.Pow(x, y)
}

func extremeOf(a []any, sign int) any {
	var best any
	for _, v := range a {
		if v == nil {
			continue
		}
		if best == nil {
			best = v
			continue
		}
		if c, ok := compareValues(v, best); ok && c*sign > 0 {
			best = v
		}
	}
	return best
}

// column_ifexists(name, default) reads the column when the input has it.
func buildColumnIfExists(s *scope, c *call, args []compiled) (compiled, error) {
	name, ok := args[0].fn(nil).(string)
	if !args[0].konst || !ok {
		return compiled{}, errorf(c.args[0].exprPos(), "column_ifexists() takes a constant column name")
	}
	if i, found := s.index[name]; found {
		return compiled{typ: s.cols[i].Type, fn: func(r []any) any { return r[i] }}, nil
	}
	return args[1], nil
}

// ingestion_time() is when the record was ingested. Exported logs carry it
// only when the export added it as a column, _IngestionTime (or
// $IngestionTime); without one the function gives null, as Kusto does for a
// table without an IngestionTime policy ("otherwise, this function produces
// null values": https://learn.microsoft.com/kusto/query/ingestion-time-function).
func buildIngestionTime(s *scope, c *call, args []compiled) (compiled, error) {
	for _, name := range []string{"_IngestionTime", "$IngestionTime"} {
		if i, ok := s.index[name]; ok {
			return compiled{typ: "datetime", fn: func(r []any) any { return convertTo("datetime", r[i]) }}, nil
		}
	}
	return compiled{typ: "datetime", fn: func([]any) any { return nil }}, nil
}
