package kql

import (
	"math/rand/v2"
	"sort"
)

// Operators that run a subquery over parts of their input: mv-apply (each
// row's expanded arrays), partition (each group of rows); and sample.

// runOps runs operators over an implicit source.
func (x *exec) runOps(ops []operator, t *Table) (*Table, error) {
	var err error
	for _, op := range ops {
		if t, err = x.operator(op, t); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// mvApply follows https://learn.microsoft.com/kusto/query/mv-apply-operator:
// each input row is mv-expanded into a subtable holding the expanded columns
// (and the item index), the subquery runs on it, and each of its rows is
// output after the input row's columns that were not expanded. An expanded
// column keeps its name unless given another one, replacing the input column.
func (x *exec) mvApply(op *mvApplyOp, in *Table) (*Table, error) {
	ex := op.expand
	s := newScope(x, in.Columns)
	removed := map[string]bool{}
	var subCols []Column
	fns := make([]evalFn, len(ex.items))
	for i, it := range ex.items {
		c, err := s.scalar(it.x)
		if err != nil {
			return nil, err
		}
		name := it.name
		if id, ok := it.x.(*ident); ok && (name == "" || name == id.name) {
			name = id.name
			removed[name] = true
		}
		if name == "" {
			name = exprName(it.x)
		}
		if name == "" {
			return nil, errorf(it.x.exprPos(), "mv-apply of an expression needs a name: mv-apply Name = expr")
		}
		typ := ex.types[i]
		if typ == "" {
			typ = "dynamic"
		}
		subCols = append(subCols, Column{Name: name, Type: typ})
		fns[i] = c.fn
	}
	if ex.indexName != "" {
		subCols = append(subCols, Column{Name: ex.indexName, Type: "long"})
	}
	limit := int64(1 << 31)
	if ex.limit != nil {
		n, err := x.constLong(ex.limit, "mv-apply limit")
		if err != nil {
			return nil, err
		}
		limit = n
	}
	var kept []int
	var keptCols []Column
	for i, c := range in.Columns {
		if !removed[c.Name] {
			kept = append(kept, i)
			keptCols = append(keptCols, c)
		}
	}
	// The subquery on an empty subtable gives the output schema.
	shape, err := x.runOps(op.ops, &Table{Columns: subCols})
	if err != nil {
		return nil, err
	}
	out := &Table{Columns: append(append([]Column(nil), keptCols...), shape.Columns...)}
	lists := make([][]any, len(fns))
	for n, r := range in.Rows {
		if n&1023 == 0 {
			if err := x.ctx.Err(); err != nil {
				return nil, err
			}
		}
		count := 0
		for i, f := range fns {
			lists[i] = elements(f(r), false)
			count = max(count, len(lists[i]))
		}
		sub := &Table{Columns: subCols}
		for k := 0; k < count && int64(k) < limit; k++ {
			row := make([]any, len(subCols))
			for i, list := range lists {
				var v any
				if k < len(list) {
					v = list[k]
				}
				if ex.types[i] != "" {
					v = castTo(ex.types[i], v)
				}
				row[i] = v
			}
			if ex.indexName != "" {
				row[len(subCols)-1] = int64(k)
			}
			sub.Rows = append(sub.Rows, row)
		}
		res, err := x.runOps(op.ops, sub)
		if err != nil {
			return nil, err
		}
		idx := columnMap(shape.Columns, res.Columns)
		for _, rr := range res.Rows {
			row := make([]any, len(out.Columns))
			for i, j := range kept {
				row[i] = r[j]
			}
			for i, j := range idx {
				if j >= 0 {
					row[len(kept)+j] = rr[i]
				}
			}
			out.Rows = append(out.Rows, row)
		}
	}
	uniqueNames(out.Columns)
	return out, nil
}

// columnMap maps each column of got to the column of want with the same name
// and type (-1: none), for subquery results whose layout may vary.
func columnMap(want, got []Column) []int {
	idx := make([]int, len(got))
	for i, c := range got {
		idx[i] = -1
		if i < len(want) && want[i] == c {
			idx[i] = i
			continue
		}
		for j, w := range want {
			if w == c {
				idx[i] = j
				break
			}
		}
	}
	return idx
}

// partition follows https://learn.microsoft.com/kusto/query/partition-operator:
// the subquery runs on the rows of each value of the partition key, and the
// results are unioned (groups in order of first appearance).
func (x *exec) partition(op *partitionOp, in *Table) (*Table, error) {
	key, err := newScope(x, in.Columns).scalar(op.key)
	if err != nil {
		return nil, err
	}
	index := map[string]int{}
	var groups [][][]any
	var buf []byte
	for _, r := range in.Rows {
		buf = appendKey(buf[:0], key.fn(r))
		g, ok := index[string(buf)]
		if !ok {
			g = len(groups)
			index[string(buf)] = g
			groups = append(groups, nil)
		}
		groups[g] = append(groups[g], r)
	}
	if len(groups) == 0 {
		return x.runOps(op.ops, &Table{Columns: in.Columns})
	}
	var results []*Table
	var names []string
	for _, rows := range groups {
		if err := x.ctx.Err(); err != nil {
			return nil, err
		}
		res, err := x.runOps(op.ops, &Table{Columns: in.Columns, Rows: rows})
		if err != nil {
			return nil, err
		}
		results = append(results, res)
		names = append(names, "")
	}
	return x.concat(results, names, "", false, unionPlan{})
}

// sample returns up to N rows picked at random (a fixed seed, so that a query
// gives the same rows each run), in input order.
func (x *exec) sample(op *sampleOp, in *Table) (*Table, error) {
	n, err := x.constLong(op.n, "sample")
	if err != nil {
		return nil, err
	}
	if int(n) >= len(in.Rows) {
		return in, nil
	}
	rng := rand.New(rand.NewPCG(0x6b75, 0x73746f))
	picked := rng.Perm(len(in.Rows))[:n]
	sort.Ints(picked)
	out := &Table{Columns: in.Columns, Rows: make([][]any, len(picked))}
	for i, j := range picked {
		out.Rows[i] = in.Rows[j]
	}
	return out, nil
}
