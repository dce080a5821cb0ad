package kql

import "sort"

// top-nested (https://learn.microsoft.com/kusto/query/top-nested-operator):
// each clause partitions the rows of the partition above it by Expr, ranks the
// partitions by Aggregation (descending unless asc) and keeps the top N (all
// without N); "with others = V" adds a partition V aggregating the rows left
// out. The output has two columns per clause, the value (named after Expr)
// and the aggregate (named aggregated_Expr unless named), and one row per
// path through the hierarchy. The "others" partition of a clause is not
// broken down by the clauses below it: their columns are null there.

type nestedLevel struct {
	lv      topNestedLevel
	key     compiled
	n       int64 // -1: all
	others  any
	hasOth  bool
	keyName string
	aggName string
	keyType string
	aggType string
}

func (x *exec) topNested(op *topNestedOp, in *Table) (*Table, error) {
	s := newScope(x, in.Columns)
	var levels []*nestedLevel
	var cols []Column
	for _, lv := range op.levels {
		nl := &nestedLevel{lv: lv, n: -1}
		c, err := s.scalar(lv.x)
		if err != nil {
			return nil, err
		}
		nl.key = c
		nl.keyType = c.typ
		if lv.n != nil {
			if nl.n, err = x.constLong(lv.n, "top-nested"); err != nil {
				return nil, err
			}
		}
		if lv.others != nil {
			oc, err := newScope(x, nil).scalar(lv.others)
			if err != nil {
				return nil, err
			}
			if !oc.konst {
				return nil, errorf(lv.others.exprPos(), "top-nested: with others needs a constant")
			}
			nl.others, nl.hasOth = oc.fn(nil), true
		}
		nl.keyName = lv.name
		if nl.keyName == "" {
			nl.keyName = exprName(lv.x)
		}
		if nl.keyName == "" {
			nl.keyName = "Column" + itoa(len(cols)/2+1)
		}
		nl.aggName = lv.aggName
		if nl.aggName == "" {
			nl.aggName = "aggregated_" + nl.keyName
		}
		// The aggregate's type, from a summarize over no rows.
		probe, err := x.summarize(&summarizeOp{pos: lv.pos, aggs: []assign{{name: "a", x: lv.agg}}}, &Table{Columns: in.Columns})
		if err != nil {
			return nil, err
		}
		if len(probe.Columns) != 1 {
			return nil, errorf(lv.agg.exprPos(), "top-nested needs one aggregation such as sum(x) or count()")
		}
		nl.aggType = probe.Columns[0].Type
		levels = append(levels, nl)
		cols = append(cols, Column{Name: nl.keyName, Type: nl.keyType}, Column{Name: nl.aggName, Type: nl.aggType})
	}
	uniqueNames(cols)
	out := &Table{Columns: cols}
	var walk func(d int, rows [][]any, prefix []any) error
	walk = func(d int, rows [][]any, prefix []any) error {
		if d == len(levels) {
			out.Rows = append(out.Rows, append([]any(nil), prefix...))
			return nil
		}
		if err := x.ctx.Err(); err != nil {
			return err
		}
		nl := levels[d]
		// Group the rows by the clause's value.
		index := map[string]int{}
		var keys []any
		var groups [][][]any
		var buf []byte
		for _, r := range rows {
			v := nl.key.fn(r)
			buf = appendKey(buf[:0], v)
			g, ok := index[string(buf)]
			if !ok {
				g = len(groups)
				index[string(buf)] = g
				keys = append(keys, v)
				groups = append(groups, nil)
			}
			groups[g] = append(groups[g], r)
		}
		aggOf := func(rows [][]any) (any, error) {
			t, err := x.summarize(&summarizeOp{pos: nl.lv.pos, aggs: []assign{{name: "a", x: nl.lv.agg}}}, &Table{Columns: in.Columns, Rows: rows})
			if err != nil {
				return nil, err
			}
			return t.Rows[0][0], nil
		}
		vals := make([]any, len(groups))
		for g, rs := range groups {
			v, err := aggOf(rs)
			if err != nil {
				return err
			}
			vals[g] = v
		}
		order := make([]int, len(groups))
		for i := range order {
			order[i] = i
		}
		sort.SliceStable(order, func(a, b int) bool {
			va, vb := vals[order[a]], vals[order[b]]
			if va == nil || vb == nil {
				return vb == nil && va != nil
			}
			c, _ := compareValues(va, vb)
			if nl.lv.asc {
				return c < 0
			}
			return c > 0
		})
		top := order
		if nl.n >= 0 && int(nl.n) < len(order) {
			top = order[:nl.n]
		}
		for _, g := range top {
			if err := walk(d+1, groups[g], append(prefix, keys[g], vals[g])); err != nil {
				return err
			}
		}
		if nl.hasOth {
			var rest [][]any
			for _, g := range order[len(top):] {
				rest = append(rest, groups[g]...)
			}
			v, err := aggOf(rest)
			if err != nil {
				return err
			}
			row := append(append([]any(nil), prefix...), nl.others, v)
			for len(row) < len(cols) {
				row = append(row, nil)
			}
			out.Rows = append(out.Rows, row)
		}
		return nil
	}
	if err := walk(0, in.Rows, nil); err != nil {
		return nil, err
	}
	return out, nil
}
