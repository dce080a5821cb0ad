package kql

import (
	byteorder "encoding/binary"
	"math"
	"strings"
	"time"
)

// summarize groups rows by hashing the values of the by-expressions; the
// output has the group columns first, then one column per aggregate (several
// for arg_max/arg_min). Groups come out in order of first appearance.

// aggColumn is one aggregate of a summarize: a plain aggregate, or an
// arg_max/arg_min whose output columns are read from the chosen row.
type aggColumn struct {
	def     *aggDef
	args    []compiled
	argSign int      // 1 for arg_max, -1 for arg_min, 0 otherwise
	outputs []evalFn // arg_max/arg_min: one per output column, evaluated on the chosen row
}

func (x *exec) summarize(op *summarizeOp, in *Table) (*Table, error) {
	s := newScope(x, in.Columns)
	nm := &namer{}
	var cols []Column
	var keys []compiled
	byNames := map[string]bool{}
	for _, b := range op.by {
		c, err := s.scalar(b.x)
		if err != nil {
			return nil, err
		}
		name := nm.name(b.x, givenName(b))
		byNames[name] = true
		keys = append(keys, c)
		cols = append(cols, Column{Name: name, Type: c.typ})
	}
	// The aggregation produces inner rows (keys, then every aggregate's
	// columns, hidden ones included); expressions over aggregates are then
	// evaluated on them.
	inner := append([]Column(nil), cols...)
	var aggCols []*aggColumn
	var posts []assign // expressions over aggregates, rewritten to read hidden columns
	var postAt []int   // their positions in cols
	for _, a := range op.aggs {
		if c, ok := a.x.(*call); ok && (aggs[c.name] != nil || funcs[c.name] == nil) {
			ac, outCols, err := s.aggregate(a, nm, byNames)
			if err != nil {
				return nil, err
			}
			if a.names != nil {
				// (A, B) = arg_max(X, Y): the names of the aggregate's columns.
				if len(a.names) != len(outCols) {
					return nil, errorf(a.x.exprPos(), "summarize: %d names for the %d columns of %s()", len(a.names), len(outCols), c.name)
				}
				for i := range outCols {
					outCols[i].Name = a.names[i]
				}
			}
			aggCols = append(aggCols, ac)
			cols = append(cols, outCols...)
			inner = append(inner, outCols...)
			continue
		}
		if a.names != nil {
			return nil, errorf(a.x.exprPos(), "summarize: a tuple (%s) = ... needs one aggregation with several columns, such as arg_max()", strings.Join(a.names, ", "))
		}
		rewritten, hidden, err := s.hoistAggregates(a.x, nm, byNames, len(aggCols))
		if err != nil {
			return nil, err
		}
		for _, h := range hidden {
			aggCols = append(aggCols, h.ac)
			inner = append(inner, h.col)
		}
		posts = append(posts, assign{name: nm.name(a.x, givenName(a)), x: rewritten})
		postAt = append(postAt, len(cols))
		cols = append(cols, Column{})
	}
	// finish maps an inner row to an output row; nil when they are the same.
	var finish func(r []any) []any
	if len(posts) > 0 {
		ps := newScope(x, inner)
		fns := make([]evalFn, len(cols))
		visible := 0
		for i := range cols {
			if len(postAt) > 0 && postAt[0] == i {
				c, err := ps.scalar(posts[0].x)
				if err != nil {
					return nil, err
				}
				cols[i] = Column{Name: posts[0].name, Type: c.typ}
				fns[i] = c.fn
				posts, postAt = posts[1:], postAt[1:]
				continue
			}
			for strings.HasPrefix(inner[visible].Name, hiddenPrefix) {
				visible++
			}
			j := visible
			fns[i] = func(r []any) any { return r[j] }
			visible++
		}
		finish = func(r []any) []any {
			row := make([]any, len(fns))
			for i, f := range fns {
				row[i] = f(r)
			}
			return row
		}
	}
	uniqueNames(cols)

	type group struct {
		keys   []any
		states []aggState
	}
	newGroup := func(keyVals []any) *group {
		g := &group{keys: keyVals, states: make([]aggState, len(aggCols))}
		for i, ac := range aggCols {
			if ac.argSign == 1 || ac.argSign == -1 {
				g.states[i] = &argExtremeAgg{x: ac.args[0].fn, sign: ac.argSign}
			} else {
				g.states[i] = ac.def.new(ac.args)
			}
		}
		return g
	}
	index := map[string]int{}
	var groups []*group
	var buf []byte
	scratch := make([]any, len(keys))
	for n, r := range in.Rows {
		if n&4095 == 0 {
			if err := x.ctx.Err(); err != nil {
				return nil, err
			}
		}
		buf = buf[:0]
		for i, k := range keys {
			scratch[i] = k.fn(r)
			buf = appendKey(buf, scratch[i])
		}
		gi, ok := index[string(buf)]
		if !ok {
			gi = len(groups)
			index[string(buf)] = gi
			groups = append(groups, newGroup(append([]any(nil), scratch...)))
		}
		for _, st := range groups[gi].states {
			st.add(r)
		}
	}
	if len(keys) == 0 && len(groups) == 0 {
		groups = append(groups, newGroup(nil))
	}
	out := &Table{Columns: cols, Rows: make([][]any, 0, len(groups))}
	for _, g := range groups {
		row := make([]any, 0, len(cols))
		row = append(row, g.keys...)
		for i, ac := range aggCols {
			res := g.states[i].result()
			if ac.argSign == 0 {
				row = append(row, res)
				continue
			}
			best, _ := res.([]any)
			for _, f := range ac.outputs {
				if best == nil {
					row = append(row, nil)
				} else {
					row = append(row, f(best))
				}
			}
		}
		if finish != nil {
			row = finish(row)
		}
		out.Rows = append(out.Rows, row)
	}
	return out, nil
}

// hiddenPrefix names the columns that hold aggregates used inside expressions.
const hiddenPrefix = "\x00agg"

type hiddenAgg struct {
	ac  *aggColumn
	col Column
}

// hoistAggregates compiles the aggregate calls inside an expression such as
// round(avg(x), 2) and returns the expression reading them as hidden columns.
func (s *scope) hoistAggregates(e expr, nm *namer, byNames map[string]bool, n int) (expr, []hiddenAgg, error) {
	var hidden []hiddenAgg
	var failed error
	out := rewriteCalls(e, func(c *call) expr {
		if aggs[c.name] == nil || failed != nil {
			return nil
		}
		if strings.HasPrefix(c.name, "arg") {
			failed = errorf(c.pos, "%s() cannot be used inside an expression", c.name)
			return nil
		}
		ac, outCols, err := s.aggregate(assign{x: c}, nm, byNames)
		if err != nil {
			failed = err
			return nil
		}
		name := hiddenPrefix + itoa(n+len(hidden))
		hidden = append(hidden, hiddenAgg{ac: ac, col: Column{Name: name, Type: outCols[0].Type}})
		return &ident{pos: c.pos, name: name}
	})
	if failed != nil {
		return nil, nil, failed
	}
	if len(hidden) == 0 {
		return nil, nil, errorf(e.exprPos(), "summarize needs an aggregation function such as count() here")
	}
	return out, hidden, nil
}

// rewriteCalls copies an expression, replacing the calls for which f returns
// a replacement.
func rewriteCalls(e expr, f func(*call) expr) expr {
	switch e := e.(type) {
	case *call:
		if r := f(e); r != nil {
			return r
		}
		c := *e
		c.args = make([]expr, len(e.args))
		for i, a := range e.args {
			c.args[i] = rewriteCalls(a, f)
		}
		return &c
	case *binary:
		return &binary{pos: e.pos, op: e.op, l: rewriteCalls(e.l, f), r: rewriteCalls(e.r, f)}
	case *unary:
		return &unary{pos: e.pos, op: e.op, x: rewriteCalls(e.x, f)}
	case *member:
		return &member{pos: e.pos, x: rewriteCalls(e.x, f), name: e.name}
	case *index:
		return &index{pos: e.pos, x: rewriteCalls(e.x, f), idx: rewriteCalls(e.idx, f)}
	case *between:
		return &between{pos: e.pos, neg: e.neg, x: rewriteCalls(e.x, f), lo: rewriteCalls(e.lo, f), hi: rewriteCalls(e.hi, f)}
	case *inList:
		l := &inList{pos: e.pos, op: e.op, x: rewriteCalls(e.x, f), list: make([]expr, len(e.list))}
		for i, it := range e.list {
			l.list[i] = rewriteCalls(it, f)
		}
		return l
	}
	return e
}

// aggregate compiles one "[Name =] agg(args)" of a summarize.
func (s *scope) aggregate(a assign, nm *namer, byNames map[string]bool) (*aggColumn, []Column, error) {
	c := a.x.(*call)
	def, ok := aggs[c.name]
	if !ok {
		if unsupportedFuncs[c.name] {
			return nil, nil, errorf(c.pos, "unsupported aggregation function '%s'", c.name)
		}
		return nil, nil, errorf(c.pos, "unknown aggregation function '%s'", c.name)
	}
	if len(c.args) < def.minArgs || def.maxArgs >= 0 && len(c.args) > def.maxArgs {
		return nil, nil, errorf(c.pos, "aggregation '%s' takes %s, got %d", c.name, arity(&fnDef{minArgs: def.minArgs, maxArgs: def.maxArgs}), len(c.args))
	}
	if strings.HasPrefix(c.name, "arg") {
		return s.argExtreme(a, c, nm, byNames)
	}
	if def.columns != nil {
		// The aggregate names its columns itself (percentile_x_95), or has
		// several (percentiles, take_any(*)): see aggregate_stats.go.
		return def.columns(s, a, c, nm, byNames)
	}
	args := make([]compiled, len(c.args))
	for i, e := range c.args {
		arg, err := s.scalar(e)
		if err != nil {
			return nil, nil, err
		}
		args[i] = arg
	}
	typ, err := def.typ(args)
	if err != nil {
		return nil, nil, errorf(c.pos, "%s(): %v", c.name, err)
	}
	name := a.name
	if name == "" {
		name = def.name
	}
	if name == "" {
		if n := columnNameOf(c.args[0]); n != "" {
			name = def.prefix + n
		} else {
			name = nm.name(c, "")
		}
	}
	return &aggColumn{def: def, args: args}, []Column{{Name: name, Type: typ}}, nil
}

// argExtreme compiles arg_max/arg_min(X, * | expr, ...): output columns are X,
// then the requested expressions (for *, every input column except X and the
// group columns).
func (s *scope) argExtreme(a assign, c *call, nm *namer, byNames map[string]bool) (*aggColumn, []Column, error) {
	ac := &aggColumn{argSign: 1}
	if strings.HasSuffix(c.name, "min") {
		ac.argSign = -1
	}
	x, err := s.scalar(c.args[0])
	if err != nil {
		return nil, nil, err
	}
	ac.args = []compiled{x}
	first := a.name
	if first == "" {
		first = columnNameOf(c.args[0])
	}
	if first == "" {
		first = map[int]string{1: "max_", -1: "min_"}[ac.argSign] + nm.name(c.args[0], "")
	}
	cols := []Column{{Name: first, Type: x.typ}}
	ac.outputs = []evalFn{x.fn}
	for _, e := range c.args[1:] {
		if _, ok := e.(*star); ok {
			for i, col := range s.cols {
				if byNames[col.Name] || col.Name == first {
					continue
				}
				cols = append(cols, col)
				ac.outputs = append(ac.outputs, func(r []any) any { return r[i] })
			}
			continue
		}
		v, err := s.scalar(e)
		if err != nil {
			return nil, nil, err
		}
		name := nm.name(e, columnNameOf(e))
		cols = append(cols, Column{Name: name, Type: v.typ})
		ac.outputs = append(ac.outputs, v.fn)
	}
	return ac, cols, nil
}

// uniqueNames renames repeated column names to Name1, Name2... like Kusto.
func uniqueNames(cols []Column) {
	seen := map[string]bool{}
	for i := range cols {
		name := cols[i].Name
		if seen[name] {
			for n := 1; ; n++ {
				cand := name + itoa(n)
				if !seen[cand] {
					name = cand
					break
				}
			}
		}
		cols[i].Name = name
		seen[name] = true
	}
}

// appendKey encodes a value for hashing: a kind byte, then the value.
func appendKey(buf []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(buf, 0)
	case string:
		buf = append(buf, 1)
		buf = byteorder.AppendUvarint(buf, uint64(len(x)))
		return append(buf, x...)
	case int64:
		buf = append(buf, 2)
		return byteorder.LittleEndian.AppendUint64(buf, uint64(x))
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<62 {
			buf = append(buf, 2)
			return byteorder.LittleEndian.AppendUint64(buf, uint64(int64(x)))
		}
		buf = append(buf, 3)
		return byteorder.LittleEndian.AppendUint64(buf, math.Float64bits(x))
	case bool:
		if x {
			return append(buf, 4, 1)
		}
		return append(buf, 4, 0)
	case time.Time:
		buf = append(buf, 5)
		return byteorder.LittleEndian.AppendUint64(buf, uint64(ticksOf(x)))
	case time.Duration:
		buf = append(buf, 6)
		return byteorder.LittleEndian.AppendUint64(buf, uint64(x))
	}
	s := jsonText(v)
	buf = append(buf, 7)
	buf = byteorder.AppendUvarint(buf, uint64(len(s)))
	return append(buf, s...)
}
